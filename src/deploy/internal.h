/*
 * What the files of src/deploy/ share: the manifest, the install records,
 * the lock, file helpers.  Not for use outside src/deploy/.
 */
#ifndef MP_DEPLOY_INTERNAL_H
#define MP_DEPLOY_INTERNAL_H

#include "deploy/deploy.h"

#include <git2.h>
#include <jansson.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

/* ---- manifest (manifest.c) ---- */

/* Why a file is held back from installs. */
#define HOLD_NONE NULL
#define HOLD_FAILED "failed"     /* verification failed for the `hold` content */
#define HOLD_ROLLBACK "rollback" /* rolled back from the `hold` content */
#define HOLD_REMOVED "removed"   /* removed in an emergency */

struct mf_entry {
	char *path;
	int present;     /* the file is installed (oid/mode meaningful) */
	git_oid oid;     /* its content (blob id) */
	unsigned mode;   /* 0644, 0755, or 0120000 for a symlink */
	char *install;   /* the install that wrote the entry */
	char *why;       /* HOLD_* or NULL */
	int has_hold;
	git_oid hold;    /* upstream content held back while HEAD still has it */
	int seen;        /* (install) the path is in the repository too */
};

struct manifest {
	char *file;      /* .../manifests/<mapping>-<hash>.json */
	char *mapping;
	char *target;    /* the configured target, ~ expanded */
	char *realpath;  /* where it resolved at the first install */
	char *commit;    /* HEAD at the last complete install */
	char *tree;      /* oid of `from` at that commit */
	char *settings;  /* hash of from/executable: a change means compare all */
	char *install;   /* last install id */
	struct mf_entry *entries;
	size_t nr, alloc;
	size_t *slots;   /* open-addressing index: entry index + 1, 0 empty */
	size_t nslots;
	int log_fd;      /* the change log, open while installing */
	char *damaged;   /* manifest_load(): why the snapshot could not be read, or NULL */
};
#define MANIFEST_INIT { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, 0, -1, NULL }

/* The manifest file for mapping `name` installing into `target` (expanded). Caller frees. */
char *manifest_path(const char *name, const char *target);

/*
 * Load the snapshot and replay its log.  A missing manifest is empty.
 * Returns 0 or MP_E*; a snapshot that is not JSON (cut short, damaged)
 * is MP_EOS with `m->damaged` set to the parser's reason.
 */
int manifest_load(struct manifest *m, const char *name, const char *target);

/*
 * 1 when the last complete install of `name` into `target` was of `tree`
 * with `settings` and nothing changed the manifest since (reads only the
 * small ".stamp" file written with the snapshot).
 */
int manifest_up_to_date(const char *name, const char *target, const char *tree, const char *settings);

/* Find the entry of `path`, or NULL. */
struct mf_entry *manifest_find(const struct manifest *m, const char *path);

/* Set the entry of `path` in memory (present=0 with no hold: forgotten). */
struct mf_entry *manifest_set(struct manifest *m, const char *path, int present, const git_oid *oid,
			      unsigned mode, const char *install, const char *why, const git_oid *hold);

/* Apply manifest_set and append the change to the log (one write). */
int manifest_record(struct manifest *m, const char *path, int present, const git_oid *oid,
		    unsigned mode, const char *install, const char *why, const git_oid *hold);

/* Write the snapshot atomically and empty the log.  Returns 0 or MP_EOS. */
int manifest_save(struct manifest *m);

void manifest_release(struct manifest *m);

/* ---- install records (record.c) ---- */

struct record_writer {
	char *id;
	char *path; /* installs/<id>.jsonl */
	int fd;
	json_t *header;
};
#define RECORD_WRITER_INIT { NULL, NULL, -1, NULL }

/* A new install id: UTC time to the millisecond and random hex.  Caller frees. */
char *record_new_id(void);

/* Create installs/<id>.jsonl with a header line.  `header` is not stolen. */
int record_open(struct record_writer *w, const char *id, json_t *header);

/* Append one file line (one write). */
int record_append(struct record_writer *w, json_t *line);

/* fsync and close. */
int record_close(struct record_writer *w);

