/*
 * File helpers of the receiving side: hashing what is on disk the way git
 * hashes blobs, path checks, backups by hard link, atomic placement,
 * verification.
 */
#include "deploy/internal.h"

#include "error.h"
#include "util/fs.h"
#include "scan/scan.h"
#include "util/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *deploy_state_path(const char *sub)
{
	char *dir = fs_state_dir(), *ret = fs_join(dir, sub);

	free(dir);
	return ret;
}

char *oid_hex(const git_oid *oid)
{
	char hex[GIT_OID_HEXSZ + 1];

	return xstrdup(git_oid_tostr(hex, sizeof(hex), oid));
}

int deploy_hash_path(git_oid *out, const char *path, const struct stat *st)
{
	char *data = NULL;
	size_t len = 0;
	int ret;

	if (S_ISLNK(st->st_mode)) {
		char buf[4096];
		ssize_t n = readlink(path, buf, sizeof(buf));

		if (n < 0)
			return mp_error_set(MP_EOS, "cannot read link '%s': %s", path, strerror(errno));
		if (git_odb_hash(out, buf, (size_t)n, GIT_OBJECT_BLOB) < 0)
			return mp_error_git("cannot hash '%s'", path);
		return 0;
	}
	if ((ret = fs_read_file(&data, &len, path)) < 0)
		return ret;
	if (git_odb_hash(out, data, len, GIT_OBJECT_BLOB) < 0)
		ret = mp_error_git("cannot hash '%s'", path);
	free(data);
	return ret;
}

int deploy_rel_is_safe(const char *rel)
{
	const char *p = rel;

	if (!*rel || *rel == '/')
		return 0;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.') ||
		    (n == 4 && !strncasecmp(p, ".git", 4)))
			return 0;
		p += n;
		if (*p == '/')
			p++;
		if (end && !*p)
			return 0; /* trailing slash */
	}
	return 1;
}

int deploy_link_stays_inside(const char *rel, const char *dest)
{
	int depth = 0;
	const char *p;

	if (!*dest || *dest == '/')
		return 0;
	/* depth of the link's own folder inside the target */
	for (p = rel; *p; p++)
		if (*p == '/')
			depth++;
	for (p = dest; *p;) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return 0;
		} else if (n && !(n == 1 && p[0] == '.')) {
			depth++;
		}
		p += n;
		while (*p == '/')
			p++;
	}
	return 1;
}

static int mkparents(const char *path)
{
	char *copy = xstrdup(path);
	int ret = fs_mkdir_p(dirname(copy), 0700);

	free(copy);
	return ret;
}

int deploy_copy_file(const char *src, const char *dst, mode_t mode)
{
	struct stat st;
	char *data = NULL;
	size_t len;
	int fd = -1, ret = 0;

	if (lstat(src, &st) < 0)
		return mp_error_set(MP_EOS, "cannot read '%s': %s", src, strerror(errno));
	if (S_ISLNK(st.st_mode)) {
		char buf[4096];
		ssize_t n = readlink(src, buf, sizeof(buf) - 1);

		if (n < 0)
			return mp_error_set(MP_EOS, "cannot read link '%s': %s", src, strerror(errno));
		buf[n] = '\0';
		if (symlink(buf, dst) < 0)
			return mp_error_set(MP_EOS, "cannot create '%s': %s", dst, strerror(errno));
		return 0;
	}
	if ((ret = fs_read_file(&data, &len, src)) < 0)
		return ret;
	fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		ret = mp_error_set(MP_EOS, "cannot create '%s': %s", dst, strerror(errno));
		goto cleanup;
	}
	/* a short write is how a full disk starts: write on until write(2) says why */
	for (const char *p = data, *end = data + len; p < end;) {
		ssize_t n = write(fd, p, (size_t)(end - p));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = mp_error_set(MP_EOS, "cannot write '%s': %s", dst, n < 0 ? strerror(errno) : "nothing written");
			goto cleanup;
		}
		p += n;
	}
	if (fchmod(fd, mode) < 0)
		ret = mp_error_set(MP_EOS, "cannot write '%s': %s", dst, strerror(errno));
