#include "cli/opt.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

void opt_print_usage(const struct opt_usage *u, FILE *fp)
{
	fprintf(fp, "usage: git meshpush %s%s%s\n\n    %s\n", u->cmd, u->synopsis ? " " : "",
		u->synopsis ? u->synopsis : "", u->summary);
	if (u->opts && u->opts[0].type != OPT_END)
		fputc('\n', fp);
	for (const struct opt_spec *o = u->opts; o && o->type != OPT_END; o++) {
		char left[96];

		if (o->type == OPT_ARGS)
			snprintf(left, sizeof(left), "%s", o->value_name ? o->value_name : "ARGS");
		else if (o->type == OPT_BOOL)
			snprintf(left, sizeof(left), "%s%c%s--%s", o->alias ? "-" : "", o->alias ? o->alias : ' ',
				 o->alias ? ", " : " ", o->name);
		else
			snprintf(left, sizeof(left), "%s%c%s--%s %s", o->alias ? "-" : "", o->alias ? o->alias : ' ',
				 o->alias ? ", " : " ", o->name, o->value_name ? o->value_name : "VALUE");
		fprintf(fp, "    %-28s %s\n", left, o->help);
	}
	fprintf(fp, "    %-28s %s\n", "-h, --help", "show this help");
}

static const struct opt_spec *find_long(const struct opt_spec *opts, const char *name, size_t n, int *negated)
{
	*negated = 0;
	for (const struct opt_spec *o = opts; o && o->type != OPT_END; o++)
		if (o->name && strlen(o->name) == n && !strncmp(o->name, name, n))
			return o;
	if (n > 3 && !strncmp(name, "no-", 3))
		for (const struct opt_spec *o = opts; o && o->type != OPT_END; o++)
			if (o->type == OPT_BOOL && o->name && strlen(o->name) == n - 3 && !strncmp(o->name, name + 3, n - 3)) {
				*negated = 1;
				return o;
			}
	return NULL;
}

static const struct opt_spec *find_short(const struct opt_spec *opts, char c)
{
	for (const struct opt_spec *o = opts; o && o->type != OPT_END; o++)
		if (o->alias && o->alias == c)
			return o;
	return NULL;
}

static int set_value(const struct opt_usage *u, const struct opt_spec *o, const char *val, const char *shown)
{
	switch (o->type) {
	case OPT_STRING:
		*(const char **)o->value = val;
		return 0;
	case OPT_INT: {
		char *end;
		long n = strtol(val, &end, 10);

		if (!*val || *end || n < 0 || n > 1000000000L)
			return mp_error_set(MP_EUSAGE, "option '%s' expects a number, not '%s'", shown, val);
		*(int *)o->value = (int)n;
		return 0;
	}
	case OPT_LIST:
		strlist_split(o->value, val, ",");
		return 0;
	default:
		return 0;
	}
}

int opt_parse(const struct opt_usage *u, int argc, const char **argv)
{
	const struct opt_spec *args = NULL;
	int only_args = 0;

	for (const struct opt_spec *o = u->opts; o && o->type != OPT_END; o++)
		if (o->type == OPT_ARGS)
			args = o;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct opt_spec *o;
		int negated = 0;

		if (only_args || a[0] != '-' || !a[1]) {
			if (!args) {
				fprintf(stderr, "error: 'git meshpush %s' takes no argument '%s'\n", u->cmd, a);
				fprintf(stderr, "run 'git meshpush %s --help' for usage\n", u->cmd);
				return MP_EUSAGE;
			}
			strlist_push(args->value, a);
			continue;
		}
		if (!strcmp(a, "--")) {
			only_args = 1;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			opt_print_usage(u, stdout);
			return OPT_HELP_SHOWN;
		}
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t n = eq ? (size_t)(eq - name) : strlen(name);

			o = find_long(u->opts, name, n, &negated);
			if (!o) {
				fprintf(stderr, "error: unknown option '--%.*s' for 'git meshpush %s'\n", (int)n, name, u->cmd);
				fprintf(stderr, "run 'git meshpush %s --help' for usage\n", u->cmd);
				return MP_EUSAGE;
			}
			if (o->type == OPT_BOOL) {
				if (eq) {
					fprintf(stderr, "error: option '--%s' takes no value\n", o->name);
					return MP_EUSAGE;
				}
				*(int *)o->value = !negated;
				continue;
			}
			if (eq) {
				if (set_value(u, o, eq + 1, a) < 0)
					goto bad_value;
				continue;
			}
			if (i + 1 >= argc) {
				fprintf(stderr, "error: option '--%s' needs a value (%s)\n", o->name,
					o->value_name ? o->value_name : "VALUE");
				return MP_EUSAGE;
			}
			if (set_value(u, o, argv[++i], a) < 0)
				goto bad_value;
			continue;
		}
		/* short options, possibly bundled: -ab, -fVALUE, -f VALUE */
		for (const char *c = a + 1; *c; c++) {
			o = find_short(u->opts, *c);
			if (!o) {
				fprintf(stderr, "error: unknown option '-%c' for 'git meshpush %s'\n", *c, u->cmd);
				fprintf(stderr, "run 'git meshpush %s --help' for usage\n", u->cmd);
				return MP_EUSAGE;
			}
			if (o->type == OPT_BOOL) {
				*(int *)o->value = 1;
				continue;
			}
			if (c[1]) {
				if (set_value(u, o, c + 1, a) < 0)
					goto bad_value;
			} else if (i + 1 < argc) {
				if (set_value(u, o, argv[++i], a) < 0)
					goto bad_value;
			} else {
				fprintf(stderr, "error: option '-%c' needs a value\n", *c);
				return MP_EUSAGE;
			}
			break;
		}
	}
	return 0;

bad_value:
	mp_error_print();
	return MP_EUSAGE;
}
