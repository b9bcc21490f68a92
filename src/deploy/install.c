/*
 * git meshpush install: HEAD's files of every [install] mapping into the
 * workspace, with backups, verification and a manifest that always
 * describes the disk.
 *
 * Per mapping:
 *  1. fast path: the tree id of `from` at HEAD (and the mapping's
 *     settings) equal the manifest's: nothing to do, no file is read;
 *  2. candidates: files whose blob at HEAD differs from the manifest's,
 *     and manifest files gone from HEAD;
 *  3. each candidate's disk state is checked (hashed like git does): a
 *     file that differs from what was installed is a local change (backed
 *     up and reported), a folder in the way is left alone;
 *  4. the new contents are staged (".<name>.meshpush-new" beside each
 *     file), then made durable with one syncfs(2);
 *  5. file by file: the current file is hard-linked into the backups,
 *     the staged file renamed over it (or a removed file moved into the
 *     backups), verified, restored on failure, and only then recorded in
 *     the manifest's log;
 *  6. the touched folders are fsync'ed and the manifest snapshot written.
 * A kill at any point leaves each file old or new and the manifest true to
 * the disk or behind it; the next run finishes the work (a file that
 * already has the new content is only recorded).
 */
#include "deploy/internal.h"

#include "error.h"
#include "journal/journal.h"
#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct item {
	char *rel;
	char *target;
	int want_present;
	git_oid want;
	unsigned want_mode;
	int disk_present;
	git_oid disk;
	unsigned disk_mode;
	int local_change;
	int in_manifest; /* the manifest had it installed */
	git_oid had;     /* ...with this content */
	unsigned had_mode;
	char *tmp;
	enum deploy_change change;
	int skip;
	int unchanged; /* skipped because there is nothing to do */
};

struct run {
	const struct config *cfg;
	git_repository *repo;
	const char *gitdir;
	const struct deploy_opts *opts;
	struct deploy_report *report;
	struct record_writer rec;
	git_commit *head;
	git_tree *head_tree;
	char head_hex[GIT_OID_HEXSZ + 1];
	struct strlist pushers; /* Mesh-From: of the installed commits */
	int pushers_unknown;    /* some installed commit had no Mesh-From: */
};

static void item_release(struct item *it)
{
	free(it->rel);
	free(it->target);
	free(it->tmp);
}

/* Start the install record the first time something changes. */
static int ensure_record(struct run *r)
{
	json_t *h;
	char ts[32];
	int ret;

	if (r->rec.fd >= 0)
		return 0;
	if (!r->report->id)
		r->report->id = record_new_id();
	journal_timestamp(ts, sizeof(ts));
	h = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", r->report->id, "time", ts, "kind", "install", "commit",
		      r->head_hex, "trigger", r->opts->trigger ? r->opts->trigger : "manual");
	ret = record_open(&r->rec, r->report->id, h);
	json_decref(h);
	return ret;
}

static char *backup_path(const char *id, const char *mapping, const char *rel, const char *sub)
{
	char *dir = deploy_state_path("backups"), *ret;

	ret = sub ? xasprintf("%s/%s/%s/%s/%s", dir, id, sub, mapping, rel) : xasprintf("%s/%s/%s/%s", dir, id, mapping, rel);
	free(dir);
	return ret;
}

static char *settings_hash(const char *from, const struct strlist *globs)
{
	struct strbuf sb = STRBUF_INIT;
	git_oid oid;
	char *ret;

	strbuf_addf(&sb, "v1\nfrom=%s\n", from);
	for (size_t i = 0; i < globs->nr; i++)
		strbuf_addf(&sb, "exec=%s\n", globs->items[i]);
	git_odb_hash(&oid, sb.buf, sb.len, GIT_OBJECT_BLOB);
	ret = oid_hex(&oid);
	strbuf_release(&sb);
	return ret;
}

