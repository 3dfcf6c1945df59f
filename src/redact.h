/*
 * redact.h
 *		Keep the values of the secret settings, and image bytes, out of the
 *		server log and pg_stat_activity.
 *
 * The scanner and the in-place editors below are pure (no PostgreSQL
 * header), so the unit tests build them with -DFC_REDACT_PURE.
 */
#ifndef REDACT_H
#define REDACT_H

#include <stdbool.h>
#include <stddef.h>

/* The secret settings, as bits of FcSqlScan.names. */
typedef enum FcSecretSetting
{
	FC_SECRET_ACCESS_KEY_SECRET,
	FC_SECRET_SECURITY_TOKEN,
	FC_SECRET_COUNT
} FcSecretSetting;

#define FC_SCAN_MAX_EXECUTE 8
#define FC_SCAN_NAME_LEN 64		/* NAMEDATALEN: a prepared statement's name */

/* What fc_scan_sql found in a statement's text. */
typedef struct FcSqlScan
{
	unsigned	names;			/* 1 << FcSecretSetting for each spelt */
	int			nexecute;		/* prepared statements it EXECUTEs */
	bool		execute_unknown;	/* ... more, or names it could not read */
	char		execute[FC_SCAN_MAX_EXECUTE][FC_SCAN_NAME_LEN];
} FcSqlScan;

/*
 * Scan SQL text (len bytes, NUL not needed) for the names of the secret
 * settings however they are spelt: case, blanks, comments, quoted and U&
 * identifiers, string literals of every kind, and names split across
 * literals.  Also lists the prepared statements it EXECUTEs, so the caller
 * can scan their text.  O(len) time, no allocation, never fails.
 * std_strings is standard_conforming_strings.
 */
extern void fc_scan_sql(const char *sql, size_t len, bool std_strings, FcSqlScan *scan);

/* Does text hold a run of more than max_digits hex digits? */
extern bool fc_has_hex_run(const char *text, size_t max_digits);

/*
 * Cut each run of more than max_digits (>= 64) hex digits in text, in place,
 * to "[N hex digits cut by facecompare]"; returns whether it cut any.
 */
extern bool fc_cut_hex_runs(char *text, size_t max_digits);

/* Replace each occurrence of value in text, in place, by "********". */
extern bool fc_mask_value(char *text, const char *value);

#ifndef FC_REDACT_PURE

/* Install the hooks; called once from _PG_init. */
extern void fc_redact_init(void);

/*
 * The check hook of a secret setting saw value: remember it until the next
 * one, and when it was set in this session, hide the statement from
 * pg_stat_activity.
 */
extern void fc_redact_note_secret(FcSecretSetting which, const char *value,
								  bool in_session);

/*
 * A function that takes images runs: hide the current statement from error
 * reports and duration lines, since it may quote the image bytes.
 */
extern void fc_redact_note_image_call(void);

#endif							/* FC_REDACT_PURE */

#endif							/* REDACT_H */
