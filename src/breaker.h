/*
 * breaker.h
 *		The circuit breaker: after an account-level refusal (a revoked key,
 *		an account in arrears) no request is sent with those credentials
 *		for facecompare.breaker_cooldown, then one probe is.
 */
#ifndef BREAKER_H
#define BREAKER_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "fcerror.h"
#include "settings.h"

/* Shared memory: its size, and attaching it (under AddinShmemInitLock). */
extern Size fc_breaker_shmem_size(void);
extern void fc_breaker_shmem_attach(void);

/* Does this Code say the account or its key is refused, whatever the request? */
extern bool fc_breaker_trips_on(const char *code);

/*
 * May a request be sent with creds now?  No: false, with the last refusal
 * in *error (held: nothing was sent; none when error is NULL), and *until the time the breaker lets
 * a probe through.  With probe set, a caller the half-open breaker lets
 * through becomes its one probe (*is_probe); without it the question is
 * only asked (nothing taken), and *is_probe says whether the next request
 * would be the probe.
 */
extern bool fc_breaker_allows(const FcCredentials *creds, bool probe, bool *is_probe,
							  TimestampTz *until, FcError *error);

/*
 * An answer to a request sent with creds: an account-level refusal opens
 * the breaker (error set, its Code), any other answer closes it (error
 * NULL, or another Code); a probe that got no answer lets another go.
 */
extern void fc_breaker_answered(const FcCredentials *creds, const FcError *error,
								bool answered, bool is_probe);

/* Breakers open now, for facecompare.stats. */
extern int	fc_breakers_open(void);

#endif							/* BREAKER_H */
