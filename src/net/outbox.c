#include "net/outbox.h"

#include "error.h"
#include "journal/journal.h"
#include "net/announce.h"
#include "net/http.h"
#include "util/fs.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define FLUSH_PARALLEL 16

char *outbox_dir(void)
{
	char *state = fs_state_dir(), *dir = fs_join(state, "outbox");

	free(state);
	return dir;
}

/* Agent names come from configuration subsections: keep file names tame. */
static void encode_name(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '_')
			strbuf_addch(sb, c);
		else
			strbuf_addf(sb, "%%%02X", c);
	}
}

/* Longest file name an entry gets from its id and agent; longer pairs are named by their hash. */
#define MAX_ENTRY_NAME 200

static char *entry_path(const char *id, const char *agent)
{
	struct strbuf name = STRBUF_INIT;
	char *dir = outbox_dir(), *path;

	encode_name(&name, id);
	strbuf_addch(&name, '.');
	encode_name(&name, agent);
	if (name.len > MAX_ENTRY_NAME) {
		/* an id may have 200 characters, each encoded as three: past NAME_MAX */
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int mdlen = 0;
		char hex[2 * EVP_MAX_MD_SIZE + 1];
		struct strbuf key = STRBUF_INIT;

		strbuf_addstr(&key, id);
		strbuf_add(&key, "", 1);
		strbuf_addstr(&key, agent);
		EVP_Digest(key.buf, key.len, md, &mdlen, EVP_sha256(), NULL);
		hex_encode(hex, md, mdlen);
		strbuf_reset(&name);
		strbuf_addf(&name, "h-%s", hex);
		strbuf_release(&key);
	}
	path = xasprintf("%s/%s.json", dir, name.buf);
	strbuf_release(&name);
	free(dir);
	return path;
}

void outbox_entry_release(struct outbox_entry *e)
{
	free(e->path);
	free(e->id);
	free(e->agent);
	free(e->kind);
	free(e->message);
	free(e->created);
	free(e->gitdir);
	free(e->last_error);
	memset(e, 0, sizeof(*e));
}

void outbox_entries_free(struct outbox_entry *entries, size_t n)
{
	for (size_t i = 0; i < n; i++)
		outbox_entry_release(&entries[i]);
	free(entries);
}

static void set_str(json_t *o, const char *key, const char *v)
{
	json_object_set_new(o, key, v ? json_string(v) : json_null());
}

int outbox_entry_write(struct outbox_entry *e)
{
	json_t *o = json_object();
	char *text = NULL, *dir = outbox_dir();
	int ret;

	if (!e->path)
		e->path = entry_path(e->id, e->agent);
	json_object_set_new(o, "version", json_integer(1));
	set_str(o, "id", e->id);
	set_str(o, "agent", e->agent);
	set_str(o, "kind", e->kind);
	set_str(o, "message", e->message);
	set_str(o, "created", e->created);
	set_str(o, "gitdir", e->gitdir);
	json_object_set_new(o, "attempts", json_integer(e->attempts));
	set_str(o, "last_error", e->last_error);
	json_object_set_new(o, "held", json_boolean(e->held));
	json_object_set_new(o, "not_before", json_integer((json_int_t)e->not_before));
	json_object_set_new(o, "last_attempt", json_integer((json_int_t)e->last_attempt));
	if (e->lease_pid) {
		json_t *lease = json_object();

		json_object_set_new(lease, "pid", json_integer(e->lease_pid));
		json_object_set_new(lease, "until", json_integer((json_int_t)e->lease_until));
		json_object_set_new(o, "lease", lease);
	}
	text = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(o);
	if (!text) {
		free(dir);
		return mp_error_set(MP_EGENERIC, "cannot encode the outbox entry of '%s'", e->id);
	}
	if ((ret = fs_mkdir_p(dir, 0700)) == 0)
		ret = fs_write_atomic(e->path, text, strlen(text), 0600);
	free(text);
	free(dir);
	return ret;
}

static char *get_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
}

