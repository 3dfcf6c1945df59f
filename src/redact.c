/*
 * redact.c
 *		Keep the values of the secret settings, and image bytes, out of the
 *		server log and pg_stat_activity.
 *
 * PostgreSQL itself logs a secret in plain text in places we cannot turn
 * off: the postmaster's "parameter ... changed to ..." line after a reload,
 * any statement text that sets it (log_statement, log_min_duration_statement,
 * the STATEMENT line of an error, the extended protocol's "parameters: $1 =
 * ..." detail), and pg_stat_activity, which keeps an idle session's last
 * statement.  A log hook therefore
 *
 *	- cuts a message right after a secret setting's name where a value
 *	  follows it ("= v", "TO v", ", v", "changed to v");
 *	- replaces logged statement text that names one, however spelt (a small
 *	  SQL scanner below reads comments, quoted and U& identifiers, every kind
 *	  of string literal, and names split across literals), and hides such a
 *	  statement, and its parameters, from error reports;
 *	- masks the current value of each secret, and the last value its check
 *	  hook saw, wherever it appears;
 *	- cuts long hex runs (bytea literals of images) from logged statements,
 *	  and hides the statement of a call that took images from its errors and
 *	  duration line, since PostgreSQL's own errors (a cancel, a timeout)
 *	  would quote it.
 *
 * Hooks on parse analysis, utility statements and the settings' check hooks
 * overwrite this backend's pg_stat_activity text when a statement names or
 * sets a secret.  All of it works in the processes that loaded the library,
 * so with the documented set-up (shared_preload_libraries) in the postmaster
 * and every backend.
 *
 * The scanner and the in-place editors come first and use no PostgreSQL
 * header, so the unit tests build this file with -DFC_REDACT_PURE.  Nothing
 * here may raise an ERROR or allocate more than a message's size: the log
 * hook runs inside error reporting.
 */
#ifndef FC_REDACT_PURE
#include "postgres.h"

