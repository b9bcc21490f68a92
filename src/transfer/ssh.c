#include "transfer/ssh.h"

#include "error.h"
#include "util/fs.h"
#include "util/util.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* One SSH connection's worth of state: libcurl keeps the connection open between requests. */
struct session {
	CURL *curl;
	const struct ssh_opts *opts;
	const struct ssh_target *t;
	enum ssh_proto proto; /* SSH_PROTO_SFTP or SSH_PROTO_SCP */
	char *known_hosts;
	char *identity;
	char *pubkey;
	char errbuf[CURL_ERROR_SIZE];
	char auth_methods[256]; /* what the server offered, from libcurl's trace */
	int hostkey_refused;
	enum curl_khmatch hostkey_match;
	char hostkey_fpr[160];
	const char *hostkey_type;
	/* upload source */
	const char *up;
	size_t up_len, up_off;
	/* download sink */
	struct strbuf down;
	size_t down_max;
	int down_over;
};

void ssh_sha256_hex(char hex[65], const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	hex_encode(hex, md, 32);
}

int ssh_target_parse(struct ssh_target *out, const char *user_at_host, long port, const char *dest)
{
	const char *at;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!user_at_host || !*user_at_host)
		return mp_error_set(MP_ECONFIG, "no ssh address: set 'ssh = user@host' in the agent's section");
	if (!dest || !*dest)
		return mp_error_set(MP_ECONFIG, "no remote folder: set 'dest = /path/' in the agent's section");
	if (dest[0] != '/' && !starts_with(dest, "~/"))
		return mp_error_set(MP_ECONFIG, "remote folder '%s' must be absolute or start with '~/'", dest);
	if (port <= 0 || port > 65535)
		return mp_error_set(MP_ECONFIG, "ssh port %ld is out of range", port);
	at = strrchr(user_at_host, '@');
	if (at) {
		out->user = xstrndup(user_at_host, (size_t)(at - user_at_host));
		out->host = xstrdup(at + 1);
	} else {
		const char *u = getenv("USER");

		out->user = xstrdup(u && *u ? u : "root");
		out->host = xstrdup(user_at_host);
	}
	if (out->host[0] == '[') { /* [::1] */
		n = strlen(out->host);
		memmove(out->host, out->host + 1, n);
		if (n >= 2 && out->host[n - 2] == ']')
			out->host[n - 2] = '\0';
	}
	if (!*out->user || !*out->host || strpbrk(out->host, "/ @")) {
		ssh_target_release(out);
		return mp_error_set(MP_ECONFIG, "'%s' is not a valid ssh address: write user@host", user_at_host);
	}
	out->port = (int)port;
	n = strlen(dest);
	while (n > 1 && dest[n - 1] == '/')
		n--;
	out->dest = xstrndup(dest, n);
	return 0;
}

void ssh_target_release(struct ssh_target *t)
{
	free(t->user);
	free(t->host);
	free(t->dest);
	memset(t, 0, sizeof(*t));
}

void ssh_put_result_release(struct ssh_put_result *r)
{
	free(r->remote_path);
	free(r->backup_path);
	memset(r, 0, sizeof(*r));
}

/* "user@host" or "user@host:port" for messages. */
static void where(struct strbuf *sb, const struct ssh_target *t)
{
	strbuf_addf(sb, "%s@%s", t->user, t->host);
	if (t->port != 22)
		strbuf_addf(sb, ":%d", t->port);
}

static void url_escape(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~/", c))
			strbuf_addch(sb, c);
		else
			strbuf_addf(sb, "%%%02X", c);
	}
}

/* The URL of remote path `path` ("/abs" or "~/rel"). */
static char *url_for(const struct session *s, const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, s->proto == SSH_PROTO_SCP ? "scp://" : "sftp://");
	url_escape(&sb, s->t->user);
	strbuf_addch(&sb, '@');
	if (strchr(s->t->host, ':'))
		strbuf_addf(&sb, "[%s]", s->t->host);
	else
		strbuf_addstr(&sb, s->t->host);
	strbuf_addf(&sb, ":%d", s->t->port);
	if (starts_with(path, "~/"))
		strbuf_addch(&sb, '/');
	url_escape(&sb, path);
	return strbuf_detach(&sb);
}

