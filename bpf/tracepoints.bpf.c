// SPDX-License-Identifier: GPL-2.0
/*
 * shadowtrace: live decode of KVM's shadowed-translation cache writes.
 *
 * The BPF side is three objects linked into one (bpftool gen object), with
 * one skeleton (shadowtrace_bpf):
 *   tracepoints.bpf.c  the kvmmmu tp_btf entry points (this file)
 *   functions.bpf.c    the same events from kprobe/fentry probes
 *   globals.bpf.c      the one definition of every map and global variable
 * What they share lives in headers, each including what it uses:
 *   maps.bpf.h     maps, knobs, drop counters, per-CPU scratch
 *   record.bpf.h   the events of shadowtrace record (ring buffer)
 *   kvm.bpf.h      CO-RE reads of KVM structures
 *   account.bpf.h  the accounting every attach mode feeds (and replay)
 *   cache.bpf.h    reads of a page's translation cache
 *   state.bpf.h    which VM / shadow page an event belongs to
 *   pending.bpf.h  writes whose new value lands after the tracepoint
 *
 * Which entry point serves which hook is chosen in user space (probes.c).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "shadowtrace.h"
#include "page_state.h"
#include "maps.bpf.h"
#include "kvm.bpf.h"
#include "account.bpf.h"
#include "state.bpf.h"
#include "pending.bpf.h"

/*
 * KVM never passes NULL to these tracepoints, but from Linux 6.12 (and in
 * its LTS series) the verifier types every tp_btf pointer argument as
 * maybe-NULL and refuses arithmetic on it until it is checked: hence the
 * "!sp" and "!kvm" tests below.
 */

SEC("tp_btf/kvm_mmu_set_spte")
int BPF_PROG(tp_set_spte, int level, gfn_t gfn, u64 *sptep)
{
	__u64 spt = (__u64)sptep & PAGE_MASK_4K;
	__u32 idx = sptep_index((__u64)sptep);
	struct vm_ref v;
	struct st_sp *s;

	if (!traced_process() || bench_step == ST_BENCH_ENTRY)
		return 0;
	/*
	 * Where EPT/NPT map ordinary VMs, most writes are TDP faults: out
	 * first, by the cache of TDP pages, else by asking the vCPU. The
	 * bench's TDP step runs the cache's hit on any host: the same
	 * instructions (tdp_host and bench_step are constants to the verifier).
	 */
	if (tdp_host || bench_step == ST_BENCH_TDP_EXIT) {
		if (tdp_page_cached(spt))
			return 0;
		if (bench_step == ST_BENCH_TDP_EXIT || vcpu_in_tdp_mmu(current_vcpu())) {
			tdp_page_cache(spt);
			return 0;
		}
	}
	s = sp_lookup(spt, NULL, &v);
	if (!s || bench_step == ST_BENCH_LOOKUP)
		return 0;
	if (bench_step != ST_BENCH_STATE_READ)
		resolve_pending_at(&v, s, spt, idx);
	pend_set(&v, s, spt, idx, write_origin(s, read_spte(spt, idx)), level, gfn);
	if (bench_step == ST_BENCH_STATE_READ)
		v.info->pending.type = ST_PENDING_NONE;	/* read, never accounted */
	return 0;
}

SEC("tp_btf/kvm_mmu_get_page")
int BPF_PROG(tp_get_page, struct kvm_mmu_page *sp, bool created)
{
	struct st_cpu *x;
	__u64 spt;
	struct vm_ref v;
	struct kvm *kvm;

	if (!sp || !traced_process() || !(x = cpu()))
		return 0;
	if (sp_is_tdp(sp)) {
		x->last_vm = 0;		/* so a TDP MMU split that follows is not ours */
		tdp_mmu_page(ST_SP_CREATED);
		if (tdp_host)
			tdp_page_cache((__u64)BPF_CORE_READ(sp, spt));
		/* list the VM, in every mode, though it may never have a shadow page */
		kvm = kvm_of_current_vcpu();
		if (kvm && !vm_get(kvm, &v, VM_TDP_PAGE, (__u64)sp))
			mmu_seen(&v, ST_MMU_TDP);
		return 0;
	}
	if (!created) {
		/* a page found in KVM's hash: adopt its VM if new to us */
		if (sp_lookup((__u64)BPF_CORE_READ(sp, spt), sp, &v)) {
			x->last_vm = v.slot + 1;
			x->last_created = false;
		}
		return 0;
	}
	spt = (__u64)BPF_CORE_READ(sp, spt);
	if (tdp_host)	/* a TDP page's address before: no more */
		tdp_page_forget(spt);
	kvm = kvm_of_new_sp(sp);
	if (!kvm) {
		drop(ST_DROP_UNKNOWN_VM);
		return 0;
	}
	if (vm_get(kvm, &v, VM_SHADOW_PAGE, (__u64)sp))
		return 0;
	resolve_pending(&v);
	if (track_sp(sp, false, &v))
		account_page_event(&v, spt, ST_SP_CREATED, ST_EVF_COUNTED);
	x->last_vm = v.slot + 1;
	x->last_created = true;
	return 0;
}

