/*
 * The Hyperscan database: compiled from every rule once, cached on disk.
 *
 * Each rule goes in as its own regex when Hyperscan accepts it
 * (SCAN_HS_EXACT), else in prefilter mode (a superset; PCRE2 decides),
 * else as its keywords (literals, case-insensitive), else not at all
 * (PCRE2 then searches every buffer for it).  Patterns are compiled in
 * byte mode, without HS_FLAG_UTF8, so that invalid UTF-8 is just bytes.
 *
 * The cache file $XDG_CACHE_HOME/meshpush/rules-<key>.hsdb is named by
 * the sha256 of everything the database depends on (the rules' patterns
 * and keywords, the Hyperscan version, the CPU platform); it holds the
 * rule modes, the id -> rule map, the length of the first serialized
 * database, then both (the rules for every path, the rules restricted to
 * a path: see db_path in internal.h).  A file that does not load is
 * recompiled and replaced.
 */
#include "scan/internal.h"

#include "error.h"
#include "util/fs.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The file: this magic, the number of rules and of patterns (32-bit, host
 * order), each rule's mode, each pattern's rule, the length of the first
 * serialized database (64-bit), the sha256 of all that, then the two
 * serialized databases (each checked by Hyperscan with its own CRC): the
 * rules for every path, the rules restricted to a path.
 */
#define CACHE_MAGIC "MPHSDB4\n"

/*
 * The cache directory, or NULL for none: never a relative path, which
 * would put the cache in (and load it from) the current directory, the
 * repository being scanned, when HOME is unset or relative.
 */
static char *cache_dir(void)
{
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	if (x && *x == '/')
		return fs_join(x, "meshpush");
	if (home && *home == '/')
		return fs_join(home, ".cache/meshpush");
	return NULL;
}

/*
 * What the compiled database depends on in the CPU.  On x86 this is read
 * with cpuid, not hs_populate_platform(): that is part of the Hyperscan
 * compiler, which a run with a cached database does not even load
 * (src/util/lazy.h).  The processor signature and feature bits decide
 * what Hyperscan compiles for; a database the CPU cannot run anyway fails
 * hs_alloc_scratch() in load_cache() and is compiled again.
 */
static void cpu_key(struct strbuf *sb)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, c, d;

	if (__get_cpuid(1, &a, &b, &c, &d)) /* b holds the core's APIC id: left out */
		strbuf_addf(sb, "cpu %x %x %x\n", a, c, d);
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d))
		strbuf_addf(sb, "cpu7 %x %x %x\n", b, c, d);
#else
	hs_platform_info_t plat;

	memset(&plat, 0, sizeof(plat));
	hs_populate_platform(&plat);
	strbuf_add(sb, &plat, sizeof(plat));
#endif
}

static void cache_key(char out[65], const struct scan_engine *e)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned char md[32];

	strbuf_addf(&sb, "%s\n%s\n", CACHE_MAGIC, hs_version());
	cpu_key(&sb);
	/* the built-in rules are hashed at build time; then what changes them */
	strbuf_addf(&sb, "%s\n", scan_builtin_rules_sha256());
	for (size_t i = 0; i < e->nr; i++) {
		const struct scan_rule *r = &e->rules[i];

		if (r->builtin)
			continue;
		strbuf_addf(&sb, "\nrule %s", r->id);
		strbuf_add(&sb, "", 1);
		strbuf_addstr(&sb, r->regex);
		strbuf_add(&sb, "", 1);
		strbuf_addstr(&sb, r->trigger ? r->trigger : "");
		strbuf_add(&sb, "", 1);
		for (size_t k = 0; k < r->keywords.nr; k++)
			strbuf_addf(&sb, "%s ", r->keywords.items[k]);
		strbuf_addstr(&sb, r->path ? "\npath" : "\nany path"); /* which database it is in */
	}
	for (size_t i = 0; i < e->disabled.nr; i++)
		strbuf_addf(&sb, "\ndisable %s", e->disabled.items[i]);
	scan_sha256(md, sb.buf, sb.len);
	hex_encode(out, md, sizeof(md));
	strbuf_release(&sb);
}

/* A literal as a Hyperscan regex: every byte but letters and digits as \xHH. */
static char *literal_regex(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))
			strbuf_addch(&sb, *p);
		else
			strbuf_addf(&sb, "\\x%02x", *p);
	}
	return strbuf_detach(&sb);
}

