/*
 * Announcements: the protocol's ANNOUNCE and CONFIRM messages, delivered
 * to the agents' gateways exactly once, even when an agent is offline.
 *
 * An announcement is turned into the protocol's exact text
 * (announcement_message()) and POSTed to each recipient's gateway in
 * parallel (announce_send()).  Before the first attempt every (announcement,
 * agent) pair is written to the outbox ($XDG_STATE_HOME/meshpush/outbox/),
 * and removed once that agent answered 2xx; what could not be delivered
 * stays there for `git meshpush outbox flush` or the next run.  Every
 * attempt of one pair carries the same Idempotency-Key (the announcement's
 * id), so a gateway that saw it before does not announce it twice.
 *
 * Lower-level delivery of an arbitrary message (the webhook method's
 * "DEPLOY:" message) is webhook_post() in net/webhook.h; the outbox in
 * net/outbox.h.
 */
#ifndef MP_NET_ANNOUNCE_H
#define MP_NET_ANNOUNCE_H

#include "config/config.h"
#include "net/outbox.h"
#include "net/webhook.h"
#include "util/util.h"

#include <stddef.h>

enum announce_kind { ANNOUNCE_PUSH, ANNOUNCE_RECEIVED, ANNOUNCE_ROLLBACK, ANNOUNCE_EMERGENCY };

struct announcement {
	enum announce_kind kind;
	char *id;             /* unique, stable across retries: sent as Idempotency-Key (printable ASCII, no spaces); generated when NULL */
	struct strlist files; /* file names (PUSH, ROLLBACK, EMERGENCY: the files; RECEIVED: the file) */
	char *from;           /* sender agent; NULL: [self] agent */
	struct strlist to;    /* recipient agent names; empty: every configured agent except self */
	char *method;         /* git|scp|webhook (PUSH); NULL: git */
	char *purpose;        /* PUSH */
	char *location;       /* RECEIVED: installed path; ROLLBACK/EMERGENCY: optional */
	char *status;         /* RECEIVED: working|issues; ROLLBACK/EMERGENCY: free text */
	char *details;        /* optional extra lines after a blank line (verify output, reason) */
};
#define ANNOUNCEMENT_INIT { ANNOUNCE_PUSH, NULL, STRLIST_INIT, NULL, STRLIST_INIT, NULL, NULL, NULL, NULL, NULL }

void announcement_init(struct announcement *a);
void announcement_release(struct announcement *a);

/* "push", "received", "rollback", "emergency". */
const char *announce_kind_name(enum announce_kind kind);

/* Parse a kind name; 0, or MP_EUSAGE with the error set. */
int announce_kind_parse(enum announce_kind *out, const char *name);

/*
 * The exact protocol text of `a` (UTF-8, with the emoji), e.g.
 *
 *   📤 CODE PUSH: shared/voltagent/a.js, shared/voltagent/b.js
 *   From: sandman
 *   To: oracle, oraclelocalbot
 *   Method: git
 *   Purpose: what it does
 *
 * `a->from` and `a->to` are printed as they are (announce_send() fills
 * them in first).  A file name holding a control character, a double
 * quote or a backslash is quoted as git quotes paths ("a\nb"); invalid
 * UTF-8 in any field is replaced (names: \ooo escapes, free text: U+FFFD).
 * Caller frees.
 */
char *announcement_message(const struct announcement *a);

/*
 * Check that `a` has what its kind needs (files, purpose, location,
 * status working|issues...).  0, or MP_EUSAGE with the error set.
 */
int announcement_check(const struct announcement *a);

/* A new announcement id: "20261126T134800Z-<16 hex digits>".  Caller frees. */
char *announce_new_id(void);

struct announce_result {
	size_t delivered, queued, failed;
	/*
	 * One line per agent that did not get it, e.g.
	 * "oracle: 401 unauthorized (token from env:MESH_TOKEN_ORACLE)";
	 * never a token.
	 */
	struct strlist problems;
	struct strlist delivered_to; /* agents that answered 2xx */
	struct strlist queued_for;   /* agents whose delivery waits in the outbox */
};
#define ANNOUNCE_RESULT_INIT { 0, 0, 0, STRLIST_INIT, STRLIST_INIT, STRLIST_INIT }

void announce_result_release(struct announce_result *r);

/*
 * Deliver `a` to every recipient in parallel (libcurl multi).  Fills in
 * a->id (when NULL), a->from ([self] agent, when NULL) and a->to (every
 * configured agent but self, when empty).  Writes one outbox entry per
 * recipient before the first attempt; removes it after a 2xx answer; keeps
 * it (queued) after timeouts, refused connections, 5xx, 429/503 beyond
 * the retries, a 401/403 (held until `outbox flush`: the token must be
 * fixed first) or a token that cannot be read; drops it (failed) after a
 * 413 or another 4xx, which no retry would change.  Journals every
 * delivery in `gitdir` (may be NULL: no journal).
 *
 * Returns 0 when every recipient got it; MP_ENET when some did not
 * (`out` says which and why); MP_ECONFIG (no agent configured, an unknown
 * recipient, an agent without webhook/host, channel without to),
 * MP_EUSAGE (incomplete announcement), MP_EPOLICY (the payload is over
 * the gateways' 256 KiB limit) or MP_EOS (the outbox cannot be written)
 * before anything is sent.  `out` (ANNOUNCE_RESULT_INIT) is filled in
 * either way.
 */
int announce_send(struct announce_result *out, const struct config *cfg, const char *gitdir,
		  struct announcement *a);

/*
 * The recipients of `a`: its `to` list checked against the configured
 * agents, or every configured agent except `self` when empty.  0, or
 * MP_ECONFIG naming the unknown agent / saying that none is configured.
 */
int announce_recipients(struct strlist *out, const struct config *cfg, const struct announcement *a);

/*
 * What announce_send() does before it sends, also for a dry run: check
 * `a` (announcement_check()), fill in a->from ([self] agent, required
 * but for RECEIVED) and a->to (every configured agent but self, when
 * empty), and put the recipients, each once, into `recipients`.  0, or
 * MP_EUSAGE / MP_ECONFIG with the error set.
 */
int announce_complete(struct strlist *recipients, const struct config *cfg, struct announcement *a);

/*
 * Withdraw what announce_send() queued for `a` (a push that was refused
 * after all): removes its outbox entries and journals "withdrawn".
 * Returns how many entries were removed.
 */
size_t announce_withdraw(const struct config *cfg, const char *gitdir, const struct announcement *a);

#endif
