/*
 * request.h
 *		From SQL arguments to a signed FaceCompare HTTP request.
 */
#ifndef REQUEST_H
#define REQUEST_H

#include "fmgr.h"

#include "fcerror.h"
#include "settings.h"

/* One side of the comparison: the image's bytes or its URL. */
typedef struct FcImageArg
{
	const char *side;			/* "source" or "target", for messages */
	const char *column;			/* the upload's column, from the trigger */
	bool		missing;		/* NULL: there is no image */
	bool		is_url;
	const char *url;			/* NUL-terminated, when is_url */
	const char *bytes;			/* the image, when !is_url */
	size_t		len;			/* its length (of the URL too, when known) */
	size_t		avail;			/* bytes held: len, or a head's length */
	Datum		value;			/* the bytea, to read whole when a head is not enough */
	int			prepare;		/* FcPrepareMode: facecompare.prepare_images, or the queued request's */
	bool		prepared;		/* bytes are what preparation made */
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
 * Is the argument something the service can take?  If not, *error says
 * which rule it breaks (22023).  Of the bytes it reads only the first 16, so
 * a caller may pass a picture's head with its whole length; a URL may be
 * NULL when len says it is too long.
 */
extern bool fc_check_image_arg(const FcImageArg *image, FcError *error);
extern bool fc_check_merchant_biz_id(const char *id, FcError *error);

/*
 * Check a whole comparison, in the one order every caller uses: a missing
 * image, then each side's rules, then the id (when not NULL).
 */
extern bool fc_check_comparison(const FcImageArg *source, const FcImageArg *target,
								const char *merchant_biz_id, FcError *error);

/*
 * One side of a comparison from an SQL value: bytea is the picture, text its
 * URL; a NULL is kept as missing, for fc_check_comparison to refuse.  With
 * head_only, a picture is read as its first bytes and its length: enough
 * for the checks, for callers that store the value rather than send it.
 */
extern void fc_image_from_datum(FcImageArg *image, const char *side, bool is_url,
								Datum value, bool isnull, bool head_only);

/* A fresh 32-character id from a strong random source. */
extern char *fc_new_merchant_biz_id(void);

/*
 * Build the signed V3 request for one comparison; face_quality_check asks
 * for Result.ExtFaceInfo (FaceQualityCheck=Y in the query, as the SDK sends).
 */
extern void fc_build_request(FcHttpRequest *req, const char *base_url,
							 const FcCredentials *creds,
							 const char *merchant_biz_id,
							 const FcImageArg *source, const FcImageArg *target,
							 bool face_quality_check);

#endif							/* REQUEST_H */
