/*
 * errors.c
 *		The error of a call that ended without a verdict, as a value.
 *
 * The SQLSTATE, the advice and whether retrying can help come from the one
 * table in codes.c; the text always carries the service's own Code and
 * Message, and the DETAIL its RequestId, which support will ask for, and how
 * many attempts were made.
 */
#include "postgres.h"

#include "codes.h"
#include "errors.h"
#include "settings.h"

static int
sqlstate_of(const FcServiceCode *entry)
{
	const char *s = entry->sqlstate;

	return MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
}

/* ", after 3 attempts" when the call was retried, else "". */
static const char *
attempts_note(int attempts)
{
	return attempts > 1 ? psprintf("; gave up after %d attempts", attempts) : "";
}

void
fc_answer_error(const FcResponse *response, const char *base_url, int attempts, FcError *error)
{
	const FcServiceCode *entry;
	const char *request_id = response->request_id ? response->request_id : "none";

	if (response->kind == FC_RESPONSE_MALFORMED)
	{
		fc_error(error, ERRCODE_PROTOCOL_VIOLATION,
				 "FaceCompare endpoint \"%s\" sent an answer that cannot be used: %s",
				 base_url, response->problem);
		fc_error_detail(error, "RequestId: %s; HTTP status %d%s.", request_id,
						response->http_status, attempts_note(attempts));
		fc_error_hint(error, "No verdict was recorded. Try again; if it persists, report the RequestId.");
		return;
	}

	/* http.c never follows redirects: the signed request stays where it was sent. */
	if (response->http_status >= 300 && response->http_status < 400)
	{
		fc_error(error, ERRCODE_PROTOCOL_VIOLATION,
				 "FaceCompare endpoint \"%s\" answered with a redirect (HTTP %d), which is not followed",
				 base_url, response->http_status);
		fc_error_detail(error, "A signed request is only ever sent to the configured endpoint.");
		fc_error_hint(error, "Check facecompare.endpoint and facecompare.region.");
		return;
	}

	entry = fc_service_code(response->code, response->http_status);
	if (response->code == NULL)
		fc_error(error, sqlstate_of(entry),
				 "FaceCompare endpoint \"%s\" answered HTTP %d without an error code",
				 base_url, response->http_status);
	else
	{
		fc_error(error, sqlstate_of(entry), "FaceCompare failed with %s: %s", response->code,
				 response->message ? response->message : entry->message);
		error->code = pstrdup(response->code);
	}
	fc_error_detail(error, "RequestId: %s; HTTP status %d%s.", request_id,
					response->http_status, attempts_note(attempts));
	if (entry->hint)
		fc_error_hint(error, "%s", entry->hint);
	error->retryable = entry->retryable;
	error->throttled = strcmp(entry->sqlstate, "53400") == 0;
}

/*
 * Which transport failures a retry may mend: those where the request cannot
 * have reached the service (no connection, none in time) or was cut off
 * before any answer.  Never a read timeout: the service may have acted on
 * the request.  With codes.c's table for the service's answers, this is the
 * whole of the retry policy; batch.c decides only when and how often.
 */
static const bool transport_retryable[FC_TRANSPORT_NFAILURES] = {
	[FC_TRANSPORT_OK] = false,
	[FC_TRANSPORT_CONNECT] = true,
	[FC_TRANSPORT_CONNECT_TIMEOUT] = true,
	[FC_TRANSPORT_BROKEN] = true,
	[FC_TRANSPORT_TIMEOUT] = false,
	[FC_TRANSPORT_TLS] = false,
	[FC_TRANSPORT_TOO_LARGE] = false,
	[FC_TRANSPORT_OUT_OF_MEMORY] = false,
	[FC_TRANSPORT_NO_FILE_DESCRIPTOR] = false,
	[FC_TRANSPORT_OTHER] = false,
};

void
fc_transport_error(const FcHttpResponse *http, const char *base_url, int attempts, FcError *error)
{
	const char *note = attempts_note(attempts);

	switch (http->failure)
	{
		case FC_TRANSPORT_TIMEOUT:
		case FC_TRANSPORT_CONNECT_TIMEOUT:

			/*
			 * Not 57014: PL/pgSQL's WHEN OTHERS cannot catch query_canceled,
			 * and a handler must be able to deal with a slow service.  Cancel
			 * and statement_timeout still raise 57014 themselves.
			 */
			fc_error(error, ERRCODE_CONNECTION_FAILURE,
					 "FaceCompare request to \"%s\" timed out", base_url);
			fc_error_detail(error, "%s%s.", http->cause, note);
			fc_error_hint(error, "facecompare.timeout is %d ms and facecompare.connect_timeout %d ms.",
						  fc_timeout_ms, fc_connect_timeout_ms);
			break;
		case FC_TRANSPORT_CONNECT:
		case FC_TRANSPORT_TLS:
			fc_error(error, ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION,
					 "could not connect to FaceCompare endpoint \"%s\"", base_url);
			fc_error_detail(error, "%s%s.", http->cause, note);
			break;
		case FC_TRANSPORT_TOO_LARGE:
			fc_error(error, ERRCODE_PROTOCOL_VIOLATION,
					 "answer from FaceCompare endpoint \"%s\" is larger than %d bytes",
					 base_url, FC_MAX_RESPONSE_BYTES);
			fc_error_detail(error, "A FaceCompare answer is a small JSON document; the rest was not read.");
			break;
		case FC_TRANSPORT_OUT_OF_MEMORY:
			fc_error(error, ERRCODE_OUT_OF_MEMORY, "out of memory");
			fc_error_detail(error, "Could not store the answer from FaceCompare endpoint \"%s\".", base_url);
			error->always_raise = true;
			break;
		case FC_TRANSPORT_NO_FILE_DESCRIPTOR:
			fc_error(error, ERRCODE_INSUFFICIENT_RESOURCES,
					 "could not connect to FaceCompare endpoint \"%s\": this backend has no file descriptor left",
					 base_url);
			fc_error_detail(error, "Each request in flight holds a socket, and kept-alive connections count against max_files_per_process.");
			fc_error_hint(error, "Lower facecompare.max_concurrency or raise max_files_per_process.");
			/* Not the pair's own failure: the next pair would hit the same limit. */
			error->always_raise = true;
			break;
		case FC_TRANSPORT_BROKEN:
		case FC_TRANSPORT_OTHER:
		case FC_TRANSPORT_OK:
		case FC_TRANSPORT_NFAILURES:
			fc_error(error, ERRCODE_CONNECTION_FAILURE,
					 "FaceCompare request to \"%s\" failed", base_url);
			fc_error_detail(error, "%s%s.", http->cause, note);
			break;
	}
	error->retryable = transport_retryable[http->failure];
}
