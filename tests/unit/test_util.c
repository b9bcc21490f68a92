/* Unit tests for src/util: growth of arrays and buffers, directories, path quoting. */
#include "error.h"
#include "unit.h"
#include "util/fs.h"
#include "util/proc.h"
#include "util/util.h"

#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

/* Run `fn` in a child with stderr silenced: 1 when it died of SIGABRT. */
static int aborts(void (*fn)(void))
{
	pid_t pid;
	int status = 0;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		freopen("/dev/null", "w", stderr);
		fn();
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return 0;
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void grow_array_past_size_max(void)
{
	size_t alloc = 0;
	free(xgrow(NULL, 16, SIZE_MAX / 8, &alloc));
}

static void grow_strbuf_past_size_max(void)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "x");
	strbuf_grow(&sb, SIZE_MAX);
	strbuf_release(&sb);
}

static void xgrow__refuses_a_size_that_overflows(void)
{
	size_t alloc = 0;
	int *p = xgrow(NULL, sizeof(int), 100, &alloc);

	ok(p && alloc >= 100, "an ordinary growth");
	free(p);
	ok(aborts(grow_array_past_size_max), "elements * size beyond SIZE_MAX: out of memory, not a short buffer");
	ok(aborts(grow_strbuf_past_size_max), "strbuf length + extra beyond SIZE_MAX: out of memory");
}

static void strbuf_add_quoted_path__as_git_shows_paths(void)
{
	static const char *const cases[][3] = {
		/* path, git's default (quotePath), keeping UTF-8 */
		{ "plain/a.js", "plain/a.js", "plain/a.js" },
		{ "new\nline", "\"new\\nline\"", "\"new\\nline\"" },
		{ "caf\xC3\xA9", "\"caf\\303\\251\"", "caf\xC3\xA9" },
		{ "bad\xFF", "\"bad\\377\"", "\"bad\\377\"" },
		{ "q\"b\\\a", "\"q\\\"b\\\\\\a\"", "\"q\\\"b\\\\\\a\"" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		for (int keep = 0; keep < 2; keep++) {
			struct strbuf sb = STRBUF_INIT;

			strbuf_add_quoted_path(&sb, cases[i][0], keep);
			is_str(strbuf_str(&sb), cases[i][1 + keep], keep ? "keeping UTF-8" : "git's default");
			strbuf_release(&sb);
		}
}

static void fs_mkdir_p__parents_and_the_empty_path(void)
{
	char *dir = unit_tmpdir(), *deep = xasprintf("%s/a/b/c", dir), *cmd = xasprintf("rm -rf '%s'", dir);

	is_int(fs_mkdir_p(deep, 0700), 0, "parents created");
	ok(fs_exists(deep), "the directory exists");
	is_int(fs_mkdir_p(deep, 0700), 0, "again: nothing to do");
	is_int(fs_mkdir_p("", 0700), MP_EOS, "the empty path is an error (and read within its bytes)");
	is_int(fs_mkdir_p("/", 0700), 0, "the root exists");
	(void)!system(cmd);
	free(cmd);
	free(deep);
	free(dir);
}

static void hex_encode__lowercase_two_digits_a_byte(void)
{
	char out[9];

	hex_encode(out, "\x00\x0f\xa5\xff", 4);
	is_str(out, "000fa5ff", "four bytes");
	hex_encode(out, "", 0);
	is_str(out, "", "nothing");
}

static void proc_run_template__runs_captures_and_refuses(void)
{
	struct proc_result res = PROC_RESULT_INIT;

	is_int(proc_run_template(&res, "sh -c 'pwd; printf %s \"$0\"; exit 3'", "a b", "/", 0), 0, "ran");
	is_int(res.status, 3, "its exit status");
	is_str(strbuf_str(&res.out), "/\na b", "in cwd, {} appended as one word, output captured");
	proc_result_release(&res);
	res = (struct proc_result)PROC_RESULT_INIT;
	is_int(proc_run_template(&res, "sleep 5", NULL, NULL, 1), 0, "a slow command ran");
	ok(res.timed_out, "and was killed at the limit");
	proc_result_release(&res);
	res = (struct proc_result)PROC_RESULT_INIT;
	is_int(proc_run_template(&res, "  ", NULL, NULL, 0), MP_ECONFIG, "no word: a configuration error");
	is_int(proc_run_template(&res, "x 'open", NULL, NULL, 0), MP_ECONFIG, "unterminated quote");
	is_int(proc_run_template(&res, "/nonexistent/meshpush-tool", NULL, NULL, 0), MP_EOS, "cannot start");
	proc_result_release(&res);
}

int main(void)
{
	RUN(xgrow__refuses_a_size_that_overflows);
	RUN(strbuf_add_quoted_path__as_git_shows_paths);
	RUN(fs_mkdir_p__parents_and_the_empty_path);
	RUN(hex_encode__lowercase_two_digits_a_byte);
	RUN(proc_run_template__runs_captures_and_refuses);
	return unit_done();
}
