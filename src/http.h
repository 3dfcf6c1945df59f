/*
 * http.h
 *		Send requests to the service over the backend's libcurl handles.
 */
#ifndef HTTP_H
#define HTTP_H

#include "request.h"

/* Cap on what we read of an answer; the real one is well under 2 kB. */
#define FC_MAX_RESPONSE_BYTES (1024 * 1024)

/* Most requests one backend has in flight (facecompare.max_concurrency). */
#define FC_MAX_CONCURRENCY 64

/* How a transfer ended short of an HTTP answer. */
typedef enum FcTransportFailure
{
	FC_TRANSPORT_OK = 0,
	FC_TRANSPORT_CONNECT,		/* refused, unreachable, name not resolved */
	FC_TRANSPORT_CONNECT_TIMEOUT,	/* no connection within connect_timeout */
	FC_TRANSPORT_BROKEN,		/* reset or closed before a whole answer */
	FC_TRANSPORT_TIMEOUT,		/* sent, but no whole answer within timeout */
	FC_TRANSPORT_TLS,			/* TLS handshake or certificate rejected */
	FC_TRANSPORT_TOO_LARGE,		/* answer over FC_MAX_RESPONSE_BYTES */
	FC_TRANSPORT_OUT_OF_MEMORY,
	FC_TRANSPORT_NO_FILE_DESCRIPTOR,	/* fd.c had no socket to spare */
	FC_TRANSPORT_OTHER,
	FC_TRANSPORT_NFAILURES		/* how many there are, for tables */
} FcTransportFailure;

typedef struct FcHttpResponse
{
	FcTransportFailure failure;
	char		cause[256];		/* libcurl's explanation, when failed */
	long		status;			/* HTTP status, when not failed */
	char	   *body;			/* palloc'd, NUL-terminated */
	size_t		len;
} FcHttpResponse;

/* A finished transfer: who started it, and how it ended. */
typedef struct FcHttpCompletion
{
	void	   *owner;
	FcHttpResponse response;
} FcHttpCompletion;

/*
 * Several requests at once.  fc_http_start() sends req (which must stay
 * valid until it completes; the answer is allocated in the current memory
 * context) and returns false when FC_MAX_CONCURRENCY are already in flight.
 * fc_http_drive() waits up to max_wait_ms, waking for cancel, and returns the
 * transfers that finished.  Whoever starts transfers must call
 * fc_http_abort_all() in a PG_FINALLY, so an ERROR leaves none behind.
 */
extern bool fc_http_start(const FcHttpRequest *req, void *owner);
extern int	fc_http_drive(long max_wait_ms, FcHttpCompletion *done, int max_done);
extern void fc_http_abort_all(void);
extern int	fc_http_active(void);

#endif							/* HTTP_H */
