/*
 * git-meshpush: the mesh's code-push protocol, enforced.
 *
 * This file parses the global options, finds the command in the one
 * dispatch table, opens the repository and loads the configuration the
 * command needs, and runs it.  Everything else lives in src/cmd_*.c
 * (thin command files) over the modules in src/<module>/.
 */
#include "cli/cmd.h"
#include "cli/opt.h"
#include "error.h"
#include "net/outbox.h"
#include "util/fs.h"

#include <errno.h>
#include <git2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cmd {
	const char *name;
	cmd_fn fn;
	unsigned needs;
	const char *summary;
};

static const struct cmd commands[] = {
	{ "init", cmd_init, NEED_WORKTREE | NEED_CONFIG, "write a commented .meshpush.ini and install the hooks" },
	{ "hooks", cmd_hooks, NEED_REPO, "install, uninstall or show the git hooks" },
	{ "hook", cmd_hook, NEED_REPO | NEED_CONFIG, "run a hook (what the installed hook stubs call)" },
	{ "scan", cmd_scan, TRY_REPO | LAZY_REPO | NEED_CONFIG, "scan files, the index, commits or stdin for secrets" },
	{ "push", cmd_push, NEED_WORKTREE | NEED_CONFIG, "push files to agents: prepare, announce, push, verify, confirm" },
	{ "announce", cmd_announce, TRY_REPO | NEED_CONFIG, "send a code-push announcement to the mesh" },
	{ "outbox", cmd_outbox, TRY_REPO | NEED_CONFIG, "list or deliver announcements not yet delivered" },
	{ "install", cmd_install, NEED_WORKTREE | NEED_CONFIG, "install changed shared files into the workspace" },
	{ "rollback", cmd_rollback, NEED_WORKTREE | NEED_CONFIG, "restore files from the backups of an install" },
	{ "status", cmd_status, TRY_REPO | NEED_CONFIG, "show what is installed, pending and queued" },
	{ "log", cmd_log, NEED_REPO, "show the audit journal" },
	{ "agents", cmd_agents, TRY_REPO | NEED_CONFIG, "list the mesh's agents and whether their gateways answer" },
	{ "config", cmd_config, TRY_REPO | NEED_CONFIG, "show the effective configuration (tokens masked)" },
	{ "version", cmd_version, 0, "print the version" },
};

static void print_usage(FILE *fp)
{
	fputs("usage: git meshpush [-C PATH] [-c SECTION.KEY=VALUE] <command> [<args>]\n\n"
	      "commands:\n", fp);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(fp, "    %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\nrun 'git meshpush <command> --help' for a command's options, 'man git-meshpush' for all\n", fp);
}

/* Whether a command's arguments ask for its usage (-h or --help before "--"). */
static int asks_for_help(int argc, const char **argv)
{
	for (int k = 1; k < argc && strcmp(argv[k], "--"); k++)
		if (!strcmp(argv[k], "-h") || !strcmp(argv[k], "--help"))
			return 1;
	return 0;
}

static const struct cmd *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int cmd_version(int argc, const char **argv, struct cmd_ctx *ctx)
{
	static const struct opt_spec opts[] = { OPT_END() };
	static const struct opt_usage usage = { "version", NULL, "print the version", opts };
	int major, minor, rev;

	OPT_PARSE_OR_RETURN(&usage, argc, argv);
	git_libgit2_version(&major, &minor, &rev);
	printf("git-meshpush version %s (libgit2 %d.%d.%d)\n", MP_VERSION, major, minor, rev);
	return 0;
}

/*
 * Whether this run first delivers what waits in the outbox: every command
 * with a configuration but the outbox's own, config, and the commit-time
 * paths that must stay instant or run on the central repository (scan,
 * which the pre-commit framework runs as its hook, and the pre-commit and
 * pre-receive hooks).
 */
