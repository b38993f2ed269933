/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Open addressing over a BPF array, as the churn table (churn.bpf.h) and
 * the tracked pages (pages.bpf.h) use it: an entry's first word is its key,
 * TABLE_EMPTY or TABLE_GONE. A deleted entry becomes TABLE_GONE, never
 * empty again, so a search stops at the first empty entry; an insert takes
 * the first empty or gone one by a compare-and-swap of its key (other VMs
 * insert at the same time; each key is one VM's, under its mmu_lock).
 */
#ifndef SHADOWTRACE_TABLE_BPF_H
#define SHADOWTRACE_TABLE_BPF_H

#include "vmlinux.h"

#define TABLE_EMPTY	0ULL
#define TABLE_GONE	1ULL	/* no spt page is at address 0 */

/* Probe @i of a key whose varying bits are @bits: independent of probe i-1. */
static __always_inline __u64 table_probe_hash(__u64 bits, __u32 i)
{
	__u64 x = bits + i * 0x9E3779B97F4A7C15ULL;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/*
 * A search along a key's probe sequence. The first entry is tried inline
 * (at the usual load it is the one); the rest take a bpf_loop step each (a
 * plain loop made the verifier walk every path of every probe).
 */
struct table_search {
	__u64 key;
	__u32 entry;		/* where the key was found or placed */
	__u32 done;
};

/*
 * One step of a find at entry @k, whose key is *@key (NULL: past the
 * table's end). 1: @k is the key's entry (q->done), or the key is not in
 * the table; 0: next.
 */
static __always_inline long table_find_at(struct table_search *q, __u64 *key, __u32 k)
{
	if (!key || *key == TABLE_EMPTY)
		return 1;
	if (*key != q->key)
		return 0;
	q->entry = k;
	q->done = 1;
	return 1;
}

/* One step of an insert: 1: the key is placed at @k (q->done), or the table ends; 0: next. */
static __always_inline long table_claim_at(struct table_search *q, __u64 *key, __u32 k)
{
	__u64 was;

	if (!key)
		return 1;
	was = *key;
	if ((was != TABLE_EMPTY && was != TABLE_GONE) ||
	    __sync_val_compare_and_swap(key, was, q->key) != was)
		return 0;
	q->entry = k;
	q->done = 1;
	return 1;
}

#endif
