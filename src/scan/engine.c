/*
 * The engine: one Hyperscan pass over a buffer finds candidates; for each,
 * the rule's PCRE2 pattern runs over a small window around the candidate
 * (the line, or further back for rules that span lines) to extract the
 * secret; then the checks (keywords, entropy, the rule's allowlist, the
 * placeholder filter, inline allow comments, fingerprints to ignore).
 */
#include "scan/internal.h"

#include "error.h"
#include "util/fs.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void scan_rules_release(struct scan_engine *e);
int scan_rules_from_config(struct scan_engine *e, const struct config *cfg);
void scan_rules_disable(struct scan_engine *e, const struct strlist *ids);

#define WINDOW_BACK 4096       /* bytes looked back for the start of a line */
#define WINDOW_BACK_MULTI 65536 /* for rules that span lines (PEM blocks) */
#define WINDOW_FWD 4096        /* bytes looked ahead for the end of a line */
#define KEYWORD_REACH 512      /* keywords are looked for this far around a match */

/* ---- fingerprints to ignore ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void ignore_add(struct scan_engine *e, const char *fp)
{
	e->ignore = xgrow(e->ignore, sizeof(*e->ignore), e->ignore_nr + 1, &e->ignore_alloc);
	e->ignore[e->ignore_nr++] = xstrdup(fp);
}

static void ignore_sort(struct scan_engine *e)
{
	if (e->ignore_nr > 1)
		qsort(e->ignore, e->ignore_nr, sizeof(*e->ignore), cmp_str);
}

static int ignored(const struct scan_engine *e, const char *fp)
{
	return e->ignore_nr && bsearch(&fp, e->ignore, e->ignore_nr, sizeof(*e->ignore), cmp_str) != NULL;
}

static int load_ignore_file(struct scan_engine *e, const char *path)
{
	char *text = NULL;
	size_t len;
	int ret = fs_read_file(&text, &len, path);

	if (ret == MP_ENOTFOUND) {
		mp_error_clear();
		return 0;
	}
	if (ret < 0)
		return mp_error_set(MP_ECONFIG, "cannot read the ignore file '%s': %s", path, strerror(errno));
	for (char *line = text, *next; line && *line; line = next) {
		char *end;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		while (isspace((unsigned char)*line))
			line++;
		end = line + strlen(line);
		while (end > line && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (*line && *line != '#')
			ignore_add(e, line);
	}
	free(text);
	ignore_sort(e);
	return 0;
}

int scan_engine_add_baseline(struct scan_engine *e, const char *path)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr), *findings, *f;
	size_t i;

	if (!root)
		return mp_error_set(MP_ECONFIG, "cannot read the baseline '%s': %s (line %d)", path, jerr.text, jerr.line);
	findings = json_object_get(root, "findings");
	if (!json_is_array(findings)) {
		json_decref(root);
		return mp_error_set(MP_ECONFIG, "'%s' is not a scan report (run 'git meshpush scan --format json' to make one)",
				    path);
	}
	json_array_foreach(findings, i, f) {
		const char *fp = json_string_value(json_object_get(f, "fingerprint"));

		if (fp)
			ignore_add(e, fp);
	}
	json_decref(root);
	ignore_sort(e);
	return 0;
}

/* ---- engine ---- */

static char *work_tree_root(const struct config *cfg)
{
	char *slash;
	char *root;

	if (!cfg || !cfg->repo_file)
		return NULL;
	root = xstrdup(cfg->repo_file);
	slash = strrchr(root, '/');
	if (!slash) {
		free(root);
		return NULL;
	}
	*slash = '\0';
	return root;
}