cleanup:
	if (fd >= 0) {
		close(fd);
		if (ret < 0)
			unlink(dst); /* never leave a truncated copy that looks like a backup */
	}
	free(data);
	return ret;
}

int deploy_backup_link(const char *path, const char *backup)
{
	struct stat st;
	int ret;

	if ((ret = mkparents(backup)) < 0)
		return ret;
	unlink(backup); /* a leftover of a killed run of the same install */
	if (link(path, backup) == 0)
		return 0;
	if (errno != EXDEV && errno != EPERM && errno != EMLINK)
		return mp_error_set(MP_EOS, "cannot back up '%s' to '%s': %s", path, backup, strerror(errno));
	if (lstat(path, &st) < 0)
		return mp_error_set(MP_EOS, "cannot back up '%s': %s", path, strerror(errno));
	return deploy_copy_file(path, backup, st.st_mode & 07777);
}

int deploy_backup_move(const char *path, const char *backup)
{
	struct stat st;
	int ret;

	if ((ret = mkparents(backup)) < 0)
		return ret;
	unlink(backup);
	if (rename(path, backup) == 0)
		return 0;
	if (errno != EXDEV)
		return mp_error_set(MP_EOS, "cannot move '%s' to '%s': %s", path, backup, strerror(errno));
	if (lstat(path, &st) < 0)
		return mp_error_set(MP_EOS, "cannot back up '%s': %s", path, strerror(errno));
	if ((ret = deploy_copy_file(path, backup, st.st_mode & 07777)) < 0)
		return ret;
	if (unlink(path) < 0)
		return mp_error_set(MP_EOS, "cannot remove '%s': %s", path, strerror(errno));
	return 0;
}

char *deploy_tmp_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;

	return xasprintf("%.*s.%s.meshpush-new", (int)dirlen, path, path + dirlen);
}

int deploy_stage(const char *tmp, const void *data, size_t len, unsigned mode, int sync)
{
	int ret = 0;

	unlink(tmp); /* a leftover of a killed install */
	if (mode == 0120000) {
		char *dest = xstrndup(data, len);

		if (symlink(dest, tmp) < 0)
			ret = mp_error_set(MP_EOS, "cannot create '%s': %s", tmp, strerror(errno));
		free(dest);
	} else {
		const char *p = data;
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd < 0)
			return mp_error_set(MP_EOS, "cannot create '%s': %s", tmp, strerror(errno));
		while (len > 0) {
			ssize_t n = write(fd, p, len);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				ret = mp_error_set(MP_EOS, "cannot write '%s': %s", tmp, strerror(errno));
				break;
			}
			p += n;
			len -= (size_t)n;
		}
		if (!ret && (fchmod(fd, mode) < 0 || (sync && fsync(fd) < 0)))
			ret = mp_error_set(MP_EOS, "cannot write '%s': %s", tmp, strerror(errno));
		close(fd);
	}
	if (ret < 0)
		unlink(tmp);
	return ret;
}

int deploy_put(const char *path, const void *data, size_t len, unsigned mode, int sync)
{
	char *tmp = deploy_tmp_name(path);
	int ret;

	if ((ret = deploy_stage(tmp, data, len, mode, sync)) < 0)
		goto cleanup;
	if (rename(tmp, path) < 0) {
		ret = mp_error_set(MP_EOS, "cannot replace '%s': %s", path, strerror(errno));
		unlink(tmp);
		goto cleanup;
	}
	if (sync)
		ret = fs_fsync_parent(path);
cleanup:
	free(tmp);
	return ret;
}

/*
 * A verify command's output goes to the report, the journal and the mesh:
 * a secret it printed (a script dumping its configuration) is redacted, as
 * the scanner shows secrets.  Best effort: when the scanner cannot be built,
 * the output is kept as it is.
 */
