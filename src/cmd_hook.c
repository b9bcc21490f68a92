/*
 * git meshpush hook [--stub PATH] NAME [ARGS...]: what the installed stubs
 * run.  Reads the hook's standard input once (for the hooks that get one),
 * runs our check and the foreign hook chained to the stub, with the same
 * arguments and the same input; either failing fails the hook.
 */
#include "cli/cmd.h"
#include "cli/opt.h"
#include "deploy/deploy.h"
#include "error.h"
#include "hooks/check.h"
#include "hooks/hooks.h"
#include "hooks/push.h"
#include "scan/scan.h"
#include "util/fs.h"
#include "util/proc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One run of a hook. */
struct hook_run {
	const char *name;
	char *stub;               /* the stub that called us: the chained hook is beside it */
	const char *const *args;  /* the hook's arguments, NULL-terminated */
	int nargs;
	struct strbuf in;         /* its standard input, for hooks that read one */
	int reads_stdin;
};

/* Run the chained foreign hook; returns the exit code for the hook. */
static int run_chained(struct hook_run *run)
{
	int status = 0, rc;

	if (!run->stub || getenv(HOOKS_CHAINED_ENV))
		return 0;
	rc = hooks_run_chained(&status, run->stub, run->args, run->reads_stdin ? strbuf_str(&run->in) : NULL,
			       run->in.len);
	if (rc < 0) {
		mp_error_print();
		return MP_EXIT_GIT;
	}
	return status;
}

/*
 * post-merge, post-rewrite, post-checkout: install the shared files that
 * changed into the workspace (src/deploy/).  What is installed is decided
 * by comparing HEAD with the manifest, never from the hook's arguments;
 * they only say when there is nothing to do: a post-checkout of files
 * (flag 0), or one in the middle of a rebase (post-rewrite follows).
 */
static int install_after_pull(struct hook_run *run, struct cmd_ctx *ctx)
{
	struct deploy_opts opts = DEPLOY_OPTS_INIT;
	struct deploy_report report = DEPLOY_REPORT_INIT;
	char *text = NULL;
	int ret;

	if (!ctx->repo || !ctx->workdir)
		return 0;
	if (!strcmp(run->name, "post-checkout")) {
		const char *gd = git_repository_path(ctx->repo);
		char *rm = fs_join(gd, "rebase-merge"), *ra = fs_join(gd, "rebase-apply");
		int rebasing = fs_exists(rm) || fs_exists(ra);

		free(rm);
		free(ra);
		if (run->nargs >= 3 && !strcmp(run->args[2], "0"))
			return 0; /* a file checkout: HEAD did not move */
		if (rebasing)
			return 0; /* post-rewrite installs when the rebase is done */
	}
	opts.trigger = run->name;
	ret = deploy_install(&report, &ctx->cfg, ctx->repo, ctx->gitdir, &opts);
	if (ret < 0) {
		fprintf(stderr, "git-meshpush: the shared files were not installed\n");
		mp_error_print();
		ret = mp_exit_code(ret);
		goto cleanup;
	}
	if (report.nr || report.issues) {
		text = deploy_report_format(&report);
		fputs(text, stderr);
	}
	ret = 0; /* git ignores the exit code of these hooks; the report says "issues" */
cleanup:
	free(text);
	deploy_report_release(&report);
	return ret;
}

static int hook_post(struct hook_run *run, struct cmd_ctx *ctx)
{
	int ret = install_after_pull(run, ctx), chained = run_chained(run);

	return ret ? ret : chained;
}

/* The ref a finding belongs to: by its commit, or for a tag of a tree or blob by its path ("REF:PATH"). */
static const struct pushed_ref *ref_of_finding(const struct push_plan *plan, const struct scan_finding *f)
{
	if (f->commit)
		return push_plan_ref_of(plan, f->commit);
	for (size_t i = 0; f->path && i < plan->nr; i++) {
		const char *name = plan->refs[i].local_ref;
		size_t n = strlen(name);

		if (plan->refs[i].not_commit && !strncmp(f->path, name, n) && (!f->path[n] || f->path[n] == ':'))
			return &plan->refs[i];
	}
	return NULL;
}

/*
 * Print the findings of `r`, one a line: [ref commit] file:line:column
 * rule redacted-secret; then how to fix it.  `plan` is NULL for a commit.
 */