static int wants_autoflush(const struct cmd *cmd, int argc, const char **argv)
{
	static const char *const never[] = { "outbox", "config", "scan" };
	int i;

	if (!(cmd->needs & NEED_CONFIG))
		return 0;
	for (size_t k = 0; k < ARRAY_SIZE(never); k++)
		if (!strcmp(cmd->name, never[k]))
			return 0;
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 0;
	if (strcmp(cmd->name, "hook"))
		return 1;
	/* the hook's name follows the options of 'hook' (--stub PATH, --stub=PATH) */
	for (i = 1; i < argc && argv[i][0] == '-'; i++)
		if (!strcmp(argv[i], "--stub"))
			i++;
	return i < argc && strcmp(argv[i], "pre-commit") && strcmp(argv[i], "pre-receive");
}

/* Load .meshpush.ini from the work tree, or from HEAD in a bare repository. */
static int load_config(struct cmd_ctx *ctx)
{
	struct config_load_opts opts = CONFIG_LOAD_OPTS_INIT;
	git_object *blob = NULL;
	int ret;

	opts.overrides = &ctx->overrides;
	if (ctx->workdir) {
		opts.worktree = ctx->workdir;
	} else if (ctx->repo && git_revparse_single(&blob, ctx->repo, "HEAD:.meshpush.ini") == 0 &&
		   git_object_type(blob) == GIT_OBJECT_BLOB) {
		opts.repo_text = git_blob_rawcontent((git_blob *)blob);
		opts.repo_len = (size_t)git_blob_rawsize((git_blob *)blob);
		opts.repo_name = "HEAD:.meshpush.ini";
	}
	ret = config_load(&ctx->cfg, &opts);
	if (blob)
		git_object_free(blob);
	return ret;
}

static int git_started;

static int open_repo(struct cmd_ctx *ctx, unsigned needs)
{
	int rc = git_repository_open_ext(&ctx->repo, NULL, GIT_REPOSITORY_OPEN_FROM_ENV, NULL);

	if (rc == GIT_ENOTFOUND && !(needs & (NEED_REPO | NEED_WORKTREE))) {
		git_error_clear();
		return 0;
	}
	if (rc < 0) {
		if (rc == GIT_ENOTFOUND)
			return error_exit(MP_EXIT_GIT, "not in a git repository (run it inside mesh-protocols, or use -C PATH)");
		const git_error *e = git_error_last();
		return error_exit(MP_EXIT_GIT, "cannot open the repository: %s", e && e->message ? e->message : "unknown error");
	}
	ctx->gitdir = git_repository_commondir(ctx->repo);
	ctx->workdir = git_repository_workdir(ctx->repo);
	if ((needs & NEED_WORKTREE) && !ctx->workdir)
		return error_exit(MP_EXIT_USAGE, "this command needs a work tree, and '%s' is a bare repository", ctx->gitdir);
	return 0;
}

int cmd_open_repo(struct cmd_ctx *ctx)
{
	int ret;

	if (ctx->repo)
		return 0;
	if (!git_started) {
		git_libgit2_init();
		git_started = 1;
	}
	ret = open_repo(ctx, NEED_REPO);
	if (ret == 0 && !ctx->repo)
		ret = error_exit(MP_EXIT_GIT, "not in a git repository (run it inside one, or use -C PATH)");
	return ret;
}

/*
 * The work tree holding the current directory, found the cheap way: the
 * nearest directory upwards with a .git entry.  NULL when there is none,
 * or when the environment or a bare repository asks for git's own rules
 * (then *fallback is set).  Caller frees.
 */
