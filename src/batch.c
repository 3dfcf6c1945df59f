/*
 * batch.c
 *		The attempt engine: every comparison, from compare(), compare_many()
 *		and the queue's worker, is sent, parsed, retried or decided here.
 *		Up to facecompare.max_concurrency requests are in flight over the
 *		backend's connections, each sent in its facecompare.max_qps slot,
 *		each pair retried and failed on its own.
 *
 * The service answers in hundreds of milliseconds from far away, so one
 * request at a time leaves the account's QPS unused; with N in flight, a
 * table is verified N times as fast, up to the QPS limit.
 *
 * A batch is driven a step at a time: compare() (a batch of one) and
 * compare_many() step until every pair is decided, while the worker keeps
 * adding pairs and stores each one's outcome as soon as a step hands it back.
 *
 * Only outcomes that a later identical request may not get are retried
 * (codes.c's table says which answers; a connection that failed or was reset
 * before an answer), and every attempt is a new request to the gateway (new
 * date, nonce and signature) with the same MerchantBizId.  The pause between
 * attempts grows exponentially with jitter.  facecompare.timeout is each
 * pair's deadline for all its attempts and the pauses between them: an
 * attempt gets what is left of it, and a retry that could not start before
 * it is not made.  Errors are values (fcerror.h): the engine records each
 * pair's, and its callers raise or store them.
 */
#include "postgres.h"

#include <math.h>

#include <cjson/cJSON.h>

#include "common/pg_prng.h"

#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "batch.h"
#include "errors.h"
#include "http.h"
#include "photo.h"
#include "photo_pg.h"
#include "ratelimit.h"
#include "settings.h"

/* A growable list of pairs. */
typedef struct PairList
{
	FcPair	  **items;
	int			len;
	int			cap;
} PairList;

struct FcBatch
{
	MemoryContext context;		/* the batch's own state */
	PairList	fresh;			/* never sent, in order; from fresh_head on */
	int			fresh_head;
	PairList	retries;		/* waiting to be sent again */
	int			undecided;		/* pairs added and not decided yet */
	TimestampTz slot;			/* a reserved max_qps slot not used yet */
	FcCredentials creds;		/* copies, in context */
	char	   *base_url;
};

/* The longest pause between two attempts, whatever facecompare.retry_delay. */
#define MAX_RETRY_DELAY_MS 10000
/* A throttled request waits for the service's one-second QPS window to move. */
#define THROTTLED_EXTRA_DELAY_MS 1000

long
fc_backoff_delay_ms(int attempt, bool throttled)
{
	double		ceiling = Min((double) MAX_RETRY_DELAY_MS,
							  fc_retry_delay_ms * pow(2.0, attempt - 1));

	/* Half the exponential delay, plus up to as much again (jitter). */
	return (long) (ceiling / 2 + pg_prng_double(&pg_global_prng_state) * ceiling / 2) +
		(throttled ? THROTTLED_EXTRA_DELAY_MS : 0);
}

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

/* Parse an HTTP answer, with cJSON's memory in the current context. */
static void
parse_answer(const FcHttpResponse *http, FcResponse *response)
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

static void
list_push(MemoryContext context, PairList *list, FcPair *pair)
{
	if (list->len == list->cap)
	{
		int			cap = Max(16, list->cap * 2);

		list->items = list->items
			? repalloc(list->items, sizeof(FcPair *) * cap)
			: MemoryContextAlloc(context, sizeof(FcPair *) * cap);
		list->cap = cap;
	}
	list->items[list->len++] = pair;
}

void
fc_batch_check_pair(FcPair *pair)
{
	if (!pair->invalid &&
		!fc_check_comparison(&pair->source, &pair->target, pair->merchant_biz_id, &pair->error))
		pair->invalid = true;
	if (pair->merchant_biz_id == NULL)
		pair->merchant_biz_id = fc_new_merchant_biz_id();
}

/* Will preparing this side cost CPU (a decode)? */
static bool
photo_work(const FcImageArg *side)
{
	return !side->is_url && !side->missing && side->prepare != FC_PREPARE_OFF && !side->prepared;
}

void
fc_batch_prepare_pair(FcPair *pair)
{
	if (!pair->invalid &&
		(!fc_photo_prepare_arg(&pair->source, &pair->error) ||
		 !fc_photo_prepare_arg(&pair->target, &pair->error)))
		pair->invalid = true;
}

static bool
load_settings(FcBatch *b, FcError *error)
{
	FcCredentials creds;
	MemoryContext old;

	if (!fc_get_credentials(&creds, error))
		return false;
	old = MemoryContextSwitchTo(b->context);
	/* Copies: a reload may free the settings' strings while pairs run. */
	b->creds.access_key_id = pstrdup(creds.access_key_id);
	b->creds.access_key_secret = pstrdup(creds.access_key_secret);
	b->creds.security_token = creds.security_token ? pstrdup(creds.security_token) : NULL;
	b->base_url = fc_service_base_url();
	MemoryContextSwitchTo(old);
	return true;
}

