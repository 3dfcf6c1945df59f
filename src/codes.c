/*
 * codes.c
 *		The service's answers, one row each.  Sources: the API page's table of
 *		response codes and the gateway's signature and key errors
 *		(shared/facecompare-api.md, shared/signature-v3.md).
 */
#include "codes.h"

#include <stddef.h>
#include <string.h>

/* SQLSTATEs, spelled out so this file needs no PostgreSQL header. */
#define SQLSTATE_INVALID_PARAMETER_VALUE	"22023"
#define SQLSTATE_DATA_EXCEPTION				"22000"
#define SQLSTATE_PROGRAM_LIMIT_EXCEEDED		"54000"
#define SQLSTATE_INSUFFICIENT_PRIVILEGE		"42501"
#define SQLSTATE_INVALID_AUTHORIZATION		"28000"
#define SQLSTATE_CONFIGURATION_LIMIT		"53400"
#define SQLSTATE_SYSTEM_ERROR				"58000"

const FcServiceCode fc_service_codes[] = {
	/* The FaceCompare API's own codes. */
	{"MissingParameter", 400, "a required parameter is missing", NULL,
	SQLSTATE_INVALID_PARAMETER_VALUE, false},
	{"InvalidParameter", 400, "a parameter is invalid", NULL,
	SQLSTATE_INVALID_PARAMETER_VALUE, false},
	{"NoFaceDetected", 401, "no face features could be extracted from the image",
		"Use another image.",
	SQLSTATE_DATA_EXCEPTION, false},
	{"UnqualifiedPhoto", 401, "the image is unreadable or its resolution is out of range",
		"Use a clear, well-exposed, complete and unobscured image without strong head tilt, between 640x480 and 1920x1080 pixels.",
	SQLSTATE_DATA_EXCEPTION, false},
	{"ToolargeImage", 401, "the image is too large",
		"Compress the image or pass a URL.",
	SQLSTATE_PROGRAM_LIMIT_EXCEEDED, false},
	{"DataDuplication", 401, "both base64 and URL were given for the same image",
		"Give each image either as bytes or as a URL, not both.",
	SQLSTATE_INVALID_PARAMETER_VALUE, false},
	{"DownloadTimeout", 401, "downloading the image from its URL timed out",
		"Make sure the URL is public and answers quickly, or pass the image bytes.",
	SQLSTATE_SYSTEM_ERROR, true},
	{"Forbidden.RAMUserAccessDenied", 403, "the RAM user lacks the AliyunAntCloudAuthFullAccess permission",
		"Grant the AliyunAntCloudAuthFullAccess policy to the RAM user of facecompare.access_key_id.",
	SQLSTATE_INSUFFICIENT_PRIVILEGE, false},
	{"Forbidden.AccountAccessDenied", 403, "ID Verification is not activated, or the account has overdue payments",
		"Activate ID Verification for the account and settle any overdue payment.",
	SQLSTATE_INSUFFICIENT_PRIVILEGE, false},
	{"Throttling.Api", 403, "rejected by throttling: the API's QPS limit was exceeded",
		"Make fewer calls per second, or ask for a higher QPS limit.",
	SQLSTATE_CONFIGURATION_LIMIT, true},
	{"InternalError", 500, "internal error of the service",
		"Try again later; if it persists, contact Alibaba Cloud support with the RequestId.",
	SQLSTATE_SYSTEM_ERROR, true},

	/* The API gateway's signature, credential and availability errors. */
	{"SignatureDoesNotMatch", 400, "the request signature does not match the one the server computed",
		"Check that facecompare.access_key_secret belongs to facecompare.access_key_id.",
	SQLSTATE_INVALID_AUTHORIZATION, false},
	{"IncompleteSignature", 400, "the request signature does not conform to the V3 scheme", NULL,
	SQLSTATE_INVALID_AUTHORIZATION, false},
	{"InvalidAccessKeyId.NotFound", 404, "the AccessKey ID does not exist",
		"Check facecompare.access_key_id.",
	SQLSTATE_INVALID_AUTHORIZATION, false},
	{"InvalidAccessKeyId.Inactive", 400, "the AccessKey ID is disabled",
		"Enable the AccessKey in the RAM console or use another one.",
	SQLSTATE_INVALID_AUTHORIZATION, false},
	{"InvalidSecurityToken.Expired", 400, "the STS security token has expired",
		"Set a fresh token in facecompare.security_token.",
	SQLSTATE_INVALID_AUTHORIZATION, false},
	{"InvalidSecurityToken.Malformed", 400, "the STS security token is malformed",
		"Check facecompare.security_token.",
	SQLSTATE_INVALID_AUTHORIZATION, false},
	{"InvalidTimeStamp.Expired", 400, "the request time is more than 15 minutes away from the server's",
		"Synchronise the database server's clock (NTP).",
	SQLSTATE_INVALID_AUTHORIZATION, false},
	{"InvalidTimeStamp.Format", 400, "the request time is not in the expected format", NULL,
	SQLSTATE_INVALID_AUTHORIZATION, false},
	{"SignatureNonceUsed", 400, "the signature nonce has already been used", NULL,
	SQLSTATE_INVALID_AUTHORIZATION, true},
	{"Throttling.User", 400, "rejected by throttling: the user's request rate was exceeded",
		"Make fewer calls per second.",
	SQLSTATE_CONFIGURATION_LIMIT, true},
	{"InvalidApi.NotFound", 404, "the API does not exist at this endpoint",
		"Check facecompare.endpoint and facecompare.region.",
	SQLSTATE_SYSTEM_ERROR, false},
	{"ServiceUnavailable", 503, "the service is temporarily unavailable",
		"Try again later.",
	SQLSTATE_SYSTEM_ERROR, true},
};

