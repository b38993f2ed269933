/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What of the micro-guest a tracer may link: scenario names, limits, exit
 * statuses, the ground truth (pure computation from the script) and the
 * spawner that runs micro-guest processes. Nothing here opens /dev/kvm or
 * creates a VM: that is the micro-guest program's alone (microguest.h).
 */
#ifndef MICROGUEST_SCENARIO_H
#define MICROGUEST_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "shadowtrace.h"

enum mg_scenario {
	MG_FAULT_CHURN,		/* read N pages, then write them */
	MG_SYNC_FLIP,		/* fault-churn, guest clears W, CR3 switch: sync */
	MG_REMAP,		/* read N, guest remaps its PTEs, CR3 switch, read */
	MG_HUGEPAGE_DIRTYLOG,	/* 2 MiB guest pages, dirty logging, 4 KiB writes */
	MG_PREFETCH,		/* accessed PTEs: one fault maps 8 pages */
	MG_REUSE,		/* fault-churn, then memslot delete/re-add and again (--passes) */
	MG_SYNC_KEEP,		/* fault-churn, guest rewrites its PTEs as they were, CR3 switch */
	MG_SPARSE,		/* fault-churn, each page in its own guest PT: N shadow pages live */
	/* nested: an L1 micro-hypervisor (SVM, NPT) runs an L2; KVM shadows L1's NPT */
	MG_NESTED_FAULT_CHURN,	/* L2 reads N pages, then writes them (4 KiB NPT leaves) */
	MG_NESTED_HUGEPAGE_DIRTYLOG, /* 2 MiB NPT leaves, dirty logging: eager split */
	MG_NESTED_SYNC_FLIP,	/* nested-fault-churn, L1 clears W in its NPT: sync */
	MG_NESTED_REMAP,	/* L2 reads N, L1 remaps its NPT leaves: sync drops them */
	MG_NESTED_HUGEPAGE_ALIAS, /* as nested-hugepage-dirtylog, each 2 MiB page mapped twice */
	MG_NESTED_CLEAR_DIRTYLOG, /* manual dirty-log protect: KVM_CLEAR_DIRTY_LOG splits */
	MG_NESTED_HUGETLB_DIRTYLOG, /* nested-hugepage-dirtylog on hugetlbfs pages */
	MG_SCENARIOS,
};

#define MG_MAX_N	16384
#define MG_MAX_VMS	64
#define MG_MAX_SPARSE_N	16320

/* Exit statuses of the micro-guest (documented in README). */
#define MG_EXIT_OK		0
#define MG_EXIT_USAGE		2
#define MG_EXIT_NO_KVM		3	/* /dev/kvm missing or unusable */
#define MG_EXIT_PRECONDITION	4	/* e.g. no transparent huge pages */
#define MG_EXIT_GUEST		5	/* guest did not behave as scripted */

const char *mg_scenario_name(enum mg_scenario s);
/* Whether @s runs an L2 guest: it needs nested SVM with NPT (kvm_amd npt=1 nested=1). */
bool mg_scenario_nested(enum mg_scenario s);
int mg_scenario_parse(const char *name, enum mg_scenario *out);
/* NULL if @n is valid for @s, else why not. */
const char *mg_check_n(enum mg_scenario s, unsigned int n);

/* Passes of the reuse scenario (default 2): a fault-bound loop for benchmarks. */
extern unsigned int mg_passes;

/* Ground truth of one VM running @s with @n (and mg_passes). */
void mg_expect(enum mg_scenario s, unsigned int n, struct st_vm_counters *out);

/*
 * Run @vms VMs, each in its own process executing @cmd with
 * "-name guest=<prefix>-<i> --passes P SCENARIO N" appended, so that
 * tracers can tell them apart. @cmd is the NULL-terminated command prefix
 * of a micro-guest that runs one VM (e.g. {"/proc/self/exe", NULL} in the
 * micro-guest itself, the micro-guest's path in shadowtrace's demo).
 * Returns the worst child status; @pids_out (may be NULL) gets each VM's
 * pid, or minus its exit status if it failed.
 */
int mg_run_many(const char *const *cmd, const char *name_prefix,
		enum mg_scenario s, unsigned int n, unsigned int vms,
		int *pids_out, char *err, size_t errlen);

#endif /* MICROGUEST_SCENARIO_H */
