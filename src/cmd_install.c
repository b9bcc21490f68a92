/* git meshpush install: install the changed shared files into the workspace. */
#include "cli/cmd.h"
#include "cli/opt.h"
#include "deploy/deploy.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>

int cmd_install(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct deploy_opts dopts = DEPLOY_OPTS_INIT;
	struct deploy_report report = DEPLOY_REPORT_INIT;
	int force = 0, retry = 0, no_confirm = 0, quiet = 0, wait = 10;
	const char *mapping = NULL;
	const struct opt_spec opts[] = {
		OPT_BOOL("force", 'f', &force, "compare every file with the workspace, not only what changed upstream"),
		OPT_BOOL("retry", 0, &retry, "retry files whose verification failed before"),
		OPT_STRING("mapping", 'm', &mapping, "NAME", "only the [install \"NAME\"] mapping"),
		OPT_BOOL("no-confirm", 0, &no_confirm, "do not send the CODE RECEIVED confirmation"),
		OPT_INT("wait", 0, &wait, "SECONDS", "how long to wait for another install to end (default 10)"),
		OPT_BOOL("quiet", 'q', &quiet, "print nothing when nothing changed"),
		OPT_END()
	};
	const struct opt_usage usage = { "install", "[--force] [--retry] [--mapping NAME]",
					 "install changed shared files into the workspace", opts };
	char *text = NULL;
	int ret;

	OPT_PARSE_OR_RETURN(&usage, argc, argv);
	dopts.force = force;
	dopts.retry = retry;
	dopts.mapping = mapping;
	dopts.no_confirm = no_confirm;
	dopts.lock_wait_ms = wait * 1000 + 1;
	ret = deploy_install(&report, &ctx->cfg, ctx->repo, ctx->gitdir, &dopts);
	if (ret < 0) {
		mp_error_print();
		if (report.nr) /* some files may be done: never silently half an install */
			fputs("hint: files installed before this error are in place with their backups "
			      "('git meshpush rollback --list'); run 'git meshpush install' again once it is fixed\n",
			      stderr);
		ret = mp_exit_code(ret);
		goto cleanup;
	}
	text = deploy_report_format(&report);
	if (!quiet || report.nr || report.issues)
		fputs(text, stdout);
	ret = report.issues ? MP_EXIT_POLICY : MP_EXIT_OK;
cleanup:
	free(text);
	deploy_report_release(&report);
	return ret;
}
