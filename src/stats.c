/*
 * stats.c
 *		What every call cost and how it ended, for facecompare.stats,
 *		facecompare.stats_latency and facecompare.stats_errors.
 *
 * The engine (batch.c) reports each request it sends, each answer and each
 * pair it decides, so compare(), compare_many() and the queue's worker are
 * all counted, once.  The counters are atomics in shared memory when the
 * library is preloaded, as pg_stat_statements keeps its own, so counting
 * costs a few uncontended additions per request and takes no lock; only an
 * error also takes a spinlock, to count it by its Code and SQLSTATE.
 * Without preloading each backend counts its own calls, and the view's
 * scope column says 'session'.
 *
 * Latency, from a pair's first send to its outcome, goes into a fixed
 * histogram per outcome: eight buckets per doubling from 1 ms, so a
 * percentile read from it is within 9% of the true value.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "breaker.h"
#include "spendcap.h"
#include "settings.h"
#include "stats.h"

typedef enum Counter
{
	C_CALLS,					/* pairs decided */
	C_PASSED,
	C_FAILED,
	C_ERRORS,
	C_REQUESTS,					/* HTTP requests sent, retries included */
	C_RETRIES,
	C_THROTTLED,				/* throttling answers */
	C_TRANSPORT_ERRORS,			/* attempts that got no HTTP answer */
	C_BYTES_SENT,
	C_QPS_WAIT_US,
	C_BREAKER_REFUSED,
	C_CAP_REFUSED,
	NCOUNTERS
} Counter;

typedef enum Outcome
{
	OUTCOME_PASSED,
	OUTCOME_FAILED,
	OUTCOME_ERROR,
	NOUTCOMES
} Outcome;

static const char *const outcome_names[NOUTCOMES] = {"passed", "failed", "error"};

#define BUCKETS_PER_DOUBLING 8
#define NBUCKETS (18 * BUCKETS_PER_DOUBLING)	/* up to 2^18 ms, 262 s */

/* Errors are counted by key, in a small table: a Code or a SQLSTATE. */
#define NERROR_KEYS 64
#define ERROR_KEY_LEN 48

typedef struct ErrorKey
{
	char		kind;			/* 'c': service Code, 's': SQLSTATE; 0: free */
	char		key[ERROR_KEY_LEN];
	uint64		count;
} ErrorKey;

typedef struct FcStats
{
	pg_atomic_uint64 counters[NCOUNTERS];
	pg_atomic_uint64 latency[NOUTCOMES][NBUCKETS];
	pg_atomic_uint64 latency_sum_us[NOUTCOMES];
	pg_atomic_uint32 in_flight; /* now, not reset */
	slock_t		mutex;			/* guards what follows */
	TimestampTz reset_at;
	ErrorKey	errors[NERROR_KEYS];
	uint64		errors_unkeyed; /* counted when the table was full */
} FcStats;

static FcStats *shared_stats = NULL;
static FcStats *local_stats = NULL;

/* Requests this backend has in flight, to give back if it stops. */
static uint32 my_in_flight = 0;
static bool exit_hook_set = false;

/* Zero an atomic; init the first time, when it may hold anything. */
static inline void
zero(pg_atomic_uint64 *v, bool init)
{
	if (init)
		pg_atomic_init_u64(v, 0);
	else
		pg_atomic_write_u64(v, 0);
}

/* Zero what stats_reset() zeroes; init also sets up the rest. */
static void
stats_clear(FcStats *s, bool init)
{
	for (int i = 0; i < NCOUNTERS; i++)
		zero(&s->counters[i], init);
	for (int o = 0; o < NOUTCOMES; o++)
	{
		for (int b = 0; b < NBUCKETS; b++)
			zero(&s->latency[o][b], init);
		zero(&s->latency_sum_us[o], init);
	}
	if (init)
	{
		pg_atomic_init_u32(&s->in_flight, 0);
		SpinLockInit(&s->mutex);
	}
	SpinLockAcquire(&s->mutex);
	memset(s->errors, 0, sizeof(s->errors));
	s->errors_unkeyed = 0;
	s->reset_at = GetCurrentTimestamp();
	SpinLockRelease(&s->mutex);
}

Size
fc_stats_shmem_size(void)
{
	return MAXALIGN(sizeof(FcStats));
}

void
fc_stats_shmem_attach(void)
{
	bool		found;

	shared_stats = ShmemInitStruct("facecompare stats", sizeof(FcStats), &found);
	if (!found)
		stats_clear(shared_stats, true);
}

/* The counters calls go to: the server's, or this backend's own. */
static FcStats *
stats(void)
{
	if (shared_stats)
		return shared_stats;
	if (local_stats == NULL)
	{
		local_stats = MemoryContextAllocZero(TopMemoryContext, sizeof(FcStats));
		stats_clear(local_stats, true);
	}
	return local_stats;
}

static inline void
count(Counter c, uint64 n)
{
	pg_atomic_fetch_add_u64(&stats()->counters[c], n);
}

