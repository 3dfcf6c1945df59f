/*
 * fcmem_pg.c
 *		The pure modules' allocator inside the server: palloc in the current
 *		memory context, so an ERROR anywhere frees everything with the context.
 */
#include "postgres.h"

#include "fcmem.h"

void *
fc_mem_alloc(size_t size)
{
	return palloc(size);
}

void *
fc_mem_realloc(void *ptr, size_t size)
{
	return ptr ? repalloc(ptr, size) : palloc(size);
}

void
fc_mem_free(void *ptr)
{
	if (ptr)
		pfree(ptr);
}
