/*
 * errors.h
 *		Raise the ERROR for a call that ended without a verdict.
 */
#ifndef ERRORS_H
#define ERRORS_H

#include "http.h"
#include "response.h"

/* Raise the service's error, or report the answer as malformed. */
extern void fc_raise_answer_error(const FcResponse *response, const char *base_url,
								  int attempts) pg_attribute_noreturn();

/* Raise the error for a transfer that got no HTTP answer. */
extern void fc_raise_transport_error(const FcHttpResponse *http, const char *base_url,
									 int attempts) pg_attribute_noreturn();

/* The service's Code behind the last ERROR we raised ("" when none). */
extern char fc_last_service_code[64];

/* May compare() turn this error into a row (facecompare.raise_on_error off)? */
extern bool fc_error_is_per_row(int sqlerrcode);

/* An error of one call, kept for its row instead of raised. */
typedef struct FcCapturedError
{
	char	   *sqlstate;		/* NULL: no error */
	char	   *code;			/* the service's Code, when it answered */
	char	   *message;
} FcCapturedError;

/*
 * Run fn(arg).  If it raises an error that belongs to one call (see
 * fc_error_is_per_row), fill *out and return true; any other error goes on
 * up.  Safe without a subtransaction because nothing on the call path holds
 * resource-owner state, and the transport releases its own in PG_FINALLY.
 */
extern bool fc_capture_error(void (*fn) (void *), void *arg, FcCapturedError *out);

/* Is this answer one that a later, identical request may not get? */
extern bool fc_answer_retryable(const FcResponse *response);

/* Did the service refuse the request for going over a rate limit? */
extern bool fc_answer_throttled(const FcResponse *response);

#endif							/* ERRORS_H */