static void redact_output(char **output, const struct config *cfg)
{
	struct scan_engine *e = NULL;
	struct scan_report rep = SCAN_REPORT_INIT;

	if (!*output || !**output)
		return;
	if (scan_engine_new(&e, cfg) == 0 && scan_buffer(e, &rep, "verify-output", *output, strlen(*output)) == 0) {
		for (size_t i = 0; i < rep.nr; i++) {
			const char *secret = rep.findings[i].secret;
			struct strbuf sb = STRBUF_INIT;
			char *red, *p, *hit;

			if (!secret || !*secret)
				continue;
			red = scan_redact(secret);
			for (p = *output; (hit = strstr(p, secret)); p = hit + strlen(secret)) {
				strbuf_add(&sb, p, (size_t)(hit - p));
				strbuf_addstr(&sb, red);
			}
			strbuf_addstr(&sb, p);
			free(*output);
			*output = strbuf_detach(&sb);
			free(red);
		}
	}
	mp_error_clear();
	scan_report_release(&rep);
	scan_engine_free(e);
}

int deploy_verify(char **output, const struct config *cfg, const char *mapping, const char *dir,
		  const char *file)
{
	const char *tmpl = config_get(cfg, "install", mapping, "verify");
	struct strlist argv = STRLIST_INIT;
	struct proc_result res = PROC_RESULT_INIT;
	long timeout = config_get_int(cfg, "install", mapping, "verify_timeout");
	int ret;

	*output = NULL;
	if (!tmpl || !*tmpl)
		return 2; /* nothing to run */
	config_get_list(&argv, cfg, "install", mapping, "verify_files");
	if (argv.nr) {
		const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
		int match = 0;

		for (size_t i = 0; i < argv.nr && !match; i++)
			match = fnmatch(argv.items[i], base, 0) == 0;
		strlist_release(&argv);
		if (!match)
			return 2;
	}
	/* `file` is appended when no word holds "{}": the argv is never empty */
	ret = proc_run_template(&res, tmpl, file, dir, timeout);
	if (ret == MP_ECONFIG)
		goto cleanup;
	if (ret < 0) {
		/* could not start it: a failed verification, with why */
		*output = xstrdup(mp_error_last());
		mp_error_clear();
		ret = 0;
		goto cleanup;
	}
	if (res.timed_out) {
		*output = xasprintf("%stimed out after %ld s", strbuf_str(&res.out), timeout);
		redact_output(output, cfg);
		ret = 0;
	} else if (res.status != 0) {
		*output = xasprintf("%s(exit %d)", strbuf_str(&res.out), res.status);
		redact_output(output, cfg);
		ret = 0;
	} else {
		ret = 1;
	}
cleanup:
	strlist_release(&argv);
	proc_result_release(&res);
	return ret;
}

unsigned deploy_file_mode(const struct strlist *globs, const char *name, unsigned git_mode)
{
	const char *base = strrchr(name, '/');

	base = base ? base + 1 : name;
	if (git_mode == GIT_FILEMODE_LINK)
		return 0120000;
	if (git_mode == GIT_FILEMODE_BLOB_EXECUTABLE)
		return 0755;
	for (size_t i = 0; i < globs->nr; i++)
		if (fnmatch(globs->items[i], base, 0) == 0)
			return 0755;
	return 0644;
}

struct deploy_file *deploy_report_add(struct deploy_report *r, const char *mapping, const char *path,
				      const char *target, enum deploy_change change)
{
	struct deploy_file *f;

	r->files = xgrow(r->files, sizeof(*r->files), r->nr + 1, &r->alloc);
	f = &r->files[r->nr++];
	memset(f, 0, sizeof(*f));
	f->mapping = xstrdup(mapping);
	f->path = xstrdup(path);
	f->target = target ? xstrdup(target) : NULL;
	f->change = change;
	f->verified = -1;
	return f;
}

