/*
 * errors.h
 *		The error of a call that ended without a verdict, as a value.
 */
#ifndef ERRORS_H
#define ERRORS_H

#include "fcerror.h"
#include "http.h"
#include "response.h"

/*
 * The service's refusal, or a malformed answer, as an error (with whether a
 * retry may help and whether it was throttling).
 */
extern void fc_answer_error(const FcResponse *response, const char *base_url,
							int attempts, FcError *error);

/* A transfer that got no HTTP answer, as an error. */
extern void fc_transport_error(const FcHttpResponse *http, const char *base_url,
							   int attempts, FcError *error);

#endif							/* ERRORS_H */
