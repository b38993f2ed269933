// SPDX-License-Identifier: GPL-2.0
#include "figures/figures_json.h"
#include "figures/hist.h"
#include "figures/names.h"

uint64_t st_writes_of_origin(const struct st_vm_counters *c, int origin)
{
	uint64_t n = 0;

	for (int k = 0; k < ST_KINDS; k++)
		for (int l = 0; l < ST_LEVELS; l++)
			n += c->writes[origin][k][l];
	return n;
}

uint64_t st_writes_total(const struct st_vm_counters *c)
{
	uint64_t n = 0;

	for (int o = 0; o < ST_ORIGINS; o++)
		n += st_writes_of_origin(c, o);
	return n;
}

static void named_counts(struct json *j, const char *key, const char *const *names,
			 const __u64 *v, int n)
{
	json_obj_begin(j, key);
	for (int i = 0; i < n; i++)
		json_u64(j, names[i], v[i]);
	json_obj_end(j);
}

static void hist_json(struct json *j, const char *key, const struct st_hist *h, uint32_t last)
{
	json_obj_begin(j, key);
	json_u64(j, "count", st_hist_total(h));
	json_u64(j, "sum", h->sum);
	json_arr_begin(j, "buckets");
	for (uint32_t b = 0; b < ST_HIST_BUCKETS; b++) {
		if (!h->buckets[b])
			continue;
		json_obj_begin(j, NULL);
		json_u64(j, "min", st_hist_lower(b));
		if (b >= last)
			json_str(j, "max", "inf");
		else
			json_u64(j, "max", st_hist_upper(b));
		json_u64(j, "count", h->buckets[b]);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
}

void st_json_vm_figures(struct json *j, const struct st_vm_counters *c)
{
	json_obj_begin(j, "translation_writes");
	for (int o = 0; o < ST_ORIGINS; o++)
		json_u64(j, st_origin_names[o], st_writes_of_origin(c, o));
	json_obj_end(j);

	json_arr_begin(j, "translation_writes_by_page");
	for (int o = 0; o < ST_ORIGINS; o++)
		for (int k = 0; k < ST_KINDS; k++)
			for (int l = 0; l < ST_LEVELS; l++) {
				if (!c->writes[o][k][l])
					continue;
				json_obj_begin(j, NULL);
				json_str(j, "origin", st_origin_names[o]);
				json_str(j, "kind", st_kind_names[k]);
				json_u64(j, "level", (uint64_t)l + 1);
				json_u64(j, "count", c->writes[o][k][l]);
				json_obj_end(j);
			}
	json_arr_end(j);
	json_u64(j, "first_writes", c->first_writes);
	json_u64(j, "remaps", c->remaps);

	json_arr_begin(j, "access_changes");
	for (int o = 0; o < ST_ORIGINS; o++)
		for (int from = 0; from < ST_ACC_COMBOS; from++)
			for (int to = 0; to < ST_ACC_COMBOS; to++) {
				if (!c->access_changes[o][from][to])
					continue;
				json_obj_begin(j, NULL);
				json_str(j, "origin", st_origin_names[o]);
				json_str(j, "from", st_access_letters((uint32_t)from));
				json_str(j, "to", st_access_letters((uint32_t)to));
				json_u64(j, "count", c->access_changes[o][from][to]);
				json_obj_end(j);
			}
	json_arr_end(j);

	named_counts(j, "gfn_mismatches", st_mismatch_names, c->gfn_mismatches, ST_MISMATCHES);
	named_counts(j, "sync_drops", st_sync_drop_names, c->sync_drops, ST_SYNC_DROPS);
	named_counts(j, "shadow_pages", st_sp_event_names, c->sp_events, ST_SP_EVENTS);
	named_counts(j, "splits", st_split_names, c->splits, ST_SPLITS);
	json_u64(j, "lifetimes_untracked", c->lifetimes_untracked);

	json_obj_begin(j, "histograms");
	for (int h = 0; h < ST_HISTS; h++)
		hist_json(j, st_hist_names[h], &c->hist[h], st_hist_last(h));
	json_obj_end(j);
}

void st_json_vm_counters(FILE *f, const struct st_vm_counters *c)
{
	struct json j;

	json_init(&j, f);
	json_obj_begin(&j, NULL);
	st_json_vm_figures(&j, c);
	json_obj_end(&j);
}
