/*
 * Rollback and the emergency removal.
 *
 * A rollback reads an install record and puts back, for each file, what
 * was there before (from the backups), or removes what the install added
 * (into the backups).  It is recorded like an install (kind "rollback"),
 * whose own backups hold what it replaced, so rolling back the rollback
 * restores the install.  The restored files are "held" in the manifest:
 * the next install leaves them alone while HEAD still has the content
 * that was rolled back, and installs again once upstream changes it.
 */
#include "deploy/internal.h"

#include "error.h"
#include "journal/journal.h"
#include "util/fs.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct open_manifest {
	struct manifest m;
};

struct session {
	const struct config *cfg;
	git_repository *repo;
	struct deploy_report *report;
	struct record_writer rec;
	struct open_manifest *mans;
	size_t nmans, amans;
	git_tree *head_tree;
};

static struct manifest *session_manifest(struct session *s, const char *mapping, const char *target_dir)
{
	struct open_manifest *om;

	for (size_t i = 0; i < s->nmans; i++)
		if (!strcmp(s->mans[i].m.mapping, mapping) && !strcmp(s->mans[i].m.target, target_dir))
			return &s->mans[i].m;
	s->mans = xgrow(s->mans, sizeof(*s->mans), s->nmans + 1, &s->amans);
	om = &s->mans[s->nmans++];
	om->m = (struct manifest)MANIFEST_INIT;
	if (manifest_load(&om->m, mapping, target_dir) < 0)
		mp_error_clear(); /* start from an empty one: it is rewritten below */
	return &om->m;
}

/* The blob HEAD has for `rel` in `mapping`, into `out`: 1 found, 0 not. */
static int head_blob(git_oid *out, struct session *s, const char *mapping, const char *rel)
{
	const char *from = config_get(s->cfg, "install", mapping, "from");
	git_tree_entry *e = NULL;
	char *path;
	int found = 0;

	if (!s->head_tree)
		return 0;
	if (!from || !*from)
		from = "shared/voltagent";
	path = xasprintf("%s/%s", from, rel);
	if (git_tree_entry_bypath(&e, s->head_tree, path) == 0 && git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
		git_oid_cpy(out, git_tree_entry_id(e));
		found = 1;
	}
	git_error_clear();
	git_tree_entry_free(e);
	free(path);
	return found;
}

static int session_start(struct session *s, const char *kind, const char *of)
{
	git_object *obj = NULL;
	json_t *h;
	char ts[32];
	int ret;

	if (git_revparse_single(&obj, s->repo, "HEAD^{tree}") == 0)
		s->head_tree = (git_tree *)obj;
	git_error_clear();
	s->report->id = record_new_id();
	s->report->kind = !strcmp(kind, "rollback") ? "rollback" : "remove";
	journal_timestamp(ts, sizeof(ts));
	h = json_pack("{s:s, s:s, s:s, s:s}", "id", s->report->id, "time", ts, "kind", kind, "trigger", "manual");
	if (of)
		json_object_set_new(h, "rollback_of", json_string(of));
	if (obj) {
		char hex[GIT_OID_HEXSZ + 1];
		git_oid head;

		if (git_reference_name_to_id(&head, s->repo, "HEAD") == 0) {
			json_object_set_new(h, "commit", json_string(git_oid_tostr(hex, sizeof(hex), &head)));
			s->report->commit = xstrdup(hex);
		}
		git_error_clear();
	}
	ret = record_open(&s->rec, s->report->id, h);
	json_decref(h);
	return ret;
}

static int session_finish(struct session *s)
{
	int ret = 0;

	for (size_t i = 0; i < s->nmans; i++) {
		if (ret == 0)
			ret = manifest_save(&s->mans[i].m);
		manifest_release(&s->mans[i].m);
	}
	free(s->mans);
	s->mans = NULL;
	s->nmans = 0;
	if (s->rec.fd >= 0 && record_close(&s->rec) < 0 && ret == 0)
		ret = MP_EOS;
	git_tree_free(s->head_tree);
	s->head_tree = NULL;
	return ret;
}

