/*
 * ratelimit.h
 *		facecompare.max_qps: the account's QPS shared by every backend.
 */
#ifndef RATELIMIT_H
#define RATELIMIT_H

#include "datatype/timestamp.h"

/*
 * Reserve the next send slot: the time at which the caller may send one
 * request (now or later).  Slots are 1/max_qps apart across all backends.
 */
extern TimestampTz fc_ratelimit_reserve(void);

/*
 * Sleep until t, waking for cancel like any other wait; pg_stat_activity
 * shows wait_event_info (fc_wait_event()) meanwhile.
 */
extern void fc_sleep_until(TimestampTz t, uint32 wait_event_info);

#endif							/* RATELIMIT_H */
