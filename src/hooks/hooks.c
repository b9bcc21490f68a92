#include "hooks/hooks.h"

#include "error.h"
#include "util/fs.h"
#include "util/proc.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const hooks_client_names[] = {
	"pre-commit", "pre-push", "post-merge", "post-rewrite", "post-checkout", NULL
};
const char *const hooks_server_names[] = { "pre-receive", NULL };

char *hooks_stub_text(const char *name)
{
	return xasprintf("#!/bin/sh\n"
			 HOOKS_MARKER " (installed by 'git meshpush hooks install', removed by 'git meshpush hooks uninstall')\n"
			 HOOKS_STUB_ENV "=\"$0\" exec git-meshpush hook %s \"$@\"\n",
			 name);
}

/* Stubs written by earlier versions, recognised exactly so that they are updated and removed. */
static char *old_stub_text(const char *name)
{
	return xasprintf("#!/bin/sh\n" HOOKS_MARKER " (installed by 'git meshpush hooks install')\n"
			 "exec git-meshpush hook %s \"$@\"\n",
			 name);
}

char *hooks_chained_path(const char *hook_path)
{
	return xasprintf("%s%s", hook_path, HOOKS_CHAINED_SUFFIX);
}

/* Remove "." and ".." components and doubled slashes of an absolute path. */
static char *normalize_path(const char *path)
{
	struct strlist parts = STRLIST_INIT;
	struct strbuf sb = STRBUF_INIT;
	size_t keep = 0;

	strlist_split(&parts, path, "/");
	for (size_t i = 0; i < parts.nr; i++) {
		if (!strcmp(parts.items[i], "."))
			continue;
		if (!strcmp(parts.items[i], "..")) {
			if (keep)
				keep--;
			continue;
		}
		char *tmp = parts.items[keep];
		parts.items[keep] = parts.items[i];
		parts.items[i] = tmp;
		keep++;
	}
	for (size_t i = 0; i < keep; i++) {
		strbuf_addch(&sb, '/');
		strbuf_addstr(&sb, parts.items[i]);
	}
	if (!keep)
		strbuf_addch(&sb, '/');
	strlist_release(&parts);
	return strbuf_detach(&sb);
}

/* `path` with symlinks resolved as far as it exists, normalised. */
static char *resolve_path(const char *path)
{
	char *norm = normalize_path(path), *real = realpath(norm, NULL);

	if (real) {
		free(norm);
		return real;
	}
	return norm;
}

static int path_is_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

int hooks_dir_find(struct hooks_dir *out, git_repository *repo)
{
	git_config *cfg = NULL;
	git_buf value = GIT_BUF_INIT;
	const char *workdir = git_repository_workdir(repo);
	char *path = NULL;
	int ret = 0, rc;

	out->path = NULL;
	out->from_config = 0;
	out->user_wide = 0;
	out->in_worktree = 0;
	if (git_repository_config_snapshot(&cfg, repo) < 0) {
		ret = mp_error_git("cannot read the repository's git configuration");
		goto cleanup;
	}
	rc = git_config_get_path(&value, cfg, "core.hooksPath");
	if (rc < 0 && rc != GIT_ENOTFOUND) {
		ret = mp_error_git("cannot read core.hooksPath");
		goto cleanup;
	}
	git_error_clear();
	if (rc == 0 && value.size) {
		git_config_entry *entry = NULL;

		if (git_config_get_entry(&entry, cfg, "core.hooksPath") == 0)
			out->user_wide = entry->level < GIT_CONFIG_LEVEL_LOCAL;
		git_config_entry_free(entry);
		git_error_clear();
		out->from_config = 1;
		if (value.ptr[0] == '/')
			path = xstrdup(value.ptr);
		else /* git runs hooks from the top of the work tree, or in the git dir when bare */
			path = fs_join(workdir ? workdir : git_repository_path(repo), value.ptr);
	} else {
		path = fs_join(git_repository_commondir(repo), "hooks");
	}
	out->path = resolve_path(path);
	if (workdir) {
		char *wd = resolve_path(workdir), *gd = resolve_path(git_repository_path(repo)),
		     *cd = resolve_path(git_repository_commondir(repo));

		out->in_worktree = path_is_under(out->path, wd) && !path_is_under(out->path, gd) &&
				   !path_is_under(out->path, cd);
		free(wd);
		free(gd);
		free(cd);
	}
cleanup:
	free(path);
	git_buf_dispose(&value);
	git_config_free(cfg);
	return ret;
}

