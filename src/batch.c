/*
 * batch.c
 *		Many comparisons at once: up to facecompare.max_concurrency requests
 *		in flight over the backend's connections, each sent in its
 *		facecompare.max_qps slot, each pair retried and failed on its own.
 *
 * The service answers in hundreds of milliseconds from far away, so one
 * request at a time leaves the account's QPS unused; with N in flight, a
 * table is verified N times as fast, up to the QPS limit.
 */
#include "postgres.h"

#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "batch.h"
#include "call.h"
#include "errors.h"
#include "http.h"
#include "ratelimit.h"
#include "settings.h"

int			fc_max_concurrency = 8;

/* What the loop over pairs shares. */
typedef struct Batch
{
	FcPair	   *pairs;
	int			npairs;
	int			next_new;		/* first pair never sent */
	int		   *retries;		/* pairs waiting to be sent again */
	int			nretries;
	int			remaining;		/* pairs not decided yet */
	FcCredentials creds;
	char	   *base_url;
	MemoryContext context;		/* where results are kept */
	bool		raise_errors;	/* raise a failure instead of recording it */
} Batch;

void
fc_batch_init(void)
{
	DefineCustomIntVariable("facecompare.max_concurrency",
							"Most requests a batch (compare_many) has in flight at once.",
							"Throughput is at most max_concurrency / latency and never more than facecompare.max_qps.",
							&fc_max_concurrency, 8, 1, FC_MAX_CONCURRENCY,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
}

/* Arguments of the raise functions, for fc_capture_error. */
typedef struct Failure
{
	const FcResponse *answer;
	const FcHttpResponse *http;
	const char *base_url;
	int			attempts;
} Failure;

static void
raise_answer(void *arg)
{
	Failure    *f = arg;

	fc_raise_answer_error(f->answer, f->base_url, f->attempts);
}

static void
raise_transport(void *arg)
{
	Failure    *f = arg;

	fc_raise_transport_error(f->http, f->base_url, f->attempts);
}

/* The checks of fc_batch_check_pair, as a function that raises. */
static void
check_pair_or_raise(void *arg)
{
	FcPair	   *p = arg;

	fc_check_image_arg(&p->source);
	fc_check_image_arg(&p->target);
	if (p->merchant_biz_id)
		fc_check_merchant_biz_id(p->merchant_biz_id);
}

void
fc_batch_check_pair(FcPair *pair)
{
	if (!pair->invalid && fc_capture_error(check_pair_or_raise, pair, &pair->error))
		pair->invalid = true;
	if (pair->merchant_biz_id == NULL)
		pair->merchant_biz_id = fc_new_merchant_biz_id();
}

/*
 * The next pair that may be sent now (retries first, then new pairs in
 * order), taken off its list when take is set; NULL if none.  *wake gets the
 * earliest time a waiting retry becomes due.
 */
static FcPair *
next_ready(Batch *b, TimestampTz now, TimestampTz *wake, bool take)
{
	for (int i = 0; i < b->nretries; i++)
	{
		FcPair	   *p = &b->pairs[b->retries[i]];

		if (p->ready_at <= now)
		{
			if (take)
				b->retries[i] = b->retries[--b->nretries];
			return p;
		}
		if (*wake == 0 || p->ready_at < *wake)
			*wake = p->ready_at;
	}
	while (b->next_new < b->npairs && b->pairs[b->next_new].state == FC_PAIR_DONE)
		b->next_new++;
	if (b->next_new < b->npairs)
		return take ? &b->pairs[b->next_new++] : &b->pairs[b->next_new];
	return NULL;
}

static void
start_attempt(Batch *b, FcPair *p)
{
	MemoryContext old;

	if (p->attempt_context == NULL)
		p->attempt_context = AllocSetContextCreate(b->context, "facecompare batch attempt",
												   ALLOCSET_DEFAULT_SIZES);
	else
		MemoryContextReset(p->attempt_context);
	old = MemoryContextSwitchTo(p->attempt_context);
	if (p->attempts++ == 0)
		p->first_sent_at = GetCurrentTimestamp();
	/* Like every retry, a new request: fresh date, nonce and signature. */
	p->request = palloc(sizeof(FcHttpRequest));
	fc_build_request(p->request, b->base_url, &b->creds, p->merchant_biz_id,
					 &p->source, &p->target);
	if (!fc_http_start(p->request, p))
		elog(ERROR, "no libcurl handle is free for a batch request");
	MemoryContextSwitchTo(old);
	p->state = FC_PAIR_RUNNING;
}

static char *
copy_or_null(const char *s)
{
	return s ? pstrdup(s) : NULL;
}

/* Decide a pair from its answer: verdict, retry later, or error. */
static void
finish_attempt(Batch *b, FcPair *p, FcHttpResponse *http)
{
	FcResponse	answer;
	Failure		failure = {NULL, http, b->base_url, p->attempts};
	bool		retry;
	bool		throttled = false;

	MemoryContextSwitchTo(p->attempt_context);
	if (http->failure == FC_TRANSPORT_OK)
	{
		fc_parse_answer(http, &answer);
		failure.answer = &answer;
		retry = answer.kind != FC_RESPONSE_VERDICT && fc_answer_retryable(&answer);
		throttled = fc_answer_throttled(&answer);
	}
	else
		retry = fc_transport_retryable(http->failure);
	MemoryContextSwitchTo(b->context);

	if (http->failure == FC_TRANSPORT_OK && answer.kind == FC_RESPONSE_VERDICT)
	{
		p->verdict = answer;
		p->verdict.request_id = copy_or_null(answer.request_id);
		p->verdict.transaction_id = copy_or_null(answer.transaction_id);
		p->verdict.score = copy_or_null(answer.score);
		p->verdict.code = p->verdict.message = NULL;
		p->ok = true;
	}
	else if (retry && p->attempts <= fc_max_retries)
	{
		p->state = FC_PAIR_WAITING;
		p->ready_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												  fc_backoff_delay_ms(p->attempts, throttled));
		b->retries[b->nretries++] = p - b->pairs;
		return;
	}
	else if (b->raise_errors)
		(http->failure == FC_TRANSPORT_OK ? raise_answer : raise_transport) (&failure);
	else
		fc_capture_error(http->failure == FC_TRANSPORT_OK ? raise_answer : raise_transport,
						 &failure, &p->error);

	p->retryable = !p->ok && retry;
	p->throttled = !p->ok && throttled;
	p->state = FC_PAIR_DONE;
	p->decided_at = GetCurrentTimestamp();
	MemoryContextDelete(p->attempt_context);
	p->attempt_context = NULL;
	b->remaining--;
}

