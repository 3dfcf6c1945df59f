/*
 * response.c
 *		Turn the service's HTTP answer into a verdict or a service error.
 *
 * The rule is to never invent a verdict: a success answer must carry every
 * field in the documented form, or it is reported as malformed (with its
 * RequestId, when it has one) rather than turned into a guess or a NULL.
 */
#include "response.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "fcmem.h"

static char *
copy_string(const char *s)
{
	size_t		len = strlen(s);
	char	   *copy = fc_mem_alloc(len + 1);

	memcpy(copy, s, len + 1);
	return copy;
}

/* The string value of a member, or NULL when absent or not a string. */
static const char *
member_string(const cJSON *object, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

static void
set_malformed(FcResponse *out, const char *problem)
{
	out->kind = FC_RESPONSE_MALFORMED;
	out->problem = problem;
}

const char *const fc_quality_score_names[FC_NQUALITY_SCORES] = {
	[FC_FACE_QUALITY_SCORE] = "FaceQualityScore",
	[FC_ILLUMINATION_SCORE] = "IlluminationScore",
	[FC_OCCLUSION_SCORE] = "OcclusionScore",
	[FC_KA_OCCLUSION_SCORE] = "KaOcclusionScore",
	[FC_SHARPNESS_SCORE] = "SharpnessScore",
};

/*
 * Ensure a score is a finite decimal in 0..100 and store its text in *out.
 * The API page documents strings, the official SDK models numbers: take both.
 */
static bool
take_score(const cJSON *item, char **out)
{
	char		text[64];
	double		value;

	if (cJSON_IsNumber(item))
	{
		value = item->valuedouble;
		/* 15 significant digits give back the decimal the service wrote. */
		snprintf(text, sizeof(text), "%.15g", value);
	}
	else if (cJSON_IsString(item))
	{
		const char *s = item->valuestring;
		char	   *end;
		size_t		len = strlen(s);

		if (len == 0 || len >= sizeof(text))
			return false;
		/* Plain decimals only: no hex, exponents, infinities or blanks. */
		for (size_t i = 0; i < len; i++)
		{
			if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
				  (i == 0 && (s[i] == '-' || s[i] == '+'))))
				return false;
		}
		errno = 0;
		value = strtod(s, &end);
		if (errno != 0 || *end != '\0' || end == s)
			return false;
		memcpy(text, s, len + 1);
	}
	else
		return false;

	if (!isfinite(value) || value < 0.0 || value > 100.0)
		return false;
	*out = copy_string(text);
	return true;
}

/*
 * Read the optional Result.ExtFaceInfo: absent (or null), no scores; present,
 * an object whose scores, each optional, are scores like the comparison's.
 * A problem (static text) when it is not, else NULL.
 */
static const char *
take_quality(const cJSON *result, FcResponse *out)
{
	const cJSON *info = cJSON_GetObjectItemCaseSensitive(result, "ExtFaceInfo");

	if (info == NULL || cJSON_IsNull(info))
		return NULL;
	if (!cJSON_IsObject(info))
		return "Result.ExtFaceInfo is not an object";
	for (int i = 0; i < FC_NQUALITY_SCORES; i++)
	{
		const cJSON *item = cJSON_GetObjectItemCaseSensitive(info, fc_quality_score_names[i]);

		if (item == NULL || cJSON_IsNull(item))
			continue;
		if (!take_score(item, &out->quality[i]))
			return "a score of Result.ExtFaceInfo is not a number from 0 to 100";
	}
	return NULL;
}

/* Read Result of a success answer into a verdict, or mark it malformed. */
static void
take_verdict(const cJSON *root, FcResponse *out)
{
	const cJSON *result = cJSON_GetObjectItemCaseSensitive(root, "Result");
	const char *transaction_id;
	const char *passed;
	const char *problem;

	if (!cJSON_IsObject(result))
	{
		set_malformed(out, "the success answer has no Result object");
		return;
	}
	transaction_id = member_string(result, "TransactionId");
	if (transaction_id == NULL || transaction_id[0] == '\0')
	{
		set_malformed(out, "Result.TransactionId is missing or not a string");
		return;
	}
	passed = member_string(result, "Passed");
	if (passed == NULL || (strcmp(passed, "Y") != 0 && strcmp(passed, "N") != 0))
	{
		set_malformed(out, "Result.Passed is not \"Y\" or \"N\"");
		return;
	}
	if (!take_score(cJSON_GetObjectItemCaseSensitive(result, "FaceComparisonScore"), &out->score))
	{
		set_malformed(out, "Result.FaceComparisonScore is missing or not a number from 0 to 100");
		return;
	}
	if ((problem = take_quality(result, out)) != NULL)
	{
		set_malformed(out, problem);
		return;
	}
	if (out->request_id == NULL)
	{
		set_malformed(out, "the success answer has no RequestId");
		return;
	}
	out->transaction_id = copy_string(transaction_id);
	out->passed = (passed[0] == 'Y');
	out->kind = FC_RESPONSE_VERDICT;
}

/* Parse JSON that must fill the whole body: trailing bytes void it. */
static cJSON *
parse_whole(const char *body, size_t len)
{
	const char *end = NULL;
	cJSON	   *root = cJSON_ParseWithLengthOpts(body, len, &end, false);

	if (root == NULL)
		return NULL;
	while (end < body + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
	if (end != body + len)
	{
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

void
fc_parse_response(const char *body, size_t len, int http_status, FcResponse *out)
{
	cJSON	   *root;
	const char *request_id;
	const char *code;
	const char *message;

	memset(out, 0, sizeof(*out));
	out->http_status = http_status;

	root = parse_whole(body, len);
	if (!cJSON_IsObject(root))
	{
		/* An error status with an unreadable body is still an error status. */
		if (http_status < 200 || http_status > 299)
			out->kind = FC_RESPONSE_SERVICE_ERROR;
		else
			set_malformed(out, root ? "the answer is JSON but not an object"
						  : "the answer is not JSON");
		cJSON_Delete(root);
		return;
	}

	request_id = member_string(root, "RequestId");
	code = member_string(root, "Code");
	message = member_string(root, "Message");
	if (request_id)
		out->request_id = copy_string(request_id);
	if (code)
		out->code = copy_string(code);
	if (message)
		out->message = copy_string(message);

	if (http_status == 200 && fc_code_is_success(code))
		take_verdict(root, out);
	else if (http_status == 200 && code == NULL)
		set_malformed(out, "the answer has no Code");
	else
		out->kind = FC_RESPONSE_SERVICE_ERROR;

	cJSON_Delete(root);
}
