/*
 * Scanning git objects: the index (--staged), the lines commits add
 * (--range, and what hooks check), and every blob of the history (--all).
 *
 * Added lines: each commit is diffed against its first parent, tree to
 * tree, with rename detection (a pure rename adds nothing; a rename with
 * edits adds its edits).  A file the commit adds is scanned as a whole
 * blob, each distinct blob once; a modified file as the buffer of its
 * added lines, with a map back to the file's line numbers.  A merge adds
 * only the lines that none of its parents has (conflict resolutions, evil
 * merges); what its parents brought is scanned in their own commits.
 *
 * History: every blob of the object store is read once and scanned on all
 * cores, from the packs by our own reader (src/scan/pack.c), which also
 * keeps the trees so that the walk mapping every reachable blob to the
 * first commit and path where it appears is done here in memory; or, when
 * the packs cannot be read here, by git itself (one `git cat-file --batch`
 * in pack order) while `git rev-list --objects` does the mapping.  Blobs
 * with findings are scanned again with their path (fast_collect()).  When
 * neither can be done, commits are walked here oldest first, trees once
 * each (by id), and the blobs read with libgit2, each thread with its own
 * repository handle (libgit2 objects are not shared between threads).
 */
#include "scan/internal.h"
#include "scan/pack.h"

#include "error.h"
#include "util/fs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

extern char **environ;

/* ---- a set of object ids, with a value ---- */

struct oidset {
	git_oid *keys;
	size_t *vals;
	unsigned char *used;
	size_t nr, cap;
};

static size_t oid_hash(const git_oid *id)
{
	size_t h;

	memcpy(&h, id->id, sizeof(h));
	return h;
}

static void oidset_grow(struct oidset *s);

/* Whether two ids are equal (inline: git_oid_cmp() is a call into libgit2 per probe). */
static inline int oid_eq(const git_oid *a, const git_oid *b)
{
	uint64_t x[2], y[2];
	uint32_t x2, y2;

	memcpy(x, a->id, 16);
	memcpy(y, b->id, 16);
	memcpy(&x2, a->id + 16, 4);
	memcpy(&y2, b->id + 16, 4);
	return x[0] == y[0] && x[1] == y[1] && x2 == y2;
}

/* Insert `id` with `val`; returns 1 when added, 0 when there (`*old` set). */
static int oidset_put(struct oidset *s, const git_oid *id, size_t val, size_t *old)
{
	size_t i;

	if ((s->nr + 1) * 2 > s->cap)
		oidset_grow(s);
	for (i = oid_hash(id) & (s->cap - 1); s->used[i]; i = (i + 1) & (s->cap - 1))
		if (oid_eq(&s->keys[i], id)) {
			if (old)
				*old = s->vals[i];
			return 0;
		}
	s->used[i] = 1;
	git_oid_cpy(&s->keys[i], id);
	s->vals[i] = val;
	s->nr++;
	return 1;
}

static void oidset_grow(struct oidset *s)
{
	struct oidset n = { 0 };

	n.cap = s->cap ? s->cap * 2 : 1024;
	n.keys = xcalloc(n.cap, sizeof(*n.keys));
	n.vals = xcalloc(n.cap, sizeof(*n.vals));
	n.used = xcalloc(n.cap, 1);
	for (size_t i = 0; i < s->cap; i++)
		if (s->used[i])
			oidset_put(&n, &s->keys[i], s->vals[i], NULL);
	free(s->keys);
	free(s->vals);
	free(s->used);
	*s = n;
}

static int oidset_has(const struct oidset *s, const git_oid *id)
{
	if (!s->cap)
		return 0;
	for (size_t i = oid_hash(id) & (s->cap - 1); s->used[i]; i = (i + 1) & (s->cap - 1))
		if (oid_eq(&s->keys[i], id))
			return 1;
	return 0;
}

/* The value of `id` in `s`: 1 with `*val`, or 0 when absent. */
static int oidset_get(const struct oidset *s, const git_oid *id, size_t *val)
{
	if (!s->cap)
		return 0;
	for (size_t i = oid_hash(id) & (s->cap - 1); s->used[i]; i = (i + 1) & (s->cap - 1))
		if (oid_eq(&s->keys[i], id)) {
			*val = s->vals[i];
			return 1;
		}
	return 0;
}

/* Room for `n` ids without growing. */
static void oidset_reserve(struct oidset *s, size_t n)
{
	while ((n + 1) * 2 > s->cap)
		oidset_grow(s);
}

static void oidset_release(struct oidset *s)
{
	free(s->keys);
	free(s->vals);
	free(s->used);
	memset(s, 0, sizeof(*s));
}

/*
 * The commits of a shallow clone's boundary ($GIT_DIR/shallow) into `out`:
 * the only commits whose parents may be missing.  Anywhere else a missing
 * parent is a damaged repository, and history that would be skipped.
 */
static void shallow_load(struct oidset *out, git_repository *repo)
{
	char *path = fs_join(git_repository_commondir(repo), "shallow"), *data = NULL;
	size_t len = 0;

	if (fs_read_file(&data, &len, path) == 0) {
		for (char *p = data, *nl; p < data + len; p = nl + 1) {
			git_oid id;

			if (!(nl = memchr(p, '\n', (size_t)(data + len - p))))
				nl = data + len;
			if (nl - p >= GIT_OID_HEXSZ && git_oid_fromstrn(&id, p, GIT_OID_HEXSZ) == 0)
				oidset_put(out, &id, 0, NULL);
		}
	}
	mp_error_clear();
	git_error_clear();
	free(data);
	free(path);
}

/* ---- loose objects, read here ---- */

/*
 * libgit2 1.5 never returns from git_odb_read() on a truncated loose
 * object (its inflate loop waits for input that never comes).  So blobs
 * that are loose are read here with zlib, and a loose commit or tree is
 * checked here before libgit2 reads it.
 */
enum { LOOSE_NONE = 0, LOOSE_READ = 1, LOOSE_DAMAGED = -1, LOOSE_TOO_BIG = -2 };

static char *loose_path(git_repository *repo, const git_oid *id)
{
	char hex[GIT_OID_HEXSZ + 1];
	const char *dir = git_repository_commondir(repo);
	size_t n = strlen(dir);

	git_oid_tostr(hex, sizeof(hex), id);
	return xasprintf("%s%sobjects/%.2s/%s", dir, n && dir[n - 1] == '/' ? "" : "/", hex, hex + 2);
}

/*
 * The loose objects of a repository, listed once (a packed repository has
 * none, and then no blob costs a failed open()).
 */
static struct {
	pthread_mutex_t lock;
	char *dir;
	struct oidset set;
} loose_cache = { PTHREAD_MUTEX_INITIALIZER, NULL, { 0 } };

static int is_loose(git_repository *repo, const git_oid *id)
{
	const char *common = git_repository_commondir(repo);
	const char *dir = __atomic_load_n(&loose_cache.dir, __ATOMIC_ACQUIRE);

	if (dir && !strcmp(dir, common))
		return oidset_has(&loose_cache.set, id);
	pthread_mutex_lock(&loose_cache.lock);
	if (!loose_cache.dir || strcmp(loose_cache.dir, common)) {
		char *objdir = fs_join(common, "objects");
		DIR *top;
		struct dirent *de;

		free(loose_cache.dir);
		loose_cache.dir = NULL;
		oidset_release(&loose_cache.set);
		if ((top = opendir(objdir))) {
			while ((de = readdir(top))) {
				char *sub;
				DIR *d;
				struct dirent *e2;

				if (strlen(de->d_name) != 2 || !isxdigit((unsigned char)de->d_name[0]) ||
				    !isxdigit((unsigned char)de->d_name[1]))
					continue;
				sub = fs_join(objdir, de->d_name);
				if ((d = opendir(sub))) {
					while ((e2 = readdir(d))) {
						char hex[GIT_OID_HEXSZ + 1];
						git_oid oid;

						if (strlen(e2->d_name) != GIT_OID_HEXSZ - 2)
							continue;
						snprintf(hex, sizeof(hex), "%s%s", de->d_name, e2->d_name);
						if (git_oid_fromstr(&oid, hex) == 0)
							oidset_put(&loose_cache.set, &oid, 0, NULL);
					}
					closedir(d);
				}
				free(sub);
			}
			closedir(top);
		}
		git_error_clear();
		free(objdir);
		__atomic_store_n(&loose_cache.dir, xstrdup(common), __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&loose_cache.lock);
	return oidset_has(&loose_cache.set, id);
}

/*
 * Read loose object `id`: LOOSE_READ with `*data` (malloc'd, `*len` bytes)
 * and `*type`, LOOSE_NONE when it is not loose, LOOSE_DAMAGED, or
 * LOOSE_TOO_BIG (`*len` set) when larger than `max`.  `data` may be NULL
 * to only check it.
 */
static int loose_read(git_repository *repo, const git_oid *id, size_t max, git_object_t *type, char **data,
		      size_t *len)
{
	char *path, *z = NULL, *out = NULL, head[64], *sp, *nul;
	size_t zlen = 0, size, hlen, got;
	z_stream zs;
	int ret = LOOSE_DAMAGED, zr;

	if (data)
		*data = NULL;
	if (!is_loose(repo, id))
		return LOOSE_NONE;
	path = loose_path(repo, id);
	if (fs_read_file(&z, &zlen, path) < 0) {
		ret = fs_exists(path) ? LOOSE_DAMAGED : LOOSE_NONE;
		mp_error_clear();
		free(path);
		return ret;
	}
	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK)
		goto cleanup;
	zs.next_in = (unsigned char *)z;
	zs.avail_in = (unsigned)zlen;
	zs.next_out = (unsigned char *)head;
	zs.avail_out = sizeof(head);
	zr = inflate(&zs, Z_SYNC_FLUSH);
	if (zr != Z_OK && zr != Z_STREAM_END)
		goto end;
	hlen = sizeof(head) - zs.avail_out;
	nul = memchr(head, '\0', hlen);
	sp = memchr(head, ' ', hlen);
	if (!nul || !sp || sp > nul)
		goto end;
	*sp = '\0';
	*type = git_object_string2type(head);
	size = strtoull(sp + 1, NULL, 10);
	if (*type == GIT_OBJECT_INVALID)
		goto end;
	if (len)
		*len = size;
	if (size > max) {
		ret = LOOSE_TOO_BIG;
		goto end;
	}
	out = xmalloc(size + 1);
	got = hlen - (size_t)(nul + 1 - head);
	if (got > size)
		goto end;
	memcpy(out, nul + 1, got);
	while (zr != Z_STREAM_END) {
		zs.next_out = (unsigned char *)out + got;
		zs.avail_out = (unsigned)(size - got);
		if (!zs.avail_in)
			goto end; /* truncated */
		zr = inflate(&zs, Z_SYNC_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END)
			goto end;
		got = size - zs.avail_out;
		if (zr == Z_OK && !zs.avail_out && zs.avail_in) {
			char extra;

			zs.next_out = (unsigned char *)&extra;
			zs.avail_out = 1;
			zr = inflate(&zs, Z_SYNC_FLUSH);
			if (zr != Z_STREAM_END || zs.avail_out != 1)
				goto end; /* longer than its header says */
		}
	}
	if (got != size)
		goto end;
	out[size] = '\0';
	ret = LOOSE_READ;
	if (data) {
		*data = out;
		out = NULL;
	}
end:
	inflateEnd(&zs);
cleanup:
	free(out);
	free(z);
	free(path);
	return ret;
}

/* Before libgit2 reads a commit or tree: 0, or MP_EGIT when it is loose and damaged. */
static int check_loose(git_repository *repo, const git_oid *id)
{
	git_object_t type;

	if (loose_read(repo, id, (size_t)-1, &type, NULL, NULL) == LOOSE_DAMAGED)
		return mp_error_set(MP_EGIT, "object %s is damaged (run 'git fsck')", git_oid_tostr_s(id));
	return 0;
}

/*
 * A blob's bytes: from the loose file, else libgit2 (packed).  Returns 0
 * with `*data` malloc'd (NULL when skipped and reported) or a negative
 * error.  Larger than max_size, unreadable: reported in `r`.
 */
struct blob {
	char *data; /* NULL when skipped */
	size_t len;
	char *owned;           /* read from a loose file */
	git_odb_object *held;  /* or held by libgit2 */
};

static void blob_release(struct blob *b)
{
	free(b->owned);
	git_odb_object_free(b->held);
	memset(b, 0, sizeof(*b));
}

static int blob_read_(char **data, size_t *len, git_odb_object **held, git_repository *repo, struct scan_engine *e,
		      struct scan_report *r, const git_oid *id, const char *path, const char *commit);

/*
 * A blob's bytes: from the loose file, else libgit2 (packed, not copied).
 * Returns 0 with b->data (NULL when skipped and reported: too large,
 * unreadable) or a negative error.
 */
static int blob_read(struct blob *b, git_repository *repo, struct scan_engine *e, struct scan_report *r,
		     const git_oid *id, const char *path, const char *commit)
{
	int ret;

	memset(b, 0, sizeof(*b));
	ret = blob_read_(&b->data, &b->len, &b->held, repo, e, r, id, path, commit);
	if (b->data && !b->held)
		b->owned = b->data;
	return ret;
}

static int blob_read_(char **data, size_t *len, git_odb_object **held, git_repository *repo, struct scan_engine *e,
		      struct scan_report *r, const git_oid *id, const char *path, const char *commit)
{
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;
	git_object_t type;
	char in[64] = "";
	int rc;

