/*
 * test_response.c
 *		The answer parser: every documented success form becomes a verdict,
 *		every error answer keeps its Code, Message and RequestId, and nothing
 *		incomplete or garbled is ever turned into a verdict.
 */
#include <stdlib.h>
#include <string.h>

#include "response.h"
#include "tap.h"

static FcResponse
parse(int status, const char *body)
{
	FcResponse	r;

	fc_parse_response(body, strlen(body), status, &r);
	return r;
}

static void
free_response(FcResponse *r)
{
	free(r->request_id);
	free(r->code);
	free(r->message);
	free(r->transaction_id);
	free(r->score);
	for (int i = 0; i < FC_NQUALITY_SCORES; i++)
		free(r->quality[i]);
}

/* Assert that body, answered with status, is malformed for the given reason. */
static void
expect_malformed(int status, const char *body, const char *problem_part, const char *name)
{
	FcResponse	r = parse(status, body);

	ok(r.kind == FC_RESPONSE_MALFORMED && r.problem != NULL &&
	   strstr(r.problem, problem_part) != NULL, name);
	free_response(&r);
}

#define RESULT(x) "{\"RequestId\":\"R-1\",\"Code\":\"Success\",\"Message\":\"success\",\"Result\":" x "}"

int
main(void)
{
	FcResponse	r;

	/* The documented success answer, score as the SDK models it: a number. */
	r = parse(200, RESULT("{\"TransactionId\":\"08573be80f944d95ac812e019e36\",\"Passed\":\"Y\",\"FaceComparisonScore\":52.57}"));
	ok(r.kind == FC_RESPONSE_VERDICT, "success answer is a verdict");
	is_str(r.transaction_id, "08573be80f944d95ac812e019e36", "TransactionId is kept");
	ok(r.passed, "Passed Y is true");
	is_str(r.score, "52.57", "numeric score keeps its decimal digits");
	is_str(r.request_id, "R-1", "RequestId is kept");
	free_response(&r);

	/* The score as the API page documents it: a string. */
	r = parse(200, RESULT("{\"TransactionId\":\"t\",\"Passed\":\"N\",\"FaceComparisonScore\":\"12.5\"}"));
	ok(r.kind == FC_RESPONSE_VERDICT && !r.passed, "Passed N is false");
	is_str(r.score, "12.5", "string score is accepted");
	free_response(&r);

	/* The SDK's model says the success code is "200". */
	r = parse(200, "{\"RequestId\":\"R\",\"Code\":\"200\",\"Result\":{\"TransactionId\":\"t\",\"Passed\":\"Y\",\"FaceComparisonScore\":100}}");
	ok(r.kind == FC_RESPONSE_VERDICT, "Code \"200\" is success too");
	is_str(r.score, "100", "score 100 is in range");
	free_response(&r);

	/* No ExtFaceInfo (no FaceQualityCheck asked): no quality scores. */
	r = parse(200, RESULT("{\"TransactionId\":\"t\",\"Passed\":\"Y\",\"FaceComparisonScore\":0}"));
	ok(r.kind == FC_RESPONSE_VERDICT && r.quality[FC_FACE_QUALITY_SCORE] == NULL &&
	   r.quality[FC_SHARPNESS_SCORE] == NULL, "without ExtFaceInfo every quality score is NULL");
	free_response(&r);

	/* ExtFaceInfo's five scores, numbers or strings, each in its place. */
	r = parse(200, RESULT("{\"TransactionId\":\"t\",\"Passed\":\"Y\",\"FaceComparisonScore\":99,"
						  "\"ExtFaceInfo\":{\"FaceQualityScore\":39.04,\"IlluminationScore\":0.02,"
						  "\"OcclusionScore\":\"50.26\",\"KaOcclusionScore\":20,\"SharpnessScore\":86.47,"
						  "\"OcclusionResult\":\"Y\"}}"));
	ok(r.kind == FC_RESPONSE_VERDICT, "a verdict with ExtFaceInfo is a verdict");
	is_str(r.quality[FC_FACE_QUALITY_SCORE], "39.04", "FaceQualityScore is kept");
	is_str(r.quality[FC_ILLUMINATION_SCORE], "0.02", "IlluminationScore is kept");
	is_str(r.quality[FC_OCCLUSION_SCORE], "50.26", "OcclusionScore as a string is kept");
	is_str(r.quality[FC_KA_OCCLUSION_SCORE], "20", "KaOcclusionScore is kept");
	is_str(r.quality[FC_SHARPNESS_SCORE], "86.47", "SharpnessScore is kept");
	free_response(&r);

	/* Each score is optional; null is absent; an empty ExtFaceInfo is none. */
	r = parse(200, RESULT("{\"TransactionId\":\"t\",\"Passed\":\"Y\",\"FaceComparisonScore\":0,"
						  "\"ExtFaceInfo\":{\"FaceQualityScore\":99,\"SharpnessScore\":null}}"));
	ok(r.kind == FC_RESPONSE_VERDICT && r.quality[FC_SHARPNESS_SCORE] == NULL &&
	   r.quality[FC_OCCLUSION_SCORE] == NULL, "absent and null quality scores are NULL");
	is_str(r.quality[FC_FACE_QUALITY_SCORE], "99", "a lone FaceQualityScore is kept");
	free_response(&r);
	r = parse(200, RESULT("{\"TransactionId\":\"t\",\"Passed\":\"Y\",\"FaceComparisonScore\":0,\"ExtFaceInfo\":null}"));
	ok(r.kind == FC_RESPONSE_VERDICT && r.quality[FC_FACE_QUALITY_SCORE] == NULL, "ExtFaceInfo null is no scores");
	free_response(&r);

	/* A garbled ExtFaceInfo voids the answer: no guessed scores. */
	expect_malformed(200, RESULT("{\"TransactionId\":\"t\",\"Passed\":\"Y\",\"FaceComparisonScore\":0,\"ExtFaceInfo\":\"good\"}"),
					 "ExtFaceInfo is not an object", "ExtFaceInfo that is not an object is malformed");
	expect_malformed(200, RESULT("{\"TransactionId\":\"t\",\"Passed\":\"Y\",\"FaceComparisonScore\":0,\"ExtFaceInfo\":{\"SharpnessScore\":101}}"),
					 "ExtFaceInfo", "a quality score above 100 is malformed");
	expect_malformed(200, RESULT("{\"TransactionId\":\"t\",\"Passed\":\"Y\",\"FaceComparisonScore\":0,\"ExtFaceInfo\":{\"IlluminationScore\":\"0x10\"}}"),
					 "ExtFaceInfo", "a quality score in hex is malformed");
	expect_malformed(200, RESULT("{\"TransactionId\":\"t\",\"Passed\":\"Y\",\"FaceComparisonScore\":0,\"ExtFaceInfo\":{\"KaOcclusionScore\":true}}"),
					 "ExtFaceInfo", "a boolean quality score is malformed");

	/* Service errors keep Code, Message and RequestId. */
	r = parse(401, "{\"RequestId\":\"R-2\",\"Code\":\"NoFaceDetected\",\"Message\":\"no face\"}");
	ok(r.kind == FC_RESPONSE_SERVICE_ERROR, "401 NoFaceDetected is a service error");
	is_str(r.code, "NoFaceDetected", "error Code is kept");
	is_str(r.message, "no face", "error Message is kept");
	is_str(r.request_id, "R-2", "error RequestId is kept");
	free_response(&r);

	r = parse(200, "{\"RequestId\":\"R-3\",\"Code\":\"InvalidParameter\",\"Message\":\"bad\"}");
	ok(r.kind == FC_RESPONSE_SERVICE_ERROR, "an error Code in an HTTP 200 answer is an error");
	free_response(&r);

	r = parse(502, "<html>Bad Gateway</html>");
	ok(r.kind == FC_RESPONSE_SERVICE_ERROR && r.code == NULL && r.http_status == 502,
	   "a non-JSON 502 is an error of that status");
	free_response(&r);

	/* Nothing incomplete or garbled becomes a verdict. */
	expect_malformed(200, "", "not JSON", "empty body is malformed");
	expect_malformed(200, "{\"RequestId\":\"R\",\"Code\":\"Success\",\"Result\":{\"Trans", "not JSON", "truncated JSON is malformed");
	expect_malformed(200, "[1,2]", "not an object", "a JSON array is malformed");
	expect_malformed(200, "{\"RequestId\":\"R\"}", "no Code", "an answer without Code is malformed");
	expect_malformed(200, "{\"RequestId\":\"R\",\"Code\":\"Success\"}", "no Result", "success without Result is malformed");
	expect_malformed(200, RESULT("{\"Passed\":\"Y\",\"FaceComparisonScore\":50}"), "TransactionId", "missing TransactionId is malformed");
	expect_malformed(200, RESULT("{\"TransactionId\":\"\",\"Passed\":\"Y\",\"FaceComparisonScore\":50}"), "TransactionId", "empty TransactionId is malformed");
	expect_malformed(200, RESULT("{\"TransactionId\":\"t\",\"FaceComparisonScore\":50}"), "Passed", "missing Passed is malformed");
	expect_malformed(200, RESULT("{\"TransactionId\":\"t\",\"Passed\":\"yes\",\"FaceComparisonScore\":50}"), "Passed", "Passed other than Y/N is malformed");
	expect_malformed(200, RESULT("{\"TransactionId\":\"t\",\"Passed\":true,\"FaceComparisonScore\":50}"), "Passed", "Passed as a JSON boolean is malformed");
	expect_malformed(200, RESULT("{\"TransactionId\":\"t\",\"Passed\":\"Y\"}"), "Score", "missing score is malformed");
	expect_malformed(200, RESULT("{\"TransactionId\":\"t\",\"Passed\":\"Y\",\"FaceComparisonScore\":100.5}"), "Score", "score above 100 is malformed");
	expect_malformed(200, RESULT("{\"TransactionId\":\"t\",\"Passed\":\"Y\",\"FaceComparisonScore\":-1}"), "Score", "negative score is malformed");
	expect_malformed(200, RESULT("{\"TransactionId\":\"t\",\"Passed\":\"Y\",\"FaceComparisonScore\":\"high\"}"), "Score", "non-numeric score string is malformed");
	expect_malformed(200, RESULT("{\"TransactionId\":\"t\",\"Passed\":\"Y\",\"FaceComparisonScore\":\"1e2\"}"), "Score", "exponent score string is malformed");
	expect_malformed(200, RESULT("{\"TransactionId\":\"t\",\"Passed\":\"Y\",\"FaceComparisonScore\":\"nan\"}"), "Score", "NaN score string is malformed");
	expect_malformed(200, RESULT("{\"TransactionId\":\"t\",\"Passed\":\"Y\",\"FaceComparisonScore\":\"\"}"), "Score", "empty score string is malformed");
	expect_malformed(200, RESULT("{\"TransactionId\":\"t\",\"Passed\":\"Y\",\"FaceComparisonScore\":null}"), "Score", "null score is malformed");
	expect_malformed(200, "{\"Code\":\"Success\",\"Result\":{\"TransactionId\":\"t\",\"Passed\":\"Y\",\"FaceComparisonScore\":1}}", "RequestId", "success without RequestId is malformed");

	/* Trailing bytes, even after an embedded NUL, void the answer. */
	expect_malformed(200, RESULT("{\"TransactionId\":\"t\",\"Passed\":\"Y\",\"FaceComparisonScore\":1}") "{}", "not JSON", "trailing data after the object is malformed");
	r = parse(200, RESULT("{\"TransactionId\":\"t\",\"Passed\":\"Y\",\"FaceComparisonScore\":1}") " \r\n");
	ok(r.kind == FC_RESPONSE_VERDICT, "trailing whitespace is fine");
	free_response(&r);

	{
		const char	body[] = RESULT("{\"TransactionId\":\"t\",\"Passed\":\"Y\",\"FaceComparisonScore\":1}") "\0garbage";

		fc_parse_response(body, sizeof(body) - 1, 200, &r);
		ok(r.kind == FC_RESPONSE_MALFORMED, "bytes after an embedded NUL are not ignored");
		free_response(&r);
	}

	return tap_done();
}
