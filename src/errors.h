/*
 * errors.h
 *		Raise the ERROR for an answer that is not a verdict.
 */
#ifndef ERRORS_H
#define ERRORS_H

#include "response.h"

/* Raise the service's error, or report the answer as malformed. */
extern void fc_raise_answer_error(const FcResponse *response, const char *base_url)
			pg_attribute_noreturn();

#endif							/* ERRORS_H */
