/*
 * test_sign.c
 *		The V3 signature against the vectors the official SDK core computed
 *		(shared/signature-v3.md): if these pass, the service accepts our calls.
 */
#include <stdlib.h>
#include <string.h>

#include "formenc.h"
#include "sign.h"
#include "tap.h"

#define HOST "cloudauth-intl.ap-southeast-1.aliyuncs.com"
#define BODY "SourceFacePicture=aGVsbG8%3D&TargetFacePicture=d29ybGQ%2B%2Fw%3D%3D"

/* Sign with the common inputs of both vectors; sts_token may be NULL. */
static void
sign_vector(const char *date, const char *nonce, const char *sts_token,
			FcStrBuf *signed_headers, FcStrBuf *sts, char *signature)
{
	FcParam		query[] = {
		{"SourceFacePictureUrl", "https://example.com/a b*~.jpg"},
		{"MerchantBizId", "abc123"},
	};
	char		body_hash[FC_HEX_SHA256_LEN + 1];
	FcParam		headers[9];
	int			n = 0;
	FcStrBuf	cq,
				creq;

	fc_sha256_hex(BODY, strlen(BODY), body_hash);
	fc_strbuf_init(&cq);
	fc_strbuf_init(&creq);
	fc_sort_params(query, 2);
	fc_canonical_query(&cq, query, 2);

	headers[n++] = (FcParam) {"content-type", "application/x-www-form-urlencoded"};
	headers[n++] = (FcParam) {"host", HOST};
	if (sts_token)
		headers[n++] = (FcParam) {"x-acs-accesskey-id", "testid"};
	headers[n++] = (FcParam) {"x-acs-action", "FaceCompare"};
	headers[n++] = (FcParam) {"x-acs-content-sha256", body_hash};
	headers[n++] = (FcParam) {"x-acs-date", date};
	if (sts_token)
		headers[n++] = (FcParam) {"x-acs-security-token", sts_token};
	headers[n++] = (FcParam) {"x-acs-signature-nonce", nonce};
	headers[n++] = (FcParam) {"x-acs-version", "2022-08-09"};
	fc_sort_params(headers, n);

	fc_canonical_request(&creq, "POST", "/", cq.data, headers, n, body_hash);
	fc_string_to_sign(sts, creq.data, creq.len);
	fc_signed_header_list(signed_headers, headers, n);
	fc_hmac_sha256_hex("testsecret", 10, sts->data, sts->len, signature);
	fc_strbuf_free(&cq);
	fc_strbuf_free(&creq);
}

/* Plain base64 of data, as the reference for the form encoder. */
static size_t
plain_base64(char *text, const unsigned char *data, size_t len)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t		n = 0;

	for (size_t i = 0; i < len; i += 3)
	{
		unsigned	v = data[i] << 16 | (i + 1 < len ? data[i + 1] << 8 : 0) | (i + 2 < len ? data[i + 2] : 0);

		text[n++] = b64[v >> 18 & 63];
		text[n++] = b64[v >> 12 & 63];
		text[n++] = i + 1 < len ? b64[v >> 6 & 63] : '=';
		text[n++] = i + 2 < len ? b64[v & 63] : '=';
	}
	text[n] = '\0';
	return n;
}

/* Does the form encoder give percent(base64(data))? */
static bool
form_base64_right(const unsigned char *data, size_t len, char *text)
{
	size_t		n = plain_base64(text, data, len);
	FcStrBuf	one,
				two;
	bool		same;

	fc_strbuf_init(&one);
	fc_strbuf_init(&two);
	fc_strbuf_puts(&one, "x=");	/* not at the start of the buffer */
	fc_strbuf_puts(&two, "x=");
	fc_append_form_base64(&one, data, len);
	fc_percent_encode(&two, text, n);
	same = one.len == two.len && memcmp(one.data, two.data, one.len + 1) == 0;
	fc_strbuf_free(&one);
	fc_strbuf_free(&two);
	return same;
}

/*
 * The form encoder (table or AVX-512, as path says): every length up to
 * 299 and some long inputs of random bytes, then every value of each
 * 12-bit half of a 3-byte group.
 */
