// SPDX-License-Identifier: GPL-2.0
/*
 * Metric names are a user-facing contract (README "Prometheus"). Labels are
 * bounded: per VM (vm, pid) and small fixed sets (origin, access letters,
 * kinds, levels); never per gfn or per slot.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "figures/figures_json.h"
#include "figures/hist.h"
#include "figures/names.h"
#include "output/prom.h"

void prom_label_value(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{vm="..",pid=".." */
static void vm_series(FILE *f, const char *name, const struct vm_entry *e)
{
	fprintf(f, "%s{vm=", name);
	prom_label_value(f, e->name);
	fprintf(f, ",pid=\"%u\"", e->pid);
}

static void label(FILE *f, const char *key, const char *value)
{
	fprintf(f, ",%s=", key);
	prom_label_value(f, value);
}

static void value(FILE *f, uint64_t v)
{
	fprintf(f, "} %" PRIu64 "\n", v);
}

/* le of bucket b in the unit exported: exact, so that "le" never lies. */
static void le_edge(FILE *f, uint32_t b, bool ns_to_seconds)
{
	uint64_t up = st_hist_upper(b);

	if (!ns_to_seconds) {
		fprintf(f, "%" PRIu64, up);
		return;
	}
	char frac[16];
	int n = snprintf(frac, sizeof(frac), "%09" PRIu64, up % 1000000000u);
	while (n > 1 && frac[n - 1] == '0')
		frac[--n] = 0;
	fprintf(f, "%" PRIu64 ".%s", up / 1000000000u, frac);
}

struct hist_spec {
	const char *name;
	const char *help;
	enum st_hist_id id;
	uint32_t first, last;	/* buckets exported with a finite le */
	bool ns_to_seconds;
};

static const struct hist_spec hists[] = {
	{ "shadowtrace_slot_access_changes",
	  "Access changes of one SPTE slot over its lifetime (recorded when it ends).",
	  ST_HIST_SLOT_CHANGES, 0, 17, false },
	{ "shadowtrace_access_change_interval_seconds",
	  "Time between successive access changes of one SPTE slot.",
	  ST_HIST_CHANGE_INTERVAL, 10, 40, true },
	{ "shadowtrace_gfn_mismatch_distance_pages",
	  "Distance in pages between the cached and the new gfn of a mismatch.",
	  ST_HIST_GFN_DISTANCE, 0, 33, false },
};

static void histogram(FILE *f, const struct hist_spec *h, const struct vm_table *t)
{
	family(f, h->name, "histogram", h->help);
	for (unsigned int i = 0; i < t->n; i++) {
		const struct vm_entry *e = &t->vms[i];
		const struct st_hist *d = &e->c.hist[h->id];
		uint64_t cum = 0;
		char series[128];

		snprintf(series, sizeof(series), "%s_bucket", h->name);
		for (uint32_t b = 0; b < h->first; b++)
			cum += d->buckets[b];
		for (uint32_t b = h->first; b <= h->last; b++) {
			cum += d->buckets[b];
			vm_series(f, series, e);
			fputs(",le=\"", f);
			le_edge(f, b, h->ns_to_seconds);
			fputc('"', f);
			value(f, cum);
		}
		vm_series(f, series, e);
		fputs(",le=\"+Inf\"", f);
		value(f, st_hist_total(d));
		snprintf(series, sizeof(series), "%s_sum", h->name);
		vm_series(f, series, e);
		if (h->ns_to_seconds)
			fprintf(f, "} %.9f\n", (double)d->sum / 1e9);
		else
			value(f, d->sum);
		snprintf(series, sizeof(series), "%s_count", h->name);
		vm_series(f, series, e);
		value(f, st_hist_total(d));
	}
}

static void per_vm_named(FILE *f, const struct vm_table *t, const char *name, const char *type,
			 const char *help, const char *key, const char *const *names, int n,
			 size_t offset)
{
	family(f, name, type, help);
	for (unsigned int i = 0; i < t->n; i++) {
		const struct vm_entry *e = &t->vms[i];
		const __u64 *v = (const __u64 *)((const char *)&e->c + offset);

		for (int k = 0; k < n; k++) {
			vm_series(f, name, e);
			label(f, key, names[k]);
			value(f, v[k]);
		}
	}
}

static void per_vm_value(FILE *f, const struct vm_table *t, const char *name, const char *type,
			 const char *help, uint64_t (*get)(const struct vm_entry *))
{
	family(f, name, type, help);
	for (unsigned int i = 0; i < t->n; i++) {
		vm_series(f, name, &t->vms[i]);
		value(f, get(&t->vms[i]));
	}
}

static uint64_t first_writes(const struct vm_entry *e) { return e->c.first_writes; }
static uint64_t remaps(const struct vm_entry *e) { return e->c.remaps; }
static uint64_t live_sps(const struct vm_entry *e) { return e->live_sps; }
static uint64_t pending(const struct vm_entry *e) { return e->pending; }
static uint64_t untracked(const struct vm_entry *e) { return e->c.lifetimes_untracked; }

