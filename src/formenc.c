/*
 * formenc.c
 *		A picture as form-urlencoded base64, in one pass.
 *
 * The body of a 500 kB pair is 1.3 MB of this, built before every request,
 * so it is worth a table: each 12 bits of input become two base64 digits,
 * '+' and '/' already percent-encoded, copied in one 8-byte store.
 */
#include "formenc.h"

#include <stdint.h>
#include <string.h>

const char	fc_base64_alphabet[65] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Two digits of form-base64: up to 6 bytes of text, padded to 8. */
typedef struct DigitPair
{
	char		text[7];
	uint8_t		len;
} DigitPair;

static DigitPair pairs[4096];
static bool pairs_built = false;

bool		fc_formenc_use_avx512 = true;
static int	avx512_supported = -1;	/* not asked yet */

/* Write base64 digit v, percent-encoded when it is '+' or '/'. */
static char *
put_digit(char *p, unsigned v)
{
	char		c = fc_base64_alphabet[v & 0x3F];

	if (c == '+' || c == '/')
	{
		memcpy(p, c == '+' ? "%2B" : "%2F", 3);
		return p + 3;
	}
	*p = c;
	return p + 1;
}

static void
build_pairs(void)
{
	for (unsigned v = 0; v < 4096; v++)
	{
		char	   *end = put_digit(put_digit(pairs[v].text, v >> 6), v);

		pairs[v].len = (uint8_t) (end - pairs[v].text);
	}
	pairs_built = true;
}

/* Copy a pair's text with one 8-byte store; the caller has room for it. */
static inline char *
put_pair(char *p, unsigned v)
{
	const DigitPair *pair = &pairs[v & 0xFFF];

	memcpy(p, pair, 8);
	return p + pair->len;
}

size_t
fc_form_base64_room(size_t len)
{
	/* Every digit may take 3 bytes, and a vector store writes 64. */
	return (len + 2) / 3 * 12 + 64;
}

void
fc_append_form_base64(FcStrBuf *out, const unsigned char *data, size_t len)
{
	size_t		i = 0;
	char	   *p;

	if (!pairs_built)
		build_pairs();
	if (avx512_supported < 0)
		avx512_supported = fc_formenc_avx512_supported();
	fc_strbuf_reserve(out, fc_form_base64_room(len));
	p = out->data + out->len;
	if (avx512_supported && fc_formenc_use_avx512)
		i = fc_form_base64_avx512(&p, data, len);
	for (; i + 3 <= len; i += 3)
	{
		unsigned	v = (unsigned) data[i] << 16 | (unsigned) data[i + 1] << 8 | data[i + 2];

		p = put_pair(p, v >> 12);
		p = put_pair(p, v);
	}
	if (len - i == 1)
	{
		unsigned	v = (unsigned) data[i] << 16;

		p = put_pair(p, v >> 12);
		memcpy(p, "%3D%3D", 6);
		p += 6;
	}
	else if (len - i == 2)
	{
		unsigned	v = (unsigned) data[i] << 16 | (unsigned) data[i + 1] << 8;

		p = put_pair(p, v >> 12);
		p = put_digit(p, v >> 6);
		memcpy(p, "%3D", 3);
		p += 3;
	}
	*p = '\0';
	out->len = (size_t) (p - out->data);
}