static char *find_worktree(int *fallback)
{
	static const char *const env[] = { "GIT_DIR", "GIT_WORK_TREE", "GIT_CEILING_DIRECTORIES",
					   "GIT_DISCOVERY_ACROSS_FILESYSTEM", "GIT_COMMON_DIR" };
	char *dir = getcwd(NULL, 0);

	*fallback = 0;
	for (size_t i = 0; i < ARRAY_SIZE(env); i++)
		if (getenv(env[i]))
			*fallback = 1;
	if (!dir || *fallback) {
		*fallback = 1;
		free(dir);
		return NULL;
	}
	for (;;) {
		char *dotgit = fs_join(dir, ".git"), *head = fs_join(dir, "HEAD"), *objects = fs_join(dir, "objects");
		int found = fs_exists(dotgit), bare = !found && fs_exists(head) && fs_exists(objects);
		char *slash;

		free(dotgit);
		free(head);
		free(objects);
		if (found)
			return dir;
		if (bare) {
			*fallback = 1; /* a bare repository: its configuration is in HEAD */
			break;
		}
		slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			break;
		*slash = '\0';
	}
	free(dir);
	return NULL;
}

int main(int argc, const char **argv)
{
	struct cmd_ctx ctx = { 0 };
	char *lazy_workdir = NULL;
	const struct cmd *cmd;
	int i, ret = 0;

	signal(SIGPIPE, SIG_IGN);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--version") || !strcmp(a, "-v")) {
			a = "version";
			break;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			print_usage(stdout);
			goto cleanup;
		} else if (!strcmp(a, "-C") && i + 1 < argc) {
			if (chdir(argv[++i]) < 0) {
				ret = error_usage("cannot change to '%s': %m", argv[i]);
				goto cleanup;
			}
		} else if (!strcmp(a, "-c") && i + 1 < argc) {
			strlist_push(&ctx.overrides, argv[++i]);
		} else {
			ret = error_usage("unknown option '%s'\nrun 'git meshpush --help' for usage", a);
			goto cleanup;
		}
	}
	if (i >= argc) {
		print_usage(stderr);
		ret = MP_EXIT_USAGE;
		goto cleanup;
	}
	cmd = find_command(i < argc && strcmp(argv[i], "--version") && strcmp(argv[i], "-v") ? argv[i] : "version");
	if (!cmd) {
		ret = error_usage("'%s' is not a git meshpush command\nrun 'git meshpush --help' for the list", argv[i]);
		goto cleanup;
	}

	if (asks_for_help(argc - i, argv + i)) {
		/* a command's --help works anywhere, as git's -h does */
		ret = cmd->fn(argc - i, argv + i, &ctx);
		goto cleanup;
	}
	if (cmd->needs & LAZY_REPO) {
		int fallback;

		lazy_workdir = find_worktree(&fallback);
		ctx.workdir = lazy_workdir;
		if (fallback) {
			git_libgit2_init();
			git_started = 1;
			if ((ret = open_repo(&ctx, cmd->needs)) != 0)
				goto cleanup_git;
		}
	} else {
		git_libgit2_init();
		git_started = 1;
		if ((cmd->needs & (NEED_REPO | NEED_WORKTREE | TRY_REPO)) && (ret = open_repo(&ctx, cmd->needs)) != 0)
			goto cleanup_git;
	}
	if ((cmd->needs & NEED_CONFIG) && load_config(&ctx) < 0) {
		mp_error_print();
		ret = MP_EXIT_USAGE;
		goto cleanup_git;
	}
	if (wants_autoflush(cmd, argc - i, argv + i))
		outbox_autoflush(&ctx.cfg, ctx.gitdir);
	ret = cmd->fn(argc - i, argv + i, &ctx);

cleanup_git:
	config_release(&ctx.cfg);
	if (git_started) { /* else libgit2 is not even loaded (src/util/lazy.h) */
		git_repository_free(ctx.repo);
		git_libgit2_shutdown();
	}
	free(lazy_workdir);
cleanup:
	strlist_release(&ctx.overrides);
	/* a reader that stopped reading (| head) is not an error; a full disk is */
	if (fflush(stdout) != 0 && errno != EPIPE && !ret)
		ret = error_exit(MP_EXIT_GIT, "cannot write the output: %m");
	return ret;
}
