/*
 * ratelimit.c
 *		facecompare.max_qps: the account's QPS shared by every backend.
 *
 * Sending slots are handed out 1/max_qps apart (plus a 2% margin for network
 * jitter), so no one-second window ever holds more than max_qps requests,
 * whatever the number of sessions.  The next free slot lives in shared
 * memory when the library is preloaded; otherwise each backend keeps its own
 * and says once that the limit is per session.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "ratelimit.h"

/* Spacing margin: requests a little further apart than 1/max_qps. */
#define SLOT_MARGIN 1.02

typedef struct RateLimitState
{
	slock_t		mutex;
	TimestampTz next_slot;		/* the earliest time the next request may go */
} RateLimitState;

int			fc_max_qps = 0;

static RateLimitState *shared_state = NULL;
static RateLimitState local_state;
static bool warned_local = false;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
request_shmem(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(RateLimitState)));
}

static void
attach_shmem(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared_state = ShmemInitStruct("facecompare rate limit", sizeof(RateLimitState), &found);
	if (!found)
	{
		SpinLockInit(&shared_state->mutex);
		shared_state->next_slot = 0;
	}
	LWLockRelease(AddinShmemInitLock);
}

void
fc_ratelimit_init(void)
{
	DefineCustomIntVariable("facecompare.max_qps",
							"Most FaceCompare requests per second, for all sessions together (0: no limit).",
							"Set it to the account's QPS limit so that no request is throttled.  Shared by all backends when facecompare is in shared_preload_libraries, else per session.",
							&fc_max_qps, 0, 0, 100000,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	if (process_shared_preload_libraries_in_progress)
	{
		prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = request_shmem;
		prev_shmem_startup_hook = shmem_startup_hook;
		shmem_startup_hook = attach_shmem;
	}
	SpinLockInit(&local_state.mutex);
}

TimestampTz
fc_ratelimit_reserve(void)
{
	RateLimitState *state = shared_state ? shared_state : &local_state;
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz slot;
	int64		interval_us;

	if (fc_max_qps <= 0)
		return now;
	if (shared_state == NULL && !warned_local)
	{
		warned_local = true;
		ereport(NOTICE,
				(errmsg("facecompare.max_qps applies to this session only"),
				 errdetail("facecompare is not in shared_preload_libraries, so sessions cannot share the limit."),
				 errhint("Add facecompare to shared_preload_libraries and restart to share it.")));
	}
	interval_us = (int64) (1000000.0 * SLOT_MARGIN / fc_max_qps);

	SpinLockAcquire(&state->mutex);
	slot = Max(state->next_slot, now);
	state->next_slot = slot + interval_us;
	SpinLockRelease(&state->mutex);
	return slot;
}

void
fc_sleep_until(TimestampTz t)
{
	for (;;)
	{
		long		secs;
		int			usecs;
		long		remaining_ms;

		CHECK_FOR_INTERRUPTS();
		TimestampDifference(GetCurrentTimestamp(), t, &secs, &usecs);
		remaining_ms = secs * 1000 + (usecs + 999) / 1000;
		if (remaining_ms <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 remaining_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
