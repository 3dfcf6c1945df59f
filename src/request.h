/*
 * request.h
 *		From SQL arguments to a signed FaceCompare HTTP request.
 */
#ifndef REQUEST_H
#define REQUEST_H

#include "settings.h"

/* One side of the comparison: the image's bytes or its URL. */
typedef struct FcImageArg
{
	const char *side;			/* "source" or "target", for messages */
	bool		is_url;
	const char *url;			/* NUL-terminated, when is_url */
	const char *bytes;			/* the image, when !is_url */
	size_t		len;			/* its length (of the URL too, when known) */
} FcImageArg;

/* The longest image URL we send: a signed object URL fits many times over. */
#define FC_MAX_URL_BYTES 8192

/* A request ready to send: everything palloc'd in the caller's context. */
typedef struct FcHttpRequest
{
	char	   *base_url;		/* named in errors: no query, no secret */
	char	   *url;			/* base_url + "/?" + canonical query */
	char	   *body;
	size_t		body_len;
	char	  **headers;		/* "Name: value" lines, Authorization included */
	int			nheaders;
	long		timeout_ms;		/* for this attempt: what is left of the call's */
} FcHttpRequest;

/* Length of the ids we generate, and the most the service accepts. */
#define FC_MERCHANT_BIZ_ID_MAX 32

/*
 * Raise 22023 unless the argument is something the service can take.  Of
 * the bytes it reads only the first 16, so a caller may pass a picture's
 * head with its whole length; a URL may be NULL when len says it is too long.
 */
extern void fc_check_image_arg(const FcImageArg *image);
extern void fc_check_merchant_biz_id(const char *id);

/* A fresh 32-character id from a strong random source. */
extern char *fc_new_merchant_biz_id(void);

/* Build the signed V3 request for one comparison. */
extern void fc_build_request(FcHttpRequest *req, const char *base_url,
							 const FcCredentials *creds,
							 const char *merchant_biz_id,
							 const FcImageArg *source, const FcImageArg *target);

#endif							/* REQUEST_H */
