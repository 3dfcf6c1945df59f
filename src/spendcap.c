/*
 * spendcap.c
 *		facecompare.max_calls_per_day: a cap on the requests sent per day
 *		(UTC), by every backend and the worker together.
 *
 * Every request sent is counted, retries too: the service may bill any of
 * them, so the cap bounds the bill from above.  Once the day's count reaches
 * the cap, calls fail at once, unsent, and the worker leaves queued requests
 * pending until midnight UTC.
 *
 * The count lives in shared memory and survives a restart in a small file,
 * pg_stat/facecompare_spend.stat, as pg_stat_statements keeps its own: the
 * postmaster writes the exact count when the server stops, and backends
 * write ahead of the count as it grows, a block of requests at a time (1% of
 * the cap, between 1 and 1000).  The file always says at least as many as
 * were sent, so a crash can never let the day go over the cap: it can only
 * count up to a block of requests that were never sent.
 *
 * Without preloading each backend counts its own requests, in memory only,
 * and says so once.
 */
#include "postgres.h"

#include <unistd.h>

#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "settings.h"
#include "spendcap.h"

#define SPEND_FILE "pg_stat/facecompare_spend.stat"
#define SPEND_FILE_TMP SPEND_FILE ".tmp"
#define SPEND_FILE_HEADER "facecompare spend 1"
#define LOCK_TRANCHE "facecompare spend cap"

typedef struct FcSpend
{
	slock_t		mutex;			/* guards what follows */
	int64		day;			/* days since 2000-01-01 UTC */
	int64		calls;			/* requests sent that day */
	int64		persisted;		/* the file is to say at least so many */
	int64		written;		/* the file says so many */
	LWLock	   *file_lock;		/* one writer of the file at a time */
} FcSpend;

static FcSpend *shared_spend = NULL;
static FcSpend local_spend;
static bool local_ready = false;
static bool warned_local = false;

static int64
utc_day(TimestampTz t)
{
	/* PostgreSQL's epoch is midnight UTC. */
	return t >= 0 ? t / USECS_PER_DAY : (t - USECS_PER_DAY + 1) / USECS_PER_DAY;
}

static TimestampTz
day_start(int64 day)
{
	return (TimestampTz) day * USECS_PER_DAY;
}

/* Write day and count to the file, replacing it atomically. */
static void
write_file(int64 day, int64 calls)
{
	FILE	   *file = AllocateFile(SPEND_FILE_TMP, PG_BINARY_W);

	if (file == NULL ||
		fprintf(file, "%s\n" INT64_FORMAT " " INT64_FORMAT "\n", SPEND_FILE_HEADER, day, calls) < 0 ||
		FreeFile(file) != 0)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", SPEND_FILE_TMP)));
		if (file)
			unlink(SPEND_FILE_TMP);
		return;
	}
	(void) durable_rename(SPEND_FILE_TMP, SPEND_FILE, LOG);
}

/* The count the file kept for today, or 0. */
static int64
read_file(int64 today)
{
	FILE	   *file = AllocateFile(SPEND_FILE, PG_BINARY_R);
	char		header[64];
	long long	day = -1;
	long long	calls = 0;

	if (file == NULL)
		return 0;
	if (fgets(header, sizeof(header), file) == NULL ||
		strncmp(header, SPEND_FILE_HEADER "\n", sizeof(SPEND_FILE_HEADER)) != 0 ||
		fscanf(file, "%lld %lld", &day, &calls) != 2 || calls < 0)
	{
		ereport(LOG,
				(errmsg("ignoring file \"%s\": it is not facecompare's spend count", SPEND_FILE)));
		day = -1;
	}
	FreeFile(file);
	return day == today ? (int64) calls : 0;
}

/* The postmaster, stopping cleanly, keeps the exact count. */
static void
shutdown_spend(int code, Datum arg)
{
	if (code != 0 || shared_spend == NULL)
		return;
	write_file(shared_spend->day, shared_spend->calls);
}

Size
fc_spendcap_shmem_size(void)
{
	return MAXALIGN(sizeof(FcSpend));
}

void
fc_spendcap_shmem_request(void)
{
	RequestNamedLWLockTranche(LOCK_TRANCHE, 1);
}

