#include "hooks/push.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

/* A growable array of object ids. */
struct oid_array {
	git_oid *ids;
	size_t nr, alloc;
};
#define OID_ARRAY_INIT { NULL, 0, 0 }

static void oid_array_push(struct oid_array *a, const git_oid *id)
{
	a->ids = xgrow(a->ids, sizeof(*a->ids), a->nr + 1, &a->alloc);
	git_oid_cpy(&a->ids[a->nr++], id);
}

static int oid_cmp(const void *a, const void *b)
{
	return git_oid_cmp(a, b);
}

/* Sort and drop duplicates. */
static void oid_array_unique(struct oid_array *a)
{
	size_t keep = 0;

	if (!a->nr)
		return;
	qsort(a->ids, a->nr, sizeof(*a->ids), oid_cmp);
	for (size_t i = 1; i < a->nr; i++)
		if (git_oid_cmp(&a->ids[keep], &a->ids[i]))
			git_oid_cpy(&a->ids[++keep], &a->ids[i]);
	a->nr = keep + 1;
}

static int oid_array_has(const struct oid_array *a, const git_oid *id)
{
	return a->nr && bsearch(id, a->ids, a->nr, sizeof(*a->ids), oid_cmp) != NULL;
}

static void oid_array_release(struct oid_array *a)
{
	free(a->ids);
	a->ids = NULL;
	a->nr = a->alloc = 0;
}

static struct pushed_ref *plan_add(struct push_plan *plan)
{
	struct pushed_ref *r;

	plan->refs = xgrow(plan->refs, sizeof(*plan->refs), plan->nr + 1, &plan->alloc);
	r = &plan->refs[plan->nr++];
	memset(r, 0, sizeof(*r));
	return r;
}

/* Split `input` into lines of exactly `nfields` space-separated fields; call `fn` for each. */
static int parse_lines(struct push_plan *plan, const char *input, size_t len, const char *hook, size_t nfields,
		       int (*fn)(struct push_plan *, char **fields))
{
	const char *p = input, *end = input + len;
	size_t lineno = 0;
	int ret = 0;

	while (p < end && !ret) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct strlist fields = STRLIST_INIT;
		char *line = xstrndup(p, n);

		lineno++;
		p += n + (nl ? 1 : 0);
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		if (n) {
			strlist_split(&fields, line, " ");
			if (fields.nr != nfields || fn(plan, fields.items) < 0)
				ret = mp_error_set(MP_EUSAGE, "%s: cannot read input line %zu '%s'", hook, lineno, line);
		}
		strlist_release(&fields);
		free(line);
	}
	return ret;
}

static int parse_oid(git_oid *out, const char *hex)
{
	return strlen(hex) == GIT_OID_HEXSZ && git_oid_fromstr(out, hex) == 0 ? 0 : -1;
}

static int add_pre_push(struct push_plan *plan, char **f)
{
	struct pushed_ref *r = plan_add(plan);

	r->local_ref = xstrdup(f[0]);
	r->remote_ref = xstrdup(f[2]);
	if (parse_oid(&r->local_oid, f[1]) < 0 || parse_oid(&r->remote_oid, f[3]) < 0)
		return -1;
	r->deletion = git_oid_is_zero(&r->local_oid);
	r->new_ref = git_oid_is_zero(&r->remote_oid);
	return 0;
}

static int add_pre_receive(struct push_plan *plan, char **f)
{
	struct pushed_ref *r = plan_add(plan);

	r->local_ref = xstrdup(f[2]);
	r->remote_ref = xstrdup(f[2]);
	if (parse_oid(&r->remote_oid, f[0]) < 0 || parse_oid(&r->local_oid, f[1]) < 0)
		return -1;
	r->deletion = git_oid_is_zero(&r->local_oid);
	r->new_ref = git_oid_is_zero(&r->remote_oid);
	return 0;
}

int push_plan_parse_pre_push(struct push_plan *plan, const char *input, size_t len)
{
	return parse_lines(plan, input, len, "pre-push", 4, add_pre_push);
}

int push_plan_parse_pre_receive(struct push_plan *plan, const char *input, size_t len)
{
	return parse_lines(plan, input, len, "pre-receive", 3, add_pre_receive);
}

/*
 * Peel `id` to a commit into `out`: 0; 1 when it peels to a tree or a
 * blob instead; GIT_ENOTFOUND when the object is not here.
 */
static int peel_commit(git_oid *out, git_repository *repo, const git_oid *id)
{
	git_object *obj = NULL, *peeled = NULL;
	int rc;

	if ((rc = git_object_lookup(&obj, repo, id, GIT_OBJECT_ANY)) < 0) {
		git_error_clear();
		return GIT_ENOTFOUND;
	}
	rc = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT);
	if (rc == 0)
		git_oid_cpy(out, git_object_id(peeled));
	else
		git_error_clear();
	git_object_free(peeled);
	git_object_free(obj);
	return rc == 0 ? 0 : 1;
}

