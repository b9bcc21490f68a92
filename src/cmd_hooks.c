/* git meshpush hooks install|uninstall|status: the hook stubs of a repository. */
#include "cli/cmd.h"
#include "cli/opt.h"
#include "error.h"
#include "hooks/hooks.h"

#include <stdio.h>
#include <string.h>

static void print_action(const char *name, enum hook_action a, const char *chained_name)
{
	switch (a) {
	case HOOK_INSTALLED:
		printf("%-14s installed\n", name);
		break;
	case HOOK_INSTALLED_CHAIN:
		printf("%-14s installed; the hook that was there is kept as '%s' and runs too\n", name, chained_name);
		break;
	case HOOK_ALREADY:
		printf("%-14s already installed\n", name);
		break;
	case HOOK_UPDATED:
		printf("%-14s updated\n", name);
		break;
	case HOOK_REMOVED:
		printf("%-14s removed\n", name);
		break;
	case HOOK_RESTORED:
		printf("%-14s removed; the hook that was there before is back\n", name);
		break;
	case HOOK_NOT_INSTALLED:
		printf("%-14s not installed\n", name);
		break;
	case HOOK_LEFT_FOREIGN:
		printf("%-14s not ours, left alone\n", name);
		break;
	}
}

static void print_status(const char *name, const struct hook_status *st)
{
	const char *what = "missing";

	switch (st->state) {
	case HOOK_MISSING:
		what = st->chained ? "missing (a chained hook " HOOKS_CHAINED_SUFFIX " is left: run 'git meshpush hooks install')"
				   : "missing";
		break;
	case HOOK_OURS:
		what = st->chained ? "ours + chained foreign hook" : "ours";
		break;
	case HOOK_OURS_OLD:
		what = st->chained ? "ours, outdated (run 'git meshpush hooks install') + chained foreign hook"
				   : "ours, outdated (run 'git meshpush hooks install')";
		break;
	case HOOK_OURS_EDITED:
		what = st->chained ? "ours, edited + chained foreign hook" : "ours, edited";
		break;
	case HOOK_FOREIGN:
		what = "foreign (run 'git meshpush hooks install' to keep it and chain it)";
		break;
	}
	printf("%-14s %s%s%s\n", name, what, st->symlink ? " (symlink)" : "",
	       st->state != HOOK_MISSING && !st->executable ? " (not executable: git does not run it)" : "");
}

int cmd_hooks(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int server = 0, force = 0, ret = 0;
	struct strlist args = STRLIST_INIT;
	struct hooks_dir dir = HOOKS_DIR_INIT;
	const struct opt_spec opts[] = {
		OPT_BOOL("server", 0, &server, "the server-side hook (pre-receive) of a central repository"),
		OPT_BOOL("force", 'f', &force, "replace an edited stub; install into a hooks directory inside the work tree"),
		OPT_ARGS(&args, "install|uninstall|status", "what to do (default: status)"),
		OPT_END()
	};
	const struct opt_usage usage = { "hooks", "install|uninstall|status [--server] [--force]",
					 "install, uninstall or show the git hooks", opts };
	const char *const *names;
	const char *action;

	OPT_PARSE_OR_RETURN(&usage, argc, argv);

	action = args.nr ? args.items[0] : "status";
	if (args.nr > 1 || (strcmp(action, "install") && strcmp(action, "uninstall") && strcmp(action, "status"))) {
		ret = error_usage("'git meshpush hooks' takes install, uninstall or status, not '%s'",
				  args.nr > 1 ? args.items[1] : action);
		goto cleanup;
	}
	if (!ctx->workdir && !server) {
		ret = error_usage("'%s' is a bare repository: use 'git meshpush hooks %s --server' for its pre-receive hook",
				  ctx->gitdir, action);
		goto cleanup;
	}
	names = server ? hooks_server_names : hooks_client_names;
	if ((ret = hooks_dir_find(&dir, ctx->repo)) < 0) {
		mp_error_print();
		ret = mp_exit_code(ret);
		goto cleanup;
	}
	printf("hooks directory: %s%s\n", dir.path,
	       dir.user_wide ? " (core.hooksPath, global)" : dir.from_config ? " (core.hooksPath)" : "");
	if (dir.user_wide && strcmp(action, "status"))
		warning("core.hooksPath comes from your global git configuration: the hooks in '%s' "
			"serve every repository that uses it, not only this one", dir.path);
	if (!strcmp(action, "install") && dir.in_worktree && !force) {
		ret = error_usage("the hooks directory '%s' (core.hooksPath) is inside the work tree, "
				  "where hooks are usually committed (husky and the like): add the line\n"
				  "    git-meshpush hook NAME \"$@\"\n"
				  "to each of its hooks yourself (see 'git meshpush hooks' in git-meshpush(1)), "
				  "or run 'git meshpush hooks install --force' to install the stubs there anyway",
				  dir.path);
		goto cleanup;
	}

	if (!strcmp(action, "install")) {
		/* all or nothing: refuse before changing any hook */
		for (const char *const *n = names; *n; n++) {
			int rc = hooks_install_check(dir.path, *n, force ? HOOKS_FORCE : 0);

			if (rc < 0) {
				mp_error_print();
				ret = mp_exit_code(rc);
			}
		}
		if (ret) {
			fprintf(stderr, "nothing was changed\n");
			goto cleanup;
		}
	}
	for (const char *const *n = names; *n; n++) {
		struct hook_status st;
		enum hook_action done = HOOK_ALREADY;
		int rc;

		if (!strcmp(action, "status")) {
			rc = hooks_status(&st, dir.path, *n);
			if (rc == 0)
				print_status(*n, &st);
		} else if (!strcmp(action, "install")) {
			rc = hooks_install(&done, dir.path, *n, force ? HOOKS_FORCE : 0);
		} else {
			rc = hooks_uninstall(&done, dir.path, *n, force ? HOOKS_FORCE : 0);
		}
		if (rc < 0) {
			mp_error_print();
			if (!ret || mp_exit_code(rc) > ret)
				ret = mp_exit_code(rc);
			continue;
		}
		if (strcmp(action, "status")) {
			char chained[128];

			snprintf(chained, sizeof(chained), "%s%s", *n, HOOKS_CHAINED_SUFFIX);
			print_action(*n, done, chained);
		}
	}

cleanup:
	hooks_dir_release(&dir);
	strlist_release(&args);
	return ret;
}
