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

/* Key of a slot whose exact change count lives in the churn table. */
struct st_churn_key {
	__u64 spt;
	__u32 idx;
	__u32 pad;
};

#endif /* SHADOWTRACE_PAGE_STATE_H */
