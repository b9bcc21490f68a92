/*
 * The pack reader's parsers (src/scan/pack.c): object headers and the
 * delta applier, on good and hostile input.
 */
#include "scan/pack.h"
#include "unit.h"
#include "util/util.h"

#include <stdint.h>
#include <zlib.h>

/* A delta: base size, result size (one byte each here), then opcodes. */
static size_t delta(unsigned char *out, unsigned base, unsigned result, const unsigned char *ops, size_t n)
{
	out[0] = (unsigned char)base;
	out[1] = (unsigned char)result;
	if (n)
		memcpy(out + 2, ops, n);
	return n + 2;
}

static void pack_delta_apply__copy_and_insert(void)
{
	const unsigned char base[] = "hello, world";
	/* copy 5 from 0, insert "!!", copy 5 from 7 */
	const unsigned char ops[] = { 0x90, 5, 2, '!', '!', 0x91, 7, 5 };
	unsigned char d[32], out[16] = { 0 };
	size_t n = delta(d, 12, 12, ops, sizeof(ops));

	is_int(pack_delta_apply(out, 12, base, 12, d, n), 0, "applies");
	ok(!memcmp(out, "hello!!world", 12), "the result");
}

static void pack_delta_apply__copy_size_zero_is_64k(void)
{
	static unsigned char base[0x10000], out[0x10000];
	const unsigned char d[] = { 0x80, 0x80, 0x04, 0x80, 0x80, 0x04, 0x80 }; /* sizes 65536, 65536; copy 65536 from 0 */

	memset(base, 'x', sizeof(base));
	is_int(pack_delta_apply(out, sizeof(out), base, sizeof(base), d, sizeof(d)), 0, "a copy of size 0 copies 65536");
	ok(out[0xffff] == 'x', "last byte copied");
}

