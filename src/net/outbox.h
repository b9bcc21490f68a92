/*
 * The outbox: announcements not yet delivered, one JSON file per
 * (announcement, agent) in $XDG_STATE_HOME/meshpush/outbox/, named
 * "<id>.<agent>.json" (%XX-encoded; "h-<sha256 of both>.json" when that
 * is too long for a file name), mode 0600, written atomically.  An entry holds the
 * message text, never a token or a signature: the request is rebuilt from
 * the configuration when it is delivered (with the same id as
 * Idempotency-Key).
 *
 * Concurrency: announce_send() marks its fresh entries with a lease (its
 * pid and an expiry) while it delivers them; a flush holds
 * outbox/.lock exclusively and skips leased entries, so no entry is sent
 * by two runs at once.  A crash between a 2xx and the removal leaves the
 * entry: the next flush sends it again with the same Idempotency-Key,
 * which the gateway recognises as a replay.
 */
#ifndef MP_NET_OUTBOX_H
#define MP_NET_OUTBOX_H

#include "config/config.h"

#include <stddef.h>
#include <time.h>

struct announce_result;
struct net_request;

struct outbox_entry {
	char *path;       /* the entry's file */
	char *id;         /* the announcement id (Idempotency-Key) */
	char *agent;      /* the recipient */
	char *kind;       /* "push", "received", "rollback", "emergency" */
	char *message;    /* the protocol text */
	char *created;    /* "2026-11-26T13:48:00Z" */
	char *gitdir;     /* repository whose journal records it, or NULL */
	char *last_error; /* why the last attempt failed, or NULL */
	int attempts;     /* requests made so far */
	int held;         /* 1 after a 401/403: only an explicit flush retries it */
	time_t not_before; /* the gateway asked to wait until then (Retry-After), or 0 */
	time_t last_attempt; /* when it was last tried, or 0 */
	long lease_pid;   /* a run delivering it right now, or 0 */
	time_t lease_until;
};

/* $XDG_STATE_HOME/meshpush/outbox.  Caller frees. */
char *outbox_dir(void);

/*
 * Every pending entry, oldest first, into a new array `*out` of `*n_out`
 * entries (free with outbox_entries_free).  An unreadable or damaged file
 * is skipped with its name in `damaged` (may be NULL).  Returns 0 (also
 * when the outbox does not exist) or MP_EOS.
 */
int outbox_list(struct outbox_entry **out, size_t *n_out, struct strlist *damaged);

void outbox_entry_release(struct outbox_entry *e);
void outbox_entries_free(struct outbox_entry *entries, size_t n);

/* 1 when the outbox holds at least one entry (cheap: one readdir). */
int outbox_has_entries(void);

/* Write `e` to its file (e->path, or the name made from id and agent), atomically. */
int outbox_entry_write(struct outbox_entry *e);

/*
 * Remove `id`'s entries (all agents, or only `agent` when not NULL) and,
 * when some were, journal it in `gitdir` (may be NULL) as a "delivery"
 * with `outcome` ("dropped", "withdrawn"); returns how many.
 */
size_t outbox_remove(const char *gitdir, const char *id, const char *agent, const char *outcome);

struct outbox_flush_opts {
	const char *id;     /* only this announcement, or NULL */
	const char *agent;  /* only this agent, or NULL */
	int opportunistic;  /* a run's automatic flush: skip held entries, those the
			       gateway asked to wait for and, after 4 failed attempts,
			       those tried less than 1, 2, 4 ... 60 minutes ago; give up
			       fast, never wait for the lock */
	double deadline_ms; /* stop starting requests after this long, 0: no limit */
};
#define OUTBOX_FLUSH_OPTS_INIT { NULL, NULL, 0, 0 }

/*
 * Deliver the pending entries (up to 16 requests at once), removing those
 * delivered.  Returns 0 when everything it tried was delivered (also when
 * nothing was pending), MP_ENET when some remain queued or failed (`out`
 * says which), MP_EOS; 1 when another run holds the outbox lock and
 * `opts->opportunistic` is set.
 */
int outbox_flush_with(struct announce_result *out, const struct config *cfg, const char *gitdir,
		      const struct outbox_flush_opts *opts);

/* outbox_flush_with() with the default options: flush everything. */
int outbox_flush(struct announce_result *out, const struct config *cfg, const char *gitdir);

/*
 * The automatic flush every `git meshpush` run does before its command:
 * only when the outbox has entries and [mesh] auto_flush is on; short
 * timeouts, no retries, at most ~3 seconds.  Says on stderr how many were
 * delivered; stays quiet about those still queued (`status` shows them).
 */
void outbox_autoflush(const struct config *cfg, const char *gitdir);

/*
 * For src/net/: after a delivery of entry `e` by request `r`, remove the
 * entry when delivered or failed for good, else record the attempt in it
 * (attempts, last error, held, Retry-After) and drop its lease; journal
 * the outcome (event "delivery", in e->gitdir else `gitdir`, `via` "send",
 * "flush" or "auto-flush"); count it into `out`.
 */
void outbox_settle(struct announce_result *out, struct outbox_entry *e, struct net_request *r,
		   const char *gitdir, const char *via);

#endif
