/*
 * Installing, removing and inspecting git-meshpush's hook stubs.
 *
 * A stub is a three-line POSIX shell script whose second line is the
 * marker "# git-meshpush hook stub"; it runs
 * `MESHPUSH_HOOK_STUB="$0" exec git-meshpush hook NAME "$@"`.  A hook that is not ours and
 * is already in place is kept: it is renamed to NAME.meshpush-chained in
 * the same directory (same inode: bytes, mode and symlink-ness unchanged)
 * and `git meshpush hook` runs it too.  Uninstalling removes only our own
 * stubs and renames the chained hook back.
 */
#ifndef MP_HOOKS_H
#define MP_HOOKS_H

#include <git2.h>
#include <stddef.h>

/* Suffix of a foreign hook moved aside and chained. */
#define HOOKS_CHAINED_SUFFIX ".meshpush-chained"

/* The stub's own path, in the environment of `git meshpush hook`. */
#define HOOKS_STUB_ENV "MESHPUSH_HOOK_STUB"

/* Set in the environment of a chained hook, so that nothing chains twice. */
#define HOOKS_CHAINED_ENV "MESHPUSH_CHAINED_HOOK"

/* The marker line that makes a hook ours. */
#define HOOKS_MARKER "# git-meshpush hook stub"

/* The client-side hooks, and the server-side one (NULL-terminated). */
extern const char *const hooks_client_names[];
extern const char *const hooks_server_names[];

/* Where the hooks of a repository live. */
struct hooks_dir {
	char *path;       /* absolute hooks directory */
	int from_config;  /* set by core.hooksPath */
	int user_wide;    /* ... in the global or system configuration: shared by other repositories */
	int in_worktree;  /* inside the work tree and outside the git directory (husky-style) */
};
#define HOOKS_DIR_INIT { NULL, 0, 0, 0 }

/*
 * Find the hooks directory of `repo` as git does: core.hooksPath when set
 * (absolute, "~/"-relative, or relative to the top of the work tree; of
 * the git directory in a bare repository), else the "hooks" folder of the
 * common git directory (shared by all linked worktrees).  Returns 0 or
 * MP_EGIT.
 */
int hooks_dir_find(struct hooks_dir *out, git_repository *repo);

void hooks_dir_release(struct hooks_dir *d);

/* The exact text of our stub for hook `name`.  Caller frees. */
char *hooks_stub_text(const char *name);

/* The path a chained hook is moved to: `hook_path` + HOOKS_CHAINED_SUFFIX.  Caller frees. */
char *hooks_chained_path(const char *hook_path);

enum hook_state {
	HOOK_MISSING,      /* nothing there */
	HOOK_OURS,         /* our current stub */
	HOOK_OURS_OLD,     /* a stub of an earlier version of ours, exactly */
	HOOK_OURS_EDITED,  /* our marker, but edited by someone */
	HOOK_FOREIGN       /* someone else's hook (file or symlink) */
};

struct hook_status {
	enum hook_state state;
	int chained;        /* NAME.meshpush-chained exists */
	int symlink;        /* the hook itself is a symbolic link */
	int executable;     /* git would run it */
};

/* What the hook `name` in `dir` is.  Returns 0 or MP_EOS. */
int hooks_status(struct hook_status *out, const char *dir, const char *name);

/* What hooks_install() and hooks_uninstall() did to one hook. */
enum hook_action {
	HOOK_INSTALLED,       /* stub written where there was none */
	HOOK_INSTALLED_CHAIN, /* a foreign hook moved aside and chained, stub written */
	HOOK_ALREADY,         /* our stub was there already: nothing changed */
	HOOK_UPDATED,         /* an older or (with force) edited stub of ours replaced */
	HOOK_REMOVED,         /* our stub removed */
	HOOK_RESTORED,        /* our stub removed and the chained hook put back */
	HOOK_NOT_INSTALLED,   /* uninstall: nothing of ours there */
	HOOK_LEFT_FOREIGN     /* uninstall: a foreign hook, left alone */
};

#define HOOKS_FORCE 0x1 /* replace an edited stub of ours */

/*
 * What hooks_install() would refuse, without changing anything: 0, or
 * MP_EPOLICY with the reason (a foreign hook where a chained one exists
 * already, an edited stub without HOOKS_FORCE).
 */
int hooks_install_check(const char *dir, const char *name, unsigned flags);

/*
 * Install our stub for `name` in `dir` (created when missing).  A foreign
 * hook there is moved to NAME.meshpush-chained; when that name is taken
 * already, nothing is changed and MP_EPOLICY says what to do.  An edited
 * stub of ours is replaced only with HOOKS_FORCE.  Returns 0 with `*out`
 * set, or a negative MP_E* code.
 */
int hooks_install(enum hook_action *out, const char *dir, const char *name, unsigned flags);

/*
 * Remove our stub for `name` from `dir` and put a chained hook back, byte
 * for byte.  A foreign hook is left alone; an edited stub of ours is
 * removed only with HOOKS_FORCE.  Returns 0 with `*out` set, or a negative
 * MP_E* code.
 */
int hooks_uninstall(enum hook_action *out, const char *dir, const char *name, unsigned flags);

/*
 * Run the hook chained to the stub at `stub_path` (stub_path +
 * HOOKS_CHAINED_SUFFIX), when there is one and it is executable, with
 * `args` (NULL-terminated) and on its stdin `in` (`in_len` bytes) or, when
 * `in` is NULL, our own stdin, and HOOKS_CHAINED_ENV set.  Its output goes where ours goes.  Sets
 * `*out_status` to its exit status (0 when there is none).  Returns 0, or
 * MP_EOS when it could not be started.
 */
int hooks_run_chained(int *out_status, const char *stub_path, const char *const *args,
		      const char *in, size_t in_len);

#endif
