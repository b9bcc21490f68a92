#include "config/config.h"

#include "config/ini.h"
#include "error.h"
#include "util/fs.h"
#include "util/proc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const struct config_key *config_schema_find(const char *section, const char *key)
{
	for (const struct config_key *k = config_schema; k->section; k++)
		if (!strcmp(k->section, section) && ((k->flags & CFG_ANYKEY) || !strcmp(k->key, key)))
			return k;
	return NULL;
}

static int section_known(const char *section, int *has_sub)
{
	for (const struct config_key *k = config_schema; k->section; k++)
		if (!strcmp(k->section, section)) {
			*has_sub = !!(k->flags & CFG_SUBSECTION);
			return 1;
		}
	return 0;
}

static int url_has_password(const char *v)
{
	const char *info;
	size_t n = url_userinfo(&info, v);
	const char *colon = n ? memchr(info, ':', n - 1) : NULL;

	return colon && colon + 1 < info + n - 1;
}

static int check_value(const struct config_key *k, const char *section, const char *key, const char *value)
{
	switch (k->type) {
	case CFG_BOOL:
		if (!strcmp(value, "true") || !strcmp(value, "false") || !strcmp(value, "yes") ||
		    !strcmp(value, "no") || !strcmp(value, "on") || !strcmp(value, "off") ||
		    !strcmp(value, "1") || !strcmp(value, "0"))
			return 0;
		return mp_error_set(MP_ECONFIG, "'%s.%s' must be true or false, not '%s'", section, key, value);
	case CFG_INT:
		if (!*value || strspn(value, "0123456789") != strlen(value) || strlen(value) > 12)
			return mp_error_set(MP_ECONFIG, "'%s.%s' must be a whole number, not '%s'", section, key, value);
		return 0;
	case CFG_ENUM: {
		size_t n = strlen(value);
		const char *c = k->choices;

		while (c && *c) {
			size_t m = strcspn(c, "|");

			if (m == n && !strncmp(c, value, n))
				return 0;
			c += m + (c[m] == '|');
		}
		return mp_error_set(MP_ECONFIG, "'%s.%s' must be one of %s, not '%s'", section, key, k->choices, value);
	}
	case CFG_SECRET:
		if (starts_with(value, "env:") || starts_with(value, "file:"))
			return 0;
		return mp_error_set(MP_ECONFIG, "'%s.%s' must name where the secret is (env:NAME or file:PATH), never the secret itself",
				    section, key);
	case CFG_COMMAND: {
		struct strlist argv = STRLIST_INIT;
		int ret = proc_argv_template(&argv, value, NULL);

		strlist_release(&argv);
		return ret;
	}
	default:
		return 0;
	}
}

/* What a value may not be in `layer`, then what its type allows: 0 or MP_ECONFIG. */
static int check_layer_value(const struct config_key *k, const char *section, const char *key, const char *value,
			     enum config_layer layer)
{
	if (layer == CONFIG_REPO && url_has_password(value))
		return mp_error_set(MP_ECONFIG, "'%s.%s' holds a URL with a password: credentials must not be committed",
				    section, key);
	if (check_value(k, section, key, value) < 0)
		return MP_ECONFIG;
	return 0;
}

static void entry_push(struct config *cfg, const char *section, const char *sub, const char *key,
		       const char *value, const char *origin, enum config_layer layer,
		       const struct config_key *k)
{
	struct config_entry *e;

	cfg->entries = xgrow(cfg->entries, sizeof(*cfg->entries), cfg->nr + 1, &cfg->alloc);
	e = &cfg->entries[cfg->nr++];
	e->section = xstrdup(section);
	e->sub = sub ? xstrdup(sub) : NULL;
	e->key = xstrdup(key);
	e->value = xstrdup(value);
	e->origin = xstrdup(origin);
	e->layer = layer;
	e->schema = k;
}

