/* git meshpush announce: send (or queue) an announcement by hand. */
#include "cli/cmd.h"
#include "cli/opt.h"
#include "error.h"
#include "net/announce.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tell the user what became of each agent's delivery; the exit code. */
static int report(const struct announce_result *res, const struct announcement *a, int rc)
{
	if (res->delivered_to.nr) {
		printf("announced %s to ", a->id);
		for (size_t i = 0; i < res->delivered_to.nr; i++)
			printf("%s%s", i ? ", " : "", res->delivered_to.items[i]);
		putchar('\n');
	}
	for (size_t i = 0; i < res->problems.nr; i++)
		warning("%s", res->problems.items[i]);
	if (res->queued_for.nr) {
		fprintf(stderr, "queued for ");
		for (size_t i = 0; i < res->queued_for.nr; i++)
			fprintf(stderr, "%s%s", i ? ", " : "", res->queued_for.items[i]);
		fprintf(stderr, " in the outbox: the next git meshpush run or 'git meshpush outbox flush' delivers it\n");
	}
	if (rc < 0 && rc != MP_ENET) {
		mp_error_print();
		return mp_exit_code(rc);
	}
	return rc < 0 ? MP_EXIT_UNREACHABLE : MP_EXIT_OK;
}

int cmd_announce(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct announcement a = ANNOUNCEMENT_INIT;
	struct announce_result res = ANNOUNCE_RESULT_INIT;
	const char *purpose = NULL, *method = NULL, *kind = "push", *location = NULL, *status = NULL;
	const char *details = NULL, *id = NULL;
	int dry_run = 0, ret;
	const struct opt_spec opts[] = {
		OPT_LIST("to", 't', &a.to, "AGENT[,AGENT]", "recipients (default: every agent but this one)"),
		OPT_STRING("purpose", 'p', &purpose, "TEXT", "what the code does (push)"),
		OPT_STRING("method", 'm', &method, "M", "git, scp or webhook (push; default git)"),
		OPT_STRING("kind", 'k', &kind, "KIND", "push, received, rollback or emergency (default push)"),
		OPT_STRING("location", 0, &location, "PATH", "where the file is installed (received, rollback)"),
		OPT_STRING("status", 's', &status, "S", "working or issues (received); free text (rollback, emergency)"),
		OPT_STRING("details", 0, &details, "TEXT", "more lines after the message (verify output, reason)"),
		OPT_STRING("id", 0, &id, "ID", "the announcement id (Idempotency-Key; default: a new one)"),
		OPT_BOOL("dry-run", 'n', &dry_run, "print the message and its recipients, send nothing"),
		OPT_ARGS(&a.files, "FILE...", "the files announced"),
		OPT_END()
	};
	const struct opt_usage usage = {
		"announce", "[FILE...] [--to AGENT[,AGENT]] [--purpose TEXT] [--method M] [--kind KIND] [--location PATH --status S]",
		"send a code-push announcement to the mesh", opts
	};

	OPT_PARSE_OR_RETURN(&usage, argc, argv);
	if (announce_kind_parse(&a.kind, kind) < 0) {
		ret = error_usage("%s", mp_error_last());
		goto cleanup;
	}
	a.purpose = purpose ? xstrdup(purpose) : NULL;
	a.method = method ? xstrdup(method) : NULL;
	a.location = location ? xstrdup(location) : NULL;
	a.details = details ? xstrdup(details) : NULL;
	a.id = id ? xstrdup(id) : NULL;
	if (status)
		a.status = xstrdup(status);
	else if (a.kind == ANNOUNCE_ROLLBACK)
		a.status = xstrdup("rolled back");
	else if (a.kind == ANNOUNCE_EMERGENCY)
		a.status = xstrdup("removed");

	if (dry_run) {
		struct strlist to = STRLIST_INIT;
		char *msg;

		if ((ret = announce_complete(&to, &ctx->cfg, &a)) < 0) {
			mp_error_print();
			ret = mp_exit_code(ret);
			strlist_release(&to);
			goto cleanup;
		}
		msg = announcement_message(&a);
		printf("%s\n", msg);
		free(msg);
		strlist_release(&to);
		ret = 0;
		goto cleanup;
	}
	ret = report(&res, &a, announce_send(&res, &ctx->cfg, ctx->gitdir, &a));
cleanup:
	announce_result_release(&res);
	announcement_release(&a);
	return ret;
}