static int entry_read(struct outbox_entry *e, const char *path)
{
	json_t *o = json_load_file(path, 0, NULL), *lease;
	int ret = 0;

	memset(e, 0, sizeof(*e));
	if (!json_is_object(o)) {
		ret = mp_error_set(MP_EGENERIC, "'%s' is not an outbox entry", path);
		goto cleanup;
	}
	e->path = xstrdup(path);
	e->id = get_str(o, "id");
	e->agent = get_str(o, "agent");
	e->kind = get_str(o, "kind");
	e->message = get_str(o, "message");
	e->created = get_str(o, "created");
	e->gitdir = get_str(o, "gitdir");
	e->last_error = get_str(o, "last_error");
	e->attempts = (int)json_integer_value(json_object_get(o, "attempts"));
	e->held = json_is_true(json_object_get(o, "held"));
	e->not_before = (time_t)json_integer_value(json_object_get(o, "not_before"));
	e->last_attempt = (time_t)json_integer_value(json_object_get(o, "last_attempt"));
	lease = json_object_get(o, "lease");
	if (json_is_object(lease)) {
		e->lease_pid = (long)json_integer_value(json_object_get(lease, "pid"));
		e->lease_until = (time_t)json_integer_value(json_object_get(lease, "until"));
	}
	if (!e->id || !e->agent || !e->message) {
		outbox_entry_release(e);
		ret = mp_error_set(MP_EGENERIC, "'%s' is not an outbox entry", path);
	}
cleanup:
	json_decref(o);
	return ret;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct outbox_entry *x = a, *y = b;
	int c = strcmp(x->created ? x->created : "", y->created ? y->created : "");

	if (!c)
		c = strcmp(x->id, y->id);
	return c ? c : strcmp(x->agent, y->agent);
}

int outbox_list(struct outbox_entry **out, size_t *n_out, struct strlist *damaged)
{
	char *dir = outbox_dir();
	struct outbox_entry *v = NULL;
	size_t n = 0, alloc = 0;
	struct dirent *d;
	DIR *dh;
	int ret = 0;

	*out = NULL;
	*n_out = 0;
	dh = opendir(dir);
	if (!dh) {
		if (errno != ENOENT)
			ret = mp_error_set(MP_EOS, "cannot read the outbox '%s': %s", dir, strerror(errno));
		goto cleanup;
	}
	while ((d = readdir(dh))) {
		char *path;

		if (d->d_name[0] == '.' || !ends_with(d->d_name, ".json"))
			continue;
		path = fs_join(dir, d->d_name);
		v = xgrow(v, sizeof(*v), n + 1, &alloc);
		if (entry_read(&v[n], path) == 0)
			n++;
		else if (damaged && fs_exists(path))
			strlist_push(damaged, path);
		free(path);
	}
	closedir(dh);
	if (n)
		qsort(v, n, sizeof(*v), entry_cmp);
	*out = v;
	*n_out = n;
	v = NULL;
cleanup:
	free(v);
	free(dir);
	return ret;
}

int outbox_has_entries(void)
{
	char *dir = outbox_dir();
	DIR *dh = opendir(dir);
	struct dirent *d;
	int found = 0;

	free(dir);
	if (!dh)
		return 0;
	while (!found && (d = readdir(dh)))
		found = d->d_name[0] != '.' && ends_with(d->d_name, ".json");
	closedir(dh);
	return found;
}

size_t outbox_remove(const char *gitdir, const char *id, const char *agent, const char *outcome)
{
	struct outbox_entry *v = NULL;
	const char *kind = NULL;
	size_t n = 0, removed = 0;

	if (outbox_list(&v, &n, NULL) < 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].id, id) && (!agent || !strcmp(v[i].agent, agent)) && unlink(v[i].path) == 0) {
			removed++;
			kind = kind ? kind : v[i].kind;
		}
	if (removed && gitdir) {
		json_t *f = json_object();

		json_object_set_new(f, "id", json_string(id));
		if (kind)
			json_object_set_new(f, "kind", json_string(kind));
		if (agent)
			json_object_set_new(f, "agent", json_string(agent));
		json_object_set_new(f, "outcome", json_string(outcome));
		json_object_set_new(f, "entries", json_integer((json_int_t)removed));
		journal_append(gitdir, "delivery", f);
		json_decref(f);
	}
	outbox_entries_free(v, n);
	return removed;
}

