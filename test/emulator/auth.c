/*
 * auth.c
 *		The API gateway's checks, in its order: a well-formed V3
 *		Authorization, the right action and version, a fresh date, a known and
 *		active key, the body hash, the signature recomputed from the request as
 *		received, a nonce never seen before, and a valid STS token.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <microhttpd.h>

#include "emulator.h"
#include "sign.h"
#include "strbuf.h"

#define MAX_SKEW_SECONDS (15 * 60)
#define MAX_SIGNED_HEADERS 32
/*
 * A date may be up to 15 minutes ahead and still be accepted 15 minutes
 * behind: a nonce must be remembered for both spans, or a request signed
 * ahead could be replayed once its nonce was forgotten.
 */
#define NONCE_TTL_SECONDS (2 * MAX_SKEW_SECONDS + 60)
#define NONCE_CAPACITY 65536

/* Nonces seen lately: an open-addressing table, pruned by age. */
typedef struct NonceSlot
{
	char	   *nonce;
	time_t		seen;
} NonceSlot;

static NonceSlot nonces[NONCE_CAPACITY];
static int	nonce_count;
static pthread_mutex_t nonce_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t
hash_text(const char *s)
{
	uint64_t	h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * 1099511628211ULL;
	return h;
}

/* Drop expired nonces (rebuilding the table keeps probing simple). */
static void
prune_nonces(time_t now)
{
	static NonceSlot kept[NONCE_CAPACITY];
	int			nkept = 0;

	for (int i = 0; i < NONCE_CAPACITY; i++)
	{
		if (nonces[i].nonce == NULL)
			continue;
		if (now - nonces[i].seen > NONCE_TTL_SECONDS)
			free(nonces[i].nonce);
		else
			kept[nkept++] = nonces[i];
		nonces[i].nonce = NULL;
	}
	nonce_count = 0;
	for (int i = 0; i < nkept; i++)
	{
		uint64_t	slot = hash_text(kept[i].nonce) % NONCE_CAPACITY;

		while (nonces[slot].nonce)
			slot = (slot + 1) % NONCE_CAPACITY;
		nonces[slot] = kept[i];
		nonce_count++;
	}
}

/* Remember nonce; false if it was already seen within the TTL. */
static bool
nonce_is_new(const char *nonce)
{
	time_t		now = time(NULL);
	uint64_t	slot;
	bool		fresh = true;

	pthread_mutex_lock(&nonce_lock);
	/*
	 * Full: forget the expired nonces, then, under a flood of fresh ones, the
	 * oldest eighth of the TTL at a time; the last step forgets all.  So the
	 * table never fills, and its probing always ends.
	 */
	for (int shift = 0; nonce_count > NONCE_CAPACITY * 3 / 4 &&
		 shift <= NONCE_TTL_SECONDS + NONCE_TTL_SECONDS / 8; shift += NONCE_TTL_SECONDS / 8)
		prune_nonces(now + shift);
	slot = hash_text(nonce) % NONCE_CAPACITY;
	while (nonces[slot].nonce)
	{
		if (strcmp(nonces[slot].nonce, nonce) == 0)
		{
			fresh = now - nonces[slot].seen > NONCE_TTL_SECONDS;
			nonces[slot].seen = now;
			break;
		}
		slot = (slot + 1) % NONCE_CAPACITY;
	}
	if (nonces[slot].nonce == NULL)
	{
		nonces[slot].nonce = strdup(nonce);
		nonces[slot].seen = now;
		nonce_count++;
	}
	pthread_mutex_unlock(&nonce_lock);
	return fresh;
}

static const char *
header(Request *req, const char *name)
{
	return MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, name);
}

/* The parts of "ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..". */
typedef struct Authorization
{
	char		credential[256];
	char		signed_headers[1024];
	char		signature[80];
} Authorization;

static bool
copy_field(const char *auth, const char *name, char *out, size_t outlen)
{
	const char *at = strstr(auth, name);
	size_t		len;

	if (at == NULL)
		return false;
	at += strlen(name);
	len = strcspn(at, ", ");
	if (len == 0 || len >= outlen)
		return false;
	memcpy(out, at, len);
	out[len] = '\0';
	return true;
}

