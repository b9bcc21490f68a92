#include "push/push.h"

#include "error.h"
#include "journal/journal.h"
#include "net/announce.h"
#include "net/webhook.h"
#include "push/internal.h"
#include "scan/scan.h"
#include "transfer/ssh.h"
#include "util/fs.h"
#include "util/proc.h"

#include <errno.h>
#include <fnmatch.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *push_method_name(enum push_method m)
{
	switch (m) {
	case PUSH_SCP:
		return "scp";
	case PUSH_WEBHOOK:
		return "webhook";
	default:
		return "git";
	}
}

int push_method_parse(enum push_method *out, const char *name)
{
	if (!strcmp(name, "git"))
		*out = PUSH_GIT;
	else if (!strcmp(name, "scp") || !strcmp(name, "sftp"))
		*out = PUSH_SCP;
	else if (!strcmp(name, "webhook"))
		*out = PUSH_WEBHOOK;
	else
		return mp_error_set(MP_EUSAGE, "unknown method '%s': use git, scp or webhook", name);
	return 0;
}

const char *push_stage_name(enum push_stage s)
{
	static const char *const names[] = { "PREPARE", "ANNOUNCE", "PUSH", "VERIFY", "CONFIRM" };

	return names[s];
}

void push_result_release(struct push_result *r)
{
	free(r->id);
	free(r->commit);
	free(r->hint);
	memset(r, 0, sizeof(*r));
}

static void item_release(struct push_item *it)
{
	free(it->local);
	free(it->name);
	free(it->repo_path);
	free(it->mapping);
	free(it->data);
	free(it->message);
}

/* Stages --------------------------------------------------------------- */

void push_stage_begin(struct push_run *r, enum push_stage s)
{
	r->stage = s;
	r->stage_start = now_ms();
	r->stage_ms = -1;
	strbuf_reset(&r->summary);
}

void push_summary(struct push_run *r, const char *fmt, ...)
{
	va_list ap;

	if (r->summary.len)
		strbuf_addstr(&r->summary, "; ");
	va_start(ap, fmt);
	strbuf_vaddf(&r->summary, fmt, ap);
	va_end(ap);
}

void push_note(struct push_run *r, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	strlist_push_nodup(&r->notes, strbuf_detach(&sb));
}

/* Show the notes gathered so far (under the line of the stage they belong to). */
static void flush_notes(struct push_run *r)
{
	for (size_t i = 0; i < r->notes.nr; i++)
		if (r->req->on_note)
			r->req->on_note(r->stage, r->notes.items[i], r->req->payload);
	strlist_release(&r->notes);
}

void push_hint(struct push_run *r, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	free(r->out->hint);
	r->out->hint = strbuf_detach(&sb);
}

int push_stage_finish(struct push_run *r, int ret)
{
	double ms = r->stage_ms >= 0 ? r->stage_ms : now_ms() - r->stage_start;

	if (ret < 0) {
		r->out->failed_at = r->stage;
		if (!r->summary.len)
			strbuf_addstr(&r->summary, "stopped");
	}
	if (r->req->on_stage)
		r->req->on_stage(r->stage, ret >= 0, ms, r->summary.buf ? r->summary.buf : "", r->req->payload);
	flush_notes(r);
	if (!r->req->dry_run && r->env->gitdir) {
		json_t *f = json_object();
		char *err = ret < 0 ? xstrdup(mp_error_last()) : NULL;

		json_object_set_new(f, "id", json_string(r->out->id));
		json_object_set_new(f, "stage", json_string(push_stage_name(r->stage)));
		json_object_set_new(f, "ok", json_boolean(ret >= 0));
		json_object_set_new(f, "ms", json_integer((json_int_t)ms));
		json_object_set_new(f, "summary", json_string(strbuf_str(&r->summary)));
		if (err)
			json_object_set_new(f, "error", json_string(err));
		journal_append(r->env->gitdir, "push-stage", f);
		json_decref(f);
		if (err)
			mp_error_set(ret, "%s", err); /* journal_append must not replace the stage's error */
		free(err);
	}
	return ret;
}

/* PREPARE -------------------------------------------------------------- */

/* The [install] mapping whose `from` holds `repo_path`, or NULL. */
static char *mapping_for(const struct config *cfg, const char *repo_path)
{
	struct strlist names = STRLIST_INIT;
	char *found = NULL;

	config_subsections(&names, cfg, "install");
	for (size_t i = 0; i < names.nr && !found; i++) {
		const char *from = config_get(cfg, "install", names.items[i], "from");
		size_t n = from ? strlen(from) : 0;

		while (n && from[n - 1] == '/')
			n--;
		if (n && !strncmp(repo_path, from, n) && repo_path[n] == '/')
			found = xstrdup(names.items[i]);
	}
	strlist_release(&names);
	return found;
}

/* The folder files from outside the repository are copied into, and its mapping (may be NULL). */
static char *default_folder(char **mapping, const struct config *cfg)
{
	struct strlist names = STRLIST_INIT;
	char *folder;

	config_subsections(&names, cfg, "install");
	if (names.nr) {
		const char *from = config_get(cfg, "install", names.items[0], "from");
		size_t n = strlen(from);

		while (n > 1 && from[n - 1] == '/')
			n--;
		folder = xstrndup(from, n);
		*mapping = xstrdup(names.items[0]);
	} else {
		folder = xstrdup("shared/voltagent");
		*mapping = NULL;
	}
	strlist_release(&names);
	return folder;
}

