/*
 * Announce on push (pre-push): a push to a [mesh] production branch whose
 * commits touch the [mesh] shared folders is announced before it
 * proceeds.  push_announce() is declared in hooks/push.h (the pre-push
 * hook's plan of the push, struct pushed_ref), which calls it once per
 * pre-push after every check passed.
 */
#include "hooks/push.h"

#include "error.h"
#include "journal/journal.h"
#include "net/announce.h"
#include "net/push_announce.h"

#include <fnmatch.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_SUBJECTS 10

static int oid_cmp(const void *a, const void *b)
{
	return git_oid_cmp(a, b);
}

/*
 * The commits of the chosen refs, each once, oldest first (topological
 * order: a walk from their tips that stops at their parents outside the set).
 */
static int ordered_commits(git_oid **out, size_t *n_out, git_repository *repo, const struct pushed_ref *refs,
			   size_t nrefs, const int *chosen)
{
	git_oid *set = NULL, *ordered = NULL, oid;
	size_t n = 0, alloc = 0, m = 0;
	git_revwalk *walk = NULL;
	int ret = 0;

	for (size_t i = 0; i < nrefs; i++)
		for (size_t j = 0; chosen[i] && j < refs[i].ncommits; j++) {
			set = xgrow(set, sizeof(*set), n + 1, &alloc);
			set[n++] = refs[i].commits[j];
		}
	if (n)
		qsort(set, n, sizeof(*set), oid_cmp);
	if (git_revwalk_new(&walk, repo) < 0 || git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE) < 0) {
		ret = mp_error_git("cannot walk the pushed commits");
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		git_commit *c = NULL;

		if (i && !git_oid_cmp(&set[i], &set[i - 1]))
			continue;
		if (git_commit_lookup(&c, repo, &set[i]) < 0 || git_revwalk_push(walk, &set[i]) < 0) {
			git_commit_free(c);
			ret = mp_error_git("cannot read commit %s", git_oid_tostr_s(&set[i]));
			goto cleanup;
		}
		for (unsigned int k = 0; k < git_commit_parentcount(c); k++) {
			const git_oid *p = git_commit_parent_id(c, k);

			if (!bsearch(p, set, n, sizeof(*set), oid_cmp))
				git_revwalk_hide(walk, p);
		}
		git_commit_free(c);
	}
	ordered = xcalloc(n ? n : 1, sizeof(*ordered));
	while (m < n && git_revwalk_next(&oid, walk) == 0)
		if (bsearch(&oid, set, n, sizeof(*set), oid_cmp))
			ordered[m++] = oid;
	git_error_clear();
	*out = ordered;
	*n_out = m;
	ordered = NULL;
cleanup:
	git_revwalk_free(walk);
	free(set);
	free(ordered);
	return ret;
}

/* "refs/heads/main" is production when "main" (or a glob such as release/[0-9]*) is in [mesh] production. */
static int is_production(const struct strlist *production, const char *remote_ref)
{
	const char *branch = starts_with(remote_ref, "refs/heads/") ? remote_ref + 11 : NULL;

	if (!branch)
		return 0;
	for (size_t i = 0; i < production->nr; i++)
		if (!fnmatch(production->items[i], branch, 0) || !strcmp(production->items[i], remote_ref))
			return 1;
	return 0;
}

static int under_shared(const struct strlist *shared, const char *path)
{
	for (size_t i = 0; i < shared->nr; i++) {
		const char *d = shared->items[i];
		size_t n = strlen(d);

		while (n && d[n - 1] == '/')
			n--;
		if (!strncmp(path, d, n) && (path[n] == '/' || path[n] == '\0'))
			return 1;
	}
	return 0;
}

/*
 * Add the shared files `commit` changes against its first parent (a root
 * commit: against nothing) to `out`.  Returns how many it changes, or MP_EGIT.
 */
static int commit_files(struct strlist *out, git_repository *repo, git_commit *commit, const struct strlist *shared)
{
	int touched = 0;
	git_commit *parent = NULL;
	git_tree *tree = NULL, *ptree = NULL;
	git_diff *diff = NULL;
	int ret = 0;

	if (git_commit_tree(&tree, commit) < 0 ||
	    (git_commit_parentcount(commit) && (git_commit_parent(&parent, commit, 0) < 0 ||
						git_commit_tree(&ptree, parent) < 0)) ||
	    git_diff_tree_to_tree(&diff, repo, ptree, tree, NULL) < 0) {
		ret = mp_error_git("cannot diff commit %.12s", git_oid_tostr_s(git_commit_id(commit)));
		goto cleanup;
	}
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		const char *paths[2] = { d->new_file.path, d->old_file.path };

		for (int k = 0; k < 2; k++)
			if (paths[k] && under_shared(shared, paths[k])) {
				touched++;
				if (!strlist_has(out, paths[k]))
					strlist_push(out, paths[k]);
			}
	}
	ret = touched;