	*data = NULL;
	*len = 0;
	if (commit)
		snprintf(in, sizeof(in), " in commit %.12s", commit);
	rc = loose_read(repo, id, e->max_size, &type, data, len);
	if (rc == LOOSE_NONE) {
		if (git_repository_odb(&odb, repo) == 0 && git_odb_read_header(len, &type, odb, id) == 0 &&
		    *len > e->max_size) {
			rc = LOOSE_TOO_BIG;
		} else if (odb && git_odb_read(&obj, odb, id) == 0) {
			*len = git_odb_object_size(obj);
			*data = (char *)git_odb_object_data(obj);
			*held = obj;
			obj = NULL;
			rc = LOOSE_READ;
		} else {
			const git_error *err = git_error_last();

			scan_report_skip(r, path, 1, "cannot read blob %s%s (%s)", git_oid_tostr_s(id), in,
					 err && err->message ? err->message : "?");
			r->corrupt++;
			rc = LOOSE_NONE;
		}
		git_odb_object_free(obj);
		git_odb_free(odb);
	} else if (rc == LOOSE_DAMAGED) {
		scan_report_skip(r, path, 1, "cannot read blob %s%s (damaged object file)", git_oid_tostr_s(id), in);
		r->corrupt++;
	}
	if (rc == LOOSE_TOO_BIG)
		scan_report_skip(r, path, 1, "larger than scan.max_size (%zu bytes, blob %.12s%s)", e->max_size,
				 git_oid_tostr_s(id), in);
	if (rc != LOOSE_READ) {
		if (!*held)
			free(*data);
		*data = NULL;
	}
	return 0;
}

/* ---- one blob, or the added lines of one file ---- */

struct added {
	struct scan_ctx *ctx;
	git_repository *repo;
	struct oidset seen_blobs; /* files added whole: each blob once */
};

static int scan_whole_blob(struct added *a, struct scan_report *r, const git_oid *id, const char *path,
			   const char *commit)
{
	struct scan_engine *e = a->ctx->e;
	struct scan_source src = { path, NULL, commit, NULL, 0 };
	struct blob b;
	int ret;

	if (!oidset_put(&a->seen_blobs, id, 0, NULL))
		return 0;
	if ((ret = blob_read(&b, a->repo, e, r, id, path, commit)) < 0 || !b.data)
		return ret;
	r->blobs++;
	if (scan_is_binary(b.data, b.len)) {
		scan_report_skip(r, path, 0, "binary file");
	} else {
		r->files++;
		r->bytes += b.len;
		ret = scan_ctx_scan(a->ctx, r, &src, b.data, b.len, 0, b.len);
	}
	blob_release(&b);
	return ret;
}

struct lineset {
	size_t *v; /* sorted new-file line numbers */
	size_t nr, alloc;
};

static void lineset_release(struct lineset *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* The line numbers of `new` that are not in `old` (`old` may be NULL). */
static int added_lines(struct lineset *out, const char *old, size_t old_len, const char *new, size_t new_len)
{
	git_diff_options opts;
	git_patch *patch = NULL;
	size_t nh;

	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	opts.context_lines = 0;
	opts.flags = GIT_DIFF_FORCE_TEXT;
	if (git_patch_from_buffers(&patch, old, old ? old_len : 0, NULL, new, new_len, NULL, &opts) < 0)
		return mp_error_git("cannot diff");
	nh = git_patch_num_hunks(patch);
	for (size_t h = 0; h < nh; h++) {
		size_t nl = 0;

		git_patch_get_hunk(NULL, &nl, patch, h);
		for (size_t i = 0; i < nl; i++) {
			const git_diff_line *line;

			if (git_patch_get_line_in_hunk(&line, patch, h, i) < 0)
				continue;
			if (line->origin != GIT_DIFF_LINE_ADDITION || line->new_lineno < 1)
				continue;
			out->v = xgrow(out->v, sizeof(*out->v), out->nr + 1, &out->alloc);
			out->v[out->nr++] = (size_t)line->new_lineno;
		}
	}
	git_patch_free(patch);
	return 0;
}

static void lineset_intersect(struct lineset *a, const struct lineset *b)
{
	size_t i = 0, j = 0, k = 0;

	while (i < a->nr && j < b->nr) {
		if (a->v[i] < b->v[j])
			i++;
		else if (a->v[i] > b->v[j])
			j++;
		else
			a->v[k++] = a->v[i++], j++;
	}
	a->nr = k;
}

/* Scan the lines `lines` of `data`, reporting the file's own line numbers. */
static int scan_lines(struct added *a, struct scan_report *r, const char *data, size_t len,
		      const struct lineset *lines, const char *path, const char *commit)
{
	const char *p = data, *end = data + len;
	struct strbuf buf = STRBUF_INIT;
	size_t *map = xmalloc((lines->nr + 1) * sizeof(*map)), nmap = 0, lineno = 1, k = 0;
	struct scan_source src = { path, NULL, commit, map, 0 };
	int ret;

	while (p < end && k < lines->nr) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl + 1 : end;

		if (lineno == lines->v[k]) {
			strbuf_add(&buf, p, (size_t)(le - p));
			if (!nl)
				strbuf_addch(&buf, '\n');
			map[nmap++] = lineno;
			k++;
		}
		lineno++;
		p = le;
	}
	src.linemap_nr = nmap;
	r->bytes += buf.len;
	ret = buf.len ? scan_ctx_scan(a->ctx, r, &src, buf.buf, buf.len, 0, buf.len) : 0;
	strbuf_release(&buf);
	free(map);
	return ret;
}

/* A file changed by a commit: `old_id` may be NULL (added); `others` are a merge's other parents. */
static int scan_change(struct added *a, struct scan_report *r, const git_oid *old_id, const git_oid *new_id,
		       const char *path, const char *commit, git_tree **others, size_t nothers)
{
	struct scan_engine *e = a->ctx->e;
	struct blob ob_old = { 0 }, ob_new = { 0 };
	char *old = NULL, *new = NULL;
	size_t old_len = 0, new_len = 0;
	struct lineset lines = { 0 };
	int ret = 0;

	if (scan_path_allowed(e, path)) {
		scan_report_skip(r, path, 0, "allowed by scan.allow_paths");
		return 0;
	}
	if (!old_id && !nothers)
		return scan_whole_blob(a, r, new_id, path, commit);
	if ((ret = blob_read(&ob_new, a->repo, e, r, new_id, path, commit)) < 0 || !ob_new.data)
		return ret;
	new = ob_new.data;
	new_len = ob_new.len;
	if (scan_is_binary(new, new_len)) {
		scan_report_skip(r, path, 0, "binary file");
		goto cleanup;
	}
	if (old_id) {
		struct scan_report ignore = SCAN_REPORT_INIT;

		blob_read(&ob_old, a->repo, e, &ignore, old_id, path, commit);
		old = ob_old.data;
		old_len = ob_old.len;
		if (!old) {
			/* the old side unreadable or huge: every line counts as added */
			r->corrupt += ignore.corrupt;
			for (size_t i = 0; i < ignore.skipped.nr; i++)
				strlist_push(&r->skipped, ignore.skipped.items[i]);
			r->unscanned += ignore.unscanned;
		}
		scan_report_release(&ignore);
	}
	if ((ret = added_lines(&lines, old, old_len, new, new_len)) < 0)
		goto cleanup;
	for (size_t i = 0; i < nothers && lines.nr; i++) {
		git_tree_entry *te = NULL;
		struct scan_report ignore = SCAN_REPORT_INIT;
		struct lineset other = { 0 };
		struct blob ob = { 0 };

		if (git_tree_entry_bypath(&te, others[i], path) < 0) {
			git_error_clear();
			continue; /* not in that parent: all its lines are new to it */
		}
		if (!git_oid_cmp(git_tree_entry_id(te), new_id)) {
			lines.nr = 0;
		} else if (blob_read(&ob, a->repo, e, &ignore, git_tree_entry_id(te), path, commit) == 0 && ob.data &&
			   added_lines(&other, ob.data, ob.len, new, new_len) == 0) {
			lineset_intersect(&lines, &other);
		}
		blob_release(&ob);
		scan_report_release(&ignore);
		lineset_release(&other);
		git_tree_entry_free(te);
	}
	r->files++;
	r->blobs++;
	if (lines.nr)
		ret = scan_lines(a, r, new, new_len, &lines, path, commit);
cleanup:
	lineset_release(&lines);
	blob_release(&ob_old);
	blob_release(&ob_new);
	return ret;
}

static int scan_diff(struct added *a, struct scan_report *r, git_diff *diff, const char *commit, git_tree **others,
		     size_t nothers)
{
	git_diff_find_options fopts;
	size_t n;
	int ret = 0;

	git_diff_find_options_init(&fopts, GIT_DIFF_FIND_OPTIONS_VERSION);
	fopts.flags = GIT_DIFF_FIND_RENAMES;
	if (git_diff_find_similar(diff, &fopts) < 0)
		return mp_error_git("cannot detect renames");
	n = git_diff_num_deltas(diff);
	for (size_t i = 0; i < n && !ret; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		const char *path = d->new_file.path;

		if (d->new_file.mode == GIT_FILEMODE_COMMIT || d->new_file.mode == GIT_FILEMODE_TREE)
			continue;
		switch (d->status) {
		case GIT_DELTA_ADDED:
		case GIT_DELTA_COPIED:
		case GIT_DELTA_UNTRACKED:
			ret = scan_change(a, r, NULL, &d->new_file.id, path, commit, others, nothers);
			break;
		case GIT_DELTA_MODIFIED:
		case GIT_DELTA_RENAMED:
		case GIT_DELTA_TYPECHANGE:
			if (git_oid_cmp(&d->old_file.id, &d->new_file.id))
				ret = scan_change(a, r, d->old_file.mode == GIT_FILEMODE_COMMIT ? NULL : &d->old_file.id,
						  &d->new_file.id, path, commit, others, nothers);
			break;
		default:
			break; /* deleted, unmodified: nothing added */
		}
	}
	return ret;
}

static void added_init(struct added *a, struct scan_engine *e, git_repository *repo)
{
	memset(a, 0, sizeof(*a));
	a->ctx = e->ctx;
	a->repo = repo;
}

int scan_staged(struct scan_engine *e, struct scan_report *r, git_repository *repo)
{
	git_diff_options opts;
	git_object *head = NULL;
	git_tree *tree = NULL;
	git_index *index = NULL;
	git_diff *diff = NULL;
	struct added a;
	int ret = 0;

	added_init(&a, e, repo);
	if (git_revparse_single(&head, repo, "HEAD^{tree}") == 0)
		tree = (git_tree *)head;
	else
		git_error_clear(); /* no commit yet: everything staged is added */
	if (git_repository_index(&index, repo) < 0) {
		ret = mp_error_git("cannot read the index");
		goto cleanup;
	}
	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	opts.context_lines = 0;
	if (git_diff_tree_to_index(&diff, repo, tree, index, &opts) < 0) {
		ret = mp_error_git("cannot compare the index with HEAD");
		goto cleanup;
	}
	ret = scan_diff(&a, r, diff, NULL, NULL, 0);
cleanup:
	git_diff_free(diff);
	git_index_free(index);
	git_object_free(head);
	oidset_release(&a.seen_blobs);
	return ret;
}

/* Diff one commit against its first parent; a merge keeps only lines none of its parents has. */
static int scan_one_commit(struct added *a, struct scan_report *r, git_commit *c)
{
	git_diff_options opts;
	git_tree *tree = NULL, *ptree = NULL, **others = NULL;
	git_commit *parent = NULL;
	git_diff *diff = NULL;
	unsigned np = git_commit_parentcount(c);
	size_t nothers = 0;
	char hex[GIT_OID_HEXSZ + 1];
	int ret = 0;

	git_oid_tostr(hex, sizeof(hex), git_commit_id(c));
	r->commits++;
	if ((ret = check_loose(git_commit_owner(c), git_commit_tree_id(c))) < 0)
		goto cleanup;
	for (unsigned i = 0; i < np; i++) {
		git_odb *odb = NULL;
		const git_oid *pid = git_commit_parent_id(c, i);
		int have = git_repository_odb(&odb, git_commit_owner(c)) == 0 && git_odb_exists(odb, pid);

		git_odb_free(odb);
		if (!have)
			continue;
		if ((ret = check_loose(git_commit_owner(c), pid)) < 0)
			goto cleanup;
	}
	if (git_commit_tree(&tree, c) < 0) {
		ret = mp_error_git("cannot read the tree of commit %s", hex);
		goto cleanup;
	}
	if (np > 0) {
		if (git_commit_parent(&parent, c, 0) == 0 && git_commit_tree(&ptree, parent) == 0) {
			/* the first parent */
		} else {
			git_error_clear(); /* a shallow clone's boundary: scan it as a root */
		}
	}
	if (np > 1) {
		others = xcalloc(np, sizeof(*others));
		for (unsigned i = 1; i < np; i++) {
			git_commit *p = NULL;

			if (git_commit_parent(&p, c, i) == 0 && git_commit_tree(&others[nothers], p) == 0)
				nothers++;
			else
				git_error_clear();
			git_commit_free(p);
		}
	}
	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	opts.context_lines = 0;
	if (git_diff_tree_to_tree(&diff, git_commit_owner(c), ptree, tree, &opts) < 0) {
		ret = mp_error_git("cannot diff commit %s", hex);
		goto cleanup;
	}
	ret = scan_diff(a, r, diff, hex, others, nothers);
cleanup:
	git_diff_free(diff);
	for (size_t i = 0; i < nothers; i++)
		git_tree_free(others[i]);
	free(others);
	git_tree_free(ptree);
	git_commit_free(parent);
	git_tree_free(tree);
	return ret;
}