static void pack_delta_apply__hostile(void)
{
	const unsigned char base[] = "0123456789";
	unsigned char d[64], out[64];
	size_t n;

	memset(out, 0xaa, sizeof(out));
	n = delta(d, 10, 5, (const unsigned char[]){ 0x91, 8, 5 }, 3);
	is_int(pack_delta_apply(out, 5, base, 10, d, n), -1, "a copy past the base's end");
	ok(out[0] == 0xaa, "nothing written for a delta that does not apply");
	n = delta(d, 10, 5, (const unsigned char[]){ 0x91, 11, 0 }, 3);
	is_int(pack_delta_apply(out, 5, base, 10, d, n), -1, "a copy from beyond the base (size 0 = 64 KiB)");
	n = delta(d, 10, 5, (const unsigned char[]){ 0x9f, 0xff, 0xff, 0xff, 0xff, 1 }, 6);
	is_int(pack_delta_apply(out, 5, base, 10, d, n), -1, "a copy at offset 2^32-1 (no wrap-around)");
	n = delta(d, 9, 5, (const unsigned char[]){ 0x90, 5 }, 2);
	is_int(pack_delta_apply(out, 5, base, 10, d, n), -1, "a base of another size");
	n = delta(d, 10, 6, (const unsigned char[]){ 0x90, 5 }, 2);
	is_int(pack_delta_apply(out, 6, base, 10, d, n), -1, "a result shorter than announced");
	n = delta(d, 10, 4, (const unsigned char[]){ 0x90, 5 }, 2);
	is_int(pack_delta_apply(out, 4, base, 10, d, n), -1, "a result longer than announced");
	n = delta(d, 10, 5, (const unsigned char[]){ 0x90, 5 }, 2);
	is_int(pack_delta_apply(out, 4, base, 10, d, n), -1, "a result size other than the caller's");
	n = delta(d, 10, 3, (const unsigned char[]){ 5, 'a', 'b', 'c' }, 4);
	is_int(pack_delta_apply(out, 3, base, 10, d, n), -1, "an insert cut short");
	n = delta(d, 10, 0, (const unsigned char[]){ 0 }, 1);
	is_int(pack_delta_apply(out, 0, base, 10, d, n), -1, "the reserved opcode 0");
	n = delta(d, 10, 5, (const unsigned char[]){ 0x91, 0 }, 2);
	is_int(pack_delta_apply(out, 5, base, 10, d, n), -1, "a copy whose operands are cut short");
	is_int(pack_delta_apply(out, 0, base, 10, (const unsigned char *)"\x8a", 1), -1, "a header cut short");
	memcpy(d, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00", 12);
	is_int(pack_delta_apply(out, 0, base, 10, d, 12), -1, "a size varint over 64 bits");
	n = delta(d, 10, 0, NULL, 0);
	is_int(pack_delta_apply(out, 0, base, 10, d, n), 0, "an empty result is fine");
}

static void pack_delta_sizes__large(void)
{
	const unsigned char d[] = { 0x80, 0x80, 0x80, 0x80, 0x10, 0x01 };
	uint64_t b, r;
	size_t h;

	is_int(pack_delta_sizes(&b, &r, &h, d, sizeof(d)), 0, "parses");
	ok(b == (uint64_t)1 << 32 && r == 1 && h == 6, "a base of 4 GiB, a result of 1 byte");
}

static void pack_obj_header_parse__types_and_sizes(void)
{
	struct pack_obj_header h;
	const unsigned char blob[] = { 0xb5, 0x03 }; /* blob, 5 + (3 << 4) */
	const unsigned char ofs[] = { 0x6a, 0x81, 0x00 }; /* ofs-delta of 10 bytes, offset (1+1)<<7 | 0 = 256 */
	unsigned char ref[1 + 20];

	is_int(pack_obj_header_parse(&h, blob, sizeof(blob), 12), 0, "a blob header");
	ok(h.type == PACK_BLOB && h.size == 53 && h.len == 2, "type, size and length");
	is_int(pack_obj_header_parse(&h, ofs, sizeof(ofs), 1000), 0, "an ofs-delta header");
	ok(h.type == PACK_OFS_DELTA && h.size == 10 && h.base_offset == 1000 - 256 && h.len == 3, "its base offset");
	is_int(pack_obj_header_parse(&h, (const unsigned char *)"\x6a\x00", 2, 1000), -1, "a base offset of 0 (itself)");
	is_int(pack_obj_header_parse(&h, ofs, sizeof(ofs), 256), -1, "a base at offset 0 (the pack header)");
	is_int(pack_obj_header_parse(&h, ofs, sizeof(ofs), 100), -1, "a base before the pack");
	memset(ref, 0x11, sizeof(ref));
	ref[0] = 0x71;
	is_int(pack_obj_header_parse(&h, ref, sizeof(ref), 12), 0, "a ref-delta header");
	ok(h.type == PACK_REF_DELTA && h.base_id == ref + 1 && h.len == 21, "its base id");
	is_int(pack_obj_header_parse(&h, ref, 20, 12), -1, "a ref-delta cut short");
}

static void pack_obj_header_parse__hostile(void)
{
	struct pack_obj_header h;
	unsigned char many[16];

	is_int(pack_obj_header_parse(&h, (const unsigned char *)"", 0, 12), -1, "nothing");
	is_int(pack_obj_header_parse(&h, (const unsigned char *)"\x05", 1, 12), -1, "type 0");
	is_int(pack_obj_header_parse(&h, (const unsigned char *)"\x55", 1, 12), -1, "type 5 (reserved)");
	is_int(pack_obj_header_parse(&h, (const unsigned char *)"\xb5", 1, 12), -1, "a size cut short");
	is_int(pack_obj_header_parse(&h, (const unsigned char *)"\x6a", 1, 12), -1, "an ofs-delta without offset");
	memset(many, 0xff, sizeof(many));
	is_int(pack_obj_header_parse(&h, many, sizeof(many), 12), -1, "a size over 64 bits");
	many[0] = 0x6a;
	is_int(pack_obj_header_parse(&h, many, sizeof(many), UINT64_MAX), -1, "an offset over 64 bits");
}

/* ---- whole packs, written here: pack_odb_open() and pack_odb_scan() ---- */

struct tobj {
	int type;                  /* enum pack_obj_type */
	const unsigned char *data; /* its bytes (a delta's opcodes for a delta) */
	size_t len;
	int base; /* PACK_OFS_DELTA: the index of its base, written before it */
};

static char *tmp_objdir(void)
{
	const char *t = getenv("TMPDIR");
	char *dir = xasprintf("%s/test-scan-pack.XXXXXX", t ? t : "/tmp");

	if (!mkdtemp(dir))
		abort();
	return dir;
}

static void rm_rf(const char *dir)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	(void)!system(cmd);
	free(cmd);
}

static void put32(struct strbuf *sb, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
			       (unsigned char)v };

	strbuf_add(sb, b, 4);
}

static void write_all(const char *path, const struct strbuf *sb)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(sb->buf, 1, sb->len, f) != sb->len || fclose(f))
		abort();
}

/*
 * Write objdir/pack/pack-test.{pack,idx}: the objects `v` in that order,
 * object k with id 00 00 k 42 42 ... (so the idx order is the pack's).
 */
