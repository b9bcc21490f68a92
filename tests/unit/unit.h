/*
 * A very small TAP harness for module unit tests.  Each test is a function
 * named for the module and the case (config_load__user_overrides_repo),
 * run with RUN(); checks print "ok N - case: what" or "not ok ...".
 */
#ifndef MP_UNIT_H
#define MP_UNIT_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int unit_count, unit_failed;
static const char *unit_case = "";

#define RUN(fn)                         \
	do {                            \
		unit_case = #fn;        \
		printf("# %s\n", #fn);  \
		fn();                   \
	} while (0)

#define ok(cond, what)                                                              \
	do {                                                                        \
		int unit_ok__ = !!(cond);                                           \
		printf("%sok %d - %s: %s\n", unit_ok__ ? "" : "not ", ++unit_count, \
		       unit_case, what);                                            \
		if (!unit_ok__) {                                                   \
			unit_failed++;                                              \
			printf("#   %s:%d: %s\n", __FILE__, __LINE__, #cond);   \
		}                                                                   \
	} while (0)

#define is_int(got, want, what)                                                   \
	do {                                                                      \
		long long g__ = (long long)(got), w__ = (long long)(want);        \
		ok(g__ == w__, what);                                             \
		if (g__ != w__)                                                   \
			printf("#   got %lld, want %lld\n", g__, w__);         \
	} while (0)

#define is_str(got, want, what)                                                        \
	do {                                                                           \
		const char *g__ = (got), *w__ = (want);                                \
		int same__ = (!g__ && !w__) || (g__ && w__ && !strcmp(g__, w__));      \
		ok(same__, what);                                                      \
		if (!same__)                                                           \
			printf("#   got '%s', want '%s'\n", g__ ? g__ : "(null)",    \
			       w__ ? w__ : "(null)");                                  \
	} while (0)

static inline int unit_done(void)
{
	printf("1..%d\n", unit_count);
	return unit_failed ? 1 : 0;
}

/* Write `text` to `path` (created or truncated) with `mode`, whatever the umask. */
static inline void unit_write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd >= 0) {
		(void)!write(fd, text, strlen(text));
		fchmod(fd, mode);
		close(fd);
	}
}

/* A fresh temporary directory for a test, removed by the caller's rm -rf. */
static inline char *unit_tmpdir(void)
{
	char tmpl[] = "/tmp/meshpush-unit.XXXXXX";
	char *d = mkdtemp(tmpl);

	return d ? strdup(d) : NULL;
}

#endif
