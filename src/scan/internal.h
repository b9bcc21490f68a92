/*
 * Inside the scanner: rules, the engine and per-thread scan contexts.
 * Only the files of src/scan/ and the scanner's unit tests include this.
 */
#ifndef MP_SCAN_INTERNAL_H
#define MP_SCAN_INTERNAL_H

#include "scan/scan.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <hs/hs.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdint.h>

/* How Hyperscan finds a rule's candidates. */
enum scan_hs_mode {
	SCAN_HS_EXACT,     /* its regex compiles as is */
	SCAN_HS_PREFILTER, /* its regex compiles in prefilter mode (a superset) */
	SCAN_HS_KEYWORDS,  /* its keywords, as literals: PCRE2 over the lines around */
	SCAN_HS_NONE       /* nothing: PCRE2 over every buffer */
};

struct scan_rule {
	char *id;
	char *description;
	char *regex;
	/*
	 * What Hyperscan looks for instead of regex (NULL: regex): it must
	 * match wherever regex does, ending on the line where regex's match
	 * ends or before it (a prefix of it without the bounded repeat and
	 * the context at its end, which cost Hyperscan most); PCRE2 decides.
	 */
	char *trigger;
	int secret_group;
	struct strlist keywords;
	double entropy; /* 0: no threshold */
	struct strlist allow;
	char *path;
	struct strlist tp, fp, fp_placeholder;
	char *origin; /* "rules.ini:12" or the user's file:line */
	int multiline; /* the regex can span lines: look further back */
	int lines;     /* multi-line rules: the most lines a match spans (0: up to 64 KiB back) */
	int builtin;   /* from the compiled-in rules, unchanged */

	/* compiled on first use (under engine->lock) */
	pcre2_code *re;
	pcre2_code **allow_re;
	pcre2_code *path_re;
	int compiled; /* 1 ok, -1 failed: re and allow_re */
	int path_compiled; /* the same for path_re, compiled on its own */
	enum scan_hs_mode hs_mode;
};

struct scan_engine {
	struct scan_rule *rules;
	size_t nr, alloc;

	hs_database_t *db;
	/*
	 * The rules restricted to a path (`path = ...`), in a database of their
	 * own: scanned only over a buffer whose path one of them matches (or
	 * every buffer while ignore_path_rules is set), so that a rule such as
	 * a whole-line pattern for .erlang.cookie files costs nothing elsewhere.
	 */
	hs_database_t *db_path;
	hs_scratch_t *scratch0; /* allocated when the cached database was checked; the first context's */
	uint32_t *hs_rule; /* Hyperscan id -> rule index */
	size_t hs_nr;
	int cache_hit;

	struct strlist disabled; /* ids removed by [scan] disable, as given */
	struct strlist allow_paths;
	size_t max_size;
	char **ignore; /* sorted fingerprints: ignore file + baselines */
	size_t ignore_nr, ignore_alloc;
	struct strlist warnings;
	char *root; /* work tree (relative paths of findings), or NULL */

	pthread_mutex_t lock;
	struct scan_ctx *ctx; /* for single-threaded use */

	/*
	 * History scans' first pass, where a blob's path is not known yet:
	 * ignore_path_rules applies every path rule to every blob (a superset
	 * of the findings); defer_path_rules applies none of them, and the
	 * caller scans again, with its path, each blob a path rule applies to
	 * (scan_path_rules_match).
	 */
	int ignore_path_rules;
	int defer_path_rules;

	/* testing knobs */
	int no_placeholder_filter;
	int no_entropy;
};

/* Per-thread scanning state. */
struct scan_ctx {
	struct scan_engine *e;
	hs_scratch_t *scratch;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit;
};

/* Per-buffer options: diff buffers map their lines to the file's lines. */
struct scan_source {
	const char *path;      /* reported */
	const char *rel;       /* relative to the work tree, for fingerprints and path rules (NULL: path) */
	const char *commit;    /* hex, or NULL */
	const size_t *linemap; /* buffer line (0-based) -> file line (1-based), or NULL */
	size_t linemap_nr;
};

int scan_ctx_new(struct scan_ctx **out, struct scan_engine *e);
void scan_ctx_free(struct scan_ctx *c);

/*
 * Scan `len` bytes of `buf` (already known to be text and within the size
 * limit) and append the findings to `r`.  `line_base` is the number of
 * lines before `buf` in the file (for chunked reads).
 */
int scan_ctx_scan(struct scan_ctx *c, struct scan_report *r, const struct scan_source *src,
		  const char *buf, size_t len, size_t line_base, size_t keep_before);

/* 1 when the first 8 KiB of `buf` hold a NUL byte. */
int scan_is_binary(const void *buf, size_t len);

/* Append "path: reason" to the skipped list; `unscanned` counts it as a failure to scan. */
void scan_report_skip(struct scan_report *r, const char *path, int unscanned, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Move the findings and counts of `from` to the end of `to`. */
void scan_report_merge(struct scan_report *to, struct scan_report *from);

/* Whether a rule is restricted to a path (`path = ...`). */
int scan_has_path_rules(const struct scan_engine *e);

/*
 * Whether a rule restricted to a path applies to `path`; also 1 when such
 * a rule's path pattern does not compile (the scan with the path then says
 * so).
 */
int scan_path_rules_match(struct scan_engine *e, const char *path);

/* Whether `path` is allowed by [scan] allow_paths. */
int scan_path_allowed(const struct scan_engine *e, const char *path);

/* Keep the rules' tp/fp examples when parsing (the unit tests set it). */
extern int scan_keep_examples;

/* Parse rules INI text (`name` in messages) into `e`.  0 or MP_ECONFIG. */
int scan_rules_parse(struct scan_engine *e, const char *name, const char *text, size_t len);

/*
 * The compiled-in rules text (without comments and examples unless
 * scan_keep_examples is set; the line numbers are the same), and the
 * sha256 in hex of src/scan/rules.ini (computed at build time).
 */
const char *scan_builtin_rules(size_t *len);
const char *scan_builtin_rules_sha256(void);

/* Compile `rule`'s PCRE2 patterns if not done yet.  0 or MP_ECONFIG. */
int scan_rule_compile(struct scan_engine *e, struct scan_rule *rule);

/*
 * Compile `rule`'s path pattern if not done yet (the path decides whether
 * the rest is needed at all).  0 or MP_ECONFIG.
 */
int scan_rule_compile_path(struct scan_engine *e, struct scan_rule *rule);

/* Build or load from the cache the Hyperscan database.  0 or MP_ECONFIG. */
int scan_engine_build_db(struct scan_engine *e);

/* sha256 of `len` bytes into `out` (32 bytes). */
void scan_sha256(unsigned char out[32], const void *data, size_t len);

#endif