static int is_executable(const struct config *cfg, const struct push_item *it, mode_t local_mode)
{
	struct strlist globs = STRLIST_INIT;
	int ret = 0;

	if (it->mapping)
		config_get_list(&globs, cfg, "install", it->mapping, "executable");
	if (globs.nr) {
		for (size_t i = 0; i < globs.nr && !ret; i++)
			ret = fnmatch(globs.items[i], it->name, 0) == 0 ||
			      (it->repo_path && fnmatch(globs.items[i], it->repo_path, FNM_PATHNAME) == 0);
	} else {
		ret = (local_mode & 0111) || (it->len >= 2 && it->data[0] == '#' && it->data[1] == '!');
	}
	strlist_release(&globs);
	return ret;
}

static int check_agents(struct push_run *r)
{
	const struct config *cfg = r->env->cfg;
	struct strlist known = STRLIST_INIT;
	int ret = 0;

	r->self = config_get(cfg, "self", NULL, "agent");
	if (!r->self || !*r->self) {
		ret = mp_error_set(MP_ECONFIG, "this machine's agent name is not set: add '[self] agent = NAME' to %s",
				   "~/.config/meshpush/config.ini");
		goto cleanup;
	}
	config_subsections(&known, cfg, "agent");
	if (!r->req->to || !r->req->to->nr) {
		ret = mp_error_set(MP_EUSAGE, "no recipient: say --to AGENT[,AGENT]");
		goto cleanup;
	}
	for (size_t i = 0; i < r->req->to->nr; i++) {
		const char *a = r->req->to->items[i];

		if (strlist_has(&r->agents, a))
			continue; /* named twice */
		if (!strcmp(a, r->self)) {
			ret = mp_error_set(MP_EUSAGE, "'%s' is this machine ([self] agent): push to other agents", a);
			goto cleanup;
		}
		if (!strlist_has(&known, a)) {
			struct strbuf list = STRBUF_INIT;

			for (size_t j = 0; j < known.nr; j++)
				strbuf_addf(&list, "%s%s", j ? ", " : "", known.items[j]);
			ret = mp_error_set(MP_ECONFIG, "unknown agent '%s' (known: %s): add [agent \"%s\"] to .meshpush.ini",
					   a, known.nr ? list.buf : "none", a);
			strbuf_release(&list);
			goto cleanup;
		}
		if (r->req->method == PUSH_SCP) {
			const char *ssh = config_get(cfg, "agent", a, "ssh"), *dest = config_get(cfg, "agent", a, "dest");

			if (!ssh || !*ssh || !dest || !*dest) {
				ret = mp_error_set(MP_ECONFIG,
						   "agent '%s' has no %s for scp: set 'ssh = user@host' and 'dest = /path/' in [agent \"%s\"]",
						   a, !ssh || !*ssh ? "'ssh'" : "'dest'", a);
				goto cleanup;
			}
		}
		if (r->req->method == PUSH_WEBHOOK) {
			char *tok = NULL;
			const char *src = NULL;
			int t = config_token(&tok, &src, cfg, a);

			if (tok)
				explicit_bzero(tok, strlen(tok)); /* only its presence was wanted */
			free(tok);
			if (t == MP_ENOTFOUND) {
				ret = mp_error_set(MP_ECONFIG,
						   "no token for agent '%s': add '[token] %s = env:NAME' (or file:PATH) to ~/.config/meshpush/config.ini",
						   a, a);
				goto cleanup;
			}
			if (t < 0) {
				ret = t;
				goto cleanup;
			}
		}
		strlist_push(&r->agents, a);
	}
cleanup:
	strlist_release(&known);
	return ret;
}

