/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The accounting of translation writes, shared by every attach mode: a mode
 * only has to say "slot idx of page s went from old to new, origin o".
 *
 * A slot lifetime starts when a translation is first written to it (or a
 * new gfn is) and ends when its page is zapped, sync drops its SPTE, or
 * another gfn is written to it.
 *
 * Every change to a VM's figures goes through an account_*() function
 * here, which also emits it as an event when recording. The same file is
 * compiled into user space (src/record/replay.c) to replay a recording's events
 * through the very same code. Compiled for BPF (__bpf__), it includes
 * what it uses; in user space the includer provides drop(), usage_add(),
 * now_tick(), emit(), the churn table (churn_find(), churn_insert(),
 * churn_end()) and bpf_loop().
 */
#ifndef SHADOWTRACE_ACCOUNT_BPF_H
#define SHADOWTRACE_ACCOUNT_BPF_H

#ifdef __bpf__
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "maps.bpf.h"		/* drop(), usage_add(), now_tick() */
#include "record.bpf.h"		/* emit() */
#include "churn.bpf.h"		/* the churn table */
#endif

#include "shadowtrace.h"
#include "page_state.h"

/* A VM's slot, identity and figures. */
struct vm_ref {
	__u32 slot;
	struct st_vm_info *info;
	struct st_vm_counters *c;
};

static __always_inline __u32 level_index(__u32 level)
{
	return level >= 1 && level <= ST_LEVELS ? level - 1 : ST_LEVELS - 1;
}

static __always_inline void hist_add(struct st_vm_counters *c, int id, __u64 v)
{
	__u32 b = st_hist_bucket(v), last = st_hist_last(id);

	if (b > last)
		b = last;
	if (b >= ST_HIST_BUCKETS)
		b = ST_HIST_BUCKETS - 1;
	c->hist[id].buckets[b]++;
	c->hist[id].sum += v;
}

static __always_inline __u64 slot_bit(__u32 idx)
{
	return 1ULL << (idx & 63);
}

/*
 * A slot index bounded for the verifier. The empty asm hides what the
 * compiler knows of @i, so it keeps the mask: Linux 6.1's verifier can
 * only bound an index through such an explicit mask.
 */
static __always_inline __u32 slot_index(__u32 i)
{
	asm volatile("" : "+r"(i));
	return i & (ST_SPTES_PER_PAGE - 1);
}

static __always_inline __u32 slot_word(__u32 idx)
{
	return slot_index(idx) >> 6;
}

static __always_inline __u32 popcount64(__u64 x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (__u32)((x * 0x0101010101010101ULL) >> 56);
}

/* A churned slot's lifetime ends: histogram its change count, forget it. */
static __always_inline void end_churned(struct st_vm_counters *c, __u64 spt, __u32 idx)
{
	__u64 changes;

	if (churn_end(spt, idx, &changes)) {
		c->lifetimes_untracked++;	/* the churn table was full */
		return;
	}
	hist_add(c, ST_HIST_SLOT_CHANGES, changes);
	usage_add(ST_USAGE_CHURNED_SLOTS, -1);
}

static __always_inline void end_lifetime(struct st_vm_counters *c, struct st_sp *s,
					 __u64 spt, __u32 idx)
{
	__u32 w = slot_word(idx);
	__u64 bit = slot_bit(idx);

	if (!(s->known[w] & bit))
		return;
	s->known[w] &= ~bit;
	if (!(s->churned[w] & bit)) {
		hist_add(c, ST_HIST_SLOT_CHANGES, 0);
		return;
	}
	s->churned[w] &= ~bit;
	end_churned(c, spt, idx);
}

/*
 * Slot @idx changed access: its first change this lifetime takes a churn
 * table entry; a later one adds its interval since the last. The churned
 * bit without an entry: the table was full at the first change (that
 * drop is counted, and the lifetime's end is counted untracked). Returns
 * ST_EVF_CHURN_FULL for that first change, else 0.
 */
