/* SPDX-License-Identifier: GPL-2.0 */
/* Reading a tracked page's translation cache from kernel memory. */
#ifndef SHADOWTRACE_CACHE_BPF_H
#define SHADOWTRACE_CACHE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "page_state.h"
#include "maps.bpf.h"
#include "kvm.bpf.h"
#include "account.bpf.h"

static __always_inline __u64 slot_addr(const struct st_sp *s, __u32 idx)
{
	return s->translations + (__u64)slot_index(idx) * sizeof(__u64);
}

/* Read one cache entry as a translation; a failed read is counted. */
static __always_inline int read_cache(__u64 addr, __u64 *out)
{
	__u64 raw;

	if (kernel_u64(addr, &raw)) {
		drop(ST_DROP_READ_FAULT);
		return -1;
	}
	*out = cache_value(raw);
	return 0;
}

/*
 * The translation slot @idx holds now, if this tool saw one written there:
 * a never-written slot holds garbage (the cache is not zeroed).
 */
static __always_inline bool read_old(const struct st_sp *s, __u32 idx, __u64 *old)
{
	*old = 0;
	return (s->known[slot_word(idx)] & slot_bit(idx)) && !read_cache(slot_addr(s, idx), old);
}

#endif
