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
	__u32 b = st_hist_bucket(v);

	if (b >= ST_HIST_BUCKETS)
		b = ST_HIST_BUCKETS - 1;
	c->hist[id].buckets[b]++;
	c->hist[id].sum += v;
}

static __always_inline __u64 slot_bit(__u32 idx)
{
	return 1ULL << (idx & 63);
}

static __always_inline __u32 slot_word(__u32 idx)
{
	return (idx >> 6) & 7;
}

static __always_inline __u32 popcount64(__u64 x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (__u32)((x * 0x0101010101010101ULL) >> 56);
}

/* A churned slot's lifetime ends: histogram its change count. */
static __always_inline void end_churned(struct st_vm_counters *c, __u64 spt, __u32 idx)
{
	struct st_churn_key key = { .spt = spt, .idx = idx };
	struct st_churn *e = bpf_map_lookup_elem(&churn, &key);

	if (!e) {
		c->lifetimes_untracked++;	/* table was full at its first change */
		return;
	}
	hist_add(c, ST_HIST_SLOT_CHANGES, e->changes);
	bpf_map_delete_elem(&churn, &key);
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

static __always_inline void access_change(struct st_vm_counters *c, struct st_sp *s,
					  __u64 spt, __u32 idx, __u32 origin,
					  __u32 from, __u32 to, __u64 now)
{
	struct st_churn_key key = { .spt = spt, .idx = idx };
	__u32 w = slot_word(idx);
	__u64 bit = slot_bit(idx);
	struct st_churn *e;

	c->access_changes[origin & 3][from & 7][to & 7]++;
	if (s->churned[w] & bit) {
		e = bpf_map_lookup_elem(&churn, &key);
		if (e) {
			hist_add(c, ST_HIST_CHANGE_INTERVAL, now - e->last_ns);
			e->changes++;
			e->last_ns = now;
		}
		return;
	}
	s->churned[w] |= bit;
	struct st_churn first = { .last_ns = now, .changes = 1 };
	if (bpf_map_update_elem(&churn, &key, &first, BPF_ANY))
		drop(ST_DROP_SLOT_MAP_FULL);
}

/* One write to the cache of an indirect page: old -> new. */
static __always_inline void account_write(struct st_vm_counters *c, struct st_sp *s,
					  __u64 spt, __u32 idx, __u32 origin,
					  bool old_known, __u64 old, __u64 new)
{
	__u32 w = slot_word(idx);
	__u64 bit = slot_bit(idx);

	c->writes[origin & 3][ST_KIND_INDIRECT][level_index(s->level)]++;
	if (!old_known || !(s->known[w] & bit)) {
		c->first_writes++;
		s->known[w] |= bit;
		return;
	}
	if (st_translation_gfn(old) != st_translation_gfn(new)) {
		c->remaps++;
		end_lifetime(c, s, spt, idx);
		s->known[w] |= bit;
		return;
	}
	if (st_translation_access(old) != st_translation_access(new))
		access_change(c, s, spt, idx, origin, st_translation_access(old),
			      st_translation_access(new), bpf_ktime_get_ns());
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
		end_churned(x->c, x->spt, x->w * 64 + (b & 63));
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
