/*
 * Status: per mapping, what the manifest says is installed, and how the
 * disk and HEAD differ from it.
 */
#include "deploy/internal.h"

#include "error.h"
#include "util/fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void add_file(struct deploy_status *st, const char *path, const char *what)
{
	st->files = xgrow(st->files, sizeof(*st->files), st->nr + 1, &st->alloc);
	st->files[st->nr].path = xstrdup(path);
	st->files[st->nr].what = xstrdup(what);
	st->nr++;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct mf_entry *)a)->path, ((const struct mf_entry *)b)->path);
}

static void mapping_status(struct deploy_status *st, const struct config *cfg, git_repository *repo,
			   git_tree *head_tree, const char *mapping)
{
	struct manifest m = MANIFEST_INIT;
	const char *from = config_get(cfg, "install", mapping, "from");
	git_tree_entry *fe = NULL;
	char *target = deploy_mapping_target(cfg, mapping);

	(void)repo;
	st->mapping = xstrdup(mapping);
	st->from = xstrdup(from && *from ? from : "shared/voltagent");
	if (!target) {
		st->target = xasprintf("(not configured: %s)", mp_error_last());
		mp_error_clear();
		return;
	}
	st->target = xstrdup(target);
	if (manifest_load(&m, mapping, target) < 0) {
		add_file(st, m.file ? m.file : "manifest", mp_error_last());
		mp_error_clear();
		goto cleanup;
	}
	st->never = !m.realpath && !m.nr;
	st->commit = m.commit ? xstrdup(m.commit) : NULL;
	st->install = m.install ? xstrdup(m.install) : NULL;
	if (head_tree && git_tree_entry_bypath(&fe, head_tree, st->from) == 0) {
		char hex[GIT_OID_HEXSZ + 1];

		git_oid_tostr(hex, sizeof(hex), git_tree_entry_id(fe));
		st->pending = !m.tree || strcmp(m.tree, hex);
	}
	git_error_clear();
	if (m.nr)
		qsort(m.entries, m.nr, sizeof(*m.entries), cmp_entry);
	for (size_t i = 0; i < m.nr; i++) {
		struct mf_entry *e = &m.entries[i];
		char *full = fs_join(target, e->path);
		struct stat sb;
		git_oid disk;

		if (e->present) {
			st->installed++;
			if (lstat(full, &sb) < 0)
				add_file(st, e->path, "missing (deleted locally)");
			else if (S_ISDIR(sb.st_mode))
				add_file(st, e->path, "a folder is in its place");
			else if (deploy_hash_path(&disk, full, &sb) == 0 && !git_oid_equal(&disk, &e->oid))
				add_file(st, e->path, "changed locally");
			mp_error_clear();
		}
		if (e->why) {
			char hex[GIT_OID_HEXSZ + 1] = "";

			if (e->has_hold)
				git_oid_tostr(hex, 8, &e->hold);
			if (!strcmp(e->why, HOLD_FAILED)) {
				char *what = xasprintf("verify failed (version %s not installed; 'git meshpush install --retry')", hex);

				add_file(st, e->path, what);
				free(what);
			} else if (!strcmp(e->why, HOLD_ROLLBACK))
				add_file(st, e->path, "rolled back (held until upstream changes it)");
			else if (!strcmp(e->why, HOLD_REMOVED))
				add_file(st, e->path, "removed in an emergency (held until upstream changes it)");
		}
		free(full);
	}
cleanup:
	git_tree_entry_free(fe);
	manifest_release(&m);
	free(target);
}

int deploy_status_get(struct deploy_status **out, size_t *nr, const struct config *cfg, git_repository *repo)
{
	struct strlist mappings = STRLIST_INIT;
	git_object *tree = NULL;

	*out = NULL;
	*nr = 0;
	config_subsections(&mappings, cfg, "install");
	if (repo && git_revparse_single(&tree, repo, "HEAD^{tree}") < 0)
		tree = NULL;
	git_error_clear();
	if (mappings.nr)
		*out = xcalloc(mappings.nr, sizeof(**out));
	for (size_t i = 0; i < mappings.nr; i++)
		mapping_status(&(*out)[(*nr)++], cfg, repo, (git_tree *)tree, mappings.items[i]);
	git_object_free(tree);
	strlist_release(&mappings);
	return 0;
}

void deploy_status_free(struct deploy_status *st, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		for (size_t j = 0; j < st[i].nr; j++) {
			free(st[i].files[j].path);
			free(st[i].files[j].what);
		}
		free(st[i].files);
		free(st[i].mapping);
		free(st[i].from);
		free(st[i].target);
		free(st[i].commit);
		free(st[i].install);
	}
	free(st);
}
