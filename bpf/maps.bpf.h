/* SPDX-License-Identifier: GPL-2.0 */
/* Maps and knobs. Every map is bounded; user space sizes them before load. */
#ifndef SHADOWTRACE_MAPS_BPF_H
#define SHADOWTRACE_MAPS_BPF_H

/* Knobs, set through the skeleton's rodata before load. */
const volatile __u32 targ_tgid = 0;		/* only this VMM process, 0: all */
const volatile __u32 max_vms = 64;		/* = entries of the VM maps */
const volatile __u32 adopt_limit = 65536;	/* pre-existing pages walked per VM */
const volatile bool floor_only = false;		/* benchmark floor: attach, do nothing */
/* a function probe sees the stores sync makes: the snapshot only finds drops */
const volatile bool sync_stores_seen = false;
/*
 * The probed function sees silent stores too (mmu_set_spte() rewriting an
 * unchanged SPTE): only those the kvm_mmu_set_spte tracepoint marked as an
 * SPTE change are writes, as in every other mode.
 */
const volatile bool stores_need_mark = false;

/* Tracked shadow pages, keyed by the address of their spt page. */
struct st_sp {
	__u64 sp;		/* struct kvm_mmu_page * */
	__u64 translations;	/* shadowed_translation, 0 on direct pages */
	__u64 gfn;
	__u32 vm;		/* VM slot */
	__u8 level;
	__u8 direct;
	__u8 adopted;		/* existed before shadowtrace attached */
	__u8 zapped;		/* zapped, waiting for its trailing sync_page */
	__u8 ad_disabled;	/* no Accessed bit to tell fault from prefetch */
	__u8 pad[7];
	__u64 base_tick;	/* time origin of last_change, in 1.024 us ticks */
	__u64 known[ST_SPTES_PER_PAGE / 64];	/* slot's translation seen written */
	__u64 churned[ST_SPTES_PER_PAGE / 64];	/* slot changed access this lifetime */
	/*
	 * Per slot, dense (no hash work per change): access changes this
	 * lifetime (CHANGES_ESCALATED: the exact count is in the churn map),
	 * and the last change's tick (0: none; 1: older than the range).
	 */
	__u8 changes[ST_SPTES_PER_PAGE];
	__u32 last_change[ST_SPTES_PER_PAGE];
};

#define CHANGES_ESCALATED	255
#define TICK_NONE		0
#define TICK_BEYOND		1
#define TICK_FIRST		2	/* a stored tick is 2 + ticks since base_tick */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct st_sp);
} sps SEC(".maps");

/* struct kvm * -> VM slot */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, __u32);
} vm_ids SEC(".maps");

struct {
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
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct st_vm_counters);
} vm_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct st_sync_snapshot);
} sync_snaps SEC(".maps");

/* Exact change counts of the rare slots that changed more than 254 times. */
struct st_churn_key {
	__u64 spt;
	__u32 idx;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct st_churn_key);
	__type(value, __u64);
} churn SEC(".maps");

struct st_drops {
	__u64 n[ST_DROPS];
	__s64 usage[ST_USAGES];	/* +1/-1 per CPU; the sum is the occupancy */
};

struct {
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
	__u32 sync_vm;		/* VM slot + 1 of the page being synced */
	__u64 sync_spt;		/* that page, till its sync is resolved */
	struct st_call call;
};

/* Tasks inside an eager huge page split (it may sleep and migrate). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u8);
} splitting SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct st_cpu);
} cpu_scratch SEC(".maps");

static const struct st_sp zero_sp;

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
bool armed = false;

static __always_inline bool traced_process(void)
{
	if (floor_only || !armed)
		return false;
	return !targ_tgid || (bpf_get_current_pid_tgid() >> 32) == targ_tgid;
}

static __always_inline struct st_cpu *cpu(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&cpu_scratch, &zero);
}

#endif