static int load_files(struct push_run *r)
{
	const struct config *cfg = r->env->cfg;
	char *wd = NULL;
	int ret = 0;

	if (!r->req->files || !r->req->files->nr)
		return mp_error_set(MP_EUSAGE, "no file to push: name one or more files");
	if (r->env->workdir)
		wd = realpath(r->env->workdir, NULL);
	r->items = xcalloc(r->req->files->nr, sizeof(*r->items));
	for (size_t i = 0; i < r->req->files->nr; i++) {
		const char *given = r->req->files->items[i];
		struct push_item *it = &r->items[r->nr++];
		struct stat st;
		const char *slash;
		size_t wl = wd ? strlen(wd) : 0;

		if (stat(given, &st) < 0) {
			ret = mp_error_set(MP_EUSAGE, "cannot push '%s': %s", given, strerror(errno));
			goto cleanup;
		}
		if (!S_ISREG(st.st_mode)) {
			ret = mp_error_set(MP_EUSAGE, "cannot push '%s': not a regular file", given);
			goto cleanup;
		}
		it->local = realpath(given, NULL);
		if (!it->local) {
			ret = mp_error_set(MP_EOS, "cannot resolve '%s': %s", given, strerror(errno));
			goto cleanup;
		}
		slash = strrchr(it->local, '/');
		it->name = xstrdup(slash ? slash + 1 : it->local);
		for (size_t j = 0; j + 1 < r->nr; j++)
			if (!strcmp(r->items[j].name, it->name)) {
				ret = mp_error_set(MP_EUSAGE, "two files named '%s': push them one at a time", it->name);
				goto cleanup;
			}
		if ((ret = fs_read_file(&it->data, &it->len, it->local)) < 0)
			goto cleanup;
		ssh_sha256_hex(it->sha256, it->data, it->len);
		/* where it lives, or will live, in the repository */
		if (wd && !strncmp(it->local, wd, wl) && it->local[wl] == '/') {
			it->repo_path = xstrdup(it->local + wl + 1);
			if (starts_with(it->repo_path, ".git/")) {
				ret = mp_error_set(MP_EUSAGE, "cannot push '%s': it is inside .git", given);
				goto cleanup;
			}
			it->in_repo = 1;
			it->mapping = mapping_for(cfg, it->repo_path);
		} else {
			char *folder = default_folder(&it->mapping, cfg);

			if (r->req->method == PUSH_GIT)
				it->repo_path = xasprintf("%s/%s", folder, it->name);
			free(folder);
		}
		/* scripts 755 (the protocol's chmod +x); other files keep their local read/write bits */
		it->mode = is_executable(cfg, it, st.st_mode) ? 0755 : ((st.st_mode & 0666) | 0600);
	}
cleanup:
	free(wd);
	return ret;
}

static int run_scan(struct push_run *r)
{
	struct scan_engine *e = NULL;
	struct scan_report rep = SCAN_REPORT_INIT;
	size_t commits = 0;
	int ret;

	if ((ret = scan_engine_new(&e, r->env->cfg)) < 0)
		goto cleanup;
	for (size_t i = 0; i < r->nr; i++) {
		const struct push_item *it = &r->items[i];

		if ((ret = scan_buffer(e, &rep, it->repo_path ? it->repo_path : it->local, it->data, it->len)) < 0)
			goto cleanup;
	}
	if (r->req->method == PUSH_GIT && (ret = push_git_scan_outgoing(r, e, &rep, &commits)) < 0)
		goto cleanup;
	if (rep.nr) {
		if (r->req->report)
			scan_report_write(&rep, SCAN_FORMAT_TEXT, 1, r->req->color, r->req->report);
		push_summary(r, "secret scan: %zu finding%s", rep.nr, rep.nr == 1 ? "" : "s");
		ret = mp_error_set(MP_EPOLICY, "secrets found in what would be pushed: nothing was announced or sent");
		push_hint(r, "remove the secret (read it from the environment or a file instead); for a false positive "
			     "add an inline 'meshpush:allow' comment or its fingerprint to .meshpushignore");
		goto cleanup;
	}
	if (rep.skipped.nr) {
		for (size_t i = 0; i < rep.skipped.nr; i++)
			push_note(r, "not scanned: %s", rep.skipped.items[i]);
		push_summary(r, "secret scan: %zu file%s could not be scanned", rep.skipped.nr,
			     rep.skipped.nr == 1 ? "" : "s");
		ret = mp_error_set(MP_EPOLICY, "a file to push could not be scanned for secrets: nothing was announced or sent");
		push_hint(r, "binary and oversized files cannot be proven clean; raise [scan] max_size for a large text file");
		goto cleanup;
	}
	if (r->req->method == PUSH_GIT)
		push_summary(r, "scan clean (%zu file%s, %zu outgoing commit%s)", r->nr, r->nr == 1 ? "" : "s",
			     commits, commits == 1 ? "" : "s");
	else
		push_summary(r, "scan clean (%zu file%s)", r->nr, r->nr == 1 ? "" : "s");
cleanup:
	scan_report_release(&rep);
	scan_engine_free(e);
	return ret;
}

