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
 *
 * The scanner and the in-place editors come first and use no PostgreSQL
 * header, so the unit tests build this file with -DFC_REDACT_PURE.
 */
#ifndef FC_REDACT_PURE
#include "postgres.h"

#include "tcop/tcopprot.h"
#include "utils/elog.h"
#else
#include <stdio.h>
#include <string.h>
#endif

#include "redact.h"

#define VALUE_MASK "********"

/* The setting names without their prefix, by FcSecretSetting. */
static const char *const secret_suffixes[FC_SECRET_COUNT] = {
	"access_key_secret",
	"security_token",
};

#define SECRET_PREFIX "facecompare"

/*
 * The scanner feeds the decoded characters of every identifier and string
 * literal, joined with nothing between them, to this matcher: so
 * 'facecompare.' || 'access_key_secret', "facecompare" . access_key_secret
 * and format('%s.%s', 'facecompare', 'security_token') all spell a name.  A
 * statement names a setting when "facecompare" and the setting's own name
 * both occur, in any order.
 */
typedef struct Matcher
{
	unsigned char ring[32];		/* the last characters fed, lower case */
	size_t		fed;
	bool		prefix;
	unsigned	suffixes;
} Matcher;

static inline unsigned char
ascii_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static bool
ring_ends_with(const Matcher *m, const char *word, size_t len)
{
	if (m->fed < len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (m->ring[(m->fed - len + i) & 31] != (unsigned char) word[i])
			return false;
	return true;
}

static void
match_char(Matcher *m, unsigned char c)
{
	c = ascii_lower(c);
	m->ring[m->fed++ & 31] = c;
	if (c == 'e' && ring_ends_with(m, SECRET_PREFIX, sizeof(SECRET_PREFIX) - 1))
		m->prefix = true;
	for (int i = 0; i < FC_SECRET_COUNT; i++)
	{
		size_t		len = strlen(secret_suffixes[i]);

		if (c == (unsigned char) secret_suffixes[i][len - 1] &&
			ring_ends_with(m, secret_suffixes[i], len))
			m->suffixes |= 1u << i;
	}
}

typedef struct Scanner
{
	const unsigned char *s;
	size_t		len;
	bool		std_strings;
	Matcher		m;
	FcSqlScan  *out;
	bool		after_execute;	/* the last token was the keyword EXECUTE */
	/* The identifier being read, for EXECUTE's operand. */
	char		ident[FC_SCAN_NAME_LEN];
	size_t		ident_len;
	bool		ident_readable;
} Scanner;

static inline bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static inline bool
is_ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static inline bool
is_ident_char(unsigned char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

static inline int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = ascii_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static inline unsigned char
at(const Scanner *sc, size_t i)
{
	return i < sc->len ? sc->s[i] : '\0';
}

/* A decoded character of an identifier or literal. */
static void
emit(Scanner *sc, unsigned long code)
{
	unsigned char c = code < 0x80 ? (unsigned char) code : 0x80;

	match_char(&sc->m, c);
	if (code > 0xff)
		sc->ident_readable = false;
	if (sc->ident_len < FC_SCAN_NAME_LEN - 1)
		sc->ident[sc->ident_len++] = (char) code;
}

static void
begin_token(Scanner *sc)
{
	sc->ident_len = 0;
	sc->ident_readable = true;
}

/* A token other than an identifier: EXECUTE's operand is not coming. */
static void
other_token(Scanner *sc)
{
	sc->after_execute = false;
}

static void
end_identifier(Scanner *sc, bool quoted)
{
	FcSqlScan  *out = sc->out;

	sc->ident[sc->ident_len] = '\0';
	if (sc->after_execute)
	{
		if (!sc->ident_readable || out->nexecute == FC_SCAN_MAX_EXECUTE)
			out->execute_unknown = true;
		else
			memcpy(out->execute[out->nexecute++], sc->ident, sc->ident_len + 1);
	}
	sc->after_execute = !quoted && sc->ident_len == 7 &&
		memcmp(sc->ident, "execute", 7) == 0;
}

/* Past blanks and comments (block comments nest) from i. */
static size_t
skip_blanks(const Scanner *sc, size_t i)
{
	while (i < sc->len)
	{
		unsigned char c = sc->s[i];

		if (is_space(c))
			i++;
		else if (c == '-' && at(sc, i + 1) == '-')
		{
			while (i < sc->len && sc->s[i] != '\n')
				i++;
		}
		else if (c == '/' && at(sc, i + 1) == '*')
		{
			size_t		depth = 1;

			i += 2;
			while (i < sc->len && depth > 0)
			{
				if (sc->s[i] == '/' && at(sc, i + 1) == '*')
				{
					depth++;
					i += 2;
				}
				else if (sc->s[i] == '*' && at(sc, i + 1) == '/')
				{
					depth--;
					i += 2;
				}
				else
					i++;
			}
		}
		else
			break;
	}
	return i;
}

/* One backslash escape of an E'' string at i (after the backslash). */
static size_t
escape_at(Scanner *sc, size_t i)
{
	unsigned char c = at(sc, i);
	unsigned long code = 0;
	int			n = 0;

	if (i >= sc->len)
		return i;
	switch (c)
	{
		case 'b':
			emit(sc, '\b');
			return i + 1;
		case 'f':
			emit(sc, '\f');
			return i + 1;
		case 'n':
			emit(sc, '\n');
			return i + 1;
		case 'r':
			emit(sc, '\r');
			return i + 1;
		case 't':
			emit(sc, '\t');
			return i + 1;
		case 'x':
			while (n < 2 && hex_value(at(sc, i + 1 + n)) >= 0)
				code = code * 16 + hex_value(at(sc, i + 1 + n++));
			emit(sc, n > 0 ? code : 'x');
			return i + 1 + n;
		case 'u':
		case 'U':
			{
				int			want = c == 'u' ? 4 : 8;

				while (n < want && hex_value(at(sc, i + 1 + n)) >= 0)
					code = code * 16 + hex_value(at(sc, i + 1 + n++));
				if (n < want)
				{
					emit(sc, c);
					return i + 1;
				}
				emit(sc, code);
				return i + 1 + n;
			}
		default:
			if (c >= '0' && c <= '7')
			{
				while (n < 3 && at(sc, i + n) >= '0' && at(sc, i + n) <= '7')
					code = code * 8 + (at(sc, i + n++) - '0');
				emit(sc, code & 0xff);
				return i + n;
			}
			emit(sc, c);
			return i + 1;
	}
}

/*
 * A '...' literal opening at i, with backslash escapes when escapes; then
 * the literals that continue it after a newline ('a'<newline>'b').
 */
static size_t
string_literal(Scanner *sc, size_t i, bool escapes)
{
	for (;;)
	{
		size_t		next;
		bool		newline = false;

		i++;
		while (i < sc->len)
		{
			unsigned char c = sc->s[i];

			if (c == '\'')
			{
				if (at(sc, i + 1) != '\'')
					break;
				emit(sc, '\'');
				i += 2;
			}
			else if (c == '\\' && escapes)
				i = escape_at(sc, i + 1);
			else
			{
				emit(sc, c);
				i++;
			}
		}
		if (i >= sc->len)
			return sc->len;
		i++;
		for (next = i; next < sc->len && is_space(sc->s[next]); next++)
			newline |= sc->s[next] == '\n' || sc->s[next] == '\r';
		if (!newline || at(sc, next) != '\'')
			return i;
		i = next;
	}
}

/* A "..." identifier opening at i. */
static size_t
quoted_identifier(Scanner *sc, size_t i)
{
	begin_token(sc);
	for (i++; i < sc->len; i++)
	{
		if (sc->s[i] == '"')
		{
			if (at(sc, i + 1) != '"')
				break;
			i++;
		}
		emit(sc, sc->s[i]);
	}
	end_identifier(sc, true);
	return i < sc->len ? i + 1 : sc->len;
}

/*
 * A U&'...' or U&"..." literal whose quote is at i: find its end, read a
 * UESCAPE clause after it, then decode it with that escape character.
 */
static size_t
unicode_literal(Scanner *sc, size_t i)
{
	unsigned char quote = sc->s[i];
	unsigned char escape = '\\';
	size_t		body = i + 1;
	size_t		end;
	size_t		resume;
	size_t		k;

	for (end = body; end < sc->len; end++)
	{
		if (sc->s[end] == quote)
		{
			if (at(sc, end + 1) != quote)
				break;
			end++;
		}
	}
	resume = end < sc->len ? end + 1 : sc->len;

	k = skip_blanks(sc, resume);
	if (k + 7 <= sc->len && !is_ident_char(at(sc, k + 7)))
	{
		static const char uescape[] = "uescape";
		size_t		n;

		for (n = 0; n < 7 && ascii_lower(sc->s[k + n]) == (unsigned char) uescape[n]; n++)
			;
		if (n == 7)
		{
			k = skip_blanks(sc, k + 7);
			if (at(sc, k) == '\'' && at(sc, k + 1) != '\'' && at(sc, k + 2) == '\'' &&
				k + 2 < sc->len)
			{
				escape = sc->s[k + 1];
				resume = k + 3;
			}
		}
	}

	begin_token(sc);
	for (k = body; k < end;)
	{
		unsigned char c = sc->s[k];
		unsigned long code = 0;
		int			n;

		if (c == quote)
		{
			emit(sc, c);
			k += 2;
		}
		else if (c == escape && k + 1 < end && sc->s[k + 1] == escape)
		{
			emit(sc, c);
			k += 2;
		}
		else if (c == escape && k + 1 < end && sc->s[k + 1] == '+')
		{
			for (n = 0; n < 6 && k + 2 + n < end && hex_value(sc->s[k + 2 + n]) >= 0; n++)
				code = code * 16 + hex_value(sc->s[k + 2 + n]);
			if (n == 6)
			{
				emit(sc, code);
				k += 8;
			}
			else
			{
				emit(sc, c);
				k++;
			}
		}
		else if (c == escape)
		{
			for (n = 0; n < 4 && k + 1 + n < end && hex_value(sc->s[k + 1 + n]) >= 0; n++)
				code = code * 16 + hex_value(sc->s[k + 1 + n]);
			if (n == 4)
			{
				emit(sc, code);
				k += 5;
			}
			else
			{
				emit(sc, c);
				k++;
			}
		}
		else
		{
			emit(sc, c);
			k++;
		}
	}
	if (quote == '"')
	{
		/* A name decoded from escapes is not looked up: assume the worst. */
		sc->ident_readable = false;
		end_identifier(sc, true);
	}
	else
		other_token(sc);
	return resume;
}

/*
 * A $tag$...$tag$ literal at i, or a parameter or operator: returns i
 * unchanged when there is no literal.  Long tags are not taken for quotes,
 * which keeps the search for the closing tag linear.
 */
static size_t
dollar_literal(Scanner *sc, size_t i)
{
	size_t		j = i + 1;
	size_t		tag_len;

	if (j < sc->len && is_ident_start(sc->s[j]))
		while (j < sc->len && is_ident_char(sc->s[j]) && sc->s[j] != '$')
			j++;
	if (at(sc, j) != '$' || j >= sc->len)
		return i;
	tag_len = j + 1 - i;
	if (tag_len > FC_SCAN_NAME_LEN)
		return i;
	for (j++; j < sc->len; j++)
	{
		if (sc->s[j] == '$' && j + tag_len <= sc->len &&
			memcmp(sc->s + j, sc->s + i, tag_len) == 0)
			return j + tag_len;
		emit(sc, sc->s[j]);
	}
	return sc->len;
}

void
fc_scan_sql(const char *sql, size_t len, bool std_strings, FcSqlScan *scan)
{
	Scanner		sc;
	size_t		i = 0;

	memset(scan, 0, sizeof(*scan));
	memset(&sc, 0, sizeof(sc));
	sc.s = (const unsigned char *) sql;
	sc.len = sql != NULL ? len : 0;
	sc.std_strings = std_strings;
	sc.out = scan;

	while (i < sc.len)
	{
		unsigned char c = sc.s[i];
		unsigned char next = at(&sc, i + 1);
		size_t		after;

		if (is_space(c) || (c == '-' && next == '-') || (c == '/' && next == '*'))
			i = skip_blanks(&sc, i);
		else if ((c == 'u' || c == 'U') && next == '&' &&
				 (at(&sc, i + 2) == '\'' || at(&sc, i + 2) == '"'))
			i = unicode_literal(&sc, i + 2);
		else if ((c == 'e' || c == 'E') && next == '\'')
		{
			i = string_literal(&sc, i + 1, true);
			other_token(&sc);
		}
		else if ((c == 'n' || c == 'N' || c == 'b' || c == 'B' || c == 'x' || c == 'X') &&
				 next == '\'')
		{
			i = string_literal(&sc, i + 1, !std_strings);
			other_token(&sc);
		}
		else if (is_ident_start(c))
		{
			begin_token(&sc);
			while (i < sc.len && is_ident_char(sc.s[i]))
				emit(&sc, ascii_lower(sc.s[i++]));
			end_identifier(&sc, false);
		}
		else if (c == '"')
			i = quoted_identifier(&sc, i);
		else if (c == '\'')
		{
			i = string_literal(&sc, i, !std_strings);
			other_token(&sc);
		}
		else if (c == '$' && (after = dollar_literal(&sc, i)) != i)
		{
			i = after;
			other_token(&sc);
		}
		else
		{
			/* Operators, punctuation, numbers, parameters: one byte each. */
			other_token(&sc);
			i++;
		}
	}
	if (sc.m.prefix)
		scan->names = sc.m.suffixes;
}

static size_t
hex_run(const char *p)
{
	size_t		n = 0;

	while (hex_value((unsigned char) p[n]) >= 0)
		n++;
	return n;
}

bool
fc_has_hex_run(const char *text, size_t max_digits)
{
	if (text == NULL)
		return false;
	while (*text)
	{
		size_t		n = hex_run(text);

		if (n > max_digits)
			return true;
		text += n > 0 ? n : 1;
	}
	return false;
}

bool
fc_cut_hex_runs(char *text, size_t max_digits)
{
	char	   *r = text;
	char	   *w = text;
	bool		cut = false;

	if (text == NULL || !fc_has_hex_run(text, max_digits))
		return false;
	while (*r)
	{
		size_t		n = hex_run(r);

		if (n > max_digits && max_digits >= 64)
		{
			char		note[64];
			int			note_len = snprintf(note, sizeof(note),
											"[%zu hex digits cut by facecompare]", n);

			/* The note is shorter than the run, so w stays behind r. */
			memcpy(w, note, note_len);
			w += note_len;
			r += n;
			cut = true;
		}
		else if (n > 0)
		{
			memmove(w, r, n);
			w += n;
			r += n;
		}
		else
			*w++ = *r++;
	}
	*w = '\0';
	return cut;
}

bool
fc_mask_value(char *text, const char *value)
{
	size_t		value_len;
	char	   *r;
	char	   *w;
	char	   *hit;

	if (text == NULL || value == NULL)
		return false;
	value_len = strlen(value);
	/* The mask must not be longer than what it replaces. */
	if (value_len < sizeof(VALUE_MASK) - 1 || (hit = strstr(text, value)) == NULL)
		return false;
	r = w = text;
	do
	{
		memmove(w, r, hit - r);
		w += hit - r;
		memcpy(w, VALUE_MASK, sizeof(VALUE_MASK) - 1);
		w += sizeof(VALUE_MASK) - 1;
		r = hit + value_len;
	} while ((hit = strstr(r, value)) != NULL);
	memmove(w, r, strlen(r) + 1);
	return true;
}

#ifndef FC_REDACT_PURE

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

#endif							/* FC_REDACT_PURE */
