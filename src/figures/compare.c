// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>

#include "figures/compare.h"
#include "figures/hist.h"
#include "figures/names.h"

struct walk {
	st_field_fn fn;
	void *arg;
};

static void field(struct walk *w, const char *name, uint64_t want, uint64_t got)
{
	w->fn(name, want, got, w->arg);
}

static void counts(struct walk *w, const char *group, const char *const *names,
		   const __u64 *want, const __u64 *got, int n)
{
	char name[96];

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s.%s", group, names[i]);
		field(w, name, want[i], got[i]);
	}
}

void st_figures_each(const struct st_vm_counters *want, const struct st_vm_counters *got,
		     st_field_fn fn, void *arg)
{
	struct walk w = { fn, arg };
	char name[96];

	for (int o = 0; o < ST_ORIGINS; o++)
		for (int k = 0; k < ST_KINDS; k++)
			for (int l = 0; l < ST_LEVELS; l++) {
				snprintf(name, sizeof(name), "translation_writes.%s.%s.L%d",
					 st_origin_names[o], st_kind_names[k], l + 1);
				field(&w, name, want->writes[o][k][l], got->writes[o][k][l]);
			}
	field(&w, "first_writes", want->first_writes, got->first_writes);
	field(&w, "remaps", want->remaps, got->remaps);
	for (int o = 0; o < ST_ORIGINS; o++)
		for (int from = 0; from < ST_ACC_COMBOS; from++)
			for (int to = 0; to < ST_ACC_COMBOS; to++) {
				snprintf(name, sizeof(name), "access_changes.%s.%s->%s",
					 st_origin_names[o], st_access_letters((uint32_t)from),
					 st_access_letters((uint32_t)to));
				field(&w, name, want->access_changes[o][from][to],
				      got->access_changes[o][from][to]);
			}
	counts(&w, "gfn_mismatches", st_mismatch_names, want->gfn_mismatches,
	       got->gfn_mismatches, ST_MISMATCHES);
	counts(&w, "sync_drops", st_sync_drop_names, want->sync_drops, got->sync_drops,
	       ST_SYNC_DROPS);
	counts(&w, "shadow_pages", st_sp_event_names, want->sp_events, got->sp_events,
	       ST_SP_EVENTS);
	counts(&w, "splits", st_split_names, want->splits, got->splits, ST_SPLITS);
	field(&w, "lifetimes_untracked", want->lifetimes_untracked, got->lifetimes_untracked);
	for (int h = 0; h < ST_HISTS; h++) {
		snprintf(name, sizeof(name), "%s.count", st_hist_names[h]);
		field(&w, name, st_hist_total(&want->hist[h]), st_hist_total(&got->hist[h]));
		if (h == ST_HIST_CHANGE_INTERVAL)
			continue;
		snprintf(name, sizeof(name), "%s.sum", st_hist_names[h]);
		field(&w, name, want->hist[h].sum, got->hist[h].sum);
		for (uint32_t b = 0; b < ST_HIST_BUCKETS; b++) {
			snprintf(name, sizeof(name), "%s[%" PRIu64 "..%" PRIu64 "]", st_hist_names[h],
				 st_hist_lower(b), (uint64_t)st_hist_upper(b));
			field(&w, name, want->hist[h].buckets[b], got->hist[h].buckets[b]);
		}
	}
}

struct diff {
	FILE *out;
	int n;
};

static void count_diff(const char *name, uint64_t want, uint64_t got, void *arg)
{
	struct diff *d = arg;

	if (want == got)
		return;
	d->n++;
	if (d->out)
		fprintf(d->out, "  %s: expected %" PRIu64 ", got %" PRIu64 "\n", name, want, got);
}

int st_compare(const struct st_vm_counters *want, const struct st_vm_counters *got, FILE *out)
{
	struct diff d = { out, 0 };

	st_figures_each(want, got, count_diff, &d);
	return d.n;
}
