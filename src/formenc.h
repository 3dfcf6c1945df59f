/*
 * formenc.h
 *		A picture as form-urlencoded base64, in one pass.
 */
#ifndef FORMENC_H
#define FORMENC_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/*
 * Append the base64 of data, percent-encoded for a form body ('+' '/' '='
 * as %2B %2F %3D): the same bytes as percent-encoding the base64 text, at a
 * fraction of the cost (the body of a 500 kB pair is 1.3 MB).
 */
extern void fc_append_form_base64(FcStrBuf *out, const unsigned char *data, size_t len);

/* The 64 digits of base64, in order (and a NUL). */
extern const char fc_base64_alphabet[65];

/* The most room fc_append_form_base64 asks for to encode len bytes. */
extern size_t fc_form_base64_room(size_t len);

/*
 * The AVX-512 path (formenc_avx512.c): encodes whole 48-byte blocks of data
 * at *out, advances *out, and returns how many bytes it took.  Only where
 * fc_formenc_avx512_supported().  fc_formenc_use_avx512 lets the tests
 * run the table everywhere too.
 */
extern bool fc_formenc_avx512_supported(void);
extern size_t fc_form_base64_avx512(char **out, const unsigned char *data, size_t len);
extern bool fc_formenc_use_avx512;

#endif							/* FORMENC_H */