/* Mesh-From: trailers of the commits since `old_hex` that touched `from`. */
static void collect_pushers(struct run *r, const char *old_hex, const char *from)
{
	git_revwalk *walk = NULL;
	git_oid oid, old;
	int n = 0;

	if (git_revwalk_new(&walk, r->repo) < 0)
		goto cleanup;
	git_revwalk_push(walk, git_commit_id(r->head));
	if (old_hex && git_oid_fromstr(&old, old_hex) == 0 && git_revwalk_hide(walk, &old) < 0)
		git_error_clear(); /* not in this clone: walk from the start */
	while (n++ < 500 && git_revwalk_next(&oid, walk) == 0) {
		git_commit *c = NULL, *parent = NULL;
		git_tree *t = NULL, *pt = NULL;
		git_tree_entry *e = NULL, *pe = NULL;
		git_message_trailer_array tr = { 0 };
		int touched;

		if (git_commit_lookup(&c, r->repo, &oid) < 0 || git_commit_tree(&t, c) < 0)
			goto next;
		git_tree_entry_bypath(&e, t, from);
		if (git_commit_parentcount(c) > 0 && git_commit_parent(&parent, c, 0) == 0 &&
		    git_commit_tree(&pt, parent) == 0)
			git_tree_entry_bypath(&pe, pt, from);
		touched = (!e != !pe) || (e && pe && !git_oid_equal(git_tree_entry_id(e), git_tree_entry_id(pe)));
		if (touched && git_commit_parentcount(c) <= 1) {
			int found = 0;

			if (git_message_trailers(&tr, git_commit_message(c)) == 0) {
				for (size_t i = 0; i < tr.count; i++) {
					if (strcasecmp(tr.trailers[i].key, "Mesh-From"))
						continue;
					found = 1;
					if (!strlist_has(&r->pushers, tr.trailers[i].value))
						strlist_push(&r->pushers, tr.trailers[i].value);
				}
				git_message_trailer_array_free(&tr);
			}
			if (!found)
				r->pushers_unknown = 1;
		}
	next:
		git_tree_entry_free(e);
		git_tree_entry_free(pe);
		git_tree_free(t);
		git_tree_free(pt);
		git_commit_free(parent);
		git_commit_free(c);
	}
cleanup:
	git_error_clear();
	git_revwalk_free(walk);
}

struct walk_ctx {
	struct item *items;
	size_t nr, alloc;
	struct manifest *m;
	const struct strlist *globs;
	const char *target;
	const struct deploy_opts *opts;
	int force;
};

static int walk_cb(const char *root, const git_tree_entry *entry, void *payload)
{
	struct walk_ctx *w = payload;
	git_filemode_t fm = git_tree_entry_filemode(entry);
	struct mf_entry *e;
	struct item *it;
	char *rel;
	unsigned mode;

	if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB)
		return 0; /* trees are walked into; submodules are not installed */
	rel = xasprintf("%s%s", root, git_tree_entry_name(entry));
	mode = deploy_file_mode(w->globs, rel, fm);
	e = manifest_find(w->m, rel);
	if (e)
		e->seen = 1;
	if (e && e->has_hold && git_oid_equal(&e->hold, git_tree_entry_id(entry)) &&
	    !(w->opts->retry && e->why && !strcmp(e->why, HOLD_FAILED))) {
		free(rel);
		return 0; /* held back (rolled back, removed, failed) until upstream changes it */
	}
	if (!w->force && e && e->present && git_oid_equal(&e->oid, git_tree_entry_id(entry)) && e->mode == mode) {
		free(rel);
		return 0;
	}
	w->items = xgrow(w->items, sizeof(*w->items), w->nr + 1, &w->alloc);
	it = &w->items[w->nr++];
	memset(it, 0, sizeof(*it));
	it->rel = rel;
	it->target = fs_join(w->target, rel);
	it->want_present = 1;
	git_oid_cpy(&it->want, git_tree_entry_id(entry));
	it->want_mode = mode;
	it->in_manifest = e && e->present;
	if (it->in_manifest) {
		git_oid_cpy(&it->had, &e->oid);
		it->had_mode = e->mode;
	}
	return 0;
}

/*
 * Check that nothing between the target folder and `it` is a symlink or
 * a file (we never write through a link).  `*checked` remembers the last
 * folder found fine.  Returns NULL or why not.
 */
static char *check_parents(const char *target, const char *rel, char **checked)
{
	const char *slash = strrchr(rel, '/');
	char *parent, *p;
	char *why = NULL;

	if (!slash)
		return NULL;
	parent = xstrndup(rel, (size_t)(slash - rel));
	if (*checked && !strcmp(*checked, parent)) {
		free(parent);
		return NULL;
	}
	for (p = parent;; p++) {
		if (*p == '/' || !*p) {
			char c = *p;
			char *full;
			struct stat st;

			*p = '\0';
			full = fs_join(target, parent);
			if (lstat(full, &st) == 0) {
				if (S_ISLNK(st.st_mode))
					why = xasprintf("'%s' is a symbolic link: not followed", full);
				else if (!S_ISDIR(st.st_mode))
					why = xasprintf("'%s' is a file where a folder should be: left alone", full);
			}
			free(full);
			*p = c;
			if (why || !c)
				break;
		}
	}
	if (!why) {
		free(*checked);
		*checked = parent;
	} else {
		free(parent);
	}
	return why;
}