/* Milliseconds from now until t, at least 1. */
static long
ms_until(TimestampTz now, TimestampTz t)
{
	return Max(1, (long) ((t - now + 999) / 1000));
}

void
fc_batch_run(FcPair *pairs, int npairs, bool raise_errors)
{
	Batch		b = {0};
	FcHttpCompletion *done = palloc(sizeof(FcHttpCompletion) * FC_MAX_CONCURRENCY);
	TimestampTz slot = 0;		/* a reserved max_qps slot not used yet */

	b.pairs = pairs;
	b.npairs = npairs;
	b.raise_errors = raise_errors;
	b.context = CurrentMemoryContext;
	b.retries = palloc(sizeof(int) * Max(npairs, 1));
	for (int i = 0; i < npairs; i++)
	{
		pairs[i].state = pairs[i].invalid ? FC_PAIR_DONE : FC_PAIR_WAITING;
		if (!pairs[i].invalid)
			b.remaining++;
	}
	if (b.remaining == 0)
		return;
	fc_get_credentials(&b.creds);
	b.base_url = fc_service_base_url();

	PG_TRY();
	{
		while (b.remaining > 0)
		{
			int			limit = Min(fc_max_concurrency, FC_MAX_CONCURRENCY);
			TimestampTz now = GetCurrentTimestamp();
			TimestampTz wake = 0;
			int			ndone;

			/* Send what may be sent, each request in its own max_qps slot. */
			while (fc_http_active() < limit && next_ready(&b, now, &wake, false) != NULL)
			{
				if (slot == 0)
					slot = fc_ratelimit_reserve();
				/* Starting a request takes time: judge the slot by the clock. */
				now = GetCurrentTimestamp();
				if (slot > now)
				{
					wake = (wake == 0 || slot < wake) ? slot : wake;
					break;
				}
				start_attempt(&b, next_ready(&b, now, &wake, true));
				slot = 0;
			}

			if (fc_http_active() == 0)
			{
				/* Nothing in flight: sleep until a retry or a slot is due. */
				fc_sleep_until(wake);
				continue;
			}
			ndone = fc_http_drive(wake ? ms_until(now, wake) : 1000, done, FC_MAX_CONCURRENCY);
			for (int i = 0; i < ndone; i++)
				finish_attempt(&b, (FcPair *) done[i].owner, &done[i].response);
		}
	}
	PG_FINALLY();
	{
		fc_http_abort_all();
	}
	PG_END_TRY();
}