/* A path as an sftp quote command argument: quoted, "~/" made relative to the home. */
static void quote_path(struct strbuf *sb, const char *path)
{
	if (starts_with(path, "~/"))
		path += 2;
	strbuf_addch(sb, '"');
	for (; *path; path++) {
		if (*path == '"' || *path == '\\')
			strbuf_addch(sb, '\\');
		strbuf_addch(sb, *path);
	}
	strbuf_addch(sb, '"');
}

static const char *key_type_name(enum curl_khtype t)
{
	switch (t) {
	case CURLKHTYPE_RSA1:
	case CURLKHTYPE_RSA:
		return "RSA";
	case CURLKHTYPE_DSS:
		return "DSA";
	case CURLKHTYPE_ECDSA:
		return "ECDSA";
	case CURLKHTYPE_ED25519:
		return "ED25519";
	default:
		return "unknown";
	}
}

/* "SHA256:<base64 without padding>" of a host key, as ssh-keygen -l prints it. */
static void fingerprint(char *out, size_t outlen, const struct curl_khkey *key)
{
	unsigned char raw[8192], md[EVP_MAX_MD_SIZE], b64[EVP_MAX_MD_SIZE * 2];
	const unsigned char *blob = (const unsigned char *)key->key;
	size_t len = key->len;
	unsigned int mdlen = 0;
	int n;

	if (!len) { /* base64 text */
		size_t tl = strlen(key->key);

		if (tl > sizeof(raw) * 3 / 4 - 4)
			tl = sizeof(raw) * 3 / 4 - 4;
		n = EVP_DecodeBlock(raw, (const unsigned char *)key->key, (int)(tl & ~(size_t)3));
		if (n < 0) {
			snprintf(out, outlen, "SHA256:?");
			return;
		}
		len = (size_t)n;
		while (tl && key->key[tl - 1] == '=' && len) { /* DecodeBlock counts padding as zeros */
			tl--;
			len--;
		}
		blob = raw;
	}
	EVP_Digest(blob, len, md, &mdlen, EVP_sha256(), NULL);
	n = EVP_EncodeBlock(b64, md, (int)mdlen);
	while (n > 0 && b64[n - 1] == '=')
		b64[--n] = '\0';
	snprintf(out, outlen, "SHA256:%s", (const char *)b64);
}

static int keyfunc(CURL *easy, const struct curl_khkey *known, const struct curl_khkey *found,
		   enum curl_khmatch match, void *clientp)
{
	struct session *s = clientp;

	(void)easy;
	(void)known;
	if (match == CURLKHMATCH_OK)
		return CURLKHSTAT_FINE;
	s->hostkey_refused = 1;
	s->hostkey_match = match;
	s->hostkey_type = key_type_name(found->keytype);
	fingerprint(s->hostkey_fpr, sizeof(s->hostkey_fpr), found);
	return CURLKHSTAT_REJECT;
}

/* libcurl's trace: only to learn which authentication methods the server offers. */
static int debugfunc(CURL *h, curl_infotype type, char *data, size_t size, void *clientp)
{
	static const char tag[] = "SSH authentication methods available: ";
	struct session *s = clientp;

	(void)h;
	if (type == CURLINFO_TEXT && size > sizeof(tag) - 1 && !strncmp(data, tag, sizeof(tag) - 1)) {
		size_t n = size - (sizeof(tag) - 1);

		if (n >= sizeof(s->auth_methods))
			n = sizeof(s->auth_methods) - 1;
		memcpy(s->auth_methods, data + sizeof(tag) - 1, n);
		while (n && (s->auth_methods[n - 1] == '\n' || s->auth_methods[n - 1] == '\r'))
			n--;
		s->auth_methods[n] = '\0';
	}
	return 0;
}

