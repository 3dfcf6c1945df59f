/*
 * admission.h
 *		Whether a request may be sent at all: the circuit breaker
 *		(breaker.c), then the spend cap (spendcap.c).  The engine asks
 *		before it takes a QPS slot and again as it sends.
 */
#ifndef ADMISSION_H
#define ADMISSION_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "fcerror.h"
#include "settings.h"

/*
 * May a request go with creds now?  No: false, with the error (held) in
 * *error.  take: it is being sent, so it is counted against the cap and may
 * become the breaker's probe (*is_probe).
 */
extern bool fc_admit(const FcCredentials *creds, bool take, bool *is_probe, FcError *error);

/*
 * How many new requests may start now, for the worker's claims: 0 (with
 * *until, when to look again), 1 while the breaker waits for its probe, the
 * rest of the day's cap, or INT_MAX.
 */
extern int	fc_admit_room(const FcCredentials *creds, TimestampTz *until);

/*
 * Is this error the account's, not the request's: held back unsent, or
 * refused for the account while the breaker is on?  The worker then puts
 * the request back as it was instead of spending its attempts.
 */
extern bool fc_admit_deferred(const FcError *error);

#endif							/* ADMISSION_H */
