// SPDX-License-Identifier: GPL-2.0
/*
 * The kprobe and fentry entry points (the kvmmmu tracepoints' are in
 * tracepoints.bpf.c; see there for how the objects are linked). Each KVM
 * function has one handler; its fentry and kprobe programs only unpack
 * arguments. Targets are set (and losers left unloaded) by user space,
 * hook by hook (src/trace/probes.c).
 *
 * A function probe sees a store itself, so it accounts at once; a pending
 * write the kvm_mmu_set_spte tracepoint left for the same slot (when that
 * hook is attached too) is the same store and is superseded.
 *
 * Kernel words are read here by bpf_probe_read_kernel only: libbpf 1.1's
 * linker (Debian 12's bpftool) cannot link one kfunc called from two
 * objects, and tracepoints.bpf.c calls bpf_rdonly_cast (kvm.bpf.h).
 */
#define ST_READS_BY_HELPER
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "shadowtrace.h"
#include "page_state.h"
#include "maps.bpf.h"
#include "kvm.bpf.h"
#include "account.bpf.h"
#include "cache.bpf.h"
#include "state.bpf.h"
#include "pending.bpf.h"

/* Origin of a store seen at a function probe, from its SPTE (written already). */
static __always_inline __u32 store_origin(const struct st_sp *s, __u64 spte)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (splits_running && bpf_map_lookup_elem(&splitting, &tid))
		return ST_ORIGIN_SPLIT;
	return write_origin(s, spte);
}

/*
 * kvm_mmu_page_set_translation() or __rmap_add() about to store @gfn and
 * @access in slot @idx; @keep_gfn: kvm_mmu_page_set_access(), which keeps
 * the slot's gfn. @sp may be NULL (found from @spt then).
 */
static __always_inline void fn_store(struct kvm_mmu_page *sp, __u64 spt, __u32 idx,
				     __u64 gfn, __u32 access, bool keep_gfn)
{
	struct st_cpu *x = cpu();
	__u64 old, raw = 0;
	struct vm_ref v;
	struct st_sp *s;
	bool known, marked;
	__u32 origin;
	__u64 new;

	if (!traced_process() || !(s = sp_lookup(spt, sp, &v)))
		return;
	idx = slot_index(idx);
	if (x && x->sync_spt == spt) {
		/* FNAME(sync_page) of this very page: its pending sync stays */
		origin = ST_ORIGIN_SYNC;
	} else {
		if (x && x->call.active && x->call.spt == spt && x->call.idx == idx)
			x->call.active = 0;	/* the store of this mmu_set_spte() */
		marked = supersede_pending(&v, spt, idx);
		resolve_pending_at(&v, s, spt, idx);
		origin = store_origin(s, read_spte(spt, idx));
		if (stores_need_mark && !marked && origin != ST_ORIGIN_SPLIT)
			return;		/* a silent store: not a write */
	}
	if (s->direct) {
		account_direct_write(&v, s, spt, idx, origin,
				     keep_gfn ? st_direct_gfn(s->gfn, s->level, idx) : gfn);
		return;
	}
	known = read_old(s, idx, &old);
	/*
	 * sync rewrites present SPTEs only, so the cache holds their real
	 * translation even where no write was seen (an adopted page): the
	 * rule resolve_sync() applies in tracepoint mode.
	 */
	if (!known && origin == ST_ORIGIN_SYNC)
		known = !read_cache(slot_addr(s, idx), &old);
	/* set_access on a slot never seen written keeps whatever gfn is there */
	if (keep_gfn && !known && read_cache(slot_addr(s, idx), &raw))
		return;
	if (keep_gfn)
		gfn = st_translation_gfn(known ? old : raw);
	new = st_translation_make(gfn, cache_has_access() ? access : 0);
	/*
	 * 6.1's FNAME(sync_page) stores the access of every entry it keeps,
	 * changed or not (6.12's sync_spte skips unchanged ones): a sync store
	 * of the value already cached is no write, as tracepoint mode sees it.
	 */
	if (origin == ST_ORIGIN_SYNC && known && old == new)
		return;
	account_write(&v, s, spt, idx, origin, known, old, new, 0);
}

static __always_inline void sp_store(struct kvm_mmu_page *sp, __u32 idx, __u64 gfn,
				     __u32 access, bool keep_gfn)
{
	fn_store(sp, (__u64)BPF_CORE_READ(sp, spt), idx, gfn, access, keep_gfn);
}

static __always_inline void sptep_store(__u64 sptep, __u64 gfn, __u32 access)
{
	fn_store(NULL, sptep & PAGE_MASK_4K, sptep_index(sptep), gfn, access, false);
}

/*
 * mmu_set_spte() calls kvm_mmu_page_set_access() inline where it keeps a
 * mapping: its entry notes the slot's state, its return accounts the store
 * unless a set_translation probe already did. It counts what the
 * kvm_mmu_set_spte tracepoint marks: a changed, present SPTE.
 */
static __always_inline void call_enter(__u64 sptep, __u64 gfn)
{
	struct st_cpu *x = cpu();
	__u64 spt = sptep & PAGE_MASK_4K;
	struct vm_ref v;
	struct st_sp *s;

	if (!x)
		return;
	x->call.active = 0;
	if (!traced_process() || !(s = sp_lookup(spt, NULL, &v)))
		return;
	x->call.spt = spt;
	x->call.idx = sptep_index(sptep);
	x->call.gfn = gfn;
	if (kernel_u64((__u64)sptep, &x->call.old_spte)) {
		drop(ST_DROP_READ_FAULT);
		return;
	}
	x->call.old_known = !s->direct && read_old(s, x->call.idx, &x->call.old);
	x->call.active = 1;
}

