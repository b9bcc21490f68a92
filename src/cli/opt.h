/*
 * Command-line options: one table per command, which both parses and
 * produces --help (after libgit2's cli_opt_spec and git's parse-options).
 */
#ifndef MP_OPT_H
#define MP_OPT_H

#include "util/util.h"

#include <stdio.h>

enum opt_type {
	OPT_BOOL,   /* --name: sets an int to 1 (--no-name sets 0) */
	OPT_STRING, /* --name VALUE or --name=VALUE: sets a const char * */
	OPT_INT,    /* --name N: sets an int */
	OPT_LIST,   /* --name VALUE, repeatable; VALUEs split on commas: appends to a struct strlist */
	OPT_ARGS,   /* the positional arguments: appends to a struct strlist */
	OPT_END
};

struct opt_spec {
	enum opt_type type;
	const char *name;       /* long name without "--" (NULL for OPT_ARGS) */
	char alias;             /* short name, or 0 */
	void *value;            /* int *, const char **, struct strlist * */
	const char *value_name; /* "FILE" */
	const char *help;
};

#define OPT_BOOL(n, a, v, h) { OPT_BOOL, n, a, v, NULL, h }
#define OPT_STRING(n, a, v, vn, h) { OPT_STRING, n, a, v, vn, h }
#define OPT_INT(n, a, v, vn, h) { OPT_INT, n, a, v, vn, h }
#define OPT_LIST(n, a, v, vn, h) { OPT_LIST, n, a, v, vn, h }
#define OPT_ARGS(v, vn, h) { OPT_ARGS, NULL, 0, v, vn, h }
#define OPT_END() { OPT_END, NULL, 0, NULL, NULL, NULL }

/* A command's usage: its name ("scan"), one-line summary, and options. */
struct opt_usage {
	const char *cmd;
	const char *synopsis; /* "[PATH...] [--staged]" */
	const char *summary;
	const struct opt_spec *opts;
};

#define OPT_HELP_SHOWN 1 /* opt_parse printed --help: the command exits 0 */

/*
 * Parse `argv` (argv[0] is the command name) against `u->opts`.  "--help"
 * and "-h" print the usage to stdout and return OPT_HELP_SHOWN.  An unknown
 * option, a missing value, or positional arguments where the command takes
 * none print an error naming it and return MP_EUSAGE; otherwise 0.
 */
int opt_parse(const struct opt_usage *u, int argc, const char **argv);

/* Print the usage of `u` to `fp`. */
void opt_print_usage(const struct opt_usage *u, FILE *fp);

/*
 * The usual start of a command: parse, and when the command should end
 * here return from it with the right exit code.
 */
#define OPT_PARSE_OR_RETURN(u, argc, argv)                                   \
	do {                                                                 \
		int opt_rc__ = opt_parse((u), (argc), (argv));               \
		if (opt_rc__ == OPT_HELP_SHOWN)                              \
			return 0;                                            \
		if (opt_rc__ < 0)                                            \
			return 2;                                            \
	} while (0)

#endif
