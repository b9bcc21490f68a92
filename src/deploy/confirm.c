/*
 * Telling the mesh: `✅ CODE RECEIVED` after an install (one message per
 * mapping listing its files), the rollback and emergency forms after
 * `rollback`.  Sent through the announcement module (net/announce.h),
 * which queues in the outbox what an offline agent cannot take now.
 * Everything is journaled either way.
 */
#include "deploy/internal.h"

#include "error.h"
#include "journal/journal.h"

#include <stdlib.h>
#include <string.h>

#include "net/announce.h"

/* Send one message; returns a one-line note for the report. */
static char *send_one(const struct config *cfg, const char *gitdir, enum deploy_msg kind, const char *mapping,
		      const struct strlist *files, const char *location, const char *status, const char *details,
		      const struct strlist *to, const char *id)
{
	struct announcement a;
	struct announce_result res = ANNOUNCE_RESULT_INIT;
	const char *self = config_get(cfg, "self", NULL, "agent");
	char *note;
	int ret;

	announcement_init(&a);
	a.kind = kind == DEPLOY_MSG_RECEIVED ? ANNOUNCE_RECEIVED
		 : kind == DEPLOY_MSG_ROLLBACK ? ANNOUNCE_ROLLBACK : ANNOUNCE_EMERGENCY;
	a.id = xasprintf("%s-%s", id, mapping);
	for (char *p = a.id; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:", *p))
			*p = '_';
	if (strlen(a.id) > 128)
		a.id[128] = '\0';
	for (size_t i = 0; i < files->nr; i++)
		strlist_push(&a.files, files->items[i]);
	for (size_t i = 0; to && i < to->nr; i++)
		if (!self || strcmp(self, to->items[i]))
			strlist_push(&a.to, to->items[i]);
	a.location = xstrdup(location);
	a.status = xstrdup(status);
	a.details = details && *details ? xstrdup(details) : NULL;
	ret = announce_send(&res, cfg, gitdir, &a);
	if (ret == 0)
		note = xasprintf("%s: confirmation sent to %zu agent(s)", mapping, res.delivered);
	else if (ret == MP_ENET)
		note = xasprintf("%s: confirmation sent to %zu agent(s), queued for %zu (git meshpush outbox)", mapping,
				 res.delivered, res.queued);
	else
		note = xasprintf("%s: confirmation not sent: %s", mapping, mp_error_last());
	mp_error_clear();
	announce_result_release(&res);
	announcement_release(&a);
	return note;
}

void deploy_confirm(struct deploy_report *r, const struct config *cfg, git_repository *repo,
		    const char *gitdir, enum deploy_msg kind, const struct strlist *to)
{
	struct strlist done = STRLIST_INIT;

	(void)repo;
	for (size_t i = 0; i < r->nr; i++) {
		const char *mapping = r->files[i].mapping;
		struct strlist files = STRLIST_INIT;
		struct strbuf details = STRBUF_INIT;
		const char *location = NULL, *last_rel = NULL;
		char *loc = NULL;
		int issues = 0;

		if (strlist_has(&done, mapping))
			continue;
		strlist_push(&done, mapping);
		for (size_t j = i; j < r->nr; j++) {
			struct deploy_file *f = &r->files[j];

			if (strcmp(f->mapping, mapping))
				continue;
			if (kind == DEPLOY_MSG_RECEIVED && f->change == DEPLOY_RECORDED && f->verified != 0)
				continue;
			if (f->change == DEPLOY_REMOVED) {
				strbuf_addf(&details, "removed upstream, moved to backups: %s\n", f->path);
				if (kind == DEPLOY_MSG_RECEIVED)
					continue;
			}
			if (f->change == DEPLOY_FAILED || f->change == DEPLOY_SKIPPED) {
				issues = 1;
				strbuf_addf(&details, "%s: %s\n", f->path,
					    f->change == DEPLOY_FAILED ? "verification failed, previous version kept" : f->note);
				if (f->output)
					strbuf_addf(&details, "%.2000s\n", f->output);
			}
			strlist_push(&files, f->path);
			location = f->target;
			last_rel = f->path;
		}
		if (!files.nr)
			goto next;
		if (files.nr != 1 && location && strlen(location) > strlen(last_rel) + 1) {
			/* several files: the folder they are in */
			loc = xstrndup(location, strlen(location) - strlen(last_rel) - 1);
			location = loc;
		}
		{
			char *note = send_one(cfg, gitdir, kind, mapping, &files, location ? location : "",
					      kind == DEPLOY_MSG_RECEIVED ? (issues ? "issues" : "working")
					      : kind == DEPLOY_MSG_ROLLBACK ? "rolled back" : "removed",
					      details.len ? details.buf : NULL, to, r->id ? r->id : "install");

			strlist_push_nodup(&r->notes, note);
		}
	next:
		free(loc);
		strbuf_release(&details);
		strlist_release(&files);
	}
	strlist_release(&done);
}

void deploy_journal(const struct deploy_report *r, const char *gitdir, const char *event, const char *trigger)
{
	size_t counts[7] = { 0 };

	for (size_t i = 0; i < r->nr; i++) {
		const struct deploy_file *f = &r->files[i];
		json_t *ev = json_pack("{s:s, s:s, s:s, s:s}", "id", r->id ? r->id : "", "mapping", f->mapping, "path",
				       f->path, "change", deploy_change_name(f->change));

		counts[f->change]++;
		if (f->target)
			json_object_set_new(ev, "target", json_string(f->target));
		if (f->local_change)
			json_object_set_new(ev, "local_change", json_true());
		if (f->verified >= 0)
			json_object_set_new(ev, "verified", json_boolean(f->verified));
		if (f->backup)
			json_object_set_new(ev, "backup", json_string(f->backup));
		if (f->note)
			json_object_set_new(ev, "note", json_string(f->note));
		if (f->output)
			json_object_set_new(ev, "output", json_stringn(f->output, strlen(f->output) > 2000 ? 2000 : strlen(f->output)));
		journal_append(gitdir, "install-file", ev);
		json_decref(ev);
	}
	{
		json_t *ev = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "id", r->id ? r->id : "",
				       "commit", r->commit ? r->commit : "", "trigger", trigger ? trigger : "manual",
				       "added", (json_int_t)counts[DEPLOY_ADDED], "updated", (json_int_t)counts[DEPLOY_UPDATED],
				       "removed", (json_int_t)counts[DEPLOY_REMOVED], "recorded", (json_int_t)counts[DEPLOY_RECORDED],
				       "failed", (json_int_t)counts[DEPLOY_FAILED], "skipped", (json_int_t)counts[DEPLOY_SKIPPED],
				       "restored", (json_int_t)counts[DEPLOY_RESTORED]);

		if (r->lock_taken_over)
			json_object_set_new(ev, "lock_taken_over", json_true());
		journal_append(gitdir, event, ev);
		json_decref(ev);
	}
	mp_error_clear();
}
