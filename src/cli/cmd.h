/*
 * What every command receives, and the list of commands (src/cmd_*.c).
 */
#ifndef MP_CMD_H
#define MP_CMD_H

#include "config/config.h"

#include <git2.h>

/* What a command needs before it runs (the `needs` column of commands[]). */
#define NEED_REPO 0x1     /* a git repository (bare or not): error when none */
#define NEED_WORKTREE 0x2 /* a repository with a work tree */
#define NEED_CONFIG 0x4   /* the layered configuration, loaded */
#define TRY_REPO 0x8      /* open the repository when there is one */
#define LAZY_REPO 0x10    /* with TRY_REPO: find the work tree without starting libgit2
			   * (its start-up alone costs milliseconds, see docs/scanning.md);
			   * the command calls cmd_open_repo() when it needs the repository */

struct cmd_ctx {
	git_repository *repo; /* NULL unless NEED_REPO/TRY_REPO found one */
	const char *gitdir;   /* the common git directory (journal, state), or NULL */
	const char *workdir;  /* the work tree, NULL for a bare repository */
	struct config cfg;    /* loaded for NEED_CONFIG */
	struct strlist overrides; /* "-c section.key=value" */
};

typedef int (*cmd_fn)(int argc, const char **argv, struct cmd_ctx *ctx);

/*
 * For LAZY_REPO commands: start libgit2 and open the repository now (a
 * no-op when it is open).  Returns 0, or an exit code after printing the
 * error (128 when there is no repository).
 */
int cmd_open_repo(struct cmd_ctx *ctx);

int cmd_init(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_hooks(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_hook(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_scan(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_push(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_announce(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_outbox(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_install(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_rollback(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_status(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_log(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_agents(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_config(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_version(int argc, const char **argv, struct cmd_ctx *ctx);

#endif