/* ---- walking commits ---- */

struct commit_list {
	git_oid *ids;
	size_t nr, alloc;
};

/* A max-heap of commits by date, for the walk. */
struct dated {
	git_oid id;
	git_time_t time;
	size_t seq;
};

struct heap {
	struct dated *v;
	size_t nr, alloc;
};

static int later(const struct dated *x, const struct dated *y)
{
	return x->time != y->time ? x->time > y->time : x->seq < y->seq;
}

static void heap_push(struct heap *h, struct dated d)
{
	size_t i;

	h->v = xgrow(h->v, sizeof(*h->v), h->nr + 1, &h->alloc);
	i = h->nr++;
	h->v[i] = d;
	while (i && later(&h->v[i], &h->v[(i - 1) / 2])) {
		struct dated t = h->v[i];

		h->v[i] = h->v[(i - 1) / 2];
		h->v[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static struct dated heap_pop(struct heap *h)
{
	struct dated top = h->v[0];
	size_t i = 0;

	h->v[0] = h->v[--h->nr];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < h->nr && later(&h->v[l], &h->v[m]))
			m = l;
		if (r < h->nr && later(&h->v[r], &h->v[m]))
			m = r;
		if (m == i)
			break;
		struct dated t = h->v[i];

		h->v[i] = h->v[m];
		h->v[m] = t;
		i = m;
	}
	return top;
}

#define SEEN 1
#define HIDDEN 2
#define LISTED 4

struct walk {
	git_repository *repo;
	git_odb *odb;
	struct oidset flags; /* value: SEEN | HIDDEN | LISTED */
	struct oidset shallow;
	struct heap queue;
	size_t seq, hidden_queued;
};

static unsigned *walk_flags(struct walk *w, const git_oid *id)
{
	size_t old = 0;

	if (oidset_put(&w->flags, id, 0, &old))
		return NULL;
	/* found: find its slot again to update in place */
	for (size_t i = oid_hash(id) & (w->flags.cap - 1);; i = (i + 1) & (w->flags.cap - 1))
		if (w->flags.used[i] && !git_oid_cmp(&w->flags.keys[i], id))
			return (unsigned *)&w->flags.vals[i];
}

/*
 * Queue `id` (once), hidden or not: a tip, or a parent of `child`.  A
 * missing tip is skipped, and so is a missing parent of a shallow
 * clone's boundary; any other missing parent is an error.
 */
static int walk_add(struct walk *w, const git_oid *id, const git_oid *child, int hidden)
{
	git_commit *c = NULL;
	unsigned *f;
	int ret;

	if ((f = walk_flags(w, id))) {
		/* seen: a hidden mark spreads to it when it had none */
		if (hidden && !(*f & HIDDEN)) {
			*f |= HIDDEN;
			if (*f & LISTED)
				return 0; /* already walked past: filtered at the end */
		}
		return 0;
	}
	if (!git_odb_exists(w->odb, id)) {
		char hex[GIT_OID_HEXSZ + 1], chex[GIT_OID_HEXSZ + 1];

		git_error_clear();
		if (!child || oidset_has(&w->shallow, child))
			return 0;
		git_oid_tostr(hex, sizeof(hex), id);
		git_oid_tostr(chex, sizeof(chex), child);
		return mp_error_set(MP_EGIT, "commit %s, a parent of %s, is missing: the repository is damaged (run 'git fsck')",
				    hex, chex);
	}
	if ((ret = check_loose(w->repo, id)) < 0)
		return ret;
	if (git_commit_lookup(&c, w->repo, id) < 0)
		return mp_error_git("cannot read commit %s", git_oid_tostr_s(id));
	f = walk_flags(w, id);
	*f = SEEN | (hidden ? HIDDEN : 0);
	heap_push(&w->queue, (struct dated){ *id, git_commit_time(c), w->seq++ });
	git_commit_free(c);
	return 0;
}

/*
 * The commits reachable from `include` and from none of `exclude`, oldest
 * first.  Our own walk, newest first by commit date like git's: libgit2
 * 1.5's fails at a shallow clone's boundary and reads objects unchecked.
 * It stops when only hidden commits are left.
 */
static int list_commits(struct commit_list *out, git_repository *repo, const git_oid *include, size_t ninclude,
			const git_oid *exclude, size_t nexclude)
{
	struct walk w;
	struct commit_list listed = { 0 };
	int ret = 0;

	memset(&w, 0, sizeof(w));
	w.repo = repo;
	if (git_repository_odb(&w.odb, repo) < 0)
		return mp_error_git("cannot open the object database");
	shallow_load(&w.shallow, repo);
	for (size_t i = 0; i < nexclude && !ret; i++)
		ret = walk_add(&w, &exclude[i], NULL, 1);
	for (size_t i = 0; i < ninclude && !ret; i++)
		ret = walk_add(&w, &include[i], NULL, 0);
	while (!ret && w.queue.nr) {
		struct dated d = heap_pop(&w.queue);
		unsigned *f = walk_flags(&w, &d.id);
		int hidden = (*f & HIDDEN) != 0;
		git_commit *c = NULL;
		size_t visible = 0;

		if (git_commit_lookup(&c, repo, &d.id) < 0) {
			ret = mp_error_git("cannot read commit %s", git_oid_tostr_s(&d.id));
			break;
		}
		if (!hidden) {
			*f |= LISTED;
			listed.ids = xgrow(listed.ids, sizeof(*listed.ids), listed.nr + 1, &listed.alloc);
			listed.ids[listed.nr++] = d.id;
		}
		for (unsigned i = 0; i < git_commit_parentcount(c) && !ret; i++)
			ret = walk_add(&w, git_commit_parent_id(c, i), &d.id, hidden);
		git_commit_free(c);
		/* stop when every queued commit is hidden */
		for (size_t i = 0; nexclude && i < w.queue.nr && !visible; i++)
			visible = !(*walk_flags(&w, &w.queue.v[i].id) & HIDDEN);
		if (!visible && nexclude)
			break;
	}
	/* oldest first, without what turned out hidden (clock skew) */
	for (size_t i = listed.nr; i-- > 0 && !ret;)
		if (!(*walk_flags(&w, &listed.ids[i]) & HIDDEN)) {
			out->ids = xgrow(out->ids, sizeof(*out->ids), out->nr + 1, &out->alloc);
			out->ids[out->nr++] = listed.ids[i];
		}
	free(listed.ids);
	free(w.queue.v);
	oidset_release(&w.flags);
	oidset_release(&w.shallow);
	git_odb_free(w.odb);
	return ret;
}

int scan_commits(struct scan_engine *e, struct scan_report *r, git_repository *repo, const git_oid *include,
		 size_t ninclude, const git_oid *exclude, size_t nexclude)
{
	struct commit_list list = { 0 };
	struct added a;
	int ret;

	added_init(&a, e, repo);
	ret = list_commits(&list, repo, include, ninclude, exclude, nexclude);
	for (size_t i = 0; i < list.nr && !ret; i++) {
		git_commit *c = NULL;

		if (git_commit_lookup(&c, repo, &list.ids[i]) < 0) {
			ret = mp_error_git("cannot read commit %s", git_oid_tostr_s(&list.ids[i]));
			break;
		}
		ret = scan_one_commit(&a, r, c);
		git_commit_free(c);
	}
	free(list.ids);
	oidset_release(&a.seen_blobs);
	return ret;
}

static int peel_commit(git_oid *out, git_repository *repo, const git_object *obj, const char *what)
{
	git_object *c = NULL;

	if (git_object_peel(&c, obj, GIT_OBJECT_COMMIT) < 0)
		return mp_error_git("'%s' is not a commit", what);
	git_oid_cpy(out, git_object_id(c));
	git_object_free(c);
	(void)repo;
	return 0;
}

int scan_range(struct scan_engine *e, struct scan_report *r, git_repository *repo, const char *range)
{
	git_revspec spec;
	git_oid inc[2], exc[1];
	size_t ninc = 0, nexc = 0;
	int ret;

	memset(&spec, 0, sizeof(spec));
	if (git_revparse(&spec, repo, range) < 0)
		return mp_error_git("cannot resolve the range '%s'", range);
	if (spec.flags & GIT_REVSPEC_SINGLE) {
		ret = peel_commit(&inc[ninc++], repo, spec.from, range);
	} else {
		ret = peel_commit(&inc[ninc++], repo, spec.to, range);
		if (!ret && (spec.flags & GIT_REVSPEC_MERGE_BASE)) {
			ret = peel_commit(&inc[ninc++], repo, spec.from, range);
			if (!ret && git_merge_base(&exc[nexc], repo, &inc[0], &inc[1]) == 0)
				nexc++;
			else
				git_error_clear(); /* unrelated histories: both sides whole */
		} else if (!ret) {
			ret = peel_commit(&exc[nexc++], repo, spec.from, range);
		}
	}
	git_object_free(spec.from);
	git_object_free(spec.to);
	if (ret < 0)
		return ret;
	return scan_commits(e, r, repo, inc, ninc, exc, nexc);
}

/* ---- the whole history ---- */

struct blob_job {
	git_oid id;
	git_oid commit; /* the first commit where it appears */
	char *path;
	size_t index;   /* order of the walk */
	char *data;     /* its bytes when the fast path kept them (malloc'd, NUL-terminated), else NULL */
	size_t len;
};

/*
 * The walk (main thread) publishes blob jobs as it finds them; the
 * workers take them in batches meanwhile, so reading trees overlaps
 * with scanning blobs.
 */
struct history {
	struct scan_engine *e;
	const char *gitdir;
	pthread_mutex_t lock;
	pthread_cond_t more;
	struct blob_job *jobs; /* under lock */
	size_t nr, alloc, next, done;
	int walk_done;
	size_t ncommits;
	void (*progress)(size_t, size_t, void *);
	void *payload;
};

struct worker {
	struct history *h;
	int first;
	struct scan_report r;
	size_t *finding_job; /* per finding of r: its job index (for a stable order) */
	size_t fj_alloc;
	int ret;
	char err[512];
};

#define BATCH 32

static void strbuf_setlen_(struct strbuf *sb, size_t len)
{
	if (sb->buf) {
		sb->len = len;
		sb->buf[len] = '\0';
	}
}

/* A tree's raw bytes: the loose file read here (checked), else libgit2's pack. */
static int tree_raw(struct blob *out, git_repository *repo, git_odb *odb, const git_oid *id)
{
	git_object_t type = GIT_OBJECT_INVALID;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = loose_read(repo, id, (size_t)-1, &type, &out->owned, &out->len);
	if (rc == LOOSE_READ) {
		out->data = out->owned;
	} else if (rc == LOOSE_NONE && git_odb_read(&out->held, odb, id) == 0) {
		type = git_odb_object_type(out->held);
		out->data = (char *)git_odb_object_data(out->held);
		out->len = git_odb_object_size(out->held);
	} else {
		blob_release(out);
		return rc == LOOSE_DAMAGED ? mp_error_set(MP_EGIT, "object %s is damaged (run 'git fsck')", git_oid_tostr_s(id))
					   : mp_error_git("cannot read tree %s", git_oid_tostr_s(id));
	}
	if (type != GIT_OBJECT_TREE) {
		blob_release(out);
		return mp_error_set(MP_EGIT, "object %s is not a tree", git_oid_tostr_s(id));
	}
	return 0;
}

/*
 * Walk a tree's raw entries ("<mode> <name>\0<20-byte id>"), parsed here:
 * libgit2's tree objects (an allocation per entry) were the walk's cost.
 */
static int walk_tree(struct history *h, git_repository *repo, git_odb *odb, struct oidset *trees,
		     struct oidset *blobs, const git_oid *tree_id, struct strbuf *prefix, const git_oid *commit)
{
	struct blob raw;
	const char *p, *end;
	size_t plen = prefix->len;
	int ret;

	if ((ret = tree_raw(&raw, repo, odb, tree_id)) < 0)
		return ret;
	p = raw.data;
	end = raw.data + raw.len;
	while (p < end && !ret) {
		const char *sp = memchr(p, ' ', (size_t)(end - p)), *nul;
		unsigned long mode;
		git_oid id;

		if (!sp || !(nul = memchr(sp, '\0', (size_t)(end - sp))) || (size_t)(end - nul) < 1 + GIT_OID_RAWSZ) {
			ret = mp_error_set(MP_EGIT, "tree %s is damaged (run 'git fsck')", git_oid_tostr_s(tree_id));
			break;
		}
		mode = strtoul(p, NULL, 8);
		git_oid_fromraw(&id, (const unsigned char *)nul + 1);
		strbuf_setlen_(prefix, plen);
		if (plen)
			strbuf_addch(prefix, '/');
		strbuf_add(prefix, sp + 1, (size_t)(nul - sp - 1));
		if ((mode & 0170000) == 040000) {
			if (oidset_put(trees, &id, 0, NULL))
				ret = walk_tree(h, repo, odb, trees, blobs, &id, prefix, commit);
		} else if ((mode & 0170000) == 0100000 || (mode & 0170000) == 0120000) {
			if (oidset_put(blobs, &id, 0, NULL)) {
				char *path = xstrndup(prefix->buf, prefix->len);

				pthread_mutex_lock(&h->lock);
				h->jobs = xgrow(h->jobs, sizeof(*h->jobs), h->nr + 1, &h->alloc);
				h->jobs[h->nr] = (struct blob_job){ id, *commit, path, h->nr, NULL, 0 };
				h->nr++;
				if (h->nr - h->next >= BATCH)
					pthread_cond_signal(&h->more);
				pthread_mutex_unlock(&h->lock);
			}
		} /* 0160000: a submodule's commit, not ours */
		p = nul + 1 + GIT_OID_RAWSZ;
	}
	strbuf_setlen_(prefix, plen);
	blob_release(&raw);
	return ret;
}

/*
 * Whether `ref`, which does not peel to a commit, names an object that
 * cannot be read (a missing object, a damaged pack): history would be
 * lost in silence if it were skipped.  Each object is read whole down to
 * what is not a tag: its header alone reads fine from a pack whose data
 * is damaged.
 */
static int ref_damaged(git_repository *repo, git_reference *ref)
{
	git_reference *direct = NULL;
	git_object *obj = NULL;
	int damaged = 0;

	if (git_reference_resolve(&direct, ref) == 0 && git_reference_target(direct)) {
		damaged = git_object_lookup(&obj, repo, git_reference_target(direct), GIT_OBJECT_ANY) < 0;
		while (!damaged && git_object_type(obj) == GIT_OBJECT_TAG) {
			git_object *target = NULL;

			damaged = git_tag_target(&target, (git_tag *)obj) < 0;
			git_object_free(obj);
			obj = target;
		}
	}
	git_object_free(obj);
	git_reference_free(direct);
	git_error_clear();
	return damaged;
}

/*
 * Append the commit `ref` points to (through tags) to `tips`: 0, or 1 when
 * it does not peel because its object is damaged (a ref to a tree or blob,
 * or a dangling symbolic ref, is not history: 0, nothing added).
 */
static int add_tip(git_oid **tips, size_t *ntips, size_t *atips, git_repository *repo, git_reference *ref)
{
	git_object *obj = NULL;
	int damaged = 0;

	if (git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) == 0) {
		*tips = xgrow(*tips, sizeof(**tips), *ntips + 1, atips);
		(*tips)[(*ntips)++] = *git_object_id(obj);
	} else {
		damaged = ref_damaged(repo, ref);
	}
	git_error_clear();
	git_object_free(obj);
	return damaged;
}

