#include "net/announce.h"

#include "error.h"
#include "journal/journal.h"
#include "net/http.h"
#include "util/fs.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define EMOJI_PUSH "\xF0\x9F\x93\xA4"      /* U+1F4E4 outbox tray */
#define EMOJI_RECEIVED "\xE2\x9C\x85"      /* U+2705 check mark button */
#define EMOJI_ROLLBACK "\xE2\x8F\xAA"      /* U+23EA fast reverse button */
#define EMOJI_EMERGENCY "\xF0\x9F\x9A\xA8" /* U+1F6A8 police car light */

static const char *const kind_names[] = { "push", "received", "rollback", "emergency" };

void announcement_init(struct announcement *a)
{
	struct announcement blank = ANNOUNCEMENT_INIT;

	*a = blank;
}

void announcement_release(struct announcement *a)
{
	free(a->id);
	strlist_release(&a->files);
	free(a->from);
	strlist_release(&a->to);
	free(a->method);
	free(a->purpose);
	free(a->location);
	free(a->status);
	free(a->details);
	announcement_init(a);
}

void announce_result_release(struct announce_result *r)
{
	strlist_release(&r->problems);
	strlist_release(&r->delivered_to);
	strlist_release(&r->queued_for);
	memset(r, 0, sizeof(*r));
}

const char *announce_kind_name(enum announce_kind kind)
{
	return (unsigned)kind < ARRAY_SIZE(kind_names) ? kind_names[kind] : "push";
}

int announce_kind_parse(enum announce_kind *out, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(kind_names); i++)
		if (!strcmp(name, kind_names[i])) {
			*out = (enum announce_kind)i;
			return 0;
		}
	return mp_error_set(MP_EUSAGE, "unknown kind '%s': use push, received, rollback or emergency", name);
}

/* Free text: kept as it is, invalid UTF-8 replaced by U+FFFD. */
static void add_text(struct strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s);

	while (left) {
		size_t n = utf8_seq(p, left);

		if (n) {
			strbuf_add(sb, p, n);
		} else {
			strbuf_addstr(sb, "\xEF\xBF\xBD");
			n = 1;
		}
		p += n;
		left -= n;
	}
}

static void add_names(struct strbuf *sb, const struct strlist *l)
{
	for (size_t i = 0; i < l->nr; i++) {
		if (i)
			strbuf_addstr(sb, ", ");
		strbuf_add_quoted_path(sb, l->items[i], 1);
	}
}

static void add_field(struct strbuf *sb, const char *name, const char *value)
{
	strbuf_addch(sb, '\n');
	strbuf_addstr(sb, name);
	strbuf_addstr(sb, ": ");
	add_text(sb, value ? value : "");
}

char *announcement_message(const struct announcement *a)
{
	struct strbuf sb = STRBUF_INIT;

	switch (a->kind) {
	case ANNOUNCE_PUSH:
		strbuf_addstr(&sb, EMOJI_PUSH " CODE PUSH: ");
		add_names(&sb, &a->files);
		add_field(&sb, "From", a->from);
		strbuf_addstr(&sb, "\nTo: ");
		add_names(&sb, &a->to);
		add_field(&sb, "Method", a->method ? a->method : "git");
		add_field(&sb, "Purpose", a->purpose);
		break;
	case ANNOUNCE_RECEIVED:
		strbuf_addstr(&sb, EMOJI_RECEIVED " CODE RECEIVED: ");
		add_names(&sb, &a->files);
		add_field(&sb, "Location", a->location);
		add_field(&sb, "Status", a->status);
		break;
	case ANNOUNCE_ROLLBACK:
	case ANNOUNCE_EMERGENCY:
		strbuf_addstr(&sb, a->kind == ANNOUNCE_ROLLBACK ? EMOJI_ROLLBACK " CODE ROLLBACK: "
								: EMOJI_EMERGENCY " CODE EMERGENCY: ");
		add_names(&sb, &a->files);
		add_field(&sb, "From", a->from);
		if (a->location && *a->location)
			add_field(&sb, "Location", a->location);
		add_field(&sb, "Status", a->status);
		break;
	}
	if (a->details && *a->details) {
		strbuf_addstr(&sb, "\n\n");
		add_text(&sb, a->details);
	}
	return strbuf_detach(&sb);
}

