/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Plain structs shared by the BPF programs (bpf/) and user space (src/).
 * The per-VM figures (struct st_vm_counters) are also what the micro-guest
 * (tools/microguest) fills with its ground truth, so that observation and
 * expectation are compared field by field.
 */
#ifndef SHADOWTRACE_H
#define SHADOWTRACE_H

#include "translation.h"
#include "record.h"

/* Where a translation write comes from. */
enum st_origin {
	ST_ORIGIN_FAULT,	/* mmu_set_spte() for the faulting gfn */
	ST_ORIGIN_PREFETCH,	/* mmu_set_spte() for a prefetched neighbour */
	ST_ORIGIN_SYNC,		/* FNAME(sync_spte)/sync_page access update */
	ST_ORIGIN_SPLIT,	/* eager huge page split */
	ST_ORIGINS,
};

/* What a shadow page shadows: the VM's own tables, or a nested guest's NPT/EPT. */
enum st_sp_kind {
	ST_KIND_INDIRECT,	/* shadows a guest page table: writes the cache */
	ST_KIND_DIRECT,		/* shadows a guest huge page: only checks */
	ST_KIND_NESTED_INDIRECT, /* shadows a table of a nested guest's NPT/EPT (guest_mode) */
	ST_KIND_NESTED_DIRECT,	/* shadows a nested guest's huge NPT/EPT page (guest_mode) */
	ST_KINDS,
};

#define ST_LEVELS	5	/* shadow page levels 1..5 */

enum st_mismatch {
	ST_MISMATCH_SYNC,	/* sync dropped an SPTE whose gpte now maps another gfn */
	ST_MISMATCH_DIRECT,	/* direct shadow page written with a foreign gfn */
	ST_MISMATCHES,
};

/* Why sync dropped an SPTE (ST_SYNC_DROP_GFN is also a sync mismatch). */
enum st_sync_drop {
	ST_SYNC_DROP_GFN,	/* gpte points at another gfn */
	ST_SYNC_DROP_INVALID,	/* gpte not present or not accessed */
	ST_SYNC_DROP_OTHER,	/* same gfn, a reserved bit set */
	ST_SYNC_DROP_UNREADABLE,/* the gpte could not be read from guest memory */
	ST_SYNC_DROPS,
};

enum st_sp_event {
	ST_SP_CREATED,
	ST_SP_SYNCED,
	ST_SP_UNSYNCED,
	ST_SP_ZAPPED,
	ST_SP_EVENTS,
};

enum st_split {
	ST_SPLIT_OK,
	ST_SPLIT_FAILED,	/* e.g. -ENOMEM, -ENOSPC */
	ST_SPLIT_RETRIED,	/* -EAGAIN: KVM refilled its caches and splits it again */
	ST_SPLITS,
};

/* What an attach mode could not see, counted (never a silent zero). */
enum st_unseen {
	ST_UNSEEN_SPLIT_WRITES,	/* splits into a reused child page: its writes unseen */
	ST_UNSEENS,
};

enum st_hist_id {
	ST_HIST_SLOT_CHANGES,	 /* access changes in one slot lifetime */
	ST_HIST_CHANGE_INTERVAL, /* ns between successive changes of a slot (~1 us resolution) */
	ST_HIST_GFN_DISTANCE,	 /* |gfn delta| of a mismatch, in pages */
	ST_HISTS,
};

struct st_hist {
	__u64 buckets[ST_HIST_BUCKETS];
	__u64 sum;
};

/* The last bucket of histogram @id: it holds every larger value too. */
static inline __u32 st_hist_last(int id)
{
	return id == ST_HIST_CHANGE_INTERVAL ? ST_HIST_INTERVAL_LAST : ST_HIST_BUCKETS - 1;
}

/* Per-VM figures, one writer at a time (the VM's mmu_lock). */
struct st_vm_counters {
	__u64 writes[ST_ORIGINS][ST_KINDS][ST_LEVELS];
	__u64 first_writes;	/* into a slot with no known translation */
	__u64 remaps;		/* rewrite with another gfn outside sync */
	__u64 access_changes[ST_ORIGINS][ST_ACC_COMBOS][ST_ACC_COMBOS];
	__u64 gfn_mismatches[ST_MISMATCHES];
	__u64 sync_drops[ST_SYNC_DROPS];
	__u64 sp_events[ST_SP_EVENTS];
	__u64 splits[ST_SPLITS];
	__u64 unobservable[ST_UNSEENS];
	__u64 lifetimes_untracked; /* slot lifetimes whose change count was lost */
	struct st_hist hist[ST_HISTS];
};

/*
 * make bench's breakdown of the per-write program (--bench-step): it stops
 * after each step in turn, so each step's cost is the difference.
 */
enum st_bench_step {
	ST_BENCH_ALL,		/* no stop: every figure */
	ST_BENCH_ENTRY,		/* the process filter */
	ST_BENCH_LOOKUP,	/* + the page's entry and its VM */
	ST_BENCH_STATE_READ,	/* + the SPTE and old translation read (never accounted) */
	ST_BENCH_TDP_EXIT,	/* the entry, then every page taken for a cached TDP page */
};

