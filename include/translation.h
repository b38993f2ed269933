/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one decode of KVM's shadowed-translation cache entry, shared by the
 * BPF programs and user space:
 *
 *   kvm_mmu_page.shadowed_translation[i] = gfn << PAGE_SHIFT | access
 *
 * where access is in KVM's ACC_* format (exec 1, write 2, user 4).
 */
#ifndef SHADOWTRACE_TRANSLATION_H
#define SHADOWTRACE_TRANSLATION_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define ST_PAGE_SHIFT	12
#define ST_ACC_EXEC	1u
#define ST_ACC_WRITE	2u
#define ST_ACC_USER	4u
#define ST_ACC_ALL	(ST_ACC_EXEC | ST_ACC_WRITE | ST_ACC_USER)
#define ST_ACC_COMBOS	8	/* every 3-bit access value */

/* SPTEs per shadow page and bits of gfn one level spans. */
#define ST_SPTES_PER_PAGE	512
#define ST_LEVEL_BITS		9

static inline __u64 st_translation_gfn(__u64 v)
{
	return v >> ST_PAGE_SHIFT;
}

static inline __u32 st_translation_access(__u64 v)
{
	return (__u32)(v & ST_ACC_ALL);
}

static inline __u64 st_translation_make(__u64 gfn, __u32 access)
{
	return gfn << ST_PAGE_SHIFT | (access & ST_ACC_ALL);
}

/* gfn that SPTE @idx of a *direct* shadow page must map (KVM's invariant). */
static inline __u64 st_direct_gfn(__u64 sp_gfn, __u32 level, __u32 idx)
{
	return sp_gfn + ((__u64)idx << ((level - 1) * ST_LEVEL_BITS));
}

/*
 * Log2 histogram buckets, chosen so that every bucket has an honest upper
 * edge: bucket 0 holds the value 0, bucket k >= 1 holds [2^(k-1), 2^k - 1].
 */
#define ST_HIST_BUCKETS	48

static inline __u32 st_hist_bucket(__u64 v)
{
	__u32 b = 0;

	/* branch-free enough for BPF: at most 6 steps, no loops */
	if (v >= (1ULL << 32)) { b += 32; v >>= 32; }
	if (v >= (1ULL << 16)) { b += 16; v >>= 16; }
	if (v >= (1ULL << 8))  { b += 8;  v >>= 8; }
	if (v >= (1ULL << 4))  { b += 4;  v >>= 4; }
	if (v >= (1ULL << 2))  { b += 2;  v >>= 2; }
	if (v >= (1ULL << 1))  { b += 1;  v >>= 1; }
	b += (__u32)v;		/* v is 0 or 1 here: floor(log2)+1, or 0 for 0 */
	return b < ST_HIST_BUCKETS ? b : ST_HIST_BUCKETS - 1;
}

/*
 * Change intervals are kept per SPTE slot in 1.024 us ticks (u32, rebased),
 * so they resolve to ~1 us and are measured up to 2^40 ns (~18 min): their
 * histogram's bucket ST_HIST_INTERVAL_LAST is open-ended, ">= 2^40 ns".
 */
#define ST_TICK_SHIFT		10
#define ST_HIST_INTERVAL_LAST	41

/* Largest value bucket @b holds; the last bucket is open-ended. */
static inline __u64 st_hist_upper(__u32 b)
{
	return b == 0 ? 0 : (b >= 64 ? ~0ULL : (1ULL << b) - 1);
}

#endif /* SHADOWTRACE_TRANSLATION_H */
