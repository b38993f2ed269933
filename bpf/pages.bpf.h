/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tracked shadow pages: open addressing over an array (maps.bpf.h sps,
 * table.bpf.h), keyed by spt page. A page is placed among the PAGE_PROBES
 * entries of its probe sequence; user space gives the table twice
 * --max-shadow-pages entries, so at that many pages it is half full and
 * refuses a page once in 4 * 10^9 (0.5^32); refusals start at about 1.5
 * times it (counted: ST_DROP_SP_MAP_FULL).
 */
#ifndef SHADOWTRACE_PAGES_BPF_H
#define SHADOWTRACE_PAGES_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "page_state.h"
#include "maps.bpf.h"
#include "table.bpf.h"

#define PAGE_PROBES	32

/* Entry @i of spt page @key's probe sequence: multiply-shift, no modulo. */
static __always_inline __u32 page_probe(__u64 key, __u32 i)
{
	return ((__u64)(__u32)table_probe_hash(key >> 12, i) * sps_entries) >> 32;
}

static __always_inline long page_find_at(struct table_search *q, __u32 k)
{
	struct st_sp_entry *e = bpf_map_lookup_elem(&sps, &k);

	return table_find_at(q, e ? &e->key : NULL, k);
}

/* An insert's step; a claimed entry is a new page: zeroed. */
static __always_inline long page_claim_at(struct table_search *q, __u32 k)
{
	struct st_sp_entry *e = bpf_map_lookup_elem(&sps, &k);
	long stop = table_claim_at(q, e ? &e->key : NULL, k);

	if (e && q->done)
		__builtin_memset(&e->v, 0, sizeof(e->v));
	return stop;
}

static long page_find_step(__u32 i, void *data)
{
	struct table_search *q = data;

	return page_find_at(q, page_probe(q->key, i + 1));
}

static long page_claim_step(__u32 i, void *data)
{
	struct table_search *q = data;

	return page_claim_at(q, page_probe(q->key, i + 1));
}

/* The entry of spt page @spt, or NULL (the table's marks are no page). */
static __always_inline struct st_sp_entry *page_entry(__u64 spt)
{
	struct table_search q = { .key = spt };

	if (spt <= TABLE_GONE)
		return NULL;
	if (!page_find_at(&q, page_probe(spt, 0)))
		bpf_loop(PAGE_PROBES - 1, page_find_step, &q, 0);
	return q.done ? bpf_map_lookup_elem(&sps, &q.entry) : NULL;
}

/*
 * An entry's page. Not "e ? &e->v : NULL": clang computes e + 8 before the
 * test, which the verifier refuses on a pointer that may be NULL.
 */
static __always_inline struct st_sp *entry_page(struct st_sp_entry *e)
{
	if (!e)
		return NULL;
	barrier_var(e);
	return &e->v;
}

/* The tracked page of spt page @spt, or NULL. */
static __always_inline struct st_sp *page_find(__u64 spt)
{
	return entry_page(page_entry(spt));
}

/* A new tracked page for @spt (not in the table), zeroed; NULL if the table is full. */
static __always_inline struct st_sp *page_insert(__u64 spt)
{
	struct table_search q = { .key = spt };
	struct st_sp_entry *e;

	if (spt <= TABLE_GONE)
		return NULL;
	if (!page_claim_at(&q, page_probe(spt, 0)))
		bpf_loop(PAGE_PROBES - 1, page_claim_step, &q, 0);
	e = q.done ? bpf_map_lookup_elem(&sps, &q.entry) : NULL;
	if (e)
		usage_add(ST_USAGE_TRACKED_PAGES, 1);
	return entry_page(e);
}

/* Stop tracking @spt's page, if tracked. */
static __always_inline void page_forget(__u64 spt)
{
	struct st_sp_entry *e = page_entry(spt);

	if (!e)
		return;
	e->key = TABLE_GONE;
	usage_add(ST_USAGE_TRACKED_PAGES, -1);
}

#endif
