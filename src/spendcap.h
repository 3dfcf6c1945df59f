/*
 * spendcap.h
 *		facecompare.max_calls_per_day: requests sent per UTC day, counted
 *		across the server and kept across restarts.
 */
#ifndef SPENDCAP_H
#define SPENDCAP_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "fcerror.h"

/* Shared memory: what to ask for, and attaching it (under AddinShmemInitLock). */
extern Size fc_spendcap_shmem_size(void);
extern void fc_spendcap_shmem_request(void);
extern void fc_spendcap_shmem_attach(void);

/*
 * May a request be sent today?  No: false, with the error in *error (held; none when error is NULL)
 * and the next midnight UTC in *until.  With take set, the request is
 * counted; otherwise it is only asked.
 */
extern bool fc_spendcap_allows(bool take, TimestampTz *until, FcError *error);

typedef struct FcSpendState
{
	int64		calls_today;	/* requests sent since midnight UTC */
	TimestampTz resets_at;		/* the next midnight UTC */
} FcSpendState;

extern void fc_spendcap_state(FcSpendState *state);

#endif							/* SPENDCAP_H */
