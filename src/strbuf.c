/*
 * strbuf.c
 *		A growable, always NUL-terminated byte string for the pure modules.
 */
#include "strbuf.h"

#include <string.h>

#include "fcmem.h"

void
fc_strbuf_init(FcStrBuf *buf)
{
	buf->cap = 64;
	buf->len = 0;
	buf->data = fc_mem_alloc(buf->cap);
	buf->data[0] = '\0';
}

void
fc_strbuf_free(FcStrBuf *buf)
{
	if (buf->data)
		fc_mem_free(buf->data);
	buf->data = NULL;
	buf->len = buf->cap = 0;
}

void
fc_strbuf_reset(FcStrBuf *buf)
{
	buf->len = 0;
	buf->data[0] = '\0';
}

/* Ensure room for extra more bytes plus the terminator, doubling as needed. */
void
fc_strbuf_reserve(FcStrBuf *buf, size_t extra)
{
	size_t		need = buf->len + extra + 1;
	size_t		cap = buf->cap;

	if (need <= cap)
		return;
	while (cap < need)
		cap *= 2;
	buf->data = fc_mem_realloc(buf->data, cap);
	buf->cap = cap;
}

void
fc_strbuf_append(FcStrBuf *buf, const char *data, size_t len)
{
	fc_strbuf_reserve(buf, len);
	memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
}

void
fc_strbuf_puts(FcStrBuf *buf, const char *s)
{
	fc_strbuf_append(buf, s, strlen(s));
}

void
fc_strbuf_putc(FcStrBuf *buf, char c)
{
	fc_strbuf_append(buf, &c, 1);
}