/* The commits of every ref and HEAD (`*out` malloc'd, maybe empty): 0 or an error. */
static int history_tips(git_oid **out, size_t *nr, git_repository *repo)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	git_oid *tips = NULL;
	size_t ntips = 0, atips = 0;
	int ret = 0;

	if (git_reference_iterator_new(&it, repo) < 0)
		return mp_error_git("cannot list the references");
	while (!ret && git_reference_next(&ref, it) == 0) {
		if (add_tip(&tips, &ntips, &atips, repo, ref))
			ret = mp_error_set(MP_EGIT, "cannot read '%s': the repository is damaged (run 'git fsck')",
					   git_reference_name(ref));
		git_reference_free(ref);
	}
	/* HEAD, unless unborn (git_revparse_single() leaks a reference when its commit is damaged) */
	if (!ret && git_repository_head(&ref, repo) == 0) {
		if (add_tip(&tips, &ntips, &atips, repo, ref))
			ret = mp_error_set(MP_EGIT, "cannot read 'HEAD': the repository is damaged (run 'git fsck')");
		git_reference_free(ref);
	}
	git_error_clear();
	git_reference_iterator_free(it);
	if (ret < 0) {
		free(tips);
		return ret;
	}
	*out = tips;
	*nr = ntips;
	return 0;
}

static int collect_blobs(struct history *h, git_repository *repo, const git_oid *tips, size_t ntips)
{
	struct oidset trees = { 0 }, blobs = { 0 };
	struct commit_list list = { 0 };
	struct strbuf prefix = STRBUF_INIT;
	git_odb *odb = NULL;
	int ret = 0;

	if (git_repository_odb(&odb, repo) < 0) {
		ret = mp_error_git("cannot open the object database");
		goto cleanup;
	}
	if (!ntips)
		goto cleanup; /* an empty repository has no history */
	if ((ret = list_commits(&list, repo, tips, ntips, NULL, 0)) < 0)
		goto cleanup;
	for (size_t i = 0; i < list.nr && !ret; i++) {
		git_commit *c = NULL;

		if (git_commit_lookup(&c, repo, &list.ids[i]) < 0) {
			ret = mp_error_git("cannot read commit %s", git_oid_tostr_s(&list.ids[i]));
			break;
		}
		strbuf_reset(&prefix);
		if (oidset_put(&trees, git_commit_tree_id(c), 0, NULL))
			ret = walk_tree(h, repo, odb, &trees, &blobs, git_commit_tree_id(c), &prefix, &list.ids[i]);
		h->ncommits++;
		git_commit_free(c);
	}
cleanup:
	strbuf_release(&prefix);
	git_odb_free(odb);
	free(list.ids);
	oidset_release(&trees);
	oidset_release(&blobs);
	return ret;
}

/* Take up to BATCH jobs; 0 when the walk is over and nothing is left. */
static size_t take_jobs(struct history *h, struct blob_job *out)
{
	size_t n = 0;

	pthread_mutex_lock(&h->lock);
	while (h->next >= h->nr && !h->walk_done)
		pthread_cond_wait(&h->more, &h->lock);
	while (n < BATCH && h->next < h->nr)
		out[n++] = h->jobs[h->next++];
	pthread_mutex_unlock(&h->lock);
	return n;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct history *h = w->h;
	struct scan_ctx *ctx = NULL;
	git_repository *repo = NULL;
	struct blob_job batch[BATCH];
	size_t n;

	if (git_repository_open_bare(&repo, h->gitdir) < 0) {
		w->ret = mp_error_git("cannot open the repository");
		goto done;
	}
	if ((w->ret = scan_ctx_new(&ctx, h->e)) < 0)
		goto done;
	while (!w->ret && (n = take_jobs(h, batch)) > 0) {
		for (size_t j = 0; j < n && !w->ret; j++) {
			struct blob_job *job = &batch[j];
			size_t size = 0, before = w->r.nr;
			char commit[GIT_OID_HEXSZ + 1];
			struct scan_source src = { job->path, NULL, commit, NULL, 0 };
			struct blob b;

			git_oid_tostr(commit, sizeof(commit), &job->commit);
			if (scan_path_allowed(h->e, job->path)) {
				scan_report_skip(&w->r, job->path, 0, "allowed by scan.allow_paths");
				continue;
			}
			if (job->data) { /* kept by the fast path (h->jobs owns it) */
				memset(&b, 0, sizeof(b));
				b.data = job->data;
				b.len = job->len;
			} else if ((w->ret = blob_read(&b, repo, h->e, &w->r, &job->id, job->path, commit)) < 0 || !b.data) {
				continue;
			}
			size = b.len;
			w->r.blobs++;
			if (scan_is_binary(b.data, size)) {
				scan_report_skip(&w->r, job->path, 0, "binary file");
			} else {
				w->r.files++;
				w->r.bytes += size;
				w->ret = scan_ctx_scan(ctx, &w->r, &src, b.data, size, 0, size);
			}
			blob_release(&b);
			w->finding_job = xgrow(w->finding_job, sizeof(*w->finding_job), w->r.nr + 1, &w->fj_alloc);
			for (size_t k = before; k < w->r.nr; k++)
				w->finding_job[k] = job->index;
		}
		pthread_mutex_lock(&h->lock);
		h->done += n;
		if (w->first && h->progress)
			h->progress(h->done, h->walk_done ? h->nr : h->nr + 1, h->payload);
		pthread_mutex_unlock(&h->lock);
	}
done:
	if (w->ret < 0)
		snprintf(w->err, sizeof(w->err), "%s", mp_error_last());
	scan_ctx_free(ctx);
	git_repository_free(repo);
	return NULL;
}

struct ordered {
	size_t job;
	struct scan_finding f;
};

/* A small string set for fingerprints (open addressing over a strlist). */
struct fp_set {
	char **items;
	size_t nr, cap;
};

static size_t str_hash(const char *s)
{
	size_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* 1 when `key` was there; else adds it (not copied) and returns 0. */
static int fp_seen(struct fp_set *s, char *key)
{
	size_t i;

	if ((s->nr + 1) * 2 > s->cap) {
		struct fp_set n = { NULL, 0, s->cap ? s->cap * 2 : 256 };

		n.items = xcalloc(n.cap, sizeof(*n.items));
		for (size_t k = 0; k < s->cap; k++)
			if (s->items[k])
				fp_seen(&n, s->items[k]);
		free(s->items);
		*s = n;
	}
	for (i = str_hash(key) & (s->cap - 1); s->items[i]; i = (i + 1) & (s->cap - 1))
		if (!strcmp(s->items[i], key))
			return 1;
	s->items[i] = key;
	s->nr++;
	return 0;
}

static void fp_set_release(struct fp_set *s)
{
	free(s->items);
	memset(s, 0, sizeof(*s));
}

static void release_finding(struct scan_finding *f)
{
	free(f->rule);
	free(f->description);
	free(f->path);
	free(f->commit);
	free(f->secret);
	free(f->fingerprint);
}

static int cmp_ordered(const void *a, const void *b)
{
	const struct ordered *x = a, *y = b;

	if (x->job != y->job)
		return x->job < y->job ? -1 : 1;
	if (x->f.line != y->f.line)
		return x->f.line < y->f.line ? -1 : 1;
	return x->f.column < y->f.column ? -1 : x->f.column > y->f.column;
}

/*
 * The fast path of --all (see docs/scanning.md, Performance): git's own
 * reader streams every object of the object store once, in pack order
 * (`git cat-file --batch-all-objects --batch --unordered`), and the
 * workers scan each blob without its path, path rules off, meanwhile
 * `git rev-list --objects --in-commit-order --reverse` (the same tips,
 * oldest commit first) maps each reachable blob to the first commit and
 * path where it appears.  Only the blobs that gave a finding (or an
 * allowed one) are then scanned again, through libgit2, with their path:
 * path rules, allow_paths and fingerprints only remove findings, so the
 * first pass finds a superset.  Unreachable blobs are read but never
 * reported.  Anything unexpected (git missing, a damaged repository, a
 * partial clone) falls back to the libgit2 walk.
 */

enum { FB_TREE = 1, FB_CLEAN = 2, FB_BINARY = 3, FB_TOO_BIG = 4, FB_CANDIDATE = 5 };

struct fast_rec {
	git_oid id;
	size_t size;
	int kind;
	char *data; /* FB_CANDIDATE: its bytes, kept for the second pass (or NULL) */
};

struct fast_recs {
	struct fast_rec *v;
	size_t nr, alloc;
};

static void fast_recs_add(struct fast_recs *rs, const git_oid *id, size_t size, int kind)
{
	rs->v = xgrow(rs->v, sizeof(*rs->v), rs->nr + 1, &rs->alloc);
	rs->v[rs->nr++] = (struct fast_rec){ *id, size, kind, NULL };
}

static void fast_recs_release(struct fast_recs *rs)
{
	for (size_t i = 0; i < rs->nr; i++)
		free(rs->v[i].data);
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}

/* Start git with `args` (after "git --git-dir=DIR --no-replace-objects"); its stdout on *out_fd. */
static pid_t fast_spawn(int *out_fd, int *in_fd, const char *gitdir, const char *const *args)
{
	const char *argv[16];
	char *gd = xasprintf("--git-dir=%s", gitdir);
	int out[2] = { -1, -1 }, in[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	size_t n = 0;
	pid_t pid = -1;

	argv[n++] = "git";
	argv[n++] = gd;
	argv[n++] = "--no-replace-objects";
	while (*args && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	if (pipe2(out, O_CLOEXEC) < 0 || (in_fd && pipe2(in, O_CLOEXEC) < 0))
		goto done;
	fcntl(out[0], F_SETPIPE_SZ, 1 << 20); /* fewer wake-ups; the default may be all we get */
	posix_spawn_file_actions_init(&fa);
	if (in_fd)
		posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, "git", &fa, NULL, (char *const *)argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
done:
	if (out[1] >= 0)
		close(out[1]);
	if (in[0] >= 0)
		close(in[0]);
	if (pid < 0) {
		if (out[0] >= 0)
			close(out[0]);
		if (in[1] >= 0)
			close(in[1]);
	} else {
		*out_fd = out[0];
		if (in_fd)
			*in_fd = in[1];
	}
	free(gd);
	return pid;
}

/* 0 when `pid` exited with status 0. */
/* A child's exit code, or -1 (killed, or not waited for). */
static int fast_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}



/* A buffered reader of a pipe. */
struct fast_in {
	int fd;
	char *buf;
	size_t pos, len;
	int eof;
};

static int fast_fill(struct fast_in *in)
{
	ssize_t n;

	if (in->pos < in->len)
		return 1;
	if (in->eof)
		return 0;
	do
		n = read(in->fd, in->buf, 1 << 20);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		in->eof = 1;
		return 0;
	}
	in->pos = 0;
	in->len = (size_t)n;
	return 1;
}

/* Read a line (without its newline) into `sb`: 1, or 0 at the end. */
static int fast_line(struct fast_in *in, struct strbuf *sb)
{
	strbuf_reset(sb);
	while (fast_fill(in)) {
		char *nl = memchr(in->buf + in->pos, '\n', in->len - in->pos);
		size_t n = nl ? (size_t)(nl - (in->buf + in->pos)) : in->len - in->pos;

		strbuf_add(sb, in->buf + in->pos, n);
		in->pos += n + (nl ? 1 : 0);
		if (nl)
			return 1;
	}
	return sb->len > 0;
}

/* Copy (or with `dst` NULL, skip) `n` bytes: 0, or -1 when the stream ends first. */
static int fast_bytes(struct fast_in *in, char *dst, size_t n)
{
	while (n) {
		size_t k;

		if (dst && in->pos == in->len && n >= 65536 && !in->eof) {
			ssize_t got = read(in->fd, dst, n);

			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				in->eof = 1;
				return -1;
			}
			dst += got;
			n -= (size_t)got;
			continue;
		}
		if (!fast_fill(in))
			return -1;
		k = in->len - in->pos < n ? in->len - in->pos : n;
		if (dst) {
			memcpy(dst, in->buf + in->pos, k);
			dst += k;
		}
		in->pos += k;
		n -= k;
	}
	return 0;
}

