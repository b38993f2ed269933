/* SPDX-License-Identifier: GPL-2.0 */
/* The BPF side's lifecycle: check, load, attach, collect, release. */
#ifndef SHADOWTRACE_TRACER_H
#define SHADOWTRACE_TRACER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "exit_status.h"
#include "trace/probes.h"
#include "trace/vm_id.h"
#include "shadowtrace.h"

struct tracer_limits {
	uint32_t max_vms;
	uint32_t max_shadow_pages;
	uint32_t max_churn_slots;
	uint32_t target_pid;	/* 0: every VM */
	bool floor_only;	/* benchmark floor: programs attached, doing nothing */
	uint32_t bench_step;	/* benchmark breakdown (enum st_bench_step), 0: all */
	uint32_t ring_bytes;	/* > 0: emit events for a recording, ring of this size */
	enum probe_request attach;
	const char *skip_probes[PROBE_SKIP_MAX];
};

/* One VM slot as BPF sees it right now. */
struct tracer_vm {
	struct vm_id id;
	bool live;		/* BPF still attributes events to it */
	bool pending;		/* one write not yet resolved */
	uint64_t adopted_sps, live_sps;
	uint32_t mmu;		/* enum st_mmu_seen bits */
	char kvm_dir[ST_KVM_DIR_MAX];	/* KVM's debugfs directory of the VM */
	uint64_t kvm_dir_ino;		/* its inode when KVM made it; 0: unknown */
	struct st_vm_counters c;
};

struct tracer;


/*
 * Checks the environment, loads and attaches. On failure returns NULL, sets
 * *status to an ST_EXIT_* value and prints one line to stderr.
 */
struct tracer *tracer_start(const struct tracer_limits *lim, int *status);
/* The modes in use, e.g. "tracepoint" or "fentry+tracepoint". */
const char *tracer_attach_mode(const struct tracer *t);
/* false on kernels whose cache holds gfns only (access unknown). */
bool tracer_cache_has_access(const struct tracer *t);
/* --list-probes: the per-hook choice on this kernel, printed to @out. */
int tracer_list_probes(const struct tracer_limits *lim, const char *kernel, FILE *out);

/* The events ring buffer (when recording). */
int tracer_events_fd(const struct tracer *t);
/* Calls @fn for every occupied VM slot. */
int tracer_collect(struct tracer *t, void (*fn)(const struct tracer_vm *, void *), void *arg);
/* Forgets a dead VM's slot so that BPF can reuse it. */
void tracer_release_vm(struct tracer *t, uint32_t slot, uint64_t kvm);
/* Drop counters, and occupancy of the bounded maps. */
void tracer_drops(struct tracer *t, struct st_drops *sum);
/* Capacity of the bounded maps, for reports next to their occupancy. */
const struct tracer_limits *tracer_limits(const struct tracer *t);
/* Kernel memory of the BPF maps (fdinfo memlock), measured at load; 0: unknown. */
uint64_t tracer_map_bytes(const struct tracer *t);
/* Root, or CAP_BPF and CAP_PERFMON. */
bool st_has_bpf_caps(void);
/* Gives up every capability: attached programs and open maps need none. */
int st_drop_privileges(void);
/* Detach every probe, keep the maps: the final figures hold still. */
void tracer_detach(struct tracer *t);
void tracer_stop(struct tracer *t);


#endif
