/*
 * settings.c
 *		Every facecompare.* setting, defined in one place so that the prefix
 *		can be reserved right after the last of them.
 *
 * Everything that decides where a signed request goes, or with which key, is
 * PGC_SUSET: a plain role's SET fails, so it can neither redirect a request
 * signed with the server's key nor swap in another key.  The secret and the
 * token are never shown: SHOW and current_setting() print a mask, and
 * pg_settings does not list them.
 */
#include "postgres.h"

#include <limits.h>
#include <stdlib.h>

#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "http.h"
#include "photo.h"
#include "redact.h"
#include "settings.h"

/* The service's regions, in the order of the API page. */
typedef enum FcRegion
{
	FC_REGION_SINGAPORE,
	FC_REGION_INDONESIA,
	FC_REGION_MALAYSIA,
	FC_REGION_HONG_KONG
} FcRegion;

static const struct config_enum_entry region_options[] = {
	{"ap-southeast-1", FC_REGION_SINGAPORE, false},
	{"ap-southeast-5", FC_REGION_INDONESIA, false},
	{"ap-southeast-3", FC_REGION_MALAYSIA, false},
	{"cn-hongkong", FC_REGION_HONG_KONG, false},
	{NULL, 0, false}
};

#define SECRET_MASK "********"

static char *access_key_id = NULL;
static char *access_key_secret = NULL;
static char *security_token = NULL;
static int	region = FC_REGION_SINGAPORE;
static bool use_internal_endpoint = false;
static char *endpoint = NULL;
int			fc_timeout_ms = 10000;
int			fc_connect_timeout_ms = 5000;
int			fc_max_retries = 2;
int			fc_retry_delay_ms = 200;
char	   *fc_ca_file = NULL;
bool		fc_raise_on_error = true;
int			fc_max_concurrency = 8;
int			fc_max_qps = 0;
char	   *fc_worker_database = "";
int			fc_worker_max_attempts = 5;
bool		fc_keep_images = false;
int			fc_retention_s = 0;
bool		fc_face_quality_check = false;

/* Photo preparation (issue 13): what is done to a picture before the call. */
static const struct config_enum_entry prepare_images_options[] = {
	{"off", FC_PREPARE_OFF, false},
	{"when_needed", FC_PREPARE_WHEN_NEEDED, false},
	{"always", FC_PREPARE_ALWAYS, false},
	{NULL, 0, false}
};
int			fc_prepare_images = FC_PREPARE_WHEN_NEEDED;
int			fc_max_image_pixels = FC_PHOTO_DEFAULT_MAX_PIXELS;
int			fc_max_image_bytes = FC_PHOTO_DEFAULT_MAX_BYTES;
int			fc_breaker_cooldown_ms = 60000;
int			fc_max_calls_per_day = 0;

static inline const char *
nonempty_or_null(const char *value)
{
	return (value != NULL && value[0] != '\0') ? value : NULL;
}

/* Show a secret as a mask when set, so SHOW and current_setting() reveal nothing. */
static const char *
show_secret(const char *value)
{
	return (value != NULL && value[0] != '\0') ? SECRET_MASK : "";
}

static const char *
show_access_key_secret(void)
{
	return show_secret(access_key_secret);
}

static const char *
show_security_token(void)
{
	return show_secret(security_token);
}

/*
 * A secret's new value, from SET, set_config(), ALTER SYSTEM or a reload:
 * the log hook masks it from now on, also before it takes effect.
 */
static bool
check_access_key_secret(char **newval, void **extra, GucSource source)
{
	fc_redact_note_secret(FC_SECRET_ACCESS_KEY_SECRET, *newval, source == PGC_S_SESSION);
	return true;
}

static bool
check_security_token(char **newval, void **extra, GucSource source)
{
	fc_redact_note_secret(FC_SECRET_SECURITY_TOKEN, *newval, source == PGC_S_SESSION);
	return true;
}

/* Ensure facecompare.endpoint is empty or an http(s) base URL with no path. */
static bool
check_endpoint(char **newval, void **extra, GucSource source)
{
	const char *value = *newval;
	const char *authority;
	size_t		authority_len;

	if (value == NULL || value[0] == '\0')
		return true;

	if (strncmp(value, "https://", 8) == 0)
		authority = value + 8;
	else if (strncmp(value, "http://", 7) == 0)
		authority = value + 7;
	else
	{
		GUC_check_errdetail("The endpoint must start with https:// or http://.");
		return false;
	}
	authority_len = strcspn(authority, "/?#");
	if (authority_len == 0 || strspn(authority, "/") != 0)
	{
		GUC_check_errdetail("The endpoint must name a host.");
		return false;
	}
	if (authority[authority_len] != '\0' && strcmp(authority + authority_len, "/") != 0)
	{
		GUC_check_errdetail("The endpoint is a base URL such as \"https://host:port\": it takes no path, query or fragment.");
		return false;
	}
	if (strpbrk(value, " \t\r\n@") != NULL)
	{
		GUC_check_errdetail("The endpoint must not contain blanks or user information.");
		return false;
	}
	return true;
}