static int set_checked(struct config *cfg, const char *section, const char *sub, const char *key,
		       const char *value, enum config_layer layer, const char *origin)
{
	const struct config_key *k;
	int has_sub = 0;

	if (!section_known(section, &has_sub))
		return mp_error_set(MP_ECONFIG, "unknown section '%s'", section);
	if (has_sub && !sub)
		return mp_error_set(MP_ECONFIG, "section '%s' needs a name: [%s \"NAME\"]", section, section);
	if (!has_sub && sub)
		return mp_error_set(MP_ECONFIG, "section '%s' takes no name", section);
	k = config_schema_find(section, key);
	if (!k)
		return mp_error_set(MP_ECONFIG, "unknown key '%s' in section '%s'", key, section);
	if (layer == CONFIG_REPO && (k->flags & CFG_USER_ONLY))
		return mp_error_set(MP_ECONFIG,
				    "'%s.%s' must not be in the committed file: put it in the user configuration (%s)",
				    section, key, "~/.config/meshpush/config.ini");
	if (check_layer_value(k, section, key, value, layer) < 0)
		return MP_ECONFIG;
	entry_push(cfg, section, sub, key, value, origin, layer, k);
	return 0;
}

int config_set(struct config *cfg, const char *section, const char *sub, const char *key,
	       const char *value, enum config_layer layer, const char *origin)
{
	return set_checked(cfg, section, sub, key, value, layer, origin);
}

struct parse_state {
	struct config *cfg;
	enum config_layer layer;
};

static int ini_handler(struct mp_ini *ini, const char *raw_section, const char *name,
		       const char *value, void *payload)
{
	struct parse_state *st = payload;
	struct config *cfg = st->cfg;
	char *section = NULL, *sub = NULL, *origin = NULL;
	int ret = 1;

	if (!*raw_section) {
		mp_error_set(MP_ECONFIG, "'%s' is outside any [section]", name);
		return 0;
	}
	if (mp_ini_split_section(&section, &sub, raw_section) < 0) {
		mp_error_set(MP_ECONFIG, "malformed section header [%s]: write [section \"name\"]", raw_section);
		return 0;
	}
	if (mp_ini_continued(ini) && cfg->nr) {
		struct config_entry *last = &cfg->entries[cfg->nr - 1];

		if (!strcmp(last->key, name) && !strcmp(last->section, section)) {
			char *joined;

			if (last->schema->type == CFG_SECRET) {
				/* the continuation may be the secret itself: never echo it */
				mp_error_set(MP_ECONFIG, "'%s.%s' must be one line: env:NAME or file:PATH", section, name);
				ret = 0;
				goto cleanup;
			}
			joined = xasprintf("%s%s%s", last->value, last->schema->type == CFG_REGEX ? "" : " ", value);
			if (check_layer_value(last->schema, section, name, joined, last->layer) < 0) {
				free(joined);
				ret = 0;
				goto cleanup;
			}
			free(last->value);
			last->value = joined;
			goto cleanup;
		}
	}
	origin = xasprintf("%s:%d", mp_ini_name(ini), mp_ini_line(ini));
	if (set_checked(cfg, section, sub, name, value, st->layer, origin) < 0)
		ret = 0;
cleanup:
	free(section);
	free(sub);
	free(origin);
	return ret;
}

int config_add_text(struct config *cfg, const char *name, const char *text, size_t len,
		    enum config_layer layer)
{
	struct parse_state st = { cfg, layer };

	return mp_ini_parse(name, text, len, ini_handler, &st);
}

static int add_file(struct config *cfg, const char *path, enum config_layer layer)
{
	char *text = NULL;
	size_t len = 0;
	int ret = fs_read_file(&text, &len, path);

	if (ret == MP_ENOTFOUND) {
		mp_error_clear();
		return 0;
	}
	if (ret == 0)
		ret = config_add_text(cfg, path, text, len, layer);
	free(text);
	return ret;
}

