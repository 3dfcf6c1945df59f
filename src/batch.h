/*
 * batch.h
 *		Many comparisons at once: up to facecompare.max_concurrency requests
 *		in flight, within facecompare.max_qps, each pair's failure its own.
 */
#ifndef BATCH_H
#define BATCH_H

#include "datatype/timestamp.h"
#include "errors.h"
#include "request.h"
#include "response.h"

extern int	fc_max_concurrency;

typedef enum FcPairState
{
	FC_PAIR_WAITING,			/* not sent yet, or waiting for a retry */
	FC_PAIR_RUNNING,			/* a request is in flight */
	FC_PAIR_DONE				/* verdict or error decided */
} FcPairState;

typedef struct FcPair
{
	/* in */
	FcImageArg	source;
	FcImageArg	target;
	char	   *merchant_biz_id;	/* given or generated */
	bool		invalid;		/* failed a local check: error already set */

	/* progress */
	FcPairState state;
	int			attempts;
	TimestampTz ready_at;		/* earliest time of the next attempt */
	TimestampTz first_sent_at;	/* start of the first attempt */
	TimestampTz decided_at;		/* verdict or error known */
	MemoryContext attempt_context;
	struct FcHttpRequest *request;	/* in flight, in attempt_context */

	/* out: a verdict, or an error */
	FcResponse	verdict;
	bool		ok;
	FcCapturedError error;
	bool		retryable;		/* the error may go away if tried later */
	bool		throttled;		/* the error is the service's rate limit */
} FcPair;

/* Define facecompare.max_concurrency; called once from _PG_init. */
extern void fc_batch_init(void);

/*
 * Check a pair's arguments before it is run: on a bad one, set invalid and
 * the error (a per-pair error, not raised).  Generates the MerchantBizId
 * when the pair has none.
 */
extern void fc_batch_check_pair(FcPair *pair);

/*
 * Decide every pair.  With raise_errors, the first pair that fails raises
 * its ERROR (a single call); without, each failure goes into its pair's
 * error and only cancel and the like raise.
 */
extern void fc_batch_run(FcPair *pairs, int npairs, bool raise_errors);

#endif							/* BATCH_H */