#include "access/xact.h"
#include "commands/prepare.h"
#include "nodes/parsenodes.h"
#include "parser/analyze.h"
#include "parser/parser.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/backend_status.h"
#include "utils/elog.h"
#include "utils/guc.h"
#include "utils/plancache.h"
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
		else if (c == escape)
		{
			/* \XXXX, or \+XXXXXX; anything else is the escape character itself. */
			bool		plus = k + 1 < end && sc->s[k + 1] == '+';
			int			digits = plus ? 6 : 4;
			size_t		first = k + (plus ? 2 : 1);

			for (n = 0; n < digits && first + n < end && hex_value(sc->s[first + n]) >= 0; n++)
				code = code * 16 + hex_value(sc->s[first + n]);
			if (n == digits)
			{
				emit(sc, code);
				k = first + n;
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

static const char *const secret_settings[FC_SECRET_COUNT] = {
	"facecompare.access_key_secret",
	"facecompare.security_token",
};

/* Values shorter than this are not masked: they would mask everything. */
#define MIN_VALUE_LEN 8
/* Hex runs longer than this in logged text are image bytes: cut them. */
#define MAX_HEX_DIGITS 256
/* FcSqlScan.names bit: EXECUTEs a statement we could not look up. */
#define NAMES_UNKNOWN (1u << FC_SECRET_COUNT)

static emit_log_hook_type prev_emit_log_hook = NULL;
static post_parse_analyze_hook_type prev_post_parse_analyze_hook = NULL;
static ProcessUtility_hook_type prev_ProcessUtility_hook = NULL;

/*
 * The last value each secret's check hook saw (malloc'd), when it may not
 * be the current one yet: ALTER SYSTEM before a reload, a SET that failed.
 * One per setting, wiped when replaced.
 */
static char *seen_values[FC_SECRET_COUNT];
static uint64 seen_generation = 0;

/* The statement that called a function taking images (compared, never read). */
static const char *image_statement = NULL;
static TimestampTz image_statement_start = 0;

/* Values to mask: the current ones and the ones just seen. */
typedef struct KnownValues
{
	const char *current[FC_SECRET_COUNT];
	const char *values[2 * FC_SECRET_COUNT];
	int			n;
} KnownValues;

/* What debug_query_string holds, worked out once per statement. */
typedef struct StatementInfo
{
	bool		valid;
	const char *text;
	TimestampTz start;
	uint64		generation;
	const char *current[FC_SECRET_COUNT];
	size_t		len;
	unsigned	names;			/* spelt names, NAMES_UNKNOWN */
	bool		has_value;		/* holds a known value */
	bool		long_hex;		/* holds image bytes as hex */
	bool		activity_redacted;
} StatementInfo;

static StatementInfo statement;

static void
add_value(KnownValues *kv, const char *value)
{
	if (value == NULL || strlen(value) < MIN_VALUE_LEN)
		return;
	for (int i = 0; i < kv->n; i++)
		if (strcmp(kv->values[i], value) == 0)
			return;
	kv->values[kv->n++] = value;
}

static void
known_values(KnownValues *kv)
{
	kv->n = 0;
	for (int i = 0; i < FC_SECRET_COUNT; i++)
	{
		/* The raw value: GetConfigOption does not call the show hook. */
		kv->current[i] = GetConfigOption(secret_settings[i], true, false);
		add_value(kv, kv->current[i]);
	}
	for (int i = 0; i < FC_SECRET_COUNT; i++)
		add_value(kv, seen_values[i]);
}

static bool
holds_known_value(const char *text, const KnownValues *kv)
{
	for (int i = 0; i < kv->n; i++)
		if (strstr(text, kv->values[i]) != NULL)
			return true;
	return false;
}

static void
mask_known_values(char *text, const KnownValues *kv)
{
	if (text == NULL)
		return;
	for (int i = 0; i < kv->n; i++)
		fc_mask_value(text, kv->values[i]);
}

/* The secret settings SQL text names, following its EXECUTEs once. */
static unsigned
names_in(const char *text, size_t len)
{
	FcSqlScan	scan;
	unsigned	names;

	fc_scan_sql(text, len, standard_conforming_strings, &scan);
	names = scan.names;
	if (scan.execute_unknown)
		names |= NAMES_UNKNOWN;
	for (int i = 0; i < scan.nexecute; i++)
	{
		PreparedStatement *prepared = FetchPreparedStatement(scan.execute[i], false);
		FcSqlScan	inner;
		const char *source;

		if (prepared == NULL || prepared->plansource == NULL ||
			(source = prepared->plansource->query_string) == NULL)
			continue;
		fc_scan_sql(source, strlen(source), standard_conforming_strings, &inner);
		names |= inner.names;
	}
	return names;
}

/* "names facecompare.access_key_secret", for a redaction note. */
static const char *
describe(unsigned names)
{
	if (names & (1u << FC_SECRET_ACCESS_KEY_SECRET))
		return "names facecompare.access_key_secret";
	if (names & (1u << FC_SECRET_SECURITY_TOKEN))
		return "names facecompare.security_token";
	if (names & NAMES_UNKNOWN)
		return "may name a secret setting";
	return "holds the value of a secret setting";
}

/* What the current top-level statement holds, or NULL outside one. */
static StatementInfo *
current_statement(const KnownValues *kv)
{
	const char *text = debug_query_string;
	TimestampTz start;

	if (text == NULL)
		return NULL;
	start = GetCurrentStatementStartTimestamp();
	if (statement.valid && statement.text == text && statement.start == start &&
		statement.generation == seen_generation &&
		memcmp(statement.current, kv->current, sizeof(kv->current)) == 0)
		return &statement;

	statement.valid = true;
	statement.text = text;
	statement.start = start;
	statement.generation = seen_generation;
	memcpy(statement.current, kv->current, sizeof(kv->current));
	statement.len = strlen(text);
	statement.names = names_in(text, statement.len);
	statement.has_value = holds_known_value(text, kv);
	statement.long_hex = fc_has_hex_run(text, MAX_HEX_DIGITS);
	statement.activity_redacted = false;
	return &statement;
}

/* Is the current statement one that called a function taking images? */
static bool
image_call_running(void)
{
	return debug_query_string != NULL && debug_query_string == image_statement &&
		GetCurrentStatementStartTimestamp() == image_statement_start;
}

/* Where text first names a secret setting (any case), or NULL; sets *name_len. */
static const char *
find_secret_setting(const char *text, size_t *name_len)
{
	const char *first = NULL;

	if (text == NULL)
		return NULL;
	for (size_t i = 0; i < lengthof(secret_settings); i++)
	{
		const char *found = strcasestr(text, secret_settings[i]);

		if (found != NULL && (first == NULL || found < first))
		{
			first = found;
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
 * Where the statement text starts in a line quotes_statement() accepts:
 * after "statement: ", or after "execute|bind|parse <name>: ", each maybe
 * behind "duration: N ms  ".  0 when there is none.  An early ": " in a
 * name only makes the label shorter, never longer.
 */
static size_t
statement_label_end(const char *message)
{
	const char *p = message;
	const char *colon;

	if (strncmp(p, "duration: ", 10) == 0)
	{
		if ((p = strstr(p + 10, " ms  ")) == NULL)
			return 0;
		p += 5;
	}
	if (strncmp(p, "statement: ", 11) == 0)
		return p + 11 - message;
	if ((strncmp(p, "execute ", 8) == 0 || strncmp(p, "bind ", 5) == 0 ||
		 strncmp(p, "parse ", 6) == 0) &&
		(colon = strstr(p, ": ")) != NULL)
		return colon + 2 - message;
	return 0;
}

/* Cut text right after the first mention of a secret setting followed by a value. */
static char *
cut_after_name(char *text)
{
	const char *scan = text;
	const char *found;
	size_t		name_len;

	while ((found = find_secret_setting(scan, &name_len)) != NULL)
	{
		const char *rest = found + name_len;

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

/*
 * Cut parameter values ("$1 = '...'") from a detail or context line of a
 * statement that names a secret: the extended protocol sends values apart.
 */
static char *
cut_parameters(char *text)
{
	for (const char *p = strchr(text, '$'); p != NULL; p = strchr(p + 1, '$'))
	{
		const char *q = p + 1;

		while (*q >= '0' && *q <= '9')
			q++;
		if (q > p + 1 && strncmp(q, " = ", 3) == 0)
			return psprintf("%.*s[parameters redacted by facecompare]", (int) (p - text), text);
	}
	return text;
}

/* A message: statement lines by the scanner, others by cut_after_name. */
static char *
redact_message(char *message, const KnownValues *kv, const StatementInfo *st,
			   bool images, bool *sensitive)
{
	size_t		len = strlen(message);
	size_t		keep;
	unsigned	names;

	/*
	 * A line that ends with the current statement quotes it, whatever the
	 * language of its label; otherwise know the English labels.
	 */
	if (st != NULL && st->len > 0 && len >= st->len &&
		memcmp(message + len - st->len, st->text, st->len) == 0)
	{
		keep = len - st->len;
		names = st->names;
	}
	else if (quotes_statement(message))
	{
		keep = statement_label_end(message);
		names = names_in(message + keep, len - keep);
	}
	else
	{
		message = cut_after_name(message);
		mask_known_values(message, kv);
		fc_cut_hex_runs(message, MAX_HEX_DIGITS);
		return message;
	}

	if (names != 0)
	{
		*sensitive = true;
		return psprintf("%.*s[statement redacted by facecompare: it %s]",
						(int) keep, message, describe(names));
	}
	if (images && keep > 0 && strncmp(message, "duration: ", 10) == 0)
		return psprintf("%.*s[statement text hidden by facecompare: it passed images to facecompare]",
						(int) keep, message);
	if (holds_known_value(message, kv))
	{
		*sensitive = true;
		mask_known_values(message, kv);
	}
	fc_cut_hex_runs(message, MAX_HEX_DIGITS);
	return message;
}

static char *
redact_detail(char *detail, const KnownValues *kv, bool sensitive)
{
	if (detail == NULL)
		return NULL;
	if (strncmp(detail, "prepare: ", 9) == 0)
	{
		unsigned	names = names_in(detail + 9, strlen(detail + 9));

		if (names != 0)
			return psprintf("prepare: [statement redacted by facecompare: it %s]",
							describe(names));
	}
	if (sensitive)
		detail = cut_parameters(detail);
	detail = cut_after_name(detail);
	mask_known_values(detail, kv);
	fc_cut_hex_runs(detail, MAX_HEX_DIGITS);
	return detail;
}

/*
 * A context: its lines may quote an inner statement over several lines, so
 * one that names a secret anywhere goes whole.
 */
static char *
redact_context(char *context, const KnownValues *kv, bool sensitive)
{
	unsigned	names;

	if (context == NULL)
		return NULL;
	names = names_in(context, strlen(context));
	if (names != 0)
		return psprintf("[context redacted by facecompare: it %s]", describe(names));
	if (sensitive)
		context = cut_parameters(context);
	mask_known_values(context, kv);
	fc_cut_hex_runs(context, MAX_HEX_DIGITS);
	return context;
}

static void
redact_log(ErrorData *edata)
{
	KnownValues kv;
	StatementInfo *st;
	bool		images;
	bool		sensitive;

	known_values(&kv);
	st = current_statement(&kv);
	images = image_call_running();
	sensitive = st != NULL && (st->names != 0 || st->has_value);

	if (edata->message)
		edata->message = redact_message(edata->message, &kv, st, images, &sensitive);
	edata->detail = redact_detail(edata->detail, &kv, sensitive);
	edata->detail_log = redact_detail(edata->detail_log, &kv, sensitive);
	mask_known_values(edata->hint, &kv);
	fc_cut_hex_runs(edata->hint, MAX_HEX_DIGITS);
	edata->context = redact_context(edata->context, &kv, sensitive);
	if (edata->internalquery)
	{
		unsigned	names = names_in(edata->internalquery, strlen(edata->internalquery));

		if (names != 0)
		{
			edata->internalquery = psprintf("[query redacted by facecompare: it %s]",
											describe(names));
			edata->internalpos = 0;
		}
		else
		{
			mask_known_values(edata->internalquery, &kv);
			if (fc_cut_hex_runs(edata->internalquery, MAX_HEX_DIGITS))
				edata->internalpos = 0;
		}
	}
	/* The STATEMENT line cannot be edited, only left out. */
	if (images || sensitive || (st != NULL && st->long_hex))
		edata->hide_stmt = true;

	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/*
 * Show a note instead of this statement in pg_stat_activity, which keeps it
 * while the session is idle.  The query id survives.
 */
static void
redact_activity(const char *why)
{
	uint64		query_id = pgstat_get_my_query_id();
	char		note[128];

	snprintf(note, sizeof(note), "[statement redacted by facecompare: it %s]", why);
	pgstat_report_activity(STATE_RUNNING, note);
	pgstat_report_query_id(query_id, true);
}

static void
redact_activity_after_parse(ParseState *pstate, Query *query, JumbleState *jstate)
{
	KnownValues kv;
	StatementInfo *st;

	if (prev_post_parse_analyze_hook)
		prev_post_parse_analyze_hook(pstate, query, jstate);

	known_values(&kv);
	st = current_statement(&kv);
	if (st != NULL && (st->names != 0 || st->has_value) && !st->activity_redacted)
	{
		redact_activity(describe(st->names));
		st->activity_redacted = true;
	}
}

/* The setting a utility statement sets, or NULL. */
static const char *
utility_setting(Node *parsetree)
{
	VariableSetStmt *set = NULL;

	switch (nodeTag(parsetree))
	{
		case T_VariableSetStmt:
			set = (VariableSetStmt *) parsetree;
			break;
		case T_AlterSystemStmt:
			set = ((AlterSystemStmt *) parsetree)->setstmt;
			break;
		case T_AlterRoleSetStmt:
			set = ((AlterRoleSetStmt *) parsetree)->setstmt;
			break;
		case T_AlterDatabaseSetStmt:
			set = ((AlterDatabaseSetStmt *) parsetree)->setstmt;
			break;
		default:
			break;
	}
	return set != NULL ? set->name : NULL;
}

/*
 * The parser has already turned any spelling into the canonical name, so
 * ALTER SYSTEM SET facecompare . access_key_secret is caught here even
 * though its check hook runs with source PGC_S_FILE, as on a reload.
 * Before running it: an error must not leave the text shown either.
 */
static void
redact_activity_of_utility(PlannedStmt *pstmt, const char *queryString,
						   bool readOnlyTree, ProcessUtilityContext context,
						   ParamListInfo params, QueryEnvironment *queryEnv,
						   DestReceiver *dest, QueryCompletion *qc)
{
	const char *name = utility_setting(pstmt->utilityStmt);

	if (name != NULL)
	{
		for (int i = 0; i < FC_SECRET_COUNT; i++)
			if (pg_strcasecmp(name, secret_settings[i]) == 0)
			{
				redact_activity(i == FC_SECRET_ACCESS_KEY_SECRET
								? "sets facecompare.access_key_secret"
								: "sets facecompare.security_token");
				break;
			}
	}

	if (prev_ProcessUtility_hook)
		prev_ProcessUtility_hook(pstmt, queryString, readOnlyTree, context,
								 params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

static void
forget_seen_value(FcSecretSetting which)
{
	if (seen_values[which] == NULL)
		return;
	explicit_bzero(seen_values[which], strlen(seen_values[which]));
	free(seen_values[which]);
	seen_values[which] = NULL;
	seen_generation++;
}

/* Called from check hooks: malloc, not palloc, and never an error. */
void
fc_redact_note_secret(FcSecretSetting which, const char *value, bool in_session)
{
	if (value == NULL || strlen(value) < MIN_VALUE_LEN)
		forget_seen_value(which);
	else if (seen_values[which] == NULL || strcmp(seen_values[which], value) != 0)
	{
		forget_seen_value(which);
		seen_values[which] = strdup(value);
		seen_generation++;
	}
	if (in_session && debug_query_string != NULL)
		redact_activity(which == FC_SECRET_ACCESS_KEY_SECRET
						? "sets facecompare.access_key_secret"
						: "sets facecompare.security_token");
}

void
fc_redact_note_image_call(void)
{
	image_statement = debug_query_string;
	image_statement_start = GetCurrentStatementStartTimestamp();
}

void
fc_redact_init(void)
{
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = redact_log;
	prev_post_parse_analyze_hook = post_parse_analyze_hook;
	post_parse_analyze_hook = redact_activity_after_parse;
	prev_ProcessUtility_hook = ProcessUtility_hook;
	ProcessUtility_hook = redact_activity_of_utility;
}

#endif							/* FC_REDACT_PURE */