static int add_env(struct config *cfg)
{
	for (const struct config_key *k = config_schema; k->section; k++) {
		struct strbuf name = STRBUF_INIT;
		const char *v;
		int ret = 0;

		if (k->flags & (CFG_SUBSECTION | CFG_ANYKEY))
			continue;
		strbuf_addf(&name, "MESHPUSH_%s_%s", k->section, k->key);
		for (char *p = name.buf; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		v = getenv(name.buf);
		if (v) {
			char *origin = xasprintf("environment %s", name.buf);

			ret = set_checked(cfg, k->section, NULL, k->key, v, CONFIG_ENV, origin);
			if (ret < 0) {
				char *msg = xstrdup(mp_error_last());

				mp_error_set(MP_ECONFIG, "%s: %s", name.buf, msg);
				free(msg);
			}
			free(origin);
		}
		strbuf_release(&name);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int add_override(struct config *cfg, const char *spec)
{
	const char *eq = strchr(spec, '='), *dot1, *dot2;
	char *section = NULL, *sub = NULL, *key = NULL;
	int ret;

	dot1 = strchr(spec, '.');
	/* the value may be a secret given by mistake: messages name only what precedes '=' */
	if (!eq)
		return mp_error_set(MP_EUSAGE, "-c: expected section.key=value or section.name.key=value");
	if (!dot1 || dot1 > eq)
		return mp_error_set(MP_EUSAGE, "'-c %.*s=...': expected section.key=value or section.name.key=value",
				    (int)(eq - spec), spec);
	dot2 = dot1;
	for (const char *p = dot1 + 1; p < eq; p++)
		if (*p == '.')
			dot2 = p;
	section = xstrndup(spec, (size_t)(dot1 - spec));
	if (dot2 != dot1)
		sub = xstrndup(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	key = xstrndup(dot2 + 1, (size_t)(eq - dot2 - 1));
	ret = set_checked(cfg, section, sub, key, eq + 1, CONFIG_CMDLINE, "command line");
	if (ret < 0) {
		char *msg = xstrdup(mp_error_last());

		mp_error_set(MP_EUSAGE, "-c %.*s: %s", (int)(eq - spec), spec, msg);
		free(msg);
		ret = MP_EUSAGE;
	}
	free(section);
	free(sub);
	free(key);
	return ret;
}

int config_load(struct config *cfg, const struct config_load_opts *opts)
{
	struct config_load_opts none = CONFIG_LOAD_OPTS_INIT;
	char *dir = NULL;
	int ret = 0;

	if (!opts)
		opts = &none;
	if (opts->repo_text) {
		cfg->repo_file = xstrdup(opts->repo_name ? opts->repo_name : ".meshpush.ini");
		ret = config_add_text(cfg, cfg->repo_file, opts->repo_text, opts->repo_len, CONFIG_REPO);
	} else if (opts->worktree) {
		cfg->repo_file = fs_join(opts->worktree, ".meshpush.ini");
		ret = add_file(cfg, cfg->repo_file, CONFIG_REPO);
	}
	if (ret < 0)
		goto cleanup;
	dir = fs_config_dir();
	cfg->user_file = fs_join(dir, "config.ini");
	if (!opts->no_user && (ret = add_file(cfg, cfg->user_file, CONFIG_USER)) < 0)
		goto cleanup;
	if ((ret = add_env(cfg)) < 0)
		goto cleanup;
	for (size_t i = 0; opts->overrides && i < opts->overrides->nr; i++)
		if ((ret = add_override(cfg, opts->overrides->items[i])) < 0)
			goto cleanup;
cleanup:
	free(dir);
	return ret;
}

void config_release(struct config *cfg)
{
	for (size_t i = 0; i < cfg->nr; i++) {
		struct config_entry *e = &cfg->entries[i];

		free(e->section);
		free(e->sub);
		free(e->key);
		free(e->value);
		free(e->origin);
	}
	free(cfg->entries);
	free(cfg->repo_file);
	free(cfg->user_file);
	memset(cfg, 0, sizeof(*cfg));
}

static int entry_matches(const struct config_entry *e, const char *section, const char *sub, const char *key)
{
	return !strcmp(e->section, section) && !strcmp(e->key, key) &&
	       ((!sub && !e->sub) || (sub && e->sub && !strcmp(sub, e->sub)));
}

const struct config_entry *config_lookup(const struct config *cfg, const char *section,
					 const char *sub, const char *key)
{
	const struct config_entry *best = NULL;

	for (size_t i = 0; i < cfg->nr; i++) {
		const struct config_entry *e = &cfg->entries[i];

		if (entry_matches(e, section, sub, key) && (!best || e->layer >= best->layer))
			best = e;
	}
	return best;
}

const char *config_get(const struct config *cfg, const char *section, const char *sub, const char *key)
{
	const struct config_entry *e = config_lookup(cfg, section, sub, key);
	const struct config_key *k;

	if (e)
		return e->value;
	k = config_schema_find(section, key);
	return k && !(k->flags & CFG_ANYKEY) ? k->def : NULL;
}

void config_get_all(struct strlist *out, const struct config *cfg, const char *section,
		    const char *sub, const char *key)
{
	for (int layer = CONFIG_DEFAULT; layer <= CONFIG_CMDLINE; layer++)
		for (size_t i = 0; i < cfg->nr; i++)
			if ((int)cfg->entries[i].layer == layer &&
			    entry_matches(&cfg->entries[i], section, sub, key))
				strlist_push(out, cfg->entries[i].value);
}

int config_get_bool(const struct config *cfg, const char *section, const char *sub, const char *key)
{
	const char *v = config_get(cfg, section, sub, key);

	return v && (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1"));
}

long config_get_int(const struct config *cfg, const char *section, const char *sub, const char *key)
{
	const char *v = config_get(cfg, section, sub, key);

	return v ? strtol(v, NULL, 10) : 0;
}

void config_get_list(struct strlist *out, const struct config *cfg, const char *section,
		     const char *sub, const char *key)
{
	const char *v = config_get(cfg, section, sub, key);

	if (v)
		strlist_split(out, v, NULL);
}

void config_subsections(struct strlist *out, const struct config *cfg, const char *section)
{
	for (size_t i = 0; i < cfg->nr; i++) {
		const struct config_entry *e = &cfg->entries[i];

		if (e->sub && !strcmp(e->section, section) && !strlist_has(out, e->sub))
			strlist_push(out, e->sub);
	}
	strlist_sort(out);
}

int config_resolve_secret(char **out, const char *source, const char *what)
{
	*out = NULL;
	if (!source || !*source)
		return mp_error_set(MP_ENOTFOUND, "no %s is configured", what);
	if (starts_with(source, "env:")) {
		const char *v = getenv(source + 4);

		if (!v || !*v)
			return mp_error_set(MP_ECONFIG, "%s comes from '%s', but that variable is not set", what, source);
		*out = xstrdup(v);
		return 0;
	}
	if (starts_with(source, "file:")) {
		char *path = fs_expand_home(source + 5), *text = NULL;
		struct stat st;
		size_t len;
		int fd, ret = 0;

		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			ret = mp_error_set(MP_ECONFIG, "cannot open %s file '%s': %s", what, path, strerror(errno));
			goto done;
		}
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			ret = mp_error_set(MP_ECONFIG, "%s file '%s' is not a regular file", what, path);
			goto done;
		}
		if (st.st_mode & 077) {
			ret = mp_error_set(MP_ECONFIG,
					   "%s file '%s' is accessible by others (mode %03o): run 'chmod 600 %s'",
					   what, path, (unsigned)(st.st_mode & 0777), path);
			goto done;
		}
		if (st.st_uid != geteuid()) {
			ret = mp_error_set(MP_ECONFIG, "%s file '%s' is not owned by you: run 'chown %u %s'",
					   what, path, (unsigned)geteuid(), path);
			goto done;
		}
		/* read what was checked: opening the path again could find another file */
		if ((ret = fs_read_fd(&text, &len, fd, path)) < 0) {
			ret = MP_ECONFIG; /* the message says why */
			goto done;
		}
		while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
			text[--len] = '\0';
		if (!len) {
			free(text);
			text = NULL;
			ret = mp_error_set(MP_ECONFIG, "%s file '%s' is empty", what, path);
			goto done;
		}
		*out = text;
	done:
		if (fd >= 0)
			close(fd);
		free(path);
		return ret;
	}
	return mp_error_set(MP_ECONFIG, "%s source must be env:NAME or file:PATH", what);
}

int config_token(char **out, const char **source_out, const struct config *cfg, const char *agent)
{
	const char *source = config_get(cfg, "token", NULL, agent);
	char *what = xasprintf("token for agent '%s'", agent);
	int ret;

	if (source_out)
		*source_out = source;
	ret = config_resolve_secret(out, source, what);
	free(what);
	return ret;
}