void hooks_dir_release(struct hooks_dir *d)
{
	free(d->path);
	d->path = NULL;
}

/* Classify the file at `path` (which exists) for hook `name`. */
static enum hook_state classify(const char *path, const char *name)
{
	char *text = NULL, *stub = NULL, *old = NULL;
	enum hook_state state = HOOK_FOREIGN;
	size_t len = 0;

	if (fs_read_file(&text, &len, path) < 0) {
		mp_error_clear();
		return HOOK_FOREIGN; /* a dangling symlink, an unreadable file: not ours */
	}
	stub = hooks_stub_text(name);
	old = old_stub_text(name);
	if (len == strlen(stub) && !memcmp(text, stub, len))
		state = HOOK_OURS;
	else if (len == strlen(old) && !memcmp(text, old, len))
		state = HOOK_OURS_OLD;
	else if (memmem(text, len, "\n" HOOKS_MARKER, strlen(HOOKS_MARKER) + 1))
		state = HOOK_OURS_EDITED;
	free(text);
	free(stub);
	free(old);
	return state;
}

int hooks_status(struct hook_status *out, const char *dir, const char *name)
{
	char *path = fs_join(dir, name), *chained = hooks_chained_path(path);
	struct stat st;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->chained = fs_exists(chained);
	if (lstat(path, &st) < 0) {
		if (errno != ENOENT)
			ret = mp_error_set(MP_EOS, "cannot inspect '%s': %s", path, strerror(errno));
		out->state = HOOK_MISSING;
		goto cleanup;
	}
	out->symlink = S_ISLNK(st.st_mode);
	out->executable = access(path, X_OK) == 0;
	out->state = classify(path, name);
cleanup:
	free(path);
	free(chained);
	return ret;
}

static int write_stub(const char *path, const char *name)
{
	char *stub = hooks_stub_text(name);
	int ret = fs_write_atomic(path, stub, strlen(stub), 0755);

	free(stub);
	return ret;
}

int hooks_install_check(const char *dir, const char *name, unsigned flags)
{
	char *path = fs_join(dir, name), *chained = hooks_chained_path(path);
	struct hook_status st;
	int ret;

	if ((ret = hooks_status(&st, dir, name)) < 0)
		goto cleanup;
	if (st.state == HOOK_OURS_EDITED && !(flags & HOOKS_FORCE))
		ret = mp_error_set(MP_EPOLICY,
				   "'%s' is a git-meshpush stub that was edited: keep your changes elsewhere, "
				   "or run 'git meshpush hooks install --force' to replace it",
				   path);
	else if (st.state == HOOK_FOREIGN && st.chained)
		ret = mp_error_set(MP_EPOLICY,
				   "'%s' is not ours and '%s' already holds a chained hook: "
				   "merge the two by hand (or remove one), then run 'git meshpush hooks install' again",
				   path, chained);
cleanup:
	free(path);
	free(chained);
	return ret;
}

