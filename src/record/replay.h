/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Replay of a recording through the live accounting code
 * (bpf/account.bpf.h compiled for user space): the per-VM figures the
 * tracer had, recomputed offline.
 */
#ifndef SHADOWTRACE_REPLAY_H
#define SHADOWTRACE_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "record/recfile.h"
#include "output/report.h"
#include "record/u64map.h"
#include "trace/vm_table.h"

struct replay_vm {
	uint32_t ordinal;		/* its place among the file's VM records */
	struct vm_id id;
	bool bound;			/* its slot still means this VM */
	struct st_vm_info info;		/* what the accounting keeps: live and adopted pages */
	struct st_vm_counters c;
};

struct replay {
	struct rec_header h;
	struct rec_trailer t;
	uint32_t version;		/* of the file's format */
	bool complete;			/* the trailer was read */
	struct replay_vm **vms;		/* in order of first sight */
	unsigned int n;
	uint32_t next_ordinal;
	uint64_t forgotten;		/* VMs beyond VM_TABLE_MAX */
	int32_t slot_vm[1024];		/* VM slot -> index in vms, -1 */
	struct u64map pages;		/* spt -> struct st_sp * */
	struct u64map churn_table;	/* spt | idx -> struct st_churn * */
	bool churn_refused;		/* the live table refused the write's slot (version 4) */
	uint64_t now;			/* the replayed event's tick */
	uint64_t last_tick;
	uint64_t records;
	uint64_t inconsistent;		/* events naming no known VM or page */
	uint64_t drops[ST_DROPS];	/* the replay's own (churn table full) */
	char err[320];			/* why the file was not read to its end */
};

enum replay_status {
	REPLAY_COMPLETE,
	REPLAY_INCOMPLETE,		/* figures up to the last good block */
	REPLAY_UNREADABLE,		/* no figures: not a recording, bad header */
};

/*
 * Replays @f (@name for messages). Call replay_free() whatever it returns.
 * @max_pages: shadow pages held at once, 0: as many as the header's limit
 * (the recorder's --max-shadow-pages; a fuzzer asks for fewer).
 */
enum replay_status replay_file(struct replay *rp, FILE *f, const char *name, uint32_t max_pages);
void replay_free(struct replay *rp);
/*
 * replay_file() of the file at @path, its problems told on stderr in one
 * line each. Returns the status; figures exist unless REPLAY_UNREADABLE.
 */
enum replay_status replay_path(struct replay *rp, const char *path);

/*
 * The replayed VMs as a VM table and report context for the reporters;
 * @sum (pointed to by @rep) says what the recording held.
 */
int replay_table(const struct replay *rp, struct vm_table *t, struct report_ctx *rep,
		 struct rec_summary *sum);

#endif
