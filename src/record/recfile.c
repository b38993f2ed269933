// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>

#include "output/atomic_file.h"
#include "record/recfile.h"

#define BLOCK_HDR	16	/* magic, raw length, compressed length, CRC-32 */
/* a trailer's size without its VM rows, and each row's without its name */
#define TRAILER_FIXED(v)	(4 + 16 + 8 * ST_DROPS + 8 * ST_EV_TYPES + ((v) >= 2 ? 16 : 0) + 4)
#define TRAILER_VM(v)		((v) >= 2 ? 8 : 7)

void rec_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void rec_put32(uint8_t *p, uint32_t v)
{
	rec_put16(p, (uint16_t)v);
	rec_put16(p + 2, (uint16_t)(v >> 16));
}

void rec_put64(uint8_t *p, uint64_t v)
{
	rec_put32(p, (uint32_t)v);
	rec_put32(p + 4, (uint32_t)(v >> 32));
}

uint16_t rec_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t rec_get32(const uint8_t *p)
{
	return rec_get16(p) | (uint32_t)rec_get16(p + 2) << 16;
}

uint64_t rec_get64(const uint8_t *p)
{
	return rec_get32(p) | (uint64_t)rec_get32(p + 4) << 32;
}

/* ---------------------------------------------------------------- writing */

static int writer_failed(struct rec_writer *w, int err, const char *what)
{
	if (!w->err)
		fprintf(stderr, "shadowtrace: cannot %s %s: %s (the file holds the blocks before)\n",
			what, w->partial, strerror(-err));
	w->err = -err;
	return err;
}

static size_t put_str(uint8_t *p, const char *s)
{
	size_t n = strnlen(s, ST_REC_STR_MAX);

	rec_put16(p, (uint16_t)n);
	memcpy(p + 2, s, n);
	return 2 + n;
}

int rec_writer_open(struct rec_writer *w, const char *path, const struct rec_header *h)
{
	uint8_t buf[ST_REC_HEADER_MAX], *body = buf + 16;
	struct stat st;
	size_t n = 0;
	int err;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	if (snprintf(w->path, sizeof(w->path), "%s", path) >= (int)sizeof(w->path)) {
		fprintf(stderr, "shadowtrace: output path too long\n");
		return -ENAMETOOLONG;
	}
	snprintf(w->partial, sizeof(w->partial), "%s.partial", path);
	/* found now, not by the rename after hours of recording */
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		fprintf(stderr, "shadowtrace: -o %s: is a directory\n", path);
		return -EISDIR;
	}
	w->zbuf_cap = compressBound(ST_REC_BLOCK_MAX);
	w->raw = malloc(ST_REC_BLOCK_MAX);
	w->zbuf = malloc(w->zbuf_cap);
	if (!w->raw || !w->zbuf) {
		rec_writer_close(w);
		return -ENOMEM;
	}
	w->fd = open(w->partial, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		err = -errno;
		fprintf(stderr, "shadowtrace: cannot create %s: %s\n", w->partial, strerror(errno));
		rec_writer_close(w);
		return err;
	}
	memcpy(buf, ST_REC_MAGIC, 8);
	rec_put32(buf + 8, ST_REC_VERSION);
	rec_put64(body + n, h->start_wall_ns); n += 8;
	rec_put64(body + n, h->start_mono_ns); n += 8;
	rec_put32(body + n, h->max_vms); n += 4;
	rec_put32(body + n, h->max_shadow_pages); n += 4;
	rec_put32(body + n, h->max_churn_slots); n += 4;
	rec_put32(body + n, h->flags); n += 4;
	n += put_str(body + n, h->kernel);
	n += put_str(body + n, h->attach_mode);
	n += put_str(body + n, h->version);
	rec_put32(buf + 12, (uint32_t)n);
	rec_put32(body + n, (uint32_t)crc32(0, body, (uInt)n));
	err = out_write_all(w->fd, buf, 16 + n + 4);
	if (err)
		return writer_failed(w, err, "write the header of");
	return 0;
}

int rec_writer_flush(struct rec_writer *w)
{
	uint8_t hdr[BLOCK_HDR];
	uLongf zlen = w->zbuf_cap;
	int err;

	if (w->err)
		return -w->err;
	if (!w->raw_len)
		return 0;
	/* level 1: the recorder must keep up; records compress well anyway */
	if (compress2(w->zbuf, &zlen, w->raw, w->raw_len, 1) != Z_OK)
		return writer_failed(w, -EIO, "compress a block of");
	rec_put32(hdr, ST_REC_BLOCK_MAGIC);
	rec_put32(hdr + 4, (uint32_t)w->raw_len);
	rec_put32(hdr + 8, (uint32_t)zlen);
	rec_put32(hdr + 12, (uint32_t)crc32(0, w->raw, (uInt)w->raw_len));
	err = out_write_all(w->fd, hdr, sizeof(hdr));
	if (!err)
		err = out_write_all(w->fd, w->zbuf, zlen);
	if (err)
		return writer_failed(w, err, "write");
	w->raw_len = 0;
	return 0;
}

