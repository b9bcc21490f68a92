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

#endif