static __always_inline __u32 access_change(struct st_vm_counters *c, struct st_sp *s,
					  __u64 spt, __u32 idx, __u32 origin,
					  __u32 from, __u32 to, __u64 now)
{
	__u32 w = slot_word(idx);
	__u64 bit = slot_bit(idx);
	struct st_churn *n;

	c->access_changes[origin & 3][from & 7][to & 7]++;
	if (!(s->churned[w] & bit)) {
		s->churned[w] |= bit;
		if (churn_insert(spt, idx, now)) {
			drop(ST_DROP_SLOT_MAP_FULL);
			return ST_EVF_CHURN_FULL;
		}
		usage_add(ST_USAGE_CHURNED_SLOTS, 1);
		return 0;
	}
	n = churn_find(spt, idx);
	if (!n)
		return 0;
	hist_add(c, ST_HIST_CHANGE_INTERVAL, (now - n->last_tick) << ST_TICK_SHIFT);
	n->changes++;
	n->last_tick = now;
	return 0;
}

/*
 * One write to the cache of an indirect page: old -> new. @old_known: @old
 * is a translation this tool saw written (else the slot may hold garbage).
 * @now: the time in ticks, read here if 0 and needed (a replay passes it).
 */
static __always_inline void account_write(struct vm_ref *v, struct st_sp *s, __u64 spt,
					  __u32 idx, __u32 origin, bool old_known, __u64 old,
					  __u64 new, __u64 now)
{
	struct st_vm_counters *c = v->c;
	__u32 w = slot_word(idx);
	__u64 bit = slot_bit(idx);
	__u32 flags = 0;

	c->writes[origin & 3][s->nested ? ST_KIND_NESTED_INDIRECT : ST_KIND_INDIRECT]
		[level_index(s->level)]++;
	if (!old_known) {
		c->first_writes++;		/* a new lifetime */
	} else if (st_translation_gfn(old) != st_translation_gfn(new)) {
		c->remaps++;
		end_lifetime(c, s, spt, idx);	/* and a new one starts */
	} else if (st_translation_access(old) != st_translation_access(new)) {
		if (!now)
			now = now_tick();
		flags = access_change(c, s, spt, idx, origin, st_translation_access(old),
				      st_translation_access(new), now);
	}
	s->known[w] |= bit;
	emit(v->slot, ST_EV_WRITE, flags | (origin & 3) | (old_known ? ST_EVF_OLD_KNOWN : 0),
	     slot_index(idx), spt, old, new, now);
}

/* A write to a direct page only checks KVM's gfn invariant. */
static __always_inline void account_direct_write(struct vm_ref *v, struct st_sp *s, __u64 spt,
						 __u32 idx, __u32 origin, __u64 gfn)
{
	struct st_vm_counters *c = v->c;
	__u64 want = st_direct_gfn(s->gfn, s->level, idx);

	c->writes[origin & 3][s->nested ? ST_KIND_NESTED_DIRECT : ST_KIND_DIRECT]
		[level_index(s->level)]++;
	if (want != gfn) {
		c->gfn_mismatches[ST_MISMATCH_DIRECT]++;
		hist_add(c, ST_HIST_GFN_DISTANCE, want > gfn ? want - gfn : gfn - want);
	}
	emit(v->slot, ST_EV_DIRECT_WRITE, origin & 3, slot_index(idx), spt, gfn, 0, 0);
}

/* Sync dropped the SPTE of slot @idx (@why, @distance for a gfn change). */
static __always_inline void account_sync_drop(struct vm_ref *v, struct st_sp *s, __u64 spt,
					      __u32 idx, __u32 why, __u64 distance)
{
	struct st_vm_counters *c = v->c;

	c->sync_drops[why < ST_SYNC_DROPS ? why : ST_SYNC_DROP_OTHER]++;
	if (why == ST_SYNC_DROP_GFN) {
		c->gfn_mismatches[ST_MISMATCH_SYNC]++;
		hist_add(c, ST_HIST_GFN_DISTANCE, distance);
	}
	end_lifetime(c, s, spt, idx);
	emit(v->slot, ST_EV_SYNC_DROP, 0, slot_index(idx), spt, why, distance, 0);
}

struct end_sp_ctx {
	struct st_vm_counters *c;	/* NULL: forget, histogram nothing */
	__u64 spt;
	__u64 word;
	__u32 w;
};

static long end_churned_bit(__u32 b, void *data)
{
	struct end_sp_ctx *x = data;
	__u32 idx = x->w * 64 + (b & 63);
	__u64 changes;

	if (!(x->word & (1ULL << (b & 63))))
		return 0;
	if (x->c)
		end_churned(x->c, x->spt, idx);
	else if (!churn_end(x->spt, idx, &changes))
		usage_add(ST_USAGE_CHURNED_SLOTS, -1);
	return 0;
}

