/* git meshpush status: what is installed, what differs, what waits. */
#include "cli/cmd.h"
#include "cli/opt.h"
#include "deploy/deploy.h"
#include "error.h"
#include "push/push.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/outbox.h"

/* The last pushes made from here, with the confirmations that came back (src/push/). */
static void print_pushes(const char *gitdir)
{
	struct push_entry *e = NULL;
	size_t nr = 0, first;

	if (push_list(&e, &nr, gitdir) < 0 || !nr)
		goto cleanup;
	first = nr > 10 ? nr - 10 : 0;
	printf("pushes (%s%zu, from the journal):\n", first ? "last 10 of " : "", nr);
	for (size_t i = first; i < nr; i++) {
		printf("  %s %s ", e[i].time, e[i].method);
		for (size_t j = 0; j < e[i].files.nr; j++)
			printf("%s%s", j ? "," : "", e[i].files.items[j]);
		printf(" -> ");
		for (size_t j = 0; j < e[i].to.nr; j++)
			printf("%s%s", j ? "," : "", e[i].to.items[j]);
		printf(": %s", e[i].outcome);
		for (size_t j = 0; j < e[i].confirmed.nr; j++)
			printf("%s%s", j ? ", " : " (", e[i].confirmed.items[j]);
		printf("%s\n", e[i].confirmed.nr ? ")" : "");
	}
cleanup:
	push_entries_free(e, nr);
}

/* The confirmations (and other announcements) waiting in the outbox. */
static void print_outbox(void)
{
	struct outbox_entry *entries = NULL;
	struct strlist damaged = STRLIST_INIT;
	size_t n = 0;

	if (!outbox_has_entries()) {
		puts("outbox: empty");
		return;
	}
	if (outbox_list(&entries, &n, &damaged) < 0) {
		mp_error_print();
		return;
	}
	printf("outbox: %zu waiting\n", n);
	for (size_t i = 0; i < n; i++) {
		const struct outbox_entry *e = &entries[i];
		const char *nl = e->message ? strchr(e->message, '\n') : NULL;

		printf("  %-9s to %s: %.*s%s%s%s\n", e->kind ? e->kind : "?", e->agent ? e->agent : "?",
		       nl ? (int)(nl - e->message) : 200, e->message ? e->message : "",
		       e->last_error ? " (" : "", e->last_error ? e->last_error : "", e->last_error ? ")" : "");
	}
	if (damaged.nr)
		printf("  %zu damaged entr%s (git meshpush outbox list)\n", damaged.nr, damaged.nr == 1 ? "y" : "ies");
	outbox_entries_free(entries, n);
	strlist_release(&damaged);
}

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
	print_outbox();
	deploy_status_free(st, nr);
	if (ctx->gitdir)
		print_pushes(ctx->gitdir);
	return ret;
}
