/*
 * redact.c
 *		Keep the values of the secret settings out of the server log.
 *
 * PostgreSQL itself logs a secret in plain text in two places we cannot turn
 * off: the postmaster's "parameter ... changed to ..." line after a reload
 * (so ALTER SYSTEM SET facecompare.access_key_secret + pg_reload_conf() would
 * write it to the log), and any statement text that sets it (log_statement,
 * log_min_duration_statement, or the STATEMENT line of an error).  A log
 * hook cuts a message right after a secret setting's name where a value
 * follows it ("= v", "TO v", ", v", "changed to v"), cuts logged statement
 * text that names one anywhere, and hides such a statement from error
 * reports.
 * It works in the processes that loaded the library, so with the documented
 * set-up (shared_preload_libraries) in the postmaster and every backend.
 */
#include "postgres.h"

#include "tcop/tcopprot.h"
#include "utils/elog.h"

#include "redact.h"

static const char *const secret_settings[] = {
	"facecompare.access_key_secret",
	"facecompare.security_token",
};

static emit_log_hook_type prev_emit_log_hook = NULL;

/* Where text first names a secret setting (any case), or NULL; sets *name_len. */
static const char *
find_secret_setting(const char *text, size_t *name_len)
{
	const char *first = NULL;

	if (text == NULL)
		return NULL;
	for (size_t i = 0; i < lengthof(secret_settings); i++)
	{
		const char *at = strcasestr(text, secret_settings[i]);

		if (at != NULL && (first == NULL || at < first))
		{
			first = at;
			*name_len = strlen(secret_settings[i]);
		}
	}
	return first;
}

/* Does a value follow a setting's name: "= v", "TO v", ", v", "changed to v"? */
static bool
value_follows(const char *rest)
{
	if (*rest == '"' || *rest == '\'')
		rest++;
	while (*rest == ' ')
		rest++;
	return *rest == '=' || *rest == ',' ||
		pg_strncasecmp(rest, "to ", 3) == 0 ||
		pg_strncasecmp(rest, "changed to ", 11) == 0;
}

/* Log lines that quote a statement's text (server log only). */
static bool
quotes_statement(const char *message)
{
	return strncmp(message, "statement: ", 11) == 0 ||
		strncmp(message, "duration: ", 10) == 0 ||
		strncmp(message, "execute ", 8) == 0;
}

/*
 * Cut text right after the first mention of a secret setting that is
 * followed by a value.  Statement text (whole) that names one anywhere is
 * dropped entirely, since there the value may come first (UPDATE pg_settings
 * SET setting = '...' WHERE name = '...'); a "statement: " label is kept.
 */
static char *
redact(char *text, bool whole)
{
	const char *scan = text;
	const char *at;
	size_t		name_len;

	while ((at = find_secret_setting(scan, &name_len)) != NULL)
	{
		const char *rest = at + name_len;

		if (whole)
		{
			const char *label = strstr(text, "statement: ");
			int			keep = label ? (int) (label - text) + 11 : 0;

			return psprintf("%.*s[statement redacted by facecompare: it names %.*s]",
							keep, text, (int) name_len, at);
		}
		if (value_follows(rest))
		{
			size_t		keep = rest - text;

			if (text[keep] == '"' || text[keep] == '\'')
				keep++;
			return psprintf("%.*s [value redacted by facecompare]", (int) keep, text);
		}
		scan = rest;
	}
	return text;
}

static void
redact_secrets(ErrorData *edata)
{
	size_t		name_len;

	if (edata->message)
		edata->message = redact(edata->message, quotes_statement(edata->message));
	if (edata->detail)
		edata->detail = redact(edata->detail, false);
	if (edata->detail_log)
		edata->detail_log = redact(edata->detail_log, false);
	if (edata->context)
		edata->context = redact(edata->context, false);
	if (edata->internalquery)
		edata->internalquery = redact(edata->internalquery, true);
	if (find_secret_setting(debug_query_string, &name_len) != NULL)
		edata->hide_stmt = true;

	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

void
fc_redact_init(void)
{
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = redact_secrets;
}
