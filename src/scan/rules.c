/*
 * Rules: the compiled-in rules.ini, the user's [rule "id"] sections, and
 * their PCRE2 patterns (compiled on first use, so that start-up costs only
 * the parse).
 */
#include "scan/internal.h"

#include "config/ini.h"
#include "error.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

extern const char scan_rules_ini[];
extern const char scan_rules_ini_end[];
extern const char scan_rules_ini_sha256[];
extern const char scan_rules_lean[];
extern const char scan_rules_lean_end[];

const char *scan_builtin_rules_sha256(void)
{
	return scan_rules_ini_sha256;
}

int scan_keep_examples;

const char *scan_builtin_rules(size_t *len)
{
	if (scan_keep_examples) {
		*len = (size_t)(scan_rules_ini_end - scan_rules_ini);
		return scan_rules_ini;
	}
	*len = (size_t)(scan_rules_lean_end - scan_rules_lean);
	return scan_rules_lean;
}

/* "\n" in tp/fp values stands for a newline. */
static char *unescape_example(const char *v)
{
	char *out = xstrdup(v), *w = out;

	for (const char *p = v; *p; p++) {
		if (p[0] == '\\' && p[1] == 'n') {
			*w++ = '\n';
			p++;
		} else {
			*w++ = *p;
		}
	}
	*w = '\0';
	return out;
}

/* Whether a pattern can match across lines (a PEM block): then the
 * window PCRE2 searches reaches further back than the candidate's line. */
static int regex_may_span_lines(const char *re)
{
	return strstr(re, "\\s\\S") || strstr(re, "\\S\\s") || strstr(re, "(?s") || strstr(re, "\\n") ||
	       strstr(re, "\\r") || strstr(re, "BEGIN");
}

static struct scan_rule *rule_find(struct scan_engine *e, const char *id)
{
	for (size_t i = 0; i < e->nr; i++)
		if (!strcmp(e->rules[i].id, id))
			return &e->rules[i];
	return NULL;
}

static void rule_release(struct scan_rule *r)
{
	free(r->id);
	free(r->description);
	free(r->regex);
	free(r->trigger);
	strlist_release(&r->keywords);
	free(r->path);
	strlist_release(&r->tp);
	strlist_release(&r->fp);
	strlist_release(&r->fp_placeholder);
	free(r->origin);
	pcre2_code_free(r->re);
	if (r->allow_re)
		for (size_t i = 0; i < r->allow.nr; i++)
			pcre2_code_free(r->allow_re[i]);
	free(r->allow_re);
	strlist_release(&r->allow);
	pcre2_code_free(r->path_re);
	memset(r, 0, sizeof(*r));
}

static struct scan_rule *rule_add(struct scan_engine *e, const char *id, const char *origin)
{
	struct scan_rule *r = rule_find(e, id);

	if (r) {
		rule_release(r); /* a later definition replaces an earlier one */
	} else {
		e->rules = xgrow(e->rules, sizeof(*e->rules), e->nr + 1, &e->alloc);
		r = &e->rules[e->nr++];
	}
	memset(r, 0, sizeof(*r));
	r->id = xstrdup(id);
	r->origin = xstrdup(origin);
	r->secret_group = 1;
	return r;
}