/* Blobs read, waiting for a worker. */
struct fast_item {
	git_oid id;
	char *data;
	size_t len;
};

struct fast {
	struct scan_engine *e;
	const char *gitdir;
	pthread_mutex_t lock;
	pthread_cond_t more, room;
	struct fast_item *q; /* ring */
	size_t qcap, qhead, qnr, qbytes;
	int reading_done;
	int ret;

	/* rev-list */
	const git_oid *tips;
	size_t ntips;
	git_oid *commits;
	size_t ncommits, acommits;
	struct blob_job *objs; /* every tree and blob, walk order; commit is an index into commits */
	size_t nobjs, aobjs;
	int revlist_ok;

	/* or the walk done here (fast_walk()): the trees the pack pass kept, the commits listed meanwhile */
	struct fast_tree *trees;
	size_t ntrees, atrees;
	struct oidset tree_at;  /* id -> index in trees */
	struct fast_tree *cbodies; /* and the commits */
	size_t ncbodies, acbodies;
	struct oidset commit_at;
	struct oidset shallow;  /* shallow_load() */
	git_oid *commit_trees;  /* each commit's root tree */
	int commits_ok;
	int gathered;           /* trees and commits moved here from the workers */
	atomic_size_t kept;     /* their bytes, while the pass keeps them */
	atomic_int dropped;     /* more than the budget: they are not kept, rev-list maps the blobs */
	size_t kept_max;
	int walked;             /* 0 not yet, 1 done, -1 not possible (fall back) */
};

struct fast_tree {
	git_oid id;
	char *data;
	size_t len;
};

#define FAST_QCAP 256
#define FAST_WALK_MAX_PACK ((uint64_t)256 << 20) /* packs above this: rev-list (the trees may not fit) */
#define FAST_WALK_MAX_KEPT ((size_t)512 << 20)   /* trees and commits kept above this: rev-list after all */
#define FAST_QBYTES (64u << 20)

/* A scanning thread of the fast path: its engine context and its records. */
#define FAST_KEEP_MAX ((size_t)32 << 20)

struct fast_worker {
	struct fast *f;         /* the pipe pass's queue */
	struct scan_engine *e;
	struct scan_ctx *ctx;
	struct scan_report r;   /* findings are only counted, then dropped */
	struct fast_recs recs;
	size_t kept;            /* bytes of the candidates kept (FAST_KEEP_MAX) */
	struct fast_tree *trees; /* the pack pass with an in-process walk: the trees read */
	size_t ntrees, atrees;
	struct fast_tree *commits; /* and the commits */
	size_t ncommits, acommits;
	int keep_trees;
	git_repository *repo;   /* the pack pass: loose objects */
	const git_oid *loose;
	int ret;
	char err[512];
};

/* Scan one blob without its path and record what it gave: 0 or a negative error (w->err set). */
static int fast_scan(struct fast_worker *w, const git_oid *id, const char *data, size_t len)
{
	struct scan_source src = { "", NULL, NULL, NULL, 0 };
	size_t nr = w->r.nr, allowed = w->r.allowed;
	int ret;

	if (scan_is_binary(data, len)) {
		fast_recs_add(&w->recs, id, len, FB_BINARY);
		return 0;
	}
	if ((ret = scan_ctx_scan(w->ctx, &w->r, &src, data, len, 0, len)) < 0) {
		snprintf(w->err, sizeof(w->err), "%s", mp_error_last());
		return ret;
	}
	fast_recs_add(&w->recs, id, len, w->r.nr > nr || w->r.allowed > allowed ? FB_CANDIDATE : FB_CLEAN);
	if (w->recs.v[w->recs.nr - 1].kind == FB_CANDIDATE && w->kept + len <= FAST_KEEP_MAX) {
		/* the second pass scans it again: keep it rather than have libgit2 read it (and its deltas) again */
		char *copy = xmalloc(len + 1);

		memcpy(copy, data, len);
		copy[len] = '\0';
		w->recs.v[w->recs.nr - 1].data = copy;
		w->kept += len;
	}
	for (size_t k = nr; k < w->r.nr; k++)
		release_finding(&w->r.findings[k]);
	w->r.nr = nr;
	return 0;
}

static void fast_worker_release(struct fast_worker *w)
{
	scan_ctx_free(w->ctx);
	scan_report_release(&w->r);
	fast_recs_release(&w->recs);
	for (size_t i = 0; i < w->ntrees; i++)
		free(w->trees[i].data);
	free(w->trees);
	for (size_t i = 0; i < w->ncommits; i++)
		free(w->commits[i].data);
	free(w->commits);
	memset(w, 0, sizeof(*w));
}

/* Thread: write `data` to `fd` (a child's stdin), then close it. */
struct fast_writer {
	int fd;
	struct strbuf data;
};

static void *fast_writer_main(void *arg)
{
	struct fast_writer *wr = arg;

	for (size_t off = 0; off < wr->data.len;) {
		ssize_t n = write(wr->fd, wr->data.buf + off, wr->data.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* it died: its exit status tells */
		off += (size_t)n;
	}
	close(wr->fd);
	return NULL;
}

static void *fast_worker_main(void *arg)
{
	struct fast_worker *w = arg;
	struct fast *f = w->f;

	for (;;) {
		struct fast_item it;

		pthread_mutex_lock(&f->lock);
		while (!f->qnr && !f->reading_done)
			pthread_cond_wait(&f->more, &f->lock);
		if (!f->qnr) {
			pthread_mutex_unlock(&f->lock);
			break;
		}
		it = f->q[f->qhead];
		f->qhead = (f->qhead + 1) % f->qcap;
		f->qnr--;
		f->qbytes -= it.len;
		pthread_cond_signal(&f->room);
		pthread_mutex_unlock(&f->lock);
		if (!w->ret)
			w->ret = fast_scan(w, &it.id, it.data, it.len);
		free(it.data);
	}
	return NULL;
}

/* Thread: run rev-list over the tips, listing commits and objects in walk order. */
static void *fast_revlist_main(void *arg)
{
	static const char *const args[] = { "rev-list", "--objects", "--in-commit-order", "--reverse", "--stdin", NULL };
	struct fast *f = arg;
	struct fast_in in = { -1, NULL, 0, 0, 0 };
	struct strbuf line = STRBUF_INIT, tips = STRBUF_INIT;
	int wfd = -1, bad = 0;
	pid_t pid;

	if ((pid = fast_spawn(&in.fd, &wfd, f->gitdir, args)) < 0)
		return NULL;
	for (size_t i = 0; i < f->ntips; i++) {
		strbuf_add(&tips, git_oid_tostr_s(&f->tips[i]), GIT_OID_HEXSZ);
		strbuf_addch(&tips, '\n');
	}
	/* rev-list reads all of its stdin before it writes */
	for (size_t off = 0; off < tips.len;) {
		ssize_t n = write(wfd, tips.buf + off, tips.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			bad = 1;
			break;
		}
		off += (size_t)n;
	}
	close(wfd);
	in.buf = xmalloc(1 << 20);
	while (!bad && fast_line(&in, &line)) {
		git_oid id;

		if (line.len < GIT_OID_HEXSZ || git_oid_fromstrn(&id, line.buf, GIT_OID_HEXSZ) < 0) {
			bad = 1;
		} else if (line.len == GIT_OID_HEXSZ) {
			f->commits = xgrow(f->commits, sizeof(*f->commits), f->ncommits + 1, &f->acommits);
			f->commits[f->ncommits++] = id;
		} else if (line.buf[GIT_OID_HEXSZ] != ' ' || !f->ncommits) {
			bad = 1;
		} else if (line.len > GIT_OID_HEXSZ + 1) { /* a root tree has no path */
			f->objs = xgrow(f->objs, sizeof(*f->objs), f->nobjs + 1, &f->aobjs);
			f->objs[f->nobjs] = (struct blob_job){ id, { { 0 } },
				xstrndup(line.buf + GIT_OID_HEXSZ + 1, line.len - GIT_OID_HEXSZ - 1), f->ncommits - 1, NULL, 0 };
			f->nobjs++;
		}
	}
	if (bad)
		while (fast_fill(&in)) /* let it finish */
			in.pos = in.len;
	close(in.fd);
	f->revlist_ok = fast_wait(pid) == 0 && !bad;
	free(in.buf);
	strbuf_release(&line);
	strbuf_release(&tips);
	return NULL;
}

/*
 * The repository's configuration value `key` into `v` (dispose it): 0, or
 * -1 when it is not set or cannot be read (`unreadable` then 1).
 */
static int fast_config(git_buf *v, git_repository *repo, const char *key, int *unreadable)
{
	git_config *cfg = NULL;
	int ret;

	*unreadable = git_repository_config_snapshot(&cfg, repo) < 0;
	ret = *unreadable ? -1 : git_config_get_string_buf(v, cfg, key) < 0 ? -1 : 0;
	git_config_free(cfg);
	git_error_clear();
	return ret;
}

/* Whether the repository is a partial clone (rev-list would fetch what is missing). */
static int fast_partial_clone(git_repository *repo)
{
	git_buf v = { 0 };
	int unreadable, partial = fast_config(&v, repo, "extensions.partialclone", &unreadable) == 0;

	git_buf_dispose(&v);
	return partial || unreadable;
}

/* Whether `path` in `commit` is the blob `id`. */
static int fast_path_ok(git_repository *repo, const git_oid *commit, const char *path, const git_oid *id)
{
	git_commit *c = NULL;
	git_tree *t = NULL;
	git_tree_entry *te = NULL;
	int ok = git_commit_lookup(&c, repo, commit) == 0 && git_commit_tree(&t, c) == 0 &&
		 git_tree_entry_bypath(&te, t, path) == 0 && !git_oid_cmp(git_tree_entry_id(te), id);

	git_error_clear();
	git_tree_entry_free(te);
	git_tree_free(t);
	git_commit_free(c);
	return ok;
}

/* Start a context per worker: 0 or a negative error. */
static int fast_workers_init(struct fast_worker *w, size_t nw, struct scan_engine *e)
{
	int ret = 0;

	for (size_t i = 0; i < nw && !ret; i++) {
		w[i].e = e;
		ret = scan_ctx_new(&w[i].ctx, e);
	}
	return ret;
}

/* Append the workers' records to `out`; the first worker error, if any. */
static int fast_workers_done(struct fast_recs *out, struct fast_worker *w, size_t nw)
{
	int ret = 0;

	for (size_t i = 0; i < nw; i++) {
		if (w[i].ret < 0 && !ret)
			ret = mp_error_set(w[i].ret, "%s", w[i].err[0] ? w[i].err : mp_error_last());
		for (size_t k = 0; k < w[i].recs.nr; k++) {
			fast_recs_add(out, &w[i].recs.v[k].id, w[i].recs.v[k].size, w[i].recs.v[k].kind);
			out->v[out->nr - 1].data = w[i].recs.v[k].data;
			w[i].recs.v[k].data = NULL;
		}
	}
	return ret;
}

/*
 * The blob pass through git: `git cat-file --batch-check` lists the
 * objects, `git cat-file --batch` streams the blobs to the workers.  1
 * with every object's record appended to `out`, 0 to fall back to the
 * walk, or a negative error.
 */
static int fast_pipe_pass(struct fast_recs *out, struct fast *f, struct history *h, size_t nw)
{
	static const char *const list_args[] = { "cat-file", "--batch-all-objects", "--unordered",
						 "--batch-check=%(objectname) %(objecttype) %(objectsize)", NULL };
	static const char *const args[] = { "cat-file", "--batch", NULL };
	struct fast_writer wr = { -1, STRBUF_INIT };
	pthread_t wt;
	int wt_started = 0;
	size_t nlisted = 0, nread = 0;
	struct fast_worker *w = xcalloc(nw, sizeof(*w));
	struct fast_recs mine = { 0 };
	pthread_t *tids = xcalloc(nw, sizeof(*tids));
	int cat_ok = 0, ret = 0, st;
	struct fast_in in = { -1, NULL, 0, 0, 0 };
	struct strbuf line = STRBUF_INIT;
	pid_t pid;

	f->qcap = FAST_QCAP;
	f->q = xcalloc(f->qcap, sizeof(*f->q));
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->more, NULL);
	pthread_cond_init(&f->room, NULL);
	if ((ret = fast_workers_init(w, nw, h->e)) < 0)
		goto cleanup;
	/* the blobs, in pack order: trees are not worth reading and piping (a quarter of the bytes) */
	if ((pid = fast_spawn(&in.fd, NULL, h->gitdir, list_args)) < 0)
		goto cleanup;
	in.buf = xmalloc(1 << 20);
	cat_ok = 1;
	while (fast_line(&in, &line)) {
		char *sp1 = memchr(line.buf, ' ', line.len), *sp2;
		git_oid id;
		size_t size;

		if (!sp1 || (size_t)(sp1 - line.buf) != GIT_OID_HEXSZ || git_oid_fromstrn(&id, line.buf, GIT_OID_HEXSZ) < 0 ||
		    !(sp2 = strchr(sp1 + 1, ' '))) {
			cat_ok = 0;
			break;
		}
		size = strtoull(sp2 + 1, NULL, 10);
		*sp2 = '\0';
		if (!strcmp(sp1 + 1, "tree")) {
			fast_recs_add(&mine, &id, size, FB_TREE);
		} else if (!strcmp(sp1 + 1, "blob")) {
			if (size > h->e->max_size) {
				fast_recs_add(&mine, &id, size, FB_TOO_BIG);
			} else {
				strbuf_add(&wr.data, line.buf, GIT_OID_HEXSZ);
				strbuf_addch(&wr.data, '\n');
				nlisted++;
			}
		}
	}
	while (fast_fill(&in)) /* let it finish */
		in.pos = in.len;
	close(in.fd);
	in.pos = in.len = 0;
	in.eof = 0;
	/*
	 * git exits 128 when it dies of a fatal error: listing the object
	 * store, that is damage to a pack or its index ("offset beyond end of
	 * packfile"), which the walk must not be asked to get through (libgit2
	 * 1.5 crashes on some of it).  A damaged object's content is another
	 * matter: the walk lists it as not scanned and scans the rest.
	 */
	if ((st = fast_wait(pid)) == 128) {
		ret = mp_error_set(MP_EGIT,
				   "git cannot list the objects of '%s' (git cat-file --batch-all-objects failed): "
				   "the repository is damaged, 'git fsck' says where",
				   h->gitdir);
		goto cleanup;
	}
	if (st || !cat_ok || (pid = fast_spawn(&in.fd, &wr.fd, h->gitdir, args)) < 0) {
		cat_ok = 0;
		goto cleanup;
	}
	wt_started = pthread_create(&wt, NULL, fast_writer_main, &wr) == 0;
	if (!wt_started)
		close(wr.fd);
	for (size_t i = 0; i < nw; i++) {
		w[i].f = f;
		if (pthread_create(&tids[i], NULL, fast_worker_main, &w[i]) != 0)
			tids[i] = 0;
	}
	cat_ok = wt_started;
	if (cat_ok)
		for (size_t i = 0, any = cat_ok = 0; i < nw; i++)
			cat_ok = any |= tids[i] != 0;
	while (cat_ok && fast_line(&in, &line)) {
		char *sp1 = memchr(line.buf, ' ', line.len), *sp2;
		git_oid id;
		size_t size;
		char *data;

		if (!sp1 || (size_t)(sp1 - line.buf) != GIT_OID_HEXSZ || git_oid_fromstrn(&id, line.buf, GIT_OID_HEXSZ) < 0 ||
		    !(sp2 = strchr(sp1 + 1, ' '))) {
			cat_ok = 0; /* "<id> missing", or not what we expect */
			break;
		}
		size = strtoull(sp2 + 1, NULL, 10);
		*sp2 = '\0';
		if (strcmp(sp1 + 1, "blob") || size > h->e->max_size) {
			cat_ok = 0;
			break;
		}
		data = xmalloc(size + 1);
		if (fast_bytes(&in, data, size + 1) < 0) {
			free(data);
			cat_ok = 0;
			break;
		}
		data[size] = '\0';
		pthread_mutex_lock(&f->lock);
		while (f->qnr == f->qcap || (f->qnr && f->qbytes + size > FAST_QBYTES))
			pthread_cond_wait(&f->room, &f->lock);
		f->q[(f->qhead + f->qnr) % f->qcap] = (struct fast_item){ id, data, size };
		f->qnr++;
		f->qbytes += size;
		pthread_cond_signal(&f->more);
		pthread_mutex_unlock(&f->lock);
		if (h->progress && !(++nread % 64))
			h->progress(nread, nlisted + 1, h->payload);
	}
	if (h->progress && nread)
		h->progress(nlisted, nlisted, h->payload); /* done: clears the line */
	while (fast_fill(&in)) /* let it finish */
		in.pos = in.len;
	close(in.fd);
	if (fast_wait(pid))
		cat_ok = 0; /* a damaged object: the walk lists it as not scanned and scans the rest */
	pthread_mutex_lock(&f->lock);
	f->reading_done = 1;
	pthread_cond_broadcast(&f->more);
	pthread_mutex_unlock(&f->lock);
	for (size_t i = 0; i < nw; i++) {
		if (!tids[i]) {
			cat_ok = 0;
			continue;
		}
		pthread_join(tids[i], NULL);
	}
	if (wt_started)
		pthread_join(wt, NULL);
	if ((ret = fast_workers_done(&mine, w, nw)) < 0 || !cat_ok)
		goto cleanup;
	for (size_t k = 0; k < mine.nr; k++) {
		fast_recs_add(out, &mine.v[k].id, mine.v[k].size, mine.v[k].kind);
		out->v[out->nr - 1].data = mine.v[k].data;
		mine.v[k].data = NULL;
	}
	ret = 1;
cleanup:
	for (size_t i = 0; i < f->qnr; i++)
		free(f->q[(f->qhead + i) % f->qcap].data);
	free(f->q);
	f->q = NULL;
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->more);
	pthread_cond_destroy(&f->room);
	for (size_t i = 0; i < nw; i++)
		fast_worker_release(&w[i]);
	free(w);
	free(tids);
	fast_recs_release(&mine);
	free(in.buf);
	strbuf_release(&line);
	strbuf_release(&wr.data);
	return ret;
}

