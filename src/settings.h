/*
 * settings.h
 *		Every facecompare.* setting: credentials, where calls go, timeouts,
 *		batches, the rate limit and the queue's worker.
 */
#ifndef SETTINGS_H
#define SETTINGS_H

#include "fcerror.h"

/* Credentials for one call, from the settings or else the environment. */
typedef struct FcCredentials
{
	const char *access_key_id;
	const char *access_key_secret;
	const char *security_token; /* NULL unless STS credentials are used */
} FcCredentials;

extern int	fc_timeout_ms;
extern int	fc_connect_timeout_ms;
extern int	fc_max_retries;
extern int	fc_retry_delay_ms;
extern char *fc_ca_file;
extern bool fc_raise_on_error;
extern int	fc_max_concurrency;
extern int	fc_max_qps;
extern char *fc_worker_database;	/* "" when no worker runs */
extern int	fc_worker_max_attempts;
extern bool fc_keep_images;
extern int	fc_retention_s;
extern int	fc_prepare_images;	/* FcPrepareMode (photo.h) */
extern int	fc_max_image_pixels;
extern int	fc_max_image_bytes;
extern bool fc_face_quality_check;
/* Operations: the circuit breaker and the spend cap. */
extern int	fc_breaker_cooldown_ms;
extern int	fc_max_calls_per_day;

/* Define every setting, then reserve the prefix; called once from _PG_init. */
extern void fc_settings_init(void);

/* Warn when secrets are configured but the library was loaded late. */
extern void fc_warn_if_secrets_exposed(void);

/*
 * The base URL calls go to, without a trailing slash: facecompare.endpoint
 * when set, else the region's public or internal host.  palloc'd.
 */
extern char *fc_service_base_url(void);

/* Fill creds, or say in *error which setting to set. */
extern bool fc_get_credentials(FcCredentials *creds, FcError *error);

#endif							/* SETTINGS_H */