/*
 * The tracked page of a zap or sync event on @sp, facts read into @f. A
 * page already zapped only waits for the sync_page its zap fires (*zapped).
 */
static __always_inline struct st_sp *zap_sync_sp(struct kvm_mmu_page *sp, struct sp_facts *f,
						 struct vm_ref *v, bool *zapped)
{
	struct st_sp *s;

	*zapped = false;
	if (!sp || !traced_process())
		return NULL;
	if (sp_is_tdp(sp)) {
		tdp_mmu_page(ST_SP_ZAPPED);	/* the TDP MMU never syncs */
		return NULL;
	}
	if (read_sp(sp, f))
		return NULL;
	s = page_find(f->spt);
	if (s && s->zapped) {
		*zapped = true;
		return s;
	}
	if (!s && f->invalid)
		return NULL;	/* an invalid root zapped again on its last put */
	if (s)
		return vm_ref_of_sp(s, v) ? NULL : s;
	return sp_lookup(f->spt, sp, v);
}

SEC("tp_btf/kvm_mmu_prepare_zap_page")
int BPF_PROG(tp_prepare_zap_page, struct kvm_mmu_page *sp)
{
	struct sp_facts f;
	struct vm_ref v;
	bool zapped;
	struct st_sp *s = zap_sync_sp(sp, &f, &v, &zapped);

	if (!s || zapped)
		return 0;
	resolve_pending(&v);
	end_sp(&v, s, f.spt);
	account_page_event(&v, f.spt, ST_SP_ZAPPED, (f.invalid ? 0 : ST_EVF_COUNTED) | ST_EVF_GONE);
	/* an unsync page fires kvm_mmu_sync_page next: keep it till then */
	if (f.unsync)
		s->zapped = 1;
	else
		page_forget(f.spt);
	return 0;
}

SEC("tp_btf/kvm_mmu_unsync_page")
int BPF_PROG(tp_unsync_page, struct kvm_mmu_page *sp)
{
	struct vm_ref v;

	if (!sp || !traced_process() || !sp_lookup((__u64)BPF_CORE_READ(sp, spt), sp, &v))
		return 0;
	resolve_pending(&v);
	account_page_event(&v, (__u64)BPF_CORE_READ(sp, spt), ST_SP_UNSYNCED, ST_EVF_COUNTED);
	return 0;
}

SEC("tp_btf/kvm_mmu_sync_page")
int BPF_PROG(tp_sync_page, struct kvm_mmu_page *sp)
{
	struct st_cpu *x;
	struct sp_facts f;
	struct vm_ref v;
	bool zapped;
	struct st_sp *s = zap_sync_sp(sp, &f, &v, &zapped);

	if (!s)
		return 0;
	if (zapped) {
		page_forget(f.spt);	/* the zap of an unsync page */
		return 0;
	}
	resolve_pending(&v);
	account_page_event(&v, f.spt, ST_SP_SYNCED, ST_EVF_COUNTED);
	/* gptes of 64-bit/PAE paging and nested NPT only; not 32-bit, not nested EPT */
	pend_sync(&v, s, f.spt, !f.gpte4 && (!f.guest_mode || nested_tables_npt));
	x = sync_return_seen ? cpu() : NULL;
	if (x) {	/* the probe at FNAME(sync_page)'s return resolves it at once */
		x->sync_vm = v.slot + 1;
		x->sync_spt = f.spt;
	}
	return 0;
}

/*
 * A memslot change zaps every page from the VMM's ioctl, where no vCPU
 * runs: this event names the VM, so a VM first seen here is adopted now
 * and the zaps that follow are its own.
 */
SEC("tp_btf/kvm_mmu_zap_all_fast")
int BPF_PROG(tp_zap_all_fast, struct kvm *kvm)
{
	struct vm_ref v;

	if (!kvm || !traced_process() || !kvm_is_current(kvm) || vm_get(kvm, &v, VM_SEEN, 0))
		return 0;
	resolve_pending(&v);
	return 0;
}

SEC("tp_btf/kvm_mmu_split_huge_page")
int BPF_PROG(tp_split_huge_page, u64 gfn, u64 spte, int level, int errno)
{
	struct st_cpu *x;
	struct vm_ref v;

	if (!traced_process() || !(x = cpu()))
		return 0;
	if (errno) {
		/* no page got for it: the VM is the process's own */
		if (vm_of_current_process(&v))
			return 0;
		resolve_pending(&v);
		/* -EAGAIN: KVM refilled its caches and splits this SPTE again */
		account_split(&v, errno == -11 ? ST_SPLIT_RETRIED : ST_SPLIT_FAILED,
			      ST_SPLIT_STORES_SEEN);
		return 0;
	}
	/* no vCPU here: the split's child page was just got on this CPU (0: TDP MMU's) */
	if (!x->last_vm || vm_ref_of_slot(x->last_vm - 1, &v))
		return 0;
	resolve_pending(&v);
	/* that child page is new (the split wrote all of it), or a reused one */
	account_split(&v, ST_SPLIT_OK, split_stores_seen ? ST_SPLIT_STORES_SEEN :
		      x->last_created ? level - 1 : ST_SPLIT_STORES_UNSEEN);
	return 0;
}
