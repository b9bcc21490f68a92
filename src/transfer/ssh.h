/*
 * Direct transfers to an agent over SSH (sftp, or scp where the server has
 * no sftp subsystem), through libcurl and libssh2.
 *
 * Rules the module enforces whatever the caller asks:
 *   - public-key authentication only (ssh-agent or a key file): a server
 *     that offers only passwords is refused;
 *   - strict host-key checking against a known_hosts file: an unknown or a
 *     changed host key is refused with its SHA256 fingerprint;
 *   - never overwrite without a backup: an existing remote file is first
 *     renamed to NAME.meshpush-backup-<UTC time>, and any failure after that
 *     puts it back;
 *   - the upload is read back and compared (size and SHA-256).
 *
 * See docs/push.md for the sequence of remote operations.
 */
#ifndef MP_TRANSFER_SSH_H
#define MP_TRANSFER_SSH_H

#include <stddef.h>

enum ssh_proto {
	SSH_PROTO_AUTO = 0, /* sftp, falling back to scp when the server has no sftp */
	SSH_PROTO_SFTP,
	SSH_PROTO_SCP
};

/* Where to: the agent's `ssh` (user@host), `ssh_port` and `dest`. */
struct ssh_target {
	char *user;
	char *host;
	int port;
	char *dest; /* remote folder: absolute, or "~/..." relative to the login's home */
};
#define SSH_TARGET_INIT { NULL, NULL, 22, NULL }

/* How: the local side's SSH settings ([ssh] keys). */
struct ssh_opts {
	const char *known_hosts; /* known_hosts file (~ expanded by the module) */
	const char *identity;    /* private key file, or NULL: ~/.ssh/id_ed25519, id_ecdsa, id_rsa */
	long connect_timeout;    /* seconds, 0: libcurl's default */
	long limit_rate;         /* bytes per second for the upload, 0: no limit */
	enum ssh_proto proto;
};
#define SSH_OPTS_INIT { NULL, NULL, 0, 0, SSH_PROTO_AUTO }

/* What ssh_put() did. */
struct ssh_put_result {
	const char *proto;  /* "sftp" or "scp" (static) */
	char *remote_path;  /* dest/name */
	char *backup_path;  /* where the previous file went, NULL when there was none */
	int verified;       /* 1 when the read-back matched in size and SHA-256 */
	int verify_failed;  /* the read-back did not match (the remote was put back) */
	double verify_ms;   /* time spent reading back */
	size_t size;
	char sha256[65];    /* hex of what was sent */
	double ms;
};
#define SSH_PUT_RESULT_INIT { NULL, NULL, NULL, 0, 0, 0, 0, { 0 }, 0 }

/*
 * Fill `out` from the agent's "user@host" (user optional: then the local
 * user), `port` and remote folder `dest`.  Returns 0 or MP_ECONFIG.
 */
int ssh_target_parse(struct ssh_target *out, const char *user_at_host, long port, const char *dest);

void ssh_target_release(struct ssh_target *t);

/*
 * Put `len` bytes of `data` at `t->dest`/`name` on the remote with `mode`
 * (e.g. 0755 for scripts): upload to a temporary name, back up the file
 * already there, move the upload into place, set the mode, read it back.
 * When anything fails after the backup, the remote is put back as it was.
 *
 * Returns 0 with `out` filled and `out->verified` set; MP_EPOLICY for a
 * refused host key or authentication, or a read-back that did not match;
 * MP_ENET when the agent cannot be reached; MP_EOS for a remote failure.
 * The error says what to do.  `out` is filled as far as the transfer got.
 */
int ssh_put(struct ssh_put_result *out, const struct ssh_opts *opts, const struct ssh_target *t,
	    const char *name, const void *data, size_t len, int mode);

void ssh_put_result_release(struct ssh_put_result *r);

/*
 * An open connection to one agent, for several ssh_conn_put() calls (and
 * no second handshake between the check and the transfer).
 *
 * ssh_connect() connects to `t`, checking the host key, the key
 * authentication and that `t->dest` exists (sftp; over scp, which cannot
 * look at folders, the connection only), and sends nothing.  `opts` and
 * `t` must outlive the connection.  Returns 0 with `*out` set, or as
 * ssh_put().  libcurl reconnects (with the same checks) if the server
 * closed it meanwhile.
 */
struct ssh_conn;
int ssh_connect(struct ssh_conn **out, const struct ssh_opts *opts, const struct ssh_target *t);

/* "sftp" or "scp": what the connection speaks. */
const char *ssh_conn_proto(const struct ssh_conn *c);

/* ssh_put() over an open connection. */
int ssh_conn_put(struct ssh_put_result *out, struct ssh_conn *c, const char *name, const void *data, size_t len,
		 int mode);

void ssh_conn_free(struct ssh_conn *c);

/*
 * Connect to `t` as ssh_put() would, checking the host key, the key
 * authentication and that `t->dest` exists (sftp; over scp only the
 * connection can be checked), and send nothing.  `*proto_out` (may be
 * NULL) receives "sftp" or "scp".  Returns 0, or as ssh_put().
 */
int ssh_check(const char **proto_out, const struct ssh_opts *opts, const struct ssh_target *t);

/*
 * Read the remote file `path` (absolute, or relative to the login's home)
 * into `*out` (`*out_len` bytes), with the same checks as ssh_put().  At
 * most `max` bytes are read (0: no limit).  Returns 0, MP_ENOTFOUND, or as
 * ssh_put().
 */
int ssh_get(char **out, size_t *out_len, const struct ssh_opts *opts, const struct ssh_target *t,
	    const char *path, size_t max);

/* The hex SHA-256 of `len` bytes of `data` into `hex` (65 bytes). */
void ssh_sha256_hex(char hex[65], const void *data, size_t len);

#endif