/* A lease is live while its process runs and it has not expired. */
static int lease_live(const struct outbox_entry *e, time_t now)
{
	if (!e->lease_pid || e->lease_until < now)
		return 0;
	if (e->lease_pid == (long)getpid())
		return 1;
	return kill((pid_t)e->lease_pid, 0) == 0 || errno == EPERM;
}

/*
 * An agent that has been failing for a while is not tried by every run
 * (a hook would pay its connect timeout each time): after 4 failed
 * attempts, 1 minute, then 2, 4, ... at most 60 minutes between tries.
 */
static int backing_off(const struct outbox_entry *e, time_t now)
{
	long wait;

	if (e->attempts < 4 || !e->last_attempt)
		return 0;
	wait = e->attempts - 4 < 6 ? 60L << (e->attempts - 4) : 3600;
	if (wait > 3600)
		wait = 3600;
	return e->last_attempt + wait > now;
}

/* Take outbox/.lock: 0, 1 when busy and `wait` is 0, or MP_EOS. */
static int lock_outbox(int *fd_out, int wait)
{
	char *dir = outbox_dir(), *path = fs_join(dir, ".lock");
	int fd, ret = 0;

	*fd_out = -1;
	if ((ret = fs_mkdir_p(dir, 0700)) < 0)
		goto cleanup;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = mp_error_set(MP_EOS, "cannot open '%s': %s", path, strerror(errno));
		goto cleanup;
	}
	if (wait) {
		/* another flush delivers: wait for it (bounded by its timeouts) */
		for (int i = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; i++) {
			if (i >= 600) {
				close(fd);
				ret = mp_error_set(MP_EOS, "the outbox is busy: another 'git meshpush' run is delivering");
				goto cleanup;
			}
			usleep(100 * 1000);
		}
	} else if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		ret = 1;
		goto cleanup;
	}
	*fd_out = fd;
cleanup:
	free(path);
	free(dir);
	return ret;
}

static void journal_delivery(const char *gitdir, const struct outbox_entry *e, const struct net_request *r,
			     const char *outcome, const char *via)
{
	json_t *f;

	if (!gitdir || !fs_exists(gitdir))
		return;
	f = json_object();
	json_object_set_new(f, "id", json_string(e->id));
	if (e->kind)
		json_object_set_new(f, "kind", json_string(e->kind));
	json_object_set_new(f, "agent", json_string(e->agent));
	json_object_set_new(f, "outcome", json_string(outcome));
	json_object_set_new(f, "via", json_string(via));
	if (r) {
		if (r->http_status)
			json_object_set_new(f, "http", json_integer(r->http_status));
		json_object_set_new(f, "attempts", json_integer(r->attempts));
		json_object_set_new(f, "ms", json_integer((json_int_t)r->ms));
		if (r->run_id)
			json_object_set_new(f, "run_id", json_string(r->run_id));
		if (r->problem)
			json_object_set_new(f, "problem", json_string(r->problem));
	}
	journal_append(gitdir, "delivery", f);
	json_decref(f);
}

void outbox_settle(struct announce_result *out, struct outbox_entry *e, struct net_request *r,
		   const char *gitdir, const char *via)
{
	const char *jdir = e->gitdir && fs_exists(e->gitdir) ? e->gitdir : gitdir;

	switch (r->outcome) {
	case NET_DELIVERED:
		unlink(e->path);
		out->delivered++;
		strlist_push(&out->delivered_to, e->agent);
		journal_delivery(jdir, e, r, "delivered", via);
		return;
	case NET_FAILED:
		unlink(e->path);
		out->failed++;
		strlist_push(&out->problems, r->problem ? r->problem : e->agent);
		journal_delivery(jdir, e, r, "failed", via);
		return;
	default:
		break;
	}
	out->queued++;
	strlist_push(&out->queued_for, e->agent);
	if (r->attempts == 0 && !r->problem) {
		/* never tried (out of time): leave the entry as it was */
		if (e->lease_pid) {
			e->lease_pid = 0;
			e->lease_until = 0;
			outbox_entry_write(e);
		}
		return;
	}
	strlist_push(&out->problems, r->problem ? r->problem : e->agent);
	e->attempts += r->attempts;
	free(e->last_error);
	e->last_error = r->problem ? xstrdup(r->problem) : NULL;
	e->held = r->outcome == NET_HOLD;
	e->not_before = r->retry_after_s > 0 ? time(NULL) + r->retry_after_s : 0;
	e->last_attempt = r->attempts ? time(NULL) : e->last_attempt;
	e->lease_pid = 0;
	e->lease_until = 0;
	if (outbox_entry_write(e) < 0)
		strlist_push(&out->problems, mp_error_last());
	journal_delivery(jdir, e, r, e->held ? "held" : "queued", via);
}