static bool
parse_authorization(const char *value, Authorization *auth)
{
	if (value == NULL || strncmp(value, FC_SIGN_ALGORITHM " ", strlen(FC_SIGN_ALGORITHM) + 1) != 0)
		return false;
	return copy_field(value, "Credential=", auth->credential, sizeof(auth->credential)) &&
		copy_field(value, "SignedHeaders=", auth->signed_headers, sizeof(auth->signed_headers)) &&
		copy_field(value, "Signature=", auth->signature, sizeof(auth->signature));
}

static bool
parse_date(const char *value, time_t *out)
{
	struct tm	tm = {0};
	const char *end;

	if (value == NULL)
		return false;
	end = strptime(value, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		return false;
	*out = timegm(&tm);
	return true;
}

static const AccessKey *
find_key(const char *id)
{
	for (int i = 0; i < config.nkeys; i++)
		if (strcmp(config.keys[i].id, id) == 0)
			return &config.keys[i];
	return NULL;
}

/* Collect the decoded query arguments. */
typedef struct QueryArgs
{
	FcParam		params[64];
	int			n;
} QueryArgs;

static enum MHD_Result
collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	QueryArgs  *args = cls;

	(void) kind;

	if (args->n < 64)
		args->params[args->n++] = (FcParam) {key, value ? value : ""};
	return MHD_YES;
}

/* Recompute the signature of the request as received. */
static bool
signature_matches(Request *req, const Authorization *auth, const AccessKey *key,
				  const char *body_hash, FcStrBuf *string_to_sign)
{
	QueryArgs	args = {.n = 0};
	FcParam		headers[MAX_SIGNED_HEADERS];
	int			nheaders = 0;
	char		names[sizeof(auth->signed_headers)];
	char	   *saveptr = NULL;
	FcStrBuf	query,
				creq;
	char		expected[FC_HEX_SHA256_LEN + 1];

	strcpy(names, auth->signed_headers);
	for (char *name = strtok_r(names, ";", &saveptr); name; name = strtok_r(NULL, ";", &saveptr))
	{
		if (nheaders == MAX_SIGNED_HEADERS)
			return false;
		headers[nheaders].name = name;
		headers[nheaders].value = header(req, name);
		if (headers[nheaders].value == NULL)
			headers[nheaders].value = "";
		nheaders++;
	}

	MHD_get_connection_values(req->connection, MHD_GET_ARGUMENT_KIND, collect_arg, &args);
	fc_sort_params(args.params, args.n);
	fc_strbuf_init(&query);
	fc_strbuf_init(&creq);
	fc_canonical_query(&query, args.params, args.n);
	fc_canonical_request(&creq, "POST", "/", query.data, headers, nheaders, body_hash);
	fc_string_to_sign(string_to_sign, creq.data, creq.len);
	fc_hmac_sha256_hex(key->secret, strlen(key->secret), string_to_sign->data,
					   string_to_sign->len, expected);
	fc_strbuf_free(&query);
	fc_strbuf_free(&creq);
	return fc_signature_equal(expected, auth->signature);
}

/* Is name (any case) among the ';'-separated signed headers? */
static bool
is_signed(const char *list, const char *name)
{
	size_t		len = strlen(name);

	for (const char *p = list; p && *p; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL)
		if (strncasecmp(p, name, len) == 0 && (p[len] == ';' || p[len] == '\0'))
			return true;
	return false;
}

/* The first x-acs-* header sent but left out of SignedHeaders. */
typedef struct UnsignedSearch
{
	const char *signed_headers;
	const char *found;
} UnsignedSearch;

static enum MHD_Result
find_unsigned(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	UnsignedSearch *search = cls;

	(void) kind;
	(void) value;
	if (strncasecmp(key, "x-acs-", 6) == 0 && !is_signed(search->signed_headers, key))
	{
		search->found = key;
		return MHD_NO;
	}
	return MHD_YES;
}

static bool
token_listed(const char *const *tokens, int n, const char *token)
{
	for (int i = 0; i < n; i++)
		if (strcmp(tokens[i], token) == 0)
			return true;
	return false;
}

