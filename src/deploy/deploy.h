/*
 * The receiving side: install the repository's shared files into the
 * workspace ([install "name"] mappings), with backups, verification,
 * confirmation, rollback and status.  See docs/install.md for every
 * decision (what is compared, where state lives, crash guarantees).
 *
 * State lives under fs_state_dir() ($XDG_STATE_HOME/meshpush):
 *   install.lock                     one install at a time (flock, pid, time)
 *   manifests/<mapping>-<hash>.json  what is installed in one target folder
 *   manifests/<...>.json.log         changes since that snapshot (one line a file)
 *   installs/<id>.jsonl              what one install did (rollback reads it)
 *   backups/<id>/<mapping>/<path>    the files an install replaced or removed
 */
#ifndef MP_DEPLOY_H
#define MP_DEPLOY_H

#include "config/config.h"
#include "util/util.h"

#include <git2.h>

/* What happened to one file. */
enum deploy_change {
	DEPLOY_ADDED,    /* new in the target */
	DEPLOY_UPDATED,  /* replaced (the previous file is in the backups) */
	DEPLOY_REMOVED,  /* removed upstream: moved to the backups */
	DEPLOY_RECORDED, /* already had the repository's content: recorded only */
	DEPLOY_FAILED,   /* verification failed: the previous state was restored */
	DEPLOY_SKIPPED,  /* refused or in the way (see note): nothing changed */
	DEPLOY_RESTORED  /* rollback: the content from before an install is back */
};

struct deploy_file {
	char *mapping;
	char *path;     /* relative to the mapping's folders */
	char *target;   /* the full path in the workspace */
	enum deploy_change change;
	int local_change; /* the file differed from what was installed: backed up */
	int verified;     /* 1 verify passed, 0 failed, -1 not run */
	char *output;     /* the verify command's output when it failed */
	char *note;       /* why it was skipped, or other detail */
	char *backup;     /* where the previous content went, or NULL */
};

struct deploy_report {
	char *id;          /* install id ("20261126T135000.123Z-a1b2c3"), NULL for a no-op */
	const char *kind;  /* "install" (NULL), "rollback", "remove" */
	char *commit;      /* HEAD's commit id (hex) */
	struct deploy_file *files;
	size_t nr, alloc;
	size_t issues;     /* files failed or skipped */
	int lock_taken_over; /* a lock left by a dead process was taken over */
	struct strlist up_to_date; /* mappings with nothing to do */
	struct strlist notes;      /* one-line remarks (mapping skipped, confirmation queued...) */
};
#define DEPLOY_REPORT_INIT { NULL, NULL, NULL, NULL, 0, 0, 0, 0, STRLIST_INIT, STRLIST_INIT }

void deploy_report_release(struct deploy_report *r);

struct deploy_opts {
	const char *trigger;  /* "manual", "post-merge", "post-rewrite", "post-checkout", ... */
	const char *mapping;  /* only this mapping, or NULL for all */
	int force;            /* compare every file with the disk, not only what changed upstream */
	int retry;            /* retry files held after a failed verification */
	int no_confirm;       /* do not send the confirmation */
	int lock_wait_ms;     /* how long to wait for another install (0: default 10 s) */
};
#define DEPLOY_OPTS_INIT { "manual", NULL, 0, 0, 0, 0 }

/*
 * Install every [install] mapping (or opts->mapping) from HEAD's tree of
 * `repo` into the workspace.  Only files whose content at HEAD differs
 * from the manifest (what was last installed) are touched; the hook's
 * arguments are never trusted.  `gitdir` is the common git directory (the
 * journal).  Fills `out` (initialised with DEPLOY_REPORT_INIT) and returns
 * 0 (check out->issues), or a negative MP_E* code with the error set
 * (MP_EUSAGE for a bad mapping, MP_EGENERIC when the lock is held).
 */
int deploy_install(struct deploy_report *out, const struct config *cfg, git_repository *repo,
		   const char *gitdir, const struct deploy_opts *opts);

/* One install record, as `rollback --list` shows it. */
struct deploy_record {
	char *id;
	char *time;
	char *kind;    /* "install", "rollback", "remove" */
	char *commit;  /* may be NULL */
	char *trigger;
	struct strlist files; /* "mapping:path" */
};

void deploy_record_release(struct deploy_record *r);

/* Every install record, newest first, into `*out` (`*nr` of them).  Free with deploy_records_free. */
int deploy_records_list(struct deploy_record **out, size_t *nr);
void deploy_records_free(struct deploy_record *recs, size_t nr);

struct deploy_rollback_opts {
	const char *id;              /* install to undo, NULL: the last one */
	const struct strlist *files; /* only these (path in the mapping, or workspace path), or all */
	int no_confirm;
	int lock_wait_ms;
};
#define DEPLOY_ROLLBACK_OPTS_INIT { NULL, NULL, 0, 0 }

/*
 * Restore the files of install `opts->id` to what they were before it.
 * The rollback is itself recorded as an install (kind "rollback"), with
 * the files it replaced backed up, so it can be undone; the restored
 * files are held (the next install leaves them until upstream changes
 * them again).  Announced to the mesh.  Returns 0 or MP_E*.
 */
int deploy_rollback(struct deploy_report *out, const struct config *cfg, git_repository *repo,
		    const char *gitdir, const struct deploy_rollback_opts *opts);

/*
 * The emergency path: move `file` (a workspace path or a mapping path) out
 * of the workspace into the backups, hold it, and notify the mesh.
 */
int deploy_remove(struct deploy_report *out, const struct config *cfg, git_repository *repo,
		  const char *gitdir, const char *file, int lock_wait_ms);

/*
 * Remove backups beyond [backup] keep installs or older than
 * [backup] max_age_days, never the newest backup of a file.  `*removed`
 * receives how many files were deleted.
 */
int deploy_prune(size_t *removed, const struct config *cfg);

/* Per-mapping status, as `git meshpush status` prints it. */
struct deploy_status_file {
	char *path;
	char *what; /* "changed locally", "missing", "verify failed", "held (rollback)", "pending" */
};

struct deploy_status {
	char *mapping;
	char *from;
	char *target;
	char *commit;   /* commit of the last complete install, or NULL */
	char *install;  /* its id */
	size_t installed; /* files in the manifest */
	int never;      /* nothing installed yet */
	int pending;    /* HEAD has changes not installed */
	struct deploy_status_file *files;
	size_t nr, alloc;
};

/* Status of every mapping into `*out` (`*nr`).  Free with deploy_status_free. */
int deploy_status_get(struct deploy_status **out, size_t *nr, const struct config *cfg,
		      git_repository *repo);
void deploy_status_free(struct deploy_status *st, size_t nr);

/*
 * The report as text for people: one line per file ("  added     a.js"),
 * verification output indented below a failure, the notes, and a last
 * "Status: working|issues" line when files were touched.  Caller frees.
 */
char *deploy_report_format(const struct deploy_report *r);

/* "added", "updated", ... for reports. */
const char *deploy_change_name(enum deploy_change c);

#endif
