/* SPDX-License-Identifier: GPL-2.0 */
/* Reports of the VM table: terminal tables and JSON. */
#ifndef SHADOWTRACE_REPORT_H
#define SHADOWTRACE_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include "trace/vm_table.h"

/* What a replayed recording held, besides the figures. */
struct rec_summary {
	bool complete;			/* read to its trailer */
	const char *problem;		/* why not, if not */
	uint64_t records;
	uint64_t inconsistent;		/* events naming no known VM or page */
	uint64_t lost[ST_EV_TYPES];	/* per event type, ring buffer full */
};

struct report_ctx {
	const char *attach_mode;
	const char *kernel;
	bool access_known;	/* false: a pre-5.19 gfns cache, access bits unknown */
	double elapsed_s;
	bool final;
	uint64_t drops[ST_DROPS];
	uint64_t lost[ST_EV_TYPES];	/* recording events lost, per type */
	uint64_t vms_forgotten;
	uint64_t tdp_mmu_pages[ST_SP_EVENTS];
	/* the MMUs and TDP MMU pages are known: live, or a complete recording of version 2 */
	bool mmu_known;
	int64_t usage[ST_USAGES];	/* occupancy of the bounded maps */
	uint32_t vm_slots_used;
	struct tracer_limits limits;
	uint64_t map_bytes;		/* BPF map memory; 0: unknown (a recording) */
	const struct rec_summary *recording;	/* report FILE only */
	unsigned int top;		/* text: the N most active VMs, a line each (0: all) */
};

void report_text(FILE *f, const struct report_ctx *r, const struct vm_table *t);
void report_text_vm(FILE *f, const struct vm_entry *e);
/* The --top table: the @r->top VMs with most translation writes since the last report. */
void report_text_top(FILE *f, const struct report_ctx *r, const struct vm_table *t);
/* One self-contained HTML page (html.h); @source names what the figures are of. */
void report_html(FILE *f, const struct report_ctx *r, const struct vm_table *t, const char *source);
/* One JSON object on one line. */
void report_json(FILE *f, const struct report_ctx *r, const struct vm_table *t);

#endif
