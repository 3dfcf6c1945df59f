/*
 * admission.c
 *		Whether a request may be sent: the breaker first (an open one sends
 *		nothing, so it spends nothing), then the day's spend cap.
 */
#include "postgres.h"

#include <limits.h>

#include "admission.h"
#include "breaker.h"
#include "spendcap.h"
#include "stats.h"

bool
fc_admit(const FcCredentials *creds, bool take, bool *is_probe, FcError *error)
{
	TimestampTz until;
	bool		probe = false;

	*is_probe = false;
	if (!fc_breaker_allows(creds, take, &probe, &until, error))
	{
		fc_stats_refused(true);
		return false;
	}
	if (!fc_spendcap_allows(take, &until, error))
	{
		/* The probe it was to be is not sent: let another go. */
		if (take && probe)
			fc_breaker_answered(creds, NULL, false, true);
		fc_stats_refused(false);
		return false;
	}
	*is_probe = take && probe;
	return true;
}

bool
fc_admit_deferred(const FcError *error)
{
	return error->held ||
		(fc_breaker_cooldown_ms > 0 && fc_breaker_trips_on(error->code));
}

int
fc_admit_room(const FcCredentials *creds, TimestampTz *until)
{
	FcSpendState spend;
	bool		probe_next = false;

	/* No error text: the worker asks on every turn of its loop. */
	if (!fc_breaker_allows(creds, false, &probe_next, until, NULL) ||
		!fc_spendcap_allows(false, until, NULL))
		return 0;
	if (probe_next)
		return 1;
	if (fc_max_calls_per_day <= 0)
		return INT_MAX;
	fc_spendcap_state(&spend);
	return (int) Max(0, Min((int64) INT_MAX, fc_max_calls_per_day - spend.calls_today));
}