int scan_engine_new(struct scan_engine **out, const struct config *cfg)
{
	struct scan_engine *e = xcalloc(1, sizeof(*e));
	const char *text, *v;
	size_t len;
	int ret;

	*out = NULL;
	pthread_mutex_init(&e->lock, NULL);
	e->max_size = 10485760;
	text = scan_builtin_rules(&len);
	if ((ret = scan_rules_parse(e, "rules.ini", text, len)) < 0)
		goto fail;
	for (size_t i = 0; i < e->nr; i++)
		e->rules[i].builtin = 1;
	if (cfg) {
		if ((ret = scan_rules_from_config(e, cfg)) < 0)
			goto fail;
		config_get_list(&e->disabled, cfg, "scan", NULL, "disable");
		scan_rules_disable(e, &e->disabled);
		config_get_list(&e->allow_paths, cfg, "scan", NULL, "allow_paths");
		e->max_size = (size_t)config_get_int(cfg, "scan", NULL, "max_size");
		e->root = work_tree_root(cfg);
		v = config_get(cfg, "scan", NULL, "ignore_file");
		if (v && *v) {
			char *p = v[0] == '/' || v[0] == '~' || !e->root ? fs_expand_home(v) : fs_join(e->root, v);

			ret = load_ignore_file(e, p);
			free(p);
			if (ret < 0)
				goto fail;
		}
		v = config_get(cfg, "scan", NULL, "baseline");
		if (v && *v) {
			char *p = v[0] == '/' || v[0] == '~' || !e->root ? fs_expand_home(v) : fs_join(e->root, v);

			ret = scan_engine_add_baseline(e, p);
			free(p);
			if (ret < 0)
				goto fail;
		}
	}
	if ((ret = scan_engine_build_db(e)) < 0)
		goto fail;
	if ((ret = scan_ctx_new(&e->ctx, e)) < 0)
		goto fail;
	*out = e;
	return 0;
fail:
	scan_engine_free(e);
	return ret;
}

