/*
 * test_redact.c
 *		The redaction scanner finds a secret setting's name however a
 *		statement spells it, and only then; the in-place editors cut hex runs
 *		and mask values without growing the text.
 */
#include <stdlib.h>
#include <string.h>

#include "redact.h"
#include "tap.h"

#define SECRET (1u << FC_SECRET_ACCESS_KEY_SECRET)
#define TOKEN (1u << FC_SECRET_SECURITY_TOKEN)

static unsigned
names(const char *sql)
{
	FcSqlScan	scan;

	fc_scan_sql(sql, strlen(sql), true, &scan);
	return scan.names;
}

static void
expect_names(const char *sql, unsigned want, const char *name)
{
	unsigned	got = names(sql);

	ok(got == want, name);
	if (got != want)
		printf("#   sql: %s\n#   got %u, want %u\n", sql, got, want);
}

static void
expect_execute(const char *sql, int n, const char *first, bool unknown, const char *name)
{
	FcSqlScan	scan;

	fc_scan_sql(sql, strlen(sql), true, &scan);
	ok(scan.nexecute == n && scan.execute_unknown == unknown &&
	   (first == NULL || (n > 0 && strcmp(scan.execute[0], first) == 0)), name);
	if (scan.nexecute != n || scan.execute_unknown != unknown)
		printf("#   got %d names (unknown %d): '%s'\n", scan.nexecute, scan.execute_unknown,
			   scan.nexecute > 0 ? scan.execute[0] : "");
}

static void
expect_cut(const char *text, size_t max, const char *want, const char *name)
{
	char	   *copy = strdup(text);

	fc_cut_hex_runs(copy, max);
	is_str(copy, want, name);
	free(copy);
}

static void
expect_mask(const char *text, const char *value, const char *want, const char *name)
{
	char	   *copy = strdup(text);

	fc_mask_value(copy, value);
	is_str(copy, want, name);
	free(copy);
}