static int expression_ok(const char *re, unsigned flags)
{
	hs_expr_info_t *info = NULL;
	hs_compile_error_t *err = NULL;
	int ok = hs_expression_info(re, flags, &info, &err) == HS_SUCCESS;

	if (ok && info->min_width == 0)
		ok = 0; /* matches the empty string: would match everywhere */
	free(info);
	hs_free_compile_error(err);
	return ok;
}

#define FLAGS_EXACT HS_FLAG_MULTILINE
#define FLAGS_PREFILTER (HS_FLAG_MULTILINE | HS_FLAG_PREFILTER)
#define FLAGS_KEYWORD (HS_FLAG_CASELESS)

struct patterns {
	char **exprs;
	unsigned *flags;
	unsigned *ids;
	uint32_t *rule;
	size_t nr, alloc, a2, a3, a4;
};

static void patterns_add(struct patterns *p, char *expr, unsigned flags, uint32_t rule)
{
	p->exprs = xgrow(p->exprs, sizeof(*p->exprs), p->nr + 1, &p->alloc);
	p->flags = xgrow(p->flags, sizeof(*p->flags), p->nr + 1, &p->a2);
	p->ids = xgrow(p->ids, sizeof(*p->ids), p->nr + 1, &p->a3);
	p->rule = xgrow(p->rule, sizeof(*p->rule), p->nr + 1, &p->a4);
	p->exprs[p->nr] = expr;
	p->flags[p->nr] = flags;
	p->ids[p->nr] = (unsigned)p->nr;
	p->rule[p->nr] = rule;
	p->nr++;
}

static void patterns_release(struct patterns *p)
{
	for (size_t i = 0; i < p->nr; i++)
		free(p->exprs[i]);
	free(p->exprs);
	free(p->flags);
	free(p->ids);
	free(p->rule);
	memset(p, 0, sizeof(*p));
}

/* What Hyperscan looks for: the rule's trigger, else its regex. */
static const char *hs_expression(const struct scan_rule *r)
{
	return r->trigger ? r->trigger : r->regex;
}

static void add_rule_patterns(struct patterns *p, struct scan_engine *e, uint32_t ri)
{
	struct scan_rule *r = &e->rules[ri];

	switch (r->hs_mode) {
	case SCAN_HS_EXACT:
		patterns_add(p, xstrdup(hs_expression(r)), FLAGS_EXACT, ri);
		break;
	case SCAN_HS_PREFILTER:
		patterns_add(p, xstrdup(hs_expression(r)), FLAGS_PREFILTER, ri);
		break;
	case SCAN_HS_KEYWORDS:
		for (size_t k = 0; k < r->keywords.nr; k++)
			patterns_add(p, literal_regex(r->keywords.items[k]), FLAGS_KEYWORD, ri);
		break;
	case SCAN_HS_NONE:
		break;
	}
}

static enum scan_hs_mode demote(const struct scan_rule *r, enum scan_hs_mode m)
{
	if (m == SCAN_HS_EXACT)
		return SCAN_HS_PREFILTER;
	if (m == SCAN_HS_PREFILTER && r->keywords.nr)
		return SCAN_HS_KEYWORDS;
	return SCAN_HS_NONE;
}

/*
 * Compile patterns [from, to) of `p` into *db (NULL when there are none).
 * On a pattern Hyperscan refuses, *bad is its index in `p`, else -1.
 */
static hs_error_t compile_part(struct patterns *p, size_t from, size_t to, hs_database_t **db, long *bad,
			       char **msg)
{
	hs_compile_error_t *err = NULL;
	hs_error_t hr;

	*db = NULL;
	*bad = -1;
	if (from == to)
		return HS_SUCCESS;
	hr = hs_compile_multi((const char *const *)p->exprs + from, p->flags + from, p->ids + from,
			      (unsigned)(to - from), HS_MODE_BLOCK, NULL, db, &err);
	if (hr != HS_SUCCESS) {
		if (err && err->expression >= 0 && (size_t)err->expression < to - from)
			*bad = (long)from + err->expression;
		free(*msg);
		*msg = xstrdup(err && err->message ? err->message : "?");
	}
	hs_free_compile_error(err);
	return hr;
}

/*
 * Two databases: the rules that apply to every path, then the rules
 * restricted to a path (e->db_path).  The pattern ids index e->hs_rule
 * across both.
 */