/* Read installs/<id>.jsonl: header into `*header`, file lines into `*lines` (array). */
int record_read(json_t **header, json_t **lines, const char *id);

/* Every record id, newest first (one readdir, no file read). */
void record_list_ids(struct strlist *out);

/* The id of the newest record, or NULL. Caller frees. */
char *record_last_id(void);

/* Resolve a full id or unique prefix into `*out`; MP_ENOTFOUND if none. */
int record_resolve(char **out, const char *prefix);

/* ---- lock (lock.c) ---- */

struct deploy_lock {
	int fd;
	long took_over; /* the pid of a previous holder that had died, else 0 */
};
#define DEPLOY_LOCK_INIT { -1, 0 }

/* Take the install lock, waiting up to `wait_ms`.  MP_EGENERIC naming the holder when busy. */
int deploy_lock_take(struct deploy_lock *l, int wait_ms);
void deploy_lock_release(struct deploy_lock *l);

/* ---- helpers (util.c) ---- */

/* The state directories (fs_state_dir() + "/backups" etc).  Caller frees. */
char *deploy_state_path(const char *sub);

/* The blob id of the file or symlink at `path` (lstat'ed in `st`). MP_ENOTFOUND when absent. */
int deploy_hash_path(git_oid *out, const char *path, const struct stat *st);

/* 1 when `rel` is a safe relative path (no "..", ".", empty or absolute parts, no ".git"). */
int deploy_rel_is_safe(const char *rel);

/* 1 when a symlink at `rel` (inside the target) pointing to `dest` stays inside the target. */
int deploy_link_stays_inside(const char *rel, const char *dest);

/* Copy `src` to a new file `dst` (created, mode `mode`), no fsync.  A symlink is copied as a symlink. */
int deploy_copy_file(const char *src, const char *dst, mode_t mode);

/* Keep the current `path` as `backup`: a hard link (same inode), else a copy; parents created. */
int deploy_backup_link(const char *path, const char *backup);

/* Move `path` to `backup` (rename, else copy and unlink); parents created. */
int deploy_backup_move(const char *path, const char *backup);

/* The staging name of `path`: ".<name>.meshpush-new" in the same folder.  Caller frees. */
char *deploy_tmp_name(const char *path);

/* Write `len` bytes (a symlink to `data` when `mode` is 0120000) to the new file `tmp`, fsync'ed when `sync`. */
int deploy_stage(const char *tmp, const void *data, size_t len, unsigned mode, int sync);

/* Put `len` bytes (or a symlink to `data` when `mode` is 0120000) at `path` atomically. */
int deploy_put(const char *path, const void *data, size_t len, unsigned mode, int sync);

/* Run the mapping's verify template on `file` in `dir`: 1 passed, 0 failed (`*output` set), <0 error. */
int deploy_verify(char **output, const struct config *cfg, const char *mapping, const char *dir,
		  const char *file);

/* "rwx" mode for a file of `name` in a mapping: 0755 if it matches an executable glob or `git_mode` is executable. */
unsigned deploy_file_mode(const struct strlist *globs, const char *name, unsigned git_mode);

/* Append a file to the report. Returns it. */
struct deploy_file *deploy_report_add(struct deploy_report *r, const char *mapping, const char *path,
				      const char *target, enum deploy_change change);

/* Hex of an oid into a static-per-call buffer-free string (caller frees). */
char *oid_hex(const git_oid *oid);

/* The mapping's target expanded (config "to"), or NULL with the error set. */
char *deploy_mapping_target(const struct config *cfg, const char *mapping);

/* Send the confirmation / rollback / emergency message for `r` (confirm.c). */
enum deploy_msg { DEPLOY_MSG_RECEIVED, DEPLOY_MSG_ROLLBACK, DEPLOY_MSG_EMERGENCY };
void deploy_confirm(struct deploy_report *r, const struct config *cfg, git_repository *repo,
		    const char *gitdir, enum deploy_msg kind, const struct strlist *to);

/* Journal a report's files (one "install-file" event each) and a summary event. */
void deploy_journal(const struct deploy_report *r, const char *gitdir, const char *event,
		    const char *trigger);

#endif
