/*
 * sign.h
 *		The V3 request signature (ACS3-HMAC-SHA256), as the official SDK core
 *		computes it and the API gateway checks it.  Pure C plus OpenSSL: the
 *		extension signs with it and the emulator verifies with it.
 */
#ifndef SIGN_H
#define SIGN_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

#define FC_SIGN_ALGORITHM "ACS3-HMAC-SHA256"
#define FC_HEX_SHA256_LEN 64

/* A signed parameter, name and value: a query parameter or a request header. */
typedef struct FcParam
{
	const char *name;
	const char *value;
} FcParam;

/* Append s percent-encoded per RFC 3986 (unreserved kept, else %XX upper). */
extern void fc_percent_encode(FcStrBuf *out, const char *s, size_t len);

/* Sort params by name in byte order (stable for equal names). */
extern void fc_sort_params(FcParam *params, int n);

/*
 * Append the canonical query string: params must already be sorted; each
 * becomes name=encoded(value), joined by '&'.  Names are encoded too.
 */
extern void fc_canonical_query(FcStrBuf *out, const FcParam *sorted, int n);

/*
 * Append the canonical request.  headers are the signed headers, with
 * lowercase names, sorted by name; their values are trimmed here.
 */
extern void fc_canonical_request(FcStrBuf *out, const char *method,
								 const char *path, const char *canonical_query,
								 const FcParam *headers, int n,
								 const char *content_sha256_hex);

/* Append the signed header names joined by ';' (headers as above). */
extern void fc_signed_header_list(FcStrBuf *out, const FcParam *headers, int n);

/* Append "ACS3-HMAC-SHA256\n" + hex(SHA256(canonical_request)). */
extern void fc_string_to_sign(FcStrBuf *out, const char *canonical_request,
							  size_t len);

/* Lowercase hex of SHA-256 / HMAC-SHA256; out holds 65 bytes. */
extern void fc_sha256_hex(const void *data, size_t len, char *out);
extern void fc_hmac_sha256_hex(const char *key, size_t keylen,
							   const void *msg, size_t msglen, char *out);

/* Constant-time comparison of two equal-length signatures. */
extern bool fc_signature_equal(const char *a, const char *b);

#endif							/* SIGN_H */
