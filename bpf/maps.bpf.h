/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Maps, knobs and the other global variables, and the per-CPU state the
 * entry points keep. Every map is bounded; user space sizes them before load.
 *
 * The program objects (tracepoints.bpf.c, functions.bpf.c) are linked into
 * one (bpftool gen object), so each map and global is defined once: in
 * globals.bpf.c, which defines ST_DEFINE_GLOBALS before including this and
 * record.bpf.h. Everywhere else ST_GLOBAL makes them extern declarations,
 * which the linker resolves against that definition; ST_INIT() is the
 * definition's initial value.
 */
#ifndef SHADOWTRACE_MAPS_BPF_H
#define SHADOWTRACE_MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "shadowtrace.h"
#include "page_state.h"

#ifdef ST_DEFINE_GLOBALS
#define ST_GLOBAL
#define ST_INIT(value) = value
#else
#define ST_GLOBAL extern
#define ST_INIT(value)
#endif

/* Knobs, set through the skeleton's rodata before load. */
ST_GLOBAL const volatile __u32 targ_tgid ST_INIT(0);		/* only this VMM process, 0: all */
ST_GLOBAL const volatile __u32 max_vms ST_INIT(64);		/* = entries of the VM maps */
ST_GLOBAL const volatile __u32 adopt_limit ST_INIT(65536);	/* pre-existing pages walked per VM */
ST_GLOBAL const volatile bool floor_only ST_INIT(false);	/* benchmark floor: attach, do nothing */
/* benchmark breakdown: tp_set_spte stops after this step (enum st_bench_step) */
ST_GLOBAL const volatile __u32 bench_step ST_INIT(0);
/* a function probe sees the stores sync makes: the snapshot only finds drops */
ST_GLOBAL const volatile bool sync_stores_seen ST_INIT(false);
/*
 * The probed function sees silent stores too (mmu_set_spte() rewriting an
 * unchanged SPTE): only those the kvm_mmu_set_spte tracepoint marked as an
 * SPTE change are writes, as in every other mode.
 */
ST_GLOBAL const volatile bool stores_need_mark ST_INIT(false);
/*
 * A probe at the return of FNAME(sync_page) (6.1) or __kvm_sync_page()
 * (6.4+) ends each sync: until then every store to the synced page is
 * sync's. Without one the page's next store may be a fault's.
 */
ST_GLOBAL const volatile bool sync_return_seen ST_INIT(false);
/*
 * KVM maps ordinary VMs with EPT/NPT here: most SPTE writes are the TDP
 * MMU's, so tp_set_spte asks the vCPU before the page map. Only an order:
 * the answer is the same either way.
 */
ST_GLOBAL const volatile bool tdp_host ST_INIT(false);
/*
 * Linux 6.2+ (bpf_rdonly_cast): the tracepoints read SPTEs, translations and
 * the vCPU by plain loads (kvm.bpf.h kernel_u64()), else by
 * bpf_probe_read_kernel (probes.c decides).
 */
ST_GLOBAL const volatile bool reads_by_loads ST_INIT(false);
/* Nested guests' tables are AMD's NPT: their gptes read as 64-bit paging's. */
ST_GLOBAL const volatile bool nested_tables_npt ST_INIT(false);
/* A function probe sees the stores of eager huge page splits. */
ST_GLOBAL const volatile bool split_stores_seen ST_INIT(false);
/* shadowtrace record: every accounting call is also emitted as an event */
ST_GLOBAL const volatile bool recording ST_INIT(false);
ST_GLOBAL const volatile __u64 ring_bytes ST_INIT(4096);	/* = the events ring buffer's size */

/*
 * Tracked shadow pages (include/page_state.h), keyed by their spt page,
 * open-addressed in an array (pages.bpf.h). Not a BPF hash: every write
 * looks its page up, and a hash's lookup (jhash, a bucket, then the
 * element) took 50 of tp_set_spte's 178 ns per run; this, 18 (make
 * bench's breakdown).
 */
struct st_sp_entry {
	__u64 key;		/* TABLE_EMPTY, TABLE_GONE or the spt page */
	struct st_sp v;
};

ST_GLOBAL struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, struct st_sp_entry);
} sps SEC(".maps");
ST_GLOBAL const volatile __u32 sps_entries ST_INIT(32768);	/* = its entries */

/* struct kvm * -> VM slot */
ST_GLOBAL struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, __u32);
} vm_ids SEC(".maps");