static void print_findings(const struct scan_report *r, const struct push_plan *plan, const struct config *cfg,
			   const char *where)
{
	const char *ignore = config_get(cfg, "scan", NULL, "ignore_file");
	const char *oldest = NULL;

	fprintf(stderr, "error: %s is refused: %zu secret%s found in %s\n",
		plan ? "the push" : "the commit", r->nr,
		r->nr == 1 ? "" : "s",
		!plan ? "the staged changes" : strcmp(where, "pre-receive") ? "the commits it would publish"
					    : "the commits it brings");
	for (size_t i = 0; i < r->nr; i++) {
		const struct scan_finding *f = &r->findings[i];
		struct strbuf line = STRBUF_INIT;
		char *redacted = scan_redact(f->secret ? f->secret : "");

		strbuf_addstr(&line, "    ");
		if (plan) {
			const struct pushed_ref *ref = ref_of_finding(plan, f);

			strbuf_addf(&line, "%s %.7s ", ref ? ref->local_ref : "-", f->commit ? f->commit : "-");
			if (f->commit)
				oldest = f->commit;
		}
		strbuf_add_quoted_path(&line, f->path ? f->path : "-", 0);
		strbuf_addf(&line, ":%zu:%zu %s %s", f->line, f->column, f->rule, redacted);
		fprintf(stderr, "%s\n", strbuf_str(&line));
		strbuf_release(&line);
		free(redacted);
	}
	if (!plan) {
		fputs("hint: take the secret out of the file (read it from the environment or from a file outside\n"
		      "hint: the repository), 'git add' the file and commit again; rotate the secret if it was shared\n",
		      stderr);
	} else if (!strcmp(where, "pre-receive")) {
		fputs("hint: remove the secret from the commit that added it and push again (it may be anywhere\n"
		      "hint: in the history you push: 'git rebase -i COMMIT^', 'edit', fix, 'git commit --amend',\n"
		      "hint: 'git rebase --continue'); rotate the secret: it left your machine\n", stderr);
	} else {
		fprintf(stderr,
			"hint: remove the secret from the commit that added it, then push again:\n"
			"hint:   the last commit:   fix the file, 'git add' it, 'git commit --amend'\n"
			"hint:   an older commit:   'git rebase -i %.7s^', mark it 'edit', fix the file,\n"
			"hint:                      'git commit --amend', 'git rebase --continue'\n",
			oldest ? oldest : "COMMIT");
	}
	fprintf(stderr, "hint: a false positive? add a 'meshpush:allow' comment on that line, or its fingerprint\n"
			"hint: to %s:\n", ignore && *ignore ? ignore : ".meshpushignore");
	for (size_t i = 0; i < r->nr; i++)
		if (r->findings[i].fingerprint)
			fprintf(stderr, "hint:   %s\n", r->findings[i].fingerprint);
}

static int new_engine(struct scan_engine **out, const struct config *cfg)
{
	const struct strlist *warnings;
	int rc = scan_engine_new(out, cfg);

	if (rc < 0) {
		mp_error_print();
		return mp_exit_code(rc);
	}
	warnings = scan_engine_warnings(*out);
	for (size_t i = 0; warnings && i < warnings->nr; i++)
		warning("%s", warnings->items[i]);
	return 0;
}

static void journal_verdict(struct cmd_ctx *ctx, const char *event, const char *remote,
			    const struct push_plan *plan, const struct scan_report *r, const char *verdict)
{
	if (hooks_journal_verdict(ctx->gitdir, event, remote, plan, r, verdict) < 0)
		warning("%s", mp_error_last());
}

static int hook_pre_commit(struct hook_run *run, struct cmd_ctx *ctx)
{
	struct scan_report r = SCAN_REPORT_INIT;
	struct scan_engine *e = NULL;
	git_index *index = NULL;
	int ret, rc;

	/* the foreign hook first: formatters (lint-staged...) may change the index we scan */
	if ((ret = run_chained(run)) != 0 || (ret = new_engine(&e, &ctx->cfg)) != 0)
		goto cleanup;
	/* with GIT_INDEX_FILE set, libgit2 read the index when it opened the repository: read it again */
	if (git_repository_index(&index, ctx->repo) == 0 && git_index_read(index, 1) < 0) {
		ret = error_exit(MP_EXIT_GIT, "cannot read the index: %s",
				 git_error_last() ? git_error_last()->message : "unknown error");
		goto cleanup;
	}
	git_error_clear();
	if ((rc = scan_staged(e, &r, ctx->repo)) < 0) {
		mp_error_print();
		ret = mp_exit_code(rc);
		goto cleanup;
	}
	if (r.nr) {
		print_findings(&r, NULL, &ctx->cfg, "pre-commit");
		journal_verdict(ctx, "pre-commit", NULL, NULL, &r, "refused");
		ret = MP_EXIT_POLICY;
	}
cleanup:
	git_index_free(index);
	scan_report_release(&r);
	scan_engine_free(e);
	return ret;
}

/*
 * Scan what a push brings (its commits, and the trees or blobs of refs
 * that are not commits) into `r`: 0 when clean, else the exit code after
 * printing the findings or the error.
 */
