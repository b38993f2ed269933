/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shadowtrace record: the BPF events ring buffer drained into a recording
 * file (recfile.h), with the VM records named as the live report names
 * them and a trailer of what was written and lost.
 */
#ifndef SHADOWTRACE_RECORDER_H
#define SHADOWTRACE_RECORDER_H

#include <stdint.h>
#include "record/recfile.h"
#include "output/report.h"
#include "trace/tracer.h"
#include "trace/vm_table.h"

struct recorder {
	struct rec_writer w;
	struct ring_buffer *rb;
	struct vm_id *vms;	/* VM records written, in order */
	uint32_t nvms;
	uint64_t events;
	double last_flush;
	int err;			/* first failure (-errno): exit status 1 */
};

/* Opens FILE.partial and writes the header (after the session started). */
int recorder_start(struct recorder *r, const char *path, const struct report_ctx *rep,
		   const struct tracer *tracer, double start_mono, double wall_start);
/* Bytes of the recording on disk so far. */
uint64_t recorder_bytes(const struct recorder *r);
/* Drains the ring buffer; writes a block at least every second. */
void recorder_poll(struct recorder *r);
/* The ring buffer's epoll fd: readable when BPF asks for an early drain. */
int recorder_fd(const struct recorder *r);
/*
 * Drains the rest, writes the trailer (drops and lost events from the
 * session's last refresh), renames to FILE. 0 or -errno.
 */
int recorder_finish(struct recorder *r, const struct report_ctx *rep, const struct vm_table *table);
void recorder_close(struct recorder *r);
/*
 * What was recorded so far, as a report shows it (@finished: trailer on
 * disk); lost events from @rep, as last refreshed.
 */
void recorder_summary(const struct recorder *r, const struct report_ctx *rep, bool finished,
		      struct rec_summary *sum);

#endif
