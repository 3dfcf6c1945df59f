/*
 * sharedstate.c
 *		The extension's shared memory: one small struct, asked for while the
 *		library is preloaded and attached by every process at start-up.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "breaker.h"
#include "sharedstate.h"
#include "spendcap.h"
#include "stats.h"

FcSharedState *fc_shared = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
request_shmem(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(FcSharedState)));
	/* Operations: statistics, circuit breakers, the spend cap. */
	RequestAddinShmemSpace(fc_stats_shmem_size() + fc_breaker_shmem_size() +
						   fc_spendcap_shmem_size());
	fc_spendcap_shmem_request();
}

static void
attach_shmem(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	fc_shared = ShmemInitStruct("facecompare", sizeof(FcSharedState), &found);
	if (!found)
	{
		SpinLockInit(&fc_shared->mutex);
		fc_shared->next_slot = 0;
		fc_shared->worker_latch = NULL;
		fc_shared->work_queued = false;
	}
	fc_stats_shmem_attach();
	fc_breaker_shmem_attach();
	fc_spendcap_shmem_attach();
	LWLockRelease(AddinShmemInitLock);
}

void
fc_shmem_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = request_shmem;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = attach_shmem;
}
