#include "util/fs.h"

#include "error.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_read_fd(char **out, size_t *out_len, int fd, const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	char chunk[65536];
	ssize_t n;

	*out = NULL;
	if (out_len)
		*out_len = 0;
	strbuf_grow(&sb, 0);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			strbuf_release(&sb);
			return mp_error_set(MP_EOS, "cannot read '%s': %s", name, strerror(e));
		}
		strbuf_add(&sb, chunk, (size_t)n);
	}
	if (out_len)
		*out_len = sb.len;
	*out = strbuf_detach(&sb);
	return 0;
}

int fs_read_file(char **out, size_t *out_len, const char *path)
{
	int fd, ret;

	*out = NULL;
	if (out_len)
		*out_len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return mp_error_set(MP_ENOTFOUND, "'%s' does not exist", path);
		return mp_error_set(MP_EOS, "cannot open '%s': %s", path, strerror(errno));
	}
	ret = fs_read_fd(out, out_len, fd, path);
	close(fd);
	return ret;
}

int fs_mkdir_p(const char *path, mode_t mode)
{
	char *p = xstrdup(path);
	int ret = 0;

	for (char *s = p + (p[0] == '/'); ; s++) { /* "/" itself is never created; "" is an error */
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, mode) < 0 && errno != EEXIST) {
				ret = mp_error_set(MP_EOS, "cannot create directory '%s': %s", p, strerror(errno));
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	return ret;
}

/* 1 when the file open as `fd` is empty or ends with a newline. */
static int ends_with_newline(int fd)
{
	struct stat st;
	char c;

	if (fstat(fd, &st) < 0 || st.st_size == 0)
		return 1;
	return pread(fd, &c, 1, st.st_size - 1) != 1 || c == '\n';
}

int fs_log_open(int *out_fd, const char *path)
{
	int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

	*out_fd = -1;
	if (fd < 0 || (!ends_with_newline(fd) && write(fd, "\n", 1) != 1)) {
		int ret = mp_error_set(MP_EOS, "cannot write '%s': %s", path, strerror(errno));

		if (fd >= 0)
			close(fd);
		return ret;
	}
	*out_fd = fd;
	return 0;
}

int fs_fsync_parent(const char *path)
{
	char *copy = xstrdup(path);
	int fd, ret = 0;

	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		ret = mp_error_set(MP_EOS, "cannot sync directory of '%s': %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(copy);
	return ret;
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char *tmp = xasprintf("%s.meshpush-tmp.%ld", path, (long)getpid());
	const char *p = data;
	int fd, ret = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		ret = mp_error_set(MP_EOS, "cannot create '%s': %s", tmp, strerror(errno));
		goto cleanup;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = mp_error_set(MP_EOS, "cannot write '%s': %s", tmp, strerror(errno));
			goto cleanup;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		ret = mp_error_set(MP_EOS, "cannot write '%s': %s", tmp, strerror(errno));
		goto cleanup;
	}
	if (close(fd) < 0) {
		fd = -1;
		ret = mp_error_set(MP_EOS, "cannot write '%s': %s", tmp, strerror(errno));
		goto cleanup;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		ret = mp_error_set(MP_EOS, "cannot replace '%s': %s", path, strerror(errno));
		goto cleanup;
	}
	ret = fs_fsync_parent(path);

cleanup:
	if (fd >= 0)
		close(fd);
	if (ret < 0)
		unlink(tmp);
	free(tmp);
	return ret;
}

char *fs_expand_home(const char *path)
{
	const char *home = getenv("HOME");

	if (home && (!strcmp(path, "~") || starts_with(path, "~/")))
		return xasprintf("%s%s", home, path + 1);
	return xstrdup(path);
}

char *fs_join(const char *dir, const char *name)
{
	size_t n = strlen(dir);

	if (n && dir[n - 1] == '/')
		return xasprintf("%s%s", dir, name);
	return xasprintf("%s/%s", dir, name);
}

static char *xdg_dir(const char *var, const char *fallback)
{
	const char *v = getenv(var);
	const char *home = getenv("HOME");

	if (v && *v == '/')
		return xasprintf("%s/meshpush", v);
	return xasprintf("%s/%s/meshpush", home ? home : "/", fallback);
}

char *fs_config_dir(void)
{
	return xdg_dir("XDG_CONFIG_HOME", ".config");
}

char *fs_state_dir(void)
{
	return xdg_dir("XDG_STATE_HOME", ".local/state");
}

int fs_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}
