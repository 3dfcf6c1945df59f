/*
 * formenc.c
 *		A picture as form-urlencoded base64, in one pass.
 */
#include "formenc.h"

#include <string.h>

static const char alphabet[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Write base64 digit v, percent-encoded when it is '+' or '/'. */
static inline char *
put_digit(char *p, unsigned v)
{
	char		c = alphabet[v & 0x3F];

	if (c == '+')
	{
		memcpy(p, "%2B", 3);
		return p + 3;
	}
	if (c == '/')
	{
		memcpy(p, "%2F", 3);
		return p + 3;
	}
	*p = c;
	return p + 1;
}

void
fc_append_form_base64(FcStrBuf *out, const unsigned char *data, size_t len)
{
	size_t		i = 0;
	char	   *p;

	/* Every digit may take 3 bytes: reserve the worst case once. */
	fc_strbuf_reserve(out, (len + 2) / 3 * 12);
	p = out->data + out->len;
	for (; i + 3 <= len; i += 3)
	{
		unsigned	v = (unsigned) data[i] << 16 | (unsigned) data[i + 1] << 8 | data[i + 2];

		p = put_digit(p, v >> 18);
		p = put_digit(p, v >> 12);
		p = put_digit(p, v >> 6);
		p = put_digit(p, v);
	}
	if (len - i == 1)
	{
		unsigned	v = (unsigned) data[i] << 16;

		p = put_digit(p, v >> 18);
		p = put_digit(p, v >> 12);
		memcpy(p, "%3D%3D", 6);
		p += 6;
	}
	else if (len - i == 2)
	{
		unsigned	v = (unsigned) data[i] << 16 | (unsigned) data[i + 1] << 8;

		p = put_digit(p, v >> 18);
		p = put_digit(p, v >> 12);
		p = put_digit(p, v >> 6);
		memcpy(p, "%3D", 3);
		p += 3;
	}
	*p = '\0';
	out->len = (size_t) (p - out->data);
}