/* Add the peeled commits of the refs matching `glob` (NULL: every ref) to `out`. */
static int add_ref_tips(struct oid_array *out, git_repository *repo, const char *glob)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	int rc;

	rc = glob ? git_reference_iterator_glob_new(&it, repo, glob) : git_reference_iterator_new(&it, repo);
	if (rc < 0)
		return mp_error_git("cannot list the references");
	while ((rc = git_reference_next(&ref, it)) == 0) {
		git_reference *resolved = NULL;
		git_oid commit;

		if (git_reference_resolve(&resolved, ref) == 0 && git_reference_target(resolved) &&
		    peel_commit(&commit, repo, git_reference_target(resolved)) == 0)
			oid_array_push(out, &commit);
		git_error_clear();
		git_reference_free(resolved);
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	if (rc != GIT_ITEROVER)
		return mp_error_git("cannot list the references");
	git_error_clear();
	return 0;
}

/* The commits reachable from `tip` and from none of `hide`, into r->commits. */
static int walk_ref(struct pushed_ref *r, git_repository *repo, const git_oid *tip, const struct oid_array *hide)
{
	git_revwalk *walk = NULL;
	struct oid_array found = OID_ARRAY_INIT;
	git_oid id;
	int rc, ret = 0;

	if (git_revwalk_new(&walk, repo) < 0 || git_revwalk_push(walk, tip) < 0) {
		ret = mp_error_git("cannot walk the history of '%s'", r->local_ref);
		goto cleanup;
	}
	for (size_t i = 0; i < hide->nr; i++)
		if (git_revwalk_hide(walk, &hide->ids[i]) < 0) {
			ret = mp_error_git("cannot walk the history of '%s'", r->local_ref);
			goto cleanup;
		}
	while ((rc = git_revwalk_next(&id, walk)) == 0)
		oid_array_push(&found, &id);
	if (rc != GIT_ITEROVER) {
		ret = mp_error_git("cannot walk the history of '%s'", r->local_ref);
		goto cleanup;
	}
	git_error_clear();
	r->commits = found.ids;
	r->ncommits = found.nr;
	found.ids = NULL;
cleanup:
	oid_array_release(&found);
	git_revwalk_free(walk);
	return ret;
}

/* The union of the refs' commits, and its boundary (parents outside it). */
static int plan_union(struct push_plan *plan, git_repository *repo)
{
	struct oid_array all = OID_ARRAY_INIT, boundary = OID_ARRAY_INIT;
	int ret = 0;

	for (size_t i = 0; i < plan->nr; i++)
		for (size_t k = 0; k < plan->refs[i].ncommits; k++)
			oid_array_push(&all, &plan->refs[i].commits[k]);
	oid_array_unique(&all);
	for (size_t i = 0; i < all.nr; i++) {
		git_commit *c = NULL;

		if (git_commit_lookup(&c, repo, &all.ids[i]) < 0) {
			ret = mp_error_git("cannot read commit %s", git_oid_tostr_s(&all.ids[i]));
			goto cleanup;
		}
		for (unsigned p = 0; p < git_commit_parentcount(c); p++)
			if (!oid_array_has(&all, git_commit_parent_id(c, p)))
				oid_array_push(&boundary, git_commit_parent_id(c, p));
		git_commit_free(c);
	}
	oid_array_unique(&boundary);
	plan->commits = all.ids;
	plan->ncommits = all.nr;
	plan->boundary = boundary.ids;
	plan->nboundary = boundary.nr;
	return 0;
cleanup:
	oid_array_release(&all);
	oid_array_release(&boundary);
	return ret;
}

/*
 * Walk each ref from its (peeled) new oid, hiding `hide` and, for a new
 * ref, `hide_new` too.
 */
static int plan_walk(struct push_plan *plan, git_repository *repo, const struct oid_array *hide,
		     const struct oid_array *hide_new)
{
	struct oid_array both = OID_ARRAY_INIT;
	int ret = 0;

	for (size_t i = 0; i < hide->nr; i++)
		oid_array_push(&both, &hide->ids[i]);
	for (size_t i = 0; hide_new && i < hide_new->nr; i++)
		oid_array_push(&both, &hide_new->ids[i]);
	oid_array_unique(&both);
	for (size_t i = 0; i < plan->nr && !ret; i++) {
		struct pushed_ref *r = &plan->refs[i];
		git_oid tip;
		int rc;

		if (r->deletion)
			continue;
		rc = peel_commit(&tip, repo, &r->local_oid);
		if (rc == GIT_ENOTFOUND) {
			ret = mp_error_set(MP_EGIT, "object %s of '%s' is not in the repository",
					   git_oid_tostr_s(&r->local_oid), r->local_ref);
			break;
		}
		if (rc == 1) {
			r->not_commit = 1;
			continue;
		}
		ret = walk_ref(r, repo, &tip, r->new_ref ? &both : hide);
	}
	if (!ret)
		ret = plan_union(plan, repo);
	oid_array_release(&both);
	return ret;
}