/* The last lines of a command's output, as notes. */
static void note_output(struct push_run *r, const struct strbuf *out)
{
	const char *s = strbuf_str(out), *start = s + out->len;
	int lines = 0;

	while (start > s && lines < 12) {
		start--;
		if (*start == '\n' && start + 1 < s + out->len)
			lines++;
	}
	if (start > s)
		start++;
	for (const char *p = start; *p;) {
		size_t n = strcspn(p, "\n");

		push_note(r, "| %.*s", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

static int run_command(struct push_run *r, const char *what, const char *tmpl, const char *arg, long timeout_s,
		       const char *cwd)
{
	struct proc_result res = PROC_RESULT_INIT;
	int ret;

	if (!arg && !tmpl[strspn(tmpl, " \t")]) {
		ret = mp_error_set(MP_ECONFIG, "the %s command is empty", what);
		goto cleanup;
	}
	if ((ret = proc_run_template(&res, tmpl, arg, cwd, timeout_s)) < 0)
		goto cleanup;
	if (res.timed_out || res.status != 0) {
		note_output(r, &res.out);
		if (res.timed_out)
			ret = mp_error_set(MP_EPOLICY, "the %s '%s' did not finish within %ld s: nothing was announced or sent",
					   what, tmpl, timeout_s);
		else
			ret = mp_error_set(MP_EPOLICY, "the %s '%s' failed (exit %d): nothing was announced or sent", what,
					   tmpl, res.status);
	}
cleanup:
	proc_result_release(&res);
	return ret;
}

static int run_checks(struct push_run *r)
{
	const struct config *cfg = r->env->cfg;
	const char *test = config_get(cfg, "mesh", NULL, "test");
	size_t checked = 0;
	int ret;

	if (test && *test) {
		ret = run_command(r, "test command", test, NULL, config_get_int(cfg, "mesh", NULL, "test_timeout"),
				  r->env->workdir);
		if (ret < 0) {
			push_summary(r, "test failed");
			push_hint(r, "fix what the test reports (or [mesh] test if the command itself is wrong), then push again");
			return ret;
		}
		push_summary(r, "test passed (%s)", test);
	} else {
		push_summary(r, "no test command ([mesh] test)");
	}
	for (size_t i = 0; i < r->nr; i++) {
		const struct push_item *it = &r->items[i];
		const char *verify = it->mapping ? config_get(cfg, "install", it->mapping, "verify") : NULL;
		char *dir;

		if (!verify || !*verify)
			continue;
		dir = xstrndup(it->local, (size_t)(strrchr(it->local, '/') - it->local));
		ret = run_command(r, "check of the script", verify, it->local,
				  config_get_int(cfg, "install", it->mapping, "verify_timeout"), dir[0] ? dir : "/");
		free(dir);
		if (ret < 0) {
			push_summary(r, "check of '%s' failed", it->name);
			push_hint(r, "the receivers run the same check ([install \"%s\"] verify) after installing: fix '%s' first",
				  it->mapping, it->name);
			return ret;
		}
		checked++;
	}
	if (checked)
		push_summary(r, "check passed (%zu file%s)", checked, checked == 1 ? "" : "s");
	return 0;
}

/* The DEPLOY message of one file (docs/push.md). */
static char *deploy_message(const struct push_run *r, const struct push_item *it)
{
	return xasprintf("DEPLOY: %s\nFrom: %s\nPurpose: %s\nSize: %zu bytes\nSHA-256: %s\nPush: %s\n\n%.*s", it->name,
			 r->self, r->req->purpose, it->len, it->sha256, r->out->id, (int)it->len, it->data);
}

/* The JSON body the gateway will receive, as net/ builds it: only its size matters here. */
static size_t webhook_body_size(const struct config *cfg, const char *agent, const char *message)
{
	const char *channel = config_get(cfg, "agent", agent, "channel");
	const char *to = config_get(cfg, "agent", agent, "to");
	const char *agent_id = config_get(cfg, "agent", agent, "agent_id");
	json_t *body = json_object();
	char *text;
	size_t n;

	json_object_set_new(body, "message", json_string(message));
	json_object_set_new(body, "name", json_string("meshpush"));
	json_object_set_new(body, "deliver", json_true());
	if (channel && *channel && to && *to) {
		json_object_set_new(body, "channel", json_string(channel));
		json_object_set_new(body, "to", json_string(to));
	}
	if (agent_id && *agent_id)
		json_object_set_new(body, "agentId", json_string(agent_id));
	text = json_dumps(body, JSON_COMPACT);
	n = text ? strlen(text) : (size_t)-1;
	free(text);
	json_decref(body);
	return n;
}

static int check_webhook_payloads(struct push_run *r)
{
	for (size_t i = 0; i < r->nr; i++) {
		struct push_item *it = &r->items[i];
		json_t *probe;

		if (memchr(it->data, '\0', it->len) || !(probe = json_stringn(it->data, it->len))) {
			push_summary(r, "'%s' is not text", it->name);
			push_hint(r, "send binary files with --method scp (or git)");
			return mp_error_set(MP_EPOLICY, "'%s' is not UTF-8 text: a DEPLOY message carries text only", it->name);
		}
		json_decref(probe);
		it->message = deploy_message(r, it);
		for (size_t j = 0; j < r->agents.nr; j++) {
			size_t n = webhook_body_size(r->env->cfg, r->agents.items[j], it->message);

			if (n > WEBHOOK_MAX_BODY) {
				push_summary(r, "'%s' too large for a webhook (%zu bytes of JSON)", it->name, n);
				push_hint(r, "the gateway takes at most 256 KiB: push '%s' with --method git or scp", it->name);
				return mp_error_set(MP_EPOLICY,
						    "the DEPLOY message of '%s' is %zu bytes as JSON, over the gateway's limit of 256 KiB (%d bytes): nothing was announced or sent",
						    it->name, n, WEBHOOK_MAX_BODY);
			}
			if (n > r->max_body)
				r->max_body = n;
		}
	}
	push_summary(r, "DEPLOY payload %zu bytes (limit %d)", r->max_body, WEBHOOK_MAX_BODY);
	return 0;
}

static void ssh_opts_from_config(struct ssh_opts *o, const struct config *cfg, const char *agent)
{
	const char *proto = config_get(cfg, "agent", agent, "ssh_protocol");

	o->known_hosts = config_get(cfg, "ssh", NULL, "known_hosts");
	o->identity = config_get(cfg, "ssh", NULL, "identity");
	o->connect_timeout = config_get_int(cfg, "mesh", NULL, "connect_timeout");
	o->limit_rate = config_get_int(cfg, "ssh", NULL, "limit_rate");
	o->proto = proto && !strcmp(proto, "sftp") ? SSH_PROTO_SFTP
		   : proto && !strcmp(proto, "scp") ? SSH_PROTO_SCP
						    : SSH_PROTO_AUTO;
}

/* Connect to each agent (host key, key authentication, remote folder) before anything is announced. */
static int check_ssh_agents(struct push_run *r)
{
	const struct config *cfg = r->env->cfg;
	int ret = 0;

	r->ssh = xcalloc(r->agents.nr, sizeof(*r->ssh));
	for (size_t a = 0; a < r->agents.nr && ret == 0; a++) {
		const char *agent = r->agents.items[a];
		struct push_ssh *x = &r->ssh[a];

		ssh_opts_from_config(&x->opts, cfg, agent);
		ret = ssh_target_parse(&x->target, config_get(cfg, "agent", agent, "ssh"),
				       config_get_int(cfg, "agent", agent, "ssh_port"), config_get(cfg, "agent", agent, "dest"));
		if (ret == 0)
			ret = ssh_connect(&x->conn, &x->opts, &x->target);
		if (ret == 0)
			push_summary(r, "ssh to %s ok (%s, known host key)", agent, ssh_conn_proto(x->conn));
		else
			push_summary(r, "ssh to %s refused", agent);
	}
	return ret;
}

static int stage_prepare(struct push_run *r)
{
	int ret;

	push_stage_begin(r, PUSH_PREPARE);
	if (!r->req->purpose || !*r->req->purpose) {
		ret = mp_error_set(MP_EUSAGE, "no purpose: say what the push does with --purpose TEXT");
		goto done;
	}
	if ((ret = check_agents(r)) < 0 || (ret = load_files(r)) < 0)
		goto done;
	push_summary(r, "%zu file%s", r->nr, r->nr == 1 ? "" : "s");
	if (r->req->method == PUSH_GIT && (ret = push_git_prepare(r)) < 0)
		goto done;
	if ((ret = run_scan(r)) < 0 || (ret = run_checks(r)) < 0)
		goto done;
	if (r->req->method == PUSH_WEBHOOK && (ret = check_webhook_payloads(r)) < 0)
		goto done;
	if (r->req->method == PUSH_SCP && (ret = check_ssh_agents(r)) < 0)
		goto done;
	if (r->req->method == PUSH_GIT && !r->req->dry_run)
		ret = push_git_commit(r);
done:
	return push_stage_finish(r, ret);
}

/* ANNOUNCE ------------------------------------------------------------- */

static void fill_announcement(struct push_run *r, struct announcement *a)
{
	announcement_init(a);
	a->kind = ANNOUNCE_PUSH;
	a->id = xstrdup(r->out->id);
	a->from = xstrdup(r->self);
	a->method = xstrdup(push_method_name(r->req->method));
	a->purpose = xstrdup(r->req->purpose);
	for (size_t i = 0; i < r->nr; i++)
		strlist_push(&a->files, r->items[i].repo_path ? r->items[i].repo_path : r->items[i].name);
	for (size_t i = 0; i < r->agents.nr; i++)
		strlist_push(&a->to, r->agents.items[i]);
	if (r->out->commit)
		a->details = xasprintf("Commit: %s", r->out->commit);
}

static void list_join(struct strbuf *sb, const struct strlist *l)
{
	for (size_t i = 0; i < l->nr; i++)
		strbuf_addf(sb, "%s%s", i ? ", " : "", l->items[i]);
}

static int stage_announce(struct push_run *r)
{
	struct announce_result res = ANNOUNCE_RESULT_INIT;
	const char *policy = config_get(r->env->cfg, "mesh", NULL, "announce_failure");
	int ret;

	push_stage_begin(r, PUSH_ANNOUNCE);
	ret = announce_send(&res, r->env->cfg, r->env->gitdir, &r->ann);
	if (ret < 0 && ret != MP_ENET)
		goto done;
	for (size_t i = 0; i < res.problems.nr; i++)
		push_note(r, "%s", res.problems.items[i]);
	if (ret == MP_ENET && !res.delivered && policy && !strcmp(policy, "block")) {
		announce_withdraw(r->env->cfg, r->env->gitdir, &r->ann);
		push_summary(r, "no agent could be told");
		ret = mp_error_set(MP_ENET, "the announcement reached no agent and [mesh] announce_failure = block: "
					    "nothing was pushed");
		if (r->out->commit)
			push_hint(r, "the commit %.12s stays local; when the agents are reachable, run 'git push' "
				     "(the pre-push hook announces it)", r->out->commit);
		else
			push_hint(r, "run the push again when the agents' gateways answer ('git meshpush agents' shows them)");
		goto done;
	}
	if (ret == MP_ENET && r->req->method == PUSH_WEBHOOK && res.queued_for.nr) {
		/* the DEPLOY goes to the same gateway: it would not arrive either */
		struct strbuf sb = STRBUF_INIT;

		announce_withdraw(r->env->cfg, r->env->gitdir, &r->ann);
		list_join(&sb, &res.queued_for);
		push_summary(r, "%s did not take the announcement", sb.buf);
		ret = mp_error_set(MP_ENET, "the gateway of %s did not take the announcement, and the DEPLOY message "
					    "would go to the same gateway: nothing was sent", sb.buf);
		push_hint(r, "check the gateway with 'git meshpush agents', then push again");
		strbuf_release(&sb);
		goto done;
	}
	r->out->announced = 1;
	if (res.delivered_to.nr) {
		struct strbuf sb = STRBUF_INIT;

		list_join(&sb, &res.delivered_to);
		push_summary(r, "CODE PUSH delivered to %s", sb.buf);
		strbuf_release(&sb);
	}
	if (res.queued_for.nr) {
		struct strbuf sb = STRBUF_INIT;

		list_join(&sb, &res.queued_for);
		push_summary(r, "queued for %s (git meshpush outbox flush)", sb.buf);
		strbuf_release(&sb);
		r->out->queued = 1;
	}
	if (res.failed)
		push_summary(r, "%zu not delivered", res.failed);
	ret = 0;
done:
	announce_result_release(&res);
	return push_stage_finish(r, ret);
}

/* PUSH + VERIFY: scp ------------------------------------------------------ */

static int stage_push_scp(struct push_run *r)
{
	size_t sent = 0, backups = 0;
	double verify_ms = 0;
	int ret = 0;

	push_stage_begin(r, PUSH_PUSH);
	r->puts = xcalloc(r->agents.nr * r->nr, sizeof(*r->puts));
	for (size_t a = 0; a < r->agents.nr && ret == 0; a++) {
		const char *agent = r->agents.items[a];
		const struct ssh_target *t = &r->ssh[a].target;

		for (size_t i = 0; i < r->nr && ret == 0; i++) {
			struct push_item *it = &r->items[i];
			struct push_put *p = &r->puts[r->nputs++];

			p->agent = agent;
			p->item = it;
			ret = ssh_conn_put(&p->res, r->ssh[a].conn, it->name, it->data, it->len, it->mode);
			p->where = xasprintf("%s@%s:%s", t->user, t->host, p->res.remote_path ? p->res.remote_path : "?");
			if (ret < 0) {
				if (p->res.verify_failed)
					r->verify_failed = 1;
				break;
			}
			sent++;
			backups += p->res.backup_path != NULL;
			push_note(r, "%s → %s (%s, mode %o%s%s)", it->name, p->where, p->res.proto, it->mode,
				  p->res.backup_path ? ", previous file kept as " : ", new file",
				  p->res.backup_path ? strrchr(p->res.backup_path, '/') + 1 : "");
		}
	}
	for (size_t i = 0; i < r->nputs; i++)
		verify_ms += r->puts[i].res.verify_ms;
	r->stage_ms = now_ms() - r->stage_start - verify_ms;
	push_summary(r, "sent %zu file%s to %zu agent%s over ssh, %zu backup%s made on the remote", sent,
		     sent == 1 ? "" : "s", r->agents.nr, r->agents.nr == 1 ? "" : "s", backups, backups == 1 ? "" : "s");
	if (ret < 0 && r->verify_failed) {
		/* the transfer went through; the read-back is VERIFY's failure */
		char *err = xstrdup(mp_error_last());

		push_stage_finish(r, 0);
		push_stage_begin(r, PUSH_VERIFY);
		r->stage_ms = verify_ms;
		push_summary(r, "read-back did not match");
		mp_error_set(ret, "%s", err);
		free(err);
		push_hint(r, "the remote file was put back; try again, and check the agent's disk (full? another writer?)");
		return push_stage_finish(r, ret);
	}
	if (ret < 0 && !r->out->hint) {
		if (sent)
			push_hint(r, "%zu file%s already went through (see above) and stay in place; fix the problem and push again",
				  sent, sent == 1 ? "" : "s");
	}
	return push_stage_finish(r, ret);
}

static int stage_verify_scp(struct push_run *r)
{
	double ms = 0;

	push_stage_begin(r, PUSH_VERIFY);
	for (size_t i = 0; i < r->nputs; i++)
		ms += r->puts[i].res.verify_ms;
	r->stage_ms = ms;
	push_summary(r, "read back %zu file%s: size and SHA-256 match", r->nputs, r->nputs == 1 ? "" : "s");
	r->out->verified = 1;
	return push_stage_finish(r, 0);
}

/* PUSH + VERIFY: webhook -------------------------------------------------- */

static int stage_push_webhook(struct push_run *r)
{
	int ret = 0;
	size_t sent = 0;

	push_stage_begin(r, PUSH_PUSH);
	r->puts = xcalloc(r->agents.nr * r->nr, sizeof(*r->puts));
	for (size_t a = 0; a < r->agents.nr && ret == 0; a++) {
		for (size_t i = 0; i < r->nr && ret == 0; i++) {
			struct push_item *it = &r->items[i];
			struct push_put *p = &r->puts[r->nputs++];
			struct webhook_response resp = WEBHOOK_RESPONSE_INIT;
			char *key = xasprintf("%s-deploy-%zu", r->out->id, i);

			p->agent = r->agents.items[a];
			p->item = it;
			ret = webhook_post(r->env->cfg, p->agent, it->message, key, &resp);
			p->status = resp.status;
			p->where = xasprintf("%s's gateway%s%s", p->agent, resp.run_id ? " (runId " : "",
					     resp.run_id ? resp.run_id : "");
			if (resp.run_id) {
				char *w = xasprintf("%s)", p->where);

				free(p->where);
				p->where = w;
			}
			if (ret == 0) {
				sent++;
				push_note(r, "DEPLOY: %s → %s: HTTP %ld", it->name, p->agent, resp.status);
			}
			webhook_response_release(&resp);
			free(key);
		}
	}
	push_summary(r, "sent %zu DEPLOY message%s", sent, sent == 1 ? "" : "s");
	if (ret < 0)
		push_hint(r, "the announcement went out but the DEPLOY did not arrive; fix the problem and push again "
			     "(a retry with the same content is a new push)");
	return push_stage_finish(r, ret);
}

static int stage_verify_webhook(struct push_run *r)
{
	push_stage_begin(r, PUSH_VERIFY);
	for (size_t i = 0; i < r->nputs; i++)
		if (r->puts[i].status < 200 || r->puts[i].status > 299) {
			push_summary(r, "%s answered %ld", r->puts[i].agent, r->puts[i].status);
			return push_stage_finish(r, mp_error_set(MP_EPOLICY, "'%s' did not accept the DEPLOY message (HTTP %ld)",
							 r->puts[i].agent, r->puts[i].status));
		}
	push_summary(r, "%zu gateway answer%s 2xx", r->nputs, r->nputs == 1 ? "" : "s");
	r->out->verified = 1;
	return push_stage_finish(r, 0);
}

/* CONFIRM ---------------------------------------------------------------- */

static int stage_confirm_direct(struct push_run *r)
{
	size_t sent = 0, queued = 0;
	int ret = 0;

	push_stage_begin(r, PUSH_CONFIRM);
	r->confirmations = json_array();
	for (size_t i = 0; i < r->nputs; i++) {
		struct push_put *p = &r->puts[i];
		struct announcement a;
		struct announce_result res = ANNOUNCE_RESULT_INIT;
		json_t *c = json_object();
		int rc;

		announcement_init(&a);
		a.kind = ANNOUNCE_RECEIVED;
		a.id = xasprintf("%s-received-%zu", r->out->id, i);
		a.from = xstrdup(r->self);
		strlist_push(&a.files, p->item->name);
		for (size_t j = 0; j < r->agents.nr; j++)
			strlist_push(&a.to, r->agents.items[j]);
		a.location = xstrdup(p->where);
		a.status = xstrdup("working");
		if (r->req->method == PUSH_SCP)
			a.details = xasprintf("Verified by the sender (%s): read back %zu bytes, SHA-256 %s", r->self,
					      p->item->len, p->item->sha256);
		else
			a.details = xasprintf("Verified by the sender (%s): the gateway accepted the DEPLOY message (HTTP %ld)",
					      r->self, p->status);
		rc = announce_send(&res, r->env->cfg, r->env->gitdir, &a);
		if (rc == 0)
			sent++;
		else if (rc == MP_ENET)
			queued++;
		else if (ret == 0)
			ret = rc;
		for (size_t j = 0; j < res.problems.nr; j++)
			push_note(r, "%s", res.problems.items[j]);
		push_note(r, "CODE RECEIVED: %s at %s: working", p->item->name, p->where);
		json_object_set_new(c, "agent", json_string(p->agent));
		json_object_set_new(c, "file", json_string(p->item->name));
		json_object_set_new(c, "location", json_string(p->where));
		json_object_set_new(c, "status", json_string("working"));
		json_array_append_new(r->confirmations, c);
		announce_result_release(&res);
		announcement_release(&a);
	}
	push_summary(r, "%zu CODE RECEIVED sent", sent);
	if (queued) {
		push_summary(r, "%zu queued (git meshpush outbox flush)", queued);
		r->out->queued = 1;
	}
	if (ret < 0) {
		push_hint(r, "the files are in place and verified; only the confirmation failed: send it with 'git meshpush announce'");
	}
	return push_stage_finish(r, ret);
}

static int stage_confirm_git(struct push_run *r)
{
	struct strbuf sb = STRBUF_INIT;

	push_stage_begin(r, PUSH_CONFIRM);
	list_join(&sb, &r->agents);
	push_summary(r, "%s confirm%s after installing (CODE RECEIVED); 'git meshpush status' shows who did", sb.buf,
		     r->agents.nr == 1 ? "s" : "");
	strbuf_release(&sb);
	return push_stage_finish(r, 0);
}

/* The journal record of the whole push. */
static void journal_push(struct push_run *r, int ret)
{
	json_t *f = json_object(), *files = json_array(), *to = json_array();
	const char *outcome;

	if (r->req->dry_run || !r->env->gitdir)
		goto cleanup;
	for (size_t i = 0; i < r->nr; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "name", json_string(r->items[i].name));
		if (r->items[i].repo_path)
			json_object_set_new(o, "path", json_string(r->items[i].repo_path));
		json_object_set_new(o, "size", json_integer((json_int_t)r->items[i].len));
		json_object_set_new(o, "sha256", json_string(r->items[i].sha256));
		json_array_append_new(files, o);
	}
	for (size_t i = 0; i < r->agents.nr; i++)
		json_array_append_new(to, json_string(r->agents.items[i]));
	json_object_set_new(f, "id", json_string(r->out->id));
	json_object_set_new(f, "method", json_string(push_method_name(r->req->method)));
	json_object_set_new(f, "purpose", json_string(r->req->purpose ? r->req->purpose : ""));
	json_object_set(f, "files", files);
	json_object_set(f, "to", to);
	if (r->out->commit)
		json_object_set_new(f, "commit", json_string(r->out->commit));
	if (r->remote_name)
		json_object_set_new(f, "remote", json_string(r->remote_name));
	if (ret < 0) {
		char *err = xstrdup(mp_error_last());
		char *o = xasprintf("failed at %s", push_stage_name(r->out->failed_at));

		json_object_set_new(f, "outcome", json_string(o));
		json_object_set_new(f, "error", json_string(err));
		json_object_set_new(f, "announced", json_boolean(r->out->announced));
		journal_append(r->env->gitdir, "push", f);
		mp_error_set(ret, "%s", err);
		free(o);
		free(err);
		goto cleanup;
	}
	outcome = r->req->method == PUSH_GIT ? "pushed" : "confirmed";
	json_object_set_new(f, "outcome", json_string(outcome));
	json_object_set_new(f, "announced", json_boolean(r->out->announced));
	json_object_set_new(f, "queued", json_boolean(r->out->queued));
	if (r->confirmations)
		json_object_set(f, "confirmations", r->confirmations);
	journal_append(r->env->gitdir, "push", f);
cleanup:
	json_decref(files);
	json_decref(to);
	json_decref(f);
}

static void dry_run_report(struct push_run *r)
{
	char *msg = announcement_message(&r->ann);

	push_note(r, "would announce to %zu agent%s:", r->agents.nr, r->agents.nr == 1 ? "" : "s");
	for (const char *p = msg; *p;) {
		size_t n = strcspn(p, "\n");

		push_note(r, "    %.*s", (int)n, p);
		p += n + (p[n] == '\n');
	}
	free(msg);
	for (size_t i = 0; i < r->nr; i++) {
		const struct push_item *it = &r->items[i];

		for (size_t a = 0; a < r->agents.nr; a++) {
			const char *agent = r->agents.items[a];

			if (r->req->method == PUSH_SCP) {
				const char *dest = config_get(r->env->cfg, "agent", agent, "dest");
				int n = (int)strlen(dest);

				while (n > 1 && dest[n - 1] == '/')
					n--;
				push_note(r, "would send %s (%zu bytes, mode %o) to %s:%.*s/%s, backing up what is there",
					  it->name, it->len, it->mode, config_get(r->env->cfg, "agent", agent, "ssh"), n, dest,
					  it->name);
			}
			else if (r->req->method == PUSH_WEBHOOK)
				push_note(r, "would send DEPLOY: %s to %s's gateway (%zu bytes of JSON)", it->name, agent,
					  webhook_body_size(r->env->cfg, agent, it->message));
		}
	}
	if (r->req->method == PUSH_GIT)
		push_git_dry_run(r);
	push_note(r, "dry run: nothing was announced, sent, committed or written");
	flush_notes(r);
}

int push_run(struct push_result *out, const struct push_env *env, const struct push_request *req)
{
	struct push_run r;
	int ret;

	memset(&r, 0, sizeof(r));
	memset(out, 0, sizeof(*out));
	r.env = env;
	r.req = req;
	r.out = out;
	announcement_init(&r.ann);
	out->id = announce_new_id();

	if ((ret = stage_prepare(&r)) < 0)
		goto done;
	fill_announcement(&r, &r.ann);
	if (req->dry_run) {
		dry_run_report(&r);
		goto done;
	}
	if ((ret = stage_announce(&r)) < 0)
		goto done;
	switch (req->method) {
	case PUSH_GIT:
		if ((ret = push_git_push(&r)) < 0 || (ret = push_git_verify(&r)) < 0)
			goto done;
		ret = stage_confirm_git(&r);
		break;
	case PUSH_SCP:
		if ((ret = stage_push_scp(&r)) < 0 || (ret = stage_verify_scp(&r)) < 0)
			goto done;
		ret = stage_confirm_direct(&r);
		break;
	case PUSH_WEBHOOK:
		if ((ret = stage_push_webhook(&r)) < 0 || (ret = stage_verify_webhook(&r)) < 0)
			goto done;
		ret = stage_confirm_direct(&r);
		break;
	}
done:
	journal_push(&r, ret);
	for (size_t i = 0; i < r.nputs; i++) {
		ssh_put_result_release(&r.puts[i].res);
		free(r.puts[i].where);
	}
	free(r.puts);
	for (size_t i = 0; r.ssh && i < r.agents.nr; i++) {
		ssh_conn_free(r.ssh[i].conn);
		ssh_target_release(&r.ssh[i].target);
	}
	free(r.ssh);
	for (size_t i = 0; i < r.nr; i++)
		item_release(&r.items[i]);
	free(r.items);
	strlist_release(&r.agents);
	strbuf_release(&r.summary);
	strlist_release(&r.notes);
	announcement_release(&r.ann);
	json_decref(r.confirmations);
	free(r.remote_name);
	free(r.remote_ref);
	free(r.branch);
	return ret;
}
