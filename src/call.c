/*
 * call.c
 *		One FaceCompare call: sign, send, parse, and try again where that helps.
 *
 * The attempts themselves run in batch.c: a single call is a batch of one.
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

#include "call.h"
#include "http.h"
#include "settings.h"

/* The longest pause between two attempts, whatever facecompare.retry_delay. */
#define MAX_RETRY_DELAY_MS 10000
/* A throttled request waits for the service's one-second QPS window to move. */
#define THROTTLED_EXTRA_DELAY_MS 1000

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
fc_backoff_delay_ms(int attempt, bool throttled)
{
	double		ceiling = Min((double) MAX_RETRY_DELAY_MS,
							  fc_retry_delay_ms * pow(2.0, attempt - 1));

	/* Half the exponential delay, plus up to as much again (jitter). */
	return (long) (ceiling / 2 + pg_prng_double(&pg_global_prng_state) * ceiling / 2) +
		(throttled ? THROTTLED_EXTRA_DELAY_MS : 0);
}
