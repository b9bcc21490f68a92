/* Unit tests for src/config: layers, errors with file:line, secret sources. */
#include "config/config.h"
#include "error.h"
#include "unit.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int load_text(struct config *cfg, const char *text)
{
	return config_add_text(cfg, ".meshpush.ini", text, strlen(text), CONFIG_REPO);
}

static void config_defaults__apply_without_files(void)
{
	struct config cfg = CONFIG_INIT;

	is_str(config_get(&cfg, "mesh", NULL, "production"), "main", "production defaults to main");
	is_str(config_get(&cfg, "mesh", NULL, "announce_failure"), "queue", "announce_failure defaults to queue");
	is_str(config_get(&cfg, "install", "x", "from"), "shared/voltagent", "install.from has a default");
	ok(config_lookup(&cfg, "mesh", NULL, "production") == NULL, "a default has no entry");
	config_release(&cfg);
}

static void config_layers__higher_layer_wins(void)
{
	struct config cfg = CONFIG_INIT;

	ok(load_text(&cfg, "[mesh]\nproduction = main release\n") == 0, "repo file parses");
	ok(config_add_text(&cfg, "user.ini", "[mesh]\nproduction = next\n", 24, CONFIG_USER) == 0, "user file parses");
	is_str(config_get(&cfg, "mesh", NULL, "production"), "next", "user layer overrides repo layer");
	ok(config_set(&cfg, "mesh", NULL, "production", "flag", CONFIG_CMDLINE, "command line") == 0, "flag accepted");
	ok(config_set(&cfg, "mesh", NULL, "production", "env", CONFIG_ENV, "environment") == 0, "env accepted later");
	is_str(config_get(&cfg, "mesh", NULL, "production"), "flag", "a flag beats the environment whatever the order");
	is_str(config_lookup(&cfg, "mesh", NULL, "production")->origin, "command line", "origin is recorded");
	config_release(&cfg);
}

static void config_load__environment_and_overrides(void)
{
	struct config cfg = CONFIG_INIT;
	struct config_load_opts opts = CONFIG_LOAD_OPTS_INIT;
	struct strlist ov = STRLIST_INIT;
	char *dir = unit_tmpdir(), *ini = NULL;

	ini = malloc(strlen(dir) + 32);
	sprintf(ini, "%s/.meshpush.ini", dir);
	unit_write_file(ini, "[mesh]\nretries = 5\ntimeout = 7\n[agent \"oracle\"]\nwebhook = http://127.0.0.1:1/hooks/agent\n", 0644);
	setenv("XDG_CONFIG_HOME", dir, 1); /* no meshpush/config.ini there */
	setenv("MESHPUSH_MESH_RETRIES", "9", 1);
	strlist_push(&ov, "agent.oracle.webhook=http://127.0.0.1:2/hooks/agent");
	opts.worktree = dir;
	opts.overrides = &ov;
	ok(config_load(&cfg, &opts) == 0, "loads");
	is_int(config_get_int(&cfg, "mesh", NULL, "retries"), 9, "MESHPUSH_MESH_RETRIES beats the file");
	is_int(config_get_int(&cfg, "mesh", NULL, "timeout"), 7, "the file beats the default");
	is_str(config_get(&cfg, "agent", "oracle", "webhook"), "http://127.0.0.1:2/hooks/agent", "-c beats the file");
	unsetenv("MESHPUSH_MESH_RETRIES");
	config_release(&cfg);
	strlist_release(&ov);
	unlink(ini);
	rmdir(dir);
	free(ini);
	free(dir);
}

static void config_errors__name_file_and_line(void)
{
	struct config cfg = CONFIG_INIT;

	ok(load_text(&cfg, "[mesh]\nproduction = main\nproducton = main\n") == MP_ECONFIG, "unknown key refused");
	is_str(mp_error_last(), ".meshpush.ini:3: unknown key 'producton' in section 'mesh'", "names file, line and key");
	config_release(&cfg);

	ok(load_text(&cfg, "[mesh]\n\n[bogus]\nx = 1\n") == MP_ECONFIG, "unknown section refused");
	is_str(mp_error_last(), ".meshpush.ini:4: unknown section 'bogus'", "names the section");
	config_release(&cfg);

	ok(load_text(&cfg, "[mesh]\nthis line has no equals sign\n") == MP_ECONFIG, "syntax error refused");
	ok(strstr(mp_error_last(), ".meshpush.ini:2:") != NULL, "syntax error names the line");
	config_release(&cfg);

	ok(load_text(&cfg, "[mesh]\nannounce_failure = sometimes\n") == MP_ECONFIG, "bad enum refused");
	ok(strstr(mp_error_last(), "queue|block") != NULL, "bad enum lists the choices");
	config_release(&cfg);

	ok(load_text(&cfg, "[agent]\nhost = 127.0.0.1\n") == MP_ECONFIG, "agent section without a name refused");
	config_release(&cfg);
}

