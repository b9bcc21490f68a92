/*
 * A fuzz target's scratch directory: $TMPDIR/fuzz-NAME.XXXXXX, removed
 * with everything in it when the target exits.  Included by the targets
 * that need one (each is its own program).
 */
#ifndef FUZZ_TMP_H
#define FUZZ_TMP_H

#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>

static char *fuzz_tmp;

static void fuzz_tmp_remove(void)
{
	char *cmd = xasprintf("rm -rf '%s'", fuzz_tmp);

	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", fuzz_tmp);
	free(cmd);
}

static char *fuzz_tmpdir(const char *name)
{
	const char *tmp = getenv("TMPDIR");

	fuzz_tmp = xasprintf("%s/fuzz-%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
	if (!mkdtemp(fuzz_tmp)) {
		perror(fuzz_tmp);
		abort();
	}
	atexit(fuzz_tmp_remove);
	return fuzz_tmp;
}

#endif