static int compile_db(struct scan_engine *e)
{
	struct patterns p = { 0 };
	char *msg = NULL;
	int ret = 0;

	for (uint32_t i = 0; i < e->nr; i++) {
		struct scan_rule *r = &e->rules[i];

		r->hs_mode = SCAN_HS_EXACT;
		if (!expression_ok(hs_expression(r), FLAGS_EXACT))
			r->hs_mode = expression_ok(hs_expression(r), FLAGS_PREFILTER) ? SCAN_HS_PREFILTER
										 : demote(r, SCAN_HS_PREFILTER);
	}
	for (;;) {
		size_t split;
		long bad;

		patterns_release(&p);
		for (uint32_t i = 0; i < e->nr; i++)
			if (!e->rules[i].path)
				add_rule_patterns(&p, e, i);
		split = p.nr;
		for (uint32_t i = 0; i < e->nr; i++)
			if (e->rules[i].path)
				add_rule_patterns(&p, e, i);
		if (compile_part(&p, 0, split, &e->db, &bad, &msg) == HS_SUCCESS &&
		    compile_part(&p, split, p.nr, &e->db_path, &bad, &msg) == HS_SUCCESS)
			break;
		hs_free_database(e->db);
		e->db = NULL;
		if (bad < 0) {
			ret = mp_error_set(MP_ECONFIG, "cannot compile the rules: %s", msg);
			goto cleanup;
		}
		e->rules[p.rule[bad]].hs_mode = demote(&e->rules[p.rule[bad]], e->rules[p.rule[bad]].hs_mode);
	}
	e->hs_nr = p.nr;
	e->hs_rule = xcalloc(p.nr + 1, sizeof(*e->hs_rule));
	if (p.nr)
		memcpy(e->hs_rule, p.rule, p.nr * sizeof(*p.rule));
cleanup:
	free(msg);
	patterns_release(&p);
	return ret;
}

static int load_cache(struct scan_engine *e, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *data = MAP_FAILED;
	size_t len = 0, off, nr;
	uint64_t dlen;
	uint32_t n;
	unsigned char md[32];
	int ok = 0;

	if (fd < 0)
		return 0;
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		len = (size_t)st.st_size;
		data = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	}
	close(fd);
	if (data == MAP_FAILED)
		return 0;
	off = strlen(CACHE_MAGIC);
	if (len < off + 8 || memcmp(data, CACHE_MAGIC, off))
		goto cleanup;
	memcpy(&n, data + off, 4);
	if (n != e->nr)
		goto cleanup;
	memcpy(&n, data + off + 4, 4);
	nr = n;
	off += 8;
	if (len < off + e->nr * 4 + nr * 4)
		goto cleanup;
	for (size_t i = 0; i < e->nr; i++) {
		uint32_t m;

		memcpy(&m, data + off + 4 * i, 4);
		if (m > SCAN_HS_NONE)
			goto cleanup;
		e->rules[i].hs_mode = (enum scan_hs_mode)m;
	}
	off += e->nr * 4;
	e->hs_rule = xcalloc(nr + 1, sizeof(*e->hs_rule));
	memcpy(e->hs_rule, data + off, nr * 4);
	off += nr * 4;
	for (size_t i = 0; i < nr; i++)
		if (e->hs_rule[i] >= e->nr)
			goto cleanup;
	if (len - off < 8 + 32)
		goto cleanup;
	memcpy(&dlen, data + off, 8);
	off += 8;
	/* a damaged mode or map would lose findings without a word: checked */
	scan_sha256(md, data, off);
	if (memcmp(md, data + off, 32))
		goto cleanup;
	off += 32;
	if (dlen > len - off)
		goto cleanup;
	if (dlen && hs_deserialize_database(data + off, dlen, &e->db) != HS_SUCCESS)
		goto cleanup;
	off += dlen;
	if (off < len && hs_deserialize_database(data + off, len - off, &e->db_path) != HS_SUCCESS)
		goto cleanup;
	if (nr && !e->db && !e->db_path)
		goto cleanup;
	/* a database this CPU cannot run (another machine's cache) fails here */
	if (e->db && hs_alloc_scratch(e->db, &e->scratch0) != HS_SUCCESS)
		goto cleanup;
	if (e->db_path && hs_alloc_scratch(e->db_path, &e->scratch0) != HS_SUCCESS)
		goto cleanup;
	e->hs_nr = nr;
	ok = 1;