static __always_inline void call_return(void)
{
	struct st_cpu *x = cpu();
	__u64 spt, spte, new;
	struct vm_ref v;
	struct st_sp *s;
	__u32 idx, origin;

	if (!x || !x->call.active)
		return;
	x->call.active = 0;
	spt = x->call.spt;
	idx = slot_index(x->call.idx);
	if (kernel_u64(spt + idx * sizeof(__u64), &spte)) {
		drop(ST_DROP_READ_FAULT);
		return;
	}
	if (spte == x->call.old_spte || !(spte & SPTE_MMU_PRESENT))
		return;		/* spurious, or an MMIO SPTE: no store */
	if (!(s = sp_lookup(spt, NULL, &v)))
		return;
	supersede_pending(&v, spt, idx);
	resolve_pending_at(&v, s, spt, idx);
	origin = store_origin(s, spte);
	if (s->direct) {
		account_direct_write(&v, s, spt, idx, origin, x->call.gfn);
		return;
	}
	if (read_cache(slot_addr(s, idx), &new))
		return;
	account_write(&v, s, spt, idx, origin, x->call.old_known, x->call.old, new, 0);
}

/* FNAME(sync_page) returned: the snapshot its kvm_mmu_sync_page took is due. */
static __always_inline void sync_return(void)
{
	struct st_cpu *x = cpu();
	struct vm_ref v;

	if (!x || !x->sync_vm)
		return;
	if (!vm_ref_of_slot(x->sync_vm - 1, &v) && v.info->pending.type == ST_PENDING_SYNC)
		resolve_pending(&v);
	x->sync_vm = 0;
	x->sync_spt = 0;
}

/* Eager huge page split: the stores it makes are of origin split. */
static __always_inline void split_enter(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u8 one = 1;

	if (traced_process() && !bpf_map_update_elem(&splitting, &tid, &one, BPF_NOEXIST))
		__sync_fetch_and_add(&splits_running, 1);
}

static __always_inline void split_return(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (splits_running && !bpf_map_delete_elem(&splitting, &tid))
		__sync_fetch_and_sub(&splits_running, 1);
}

/* kvm_mmu_page_set_translation(sp, index, gfn, access) */
SEC("fentry")
int BPF_PROG(fentry_set_translation, struct kvm_mmu_page *sp, int index, gfn_t gfn,
	     unsigned int access)
{
	sp_store(sp, index, gfn, access, false);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kprobe_set_translation, struct kvm_mmu_page *sp, int index, gfn_t gfn,
	       unsigned int access)
{
	sp_store(sp, index, gfn, access, false);
	return 0;
}

/* __rmap_add(kvm, cache, slot, spte, gfn, access): calls set_translation first */
SEC("fentry")
int BPF_PROG(fentry_rmap_add, void *kvm, void *cache, void *slot, u64 *spte, gfn_t gfn,
	     unsigned int access)
{
	sptep_store((__u64)spte, gfn, access);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kprobe_rmap_add, void *kvm, void *cache, void *slot, u64 *spte, gfn_t gfn)
{
	/* the sixth argument: libbpf 1.1 has no PT_REGS_PARM6 */
	sptep_store((__u64)spte, gfn, (__u32)ctx->r9);
	return 0;
}

/* kvm_mmu_page_set_access(sp, index, access) */
SEC("fentry")
int BPF_PROG(fentry_set_access, struct kvm_mmu_page *sp, int index, unsigned int access)
{
	sp_store(sp, index, 0, access, true);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kprobe_set_access, struct kvm_mmu_page *sp, int index, unsigned int access)
{
	sp_store(sp, index, 0, access, true);
	return 0;
}

/* mmu_set_spte(vcpu, slot, sptep, pte_access, gfn, pfn, fault) */
SEC("fentry")
int BPF_PROG(fentry_mmu_set_spte, void *vcpu, void *slot, u64 *sptep, unsigned int pte_access,
	     gfn_t gfn)
{
	call_enter((__u64)sptep, gfn);
	return 0;
}

SEC("fexit")
int BPF_PROG(fexit_mmu_set_spte)
{
	call_return();
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kprobe_mmu_set_spte, void *vcpu, void *slot, u64 *sptep, unsigned int pte_access,
	       gfn_t gfn)
{
	call_enter((__u64)sptep, gfn);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(kretprobe_mmu_set_spte)
{
	call_return();
	return 0;
}

/* FNAME(sync_page)(vcpu, sp) (6.1) or __kvm_sync_page(vcpu, sp) (6.4+) */
SEC("fexit")
int BPF_PROG(fexit_sync_page)
{
	sync_return();
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(kretprobe_sync_page)
{
	sync_return();
	return 0;
}

/* kvm_shadow_mmu_try_split_huge_pages() or shadow_mmu_split_huge_page() */
SEC("fentry")
int BPF_PROG(fentry_split)
{
	split_enter();
	return 0;
}

SEC("fexit")
int BPF_PROG(fexit_split)
{
	split_return();
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(kprobe_split)
{
	split_enter();
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(kretprobe_split)
{
	split_return();
	return 0;
}
