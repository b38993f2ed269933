/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The churn table: the slots whose access changed this lifetime, open
 * addressing over an array (maps.bpf.h churn, table.bpf.h).
 *
 * A slot is placed among the CHURN_PROBES entries of its probe
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
#include "table.bpf.h"

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
	return ((__u32)table_probe_hash(key >> 4, i) + (__u32)(key & 15)) & churn_mask;
}

struct churn_search {
	struct table_search t;
	__u64 now;		/* an insert: the first change's tick */
};

static __always_inline long churn_find_at(struct churn_search *q, __u32 k)
{
	struct st_churn_entry *e = bpf_map_lookup_elem(&churn, &k);

	return table_find_at(&q->t, e ? &e->key : NULL, k);
}

/* An insert's step; a claimed entry counts the first change. */
static __always_inline long churn_claim_at(struct churn_search *q, __u32 k)
{
	struct st_churn_entry *e = bpf_map_lookup_elem(&churn, &k);
	long stop = table_claim_at(&q->t, e ? &e->key : NULL, k);

	if (e && q->t.done) {
		e->v.changes = 1;
		e->v.last_tick = q->now;
	}
	return stop;
}

static long churn_find_step(__u32 i, void *data)
{
	struct churn_search *q = data;

	return churn_find_at(q, churn_probe(q->t.key, i + 1));
}

static long churn_claim_step(__u32 i, void *data)
{
	struct churn_search *q = data;

	return churn_claim_at(q, churn_probe(q->t.key, i + 1));
}

static __always_inline struct st_churn_entry *churn_entry(__u64 spt, __u32 idx)
{
	struct churn_search q = { .t.key = st_churn_key(spt, idx) };

	if (!churn_find_at(&q, churn_probe(q.t.key, 0)))
		bpf_loop(CHURN_PROBES - 1, churn_find_step, &q, 0);
	return q.t.done ? bpf_map_lookup_elem(&churn, &q.t.entry) : NULL;
}

static __always_inline struct st_churn *churn_find(__u64 spt, __u32 idx)
{
	struct st_churn_entry *e = churn_entry(spt, idx);

	return e ? &e->v : NULL;
}

/* Slot @idx's first change, at @now: 0, or -1 if the table is full. */
static __always_inline int churn_insert(__u64 spt, __u32 idx, __u64 now)
{
	struct churn_search q = { .t.key = st_churn_key(spt, idx), .now = now };

	if (!churn_claim_at(&q, churn_probe(q.t.key, 0)))
		bpf_loop(CHURN_PROBES - 1, churn_claim_step, &q, 0);
	return q.t.done ? 0 : -1;
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
	e->key = TABLE_GONE;
	return 0;
}

#endif
