/*
 * Placeholder for push_announce() (declared in hooks/push.h) until the
 * "net" module provides it (issue 5, announce-on-push): whoever lands the
 * real one deletes this file.  Announces nothing, lets the push go on.
 */
#include "hooks/push.h"

int push_announce(const struct config *cfg, git_repository *repo, const char *gitdir, const char *remote,
		  const struct pushed_ref *refs, size_t nrefs)
{
	(void)cfg;
	(void)repo;
	(void)gitdir;
	(void)remote;
	(void)refs;
	(void)nrefs;
	return 0;
}