static void write_pack(const char *objdir, const struct tobj *v, size_t n)
{
	struct strbuf pack = STRBUF_INIT, idx = STRBUF_INIT;
	uint32_t *offs = xcalloc(n + 1, sizeof(*offs));
	unsigned char id[PACK_OID_RAWSZ], sum[PACK_OID_RAWSZ];
	char *dir = xasprintf("%s/pack", objdir), *path;

	if (mkdir(dir, 0700) < 0)
		abort();
	memset(sum, 0x5a, sizeof(sum));
	strbuf_add(&pack, "PACK", 4);
	put32(&pack, 2);
	put32(&pack, (uint32_t)n);
	for (size_t k = 0; k < n; k++) {
		uint64_t size = v[k].len;
		unsigned char c = (unsigned char)(v[k].type << 4 | (size & 15)), *z;
		uLongf zlen = compressBound((uLong)v[k].len);

		offs[k] = (uint32_t)pack.len;
		for (size >>= 4; size; size >>= 7) {
			strbuf_addch(&pack, (char)(c | 0x80));
			c = size & 0x7f;
		}
		strbuf_addch(&pack, (char)c);
		if (v[k].type == PACK_OFS_DELTA) {
			uint64_t ofs = offs[k] - offs[v[k].base];
			unsigned char b[16];
			size_t pos = sizeof(b) - 1;

			b[pos] = ofs & 127;
			while (ofs >>= 7)
				b[--pos] = (unsigned char)(128 | (--ofs & 127));
			strbuf_add(&pack, b + pos, sizeof(b) - pos);
		}
		z = xmalloc(zlen);
		if (compress2(z, &zlen, v[k].data, (uLong)v[k].len, 1) != Z_OK)
			abort();
		strbuf_add(&pack, z, zlen);
		free(z);
	}
	strbuf_add(&pack, sum, sizeof(sum));
	strbuf_add(&idx, "\377tOc", 4);
	put32(&idx, 2);
	for (int b = 0; b < 256; b++)
		put32(&idx, (uint32_t)n);
	for (size_t k = 0; k < n; k++) {
		memset(id, 0x42, sizeof(id));
		id[0] = 0;
		id[1] = (unsigned char)(k >> 8);
		id[2] = (unsigned char)k;
		strbuf_add(&idx, id, sizeof(id));
	}
	for (size_t k = 0; k < n; k++)
		put32(&idx, 0); /* CRCs */
	for (size_t k = 0; k < n; k++)
		put32(&idx, offs[k]);
	strbuf_add(&idx, sum, sizeof(sum));
	strbuf_add(&idx, sum, sizeof(sum)); /* the idx's own checksum: not read */
	path = xasprintf("%s/pack-test.pack", dir);
	write_all(path, &pack);
	free(path);
	path = xasprintf("%s/pack-test.idx", dir);
	write_all(path, &idx);
	free(path);
	free(dir);
	free(offs);
	strbuf_release(&pack);
	strbuf_release(&idx);
}

/* A delta's header: the base's size and the result's, as varints. */
static void delta_header(struct strbuf *sb, uint64_t base, uint64_t result)
{
	for (int i = 0; i < 2; i++) {
		uint64_t v = i ? result : base;

		while (v >= 0x80) {
			strbuf_addch(sb, (char)((v & 0x7f) | 0x80));
			v >>= 7;
		}
		strbuf_addch(sb, (char)v);
	}
}

struct seen {
	size_t n;
	int with_data[8];
	size_t len[8];
	unsigned k[8]; /* which object */
};

static int on_blob(void *payload, const unsigned char *id, const char *data, size_t len)
{
	struct seen *s = payload;

	if (s->n < 8) {
		s->with_data[s->n] = data != NULL;
		s->len[s->n] = len;
		s->k[s->n] = (unsigned)id[1] << 8 | id[2];
	}
	s->n++;
	return 0;
}

static int scan_objdir(struct seen *seen, const char *objdir, uint64_t max_size, char *why, size_t whylen)
{
	struct pack_odb *o = NULL;
	struct pack_scan s;
	void *payloads[1] = { seen };
	int ret;

	memset(seen, 0, sizeof(*seen));
	if ((ret = pack_odb_open(&o, objdir, why, whylen)) != 0)
		return ret;
	memset(&s, 0, sizeof(s));
	s.nthreads = 1;
	s.payloads = payloads;
	s.max_size = max_size;
	s.blob = on_blob;
	ret = pack_odb_scan(o, &s);
	snprintf(why, whylen, "%s", s.why);
	pack_odb_free(o);
	return ret;
}

