/*
 * strbuf.h
 *		A growable, always NUL-terminated byte string for the pure modules.
 */
#ifndef STRBUF_H
#define STRBUF_H

#include <stddef.h>

typedef struct FcStrBuf
{
	char	   *data;			/* NUL-terminated; may hold embedded NULs */
	size_t		len;			/* bytes used, excluding the terminator */
	size_t		cap;			/* bytes allocated */
} FcStrBuf;

extern void fc_strbuf_init(FcStrBuf *buf);
extern void fc_strbuf_free(FcStrBuf *buf);
extern void fc_strbuf_reset(FcStrBuf *buf);
extern void fc_strbuf_reserve(FcStrBuf *buf, size_t extra);
extern void fc_strbuf_append(FcStrBuf *buf, const char *data, size_t len);
extern void fc_strbuf_puts(FcStrBuf *buf, const char *s);
extern void fc_strbuf_putc(FcStrBuf *buf, char c);

#endif							/* STRBUF_H */
