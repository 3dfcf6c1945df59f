/*
 * api.c
 *		The FaceCompare API behind the gateway: key permissions, the QPS
 *		limit, test ids and injected faults, then the parameters and images in
 *		the order the API page gives, then the verdict.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <microhttpd.h>

#include "codes.h"
#include "emulator.h"
#include "image.h"

#define MAX_IMAGE_BYTES (1024 * 1024)

/* Accepted requests per key over the last second, for --qps. */
typedef struct RateWindow
{
	const AccessKey *key;
	double	   *stamps;			/* ring of the last qps acceptance times */
	int			next;
} RateWindow;

static RateWindow windows[MAX_KEYS];
static pthread_mutex_t rate_lock = PTHREAD_MUTEX_INITIALIZER;

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Admit one request for key unless qps were admitted in the last second. */
static bool
rate_admit(const AccessKey *key)
{
	RateWindow *w = &windows[key - config.keys];
	double		now = now_seconds();
	bool		admitted;

	if (config.qps <= 0)
		return true;
	pthread_mutex_lock(&rate_lock);
	if (w->stamps == NULL)
	{
		w->stamps = calloc((size_t) config.qps, sizeof(double));
		for (int i = 0; i < config.qps; i++)
			w->stamps[i] = -1e9;
	}
	/* The oldest of the last qps admissions must be over a second old. */
	admitted = now - w->stamps[w->next] >= 1.0;
	if (admitted)
	{
		w->stamps[w->next] = now;
		w->next = (w->next + 1) % config.qps;
	}
	pthread_mutex_unlock(&rate_lock);
	return admitted;
}

/* One form field of the body, decoded; NULL when absent.  malloc'd. */
static char *
form_field(const Request *req, const char *name)
{
	size_t		name_len = strlen(name);
	const char *p = req->body;
	const char *end = req->body + req->body_len;

	while (p && p < end)
	{
		const char *amp = memchr(p, '&', (size_t) (end - p));
		const char *field_end = amp ? amp : end;

		if ((size_t) (field_end - p) > name_len && memcmp(p, name, name_len) == 0 && p[name_len] == '=')
		{
			const char *v = p + name_len + 1;
			char	   *out = malloc((size_t) (field_end - v) + 1);
			size_t		n = 0;

			while (v < field_end)
			{
				if (*v == '%' && field_end - v >= 3 && isxdigit((unsigned char) v[1]) &&
					isxdigit((unsigned char) v[2]))
				{
					char		hex[3] = {v[1], v[2], 0};

					out[n++] = (char) strtol(hex, NULL, 16);
					v += 3;
				}
				else
				{
					out[n++] = (*v == '+') ? ' ' : *v;
					v++;
				}
			}
			out[n] = '\0';
			return out;
		}
		p = amp ? amp + 1 : NULL;
	}
	return NULL;
}

static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict base64 (padding required); NULL on any error.  malloc'd. */
static unsigned char *
base64_decode(const char *text, size_t *out_len)
{
	size_t		len = strlen(text);
	unsigned char *out;
	size_t		n = 0;

	if (len == 0 || len % 4 != 0)
		return NULL;
	out = malloc(len / 4 * 3);
	for (size_t i = 0; i < len; i += 4)
	{
		int			v[4];

		for (int j = 0; j < 4; j++)
		{
			bool		pad_ok = (i + 4 == len) && j >= 2 && text[i + j] == '=' &&
				(j == 3 || text[i + 3] == '=');

			v[j] = pad_ok ? 0 : b64_value(text[i + j]);
			if (v[j] < 0)
			{
				free(out);
				return NULL;
			}
		}
		out[n++] = (unsigned char) (v[0] << 2 | v[1] >> 4);
		if (text[i + 2] != '=')
			out[n++] = (unsigned char) ((v[1] & 0xF) << 4 | v[2] >> 2);
		if (text[i + 3] != '=')
			out[n++] = (unsigned char) ((v[2] & 0x3) << 6 | v[3]);
	}
	*out_len = n;
	return out;
}

static const char *
query_arg(const Request *req, const char *name)
{
	return MHD_lookup_connection_value(req->connection, MHD_GET_ARGUMENT_KIND, name);
}

/*
 * A test id: "EMU" + a table code without its dots (+ any suffix) forces
 * that code's answer.  Returns the code, or NULL.
 */
static const char *
forced_code(const char *merchant_biz_id)
{
	const char *best = NULL;
	size_t		best_len = 0;

	if (strncmp(merchant_biz_id, "EMU", 3) != 0)
		return NULL;
	for (int i = 0; i < fc_service_code_count; i++)
	{
		const char *code = fc_service_codes[i].code;
		char		plain[64];
		size_t		n = 0;

		for (const char *c = code; *c && n < sizeof(plain) - 1; c++)
			if (*c != '.')
				plain[n++] = *c;
		plain[n] = '\0';
		if (strncmp(merchant_biz_id + 3, plain, n) == 0 && n > best_len)
		{
			best = code;
			best_len = n;
		}
	}
	return best;
}

