/*
 * response.h
 *		Turn the service's HTTP answer into a verdict or a service error.
 *		Pure C plus cJSON, so it can be unit tested and fuzzed.
 */
#ifndef RESPONSE_H
#define RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum FcResponseKind
{
	FC_RESPONSE_VERDICT,		/* a well-formed success answer */
	FC_RESPONSE_SERVICE_ERROR,	/* the service or gateway said no */
	FC_RESPONSE_MALFORMED		/* neither: the answer cannot be trusted */
} FcResponseKind;

/*
 * The scores of Result.ExtFaceInfo, which the service adds when the request
 * asks for FaceQualityCheck=Y, in the order of facecompare.result's columns.
 */
typedef enum FcQualityScore
{
	FC_FACE_QUALITY_SCORE,
	FC_ILLUMINATION_SCORE,
	FC_OCCLUSION_SCORE,
	FC_KA_OCCLUSION_SCORE,
	FC_SHARPNESS_SCORE,
	FC_NQUALITY_SCORES
} FcQualityScore;

/* Their names in the answer: "FaceQualityScore", ... */
extern const char *const fc_quality_score_names[FC_NQUALITY_SCORES];

typedef struct FcResponse
{
	FcResponseKind kind;
	int			http_status;
	char	   *request_id;		/* NULL when the answer has none */
	char	   *code;			/* service Code (errors); NULL if absent */
	char	   *message;		/* service Message (errors); NULL if absent */
	char	   *transaction_id; /* verdicts only */
	bool		passed;			/* verdicts only */
	char	   *score;			/* verdicts only: decimal text, 0..100 */
	char	   *quality[FC_NQUALITY_SCORES];	/* verdicts: decimal text, 0..100;
												 * NULL when absent */
	const char *problem;		/* malformed only: what is wrong (static) */
} FcResponse;

/*
 * Parse body (len bytes, need not be NUL-terminated) answered with
 * http_status.  Always fills *out; strings are allocated with fc_mem_alloc.
 */
extern void fc_parse_response(const char *body, size_t len, int http_status,
							  FcResponse *out);

#endif							/* RESPONSE_H */