/* A backend that exits with requests in flight no longer has them. */
static void
give_back_in_flight(int code, Datum arg)
{
	fc_stats_abort();
}

void
fc_stats_qps_wait(int64 wait_us)
{
	if (wait_us > 0)
		count(C_QPS_WAIT_US, (uint64) wait_us);
}

void
fc_stats_sent(int attempt, size_t bytes)
{
	FcStats    *s = stats();

	if (!exit_hook_set && shared_stats)
	{
		before_shmem_exit(give_back_in_flight, 0);
		exit_hook_set = true;
	}
	pg_atomic_fetch_add_u64(&s->counters[C_REQUESTS], 1);
	pg_atomic_fetch_add_u64(&s->counters[C_BYTES_SENT], bytes);
	if (attempt > 1)
		pg_atomic_fetch_add_u64(&s->counters[C_RETRIES], 1);
	pg_atomic_fetch_add_u32(&s->in_flight, 1);
	my_in_flight++;
}

void
fc_stats_answered(const FcError *error, bool transport)
{
	FcStats    *s = stats();

	if (my_in_flight > 0)
	{
		pg_atomic_fetch_sub_u32(&s->in_flight, 1);
		my_in_flight--;
	}
	if (error && error->throttled)
		pg_atomic_fetch_add_u64(&s->counters[C_THROTTLED], 1);
	if (transport)
		pg_atomic_fetch_add_u64(&s->counters[C_TRANSPORT_ERRORS], 1);
}

void
fc_stats_abort(void)
{
	FcStats    *s = shared_stats ? shared_stats : local_stats;

	if (s && my_in_flight > 0)
		pg_atomic_fetch_sub_u32(&s->in_flight, my_in_flight);
	my_in_flight = 0;
}

void
fc_stats_refused(bool by_breaker)
{
	count(by_breaker ? C_BREAKER_REFUSED : C_CAP_REFUSED, 1);
}