/* pack_odb_scan() callbacks: a packed blob, a loose object. */
static int fast_pack_blob(void *payload, const unsigned char *raw, const char *data, size_t len)
{
	struct fast_worker *w = payload;
	git_oid id;

	git_oid_fromraw(&id, raw);
	if (!data || len > w->e->max_size) {
		fast_recs_add(&w->recs, &id, len, FB_TOO_BIG);
		return 0;
	}
	return fast_scan(w, &id, data, len);
}

static int fast_keep_ok(struct fast *f, size_t len);

static int fast_pack_loose(void *payload, size_t k)
{
	struct fast_worker *w = payload;
	const git_oid *id = &w->loose[k];
	git_object_t type = GIT_OBJECT_INVALID;
	char *data = NULL;
	size_t len = 0;
	int rc = loose_read(w->repo, id, w->e->max_size, &type, &data, &len), ret = 0;

	if (rc != LOOSE_READ && rc != LOOSE_TOO_BIG)
		return PACK_FALLBACK; /* damaged, or gone: git's reader and then the walk will say */
	if ((type == GIT_OBJECT_TREE || type == GIT_OBJECT_COMMIT) && w->keep_trees && !fast_keep_ok(w->f, len)) {
		if (type == GIT_OBJECT_TREE)
			fast_recs_add(&w->recs, id, len, FB_TREE);
	} else if (type == GIT_OBJECT_TREE && w->keep_trees) {
		if (rc == LOOSE_TOO_BIG && loose_read(w->repo, id, (size_t)-1, &type, &data, &len) != LOOSE_READ)
			return PACK_FALLBACK;
		w->trees = xgrow(w->trees, sizeof(*w->trees), w->ntrees + 1, &w->atrees);
		w->trees[w->ntrees++] = (struct fast_tree){ *id, data, len };
		data = NULL;
	} else if (type == GIT_OBJECT_COMMIT && w->keep_trees) {
		if (rc == LOOSE_TOO_BIG && loose_read(w->repo, id, (size_t)-1, &type, &data, &len) != LOOSE_READ)
			return PACK_FALLBACK;
		w->commits = xgrow(w->commits, sizeof(*w->commits), w->ncommits + 1, &w->acommits);
		w->commits[w->ncommits++] = (struct fast_tree){ *id, data, len };
		data = NULL;
	} else if (type == GIT_OBJECT_TREE)
		fast_recs_add(&w->recs, id, len, FB_TREE);
	else if (type == GIT_OBJECT_BLOB && rc == LOOSE_TOO_BIG)
		fast_recs_add(&w->recs, id, len, FB_TOO_BIG);
	else if (type == GIT_OBJECT_BLOB)
		ret = fast_scan(w, id, data, len);
	free(data);
	return ret;
}

static void fast_keep(struct fast_tree **v, size_t *nr, size_t *alloc, const unsigned char *raw, const char *data,
		      size_t len)
{
	struct fast_tree *t;

	*v = xgrow(*v, sizeof(**v), *nr + 1, alloc);
	t = &(*v)[(*nr)++];
	git_oid_fromraw(&t->id, raw);
	t->data = xmalloc(len + 1);
	memcpy(t->data, data, len);
	t->data[len] = '\0';
	t->len = len;
}

/* Whether `len` more bytes of trees and commits fit the budget (else they are no longer kept). */
static int fast_keep_ok(struct fast *f, size_t len)
{
	if (atomic_load(&f->dropped))
		return 0;
	if (atomic_fetch_add(&f->kept, len) + len > f->kept_max) {
		atomic_store(&f->dropped, 1);
		return 0;
	}
	return 1;
}

static int fast_pack_tree_data(void *payload, const unsigned char *raw, const char *data, size_t len)
{
	struct fast_worker *w = payload;

	if (fast_keep_ok(w->f, len))
		fast_keep(&w->trees, &w->ntrees, &w->atrees, raw, data, len);
	return 0;
}

static int fast_pack_commit_data(void *payload, const unsigned char *raw, const char *data, size_t len)
{
	struct fast_worker *w = payload;

	if (fast_keep_ok(w->f, len))
		fast_keep(&w->commits, &w->ncommits, &w->acommits, raw, data, len);
	return 0;
}

static void fast_pack_tree(void *payload, const unsigned char *raw)
{
	git_oid id;

	git_oid_fromraw(&id, raw);
	fast_recs_add(payload, &id, 0, FB_TREE);
}

/* Whether the repository's object format is SHA-1. */
static int fast_sha1(git_repository *repo)
{
	git_buf v = { 0 };
	int unreadable, sha1;

	if (fast_config(&v, repo, "extensions.objectformat", &unreadable) < 0)
		sha1 = !unreadable; /* not set: SHA-1 */
	else
		sha1 = !strcasecmp(v.ptr, "sha1");
	git_buf_dispose(&v);
	return sha1;
}

/*
 * Index the packs for the pack reader: 0 with `*out`, or 0 with `*out`
 * NULL (reason in `why`) when it cannot be used.
 */
static int fast_pack_open(struct pack_odb **out, git_repository *repo, char *why, size_t whylen)
{
	char *objdir = fs_join(git_repository_commondir(repo), "objects");

	*out = NULL;
	if (getenv("MESHPUSH_SCAN_NO_PACK") || getenv("GIT_OBJECT_DIRECTORY") ||
	    getenv("GIT_ALTERNATE_OBJECT_DIRECTORIES"))
		snprintf(why, whylen, "disabled, or objects elsewhere (environment)");
	else if (!fast_sha1(repo))
		snprintf(why, whylen, "not a SHA-1 repository");
	else if (pack_odb_open(out, objdir, why, whylen) != 0)
		*out = NULL;
	free(objdir);
	return 0;
}

/* Move the trees and commits the workers kept to `f`, indexed by id. */
static void fast_gather(struct fast *f, struct fast_worker *w, size_t nw)
{
	for (size_t i = 0; i < nw; i++) {
		for (size_t k = 0; k < w[i].ntrees; k++) {
			f->trees = xgrow(f->trees, sizeof(*f->trees), f->ntrees + 1, &f->atrees);
			f->trees[f->ntrees++] = w[i].trees[k];
		}
		w[i].ntrees = 0;
		for (size_t k = 0; k < w[i].ncommits; k++) {
			f->cbodies = xgrow(f->cbodies, sizeof(*f->cbodies), f->ncbodies + 1, &f->acbodies);
			f->cbodies[f->ncbodies++] = w[i].commits[k];
		}
		w[i].ncommits = 0;
	}
	oidset_reserve(&f->tree_at, f->ntrees);
	for (size_t i = 0; i < f->ntrees; i++)
		oidset_put(&f->tree_at, &f->trees[i].id, i, NULL);
	oidset_reserve(&f->commit_at, f->ncbodies);
	for (size_t i = 0; i < f->ncbodies; i++)
		oidset_put(&f->commit_at, &f->cbodies[i].id, i, NULL);
	f->gathered = 1;
}

static int fast_list_commits(struct fast *f);
static void *fast_commits_main(void *arg);
static int fast_walk(struct fast *f);

/* The commits listed (here, else by libgit2), then the walk over the trees: sets f->walked. */
static void fast_walk_all(struct fast *f)
{
	if (!fast_list_commits(f)) {
		if (getenv("MESHPUSH_SCAN_DEBUG"))
			fprintf(stderr, "debug: commits listed by libgit2\n");
		fast_commits_main(f);
	}
	f->walked = fast_walk(f) ? 1 : -1;
}

/*
 * The walk on its own thread, while the workers scan the blobs: it starts
 * when the pack reader says every tree and commit is in (pack_scan's
 * meta_done), and gives up when the pass ends first.
 */
struct fast_walker {
	struct fast *f;
	struct fast_worker *w;
	size_t nw;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int ready, over;
	double t0;
};

static void fast_meta_done(void *payload)
{
	struct fast_walker *wk = payload;

	pthread_mutex_lock(&wk->lock);
	wk->ready = 1;
	pthread_cond_signal(&wk->cond);
	pthread_mutex_unlock(&wk->lock);
}

