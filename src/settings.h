/*
 * settings.h
 *		The facecompare.* settings: credentials, where calls go, timeouts.
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

/* Define the settings; called once from _PG_init. */
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
