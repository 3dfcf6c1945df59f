/*
 * call.c
 *		One FaceCompare call: sign, send, parse, and try again where that helps.
 *
 * Only outcomes that a later identical request may not get are retried
 * (throttling, 5xx, a connection that failed or was reset before an answer);
 * a verdict-like refusal such as NoFaceDetected never is.  Every attempt is a
 * new request to the gateway (new date, nonce and signature) carrying the
 * same MerchantBizId.  The pause between attempts grows exponentially with
 * jitter and wakes for cancel like any other wait.
 */
#include "postgres.h"

#include <math.h>

#include <cjson/cJSON.h>

#include "common/pg_prng.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "call.h"
#include "errors.h"
#include "http.h"
#include "ratelimit.h"
#include "settings.h"

/* The longest pause between two attempts, whatever facecompare.retry_delay. */
#define MAX_RETRY_DELAY_MS 10000

/* cJSON's allocator while we parse: palloc, so an ERROR frees the tree. */
static void *
cjson_palloc(size_t size)
{
	return palloc(size);
}

static void
cjson_pfree(void *ptr)
{
	if (ptr)
		pfree(ptr);
}

void
fc_parse_answer(const FcHttpResponse *http, FcResponse *response)
{
	cJSON_Hooks hooks = {cjson_palloc, cjson_pfree};

	/* Only for this call: other users of libcjson keep malloc. */
	cJSON_InitHooks(&hooks);
	PG_TRY();
	{
		fc_parse_response(http->body, http->len, (int) http->status, response);
	}
	PG_FINALLY();
	{
		cJSON_InitHooks(NULL);
	}
	PG_END_TRY();
}

long
fc_backoff_delay_ms(int attempt)
{
	double		ceiling = Min((double) MAX_RETRY_DELAY_MS,
							  fc_retry_delay_ms * pow(2.0, attempt - 1));

	/* Half the exponential delay, plus up to as much again (jitter). */
	return (long) (ceiling / 2 + pg_prng_double(&pg_global_prng_state) * ceiling / 2);
}

static char *
copy_or_null(const char *s)
{
	return s ? pstrdup(s) : NULL;
}

void
fc_call(const FcImageArg *source, const FcImageArg *target,
		const char *merchant_biz_id, FcResponse *verdict)
{
	MemoryContext caller_context = CurrentMemoryContext;
	MemoryContext attempt_context;
	FcCredentials creds;
	char	   *base_url;
	int			max_attempts = fc_max_retries + 1;

	fc_last_service_code[0] = '\0';
	fc_get_credentials(&creds);
	base_url = fc_service_base_url();

	/* Request, answer and parse tree of an attempt are freed together. */
	attempt_context = AllocSetContextCreate(caller_context, "facecompare attempt",
											ALLOCSET_DEFAULT_SIZES);
	for (int attempt = 1;; attempt++)
	{
		FcHttpRequest request;
		FcHttpResponse http;
		FcResponse	response;
		bool		last = (attempt >= max_attempts);

		MemoryContextReset(attempt_context);
		MemoryContextSwitchTo(attempt_context);
		/* Every attempt is a request: it waits for its slot under max_qps. */
		fc_sleep_until(fc_ratelimit_reserve());
		fc_build_request(&request, base_url, &creds, merchant_biz_id, source, target);
		if (!fc_http_post(&request, &http))
		{
			if (last || !fc_transport_retryable(http.failure))
				fc_raise_transport_error(&http, base_url, attempt);
		}
		else
		{
			fc_parse_answer(&http, &response);
			if (response.kind == FC_RESPONSE_VERDICT)
			{
				MemoryContextSwitchTo(caller_context);
				*verdict = response;
				verdict->request_id = copy_or_null(response.request_id);
				verdict->code = copy_or_null(response.code);
				verdict->message = copy_or_null(response.message);
				verdict->transaction_id = copy_or_null(response.transaction_id);
				verdict->score = copy_or_null(response.score);
				break;
			}
			if (last || !fc_answer_retryable(&response))
				fc_raise_answer_error(&response, base_url, attempt);
		}
		MemoryContextSwitchTo(caller_context);
		fc_sleep_until(TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												   fc_backoff_delay_ms(attempt)));
	}
	MemoryContextDelete(attempt_context);
}
