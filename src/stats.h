/*
 * stats.h
 *		Counters of every call the engine makes, in shared memory when the
 *		library is preloaded (else this backend's own): what
 *		facecompare.stats and its sibling views show.
 */
#ifndef STATS_H
#define STATS_H

#include "postgres.h"

#include "batch.h"
#include "fcerror.h"

/* Shared memory: its size, and attaching it (under AddinShmemInitLock). */
extern Size fc_stats_shmem_size(void);
extern void fc_stats_shmem_attach(void);

/* The engine's events, in the order they happen to a pair. */
extern void fc_stats_qps_wait(int64 wait_us);
extern void fc_stats_sent(int attempt, size_t bytes);
extern void fc_stats_answered(const FcError *error, bool transport);
extern void fc_stats_decided(const FcPair *pair);
extern void fc_stats_refused(bool by_breaker);
/* Requests this backend had in flight when a batch was aborted. */
extern void fc_stats_abort(void);

#endif							/* STATS_H */