/* Hash what is at `path`: 1 present (oid, mode), 0 absent, 2 a folder; <0 error. */
static int look(git_oid *oid, unsigned *mode, const char *path)
{
	struct stat st;
	int ret;

	if (lstat(path, &st) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : mp_error_set(MP_EOS, "cannot look at '%s': %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return 2;
	if ((ret = deploy_hash_path(oid, path, &st)) < 0)
		return ret;
	*mode = S_ISLNK(st.st_mode) ? 0120000 : (st.st_mode & 0777);
	return 1;
}

/* Restore one record line to its "before" state. */
static int restore_line(struct session *s, json_t *line)
{
	const char *mapping = json_string_value(json_object_get(line, "mapping"));
	const char *rel = json_string_value(json_object_get(line, "path"));
	const char *target = json_string_value(json_object_get(line, "target"));
	const char *before_s = json_string_value(json_object_get(line, "before"));
	const char *after_s = json_string_value(json_object_get(line, "after"));
	const char *backup = json_string_value(json_object_get(line, "backup"));
	unsigned before_mode = (unsigned)json_integer_value(json_object_get(line, "before_mode"));
	struct deploy_file *f;
	struct manifest *m;
	git_oid before, cur, hold, after;
	unsigned cur_mode = 0;
	char *target_dir = NULL, *data = NULL, *newbackup = NULL, *output = NULL, *dir = NULL;
	size_t len = 0;
	int ret = 0, state, has_hold;
	json_t *rl;

	if (!mapping || !rel || !target || strlen(target) <= strlen(rel) + 1 || !deploy_rel_is_safe(rel))
		return 0;
	target_dir = xstrndup(target, strlen(target) - strlen(rel) - 1);
	f = deploy_report_add(s->report, mapping, rel, target, DEPLOY_RESTORED);
	if (before_s && git_oid_fromstr(&before, before_s) < 0)
		before_s = NULL;
	if (before_s) {
		git_oid got;
		struct stat st;

		if (!backup || lstat(backup, &st) < 0) {
			f->change = DEPLOY_SKIPPED;
			f->note = xasprintf("the backup of '%s' is gone (pruned?): not restored", rel);
			s->report->issues++;
			goto cleanup;
		}
		if ((ret = deploy_hash_path(&got, backup, &st)) < 0)
			goto cleanup;
		if (!git_oid_equal(&got, &before)) {
			f->change = DEPLOY_SKIPPED;
			f->note = xasprintf("the backup '%s' was changed since: not restored", backup);
			s->report->issues++;
			goto cleanup;
		}
		if (S_ISLNK(st.st_mode)) {
			char buf[4096];
			ssize_t n = readlink(backup, buf, sizeof(buf));

			data = xstrndup(buf, n > 0 ? (size_t)n : 0);
			len = n > 0 ? (size_t)n : 0;
			before_mode = 0120000;
		} else if ((ret = fs_read_file(&data, &len, backup)) < 0) {
			goto cleanup;
		}
		if (!before_mode)
			before_mode = st.st_mode & 0777;
	}
	if ((state = look(&cur, &cur_mode, target)) < 0) {
		ret = state;
		goto cleanup;
	}
	if (state == 2) {
		f->change = DEPLOY_SKIPPED;
		f->note = xasprintf("a folder is in the way at '%s': left alone", target);
		s->report->issues++;
		goto cleanup;
	}
	rl = json_pack("{s:s, s:s, s:s, s:s}", "mapping", mapping, "path", rel, "target", target, "change", "restored");
	if (state == 1) {
		char hex[GIT_OID_HEXSZ + 1];

		json_object_set_new(rl, "before", json_string(git_oid_tostr(hex, sizeof(hex), &cur)));
		json_object_set_new(rl, "before_mode", json_integer(cur_mode));
		if (!before_s || !git_oid_equal(&cur, &before)) {
			char *bdir = deploy_state_path("backups");

			newbackup = xasprintf("%s/%s/%s/%s", bdir, s->report->id, mapping, rel);
			free(bdir);
			json_object_set_new(rl, "backup", json_string(newbackup));
		}
	}
	if (before_s) {
		json_object_set_new(rl, "after", json_string(before_s));
		json_object_set_new(rl, "mode", json_integer(before_mode));
	}
	ret = record_append(&s->rec, rl);
	json_decref(rl);
	if (ret < 0)
		goto cleanup;

	if (newbackup) {
		ret = before_s ? deploy_backup_link(target, newbackup) : deploy_backup_move(target, newbackup);
		if (ret < 0)
			goto cleanup;
		f->backup = xstrdup(newbackup);
	}
	if (before_s && !(state == 1 && git_oid_equal(&cur, &before))) {
		if ((ret = fs_mkdir_p(target_dir, 0755)) < 0)
			goto cleanup;
		{
			char *parent = xstrndup(target, (size_t)(strrchr(target, '/') - target));

			ret = fs_mkdir_p(parent, 0755);
			free(parent);
		}
		if (ret < 0 || (ret = deploy_put(target, data, len, before_mode, 1)) < 0)
			goto cleanup;
	}
	if (!before_s)
		f->change = DEPLOY_REMOVED;

	/* hold it while HEAD still has what was rolled back */
	has_hold = head_blob(&hold, s, mapping, rel);
	if (!has_hold && after_s && git_oid_fromstr(&after, after_s) == 0) {
		git_oid_cpy(&hold, &after);
		has_hold = 1;
	}
	if (has_hold && before_s && git_oid_equal(&hold, &before))
		has_hold = 0; /* what is back is what HEAD has: nothing to hold */
	else if (!has_hold && before_s) {
		/* HEAD does not have it (removed upstream): hold it while HEAD still lacks it */
		memset(&hold, 0, sizeof(hold));
		has_hold = 1;
	}
	m = session_manifest(s, mapping, target_dir);
	ret = manifest_record(m, rel, before_s != NULL, before_s ? &before : NULL, before_mode, s->report->id,
			      has_hold ? HOLD_ROLLBACK : NULL, has_hold ? &hold : NULL);
	if (ret < 0)
		goto cleanup;

	if (before_s && before_mode != 0120000) {
		int v;

		dir = xstrdup(target_dir);
		v = deploy_verify(&output, s->cfg, mapping, dir, target);
		if (v >= 0 && v != 2)
			f->verified = v;
		if (v == 0) {
			f->output = output;
			output = NULL;
			s->report->issues++;
		}
	}
cleanup:
	free(dir);
	free(output);
	free(newbackup);
	free(data);
	free(target_dir);
	return ret;
}

/* Does record line `line` match one of `files` (a mapping path or a workspace path)? */
static int line_matches(json_t *line, const struct strlist *files)
{
	const char *rel = json_string_value(json_object_get(line, "path"));
	const char *target = json_string_value(json_object_get(line, "target"));

	if (!files || !files->nr)
		return 1;
	for (size_t i = 0; i < files->nr; i++) {
		const char *f = files->items[i];
		char real[PATH_MAX];

		if ((rel && !strcmp(f, rel)) || (target && !strcmp(f, target)))
			return 1;
		if (target && realpath(f, real) && !strcmp(real, target))
			return 1;
		if (target && f[0] != '/') {
			char cwd[PATH_MAX];

			if (getcwd(cwd, sizeof(cwd))) {
				char *abs = fs_join(cwd, f);
				int eq = !strcmp(abs, target);

				free(abs);
				if (eq)
					return 1;
			}
		}
	}
	return 0;
}

int deploy_rollback(struct deploy_report *out, const struct config *cfg, git_repository *repo,
		    const char *gitdir, const struct deploy_rollback_opts *opts)
{
	struct session s = { 0 };
	struct deploy_lock lock = DEPLOY_LOCK_INIT;
	json_t *header = NULL, *lines = NULL, *last = json_object(), *v;
	char *id = NULL;
	const char *key;
	size_t i, matched = 0;
	int ret;

	s.cfg = cfg;
	s.repo = repo;
	s.report = out;
	s.rec.fd = -1;
	if ((ret = deploy_lock_take(&lock, opts->lock_wait_ms > 0 ? opts->lock_wait_ms : 10000)) < 0)
		goto cleanup;
	if (opts->id) {
		if ((ret = record_resolve(&id, opts->id)) == MP_ENOTFOUND)
			ret = mp_error_set(MP_EUSAGE, "no install '%s' (see 'git meshpush rollback --list')", opts->id);
		if (ret < 0)
			goto cleanup;
	} else if (!(id = record_last_id())) {
		ret = mp_error_set(MP_EUSAGE, "nothing to roll back: no install was recorded");
		goto cleanup;
	}
	if ((ret = record_read(&header, &lines, id)) < 0)
		goto cleanup;
	/* the last line of each file says what the install finally did */
	json_array_foreach(lines, i, v) {
		const char *m = json_string_value(json_object_get(v, "mapping"));
		const char *p = json_string_value(json_object_get(v, "path"));

		if (m && p) {
			char *k = xasprintf("%s\n%s", m, p);

			json_object_set(last, k, v);
			free(k);
		}
	}
	if ((ret = session_start(&s, "rollback", id)) < 0)
		goto cleanup;
	json_object_foreach(last, key, v) {
		const char *change = json_string_value(json_object_get(v, "change"));

		if (!line_matches(v, opts->files))
			continue;
		matched++;
		if (change && (!strcmp(change, "failed") || !strcmp(change, "recorded") || !strcmp(change, "skipped")))
			continue; /* nothing changed on disk */
		if ((ret = restore_line(&s, v)) < 0)
			goto cleanup;
	}
	if (opts->files && opts->files->nr && !matched) {
		ret = mp_error_set(MP_EUSAGE, "install '%s' did not change '%s' (see 'git meshpush rollback --list')", id,
				   opts->files->items[0]);
		goto cleanup;
	}
	ret = session_finish(&s);
	strlist_push_nodup(&out->notes, xasprintf("rolled back install %s", id));
	deploy_journal(out, gitdir, "rollback", "manual");
	if (!opts->no_confirm && out->nr)
		deploy_confirm(out, cfg, repo, gitdir, DEPLOY_MSG_ROLLBACK, NULL);
	{
		size_t pruned;

		deploy_prune(&pruned, cfg);
		mp_error_clear();
	}
cleanup:
	if (s.rec.fd >= 0 || s.nmans)
		session_finish(&s);
	deploy_lock_release(&lock);
	json_decref(header);
	json_decref(lines);
	json_decref(last);
	free(id);
	return ret;
}

/* Find which mapping `file` belongs to: its mapping, target folder and relative path. */
static int locate(char **mapping, char **target_dir, char **rel, const struct config *cfg, const char *file)
{
	struct strlist mappings = STRLIST_INIT;
	char cwd[PATH_MAX], *abs = NULL;
	int ret = MP_ENOTFOUND;

	if (file[0] == '/')
		abs = xstrdup(file);
	else if (getcwd(cwd, sizeof(cwd)))
		abs = fs_join(cwd, file);
	config_subsections(&mappings, cfg, "install");
	for (int pass = 0; pass < 2 && ret == MP_ENOTFOUND; pass++) {
		for (size_t i = 0; i < mappings.nr; i++) {
			char *t = deploy_mapping_target(cfg, mappings.items[i]);
			char treal[PATH_MAX];
			size_t n;

			mp_error_clear();
			if (!t)
				continue;
			if (pass == 0 && abs) {
				/* a workspace path (through the configured or the real folder) */
				const char *cands[2] = { t, realpath(t, treal) ? treal : NULL };

				for (int c = 0; c < 2 && ret == MP_ENOTFOUND; c++) {
					if (!cands[c])
						continue;
					n = strlen(cands[c]);
					if (!strncmp(abs, cands[c], n) && abs[n] == '/' && deploy_rel_is_safe(abs + n + 1)) {
						*rel = xstrdup(abs + n + 1);
						ret = 0;
					}
				}
			} else if (pass == 1 && deploy_rel_is_safe(file)) {
				/* a path inside the mapping */
				char *full = fs_join(t, file);

				if (fs_exists(full)) {
					*rel = xstrdup(file);
					ret = 0;
				}
				free(full);
			}
			if (ret == 0) {
				*mapping = xstrdup(mappings.items[i]);
				*target_dir = t;
				break;
			}
			free(t);
		}
	}
	free(abs);
	strlist_release(&mappings);
	if (ret == MP_ENOTFOUND)
		return mp_error_set(MP_EUSAGE, "'%s' is not in the target folder of any [install] mapping", file);
	return ret;
}

int deploy_remove(struct deploy_report *out, const struct config *cfg, git_repository *repo,
		  const char *gitdir, const char *file, int lock_wait_ms)
{
	struct session s = { 0 };
	struct deploy_lock lock = DEPLOY_LOCK_INIT;
	char *mapping = NULL, *target_dir = NULL, *rel = NULL, *target = NULL, *backup = NULL, *bdir = NULL;
	struct deploy_file *f;
	struct manifest *m;
	git_oid cur, hold;
	unsigned cur_mode = 0;
	int ret, state, has_hold;
	json_t *rl;

	s.cfg = cfg;
	s.repo = repo;
	s.report = out;
	s.rec.fd = -1;
	if ((ret = locate(&mapping, &target_dir, &rel, cfg, file)) < 0)
		goto cleanup;
	if ((ret = deploy_lock_take(&lock, lock_wait_ms > 0 ? lock_wait_ms : 10000)) < 0)
		goto cleanup;
	target = fs_join(target_dir, rel);
	if ((state = look(&cur, &cur_mode, target)) < 0) {
		ret = state;
		goto cleanup;
	}
	if (state != 1) {
		ret = mp_error_set(MP_EUSAGE, state == 2 ? "'%s' is a folder: only files are removed" : "'%s' does not exist",
				   target);
		goto cleanup;
	}
	if ((ret = session_start(&s, "remove", NULL)) < 0)
		goto cleanup;
	bdir = deploy_state_path("backups");
	backup = xasprintf("%s/%s/%s/%s", bdir, out->id, mapping, rel);
	{
		char hex[GIT_OID_HEXSZ + 1];

		rl = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "mapping", mapping, "path", rel, "target", target,
			       "change", "removed", "before", git_oid_tostr(hex, sizeof(hex), &cur), "before_mode",
			       (json_int_t)cur_mode, "backup", backup);
	}
	ret = record_append(&s.rec, rl);
	json_decref(rl);
	if (ret < 0 || (ret = deploy_backup_move(target, backup)) < 0 || (ret = fs_fsync_parent(target)) < 0)
		goto cleanup;
	f = deploy_report_add(out, mapping, rel, target, DEPLOY_REMOVED);
	f->backup = xstrdup(backup);
	f->note = xstrdup("emergency removal");
	has_hold = head_blob(&hold, &s, mapping, rel);
	m = session_manifest(&s, mapping, target_dir);
	if (!has_hold) {
		struct mf_entry *e = manifest_find(m, rel);

		if (e && e->present) {
			git_oid_cpy(&hold, &e->oid);
			has_hold = 1;
		}
	}
	ret = manifest_record(m, rel, 0, NULL, 0, out->id, HOLD_REMOVED, has_hold ? &hold : NULL);
	if (ret < 0)
		goto cleanup;
	ret = session_finish(&s);
	deploy_journal(out, gitdir, "emergency-remove", "manual");
	deploy_confirm(out, cfg, repo, gitdir, DEPLOY_MSG_EMERGENCY, NULL);
cleanup:
	if (s.rec.fd >= 0 || s.nmans)
		session_finish(&s);
	deploy_lock_release(&lock);
	free(bdir);
	free(backup);
	free(target);
	free(rel);
	free(target_dir);
	free(mapping);
	return ret;
}
