/*
 * A pack reader for the history scan (see pack.h and docs/scanning.md,
 * History scans).
 *
 * Like `git index-pack`, the objects of each pack form a forest: roots are
 * the objects stored whole, children the deltas against them.  A delta's
 * type is its root's, so only the forests asked for are visited: blobs,
 * and for the in-memory walk trees and commits (first), never tags.  A
 * forest is visited depth first by one thread: the root inflated, handed
 * over, then each child's delta inflated and applied to its parent, handed
 * over, and so on down; a parent's buffer goes back to a small pool once
 * its last child is built (a chain of deltas holds two buffers).  Every
 * object is inflated exactly once, and threads take forests from a shared
 * counter.
 *
 * Nothing here is trusted: offsets, sizes and delta opcodes are checked
 * before use, and what does not add up makes the caller fall back to
 * git's own reader.
 */
#include "scan/pack.h"

#include "util/util.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define NONE UINT32_MAX
#define MAX_DEPTH 10000 /* git never writes chains longer than 4095 */
#define IDX_HEADER (8 + 256 * 4)

/* ---- headers and deltas ---- */

int pack_obj_header_parse(struct pack_obj_header *out, const unsigned char *p, size_t avail, uint64_t offset)
{
	size_t i = 0;
	unsigned shift = 4;
	unsigned char c;

	memset(out, 0, sizeof(*out));
	if (!avail)
		return -1;
	c = p[i++];
	out->type = (c >> 4) & 7;
	out->size = c & 15;
	while (c & 0x80) {
		if (i >= avail || shift > 57)
			return -1;
		c = p[i++];
		out->size |= (uint64_t)(c & 0x7f) << shift;
		shift += 7;
	}
	switch (out->type) {
	case PACK_COMMIT:
	case PACK_TREE:
	case PACK_BLOB:
	case PACK_TAG:
		break;
	case PACK_OFS_DELTA: {
		uint64_t ofs;

		if (i >= avail)
			return -1;
		c = p[i++];
		ofs = c & 0x7f;
		while (c & 0x80) {
			if (i >= avail || ofs > (UINT64_MAX >> 7) - 1)
				return -1;
			c = p[i++];
			ofs = ((ofs + 1) << 7) | (c & 0x7f);
		}
		if (!ofs || ofs >= offset) /* itself, or at or before the pack header */
			return -1;
		out->base_offset = offset - ofs;
		break;
	}
	case PACK_REF_DELTA:
		if (avail - i < PACK_OID_RAWSZ)
			return -1;
		out->base_id = p + i;
		i += PACK_OID_RAWSZ;
		break;
	default:
		return -1;
	}
	out->len = i;
	return 0;
}

static int delta_varint(uint64_t *out, const unsigned char **p, const unsigned char *end)
{
	uint64_t v = 0;
	unsigned shift = 0;
	unsigned char c;

	do {
		if (*p >= end || shift > 63)
			return -1;
		c = *(*p)++;
		if (shift == 63 && (c & 0x7e))
			return -1;
		v |= (uint64_t)(c & 0x7f) << shift;
		shift += 7;
	} while (c & 0x80);
	*out = v;
	return 0;
}

int pack_delta_sizes(uint64_t *base_size, uint64_t *result_size, size_t *hdrlen, const unsigned char *delta,
		     size_t len)
{
	const unsigned char *p = delta, *end = delta + len;

	if (delta_varint(base_size, &p, end) < 0 || delta_varint(result_size, &p, end) < 0)
		return -1;
	*hdrlen = (size_t)(p - delta);
	return 0;
}

/*
 * One opcode at `*p`: a copy of `*size` bytes from `*off` of the base
 * (`*copy` 1), or an insert of `*size` bytes at *p after the call.
 */
static int delta_op(const unsigned char **p, const unsigned char *end, int *copy, uint64_t *off, uint64_t *size)
{
	unsigned char cmd = *(*p)++;

	if (cmd & 0x80) {
		uint64_t o = 0, s = 0;

		for (unsigned b = 0; b < 4; b++)
			if (cmd & (1u << b)) {
				if (*p >= end)
					return -1;
				o |= (uint64_t)*(*p)++ << (8 * b);
			}
		for (unsigned b = 0; b < 3; b++)
			if (cmd & (0x10u << b)) {
				if (*p >= end)
					return -1;
				s |= (uint64_t)*(*p)++ << (8 * b);
			}
		*copy = 1;
		*off = o;
		*size = s ? s : 0x10000;
		return 0;
	}
	if (!cmd)
		return -1; /* reserved */
	if ((size_t)(end - *p) < cmd)
		return -1;
	*copy = 0;
	*off = 0;
	*size = cmd;
	return 0;
}

/* Whether the opcodes after the header copy within the base and make exactly `out_size` bytes. */
static int delta_check(const unsigned char *p, const unsigned char *end, uint64_t base_size, uint64_t out_size)
{
	uint64_t off, size, total = 0;
	int copy;

	while (p < end) {
		if (delta_op(&p, end, &copy, &off, &size) < 0)
			return -1;
		if (copy && (off > base_size || size > base_size - off))
			return -1;
		if (!copy)
			p += size;
		if (size > out_size - total)
			return -1;
		total += size;
	}
	return total == out_size ? 0 : -1;
}

