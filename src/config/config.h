/*
 * Layered configuration.
 *
 * Layers, lowest first: built-in defaults (the schema) < the repository's
 * committed .meshpush.ini < $XDG_CONFIG_HOME/meshpush/config.ini <
 * MESHPUSH_<SECTION>_<KEY> environment variables < command-line overrides
 * ("section.key=value" or "section.name.key=value").  Every key is declared
 * in the schema (schema.c); an unknown section or key is an error naming
 * file and line.  Tokens are never values: a token is named by a source,
 * "env:NAME" or "file:PATH", and only in the user's own file.
 */
#ifndef MP_CONFIG_H
#define MP_CONFIG_H

#include "util/util.h"

#include <stdio.h>

enum config_type {
	CFG_STR,
	CFG_BOOL,
	CFG_INT,     /* a non-negative integer */
	CFG_LIST,    /* whitespace-separated words */
	CFG_ENUM,    /* one of `choices` ("a|b") */
	CFG_REGEX,   /* PCRE2 pattern; indented continuation lines join without a space */
	CFG_SECRET,  /* a secret source: env:NAME or file:PATH */
	CFG_COMMAND  /* an argv template, run without a shell */
};

#define CFG_SUBSECTION 0x1 /* lives in [section "name"] */
#define CFG_USER_ONLY 0x2  /* refused in the committed .meshpush.ini */
#define CFG_MULTI 0x4      /* may repeat; config_get_all() returns every value */
#define CFG_ANYKEY 0x8     /* any key name (e.g. [token] agent = source) */

struct config_key {
	const char *section;
	const char *key;
	enum config_type type;
	unsigned flags;
	const char *def;     /* default value, or NULL */
	const char *choices; /* CFG_ENUM: "queue|block" */
	const char *help;    /* one line, for the man page and `config --keys` */
};

/* The schema: every known key.  Terminated by a row with section == NULL. */
extern const struct config_key config_schema[];

enum config_layer {
	CONFIG_DEFAULT = 0,
	CONFIG_REPO = 1,
	CONFIG_USER = 2,
	CONFIG_ENV = 3,
	CONFIG_CMDLINE = 4
};

struct config_entry {
	char *section;
	char *sub; /* NULL outside [section "name"] */
	char *key;
	char *value;
	char *origin; /* "FILE:LINE", "env MESHPUSH_X", "command line" */
	enum config_layer layer;
	const struct config_key *schema;
};

struct config {
	struct config_entry *entries;
	size_t nr, alloc;
	char *repo_file;  /* path of the repository's .meshpush.ini, or NULL */
	char *user_file;  /* path of the user's config.ini */
};
#define CONFIG_INIT { NULL, 0, 0, NULL, NULL }

struct config_load_opts {
	const char *worktree;      /* directory holding .meshpush.ini, or NULL */
	const char *repo_text;     /* or its text (a bare repository's HEAD blob) */
	size_t repo_len;
	const char *repo_name;     /* name of repo_text in messages */
	const struct strlist *overrides; /* "section[.name].key=value" */
	int no_user;               /* skip the user's file (tests of the repo layer) */
};
#define CONFIG_LOAD_OPTS_INIT { NULL, NULL, 0, NULL, NULL, 0 }

/*
 * Load every layer into `cfg` (initialised with CONFIG_INIT).  Returns 0,
 * or MP_ECONFIG with an error naming file and line.
 */
int config_load(struct config *cfg, const struct config_load_opts *opts);

/* Parse `len` bytes of INI `text` named `name` as `layer` into `cfg`. */
int config_add_text(struct config *cfg, const char *name, const char *text, size_t len,
		    enum config_layer layer);

/*
 * Set one value as `layer` (a command's own flag: CONFIG_CMDLINE), as if
 * read from `origin`.  Checks the key and the value like a file would.
 */
int config_set(struct config *cfg, const char *section, const char *sub, const char *key,
	       const char *value, enum config_layer layer, const char *origin);

void config_release(struct config *cfg);

/* The effective value (highest layer, last set), else the default, else NULL. */
const char *config_get(const struct config *cfg, const char *section, const char *sub, const char *key);

/* The entry that gives the effective value, or NULL when it is the default. */
const struct config_entry *config_lookup(const struct config *cfg, const char *section,
					 const char *sub, const char *key);

/* Every value of a CFG_MULTI key, lowest layer first, in file order. */
void config_get_all(struct strlist *out, const struct config *cfg, const char *section,
		    const char *sub, const char *key);

/* Effective value as a boolean / integer / word list (default applied). */
int config_get_bool(const struct config *cfg, const char *section, const char *sub, const char *key);
long config_get_int(const struct config *cfg, const char *section, const char *sub, const char *key);
void config_get_list(struct strlist *out, const struct config *cfg, const char *section,
		     const char *sub, const char *key);

/* Names of the subsections of `section` ([agent "x"] ...), sorted, unique. */
void config_subsections(struct strlist *out, const struct config *cfg, const char *section);

/*
 * Resolve a secret source ("env:NAME" or "file:PATH") into `*out`.  A file
 * readable by group or others, or not owned by us, is refused with how to
 * fix it.  Returns 0, MP_ENOTFOUND when `source` is NULL/empty, MP_ECONFIG
 * otherwise.  The secret never appears in the error message.
 */
int config_resolve_secret(char **out, const char *source, const char *what);

/*
 * The token for agent `agent` ([token] agent = source): 0 with `*out` set,
 * MP_ENOTFOUND when none is configured, MP_ECONFIG when it cannot be read.
 * `*source_out` (may be NULL) receives the source text, safe to print.
 */
int config_token(char **out, const char **source_out, const struct config *cfg, const char *agent);

/* Find the schema row of section/key, or NULL. */
const struct config_key *config_schema_find(const char *section, const char *key);

#endif