static void
check_form_base64(const char *path)
{
	enum
	{
		LONGEST = 20000,
		NGROUPS = 4096
	};
	static unsigned char data[LONGEST > NGROUPS * 3 ? LONGEST : NGROUPS * 3];
	static char text[sizeof(data) / 3 * 4 + 8];
	unsigned	seed = 12345;
	int			mismatches = 0;
	char		name[160];

	for (size_t len = 0; len < 300; len++)
	{
		for (size_t i = 0; i < len; i++)
			data[i] = (unsigned char) ((seed = seed * 1103515245 + 12345) >> 16);
		mismatches += !form_base64_right(data, len, text);
	}
	for (size_t len = 4800; len <= LONGEST; len += 3041)
	{
		for (size_t i = 0; i < len; i++)
			data[i] = (unsigned char) ((seed = seed * 1103515245 + 12345) >> 16);
		mismatches += !form_base64_right(data, len, text);
	}
	snprintf(name, sizeof(name), "%s: form base64 equals percent(base64), lengths 0..299 and up to %d", path, LONGEST);
	ok(mismatches == 0, name);

	for (unsigned g = 0; g < NGROUPS; g++)
	{
		unsigned	v = g << 12 | (NGROUPS - 1 - g);

		data[3 * g] = (unsigned char) (v >> 16);
		data[3 * g + 1] = (unsigned char) (v >> 8);
		data[3 * g + 2] = (unsigned char) v;
	}
	snprintf(name, sizeof(name), "%s: form base64 is right for every value of each 12-bit half", path);
	ok(form_base64_right(data, NGROUPS * 3, text), name);
}

int
main(void)
{
	FcStrBuf	buf,
				sh,
				sts;
	char		hex[FC_HEX_SHA256_LEN + 1];
	char		sig[FC_HEX_SHA256_LEN + 1];
	FcParam		q[] = {{"b", "2"}, {"a", "1"}, {"B", "0"}};

	/* RFC 3986: unreserved kept, everything else %XX upper-case. */
	fc_strbuf_init(&buf);
	fc_percent_encode(&buf, "a b*~.-_/+=%\xc3\xa9", 14);
	is_str(buf.data, "a%20b%2A~.-_%2F%2B%3D%25%C3%A9", "percent-encoding follows RFC 3986");

	/* Sorting is by byte order: upper case before lower case. */
	fc_strbuf_reset(&buf);
	fc_sort_params(q, 3);
	fc_canonical_query(&buf, q, 3);
	is_str(buf.data, "B=0&a=1&b=2", "canonical query sorts names in byte order");

	/* Body hash of the vectors' body, and of the empty body. */
	fc_sha256_hex(BODY, strlen(BODY), hex);
	is_str(hex, "1c15b8b67b8e58d566492cb168c4f58f5b8c5791eb1c4d6ec8eb4ba389317f91",
		   "x-acs-content-sha256 of the vectors' body");
	fc_sha256_hex("", 0, hex);
	is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		   "x-acs-content-sha256 of an empty body");

	fc_strbuf_init(&sh);
	fc_strbuf_init(&sts);
	sign_vector("2025-01-02T03:04:05Z", "0123456789abcdef0123456789abcdef", NULL,
				&sh, &sts, sig);
	is_str(sh.data, "content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version",
		   "vector A: signed headers");
	is_str(sts.data, "ACS3-HMAC-SHA256\n90f1ebfb43d661cc5ec18b542847775785c2d863fc8f1e4575ac829ad185f826",
		   "vector A: string to sign");
	is_str(sig, "caa265e69aaf365baf21e3a0380b0ba10f2fa548328912309094700123b29d0e",
		   "vector A: signature");

	fc_strbuf_reset(&sh);
	fc_strbuf_reset(&sts);
	sign_vector("2025-06-30T23:59:59Z", "nonce-B-42", "testststoken", &sh, &sts, sig);
	is_str(sh.data, "content-type;host;x-acs-accesskey-id;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version",
		   "vector B (STS): signed headers");
	is_str(sts.data, "ACS3-HMAC-SHA256\naaeebc3f22992543563258b21fdaf905afe64bc11364e1239852f4fa1864cdb7",
		   "vector B (STS): string to sign");
	is_str(sig, "bdaaf9ddbfe9a3c0c587e9b6a7d9f30716a494e527899d1218daa1ebd8ab170a",
		   "vector B (STS): signature");

	/* The form encoder, by table and (where the CPU allows) by AVX-512. */
	fc_formenc_use_avx512 = false;
	check_form_base64("table");
	if (fc_formenc_avx512_supported())
	{
		fc_formenc_use_avx512 = true;
		check_form_base64("AVX-512");
	}
	else
		tap_skip(2, "this CPU has no AVX-512 VBMI2");

	ok(fc_signature_equal("abc", "abc"), "equal signatures compare equal");
	ok(!fc_signature_equal("abc", "abd") && !fc_signature_equal("abc", "ab"),
	   "different signatures compare unequal");

	fc_strbuf_free(&buf);
	fc_strbuf_free(&sh);
	fc_strbuf_free(&sts);
	return tap_done();
}
