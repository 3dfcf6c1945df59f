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
#include "storage/latch.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "ratelimit.h"
#include "settings.h"
#include "sharedstate.h"
#include "stats.h"

/* Spacing margin: requests a little further apart than 1/max_qps. */
#define SLOT_MARGIN 1.02

/*
 * The next free slot: shared, or this backend's own when not preloaded,
 * set up by the first reservation that needs it.
 */
static FcSharedState local_state;
static bool warned_local = false;

TimestampTz
fc_ratelimit_reserve(void)
{
	FcSharedState *state = fc_shared ? fc_shared : &local_state;
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz slot;
	int64		interval_us;

	if (fc_max_qps <= 0)
		return now;
	if (fc_shared == NULL && !warned_local)
	{
		warned_local = true;
		SpinLockInit(&local_state.mutex);
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
	fc_stats_qps_wait(slot - now);
	return slot;
}

void
fc_sleep_until(TimestampTz t, uint32 wait_event_info)
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
						 remaining_ms, wait_event_info);
		ResetLatch(MyLatch);
	}
}
