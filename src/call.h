/*
 * call.h
 *		One FaceCompare call: sign, send, parse, and try again where that helps.
 */
#ifndef CALL_H
#define CALL_H

#include "http.h"
#include "request.h"
#include "response.h"

/* Parse an HTTP answer, with cJSON's memory in the current context. */
extern void fc_parse_answer(const FcHttpResponse *http, FcResponse *response);

/*
 * The pause before attempt + 1: exponential in attempt, with jitter; a
 * second longer after a throttled answer.
 */
extern long fc_backoff_delay_ms(int attempt, bool throttled);

#endif							/* CALL_H */
