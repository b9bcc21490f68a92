/*
 * Secret scanning.
 *
 * The rules (src/scan/rules.ini, compiled in, plus the user's [rule "id"]
 * sections, less [scan] disable) are matched by one Hyperscan database in
 * one pass over the bytes; each candidate is then extracted and checked
 * with the rule's PCRE2 pattern (compiled on first use), its entropy
 * threshold and allowlist, and the global placeholder filter.  Findings
 * that are allowed (an inline "meshpush:allow", [scan] allow_paths, the
 * ignore file, a baseline) are counted but not reported.  See
 * docs/scanning.md for the design and the decisions.
 *
 * An engine may be used by one thread at a time; scan_history() runs its
 * own threads.
 */
#ifndef MP_SCAN_H
#define MP_SCAN_H

#include "config/config.h"
#include "util/util.h"

#include <git2.h>
#include <stdio.h>

struct scan_engine;

/*
 * Build an engine from the compiled-in rules, the user's rules of `cfg`
 * ([rule "id"]: a user rule with a built-in id replaces it) and the
 * [scan] keys (disable, allow_paths, max_size, ignore_file, baseline).
 * `cfg` may be NULL (built-in rules and defaults only).  The Hyperscan
 * database is loaded from the cache ($XDG_CACHE_HOME/meshpush/) when it
 * is there and valid, else compiled and cached.  Returns 0, or MP_ECONFIG
 * with an error naming the rule.
 */
int scan_engine_new(struct scan_engine **out, const struct config *cfg);
void scan_engine_free(struct scan_engine *e);

/*
 * Accept the findings of an earlier `--format json` report: findings whose
 * fingerprint is in it are not reported.  Returns 0, or MP_ECONFIG when
 * the file cannot be read or is not such a report.
 */
int scan_engine_add_baseline(struct scan_engine *e, const char *path);

/* Warnings gathered while building the engine (an unknown disabled id...). */
const struct strlist *scan_engine_warnings(const struct scan_engine *e);

/* Number of active rules, and whether the database came from the cache. */
size_t scan_engine_rule_count(const struct scan_engine *e);
int scan_engine_cache_hit(const struct scan_engine *e);

struct scan_finding {
	char *rule;
	char *description;
	char *path;
	char *commit; /* hex, or NULL outside history scans */
	size_t line, column; /* 1-based; column in bytes */
	char *secret;
	char *fingerprint;
};

struct scan_report {
	struct scan_finding *findings;
	size_t nr, alloc;
	struct strlist skipped; /* "path: reason", everything not scanned */
	size_t files, bytes;    /* what was scanned */
	size_t unscanned;       /* skipped entries that could not be scanned (too large, unreadable, corrupt) */
	size_t allowed;         /* findings suppressed by an allow mechanism */
	size_t commits, blobs;  /* commits walked, distinct blobs read (git modes) */
	size_t corrupt;         /* objects that could not be read: the repository is damaged */
};
#define SCAN_REPORT_INIT { 0 }

void scan_report_release(struct scan_report *r);

/*
 * Scan a buffer (a whole file): findings appended to `r`.  `path` is for
 * reporting, path rules and allow_paths.  A buffer with a NUL byte in its
 * first 8 KiB is binary: listed in r->skipped, not scanned.  Returns 0 or
 * a negative MP_E* code.
 */
int scan_buffer(struct scan_engine *e, struct scan_report *r, const char *path, const void *buf, size_t len);

/* Files and directories (recursive; skips .git; symbolic links are not followed). */
int scan_paths(struct scan_engine *e, struct scan_report *r, const struct strlist *paths);

/* Lines the next commit adds: the index against HEAD (or the empty tree). */
int scan_staged(struct scan_engine *e, struct scan_report *r, git_repository *repo);

/*
 * Lines ADDED by the commits reachable from `include` and from none of
 * `exclude`, each commit once, diffed against its first parent (root
 * commits against the empty tree; a merge: only lines that none of its
 * parents has).  Findings carry commit and path.
 */
int scan_commits(struct scan_engine *e, struct scan_report *r, git_repository *repo, const git_oid *include,
		 size_t ninclude, const git_oid *exclude, size_t nexclude);

/*
 * "A..B", "A...B", or a single revision (its whole history).  An
 * unresolvable range is MP_EGIT with a message naming it.
 */
int scan_range(struct scan_engine *e, struct scan_report *r, git_repository *repo, const char *range);

/*
 * The whole history (--all): every blob reachable from any ref, read once,
 * on all cores; each finding carries a commit and path where the blob
 * appears.  `progress` (may be NULL) is called now and then.
 */
int scan_history(struct scan_engine *e, struct scan_report *r, git_repository *repo,
		 void (*progress)(size_t done, size_t total, void *), void *payload);

enum scan_format { SCAN_FORMAT_TEXT, SCAN_FORMAT_JSON, SCAN_FORMAT_SARIF };

/* Write `r` to `out`.  Secrets are redacted unless `redact` is 0. */
int scan_report_write(const struct scan_report *r, enum scan_format f, int redact, int color, FILE *out);

/*
 * A redacted form of `secret`: at most 4 leading characters, then the
 * length, e.g. "ghp_…(40 chars)".  Enough to recognise, never to use.
 */
char *scan_redact(const char *secret);

/* Shannon entropy of `len` bytes, in bits per byte. */
double scan_entropy(const char *s, size_t len);

/* 1 when `secret` is a placeholder by the global filter (docs/scanning.md). */
int scan_is_placeholder(const char *secret, size_t len);

/* "rule:path:" + the first 16 hex digits of sha256(secret).  Caller frees. */
char *scan_fingerprint(const char *rule, const char *path, const char *secret);

/*
 * Glob match for allow_paths: `*` and `?` within a path component, `**`
 * across components, `[...]` classes; a glob without '/' matches the
 * base name at any depth; a glob that matches a leading directory matches
 * everything below it.
 */
int scan_glob_match(const char *glob, const char *path);

#endif