void
fc_spendcap_shmem_attach(void)
{
	bool		found;

	shared_spend = ShmemInitStruct("facecompare spend cap", sizeof(FcSpend), &found);
	if (!found)
	{
		SpinLockInit(&shared_spend->mutex);
		shared_spend->file_lock = &(GetNamedLWLockTranche(LOCK_TRANCHE))->lock;
		shared_spend->day = utc_day(GetCurrentTimestamp());
		shared_spend->calls = read_file(shared_spend->day);
		shared_spend->persisted = shared_spend->written = shared_spend->calls;
	}
	if (!IsUnderPostmaster)
		on_shmem_exit(shutdown_spend, (Datum) 0);
}

static FcSpend *
spend(void)
{
	if (shared_spend)
		return shared_spend;
	if (!local_ready)
	{
		SpinLockInit(&local_spend.mutex);
		local_spend.day = utc_day(GetCurrentTimestamp());
		local_ready = true;
	}
	return &local_spend;
}

/* Requests a backend may send before the file must say more. */
static int64
write_ahead(void)
{
	return fc_max_calls_per_day > 0 ? Max(1, Min(1000, fc_max_calls_per_day / 100)) : 1000;
}

/* Start a new day's count when the day has changed (under the mutex). */
static void
roll_day(FcSpend *s, int64 today)
{
	if (s->day != today)
	{
		s->day = today;
		s->calls = 0;
		s->persisted = 0;
		s->written = 0;
	}
}

static void
cap_error(int64 calls, TimestampTz resets_at, FcError *error)
{
	fc_error(error, ERRCODE_CONFIGURATION_LIMIT_EXCEEDED,
			 "facecompare.max_calls_per_day (%d) is reached", fc_max_calls_per_day);
	fc_error_detail(error, INT64_FORMAT " requests were sent to FaceCompare today (UTC) %s; this call was not sent.",
					calls, shared_spend ? "by all sessions" : "by this session");
	fc_error_hint(error, "The count starts again at %s.  An administrator may raise the cap with ALTER SYSTEM SET facecompare.max_calls_per_day and SELECT pg_reload_conf().",
				  timestamptz_to_str(resets_at));
	error->held = true;
}

bool
fc_spendcap_allows(bool take, TimestampTz *until, FcError *error)
{
	FcSpend    *s = spend();
	int64		today = utc_day(GetCurrentTimestamp());
	int64		calls;
	int64		write_calls = 0;
	bool		write = false;

	if (shared_spend == NULL && fc_max_calls_per_day > 0 && !warned_local)
	{
		warned_local = true;
		ereport(NOTICE,
				(errmsg("facecompare.max_calls_per_day applies to this session only"),
				 errdetail("facecompare is not in shared_preload_libraries, so sessions cannot share the count."),
				 errhint("Add facecompare to shared_preload_libraries and restart to share it.")));
	}
	SpinLockAcquire(&s->mutex);
	roll_day(s, today);
	calls = s->calls;
	if (fc_max_calls_per_day > 0 && calls >= fc_max_calls_per_day)
	{
		SpinLockRelease(&s->mutex);
		*until = day_start(today + 1);
		if (error)
			cap_error(calls, *until, error);
		return false;
	}
	if (take)
	{
		calls = ++s->calls;
		if (shared_spend && calls > s->persisted)
			s->persisted = calls + write_ahead() - 1;
		write = shared_spend && calls > s->written;
	}
	SpinLockRelease(&s->mutex);

	/*
	 * Sent only once the file counts it, so that a crash cannot undercount:
	 * one backend writes a block ahead, the others wait for it here.
	 */
	if (write)
	{
		LWLockAcquire(s->file_lock, LW_EXCLUSIVE);
		SpinLockAcquire(&s->mutex);
		write = calls > s->written && s->day == today;
		write_calls = s->persisted;
		SpinLockRelease(&s->mutex);
		if (write)
		{
			write_file(today, write_calls);
			SpinLockAcquire(&s->mutex);
			if (s->day == today)
				s->written = Max(s->written, write_calls);
			SpinLockRelease(&s->mutex);
		}
		LWLockRelease(s->file_lock);
	}
	return true;
}

void
fc_spendcap_state(FcSpendState *state)
{
	FcSpend    *s = spend();
	int64		today = utc_day(GetCurrentTimestamp());

	SpinLockAcquire(&s->mutex);
	state->calls_today = s->day == today ? s->calls : 0;
	SpinLockRelease(&s->mutex);
	state->resets_at = day_start(today + 1);
}
