/* git meshpush outbox [list|flush|drop]: announcements not yet delivered. */
#include "cli/cmd.h"
#include "cli/opt.h"
#include "error.h"
#include "net/announce.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The first line of a message ("📤 CODE PUSH: a.js"). */
static void print_first_line(const char *msg)
{
	printf("%.*s", (int)strcspn(msg, "\n"), msg);
}

static int list(int json)
{
	struct outbox_entry *v = NULL;
	struct strlist damaged = STRLIST_INIT;
	size_t n = 0;
	time_t now = time(NULL);
	int ret = outbox_list(&v, &n, &damaged);

	if (ret < 0) {
		mp_error_print();
		ret = mp_exit_code(ret);
		goto cleanup;
	}
	for (size_t i = 0; i < damaged.nr; i++)
		warning("'%s' is not a readable outbox entry: move it away", damaged.items[i]);
	for (size_t i = 0; i < n; i++) {
		const struct outbox_entry *e = &v[i];

		if (json) {
			json_t *o = json_object();
			char *line;

			json_object_set_new(o, "id", json_string(e->id));
			json_object_set_new(o, "agent", json_string(e->agent));
			json_object_set_new(o, "kind", json_string(e->kind ? e->kind : "push"));
			json_object_set_new(o, "created", json_string(e->created ? e->created : ""));
			json_object_set_new(o, "attempts", json_integer(e->attempts));
			json_object_set_new(o, "held", json_boolean(e->held));
			json_object_set_new(o, "last_error", e->last_error ? json_string(e->last_error) : json_null());
			json_object_set_new(o, "message", json_string(e->message));
			line = json_dumps(o, JSON_COMPACT);
			printf("%s\n", line);
			free(line);
			json_decref(o);
			continue;
		}
		printf("%s  %s  ", e->id, e->agent);
		print_first_line(e->message);
		putchar('\n');
		printf("    queued %s, %d attempt%s%s", e->created ? e->created : "?", e->attempts,
		       e->attempts == 1 ? "" : "s", e->held ? ", held until 'outbox flush'" : "");
		if (e->not_before > now)
			printf(", gateway asked to wait %lld s", (long long)(e->not_before - now));
		if (e->lease_pid)
			printf(", being sent by process %ld", e->lease_pid);
		putchar('\n');
		if (e->last_error)
			printf("    last error: %s\n", e->last_error);
	}
	if (!n && !json)
		printf("the outbox is empty\n");
cleanup:
	outbox_entries_free(v, n);
	strlist_release(&damaged);
	return ret;
}

static int flush(struct cmd_ctx *ctx, const char *id, const char *agent)
{
	struct announce_result res = ANNOUNCE_RESULT_INIT;
	struct outbox_flush_opts opts = OUTBOX_FLUSH_OPTS_INIT;
	int rc, ret = 0;

	opts.id = id;
	opts.agent = agent;
	rc = outbox_flush_with(&res, &ctx->cfg, ctx->gitdir, &opts);
	if (res.delivered) {
		struct strlist agents = STRLIST_INIT;

		for (size_t i = 0; i < res.delivered_to.nr; i++)
			if (!strlist_has(&agents, res.delivered_to.items[i]))
				strlist_push(&agents, res.delivered_to.items[i]);
		printf("delivered %zu announcement%s to ", res.delivered, res.delivered == 1 ? "" : "s");
		for (size_t i = 0; i < agents.nr; i++)
			printf("%s%s", i ? ", " : "", agents.items[i]);
		putchar('\n');
		strlist_release(&agents);
	} else if (rc == 0) {
		printf("nothing to deliver\n");
	}
	for (size_t i = 0; i < res.problems.nr; i++)
		warning("%s", res.problems.items[i]);
	if (res.queued)
		fprintf(stderr, "%zu announcement%s still queued: 'git meshpush outbox list' shows why\n", res.queued,
			res.queued == 1 ? "" : "s");
	if (res.failed)
		fprintf(stderr, "%zu announcement%s refused for good and dropped (see the journal)\n", res.failed,
			res.failed == 1 ? "" : "s");
	if (rc < 0 && rc != MP_ENET) {
		mp_error_print();
		ret = mp_exit_code(rc);
	} else if (rc < 0) {
		ret = MP_EXIT_UNREACHABLE;
	}
	announce_result_release(&res);
	return ret;
}

int cmd_outbox(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct strlist args = STRLIST_INIT;
	const char *id = NULL, *agent = NULL;
	int json = 0, ret = 0;
	const struct opt_spec opts[] = {
		OPT_BOOL("json", 0, &json, "list: one JSON object per entry"),
		OPT_STRING("id", 0, &id, "ID", "flush: only this announcement"),
		OPT_STRING("agent", 0, &agent, "AGENT", "flush, drop: only this agent's entries"),
		OPT_ARGS(&args, "[list|flush|drop ID]", "list what waits (default), deliver it now, or give up on ID"),
		OPT_END()
	};
	const struct opt_usage usage = { "outbox", "[list [--json] | flush [--id ID] [--agent AGENT] | drop ID [--agent AGENT]]",
					 "list or deliver announcements not yet delivered", opts };
	const char *sub;

	OPT_PARSE_OR_RETURN(&usage, argc, argv);
	sub = args.nr ? args.items[0] : "list";
	if (!strcmp(sub, "list") && args.nr <= 1) {
		ret = list(json);
	} else if (!strcmp(sub, "flush") && args.nr <= 1) {
		ret = flush(ctx, id, agent);
	} else if (!strcmp(sub, "drop") && args.nr == 2) {
		size_t n = outbox_remove(ctx->gitdir, args.items[1], agent, "dropped");

		if (!n)
			ret = error_exit(MP_EXIT_POLICY, "nothing queued under '%s'%s%s: 'git meshpush outbox list' shows the ids",
					 args.items[1], agent ? " for " : "", agent ? agent : "");
		else
			printf("dropped %zu queued deliver%s of %s\n", n, n == 1 ? "y" : "ies", args.items[1]);
	} else {
		ret = error_usage("usage: git meshpush outbox [list | flush | drop ID]");
	}
	strlist_release(&args);
	return ret;
}