static void skip_item(struct run *r, const char *mapping, struct item *it, char *why)
{
	struct deploy_file *f = deploy_report_add(r->report, mapping, it->rel, it->target, DEPLOY_SKIPPED);

	f->note = why;
	it->skip = 1;
	r->report->issues++;
}

/* Look at the disk for one candidate: decide what to do with it. */
static int examine(struct run *r, const char *mapping, const char *target, struct item *it,
		   const struct mf_entry *e, char **checked)
{
	struct stat st;
	char *why;
	int ret;

	if (!deploy_rel_is_safe(it->rel)) {
		skip_item(r, mapping, it, xasprintf("refused: the path '%s' escapes '%s'", it->rel, target));
		return 0;
	}
	if (it->want_present && it->want_mode == 0120000) {
		git_blob *b = NULL;
		char *dest;

		if (git_blob_lookup(&b, r->repo, &it->want) < 0)
			return mp_error_git("cannot read '%s'", it->rel);
		dest = xstrndup(git_blob_rawcontent(b), (size_t)git_blob_rawsize(b));
		git_blob_free(b);
		if (!deploy_link_stays_inside(it->rel, dest)) {
			skip_item(r, mapping, it,
				  xasprintf("refused: the symbolic link '%s' points outside '%s' (to '%s')", it->rel,
					    target, dest));
			free(dest);
			return 0;
		}
		free(dest);
	}
	if ((why = check_parents(target, it->rel, checked))) {
		skip_item(r, mapping, it, why);
		return 0;
	}
	if (lstat(it->target, &st) < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			return mp_error_set(MP_EOS, "cannot look at '%s': %s", it->target, strerror(errno));
		it->disk_present = 0;
	} else if (S_ISDIR(st.st_mode)) {
		skip_item(r, mapping, it,
			  xasprintf("a folder is in the way at '%s': left alone (move it, then run 'git meshpush install --force')",
				    it->target));
		return 0;
	} else {
		if ((ret = deploy_hash_path(&it->disk, it->target, &st)) < 0)
			return ret;
		it->disk_present = 1;
		it->disk_mode = S_ISLNK(st.st_mode) ? 0120000 : (st.st_mode & 0777);
	}
	if (it->want_present) {
		if (it->disk_present && git_oid_equal(&it->disk, &it->want)) {
			it->change = DEPLOY_RECORDED;
			if (e && e->present && git_oid_equal(&e->oid, &it->want) && e->mode == it->want_mode &&
			    it->disk_mode == (it->want_mode == 0120000 ? 0120000 : it->want_mode) && !e->why)
				it->skip = it->unchanged = 1; /* (--force) installed and unchanged: nothing to do */
		} else {
			it->change = it->disk_present ? DEPLOY_UPDATED : DEPLOY_ADDED;
			it->local_change = it->disk_present && !(e && e->present && git_oid_equal(&e->oid, &it->disk));
		}
	} else {
		it->change = DEPLOY_REMOVED;
		it->local_change = it->disk_present && !(e && e->present && git_oid_equal(&e->oid, &it->disk));
	}
	return 0;
}

static json_t *record_line(const char *mapping, const struct item *it, const char *backup, const char *change)
{
	json_t *o = json_object();
	char hex[GIT_OID_HEXSZ + 1];

	json_object_set_new(o, "mapping", json_string(mapping));
	json_object_set_new(o, "path", json_string(it->rel));
	json_object_set_new(o, "target", json_string(it->target));
	json_object_set_new(o, "change", json_string(change));
	if (it->disk_present) {
		json_object_set_new(o, "before", json_string(git_oid_tostr(hex, sizeof(hex), &it->disk)));
		json_object_set_new(o, "before_mode", json_integer(it->disk_mode));
	}
	if (it->want_present) {
		json_object_set_new(o, "after", json_string(git_oid_tostr(hex, sizeof(hex), &it->want)));
		json_object_set_new(o, "mode", json_integer(it->want_mode));
	}
	if (backup)
		json_object_set_new(o, "backup", json_string(backup));
	if (it->local_change)
		json_object_set_new(o, "local_change", json_true());
	return o;
}