int rec_writer_add(struct rec_writer *w, const void *rec, size_t len)
{
	int err;

	if (w->err)
		return -w->err;
	if (len > ST_REC_BLOCK_MAX)
		return -EINVAL;
	if (w->raw_len + len > ST_REC_BLOCK_MAX && (err = rec_writer_flush(w)))
		return err;
	memcpy(w->raw + w->raw_len, rec, len);
	w->raw_len += len;
	w->records++;
	return 0;
}

int rec_writer_finish(struct rec_writer *w, const struct rec_trailer *t)
{
	size_t n = rec_trailer_size(t);
	int err = rec_writer_flush(w);

	if (err)
		return err;
	if (n > ST_REC_BLOCK_MAX)
		return writer_failed(w, -E2BIG, "write the trailer of");
	rec_trailer_encode(t, w->raw);
	w->raw_len = n;
	err = rec_writer_flush(w);
	if (err)
		return err;
	if (fsync(w->fd))
		return writer_failed(w, -errno, "sync");
	if (rename(w->partial, w->path))
		return writer_failed(w, -errno, "rename to its final name");
	return 0;
}

void rec_writer_close(struct rec_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	free(w->raw);
	free(w->zbuf);
	w->raw = w->zbuf = NULL;
}

/* --------------------------------------------------------------- trailer */

size_t rec_trailer_size(const struct rec_trailer *t)
{
	size_t n = TRAILER_FIXED(ST_REC_VERSION);

	for (uint32_t i = 0; i < t->nvms; i++)
		n += TRAILER_VM(ST_REC_VERSION) + strnlen(t->vms[i].name, sizeof(t->vms[i].name) - 1);
	return n;
}

void rec_trailer_encode(const struct rec_trailer *t, uint8_t *out)
{
	uint8_t *p = out;

	p[0] = ST_REC_TRAILER;
	p[1] = 0;
	rec_put16(p + 2, 0);		/* 0: the record is the rest of its block */
	p += 4;
	rec_put64(p, t->end_mono_ns); p += 8;
	rec_put64(p, t->events); p += 8;
	for (int i = 0; i < ST_DROPS; i++, p += 8)
		rec_put64(p, t->drops[i]);
	for (int i = 0; i < ST_EV_TYPES; i++, p += 8)
		rec_put64(p, t->lost[i]);
	for (int i = 0; i < 2; i++, p += 8)
		rec_put64(p, t->tdp_mmu_pages[i]);
	rec_put32(p, t->nvms); p += 4;
	for (uint32_t i = 0; i < t->nvms; i++) {
		size_t len = strnlen(t->vms[i].name, sizeof(t->vms[i].name) - 1);

		p[0] = t->vms[i].alive;
		p[1] = t->vms[i].pending;
		rec_put32(p + 2, t->vms[i].pid);
		p[6] = t->vms[i].mmu;
		p[7] = (uint8_t)len;
		memcpy(p + 8, t->vms[i].name, len);
		p += 8 + len;
	}
}

int rec_trailer_decode(const uint8_t *p, size_t len, uint32_t version, struct rec_trailer *t)
{
	const uint8_t *end = p + len;
	const size_t row = TRAILER_VM(version);
	uint32_t nvms;

	memset(t, 0, sizeof(*t));
	if (len < TRAILER_FIXED(version) || p[0] != ST_REC_TRAILER || rec_get16(p + 2) != 0)
		return -1;
	p += 4;
	t->end_mono_ns = rec_get64(p); p += 8;
	t->events = rec_get64(p); p += 8;
	for (int i = 0; i < ST_DROPS; i++, p += 8)
		t->drops[i] = rec_get64(p);
	for (int i = 0; i < ST_EV_TYPES; i++, p += 8)
		t->lost[i] = rec_get64(p);
	for (int i = 0; version >= 2 && i < 2; i++, p += 8)
		t->tdp_mmu_pages[i] = rec_get64(p);
	nvms = rec_get32(p); p += 4;
	if (nvms > REC_TRAILER_VMS_MAX || (size_t)(end - p) < (size_t)nvms * row)
		return -1;
	t->vms = calloc(nvms ? nvms : 1, sizeof(*t->vms));
	if (!t->vms)
		return -1;
	t->nvms = nvms;
	for (uint32_t i = 0; i < nvms; i++) {
		struct rec_trailer_vm *v = &t->vms[i];

		size_t name_len;

		if ((size_t)(end - p) < row)
			goto bad;
		name_len = p[row - 1];
		if (name_len >= sizeof(v->name) || (size_t)(end - p) - row < name_len)
			goto bad;
		v->alive = p[0] != 0;
		v->pending = p[1] != 0;
		v->pid = rec_get32(p + 2);
		v->mmu = version >= 2 ? p[6] : 0;
		memcpy(v->name, p + row, name_len);
		p += row + name_len;
	}
	if (p == end)
		return 0;
bad:
	free(t->vms);
	memset(t, 0, sizeof(*t));
	return -1;
}

/* ---------------------------------------------------------------- reading */

