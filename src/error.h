/*
 * Exit codes and error reporting.
 *
 * Exit codes are fixed here and documented in git-meshpush(1).  Modules
 * never exit: they record a message with mp_error_set() and return one of
 * the negative MP_E* codes; the command prints it and maps it to an exit
 * code with mp_exit_code().
 */
#ifndef MP_ERROR_H
#define MP_ERROR_H

#include <stdarg.h>

/* Exit codes of the git-meshpush binary. */
#define MP_EXIT_OK 0          /* success */
#define MP_EXIT_POLICY 1      /* a policy said no: secrets found, verification failed */
#define MP_EXIT_USAGE 2       /* bad usage or configuration */
#define MP_EXIT_UNREACHABLE 3 /* a peer could not be reached; work was queued */
#define MP_EXIT_GIT 128       /* git or operating-system failure */

/* Error codes returned by modules (always negative). */
enum mp_err {
	MP_OK = 0,
	MP_EGENERIC = -1, /* unspecified failure */
	MP_EUSAGE = -2,   /* bad arguments */
	MP_ECONFIG = -3,  /* bad configuration */
	MP_EGIT = -4,     /* libgit2 or git failed */
	MP_EOS = -5,      /* a system call failed */
	MP_ENET = -6,     /* a peer could not be reached */
	MP_EPOLICY = -7,  /* refused by policy */
	MP_ENOTFOUND = -8 /* the thing asked for does not exist */
};

/*
 * Record the message of the last error of this thread and return `code`,
 * so that `return mp_error_set(MP_EOS, "cannot open '%s': %s", p, strerror(errno));`
 * reads naturally.
 */
int mp_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like mp_error_set(), appending libgit2's last error message. */
int mp_error_git(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The last error message of this thread, or "unknown error". */
const char *mp_error_last(void);

/* Forget the last error. */
void mp_error_clear(void);

/* Print "error: <last message>" to stderr. */
void mp_error_print(void);

/* Map a (negative) module error code to an exit code. */
int mp_exit_code(int err);

/* Print "error: <fmt>" to stderr and return MP_EXIT_USAGE. */
int error_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "error: <fmt>" to stderr and return `code`. */
int error_exit(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print "warning: <fmt>" to stderr. */
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
