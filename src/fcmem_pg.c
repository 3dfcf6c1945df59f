/*
 * fcmem_pg.c
 *		The pure modules' allocator inside the server: palloc in the current
 *		memory context, so an ERROR anywhere frees everything with the context.
 */
#include "postgres.h"

#include <stdlib.h>
#include <unistd.h>

#include "fcmem.h"

/*
 * In a child forked to decode a photo (photo_pg.c), an ERROR would unwind
 * into the backend's code in the wrong process: there the C library is
 * used, and failing ends the child alone.
 */
bool		fc_mem_in_child = false;

static void *
child_check(void *p)
{
	if (p == NULL)
		_exit(70);
	return p;
}

void *
fc_mem_alloc(size_t size)
{
	if (fc_mem_in_child)
		return child_check(malloc(size ? size : 1));
	return palloc(size);
}

void *
fc_mem_realloc(void *ptr, size_t size)
{
	if (fc_mem_in_child)
		return child_check(realloc(ptr, size ? size : 1));
	return ptr ? repalloc(ptr, size) : palloc(size);
}

void
fc_mem_free(void *ptr)
{
	if (fc_mem_in_child)
		free(ptr);
	else if (ptr)
		pfree(ptr);
}
