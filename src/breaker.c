/*
 * breaker.c
 *		The circuit breaker of facecompare.breaker_cooldown.
 *
 * When the key is revoked or the account is in arrears, every request fails
 * the same way until a person acts, and each one still holds a QPS slot;
 * the queue would burn every request's attempts and fail them for good.  So
 * an account-level refusal (Forbidden.*, InvalidAccessKeyId.*,
 * InvalidSecurityToken.*, SignatureDoesNotMatch) opens the breaker: for
 * the cool-down, calls with those credentials fail at once with that
 * refusal, unsent, and the worker leaves its requests pending.  Then the
 * breaker is half-open: exactly one request, across all backends and the
 * worker, is let through as a probe.  Any answer but another such refusal
 * closes it; another refusal opens it for a new cool-down; a probe that
 * gets no answer (a timeout, a reset) lets the next caller probe.  A probe
 * whose backend dies is given up after facecompare.timeout and 5 s.
 *
 * A breaker belongs to one set of credentials, known by a 64-bit hash of
 * the AccessKey ID, its secret and the STS token: a refusal says that these
 * credentials are refused, not others.  A session or a reload that brings
 * another key, a new secret or a fresh token gets its own breaker (closed),
 * so an administrator's fix takes effect with the next call instead of
 * after the cool-down, and one tenant's revoked key does not stop another
 * key's calls.  Only the ID is shown; the hash is never.
 *
 * The breakers live in shared memory when the library is preloaded, else
 * in each backend.  A counter of open breakers lets the common case, none,
 * cost one atomic read and no lock.
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "fmgr.h"
#include "funcapi.h"
#include "port/atomics.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "breaker.h"
#include "codes.h"

#define NBREAKERS 8
#define BREAKER_TEXT 64
/* A probe is given up this long after its own timeout. */
#define PROBE_GRACE_MS 5000

typedef struct Breaker
{
	uint64		key;			/* hash of the credentials; 0: free */
	char		access_key_id[BREAKER_TEXT];
	char		code[BREAKER_TEXT]; /* the refusal that opened it */
	char		sqlstate[6];
	bool		open;
	TimestampTz opened_at;
	TimestampTz retry_at;		/* half-open from then on */
	TimestampTz probe_until;	/* a probe is out until then; 0: none */
	uint64		trips;
	uint64		probes;
} Breaker;

typedef struct FcBreakers
{
	pg_atomic_uint32 nopen;		/* written under mutex, read without */
	slock_t		mutex;
	Breaker		b[NBREAKERS];
} FcBreakers;

static FcBreakers *shared_breakers = NULL;
static FcBreakers *local_breakers = NULL;

static void
breakers_init(FcBreakers *s)
{
	memset(s, 0, sizeof(FcBreakers));
	pg_atomic_init_u32(&s->nopen, 0);
	SpinLockInit(&s->mutex);
}

Size
fc_breaker_shmem_size(void)
{
	return MAXALIGN(sizeof(FcBreakers));
}

void
fc_breaker_shmem_attach(void)
{
	bool		found;

	shared_breakers = ShmemInitStruct("facecompare breakers", sizeof(FcBreakers), &found);
	if (!found)
		breakers_init(shared_breakers);
}

static FcBreakers *
breakers(void)
{
	if (shared_breakers)
		return shared_breakers;
	if (local_breakers == NULL)
	{
		local_breakers = MemoryContextAlloc(TopMemoryContext, sizeof(FcBreakers));
		breakers_init(local_breakers);
	}
	return local_breakers;
}

bool
fc_breaker_trips_on(const char *code)
{
	return code != NULL &&
		(strncmp(code, "Forbidden.", 10) == 0 ||
		 strncmp(code, "InvalidAccessKeyId.", 19) == 0 ||
		 strncmp(code, "InvalidSecurityToken.", 21) == 0 ||
		 strcmp(code, "SignatureDoesNotMatch") == 0);
}

/* The credentials' breaker key; never 0. */
static uint64
credentials_key(const FcCredentials *creds)
{
	const char *parts[3] = {creds->access_key_id, creds->access_key_secret, creds->security_token};
	uint64		h = 0;

	for (int i = 0; i < 3; i++)
	{
		const char *s = parts[i] ? parts[i] : "";

		/* Each part's hash seeds the next, so "ab","c" and "a","bc" differ. */
		h = hash_bytes_extended((const unsigned char *) s, (int) strlen(s), h + i + 1);
	}
	return h ? h : 1;
}

/* The breaker of key (under the mutex), or NULL. */
static Breaker *
find(FcBreakers *s, uint64 key)
{
	for (int i = 0; i < NBREAKERS; i++)
		if (s->b[i].key == key)
			return &s->b[i];
	return NULL;
}

/* A slot for a new breaker: a free or closed one, else the oldest open. */
static Breaker *
take_slot(FcBreakers *s)
{
	Breaker    *oldest = &s->b[0];

	for (int i = 0; i < NBREAKERS; i++)
	{
		if (s->b[i].key == 0 || !s->b[i].open)
			return &s->b[i];
		if (s->b[i].opened_at < oldest->opened_at)
			oldest = &s->b[i];
	}
	return oldest;
}

static void
set_open(FcBreakers *s, Breaker *b, bool open)
{
	if (b->open != open)
	{
		if (open)
			pg_atomic_fetch_add_u32(&s->nopen, 1);
		else
			pg_atomic_fetch_sub_u32(&s->nopen, 1);
	}
	b->open = open;
}

