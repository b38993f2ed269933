/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Writes whose new value lands after the tracepoint.
 *
 * kvm_mmu_set_spte fires after the SPTE is written but before KVM stores the
 * translation (rmap_add / kvm_mmu_page_set_access), and FNAME(sync_spte)
 * fires nothing per SPTE. So the old state is taken at the tracepoint and
 * compared at the VM's next MMU event: all of them run under the VM's
 * mmu_lock, hence strictly after the store. The VM's exit zaps every page,
 * which resolves the last one.
 */
#ifndef SHADOWTRACE_PENDING_BPF_H
#define SHADOWTRACE_PENDING_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "shadowtrace.h"
#include "page_state.h"
#include "maps.bpf.h"
#include "kvm.bpf.h"
#include "account.bpf.h"
#include "pages.bpf.h"
#include "cache.bpf.h"

static __always_inline void pend_set(struct vm_ref *v, struct st_sp *s, __u64 spt,
				     __u32 idx, __u32 origin, __u32 level, __u64 gfn)
{
	struct st_pending *p = &v->info->pending;
	__u64 old = 0;
	bool known = !s->direct && read_old(s, idx, &old);

	p->spt = spt;
	p->slot_addr = slot_addr(s, idx);
	/* a direct page checks the gfn written, it has no cache to compare */
	p->old = s->direct ? gfn : old;
	p->idx = idx;
	p->origin = origin;
	p->old_known = known;
	p->level = level;
	p->type = ST_PENDING_SET;
}

/*
 * A function probe sees the store of slot @idx itself: the tracepoint's
 * pending write of that slot (both may be attached) is the same store.
 */
static __always_inline bool supersede_pending(struct vm_ref *v, __u64 spt, __u32 idx)
{
	struct st_pending *p = &v->info->pending;

	if (p->type != ST_PENDING_SET || p->spt != spt || p->idx != idx)
		return false;
	p->type = ST_PENDING_NONE;
	return true;
}

/* Snapshot a page about to be synced, including the gptes it will read. */
static __always_inline void pend_sync(struct vm_ref *v, struct st_sp *s, __u64 spt,
				      bool gptes_readable)
{
	struct st_sync_snapshot *snap = bpf_map_lookup_elem(&sync_snaps, &v->slot);
	struct kvm *kvm = (struct kvm *)v->info->kvm;
	__u64 hva;

	if (!snap || !s->translations)
		return;
	if (bpf_probe_read_kernel(snap->translation, sizeof(snap->translation),
				  (void *)s->translations) ||
	    bpf_probe_read_kernel(snap->spte, sizeof(snap->spte), (void *)spt)) {
		drop(ST_DROP_READ_FAULT);
		return;
	}
	snap->gpte_ok = 0;
	if (gptes_readable && kvm_is_current(kvm)) {
		hva = gfn_to_hva(kvm, s->gfn);
		snap->gpte_ok = hva && !bpf_probe_read_user(snap->gpte, sizeof(snap->gpte),
							    (void *)hva);
	}
	v->info->pending.spt = spt;
	v->info->pending.type = ST_PENDING_SYNC;
}

struct sync_ctx {
	struct vm_ref *v;
	struct st_sp *s;
	struct st_sync_snapshot *snap;
	__u64 spt;
	/*
	 * The slot the resolving event already rewrote, if has_cur. Always
	 * within 0..511, no sentinel: Linux 6.1's verifier would pin i to a
	 * sentinel on the "i == cur_idx" branch and reject the indexing.
	 */
	__u32 cur_idx;
	__u32 has_cur;
	/*
	 * Resolved within the sync (its return, under the same mmu_lock): an
	 * SPTE gone is one sync dropped. Otherwise the host may have zapped
	 * it since, through the MMU notifier (compaction, KSM, migration),
	 * and no tracepoint said so.
	 */
	__u32 within_sync;
};

/* FNAME(sync_spte) drops an SPTE whose gpte is invalid or maps another gfn. */
static __always_inline bool sync_would_drop(const struct sync_ctx *x, __u32 i, __u64 before)
{
	__u64 g = x->snap->gpte[slot_index(i)];

	return !(g & GPTE_PRESENT) || !(g & GPTE_ACCESSED) ||
	       ((g & GPTE_ADDR_MASK) >> 12) != st_translation_gfn(before);
}

/*
 * The gpte sync read keeps slot @i for sure: valid, the same gfn, and none
 * of bits 52-63 set, the only ones that could still be reserved (a reserved
 * bit below 52 would be in the gfn, which the cached one cannot have).
 */
static __always_inline bool sync_surely_keeps(const struct sync_ctx *x, __u32 i, __u64 before)
{
	return x->snap->gpte_ok && !sync_would_drop(x, i, before) &&
	       !(x->snap->gpte[slot_index(i)] >> 52);
}

