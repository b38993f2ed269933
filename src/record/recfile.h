/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading and writing recording files (format: include/record.h): the
 * header, zlib blocks of whole records, the trailer. Nothing here knows
 * what the records mean (replay.c does).
 */
#ifndef SHADOWTRACE_RECFILE_H
#define SHADOWTRACE_RECFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "shadowtrace.h"

struct rec_header {
	uint64_t start_wall_ns;
	uint64_t start_mono_ns;
	uint32_t max_vms, max_shadow_pages, max_churn_slots;
	uint32_t flags;			/* ST_REC_FLAG_* */
	char kernel[ST_REC_STR_MAX + 1];
	char attach_mode[ST_REC_STR_MAX + 1];
	char version[ST_REC_STR_MAX + 1];
};

struct rec_trailer_vm {
	uint8_t alive, pending;
	uint8_t mmu;			/* enum st_mmu_seen bits (version 2) */
	uint32_t pid;
	char name[64];			/* as in its ST_EV_VM record */
};

/* VM rows a trailer holds at most (the first VMs seen): it fits a block */
#define REC_TRAILER_VMS_MAX	8192

struct rec_trailer {
	uint64_t end_mono_ns;
	uint64_t events;		/* records written, the trailer aside */
	uint64_t drops[ST_DROPS];
	uint64_t lost[ST_EV_TYPES];
	uint64_t tdp_mmu_pages[2];	/* created, zapped (version 2) */
	uint32_t nvms;
	struct rec_trailer_vm *vms;	/* nvms entries */
};

/* Little-endian field access, whatever the host. */
void rec_put16(uint8_t *p, uint16_t v);
void rec_put32(uint8_t *p, uint32_t v);
void rec_put64(uint8_t *p, uint64_t v);
uint16_t rec_get16(const uint8_t *p);
uint32_t rec_get32(const uint8_t *p);
uint64_t rec_get64(const uint8_t *p);

/* --- writing: FILE.partial, renamed to FILE by rec_writer_finish() --- */
struct rec_writer {
	int fd;
	char path[4096];
	char partial[4096 + 16];
	uint8_t *raw, *zbuf;
	size_t raw_len, zbuf_cap;
	uint64_t records;
	int err;			/* first write error (errno), then no more writes */
};

/* Returns 0 or -errno (message printed). */
int rec_writer_open(struct rec_writer *w, const char *path, const struct rec_header *h);
/* Appends one record; a full block is written out. 0 or -errno. */
int rec_writer_add(struct rec_writer *w, const void *rec, size_t len);
/* Writes the records gathered so far as a block (no-op if none). */
int rec_writer_flush(struct rec_writer *w);
/* Trailer block, fsync, rename to the final name. 0 or -errno. */
int rec_writer_finish(struct rec_writer *w, const struct rec_trailer *t);
/* Frees buffers; the .partial file, if any, stays (readable). */
void rec_writer_close(struct rec_writer *w);

/* --- reading: bounded allocations whatever the input --- */
struct rec_reader {
	FILE *f;
	const char *name;
	struct rec_header h;
	uint32_t version;		/* of the file's format */
	uint8_t *raw, *zbuf;
	uint64_t blocks;
	uint64_t offset;		/* of the next block */
	char err[256];			/* why reading stopped early, if it did */
};

/* Opens @f (not closed here) and reads its header: 0, or -1 with r->err. */
int rec_reader_open(struct rec_reader *r, FILE *f, const char *name);
/*
 * The next block's raw records: 1 with data and len set, 0 at a clean end of
 * file, -1 when the rest is unreadable (cut short, corrupt: r->err).
 */
int rec_reader_next(struct rec_reader *r, const uint8_t **data, size_t *len);
void rec_reader_close(struct rec_reader *r);

/* Encodes / decodes the trailer record (type ST_REC_TRAILER). */
size_t rec_trailer_size(const struct rec_trailer *t);
void rec_trailer_encode(const struct rec_trailer *t, uint8_t *out);
/* 0, or -1 if @len does not hold a valid trailer of format @version. t->vms is allocated. */
int rec_trailer_decode(const uint8_t *p, size_t len, uint32_t version, struct rec_trailer *t);

#endif