static size_t readfunc(char *buf, size_t size, size_t nmemb, void *clientp)
{
	struct session *s = clientp;
	size_t n = size * nmemb, left = s->up_len - s->up_off;

	if (n > left)
		n = left;
	memcpy(buf, s->up + s->up_off, n);
	s->up_off += n;
	return n;
}

static size_t writefunc(char *buf, size_t size, size_t nmemb, void *clientp)
{
	struct session *s = clientp;
	size_t n = size * nmemb;

	if (s->down_max && s->down.len + n > s->down_max) {
		s->down_over = 1;
		return 0;
	}
	strbuf_add(&s->down, buf, n);
	return n;
}

/* The key files to offer: [ssh] identity, else the first of the usual ones. */
static int find_identity(struct session *s)
{
	static const char *const defaults[] = { "~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa" };
	char *pub;

	if (s->opts->identity && *s->opts->identity) {
		s->identity = fs_expand_home(s->opts->identity);
		if (access(s->identity, R_OK) < 0)
			return mp_error_set(MP_ECONFIG, "cannot read the ssh key '%s' ([ssh] identity): %m", s->identity);
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(defaults) && !s->identity; i++) {
			char *p = fs_expand_home(defaults[i]);

			if (access(p, R_OK) == 0)
				s->identity = p;
			else
				free(p);
		}
		if (!s->identity && !getenv("SSH_AUTH_SOCK"))
			return mp_error_set(MP_ECONFIG,
					    "no ssh key: start ssh-agent, set '[ssh] identity', or create one with 'ssh-keygen -t ed25519'");
	}
	if (s->identity) {
		pub = xasprintf("%s.pub", s->identity);
		if (access(pub, R_OK) == 0)
			s->pubkey = pub;
		else {
			free(pub);
			s->pubkey = xstrdup(""); /* libssh2 derives it from the private key */
		}
	}
	return 0;
}

static int session_open(struct session *s, const struct ssh_opts *opts, const struct ssh_target *t,
			enum ssh_proto proto)
{
	long auth = CURLSSH_AUTH_AGENT;
	int ret;

	memset(s, 0, sizeof(*s));
	s->opts = opts;
	s->t = t;
	s->proto = proto;
	if (!opts->known_hosts || !*opts->known_hosts)
		return mp_error_set(MP_ECONFIG, "no known_hosts file: set '[ssh] known_hosts'");
	s->known_hosts = fs_expand_home(opts->known_hosts);
	if ((ret = find_identity(s)) < 0)
		return ret;
	s->curl = curl_easy_init();
	if (!s->curl)
		return mp_error_set(MP_EOS, "cannot start libcurl");
	curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "sftp,scp");
	curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->curl, CURLOPT_SSH_KNOWNHOSTS, s->known_hosts);
	curl_easy_setopt(s->curl, CURLOPT_SSH_KEYFUNCTION, keyfunc);
	curl_easy_setopt(s->curl, CURLOPT_SSH_KEYDATA, s);
	if (s->identity) {
		auth |= CURLSSH_AUTH_PUBLICKEY;
		curl_easy_setopt(s->curl, CURLOPT_SSH_PRIVATE_KEYFILE, s->identity);
		curl_easy_setopt(s->curl, CURLOPT_SSH_PUBLIC_KEYFILE, s->pubkey);
	}
	curl_easy_setopt(s->curl, CURLOPT_SSH_AUTH_TYPES, auth);
	curl_easy_setopt(s->curl, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(s->curl, CURLOPT_DEBUGFUNCTION, debugfunc);
	curl_easy_setopt(s->curl, CURLOPT_DEBUGDATA, s);
	if (opts->connect_timeout > 0)
		curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT, opts->connect_timeout);
	/* a stalled transfer (no byte for 60 s) is abandoned, however large the file */
	curl_easy_setopt(s->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(s->curl, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(s->curl, CURLOPT_READFUNCTION, readfunc);
	curl_easy_setopt(s->curl, CURLOPT_READDATA, s);
	curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, writefunc);
	curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, s);
	return 0;
}

