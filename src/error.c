#include "error.h"

#include <git2.h>
#include <stdio.h>
#include <string.h>

static __thread char last_error[2048];

int mp_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return code;
}

int mp_error_git(const char *fmt, ...)
{
	const git_error *e = git_error_last();
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (e && e->message)
		snprintf(last_error, sizeof(last_error), "%s: %s", msg, e->message);
	else
		snprintf(last_error, sizeof(last_error), "%s", msg);
	return MP_EGIT;
}

const char *mp_error_last(void)
{
	return last_error[0] ? last_error : "unknown error";
}

void mp_error_clear(void)
{
	last_error[0] = '\0';
}

void mp_error_print(void)
{
	fprintf(stderr, "error: %s\n", mp_error_last());
}

int mp_exit_code(int err)
{
	switch (err) {
	case MP_OK:
		return MP_EXIT_OK;
	case MP_EUSAGE:
	case MP_ECONFIG:
		return MP_EXIT_USAGE;
	case MP_EPOLICY:
		return MP_EXIT_POLICY;
	case MP_ENET:
		return MP_EXIT_UNREACHABLE;
	default:
		return MP_EXIT_GIT;
	}
}

static __attribute__((format(printf, 2, 0))) void vreport(const char *prefix, const char *fmt, va_list ap)
{
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int error_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("error: ", fmt, ap);
	va_end(ap);
	return MP_EXIT_USAGE;
}

int error_exit(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("error: ", fmt, ap);
	va_end(ap);
	return code;
}

void warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("warning: ", fmt, ap);
	va_end(ap);
}
