/*
 * Announce on push: what the pre-push hook's push_announce() (declared in
 * hooks/push.h, implemented in net/push_announce.c) announces.
 *
 * A push is announced when one of its refs updates a [mesh] production
 * branch (a name or a glob, matched against refs/heads/<branch>), is not a
 * deletion, and its commits touch the [mesh] shared folders.  The
 * announcement: the shared files those commits change (sorted), from
 * [self] agent, to the agents of the commits' "Mesh-To:" trailers (else
 * every agent but this one), method git, purpose the "Mesh-Purpose:"
 * trailers (else the commit subjects, "; "-separated, at most 10), and an
 * id derived from the remote and the refs' old and new oids: announcing
 * the same push again is the same announcement (the gateway dedupes it).
 *
 * push_announce(): nothing when MESHPUSH_ANNOUNCED is set ('git meshpush
 * push' announced already) or there is nothing to announce; otherwise
 * announce_send().  When some agent could not be told: with
 * [mesh] announce_failure = queue (default) the push goes on, the rest
 * waits in the outbox, and stderr says so; with block, the push is refused
 * (MP_EPOLICY) when no agent at all got it, and what was queued is
 * withdrawn.  A configuration that cannot announce at all (no agents, an
 * agent without webhook or host, a message over 256 KiB): with block the
 * push is refused (MP_ECONFIG, MP_EPOLICY); with queue it goes on with a
 * warning on stderr and a "not-announced" event in the journal.
 */
#ifndef MP_NET_PUSH_ANNOUNCE_H
#define MP_NET_PUSH_ANNOUNCE_H

#include "config/config.h"
#include "net/announce.h"

#include <git2.h>

struct pushed_ref; /* hooks/push.h */

/*
 * Fill `out` (ANNOUNCEMENT_INIT) with the announcement of the push of
 * `nrefs` `refs` to `remote`.  Returns 0; 1 when there is nothing to
 * announce; MP_EGIT.  `warnings` (may be NULL) receives what the user
 * should know (a Mesh-To: naming an unknown agent).
 */
int push_announcement_build(struct announcement *out, const struct config *cfg, git_repository *repo,
			    const char *remote, const struct pushed_ref *refs, size_t nrefs, struct strlist *warnings);

#endif
