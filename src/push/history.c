/*
 * The pushes the journal records, with the confirmations that came back.
 */
#include "push/push.h"

#include "error.h"
#include "journal/journal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct walk {
	struct push_entry *e;
	size_t nr, alloc;
};

void push_entry_release(struct push_entry *e)
{
	free(e->id);
	free(e->time);
	free(e->method);
	free(e->outcome);
	free(e->commit);
	strlist_release(&e->files);
	strlist_release(&e->to);
	strlist_release(&e->confirmed);
	memset(e, 0, sizeof(*e));
}

void push_entries_free(struct push_entry *e, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		push_entry_release(&e[i]);
	free(e);
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Has agent `agent` already confirmed `e`? */
static int has_confirmation(const struct push_entry *e, const char *agent)
{
	size_t n = strlen(agent);

	for (size_t i = 0; i < e->confirmed.nr; i++)
		if (!strncmp(e->confirmed.items[i], agent, n) && e->confirmed.items[i][n] == ':')
			return 1;
	return 0;
}

static void add_push(struct walk *w, json_t *ev)
{
	struct push_entry *e;
	json_t *v;
	size_t i;

	w->e = xgrow(w->e, sizeof(*w->e), w->nr + 1, &w->alloc);
	e = &w->e[w->nr++];
	memset(e, 0, sizeof(*e));
	e->id = xstrdup(str(ev, "id"));
	e->time = xstrdup(str(ev, "time"));
	e->method = xstrdup(str(ev, "method"));
	e->outcome = xstrdup(str(ev, "outcome"));
	if (json_is_string(json_object_get(ev, "commit")))
		e->commit = xstrdup(str(ev, "commit"));
	json_array_foreach(json_object_get(ev, "files"), i, v) {
		if (json_is_object(v)) /* git: the path in the repository; else the file name */
			strlist_push(&e->files, *str(v, "path") ? str(v, "path") : str(v, "name"));
		else
			strlist_push(&e->files, json_string_value(v) ? json_string_value(v) : "?");
	}
	json_array_foreach(json_object_get(ev, "to"), i, v)
		if (json_is_string(v))
			strlist_push(&e->to, json_string_value(v));
	json_array_foreach(json_object_get(ev, "confirmations"), i, v) {
		char *c = xasprintf("%s: %s", str(v, "agent"), str(v, "status"));

		if (!strlist_has(&e->confirmed, c))
			strlist_push(&e->confirmed, c);
		free(c);
	}
}

/*
 * A CODE RECEIVED that a receiver recorded: it confirms the latest
 * earlier push to that agent that named the same file.
 */
static void add_confirmation(struct walk *w, json_t *ev)
{
	const char *from = str(ev, "from"), *status = str(ev, "status");
	json_t *files = json_object_get(ev, "files"), *v;
	size_t k;

	for (size_t i = w->nr; i-- > 0;) {
		struct push_entry *e = &w->e[i];
		int match = 0;

		if (!strlist_has(&e->to, from) || has_confirmation(e, from))
			continue;
		json_array_foreach(files, k, v) {
			const char *f = json_string_value(v);

			for (size_t j = 0; f && j < e->files.nr && !match; j++)
				match = !strcmp(base(f), base(e->files.items[j]));
		}
		if (match) {
			strlist_push_nodup(&e->confirmed, xasprintf("%s: %s", from, *status ? status : "working"));
			return;
		}
	}
}

static int walk_cb(json_t *ev, void *payload)
{
	struct walk *w = payload;
	const char *event = str(ev, "event");

	if (!strcmp(event, "push"))
		add_push(w, ev);
	else if (!strcmp(event, "announce") && !strcmp(str(ev, "kind"), "received"))
		add_confirmation(w, ev);
	return 0;
}

int push_list(struct push_entry **out, size_t *nr, const char *gitdir)
{
	struct walk w = { NULL, 0, 0 };
	int ret = journal_foreach(gitdir, walk_cb, &w, NULL);

	for (size_t i = 0; i < w.nr; i++) {
		struct push_entry *e = &w.e[i];

		if (!strcmp(e->method, "git") && !strcmp(e->outcome, "pushed") && e->confirmed.nr) {
			free(e->outcome);
			e->outcome = xasprintf(e->confirmed.nr >= e->to.nr ? "confirmed" : "confirmed by %zu of %zu",
					       e->confirmed.nr, e->to.nr);
		}
	}
	*out = w.e;
	*nr = w.nr;
	return ret;
}
