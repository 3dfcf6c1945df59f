/*
 * respond.c
 *		The service's JSON answers, and the ids in them.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "codes.h"
#include "emulator.h"

static pthread_mutex_t rng_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t rng_state;
static bool rng_seeded;

/* xorshift64*, seeded by --seed: repeatable fault injection. */
double
random_unit(void)
{
	uint64_t	x;

	pthread_mutex_lock(&rng_lock);
	if (!rng_seeded)
	{
		/* Unseeded runs must not repeat TransactionIds across restarts. */
		rng_state = config.seed;
		while (rng_state == 0)
			if (getrandom(&rng_state, sizeof(rng_state), 0) != sizeof(rng_state))
				rng_state = (uint64_t) time(NULL) ^ ((uint64_t) getpid() << 32);
		rng_seeded = true;
	}
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	x = rng_state * 0x2545F4914F6CDD1DULL;
	pthread_mutex_unlock(&rng_lock);
	return (double) (x >> 11) / (double) (1ULL << 53);
}

void
random_hex(char *out, size_t nbytes)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < nbytes; i++)
	{
		unsigned	b = (unsigned) (random_unit() * 256.0) & 0xFF;

		out[2 * i] = digits[b >> 4];
		out[2 * i + 1] = digits[b & 0x0F];
	}
	out[2 * nbytes] = '\0';
}

/* An upper-case, UUID-shaped RequestId. */
static void
request_id(char *out)
{
	char		hex[33];

	random_hex(hex, 16);
	for (char *p = hex; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p -= 'a' - 'A';
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

static void
finish(Answer *answer, cJSON *root, int status, const char *code)
{
	answer->status = status;
	answer->code = code;
	answer->body = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
}

/*
 * An error answer from the table's entry for code: the API's own shape is
 * RequestId, Code, Message; the gateway's adds HostId and Recommend.
 */
static void
error_answer(Answer *answer, const char *code, const char *message, bool from_gateway)
{
	const FcServiceCode *entry = fc_service_code(code, 400);
	cJSON	   *root = cJSON_CreateObject();
	char		id[37];

	request_id(id);
	cJSON_AddStringToObject(root, "RequestId", id);
	if (from_gateway)
		cJSON_AddStringToObject(root, "HostId", "cloudauth-intl.emulator.local");
	cJSON_AddStringToObject(root, "Code", code);
	cJSON_AddStringToObject(root, "Message", message ? message : entry->message);
	if (from_gateway)
		cJSON_AddStringToObject(root, "Recommend",
								"https://api.alibabacloud.com/troubleshoot?q=emulator");
	finish(answer, root, entry->http_status, code);
}

void
answer_error(Answer *answer, const char *code, const char *message)
{
	error_answer(answer, code, message, false);
}

void
answer_gateway_error(Answer *answer, const char *code, const char *message)
{
	error_answer(answer, code, message, true);
}

void
answer_verdict(Answer *answer, double score, bool score_as_string,
			   const char *success_code, const QualityScores *quality)
{
	cJSON	   *root = cJSON_CreateObject();
	cJSON	   *result = cJSON_CreateObject();
	char		id[37];
	char		transaction[33];
	char		text[32];

	request_id(id);
	random_hex(transaction, 16);
	cJSON_AddStringToObject(root, "RequestId", id);
	cJSON_AddStringToObject(root, "Code", success_code);
	cJSON_AddStringToObject(root, "Message", "success");
	cJSON_AddStringToObject(result, "TransactionId", transaction);
	cJSON_AddStringToObject(result, "Passed", score >= PASS_THRESHOLD ? "Y" : "N");
	if (score_as_string)
	{
		snprintf(text, sizeof(text), "%.2f", score);
		cJSON_AddStringToObject(result, "FaceComparisonScore", text);
	}
	else
		cJSON_AddNumberToObject(result, "FaceComparisonScore", score);
	if (quality)
	{
		cJSON	   *info = cJSON_CreateObject();

		cJSON_AddNumberToObject(info, "FaceQualityScore", quality->face_quality);
		cJSON_AddNumberToObject(info, "IlluminationScore", quality->illumination);
		cJSON_AddNumberToObject(info, "OcclusionScore", quality->occlusion);
		cJSON_AddNumberToObject(info, "KaOcclusionScore", quality->ka_occlusion);
		cJSON_AddNumberToObject(info, "SharpnessScore", quality->sharpness);
		cJSON_AddItemToObject(result, "ExtFaceInfo", info);
	}
	cJSON_AddItemToObject(root, "Result", result);
	finish(answer, root, 200, "Success");
}