/*
 * KVM's own statistics, named as KVM names them: a family each, counters
 * with _total (live only; a VM whose statistics were never read has none).
 */
static void kvm_stats_prom(FILE *f, const struct vm_table *t)
{
	char name[96];

	for (int s = 0; s < KVM_STATS_N; s++) {
		const struct kvm_stat_def *d = &kvm_stat_defs[s];
		bool any = false;

		snprintf(name, sizeof(name), "shadowtrace_kvm_%s%s", d->name, d->counter ? "_total" : "");
		for (unsigned int i = 0; i < t->n; i++) {
			const struct vm_entry *e = &t->vms[i];

			if (!kvm_stat_present(&e->kvm_stats, s))
				continue;
			if (!any)
				family(f, name, d->counter ? "counter" : "gauge", d->help);
			any = true;
			vm_series(f, name, e);
			value(f, e->kvm_stats.v[s]);
		}
	}
}

static void render(FILE *f, const struct report_ctx *r, const struct vm_table *t, double wall_now)
{
	char lvl[8];

	family(f, "shadowtrace_translation_writes_total", "counter",
	       "Writes to KVM's shadowed-translation cache, by origin.");
	for (unsigned int i = 0; i < t->n; i++)
		for (int o = 0; o < ST_ORIGINS; o++) {
			vm_series(f, "shadowtrace_translation_writes_total", &t->vms[i]);
			label(f, "origin", st_origin_names[o]);
			value(f, st_writes_of_origin(&t->vms[i].c, o));
		}

	family(f, "shadowtrace_translation_writes_by_page_total", "counter",
	       "Writes to the cache by origin, shadow page kind and level.");
	for (unsigned int i = 0; i < t->n; i++)
		for (int o = 0; o < ST_ORIGINS; o++)
			for (int k = 0; k < ST_KINDS; k++)
				for (int l = 0; l < ST_LEVELS; l++) {
					if (!t->vms[i].c.writes[o][k][l])
						continue;
					vm_series(f, "shadowtrace_translation_writes_by_page_total", &t->vms[i]);
					label(f, "origin", st_origin_names[o]);
					label(f, "kind", st_kind_names[k]);
					snprintf(lvl, sizeof(lvl), "%d", l + 1);
					label(f, "level", lvl);
					value(f, t->vms[i].c.writes[o][k][l]);
				}

	family(f, "shadowtrace_access_changes_total", "counter",
	       "Access changes of cached translations, from -> to in KVM's wux letters.");
	for (unsigned int i = 0; i < t->n; i++)
		for (int o = 0; o < ST_ORIGINS; o++)
			for (int a = 0; a < ST_ACC_COMBOS; a++)
				for (int b = 0; b < ST_ACC_COMBOS; b++) {
					uint64_t n = t->vms[i].c.access_changes[o][a][b];

					if (!n)
						continue;
					vm_series(f, "shadowtrace_access_changes_total", &t->vms[i]);
					label(f, "origin", st_origin_names[o]);
					label(f, "from", st_access_letters((uint32_t)a));
					label(f, "to", st_access_letters((uint32_t)b));
					value(f, n);
				}

	per_vm_named(f, t, "shadowtrace_gfn_mismatches_total", "counter",
		     "Gfn mismatches: sync drops of remapped gptes, direct page invariant violations.",
		     "kind", st_mismatch_names, ST_MISMATCHES,
		     offsetof(struct st_vm_counters, gfn_mismatches));
	per_vm_named(f, t, "shadowtrace_sync_drops_total", "counter",
		     "SPTEs dropped by sync, by reason read from the gpte.",
		     "reason", st_sync_drop_names, ST_SYNC_DROPS,
		     offsetof(struct st_vm_counters, sync_drops));
	per_vm_named(f, t, "shadowtrace_shadow_pages_total", "counter",
		     "Shadow page events.", "event", st_sp_event_names, ST_SP_EVENTS,
		     offsetof(struct st_vm_counters, sp_events));
	per_vm_named(f, t, "shadowtrace_splits_total", "counter",
		     "Eager huge page splits of the shadow MMU.", "result", st_split_names,
		     ST_SPLITS, offsetof(struct st_vm_counters, splits));
	per_vm_value(f, t, "shadowtrace_first_writes_total", "counter",
		     "Cache writes into a slot with no known translation.", first_writes);
	per_vm_value(f, t, "shadowtrace_remaps_total", "counter",
		     "Cache rewrites with another gfn outside sync.", remaps);
	per_vm_value(f, t, "shadowtrace_untracked_lifetimes_total", "counter",
		     "Slot lifetimes whose change count was lost to a full churn table.", untracked);
	per_vm_value(f, t, "shadowtrace_shadow_pages", "gauge",
		     "Shadow pages tracked right now.", live_sps);
	per_vm_value(f, t, "shadowtrace_pending_writes", "gauge",
		     "Writes not yet resolved (at most one per VM).", pending);
	for (size_t h = 0; h < sizeof(hists) / sizeof(hists[0]); h++)
		histogram(f, &hists[h], t);
	if (!r->recording)
		kvm_stats_prom(f, t);

	family(f, "shadowtrace_dropped_events_total", "counter",
	       "Events shadowtrace could not account, by reason.");
	for (int d = 0; d < ST_DROPS; d++) {
		fprintf(f, "shadowtrace_dropped_events_total{reason=\"%s\"} %" PRIu64 "\n",
			st_drop_names[d], r->drops[d]);
	}
	fprintf(f, "shadowtrace_dropped_events_total{reason=\"exited_vms_forgotten\"} %" PRIu64 "\n",
		r->vms_forgotten);
	if (!r->recording) {
		family(f, "shadowtrace_tdp_mmu_pages_total", "counter",
		       "TDP MMU (EPT/NPT) pages created and zapped: not shadow pages, left out.");
		fprintf(f, "shadowtrace_tdp_mmu_pages_total{event=\"created\"} %" PRIu64 "\n",
			r->tdp_mmu_pages[ST_SP_CREATED]);
		fprintf(f, "shadowtrace_tdp_mmu_pages_total{event=\"zapped\"} %" PRIu64 "\n",
			r->tdp_mmu_pages[ST_SP_ZAPPED]);
	}
	family(f, "shadowtrace_bpf_map_entries", "gauge", "Entries in use of shadowtrace's bounded BPF maps.");
	fprintf(f, "shadowtrace_bpf_map_entries{map=\"shadow_pages\"} %" PRId64 "\n", r->usage[ST_USAGE_TRACKED_PAGES]);
	fprintf(f, "shadowtrace_bpf_map_entries{map=\"vms\"} %u\n", r->vm_slots_used);
	fprintf(f, "shadowtrace_bpf_map_entries{map=\"escalated_slots\"} %" PRId64 "\n", r->usage[ST_USAGE_ESCALATED]);
	family(f, "shadowtrace_bpf_map_capacity", "gauge", "Capacity of shadowtrace's bounded BPF maps.");
	fprintf(f, "shadowtrace_bpf_map_capacity{map=\"shadow_pages\"} %u\n", r->limits.max_shadow_pages);
	fprintf(f, "shadowtrace_bpf_map_capacity{map=\"vms\"} %u\n", r->limits.max_vms);
	fprintf(f, "shadowtrace_bpf_map_capacity{map=\"escalated_slots\"} %u\n", r->limits.max_churn_slots);
	family(f, "shadowtrace_vms", "gauge", "VMs in this export (live and recently exited).");
	fprintf(f, "shadowtrace_vms %u\n", t->n);
	family(f, "shadowtrace_build_info", "gauge", "shadowtrace version, attach mode and kernel.");
	fputs("shadowtrace_build_info{version=", f);
	prom_label_value(f, ST_VERSION);
	label(f, "attach_mode", r->attach_mode);
	label(f, "kernel", r->kernel);
	fputs("} 1\n", f);
	family(f, "shadowtrace_last_export_timestamp_seconds", "gauge",
	       "When this export was written (Unix time).");
	fprintf(f, "shadowtrace_last_export_timestamp_seconds %.3f\n", wall_now);
}