void scan_engine_free(struct scan_engine *e)
{
	if (!e)
		return;
	scan_ctx_free(e->ctx);
	scan_rules_release(e);
	hs_free_scratch(e->scratch0);
	hs_free_database(e->db);
	hs_free_database(e->db_path);
	free(e->hs_rule);
	strlist_release(&e->allow_paths);
	strlist_release(&e->disabled);
	for (size_t i = 0; i < e->ignore_nr; i++)
		free(e->ignore[i]);
	free(e->ignore);
	strlist_release(&e->warnings);
	free(e->root);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

const struct strlist *scan_engine_warnings(const struct scan_engine *e)
{
	return &e->warnings;
}

size_t scan_engine_rule_count(const struct scan_engine *e)
{
	return e->nr;
}

int scan_engine_cache_hit(const struct scan_engine *e)
{
	return e->cache_hit;
}

/* ---- per-thread contexts ---- */

int scan_ctx_new(struct scan_ctx **out, struct scan_engine *e)
{
	struct scan_ctx *c = xcalloc(1, sizeof(*c));
	hs_error_t hr = HS_SUCCESS;

	c->e = e;
	pthread_mutex_lock(&e->lock);
	c->scratch = e->scratch0;
	e->scratch0 = NULL;
	pthread_mutex_unlock(&e->lock);
	/* one scratch space serves both databases (hs_alloc_scratch grows it) */
	if (!c->scratch && e->db)
		hr = hs_alloc_scratch(e->db, &c->scratch);
	if (hr == HS_SUCCESS && e->db_path)
		hr = hs_alloc_scratch(e->db_path, &c->scratch);
	if (hr != HS_SUCCESS) {
		hs_free_scratch(c->scratch);
		free(c);
		/*
		 * The compiler is loaded from libhs.so.5 (src/util/lazy.h), the
		 * runtime is linked in: an upgraded libhyperscan5 compiles what
		 * this binary cannot run.
		 */
		if (hr == HS_DB_VERSION_ERROR)
			return mp_error_set(MP_EOS, "the installed Hyperscan compiled the rules for another version than "
					    "git-meshpush's (%s): rebuild git-meshpush (make)", hs_version());
		return mp_error_set(MP_EOS, "cannot allocate Hyperscan scratch space (error %d)", (int)hr);
	}
	c->md = pcre2_match_data_create(100, NULL);
	c->mctx = pcre2_match_context_create(NULL);
	c->jit = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
	if (c->jit)
		pcre2_jit_stack_assign(c->mctx, NULL, c->jit);
	pcre2_set_match_limit(c->mctx, 1000000);
	pcre2_set_depth_limit(c->mctx, 10000);
	*out = c;
	return 0;
}

void scan_ctx_free(struct scan_ctx *c)
{
	if (!c)
		return;
	hs_free_scratch(c->scratch);
	pcre2_match_data_free(c->md);
	pcre2_match_context_free(c->mctx);
	pcre2_jit_stack_free(c->jit);
	free(c);
}

/* ---- scanning one buffer ---- */

struct cand {
	uint32_t rule;
	size_t s, e;   /* the secret */
	size_t ms, me; /* the whole match */
};

struct buf_state {
	struct scan_ctx *c;
	const struct scan_source *src;
	const char *buf;
	size_t len;
	size_t *done;        /* per rule: end of the last window searched */
	signed char *applies; /* per rule: 0 unknown, 1 yes, -1 no (path rule) */
	struct cand *cands;
	size_t nc, ac;
	int err;
};

static int rule_applies(struct buf_state *st, uint32_t ri)
{
	struct scan_engine *e = st->c->e;
	struct scan_rule *r = &e->rules[ri];

	if (st->applies[ri])
		return st->applies[ri] > 0;
	if (r->path && e->defer_path_rules) {
		st->applies[ri] = -1;
		return 0;
	}
	if (r->path && !e->ignore_path_rules) {
		const char *p = st->src->rel ? st->src->rel : st->src->path ? st->src->path : "";

		if (scan_rule_compile_path(e, r) < 0) {
			st->err = MP_ECONFIG;
			return 0;
		}
		if (pcre2_match(r->path_re, (PCRE2_SPTR)p, strlen(p), 0, 0, st->c->md, st->c->mctx) < 0) {
			st->applies[ri] = -1;
			return 0;
		}
	}
	if (scan_rule_compile(e, r) < 0) {
		st->err = MP_ECONFIG;
		return 0;
	}
	st->applies[ri] = 1;
	return 1;
}

/* Run rule `ri`'s PCRE2 pattern over [ws, we) and collect the candidates. */
static void search_window(struct buf_state *st, uint32_t ri, size_t ws, size_t we)
{
	struct scan_rule *r = &st->c->e->rules[ri];
	const char *w = st->buf + ws;
	size_t wlen = we - ws, off = 0;

	while (off <= wlen) {
		int rc = pcre2_match(r->re, (PCRE2_SPTR)w, wlen, off, 0, st->c->md, st->c->mctx);
		PCRE2_SIZE *ov;
		size_t gs, ge;

		if (rc < 0)
			break; /* no match, or a match limit: what was found stays */
		ov = pcre2_get_ovector_pointer(st->c->md);
		if (rc > r->secret_group || rc == 0) {
			gs = ov[2 * r->secret_group];
			ge = ov[2 * r->secret_group + 1];
			if (gs != PCRE2_UNSET && ge > gs) {
				st->cands = xgrow(st->cands, sizeof(*st->cands), st->nc + 1, &st->ac);
				st->cands[st->nc++] = (struct cand){ ri, ws + gs, ws + ge, ws + ov[0], ws + ov[1] };
			}
		}
		off = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
	}
}

static int on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags, void *ctx)
{
	struct buf_state *st = ctx;
	struct scan_engine *e = st->c->e;
	uint32_t ri = e->hs_rule[id];
	size_t end = (size_t)to, ws, we, lo;
	const char *nl;

	(void)from;
	(void)flags;
	if (end <= st->done[ri])
		return 0;
	if (!rule_applies(st, ri))
		return st->err ? 1 : 0;
	/* the end of the line the match ends on */
	nl = memchr(st->buf + end, '\n', (st->len - end) < WINDOW_FWD ? st->len - end : WINDOW_FWD);
	we = nl ? (size_t)(nl - st->buf) : (st->len - end < WINDOW_FWD ? st->len : end + WINDOW_FWD);
	/* the start of that line, or further back for rules that span lines */
	if (e->rules[ri].multiline && e->rules[ri].lines > 0) {
		/* back to the start of the first of the `lines` lines a match can span */
		size_t p = end ? end - 1 : 0;

		for (int k = 0;; k++) {
			lo = p > WINDOW_BACK ? p - WINDOW_BACK : 0;
			nl = p > lo ? memrchr(st->buf + lo, '\n', p - lo) : NULL;
			ws = nl ? (size_t)(nl - st->buf) + 1 : lo;
			if (!nl || k + 1 >= e->rules[ri].lines)
				break;
			p = (size_t)(nl - st->buf); /* the newline that ends the line above */
		}
	} else if (e->rules[ri].multiline) {
		ws = end > WINDOW_BACK_MULTI ? end - WINDOW_BACK_MULTI : 0;
		if (ws) {
			nl = memchr(st->buf + ws, '\n', end - ws);
			if (nl)
				ws = (size_t)(nl - st->buf) + 1;
		}
	} else {
		size_t at = end ? end - 1 : 0;

		lo = at > WINDOW_BACK ? at - WINDOW_BACK : 0;
		nl = at > lo ? memrchr(st->buf + lo, '\n', at - lo) : NULL;
		ws = nl ? (size_t)(nl - st->buf) + 1 : lo;
	}
	if (ws < st->done[ri] && !e->rules[ri].multiline)
		ws = st->done[ri];
	search_window(st, ri, ws, we);
	st->done[ri] = we;
	return 0;
}