/* Put the previous state of `it` back after a failed verification. */
static int restore_failed(struct run *r, const char *mapping, struct item *it, const char *backup,
			  struct deploy_file *f)
{
	int ret;

	if (it->disk_present) {
		char *tmp = deploy_tmp_name(it->target);

		unlink(tmp);
		if ((ret = deploy_copy_file(backup, tmp, it->disk_mode == 0120000 ? 0644 : it->disk_mode)) == 0 &&
		    rename(tmp, it->target) < 0)
			ret = mp_error_set(MP_EOS, "cannot restore '%s': %s", it->target, strerror(errno));
		if (ret < 0)
			unlink(tmp);
		free(tmp);
		return ret;
	}
	/* there was none: the new file goes into the backups, never deleted */
	free(f->backup);
	f->backup = backup_path(r->report->id, mapping, it->rel, ".failed");
	return deploy_backup_move(it->target, f->backup);
}

/*
 * A file found already new (an install killed after its rename, before its
 * verification) fails verification: put back what the manifest says was
 * installed before, from the repository's objects, the failed file going to
 * the backups; or, when that is not known, leave it and hold it.
 */
static int recorded_failed(struct run *r, const char *mapping, struct manifest *m, struct item *it,
			   struct deploy_file *f)
{
	git_blob *b = NULL;
	int ret;

	if (!it->in_manifest || git_oid_equal(&it->had, &it->want) || it->had_mode == 0120000 ||
	    git_blob_lookup(&b, r->repo, &it->had) < 0) {
		git_error_clear();
		f->note = xstrdup("it was already in place and the previous version is unknown: left as it is, held");
		return manifest_record(m, it->rel, 1, &it->want, it->want_mode, r->report->id, HOLD_FAILED, &it->want);
	}
	f->backup = backup_path(r->report->id, mapping, it->rel, ".failed");
	if ((ret = deploy_backup_link(it->target, f->backup)) == 0)
		ret = deploy_put(it->target, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b), it->had_mode, 0);
	git_blob_free(b);
	if (ret < 0)
		return ret;
	return manifest_record(m, it->rel, 1, &it->had, it->had_mode, r->report->id, HOLD_FAILED, &it->want);
}

static int apply_item(struct run *r, const char *mapping, struct manifest *m, struct item *it)
{
	struct deploy_file *f;
	char *backup = NULL, *dir = NULL, *output = NULL;
	json_t *line;
	int ret = 0, v;

	f = deploy_report_add(r->report, mapping, it->rel, it->target, it->change);
	f->local_change = it->local_change;
	if (it->change == DEPLOY_RECORDED && it->disk_mode != it->want_mode && it->want_mode != 0120000)
		chmod(it->target, it->want_mode);
	if (it->disk_present && it->change != DEPLOY_RECORDED)
		backup = backup_path(r->report->id, mapping, it->rel, NULL);

	/* the intent first: a killed install's record names what it touched */
	line = record_line(mapping, it, backup, deploy_change_name(it->change));
	ret = record_append(&r->rec, line);
	json_decref(line);
	if (ret < 0)
		goto cleanup;

	switch (it->change) {
	case DEPLOY_UPDATED:
		if ((ret = deploy_backup_link(it->target, backup)) < 0)
			goto cleanup;
		/* fall through */
	case DEPLOY_ADDED:
		if (rename(it->tmp, it->target) < 0) {
			ret = mp_error_set(MP_EOS, "cannot replace '%s': %s", it->target, strerror(errno));
			goto cleanup;
		}
		break;
	case DEPLOY_REMOVED:
		if (it->disk_present && (ret = deploy_backup_move(it->target, backup)) < 0)
			goto cleanup;
		break;
	default:
		break;
	}
	if (backup)
		f->backup = xstrdup(backup);

	if (it->want_present && it->want_mode != 0120000) {
		/* in the target folder (the mapping's, not the file's own) */
		dir = xstrndup(it->target, strlen(it->target) - strlen(it->rel) - 1);
		v = deploy_verify(&output, r->cfg, mapping, dir, it->target);
		if (v < 0) {
			ret = v;
			goto cleanup;
		}
		f->verified = v == 2 ? -1 : v;
		if (v == 0) {
			f->output = output;
			output = NULL;
			f->change = DEPLOY_FAILED;
			r->report->issues++;
			if (it->change == DEPLOY_RECORDED) {
				ret = recorded_failed(r, mapping, m, it, f);
				goto cleanup;
			}
			if ((ret = restore_failed(r, mapping, it, backup, f)) < 0)
				goto cleanup;
			line = record_line(mapping, it, f->backup, "failed");
			record_append(&r->rec, line);
			json_decref(line);
			ret = manifest_record(m, it->rel, it->disk_present, it->disk_present ? &it->disk : NULL,
					      it->disk_mode, r->report->id, HOLD_FAILED, &it->want);
			goto cleanup;
		}
	}
	if (it->want_present)
		ret = manifest_record(m, it->rel, 1, &it->want, it->want_mode, r->report->id, NULL, NULL);
	else
		ret = manifest_record(m, it->rel, 0, NULL, 0, r->report->id, NULL, NULL);
cleanup:
	free(output);
	free(dir);
	free(backup);
	return ret;
}

