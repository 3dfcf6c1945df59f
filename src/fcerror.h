/*
 * fcerror.h
 *		A comparison's error, as a value: what the checks, the answer mapping
 *		and the transport return, what a row records, and what
 *		fc_raise_error() turns into an ERROR, in that one place.
 */
#ifndef FCERROR_H
#define FCERROR_H

#include "pgcompat.h"

typedef struct FcError
{
	int			sqlerrcode;		/* 0: no error */
	char	   *code;			/* the service's Code, when it answered */
	char	   *message;
	char	   *detail;
	char	   *hint;
	bool		retryable;		/* the same request may pass if sent later */
	bool		throttled;		/* refused for going over a rate limit */
	bool		always_raise;	/* not the call's own failure (out of memory) */
	bool		held;			/* not sent: the breaker or the spend cap held it */
} FcError;

/* Set *error (palloc'd text, in the current memory context); returns false. */
extern bool fc_error(FcError *error, int sqlerrcode, const char *fmt,...) pg_attribute_printf(3, 4);
extern void fc_error_detail(FcError *error, const char *fmt,...) pg_attribute_printf(2, 3);
extern void fc_error_hint(FcError *error, const char *fmt,...) pg_attribute_printf(2, 3);

/* A copy in the current memory context. */
extern void fc_error_copy(FcError *to, const FcError *from);

/* The SQLSTATE as five characters, for rows. */
extern const char *fc_error_sqlstate(const FcError *error);

/*
 * Raise the error.  Its statement is kept out of the server log: it may
 * hold image bytes or signed URLs.
 */
extern pg_noreturn void fc_raise_error(const FcError *error);

#endif							/* FCERROR_H */