/* Case-insensitive search of a lowercase `needle` in [p, p+n). */
static int has_keyword(const char *p, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	if (!k || k > n)
		return !k;
	for (size_t i = 0; i + k <= n; i++) {
		if (tolower((unsigned char)p[i]) != (unsigned char)needle[0])
			continue;
		size_t j = 1;

		while (j < k && tolower((unsigned char)p[i + j]) == (unsigned char)needle[j])
			j++;
		if (j == k)
			return 1;
	}
	return 0;
}

static size_t line_start(const char *buf, size_t at, size_t limit)
{
	size_t lo = at > limit ? at - limit : 0;
	const char *nl = at > lo ? memrchr(buf + lo, '\n', at - lo) : NULL;

	return nl ? (size_t)(nl - buf) + 1 : lo;
}

static size_t line_end(const char *buf, size_t len, size_t at, size_t limit)
{
	size_t hi = len - at > limit ? at + limit : len;
	const char *nl = memchr(buf + at, '\n', hi - at);

	return nl ? (size_t)(nl - buf) : hi;
}

static int keywords_ok(const struct scan_rule *r, const struct buf_state *st, const struct cand *c)
{
	size_t a, b;

	if (!r->keywords.nr)
		return 1;
	a = line_start(st->buf, c->ms, KEYWORD_REACH);
	b = line_end(st->buf, st->len, c->me, KEYWORD_REACH);
	for (size_t i = 0; i < r->keywords.nr; i++)
		if (has_keyword(st->buf + a, b - a, r->keywords.items[i]))
			return 1;
	return 0;
}

static int allowed_inline(const struct buf_state *st, const struct cand *c)
{
	size_t a = line_start(st->buf, c->ms, KEYWORD_REACH), b = line_end(st->buf, st->len, c->me, KEYWORD_REACH);

	return memmem(st->buf + a, b - a, "meshpush:allow", 14) || memmem(st->buf + a, b - a, "gitleaks:allow", 14);
}

/* The secret as reported: CR before LF dropped, a final CR dropped. */
static char *secret_text(const char *s, size_t n)
{
	char *out = xmalloc(n + 1);
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (!(s[i] == '\r' && (i + 1 == n || s[i + 1] == '\n')))
			out[k++] = s[i];
	out[k] = '\0';
	return out;
}