const int	fc_service_code_count = sizeof(fc_service_codes) / sizeof(fc_service_codes[0]);

/* Families, for codes the table does not list by name. */
static const FcServiceCode family_throttling = {"Throttling", 400,
	"rejected by throttling", "Make fewer calls per second.",
SQLSTATE_CONFIGURATION_LIMIT, true};
static const FcServiceCode family_forbidden = {"Forbidden", 403,
	"access denied", NULL, SQLSTATE_INSUFFICIENT_PRIVILEGE, false};
static const FcServiceCode family_access_key = {"InvalidAccessKeyId", 400,
	"the AccessKey is not valid", "Check facecompare.access_key_id.",
SQLSTATE_INVALID_AUTHORIZATION, false};
static const FcServiceCode family_parameter = {"InvalidParameter", 400,
	"the request was rejected as invalid", NULL,
SQLSTATE_INVALID_PARAMETER_VALUE, false};
static const FcServiceCode family_server = {"ServerError", 500,
	"the service failed", "Try again later.", SQLSTATE_SYSTEM_ERROR, true};
static const FcServiceCode family_other = {"Error", 400,
	"the service rejected the request", NULL, SQLSTATE_SYSTEM_ERROR, false};

bool
fc_code_is_success(const char *code)
{
	return code != NULL &&
		(strcmp(code, "Success") == 0 || strcmp(code, "200") == 0);
}

const FcServiceCode *
fc_service_code_exact(const char *code)
{
	if (code == NULL)
		return NULL;
	for (int i = 0; i < fc_service_code_count; i++)
	{
		if (strcmp(fc_service_codes[i].code, code) == 0)
			return &fc_service_codes[i];
	}
	return NULL;
}

const FcServiceCode *
fc_service_code(const char *code, int http_status)
{
	const FcServiceCode *entry = fc_service_code_exact(code);

	if (entry)
		return entry;
	if (code != NULL)
	{
		/* The SDK core treats any code containing "Throttling" as throttling. */
		if (strstr(code, "Throttling") != NULL)
			return &family_throttling;
		if (strncmp(code, "Forbidden", 9) == 0)
			return &family_forbidden;
		if (strncmp(code, "InvalidAccessKeyId", 18) == 0)
			return &family_access_key;
		if (strncmp(code, "Missing", 7) == 0 || strncmp(code, "Invalid", 7) == 0)
			return &family_parameter;
	}
	if (http_status >= 500)
		return &family_server;
	return &family_other;
}
