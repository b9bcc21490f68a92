/*
 * The packs of an object directory, read here for the history scan
 * (scan --all): every blob (and, when asked, every tree and commit)
 * inflated once, its deltas applied in memory, forests of deltas shared
 * out to several threads.  See docs/scanning.md (History scans).  Only src/scan/git.c,
 * the unit tests and the fuzz target include this.
 */
#ifndef MP_SCAN_PACK_H
#define MP_SCAN_PACK_H

#include <stddef.h>
#include <stdint.h>

#define PACK_OID_RAWSZ 20

/* Returned when the packs are not something this reader reads (why: in `why`). */
#define PACK_FALLBACK 1

/* Object types, as a pack stores them. */
enum pack_obj_type {
	PACK_COMMIT = 1,
	PACK_TREE = 2,
	PACK_BLOB = 3,
	PACK_TAG = 4,
	PACK_OFS_DELTA = 6,
	PACK_REF_DELTA = 7
};

struct pack_obj_header {
	int type;                     /* enum pack_obj_type */
	uint64_t size;                /* inflated size (of the delta itself, for a delta) */
	uint64_t base_offset;         /* PACK_OFS_DELTA: the base's offset in the pack */
	const unsigned char *base_id; /* PACK_REF_DELTA: the base's id (points into the input) */
	size_t len;                   /* header bytes: the zlib stream starts there */
};

/*
 * Parse the header of the object at `offset` of a pack, `avail` bytes of
 * which are at `p`.  0, or -1 when it is damaged (cut short, an unknown
 * type, a size or base offset that does not fit).
 */
int pack_obj_header_parse(struct pack_obj_header *out, const unsigned char *p, size_t avail, uint64_t offset);

/*
 * The sizes a delta starts with: the base it applies to and the result.
 * 0 with `*hdrlen` (bytes read), or -1 when damaged.
 */
int pack_delta_sizes(uint64_t *base_size, uint64_t *result_size, size_t *hdrlen, const unsigned char *delta,
		     size_t len);

/*
 * Apply `delta` (`len` bytes, its header included) to `base`, writing
 * exactly `out_size` bytes to `out`.  Every copy is checked against the
 * base, every insert against the delta, the total against `out_size`, and
 * nothing is written past `out_size`.  0, or -1 when the delta does not
 * apply (a base of another size, a copy out of range, a result of another
 * size, a reserved opcode).
 */
int pack_delta_apply(unsigned char *out, size_t out_size, const unsigned char *base, size_t base_size,
		     const unsigned char *delta, size_t len);

struct pack_odb;

/*
 * Index every pack of `objdir` (its pack/pack-*.idx, version 2, SHA-1;
 * the .pack mapped): object headers parsed, delta bases resolved, types
 * known.  0 with `*out`, or PACK_FALLBACK with the reason in `why` (an
 * idx of version 1, a .promisor pack, a damaged or inconsistent pack, a
 * REF_DELTA whose base is in another pack, ...).
 */
int pack_odb_open(struct pack_odb **out, const char *objdir, char *why, size_t whylen);

void pack_odb_free(struct pack_odb *o);

/* Whether any pack holds object `id` (20 bytes). */
int pack_odb_has(const struct pack_odb *o, const unsigned char *id);

/* The bytes of all the packs. */
uint64_t pack_odb_size(const struct pack_odb *o);

/* Call `fn` for each distinct tree id of the packs (no object is read). */
void pack_odb_each_tree(const struct pack_odb *o, void (*fn)(void *payload, const unsigned char *id), void *payload);

/* A scan of every blob of the packs, each distinct id once. */
struct pack_scan {
	size_t nthreads;
	void **payloads; /* one per thread, passed to blob() and extra() */
	uint64_t max_size;

	/*
	 * Each blob, on some thread: `data` (`len` bytes, NUL-terminated,
	 * valid only during the call), or NULL when it is larger than
	 * max_size and nothing else needed it inflated or built from its
	 * deltas (`len` its size).  A blob larger than max_size may also come
	 * with its data.  0, a
	 * negative error (stops the scan, returned), or PACK_FALLBACK.
	 */
	int (*blob)(void *payload, const unsigned char *id, const char *data, size_t len);

	/* When set, each tree and each commit too (inflated like the blobs, each id once); return as blob(). */
	int (*tree)(void *payload, const unsigned char *id, const char *data, size_t len);
	int (*commit)(void *payload, const unsigned char *id, const char *data, size_t len);

	/* Then items 0..nextra-1 (loose objects), each once, on some thread; returns as blob(). */
	size_t nextra;
	int (*extra)(void *payload, size_t k);

	/*
	 * With tree() or commit(): called once, on some thread, as soon as every
	 * packed tree and commit has been handed over (they are visited before
	 * the blobs), unless the scan stops first.
	 */
	void (*meta_done)(void *payload);
	void *meta_payload;

	/* From the first thread, now and then: blobs and extras done, of total. */
	void (*progress)(size_t done, size_t total, void *payload);
	void *progress_payload;

	char why[256]; /* set with PACK_FALLBACK */
};

/*
 * Run the scan `s` on s->nthreads threads (at least one), once per `o`.  0 when every
 * blob was handed to s->blob(); PACK_FALLBACK when a pack turned out to
 * be damaged, or needs more than 2 GiB a thread to hold what a delta
 * tree is built from (s->why), or a callback asked for it; or the first negative
 * error of a callback.  Nothing about the objects is reported when it
 * does not return 0.
 */
int pack_odb_scan(struct pack_odb *o, struct pack_scan *s);

#endif