/* Why sync dropped the SPTE of slot @i, from the gpte it read. */
static __always_inline void sync_drop(struct sync_ctx *x, __u32 i, __u64 before)
{
	__u64 g = x->snap->gpte[slot_index(i)], ng, og;
	__u32 why = ST_SYNC_DROP_GFN;

	ng = (g & GPTE_ADDR_MASK) >> 12;
	og = st_translation_gfn(before);
	if (!x->snap->gpte_ok)
		why = ST_SYNC_DROP_UNREADABLE;
	else if (!(g & GPTE_PRESENT) || !(g & GPTE_ACCESSED))
		why = ST_SYNC_DROP_INVALID;
	else if (ng == og)
		why = ST_SYNC_DROP_OTHER;
	account_sync_drop(x->v, x->s, x->spt, i, why,
			  why == ST_SYNC_DROP_GFN ? (ng > og ? ng - og : og - ng) : 0);
}

static long sync_one_slot(__u32 i, void *data)
{
	struct sync_ctx *x = data;
	__u64 before, after, bt, at;

	i = slot_index(i);
	before = x->snap->spte[i];
	if (!(before & SPTE_MMU_PRESENT))
		return 0;
	bt = cache_value(x->snap->translation[i]);
	at = cache_value(x->snap->after_translation[i]);
	/*
	 * A translation written is an SPTE sync kept (it drops before it
	 * stores), even if the SPTE is gone now: the host may zap it through
	 * the MMU notifier (compaction, KSM), with no tracepoint, before the
	 * VM's next event resolves this sync.
	 */
	if (bt != at) {
		if (!sync_stores_seen)
			account_write(x->v, x->s, x->spt, i, ST_ORIGIN_SYNC, true, bt, at, 0);
		return 0;
	}
	after = x->snap->after_spte[i];
	/*
	 * kvm_mmu_set_spte fires after writing its SPTE: if that event is the
	 * one resolving this sync, its slot's SPTE no longer shows what sync
	 * did; the gpte sync read does (its cached translation is untouched).
	 */
	if (x->has_cur && i == slot_index(x->cur_idx))
		after = x->snap->gpte_ok && sync_would_drop(x, i, bt) ? 0 : SPTE_MMU_PRESENT;
	if (!(after & SPTE_MMU_PRESENT) && (x->within_sync || !sync_surely_keeps(x, i, bt)))
		sync_drop(x, i, bt);
	return 0;
}

static __always_inline void resolve_sync(struct vm_ref *v, __u64 spt, __u64 cur_spt,
					 __u32 cur_idx, bool within_sync)
{
	struct sync_ctx x = { .v = v, .spt = spt, .has_cur = spt == cur_spt,
			      .cur_idx = slot_index(cur_idx), .within_sync = within_sync };

	x.s = page_find(spt);
	x.snap = bpf_map_lookup_elem(&sync_snaps, &v->slot);
	if (!x.s || !x.snap)
		return;
	if (bpf_probe_read_kernel(x.snap->after_translation, sizeof(x.snap->after_translation),
				  (void *)x.s->translations) ||
	    bpf_probe_read_kernel(x.snap->after_spte, sizeof(x.snap->after_spte), (void *)spt)) {
		drop(ST_DROP_READ_FAULT);
		return;
	}
	bpf_loop(ST_SPTES_PER_PAGE, sync_one_slot, &x, 0);
}

static __always_inline void resolve_set(struct vm_ref *v, const struct st_pending *p,
					struct st_sp *cur, __u64 cur_spt)
{
	/* mostly the same page as the event resolving it: no second lookup */
	struct st_sp *s = p->spt == cur_spt && cur ? cur : page_find(p->spt);
	__u64 new;

	if (!s)
		return;
	if (s->direct) {
		account_direct_write(v, s, p->spt, p->idx, p->origin, p->old);
		return;
	}
	if (read_cache(p->slot_addr, &new))
		return;
	account_write(v, s, p->spt, p->idx, p->origin, p->old_known, p->old, new, 0);
}

/*
 * Resolve the VM's pending write. @cur/@cur_spt/@cur_idx: the page and SPTE
 * the calling event has already written (kvm_mmu_set_spte), or NULL/0/0.
 */
static __always_inline void resolve_pending_at(struct vm_ref *v, struct st_sp *cur, __u64 cur_spt,
					       __u32 cur_idx)
{
	/* in place, not copied: nothing below touches it (and stack is short on 6.1) */
	struct st_pending *p = &v->info->pending;
	struct st_cpu *x;
	bool within;

	if (p->type == ST_PENDING_NONE)
		return;
	if (p->type == ST_PENDING_SET) {
		resolve_set(v, p, cur, cur_spt);
		p->type = ST_PENDING_NONE;
		return;
	}
	p->type = ST_PENDING_NONE;
	x = cpu();
	within = x && x->sync_spt == p->spt;
	resolve_sync(v, p->spt, cur_spt, cur_idx, within);
	if (within)
		x->sync_spt = 0;	/* its stores are over */
}

static __always_inline void resolve_pending(struct vm_ref *v)
{
	resolve_pending_at(v, NULL, 0, 0);
}

#endif
