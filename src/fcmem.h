/*
 * fcmem.h
 *		Allocator used by the pure modules (strbuf, sign, response).
 *
 * The pure modules never include PostgreSQL headers so that the emulator,
 * unit tests and fuzzers can link them.  Each program supplies these three
 * functions: the extension maps them to palloc (so nothing escapes an
 * ERROR), the emulator and tests to the C library.  Allocation failure is the
 * provider's business: fc_mem_alloc never returns NULL.
 */
#ifndef FCMEM_H
#define FCMEM_H

#include <stddef.h>

extern void *fc_mem_alloc(size_t size);
extern void *fc_mem_realloc(void *ptr, size_t size);
extern void fc_mem_free(void *ptr);

#endif							/* FCMEM_H */