bool
check_gateway(Request *req, Answer *answer, const AccessKey **keyp)
{
	static const char *const required[] = {"host", "x-acs-action", "x-acs-version",
	"x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"};
	Authorization auth;
	const char *action = header(req, "x-acs-action");
	const char *version = header(req, "x-acs-version");
	const char *nonce = header(req, "x-acs-signature-nonce");
	const char *claimed_hash = header(req, "x-acs-content-sha256");
	const char *token = header(req, "x-acs-security-token");
	const AccessKey *key;
	char		body_hash[FC_HEX_SHA256_LEN + 1];
	FcStrBuf	sts;
	time_t		date;
	char		message[512];

	if (!parse_authorization(header(req, "authorization"), &auth))
	{
		answer_gateway_error(answer, "IncompleteSignature",
							 "The request signature does not conform to Aliyun standards: expected \"ACS3-HMAC-SHA256 Credential=...,SignedHeaders=...,Signature=...\".");
		return false;
	}
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!is_signed(auth.signed_headers, required[i]) || header(req, required[i]) == NULL)
		{
			snprintf(message, sizeof(message),
					 "The request signature does not conform to Aliyun standards: header %s must be sent and signed.",
					 required[i]);
			answer_gateway_error(answer, "IncompleteSignature", message);
			return false;
		}
	{
		/* The gateway signs every x-acs-* header: one left out could be forged. */
		UnsignedSearch search = {auth.signed_headers, NULL};

		MHD_get_connection_values(req->connection, MHD_HEADER_KIND, find_unsigned, &search);
		if (search.found)
		{
			snprintf(message, sizeof(message),
					 "The request signature does not conform to Aliyun standards: header %.64s must be signed.",
					 search.found);
			answer_gateway_error(answer, "IncompleteSignature", message);
			return false;
		}
	}
	if (strcmp(action, "FaceCompare") != 0 || strcmp(version, "2022-08-09") != 0)
	{
		snprintf(message, sizeof(message), "Specified api is not found, please check your url and method: action %.64s, version %.32s.",
				 action, version);
		answer_gateway_error(answer, "InvalidApi.NotFound", message);
		return false;
	}
	if (!parse_date(header(req, "x-acs-date"), &date))
	{
		answer_gateway_error(answer, "InvalidTimeStamp.Format",
							 "Specified time stamp or date value is not well formatted: expected YYYY-MM-DDTHH:MM:SSZ.");
		return false;
	}
	if (llabs((long long) (time(NULL) - date)) > MAX_SKEW_SECONDS)
	{
		answer_gateway_error(answer, "InvalidTimeStamp.Expired",
							 "Specified time stamp or date value is expired: it is more than 15 minutes from the server's clock.");
		return false;
	}
	key = find_key(auth.credential);
	if (key == NULL)
	{
		answer_gateway_error(answer, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
		return false;
	}
	if (key->state == KEY_INACTIVE)
	{
		answer_gateway_error(answer, "InvalidAccessKeyId.Inactive", "Specified access key is disabled.");
		return false;
	}

	fc_sha256_hex(req->body ? req->body : "", req->body_len, body_hash);
	if (strcmp(body_hash, claimed_hash) != 0)
	{
		answer_gateway_error(answer, "SignatureDoesNotMatch",
							 "Specified signature is not matched with our calculation: x-acs-content-sha256 is not the SHA-256 of the body received.");
		return false;
	}
	fc_strbuf_init(&sts);
	if (!signature_matches(req, &auth, key, body_hash, &sts))
	{
		char	   *text;
		size_t		len = strlen(sts.data) + 128;

		text = malloc(len);
		snprintf(text, len, "Specified signature is not matched with our calculation. server string to sign is:%s", sts.data);
		answer_gateway_error(answer, "SignatureDoesNotMatch", text);
		free(text);
		fc_strbuf_free(&sts);
		return false;
	}
	fc_strbuf_free(&sts);

	if (!nonce_is_new(nonce))
	{
		answer_gateway_error(answer, "SignatureNonceUsed", "Specified signature nonce was used already.");
		return false;
	}
	if (token != NULL)
	{
		const char *token_key = header(req, "x-acs-accesskey-id");

		if (token_key != NULL && strcmp(token_key, key->id) == 0 &&
			token_listed(config.expired_tokens, config.nexpired_tokens, token))
		{
			answer_gateway_error(answer, "InvalidSecurityToken.Expired",
								 "Specified SecurityToken is expired.");
			return false;
		}
		if (token_key == NULL || strcmp(token_key, key->id) != 0 ||
			!token_listed(config.tokens, config.ntokens, token))
		{
			answer_gateway_error(answer, "InvalidSecurityToken.Malformed",
								 "Specified SecurityToken is malformed, or does not belong to the access key.");
			return false;
		}
	}
	*keyp = key;
	return true;
}