/*
 * Remove staged files (".<name>.meshpush-new") a killed install left in
 * `dir` for a file that is no longer to be installed.  Ours were all
 * renamed by now, and we hold the lock.
 */
static void sweep_staged(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' && ends_with(de->d_name, ".meshpush-new") &&
		    strlen(de->d_name) > strlen("..meshpush-new")) {
			char *p = fs_join(dir, de->d_name);

			unlink(p);
			free(p);
		}
	}
	if (d)
		closedir(d);
}

static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* 1 when `path` is `dir` or inside it (both real paths). */
static int path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/' || (n == 1 && dir[0] == '/'));
}

/*
 * Where the target folder may be: decided at the first install (its real
 * path is recorded); never inside the repository or the state directory.
 */
/*
 * The real path `target` has, or will have once created: the real path of
 * its deepest existing folder plus the rest.  0, or -1 (errno set).
 */
static int future_realpath(char *out, const char *target)
{
	char *copy = xstrdup(target), *slash;
	int ret = -1;

	for (;;) {
		if (realpath(copy, out)) {
			const char *rest = target + strlen(copy); /* "" or "/a/b" */

			if (*rest && !strcmp(out, "/"))
				rest++; /* no "//a" */
			if (strlen(out) + strlen(rest) >= PATH_MAX) {
				errno = ENAMETOOLONG;
				break;
			}
			strcat(out, rest);
			ret = 0;
			break;
		}
		if (errno != ENOENT || !(slash = strrchr(copy, '/')) || slash == copy)
			break;
		*slash = '\0';
	}
	free(copy);
	return ret;
}

static char *check_target(struct run *r, struct manifest *m, const char *target, int *created)
{
	char real[PATH_MAX], *state = fs_state_dir(), *why = NULL;
	const char *wd = git_repository_workdir(r->repo);
	char wreal[PATH_MAX] = "", sreal[PATH_MAX] = "", greal[PATH_MAX] = "";
	struct stat st;
	int exists = stat(target, &st) == 0;

	*created = 0;
	if (exists && !S_ISDIR(st.st_mode)) {
		why = xasprintf("refused: the target '%s' is not a folder", target);
		goto cleanup;
	}
	if (future_realpath(real, target) < 0) {
		why = xasprintf("cannot resolve '%s': %s", target, strerror(errno));
		goto cleanup;
	}
	if (m->realpath && strcmp(m->realpath, real)) {
		why = xasprintf("refused: the target '%s' now resolves to '%s', but was installed into '%s' "
				"(a symbolic link changed?); if this is intended, move the manifest '%s' away and run "
				"'git meshpush install --force'", target, real, m->realpath, m->file);
		goto cleanup;
	}
	if (wd && realpath(wd, wreal) && (path_within(real, wreal) || path_within(wreal, real))) {
		why = xasprintf("refused: the target '%s' overlaps the repository '%s'", real, wreal);
		goto cleanup;
	}
	if (realpath(git_repository_path(r->repo), greal) && path_within(real, greal)) {
		why = xasprintf("refused: the target '%s' is inside the git directory", real);
		goto cleanup;
	}
	if (realpath(state, sreal) && (path_within(real, sreal) || path_within(sreal, real))) {
		why = xasprintf("refused: the target '%s' overlaps the backups in '%s'", real, sreal);
		goto cleanup;
	}
	if (!strcmp(real, "/")) {
		why = xstrdup("refused: the target is the root folder");
		goto cleanup;
	}
	if (!exists) {
		if (fs_mkdir_p(target, 0755) < 0) {
			why = xstrdup(mp_error_last());
			mp_error_clear();
			goto cleanup;
		}
		*created = 1;
		if (!realpath(target, real)) {
			why = xasprintf("cannot resolve '%s': %s", target, strerror(errno));
			goto cleanup;
		}
	}
	if (!m->realpath)
		m->realpath = xstrdup(real);
cleanup:
	free(state);
	return why;
}

