/*
 * The audit journal: append-only JSON lines under the repository's common
 * git directory (meshpush/journal.jsonl), one event per line:
 *   {"time":"2026-11-26T13:00:00Z","event":"install","agent":"oracle",...}
 * Lines are written with one write(2) on an O_APPEND descriptor, so
 * concurrent writers never interleave.  Never put a secret in an event.
 */
#ifndef MP_JOURNAL_H
#define MP_JOURNAL_H

#include <jansson.h>
#include <stddef.h>

/* The journal's path for a repository whose common git dir is `gitdir`.  Caller frees. */
char *journal_path(const char *gitdir);

/*
 * Append `event` with the fields of `fields` (may be NULL; not stolen) to
 * the journal in `gitdir`.  "time" and "event" are added.  Returns 0 or
 * MP_EOS.
 */
int journal_append(const char *gitdir, const char *event, json_t *fields);

typedef int (*journal_cb)(json_t *entry, void *payload);

/*
 * Call `cb` for every event, oldest first.  A line that is not a JSON
 * object (a write cut short by a crash) is skipped and counted in
 * `*bad_lines` (may be NULL).  A non-zero return of `cb` stops the walk
 * and is returned.  A journal that does not exist has no events.
 */
int journal_foreach(const char *gitdir, journal_cb cb, void *payload, size_t *bad_lines);

/* The current UTC time as "YYYY-MM-DDTHH:MM:SSZ" into `buf` (>= 21 bytes). */
void journal_timestamp(char *buf, size_t len);

#endif