/* Apply the opcodes that delta_check() accepted. */
static void delta_copy(unsigned char *out, const unsigned char *base, const unsigned char *p, const unsigned char *end)
{
	uint64_t off, size;
	int copy;

	while (p < end) {
		delta_op(&p, end, &copy, &off, &size);
		if (copy) {
			memcpy(out, base + off, size);
		} else {
			memcpy(out, p, size);
			p += size;
		}
		out += size;
	}
}

int pack_delta_apply(unsigned char *out, size_t out_size, const unsigned char *base, size_t base_size,
		     const unsigned char *delta, size_t len)
{
	uint64_t bsize, rsize;
	size_t hdr;

	if (pack_delta_sizes(&bsize, &rsize, &hdr, delta, len) < 0 || bsize != base_size || rsize != out_size ||
	    delta_check(delta + hdr, delta + len, base_size, out_size) < 0)
		return -1;
	delta_copy(out, base, delta + hdr, delta + len);
	return 0;
}

/* ---- the packs of an object directory ---- */

struct pack {
	char *name;                /* pack-<hash>.pack, for messages */
	const unsigned char *idx;  /* mapped .idx */
	size_t idx_len;
	const unsigned char *data; /* mapped .pack */
	size_t len;
	uint32_t nr;
	const unsigned char *fanout, *ids, *off32, *off64;
	size_t nr64;
	uint32_t first; /* its first object in odb->objs; its objects follow in offset order */
	uint32_t *at;   /* idx position -> odb->objs index */
};

enum { F_OWNER = 1, F_NEED = 2 };

struct pobj {
	uint64_t off;
	uint64_t size; /* from the header: of the delta itself for a delta */
	uint32_t base; /* odb->objs index of its base, or NONE */
	uint32_t nth;  /* position in its pack's idx: its id */
	uint16_t pack;
	uint8_t kind; /* as stored: 1-4, 6, 7 */
	uint8_t type; /* resolved: 1-4 */
	uint8_t hdr;  /* header length */
	uint8_t flags;
};

struct pack_odb {
	struct pack *packs;
	size_t npacks;
	struct pobj *objs;
	uint32_t nobjs;
	uint32_t *kids_at, *kids; /* the needed children of object i: kids[kids_at[i] .. kids_at[i + 1]) */
	uint32_t *roots;          /* needed blob roots */
	size_t nroots, nwanted; /* nwanted: blobs handed over */
	size_t nmeta;           /* roots[0 .. nmeta): trees and commits */
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int say(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return PACK_FALLBACK;
}

static const unsigned char *map_file(size_t *len, const char *path)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || (uint64_t)st.st_size > SIZE_MAX) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	*len = (size_t)st.st_size;
	return p;
}

/* The position of `id` in pack `p`'s idx, or NONE. */
static uint32_t idx_find(const struct pack *p, const unsigned char *id)
{
	uint32_t lo = id[0] ? be32(p->fanout + 4 * (id[0] - 1)) : 0, hi = be32(p->fanout + 4 * id[0]);

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = memcmp(p->ids + (size_t)mid * PACK_OID_RAWSZ, id, PACK_OID_RAWSZ);

		if (!c)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NONE;
}

/* Map and check pack `name` (without .idx) of `dir`: 0, or PACK_FALLBACK. */
static int pack_load(struct pack *p, const char *dir, const char *base, char *why, size_t whylen)
{
	char *path = xasprintf("%s/%s.idx", dir, base);
	uint64_t need;
	int ret = PACK_FALLBACK;

	p->name = xasprintf("%s.pack", base);
	if (!(p->idx = map_file(&p->idx_len, path))) {
		say(why, whylen, "cannot map '%s'", path);
		goto cleanup;
	}
	if (p->idx_len < IDX_HEADER + 40 || memcmp(p->idx, "\377tOc", 4) || be32(p->idx + 4) != 2) {
		say(why, whylen, "'%s' is not a version 2 pack index", path);
		goto cleanup;
	}
	p->fanout = p->idx + 8;
	for (int i = 1; i < 256; i++)
		if (be32(p->fanout + 4 * i) < be32(p->fanout + 4 * (i - 1))) {
			say(why, whylen, "'%s' is damaged (fan-out)", path);
			goto cleanup;
		}
	p->nr = be32(p->fanout + 4 * 255);
	need = IDX_HEADER + (uint64_t)p->nr * (PACK_OID_RAWSZ + 8) + 40;
	if (p->idx_len < need || (p->idx_len - need) % 8) {
		say(why, whylen, "'%s' has a size that does not fit its %u objects (SHA-256?)", path, p->nr);
		goto cleanup;
	}
	p->ids = p->idx + IDX_HEADER;
	p->off32 = p->ids + (size_t)p->nr * (PACK_OID_RAWSZ + 4); /* after the ids and the CRCs */
	p->off64 = p->off32 + (size_t)p->nr * 4;
	p->nr64 = (p->idx_len - need) / 8;
	for (uint32_t i = 1; i < p->nr; i++)
		if (memcmp(p->ids + (size_t)(i - 1) * PACK_OID_RAWSZ, p->ids + (size_t)i * PACK_OID_RAWSZ,
			   PACK_OID_RAWSZ) >= 0) {
			say(why, whylen, "'%s' is damaged (ids out of order)", path);
			goto cleanup;
		}
	free(path);
	path = xasprintf("%s/%s.pack", dir, base);
	if (!(p->data = map_file(&p->len, path))) {
		say(why, whylen, "cannot map '%s'", path);
		goto cleanup;
	}
	if (p->len < 12 + PACK_OID_RAWSZ || memcmp(p->data, "PACK", 4) ||
	    (be32(p->data + 4) != 2 && be32(p->data + 4) != 3) || be32(p->data + 8) != p->nr ||
	    memcmp(p->data + p->len - PACK_OID_RAWSZ, p->idx + p->idx_len - 40, PACK_OID_RAWSZ)) {
		say(why, whylen, "'%s' does not match its index, or is damaged", path);
		goto cleanup;
	}
	ret = 0;
cleanup:
	free(path);
	return ret;
}