static void *fast_walker_main(void *arg)
{
	struct fast_walker *wk = arg;
	int ready;

	pthread_mutex_lock(&wk->lock);
	while (!wk->ready && !wk->over)
		pthread_cond_wait(&wk->cond, &wk->lock);
	ready = wk->ready;
	pthread_mutex_unlock(&wk->lock);
	if (!ready || atomic_load(&wk->f->dropped))
		return NULL;
	fast_gather(wk->f, wk->w, wk->nw);
	fast_walk_all(wk->f);
	if (getenv("MESHPUSH_SCAN_DEBUG"))
		fprintf(stderr, "debug: walked during the pass, %.1f ms (%zu trees, %zu commits kept, %zu listed, %zu blobs)\n", now_ms() - wk->t0, wk->f->ntrees, wk->f->ncbodies, wk->f->ncommits, wk->f->nobjs);
	return NULL;
}

/*
 * The blob pass read here (src/scan/pack.c): every blob of the packs `o`
 * inflated once and scanned on `nw` threads, then the loose objects that
 * no pack holds; with `f` set, the trees are kept in f->trees for
 * fast_walk().  1 with every object's record appended to `out`, 0 when a
 * pack turned out damaged (fall back to git's reader), or a negative error.
 */
static int fast_pack_pass(struct fast_recs *out, struct fast *f, struct history *h, git_repository *repo,
			  size_t nw, struct pack_odb *o)
{
	char why[256] = "";
	struct pack_scan s;
	struct fast_worker *w = xcalloc(nw, sizeof(*w));
	void **payloads = xcalloc(nw, sizeof(*payloads));
	git_oid *loose = NULL, zero;
	size_t nloose = 0, aloose = 0;
	int ret = 0, wk_started = 0;
	double t0 = now_ms();
	struct fast_walker wk;
	pthread_t wkt;

	memset(&s, 0, sizeof(s));
	/* the loose objects no pack holds (listed once by is_loose()) */
	memset(&zero, 0, sizeof(zero));
	is_loose(repo, &zero);
	for (size_t i = 0; i < loose_cache.set.cap; i++)
		if (loose_cache.set.used[i] && !pack_odb_has(o, loose_cache.set.keys[i].id)) {
			loose = xgrow(loose, sizeof(*loose), nloose + 1, &aloose);
			loose[nloose++] = loose_cache.set.keys[i];
		}
	if ((ret = fast_workers_init(w, nw, h->e)) < 0)
		goto cleanup;
	for (size_t i = 0; i < nw; i++) {
		w[i].repo = repo;
		w[i].loose = loose;
		w[i].keep_trees = f != NULL;
		w[i].f = f; /* the budget of what is kept */
		payloads[i] = &w[i];
	}
	s.nthreads = nw;
	s.payloads = payloads;
	s.max_size = h->e->max_size;
	s.blob = fast_pack_blob;
	s.tree = f ? fast_pack_tree_data : NULL;
	s.commit = f ? fast_pack_commit_data : NULL;
	if (f && !nloose) { /* loose trees and commits come last: then the walk waits for the end */
		memset(&wk, 0, sizeof(wk));
		wk.f = f;
		wk.w = w;
		wk.nw = nw;
		wk.t0 = t0;
		pthread_mutex_init(&wk.lock, NULL);
		pthread_cond_init(&wk.cond, NULL);
		if ((wk_started = pthread_create(&wkt, NULL, fast_walker_main, &wk) == 0)) {
			s.meta_done = fast_meta_done;
			s.meta_payload = &wk;
		}
	}
	s.nextra = nloose;
	s.extra = fast_pack_loose;
	s.progress = h->progress;
	s.progress_payload = h->payload;
	ret = pack_odb_scan(o, &s);
	if (getenv("MESHPUSH_SCAN_DEBUG"))
		fprintf(stderr, "debug: packs scanned, %.1f ms\n", now_ms() - t0);
	if (wk_started) {
		pthread_mutex_lock(&wk.lock);
		wk.over = 1;
		pthread_cond_signal(&wk.cond);
		pthread_mutex_unlock(&wk.lock);
		pthread_join(wkt, NULL);
	}
	if (ret == PACK_FALLBACK) {
		snprintf(why, sizeof(why), "%s", s.why[0] ? s.why : "a loose object could not be read");
		ret = 0;
		goto cleanup;
	}
	if (ret < 0) {
		for (size_t i = 0; i < nw; i++)
			if (w[i].err[0]) {
				ret = mp_error_set(ret, "%s", w[i].err);
				break;
			}
		goto cleanup;
	}
	if ((ret = fast_workers_done(out, w, nw)) < 0)
		goto cleanup;
	if (f && atomic_load(&f->dropped)) {
		pack_odb_each_tree(o, fast_pack_tree, out); /* rev-list lists trees too */
	} else if (f) {
		if (!f->gathered)
			fast_gather(f, w, nw);
	} else {
		pack_odb_each_tree(o, fast_pack_tree, out);
	}
	ret = 1;
cleanup:
	if (!ret && getenv("MESHPUSH_SCAN_DEBUG"))
		fprintf(stderr, "debug: pack reader gave up: %s\n", why);
	if (wk_started) {
		pthread_mutex_destroy(&wk.lock);
		pthread_cond_destroy(&wk.cond);
	}
	for (size_t i = 0; i < nw; i++)
		fast_worker_release(&w[i]);
	free(w);
	free(payloads);
	free(loose);
	return ret;
}

/* Thread: list the commits as the walk does (oldest first), and each one's root tree. */
static void *fast_commits_main(void *arg)
{
	struct fast *f = arg;
	git_repository *repo = NULL;
	struct commit_list list = { 0 };

	if (git_repository_open_bare(&repo, f->gitdir) < 0 || list_commits(&list, repo, f->tips, f->ntips, NULL, 0) < 0)
		goto done;
	f->commit_trees = xcalloc(list.nr + 1, sizeof(*f->commit_trees));
	for (size_t i = 0; i < list.nr; i++) {
		git_commit *c = NULL;

		if (git_commit_lookup(&c, repo, &list.ids[i]) < 0)
			goto done;
		f->commit_trees[i] = *git_commit_tree_id(c);
		git_commit_free(c);
	}
	f->commits = list.ids;
	f->ncommits = list.nr;
	list.ids = NULL;
	f->commits_ok = 1;
done:
	git_error_clear();
	free(list.ids);
	git_repository_free(repo);
	return NULL;
}

/*
 * Commit `id` kept by the pack pass: its root tree, committer time and
 * parents (`*parents` malloc'd).  1, 0 when it is not there (missing: a
 * shallow clone's boundary), or -1 when it is not parsed here as libgit2
 * would (then libgit2 lists the commits).
 */
static int mem_commit(struct fast *f, const git_oid *id, git_oid *tree, git_time_t *when, git_oid **parents,
		      size_t *nparents)
{
	size_t k, n = 0, alloc = 0;
	const char *p, *end, *nl, *gt;
	char *stop;
	long long t;

	*parents = NULL;
	*nparents = 0;
	if (!oidset_get(&f->commit_at, id, &k))
		return 0;
	p = f->cbodies[k].data;
	end = p + f->cbodies[k].len;
	if ((size_t)(end - p) < 5 + GIT_OID_HEXSZ + 1 || memcmp(p, "tree ", 5) || p[5 + GIT_OID_HEXSZ] != '\n' ||
	    git_oid_fromstrn(tree, p + 5, GIT_OID_HEXSZ) < 0)
		return -1;
	p += 5 + GIT_OID_HEXSZ + 1;
	while ((size_t)(end - p) >= 7 + GIT_OID_HEXSZ + 1 && !memcmp(p, "parent ", 7)) {
		if (p[7 + GIT_OID_HEXSZ] != '\n')
			goto bad;
		*parents = xgrow(*parents, sizeof(**parents), n + 1, &alloc);
		if (git_oid_fromstrn(&(*parents)[n++], p + 7, GIT_OID_HEXSZ) < 0)
			goto bad;
		p += 7 + GIT_OID_HEXSZ + 1;
	}
	/* author, then committer: "committer Name <email> 1700000000 +0000" */
	if (!(nl = memchr(p, '\n', (size_t)(end - p))) || memcmp(p, "author ", 7))
		goto bad;
	p = nl + 1;
	if (!(nl = memchr(p, '\n', (size_t)(end - p))) || (size_t)(nl - p) < 10 || memcmp(p, "committer ", 10))
		goto bad;
	if (!(gt = memrchr(p, '>', (size_t)(nl - p))) || nl - gt < 3 || gt[1] != ' ' ||
	    !isdigit((unsigned char)gt[2]))
		goto bad;
	errno = 0;
	t = strtoll(gt + 2, &stop, 10);
	if (errno || stop > nl || (*stop != ' ' && stop != nl))
		goto bad;
	*when = (git_time_t)t;
	*nparents = n;
	return 1;
bad:
	free(*parents);
	*parents = NULL;
	return -1;
}

/* list_commits() over the commits kept in memory: 1, or 0 to ask libgit2. */
static int fast_list_commits(struct fast *f)
{
	struct oidset seen = { 0 };
	struct heap queue = { 0 };
	git_oid *listed = NULL, *trees = NULL, *parents = NULL, tree;
	size_t nlisted = 0, alisted = 0, atrees = 0, np, seq = 0;
	git_time_t when;
	int ok = 1, rc;

	oidset_reserve(&seen, f->ncbodies);
	/* as walk_add(): each commit queued once, by committer time; a missing one skipped */
	for (size_t i = 0; i < f->ntips && ok; i++)
		if (oidset_put(&seen, &f->tips[i], 0, NULL)) {
			if ((rc = mem_commit(f, &f->tips[i], &tree, &when, &parents, &np)) < 0)
				ok = 0;
			else if (rc)
				heap_push(&queue, (struct dated){ f->tips[i], when, seq++ });
			free(parents);
		}
	while (ok && queue.nr) {
		struct dated d = heap_pop(&queue);
		git_oid *ps = NULL;
		size_t nps;

		if (mem_commit(f, &d.id, &tree, &when, &ps, &nps) <= 0) {
			ok = 0;
			break;
		}
		listed = xgrow(listed, sizeof(*listed), nlisted + 1, &alisted);
		trees = xgrow(trees, sizeof(*trees), nlisted + 1, &atrees);
		listed[nlisted] = d.id;
		trees[nlisted++] = tree;
		for (size_t i = 0; i < nps && ok; i++)
			if (oidset_put(&seen, &ps[i], 0, NULL)) {
				/* missing: a shallow clone's boundary, else libgit2 says the repository is damaged */
				if ((rc = mem_commit(f, &ps[i], &tree, &when, &parents, &np)) < 0 ||
				    (!rc && !oidset_has(&f->shallow, &d.id)))
					ok = 0;
				else if (rc)
					heap_push(&queue, (struct dated){ ps[i], when, seq++ });
				free(parents);
			}
		free(ps);
	}
	if (ok) { /* oldest first */
		f->commits = xcalloc(nlisted + 1, sizeof(*f->commits));
		f->commit_trees = xcalloc(nlisted + 1, sizeof(*f->commit_trees));
		for (size_t i = 0; i < nlisted; i++) {
			f->commits[i] = listed[nlisted - 1 - i];
			f->commit_trees[i] = trees[nlisted - 1 - i];
		}
		f->ncommits = nlisted;
		f->commits_ok = 1;
	}
	free(listed);
	free(trees);
	free(queue.v);
	oidset_release(&seen);
	return ok;
}

/*
 * walk_tree() over the trees kept in memory: each new blob appended to
 * f->objs with its path and commit.  1, or 0 when a tree is missing or
 * damaged (the libgit2 walk will say so).
 */
static int fast_walk_tree(struct fast *f, struct oidset *trees, struct oidset *blobs, const git_oid *tree_id,
			  struct strbuf *prefix, size_t commit)
{
	size_t plen = prefix->len, k;
	const char *p, *end;

	if (!oidset_get(&f->tree_at, tree_id, &k))
		return 0;
	p = f->trees[k].data;
	end = p + f->trees[k].len;
	while (p < end) {
		const char *sp = p, *nul;
		unsigned mode = 0;
		const git_oid *idp;
		git_oid id;

		/* "<octal mode> <name>\0<20-byte id>"; the mode as walk_tree's strtoul() reads it */
		while (sp < end && *sp != ' ')
			mode = mode << 3 | (unsigned)((*sp++ - '0') & 7);
		if (sp == end || !(nul = memchr(sp, '\0', (size_t)(end - sp))) || (size_t)(end - nul) < 1 + GIT_OID_RAWSZ)
			return 0;
		idp = (const git_oid *)(nul + 1); /* a git_oid is its 20 bytes (SHA-1 only here) */
		p = nul + 1 + GIT_OID_RAWSZ;
		/* most entries were seen in an earlier commit: the path is only built for a new one */
		if ((mode & 0170000) == 040000) {
			if (oidset_has(trees, idp))
				continue;
		} else if ((mode & 0170000) == 0100000 || (mode & 0170000) == 0120000) {
			if (oidset_has(blobs, idp))
				continue;
		} else {
			continue; /* 0160000: a submodule's commit, not ours */
		}
		git_oid_cpy(&id, idp);
		oidset_put((mode & 0170000) == 040000 ? trees : blobs, &id, 0, NULL);
		strbuf_setlen_(prefix, plen);
		if (plen)
			strbuf_addch(prefix, '/');
		strbuf_add(prefix, sp + 1, (size_t)(nul - sp - 1));
		if ((mode & 0170000) == 040000) {
			if (!fast_walk_tree(f, trees, blobs, &id, prefix, commit))
				return 0;
		} else {
			f->objs = xgrow(f->objs, sizeof(*f->objs), f->nobjs + 1, &f->aobjs);
			f->objs[f->nobjs++] = (struct blob_job){ id, { { 0 } }, xstrndup(prefix->buf, prefix->len), commit,
								 NULL, 0 };
		}
	}
	strbuf_setlen_(prefix, plen);
	return 1;
}

