/*
 * Shared between the files of src/push/ (not for use outside it).
 */
#ifndef MP_PUSH_INTERNAL_H
#define MP_PUSH_INTERNAL_H

#include "net/announce.h"
#include "push/push.h"
#include "scan/scan.h"
#include "transfer/ssh.h"

#include <jansson.h>
#include <sys/types.h>

/* One file to push. */
struct push_item {
	char *local;     /* absolute path of the local file */
	char *name;      /* its base name (the remote and the DEPLOY name) */
	char *repo_path; /* git: where it goes in the repository; else its path there when inside, or NULL */
	int in_repo;     /* the local file is inside the work tree already */
	char *mapping;   /* the [install] mapping whose verify/executable apply, or NULL */
	char *data;
	size_t len;
	char sha256[65];
	mode_t mode;     /* 0755 for scripts, else 0644 */
	int in_head;     /* git: repo_path exists at HEAD */
	int unchanged;   /* git: HEAD already has this content at repo_path */
	char *message;   /* webhook: the DEPLOY message */
};

/* One transfer of one file to one agent (scp, webhook). */
struct push_put {
	const char *agent;
	struct push_item *item;
	struct ssh_put_result res; /* scp */
	long status;               /* webhook: HTTP status */
	char *where;               /* "user@host:/path" or "oracle's gateway (runId ...)" */
};

/* scp: the connection to one agent, opened in PREPARE, used in PUSH. */
struct push_ssh {
	struct ssh_opts opts;
	struct ssh_target target;
	struct ssh_conn *conn;
};

struct push_run {
	const struct push_env *env;
	const struct push_request *req;
	struct push_result *out;
	enum push_stage stage;
	double stage_start;
	double stage_ms;       /* the stage's time when not start..end (-1: start..end) */
	struct strlist notes;  /* detail lines, shown after the stage's line */
	struct strbuf summary; /* the current stage's line */
	struct push_item *items;
	size_t nr;
	struct strlist agents;
	const char *self;
	struct announcement ann;
	struct push_put *puts;
	size_t nputs;
	struct push_ssh *ssh; /* scp: one per agent */
	int verify_failed;
	size_t max_body;
	json_t *confirmations;
	/* git */
	char *branch;      /* the checked-out branch ("main") */
	char *remote_name; /* where it goes ("origin") */
	char *remote_ref;  /* "refs/heads/main" on the remote */
	git_oid commit;
};

/* Start a stage; end it (report, journal) and return `ret`. */
void push_stage_begin(struct push_run *r, enum push_stage s);
int push_stage_finish(struct push_run *r, int ret);
/* Append "; " + a part to the current stage's summary line. */
void push_summary(struct push_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A detail line, shown under the stage line. */
void push_note(struct push_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* What to do next after a failure. */
void push_hint(struct push_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* git method (git.c) */
int push_git_prepare(struct push_run *r);  /* branch, remote, target paths, clean work tree */
int push_git_scan_outgoing(struct push_run *r, struct scan_engine *e, struct scan_report *rep, size_t *commits);
int push_git_commit(struct push_run *r);   /* copy, add, commit with trailers */
int push_git_push(struct push_run *r);     /* the PUSH stage */
int push_git_verify(struct push_run *r);   /* the VERIFY stage */
void push_git_dry_run(struct push_run *r); /* what would be committed and pushed */

#endif