/* Codes the gateway answers (with its HostId/Recommend shape), not the API. */
static bool
is_gateway_code(const char *code)
{
	static const char *const prefixes[] = {"Signature", "IncompleteSignature",
		"InvalidAccessKeyId", "InvalidSecurityToken", "InvalidTimeStamp",
	"InvalidApi", "Throttling.User", "ServiceUnavailable"};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(code, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

/* A code of the table, with the table's message, in the shape of whoever answers it. */
void
answer_code(Answer *answer, const char *code)
{
	if (is_gateway_code(code))
		answer_gateway_error(answer, code, NULL);
	else
		answer_error(answer, code, NULL);
}

/* One side of the comparison (Source or Target) as the request gives it. */
typedef struct Side
{
	const char *name;			/* "Source" or "Target" */
	char		field[32];		/* XFacePicture: base64 in the body, or the query */
	char		url_field[32];	/* XFacePictureUrl: in the query */
	char	   *b64;			/* decoded form value, malloc'd, or NULL */
	const char *url;			/* NULL when absent or empty */
	unsigned char *data;		/* the image, once loaded; malloc'd */
	size_t		len;
} Side;

/* Find one side's parameters and check that they make sense together. */
static bool
check_side(const Request *req, const char *name, Side *side, Answer *answer)
{
	char		message[512];

	side->name = name;
	snprintf(side->field, sizeof(side->field), "%sFacePicture", name);
	snprintf(side->url_field, sizeof(side->url_field), "%sFacePictureUrl", name);
	side->b64 = form_field(req, side->field);
	/* Older SDKs sent the base64 in the query string: the service takes both. */
	if (side->b64 == NULL && query_arg(req, side->field) != NULL)
		side->b64 = strdup(query_arg(req, side->field));
	side->url = query_arg(req, side->url_field);
	if (side->url && side->url[0] == '\0')
		side->url = NULL;

	if (side->b64 == NULL && side->url == NULL)
	{
		snprintf(message, sizeof(message), "Either %s or %s is mandatory for this action.",
				 side->field, side->url_field);
		answer_error(answer, "MissingParameter", message);
	}
	else if (side->b64 != NULL && side->url != NULL)
	{
		snprintf(message, sizeof(message), "%s and %s were both given; give one.",
				 side->field, side->url_field);
		answer_error(answer, "DataDuplication", message);
	}
	else if (side->url != NULL && strncasecmp(side->url, "http://", 7) != 0 &&
			 strncasecmp(side->url, "https://", 8) != 0)
	{
		snprintf(message, sizeof(message), "%s must be an http or https URL.", side->url_field);
		answer_error(answer, "InvalidParameter", message);
	}
	return answer->body == NULL;
}

/* Decode one side's base64 or download its URL, or answer the error. */
static bool
load_side(Side *side, Answer *answer)
{
	char		message[512];
	char		reason[256];

	if (side->b64 != NULL)
	{
		/* Measured on the text, before decoding it, as the 1 MB transfer limit is. */
		if (strlen(side->b64) > FC_MAX_ENCODED_PICTURE)
		{
			snprintf(message, sizeof(message), "%s is larger than 1 MB.", side->field);
			answer_error(answer, "ToolargeImage", message);
		}
		else if ((side->data = base64_decode(side->b64, &side->len)) == NULL)
		{
			snprintf(message, sizeof(message), "%s is not valid base64.", side->field);
			answer_error(answer, "InvalidParameter", message);
		}
		return answer->body == NULL;
	}
	switch (fetch_url(side->url, &side->data, &side->len, reason, sizeof(reason)))
	{
		case FETCH_OK:
			break;
		case FETCH_TIMEOUT:
			snprintf(message, sizeof(message), "Downloading %s timed out after %d ms.", side->url_field,
					 config.download_timeout_ms);
			answer_error(answer, "DownloadTimeout", message);
			break;
		case FETCH_TOO_LARGE:
			snprintf(message, sizeof(message), "The image at %s is larger than 1 MB.", side->url_field);
			answer_error(answer, "ToolargeImage", message);
			break;
		case FETCH_FAILED:
			snprintf(message, sizeof(message), "%s could not be downloaded: %s.", side->url_field, reason);
			answer_error(answer, "InvalidParameter", message);
			break;
	}
	return answer->body == NULL;
}

static void
side_free(Side *side)
{
	free(side->b64);
	free(side->data);
}

/* Decode one side, or answer why it cannot be used. */
static bool
sign_side(const char *side, const unsigned char *data, size_t len, Signature *sig,
		  Answer *answer)
{
	char		message[256];

	switch (image_signature(data, len, sig))
	{
		case IMAGE_OK:
			return true;
		case IMAGE_UNREADABLE:
			snprintf(message, sizeof(message), "The %s image is not a readable JPG, JPEG or PNG picture.", side);
			answer_error(answer, "UnqualifiedPhoto", message);
			break;
		case IMAGE_BAD_RESOLUTION:
			snprintf(message, sizeof(message), "The %s image's resolution is outside 640x480 to 1920x1080.", side);
			answer_error(answer, "UnqualifiedPhoto", message);
			break;
		case IMAGE_NO_FACE:
			snprintf(message, sizeof(message), "No face features could be extracted from the %s image.", side);
			answer_error(answer, "NoFaceDetected", message);
			break;
	}
	signature_free(sig);
	return false;
}

/*
 * The verdict on two usable pictures; or, for a fraction --fail-rate of
 * them, InternalError (only calls that would otherwise succeed fail so).
 * With FaceQualityCheck=Y, the source picture's quality scores too.
 */
static void
answer_verdict_for(const char *id, const char *quality_check, const Side *source_side,
				   const Signature *source, const Signature *target, Answer *answer)
{
	double		score;
	QualityScores quality;
	bool		with_quality = quality_check && strcmp(quality_check, "Y") == 0;

	if (config.fail_rate > 0 && random_unit() < config.fail_rate)
	{
		answer_error(answer, "InternalError",
					 "An internal error occurred (injected by --fail-rate).");
		return;
	}
	score = score_from_similarity(compare_signatures(source, target));
	if (with_quality && !quality_scores(source_side->data, source_side->len, &quality))
		with_quality = false;
	answer_verdict(answer, score, strncmp(id, "EMUScoreString", 14) == 0,
				   strncmp(id, "EMUCodeTwoHundred", 17) == 0 ? "200" : "Success",
				   with_quality ? &quality : NULL);
}

static bool
valid_merchant_biz_id(const char *id)
{
	size_t		len = strlen(id);

	if (len == 0 || len > 32)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char) id[i]) || (unsigned char) id[i] > 127)
			return false;
	return true;
}