static void session_close(struct session *s)
{
	if (s->curl)
		curl_easy_cleanup(s->curl);
	free(s->known_hosts);
	free(s->identity);
	free(s->pubkey);
	strbuf_release(&s->down);
	memset(s, 0, sizeof(*s));
}

/* Turn a libcurl failure of `what` into our error code and a message that says what to do. */
static int fail(struct session *s, CURLcode rc, const char *what)
{
	struct strbuf w = STRBUF_INIT;
	const char *detail = s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc);
	int ret;

	where(&w, s->t);
	if (s->hostkey_refused && s->hostkey_match == CURLKHMATCH_MISMATCH) {
		ret = mp_error_set(MP_EPOLICY,
				   "the host key of '%s' has CHANGED (%s %s) and does not match '%s': "
				   "refusing to connect; this may be an attack. If the agent's key was replaced, check the new "
				   "fingerprint with its owner out of band, remove the old line ('ssh-keygen -R \"[%s]:%d\" -f %s') "
				   "and add the new one ('ssh-keyscan -p %d %s >> %s')",
				   w.buf, s->hostkey_type, s->hostkey_fpr, s->known_hosts, s->t->host, s->t->port,
				   s->known_hosts, s->t->port, s->t->host, s->known_hosts);
	} else if (s->hostkey_refused) {
		ret = mp_error_set(MP_EPOLICY,
				   "the host key of '%s' is not known (%s %s): refusing to connect; check the fingerprint "
				   "with the agent's owner out of band ('ssh-keygen -l -f /etc/ssh/ssh_host_*_key.pub' there), "
				   "then add it with 'ssh-keyscan -p %d %s >> %s'",
				   w.buf, s->hostkey_type, s->hostkey_fpr, s->t->port, s->t->host, s->known_hosts);
	} else if (rc == CURLE_LOGIN_DENIED || (rc == CURLE_SSH && s->auth_methods[0] &&
						!strstr(s->auth_methods, "publickey"))) {
		if (s->auth_methods[0] && !strstr(s->auth_methods, "publickey"))
			ret = mp_error_set(MP_EPOLICY,
					   "'%s' offers only %s authentication, and git meshpush uses SSH keys only: "
					   "ask the agent's owner to enable public-key authentication and add your public key "
					   "to '%s''s authorized_keys",
					   w.buf, s->auth_methods, s->t->user);
		else
			ret = mp_error_set(MP_EPOLICY,
					   "'%s' did not accept your SSH key%s%s: add your public key to '%s''s "
					   "~/.ssh/authorized_keys there, or load the right key into ssh-agent "
					   "(or set '[ssh] identity')",
					   w.buf, s->identity ? " " : "", s->identity ? s->identity : "", s->t->user);
	} else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
		   rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR ||
		   rc == CURLE_GOT_NOTHING) {
		ret = mp_error_set(MP_ENET, "cannot reach '%s' over ssh to %s: %s", w.buf, what, detail);
	} else if (rc == CURLE_REMOTE_FILE_NOT_FOUND) {
		ret = mp_error_set(MP_ENOTFOUND, "%s on '%s': %s", what, w.buf, detail);
	} else if (rc == CURLE_REMOTE_ACCESS_DENIED) {
		ret = mp_error_set(MP_EOS, "%s on '%s': permission denied (%s)", what, w.buf, detail);
	} else {
		ret = mp_error_set(MP_EOS, "%s on '%s' failed: %s", what, w.buf, detail);
	}
	strbuf_release(&w);
	return ret;
}

