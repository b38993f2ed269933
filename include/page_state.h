/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What shadowtrace keeps per tracked shadow page: the state the accounting
 * (bpf/account.bpf.h) works on, in BPF maps live and in user space when a
 * recording is replayed.
 */
#ifndef SHADOWTRACE_PAGE_STATE_H
#define SHADOWTRACE_PAGE_STATE_H

#include "translation.h"

/* A tracked shadow page, keyed by the address of its spt page. */
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
	__u8 nested;		/* shadows a nested guest's NPT/EPT (role.guest_mode) */
	__u8 pad[6];
	__u64 known[ST_SPTES_PER_PAGE / 64];	/* slot's translation seen written */
	/* slot changed access this lifetime: its figures are in the churn table */
	__u64 churned[ST_SPTES_PER_PAGE / 64];
};

/*
 * A slot that changed access this lifetime, in the churn table: only such
 * slots take memory (most never change), so a page costs 168 bytes.
 */
struct st_churn {
	__u64 changes;		/* access changes this lifetime */
	__u64 last_tick;	/* of the last one, in 1.024 us ticks */
};

/* Its key: the spt page's address is 4 KiB aligned, the slot fits below. */
static inline __u64 st_churn_key(__u64 spt, __u32 idx)
{
	return spt | (idx & (ST_SPTES_PER_PAGE - 1));
}

#endif /* SHADOWTRACE_PAGE_STATE_H */
