/*
 * git meshpush push: the protocol's whole workflow for some files, over
 * git, scp or webhook (src/push/).
 */
#include "cli/cmd.h"
#include "cli/opt.h"
#include "error.h"
#include "push/push.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void print_ms(double ms)
{
	if (ms < 1000)
		printf("(%.0f ms)\n", ms);
	else
		printf("(%.2f s)\n", ms / 1000);
}

static void on_stage(enum push_stage stage, int ok, double ms, const char *summary, void *payload)
{
	(void)payload;
	printf("%-9s %-7s %s ", push_stage_name(stage), ok ? "ok" : "FAILED", summary);
	print_ms(ms);
	fflush(stdout);
}

static void on_note(enum push_stage stage, const char *line, void *payload)
{
	(void)stage;
	(void)payload;
	printf("          %s\n", line);
	fflush(stdout);
}

int cmd_push(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct strlist files = STRLIST_INIT, to = STRLIST_INIT;
	const char *purpose = NULL, *method = "git";
	int dry_run = 0, ret;
	const struct opt_spec opts[] = {
		OPT_LIST("to", 't', &to, "AGENT[,AGENT]", "the agents to push to"),
		OPT_STRING("purpose", 'p', &purpose, "TEXT", "what the files do (announcement and commit message)"),
		OPT_STRING("method", 'm', &method, "git|scp|webhook", "how to push (default git)"),
		OPT_BOOL("dry-run", 'n', &dry_run, "check and say what would be announced and sent; send and write nothing"),
		OPT_ARGS(&files, "FILE...", "the files to push"),
		OPT_END(),
	};
	const struct opt_usage usage = { "push", "FILE... --to AGENT[,AGENT] --purpose TEXT [--method git|scp|webhook] [--dry-run]",
					 "push files to agents: prepare, announce, push, verify, confirm", opts };
	struct push_request req = { 0 };
	struct push_env env = { 0 };
	struct push_result res = PUSH_RESULT_INIT;

	ret = opt_parse(&usage, argc, argv);
	if (ret == OPT_HELP_SHOWN) {
		ret = 0;
		goto cleanup;
	}
	if (ret < 0) {
		ret = MP_EXIT_USAGE;
		goto cleanup;
	}
	if (!files.nr) {
		ret = error_usage("no file to push\nusage: git meshpush push %s", usage.synopsis);
		goto cleanup;
	}
	if (!to.nr) {
		ret = error_usage("say whom to push to with --to AGENT[,AGENT]");
		goto cleanup;
	}
	if (!purpose || !*purpose) {
		ret = error_usage("say what the push is for with --purpose TEXT (it becomes the announcement's Purpose: and the commit message)");
		goto cleanup;
	}
	if (push_method_parse(&req.method, method) < 0) {
		mp_error_print();
		ret = MP_EXIT_USAGE;
		goto cleanup;
	}
	req.files = &files;
	req.to = &to;
	req.purpose = purpose;
	req.dry_run = dry_run;
	req.on_stage = on_stage;
	req.on_note = on_note;
	req.report = stderr;
	req.color = isatty(2) && !getenv("NO_COLOR");
	env.cfg = &ctx->cfg;
	env.repo = ctx->repo;
	env.gitdir = ctx->gitdir;
	env.workdir = ctx->workdir;

	ret = push_run(&res, &env, &req);
	if (ret < 0) {
		fflush(stdout);
		mp_error_print();
		if (res.hint)
			fprintf(stderr, "hint: %s\n", res.hint);
		ret = mp_exit_code(ret);
		goto cleanup;
	}
	if (dry_run)
		printf("dry run: %s would be pushed to %zu agent%s with the %s method\n", files.nr == 1 ? "1 file" : "the files",
		       to.nr, to.nr == 1 ? "" : "s", push_method_name(req.method));
	else
		printf("push %s: done%s\n", res.id,
		       res.queued ? " (some announcements are queued: 'git meshpush outbox flush')" : "");
	ret = res.queued ? MP_EXIT_UNREACHABLE : 0;
cleanup:
	push_result_release(&res);
	strlist_release(&files);
	strlist_release(&to);
	return ret;
}
