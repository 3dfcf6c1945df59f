/*
 * sign.c
 *		The V3 request signature (ACS3-HMAC-SHA256).  See
 *		shared/signature-v3.md; the unit test checks the SDK's own vectors.
 */
#include "sign.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

static const char hexdigits_upper[] = "0123456789ABCDEF";
static const char hexdigits_lower[] = "0123456789abcdef";

static inline bool
is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
}

void
fc_percent_encode(FcStrBuf *out, const char *s, size_t len)
{
	char	   *p;

	/* Worst case every byte becomes %XX: reserve once, then write directly. */
	fc_strbuf_reserve(out, len * 3);
	p = out->data + out->len;
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (is_unreserved(c))
			*p++ = (char) c;
		else
		{
			*p++ = '%';
			*p++ = hexdigits_upper[c >> 4];
			*p++ = hexdigits_upper[c & 0x0F];
		}
	}
	*p = '\0';
	out->len = (size_t) (p - out->data);
}

static int
param_name_cmp(const void *a, const void *b)
{
	const FcParam *pa = a;
	const FcParam *pb = b;
	int			cmp = strcmp(pa->name, pb->name);

	/* Byte order on names; tie-break on the address keeps the sort stable. */
	if (cmp != 0)
		return cmp;
	return (pa < pb) ? -1 : (pa > pb);
}

void
fc_sort_params(FcParam *params, int n)
{
	if (n > 1)
		qsort(params, (size_t) n, sizeof(FcParam), param_name_cmp);
}

void
fc_canonical_query(FcStrBuf *out, const FcParam *sorted, int n)
{
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			fc_strbuf_putc(out, '&');
		fc_percent_encode(out, sorted[i].name, strlen(sorted[i].name));
		fc_strbuf_putc(out, '=');
		if (sorted[i].value)
			fc_percent_encode(out, sorted[i].value, strlen(sorted[i].value));
	}
}

/* Append value without leading and trailing blanks. */
static void
append_trimmed(FcStrBuf *out, const char *value)
{
	const char *end;

	if (value == NULL)
		return;
	while (*value == ' ' || *value == '\t')
		value++;
	end = value + strlen(value);
	while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	fc_strbuf_append(out, value, (size_t) (end - value));
}

void
fc_signed_header_list(FcStrBuf *out, const FcParam *headers, int n)
{
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			fc_strbuf_putc(out, ';');
		fc_strbuf_puts(out, headers[i].name);
	}
}

void
fc_canonical_request(FcStrBuf *out, const char *method, const char *path,
					 const char *canonical_query, const FcParam *headers, int n,
					 const char *content_sha256_hex)
{
	fc_strbuf_puts(out, method);
	fc_strbuf_putc(out, '\n');
	fc_strbuf_puts(out, path);
	fc_strbuf_putc(out, '\n');
	fc_strbuf_puts(out, canonical_query);
	fc_strbuf_putc(out, '\n');
	for (int i = 0; i < n; i++)
	{
		fc_strbuf_puts(out, headers[i].name);
		fc_strbuf_putc(out, ':');
		append_trimmed(out, headers[i].value);
		fc_strbuf_putc(out, '\n');
	}
	fc_strbuf_putc(out, '\n');
	fc_signed_header_list(out, headers, n);
	fc_strbuf_putc(out, '\n');
	fc_strbuf_puts(out, content_sha256_hex);
}

static void
to_hex(const unsigned char *bytes, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
	{
		out[2 * i] = hexdigits_lower[bytes[i] >> 4];
		out[2 * i + 1] = hexdigits_lower[bytes[i] & 0x0F];
	}
	out[2 * len] = '\0';
}

void
fc_sha256_hex(const void *data, size_t len, char *out)
{
	unsigned char digest[SHA256_DIGEST_LENGTH];

	SHA256(data, len, digest);
	to_hex(digest, sizeof(digest), out);
}

void
fc_hmac_sha256_hex(const char *key, size_t keylen, const void *msg,
				   size_t msglen, char *out)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digestlen = 0;

	HMAC(EVP_sha256(), key, (int) keylen, msg, msglen, digest, &digestlen);
	to_hex(digest, digestlen, out);
	OPENSSL_cleanse(digest, sizeof(digest));
}

void
fc_string_to_sign(FcStrBuf *out, const char *canonical_request, size_t len)
{
	char		hash[FC_HEX_SHA256_LEN + 1];

	fc_sha256_hex(canonical_request, len, hash);
	fc_strbuf_puts(out, FC_SIGN_ALGORITHM "\n");
	fc_strbuf_puts(out, hash);
}

bool
fc_signature_equal(const char *a, const char *b)
{
	size_t		len = strlen(a);

	if (len != strlen(b))
		return false;
	return CRYPTO_memcmp(a, b, len) == 0;
}