void
fc_settings_init(void)
{
	DefineCustomStringVariable("facecompare.access_key_id",
							   "AccessKey ID that signs FaceCompare calls.",
							   "Empty: the ID, its secret and any STS token all come from the server's environment (ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_SECURITY_TOKEN), and facecompare.access_key_secret and facecompare.security_token are not used.",
							   &access_key_id, "",
							   PGC_SUSET, 0,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("facecompare.access_key_secret",
							   "AccessKey secret of facecompare.access_key_id (never shown).",
							   "Required when facecompare.access_key_id is set, not used when it is empty.",
							   &access_key_secret, "",
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL,
							   check_access_key_secret, NULL, show_access_key_secret);
	DefineCustomStringVariable("facecompare.security_token",
							   "STS security token sent with temporary credentials (never shown).",
							   "Used only when facecompare.access_key_id is set; empty: no token is sent.",
							   &security_token, "",
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL,
							   check_security_token, NULL, show_security_token);
	DefineCustomEnumVariable("facecompare.region",
							 "Region of the FaceCompare service: calls go to cloudauth-intl.<region>.aliyuncs.com.",
							 "One of ap-southeast-1 (Singapore), ap-southeast-5 (Indonesia), ap-southeast-3 (Malaysia), cn-hongkong.  Not used when facecompare.endpoint is set.",
							 &region, FC_REGION_SINGAPORE, region_options,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("facecompare.use_internal_endpoint",
							 "Call the region's internal endpoint (cloudauth-intl-vpc) instead of the public one.",
							 "Only reachable from a VPC in the same region.  Not used when facecompare.endpoint is set.",
							 &use_internal_endpoint, false,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
	DefineCustomStringVariable("facecompare.endpoint",
							   "Base URL that overrides the region's endpoint, such as http://127.0.0.1:8089 for the emulator.",
							   "Empty: the region's endpoint.  Otherwise http(s)://host[:port], with no path, query or fragment.",
							   &endpoint, "",
							   PGC_SUSET, 0,
							   check_endpoint, NULL, NULL);
	DefineCustomIntVariable("facecompare.timeout",
							"Longest time one FaceCompare call may take: every attempt, its connection and the pauses between retries included.",
							"In milliseconds, 1 ms to 1 h, counted from the first send: waiting for a facecompare.max_qps slot before it is not counted.  An attempt gets what is left of it, and no retry starts after it.  In compare_many() it applies to each pair, in the queue to each run of a request.",
							&fc_timeout_ms, 10000, 1, 3600 * 1000,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("facecompare.connect_timeout",
							"Longest time an attempt waits for a new connection to the FaceCompare endpoint, TCP and TLS handshakes included.",
							"In milliseconds, 1 ms to 1 h; what is left of facecompare.timeout bounds it too.",
							&fc_connect_timeout_ms, 5000, 1, 3600 * 1000,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomStringVariable("facecompare.ca_file",
							   "File of CA certificates (PEM) that the service's TLS certificate must chain to.",
							   "A path on the database server; empty: the system's CA certificates.  Verification cannot be turned off.",
							   &fc_ca_file, "",
							   PGC_SUSET, 0,
							   NULL, NULL, NULL);
	DefineCustomBoolVariable("facecompare.raise_on_error",
							 "Make compare() raise an ERROR when a comparison fails; off returns the error in its result row instead.",
							 "Off lets a query over many rows finish and report which failed and why (error_sqlstate, error_code, error_message).  compare_many() and the queue always record a failure in the pair's row instead.  Cancel, timeouts of the statement, out of memory and internal errors always raise.",
							 &fc_raise_on_error, true,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("facecompare.max_retries",
							"How many times a call is tried again after an outcome that may pass (throttling, 5xx, a failed or reset connection).",
							"0 to 10; 0: never.  Refusals such as NoFaceDetected are never retried, nor a request that timed out once sent (the service may have acted on it), and no retry starts after facecompare.timeout.",
							&fc_max_retries, 2, 0, 10,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("facecompare.retry_delay",
							"Pause before the first retry; it doubles for each further one, up to 10 s.",
							"In milliseconds, 1 ms to 10 s.  Each pause is a random 50-100% of that, so that sessions do not retry in step, plus 1 s after throttling.  The queue's worker waits likewise before it runs a request again.",
							&fc_retry_delay_ms, 200, 1, 10000,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("facecompare.max_concurrency",
							"Most requests a batch (compare_many(), the queue's worker) has in flight at once.",
							"1 to 64.  Throughput is at most max_concurrency / latency and never more than facecompare.max_qps.",
							&fc_max_concurrency, 8, 1, FC_MAX_CONCURRENCY,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("facecompare.max_qps",
							"Most FaceCompare requests per second, for all sessions together (0: no limit).",
							"0 to 100000; retries count too.  Set it to the account's QPS limit so that no request is throttled.  Shared by all backends when facecompare is in shared_preload_libraries, else per session.",
							&fc_max_qps, 0, 0, 100000,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("facecompare.worker_max_attempts",
							"Most times the worker runs a queued request before marking it failed.",
							"1 to 100.  Each run is up to 1 + facecompare.max_retries HTTP requests.  An error that trying again cannot mend fails the request at once.",
							&fc_worker_max_attempts, 5, 1, 100,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("facecompare.keep_images",
							 "Keep a queued request's image bytes once it has finished.",
							 "Off: images are biometric data, dropped from facecompare.request as soon as a request is done or failed.",
							 &fc_keep_images, false,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("facecompare.retention",
							"How long finished requests stay in facecompare.request (0: for ever).",
							"In seconds.  The queue's worker deletes done and failed requests that finished longer ago than this, looking every minute, or twice per period if that is shorter.",
							&fc_retention_s, 0, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	/* Photo preparation: the mode is the caller's; the limits guard the server. */
	DefineCustomEnumVariable("facecompare.prepare_images",
							 "Which pictures are prepared (turned upright, scaled, re-encoded as JPEG without metadata) before the call.",
							 "off: sent as given (JPEG or PNG within the transfer limit only); when_needed: only a picture the service would refuse or misjudge as it is (not JPEG/PNG, over 1 MB once base64-encoded, outside 640x480..1920x1080, EXIF orientation other than 1); always: every picture.",
							 &fc_prepare_images, FC_PREPARE_WHEN_NEEDED, prepare_images_options,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("facecompare.max_image_pixels",
							"Most pixels (width times height, from the header) a picture to prepare may have.",
							"Checked on the header before anything is decoded, so a decompression bomb costs nothing.",
							&fc_max_image_pixels, FC_PHOTO_DEFAULT_MAX_PIXELS, 1000000, FC_PHOTO_MAX_SIDE * FC_PHOTO_MAX_SIDE,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("facecompare.max_image_bytes",
							"Most bytes a picture to prepare may have.",
							"Pictures sent as they are (prepare_images = off) stay within the service's limit of 786,432 bytes.",
							&fc_max_image_bytes, FC_PHOTO_DEFAULT_MAX_BYTES, 786432, (int) MaxAllocSize,
							PGC_SUSET, GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	/*
	 * Operations.  Both are the server's, not a session's (PGC_SIGHUP): they
	 * act on state all backends share, and a role must not lift the cap an
	 * administrator set.
	 */
	DefineCustomIntVariable("facecompare.breaker_cooldown",
							"How long the circuit breaker stays open after an account-level refusal before one probe request is sent (0: no breaker).",
							"In milliseconds, up to 1 day.  Forbidden.*, InvalidAccessKeyId.*, InvalidSecurityToken.* and SignatureDoesNotMatch open it for the credentials that got them: calls with them fail at once, unsent, and the queue waits.",
							&fc_breaker_cooldown_ms, 60000, 0, 24 * 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("facecompare.max_calls_per_day",
							"Most FaceCompare requests sent per day (UTC), retries included, by all sessions and the queue together (0: no cap).",
							"Beyond it calls fail with SQLSTATE 53400, unsent, and queued requests wait for midnight UTC.  Counted across restarts when facecompare is in shared_preload_libraries, else per session.",
							&fc_max_calls_per_day, 0, 0, INT_MAX,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	/* A postmaster setting can only be defined while preloading. */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomStringVariable("facecompare.worker_database",
								   "Database whose queue (facecompare.request) the background worker runs; empty: no worker.",
								   "Needs facecompare in shared_preload_libraries; read at server start.  The worker waits until the extension is installed in that database.",
								   &fc_worker_database, "",
								   PGC_POSTMASTER, 0,
								   NULL, NULL, NULL);

	/* The FaceQualityCheck request parameter (0.4.0). */
	DefineCustomBoolVariable("facecompare.face_quality_check",
							 "Ask the service to score each comparison's face quality (FaceQualityCheck=Y).",
							 "The answer's Result.ExtFaceInfo fills face_quality_score, illumination_score, occlusion_score, ka_occlusion_score and sharpness_score; off, they are NULL.  compare_rows() takes it as an argument too; the queue records it at enqueue().",
							 &fc_face_quality_check, false,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	/*
	 * Last: reserving the prefix drops every placeholder not defined by now,
	 * with the value postgresql.conf gave it.
	 */
	MarkGUCPrefixReserved("facecompare");
}

/*
 * Until a library is loaded, PostgreSQL keeps its settings as placeholders:
 * plain strings that any role can read with SHOW or current_setting().  So a
 * secret set in postgresql.conf or by ALTER SYSTEM is readable by everyone in
 * every session that has not loaded facecompare yet, unless the library is in
 * shared_preload_libraries.  Say so loudly when it was not preloaded.
 */
void
fc_warn_if_secrets_exposed(void)
{
	if (process_shared_preload_libraries_in_progress)
		return;
	if (nonempty_or_null(access_key_secret) == NULL && nonempty_or_null(security_token) == NULL)
		return;
	ereport(WARNING,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("facecompare is not in shared_preload_libraries, so its secret settings are exposed"),
			 errdetail("In sessions that have not loaded the library, any role can read facecompare.access_key_secret and facecompare.security_token with SHOW or current_setting()."),
			 errhint("Add facecompare to shared_preload_libraries and restart the server.")));
}

char *
fc_service_base_url(void)
{
	size_t		len;

	if (endpoint != NULL && endpoint[0] != '\0')
	{
		len = strlen(endpoint);
		if (endpoint[len - 1] == '/')
			len--;
		return pnstrdup(endpoint, len);
	}
	return psprintf("https://cloudauth-intl%s.%s.aliyuncs.com",
					use_internal_endpoint ? "-vpc" : "",
					region_options[region].name);
}

/* An environment variable's value, or NULL when unset or empty. */
static const char *
env_or_null(const char *name)
{
	const char *value = getenv(name);

	return (value != NULL && value[0] != '\0') ? value : NULL;
}

/*
 * Credentials come wholly from the settings when facecompare.access_key_id
 * is set, else wholly from the environment as the official SDKs read it: a
 * key from one place never meets a secret or token from the other.
 */
bool
fc_get_credentials(FcCredentials *creds, FcError *error)
{
	bool		from_settings = nonempty_or_null(access_key_id) != NULL;

	if (from_settings)
	{
		creds->access_key_id = access_key_id;
		creds->access_key_secret = nonempty_or_null(access_key_secret);
		creds->security_token = nonempty_or_null(security_token);
	}
	else
	{
		creds->access_key_id = env_or_null("ALIBABA_CLOUD_ACCESS_KEY_ID");
		creds->access_key_secret = env_or_null("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
		creds->security_token = env_or_null("ALIBABA_CLOUD_SECURITY_TOKEN");
	}

	if (creds->access_key_id == NULL)
	{
		fc_error(error, ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION,
				 "facecompare.access_key_id is not set");
		fc_error_detail(error, "FaceCompare calls are signed with an AccessKey, and none is configured.");
		fc_error_hint(error, "Run ALTER SYSTEM SET facecompare.access_key_id = '...' and SELECT pg_reload_conf(), or set ALIBABA_CLOUD_ACCESS_KEY_ID in the server's environment.");
		return false;
	}
	if (creds->access_key_secret == NULL)
	{
		fc_error(error, ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION,
				 "facecompare.access_key_secret is not set");
		fc_error_detail(error, "The AccessKey %s is configured %s, but its secret is not.",
						creds->access_key_id,
						from_settings ? "in facecompare.access_key_id" : "in ALIBABA_CLOUD_ACCESS_KEY_ID");
		fc_error_hint(error, "%s", from_settings
					  ? "Run ALTER SYSTEM SET facecompare.access_key_secret = '...' and SELECT pg_reload_conf()."
					  : "Set ALIBABA_CLOUD_ACCESS_KEY_SECRET in the server's environment.");
		return false;
	}
	return true;
}