/*
 * The manifest snapshot of `mapping` is damaged (cut short, edited): keep
 * it aside as <file>.damaged, start from an empty manifest (plus whatever
 * its change log still says) and let the caller compare every file with
 * the workspace, so files that differ are backed up, never lost.
 */
static int rebuild_damaged_manifest(struct run *r, struct manifest *m, const char *mapping, const char *target)
{
	char *aside = xasprintf("%s.damaged", m->file);
	int ret = 0;

	if (rename(m->file, aside) < 0) {
		ret = mp_error_set(MP_EOS, "cannot move the damaged manifest '%s' aside: %s", m->file, strerror(errno));
		goto cleanup;
	}
	strlist_push_nodup(&r->report->notes,
			   xasprintf("%s: the manifest was damaged (%s): kept as '%s', rebuilt by comparing every "
				     "file with the workspace (files that differ are backed up)",
				     mapping, m->damaged, aside));
	manifest_release(m);
	mp_error_clear();
	ret = manifest_load(m, mapping, target);
cleanup:
	free(aside);
	return ret;
}

/*
 * Install one mapping.  With `up_to_date_only` set, only check (without
 * the lock) whether the fast path applies: *up_to_date_only = 1 if so.
 */
static int install_mapping(struct run *r, const char *mapping, int *up_to_date_only)
{
	struct manifest m = MANIFEST_INIT;
	struct walk_ctx w = { 0 };
	struct strlist globs = STRLIST_INIT, dirs = STRLIST_INIT;
	git_tree_entry *fe = NULL;
	git_tree *from_tree = NULL;
	char *target = NULL, *settings = NULL, *why = NULL, *checked = NULL;
	const char *from = config_get(r->cfg, "install", mapping, "from");
	char tree_hex[GIT_OID_HEXSZ + 1];
	size_t staged = 0, first_file = r->report->nr;
	int ret = 0, created = 0, skipped = 0, rebuilt = 0;

	if (!from || !*from)
		from = "shared/voltagent";
	while (*from == '/')
		from++;
	if (!(target = deploy_mapping_target(r->cfg, mapping)))
		return MP_ECONFIG;
	config_get_list(&globs, r->cfg, "install", mapping, "executable");
	settings = settings_hash(from, &globs);

	if (git_tree_entry_bypath(&fe, r->head_tree, from) < 0 || git_tree_entry_type(fe) != GIT_OBJECT_TREE) {
		git_error_clear();
		strlist_push_nodup(&r->report->notes,
				   xasprintf("%s: '%s' is not a folder at HEAD: nothing installed, installed files left alone",
					     mapping, from));
		goto cleanup;
	}
	git_oid_tostr(tree_hex, sizeof(tree_hex), git_tree_entry_id(fe));

	/* 1. the fast path */
	if (!r->opts->force && !r->opts->retry && manifest_up_to_date(mapping, target, tree_hex, settings)) {
		struct stat st;

		if (stat(target, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (up_to_date_only)
				*up_to_date_only = 1;
			else
				strlist_push(&r->report->up_to_date, mapping);
			goto cleanup;
		}
	}
	if (up_to_date_only)
		goto cleanup; /* there is work: the caller takes the lock and comes back */
	if ((ret = manifest_load(&m, mapping, target)) < 0) {
		if (!m.damaged || (ret = rebuild_damaged_manifest(r, &m, mapping, target)) < 0)
			goto cleanup;
		rebuilt = 1;
	}
	if ((why = check_target(r, &m, target, &created))) {
		struct deploy_file *f = deploy_report_add(r->report, mapping, ".", target, DEPLOY_SKIPPED);

		f->note = why;
		why = NULL;
		r->report->issues++;
		goto cleanup;
	}

	/* 2. the candidates */
	if (git_tree_lookup(&from_tree, r->repo, git_tree_entry_id(fe)) < 0) {
		ret = mp_error_git("cannot read '%s' at HEAD", from);
		goto cleanup;
	}
	w.m = &m;
	w.globs = &globs;
	w.target = target;
	w.opts = r->opts;
	w.force = r->opts->force || created || rebuilt;
	if (git_tree_walk(from_tree, GIT_TREEWALK_PRE, walk_cb, &w) < 0) {
		ret = mp_error_git("cannot read '%s' at HEAD", from);
		goto cleanup;
	}
	for (size_t i = 0; i < m.nr; i++) {
		struct mf_entry *e = &m.entries[i];
		struct item *it;

		if (e->seen || !e->present)
			continue;
		if (e->has_hold && git_oid_is_zero(&e->hold))
			continue; /* restored by a rollback while upstream lacks it: held */
		w.items = xgrow(w.items, sizeof(*w.items), w.nr + 1, &w.alloc);
		it = &w.items[w.nr++];
		memset(it, 0, sizeof(*it));
		it->rel = xstrdup(e->path);
		it->target = fs_join(target, e->path);
		it->in_manifest = 1;
	}

	/* 3. the disk */
	for (size_t i = 0; i < w.nr; i++) {
		struct item *it = &w.items[i];

		if ((ret = examine(r, mapping, target, it, manifest_find(&m, it->rel), &checked)) < 0)
			goto cleanup;
		if (it->skip && !it->unchanged)
			skipped++;
		else if (!it->want_present && !it->disk_present)
			manifest_set(&m, it->rel, 0, NULL, 0, NULL, NULL, NULL), it->skip = 1;
	}

	/* 4. stage every new content, then one sync */
	for (size_t i = 0; i < w.nr; i++) {
		struct item *it = &w.items[i];
		git_blob *b = NULL;

		if (it->skip || it->change == DEPLOY_RECORDED || !it->want_present)
			continue;
		if (git_blob_lookup(&b, r->repo, &it->want) < 0) {
			ret = mp_error_git("cannot read '%s' at HEAD", it->rel);
			goto cleanup;
		}
		{
			char *parent = xstrndup(it->target, (size_t)(strrchr(it->target, '/') - it->target));

			ret = fs_mkdir_p(parent, 0755);
			if (!dirs.nr || strcmp(dirs.items[dirs.nr - 1], parent))
				strlist_push(&dirs, parent);
			free(parent);
		}
		it->tmp = deploy_tmp_name(it->target);
		if (ret == 0)
			ret = deploy_stage(it->tmp, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b), it->want_mode, 0);
		git_blob_free(b);
		if (ret < 0)
			goto cleanup;
		staged++;
	}
	if (staged) {
		int fd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0 || syncfs(fd) < 0)
			ret = mp_error_set(MP_EOS, "cannot sync '%s': %s", target, strerror(errno));
		if (fd >= 0)
			close(fd);
		if (ret < 0)
			goto cleanup;
	}

	/* 5. file by file */
	for (size_t i = 0; i < w.nr; i++) {
		struct item *it = &w.items[i];

		if (it->skip)
			continue;
		if ((ret = ensure_record(r)) < 0 || (ret = apply_item(r, mapping, &m, it)) < 0)
			goto cleanup;
		if (it->change == DEPLOY_REMOVED) {
			char *parent = xstrndup(it->target, (size_t)(strrchr(it->target, '/') - it->target));

			strlist_push_nodup(&dirs, parent);
		}
	}

	/* 6. durable, then the snapshot */
	for (size_t i = 0; i < dirs.nr; i++) {
		if (!i || strcmp(dirs.items[i], dirs.items[i - 1])) {
			sweep_staged(dirs.items[i]);
			fsync_dir(dirs.items[i]);
		}
	}
	if (r->report->nr > first_file)
		collect_pushers(r, m.commit, from);
	else
		strlist_push(&r->report->up_to_date, mapping);
	if (!skipped) {
		free(m.tree);
		m.tree = xstrdup(tree_hex);
	}
	free(m.commit);
	m.commit = xstrdup(r->head_hex);
	free(m.settings);
	m.settings = xstrdup(settings);
	if (r->report->id) {
		free(m.install);
		m.install = xstrdup(r->report->id);
	}
	ret = manifest_save(&m);

