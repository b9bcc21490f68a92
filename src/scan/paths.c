/*
 * Scanning files and directories.  Files are read whole up to CHUNK
 * bytes; larger ones (when [scan] max_size allows them) in chunks that
 * overlap by OVERLAP bytes, so memory stays bounded and a secret across a
 * chunk boundary is still found once.
 */
#include "scan/internal.h"

#include "error.h"
#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (16u << 20)
#define OVERLAP (256u << 10)

static ssize_t read_full(int fd, char *buf, size_t len, off_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, off + (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static size_t count_lines(const char *buf, size_t len)
{
	size_t n = 0;

	for (const char *p = buf, *end = buf + len; (p = memchr(p, '\n', (size_t)(end - p))); p++)
		n++;
	return n;
}

/* The work tree's path of `path` (as given, relative to the current directory). Caller frees. */
static char *tree_path(const char *prefix, const char *path)
{
	if (!prefix || path[0] == '/' || starts_with(path, "../") || !strcmp(path, ".."))
		return xstrdup(path);
	return xasprintf("%s%s", prefix, path);
}

static int scan_file(struct scan_engine *e, struct scan_report *r, const char *path, const struct stat *st,
		     const char *prefix)
{
	char *rel = tree_path(prefix, path);
	struct scan_source src = { path, rel, NULL, NULL, 0 };
	size_t size = (size_t)st->st_size, cap = size < CHUNK ? size : CHUNK + OVERLAP, lines = 0;
	char *buf = NULL;
	off_t off = 0;
	int fd, ret = 0;

	if (scan_path_allowed(e, rel)) {
		scan_report_skip(r, path, 0, "allowed by scan.allow_paths");
		goto out;
	}
	if (size > e->max_size) {
		scan_report_skip(r, path, 1, "larger than scan.max_size (%zu bytes)", e->max_size);
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		scan_report_skip(r, path, 1, "cannot read (%s)", strerror(errno));
		goto out;
	}
	buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t n = read_full(fd, buf, cap, off);
		size_t keep;
		int last;

		if (n < 0) {
			scan_report_skip(r, path, 1, "cannot read (%s)", strerror(errno));
			goto cleanup;
		}
		if (off == 0) {
			if (scan_is_binary(buf, (size_t)n)) {
				scan_report_skip(r, path, 0, "binary file");
				goto cleanup;
			}
			r->files++;
		}
		last = (size_t)n < cap || cap < CHUNK + OVERLAP;
		keep = last ? (size_t)n : CHUNK;
		r->bytes += keep;
		if ((ret = scan_ctx_scan(e->ctx, r, &src, buf, (size_t)n, lines, keep)) < 0 || last)
			goto cleanup;
		lines += count_lines(buf, CHUNK);
		off += CHUNK;
	}
cleanup:
	free(buf);
	close(fd);
out:
	free(rel);
	return ret;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory is skipped whole when a glob allows it: "dir/" and two stars allow "dir/". */
static int dir_allowed(const struct scan_engine *e, const char *dir, const char *prefix)
{
	char *rel = tree_path(prefix, dir), *slash = xasprintf("%s/", rel);
	int ret = scan_path_allowed(e, rel) || scan_path_allowed(e, slash);

	free(slash);
	free(rel);
	return ret;
}

static int scan_dir(struct scan_engine *e, struct scan_report *r, const char *dir, const char *prefix)
{
	struct strlist names = STRLIST_INIT;
	struct dirent *de;
	DIR *d = opendir(dir);
	int ret = 0;

	if (!d) {
		scan_report_skip(r, dir, 1, "cannot read the directory (%s)", strerror(errno));
		return 0;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, ".git"))
			strlist_push(&names, de->d_name);
	closedir(d);
	if (names.nr > 1)
		qsort(names.items, names.nr, sizeof(*names.items), cmp_names);
	for (size_t i = 0; i < names.nr && !ret; i++) {
		char *path = !strcmp(dir, ".") ? xstrdup(names.items[i]) : fs_join(dir, names.items[i]);
		struct stat st;

		if (lstat(path, &st) < 0)
			scan_report_skip(r, path, 1, "cannot read (%s)", strerror(errno));
		else if (S_ISDIR(st.st_mode) && !dir_allowed(e, path, prefix))
			ret = scan_dir(e, r, path, prefix);
		else if (S_ISDIR(st.st_mode))
			scan_report_skip(r, path, 0, "allowed by scan.allow_paths");
		else if (S_ISLNK(st.st_mode))
			scan_report_skip(r, path, 0, "symbolic link, not followed");
		else if (!S_ISREG(st.st_mode))
			scan_report_skip(r, path, 0, "not a regular file");
		else
			ret = scan_file(e, r, path, &st, prefix);
		free(path);
	}
	strlist_release(&names);
	return ret;
}

/*
 * When the current directory is inside the work tree, "sub/dir/": what to
 * put before a relative path to make it the work tree's path (allow_paths,
 * path rules and fingerprints are the same from any directory).
 */
static char *cwd_prefix(const struct scan_engine *e)
{
	char *cwd = getcwd(NULL, 0), *root = e->root ? realpath(e->root, NULL) : NULL, *ret = NULL;
	size_t n = root ? strlen(root) : 0;

	if (cwd && root && !strncmp(cwd, root, n) && cwd[n] == '/')
		ret = xasprintf("%s/", cwd + n + 1);
	free(cwd);
	free(root);
	return ret;
}

int scan_paths(struct scan_engine *e, struct scan_report *r, const struct strlist *paths)
{
	char *prefix = cwd_prefix(e);
	int ret = 0;

	for (size_t i = 0; i < paths->nr && !ret; i++) {
		const char *p = paths->items[i];
		char *path;
		struct stat st;
		size_t n;

		while (p[0] == '.' && p[1] == '/' && p[2])
			p += 2;
		path = xstrdup(p);
		n = strlen(path);
		while (n > 1 && path[n - 1] == '/')
			path[--n] = '\0';
		if (stat(path, &st) < 0) {
			ret = mp_error_set(errno == ENOENT ? MP_EUSAGE : MP_EOS, "cannot scan '%s': %s", path, strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			ret = scan_dir(e, r, path, prefix);
		} else if (!S_ISREG(st.st_mode)) {
			scan_report_skip(r, path, 0, "not a regular file");
		} else {
			ret = scan_file(e, r, path, &st, prefix);
		}
		free(path);
	}
	free(prefix);
	return ret;
}
