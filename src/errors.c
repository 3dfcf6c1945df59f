/*
 * errors.c
 *		Raise the ERROR for an answer that is not a verdict.
 *
 * The SQLSTATE, the advice and whether retrying can help come from the one
 * table in codes.c; the text always carries the service's own Code and
 * Message, and the DETAIL its RequestId, which support will ask for.
 */
#include "postgres.h"

#include "codes.h"
#include "errors.h"

static int
sqlstate_of(const FcServiceCode *entry)
{
	const char *s = entry->sqlstate;

	return MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
}

void
fc_raise_answer_error(const FcResponse *response, const char *base_url)
{
	const FcServiceCode *entry;
	const char *request_id = response->request_id ? response->request_id : "none";

	if (response->kind == FC_RESPONSE_MALFORMED)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errhidestmt(true),
				 errmsg("FaceCompare endpoint \"%s\" sent an answer that cannot be used: %s",
						base_url, response->problem),
				 errdetail("RequestId: %s; HTTP status %d.", request_id, response->http_status),
				 errhint("No verdict was recorded. Try again; if it persists, report the RequestId.")));

	entry = fc_service_code(response->code, response->http_status);
	if (response->code == NULL)
		ereport(ERROR,
				(errcode(sqlstate_of(entry)),
				 errhidestmt(true),
				 errmsg("FaceCompare endpoint \"%s\" answered HTTP %d without an error code",
						base_url, response->http_status),
				 errdetail("RequestId: %s; HTTP status %d.", request_id, response->http_status),
				 entry->hint ? errhint("%s", entry->hint) : 0));

	ereport(ERROR,
			(errcode(sqlstate_of(entry)),
			 errhidestmt(true),
			 errmsg("FaceCompare failed with %s: %s", response->code,
					response->message ? response->message : entry->message),
			 errdetail("RequestId: %s; HTTP status %d.", request_id, response->http_status),
			 entry->hint ? errhint("%s", entry->hint) : 0));
	pg_unreachable();
}