/* Reset the per-request options and clear the error buffer. */
static void request_reset(struct session *s, const char *path)
{
	char *url = url_for(s, path);

	curl_easy_setopt(s->curl, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(s->curl, CURLOPT_UPLOAD, 0L);
	curl_easy_setopt(s->curl, CURLOPT_NOBODY, 0L);
	curl_easy_setopt(s->curl, CURLOPT_QUOTE, NULL);
	curl_easy_setopt(s->curl, CURLOPT_MAX_SEND_SPEED_LARGE, (curl_off_t)0);
	s->errbuf[0] = '\0';
}

/* scp says "No such file" in its message, with a generic error code. */
static int scp_missing(const struct session *s)
{
	return s->proto == SSH_PROTO_SCP && strstr(s->errbuf, "No such file");
}

/* Does `path` exist?  1, 0, or a negative error. */
static int remote_exists(struct session *s, const char *path)
{
	CURLcode rc;

	request_reset(s, path);
	if (s->proto == SSH_PROTO_SCP) { /* no stat over scp: start reading, stop at the first byte */
		strbuf_reset(&s->down);
		s->down_max = 1;
		s->down_over = 0;
	} else {
		curl_easy_setopt(s->curl, CURLOPT_NOBODY, 1L);
	}
	rc = curl_easy_perform(s->curl);
	if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && s->down_over))
		return 1;
	if (rc == CURLE_REMOTE_FILE_NOT_FOUND || scp_missing(s))
		return 0;
	return fail(s, rc, "cannot look for the remote file");
}

/* A backup name for `path` that is not taken yet: PATH.meshpush-backup-<UTC time>[-N]. */
static int pick_backup(char **out, struct session *s, const char *path)
{
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	int taken;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
	for (int i = 1; i < 100; i++) {
		*out = i == 1 ? xasprintf("%s.meshpush-backup-%s", path, ts)
			      : xasprintf("%s.meshpush-backup-%s-%d", path, ts, i);
		if ((taken = remote_exists(s, *out)) == 0)
			return 0;
		free(*out);
		*out = NULL;
		if (taken < 0)
			return taken;
	}
	return mp_error_set(MP_EOS, "too many backups of '%s' in one second", path);
}

