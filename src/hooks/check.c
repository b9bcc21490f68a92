#include "hooks/check.h"

#include "error.h"
#include "journal/journal.h"

#include <stdlib.h>
#include <string.h>

struct tree_scan {
	struct scan_engine *e;
	struct scan_report *r;
	git_repository *repo;
	const char *ref;
	int ret;
};

static int scan_tree_entry(const char *root, const git_tree_entry *entry, void *payload)
{
	struct tree_scan *ts = payload;
	git_blob *blob = NULL;
	char *path;

	if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB)
		return 0;
	if (git_blob_lookup(&blob, ts->repo, git_tree_entry_id(entry)) < 0) {
		ts->ret = mp_error_git("cannot read '%s%s' of '%s'", root, git_tree_entry_name(entry), ts->ref);
		return -1;
	}
	path = xasprintf("%s:%s%s", ts->ref, root, git_tree_entry_name(entry));
	ts->ret = scan_buffer(ts->e, ts->r, path, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	free(path);
	git_blob_free(blob);
	return ts->ret < 0 ? -1 : 0;
}

/* A ref that points (through tags) to a tree or a blob. */
static int scan_object(struct scan_report *r, struct scan_engine *e, git_repository *repo,
		       const struct pushed_ref *ref)
{
	struct tree_scan ts = { e, r, repo, ref->local_ref, 0 };
	git_object *obj = NULL, *peeled = NULL;
	int ret = 0;

	if (git_object_lookup(&obj, repo, &ref->local_oid, GIT_OBJECT_ANY) < 0) {
		ret = mp_error_git("cannot read '%s'", ref->local_ref);
		goto cleanup;
	}
	if (git_object_peel(&peeled, obj, GIT_OBJECT_TREE) == 0) {
		if (git_tree_walk((git_tree *)peeled, GIT_TREEWALK_PRE, scan_tree_entry, &ts) < 0 && !ts.ret)
			ts.ret = mp_error_git("cannot read the tree of '%s'", ref->local_ref);
		ret = ts.ret;
	} else if (git_error_clear(), git_object_peel(&peeled, obj, GIT_OBJECT_BLOB) == 0) {
		git_blob *blob = (git_blob *)peeled;

		ret = scan_buffer(e, r, ref->local_ref, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	} else {
		git_error_clear();
	}
cleanup:
	git_object_free(peeled);
	git_object_free(obj);
	return ret;
}

int hooks_scan_plan(struct scan_report *r, struct scan_engine *e, git_repository *repo,
		    const struct push_plan *plan)
{
	int ret = 0;

	if (plan->ncommits &&
	    (ret = scan_commits(e, r, repo, plan->commits, plan->ncommits, plan->boundary, plan->nboundary)) < 0)
		return ret;
	for (size_t i = 0; i < plan->nr && !ret; i++)
		if (plan->refs[i].not_commit)
			ret = scan_object(r, e, repo, &plan->refs[i]);
	return ret;
}

int hooks_journal_verdict(const char *gitdir, const char *event, const char *remote, const struct push_plan *plan,
			  const struct scan_report *r, const char *verdict)
{
	json_t *fields = json_object(), *refs = json_array(), *rules = json_array();
	int ret;

	if (remote) {
		/* a URL loses its user information: it may hold a token */
		char *safe = url_without_userinfo(remote);

		json_object_set_new(fields, "remote", json_string(safe));
		free(safe);
	}
	for (size_t i = 0; plan && i < plan->nr; i++)
		json_array_append_new(refs, json_string(plan->refs[i].remote_ref));
	for (size_t i = 0; r && i < r->nr; i++)
		json_array_append_new(rules, json_string(r->findings[i].rule));
	if (plan)
		json_object_set_new(fields, "refs", refs);
	else
		json_decref(refs);
	json_object_set_new(fields, "commits", json_integer(plan ? (json_int_t)plan->ncommits : 0));
	json_object_set_new(fields, "findings", json_integer(r ? (json_int_t)r->nr : 0));
	json_object_set_new(fields, "rules", rules);
	json_object_set_new(fields, "verdict", json_string(verdict));
	ret = journal_append(gitdir, event, fields);
	json_decref(fields);
	return ret;
}
