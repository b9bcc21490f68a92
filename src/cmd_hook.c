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
#include "hooks/hooks.h"
#include "util/fs.h"

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

static int hook_pre_commit(struct hook_run *run, struct cmd_ctx *ctx)
{
	/* the foreign hook first: formatters (lint-staged...) may change the index we scan */
	int ret = run_chained(run);

	(void)ctx;
	return ret;
}

static int hook_pre_push(struct hook_run *run, struct cmd_ctx *ctx)
{
	(void)ctx;
	return run_chained(run);
}

static int hook_pre_receive(struct hook_run *run, struct cmd_ctx *ctx)
{
	(void)ctx;
	return run_chained(run);
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