static uint64_t pack_offset(const struct pack *p, uint32_t nth, int *bad)
{
	uint32_t o = be32(p->off32 + 4 * (size_t)nth);
	const unsigned char *q;

	if (!(o & 0x80000000u))
		return o;
	o &= 0x7fffffffu;
	if (o >= p->nr64) {
		*bad = 1;
		return 0;
	}
	q = p->off64 + 8 * (size_t)o;
	return (uint64_t)be32(q) << 32 | be32(q + 4);
}

static int cmp_off(const void *a, const void *b)
{
	const struct pobj *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* Sort `n` keys (none above `top`'s highest bit) with an LSD radix sort, 11 bits a pass. */
static void radix_sort(uint64_t *v, size_t n, uint64_t top)
{
	uint64_t *tmp = xmalloc((n + 1) * sizeof(*tmp)), *src = v, *dst = tmp;
	size_t count[2048];

	for (unsigned shift = 0; shift < 64 && (top >> shift); shift += 11) {
		size_t sum = 0;

		memset(count, 0, sizeof(count));
		for (size_t i = 0; i < n; i++)
			count[(src[i] >> shift) & 2047]++;
		for (size_t d = 0; d < 2048; d++) {
			size_t c = count[d];

			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[(src[i] >> shift) & 2047]++] = src[i];
		src = dst;
		dst = src == v ? tmp : v;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
	free(tmp);
}

/* The object of pack `p` at `off`, or NONE. */
static uint32_t find_offset(const struct pack_odb *o, const struct pack *p, uint64_t off)
{
	uint32_t lo = p->first, hi = p->first + p->nr;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (o->objs[mid].off == off)
			return mid;
		if (o->objs[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NONE;
}

/* Where object i's data ends: the next object, or the pack's trailer. */
static uint64_t obj_end(const struct pack_odb *o, uint32_t i)
{
	const struct pack *p = &o->packs[o->objs[i].pack];

	return i + 1 < p->first + p->nr ? o->objs[i + 1].off : p->len - PACK_OID_RAWSZ;
}

static const unsigned char *obj_id(const struct pack_odb *o, uint32_t i)
{
	return o->packs[o->objs[i].pack].ids + (size_t)o->objs[i].nth * PACK_OID_RAWSZ;
}

/* The objects of pack `pi`, in offset order, headers parsed: 0, or PACK_FALLBACK. */
static int pack_objects(struct pack_odb *o, size_t pi, char *why, size_t whylen)
{
	struct pack *p = &o->packs[pi];
	struct pobj *objs = o->objs + p->first;
	int bad = 0;

	uint64_t *keys = xmalloc(((size_t)p->nr + 1) * sizeof(*keys)), top = 0;

	for (uint32_t k = 0; k < p->nr; k++) {
		uint64_t off = pack_offset(p, k, &bad);

		if (bad || off >= p->len) {
			free(keys);
			return say(why, whylen, "'%s': its index has a bad offset", p->name);
		}
		keys[k] = off;
		top |= off;
	}
	if (p->len < ((uint64_t)1 << 40) && p->nr < (1u << 24)) {
		/* offsets below 2^40, positions below 2^24: one 64-bit key each, radix-sorted */
		for (uint32_t k = 0; k < p->nr; k++)
			keys[k] = keys[k] << 24 | k;
		radix_sort(keys, p->nr, top << 24 | 0xffffff);
		for (uint32_t k = 0; k < p->nr; k++)
			objs[k] = (struct pobj){ keys[k] >> 24, 0, NONE, (uint32_t)(keys[k] & 0xffffff), (uint16_t)pi, 0, 0, 0, 0 };
	} else {
		for (uint32_t k = 0; k < p->nr; k++)
			objs[k] = (struct pobj){ keys[k], 0, NONE, k, (uint16_t)pi, 0, 0, 0, 0 };
		qsort(objs, p->nr, sizeof(*objs), cmp_off);
	}
	free(keys);
	p->at = xmalloc(((size_t)p->nr + 1) * sizeof(*p->at));
	for (uint32_t k = 0; k < p->nr; k++) {
		struct pack_obj_header h;
		uint32_t i = p->first + k;
		uint64_t end = obj_end(o, i);

		if (objs[k].off < 12 || objs[k].off >= end || end > p->len - PACK_OID_RAWSZ)
			return say(why, whylen, "'%s': its index has a bad offset", p->name);
		if (pack_obj_header_parse(&h, p->data + objs[k].off, (size_t)(end - objs[k].off), objs[k].off) < 0 ||
		    h.len >= end - objs[k].off)
			return say(why, whylen, "'%s': the object at offset %llu is damaged", p->name,
				   (unsigned long long)objs[k].off);
		objs[k].kind = (uint8_t)h.type;
		objs[k].type = h.type <= PACK_TAG ? (uint8_t)h.type : 0;
		objs[k].size = h.size;
		objs[k].hdr = (uint8_t)h.len;
		p->at[objs[k].nth] = i;
		if (h.type == PACK_OFS_DELTA) {
			objs[k].base = find_offset(o, p, h.base_offset);
			if (objs[k].base == NONE)
				return say(why, whylen, "'%s': the delta at offset %llu has no base", p->name,
					   (unsigned long long)objs[k].off);
		}
	}
	for (uint32_t k = 0; k < p->nr; k++) {
		if (objs[k].kind != PACK_REF_DELTA)
			continue;
		{
			struct pack_obj_header h;
			uint32_t i = p->first + k, nth;

			pack_obj_header_parse(&h, p->data + objs[k].off, (size_t)(obj_end(o, i) - objs[k].off), objs[k].off);
			if ((nth = idx_find(p, h.base_id)) == NONE)
				return say(why, whylen, "'%s': the delta at offset %llu has its base in another pack",
					   p->name, (unsigned long long)objs[k].off);
			objs[k].base = p->at[nth];
		}
	}
	return 0;
}

/* Each delta's type: its root's.  0, or PACK_FALLBACK (a cycle, a chain too long). */
static int resolve_types(struct pack_odb *o, char *why, size_t whylen)
{
	uint32_t *chain = NULL;
	size_t alloc = 0;
	int ret = 0;

	for (uint32_t i = 0; i < o->nobjs; i++) {
		size_t n = 0;
		uint32_t j = i;
		uint8_t t;

		while (!o->objs[j].type) {
			if (n >= MAX_DEPTH) {
				ret = say(why, whylen, "'%s': a delta chain is too long or loops",
					  o->packs[o->objs[i].pack].name);
				goto cleanup;
			}
			chain = xgrow(chain, sizeof(*chain), n + 1, &alloc);
			chain[n++] = j;
			o->objs[j].type = 0xff; /* on the current chain */
			j = o->objs[j].base;
		}
		t = o->objs[j].type;
		if (t == 0xff) {
			ret = say(why, whylen, "'%s': deltas form a loop", o->packs[o->objs[i].pack].name);
			goto cleanup;
		}
		while (n)
			o->objs[chain[--n]].type = t;
	}
cleanup:
	free(chain);
	return ret;
}

/* Which blobs are scanned (the first copy of each id), which objects are inflated, the forests. */
static void plan(struct pack_odb *o, int trees, int commits)
{
	for (uint32_t i = 0; i < o->nobjs; i++) {
		struct pobj *ob = &o->objs[i];
		const unsigned char *id = obj_id(o, i);
		int dup = 0; /* an idx holds each id once (checked) */

		if (ob->type != PACK_BLOB && !(trees && ob->type == PACK_TREE) && !(commits && ob->type == PACK_COMMIT))
			continue;
		for (size_t q = 0; q < ob->pack && !dup; q++)
			dup = idx_find(&o->packs[q], id) != NONE;
		if (dup)
			continue;
		ob->flags |= F_OWNER;
		o->nwanted += ob->type == PACK_BLOB; /* progress counts blobs */
		for (uint32_t j = i; j != NONE && !(o->objs[j].flags & F_NEED); j = o->objs[j].base)
			o->objs[j].flags |= F_NEED;
	}
	o->kids_at = xcalloc((size_t)o->nobjs + 1, sizeof(*o->kids_at));
	for (uint32_t i = 0; i < o->nobjs; i++)
		if ((o->objs[i].flags & F_NEED) && o->objs[i].base != NONE)
			o->kids_at[o->objs[i].base + 1]++;
	for (uint32_t i = 0; i < o->nobjs; i++)
		o->kids_at[i + 1] += o->kids_at[i];
	o->kids = xmalloc(((size_t)o->kids_at[o->nobjs] + 1) * sizeof(*o->kids));
	{
		uint32_t *fill = xmalloc(((size_t)o->nobjs + 1) * sizeof(*fill));

		memcpy(fill, o->kids_at, (size_t)o->nobjs * sizeof(*fill));
		for (uint32_t i = 0; i < o->nobjs; i++)
			if ((o->objs[i].flags & F_NEED) && o->objs[i].base != NONE)
				o->kids[fill[o->objs[i].base]++] = i;
		free(fill);
	}
	/* trees and commits first: the walk can start while the blobs are scanned */
	o->roots = xmalloc(((size_t)o->nobjs + 1) * sizeof(*o->roots));
	for (uint32_t i = 0; i < o->nobjs; i++)
		if ((o->objs[i].flags & F_NEED) && o->objs[i].base == NONE && o->objs[i].type != PACK_BLOB)
			o->roots[o->nroots++] = i;
	o->nmeta = o->nroots;
	for (uint32_t i = 0; i < o->nobjs; i++)
		if ((o->objs[i].flags & F_NEED) && o->objs[i].base == NONE && o->objs[i].type == PACK_BLOB)
			o->roots[o->nroots++] = i;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int pack_odb_open(struct pack_odb **out, const char *objdir, char *why, size_t whylen)
{
	struct pack_odb *o = xcalloc(1, sizeof(*o));
	char *dir = xasprintf("%s/pack", objdir), *alt = xasprintf("%s/info/alternates", objdir);
	struct strlist names = STRLIST_INIT;
	DIR *d = NULL;
	struct dirent *de;
	uint64_t total = 0;
	int ret = 0;

	*out = NULL;
	if (access(alt, F_OK) == 0) {
		ret = say(why, whylen, "the repository borrows objects (objects/info/alternates)");
		goto cleanup;
	}
	if (!(d = opendir(dir))) {
		if (errno != ENOENT) { /* packs not listed are not "no packs" */
			ret = say(why, whylen, "cannot list '%s': %s", dir, strerror(errno));
			goto cleanup;
		}
	} else {
		for (errno = 0; (de = readdir(d)); errno = 0) {
			size_t n = strlen(de->d_name);

			if (starts_with(de->d_name, "pack-") && ends_with(de->d_name, ".promisor")) {
				ret = say(why, whylen, "'%s': a promisor pack (partial clone)", de->d_name);
				goto cleanup;
			}
			if (starts_with(de->d_name, "pack-") && ends_with(de->d_name, ".idx"))
				strlist_push_nodup(&names, xstrndup(de->d_name, n - 4));
		}
		if (errno) {
			ret = say(why, whylen, "cannot list '%s': %s", dir, strerror(errno));
			goto cleanup;
		}
	}
	if (names.nr)
		qsort(names.items, names.nr, sizeof(*names.items), cmp_name);
	if (names.nr > UINT16_MAX) {
		ret = say(why, whylen, "too many packs (%zu)", names.nr);
		goto cleanup;
	}
	o->packs = xcalloc(names.nr + 1, sizeof(*o->packs));
	for (size_t i = 0; i < names.nr; i++) {
		o->npacks++;
		if ((ret = pack_load(&o->packs[i], dir, names.items[i], why, whylen)))
			goto cleanup;
		o->packs[i].first = (uint32_t)total;
		total += o->packs[i].nr;
		if (total >= NONE) {
			ret = say(why, whylen, "too many objects");
			goto cleanup;
		}
	}
	o->nobjs = (uint32_t)total;
	o->objs = xcalloc(total + 1, sizeof(*o->objs));
	for (size_t i = 0; i < o->npacks; i++)
		if ((ret = pack_objects(o, i, why, whylen)))
			goto cleanup;
	if ((ret = resolve_types(o, why, whylen)))
		goto cleanup;
	*out = o;
	o = NULL;
cleanup:
	if (d)
		closedir(d);
	strlist_release(&names);
	pack_odb_free(o);
	free(dir);
	free(alt);
	return ret;
}

void pack_odb_free(struct pack_odb *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->npacks; i++) {
		struct pack *p = &o->packs[i];

		if (p->idx)
			munmap((void *)p->idx, p->idx_len);
		if (p->data)
			munmap((void *)p->data, p->len);
		free(p->at);
		free(p->name);
	}
	free(o->packs);
	free(o->objs);
	free(o->kids_at);
	free(o->kids);
	free(o->roots);
	free(o);
}

uint64_t pack_odb_size(const struct pack_odb *o)
{
	uint64_t n = 0;

	for (size_t i = 0; i < o->npacks; i++)
		n += o->packs[i].len;
	return n;
}

int pack_odb_has(const struct pack_odb *o, const unsigned char *id)
{
	for (size_t q = 0; q < o->npacks; q++)
		if (idx_find(&o->packs[q], id) != NONE)
			return 1;
	return 0;
}

void pack_odb_each_tree(const struct pack_odb *o, void (*fn)(void *payload, const unsigned char *id), void *payload)
{
	for (uint32_t i = 0; i < o->nobjs; i++)
		if (o->objs[i].type == PACK_TREE)
			fn(payload, obj_id(o, i)); /* a tree in two packs comes twice: harmless */
}

/* ---- the scan ---- */

struct scan_shared {
	struct pack_odb *o;
	struct pack_scan *s;
	atomic_size_t next_root, next_extra, done, meta_left;
	atomic_int stop;
	pthread_mutex_t lock;
	int ret; /* the first error or PACK_FALLBACK, under lock */
};

struct buf {
	unsigned char *p;
	size_t cap;
};

struct frame {
	uint32_t obj, next; /* its next child: o->kids[next] */
	size_t len;
	struct buf b;       /* its bytes */
};

struct libdeflate_decompressor;

struct scan_worker {
	struct scan_shared *sh;
	size_t index;
	z_stream zs;
	int zinit;
	struct libdeflate_decompressor *ld; /* or zlib's zs */
	struct buf *pool; /* buffers not in use */
	size_t npool, apool;
	size_t held;      /* bytes of the buffers of the frames */
	struct buf delta;
	struct frame *stack;
	size_t stack_alloc;
	size_t nroots;   /* forests visited (MESHPUSH_SCAN_DEBUG) */
	double busy_ms;
	size_t max_held, max_depth; /* (MESHPUSH_SCAN_DEBUG) */
};

static void fail(struct scan_shared *sh, int ret, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(struct scan_shared *sh, int ret, const char *fmt, ...)
{
	pthread_mutex_lock(&sh->lock);
	if (!sh->ret) {
		sh->ret = ret;
		if (fmt) {
			va_list ap;

			va_start(ap, fmt);
			vsnprintf(sh->s->why, sizeof(sh->s->why), fmt, ap);
			va_end(ap);
		}
	}
	pthread_mutex_unlock(&sh->lock);
	atomic_store(&sh->stop, 1);
}

/*
 * `b` with room for `n` bytes.  A quarter more than asked: the versions of
 * a file grow a little at each edit, and a buffer replaced at every delta
 * of a chain is a fresh mapping faulted in page by page each time.
 */
static unsigned char *buf_get(struct buf *b, size_t n)
{
	if (b->cap < n) {
		free(b->p);
		b->cap = n < 65536 ? 65536 : n <= SIZE_MAX / 5 * 4 ? n + n / 4 : n;
		b->p = xmalloc(b->cap);
	}
	return b->p;
}

/* A buffer of at least `n` bytes from the pool (the smallest that fits, else the largest, grown). */
static struct buf pool_get(struct scan_worker *w, size_t n)
{
	size_t best = SIZE_MAX;
	struct buf b;

	for (size_t i = 0; i < w->npool; i++)
		if (best == SIZE_MAX || (w->pool[i].cap >= n ? w->pool[best].cap < n || w->pool[i].cap < w->pool[best].cap
							      : w->pool[best].cap < n && w->pool[i].cap > w->pool[best].cap))
			best = i;
	if (best == SIZE_MAX) {
		b.p = NULL;
		b.cap = 0;
	} else {
		b = w->pool[best];
		w->pool[best] = w->pool[--w->npool];
	}
	buf_get(&b, n);
	return b;
}

static void pool_put(struct scan_worker *w, struct buf b)
{
	if (w->npool >= 8) { /* as many as a few branching ancestors need */
		free(b.p);
		return;
	}
	w->pool = xgrow(w->pool, sizeof(*w->pool), w->npool + 1, &w->apool);
	w->pool[w->npool++] = b;
}

/*
 * libdeflate, when the machine has it (Debian's libdeflate0), inflates a
 * whole buffer of known size about twice as fast as zlib, its adler32
 * included.  It is loaded with dlopen() on the first history scan: no
 * start-up cost for the other commands, no build dependency (these three
 * functions have kept their ABI since libdeflate 1.0).  Without it, or
 * with MESHPUSH_SCAN_ZLIB set, zlib does the work.
 */
static struct {
	struct libdeflate_decompressor *(*alloc)(void);
	int (*zlib_decompress_ex)(struct libdeflate_decompressor *d, const void *in, size_t in_nbytes, void *out,
				  size_t out_nbytes_avail, size_t *actual_in_nbytes_ret, size_t *actual_out_nbytes_ret);
	void (*free)(struct libdeflate_decompressor *d);
} ld;

static pthread_once_t ld_once = PTHREAD_ONCE_INIT;

static void ld_load(void)
{
	void *lib;

	if (getenv("MESHPUSH_SCAN_ZLIB") || !(lib = dlopen("libdeflate.so.0", RTLD_NOW | RTLD_LOCAL)))
		return;
	*(void **)&ld.alloc = dlsym(lib, "libdeflate_alloc_decompressor");
	*(void **)&ld.zlib_decompress_ex = dlsym(lib, "libdeflate_zlib_decompress_ex");
	*(void **)&ld.free = dlsym(lib, "libdeflate_free_decompressor");
	if (!ld.alloc || !ld.zlib_decompress_ex || !ld.free) {
		memset(&ld, 0, sizeof(ld));
		dlclose(lib);
	}
}

/* Inflate object i's zlib stream (exactly its header's size) into `dst` (size + 1 bytes): 0 or -1. */
static int inflate_obj(struct scan_worker *w, uint32_t i, unsigned char *dst)
{
	const struct pack_odb *o = w->sh->o;
	const struct pobj *ob = &o->objs[i];
	const struct pack *p = &o->packs[ob->pack];
	uint64_t start = ob->off + ob->hdr, avail = obj_end(o, i) - start;
	int zr;

	if (w->ld) {
		size_t in_used, out_len;

		return ld.zlib_decompress_ex(w->ld, p->data + start, (size_t)avail, dst, (size_t)ob->size + 1, &in_used,
					     &out_len) == 0 && out_len == ob->size ? 0 : -1;
	}
	if (!w->zinit) {
		if (inflateInit(&w->zs) != Z_OK)
			return -1;
		w->zinit = 1;
	} else if (inflateReset(&w->zs) != Z_OK) {
		return -1;
	}
	w->zs.next_in = (unsigned char *)p->data + start;
	w->zs.avail_in = avail > UINT_MAX ? UINT_MAX : (unsigned)avail;
	w->zs.next_out = dst;
	w->zs.avail_out = (unsigned)ob->size + 1; /* one more: a stream longer than its size fails */
	zr = inflate(&w->zs, Z_FINISH);
	return zr == Z_STREAM_END && w->zs.total_out == ob->size ? 0 : -1;
}

/*
 * Whether object i's size can be inflated here: within zlib's 32-bit
 * counts, and within what its compressed bytes can hold (deflate expands
 * at most 1032 times), so that a damaged size never allocates much.
 */
static int size_ok(const struct pack_odb *o, uint32_t i)
{
	const struct pobj *ob = &o->objs[i];
	uint64_t avail = obj_end(o, i) - (ob->off + ob->hdr);

	return ob->size < UINT_MAX && ob->size <= avail * 1032 + 64;
}

static int hand_over(struct scan_worker *w, uint32_t i, const unsigned char *data, size_t len)
{
	struct scan_shared *sh = w->sh;
	struct pack_scan *s = sh->s;
	int rc;
	size_t done;

	if (!(sh->o->objs[i].flags & F_OWNER))
		return 0;
	rc = (sh->o->objs[i].type == PACK_TREE ? s->tree : sh->o->objs[i].type == PACK_COMMIT ? s->commit : s->blob)(
		s->payloads[w->index], obj_id(sh->o, i), (const char *)data, len);
	if (rc) {
		fail(sh, rc, NULL);
		return -1;
	}
	if (sh->o->objs[i].type != PACK_BLOB)
		return 0;
	done = atomic_fetch_add(&sh->done, 1) + 1;
	if (!w->index && s->progress && !(done % 64))
		s->progress(done, sh->o->nwanted + s->nextra + 1, s->progress_payload);
	return 0;
}

static void damaged(struct scan_worker *w, uint32_t i, const char *what)
{
	const struct pobj *ob = &w->sh->o->objs[i];

	fail(w->sh, PACK_FALLBACK, "'%s': the object at offset %llu is damaged (%s)", w->sh->o->packs[ob->pack].name,
	     (unsigned long long)ob->off, what);
}

/* Give the buffers of the `depth` frames back to the pool. */
static void unwind(struct scan_worker *w, size_t depth)
{
	while (depth)
		pool_put(w, w->stack[--depth].b);
	w->held = 0;
}

/*
 * Push a frame for object `obj` whose bytes are `b`: 0, or -1 when the
 * frames would hold more than PACK_HOLD_MAX bytes.
 */
#define PACK_HOLD_MAX ((size_t)1 << 31)

static int push(struct scan_worker *w, size_t *depth, uint32_t obj, size_t len, struct buf b)
{
	if (*depth >= MAX_DEPTH || w->held + b.cap > PACK_HOLD_MAX) {
		pool_put(w, b);
		fail(w->sh, PACK_FALLBACK, "delta chains too deep to hold in memory");
		return -1;
	}
	w->stack = xgrow(w->stack, sizeof(*w->stack), *depth + 1, &w->stack_alloc);
	w->stack[(*depth)++] = (struct frame){ obj, w->sh->o->kids_at[obj], len, b };
	w->held += b.cap;
	if (w->held > w->max_held)
		w->max_held = w->held;
	if (*depth > w->max_depth)
		w->max_depth = *depth;
	return 0;
}

/*
 * One forest, depth first: 0, or -1 when the scan stops.  A frame holds
 * its object's bytes while children remain to be built from them; a last
 * child takes its parent's place, so a chain of deltas (the usual forest)
 * holds two buffers at a time whatever its length.
 */
static int visit_forest(struct scan_worker *w, uint32_t root)
{
	const struct pack_odb *o = w->sh->o;
	const struct pobj *rb = &o->objs[root];
	size_t depth = 0;
	struct buf b;

	if (o->kids_at[root] == o->kids_at[root + 1] && rb->type == PACK_BLOB && rb->size > w->sh->s->max_size)
		return hand_over(w, root, NULL, rb->size); /* too big, and nothing built on it */
	if (!size_ok(o, root)) {
		damaged(w, root, "size");
		return -1;
	}
	b = pool_get(w, (size_t)rb->size + 1);
	if (inflate_obj(w, root, b.p) < 0) {
		pool_put(w, b);
		damaged(w, root, "zlib");
		return -1;
	}
	b.p[rb->size] = '\0';
	if (hand_over(w, root, b.p, (size_t)rb->size) < 0 || o->kids_at[root] == o->kids_at[root + 1]) {
		pool_put(w, b);
		return atomic_load(&w->sh->stop) ? -1 : 0;
	}
	if (push(w, &depth, root, (size_t)rb->size, b) < 0)
		return -1;
	while (depth) {
		struct frame *f = &w->stack[depth - 1];
		uint32_t c;
		uint64_t bsize, rsize;
		size_t hdr;
		unsigned char *delta;
		int leaf, last;

		if (atomic_load_explicit(&w->sh->stop, memory_order_relaxed))
			goto stop;
		if (f->next == o->kids_at[f->obj + 1]) {
			w->held -= f->b.cap;
			pool_put(w, f->b);
			depth--;
			continue;
		}
		c = o->kids[f->next++];
		if (!size_ok(o, c)) {
			damaged(w, c, "size");
			goto stop;
		}
		delta = buf_get(&w->delta, (size_t)o->objs[c].size + 1);
		if (inflate_obj(w, c, delta) < 0) {
			damaged(w, c, "zlib");
			goto stop;
		}
		/* checked whole before the result is allocated: a damaged size never allocates */
		if (pack_delta_sizes(&bsize, &rsize, &hdr, delta, (size_t)o->objs[c].size) < 0 || bsize != f->len ||
		    delta_check(delta + hdr, delta + o->objs[c].size, bsize, rsize) < 0) {
			damaged(w, c, "delta");
			goto stop;
		}
		leaf = o->kids_at[c] == o->kids_at[c + 1];
		last = f->next == o->kids_at[f->obj + 1]; /* its last child: the parent is done */
		if (leaf && o->objs[c].type == PACK_BLOB && rsize > w->sh->s->max_size) {
			/* too big to be scanned, and nothing is built on it: not built either */
			b.p = NULL;
		} else if (rsize >= PACK_HOLD_MAX || w->held - (last ? f->b.cap : 0) + rsize + 1 > PACK_HOLD_MAX) {
			/* a few bytes of delta can describe a terabyte: never allocated */
			fail(w->sh, PACK_FALLBACK, "'%s': the object at offset %llu is too big to build in memory",
			     o->packs[o->objs[c].pack].name, (unsigned long long)o->objs[c].off);
			goto stop;
		} else {
			b = pool_get(w, (size_t)rsize + 1);
			delta_copy(b.p, f->b.p, delta + hdr, delta + o->objs[c].size);
			b.p[rsize] = '\0';
		}
		if (last) {
			w->held -= f->b.cap;
			pool_put(w, f->b);
			depth--;
		}
		if (hand_over(w, c, b.p, (size_t)rsize) < 0) {
			if (b.p)
				pool_put(w, b);
			goto stop;
		}
		if (!b.p)
			continue;
		if (leaf)
			pool_put(w, b);
		else if (push(w, &depth, c, (size_t)rsize, b) < 0)
			goto stop;
	}
	return 0;
stop:
	unwind(w, depth);
	return -1;
}

static void *scan_main(void *arg)
{
	struct scan_worker *w = arg;
	struct scan_shared *sh = w->sh;
	struct pack_scan *s = sh->s;
	size_t k;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_once(&ld_once, ld_load);
	if (ld.alloc)
		w->ld = ld.alloc(); /* NULL: zlib */
	while (!atomic_load_explicit(&sh->stop, memory_order_relaxed) &&
	       (k = atomic_fetch_add(&sh->next_root, 1)) < sh->o->nroots) {
		w->nroots++;
		if (visit_forest(w, sh->o->roots[k]) < 0)
			break;
		if (k < sh->o->nmeta && atomic_fetch_sub(&sh->meta_left, 1) == 1 && s->meta_done)
			s->meta_done(s->meta_payload);
	}
	while (!atomic_load_explicit(&sh->stop, memory_order_relaxed) &&
	       (k = atomic_fetch_add(&sh->next_extra, 1)) < s->nextra) {
		int rc = s->extra(s->payloads[w->index], k);
		size_t done;

		if (rc) {
			fail(sh, rc, NULL);
			break;
		}
		done = atomic_fetch_add(&sh->done, 1) + 1;
		if (!w->index && s->progress && !(done % 64))
			s->progress(done, sh->o->nwanted + s->nextra + 1, s->progress_payload);
	}
	if (w->zinit)
		inflateEnd(&w->zs);
	if (w->ld)
		ld.free(w->ld);
	for (size_t i = 0; i < w->npool; i++)
		free(w->pool[i].p);
	free(w->pool);
	free(w->delta.p);
	free(w->stack);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	w->busy_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	return NULL;
}

int pack_odb_scan(struct pack_odb *o, struct pack_scan *s)
{
	struct scan_shared sh;
	size_t n = s->nthreads ? s->nthreads : 1;
	struct scan_worker *w = xcalloc(n, sizeof(*w));
	pthread_t *tids = xcalloc(n, sizeof(*tids));
	int *started = xcalloc(n, sizeof(*started));

	memset(&sh, 0, sizeof(sh));
	sh.o = o;
	sh.s = s;
	atomic_init(&sh.next_root, 0);
	atomic_init(&sh.next_extra, 0);
	atomic_init(&sh.done, 0);
	atomic_init(&sh.stop, 0);
	pthread_mutex_init(&sh.lock, NULL);
	s->why[0] = '\0';
	plan(o, s->tree != NULL, s->commit != NULL);
	atomic_init(&sh.meta_left, o->nmeta);
	if (!o->nmeta && s->meta_done)
		s->meta_done(s->meta_payload);
	for (size_t i = 0; i < n; i++) {
		w[i].sh = &sh;
		w[i].index = i;
	}
	/* the calling thread is the first worker */
	for (size_t i = 1; i < n; i++)
		started[i] = pthread_create(&tids[i], NULL, scan_main, &w[i]) == 0;
	scan_main(&w[0]);
	for (size_t i = 1; i < n; i++)
		if (started[i])
			pthread_join(tids[i], NULL);
	if (getenv("MESHPUSH_SCAN_DEBUG"))
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "debug: pack thread %zu: %zu forests, %.1f ms, at most %zu buffers of %zu KiB held\n", i,
				w[i].nroots, w[i].busy_ms, w[i].max_depth, w[i].max_held >> 10);
	if (!sh.ret && s->progress)
		s->progress(o->nwanted + s->nextra, o->nwanted + s->nextra, s->progress_payload);
	pthread_mutex_destroy(&sh.lock);
	free(started);
	free(tids);
	free(w);
	return sh.ret;
}
