/*
 * fcmem_libc.c
 *		The pure modules' allocator for programs outside the server (the
 *		emulator, unit tests, fuzzers): the C library, failing loudly.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fcmem.h"

static void *
check(void *p, size_t size)
{
	if (p == NULL && size > 0)
	{
		fprintf(stderr, "out of memory allocating %zu bytes\n", size);
		exit(70);
	}
	return p;
}

void *
fc_mem_alloc(size_t size)
{
	return check(malloc(size), size);
}

void *
fc_mem_realloc(void *ptr, size_t size)
{
	return check(realloc(ptr, size), size);
}

void
fc_mem_free(void *ptr)
{
	free(ptr);
}