/* A later VM of the same process and name (the next VM at its address). */
static bool superseded(const struct vm_table *t, unsigned int i)
{
	for (unsigned int k = i + 1; k < t->n; k++)
		if (t->vms[k].pid == t->vms[i].pid && !strcmp(t->vms[k].name, t->vms[i].name))
			return true;
	return false;
}

/*
 * VMs are series by (vm, pid): of VMs one after another in one process
 * under one name, only the newest is shown, and its counters restarting is
 * a counter reset to Prometheus.
 */
void prom_render(FILE *f, const struct report_ctx *r, const struct vm_table *t, double wall_now)
{
	struct vm_table shown = { .vms = calloc(t->n ? t->n : 1, sizeof(*t->vms)) };

	if (!shown.vms) {
		render(f, r, t, wall_now);
		return;
	}
	for (unsigned int i = 0; i < t->n; i++)
		if (!superseded(t, i))
			shown.vms[shown.n++] = t->vms[i];
	render(f, r, &shown, wall_now);
	free(shown.vms);
}

int prom_write_file(struct out_file *o, const struct report_ctx *r, const struct vm_table *t,
		    double wall_now)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int err;

	if (!f)
		return -ENOMEM;
	prom_render(f, r, t, wall_now);
	fclose(f);
	err = out_file_replace(o, buf, len);
	free(buf);
	return err;
}