int announcement_check(const struct announcement *a)
{
	const char *what = announce_kind_name(a->kind);

	if (!a->files.nr)
		return mp_error_set(MP_EUSAGE, "a %s announcement names at least one file", what);
	for (size_t i = 0; i < a->files.nr; i++)
		if (!*a->files.items[i])
			return mp_error_set(MP_EUSAGE, "an empty file name cannot be announced");
	switch (a->kind) {
	case ANNOUNCE_PUSH:
		if (!a->purpose || !*a->purpose)
			return mp_error_set(MP_EUSAGE, "a push announcement needs a purpose: say what the code does (--purpose)");
		if (a->method && strcmp(a->method, "git") && strcmp(a->method, "scp") && strcmp(a->method, "webhook"))
			return mp_error_set(MP_EUSAGE, "unknown method '%s': use git, scp or webhook", a->method);
		break;
	case ANNOUNCE_RECEIVED:
		if (!a->location || !*a->location)
			return mp_error_set(MP_EUSAGE, "a received confirmation needs the installed location (--location)");
		if (!a->status || (strcmp(a->status, "working") && strcmp(a->status, "issues")))
			return mp_error_set(MP_EUSAGE, "a received confirmation's status is 'working' or 'issues' (--status)");
		break;
	default:
		if (!a->status || !*a->status)
			return mp_error_set(MP_EUSAGE, "a %s announcement needs a status (--status)", what);
	}
	if (a->id) {
		size_t n = strlen(a->id);
		int bad = !n || n > 200;

		for (const char *p = a->id; !bad && *p; p++)
			bad = *p <= ' ' || *p >= 0x7F;
		if (bad)
			return mp_error_set(MP_EUSAGE, "announcement id '%s' must be 1-200 printable ASCII characters without spaces",
					    a->id);
	}
	return 0;
}

char *announce_new_id(void)
{
	unsigned char rnd[8];
	char stamp[32], hex[17];
	time_t t = time(NULL);
	struct tm tm;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		unsigned long long x = ((unsigned long long)getpid() << 32) ^ (unsigned long long)(now_ms() * 1000);

		memcpy(rnd, &x, sizeof(rnd));
	}
	hex_encode(hex, rnd, sizeof(rnd));
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	return xasprintf("%s-%s", stamp, hex);
}

int announce_recipients(struct strlist *out, const struct config *cfg, const struct announcement *a)
{
	struct strlist agents = STRLIST_INIT;
	const char *self = config_get(cfg, "self", NULL, "agent");
	int ret = 0;

	config_subsections(&agents, cfg, "agent");
	if (!agents.nr) {
		ret = mp_error_set(MP_ECONFIG, "no agent is configured: add [agent \"NAME\"] sections with their webhook to .meshpush.ini");
		goto cleanup;
	}
	if (a->to.nr) {
		for (size_t i = 0; i < a->to.nr; i++) {
			const char *name = a->to.items[i];

			if (!strlist_has(&agents, name)) {
				struct strbuf known = STRBUF_INIT;

				for (size_t j = 0; j < agents.nr; j++)
					strbuf_addf(&known, "%s%s", j ? ", " : "", agents.items[j]);
				ret = mp_error_set(MP_ECONFIG, "unknown agent '%s': the configured agents are %s", name,
						   known.buf);
				strbuf_release(&known);
				goto cleanup;
			}
			if (!strlist_has(out, name))
				strlist_push(out, name);
		}
		goto cleanup;
	}
	for (size_t i = 0; i < agents.nr; i++)
		if (!self || strcmp(self, agents.items[i]))
			strlist_push(out, agents.items[i]);
	if (!out->nr)
		ret = mp_error_set(MP_ECONFIG, "no agent to announce to: the only configured agent is this one ('%s')", self);
cleanup:
	strlist_release(&agents);
	return ret;
}

int announce_complete(struct strlist *recipients, const struct config *cfg, struct announcement *a)
{
	int ret;

	if ((ret = announcement_check(a)) < 0)
		return ret;
	if (!a->from) {
		const char *self = config_get(cfg, "self", NULL, "agent");

		if (self && *self)
			a->from = xstrdup(self);
		else if (a->kind != ANNOUNCE_RECEIVED)
			return mp_error_set(MP_ECONFIG, "who is announcing? set [self] agent = NAME in %s",
					    cfg->user_file ? cfg->user_file : "~/.config/meshpush/config.ini");
	}
	if ((ret = announce_recipients(recipients, cfg, a)) < 0)
		return ret;
	if (!a->to.nr)
		for (size_t i = 0; i < recipients->nr; i++)
			strlist_push(&a->to, recipients->items[i]);
	return 0;
}

