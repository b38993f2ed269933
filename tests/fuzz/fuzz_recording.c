// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: any bytes as a recording, through the reader, the
 * replay (the accounting code) and the reports. Must end in a status,
 * never a crash, a leak or an unbounded allocation.
 *
 * Inputs starting with "R:" are raw records instead: wrapped into a valid
 * header and a CRC-correct block, so the fuzzer reaches the records and
 * the accounting behind the checksums (seeds: tests/fuzz/seeds, *.rec).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "record/replay.h"

/* pages the replay may hold at once here (a header may ask for 4 M) */
#define FUZZ_MAX_PAGES	4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A version 1 recording around @rec: header, one block. Caller frees. */
static uint8_t *wrap_records(const uint8_t *rec, size_t len, size_t *out_len)
{
	static const char *const strs[] = { "6.1.0-fuzz", "tracepoint", "0" };
	uLongf zlen = compressBound(len);
	uint8_t *buf = malloc(256 + zlen), *p = buf + 16, *body = p;

	if (!buf)
		return NULL;
	memcpy(buf, ST_REC_MAGIC, 8);
	rec_put32(buf + 8, ST_REC_VERSION);
	rec_put64(p, 1); p += 8;
	rec_put64(p, 1); p += 8;
	rec_put32(p, 64); p += 4;		/* max_vms */
	rec_put32(p, 16384); p += 4;		/* max_shadow_pages */
	rec_put32(p, 64); p += 4;		/* max_churn_slots: small, to fill */
	rec_put32(p, ST_REC_FLAG_ACCESS); p += 4;
	for (int i = 0; i < 3; i++) {
		rec_put16(p, (uint16_t)strlen(strs[i]));
		memcpy(p + 2, strs[i], strlen(strs[i]));
		p += 2 + strlen(strs[i]);
	}
	rec_put32(buf + 12, (uint32_t)(p - body));
	rec_put32(p, (uint32_t)crc32(0, body, (uInt)(p - body)));
	p += 4;
	if (compress2(p + 16, &zlen, rec, len, 1) != Z_OK)
		abort();
	rec_put32(p, ST_REC_BLOCK_MAGIC);
	rec_put32(p + 4, (uint32_t)len);
	rec_put32(p + 8, (uint32_t)zlen);
	rec_put32(p + 12, (uint32_t)crc32(0, rec, (uInt)len));
	*out_len = (size_t)(p + 16 - buf) + zlen;
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	uint8_t *wrapped = NULL;
	struct replay *rp;
	struct report_ctx rep = { 0 };
	struct rec_summary sum;
	struct vm_table t = { 0 };
	FILE *f;

	if (size > 2 && size - 2 <= ST_REC_BLOCK_MAX && !memcmp(data, "R:", 2)) {
		wrapped = wrap_records(data + 2, size - 2, &size);
		data = wrapped;
	}
	rp = calloc(1, sizeof(*rp));
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	/* fmemopen refuses a zero size: an empty file is /dev/null */
	f = size ? fmemopen((void *)data, size, "rb") : fopen("/dev/null", "rb");
	if (!rp || !f || !devnull)
		abort();
	if (replay_file(rp, f, "fuzz", FUZZ_MAX_PAGES) != REPLAY_UNREADABLE &&
	    !replay_table(rp, &t, &rep, &sum)) {
		report_json(devnull, &rep, &t);
		report_text(devnull, &rep, &t);
	}
	free(t.vms);
	fclose(f);
	replay_free(rp);
	free(rp);
	free(wrapped);
	return 0;
}
