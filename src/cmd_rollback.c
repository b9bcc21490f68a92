/* git meshpush rollback: list installs, undo one, or remove a broken file. */
#include "cli/cmd.h"
#include "cli/opt.h"
#include "deploy/deploy.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int list_installs(void)
{
	struct deploy_record *recs = NULL;
	size_t nr = 0;

	if (deploy_records_list(&recs, &nr) < 0) {
		mp_error_print();
		return MP_EXIT_GIT;
	}
	if (!nr)
		puts("no installs recorded");
	for (size_t i = 0; i < nr; i++) {
		struct deploy_record *r = &recs[i];

		printf("%s  %s  %-8s %.7s  %zu file%s\n", r->id, r->time ? r->time : "?", r->kind ? r->kind : "?",
		       r->commit ? r->commit : "-", r->files.nr, r->files.nr == 1 ? "" : "s");
		for (size_t j = 0; j < r->files.nr && j < 10; j++)
			printf("    %s\n", r->files.items[j]);
		if (r->files.nr > 10)
			printf("    ... and %zu more\n", r->files.nr - 10);
	}
	deploy_records_free(recs, nr);
	return 0;
}

static int looks_like_id(const char *s)
{
	/* 20261126T135000.123Z-a1b2c3, or a prefix of at least 8 digits */
	size_t n = strspn(s, "0123456789");

	return n >= 8 && (s[n] == '\0' || s[n] == 'T');
}

int cmd_rollback(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct strlist args = STRLIST_INIT, files = STRLIST_INIT;
	struct deploy_report report = DEPLOY_REPORT_INIT;
	int list = 0, no_confirm = 0, wait = 10;
	const char *remove = NULL;
	const struct opt_spec opts[] = {
		OPT_BOOL("list", 'l', &list, "list the installs that can be rolled back"),
		OPT_STRING("remove", 0, &remove, "FILE", "emergency: move FILE out of the workspace and notify the mesh"),
		OPT_BOOL("no-confirm", 0, &no_confirm, "do not announce the rollback"),
		OPT_INT("wait", 0, &wait, "SECONDS", "how long to wait for an install to end (default 10)"),
		OPT_ARGS(&args, "[ID] [FILE...]", "the install to undo (default: the last one) and which of its files"),
		OPT_END()
	};
	const struct opt_usage usage = { "rollback", "[--list] [ID] [FILE...] | --remove FILE",
					 "restore files from the backups of an install", opts };
	struct deploy_rollback_opts ropts = DEPLOY_ROLLBACK_OPTS_INIT;
	char *text = NULL;
	int ret;

	OPT_PARSE_OR_RETURN(&usage, argc, argv);
	if (list) {
		ret = args.nr || remove ? error_usage("--list takes no arguments") : list_installs();
		goto cleanup;
	}
	if (remove) {
		if (args.nr) {
			ret = error_usage("--remove takes one file");
			goto cleanup;
		}
		ret = deploy_remove(&report, &ctx->cfg, ctx->repo, ctx->gitdir, remove, wait * 1000 + 1);
	} else {
		size_t first = 0;

		if (args.nr && looks_like_id(args.items[0])) {
			ropts.id = args.items[0];
			first = 1;
		}
		for (size_t i = first; i < args.nr; i++)
			strlist_push(&files, args.items[i]);
		ropts.files = &files;
		ropts.no_confirm = no_confirm;
		ropts.lock_wait_ms = wait * 1000 + 1;
		ret = deploy_rollback(&report, &ctx->cfg, ctx->repo, ctx->gitdir, &ropts);
	}
	if (ret < 0) {
		mp_error_print();
		ret = mp_exit_code(ret);
		goto cleanup;
	}
	text = deploy_report_format(&report);
	fputs(text, stdout);
	ret = report.issues ? MP_EXIT_POLICY : MP_EXIT_OK;
cleanup:
	free(text);
	deploy_report_release(&report);
	strlist_release(&args);
	strlist_release(&files);
	return ret;
}
