/*
 * test_codes.c
 *		The code table: every code of the API page and the gateway is listed
 *		with the status the page gives, and undocumented codes fall into the
 *		right family, so nothing a user can hit ends up as an anonymous error.
 */
#include <string.h>

#include "codes.h"
#include "tap.h"

static void
expect_code(const char *code, int status, const char *sqlstate, int retryable)
{
	const FcServiceCode *e = fc_service_code_exact(code);
	char		name[160];

	snprintf(name, sizeof(name), "%s: HTTP %d, SQLSTATE %s, %s", code, status,
			 sqlstate, retryable ? "retryable" : "final");
	ok(e != NULL && e->http_status == status && strcmp(e->sqlstate, sqlstate) == 0 &&
	   e->retryable == retryable, name);
}

int
main(void)
{
	/* The API page's table. */
	expect_code("MissingParameter", 400, "22023", 0);
	expect_code("InvalidParameter", 400, "22023", 0);
	expect_code("NoFaceDetected", 401, "22000", 0);
	expect_code("UnqualifiedPhoto", 401, "22000", 0);
	expect_code("ToolargeImage", 401, "54000", 0);
	expect_code("DataDuplication", 401, "22023", 0);
	expect_code("DownloadTimeout", 401, "58000", 1);
	expect_code("Forbidden.RAMUserAccessDenied", 403, "42501", 0);
	expect_code("Forbidden.AccountAccessDenied", 403, "42501", 0);
	expect_code("Throttling.Api", 403, "53400", 1);
	expect_code("InternalError", 500, "58000", 1);
	/* The gateway's. */
	expect_code("SignatureDoesNotMatch", 400, "28000", 0);
	expect_code("InvalidAccessKeyId.NotFound", 404, "28000", 0);
	expect_code("InvalidAccessKeyId.Inactive", 400, "28000", 0);
	expect_code("InvalidTimeStamp.Expired", 400, "28000", 0);
	expect_code("SignatureNonceUsed", 400, "28000", 1);
	expect_code("Throttling.User", 400, "53400", 1);
	expect_code("ServiceUnavailable", 503, "58000", 1);

	ok(fc_code_is_success("Success") && fc_code_is_success("200"), "Success and 200 mean success");
	ok(!fc_code_is_success("success") && !fc_code_is_success(NULL), "nothing else does");

	/* Families for undocumented codes. */
	ok(strcmp(fc_service_code("Throttling.Tenant", 400)->sqlstate, "53400") == 0 &&
	   fc_service_code("Throttling.Tenant", 400)->retryable, "any Throttling code is throttling");
	ok(strcmp(fc_service_code("Forbidden.Other", 403)->sqlstate, "42501") == 0, "Forbidden.* is a privilege error");
	ok(strcmp(fc_service_code("InvalidAccessKeyId.Other", 400)->sqlstate, "28000") == 0, "InvalidAccessKeyId.* is an authorization error");
	ok(strcmp(fc_service_code("MissingAuthorization", 400)->sqlstate, "22023") == 0, "Missing* is a parameter error");
	ok(fc_service_code(NULL, 502)->retryable, "an unknown 5xx is retryable");
	ok(!fc_service_code("Weird", 400)->retryable, "an unknown 4xx is final");

	/* Every row is usable: a five-character SQLSTATE and a message. */
	{
		int			bad = 0;

		for (int i = 0; i < fc_service_code_count; i++)
			if (strlen(fc_service_codes[i].sqlstate) != 5 || fc_service_codes[i].message == NULL)
				bad++;
		ok(bad == 0, "every row has a SQLSTATE and a message");
	}
	return tap_done();
}