int push_plan_compute_pre_push(struct push_plan *plan, git_repository *repo, const char *remote)
{
	struct oid_array hide = OID_ARRAY_INIT, tracking = OID_ARRAY_INIT;
	int any_new = 0, ret = 0;

	/* what the remote said it has: every old oid of the push that we know */
	for (size_t i = 0; i < plan->nr; i++) {
		struct pushed_ref *r = &plan->refs[i];
		git_oid commit;

		if (!r->new_ref && peel_commit(&commit, repo, &r->remote_oid) == 0)
			oid_array_push(&hide, &commit);
		else if (!r->new_ref)
			r->new_ref = 1; /* not known here: treated as a new ref */
		if (r->new_ref && !r->deletion)
			any_new = 1;
	}
	if (any_new && remote && *remote && !strchr(remote, '*') && !strchr(remote, '?') && !strchr(remote, '[')) {
		char *glob = xasprintf("refs/remotes/%s/*", remote);

		ret = add_ref_tips(&tracking, repo, glob);
		free(glob);
	}
	if (!ret)
		ret = plan_walk(plan, repo, &hide, &tracking);
	oid_array_release(&hide);
	oid_array_release(&tracking);
	return ret;
}

int push_plan_compute_pre_receive(struct push_plan *plan, git_repository *repo)
{
	struct oid_array hide = OID_ARRAY_INIT;
	int ret;

	if ((ret = add_ref_tips(&hide, repo, NULL)) == 0)
		ret = plan_walk(plan, repo, &hide, NULL);
	oid_array_release(&hide);
	return ret;
}

/* 1 when commit `id` changes something under `pathspec`, 0 when not, < 0 on error. */
static int commit_touches(git_repository *repo, const git_oid *id, const git_diff_options *opts)
{
	git_commit *c = NULL, *parent = NULL;
	git_tree *tree = NULL, *ptree = NULL;
	git_diff *diff = NULL;
	int ret;

	if (git_commit_lookup(&c, repo, id) < 0 || git_commit_tree(&tree, c) < 0 ||
	    (git_commit_parentcount(c) > 0 && (git_commit_parent(&parent, c, 0) < 0 || git_commit_tree(&ptree, parent) < 0)) ||
	    git_diff_tree_to_tree(&diff, repo, ptree, tree, opts) < 0) {
		ret = mp_error_git("cannot diff commit %s", git_oid_tostr_s(id));
		goto cleanup;
	}
	ret = git_diff_num_deltas(diff) > 0;
cleanup:
	git_diff_free(diff);
	git_tree_free(ptree);
	git_tree_free(tree);
	git_commit_free(parent);
	git_commit_free(c);
	return ret;
}

int push_plan_touches(struct push_plan *plan, git_repository *repo, const struct strlist *dirs)
{
	git_diff_options opts;
	struct strlist specs = STRLIST_INIT;
	int ret = 0;

	plan->touches_shared = 0;
	if (!dirs->nr)
		return 0;
	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	for (size_t i = 0; i < dirs->nr; i++) {
		const char *d = dirs->items[i];
		size_t n = strlen(d);

		while (n > 1 && d[n - 1] == '/')
			n--;
		strlist_push_nodup(&specs, xstrndup(d, n));
	}
	opts.pathspec.strings = specs.items;
	opts.pathspec.count = specs.nr;
	for (size_t i = 0; i < plan->nr && ret >= 0; i++) {
		struct pushed_ref *r = &plan->refs[i];

		r->touches_shared = 0;
		for (size_t k = 0; k < r->ncommits && !r->touches_shared; k++) {
			if ((ret = commit_touches(repo, &r->commits[k], &opts)) < 0)
				break;
			r->touches_shared = ret;
		}
		plan->touches_shared |= r->touches_shared;
	}
	strlist_release(&specs);
	return ret < 0 ? ret : 0;
}

const struct pushed_ref *push_plan_ref_of(const struct push_plan *plan, const char *commit_hex)
{
	git_oid id;

	if (!commit_hex || parse_oid(&id, commit_hex) < 0)
		return NULL;
	for (size_t i = 0; i < plan->nr; i++)
		for (size_t k = 0; k < plan->refs[i].ncommits; k++)
			if (!git_oid_cmp(&plan->refs[i].commits[k], &id))
				return &plan->refs[i];
	return NULL;
}

void push_plan_release(struct push_plan *plan)
{
	for (size_t i = 0; i < plan->nr; i++) {
		free(plan->refs[i].local_ref);
		free(plan->refs[i].remote_ref);
		free(plan->refs[i].commits);
	}
	free(plan->refs);
	free(plan->commits);
	free(plan->boundary);
	memset(plan, 0, sizeof(*plan));
}