int outbox_flush_with(struct announce_result *out, const struct config *cfg, const char *gitdir,
		      const struct outbox_flush_opts *opts)
{
	struct outbox_flush_opts none = OUTBOX_FLUSH_OPTS_INIT;
	struct outbox_entry *v = NULL;
	struct net_request *reqs = NULL;
	struct net_params params;
	size_t n = 0, nreq = 0;
	time_t now = time(NULL);
	int lock_fd = -1, ret;

	if (!opts)
		opts = &none;
	net_params_from_config(&params, cfg);
	params.max_parallel = FLUSH_PARALLEL;
	params.deadline_ms = opts->deadline_ms;
	if (opts->opportunistic) {
		params.retries = 0;
		if (params.connect_timeout_ms > 1000)
			params.connect_timeout_ms = 1000;
		if (params.timeout_ms > 2000)
			params.timeout_ms = 2000;
	}
	if ((ret = lock_outbox(&lock_fd, !opts->opportunistic)) != 0)
		goto cleanup;
	if ((ret = outbox_list(&v, &n, NULL)) < 0)
		goto cleanup;
	reqs = xcalloc(n ? n : 1, sizeof(*reqs));
	for (size_t i = 0; i < n; i++) {
		struct outbox_entry *e = &v[i];
		struct net_request *r = &reqs[nreq];

		if ((opts->id && strcmp(opts->id, e->id)) || (opts->agent && strcmp(opts->agent, e->agent)))
			continue;
		if (lease_live(e, now))
			continue;
		if (opts->opportunistic && (e->held || e->not_before > now || backing_off(e, now)))
			continue;
		r->data = e;
		if (net_request_prepare(r, cfg, e->agent, e->message, e->id) < 0) {
			/* the agent's configuration changed since: keep the entry, say why */
			r->outcome = NET_HOLD;
			free(r->problem);
			r->problem = xasprintf("%s", mp_error_last());
		} else if (r->outcome == NET_PENDING && params.signing_problem) {
			r->outcome = NET_HOLD;
			r->problem = xasprintf("%s: %s", e->agent, params.signing_problem);
		}
		nreq++;
	}
	if ((ret = net_run(reqs, nreq, &params)) < 0)
		goto cleanup;
	for (size_t i = 0; i < nreq; i++)
		outbox_settle(out, reqs[i].data, &reqs[i], gitdir, opts->opportunistic ? "auto-flush" : "flush");
	ret = out->queued || out->failed ? MP_ENET : 0;
	if (ret)
		mp_error_set(MP_ENET, "%zu announcement%s not delivered", out->queued + out->failed,
			     out->queued + out->failed == 1 ? "" : "s");
cleanup:
	for (size_t i = 0; i < nreq; i++)
		net_request_release(&reqs[i]);
	free(reqs);
	outbox_entries_free(v, n);
	net_params_release(&params);
	if (lock_fd >= 0)
		close(lock_fd);
	return ret;
}

int outbox_flush(struct announce_result *out, const struct config *cfg, const char *gitdir)
{
	return outbox_flush_with(out, cfg, gitdir, NULL);
}

void outbox_autoflush(const struct config *cfg, const char *gitdir)
{
	struct announce_result res = ANNOUNCE_RESULT_INIT;
	struct outbox_flush_opts opts = OUTBOX_FLUSH_OPTS_INIT;

	if (!config_get_bool(cfg, "mesh", NULL, "auto_flush") || !outbox_has_entries())
		return;
	opts.opportunistic = 1;
	opts.deadline_ms = 3000;
	outbox_flush_with(&res, cfg, gitdir, &opts); /* quiet: what stays queued, 'status' shows */
	if (res.delivered)
		fprintf(stderr, "meshpush: delivered %zu queued announcement%s from the outbox\n", res.delivered,
			res.delivered == 1 ? "" : "s");
	announce_result_release(&res);
	mp_error_clear();
}