/* The refusal of an open breaker, as the call's error. */
static void
refusal_error(const Breaker *b, TimestampTz now, FcError *error)
{
	const FcServiceCode *entry = fc_service_code(b->code, 0);
	char	   *opened = pstrdup(timestamptz_to_str(b->opened_at));

	fc_error(error, MAKE_SQLSTATE(b->sqlstate[0], b->sqlstate[1], b->sqlstate[2],
								  b->sqlstate[3], b->sqlstate[4]),
			 "%s", entry->message);
	error->code = pstrdup(b->code);
	fc_error_detail(error, "The service answered %s for AccessKey %s at %s, so facecompare's circuit breaker is open and this call was not sent.",
					b->code, b->access_key_id, opened);
	if (now < b->retry_at)
		fc_error_hint(error, "One probe request is sent at %s (facecompare.breaker_cooldown), and calls resume when it passes.%s%s",
					  timestamptz_to_str(b->retry_at),
					  entry->hint ? " " : "", entry->hint ? entry->hint : "");
	else
		fc_error_hint(error, "A probe request is under way; calls resume when it passes.%s%s",
					  entry->hint ? " " : "", entry->hint ? entry->hint : "");
	error->held = true;
}

bool
fc_breaker_allows(const FcCredentials *creds, bool probe, bool *is_probe,
				  TimestampTz *until, FcError *error)
{
	FcBreakers *s;
	Breaker    *b;
	Breaker		copy;
	uint64		key;
	TimestampTz now;

	if (is_probe)
		*is_probe = false;
	if (fc_breaker_cooldown_ms <= 0)
		return true;
	s = breakers();
	if (pg_atomic_read_u32(&s->nopen) == 0)
		return true;

	key = credentials_key(creds);
	now = GetCurrentTimestamp();
	SpinLockAcquire(&s->mutex);
	b = find(s, key);
	if (b == NULL || !b->open)
	{
		SpinLockRelease(&s->mutex);
		return true;
	}
	if (now >= b->retry_at && (b->probe_until == 0 || now >= b->probe_until))
	{
		/* Without probe set, *is_probe says the next request would be one. */
		if (probe)
		{
			b->probe_until = TimestampTzPlusMilliseconds(now, fc_timeout_ms + PROBE_GRACE_MS);
			b->probes++;
		}
		if (is_probe)
			*is_probe = true;
		SpinLockRelease(&s->mutex);
		return true;
	}
	copy = *b;
	SpinLockRelease(&s->mutex);

	*until = now < copy.retry_at ? copy.retry_at : copy.probe_until;
	if (error)
		refusal_error(&copy, now, error);
	return false;
}

void
fc_breaker_answered(const FcCredentials *creds, const FcError *error,
					bool answered, bool is_probe)
{
	FcBreakers *s;
	Breaker    *b;
	bool		trips = answered && error && fc_breaker_trips_on(error->code);
	uint64		key;
	TimestampTz now;

	if (fc_breaker_cooldown_ms <= 0)
		return;
	s = breakers();
	if (!trips && !is_probe)
		return;

	key = credentials_key(creds);
	now = GetCurrentTimestamp();
	SpinLockAcquire(&s->mutex);
	b = find(s, key);
	if (trips && (b == NULL || !b->open || is_probe))
	{
		/* Opened, or after a failed probe opened again for a new cool-down. */
		if (b == NULL)
		{
			b = take_slot(s);
			set_open(s, b, false);
			memset(b, 0, sizeof(Breaker));
			b->key = key;
		}
		strlcpy(b->access_key_id, creds->access_key_id, BREAKER_TEXT);
		strlcpy(b->code, error->code, BREAKER_TEXT);
		memcpy(b->sqlstate, fc_error_sqlstate(error), 5);
		b->sqlstate[5] = '\0';
		b->opened_at = now;
		b->retry_at = TimestampTzPlusMilliseconds(now, fc_breaker_cooldown_ms);
		b->probe_until = 0;
		b->trips++;
		set_open(s, b, true);
	}
	else if (b != NULL && is_probe && !trips)
	{
		/* The probe got an answer of another kind: the credentials work. */
		if (answered)
			set_open(s, b, false);
		b->probe_until = 0;
	}
	SpinLockRelease(&s->mutex);
}

int
fc_breakers_open(void)
{
	return (int) pg_atomic_read_u32(&breakers()->nopen);
}

/* One row per set of credentials that tripped a breaker. */
PG_FUNCTION_INFO_V1(facecompare_stats_breakers);
Datum
facecompare_stats_breakers(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FcBreakers *s = breakers();
	Breaker		copy[NBREAKERS];
	TimestampTz now = GetCurrentTimestamp();

	InitMaterializedSRF(fcinfo, 0);
	SpinLockAcquire(&s->mutex);
	memcpy(copy, s->b, sizeof(copy));
	SpinLockRelease(&s->mutex);
	for (int i = 0; i < NBREAKERS; i++)
	{
		Breaker    *b = &copy[i];
		Datum		values[9];
		bool		nulls[9] = {0};
		const char *state;

		if (b->key == 0)
			continue;
		state = !b->open ? "closed" : now < b->retry_at ? "open" : "half-open";
		values[0] = CStringGetTextDatum(b->access_key_id);
		values[1] = CStringGetTextDatum(state);
		values[2] = CStringGetTextDatum(b->code);
		values[3] = CStringGetTextDatum(b->sqlstate);
		values[4] = TimestampTzGetDatum(b->opened_at);
		values[5] = TimestampTzGetDatum(b->retry_at);
		nulls[5] = !b->open;
		values[6] = BoolGetDatum(b->open && b->probe_until != 0 && now < b->probe_until);
		values[7] = Int64GetDatum((int64) b->trips);
		values[8] = Int64GetDatum((int64) b->probes);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
