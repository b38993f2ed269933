/* SPDX-License-Identifier: GPL-2.0 */
/* Reports of the VM table: terminal tables and JSON. */
#ifndef SHADOWTRACE_REPORT_H
#define SHADOWTRACE_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include "vm_table.h"

struct report_ctx {
	const char *attach_mode;
	const char *kernel;
	bool access_known;	/* false: a pre-5.19 gfns cache, access bits unknown */
	double elapsed_s;
	bool final;
	uint64_t drops[ST_DROPS];
	uint64_t vms_forgotten;
	int64_t usage[ST_USAGES];	/* occupancy of the bounded maps */
	uint32_t vm_slots_used;
	struct tracer_limits limits;
};

void report_text(FILE *f, const struct report_ctx *r, const struct vm_table *t);
void report_text_vm(FILE *f, const struct vm_entry *e);
/* One JSON object on one line. */
void report_json(FILE *f, const struct report_ctx *r, const struct vm_table *t);

#endif