/* Set one key of a rule; `append` joins a continuation line.  0 or MP_ECONFIG. */
static int rule_set(struct scan_rule *r, const char *key, const char *value, int continued)
{
	char *end;

	if (continued && !strcmp(key, "regex") && r->regex) {
		char *j = xasprintf("%s%s", r->regex, value);

		free(r->regex);
		r->regex = j;
		return 0;
	}
	if (continued && (!strcmp(key, "allow") || !strcmp(key, "path"))) {
		char **last = !strcmp(key, "path") ? &r->path : (r->allow.nr ? &r->allow.items[r->allow.nr - 1] : NULL);

		if (last && *last) {
			char *j = xasprintf("%s%s", *last, value);

			free(*last);
			*last = j;
			return 0;
		}
	}
	if (!scan_keep_examples && (!strcmp(key, "tp") || !strcmp(key, "fp") || !strcmp(key, "fp_placeholder")))
		return 0; /* examples are for the tests: start-up does not pay for them */
	if (continued && (!strcmp(key, "tp") || !strcmp(key, "fp") || !strcmp(key, "fp_placeholder"))) {
		struct strlist *l = !strcmp(key, "tp") ? &r->tp : !strcmp(key, "fp") ? &r->fp : &r->fp_placeholder;

		if (l->nr) {
			char *add = unescape_example(value);
			char *j = xasprintf("%s%s", l->items[l->nr - 1], add);

			free(add);
			free(l->items[l->nr - 1]);
			l->items[l->nr - 1] = j;
			return 0;
		}
	}
	if (!strcmp(key, "description")) {
		free(r->description);
		r->description = xstrdup(value);
	} else if (!strcmp(key, "regex")) {
		free(r->regex);
		r->regex = xstrdup(value);
	} else if (!strcmp(key, "trigger")) {
		free(r->trigger);
		r->trigger = xstrdup(value);
	} else if (!strcmp(key, "secret_group")) {
		long g = strtol(value, &end, 10);

		if (*end || g < 0 || g > 99)
			return mp_error_set(MP_ECONFIG, "rule '%s': secret_group must be a group number, not '%s'", r->id, value);
		r->secret_group = (int)g;
	} else if (!strcmp(key, "keywords")) {
		strlist_split(&r->keywords, value, NULL);
		for (size_t i = 0; i < r->keywords.nr; i++)
			for (char *p = r->keywords.items[i]; *p; p++)
				*p = (char)tolower((unsigned char)*p);
	} else if (!strcmp(key, "entropy")) {
		double d = strtod(value, &end);

		if (*end || d < 0 || d > 8)
			return mp_error_set(MP_ECONFIG, "rule '%s': entropy must be a number of bits per character (0-8), not '%s'",
					    r->id, value);
		r->entropy = d;
	} else if (!strcmp(key, "lines")) {
		long n = strtol(value, &end, 10);

		if (*end || n < 1 || n > 1000)
			return mp_error_set(MP_ECONFIG, "rule '%s': lines must be a number of lines (1-1000), not '%s'", r->id,
					    value);
		r->lines = (int)n;
	} else if (!strcmp(key, "allow")) {
		strlist_push(&r->allow, value);
	} else if (!strcmp(key, "path")) {
		free(r->path);
		r->path = xstrdup(value);
	} else if (!strcmp(key, "tp") || !strcmp(key, "fp") || !strcmp(key, "fp_placeholder")) {
		struct strlist *l = !strcmp(key, "tp") ? &r->tp : !strcmp(key, "fp") ? &r->fp : &r->fp_placeholder;

		strlist_push_nodup(l, unescape_example(value));
	} else {
		return mp_error_set(MP_ECONFIG, "rule '%s': unknown key '%s'", r->id, key);
	}
	return 0;
}

struct parse_state {
	struct scan_engine *e;
	struct scan_rule *cur;
	char *cur_section;
};

static int ini_handler(struct mp_ini *ini, const char *raw, const char *name, const char *value, void *payload)
{
	struct parse_state *st = payload;
	char *section = NULL, *sub = NULL;
	int ret = 1;

	if (!st->cur_section || strcmp(st->cur_section, raw)) {
		char *origin;

		if (mp_ini_split_section(&section, &sub, raw) < 0 || strcmp(section, "rule") || !sub || !*sub) {
			mp_error_set(MP_ECONFIG, "expected [rule \"id\"], not [%s]", raw);
			ret = 0;
			goto cleanup;
		}
		origin = xasprintf("%s:%d", mp_ini_name(ini), mp_ini_line(ini));
		st->cur = rule_add(st->e, sub, origin);
		free(origin);
		free(st->cur_section);
		st->cur_section = xstrdup(raw);
	}
	if (rule_set(st->cur, name, value, mp_ini_continued(ini)) < 0)
		ret = 0;
cleanup:
	free(section);
	free(sub);
	return ret;
}

static int rule_check(const struct scan_rule *r)
{
	if (!r->regex || !*r->regex)
		return mp_error_set(MP_ECONFIG, "%s: rule '%s' has no regex", r->origin, r->id);
	if (!r->description)
		return mp_error_set(MP_ECONFIG, "%s: rule '%s' has no description", r->origin, r->id);
	return 0;
}

int scan_rules_parse(struct scan_engine *e, const char *name, const char *text, size_t len)
{
	struct parse_state st = { e, NULL, NULL };
	size_t before = e->nr;
	int ret = mp_ini_parse(name, text, len, ini_handler, &st);

	free(st.cur_section);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < e->nr; i++) {
		if (i >= before && (ret = rule_check(&e->rules[i])) < 0)
			return ret;
		e->rules[i].multiline = regex_may_span_lines(e->rules[i].regex);
	}
	return 0;
}

static pcre2_code *compile_one(const char *pattern, const struct scan_rule *r, const char *what, int *err)
{
	int code;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_MULTILINE, &code, &off, NULL);

	if (!re) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(code, msg, sizeof(msg));
		*err = mp_error_set(MP_ECONFIG, "%s: rule '%s': invalid %s at offset %zu: %s", r->origin, r->id, what,
				    (size_t)off, (const char *)msg);
		return NULL;
	}
	/*
	 * Without JIT it still works, slower; a path pattern runs once per
	 * file, where compiling it to machine code would cost more.  Under
	 * valgrind (make valgrind sets MESHPUSH_VALGRIND) JIT code's wide
	 * reads past the subject would be reported: interpret instead.
	 */
	if (!getenv("MESHPUSH_VALGRIND") && strcmp(what, "path"))
		pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
}

