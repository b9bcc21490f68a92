/* git meshpush init: a commented .meshpush.ini when missing, then the hooks. */
#include "cli/cmd.h"
#include "cli/opt.h"
#include "error.h"
#include "util/fs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Every section of the mesh's configuration, with the protocol's example
 * addresses only in comments: a fresh file points nowhere.
 */
static const char template_ini[] =
	"; .meshpush.ini: the mesh's shared git-meshpush configuration.\n"
	"; Commit it: every agent's clone reads it.  Written by 'git meshpush init'.\n"
	"; All keys and defaults: 'git meshpush config --keys' and 'man git-meshpush'.\n"
	";\n"
	"; Never put a token here.  Each agent names its tokens in its own\n"
	"; ~/.config/meshpush/config.ini (never committed):\n"
	";   [self]\n"
	";   agent = sandman\n"
	";   [token]\n"
	";   oracle = env:MESH_TOKEN_ORACLE      ; or file:~/.config/meshpush/tokens/oracle (chmod 600)\n"
	"\n"
	"[mesh]\n"
	"; branches whose pushes must be announced to the mesh\n"
	"production = main\n"
	"; when no agent can be told: queue the announcement and go on, or block the push\n"
	"announce_failure = queue\n"
	"; repository folders whose changes are announced, tested and installed\n"
	"shared = shared protocols scripts\n"
	"; a command run (without a shell) before a push that touches the shared folders,\n"
	"; and how many seconds it may take:\n"
	";test = node shared/voltagent/selftest.js\n"
	";test_timeout = 300\n"
	"\n"
	"; One section per agent of the mesh.  Example, with the protocol's addresses:\n"
	";[agent \"oracle\"]\n"
	";host = 100.113.222.30\n"
	";webhook = http://100.113.222.30:18789/hooks/agent\n"
	";ssh = root@100.113.222.30\n"
	";dest = /root/clawd/voltagent/\n"
	"\n"
	"; Where each agent installs the shared files it pulls (a backup is kept of\n"
	"; everything replaced; 'git meshpush rollback' undoes an install):\n"
	";[install \"voltagent\"]\n"
	";from = shared/voltagent\n"
	";to = ~/workspace/voltagent\n"
	";executable = *.js *.sh\n"
	";verify = node {} --help\n"
	"\n"
	"[scan]\n"
	"; path globs never scanned for secrets\n"
	";allow_paths = docs/examples/**\n"
	"; fingerprints of accepted findings, one a line\n"
	";ignore_file = .meshpushignore\n";

int cmd_init(int argc, const char **argv, struct cmd_ctx *ctx)
{
	static const struct opt_spec opts[] = { OPT_END() };
	static const struct opt_usage usage = { "init", NULL,
						"write a commented .meshpush.ini when missing and install the hooks", opts };
	const char *hooks_argv[] = { "hooks", "install", NULL };
	struct config check = CONFIG_INIT;
	char *path = NULL;
	int ret = 0;

	OPT_PARSE_OR_RETURN(&usage, argc, argv);

	path = fs_join(ctx->workdir, ".meshpush.ini");
	if (fs_exists(path)) {
		printf(".meshpush.ini exists already: left as it is (%s)\n", path);
	} else {
		/* the template must load cleanly: check it before writing it */
		if ((ret = config_add_text(&check, ".meshpush.ini", template_ini, strlen(template_ini),
					   CONFIG_REPO)) < 0 ||
		    (ret = fs_write_atomic(path, template_ini, strlen(template_ini), 0644)) < 0) {
			mp_error_print();
			ret = mp_exit_code(ret);
			goto cleanup;
		}
		printf("wrote %s: edit it, then commit it for the mesh\n", path);
	}
	ret = cmd_hooks(2, hooks_argv, ctx);

cleanup:
	config_release(&check);
	free(path);
	return ret;
}