cleanup:
	git_diff_free(diff);
	git_tree_free(tree);
	git_tree_free(ptree);
	git_commit_free(parent);
	return ret;
}

/* Mesh-To: and Mesh-Purpose: trailers of `commit`'s message. */
static void commit_trailers(struct strlist *to, struct strlist *purposes, git_commit *commit)
{
	git_message_trailer_array arr = { 0 };

	if (git_message_trailers(&arr, git_commit_message(commit)) < 0) {
		git_error_clear();
		return;
	}
	for (size_t i = 0; i < arr.count; i++) {
		const char *key = arr.trailers[i].key, *value = arr.trailers[i].value;

		if (!strcasecmp(key, "Mesh-To")) {
			struct strlist names = STRLIST_INIT;

			strlist_split(&names, value, ", \t");
			for (size_t j = 0; j < names.nr; j++)
				if (!strlist_has(to, names.items[j]))
					strlist_push(to, names.items[j]);
			strlist_release(&names);
		} else if (!strcasecmp(key, "Mesh-Purpose") && *value && !strlist_has(purposes, value)) {
			strlist_push(purposes, value);
		}
	}
	git_message_trailer_array_free(&arr);
}

/* A stable id for this push: the same push announced twice is one announcement to a gateway. */
static char *push_id(const char *remote, const struct pushed_ref *refs, size_t nrefs, const int *chosen)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[17];

	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	EVP_DigestUpdate(c, remote, strlen(remote) + 1);
	for (size_t i = 0; i < nrefs; i++) {
		if (!chosen[i])
			continue;
		EVP_DigestUpdate(c, refs[i].remote_ref, strlen(refs[i].remote_ref) + 1);
		EVP_DigestUpdate(c, refs[i].local_oid.id, sizeof(refs[i].local_oid.id));
		EVP_DigestUpdate(c, refs[i].remote_oid.id, sizeof(refs[i].remote_oid.id));
	}
	EVP_DigestFinal_ex(c, md, &mdlen);
	EVP_MD_CTX_free(c);
	hex_encode(hex, md, 8);
	return xasprintf("push-%s", hex);
}

int push_announcement_build(struct announcement *out, const struct config *cfg, git_repository *repo,
			    const char *remote, const struct pushed_ref *refs, size_t nrefs, struct strlist *warnings)
{
	struct strlist production = STRLIST_INIT, shared = STRLIST_INIT, to = STRLIST_INIT;
	struct strlist purposes = STRLIST_INIT, subjects = STRLIST_INIT, agents = STRLIST_INIT;
	git_oid *commits = NULL;
	size_t ncommits = 0, nsubj = 0;
	const char *self = config_get(cfg, "self", NULL, "agent");
	int *chosen = xcalloc(nrefs ? nrefs : 1, sizeof(*chosen));
	size_t nchosen = 0;
	int ret = 0;

	config_get_list(&production, cfg, "mesh", NULL, "production");
	config_get_list(&shared, cfg, "mesh", NULL, "shared");
	for (size_t i = 0; i < nrefs; i++)
		if (!refs[i].deletion && refs[i].touches_shared && refs[i].remote_ref &&
		    is_production(&production, refs[i].remote_ref)) {
			chosen[i] = 1;
			nchosen++;
		}
	if (!nchosen) {
		ret = 1;
		goto cleanup;
	}
	if ((ret = ordered_commits(&commits, &ncommits, repo, refs, nrefs, chosen)) < 0)
		goto cleanup;
	for (size_t i = 0; i < ncommits; i++) {
		git_commit *c = NULL;
		const char *summary;

		if (git_commit_lookup(&c, repo, &commits[i]) < 0) {
			ret = mp_error_git("cannot read commit %s", git_oid_tostr_s(&commits[i]));
			goto cleanup;
		}
		ret = commit_files(&out->files, repo, c, &shared);
		if (ret > 0) {
			/* only the commits that change shared files speak for the announcement */
			commit_trailers(&to, &purposes, c);
			summary = git_commit_summary(c);
			nsubj++;
			if (subjects.nr < MAX_SUBJECTS && !strlist_has(&subjects, summary && *summary ? summary : "?"))
				strlist_push(&subjects, summary && *summary ? summary : "?");
			ret = 0;
		}
		git_commit_free(c);
		if (ret < 0)
			goto cleanup;
	}
	if (!out->files.nr) {
		ret = 1;
		goto cleanup;
	}
	strlist_sort(&out->files);

	/* recipients: the trailers' agents that exist, else everyone */
	config_subsections(&agents, cfg, "agent");
	for (size_t i = 0; i < to.nr; i++) {
		if (self && !strcmp(self, to.items[i]))
			continue;
		if (!strlist_has(&agents, to.items[i])) {
			/* a name from someone's commit message: no raw control bytes on the pusher's terminal */
			struct strbuf name = STRBUF_INIT;

			strbuf_add_quoted_path(&name, to.items[i], 1);
			if (warnings)
				strlist_push_nodup(warnings, xasprintf(name.buf[0] == '"'
								       ? "Mesh-To: names %s, which is not a configured agent: not announced to it"
								       : "Mesh-To: names '%s', which is not a configured agent: not announced to it",
								       name.buf));
			strbuf_release(&name);
			continue;
		}
		strlist_push(&out->to, to.items[i]);
	}

	{
		struct strbuf p = STRBUF_INIT;
		const struct strlist *src = purposes.nr ? &purposes : &subjects;

		for (size_t i = 0; i < src->nr; i++)
			strbuf_addf(&p, "%s%s", i ? "; " : "", src->items[i]);
		if (!purposes.nr && nsubj > subjects.nr)
			strbuf_addf(&p, " (and %zu more)", nsubj - subjects.nr);
		if (!p.len)
			strbuf_addstr(&p, "(no commit message)");
		out->purpose = strbuf_detach(&p);
	}
	out->kind = ANNOUNCE_PUSH;
	out->method = xstrdup("git");
	out->id = push_id(remote ? remote : "", refs, nrefs, chosen);
cleanup:
	free(commits);
	free(chosen);
	strlist_release(&production);
	strlist_release(&shared);
	strlist_release(&to);
	strlist_release(&purposes);
	strlist_release(&subjects);
	strlist_release(&agents);
	return ret;
}