/* Everything shadowtrace can fail to account, counted, never silent. */
enum st_drop {
	ST_DROP_SP_MAP_FULL,	/* shadow page table full: page not tracked */
	ST_DROP_VM_MAP_FULL,	/* more VMs than --max-vms */
	ST_DROP_SLOT_MAP_FULL,	/* churn slot table full */
	ST_DROP_UNKNOWN_SP,	/* event on a shadow page never seen */
	ST_DROP_UNKNOWN_VM,	/* event whose VM could not be found */
	ST_DROP_READ_FAULT,	/* kernel memory read failed */
	ST_DROP_ADOPT_TRUNCATED,/* pre-existing page walk hit its bound */
	ST_DROP_RINGBUF_FULL,	/* recording ring buffer overflow */
	ST_DROPS,
};

/* Occupancy of the bounded BPF maps (per-CPU deltas, summed in user space). */
enum st_usage {
	ST_USAGE_TRACKED_PAGES,	/* entries of the shadow page map */
	ST_USAGE_CHURNED_SLOTS,	/* slots with access changes, in the churn map */
	ST_USAGES,
};

/* Drops and map occupancy, one per CPU in BPF, summed in user space. */
struct st_drops {
	__u64 n[ST_DROPS];
	__s64 usage[ST_USAGES];		/* +1/-1 per CPU; the sum is the occupancy */
	__u64 lost[ST_EV_TYPES];	/* events the full ring buffer refused */
	__u64 tdp_mmu_pages[ST_SP_EVENTS]; /* created/zapped: not shadow pages, left out */
};

/* A translation write whose new value lands after the tracepoint. */
enum st_pending_type {
	ST_PENDING_NONE,
	ST_PENDING_SET,		/* kvm_mmu_set_spte: one slot */
	ST_PENDING_SYNC,	/* kvm_mmu_sync_page: a whole page */
};

/*
 * Resolved at the VM's next MMU event: all of them run under the VM's
 * mmu_lock, after the store completed.
 */
struct st_pending {
	__u64 spt;		/* shadow page key (its spt page address) */
	__u64 slot_addr;	/* &shadowed_translation[idx] */
	__u64 old;		/* previous cache value, if old_known */
	__u32 idx;
	__u8 type;
	__u8 origin;
	__u8 old_known;
	__u8 level;
};

/* The MMUs a VM's pages were seen in (st_vm_info.mmu): its own tables shadowed, or TDP. */
enum st_mmu_seen {
	ST_MMU_SHADOW = 1,	/* a shadow page: shadow paging, or a nested guest's NPT/EPT */
	ST_MMU_TDP = 2,		/* a TDP MMU page (EPT/NPT for the VM itself) */
};

/*
 * A slot's state (st_vm_info.state). FREE with a VM's address: BPF claimed
 * the slot and is still writing its identity, which user space must not
 * take yet (it would keep pid 0 and an empty name for good).
 */
enum st_vm_state {
	ST_VM_FREE,
	ST_VM_LIVE,
	ST_VM_ENDED,	/* another VM took its address: user space reports it */
};


/* Identity and bookkeeping of one VM slot (non per-CPU). */
struct st_vm_info {
	__u64 kvm;		/* struct kvm *, 0 when the slot is free */
	__u32 pid;		/* VMM process (tgid) */
	__u32 state;
	__u64 first_seen_ns;
	__u64 adopted_sps;	/* pages that existed before attach */
	__u64 live_sps;		/* tracked shadow pages right now */
	__u64 pages_created;	/* KVM's own count (mmu_cache_miss) at the last page created */
	__u64 kvm_dir_ino;	/* its debugfs directory's inode: which VM it is (0: none) */
	struct st_pending pending;
	/* the VMM's identity, read at first sight: it may exit before we look */
	__u32 cmdline_len;
	__u32 mmu;		/* enum st_mmu_seen bits */
	char comm[ST_COMM_MAX];
	char cmdline[ST_CMDLINE_MAX];	/* NUL-separated, maybe truncated */
	char kvm_dir[ST_KVM_DIR_MAX];	/* KVM's debugfs directory of the VM; "" if none */
};

/* A shadow page around its sync: before at kvm_mmu_sync_page, after later. */
struct st_sync_snapshot {
	__u64 translation[ST_SPTES_PER_PAGE];
	__u64 spte[ST_SPTES_PER_PAGE];
	__u64 gpte[ST_SPTES_PER_PAGE];
	__u64 after_translation[ST_SPTES_PER_PAGE];
	__u64 after_spte[ST_SPTES_PER_PAGE];
	__u32 gpte_ok;
	__u32 pad;
};

/* Attach modes (one meaning: the same accounting code behind all). */
enum st_attach_mode {
	ST_ATTACH_TRACEPOINT,
	ST_ATTACH_KPROBE,
	ST_ATTACH_FENTRY,
	ST_ATTACH_MODES,
};

#endif /* SHADOWTRACE_H */
