/*
 * errors.c
 *		Raise the ERROR for a call that ended without a verdict.
 *
 * The SQLSTATE, the advice and whether retrying can help come from the one
 * table in codes.c; the text always carries the service's own Code and
 * Message, and the DETAIL its RequestId, which support will ask for, and how
 * many attempts were made.  Errors hide their statement from the server log:
 * it may hold image bytes.
 */
#include "postgres.h"

#include "codes.h"
#include "errors.h"
#include "settings.h"

char		fc_last_service_code[64];

/*
 * Errors that belong to one call: its images, its answer, the network.
 * Never cancel, timeouts of the statement, out of memory or internal errors:
 * those must stop the query.
 */
bool
fc_error_is_per_row(int sqlerrcode)
{
	switch (ERRCODE_TO_CATEGORY(sqlerrcode))
	{
		case ERRCODE_DATA_EXCEPTION:
		case ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION:
		case ERRCODE_CONNECTION_EXCEPTION:
			return true;
		default:
			return sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE ||
				sqlerrcode == ERRCODE_CONFIGURATION_LIMIT_EXCEEDED ||
				sqlerrcode == ERRCODE_PROGRAM_LIMIT_EXCEEDED ||
				sqlerrcode == ERRCODE_SYSTEM_ERROR;
	}
}

bool
fc_capture_error(void (*fn) (void *), void *arg, FcCapturedError *out)
{
	MemoryContext context = CurrentMemoryContext;
	bool		raised = false;

	fc_last_service_code[0] = '\0';
	PG_TRY();
	{
		fn(arg);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(context);
		edata = CopyErrorData();
		if (!fc_error_is_per_row(edata->sqlerrcode))
			PG_RE_THROW();
		FlushErrorState();
		out->sqlstate = pstrdup(unpack_sql_state(edata->sqlerrcode));
		out->code = fc_last_service_code[0] ? pstrdup(fc_last_service_code) : NULL;
		out->message = pstrdup(edata->message ? edata->message : "");
		FreeErrorData(edata);
		raised = true;
	}
	PG_END_TRY();
	return raised;
}

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

bool
fc_answer_retryable(const FcResponse *response)
{
	if (response->kind != FC_RESPONSE_SERVICE_ERROR)
		return false;
	return fc_service_code(response->code, response->http_status)->retryable;
}

bool
fc_answer_throttled(const FcResponse *response)
{
	if (response->kind != FC_RESPONSE_SERVICE_ERROR)
		return false;
	return strcmp(fc_service_code(response->code, response->http_status)->sqlstate, "53400") == 0;
}

void
fc_raise_answer_error(const FcResponse *response, const char *base_url, int attempts)
{
	const FcServiceCode *entry;
	const char *request_id = response->request_id ? response->request_id : "none";

	if (response->kind == FC_RESPONSE_MALFORMED)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errhidestmt(true),
				 errmsg("FaceCompare endpoint \"%s\" sent an answer that cannot be used: %s",
						base_url, response->problem),
				 errdetail("RequestId: %s; HTTP status %d%s.", request_id,
						   response->http_status, attempts_note(attempts)),
				 errhint("No verdict was recorded. Try again; if it persists, report the RequestId.")));

	/* http.c never follows redirects: the signed request stays where it was sent. */
	if (response->http_status >= 300 && response->http_status < 400)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errhidestmt(true),
				 errmsg("FaceCompare endpoint \"%s\" answered with a redirect (HTTP %d), which is not followed",
						base_url, response->http_status),
				 errdetail("A signed request is only ever sent to the configured endpoint."),
				 errhint("Check facecompare.endpoint and facecompare.region.")));

	entry = fc_service_code(response->code, response->http_status);
	strlcpy(fc_last_service_code, response->code ? response->code : "",
			sizeof(fc_last_service_code));
	if (response->code == NULL)
		ereport(ERROR,
				(errcode(sqlstate_of(entry)),
				 errhidestmt(true),
				 errmsg("FaceCompare endpoint \"%s\" answered HTTP %d without an error code",
						base_url, response->http_status),
				 errdetail("RequestId: %s; HTTP status %d%s.", request_id,
						   response->http_status, attempts_note(attempts)),
				 entry->hint ? errhint("%s", entry->hint) : 0));

	ereport(ERROR,
			(errcode(sqlstate_of(entry)),
			 errhidestmt(true),
			 errmsg("FaceCompare failed with %s: %s", response->code,
					response->message ? response->message : entry->message),
			 errdetail("RequestId: %s; HTTP status %d%s.", request_id,
					   response->http_status, attempts_note(attempts)),
			 entry->hint ? errhint("%s", entry->hint) : 0));
	pg_unreachable();
}

void
fc_raise_transport_error(const FcHttpResponse *http, const char *base_url, int attempts)
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
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errhidestmt(true),
					 errmsg("FaceCompare request to \"%s\" timed out", base_url),
					 errdetail("%s%s.", http->cause, note),
					 errhint("facecompare.timeout is %d ms and facecompare.connect_timeout %d ms.",
							 fc_timeout_ms, fc_connect_timeout_ms)));
			break;
		case FC_TRANSPORT_CONNECT:
		case FC_TRANSPORT_TLS:
			ereport(ERROR,
					(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
					 errhidestmt(true),
					 errmsg("could not connect to FaceCompare endpoint \"%s\"", base_url),
					 errdetail("%s%s.", http->cause, note)));
			break;
		case FC_TRANSPORT_TOO_LARGE:
			ereport(ERROR,
					(errcode(ERRCODE_PROTOCOL_VIOLATION),
					 errhidestmt(true),
					 errmsg("answer from FaceCompare endpoint \"%s\" is larger than %d bytes",
							base_url, FC_MAX_RESPONSE_BYTES),
					 errdetail("A FaceCompare answer is a small JSON document; the rest was not read.")));
			break;
		case FC_TRANSPORT_OUT_OF_MEMORY:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Could not store the answer from FaceCompare endpoint \"%s\".", base_url)));
			break;
		case FC_TRANSPORT_NO_FILE_DESCRIPTOR:
			/* Not per row: the next pair would hit the same limit. */
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
					 errhidestmt(true),
					 errmsg("could not connect to FaceCompare endpoint \"%s\": this backend has no file descriptor left",
							base_url),
					 errdetail("Each request in flight holds a socket, and kept-alive connections count against max_files_per_process."),
					 errhint("Lower facecompare.max_concurrency or raise max_files_per_process.")));
			break;
		case FC_TRANSPORT_BROKEN:
		case FC_TRANSPORT_OTHER:
		case FC_TRANSPORT_OK:
			break;
	}
	ereport(ERROR,
			(errcode(ERRCODE_CONNECTION_FAILURE),
			 errhidestmt(true),
			 errmsg("FaceCompare request to \"%s\" failed", base_url),
			 errdetail("%s%s.", http->cause, note)));
	pg_unreachable();
}
