/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The accounting of translation writes, shared by every attach mode: a mode
 * only has to say "slot idx of page s went from old to new, origin o".
 *
 * A slot lifetime starts when a translation is first written to it (or a
 * new gfn is) and ends when its page is zapped, sync drops its SPTE, or
 * another gfn is written to it.
 */
#ifndef SHADOWTRACE_ACCOUNT_BPF_H
#define SHADOWTRACE_ACCOUNT_BPF_H

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

static __always_inline __u64 slot_addr(const struct st_sp *s, __u32 idx)
{
	return s->translations + (__u64)slot_index(idx) * sizeof(__u64);
}

/* Read one cache entry as a translation; a failed read is counted. */
static __always_inline int read_cache(__u64 addr, __u64 *out)
{
	__u64 raw;

	if (bpf_probe_read_kernel(&raw, sizeof(raw), (void *)addr)) {
		drop(ST_DROP_READ_FAULT);
		return -1;
	}
	*out = cache_value(raw);
	return 0;
}

static __always_inline __u32 slot_word(__u32 idx)
{
	return slot_index(idx) >> 6;
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

static __always_inline __u32 popcount64(__u64 x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (__u32)((x * 0x0101010101010101ULL) >> 56);
}

static __always_inline __u64 now_tick(void)
{
	return bpf_ktime_get_ns() >> ST_TICK_SHIFT;
}

/* A churned slot's lifetime ends: histogram its change count, reset it. */
static __always_inline void end_churned(struct st_vm_counters *c, struct st_sp *s, __u64 spt,
					__u32 idx)
{
	__u32 i = slot_index(idx);
	struct st_churn_key key = { .spt = spt, .idx = i };
	__u64 *n;

	if (s->changes[i] == CHANGES_ESCALATED) {
		n = bpf_map_lookup_elem(&churn, &key);
		if (n) {
			hist_add(c, ST_HIST_SLOT_CHANGES, *n);
			if (!bpf_map_delete_elem(&churn, &key))
				usage_add(ST_USAGE_ESCALATED, -1);
		} else {
			c->lifetimes_untracked++;	/* the exact count did not fit */
		}
	} else {
		hist_add(c, ST_HIST_SLOT_CHANGES, s->changes[i]);
	}
	s->changes[i] = 0;
	s->last_change[i] = TICK_NONE;
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
	end_churned(c, s, spt, idx);
}

struct rebase_ctx {
	struct st_sp *s;
	__u32 shift;
};

static long rebase_slot(__u32 i, void *data)
{
	struct rebase_ctx *r = data;
	__u32 *t = &r->s->last_change[slot_index(i)];

	if (*t >= TICK_FIRST)
		*t = *t - TICK_FIRST >= r->shift ? *t - r->shift : TICK_BEYOND;
	return 0;
}

/*
 * Ticks are u32 since base_tick: about every 37 minutes of a page's life
 * the base moves 2^30 ticks on; older last changes become TICK_BEYOND.
 */
static __always_inline __u32 slot_tick(struct st_sp *s, __u64 now)
{
	if (now - s->base_tick >= (1ULL << 31)) {
		struct rebase_ctx r = { .s = s, .shift = 1U << 30 };

		bpf_loop(ST_SPTES_PER_PAGE, rebase_slot, &r, 0);
		s->base_tick += r.shift;
		if (now - s->base_tick >= (1ULL << 31))	/* idle for ages: restart */
			s->base_tick = now - (1ULL << 30);
	}
	return (__u32)(now - s->base_tick) + TICK_FIRST;
}

static __always_inline void count_change(struct st_vm_counters *c, struct st_sp *s, __u64 spt,
					 __u32 i)
{
	struct st_churn_key key = { .spt = spt, .idx = i };
	__u64 *n, first = CHANGES_ESCALATED;

	i = slot_index(i);
	if (s->changes[i] < CHANGES_ESCALATED - 1) {
		s->changes[i]++;
		return;
	}
	if (s->changes[i] == CHANGES_ESCALATED - 1) {
		s->changes[i] = CHANGES_ESCALATED;
		if (bpf_map_update_elem(&churn, &key, &first, BPF_ANY))
			drop(ST_DROP_SLOT_MAP_FULL);
		else
			usage_add(ST_USAGE_ESCALATED, 1);
		return;
	}
	n = bpf_map_lookup_elem(&churn, &key);
	if (n)
		(*n)++;
}

static __always_inline void access_change(struct st_vm_counters *c, struct st_sp *s,
					  __u64 spt, __u32 idx, __u32 origin,
					  __u32 from, __u32 to)
{
	__u32 i = slot_index(idx), tick = slot_tick(s, now_tick()), last;

	c->access_changes[origin & 3][from & 7][to & 7]++;
	s->churned[slot_word(i)] |= slot_bit(i);
	last = s->last_change[i];
	if (last == TICK_BEYOND)
		hist_add(c, ST_HIST_CHANGE_INTERVAL, 1ULL << 40);
	else if (last != TICK_NONE)
		hist_add(c, ST_HIST_CHANGE_INTERVAL, (__u64)(tick - last) << ST_TICK_SHIFT);
	s->last_change[i] = tick;
	count_change(c, s, spt, i);
}

/*
 * One write to the cache of an indirect page: old -> new. @old_known: @old
 * is a translation this tool saw written (else the slot may hold garbage).
 */
static __always_inline void account_write(struct st_vm_counters *c, struct st_sp *s,
					  __u64 spt, __u32 idx, __u32 origin,
					  bool old_known, __u64 old, __u64 new)
{
	__u32 w = slot_word(idx);
	__u64 bit = slot_bit(idx);

	c->writes[origin & 3][ST_KIND_INDIRECT][level_index(s->level)]++;
	if (!old_known) {
		c->first_writes++;		/* a new lifetime */
	} else if (st_translation_gfn(old) != st_translation_gfn(new)) {
		c->remaps++;
		end_lifetime(c, s, spt, idx);	/* and a new one starts */
	} else if (st_translation_access(old) != st_translation_access(new)) {
		access_change(c, s, spt, idx, origin, st_translation_access(old),
			      st_translation_access(new));
	}
	s->known[w] |= bit;
}

/* A write to a direct page only checks KVM's gfn invariant. */
static __always_inline void account_direct_write(struct st_vm_counters *c, struct st_sp *s,
						 __u32 idx, __u32 origin, __u64 gfn)
{
	__u64 want = st_direct_gfn(s->gfn, s->level, idx);

	c->writes[origin & 3][ST_KIND_DIRECT][level_index(s->level)]++;
	if (want != gfn) {
		c->gfn_mismatches[ST_MISMATCH_DIRECT]++;
		hist_add(c, ST_HIST_GFN_DISTANCE, want > gfn ? want - gfn : gfn - want);
	}
}

struct end_sp_ctx {
	struct st_vm_counters *c;
	struct st_sp *s;
	__u64 spt;
	__u64 word;
	__u32 w;
};

static long end_churned_bit(__u32 b, void *data)
{
	struct end_sp_ctx *x = data;

	if (x->word & (1ULL << (b & 63)))
		end_churned(x->c, x->s, x->spt, x->w * 64 + (b & 63));
	return 0;
}

/* The page is zapped: every slot lifetime in it ends. */
static __always_inline void end_sp(struct st_vm_counters *c, struct st_sp *s, __u64 spt)
{
	struct end_sp_ctx x = { .c = c, .s = s, .spt = spt };

	for (__u32 w = 0; w < ST_SPTES_PER_PAGE / 64; w++) {
		__u64 known = s->known[w], churned = s->churned[w] & known;
		__u32 quiet = popcount64(known & ~churned);

		c->hist[ST_HIST_SLOT_CHANGES].buckets[0] += quiet;
		if (churned) {
			x.w = w;
			x.word = churned;
			bpf_loop(64, end_churned_bit, &x, 0);
		}
		s->known[w] = 0;
		s->churned[w] = 0;
	}
}

#endif
