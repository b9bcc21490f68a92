/*
 * The pack reader's parsers (src/scan/pack.c): object headers and the
 * delta applier, on good and hostile input.
 */
#include "scan/pack.h"
#include "unit.h"

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

int main(void)
{
	RUN(pack_delta_apply__copy_and_insert);
	RUN(pack_delta_apply__copy_size_zero_is_64k);
	RUN(pack_delta_apply__hostile);
	RUN(pack_delta_sizes__large);
	RUN(pack_obj_header_parse__types_and_sizes);
	RUN(pack_obj_header_parse__hostile);
	return unit_done();
}