static int scan_push(struct scan_report *r, struct cmd_ctx *ctx, const struct push_plan *plan, const char *where)
{
	struct scan_engine *e = NULL;
	int ret = 0, rc, need_scan = 0;

	for (size_t i = 0; i < plan->nr; i++)
		need_scan |= plan->refs[i].not_commit;
	if (!plan->ncommits && !need_scan)
		return 0;
	if ((ret = new_engine(&e, &ctx->cfg)) != 0)
		goto cleanup;
	if ((rc = hooks_scan_plan(r, e, ctx->repo, plan)) < 0) {
		mp_error_print();
		ret = mp_exit_code(rc);
		goto cleanup;
	}
	if (r->nr) {
		print_findings(r, plan, &ctx->cfg, where);
		ret = MP_EXIT_POLICY;
	}
cleanup:
	scan_engine_free(e);
	return ret;
}

/* [mesh] test, when the push touches the shared folders: 0 or the exit code refusing the push. */
static int run_mesh_test(struct cmd_ctx *ctx, const struct push_plan *plan)
{
	const char *tmpl = config_get(&ctx->cfg, "mesh", NULL, "test");
	struct proc_result res = PROC_RESULT_INIT;
	long timeout = config_get_int(&ctx->cfg, "mesh", NULL, "test_timeout");
	int ret = 0, rc;

	if (!tmpl || !*tmpl || !plan->touches_shared || !ctx->workdir)
		return 0;
	if ((rc = proc_run_template(&res, tmpl, NULL, ctx->workdir, timeout)) < 0) {
		/* a malformed template is a configuration error; one that cannot start refuses the push */
		mp_error_print();
		if (rc != MP_ECONFIG)
			fprintf(stderr, "hint: fix '[mesh] test' in .meshpush.ini\n");
		ret = rc == MP_ECONFIG ? MP_EXIT_USAGE : MP_EXIT_POLICY;
		goto cleanup;
	}
	if (res.status != 0 || res.timed_out) {
		fputs(strbuf_str(&res.out), stderr);
		if (res.out.len && res.out.buf[res.out.len - 1] != '\n')
			fputc('\n', stderr);
		if (res.timed_out)
			fprintf(stderr, "error: the push is refused: the test command '%s' took more than %ld s ([mesh] test_timeout)\n",
				tmpl, timeout);
		else
			fprintf(stderr, "error: the push is refused: the test command '%s' failed (exit %d)\n", tmpl,
				res.status);
		fprintf(stderr, "hint: the push changes the shared folders: fix what the test says, commit, push again\n");
		ret = MP_EXIT_POLICY;
	}
cleanup:
	proc_result_release(&res);
	return ret;
}

static int hook_pre_push(struct hook_run *run, struct cmd_ctx *ctx)
{
	struct push_plan plan = PUSH_PLAN_INIT;
	struct scan_report r = SCAN_REPORT_INIT;
	struct strlist shared = STRLIST_INIT;
	const char *remote = run->nargs > 0 ? run->args[0] : "";
	const char *verdict = "refused";
	int ret = 0, rc;

	if ((rc = push_plan_parse_pre_push(&plan, run->in.buf ? run->in.buf : "", run->in.len)) < 0 ||
	    (rc = push_plan_compute_pre_push(&plan, ctx->repo, remote)) < 0) {
		mp_error_print();
		ret = mp_exit_code(rc);
		goto cleanup;
	}
	if ((ret = scan_push(&r, ctx, &plan, "pre-push")) != 0)
		goto cleanup;
	config_get_list(&shared, &ctx->cfg, "mesh", NULL, "shared");
	if ((rc = push_plan_touches(&plan, ctx->repo, &shared)) < 0) {
		mp_error_print();
		ret = mp_exit_code(rc);
		goto cleanup;
	}
	if ((ret = run_mesh_test(ctx, &plan)) != 0) {
		verdict = "test-failed";
		goto cleanup;
	}
	if ((ret = run_chained(run)) != 0) {
		verdict = "chained-hook-failed";
		goto cleanup;
	}
	/* every check passed: the one place a push is announced (push_announce() skips what 'git meshpush push' did) */
	if ((rc = push_announce(&ctx->cfg, ctx->repo, ctx->gitdir, remote, plan.refs, plan.nr)) < 0) {
		mp_error_print();
		ret = mp_exit_code(rc);
		verdict = "announce-failed";
		goto cleanup;
	}
	verdict = "ok";
cleanup:
	if (plan.nr)
		journal_verdict(ctx, "pre-push", remote, &plan, &r, ret ? verdict : "ok");
	strlist_release(&shared);
	scan_report_release(&r);
	push_plan_release(&plan);
	return ret;
}