cleanup:
	if (!ok) {
		free(e->hs_rule);
		e->hs_rule = NULL;
		hs_free_scratch(e->scratch0);
		e->scratch0 = NULL;
		hs_free_database(e->db);
		e->db = NULL;
		hs_free_database(e->db_path);
		e->db_path = NULL;
	}
	munmap(data, len);
	return ok;
}

/* The cache keeps the databases of this many configurations, newest first. */
#define CACHE_KEEP 8

struct cache_file {
	char *name;
	time_t mtime;
};

static int cmp_newest_first(const void *a, const void *b)
{
	const struct cache_file *x = a, *y = b;

	return x->mtime < y->mtime ? 1 : x->mtime > y->mtime ? -1 : strcmp(x->name, y->name);
}

/*
 * Remove all but the CACHE_KEEP newest rules-*.hsdb files of `dir` (each
 * configuration of rules gets its own, about 1.6 MB: without this the
 * directory only grows), and the temporary files of writes that did not
 * finish an hour or more ago.  Errors only leave files behind.
 */
static void prune_cache(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct cache_file *files = NULL;
	size_t nr = 0, alloc = 0;
	time_t now = time(NULL);

	if (!d)
		return;
	while ((de = readdir(d))) {
		struct stat st;
		int tmp;

		if (strncmp(de->d_name, "rules-", 6) || !strstr(de->d_name, ".hsdb"))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		tmp = strstr(de->d_name, ".meshpush-tmp.") != NULL;
		if (tmp && st.st_mtime < now - 3600) {
			unlinkat(dirfd(d), de->d_name, 0);
		} else if (!tmp) {
			files = xgrow(files, sizeof(*files), nr + 1, &alloc);
			files[nr++] = (struct cache_file){ xstrdup(de->d_name), st.st_mtime };
		}
	}
	if (nr > CACHE_KEEP)
		qsort(files, nr, sizeof(*files), cmp_newest_first);
	for (size_t i = 0; i < nr; i++) {
		if (i >= CACHE_KEEP)
			unlinkat(dirfd(d), files[i].name, 0);
		free(files[i].name);
	}
	free(files);
	closedir(d);
}

static void write_cache(const struct scan_engine *e, const char *dir, const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	char *bytes = NULL, *pbytes = NULL;
	size_t blen = 0, plen = 0;
	uint64_t dlen;
	uint32_t n;
	unsigned char md[32];

	if (e->db && hs_serialize_database(e->db, &bytes, &blen) != HS_SUCCESS)
		return;
	if (e->db_path && hs_serialize_database(e->db_path, &pbytes, &plen) != HS_SUCCESS) {
		free(bytes);
		return;
	}
	strbuf_addstr(&sb, CACHE_MAGIC);
	n = (uint32_t)e->nr;
	strbuf_add(&sb, &n, 4);
	n = (uint32_t)e->hs_nr;
	strbuf_add(&sb, &n, 4);
	for (size_t i = 0; i < e->nr; i++) {
		uint32_t m = (uint32_t)e->rules[i].hs_mode;

		strbuf_add(&sb, &m, 4);
	}
	strbuf_add(&sb, e->hs_rule, e->hs_nr * 4);
	dlen = blen;
	strbuf_add(&sb, &dlen, 8);
	scan_sha256(md, sb.buf, sb.len);
	strbuf_add(&sb, md, sizeof(md));
	strbuf_add(&sb, bytes, blen);
	strbuf_add(&sb, pbytes, plen);
	/* a cache that cannot be written only costs time: no error */
	if (fs_mkdir_p(dir, 0700) == 0 && fs_write_atomic(path, sb.buf, sb.len, 0600) == 0)
		prune_cache(dir);
	mp_error_clear();
	free(bytes);
	free(pbytes);
	strbuf_release(&sb);
}

int scan_engine_build_db(struct scan_engine *e)
{
	char key[65], *dir = cache_dir(), *name = NULL, *path = NULL;
	int ret = 0;

	if (dir) {
		cache_key(key, e);
		name = xasprintf("rules-%s.hsdb", key);
		path = fs_join(dir, name);
	}
	if (path && !getenv("MESHPUSH_SCAN_NO_CACHE") && load_cache(e, path)) {
		e->cache_hit = 1;
		goto cleanup;
	}
	if ((ret = compile_db(e)) < 0)
		goto cleanup;
	if (path)
		write_cache(e, dir, path);
cleanup:
	free(dir);
	free(name);
	free(path);
	return ret;
}