static void journal_announce(const char *gitdir, const struct announcement *a)
{
	json_t *f, *files, *to;

	if (!gitdir)
		return;
	f = json_object();
	files = json_array();
	to = json_array();
	for (size_t i = 0; i < a->files.nr; i++)
		json_array_append_new(files, json_string(a->files.items[i]));
	for (size_t i = 0; i < a->to.nr; i++)
		json_array_append_new(to, json_string(a->to.items[i]));
	json_object_set_new(f, "id", json_string(a->id));
	json_object_set_new(f, "kind", json_string(announce_kind_name(a->kind)));
	json_object_set_new(f, "files", files);
	if (a->from)
		json_object_set_new(f, "from", json_string(a->from));
	json_object_set_new(f, "to", to);
	if (a->kind == ANNOUNCE_PUSH) {
		json_object_set_new(f, "method", json_string(a->method ? a->method : "git"));
		json_object_set_new(f, "purpose", json_string(a->purpose));
	}
	if (a->status)
		json_object_set_new(f, "status", json_string(a->status));
	journal_append(gitdir, "announce", f);
	json_decref(f);
}

int announce_send(struct announce_result *out, const struct config *cfg, const char *gitdir,
		  struct announcement *a)
{
	struct strlist recipients = STRLIST_INIT;
	struct net_request *reqs = NULL;
	struct outbox_entry *entries = NULL;
	struct net_params params;
	char *message = NULL, ts[32];
	size_t written = 0;
	int ret;

	net_params_from_config(&params, cfg);
	if ((ret = announce_complete(&recipients, cfg, a)) < 0)
		goto cleanup;
	if (!a->id)
		a->id = announce_new_id();
	message = announcement_message(a);

	params.max_parallel = recipients.nr < 64 ? recipients.nr : 64; /* everyone at once */
	reqs = xcalloc(recipients.nr, sizeof(*reqs));
	entries = xcalloc(recipients.nr, sizeof(*entries));
	for (size_t i = 0; i < recipients.nr; i++) {
		if ((ret = net_request_prepare(&reqs[i], cfg, recipients.items[i], message, a->id)) < 0)
			goto cleanup;
		if (reqs[i].outcome == NET_PENDING && params.signing_problem) {
			reqs[i].outcome = NET_HOLD;
			reqs[i].problem = xasprintf("%s: %s", recipients.items[i], params.signing_problem);
		}
	}

	/* the outbox first: a crash from here on loses nothing */
	journal_timestamp(ts, sizeof(ts));
	for (size_t i = 0; i < recipients.nr; i++) {
		struct outbox_entry *e = &entries[i];

		e->id = xstrdup(a->id);
		e->agent = xstrdup(recipients.items[i]);
		e->kind = xstrdup(announce_kind_name(a->kind));
		e->message = xstrdup(message);
		e->created = xstrdup(ts);
		e->gitdir = gitdir ? xstrdup(gitdir) : NULL;
		e->lease_pid = (long)getpid();
		e->lease_until = time(NULL) + 10 +
				 (params.timeout_ms / 1000 + 1) * (params.retries + 1) +
				 params.retry_after_max_s * params.retries;
		if ((ret = outbox_entry_write(e)) < 0) {
			for (size_t j = 0; j < written; j++)
				unlink(entries[j].path);
			goto cleanup;
		}
		written++;
		reqs[i].data = e;
	}
	journal_announce(gitdir, a);

	if ((ret = net_run(reqs, recipients.nr, &params)) < 0)
		goto cleanup;
	for (size_t i = 0; i < recipients.nr; i++)
		outbox_settle(out, &entries[i], &reqs[i], gitdir, "send");
	if (out->queued || out->failed)
		ret = mp_error_set(MP_ENET, "%zu of %zu agent%s did not get the announcement", out->queued + out->failed,
				   recipients.nr, recipients.nr == 1 ? "" : "s");

cleanup:
	for (size_t i = 0; reqs && i < recipients.nr; i++)
		net_request_release(&reqs[i]);
	for (size_t i = 0; entries && i < recipients.nr; i++)
		outbox_entry_release(&entries[i]);
	free(reqs);
	free(entries);
	free(message);
	strlist_release(&recipients);
	net_params_release(&params);
	return ret;
}

size_t announce_withdraw(const struct config *cfg, const char *gitdir, const struct announcement *a)
{
	(void)cfg;
	return a->id ? outbox_remove(gitdir, a->id, NULL, "withdrawn") : 0;
}