static void pack_odb_open__pack_dir_unreadable(void)
{
	char *dir = tmp_objdir(), *pack = xasprintf("%s/pack", dir), why[256] = "";
	struct pack_odb *o = NULL;
	FILE *f = fopen(pack, "w"); /* objects/pack a file: opendir() fails with ENOTDIR */

	ok(f && !fclose(f), "setup");
	is_int(pack_odb_open(&o, dir, why, sizeof(why)), PACK_FALLBACK, "no packs read is not no packs");
	ok(!o, "nothing returned");
	ok(strstr(why, "cannot list") != NULL, why);
	pack_odb_free(o);
	rm_rf(dir);
	free(pack);
	free(dir);
}

static void pack_odb_scan__big_delta_leaf_not_built(void)
{
	char *dir = tmp_objdir(), why[256] = "";
	unsigned char base[100];
	struct strbuf d = STRBUF_INIT;
	struct seen seen;

	memset(base, 'a', sizeof(base));
	delta_header(&d, sizeof(base), 2000 * sizeof(base));
	for (int i = 0; i < 2000; i++) {
		strbuf_addch(&d, (char)0x90); /* copy, one size byte, offset 0 */
		strbuf_addch(&d, (char)sizeof(base));
	}
	write_pack(dir, (struct tobj[]){ { PACK_BLOB, base, sizeof(base), 0 },
					 { PACK_OFS_DELTA, (unsigned char *)d.buf, d.len, 0 } },
		   2);
	is_int(scan_objdir(&seen, dir, 1000, why, sizeof(why)), 0, "scanned");
	is_int(seen.n, 2, "both blobs handed over");
	ok(seen.k[0] == 0 && seen.with_data[0] && seen.len[0] == 100, "the base, with its bytes");
	ok(seen.k[1] == 1 && seen.len[1] == 200000, "the delta's result size");
	ok(!seen.with_data[1], "a delta result over max_size that nothing needs is not built");
	strbuf_release(&d);
	rm_rf(dir);
	free(dir);
}

/*
 * A delta of 256 KiB (a few hundred bytes compressed) that copies a 16 MiB
 * base 65536 times: a result of 1 TiB.  A leaf is reported by size; built
 * upon, it makes the reader fall back, never allocate it.
 */
static void pack_odb_scan__delta_bomb(void)
{
	const size_t bsize = 0xffffff;
	const uint64_t rsize = (uint64_t)bsize * 65536;
	unsigned char *base = xcalloc(1, bsize);
	struct strbuf d = STRBUF_INIT, d2 = STRBUF_INIT;
	char *dir = tmp_objdir(), *dir2 = tmp_objdir(), why[256] = "";
	struct seen seen;

	delta_header(&d, bsize, rsize);
	for (int i = 0; i < 65536; i++)
		strbuf_add(&d, "\xf0\xff\xff\xff", 4); /* copy 0xffffff bytes from 0 */
	write_pack(dir, (struct tobj[]){ { PACK_BLOB, base, bsize, 0 },
					 { PACK_OFS_DELTA, (unsigned char *)d.buf, d.len, 0 } },
		   2);
	is_int(scan_objdir(&seen, dir, 32 << 20, why, sizeof(why)), 0, "a leaf: scanned");
	ok(seen.n == 2 && seen.k[1] == 1 && !seen.with_data[1] && seen.len[1] == rsize, "reported by its size");

	delta_header(&d2, rsize, 5);
	strbuf_add(&d2, "\x90\x05", 2);
	write_pack(dir2, (struct tobj[]){ { PACK_BLOB, base, bsize, 0 },
					  { PACK_OFS_DELTA, (unsigned char *)d.buf, d.len, 0 },
					  { PACK_OFS_DELTA, (unsigned char *)d2.buf, d2.len, 1 } },
		   3);
	is_int(scan_objdir(&seen, dir2, 32 << 20, why, sizeof(why)), PACK_FALLBACK, "built upon: a fallback");
	ok(strstr(why, "memory") != NULL, why);
	strbuf_release(&d);
	strbuf_release(&d2);
	free(base);
	rm_rf(dir);
	rm_rf(dir2);
	free(dir);
	free(dir2);
}

int main(void)
{
	RUN(pack_delta_apply__copy_and_insert);
	RUN(pack_delta_apply__copy_size_zero_is_64k);
	RUN(pack_delta_apply__hostile);
	RUN(pack_delta_sizes__large);
	RUN(pack_obj_header_parse__types_and_sizes);
	RUN(pack_obj_header_parse__hostile);
	RUN(pack_odb_open__pack_dir_unreadable);
	RUN(pack_odb_scan__big_delta_leaf_not_built);
	RUN(pack_odb_scan__delta_bomb);
	return unit_done();
}