FcBatch *
fc_batch_create(FcError *error)
{
	FcBatch    *b = palloc0(sizeof(FcBatch));

	b->context = CurrentMemoryContext;
	if (!load_settings(b, error))
	{
		pfree(b);
		return NULL;
	}
	return b;
}

bool
fc_batch_reconfigure(FcBatch *b, FcError *error)
{
	return load_settings(b, error);
}

void
fc_batch_add(FcBatch *b, FcPair *pair)
{
	Assert(!pair->invalid);
	list_push(b->context, &b->fresh, pair);
	b->undecided++;
}

int
fc_batch_undecided(const FcBatch *b)
{
	return b->undecided;
}

/* The memory context a pair's outcome goes into. */
static MemoryContext
result_context(FcBatch *b, FcPair *p)
{
	return p->context ? p->context : b->context;
}

/*
 * The next pair that may be sent now (retries first, then new pairs in
 * order), taken off its list when take is set; NULL if none.  *wake gets the
 * earliest time a waiting retry becomes due.
 */
static FcPair *
next_ready(FcBatch *b, TimestampTz now, TimestampTz *wake, bool take)
{
	for (int i = 0; i < b->retries.len; i++)
	{
		FcPair	   *p = b->retries.items[i];

		if (p->ready_at <= now)
		{
			if (take)
				b->retries.items[i] = b->retries.items[--b->retries.len];
			return p;
		}
		if (*wake == 0 || p->ready_at < *wake)
			*wake = p->ready_at;
	}
	if (b->fresh_head < b->fresh.len)
	{
		FcPair	   *p = b->fresh.items[b->fresh_head];

		if (take && ++b->fresh_head == b->fresh.len)
			b->fresh_head = b->fresh.len = 0;
		return p;
	}
	return NULL;
}

/* Record a pair's final outcome; decided[] collects it for the caller. */
static void
decide(FcBatch *b, FcPair *p, FcPair **decided, int *ndecided)
{
	p->decided_at = GetCurrentTimestamp();
	if (p->attempt_context)
		MemoryContextDelete(p->attempt_context);
	p->attempt_context = NULL;
	b->undecided--;
	decided[(*ndecided)++] = p;
}

/* A pair's final error, kept with its outcome. */
static void
fail(FcBatch *b, FcPair *p, const FcError *error)
{
	MemoryContext old = MemoryContextSwitchTo(result_context(b, p));

	fc_error_copy(&p->error, error);
	MemoryContextSwitchTo(old);
}

/* Milliseconds from now until t, at least 1. */
static long
ms_until(TimestampTz now, TimestampTz t)
{
	return Max(1, (long) ((t - now + 999) / 1000));
}

/*
 * Send a pair's next attempt, or, when its deadline has passed while it
 * waited for a slot, decide it with the timeout it ran into.
 */
static void
start_attempt(FcBatch *b, FcPair *p, FcPair **decided, int *ndecided)
{
	MemoryContext old;
	TimestampTz now = GetCurrentTimestamp();

	if (p->attempts == 0)
	{
		p->first_sent_at = now;
		p->deadline = TimestampTzPlusMilliseconds(now, fc_timeout_ms);
	}
	else if (now >= p->deadline)
	{
		FcHttpResponse timeout = {FC_TRANSPORT_TIMEOUT};
		FcError		error;

		snprintf(timeout.cause, sizeof(timeout.cause),
				 "facecompare.timeout (%d ms) ran out before attempt %d could be sent",
				 fc_timeout_ms, p->attempts + 1);
		fc_transport_error(&timeout, b->base_url, p->attempts, &error);
		/* The last attempt's failure was one a retry may mend. */
		error.retryable = true;
		fail(b, p, &error);
		decide(b, p, decided, ndecided);
		return;
	}

	if (p->attempt_context == NULL)
		p->attempt_context = AllocSetContextCreate(b->context, "facecompare batch attempt",
												   ALLOCSET_DEFAULT_SIZES);
	else
		MemoryContextReset(p->attempt_context);
	old = MemoryContextSwitchTo(p->attempt_context);
	p->attempts++;
	/* Like every retry, a new request: fresh date, nonce and signature. */
	p->request = palloc(sizeof(FcHttpRequest));
	fc_build_request(p->request, b->base_url, &b->creds, p->merchant_biz_id,
					 &p->source, &p->target);
	p->request->timeout_ms = ms_until(now, p->deadline);
	if (!fc_http_start(p->request, p))
		elog(ERROR, "no libcurl handle is free for a batch request");
	MemoryContextSwitchTo(old);
}

static char *
copy_or_null(const char *s)
{
	return s ? pstrdup(s) : NULL;
}