int hooks_install(enum hook_action *out, const char *dir, const char *name, unsigned flags)
{
	char *path = fs_join(dir, name), *chained = hooks_chained_path(path);
	struct hook_status st;
	int ret;

	if ((ret = fs_mkdir_p(dir, 0755)) < 0 || (ret = hooks_install_check(dir, name, flags)) < 0 ||
	    (ret = hooks_status(&st, dir, name)) < 0)
		goto cleanup;
	switch (st.state) {
	case HOOK_OURS:
		*out = HOOK_ALREADY;
		break;
	case HOOK_OURS_EDITED:
	case HOOK_OURS_OLD:
		if ((ret = write_stub(path, name)) == 0)
			*out = HOOK_UPDATED;
		break;
	case HOOK_MISSING:
		if ((ret = write_stub(path, name)) == 0)
			*out = HOOK_INSTALLED;
		break;
	case HOOK_FOREIGN:
		if (rename(path, chained) < 0) {
			ret = mp_error_set(MP_EOS, "cannot move '%s' aside: %s", path, strerror(errno));
			break;
		}
		if ((ret = write_stub(path, name)) < 0) {
			if (rename(chained, path) < 0)
				warning("cannot put '%s' back from '%s': %s", path, chained, strerror(errno));
			break;
		}
		*out = HOOK_INSTALLED_CHAIN;
		break;
	}
cleanup:
	free(path);
	free(chained);
	return ret;
}

int hooks_uninstall(enum hook_action *out, const char *dir, const char *name, unsigned flags)
{
	char *path = fs_join(dir, name), *chained = hooks_chained_path(path);
	struct hook_status st;
	int ret;

	if ((ret = hooks_status(&st, dir, name)) < 0)
		goto cleanup;
	switch (st.state) {
	case HOOK_FOREIGN:
		*out = HOOK_LEFT_FOREIGN;
		goto cleanup;
	case HOOK_MISSING:
		if (!st.chained) {
			*out = HOOK_NOT_INSTALLED;
			goto cleanup;
		}
		break;
	case HOOK_OURS_EDITED:
		if (!(flags & HOOKS_FORCE)) {
			ret = mp_error_set(MP_EPOLICY,
					   "'%s' is a git-meshpush stub that was edited: "
					   "run 'git meshpush hooks uninstall --force' to remove it anyway",
					   path);
			goto cleanup;
		}
		/* fall through */
	case HOOK_OURS:
	case HOOK_OURS_OLD:
		if (unlink(path) < 0) {
			ret = mp_error_set(MP_EOS, "cannot remove '%s': %s", path, strerror(errno));
			goto cleanup;
		}
		break;
	}
	*out = HOOK_REMOVED;
	if (st.chained) {
		if (rename(chained, path) < 0) {
			ret = mp_error_set(MP_EOS, "cannot put '%s' back from '%s': %s", path, chained, strerror(errno));
			goto cleanup;
		}
		*out = HOOK_RESTORED;
	}
	fs_fsync_parent(path);
cleanup:
	free(path);
	free(chained);
	return ret;
}

int hooks_run_chained(int *out_status, const char *stub_path, const char *const *args,
		      const char *in, size_t in_len)
{
	/* a chained hook that calls 'git meshpush hook' itself must not chain again */
	static const char *const env[] = { HOOKS_CHAINED_ENV "=1", NULL };
	struct proc_opts opts = PROC_OPTS_INIT;
	struct proc_result res = PROC_RESULT_INIT;
	struct strlist argv = STRLIST_INIT;
	char *chained = hooks_chained_path(stub_path);
	const char **av = NULL;
	int ret = 0;

	*out_status = 0;
	if (access(chained, X_OK) < 0) /* git does not run a hook that is not executable either */
		goto cleanup;
	strlist_push(&argv, chained);
	for (const char *const *a = args; a && *a; a++)
		strlist_push(&argv, *a);
	av = strlist_argv(&argv);
	opts.env = env;
	opts.in = in;
	opts.in_len = in_len;
	opts.inherit_stdin = !in;
	opts.same_pgroup = 1;
	if ((ret = proc_run(&res, av, &opts)) == 0)
		*out_status = res.status;
cleanup:
	proc_result_release(&res);
	free(av);
	strlist_release(&argv);
	free(chained);
	return ret;
}