int
main(void)
{
	char		big[2048];
	char		want[sizeof(big) + 16];
	FcSqlScan	scan;

	/* Spellings PostgreSQL accepts for the same setting. */
	expect_names("SET facecompare.access_key_secret = 'x'", SECRET, "plain name");
	expect_names("set FACECOMPARE.Access_Key_Secret to 'x'", SECRET, "any case");
	expect_names("SET facecompare . access_key_secret = 'x'", SECRET, "blanks around the dot");
	expect_names("SET facecompare./**/access_key_secret = 'x'", SECRET, "a comment after the dot");
	expect_names("SET facecompare./* a /* b */ c */access_key_secret = 'x'", SECRET, "a nested comment");
	expect_names("SET facecompare -- here\n.security_token = 'x'", TOKEN, "a line comment");
	expect_names("SET \"facecompare\".\"access_key_secret\" = 'x'", SECRET, "quoted identifiers");
	expect_names("SET \"facecompare.security_token\" = 'x'", TOKEN, "one quoted identifier");
	expect_names("SET \"face\"\"compare\".x = 1", 0, "a doubled quote is one character");
	expect_names("SELECT set_config('facecompare.' || 'access_key_secret', 'x', false)", SECRET,
				 "a name built with ||");
	expect_names("SELECT set_config(concat('facecompare', '.', 'security_', 'token'), 'x', false)", TOKEN,
				 "a name built with concat()");
	expect_names("SELECT set_config(E'facecompare.\\x61ccess_key_secret', 'x', false)", SECRET,
				 "E'' hex escape");
	expect_names("SELECT set_config(e'facecompare.\\141ccess_key_secret', 'x', false)", SECRET,
				 "E'' octal escape");
	expect_names("SELECT set_config(E'facecompare.\\u0061ccess_key_secret', 'x', false)", SECRET,
				 "E'' \\u escape");
	expect_names("SELECT set_config(E'facecompare.\\U00000061ccess_key_secret', 'x', false)", SECRET,
				 "E'' \\U escape");
	expect_names("SELECT set_config(E'facecompare.\\access_key_secret', 'x', false)", SECRET,
				 "E'' escape of a plain letter");
	expect_names("SELECT set_config(E'it\\'s facecompare.access_key_secret', 'x', false)", SECRET,
				 "E'' escaped quote does not end the literal");
	expect_names("SELECT set_config('facecompare.\\x61ccess_key_secret', 'x', false)", 0,
				 "standard strings do not decode backslashes");
	{
		const char *sql = "SELECT set_config('facecompare.\\x61ccess_key_secret', 'x', false)";

		fc_scan_sql(sql, strlen(sql), false, &scan);
	}
	ok(scan.names == SECRET, "... unless standard_conforming_strings is off");
	expect_names("SELECT set_config($$facecompare.access_key_secret$$, 'x', false)", SECRET, "$$ quoting");
	expect_names("SELECT set_config($q$facecompare.$q$ || $$security_token$$, 'x', false)", TOKEN,
				 "tagged $q$ quoting");
	expect_names("SELECT $a$ $b$ facecompare $b$ $a$, 'security_token'", TOKEN,
				 "a different tag inside a dollar literal");
	expect_names("SELECT set_config('facecompare.access_'\n'key_secret', 'x', false)", SECRET,
				 "a literal continued after a newline");
	expect_names("SELECT set_config(E'facecompare.'\n'\\x61ccess_key_secret', 'x', false)", SECRET,
				 "a continued E'' literal keeps its escapes");
	expect_names("SET U&\"facecompare.\\0061ccess_key_secret\" = 'x'", SECRET, "U& identifier");
	expect_names("SET u&\"facecompare.!0061ccess_key_secret\" UESCAPE '!' = 'x'", SECRET,
				 "U& identifier with UESCAPE");
	expect_names("SET U&\"facecompare.!0061ccess_key_secret\" /* c */ uescape\n'!' = 'x'", SECRET,
				 "UESCAPE after a comment");
	expect_names("SELECT set_config(U&'facecompare.\\+000061ccess_key_secret', 'x', false)", SECRET,
				 "U& string with a six-digit escape");
	expect_names("SELECT set_config(U&'facecompare.\\0061ccess_key_secret' UESCAPE '!', 'x', false)", 0,
				 "U& with UESCAPE: a backslash is no escape");
	expect_names("SELECT N'facecompare.security_token'", TOKEN, "N'' literal");
	expect_names("DO $$BEGIN PERFORM set_config('facecompare.' || 'security_token', 'x', false); END$$",
				 TOKEN, "inside a function body");
	expect_names("ALTER SYSTEM SET facecompare.access_key_secret = 'a'; SET facecompare.security_token = 'b'",
				 SECRET | TOKEN, "both settings");

	/* ... and what does not name one. */
	expect_names("SET facecompare.access_key_id = 'x'", 0, "another facecompare setting");
	expect_names("SELECT security_token FROM t", 0, "the name alone, without the prefix");
	expect_names("SELECT facecompare.compare(a, b) FROM t", 0, "a call");
	expect_names("SELECT 1 -- facecompare.access_key_secret", 0, "a line comment");
	expect_names("SELECT /* facecompare /* nested */ .access_key_secret */ 1", 0, "a nested comment");
	expect_names("", 0, "empty text");
	ok((fc_scan_sql(NULL, 5, true, &scan), scan.names == 0), "NULL text");
	expect_names("SELECT 'facecompare.access_key_secr", 0, "an unterminated literal, cut short");
	expect_names("SET facecompare.access_key_secret = 'unterminated", SECRET, "an unterminated literal");
	expect_names("SELECT /* facecompare.access_key_secret", 0, "an unterminated comment");
	expect_names("SELECT $1, $2 FROM facecompare.security_token", TOKEN, "parameters are not dollar quotes");
	fc_scan_sql("SET facecompare.access_key_secret = 'x'", 20, true, &scan);
	ok(scan.names == 0, "only len bytes are read");

	/* EXECUTE: the caller looks the prepared statement up. */
	expect_execute("EXECUTE p('x')", 1, "p", false, "EXECUTE names its statement");
	expect_execute("explain analyze execute MyStmt (1)", 1, "mystmt", false, "unquoted names fold to lower case");
	expect_execute("EXECUTE \"MyStmt\"('x')", 1, "MyStmt", false, "quoted names keep their case");
	expect_execute("EXECUTE /* c */ p('x')", 1, "p", false, "a comment after EXECUTE");
	expect_execute("DO $$BEGIN EXECUTE 'SELECT 1'; END$$", 0, NULL, false, "PL/pgSQL's EXECUTE of a string");
	expect_execute("EXECUTE U&\"\\0070\"('x')", 0, NULL, true, "a U& name is unknown");
	expect_execute("EXECUTE a; EXECUTE b; EXECUTE c; EXECUTE d; EXECUTE e; EXECUTE f; EXECUTE g; "
				   "EXECUTE h; EXECUTE i", 8, "a", true, "more than eight are unknown");
	memset(big, 'a', sizeof(big));
	memcpy(big, "EXECUTE ", 8);
	big[sizeof(big) - 1] = '\0';
	fc_scan_sql(big, strlen(big), true, &scan);
	ok(scan.nexecute == 1 && strlen(scan.execute[0]) == FC_SCAN_NAME_LEN - 1,
	   "a long name is cut like PostgreSQL cuts it");

	/* Hex runs: image bytes in logged statements. */
	memset(big, 'f', 300);
	big[300] = '\0';
	snprintf(want, sizeof(want), "'\\x%s'::bytea", big);
	memmove(big + 3, big, 301);
	memcpy(big, "'\\x", 3);
	strcat(big, "'::bytea, 1");
	expect_cut(big, 256, "'\\x[300 hex digits cut by facecompare]'::bytea, 1", "a long hex run is cut");
	ok(fc_has_hex_run(big, 256) && !fc_has_hex_run(big, 300), "fc_has_hex_run counts digits");
	expect_cut(want, 300, want, "a run of exactly max digits is kept");
	expect_cut("0123456789abcdef", 256, "0123456789abcdef", "short runs are kept");
	memset(big, '0', 1000);
	big[1000] = ' ';
	memset(big + 1001, 'A', 1000);
	big[2001] = '\0';
	expect_cut(big, 256, "[1000 hex digits cut by facecompare] [1000 hex digits cut by facecompare]",
			   "each run is cut");

	/* Values. */
	expect_mask("set to Secret-12345, again Secret-12345.", "Secret-12345",
				"set to ********, again ********.", "every occurrence is masked");
	expect_mask("a short one: abc", "abc", "a short one: abc", "values shorter than the mask are left");
	expect_mask("nothing here", "Secret-12345", "nothing here", "text without the value is left");
	expect_mask("Secret-12345", "Secret-12345", "********", "the whole text");

	return tap_done();
}