cleanup:
	for (size_t i = 0; i < w.nr; i++) {
		if (w.items[i].tmp && !w.items[i].skip)
			unlink(w.items[i].tmp); /* staged but not used (an error stopped us) */
		item_release(&w.items[i]);
	}
	free(w.items);
	free(checked);
	free(why);
	git_tree_free(from_tree);
	git_tree_entry_free(fe);
	strlist_release(&globs);
	strlist_release(&dirs);
	manifest_release(&m);
	free(settings);
	free(target);
	return ret;
}

int deploy_install(struct deploy_report *out, const struct config *cfg, git_repository *repo,
		   const char *gitdir, const struct deploy_opts *opts)
{
	struct deploy_opts defaults = DEPLOY_OPTS_INIT;
	struct run r = { 0 };
	struct deploy_lock lock = DEPLOY_LOCK_INIT;
	struct strlist mappings = STRLIST_INIT;
	git_oid head_oid;
	int ret;

	if (!opts)
		opts = &defaults;
	r.cfg = cfg;
	r.repo = repo;
	r.gitdir = gitdir;
	r.opts = opts;
	r.report = out;
	r.rec.fd = -1;

	config_subsections(&mappings, cfg, "install");
	if (opts->mapping) {
		if (!strlist_has(&mappings, opts->mapping)) {
			ret = mp_error_set(MP_EUSAGE, "no mapping [install \"%s\"] in the configuration", opts->mapping);
			goto cleanup;
		}
		strlist_release(&mappings);
		strlist_push(&mappings, opts->mapping);
	}
	if (!mappings.nr) {
		strlist_push(&out->notes, "no [install \"name\"] mapping is configured: nothing to install");
		ret = 0;
		goto cleanup;
	}
	if (git_reference_name_to_id(&head_oid, repo, "HEAD") < 0 || git_commit_lookup(&r.head, repo, &head_oid) < 0 ||
	    git_commit_tree(&r.head_tree, r.head) < 0) {
		git_error_clear();
		strlist_push(&out->notes, "HEAD has no commit yet: nothing to install");
		ret = 0;
		goto cleanup;
	}
	git_oid_tostr(r.head_hex, sizeof(r.head_hex), &head_oid);
	out->commit = xstrdup(r.head_hex);

	/* nothing changed (the usual pull): say so without taking the lock */
	{
		size_t current = 0;

		for (size_t i = 0; i < mappings.nr; i++) {
			int up = 0;

			if (install_mapping(&r, mappings.items[i], &up) == 0 && up)
				current++;
			mp_error_clear();
		}
		strlist_release(&out->notes);
		if (current == mappings.nr) {
			for (size_t i = 0; i < mappings.nr; i++)
				strlist_push(&out->up_to_date, mappings.items[i]);
			ret = 0;
			goto cleanup;
		}
	}
	if ((ret = deploy_lock_take(&lock, opts->lock_wait_ms > 0 ? opts->lock_wait_ms : 10000)) < 0)
		goto cleanup;
	out->lock_taken_over = lock.took_over != 0;
	if (lock.took_over)
		strlist_push_nodup(&out->notes,
				   xasprintf("the install lock was left by process %ld, which no longer runs "
					     "(an install was interrupted): taken over, this install completes it",
					     lock.took_over));
	for (size_t i = 0; i < mappings.nr; i++) {
		if ((ret = install_mapping(&r, mappings.items[i], NULL)) < 0) {
			if (ret != MP_ECONFIG)
				goto cleanup;
			/* a mapping without a target: say so, install the others */
			strlist_push_nodup(&out->notes, xstrdup(mp_error_last()));
			out->issues++;
			mp_error_clear();
			ret = 0;
		}
	}
	if (r.rec.fd >= 0) {
		record_close(&r.rec);
		deploy_journal(out, gitdir, "install", opts->trigger);
		if (!opts->no_confirm)
			deploy_confirm(out, cfg, repo, gitdir, DEPLOY_MSG_RECEIVED,
				       r.pushers_unknown || !r.pushers.nr ? NULL : &r.pushers);
		{
			size_t pruned = 0;

			deploy_prune(&pruned, cfg);
			mp_error_clear();
		}
	}
cleanup:
	if (r.rec.fd >= 0)
		record_close(&r.rec);
	deploy_lock_release(&lock);
	git_tree_free(r.head_tree);
	git_commit_free(r.head);
	strlist_release(&r.pushers);
	strlist_release(&mappings);
	return ret;
}