const char *deploy_change_name(enum deploy_change c)
{
	switch (c) {
	case DEPLOY_ADDED: return "added";
	case DEPLOY_UPDATED: return "updated";
	case DEPLOY_REMOVED: return "removed";
	case DEPLOY_RECORDED: return "recorded";
	case DEPLOY_FAILED: return "FAILED";
	case DEPLOY_SKIPPED: return "skipped";
	case DEPLOY_RESTORED: return "restored";
	}
	return "?";
}

void deploy_report_release(struct deploy_report *r)
{
	for (size_t i = 0; i < r->nr; i++) {
		struct deploy_file *f = &r->files[i];

		free(f->mapping);
		free(f->path);
		free(f->target);
		free(f->output);
		free(f->note);
		free(f->backup);
	}
	free(r->files);
	free(r->id);
	free(r->commit);
	strlist_release(&r->up_to_date);
	strlist_release(&r->notes);
	memset(r, 0, sizeof(*r));
}

char *deploy_mapping_target(const struct config *cfg, const char *mapping)
{
	const char *to = config_get(cfg, "install", mapping, "to");

	if (!to || !*to) {
		mp_error_set(MP_ECONFIG, "[install \"%s\"] has no 'to' folder; set it in .meshpush.ini or your config.ini",
			     mapping);
		return NULL;
	}
	if (to[0] != '/' && to[0] != '~') {
		mp_error_set(MP_ECONFIG, "[install \"%s\"] 'to' must be an absolute path or start with '~', not '%s'",
			     mapping, to);
		return NULL;
	}
	return fs_expand_home(to);
}

/* `s` with control characters shown as \n, \t, \ooo (a name in a report stays on one line). */
static void add_visible(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			strbuf_addstr(sb, "\\n");
		else if (c == '\t')
			strbuf_addstr(sb, "\\t");
		else if (c < 0x20 || c == 0x7f)
			strbuf_addf(sb, "\\%03o", c);
		else
			strbuf_addch(sb, (char)c);
	}
}

char *deploy_report_format(const struct deploy_report *r)
{
	struct strbuf sb = STRBUF_INIT;
	const char *mapping = NULL;
	size_t touched = 0;

	if (r->id && r->nr)
		strbuf_addf(&sb, "%s %s (HEAD %.7s)\n", r->kind ? r->kind : "install", r->id, r->commit ? r->commit : "?");
	for (size_t i = 0; i < r->nr; i++) {
		const struct deploy_file *f = &r->files[i];

		if (!mapping || strcmp(mapping, f->mapping)) {
			mapping = f->mapping;
			strbuf_addf(&sb, "%s:\n", mapping);
		}
		strbuf_addf(&sb, "  %-9s ", deploy_change_name(f->change));
		add_visible(&sb, f->path);
		if (f->verified == 1)
			strbuf_addstr(&sb, "  (verified)");
		if (f->change == DEPLOY_FAILED)
			strbuf_addstr(&sb, "  verification failed, previous version restored");
		if (f->local_change) {
			strbuf_addstr(&sb, "  (changed locally; that copy is in ");
			add_visible(&sb, f->backup ? f->backup : "the backups");
			strbuf_addstr(&sb, ")");
		}
		if (f->note) {
			strbuf_addstr(&sb, "  ");
			add_visible(&sb, f->note);
		}
		strbuf_addch(&sb, '\n');
		if (f->output) {
			const char *p = f->output;

			while (*p) {
				const char *nl = strchr(p, '\n');
				size_t n = nl ? (size_t)(nl - p) : strlen(p);

				strbuf_addstr(&sb, "      | ");
				strbuf_add(&sb, p, n);
				strbuf_addch(&sb, '\n');
				p += n + (nl ? 1 : 0);
			}
		}
		touched++;
	}
	for (size_t i = 0; i < r->up_to_date.nr; i++)
		strbuf_addf(&sb, "%s: up to date\n", r->up_to_date.items[i]);
	for (size_t i = 0; i < r->notes.nr; i++)
		strbuf_addf(&sb, "%s\n", r->notes.items[i]);
	if (touched)
		strbuf_addf(&sb, "Status: %s\n", r->issues ? "issues" : "working");
	return strbuf_detach(&sb);
}