int scan_rule_compile_path(struct scan_engine *e, struct scan_rule *r)
{
	int ret = 0;

	if (__atomic_load_n(&r->path_compiled, __ATOMIC_ACQUIRE))
		goto done;
	pthread_mutex_lock(&e->lock);
	if (!r->path_compiled) {
		r->path_re = r->path ? compile_one(r->path, r, "path", &ret) : NULL;
		__atomic_store_n(&r->path_compiled, r->path && !r->path_re ? -1 : 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&e->lock);
done:
	if (!ret && r->path_compiled < 0)
		ret = mp_error_set(MP_ECONFIG, "rule '%s' has an invalid path pattern", r->id);
	return ret;
}

int scan_rule_compile(struct scan_engine *e, struct scan_rule *r)
{
	int ret = 0;
	uint32_t groups = 0;

	if (__atomic_load_n(&r->compiled, __ATOMIC_ACQUIRE))
		return r->compiled > 0 ? 0 : mp_error_set(MP_ECONFIG, "rule '%s' has an invalid pattern", r->id);
	pthread_mutex_lock(&e->lock);
	if (r->compiled)
		goto cleanup;
	r->re = compile_one(r->regex, r, "regex", &ret);
	if (!r->re)
		goto fail;
	pcre2_pattern_info(r->re, PCRE2_INFO_CAPTURECOUNT, &groups);
	if ((uint32_t)r->secret_group > groups) {
		ret = mp_error_set(MP_ECONFIG, "%s: rule '%s': secret_group %d but the regex has %u groups", r->origin,
				   r->id, r->secret_group, groups);
		goto fail;
	}
	r->allow_re = xcalloc(r->allow.nr + 1, sizeof(*r->allow_re));
	for (size_t i = 0; i < r->allow.nr; i++)
		if (!(r->allow_re[i] = compile_one(r->allow.items[i], r, "allow", &ret)))
			goto fail;
	__atomic_store_n(&r->compiled, 1, __ATOMIC_RELEASE);
	goto cleanup;
fail:
	__atomic_store_n(&r->compiled, -1, __ATOMIC_RELEASE);
cleanup:
	pthread_mutex_unlock(&e->lock);
	if (!ret && r->compiled < 0)
		ret = mp_error_set(MP_ECONFIG, "rule '%s' has an invalid pattern", r->id);
	return ret;
}

void scan_rules_release(struct scan_engine *e)
{
	for (size_t i = 0; i < e->nr; i++)
		rule_release(&e->rules[i]);
	free(e->rules);
	e->rules = NULL;
	e->nr = e->alloc = 0;
}

/* The user's [rule "id"] sections from the configuration. */
int scan_rules_from_config(struct scan_engine *e, const struct config *cfg)
{
	static const char *const keys[] = {
		"description", "regex", "trigger", "secret_group", "keywords", "entropy", "path", "lines",
	};
	static const char *const multi[] = { "allow", "tp", "fp" };
	struct strlist ids = STRLIST_INIT;
	int ret = 0;

	config_subsections(&ids, cfg, "rule");
	for (size_t i = 0; i < ids.nr && !ret; i++) {
		const struct config_entry *ent = config_lookup(cfg, "rule", ids.items[i], "regex");
		struct scan_rule *r = rule_add(e, ids.items[i], ent && ent->origin ? ent->origin : "configuration");

		for (size_t k = 0; k < ARRAY_SIZE(keys) && !ret; k++) {
			const char *v = config_get(cfg, "rule", ids.items[i], keys[k]);

			if (v && (strcmp(keys[k], "secret_group") || config_lookup(cfg, "rule", ids.items[i], keys[k])))
				ret = rule_set(r, keys[k], v, 0);
		}
		for (size_t k = 0; k < ARRAY_SIZE(multi) && !ret; k++) {
			struct strlist vals = STRLIST_INIT;

			config_get_all(&vals, cfg, "rule", ids.items[i], multi[k]);
			for (size_t j = 0; j < vals.nr && !ret; j++)
				ret = rule_set(r, multi[k], vals.items[j], 0);
			strlist_release(&vals);
		}
		if (!ret && !r->description)
			r->description = xasprintf("user rule %s", r->id);
		if (!ret)
			ret = rule_check(r);
		if (!ret) {
			r->multiline = regex_may_span_lines(r->regex);
			if (scan_rule_compile(e, r) < 0 || scan_rule_compile_path(e, r) < 0) /* now, not mid-scan */
				ret = MP_ECONFIG;
		}
	}
	strlist_release(&ids);
	return ret;
}

/* Remove the rules named in [scan] disable; unknown ids are warned about. */
void scan_rules_disable(struct scan_engine *e, const struct strlist *ids)
{
	for (size_t i = 0; i < ids->nr; i++) {
		struct scan_rule *r = rule_find(e, ids->items[i]);
		size_t at;

		if (!r) {
			strlist_push_nodup(&e->warnings,
					   xasprintf("scan.disable names '%s', which is not a rule", ids->items[i]));
			continue;
		}
		at = (size_t)(r - e->rules);
		rule_release(r);
		memmove(r, r + 1, (e->nr - at - 1) * sizeof(*r));
		e->nr--;
	}
}
