/* git meshpush config: the effective configuration, with origins, tokens masked. */
#include "cli/cmd.h"
#include "cli/opt.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A value as shown: a URL's user information (user:password, a token) masked. */
static void print_value(const char *v)
{
	const char *info;
	size_t n = url_userinfo(&info, v);

	if (n)
		printf("%.*s***@%s", (int)(info - v), v, info + n);
	else
		fputs(v, stdout);
}

static void print_entry(const struct config_entry *e, int show_origin)
{
	if (show_origin)
		printf("%-28s ", e->origin);
	if (e->sub)
		printf("%s.%s.%s", e->section, e->sub, e->key);
	else
		printf("%s.%s", e->section, e->key);
	fputs(" = ", stdout);
	print_value(e->value);
	if (e->schema && e->schema->type == CFG_SECRET) {
		char *secret = NULL;
		int rc = config_resolve_secret(&secret, e->value, "secret");

		/* only whether it resolves: the secret itself is never shown */
		printf(rc == 0 ? "  (resolves)" : "  (does not resolve: %s)", rc == 0 ? "" : mp_error_last());
		free(secret);
	}
	putchar('\n');
}

static int is_effective(const struct config *cfg, const struct config_entry *e)
{
	if (e->schema && (e->schema->flags & CFG_MULTI))
		return 1;
	return config_lookup(cfg, e->section, e->sub, e->key) == e;
}

int cmd_config(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int show_origin = 0, keys = 0, all = 0;
	struct strlist args = STRLIST_INIT;
	const struct opt_spec opts[] = {
		OPT_BOOL("show-origin", 0, &show_origin, "show the file and line (or variable) each value comes from"),
		OPT_BOOL("keys", 0, &keys, "list every known key with its default and meaning"),
		OPT_BOOL("all", 0, &all, "also show values overridden by a higher layer"),
		OPT_ARGS(&args, "[KEY]", "print only KEY's value (section.key or section.name.key)"),
		OPT_END()
	};
	const struct opt_usage usage = { "config", "[--show-origin] [--keys] [KEY]",
					 "show the effective configuration (tokens masked)", opts };
	int ret = 0;

	OPT_PARSE_OR_RETURN(&usage, argc, argv);

	if (keys) {
		for (const struct config_key *k = config_schema; k->section; k++)
			printf("%s%s.%s%s%s%s\n    %s\n", k->section, k->flags & CFG_SUBSECTION ? ".NAME" : "",
			       k->flags & CFG_ANYKEY ? "AGENT" : k->key, k->def ? " (default: " : "",
			       k->def ? k->def : "", k->def ? ")" : "", k->help);
		goto cleanup;
	}
	if (args.nr == 1) {
		const char *spec = args.items[0], *d1 = strchr(spec, '.'), *d2 = strrchr(spec, '.');
		char *section, *sub = NULL;
		const char *v;

		if (!d1) {
			ret = error_usage("'%s' is not a key: write section.key or section.name.key", spec);
			goto cleanup;
		}
		section = xstrndup(spec, (size_t)(d1 - spec));
		if (d2 != d1)
			sub = xstrndup(d1 + 1, (size_t)(d2 - d1 - 1));
		v = config_get(&ctx->cfg, section, sub, d2 + 1);
		if (v) {
			print_value(v); /* a token key holds only its source, never the token */
			putchar('\n');
		} else
			ret = 1;
		free(section);
		free(sub);
		goto cleanup;
	}
	if (args.nr > 1) {
		ret = error_usage("'git meshpush config' takes at most one KEY");
		goto cleanup;
	}
	for (size_t i = 0; i < ctx->cfg.nr; i++) {
		const struct config_entry *e = &ctx->cfg.entries[i];

		if (all || is_effective(&ctx->cfg, e))
			print_entry(e, show_origin);
	}
cleanup:
	strlist_release(&args);
	return ret;
}
