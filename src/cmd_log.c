/* git meshpush log: the audit journal. */
#include "cli/cmd.h"
#include "cli/opt.h"
#include "error.h"
#include "journal/journal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct log_opts {
	int json;
	int max;
	const char *event;
	json_t **kept;       /* the last `max` entries, when limited: a ring, oldest at `next` once full */
	size_t nr, alloc, next;
};

static void print_entry(json_t *entry, int as_json)
{
	const char *key, *time, *event;
	json_t *v;

	if (as_json) {
		char *s = json_dumps(entry, JSON_COMPACT | JSON_ENSURE_ASCII);

		if (s)
			puts(s);
		free(s);
		return;
	}
	time = json_string_value(json_object_get(entry, "time"));
	event = json_string_value(json_object_get(entry, "event"));
	printf("%s  %-12s", time ? time : "-", event ? event : "-");
	json_object_foreach(entry, key, v) {
		if (!strcmp(key, "time") || !strcmp(key, "event"))
			continue;
		if (json_is_string(v)) {
			/* journaled text may come from others (commit trailers, file names): no raw control bytes */
			struct strbuf sb = STRBUF_INIT;

			strbuf_add_quoted_path(&sb, json_string_value(v), 1);
			printf(" %s=%s", key, strbuf_str(&sb));
			strbuf_release(&sb);
		} else {
			char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

			printf(" %s=%s", key, s ? s : "?");
			free(s);
		}
	}
	putchar('\n');
}

static int collect(json_t *entry, void *payload)
{
	struct log_opts *o = payload;
	const char *ev = json_string_value(json_object_get(entry, "event"));

	if (o->event && (!ev || strcmp(ev, o->event)))
		return 0;
	if (o->max > 0) {
		if (o->nr < (size_t)o->max) {
			o->kept = xgrow(o->kept, sizeof(*o->kept), o->nr + 1, &o->alloc);
			o->kept[o->nr++] = json_incref(entry);
		} else {
			json_decref(o->kept[o->next]);
			o->kept[o->next] = json_incref(entry);
			o->next = (o->next + 1) % o->nr;
		}
		return 0;
	}
	print_entry(entry, o->json);
	return 0;
}

int cmd_log(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct log_opts o = { 0, 0, NULL, NULL, 0, 0, 0 };
	const struct opt_spec opts[] = {
		OPT_BOOL("json", 0, &o.json, "print each event as a JSON line"),
		OPT_INT("max-count", 'n', &o.max, "N", "show only the last N events"),
		OPT_STRING("event", 0, &o.event, "EVENT", "show only events of this kind (install, announce, push, ...)"),
		OPT_END()
	};
	const struct opt_usage usage = { "log", "[-n N] [--json] [--event EVENT]", "show the audit journal", opts };
	size_t bad = 0;
	int ret;

	OPT_PARSE_OR_RETURN(&usage, argc, argv);
	ret = journal_foreach(ctx->gitdir, collect, &o, &bad);
	for (size_t k = 0; k < o.nr; k++) {
		json_t *e = o.kept[(o.next + k) % o.nr];

		print_entry(e, o.json);
		json_decref(e);
	}
	free(o.kept);
	if (ret < 0) {
		mp_error_print();
		return mp_exit_code(ret);
	}
	if (bad)
		warning("skipped %zu damaged line(s) of the journal (a write cut short); the rest is intact", bad);
	return 0;
}
