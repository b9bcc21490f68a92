/*
 * What a push brings: the refs of a pre-push or pre-receive input and,
 * for each, the commits the other side does not have yet.
 *
 * pre-push (client): for a ref the remote has (its old oid known here),
 * the commits remote..local; for a new ref, or an old oid unknown here,
 * the commits reachable from local and from no remote-tracking ref of
 * that remote (all of local's history when there is none).  For every ref, the
 * remote oids of the other refs of the same push are excluded too: the
 * remote has told git it has them.  pre-receive (server): the commits
 * reachable from the new oids and from none of the repository's refs.
 * Each commit is counted once over all refs.  Nothing here touches the
 * network.  See docs/hooks.md for the reasoning.
 */
#ifndef MP_HOOKS_PUSH_H
#define MP_HOOKS_PUSH_H

#include "config/config.h"
#include "util/util.h"

#include <git2.h>
#include <stddef.h>

/* One ref of a push, and the commits it brings. */
struct pushed_ref {
	char *local_ref;      /* pre-push: the local ref ("(delete)" for a deletion); pre-receive: the ref */
	char *remote_ref;     /* the ref updated on the receiving side */
	git_oid local_oid;    /* the new value (zero: a deletion) */
	git_oid remote_oid;   /* the old value on the receiving side (zero: a new ref) */
	int deletion;         /* local_oid is zero: nothing to scan */
	int new_ref;          /* remote_oid is zero or not known here */
	git_oid *commits;     /* the commits this ref brings that the other side lacks */
	size_t ncommits;
	int not_commit;       /* local_oid peels to a tree or blob (a tag of one), scanned as such */
	int touches_shared;   /* its commits change a [mesh] shared folder (push_plan_touches()) */
};

struct push_plan {
	struct pushed_ref *refs;
	size_t nr, alloc;
	git_oid *commits;     /* every commit of every ref, once (sorted by oid) */
	size_t ncommits;
	git_oid *boundary;    /* parents of those commits that are not among them */
	size_t nboundary;
	int touches_shared;   /* some ref's touches_shared */
};
#define PUSH_PLAN_INIT { NULL, 0, 0, NULL, 0, NULL, 0, 0 }

/*
 * Parse pre-push input ("<local ref> <local oid> <remote ref> <remote
 * oid>" lines) into `plan`.  Returns 0, or MP_EUSAGE naming the bad line.
 */
int push_plan_parse_pre_push(struct push_plan *plan, const char *input, size_t len);

/* Parse pre-receive input ("<old oid> <new oid> <ref>" lines) into `plan`. */
int push_plan_parse_pre_receive(struct push_plan *plan, const char *input, size_t len);

/*
 * Find the commits of each ref of a pre-push to `remote` (the hook's
 * first argument: a remote name or a URL), and the union.  Returns 0 or
 * MP_EGIT.
 */
int push_plan_compute_pre_push(struct push_plan *plan, git_repository *repo, const char *remote);

/* The same for a pre-receive: the commits that no ref of `repo` reaches. */
int push_plan_compute_pre_receive(struct push_plan *plan, git_repository *repo);

/*
 * Set touches_shared of each ref (and of the plan): whether one of its
 * commits changes a path under one of `dirs` (diffed against its first
 * parent, a root commit against the empty tree).  Returns 0 or MP_EGIT.
 */
int push_plan_touches(struct push_plan *plan, git_repository *repo, const struct strlist *dirs);

/* The first ref whose commits include `commit_hex`, or NULL. */
const struct pushed_ref *push_plan_ref_of(const struct push_plan *plan, const char *commit_hex);

void push_plan_release(struct push_plan *plan);

/*
 * Announce a push that passed every check (issue 5: the "net" module
 * implements it).  Called once per pre-push, after the scan, the test
 * command and the chained hook passed, unless MESHPUSH_ANNOUNCED is set
 * (the push is made by 'git meshpush push', which announced it already).
 * It decides itself whether the push needs an announcement (a
 * [mesh] production branch, refs[i].touches_shared).  Returns 0 when the
 * push may go on (announced, queued, or nothing to announce), or a
 * negative MP_E* code (MP_EPOLICY: refuse the push) with the error set.
 */
int push_announce(const struct config *cfg, git_repository *repo, const char *gitdir, const char *remote,
		  const struct pushed_ref *refs, size_t nrefs);

#endif
