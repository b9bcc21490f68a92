/*
 * The protocol's push workflow, PREPARE -> ANNOUNCE -> PUSH -> VERIFY ->
 * CONFIRM, over one of its three methods (git, scp, webhook).
 *
 * push_run() runs the stages in order and stops at the first that fails;
 * each finished stage is reported to the caller's callback (one line: what
 * it did, how long it took) and journaled ("push-stage" events, then one
 * "push" event with the outcome).  See docs/push.md for every decision.
 */
#ifndef MP_PUSH_H
#define MP_PUSH_H

#include "config/config.h"
#include "util/util.h"

#include <git2.h>
#include <stdio.h>

enum push_method { PUSH_GIT, PUSH_SCP, PUSH_WEBHOOK };

enum push_stage { PUSH_PREPARE, PUSH_ANNOUNCE, PUSH_PUSH, PUSH_VERIFY, PUSH_CONFIRM };

/* "git", "scp", "webhook"; and back (0, or MP_EUSAGE). */
const char *push_method_name(enum push_method m);
int push_method_parse(enum push_method *out, const char *name);

/* "PREPARE", "ANNOUNCE", ... */
const char *push_stage_name(enum push_stage s);

/* Called when a stage ends: `ok` 1, or 0 when it failed (the error is set). */
typedef void (*push_stage_fn)(enum push_stage stage, int ok, double ms, const char *summary, void *payload);

/* Called for a line of detail within a stage (a dry run's message, a file's result). */
typedef void (*push_note_fn)(enum push_stage stage, const char *line, void *payload);

struct push_request {
	const struct strlist *files; /* local files as given */
	const struct strlist *to;    /* agent names */
	const char *purpose;
	enum push_method method;
	int dry_run;     /* PREPARE only: say what would be announced and sent */
	push_stage_fn on_stage;
	push_note_fn on_note;
	void *payload;
	FILE *report;    /* where a scan's findings are written (stderr) */
	int color;
};

struct push_env {
	const struct config *cfg;
	git_repository *repo;
	const char *gitdir;  /* common git directory (journal) */
	const char *workdir; /* work tree, or NULL */
};

struct push_result {
	char *id;            /* the announcement id, which identifies the push */
	enum push_stage failed_at; /* meaningful when the run returned < 0 */
	int announced;       /* the announcement went out (or was queued) */
	int queued;          /* some recipients only have it in the outbox */
	int verified;        /* VERIFY passed */
	char *commit;        /* git: the commit pushed (hex) */
	char *hint;          /* what to do next after a failure, or NULL */
};
#define PUSH_RESULT_INIT { NULL, PUSH_PREPARE, 0, 0, 0, NULL, NULL }

void push_result_release(struct push_result *r);

/*
 * Run the workflow for `req`.  Returns 0 when every stage passed (with
 * announcements possibly queued: out->queued), or the failing stage's
 * error: MP_EPOLICY (secrets found, test or check failed, host key or
 * password-only server refused, read-back mismatch, payload too large),
 * MP_EUSAGE/MP_ECONFIG (bad request or configuration), MP_ENET (agent
 * unreachable), MP_EGIT, MP_EOS.  `out->hint` says what to do next.
 */
int push_run(struct push_result *out, const struct push_env *env, const struct push_request *req);

/* One push as the journal records it, with the confirmations that came back. */
struct push_entry {
	char *id;
	char *time;
	char *method;
	char *outcome;          /* "confirmed", "pushed", "announced", "failed at PUSH", ... */
	char *commit;           /* git: the commit, else NULL */
	struct strlist files;   /* file names */
	struct strlist to;      /* agents */
	struct strlist confirmed; /* "agent: working|issues" for each confirmation seen */
};

void push_entry_release(struct push_entry *e);

/*
 * Every push recorded in the journal of `gitdir`, oldest first, with the
 * confirmations (CODE RECEIVED) recorded for it: for scp and webhook the
 * sender's own verified confirmation; for git those a receiver recorded in
 * this journal (a receiver installing from the same repository).  With no
 * confirmation an entry's outcome stays "pushed" or "announced".
 * Free with push_entries_free().
 */
int push_list(struct push_entry **out, size_t *nr, const char *gitdir);
void push_entries_free(struct push_entry *e, size_t nr);

#endif
