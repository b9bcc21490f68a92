/* git meshpush status: what is installed, what differs, what waits. */
#include "cli/cmd.h"
#include "cli/opt.h"
#include "deploy/deploy.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>

#if defined(__has_include)
#if __has_include("net/outbox.h")
#include "net/outbox.h"
#endif
#endif

int cmd_status(int argc, const char **argv, struct cmd_ctx *ctx)
{
	const struct opt_spec opts[] = { OPT_END() };
	const struct opt_usage usage = { "status", NULL, "show what is installed, pending and queued", opts };
	struct deploy_status *st = NULL;
	size_t nr = 0;
	int ret = 0;

	OPT_PARSE_OR_RETURN(&usage, argc, argv);
	if (deploy_status_get(&st, &nr, &ctx->cfg, ctx->repo) < 0) {
		mp_error_print();
		return MP_EXIT_GIT;
	}
	if (!nr)
		puts("no [install \"name\"] mapping is configured");
	for (size_t i = 0; i < nr; i++) {
		struct deploy_status *s = &st[i];

		printf("install \"%s\": %s -> %s\n", s->mapping, s->from, s->target);
		if (s->never) {
			puts("  nothing installed yet (run 'git meshpush install')");
		} else {
			printf("  %zu file%s installed from commit %.7s (install %s)\n", s->installed,
			       s->installed == 1 ? "" : "s", s->commit ? s->commit : "?", s->install ? s->install : "?");
		}
		if (s->pending && ctx->repo)
			puts("  HEAD has changes not installed yet (run 'git meshpush install')");
		for (size_t j = 0; j < s->nr; j++)
			printf("  %s: %s\n", s->files[j].path, s->files[j].what);
	}
	deploy_status_free(st, nr);
	return ret;
}