static int hook_pre_receive(struct hook_run *run, struct cmd_ctx *ctx)
{
	struct push_plan plan = PUSH_PLAN_INIT;
	struct scan_report r = SCAN_REPORT_INIT;
	int ret = 0, rc;

	if ((rc = push_plan_parse_pre_receive(&plan, run->in.buf ? run->in.buf : "", run->in.len)) < 0 ||
	    (rc = push_plan_compute_pre_receive(&plan, ctx->repo)) < 0) {
		mp_error_print();
		ret = mp_exit_code(rc);
		goto cleanup;
	}
	if ((ret = scan_push(&r, ctx, &plan, "pre-receive")) != 0)
		goto cleanup;
	ret = run_chained(run);
cleanup:
	if (plan.nr)
		journal_verdict(ctx, "pre-receive", NULL, &plan, &r, ret ? "refused" : "ok");
	scan_report_release(&r);
	push_plan_release(&plan);
	return ret;
}

static const struct hook_entry {
	const char *name;
	int (*fn)(struct hook_run *run, struct cmd_ctx *ctx);
	int reads_stdin;
} hook_table[] = {
	{ "pre-commit", hook_pre_commit, 0 },
	{ "pre-push", hook_pre_push, 1 },
	{ "pre-receive", hook_pre_receive, 1 },
	{ "post-merge", hook_post, 0 },
	{ "post-rewrite", hook_post, 1 },
	{ "post-checkout", hook_post, 0 },
};

static int read_stdin(struct strbuf *sb)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(0, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return mp_error_set(MP_EOS, "cannot read the hook's input: %s", strerror(errno));
		}
		strbuf_add(sb, buf, (size_t)n);
	}
	return 0;
}

static void print_hook_usage(FILE *fp)
{
	fputs("usage: git meshpush hook [--stub PATH] NAME [ARGS...]\n\n"
	      "    run a hook (what the installed hook stubs call)\n\n"
	      "    --stub PATH                  the stub that runs us (default: $" HOOKS_STUB_ENV "): its chained hook runs too\n"
	      "    NAME                         ", fp);
	for (size_t i = 0; i < ARRAY_SIZE(hook_table); i++)
		fprintf(fp, "%s%s", i ? ", " : "", hook_table[i].name);
	fputs("\n    ARGS                         the hook's arguments, passed on unchanged\n"
	      "    -h, --help                   show this help\n", fp);
}

int cmd_hook(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct hook_run run = { NULL, NULL, NULL, 0, STRBUF_INIT, 0 };
	const struct hook_entry *entry = NULL;
	struct hooks_dir dir = HOOKS_DIR_INIT;
	int i, ret = 0;

	/* our options come before NAME; everything after NAME is the hook's, untouched */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			print_hook_usage(stdout);
			goto cleanup;
		} else if (!strcmp(argv[i], "--stub") && i + 1 < argc) {
			run.stub = xstrdup(argv[++i]);
		} else if (starts_with(argv[i], "--stub=")) {
			run.stub = xstrdup(argv[i] + 7);
		} else {
			ret = error_usage("unknown option '%s' for 'git meshpush hook'\n"
					  "run 'git meshpush hook --help' for usage", argv[i]);
			goto cleanup;
		}
	}
	if (i >= argc) {
		print_hook_usage(stderr);
		ret = MP_EXIT_USAGE;
		goto cleanup;
	}
	for (size_t k = 0; k < ARRAY_SIZE(hook_table); k++)
		if (!strcmp(hook_table[k].name, argv[i]))
			entry = &hook_table[k];
	if (!entry) {
		ret = error_usage("'%s' is not a hook git meshpush runs\nrun 'git meshpush hook --help' for the list",
				  argv[i]);
		goto cleanup;
	}
	run.name = entry->name;
	run.args = argv + i + 1;
	run.nargs = argc - i - 1;
	run.reads_stdin = entry->reads_stdin;
	if (!run.stub && getenv(HOOKS_STUB_ENV) && *getenv(HOOKS_STUB_ENV))
		run.stub = xstrdup(getenv(HOOKS_STUB_ENV));
	unsetenv(HOOKS_STUB_ENV); /* not for the programs we run */
	if (!run.stub) {
		/* run by hand or by another hook manager: the chained hook is in the hooks directory */
		if (hooks_dir_find(&dir, ctx->repo) == 0)
			run.stub = fs_join(dir.path, run.name);
		mp_error_clear();
	}
	if (run.reads_stdin && (ret = read_stdin(&run.in)) < 0) {
		mp_error_print();
		ret = mp_exit_code(ret);
		goto cleanup;
	}
	ret = entry->fn(&run, ctx);

cleanup:
	hooks_dir_release(&dir);
	strbuf_release(&run.in);
	free(run.stub);
	return ret;
}
