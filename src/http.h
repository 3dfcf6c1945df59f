/*
 * http.h
 *		Send one request to the service over the backend's libcurl handle.
 */
#ifndef HTTP_H
#define HTTP_H

#include "request.h"

/* Cap on what we read of an answer; the real one is well under 2 kB. */
#define FC_MAX_RESPONSE_BYTES (1024 * 1024)

typedef struct FcHttpResponse
{
	long		status;			/* HTTP status */
	char	   *body;			/* palloc'd, NUL-terminated */
	size_t		len;
} FcHttpResponse;

/*
 * POST req and wait for the whole answer, waking at once for query cancel,
 * statement_timeout and postmaster death.  Network failures and timeouts
 * raise an ERROR naming the endpoint; any HTTP status is returned.
 */
extern void fc_http_post(const FcHttpRequest *req, FcHttpResponse *resp);

#endif							/* HTTP_H */