ST_GLOBAL struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct st_vm_info);
} vms SEC(".maps");

/*
 * Not per-CPU on purpose: every kvmmmu tracepoint used here fires with the
 * VM's mmu_lock held for write, so each VM's state has one writer at a
 * time; per-CPU copies would only multiply memory by the CPU count.
 */
ST_GLOBAL struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct st_vm_counters);
} vm_counters SEC(".maps");

ST_GLOBAL struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct st_sync_snapshot);
} sync_snaps SEC(".maps");

/*
 * The slots that changed access this lifetime (include/page_state.h): their
 * change count and last change, open-addressed by st_churn_key() in an
 * array (bpf/churn.bpf.h). Not a BPF hash: its insert and delete were most
 * of a write's cost and of a zap's (make bench's breakdown). A slot the
 * full table refuses is a counted drop.
 */
struct st_churn_entry {
	__u64 key;		/* TABLE_EMPTY, TABLE_GONE or st_churn_key() */
	struct st_churn v;
};

ST_GLOBAL struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 131072);
	__type(key, __u32);
	__type(value, struct st_churn_entry);
} churn SEC(".maps");
ST_GLOBAL const volatile __u32 churn_mask ST_INIT(131071);	/* entries - 1, a power of two */

ST_GLOBAL struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct st_drops);
} drops SEC(".maps");

/*
 * An mmu_set_spte() call seen by a function probe, from entry to return:
 * the state of its slot before KVM wrote anything.
 */
struct st_call {
	__u64 spt;
	__u64 old_spte;
	__u64 old;		/* translation before, if old_known */
	__u64 gfn;
	__u32 idx;
	__u8 active;
	__u8 old_known;
	__u8 pad[2];
};

/* Per-CPU scratch: state that lives within one mmu_lock critical section. */
struct st_cpu {
	__u32 last_vm;		/* VM slot + 1 of the last page got */
	bool last_created;	/* and KVM had just created that page */
	__u32 sync_vm;		/* VM slot + 1 of the page being synced */
	__u64 sync_spt;		/* that page, till its sync is resolved */
	struct st_call call;
};

/* Tasks inside an eager huge page split (it may sleep and migrate). */
ST_GLOBAL struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u8);
} splitting SEC(".maps");

ST_GLOBAL struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct st_cpu);
} cpu_scratch SEC(".maps");

/*
 * TDP MMU page tables lately written or made, direct-mapped by spt page
 * (state.bpf.h tdp_page_cached()): an SPTE write into one leaves
 * tp_set_spte after one array load. Shared by all CPUs: each entry is one
 * u64, written whole.
 */
#define TDP_CACHE_ENTRIES	4096
ST_GLOBAL struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TDP_CACHE_ENTRIES);
	__type(key, __u32);
	__type(value, __u64);
} tdp_pages SEC(".maps");

static __always_inline struct st_drops *this_cpu_drops(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&drops, &zero);
}

static __always_inline void drop(enum st_drop why)
{
	struct st_drops *d = this_cpu_drops();

	if (d && why < ST_DROPS)
		d->n[why]++;
}

/* A TDP MMU page created or zapped: counted, not a drop (see sp_is_tdp()). */
static __always_inline void tdp_mmu_page(enum st_sp_event what)
{
	struct st_drops *d = this_cpu_drops();

	if (d && what < ST_SP_EVENTS)
		d->tdp_mmu_pages[what]++;
}

static __always_inline void usage_add(enum st_usage what, int delta)
{
	struct st_drops *d = this_cpu_drops();

	if (d && what < ST_USAGES)
		d->usage[what] += delta;
}

/*
 * Set by user space once every probe is attached: all hooks start at one
 * instant, so no page is seen created whose zap came before its hook did.
 */
ST_GLOBAL bool armed ST_INIT(false);
ST_GLOBAL __u32 splits_running ST_INIT(0);	/* tasks in splitting: skip its lookup at 0 */

static __always_inline bool traced_process(void)
{
	if (floor_only || !armed)
		return false;
	return !targ_tgid || (bpf_get_current_pid_tgid() >> 32) == targ_tgid;
}

static __always_inline __u64 now_tick(void)
{
	return bpf_ktime_get_ns() >> ST_TICK_SHIFT;
}

static __always_inline struct st_cpu *cpu(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&cpu_scratch, &zero);
}

#endif
