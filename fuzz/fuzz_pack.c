/*
 * Fuzz target: the pack reader of scan --all (src/scan/pack.c).
 *
 * The first byte picks what the rest is:
 *   0: an object header, parsed at an offset taken from the next 8 bytes;
 *   1: a base (its length in the next 2 bytes) and a delta applied to it;
 *   2: a whole pack (blobs only; with trees and commits when the first
 *      byte is 5 mod 6; scan.max_size 64 bytes rather than 1 MiB when it
 *      is 8 to 11 mod 12, so that most blobs are reported by size): a
 *      count N (1 byte), N 32-bit big-endian offsets,
 *      then the pack's body after its 12-byte header.  A pack and a
 *      version 2 index for it are written to a private directory (object
 *      ids made up, sorted: 00 00 .. for the first, 00 01 .. for the
 *      second, ...) and read with pack_odb_open() and pack_odb_scan(), every
 *      byte of every blob handed over read.  fuzz/corpus/pack holds packs
 *      made by git (with deltas) in that form.
 * Nothing may crash, read out of bounds, leak or allocate wildly; damaged
 * input must be refused (pack_odb_* return PACK_FALLBACK).
 */
#include "fuzz_tmp.h"
#include "scan/pack.h"
#include "util/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dir;
static volatile unsigned sink;


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *packdir;

	dir = fuzz_tmpdir("pack");
	packdir = xasprintf("%s/pack", dir);
	if (mkdir(packdir, 0700) < 0)
		abort();
	free(packdir);
	return 0;
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static int write_file(const char *name, const unsigned char *data, size_t len)
{
	char *path = xasprintf("%s/pack/%s", dir, name);
	FILE *f = fopen(path, "wb");
	int ok = f && fwrite(data, 1, len, f) == len;

	if (f && fclose(f) != 0)
		ok = 0;
	free(path);
	return ok ? 0 : -1;
}

static int on_blob(void *payload, const unsigned char *id, const char *data, size_t len)
{
	unsigned h = id[0];

	if (data) {
		for (size_t i = 0; i <= len; i++) /* the NUL after the data too */
			h = h * 31 + (unsigned char)data[i];
		if (data[len])
			abort();
	}
	sink = h;
	return 0;
}

static void whole_pack(const uint8_t *data, size_t size, int all_types, int small)
{
	size_t n, body, plen, ilen;
	unsigned char *pack, *idx, *p;
	struct pack_odb *o = NULL;
	struct pack_scan s;
	void *payloads[1] = { NULL };
	char why[256];

	if (size < 1)
		return;
	n = data[0];
	if (size < 1 + 4 * n)
		return;
	body = size - 1 - 4 * n;
	plen = 12 + body + PACK_OID_RAWSZ;
	pack = xcalloc(1, plen);
	memcpy(pack, "PACK", 4);
	put32(pack + 4, 2);
	put32(pack + 8, (uint32_t)n);
	memcpy(pack + 12, data + 1 + 4 * n, body);
	memset(pack + 12 + body, 0x5a, PACK_OID_RAWSZ); /* its "checksum", repeated in the index */

	ilen = 8 + 1024 + n * (PACK_OID_RAWSZ + 8) + 40;
	idx = xcalloc(1, ilen);
	memcpy(idx, "\377tOc", 4);
	put32(idx + 4, 2);
	for (size_t b = 0; b < 256; b++)
		put32(idx + 8 + 4 * b, (uint32_t)n); /* ids 00 kk ..: all in bucket 0 */
	p = idx + 8 + 1024;
	for (size_t k = 0; k < n; k++) {
		p[k * PACK_OID_RAWSZ + 1] = (unsigned char)k;
		p[k * PACK_OID_RAWSZ + 2] = 0x42;
	}
	p += n * PACK_OID_RAWSZ + n * 4; /* ids, then CRCs (zero) */
	for (size_t k = 0; k < n; k++)
		memcpy(p + 4 * k, data + 1 + 4 * k, 4);
	p += 4 * n;
	memset(p, 0x5a, PACK_OID_RAWSZ);

	if (write_file("pack-fuzz.pack", pack, plen) == 0 && write_file("pack-fuzz.idx", idx, ilen) == 0 &&
	    pack_odb_open(&o, dir, why, sizeof(why)) == 0) {
		memset(&s, 0, sizeof(s));
		s.nthreads = 1;
		s.payloads = payloads;
		s.max_size = small ? 64 : 1 << 20;
		s.blob = on_blob;
		if (all_types) /* trees and commits too, as scan --all reads them */
			s.tree = s.commit = on_blob;
		(void)pack_odb_scan(o, &s);
		pack_odb_free(o);
	}
	free(pack);
	free(idx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0: {
		struct pack_obj_header h;
		uint64_t off = 0;
		unsigned char *buf;

		if (size < 9)
			return 0;
		for (int i = 1; i <= 8; i++)
			off = off << 8 | data[i];
		buf = xmalloc(size - 9 + 1); /* exact size: ASan sees reads past the end */
		memcpy(buf, data + 9, size - 9);
		if (pack_obj_header_parse(&h, buf, size - 9, off) == 0) {
			if (h.len > size - 9 || (h.type == PACK_OFS_DELTA && h.base_offset >= off))
				abort();
			if (h.base_id)
				sink = h.base_id[PACK_OID_RAWSZ - 1];
		}
		free(buf);
		break;
	}
	case 1: {
		size_t blen, dlen;
		unsigned char *base, *delta, *out;
		uint64_t bs, rs;
		size_t hdr;

		if (size < 3)
			return 0;
		blen = (size_t)data[1] << 8 | data[2];
		if (blen > size - 3)
			blen = size - 3;
		dlen = size - 3 - blen;
		base = xmalloc(blen + 1);
		delta = xmalloc(dlen + 1);
		memcpy(base, data + 3, blen);
		memcpy(delta, data + 3 + blen, dlen);
		if (pack_delta_sizes(&bs, &rs, &hdr, delta, dlen) == 0 && rs <= (1 << 20)) {
			out = xmalloc((size_t)rs + 1);
			(void)pack_delta_apply(out, (size_t)rs, base, blen, delta, dlen);
			free(out);
		}
		free(base);
		free(delta);
		break;
	}
	case 2:
		whole_pack(data + 1, size - 1, (data[0] / 3) & 1, (data[0] / 6) & 1);
		break;
	}
	return 0;
}
