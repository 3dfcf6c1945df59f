/*
 * tap.h
 *		Minimal Test Anything Protocol output for the C unit tests (run by prove).
 */
#ifndef TAP_H
#define TAP_H

#include <stdio.h>
#include <string.h>

static int	tap_count;
static int	tap_failed;

#define ok(cond, ...) tap_ok((cond), __FILE__, __LINE__, __VA_ARGS__)

static inline void
tap_ok(int cond, const char *file, int line, const char *name)
{
	tap_count++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_count, name);
	if (!cond)
	{
		tap_failed++;
		printf("#   Failed at %s line %d\n", file, line);
	}
}

static inline void
is_str(const char *got, const char *want, const char *name)
{
	int			same = got != NULL && want != NULL && strcmp(got, want) == 0;

	tap_ok(same, __FILE__, __LINE__, name);
	if (!same)
		printf("#   got:  '%s'\n#   want: '%s'\n", got ? got : "(null)",
			   want ? want : "(null)");
}

static inline void
tap_skip(int n, const char *why)
{
	for (int i = 0; i < n; i++)
		printf("ok %d # skip %s\n", ++tap_count, why);
}

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif							/* TAP_H */
