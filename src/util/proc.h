/*
 * Running other programs: always an argv, never a shell string.
 */
#ifndef MP_PROC_H
#define MP_PROC_H

#include "util/util.h"

#include <stddef.h>

struct proc_opts {
	const char *cwd;          /* directory to run in, NULL: ours */
	const char *const *env;   /* extra "NAME=value" entries, NULL-terminated, or NULL */
	const char *in;           /* bytes for its stdin, NULL: /dev/null (unless inherit_stdin) */
	size_t in_len;
	int inherit_stdin;        /* give it our stdin */
	int capture;              /* collect stdout and stderr (merged) into `out` */
	int stdout_to_stderr;     /* when not capturing: its stdout goes to our stderr */
	int timeout_ms;           /* kill its process group after this long, 0: no limit */
	int same_pgroup;          /* stay in our process group, as git runs hooks (an
				     interactive hook keeps the terminal); a timeout kills
				     only the child */
};
#define PROC_OPTS_INIT { NULL, NULL, NULL, 0, 0, 0, 0, 0, 0 }

struct proc_result {
	int status;        /* exit code, 128+signal when killed by a signal, -1 not run */
	int timed_out;     /* 1 when it was killed for exceeding timeout_ms */
	struct strbuf out; /* captured output when opts.capture */
	double ms;         /* how long it ran */
};
#define PROC_RESULT_INIT { -1, 0, STRBUF_INIT, 0 }

/*
 * Run `argv` (argv[0] searched in PATH) and wait for it.  Returns 0 when it
 * ran (whatever its exit status, which is in `out->status`), or MP_EOS when
 * it could not be started (the error names the program).
 */
int proc_run(struct proc_result *out, const char *const *argv, const struct proc_opts *opts);

/* Free what `res` holds. */
void proc_result_release(struct proc_result *res);

/*
 * Expand an argv template: split `tmpl` on whitespace (double and single
 * quotes group words, no other shell syntax) and replace every "{}" in a
 * word by `arg`.  When no word contains "{}", `arg` is appended when not
 * NULL.  Returns 0, or MP_ECONFIG for an unterminated quote.
 */
int proc_argv_template(struct strlist *out, const char *tmpl, const char *arg);

/*
 * Run the argv template `tmpl` (proc_argv_template() with `arg`) in `cwd`,
 * capturing its output (stdout and stderr), killed after `timeout_s`
 * seconds (0: no limit).  Returns 0 when it ran (out->status,
 * out->timed_out say how it ended), MP_ECONFIG for an unterminated quote
 * or a template with no word, MP_EOS when it could not be started.
 */
int proc_run_template(struct proc_result *out, const char *tmpl, const char *arg, const char *cwd, long timeout_s);

#endif
