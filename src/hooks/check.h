/*
 * The secret scan of a push: the commits of a push plan, each once, and
 * the trees or blobs that a pushed tag points to.
 */
#ifndef MP_HOOKS_CHECK_H
#define MP_HOOKS_CHECK_H

#include "hooks/push.h"
#include "scan/scan.h"

/*
 * Scan the lines added by the commits of `plan` (one scan_commits() call:
 * the commits, hiding their boundary) and every blob of a ref that is
 * not a commit (its findings' path is "REF:PATH").  Findings go to `r`.
 * Returns 0 or a negative MP_E* code.
 */
int hooks_scan_plan(struct scan_report *r, struct scan_engine *e, git_repository *repo,
		    const struct push_plan *plan);

/*
 * Journal a hook's verdict on a commit (`plan` NULL) or a push in
 * `gitdir`: event `event` with the remote (without user information),
 * the refs, how many commits and findings, the rules that found them
 * (never a secret) and `verdict`.  Returns 0 or MP_EOS.
 */
int hooks_journal_verdict(const char *gitdir, const char *event, const char *remote, const struct push_plan *plan,
			  const struct scan_report *r, const char *verdict);

#endif
