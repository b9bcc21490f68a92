/*
 * The manifest of one mapping's target folder: a JSON snapshot written
 * atomically at the end of an install, plus a log of one JSON line per
 * file changed since, appended (one write) right after each file is in
 * place.  Loading replays the log over the snapshot, so whatever point
 * an install is killed at, the manifest describes what is on disk.
 */
#include "deploy/internal.h"

#include "error.h"
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t hash_str(const char *s)
{
	size_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void index_insert(struct manifest *m, size_t idx)
{
	size_t i = hash_str(m->entries[idx].path) & (m->nslots - 1);

	while (m->slots[i])
		i = (i + 1) & (m->nslots - 1);
	m->slots[i] = idx + 1;
}

static void index_grow(struct manifest *m)
{
	if (m->nslots && (m->nr + 1) * 2 < m->nslots)
		return;
	free(m->slots);
	m->nslots = m->nslots ? m->nslots * 2 : 64;
	while ((m->nr + 1) * 2 >= m->nslots)
		m->nslots *= 2;
	m->slots = xcalloc(m->nslots, sizeof(*m->slots));
	for (size_t i = 0; i < m->nr; i++)
		index_insert(m, i);
}

struct mf_entry *manifest_find(const struct manifest *m, const char *path)
{
	if (!m->nslots)
		return NULL;
	for (size_t i = hash_str(path) & (m->nslots - 1); m->slots[i]; i = (i + 1) & (m->nslots - 1))
		if (!strcmp(m->entries[m->slots[i] - 1].path, path))
			return &m->entries[m->slots[i] - 1];
	return NULL;
}

struct mf_entry *manifest_set(struct manifest *m, const char *path, int present, const git_oid *oid,
			      unsigned mode, const char *install, const char *why, const git_oid *hold)
{
	struct mf_entry *e = manifest_find(m, path);

	if (!e) {
		index_grow(m);
		m->entries = xgrow(m->entries, sizeof(*m->entries), m->nr + 1, &m->alloc);
		e = &m->entries[m->nr];
		memset(e, 0, sizeof(*e));
		e->path = xstrdup(path);
		index_insert(m, m->nr++);
	}
	e->present = present;
	if (oid)
		git_oid_cpy(&e->oid, oid);
	else
		memset(&e->oid, 0, sizeof(e->oid));
	e->mode = mode;
	free(e->install);
	e->install = install ? xstrdup(install) : NULL;
	free(e->why);
	e->why = why ? xstrdup(why) : NULL;
	e->has_hold = hold != NULL;
	if (hold)
		git_oid_cpy(&e->hold, hold);
	return e;
}

char *manifest_path(const char *name, const char *target)
{
	char *dir = deploy_state_path("manifests");
	char *safe = xstrdup(name), *ret;

	for (char *p = safe; *p; p++)
		if (*p == '/' || *p == '\n' || (unsigned char)*p < 0x20)
			*p = '_';
	ret = xasprintf("%s/%s-%08zx.json", dir, safe, hash_str(target) & 0xffffffffu);
	free(safe);
	free(dir);
	return ret;
}

int manifest_up_to_date(const char *name, const char *target, const char *tree, const char *settings)
{
	char *file = manifest_path(name, target), *stamp = xasprintf("%s.stamp", file);
	char *log = xasprintf("%s.log", file), *text = NULL, *expect;
	size_t len;
	int ret = 0;

	if (fs_read_file(&text, &len, stamp) == 0 && !fs_exists(log)) {
		expect = xasprintf("%s %s ", tree, settings);
		ret = starts_with(text, expect) && len > strlen(expect) + 2 && text[strlen(expect)] != '-';
		free(expect);
	}
	mp_error_clear();
	free(text);
	free(log);
	free(stamp);
	free(file);
	return ret;
}

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static char *jdup(json_t *o, const char *key)
{
	const char *s = jstr(o, key);

	return s ? xstrdup(s) : NULL;
}

/* Apply one entry object (snapshot value or log line) for `path`. */
static void apply_entry(struct manifest *m, const char *path, json_t *v)
{
	const char *oid_s = jstr(v, "oid"), *hold_s = jstr(v, "hold");
	git_oid oid, hold;
	int present = oid_s && git_oid_fromstr(&oid, oid_s) == 0;
	int has_hold = hold_s && git_oid_fromstr(&hold, hold_s) == 0;

	if (!present && !has_hold) {
		/* forgotten: keep a tombstone-free table by marking absent */
		struct mf_entry *e = manifest_find(m, path);
		if (e)
			manifest_set(m, path, 0, NULL, 0, NULL, NULL, NULL);
		return;
	}
	manifest_set(m, path, present, present ? &oid : NULL, (unsigned)json_integer_value(json_object_get(v, "mode")),
		     jstr(v, "install"), jstr(v, "why"), has_hold ? &hold : NULL);
}

static void replay_log(struct manifest *m)
{
	char *log = xasprintf("%s.log", m->file), *text = NULL;
	size_t len;

	if (fs_read_file(&text, &len, log) == 0) {
		for (char *line = text, *nl; *line; line = nl + 1) {
			json_t *v;

			nl = strchr(line, '\n');
			if (!nl)
				break; /* a line cut short by a crash: not applied */
			*nl = '\0';
			v = json_loads(line, 0, NULL);
			if (json_is_object(v) && jstr(v, "path"))
				apply_entry(m, jstr(v, "path"), v);
			json_decref(v);
		}
	}
	mp_error_clear();
	free(text);
	free(log);
}

int manifest_load(struct manifest *m, const char *name, const char *target)
{
	char *text = NULL;
	json_t *root = NULL, *files, *v;
	json_error_t jerr;
	const char *key;
	size_t len;
	int ret;

	m->file = manifest_path(name, target);
	m->mapping = xstrdup(name);
	m->target = xstrdup(target);
	ret = fs_read_file(&text, &len, m->file);
	if (ret == MP_ENOTFOUND) {
		mp_error_clear();
		ret = 0;
		goto log;
	}
	if (ret < 0)
		goto cleanup;
	root = json_loadb(text, len, 0, &jerr);
	if (!json_is_object(root)) {
		m->damaged = xstrdup(root ? "not a JSON object" : jerr.text);
		ret = mp_error_set(MP_EOS, "cannot read manifest '%s': %s (the next 'git meshpush install' rebuilds it)", m->file,
				   jerr.text);
		goto cleanup;
	}
	m->realpath = jdup(root, "realpath");
	m->commit = jdup(root, "commit");
	m->tree = jdup(root, "tree");
	m->settings = jdup(root, "settings");
	m->install = jdup(root, "install");
	files = json_object_get(root, "files");
	json_object_foreach(files, key, v)
		apply_entry(m, key, v);
log:
	replay_log(m);
cleanup:
	json_decref(root);
	free(text);
	return ret;
}

static json_t *entry_json(const char *path, int present, const git_oid *oid, unsigned mode,
			  const char *install, const char *why, const git_oid *hold)
{
	json_t *o = json_object();
	char hex[GIT_OID_HEXSZ + 1];

	if (path)
		json_object_set_new(o, "path", json_string(path));
	if (present) {
		json_object_set_new(o, "oid", json_string(git_oid_tostr(hex, sizeof(hex), oid)));
		json_object_set_new(o, "mode", json_integer(mode));
	}
	if (install)
		json_object_set_new(o, "install", json_string(install));
	if (why)
		json_object_set_new(o, "why", json_string(why));
	if (hold)
		json_object_set_new(o, "hold", json_string(git_oid_tostr(hex, sizeof(hex), hold)));
	return o;
}

int manifest_record(struct manifest *m, const char *path, int present, const git_oid *oid,
		    unsigned mode, const char *install, const char *why, const git_oid *hold)
{
	json_t *o;
	char *line = NULL;
	size_t len;
	int ret = 0;

	manifest_set(m, path, present, oid, mode, install, why, hold);
	if (m->log_fd < 0) {
		char *log = xasprintf("%s.log", m->file), *dir = deploy_state_path("manifests");

		fs_mkdir_p(dir, 0700);
		/* a line cut short by a crash is ended, or the next line would be lost with it */
		ret = fs_log_open(&m->log_fd, log);
		free(dir);
		free(log);
		if (ret < 0)
			return ret;
	}
	o = entry_json(path, present, oid, mode, install, why, hold);
	line = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	len = strlen(line);
	line[len++] = '\n';
	if (write(m->log_fd, line, len) != (ssize_t)len)
		ret = mp_error_set(MP_EOS, "cannot write the manifest log of '%s': %s", m->mapping, strerror(errno));
	free(line);
	return ret;
}

int manifest_save(struct manifest *m)
{
	json_t *root = json_object(), *files = json_object();
	char *text = NULL, *dir = deploy_state_path("manifests"), *log = xasprintf("%s.log", m->file);
	int ret;

	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "mapping", json_string(m->mapping));
	json_object_set_new(root, "target", json_string(m->target));
#define SETS(k, v) if (v) json_object_set_new(root, k, json_string(v))
	SETS("realpath", m->realpath);
	SETS("commit", m->commit);
	SETS("tree", m->tree);
	SETS("settings", m->settings);
	SETS("install", m->install);
#undef SETS
	for (size_t i = 0; i < m->nr; i++) {
		struct mf_entry *e = &m->entries[i];

		if (!e->present && !e->has_hold)
			continue;
		json_object_set_new(files, e->path, entry_json(NULL, e->present, &e->oid, e->mode, e->install, e->why,
							       e->has_hold ? &e->hold : NULL));
	}
	json_object_set_new(root, "files", files);
	text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
	if ((ret = fs_mkdir_p(dir, 0700)) < 0)
		goto cleanup;
	if (m->log_fd >= 0)
		fsync(m->log_fd);
	if ((ret = fs_write_atomic(m->file, text, strlen(text), 0600)) < 0)
		goto cleanup;
	/* the snapshot has everything: the log can go */
	if (m->log_fd >= 0) {
		close(m->log_fd);
		m->log_fd = -1;
	}
	if (unlink(log) < 0 && errno != ENOENT) {
		ret = mp_error_set(MP_EOS, "cannot remove '%s': %s", log, strerror(errno));
		goto cleanup;
	}
	/* the stamp: what the fast path of the next install reads instead of the snapshot */
	{
		char *stamp = xasprintf("%s.stamp", m->file);
		char *line = xasprintf("%s %s %s\n", m->tree ? m->tree : "-", m->settings ? m->settings : "-",
				       m->realpath ? m->realpath : "-");

		ret = fs_write_atomic(stamp, line, strlen(line), 0600);
		free(line);
		free(stamp);
	}
cleanup:
	json_decref(root);
	free(text);
	free(dir);
	free(log);
	return ret;
}

void manifest_release(struct manifest *m)
{
	for (size_t i = 0; i < m->nr; i++) {
		free(m->entries[i].path);
		free(m->entries[i].install);
		free(m->entries[i].why);
	}
	free(m->entries);
	free(m->slots);
	if (m->log_fd >= 0)
		close(m->log_fd);
	free(m->file);
	free(m->mapping);
	free(m->target);
	free(m->realpath);
	free(m->commit);
	free(m->tree);
	free(m->settings);
	free(m->install);
	free(m->damaged);
	memset(m, 0, sizeof(*m));
	m->log_fd = -1;
}
