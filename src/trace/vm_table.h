/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMs user space knows: named once, refreshed from BPF each collect.
 * A VM KVM destroyed (its debugfs directory gone), or whose process is
 * gone, is reported once more, its BPF slot freed, and kept (bounded) for
 * the final report.
 */
#ifndef SHADOWTRACE_VM_TABLE_H
#define SHADOWTRACE_VM_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include "trace/kvm_stats.h"
#include "trace/tracer.h"
#include "trace/vm_id.h"

#define VM_TABLE_MAX	1024	/* live + exited VMs kept for the final report */

struct vm_entry {
	struct vm_id id;
	bool alive;		/* KVM has not destroyed it, its process still runs */
	bool gone_seen;		/* the last refresh found it (or its process) gone */
	bool final;		/* counters read after that: its teardown is in them */
	bool released;		/* BPF slot already freed */
	bool exit_reported;	/* shown once more after it exited */
	double exited_at;	/* monotonic seconds when first seen gone */
	bool pending;
	uint64_t adopted_sps, live_sps;
	uint32_t mmu;		/* enum st_mmu_seen bits; 0 in a replay (not recorded) */
	uint64_t writes_reported;	/* translation writes at the last interval report */
	struct st_vm_counters c;
	char kvm_dir[ST_KVM_DIR_MAX];	/* KVM's debugfs directory of the VM */
	uint64_t kvm_dir_ino;		/* that directory's inode (BPF's read, or the first stat): a new VM may take its name */
	bool kvm_dir_taken;		/* ... and did: no more reads */
	struct kvm_stats kvm_stats;	/* KVM's own statistics, as last read */
};

struct vm_table {
	struct vm_entry *vms;
	unsigned int n;
	uint64_t forgotten;	/* exited VMs dropped from a full table */
	uint32_t kvm_stats_refused;	/* refused for one VM: never opened again */
};

int vm_table_init(struct vm_table *t);
void vm_table_free(struct vm_table *t);
/* Refresh from BPF; returns 0 or -errno. */
int vm_table_refresh(struct vm_table *t, struct tracer *tr);
/* Free the BPF slots of VMs that have exited (after they were reported). */
void vm_table_release_exited(struct vm_table *t, struct tracer *tr, double now);
/* Forget VMs that exited more than @keep_s seconds before @now. */
void vm_table_forget_exited(struct vm_table *t, double now, double keep_s);
/* After an interval report: exited VMs have been shown once more; activity starts anew. */
void vm_table_mark_reported(struct vm_table *t);
/*
 * Reads KVM's own statistics of each live VM not read in the last
 * @period_s seconds (the last read stays when the VM has ended).
 */
void vm_table_read_kvm_stats(struct vm_table *t, double now, double period_s);
struct vm_entry *vm_table_find_pid(struct vm_table *t, uint32_t pid, unsigned int nth);

bool st_process_alive(uint32_t pid);

#endif