/*
 * Every slot lifetime of page @s ends: histogrammed into @c, or with @c
 * NULL only forgotten (the page of a VM whose figures are gone).
 */
static __always_inline void end_slots(struct st_vm_counters *c, struct st_sp *s, __u64 spt)
{
	struct end_sp_ctx x = { .c = c, .spt = spt };

	/* unrolled: Linux 6.1 rejects the loop clang makes of it otherwise */
#pragma GCC unroll 8
	for (__u32 w = 0; w < ST_SPTES_PER_PAGE / 64; w++) {
		__u64 known = s->known[w], churned = s->churned[w];

		if (c)
			c->hist[ST_HIST_SLOT_CHANGES].buckets[0] += popcount64(known & ~churned);
		if (churned) {
			x.w = w;
			x.word = churned;
			bpf_loop(64, end_churned_bit, &x, 0);
		}
		s->known[w] = 0;
		s->churned[w] = 0;
	}
}

/* The page is zapped: every slot lifetime in it ends. */
static __always_inline void end_sp(struct vm_ref *v, struct st_sp *s, __u64 spt)
{
	emit(v->slot, ST_EV_PAGE_END, 0, 0, spt, 0, 0, 0);
	end_slots(v->c, s, spt);
}

/*
 * Page @s (key @spt) starts being tracked for VM @v: no slot known yet.
 * @flags: ST_EVF_DIRECT, ST_EVF_ADOPTED, ST_EVF_LIVE.
 */
static __always_inline void account_page_start(struct vm_ref *v, struct st_sp *s, __u64 spt,
					       __u64 gfn, __u32 level, __u32 flags, __u64 tick)
{
	emit(v->slot, ST_EV_PAGE_START, flags, 0, spt, gfn, level, tick);
	/*
	 * Fresh entries are zeroed, a reused one was just ended;
	 * or it is left by a VM long gone: its slots are forgotten.
	 */
	end_slots(NULL, s, spt);
	s->gfn = gfn;
	s->vm = v->slot;
	s->level = level;
	s->direct = !!(flags & ST_EVF_DIRECT);
	s->nested = !!(flags & ST_EVF_NESTED);
	s->adopted = !!(flags & ST_EVF_ADOPTED);
	s->zapped = 0;
	if (flags & ST_EVF_LIVE)
		v->info->live_sps++;
	if (flags & ST_EVF_ADOPTED)
		v->info->adopted_sps++;
}

/* A shadow page event (@flags: ST_EVF_COUNTED, ST_EVF_GONE). */
static __always_inline void account_page_event(struct vm_ref *v, __u64 spt, __u32 what,
					       __u32 flags)
{
	emit(v->slot, ST_EV_PAGE_EVENT, flags, 0, spt, what, 0, 0);
	if (flags & ST_EVF_COUNTED)
		v->c->sp_events[what < ST_SP_EVENTS ? what : ST_SP_CREATED]++;
	if (flags & ST_EVF_GONE)
		v->info->live_sps--;
}

/*
 * An eager huge page split (@result: enum st_split). @stores: what the
 * mode saw of its writes (ST_SPLIT_STORES_*, record.h). A mode that cannot
 * see them still knows them when the split filled a child page it had just
 * created: each of its SPTEs was written once (KVM only skips present ones).
 */
static __always_inline void account_split(struct vm_ref *v, __u32 result, __u32 stores)
{
	emit(v->slot, ST_EV_SPLIT, 0, 0, 0, result, stores, 0);
	v->c->splits[result < ST_SPLITS ? result : ST_SPLIT_FAILED]++;
	if (result != ST_SPLIT_OK || stores == ST_SPLIT_STORES_SEEN)
		return;
	if (stores == ST_SPLIT_STORES_UNSEEN)
		v->c->unobservable[ST_UNSEEN_SPLIT_WRITES]++;
	else
		/* only nested guests' huge pages are split (the TDP MMU's are not ours) */
		v->c->writes[ST_ORIGIN_SPLIT][ST_KIND_NESTED_DIRECT][level_index(stores)] +=
			ST_SPTES_PER_PAGE;
}

#endif