/* Refusals that depend on the key alone, answered before anything is read. */
static bool
key_refused(const AccessKey *key, Answer *answer)
{
	if (key->state == KEY_RAM_DENIED)
		answer_error(answer, "Forbidden.RAMUserAccessDenied",
					 "The RAM user does not have the AliyunAntCloudAuthFullAccess permission.");
	else if (key->state == KEY_ACCOUNT_DENIED)
		answer_error(answer, "Forbidden.AccountAccessDenied",
					 "ID Verification is not activated for this account, or the account has overdue payments.");
	else if (!rate_admit(key))
		answer_error(answer, "Throttling.Api", "Request was denied due to api flow control.");
	return answer->body != NULL;
}

/* Answers chosen by a test id (EMU...), or none. */
static bool
test_id_answered(const char *id, Answer *answer)
{
	const char *forced;

	if (id == NULL)
		return false;
	if (answer_fault(id, answer))
		return true;
	if ((forced = forced_code(id)) == NULL)
		return false;
	answer_code(answer, forced);
	return true;
}

void
handle_face_compare(Request *req, const AccessKey *key, Answer *answer)
{
	const char *id = query_arg(req, "MerchantBizId");
	const char *quality_check = query_arg(req, "FaceQualityCheck");
	Side		source = {0},
				target = {0};
	Signature	source_sig,
				target_sig;

	req->merchant_biz_id = id;
	if (quality_check == NULL)
		quality_check = query_arg(req, "FacePictureQualityCheck");

	if (key_refused(key, answer) || test_id_answered(id, answer))
		return;
	if (id == NULL || id[0] == '\0')
	{
		answer_error(answer, "MissingParameter", "MerchantBizId is mandatory for this action.");
		return;
	}
	if (!valid_merchant_biz_id(id))
	{
		answer_error(answer, "InvalidParameter", "MerchantBizId must be 1 to 32 letters or digits.");
		return;
	}

	/* Both sides' parameters first: nothing is downloaded for a call that is wrong anyway. */
	if (check_side(req, "Source", &source, answer) && check_side(req, "Target", &target, answer) &&
		load_side(&source, answer) && load_side(&target, answer))
	{
		if (source.len > MAX_IMAGE_BYTES || target.len > MAX_IMAGE_BYTES)
			answer_error(answer, "ToolargeImage", "An image is larger than 1 MB.");
		else if (sign_side("source", source.data, source.len, &source_sig, answer))
		{
			if (sign_side("target", target.data, target.len, &target_sig, answer))
			{
				answer_verdict_for(id, quality_check, &source, &source_sig, &target_sig, answer);
				signature_free(&target_sig);
			}
			signature_free(&source_sig);
		}
	}
	side_free(&source);
	side_free(&target);
}
