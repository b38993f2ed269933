/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The churn table: the slots whose access changed this lifetime, open
 * addressing over an array (maps.bpf.h churn).
 *
 * Every entry is one VM's, and each VM's events run under its mmu_lock, so
 * an entry has one writer at a time; only claiming a free entry races with
 * other VMs, and a compare-and-swap of its key settles that. A deleted entry
 * becomes CHURN_GONE, never empty again, so a search may stop at the first
 * empty one. A slot is placed among the CHURN_PROBES entries of its probe
 * sequence and found there; when all of them are taken, the table is full
 * for it (counted, and recorded with the write: a replay refuses the same
 * slots). With user space's twice --max-churn-slots entries, that starts
 * at about 1.5 times it (below). No count of live slots: an atomic one
 * cost more than the table itself.
 */
#ifndef SHADOWTRACE_CHURN_BPF_H
#define SHADOWTRACE_CHURN_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "page_state.h"
#include "maps.bpf.h"

#define CHURN_EMPTY	0ULL
#define CHURN_GONE	1ULL	/* no spt page is at address 0 */
#define CHURN_PROBES	32

/*
 * Entry @i of @key's probe sequence. The 16 slots of a run share a place
 * (a run of 16 entries, 384 bytes), so a page's slots, written in order,
 * reuse cache lines and TLB entries: that halved a write's cost of this
 * table and cut a zap's by two thirds (make bench). Each probe places the
 * run anew, independently: runs that collide once need not again, and the
 * table refuses slots only past three quarters full (simulated: from 0.64
 * to 0.78 of its entries, whatever the slots' pattern).
 */
static __always_inline __u32 churn_probe(__u64 key, __u32 i)
{
	__u64 x = (key >> 4) + i * 0x9E3779B97F4A7C15ULL;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return ((__u32)x + (__u32)(key & 15)) & churn_mask;
}

/*
 * A search along a key's probe sequence. The first entry is tried inline
 * (at the usual load it is the one); the rest take a bpf_loop step each (a
 * plain loop made the verifier walk every path of every probe).
 */
struct churn_search {
	__u64 key;
	__u64 now;		/* an insert: the first change's tick */
	__u32 entry;		/* where the key was found or placed */
	__u32 done;
};

/* 1: @k is @q's entry (q->done), or its key is not in the table; 0: next. */
static __always_inline long churn_find_at(struct churn_search *q, __u32 k)
{
	struct st_churn_entry *e = bpf_map_lookup_elem(&churn, &k);

	if (!e || e->key == CHURN_EMPTY)
		return 1;
	if (e->key != q->key)
		return 0;
	q->entry = k;
	q->done = 1;
	return 1;
}

/* 1: @q's key is placed at @k (q->done), or the table ends; 0: next. */
static __always_inline long churn_claim_at(struct churn_search *q, __u32 k)
{
	struct st_churn_entry *e = bpf_map_lookup_elem(&churn, &k);
	__u64 was;

	if (!e)
		return 1;
	was = e->key;
	if ((was != CHURN_EMPTY && was != CHURN_GONE) ||
	    __sync_val_compare_and_swap(&e->key, was, q->key) != was)
		return 0;
	e->v.changes = 1;
	e->v.last_tick = q->now;
	q->done = 1;
	return 1;
}

static long churn_find_step(__u32 i, void *data)
{
	struct churn_search *q = data;

	return churn_find_at(q, churn_probe(q->key, i + 1));
}

static long churn_claim_step(__u32 i, void *data)
{
	struct churn_search *q = data;

	return churn_claim_at(q, churn_probe(q->key, i + 1));
}

static __always_inline struct st_churn_entry *churn_entry(__u64 spt, __u32 idx)
{
	struct churn_search q = { .key = st_churn_key(spt, idx) };

	if (!churn_find_at(&q, churn_probe(q.key, 0)))
		bpf_loop(CHURN_PROBES - 1, churn_find_step, &q, 0);
	return q.done ? bpf_map_lookup_elem(&churn, &q.entry) : NULL;
}

static __always_inline struct st_churn *churn_find(__u64 spt, __u32 idx)
{
	struct st_churn_entry *e = churn_entry(spt, idx);

	return e ? &e->v : NULL;
}

/* Slot @idx's first change, at @now: 0, or -1 if the table is full. */
static __always_inline int churn_insert(__u64 spt, __u32 idx, __u64 now)
{
	struct churn_search q = { .key = st_churn_key(spt, idx), .now = now };

	if (!churn_claim_at(&q, churn_probe(q.key, 0)))
		bpf_loop(CHURN_PROBES - 1, churn_claim_step, &q, 0);
	return q.done ? 0 : -1;
}

/*
 * Slot @idx's lifetime is over: its change count into *@changes, its entry
 * freed. 0, or -1 if it had no entry.
 */
static __always_inline int churn_end(__u64 spt, __u32 idx, __u64 *changes)
{
	struct st_churn_entry *e = churn_entry(spt, idx);

	if (!e)
		return -1;
	*changes = e->v.changes;
	e->key = CHURN_GONE;
	return 0;
}

#endif