static int upload(struct session *s, const char *path, const void *data, size_t len, int mode)
{
	CURLcode rc;

	request_reset(s, path);
	s->up = data;
	s->up_len = len;
	s->up_off = 0;
	curl_easy_setopt(s->curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(s->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(s->curl, CURLOPT_NEW_FILE_PERMS, (long)mode);
	if (s->opts->limit_rate > 0)
		curl_easy_setopt(s->curl, CURLOPT_MAX_SEND_SPEED_LARGE, (curl_off_t)s->opts->limit_rate);
	rc = curl_easy_perform(s->curl);
	if (rc != CURLE_OK) {
		char *what = xasprintf("cannot upload '%s'", path);
		int ret = fail(s, rc, what);

		free(what);
		if (ret == MP_ENOTFOUND) {
			struct strbuf w = STRBUF_INIT;

			where(&w, s->t);
			ret = mp_error_set(MP_EOS, "the remote folder '%s' does not exist on '%s': create it there first",
					   s->t->dest, w.buf);
			strbuf_release(&w);
		}
		return ret;
	}
	return 0;
}

static int download(struct session *s, const char *path, size_t max)
{
	CURLcode rc;

	request_reset(s, path);
	strbuf_reset(&s->down);
	s->down_max = max;
	s->down_over = 0;
	rc = curl_easy_perform(s->curl);
	if (rc == CURLE_WRITE_ERROR && s->down_over)
		return mp_error_set(MP_EPOLICY, "the remote file '%s' is larger than expected (over %zu bytes)", path, max);
	if (rc != CURLE_OK) {
		char *what = xasprintf("cannot read back '%s'", path);
		int ret = fail(s, rc, what);

		free(what);
		return ret;
	}
	return 0;
}

/* Run one sftp command ("rename", "chmod 755", "rm") on the remote. */
static int sftp_cmd(struct session *s, const char *cmd, const char *a, const char *b)
{
	struct curl_slist *q = NULL;
	struct strbuf line = STRBUF_INIT;
	CURLcode rc;
	int ret = 0;

	strbuf_addf(&line, "%s ", cmd);
	quote_path(&line, a);
	if (b) {
		strbuf_addch(&line, ' ');
		quote_path(&line, b);
	}
	q = curl_slist_append(q, line.buf);
	request_reset(s, s->t->dest[0] == '~' ? "~/" : "/");
	curl_easy_setopt(s->curl, CURLOPT_QUOTE, q);
	curl_easy_setopt(s->curl, CURLOPT_NOBODY, 1L);
	rc = curl_easy_perform(s->curl);
	curl_easy_setopt(s->curl, CURLOPT_QUOTE, NULL);
	if (rc != CURLE_OK) {
		char *what = xasprintf("'%s %s%s%s'", cmd, a, b ? " " : "", b ? b : "");

		ret = fail(s, rc, what);
		free(what);
	}
	curl_slist_free_all(q);
	strbuf_release(&line);
	return ret;
}

/* Read `path` back and compare it with what was sent.  0, MP_EPOLICY on a mismatch, or an error. */
static int read_back(struct session *s, const char *path, const void *data, size_t len, const char *sha)
{
	char got[65];
	int ret;
	const char *fail_at = getenv("MESHPUSH_TEST_SSH_FAIL");

	if ((ret = download(s, path, len + 1)) < 0)
		return ret;
	ssh_sha256_hex(got, s->down.buf ? s->down.buf : "", s->down.len);
	if (fail_at && !strcmp(fail_at, "verify"))
		got[0] = got[0] == '0' ? '1' : '0'; /* tests: a read-back that does not match */
	if (s->down.len != len || strcmp(got, sha))
		return mp_error_set(MP_EPOLICY,
				    "the read-back of '%s' does not match what was sent (%zu bytes, sha256 %.12s…; "
				    "sent %zu bytes, sha256 %.12s…)",
				    path, s->down.len, got, len, sha);
	(void)data;
	return 0;
}

/* The VERIFY of ssh_put(): read the file back in place, timed. */
static int verify_final(struct session *s, struct ssh_put_result *out, const void *data, size_t len)
{
	double start = now_ms();
	int ret = read_back(s, out->remote_path, data, len, out->sha256);

	out->verify_ms += now_ms() - start;
	if (ret == MP_EPOLICY)
		out->verify_failed = 1;
	return ret;
}

/* Keep the first error's message while a clean-up step may set another. */
static void restore_note(int ok, const char *what, const char *path)
{
	char *first = xstrdup(mp_error_last());

	if (ok)
		mp_error_set(MP_EOS, "%s; the remote was put back as it was (%s)", first, what);
	else
		mp_error_set(MP_EOS, "%s; putting the remote back FAILED: %s by hand ('%s')", first, what, path);
	free(first);
}

/*
 * sftp: upload to a hidden temporary name, chmod it, rename the existing
 * file to its backup, rename the temporary into place, read it back.
 */
static int sftp_put(struct session *s, struct ssh_put_result *out, const char *name, const void *data,
		    size_t len, int mode)
{
	const char *fail_at = getenv("MESHPUSH_TEST_SSH_FAIL");
	char *tmp = NULL, *modestr = NULL;
	int exists, ret, undo;

	tmp = xasprintf("%s/.%s.meshpush-tmp-%ld", s->t->dest, name, (long)getpid());
	if ((exists = remote_exists(s, out->remote_path)) < 0) {
		ret = exists;
		goto cleanup;
	}
	if ((ret = upload(s, tmp, data, len, mode)) < 0)
		goto remove_tmp;
	modestr = xasprintf("chmod %o", mode);
	if ((ret = sftp_cmd(s, modestr, tmp, NULL)) < 0)
		goto remove_tmp;
	if (exists) {
		if ((ret = pick_backup(&out->backup_path, s, out->remote_path)) < 0)
			goto remove_tmp;
		if ((ret = sftp_cmd(s, "rename", out->remote_path, out->backup_path)) < 0) {
			free(out->backup_path);
			out->backup_path = NULL;
			goto remove_tmp;
		}
	}
	if (fail_at && !strcmp(fail_at, "rename"))
		ret = mp_error_set(MP_EOS, "cannot move '%s' into place (test failure)", tmp);
	else
		ret = sftp_cmd(s, "rename", tmp, out->remote_path);
	if (ret < 0) {
		if (out->backup_path) {
			undo = sftp_cmd(s, "rename", out->backup_path, out->remote_path);
			restore_note(undo == 0, "backup renamed back", out->backup_path);
			if (undo == 0) {
				free(out->backup_path);
				out->backup_path = NULL;
			}
		}
		goto remove_tmp;
	}
	ret = verify_final(s, out, data, len);
	if (ret < 0) {
		int code = ret;

		undo = sftp_cmd(s, "rm", out->remote_path, NULL);
		if (undo == 0 && out->backup_path)
			undo = sftp_cmd(s, "rename", out->backup_path, out->remote_path);
		restore_note(undo == 0, out->backup_path ? "new file removed, backup renamed back" : "new file removed",
			     out->backup_path ? out->backup_path : out->remote_path);
		if (undo == 0) {
			free(out->backup_path);
			out->backup_path = NULL;
		}
		ret = code;
		goto cleanup;
	}
	out->verified = 1;
	goto cleanup;

remove_tmp: {
	char *first = xstrdup(mp_error_last());

	sftp_cmd(s, "rm", tmp, NULL); /* best effort: a hidden leftover is harmless */
	mp_error_set(ret, "%s", first);
	free(first);
}
cleanup:
	free(modestr);
	free(tmp);
	return ret;
}

/*
 * scp cannot rename: copy the existing file to its backup name (read back
 * to be sure), then write the new file in place, read it back; on failure
 * write the old content again.
 */
static int scp_put(struct session *s, struct ssh_put_result *out, const char *name, const void *data,
		   size_t len, int mode)
{
	char oldsha[65];
	char *old = NULL;
	size_t oldlen = 0;
	int ret;

	(void)name;
	ret = download(s, out->remote_path, 0);
	if (ret == 0) {
		oldlen = s->down.len;
		old = strbuf_detach(&s->down);
		ssh_sha256_hex(oldsha, old, oldlen);
		if ((ret = pick_backup(&out->backup_path, s, out->remote_path)) < 0)
			goto cleanup;
		if ((ret = upload(s, out->backup_path, old, oldlen, 0644)) < 0 ||
		    (ret = read_back(s, out->backup_path, old, oldlen, oldsha)) < 0) {
			free(out->backup_path);
			out->backup_path = NULL;
			goto cleanup;
		}
	} else if (ret == MP_ENOTFOUND || scp_missing(s)) {
		mp_error_clear(); /* nothing to back up */
	} else {
		goto cleanup;
	}
	if ((ret = upload(s, out->remote_path, data, len, mode)) < 0 ||
	    (ret = verify_final(s, out, data, len)) < 0) {
		int code = ret, undo = 0;

		if (old)
			undo = upload(s, out->remote_path, old, oldlen, mode);
		restore_note(undo == 0, old ? "old content written back" : "nothing was there before",
			     out->backup_path ? out->backup_path : out->remote_path);
		ret = code;
		goto cleanup;
	}
	out->verified = 1;
cleanup:
	free(old);
	return ret;
}

/*
 * Is the remote folder there?  sftp: stat "DEST/." (a folder listing cut
 * short would close the connection); scp cannot look at folders: a name
 * that is not there checks the connection.
 */
static int check_dest(struct session *s)
{
	struct strbuf w = STRBUF_INIT;
	char *probe;
	int ret;

	probe = xasprintf("%s/%s", s->t->dest, s->proto == SSH_PROTO_SCP ? ".meshpush-probe" : ".");
	ret = remote_exists(s, probe);
	if (ret == 0 && s->proto == SSH_PROTO_SFTP) {
		where(&w, s->t);
		ret = mp_error_set(MP_EOS, "the remote folder '%s' does not exist on '%s': create it there first",
				   s->t->dest, w.buf);
	}
	strbuf_release(&w);
	free(probe);
	return ret < 0 ? ret : 0;
}

struct ssh_conn {
	struct session s;
};

int ssh_connect(struct ssh_conn **out, const struct ssh_opts *opts, const struct ssh_target *t)
{
	struct ssh_conn *c = xcalloc(1, sizeof(*c));
	int ret;

	*out = NULL;
	ret = session_open(&c->s, opts, t, opts->proto == SSH_PROTO_SCP ? SSH_PROTO_SCP : SSH_PROTO_SFTP);
	if (ret == 0)
		ret = check_dest(&c->s);
	/* libcurl says CURLE_FAILED_INIT, "Failure initializing sftp session", when the server has no sftp */
	if (ret < 0 && opts->proto == SSH_PROTO_AUTO && c->s.proto == SSH_PROTO_SFTP &&
	    strstr(mp_error_last(), "initializing sftp")) {
		session_close(&c->s);
		mp_error_clear();
		ret = session_open(&c->s, opts, t, SSH_PROTO_SCP);
		if (ret == 0)
			ret = check_dest(&c->s);
	}
	if (ret < 0) {
		ssh_conn_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

const char *ssh_conn_proto(const struct ssh_conn *c)
{
	return c->s.proto == SSH_PROTO_SCP ? "scp" : "sftp";
}

void ssh_conn_free(struct ssh_conn *c)
{
	if (!c)
		return;
	session_close(&c->s);
	free(c);
}

int ssh_conn_put(struct ssh_put_result *out, struct ssh_conn *c, const char *name, const void *data, size_t len,
		 int mode)
{
	struct session *s = &c->s;
	double start = now_ms();
	int ret;

	memset(out, 0, sizeof(*out));
	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return mp_error_set(MP_EUSAGE, "'%s' is not a plain file name", name);
	out->size = len;
	ssh_sha256_hex(out->sha256, data, len);
	out->remote_path = xasprintf("%s/%s", s->t->dest, name);
	out->proto = ssh_conn_proto(c);
	ret = s->proto == SSH_PROTO_SCP ? scp_put(s, out, name, data, len, mode) : sftp_put(s, out, name, data, len, mode);
	out->ms = now_ms() - start;
	return ret;
}

int ssh_put(struct ssh_put_result *out, const struct ssh_opts *opts, const struct ssh_target *t,
	    const char *name, const void *data, size_t len, int mode)
{
	struct ssh_conn *c = NULL;
	double start = now_ms();
	int ret;

	memset(out, 0, sizeof(*out));
	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return mp_error_set(MP_EUSAGE, "'%s' is not a plain file name", name);
	if ((ret = ssh_connect(&c, opts, t)) < 0)
		return ret;
	ret = ssh_conn_put(out, c, name, data, len, mode);
	ssh_conn_free(c);
	out->ms = now_ms() - start;
	return ret;
}

int ssh_check(const char **proto_out, const struct ssh_opts *opts, const struct ssh_target *t)
{
	struct ssh_conn *c = NULL;
	int ret = ssh_connect(&c, opts, t);

	if (proto_out)
		*proto_out = c ? ssh_conn_proto(c) : NULL;
	ssh_conn_free(c);
	return ret;
}

int ssh_get(char **out, size_t *out_len, const struct ssh_opts *opts, const struct ssh_target *t,
	    const char *path, size_t max)
{
	struct session s;
	int ret;

	*out = NULL;
	*out_len = 0;
	ret = session_open(&s, opts, t, opts->proto == SSH_PROTO_SCP ? SSH_PROTO_SCP : SSH_PROTO_SFTP);
	if (ret == 0)
		ret = download(&s, path, max);
	if (ret < 0 && opts->proto == SSH_PROTO_AUTO && strstr(mp_error_last(), "initializing sftp")) {
		session_close(&s);
		ret = session_open(&s, opts, t, SSH_PROTO_SCP);
		if (ret == 0)
			ret = download(&s, path, max);
	}
	if (ret == 0) {
		*out_len = s.down.len;
		*out = strbuf_detach(&s.down);
	}
	session_close(&s);
	return ret;
}
