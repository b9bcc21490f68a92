#include "util/proc.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void child(const char *const *argv, const struct proc_opts *o, int in_fd, int out_fd, int err_pipe)
{
	if (!o->same_pgroup)
		setpgid(0, 0);
	if (in_fd >= 0)
		dup2(in_fd, 0);
	if (out_fd >= 0) {
		dup2(out_fd, 1);
		dup2(out_fd, 2);
	} else if (o->stdout_to_stderr) {
		dup2(2, 1);
	}
	if (o->cwd && chdir(o->cwd) < 0) {
		int e = errno;
		(void)!write(err_pipe, &e, sizeof(e));
		_exit(127);
	}
	for (const char *const *e = o->env; e && *e; e++)
		putenv((char *)*e);
	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], (char *const *)argv);
	int e = errno;
	(void)!write(err_pipe, &e, sizeof(e));
	_exit(127);
}

int proc_run(struct proc_result *out, const char *const *argv, const struct proc_opts *opts)
{
	struct proc_opts none = PROC_OPTS_INIT;
	const struct proc_opts *o = opts ? opts : &none;
	int in_pipe[2] = { -1, -1 }, out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 };
	int devnull = -1, status = 0, child_errno = 0, ret = 0;
	size_t in_off = 0;
	double start = now_ms();
	pid_t pid;

	out->status = -1;
	out->timed_out = 0;
	out->ms = 0;
	if (pipe2(err_pipe, O_CLOEXEC) < 0 ||
	    (o->in && pipe2(in_pipe, O_CLOEXEC) < 0) ||
	    (o->capture && pipe2(out_pipe, O_CLOEXEC) < 0)) {
		ret = mp_error_set(MP_EOS, "cannot run '%s': %s", argv[0], strerror(errno));
		goto cleanup;
	}
	if (!o->in && !o->inherit_stdin)
		devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

	pid = fork();
	if (pid < 0) {
		ret = mp_error_set(MP_EOS, "cannot run '%s': %s", argv[0], strerror(errno));
		goto cleanup;
	}
	if (pid == 0)
		child(argv, o, o->in ? in_pipe[0] : devnull, o->capture ? out_pipe[1] : -1, err_pipe[1]);
	if (!o->same_pgroup)
		setpgid(pid, pid);
	close(err_pipe[1]);
	err_pipe[1] = -1;
	if (in_pipe[0] >= 0) {
		close(in_pipe[0]);
		in_pipe[0] = -1;
		fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
	}
	if (out_pipe[1] >= 0) {
		close(out_pipe[1]);
		out_pipe[1] = -1;
	}

	for (;;) {
		struct pollfd pfd[3];
		int n = 0, timeout = -1, r;

		if (in_pipe[1] >= 0)
			pfd[n++] = (struct pollfd){ in_pipe[1], POLLOUT, 0 };
		if (out_pipe[0] >= 0)
			pfd[n++] = (struct pollfd){ out_pipe[0], POLLIN, 0 };
		if (err_pipe[0] >= 0)
			pfd[n++] = (struct pollfd){ err_pipe[0], POLLIN, 0 };
		if (!n)
			break;
		if (o->timeout_ms > 0) {
			double left = o->timeout_ms - (now_ms() - start);

			if (left <= 0) {
				out->timed_out = 1;
				kill(o->same_pgroup ? pid : -pid, SIGKILL);
				break;
			}
			timeout = (int)left + 1;
		}
		r = poll(pfd, (nfds_t)n, timeout);
		if (r < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n && r > 0; i++) {
			if (!pfd[i].revents)
				continue;
			if (pfd[i].fd == in_pipe[1]) {
				ssize_t w = in_off < o->in_len ? write(in_pipe[1], o->in + in_off, o->in_len - in_off) : 0;

				if (w > 0)
					in_off += (size_t)w;
				if (w < 0 && errno == EAGAIN)
					continue;
				if (w <= 0 || in_off >= o->in_len) {
					close(in_pipe[1]);
					in_pipe[1] = -1;
				}
			} else if (pfd[i].fd == out_pipe[0]) {
				char buf[8192];
				ssize_t rd = read(out_pipe[0], buf, sizeof(buf));

				if (rd > 0)
					strbuf_add(&out->out, buf, (size_t)rd);
				else if (rd == 0 || errno != EINTR) {
					close(out_pipe[0]);
					out_pipe[0] = -1;
				}
			} else {
				ssize_t rd = read(err_pipe[0], &child_errno, sizeof(child_errno));

				if (rd <= 0)
					child_errno = 0;
				close(err_pipe[0]);
				err_pipe[0] = -1;
			}
		}
	}

	if (!out->timed_out && o->timeout_ms > 0) {
		/* output closed; wait for the exit within what is left of the limit */
		while (waitpid(pid, &status, WNOHANG) == 0) {
			if (now_ms() - start > o->timeout_ms) {
				out->timed_out = 1;
				kill(o->same_pgroup ? pid : -pid, SIGKILL);
				break;
			}
			usleep(1000);
		}
		if (!out->timed_out)
			goto reaped;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
reaped:
	out->ms = now_ms() - start;
	if (child_errno) {
		ret = mp_error_set(MP_EOS, "cannot run '%s': %s", argv[0], strerror(child_errno));
		goto cleanup;
	}
	if (WIFEXITED(status))
		out->status = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		out->status = 128 + WTERMSIG(status);

cleanup:
	for (int i = 0; i < 2; i++) {
		if (in_pipe[i] >= 0)
			close(in_pipe[i]);
		if (out_pipe[i] >= 0)
			close(out_pipe[i]);
		if (err_pipe[i] >= 0)
			close(err_pipe[i]);
	}
	if (devnull >= 0)
		close(devnull);
	return ret;
}

