/*
 * One install at a time: flock(2) on $XDG_STATE_HOME/meshpush/install.lock.
 * The kernel drops the lock when its holder dies, however it dies, so a
 * lock left by a killed process is simply taken; the file's text (pid and
 * time of the holder) is only there to say who holds it.
 */
#include "deploy/internal.h"

#include "error.h"
#include "journal/journal.h"
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

int deploy_lock_take(struct deploy_lock *l, int wait_ms)
{
	char *dir = fs_state_dir(), *path = fs_join(dir, "install.lock");
	char text[128] = "", ts[32];
	double start = now_ms();
	int ret = 0;
	ssize_t n;

	if ((ret = fs_mkdir_p(dir, 0700)) < 0)
		goto cleanup;
	l->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (l->fd < 0) {
		ret = mp_error_set(MP_EOS, "cannot open lock '%s': %s", path, strerror(errno));
		goto cleanup;
	}
	while (flock(l->fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			ret = mp_error_set(MP_EOS, "cannot lock '%s': %s", path, strerror(errno));
			goto cleanup;
		}
		if (now_ms() - start >= wait_ms) {
			long pid = 0;
			char since[64] = "?";

			n = pread(l->fd, text, sizeof(text) - 1, 0);
			text[n > 0 ? n : 0] = '\0';
			sscanf(text, "%ld %63s", &pid, since);
			ret = mp_error_set(MP_EGENERIC,
					   "another install is running (pid %ld, since %s); wait for it to end, "
					   "or check that process ('%s')", pid, since, path);
			goto cleanup;
		}
		usleep(20000);
	}
	/* ours: was the previous holder killed in the middle? */
	n = pread(l->fd, text, sizeof(text) - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	if (n > 0) {
		long pid = atol(text);

		if (pid > 0 && pid != getpid() && kill((pid_t)pid, 0) < 0 && errno == ESRCH)
			l->took_over = pid;
	}
	journal_timestamp(ts, sizeof(ts));
	n = snprintf(text, sizeof(text), "%ld %s\n", (long)getpid(), ts);
	if (ftruncate(l->fd, 0) < 0 || pwrite(l->fd, text, (size_t)n, 0) != n)
		ret = mp_error_set(MP_EOS, "cannot write lock '%s': %s", path, strerror(errno));
cleanup:
	if (ret < 0 && l->fd >= 0) {
		close(l->fd);
		l->fd = -1;
	}
	free(path);
	free(dir);
	return ret;
}

void deploy_lock_release(struct deploy_lock *l)
{
	if (l->fd < 0)
		return;
	if (ftruncate(l->fd, 0) < 0) {
		/* the text only names the holder: nothing to do */
	}
	flock(l->fd, LOCK_UN);
	close(l->fd);
	l->fd = -1;
}
