/*
 * sharedstate.h
 *		The extension's shared memory: what all backends of the server share
 *		when facecompare is in shared_preload_libraries.
 */
#ifndef SHAREDSTATE_H
#define SHAREDSTATE_H

#include "datatype/timestamp.h"
#include "storage/latch.h"
#include "storage/spin.h"

typedef struct FcSharedState
{
	slock_t		mutex;			/* guards every field below */
	TimestampTz next_slot;		/* max_qps: earliest time the next request may go */
	Latch	   *worker_latch;	/* the queue worker's, while it runs */
	bool		work_queued;	/* set with the latch: look at the queue */
} FcSharedState;

/* NULL unless the library was preloaded. */
extern FcSharedState *fc_shared;

/* Ask for the shared memory; called from _PG_init while preloading. */
extern void fc_shmem_init(void);

#endif							/* SHAREDSTATE_H */
