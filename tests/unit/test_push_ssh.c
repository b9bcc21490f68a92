/* Unit tests for src/transfer/ssh: addresses, hashes, refusals before any byte is sent. */
#include "error.h"
#include "transfer/ssh.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

static void ssh_target_parse__user_host_dest(void)
{
	struct ssh_target t = SSH_TARGET_INIT;

	is_int(ssh_target_parse(&t, "root@127.0.0.1", 2222, "/root/clawd/voltagent/"), 0, "parses");
	is_str(t.user, "root", "user");
	is_str(t.host, "127.0.0.1", "host");
	is_int(t.port, 2222, "port");
	is_str(t.dest, "/root/clawd/voltagent", "trailing slashes dropped");
	ssh_target_release(&t);

	is_int(ssh_target_parse(&t, "deploy@[::1]", 22, "~/voltagent"), 0, "IPv6 in brackets");
	is_str(t.host, "::1", "brackets removed");
	is_str(t.dest, "~/voltagent", "home-relative folder kept");
	ssh_target_release(&t);

	is_int(ssh_target_parse(&t, "root@127.0.0.1", 22, "/"), 0, "the root folder");
	is_str(t.dest, "/", "'/' stays '/'");
	ssh_target_release(&t);
}

static void ssh_target_parse__refuses_bad_input(void)
{
	struct ssh_target t = SSH_TARGET_INIT;

	is_int(ssh_target_parse(&t, "root@127.0.0.1", 22, "relative/dir"), MP_ECONFIG, "relative dest");
	ok(strstr(mp_error_last(), "must be absolute") != NULL, "says why");
	is_int(ssh_target_parse(&t, "", 22, "/x"), MP_ECONFIG, "no address");
	is_int(ssh_target_parse(&t, "root@", 22, "/x"), MP_ECONFIG, "no host");
	is_int(ssh_target_parse(&t, "root@h/x", 22, "/x"), MP_ECONFIG, "slash in host");
	is_int(ssh_target_parse(&t, "root@h", 70000, "/x"), MP_ECONFIG, "port out of range");
	is_int(ssh_target_parse(&t, "root@h", 22, NULL), MP_ECONFIG, "no dest");
}

static void ssh_sha256_hex__known_vectors(void)
{
	char hex[65];

	ssh_sha256_hex(hex, "", 0);
	is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "empty");
	ssh_sha256_hex(hex, "abc", 3);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "abc");
}

static void ssh_put__refuses_a_path_as_name(void)
{
	struct ssh_put_result r = SSH_PUT_RESULT_INIT;
	struct ssh_opts o = SSH_OPTS_INIT;
	struct ssh_target t = SSH_TARGET_INIT;

	o.known_hosts = "/nonexistent/known_hosts";
	ssh_target_parse(&t, "root@127.0.0.1", 22, "/tmp");
	is_int(ssh_put(&r, &o, &t, "../etc/passwd", "x", 1, 0644), MP_EUSAGE, "a name with a slash");
	is_int(ssh_put(&r, &o, &t, "..", "x", 1, 0644), MP_EUSAGE, "'..'");
	ssh_put_result_release(&r);
	ssh_target_release(&t);
}

static void ssh_put__unreachable_is_a_network_error(void)
{
	struct ssh_put_result r = SSH_PUT_RESULT_INIT;
	struct ssh_opts o = SSH_OPTS_INIT;
	struct ssh_target t = SSH_TARGET_INIT;
	char *dir = unit_tmpdir(), *key = NULL, *cmd;
	int ret;

	/* a key file must exist (the module refuses to run without one or an agent) */
	key = malloc(strlen(dir) + 16);
	sprintf(key, "%s/id", dir);
	cmd = malloc(strlen(key) + 32);
	sprintf(cmd, "printf x > '%s'", key);
	ok(system(cmd) == 0, "key file written");
	o.known_hosts = "/nonexistent/known_hosts";
	o.identity = key;
	o.connect_timeout = 2;
	ssh_target_parse(&t, "root@127.0.0.1", 1, "/tmp"); /* port 1: nothing listens */
	ret = ssh_put(&r, &o, &t, "a.js", "x", 1, 0644);
	is_int(ret, MP_ENET, "connection refused: MP_ENET");
	ok(strstr(mp_error_last(), "cannot reach 'root@127.0.0.1:1'") != NULL, "names the agent");
	ok(!r.verified && !r.backup_path, "nothing verified, no backup");
	ssh_put_result_release(&r);
	ssh_target_release(&t);
	sprintf(cmd, "rm -rf '%s'", dir);
	(void)!system(cmd);
	free(cmd);
	free(key);
	free(dir);
}

static void ssh_put__missing_identity_is_a_config_error(void)
{
	struct ssh_put_result r = SSH_PUT_RESULT_INIT;
	struct ssh_opts o = SSH_OPTS_INIT;
	struct ssh_target t = SSH_TARGET_INIT;

	o.known_hosts = "/nonexistent/known_hosts";
	o.identity = "/nonexistent/id_ed25519";
	ssh_target_parse(&t, "root@127.0.0.1", 1, "/tmp");
	is_int(ssh_put(&r, &o, &t, "a.js", "x", 1, 0644), MP_ECONFIG, "unreadable [ssh] identity");
	ok(strstr(mp_error_last(), "/nonexistent/id_ed25519") != NULL, "names the key file");
	ssh_put_result_release(&r);
	ssh_target_release(&t);
}

int main(void)
{
	RUN(ssh_target_parse__user_host_dest);
	RUN(ssh_target_parse__refuses_bad_input);
	RUN(ssh_sha256_hex__known_vectors);
	RUN(ssh_put__refuses_a_path_as_name);
	RUN(ssh_put__unreachable_is_a_network_error);
	RUN(ssh_put__missing_identity_is_a_config_error);
	return unit_done();
}