static int cand_valid(struct buf_state *st, struct cand *c, struct scan_report *r)
{
	struct scan_engine *e = st->c->e;
	const struct scan_rule *rule = &e->rules[c->rule];
	const char *s = st->buf + c->s;
	size_t n = c->e - c->s;

	while (n && (s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	c->e = c->s + n;
	if (!n)
		return 0;
	if (!keywords_ok(rule, st, c))
		return 0;
	if (rule->entropy > 0 && !e->no_entropy && scan_entropy(s, n) < rule->entropy)
		return 0;
	for (size_t i = 0; i < rule->allow.nr; i++)
		if (pcre2_match(rule->allow_re[i], (PCRE2_SPTR)s, n, 0, 0, st->c->md, st->c->mctx) >= 0)
			return 0;
	if (!e->no_placeholder_filter && scan_is_placeholder(s, n))
		return 0;
	if (allowed_inline(st, c)) {
		r->allowed++;
		return 0;
	}
	return 1;
}

static int cmp_cand_rule(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->rule != y->rule)
		return x->rule < y->rule ? -1 : 1;
	return x->s < y->s ? -1 : x->s > y->s;
}

static int cmp_cand_pos(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->s != y->s)
		return x->s < y->s ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* One Hyperscan pass of `db` over the buffer: 0, or an error. */
static int hs_pass(struct buf_state *st, hs_database_t *db)
{
	hs_error_t hr = hs_scan(db, st->buf, (unsigned int)st->len, 0, st->c->scratch, on_match, st);

	if (st->err)
		return st->err;
	if (hr != HS_SUCCESS && hr != HS_SCAN_TERMINATED)
		return mp_error_set(MP_EGENERIC, "the Hyperscan scan of '%s' failed (error %d)",
				    st->src->path ? st->src->path : "(buffer)", (int)hr);
	return 0;
}

/* Whether a rule of the path database applies to this buffer's path. */
static int path_rules_apply(struct buf_state *st)
{
	struct scan_engine *e = st->c->e;

	for (uint32_t ri = 0; ri < e->nr; ri++)
		if (e->rules[ri].path && e->rules[ri].hs_mode != SCAN_HS_NONE && rule_applies(st, ri))
			return 1;
	return 0;
}

int scan_ctx_scan(struct scan_ctx *c, struct scan_report *r, const struct scan_source *src, const char *buf,
		  size_t len, size_t line_base, size_t keep_before)
{
	struct scan_engine *e = c->e;
	struct buf_state st = { c, src, buf, len, NULL, NULL, NULL, 0, 0, 0 };
	size_t nacc = 0, line = 0, pos = 0;
	unsigned char *taken = NULL;
	int ret = 0;

	if (!e->nr)
		return 0;
	st.done = xcalloc(e->nr, sizeof(*st.done));
	st.applies = xcalloc(e->nr, 1);
	if (e->db && len && (ret = hs_pass(&st, e->db)) < 0)
		goto cleanup;
	if (e->db_path && len && path_rules_apply(&st) && (ret = hs_pass(&st, e->db_path)) < 0)
		goto cleanup;
	for (uint32_t ri = 0; ri < e->nr; ri++)
		if (e->rules[ri].hs_mode == SCAN_HS_NONE && rule_applies(&st, ri))
			search_window(&st, ri, 0, len);
	if (st.err) {
		ret = st.err;
		goto cleanup;
	}

	/* validate; one finding per secret: rules earlier in the file win overlaps */
	if (st.nc > 1)
		qsort(st.cands, st.nc, sizeof(*st.cands), cmp_cand_rule);
	if (st.nc > 16)
		taken = xcalloc(len / 8 + 1, 1); /* bytes already in an accepted secret */
	for (size_t i = 0; i < st.nc; i++) {
		struct cand *k = &st.cands[i];
		int overlap = 0;

		if (k->s >= keep_before || !cand_valid(&st, k, r))
			continue;
		if (taken) {
			for (size_t b = k->s; b < k->e && !overlap; b++)
				overlap = (taken[b / 8] >> (b % 8)) & 1;
			for (size_t b = k->s; b < k->e && !overlap; b++)
				taken[b / 8] |= (unsigned char)(1u << (b % 8));
		} else {
			for (size_t j = 0; j < nacc && !overlap; j++)
				overlap = k->s < st.cands[j].e && st.cands[j].s < k->e;
		}
		if (!overlap)
			st.cands[nacc++] = *k;
	}
	if (nacc > 1)
		qsort(st.cands, nacc, sizeof(*st.cands), cmp_cand_pos);
	for (size_t i = 0; i < nacc; i++) {
		struct cand *k = &st.cands[i];
		const struct scan_rule *rule = &e->rules[k->rule];
		struct scan_finding *f;
		size_t ls, fline;
		char *secret, *fp;
		const char *p;

		while (pos < k->s && (p = memchr(buf + pos, '\n', k->s - pos))) {
			line++;
			pos = (size_t)(p - buf) + 1;
		}
		pos = k->s;
		ls = line_start(buf, k->s, (size_t)-1);
		fline = line_base + line; /* 0-based line of the buffer */
		if (src->linemap)
			fline = fline < src->linemap_nr ? src->linemap[fline] : 0;
		else
			fline++;
		secret = secret_text(buf + k->s, k->e - k->s);
		fp = scan_fingerprint(rule->id, src->rel ? src->rel : src->path ? src->path : "", secret);
		if (ignored(e, fp)) {
			r->allowed++;
			free(secret);
			free(fp);
			continue;
		}
		r->findings = xgrow(r->findings, sizeof(*r->findings), r->nr + 1, &r->alloc);
		f = &r->findings[r->nr++];
		f->rule = xstrdup(rule->id);
		f->description = xstrdup(rule->description);
		f->path = xstrdup(src->path ? src->path : "");
		f->commit = src->commit ? xstrdup(src->commit) : NULL;
		f->line = fline;
		f->column = k->s - ls + 1;
		f->secret = secret;
		f->fingerprint = fp;
	}
cleanup:
	free(taken);
	free(st.done);
	free(st.applies);
	free(st.cands);
	return ret;
}

int scan_is_binary(const void *buf, size_t len)
{
	return memchr(buf, '\0', len < 8192 ? len : 8192) != NULL;
}

int scan_buffer(struct scan_engine *e, struct scan_report *r, const char *path, const void *buf, size_t len)
{
	struct scan_source src = { path, NULL, NULL, NULL, 0 };

	if (scan_path_allowed(e, path)) {
		scan_report_skip(r, path, 0, "allowed by scan.allow_paths");
		return 0;
	}
	if (scan_is_binary(buf, len)) {
		scan_report_skip(r, path, 0, "binary file");
		return 0;
	}
	if (len > e->max_size || len > 0xffffffffu) {
		scan_report_skip(r, path, 1, "larger than scan.max_size (%zu bytes)", e->max_size);
		return 0;
	}
	r->files++;
	r->bytes += len;
	return scan_ctx_scan(e->ctx, r, &src, buf, len, 0, len);
}

int scan_has_path_rules(const struct scan_engine *e)
{
	for (size_t i = 0; i < e->nr; i++)
		if (e->rules[i].path)
			return 1;
	return 0;
}

int scan_path_rules_match(struct scan_engine *e, const char *path)
{
	pcre2_match_data *md = NULL;
	int hit = 0;

	for (size_t i = 0; i < e->nr && !hit; i++) {
		struct scan_rule *r = &e->rules[i];

		if (!r->path)
			continue;
		if (scan_rule_compile_path(e, r) < 0) {
			mp_error_clear();
			hit = 1;
			break;
		}
		if (!md)
			md = pcre2_match_data_create(1, NULL);
		hit = pcre2_match(r->path_re, (PCRE2_SPTR)path, strlen(path), 0, 0, md, NULL) >= 0;
	}
	pcre2_match_data_free(md);
	return hit;
}

int scan_path_allowed(const struct scan_engine *e, const char *path)
{
	if (!path)
		return 0;
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	for (size_t i = 0; i < e->allow_paths.nr; i++)
		if (scan_glob_match(e->allow_paths.items[i], path))
			return 1;
	return 0;
}