void proc_result_release(struct proc_result *res)
{
	strbuf_release(&res->out);
}

int proc_argv_template(struct strlist *out, const char *tmpl, const char *arg)
{
	struct strbuf word = STRBUF_INIT;
	const char *p = tmpl;
	int used = 0;

	while (*p) {
		int in_word = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		strbuf_reset(&word);
		while (*p && *p != ' ' && *p != '\t') {
			if (*p == '"' || *p == '\'') {
				char q = *p++;
				const char *end = strchr(p, q);

				if (!end) {
					strbuf_release(&word);
					return mp_error_set(MP_ECONFIG, "unterminated quote in command '%s'", tmpl);
				}
				strbuf_add(&word, p, (size_t)(end - p));
				p = end + 1;
			} else if (p[0] == '{' && p[1] == '}' && arg) {
				strbuf_addstr(&word, arg);
				used = 1;
				p += 2;
			} else {
				strbuf_addch(&word, *p++);
			}
			in_word = 1;
		}
		if (in_word)
			strlist_push(out, strbuf_str(&word));
	}
	strbuf_release(&word);
	if (!used && arg)
		strlist_push(out, arg);
	return 0;
}

int proc_run_template(struct proc_result *out, const char *tmpl, const char *arg, const char *cwd, long timeout_s)
{
	struct proc_opts opts = PROC_OPTS_INIT;
	struct strlist argv = STRLIST_INIT;
	const char **av = NULL;
	int ret;

	if ((ret = proc_argv_template(&argv, tmpl, arg)) < 0)
		goto cleanup;
	if (!argv.nr) {
		ret = mp_error_set(MP_ECONFIG, "the command '%s' names no program", tmpl);
		goto cleanup;
	}
	av = strlist_argv(&argv);
	opts.cwd = cwd;
	opts.capture = 1;
	opts.timeout_ms = timeout_s > 0 ? (int)(timeout_s * 1000) : 0;
	ret = proc_run(out, av, &opts);
cleanup:
	free(av);
	strlist_release(&argv);
	return ret;
}