int push_announce(const struct config *cfg, git_repository *repo, const char *gitdir, const char *remote,
		  const struct pushed_ref *refs, size_t nrefs)
{
	struct announcement a = ANNOUNCEMENT_INIT;
	struct announce_result res = ANNOUNCE_RESULT_INIT;
	struct strlist warnings = STRLIST_INIT;
	const char *policy = config_get(cfg, "mesh", NULL, "announce_failure");
	int block = policy && !strcmp(policy, "block");
	int ret, rc;

	if (getenv("MESHPUSH_ANNOUNCED"))
		return 0;
	ret = push_announcement_build(&a, cfg, repo, remote, refs, nrefs, &warnings);
	for (size_t i = 0; i < warnings.nr; i++)
		fprintf(stderr, "warning: %s\n", warnings.items[i]);
	if (ret != 0) {
		if (ret > 0)
			ret = 0; /* nothing to announce */
		goto cleanup;
	}
	rc = announce_send(&res, cfg, gitdir, &a);
	if (rc == 0) {
		fprintf(stderr, "meshpush: announced the push of %zu shared file%s to ", a.files.nr,
			a.files.nr == 1 ? "" : "s");
		for (size_t i = 0; i < res.delivered_to.nr; i++)
			fprintf(stderr, "%s%s", i ? ", " : "", res.delivered_to.items[i]);
		fputc('\n', stderr);
		goto cleanup;
	}
	if (rc != MP_ENET) {
		/* nothing could even be queued: a configuration that cannot announce */
		char *why = xstrdup(mp_error_last());

		if (block) {
			ret = mp_error_set(rc, "the push is refused: it cannot be announced ([mesh] announce_failure = block): %s",
					   why);
		} else {
			json_t *f = json_object();

			fprintf(stderr, "warning: this push was not announced: %s\n", why);
			fprintf(stderr, "hint: 'git meshpush agents' shows the mesh; 'git meshpush announce' can announce it by hand\n");
			json_object_set_new(f, "kind", json_string("push"));
			json_object_set_new(f, "outcome", json_string("not-announced"));
			json_object_set_new(f, "problem", json_string(why));
			if (gitdir)
				journal_append(gitdir, "announce", f);
			json_decref(f);
			mp_error_clear();
			ret = 0;
		}
		free(why);
		goto cleanup;
	}
	for (size_t i = 0; i < res.problems.nr; i++)
		fprintf(stderr, "warning: %s\n", res.problems.items[i]);
	if (block && !res.delivered) {
		announce_withdraw(cfg, gitdir, &a);
		ret = mp_error_set(MP_EPOLICY,
				   "the push is refused: no agent could be told of it ([mesh] announce_failure = block); "
				   "push again when a gateway answers ('git meshpush agents' shows them)");
		goto cleanup;
	}
	if (res.delivered) {
		fprintf(stderr, "meshpush: announced the push to ");
		for (size_t i = 0; i < res.delivered_to.nr; i++)
			fprintf(stderr, "%s%s", i ? ", " : "", res.delivered_to.items[i]);
		fputc('\n', stderr);
	}
	fprintf(stderr, "meshpush: the announcement waits in the outbox for ");
	for (size_t i = 0; i < res.queued_for.nr; i++)
		fprintf(stderr, "%s%s", i ? ", " : "", res.queued_for.items[i]);
	fprintf(stderr, "; the push goes on (the next git meshpush run or 'git meshpush outbox flush' delivers it)\n");
	mp_error_clear();
	ret = 0;
cleanup:
	strlist_release(&warnings);
	announce_result_release(&res);
	announcement_release(&a);
	return ret;
}