/* Count one error under a key of its kind. */
static void
count_error_key(FcStats *s, char kind, const char *key)
{
	int			free_slot = -1;

	SpinLockAcquire(&s->mutex);
	for (int i = 0; i < NERROR_KEYS; i++)
	{
		ErrorKey   *e = &s->errors[i];

		if (e->kind == 0)
		{
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (e->kind == kind && strcmp(e->key, key) == 0)
		{
			e->count++;
			SpinLockRelease(&s->mutex);
			return;
		}
	}
	if (free_slot >= 0)
	{
		s->errors[free_slot].kind = kind;
		strlcpy(s->errors[free_slot].key, key, ERROR_KEY_LEN);
		s->errors[free_slot].count = 1;
	}
	else
		s->errors_unkeyed++;
	SpinLockRelease(&s->mutex);
}

/* The histogram bucket of a latency: 0 below 1 ms, then 8 per doubling. */
static int
latency_bucket(double ms)
{
	int			b;

	if (ms < 1.0)
		return 0;
	b = 1 + (int) floor(log2(ms) * BUCKETS_PER_DOUBLING);
	return Min(b, NBUCKETS - 1);
}

/* Bounds of a bucket, in ms. */
static double
bucket_upper(int b)
{
	return pow(2.0, (double) b / BUCKETS_PER_DOUBLING);
}

static double
bucket_lower(int b)
{
	return b == 0 ? 0.0 : pow(2.0, (double) (b - 1) / BUCKETS_PER_DOUBLING);
}

void
fc_stats_decided(const FcPair *p)
{
	FcStats    *s = stats();
	Outcome		outcome;

	pg_atomic_fetch_add_u64(&s->counters[C_CALLS], 1);
	if (p->ok)
	{
		outcome = p->verdict.passed ? OUTCOME_PASSED : OUTCOME_FAILED;
		pg_atomic_fetch_add_u64(&s->counters[p->verdict.passed ? C_PASSED : C_FAILED], 1);
	}
	else
	{
		outcome = OUTCOME_ERROR;
		pg_atomic_fetch_add_u64(&s->counters[C_ERRORS], 1);
		count_error_key(s, 's', fc_error_sqlstate(&p->error));
		if (p->error.code)
			count_error_key(s, 'c', p->error.code);
	}
	/* Latency is the service's and the network's: only pairs that were sent. */
	if (p->first_sent_at != 0 && p->decided_at >= p->first_sent_at)
	{
		int64		us = p->decided_at - p->first_sent_at;

		pg_atomic_fetch_add_u64(&s->latency[outcome][latency_bucket(us / 1000.0)], 1);
		pg_atomic_fetch_add_u64(&s->latency_sum_us[outcome], (uint64) us);
	}
}

/* The q-quantile of a histogram, interpolated within its bucket; NULL if empty. */
static bool
percentile(const uint64 *hist, uint64 total, double q, double *ms)
{
	double		rank = q * total;
	uint64		seen = 0;

	if (total == 0)
		return false;
	for (int b = 0; b < NBUCKETS; b++)
	{
		if (hist[b] == 0)
			continue;
		if (seen + hist[b] >= rank)
		{
			double		frac = (rank - seen) / hist[b];

			*ms = bucket_lower(b) + frac * (bucket_upper(b) - bucket_lower(b));
			return true;
		}
		seen += hist[b];
	}
	*ms = bucket_upper(NBUCKETS - 1);
	return true;
}

static const char *
scope(void)
{
	return shared_stats ? "cluster" : "session";
}

/* One row: the counters, the breakers and the spend cap. */
PG_FUNCTION_INFO_V1(facecompare_stats);
Datum
facecompare_stats(PG_FUNCTION_ARGS)
{
	FcStats    *s = stats();
	TupleDesc	tupdesc;
	Datum		values[20];
	bool		nulls[20] = {0};
	int			n = 0;
	FcSpendState spend;
	TimestampTz reset_at;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (tupdesc->natts != lengthof(values))
		elog(ERROR, "facecompare.stats has %d columns, expected %d",
			 tupdesc->natts, (int) lengthof(values));
	fc_spendcap_state(&spend);
	SpinLockAcquire(&s->mutex);
	reset_at = s->reset_at;
	SpinLockRelease(&s->mutex);

	values[n++] = CStringGetTextDatum(scope());
	for (int c = C_CALLS; c <= C_BYTES_SENT; c++)
		values[n++] = Int64GetDatum((int64) pg_atomic_read_u64(&s->counters[c]));
	values[n++] = Int32GetDatum((int32) pg_atomic_read_u32(&s->in_flight));
	values[n++] = Float8GetDatum(pg_atomic_read_u64(&s->counters[C_QPS_WAIT_US]) / 1000.0);
	values[n++] = Int64GetDatum((int64) pg_atomic_read_u64(&s->counters[C_BREAKER_REFUSED]));
	values[n++] = Int64GetDatum((int64) pg_atomic_read_u64(&s->counters[C_CAP_REFUSED]));
	values[n++] = Int32GetDatum(fc_breakers_open());
	values[n++] = Int64GetDatum(spend.calls_today);
	values[n++] = Int32GetDatum(fc_max_calls_per_day);
	if (fc_max_calls_per_day > 0)
		values[n++] = Int64GetDatum(Max(0, fc_max_calls_per_day - spend.calls_today));
	else
		nulls[n++] = true;
	values[n++] = TimestampTzGetDatum(spend.resets_at);
	values[n++] = TimestampTzGetDatum(reset_at);
	Assert(n == lengthof(values));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* One row per outcome: how many, and how long they took. */
PG_FUNCTION_INFO_V1(facecompare_stats_latency);
Datum
facecompare_stats_latency(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FcStats    *s = stats();

	InitMaterializedSRF(fcinfo, 0);
	for (int o = 0; o < NOUTCOMES; o++)
	{
		uint64		hist[NBUCKETS];
		uint64		total = 0;
		Datum		values[6];
		bool		nulls[6] = {0};
		const double qs[3] = {0.50, 0.95, 0.99};

		for (int b = 0; b < NBUCKETS; b++)
			total += hist[b] = pg_atomic_read_u64(&s->latency[o][b]);
		values[0] = CStringGetTextDatum(outcome_names[o]);
		values[1] = Int64GetDatum((int64) total);
		if (total > 0)
			values[2] = Float8GetDatum(pg_atomic_read_u64(&s->latency_sum_us[o]) / 1000.0 / total);
		else
			nulls[2] = true;
		for (int i = 0; i < 3; i++)
		{
			double		ms;

			if (percentile(hist, total, qs[i], &ms))
				values[3 + i] = Float8GetDatum(rint(ms * 100) / 100);
			else
				nulls[3 + i] = true;
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* One row per error Code and per SQLSTATE. */
PG_FUNCTION_INFO_V1(facecompare_stats_errors);
Datum
facecompare_stats_errors(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FcStats    *s = stats();
	ErrorKey	copy[NERROR_KEYS];
	uint64		unkeyed;

	InitMaterializedSRF(fcinfo, 0);
	SpinLockAcquire(&s->mutex);
	memcpy(copy, s->errors, sizeof(copy));
	unkeyed = s->errors_unkeyed;
	SpinLockRelease(&s->mutex);
	for (int i = 0; i < NERROR_KEYS; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {0};

		if (copy[i].kind == 0)
			continue;
		values[0] = CStringGetTextDatum(copy[i].kind == 'c' ? "code" : "sqlstate");
		values[1] = CStringGetTextDatum(copy[i].key);
		values[2] = Int64GetDatum((int64) copy[i].count);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	if (unkeyed > 0)
	{
		Datum		values[3] = {CStringGetTextDatum("other"), 0, Int64GetDatum((int64) unkeyed)};
		bool		nulls[3] = {false, true, false};

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(facecompare_stats_reset);
Datum
facecompare_stats_reset(PG_FUNCTION_ARGS)
{
	stats_clear(stats(), false);
	PG_RETURN_VOID();
}
