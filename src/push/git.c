/*
 * The git method: copy into the shared folder, commit with the Mesh-*
 * trailers, push with the user's own git, check the remote's ref.
 */
#include "push/internal.h"

#include "error.h"
#include "util/fs.h"
#include "util/proc.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Run git with `args` in the work tree.  0 when it ran (check res->status) or MP_EOS. */
static int run_git(struct proc_result *res, struct push_run *r, const struct strlist *args, int capture,
		   const char *const *env)
{
	struct proc_opts o = PROC_OPTS_INIT;
	const char **av = strlist_argv(args);
	int ret;

	o.cwd = r->env->workdir;
	o.capture = capture;
	o.stdout_to_stderr = !capture;
	o.inherit_stdin = !capture; /* git push may ask for an SSH passphrase */
	o.env = env;
	ret = proc_run(res, av, &o);
	free(av);
	return ret;
}

static void note_lines(struct push_run *r, const struct strbuf *out)
{
	for (const char *p = strbuf_str(out); *p;) {
		size_t n = strcspn(p, "\n");

		if (n)
			push_note(r, "| %.*s", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

int push_git_prepare(struct push_run *r)
{
	git_repository *repo = r->env->repo;
	git_reference *head = NULL;
	git_buf buf = GIT_BUF_INIT;
	git_remote *remote = NULL;
	char *refname = NULL;
	int ret = 0, unborn;

	if (!repo || !r->env->workdir)
		return mp_error_set(MP_EUSAGE, "the git method needs the mesh repository's work tree");
	if (strchr(r->req->purpose, '\n'))
		return mp_error_set(MP_EUSAGE, "the purpose must be one line");
	unborn = git_repository_head_unborn(repo) == 1;
	if (unborn) {
		if (git_reference_lookup(&head, repo, "HEAD") < 0 || git_reference_type(head) != GIT_REFERENCE_SYMBOLIC) {
			ret = mp_error_git("cannot read HEAD");
			goto cleanup;
		}
		refname = xstrdup(git_reference_symbolic_target(head));
	} else {
		if (git_repository_head(&head, repo) < 0) {
			ret = mp_error_git("cannot read HEAD");
			goto cleanup;
		}
		if (!git_reference_is_branch(head)) {
			ret = mp_error_set(MP_EUSAGE, "HEAD is detached: check out the branch to push to (e.g. 'git switch main')");
			goto cleanup;
		}
		refname = xstrdup(git_reference_name(head));
	}
	r->branch = xstrdup(refname + strlen("refs/heads/"));
	if (git_branch_upstream_remote(&buf, repo, refname) == 0) {
		r->remote_name = xstrdup(buf.ptr);
		git_buf_dispose(&buf);
		if (git_branch_upstream_merge(&buf, repo, refname) == 0) {
			r->remote_ref = xstrdup(buf.ptr);
			git_buf_dispose(&buf);
		}
	} else if (git_remote_lookup(&remote, repo, "origin") == 0) {
		r->remote_name = xstrdup("origin");
	}
	git_error_clear();
	if (!r->remote_name) {
		ret = mp_error_set(MP_EUSAGE, "branch '%s' has no remote to push to: set its upstream ('git push -u origin %s')",
				   r->branch, r->branch);
		goto cleanup;
	}
	if (!r->remote_ref)
		r->remote_ref = xstrdup(refname);

	for (size_t i = 0; i < r->nr; i++) {
		struct push_item *it = &r->items[i];
		git_object *blob = NULL;
		char *spec = xasprintf("HEAD:%s", it->repo_path), *wt = NULL, *cur = NULL;
		size_t curlen = 0;

		if (!unborn && git_revparse_single(&blob, repo, spec) == 0 && git_object_type(blob) == GIT_OBJECT_BLOB) {
			it->in_head = 1;
			it->unchanged = (size_t)git_blob_rawsize((git_blob *)blob) == it->len &&
					!memcmp(git_blob_rawcontent((git_blob *)blob), it->data, it->len);
		}
		git_error_clear();
		/* a copy must not overwrite uncommitted work in the repository */
		wt = fs_join(r->env->workdir, it->repo_path);
		if (!it->in_repo && fs_read_file(&cur, &curlen, wt) == 0) {
			int same_as_ours = curlen == it->len && !memcmp(cur, it->data, it->len);
			int same_as_head = blob && (size_t)git_blob_rawsize((git_blob *)blob) == curlen &&
					   !memcmp(git_blob_rawcontent((git_blob *)blob), cur, curlen);

			if (!same_as_ours && !same_as_head) {
				ret = mp_error_set(MP_EUSAGE,
						   "'%s' in the repository has uncommitted changes that the copy of '%s' would overwrite: "
						   "commit or stash them first",
						   it->repo_path, it->local);
			}
		}
		if (ret == 0)
			mp_error_clear(); /* a missing file is no conflict */
		free(cur);
		free(wt);
		free(spec);
		git_object_free(blob);
		if (ret < 0)
			goto cleanup;
	}
	push_summary(r, "to %s %s", r->remote_name, r->remote_ref);
cleanup:
	git_remote_free(remote);
	git_reference_free(head);
	free(refname);
	return ret;
}

/* The remote-tracking refs of the remote: what the remote already has. */
static void tracking_oids(git_oid **out, size_t *nr, git_repository *repo, const char *remote)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	char *glob = xasprintf("refs/remotes/%s/*", remote);
	size_t alloc = 0;

	*out = NULL;
	*nr = 0;
	if (git_reference_iterator_glob_new(&it, repo, glob) == 0) {
		while (git_reference_next(&ref, it) == 0) {
			git_reference *res = NULL;

			if (git_reference_resolve(&res, ref) == 0 && git_reference_target(res)) {
				*out = xgrow(*out, sizeof(**out), *nr + 1, &alloc);
				git_oid_cpy(&(*out)[(*nr)++], git_reference_target(res));
			}
			git_reference_free(res);
			git_reference_free(ref);
		}
	}
	git_reference_iterator_free(it);
	git_error_clear();
	free(glob);
}

int push_git_scan_outgoing(struct push_run *r, struct scan_engine *e, struct scan_report *rep, size_t *commits)
{
	git_repository *repo = r->env->repo;
	git_oid head, *excl = NULL;
	size_t nexcl = 0, before = rep->commits;
	int ret;

	*commits = 0;
	if (git_reference_name_to_id(&head, repo, "HEAD") < 0) {
		git_error_clear();
		return 0; /* no commit yet */
	}
	tracking_oids(&excl, &nexcl, repo, r->remote_name);
	ret = scan_commits(e, rep, repo, &head, 1, excl, nexcl);
	*commits = rep->commits - before;
	free(excl);
	return ret;
}

static void add_names(struct strbuf *sb, struct push_run *r, int in_head)
{
	int first = 1;

	for (size_t i = 0; i < r->nr; i++)
		if (!r->items[i].unchanged && r->items[i].in_head == in_head) {
			strbuf_addf(sb, "%s%s", first ? "" : ", ", r->items[i].name);
			first = 0;
		}
}

/* "Add a.js, b.js: purpose", "Update c.js: purpose", "Add a.js; update c.js: purpose". */
static char *commit_subject(struct push_run *r)
{
	struct strbuf sb = STRBUF_INIT;
	size_t adds = 0, updates = 0;

	for (size_t i = 0; i < r->nr; i++)
		if (!r->items[i].unchanged)
			r->items[i].in_head ? updates++ : adds++;
	if (adds) {
		strbuf_addstr(&sb, "Add ");
		add_names(&sb, r, 0);
	}
	if (updates) {
		strbuf_addstr(&sb, adds ? "; update " : "Update ");
		add_names(&sb, r, 1);
	}
	strbuf_addf(&sb, ": %s", r->req->purpose);
	return strbuf_detach(&sb);
}

static void trailer_args(struct strlist *args, struct push_run *r)
{
	struct strbuf to = STRBUF_INIT;
	char *t;

	for (size_t i = 0; i < r->agents.nr; i++)
		strbuf_addf(&to, "%s%s", i ? ", " : "", r->agents.items[i]);
	strlist_push(args, "--trailer");
	strlist_push_nodup(args, xasprintf("Mesh-From: %s", r->self));
	strlist_push(args, "--trailer");
	strlist_push_nodup(args, xasprintf("Mesh-To: %s", to.buf));
	strlist_push(args, "--trailer");
	t = xasprintf("Mesh-Purpose: %s", r->req->purpose);
	strlist_push_nodup(args, t);
	strlist_push(args, "--trailer");
	strlist_push_nodup(args, xasprintf("Mesh-Push: %s", r->out->id));
	strbuf_release(&to);
}

/* Put the copies back as they were after a failed commit. */
static void undo_copies(struct push_run *r)
{
	for (size_t i = 0; i < r->nr; i++) {
		struct push_item *it = &r->items[i];
		struct strlist args = STRLIST_INIT;
		struct proc_result res = PROC_RESULT_INIT;

		if (it->in_repo || it->unchanged)
			continue;
		strlist_push(&args, "git");
		strlist_push(&args, "reset");
		strlist_push(&args, "-q");
		strlist_push(&args, "--");
		strlist_push(&args, it->repo_path);
		run_git(&res, r, &args, 1, NULL);
		proc_result_release(&res);
		strlist_release(&args);
		if (it->in_head) {
			strlist_push(&args, "git");
			strlist_push(&args, "checkout");
			strlist_push(&args, "-q");
			strlist_push(&args, "--");
			strlist_push(&args, it->repo_path);
			run_git(&res, r, &args, 1, NULL);
			proc_result_release(&res);
			strlist_release(&args);
		} else {
			char *p = fs_join(r->env->workdir, it->repo_path);

			unlink(p);
			free(p);
		}
	}
}

/* Is HEAD already on the remote (its remote-tracking branch)? */
static int head_is_pushed(struct push_run *r)
{
	git_oid head, *excl = NULL;
	size_t nexcl = 0;
	int found = 0;

	if (git_reference_name_to_id(&head, r->env->repo, "HEAD") < 0) {
		git_error_clear();
		return 0;
	}
	tracking_oids(&excl, &nexcl, r->env->repo, r->remote_name);
	for (size_t i = 0; i < nexcl && !found; i++)
		found = git_oid_equal(&head, &excl[i]) ||
			git_graph_descendant_of(r->env->repo, &excl[i], &head) == 1;
	free(excl);
	return found;
}

/* Record HEAD as the push's commit: "<label> <short id>[ \"<subject>\"]". */
static int record_head(struct push_run *r, const char *what, const char *label, const char *subject)
{
	char hex[GIT_OID_HEXSZ + 1];
	git_oid head;

	if (git_reference_name_to_id(&head, r->env->repo, "HEAD") < 0)
		return mp_error_git("%s", what);
	git_oid_tostr(hex, sizeof(hex), &head);
	r->out->commit = xstrdup(hex);
	push_summary(r, "%s %.12s%s%s%s", label, hex, subject ? " \"" : "", subject ? subject : "",
		     subject ? "\"" : "");
	return 0;
}

int push_git_commit(struct push_run *r)
{
	struct strlist args = STRLIST_INIT;
	struct proc_result res = PROC_RESULT_INIT;
	size_t changed = 0;
	char *subject = NULL;
	int ret = 0;

	for (size_t i = 0; i < r->nr; i++)
		changed += !r->items[i].unchanged;
	if (!changed) {
		if (head_is_pushed(r)) {
			push_summary(r, "nothing to commit");
			ret = mp_error_set(MP_EUSAGE, "nothing to push: '%s' already has %s", r->remote_name,
					   r->nr == 1 ? r->items[0].repo_path : "these files");
			push_hint(r, "change the file first, or announce an earlier push with 'git meshpush announce'");
			goto cleanup;
		}
		ret = record_head(r, "cannot read HEAD", "already committed as", NULL);
		goto cleanup;
	}
	/* copy the files from outside into the shared folder */
	for (size_t i = 0; i < r->nr; i++) {
		struct push_item *it = &r->items[i];
		char *dst, *dir;

		if (it->in_repo || it->unchanged)
			continue;
		dst = fs_join(r->env->workdir, it->repo_path);
		dir = xstrndup(dst, (size_t)(strrchr(dst, '/') - dst));
		ret = fs_mkdir_p(dir, 0755);
		if (ret == 0)
			ret = fs_write_atomic(dst, it->data, it->len, it->mode);
		free(dir);
		free(dst);
		if (ret < 0)
			goto undo;
	}
	strlist_push(&args, "git");
	strlist_push(&args, "add");
	strlist_push(&args, "--");
	for (size_t i = 0; i < r->nr; i++)
		if (!r->items[i].unchanged)
			strlist_push(&args, r->items[i].repo_path);
	if ((ret = run_git(&res, r, &args, 1, NULL)) < 0)
		goto undo;
	if (res.status != 0) {
		note_lines(r, &res.out);
		ret = mp_error_set(MP_EGIT, "'git add' failed (exit %d)", res.status);
		goto undo;
	}
	proc_result_release(&res);
	strlist_release(&args);

	subject = commit_subject(r);
	strlist_push(&args, "git");
	strlist_push(&args, "commit");
	strlist_push(&args, "-q");
	strlist_push(&args, "-m");
	strlist_push(&args, subject);
	trailer_args(&args, r);
	strlist_push(&args, "--");
	for (size_t i = 0; i < r->nr; i++)
		if (!r->items[i].unchanged)
			strlist_push(&args, r->items[i].repo_path);
	if ((ret = run_git(&res, r, &args, 1, NULL)) < 0)
		goto undo;
	if (res.status != 0) {
		note_lines(r, &res.out);
		ret = mp_error_set(MP_EGIT, "'git commit' failed (exit %d): nothing was announced or pushed", res.status);
		push_hint(r, "see git's output above (a pre-commit hook may have refused it)");
		goto undo;
	}
	ret = record_head(r, "cannot read HEAD after committing", "committed", subject);
	goto cleanup;
undo:
	undo_copies(r);
cleanup:
	proc_result_release(&res);
	strlist_release(&args);
	free(subject);
	return ret;
}

int push_git_push(struct push_run *r)
{
	struct strlist args = STRLIST_INIT;
	struct proc_result res = PROC_RESULT_INIT;
	char *env0 = xasprintf("MESHPUSH_ANNOUNCED=%s", r->out->id);
	const char *env[] = { env0, NULL };
	int ret;

	push_stage_begin(r, PUSH_PUSH);
	strlist_push(&args, "git");
	strlist_push(&args, "push");
	strlist_push(&args, r->remote_name);
	strlist_push_nodup(&args, xasprintf("HEAD:%s", r->remote_ref));
	ret = run_git(&res, r, &args, 0, env);
	if (ret == 0 && res.status != 0) {
		push_summary(r, "git push failed");
		ret = mp_error_set(MP_EGIT, "'git push %s HEAD:%s' failed (exit %d) after the announcement went out",
				   r->remote_name, r->remote_ref, res.status);
		push_hint(r, "the commit %.12s is still local; fix what git says above (fetch and rebase if the remote moved), "
			     "then run 'git push': the pre-push hook announces it again, so the mesh learns it did arrive",
			  r->out->commit);
	} else if (ret == 0) {
		push_summary(r, "pushed %.12s to %s %s", r->out->commit, r->remote_name, r->remote_ref);
	}
	proc_result_release(&res);
	strlist_release(&args);
	free(env0);
	return push_stage_finish(r, ret);
}

int push_git_verify(struct push_run *r)
{
	struct strlist args = STRLIST_INIT;
	struct proc_result res = PROC_RESULT_INIT;
	int ret;

	push_stage_begin(r, PUSH_VERIFY);
	strlist_push(&args, "git");
	strlist_push(&args, "ls-remote");
	strlist_push(&args, r->remote_name);
	strlist_push(&args, r->remote_ref);
	ret = run_git(&res, r, &args, 1, NULL);
	if (ret == 0 && res.status != 0) {
		note_lines(r, &res.out);
		ret = mp_error_set(MP_EGIT, "cannot read '%s' back from '%s' (git ls-remote exit %d)", r->remote_ref,
				   r->remote_name, res.status);
	} else if (ret == 0) {
		const char *o = strbuf_str(&res.out);
		size_t n = strspn(o, "0123456789abcdef");

		if (n < 40 || strncmp(o, r->out->commit, n)) {
			push_summary(r, "%s %s is %.12s", r->remote_name, r->remote_ref, n ? o : "missing");
			ret = mp_error_set(MP_EPOLICY, "'%s' on '%s' is not the pushed commit %.12s (someone pushed meanwhile?)",
					   r->remote_ref, r->remote_name, r->out->commit);
			push_hint(r, "fetch, look at what is there, and push again if needed");
		} else {
			push_summary(r, "%s %s is at %.12s", r->remote_name, r->remote_ref, r->out->commit);
			r->out->verified = 1;
		}
	}
	proc_result_release(&res);
	strlist_release(&args);
	return push_stage_finish(r, ret);
}

void push_git_dry_run(struct push_run *r)
{
	char *subject = commit_subject(r);
	size_t changed = 0;

	for (size_t i = 0; i < r->nr; i++) {
		struct push_item *it = &r->items[i];

		if (it->unchanged)
			continue;
		changed++;
		if (!it->in_repo)
			push_note(r, "would copy %s to %s (mode %o)", it->local, it->repo_path, it->mode);
	}
	if (changed) {
		push_note(r, "would commit \"%s\"", subject);
		push_note(r, "    with trailers Mesh-From: %s, Mesh-To, Mesh-Purpose, Mesh-Push: %s", r->self, r->out->id);
	} else {
		push_note(r, "would commit nothing (HEAD already has the files)");
	}
	push_note(r, "would run: git push %s HEAD:%s", r->remote_name, r->remote_ref);
	free(subject);
}