/* What rev-list gives, from the kept trees: 1, or 0 to fall back to the libgit2 walk. */
static int fast_walk(struct fast *f)
{
	struct oidset trees = { 0 }, blobs = { 0 };
	struct strbuf prefix = STRBUF_INIT;
	int ok = f->commits_ok;

	oidset_reserve(&trees, f->ntrees);
	for (size_t i = 0; i < f->ncommits && ok; i++) {
		strbuf_reset(&prefix);
		if (oidset_put(&trees, &f->commit_trees[i], 0, NULL))
			ok = fast_walk_tree(f, &trees, &blobs, &f->commit_trees[i], &prefix, i);
	}
	strbuf_release(&prefix);
	oidset_release(&trees);
	oidset_release(&blobs);
	return ok;
}

/*
 * Fill h->jobs with the blobs to scan again (with their path) and account
 * for the others in `r`.  1 when done, 0 to fall back to the walk, or a
 * negative error.
 */
static int fast_collect(struct history *h, struct scan_report *r, git_repository *repo, const git_oid *tips,
			size_t ntips, size_t nw)
{
	struct fast f;
	struct fast_recs all = { 0 };
	struct oidset byid = { 0 };
	struct pack_odb *po = NULL;
	pthread_t rl;
	int rl_started, ret = 0, pass = 0, inproc, deferred;
	double t0 = now_ms();
	char why[256] = "";

	if (getenv("MESHPUSH_SCAN_NO_FAST") || fast_partial_clone(repo))
		return 0;
	memset(&f, 0, sizeof(f));
	f.e = h->e;
	f.gitdir = h->gitdir;
	f.tips = tips;
	f.ntips = ntips;
	shallow_load(&f.shallow, repo);
	fast_pack_open(&po, repo, why, sizeof(why));
	if (getenv("MESHPUSH_SCAN_DEBUG"))
	{
		if (po)
			fprintf(stderr, "debug: packs indexed, %.1f ms\n", now_ms() - t0);
		else
			fprintf(stderr, "debug: pack reader not used: %s\n", why);
	}
	/*
	 * With the pack reader, the trees are read with the blobs and walked
	 * here (the commits listed meanwhile): no rev-list process, and exact
	 * paths.  Not when the trees may not fit in memory.
	 */
	inproc = po && pack_odb_size(po) <= FAST_WALK_MAX_PACK && !getenv("MESHPUSH_SCAN_REVLIST");
	f.kept_max = getenv("MESHPUSH_SCAN_KEEP_MAX") ? (size_t)atoll(getenv("MESHPUSH_SCAN_KEEP_MAX")) : FAST_WALK_MAX_KEPT;
	rl_started = !inproc && pthread_create(&rl, NULL, fast_revlist_main, &f) == 0;
	/*
	 * Path rules: with exact paths from the in-memory walk, they are left
	 * out of the pass and the blobs they apply to are scanned again below;
	 * otherwise (rev-list cuts a path at a newline) every blob gets them.
	 */
	deferred = inproc && scan_has_path_rules(h->e);
	h->e->defer_path_rules = deferred;
	h->e->ignore_path_rules = !deferred;
	if (po)
		pass = fast_pack_pass(&all, inproc ? &f : NULL, h, repo, nw, po);
	h->e->defer_path_rules = 0;
	h->e->ignore_path_rules = 1;
	if (pass > 0 && deferred && atomic_load(&f.dropped)) {
		/* the pass ran without the path rules, and rev-list's paths are not exact: the walk does it all */
		if (getenv("MESHPUSH_SCAN_DEBUG"))
			fprintf(stderr, "debug: trees over %zu bytes after a pass without the path rules: no fast path\n",
				f.kept_max);
		goto cleanup;
	}
	if (getenv("MESHPUSH_SCAN_DEBUG"))
		fprintf(stderr, "debug: pack pass %s, %.1f ms\n", pass > 0 ? "done" : pass < 0 ? "failed" : "not used",
			now_ms() - t0);
	if (pass <= 0)
		deferred = 0; /* the pipe pass below applies them all */
	if ((!pass || (pass > 0 && atomic_load(&f.dropped))) && inproc) {
		/* git's reader, or trees too big to keep: rev-list after all (and nothing the walk may have done) */
		if (getenv("MESHPUSH_SCAN_DEBUG") && pass > 0)
			fprintf(stderr, "debug: trees and commits over %zu bytes: rev-list maps the blobs\n", f.kept_max);
		for (size_t i = 0; i < f.nobjs; i++)
			free(f.objs[i].path);
		f.nobjs = 0;
		free(f.commits);
		f.commits = NULL;
		f.ncommits = 0;
		inproc = 0;
		rl_started = pthread_create(&rl, NULL, fast_revlist_main, &f) == 0;
	}
	if (!pass)
		pass = fast_pipe_pass(&all, &f, h, nw);
	h->e->ignore_path_rules = 0;
	if (rl_started)
		pthread_join(rl, NULL);
	if (getenv("MESHPUSH_SCAN_DEBUG"))
		fprintf(stderr, "debug: blobs and %s, %.1f ms\n", inproc ? "commits" : "rev-list", now_ms() - t0);
	if (pass < 0) {
		ret = pass;
		goto cleanup;
	}
	if (pass > 0 && inproc && !f.walked)
		fast_walk_all(&f);
	if (!pass || (inproc ? f.walked != 1 : !rl_started || !f.revlist_ok))
		goto cleanup;
	if (getenv("MESHPUSH_SCAN_DEBUG") && inproc)
		fprintf(stderr, "debug: walked, %.1f ms\n", now_ms() - t0);
	/* every object's record by id (a hash: sorting them cost 5% of the CPU) */
	oidset_reserve(&byid, all.nr);
	for (size_t i = 0; i < all.nr; i++)
		oidset_put(&byid, &all.v[i].id, i, NULL);

	/*
	 * rev-list cuts a path at a newline: check the path of each blob that
	 * is reported by name (few), else let the walk do it all
	 */
	for (size_t i = 0; i < f.nobjs && !inproc; i++) {
		struct fast_rec *rec;
		size_t k;

		rec = oidset_get(&byid, &f.objs[i].id, &k) ? &all.v[k] : NULL;
		if ((!rec || rec->kind == FB_CANDIDATE || rec->kind == FB_TOO_BIG) &&
		    !fast_path_ok(repo, &f.commits[f.objs[i].index], f.objs[i].path, &f.objs[i].id))
			goto cleanup;
	}

	/* the reachable blobs, in walk order */
	for (size_t i = 0; i < f.nobjs; i++) {
		struct blob_job *o = &f.objs[i];
		struct fast_rec *rec;
		char commit[GIT_OID_HEXSZ + 1];
		size_t k;

		rec = oidset_get(&byid, &o->id, &k) ? &all.v[k] : NULL;
		if (rec && rec->kind == FB_TREE)
			continue;
		o->commit = f.commits[o->index];
		git_oid_tostr(commit, sizeof(commit), &o->commit);
		if (scan_path_allowed(h->e, o->path)) {
			scan_report_skip(r, o->path, 0, "allowed by scan.allow_paths");
			continue;
		}
		if (!rec || rec->kind == FB_CANDIDATE ||
		    (deferred && rec->kind == FB_CLEAN && scan_path_rules_match(h->e, o->path))) {
			/* scanned again with its path (or read through libgit2: not in the stream) */
			h->jobs = xgrow(h->jobs, sizeof(*h->jobs), h->nr + 1, &h->alloc);
			h->jobs[h->nr] = (struct blob_job){ o->id, o->commit, o->path, i, rec ? rec->data : NULL,
							    rec ? rec->size : 0 };
			o->path = NULL;
			if (rec)
				rec->data = NULL;
			h->nr++;
		} else if (rec->kind == FB_TOO_BIG) {
			scan_report_skip(r, o->path, 1, "larger than scan.max_size (%zu bytes, blob %.12s in commit %.12s)",
					 h->e->max_size, git_oid_tostr_s(&o->id), commit);
		} else if (rec->kind == FB_BINARY) {
			r->blobs++;
			scan_report_skip(r, o->path, 0, "binary file");
		} else {
			r->blobs++;
			r->files++;
			r->bytes += rec->size;
		}
	}
	h->ncommits = f.ncommits;
	ret = 1;
cleanup:
	h->e->ignore_path_rules = 0;
	for (size_t i = 0; i < f.nobjs; i++)
		free(f.objs[i].path);
	free(f.objs);
	free(f.commits);
	fast_recs_release(&all);
	oidset_release(&byid);
	for (size_t i = 0; i < f.ntrees; i++)
		free(f.trees[i].data);
	free(f.trees);
	for (size_t i = 0; i < f.ncbodies; i++)
		free(f.cbodies[i].data);
	free(f.cbodies);
	oidset_release(&f.commit_at);
	oidset_release(&f.shallow);
	free(f.commit_trees);
	oidset_release(&f.tree_at);
	pack_odb_free(po);
	return ret;
}

int scan_history(struct scan_engine *e, struct scan_report *r, git_repository *repo,
		 void (*progress)(size_t done, size_t total, void *), void *payload)
{
	struct history h;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nw = ncpu < 1 ? 1 : ncpu > 16 ? 16 : (size_t)ncpu, total = 0, k = 0;
	struct worker *w = NULL;
	pthread_t *tids = NULL;
	struct ordered *all = NULL;
	struct fp_set seen_fp = { NULL, 0, 0 };
	git_oid *tips = NULL;
	size_t ntips = 0;
	int ret, fast = 0;

	/* each tree and blob is read once: libgit2's object cache only costs (7% CPU) */
	git_libgit2_opts(GIT_OPT_ENABLE_CACHING, 0);
	if (getenv("MESHPUSH_SCAN_THREADS"))
		nw = (size_t)atoi(getenv("MESHPUSH_SCAN_THREADS")) ?: 1;
	memset(&h, 0, sizeof(h));
	h.e = e;
	h.gitdir = git_repository_path(repo);
	h.progress = progress;
	h.payload = payload;
	pthread_mutex_init(&h.lock, NULL);
	pthread_cond_init(&h.more, NULL);
	if ((ret = history_tips(&tips, &ntips, repo)) < 0)
		goto cleanup;
	if (ntips) {
		double t0 = now_ms();

		if ((ret = fast = fast_collect(&h, r, repo, tips, ntips, nw)) < 0)
			goto cleanup;
		if (getenv("MESHPUSH_SCAN_DEBUG"))
			fprintf(stderr, "debug: fast pass %s, %.1f ms, %zu blobs to scan again\n",
				fast ? "done" : "not possible", now_ms() - t0, h.nr);
	}
	w = xcalloc(nw, sizeof(*w));
	tids = xcalloc(nw, sizeof(*tids));
	for (size_t i = 0; i < nw; i++) {
		w[i].h = &h;
		w[i].first = i == 0;
		if (pthread_create(&tids[i], NULL, worker_main, &w[i]) != 0) {
			w[i].ret = mp_error_set(MP_EOS, "cannot start a thread");
			tids[i] = 0;
		}
	}
	{
		double t0 = now_ms();

		ret = fast ? 0 : collect_blobs(&h, repo, tips, ntips);
		if (!fast && getenv("MESHPUSH_SCAN_DEBUG"))
			fprintf(stderr, "debug: walk %.1f ms, %zu commits, %zu blobs\n", now_ms() - t0, h.ncommits, h.nr);
	}
	pthread_mutex_lock(&h.lock);
	h.walk_done = 1;
	if (ret < 0)
		h.next = h.nr; /* nothing more to do */
	pthread_cond_broadcast(&h.more);
	pthread_mutex_unlock(&h.lock);
	r->commits += h.ncommits;
	for (size_t i = 0; i < nw; i++) {
		if (tids[i])
			pthread_join(tids[i], NULL);
		if (w[i].ret < 0 && !ret)
			ret = mp_error_set(w[i].ret, "%s", w[i].err[0] ? w[i].err : mp_error_last());
		total += w[i].r.nr;
	}
	if (ret < 0)
		goto cleanup;
	/* findings in the order of the walk: oldest commit first, then path, line */
	all = xcalloc(total + 1, sizeof(*all));
	for (size_t i = 0; i < nw; i++)
		for (size_t j = 0; j < w[i].r.nr; j++) {
			all[k].job = w[i].finding_job[j];
			all[k++].f = w[i].r.findings[j];
		}
	qsort(all, total, sizeof(*all), cmp_ordered);
	/* a secret that stays in a file through many versions is reported once, where it first appears */
	r->findings = xgrow(r->findings, sizeof(*r->findings), r->nr + total, &r->alloc);
	for (size_t i = 0; i < total; i++) {
		if (fp_seen(&seen_fp, all[i].f.fingerprint)) {
			release_finding(&all[i].f);
			continue;
		}
		r->findings[r->nr++] = all[i].f;
	}
	fp_set_release(&seen_fp);
	for (size_t i = 0; i < nw; i++) {
		w[i].r.nr = 0; /* moved above */
		scan_report_merge(r, &w[i].r);
		scan_report_release(&w[i].r);
		free(w[i].finding_job);
	}
cleanup:
	for (size_t i = 0; i < h.nr; i++) {
		free(h.jobs[i].path);
		free(h.jobs[i].data);
	}
	free(h.jobs);
	if (ret < 0 && w)
		for (size_t i = 0; i < nw; i++) {
			scan_report_release(&w[i].r);
			free(w[i].finding_job);
		}
	pthread_mutex_destroy(&h.lock);
	pthread_cond_destroy(&h.more);
	free(all);
	free(w);
	free(tids);
	free(tips);
	return ret;
}
