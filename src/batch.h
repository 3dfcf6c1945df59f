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

typedef struct FcPair
{
	/* in */
	FcImageArg	source;
	FcImageArg	target;
	char	   *merchant_biz_id;	/* given or generated */
	bool		invalid;		/* failed a local check: error already set */

	/* progress */
	int			attempts;
	TimestampTz ready_at;		/* earliest time of the next attempt */
	TimestampTz first_sent_at;	/* start of the first attempt */
	TimestampTz deadline;		/* first_sent_at + facecompare.timeout */
	TimestampTz decided_at;		/* verdict or error known */
	MemoryContext attempt_context;
	struct FcHttpRequest *request;	/* in flight, in attempt_context */

	/* out: a verdict, or an error, in context (NULL: the batch's) */
	MemoryContext context;
	FcResponse	verdict;
	bool		ok;
	FcError		error;			/* sqlerrcode 0: none */
} FcPair;

/*
 * Check a pair's arguments before it is run (fc_check_comparison): on a bad
 * one, set invalid and the error.  Generates the MerchantBizId when the
 * pair has none.
 */
extern void fc_batch_check_pair(FcPair *pair);

/*
 * Prepare a checked pair's pictures as their mode says (photo_pg.c), once:
 * on a broken rule, set invalid and the error.  fc_batch_run does it for
 * each pair just before adding it, so preparing overlaps the requests in
 * flight; the worker does it at claim.
 */
extern void fc_batch_prepare_pair(FcPair *pair);

/*
 * The pause before attempt + 1: exponential in attempt, with jitter; a
 * second longer after a throttled answer.  The worker uses it too, to put a
 * request back for later.
 */
extern long fc_backoff_delay_ms(int attempt, bool throttled);

/*
 * Decide every pair: a verdict (ok), or the error in its pair, which the
 * caller raises or records.  Only cancel and the like, and an error that is
 * not one pair's own (always_raise: out of memory, no socket), are raised.
 */
extern void fc_batch_run(FcPair *pairs, int npairs);

/*
 * A batch driven a step at a time, for callers that keep adding pairs (the
 * queue's worker).  fc_batch_create reads the credentials and endpoint
 * into the current memory context, which holds the batch (NULL, with the
 * reason in *error, when none are set); fc_batch_reconfigure reads them
 * again after a reload.
 * fc_batch_add takes a checked, valid pair, which must stay put until
 * decided.  fc_batch_step sends what may be sent, waits at most max_wait_ms
 * and returns as soon as any pair is decided, putting up to
 * FC_MAX_CONCURRENCY of them in decided[].  Whoever steps a batch calls
 * fc_batch_abort in a PG_FINALLY, so an ERROR leaves no transfer behind.
 */
typedef struct FcBatch FcBatch;

extern FcBatch *fc_batch_create(FcError *error);
extern bool fc_batch_reconfigure(FcBatch *batch, FcError *error);
extern void fc_batch_add(FcBatch *batch, FcPair *pair);
extern int	fc_batch_undecided(const FcBatch *batch);
extern int	fc_batch_step(FcBatch *batch, long max_wait_ms, FcPair **decided);
extern void fc_batch_abort(FcBatch *batch);

#endif							/* BATCH_H */