/* Decide a pair from its answer: verdict, retry later, or error. */
static void
finish_attempt(FcBatch *b, FcPair *p, FcHttpResponse *http, FcPair **decided, int *ndecided)
{
	MemoryContext old = MemoryContextSwitchTo(p->attempt_context);
	FcResponse	answer;
	FcError		error;

	if (http->failure == FC_TRANSPORT_OK)
	{
		parse_answer(http, &answer);
		if (answer.kind == FC_RESPONSE_VERDICT)
		{
			MemoryContextSwitchTo(result_context(b, p));
			p->verdict = answer;
			p->verdict.request_id = copy_or_null(answer.request_id);
			p->verdict.transaction_id = copy_or_null(answer.transaction_id);
			p->verdict.score = copy_or_null(answer.score);
			p->verdict.code = p->verdict.message = NULL;
			p->ok = true;
			MemoryContextSwitchTo(old);
			decide(b, p, decided, ndecided);
			return;
		}
		fc_answer_error(&answer, b->base_url, p->attempts, &error);
	}
	else
		fc_transport_error(http, b->base_url, p->attempts, &error);
	MemoryContextSwitchTo(old);

	if (error.retryable && p->attempts <= fc_max_retries)
	{
		TimestampTz ready_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
														   fc_backoff_delay_ms(p->attempts, error.throttled));

		/* Retry only if the pause ends before the call's deadline. */
		if (ready_at < p->deadline)
		{
			p->ready_at = ready_at;
			list_push(b->context, &b->retries, p);
			return;
		}
	}
	fail(b, p, &error);
	decide(b, p, decided, ndecided);
}

int
fc_batch_step(FcBatch *b, long max_wait_ms, FcPair **decided)
{
	TimestampTz give_up = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), max_wait_ms);
	FcHttpCompletion done[FC_MAX_CONCURRENCY];
	int			ndecided = 0;

	while (b->undecided > 0 && ndecided == 0)
	{
		int			limit = Min(fc_max_concurrency, FC_MAX_CONCURRENCY);
		TimestampTz now = GetCurrentTimestamp();
		TimestampTz wake = give_up;
		int			ndone;

		if (now >= give_up)
			break;
		/* Send what may be sent, each request in its own max_qps slot. */
		while (fc_http_active() < limit && ndecided < FC_MAX_CONCURRENCY &&
			   next_ready(b, now, &wake, false) != NULL)
		{
			if (b->slot == 0)
				b->slot = fc_ratelimit_reserve();
			/* Starting a request takes time: judge the slot by the clock. */
			now = GetCurrentTimestamp();
			if (b->slot > now)
			{
				wake = Min(wake, b->slot);
				break;
			}
			start_attempt(b, next_ready(b, now, &wake, true), decided, &ndecided);
			b->slot = 0;
		}
		if (ndecided > 0)
			break;

		if (fc_http_active() == 0)
		{
			/* Nothing in flight: sleep until a retry or a slot is due. */
			fc_sleep_until(wake);
			continue;
		}
		ndone = fc_http_drive(ms_until(now, wake), done, FC_MAX_CONCURRENCY);
		for (int i = 0; i < ndone; i++)
			finish_attempt(b, (FcPair *) done[i].owner, &done[i].response,
						   decided, &ndecided);
	}
	return ndecided;
}

void
fc_batch_abort(FcBatch *b)
{
	fc_http_abort_all();
}

void
fc_batch_run(FcPair *pairs, int npairs)
{
	FcBatch    *b;
	FcPair	  **decided;
	FcError		error;
	int			valid = 0;

	for (int i = 0; i < npairs; i++)
		if (!pairs[i].invalid)
			valid++;
	if (valid == 0)
		return;
	/* Without credentials, no pair can be sent: each fails with the reason. */
	b = fc_batch_create(&error);
	if (b == NULL)
	{
		for (int i = 0; i < npairs; i++)
			if (!pairs[i].invalid)
			{
				pairs[i].invalid = true;
				fc_error_copy(&pairs[i].error, &error);
			}
		return;
	}
	decided = palloc(sizeof(FcPair *) * FC_MAX_CONCURRENCY);

	PG_TRY();
	{
		int			next = 0;

		while (next < npairs || fc_batch_undecided(b) > 0)
		{
			int			ndecided;

			/*
			 * Prepare the next pair while those in flight wait on the
			 * network (a 12 MP photo is 50-120 ms of CPU), keeping up to two
			 * batches' worth ready; then send what may be sent and go on.
			 */
			if (next < npairs && fc_batch_undecided(b) < 2 * Min(fc_max_concurrency, FC_MAX_CONCURRENCY))
			{
				FcPair	   *p = &pairs[next++];
				bool		work = !p->invalid && (photo_work(&p->source) || photo_work(&p->target));

				fc_batch_prepare_pair(p);
				if (!p->invalid)
					fc_batch_add(b, p);
				/* Pairs sent as given are added at once, as they always were. */
				ndecided = work && fc_batch_undecided(b) > 0 ? fc_batch_step(b, 1, decided) : 0;
			}
			else
				ndecided = fc_batch_step(b, 1000, decided);

			/* Not one pair's failure (out of memory, no socket): stop them all. */
			for (int i = 0; i < ndecided; i++)
				if (decided[i]->error.always_raise)
					fc_raise_error(&decided[i]->error);
		}
	}
	PG_FINALLY();
	{
		fc_batch_abort(b);
	}
	PG_END_TRY();
}