static int stop(struct rec_reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* Reads exactly @len bytes: 1, 0 at end of file before any byte, -1 if cut. */
static int read_exact(struct rec_reader *r, void *buf, size_t len)
{
	size_t n = fread(buf, 1, len, r->f);

	r->offset += n;
	if (n == len)
		return 1;
	return n == 0 && feof(r->f) ? 0 : -1;
}

static int get_str(const uint8_t **p, const uint8_t *end, char *out)
{
	uint16_t n;

	if (end - *p < 2)
		return -1;
	n = rec_get16(*p);
	if (n > ST_REC_STR_MAX || end - *p - 2 < n)
		return -1;
	memcpy(out, *p + 2, n);
	out[n] = 0;
	*p += 2 + n;
	return 0;
}

int rec_reader_open(struct rec_reader *r, FILE *f, const char *name)
{
	uint8_t head[16], body[ST_REC_HEADER_MAX + 4];
	const uint8_t *p = body, *end;
	uint32_t version, len;
	struct rec_header *h = &r->h;

	memset(r, 0, sizeof(*r));
	r->f = f;
	r->name = name;
	if (read_exact(r, head, sizeof(head)) != 1 || memcmp(head, ST_REC_MAGIC, 8))
		return stop(r, "not a shadowtrace recording (no \"SHTRACE\" header)");
	version = rec_get32(head + 8);
	if (version < 1 || version > ST_REC_VERSION)
		return stop(r, "recording format version %u, this shadowtrace reads versions 1 to %d",
			    version, ST_REC_VERSION);
	r->version = version;
	len = rec_get32(head + 12);
	if (len < 32 || len > ST_REC_HEADER_MAX)
		return stop(r, "header length %u out of range", len);
	if (read_exact(r, body, len + 4) != 1)
		return stop(r, "header cut short");
	if (rec_get32(body + len) != (uint32_t)crc32(0, body, len))
		return stop(r, "header corrupt (CRC mismatch)");
	end = body + len;
	h->start_wall_ns = rec_get64(p); p += 8;
	h->start_mono_ns = rec_get64(p); p += 8;
	h->max_vms = rec_get32(p); p += 4;
	h->max_shadow_pages = rec_get32(p); p += 4;
	h->max_churn_slots = rec_get32(p); p += 4;
	h->flags = rec_get32(p); p += 4;
	if (get_str(&p, end, h->kernel) || get_str(&p, end, h->attach_mode) ||
	    get_str(&p, end, h->version))
		return stop(r, "header fields malformed");
	/* the limits the recorder accepts (options.c): replay sizes by them */
	if (h->max_vms < 1 || h->max_vms > 1024 || h->max_shadow_pages < 64 ||
	    h->max_shadow_pages > 4194304 || h->max_churn_slots < 64 ||
	    h->max_churn_slots > 4194304)
		return stop(r, "header limits out of range");
	r->raw = malloc(ST_REC_BLOCK_MAX);
	r->zbuf = malloc(compressBound(ST_REC_BLOCK_MAX));
	if (!r->raw || !r->zbuf)
		return stop(r, "out of memory");
	return 0;
}

int rec_reader_next(struct rec_reader *r, const uint8_t **data, size_t *len)
{
	uint8_t hdr[BLOCK_HDR];
	uint32_t raw_len, zlen;
	uLongf out_len;
	uint64_t at = r->offset;
	int got = read_exact(r, hdr, sizeof(hdr));

	if (got == 0)
		return 0;
	if (got < 0)
		return stop(r, "cut short inside the header of block %llu (offset %llu)",
			    (unsigned long long)r->blocks + 1, (unsigned long long)at);
	raw_len = rec_get32(hdr + 4);
	zlen = rec_get32(hdr + 8);
	if (rec_get32(hdr) != ST_REC_BLOCK_MAGIC)
		return stop(r, "block %llu (offset %llu): bad magic", (unsigned long long)r->blocks + 1,
			    (unsigned long long)at);
	if (!raw_len || raw_len > ST_REC_BLOCK_MAX || !zlen || zlen > compressBound(raw_len))
		return stop(r, "block %llu (offset %llu): length out of range",
			    (unsigned long long)r->blocks + 1, (unsigned long long)at);
	if (read_exact(r, r->zbuf, zlen) != 1)
		return stop(r, "cut short inside block %llu (offset %llu)",
			    (unsigned long long)r->blocks + 1, (unsigned long long)at);
	out_len = raw_len;
	if (uncompress(r->raw, &out_len, r->zbuf, zlen) != Z_OK || out_len != raw_len ||
	    rec_get32(hdr + 12) != (uint32_t)crc32(0, r->raw, raw_len))
		return stop(r, "block %llu (offset %llu) corrupt", (unsigned long long)r->blocks + 1,
			    (unsigned long long)at);
	r->blocks++;
	*data = r->raw;
	*len = raw_len;
	return 1;
}

void rec_reader_close(struct rec_reader *r)
{
	free(r->raw);
	free(r->zbuf);
	r->raw = r->zbuf = NULL;
}