static void config_errors__long_line_is_not_truncated(void)
{
	struct config cfg = CONFIG_INIT;
	char text[600] = "[mesh]\nshared = ";

	memset(text + strlen(text), 'a', 400);
	strcat(text, "\n");
	ok(load_text(&cfg, text) == MP_ECONFIG, "an over-long line is an error, not silently cut");
	ok(strstr(mp_error_last(), ":2: line longer than") != NULL, "and says which line");
	config_release(&cfg);
}

static void config_continuation__joins_values(void)
{
	struct config cfg = CONFIG_INIT;

	ok(load_text(&cfg, "[rule \"x\"]\nregex = abc\n  def\n[mesh]\nshared = a\n  b\n") == 0, "continuations parse");
	is_str(config_get(&cfg, "rule", "x", "regex"), "abcdef", "a regex continues without a space");
	is_str(config_get(&cfg, "mesh", NULL, "shared"), "a b", "other values continue with a space");
	config_release(&cfg);
}

static void config_tokens__refused_in_committed_file(void)
{
	struct config cfg = CONFIG_INIT;

	ok(load_text(&cfg, "[token]\noracle = env:X\n") == MP_ECONFIG, "[token] in .meshpush.ini refused");
	ok(strstr(mp_error_last(), "must not be in the committed file") != NULL, "says why");
	config_release(&cfg);
	ok(load_text(&cfg, "[agent \"o\"]\nwebhook = http://u:hunter2hunter2@127.0.0.1/\n") == MP_ECONFIG,
	   "a URL with a password in .meshpush.ini refused");
	ok(strstr(mp_error_last(), "hunter2") == NULL, "the password is not in the message");
	config_release(&cfg);
	ok(config_add_text(&cfg, "user.ini", "[token]\noracle = s3cr3t-literal\n", 31, CONFIG_USER) == MP_ECONFIG,
	   "a literal token is refused even in the user file");
	ok(strstr(mp_error_last(), "s3cr3t") == NULL, "the literal is not echoed");
	config_release(&cfg);
}

static void config_tokens__sources(void)
{
	struct config cfg = CONFIG_INIT;
	char *dir = unit_tmpdir(), path[256], text[400], *tok = NULL;
	const char *src = NULL;

	snprintf(path, sizeof(path), "%s/tok", dir);
	unit_write_file(path, "file-token-value\n", 0600);
	snprintf(text, sizeof(text), "[token]\noracle = file:%s\nsandman = env:UNIT_TOKEN\nnone = env:UNIT_UNSET_VAR\n", path);
	ok(config_add_text(&cfg, "user.ini", text, strlen(text), CONFIG_USER) == 0, "token sources accepted");
	ok(config_token(&tok, &src, &cfg, "oracle") == 0, "file token resolves");
	is_str(tok, "file-token-value", "file token read without its newline");
	free(tok);
	setenv("UNIT_TOKEN", "env-token-value", 1);
	ok(config_token(&tok, &src, &cfg, "sandman") == 0, "env token resolves");
	is_str(tok, "env-token-value", "env token value");
	is_str(src, "env:UNIT_TOKEN", "the source is reported");
	free(tok);
	ok(config_token(&tok, NULL, &cfg, "none") == MP_ECONFIG, "unset variable is an error");
	ok(config_token(&tok, NULL, &cfg, "nobody") == MP_ENOTFOUND, "no token configured");
	chmod(path, 0644);
	ok(config_token(&tok, NULL, &cfg, "oracle") == MP_ECONFIG, "a 0644 token file is refused");
	ok(strstr(mp_error_last(), "chmod 600") != NULL, "and the message says how to fix it");
	ok(strstr(mp_error_last(), "file-token-value") == NULL, "without showing the token");
	unlink(path);
	rmdir(dir);
	free(dir);
	config_release(&cfg);
}

int main(void)
{
	RUN(config_defaults__apply_without_files);
	RUN(config_layers__higher_layer_wins);
	RUN(config_load__environment_and_overrides);
	RUN(config_errors__name_file_and_line);
	RUN(config_errors__long_line_is_not_truncated);
	RUN(config_continuation__joins_values);
	RUN(config_tokens__refused_in_committed_file);
	RUN(config_tokens__sources);
	return unit_done();
}
