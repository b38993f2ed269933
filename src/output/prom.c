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

#include "figures/figures.h"
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
	prom_label_value(f, e->id.name);
	fprintf(f, ",pid=\"%u\"", e->id.pid);
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

static void histogram(FILE *f, const struct st_figure *h, const struct vm_table *t)
{
	family(f, h->prom, "histogram", h->help);
	for (unsigned int i = 0; i < t->n; i++) {
		const struct vm_entry *e = &t->vms[i];
		const struct st_hist *d = st_fig_hist(h, &e->c);
		uint64_t cum = 0;
		char series[128];

		snprintf(series, sizeof(series), "%s_bucket", h->prom);
		for (uint32_t b = 0; b < h->prom_first; b++)
			cum += d->buckets[b];
		for (uint32_t b = h->prom_first; b <= h->prom_last; b++) {
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
		snprintf(series, sizeof(series), "%s_sum", h->prom);
		vm_series(f, series, e);
		if (h->ns_to_seconds)
			fprintf(f, "} %.9f\n", (double)d->sum / 1e9);
		else
			value(f, d->sum);
		snprintf(series, sizeof(series), "%s_count", h->prom);
		vm_series(f, series, e);
		value(f, st_hist_total(d));
	}
}

/* A counter figure: a series per VM and reported cell (labels: its dims). */
static void counter(FILE *f, const struct st_figure *fig, const struct vm_table *t)
{
	family(f, fig->prom, "counter", fig->help);
	for (unsigned int i = 0; i < t->n; i++)
		for (int cell = 0; cell < st_fig_shown_cells(fig); cell++) {
			uint64_t n = st_fig_shown(fig, &t->vms[i].c, cell);

			if (!n && fig->sparse)
				continue;
			vm_series(f, fig->prom, &t->vms[i]);
			for (int d = 0; d < fig->shown; d++)
				label(f, fig->dims[d]->label,
				      fig->dims[d]->values[st_fig_shown_coord(fig, cell, d)]);
			value(f, n);
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

static uint64_t live_sps(const struct vm_entry *e) { return e->live_sps; }
static uint64_t pending(const struct vm_entry *e) { return e->pending; }

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
	for (unsigned int i = 0, any = 0; i < t->n; i++) {
		const struct vm_entry *e = &t->vms[i];

		if (!e->kvm_stats.read_at)
			continue;
		if (!any++)
			family(f, "shadowtrace_kvm_stats_refused", "gauge",
			       "KVM statistics of the VM the kernel refused to let be read (lockdown: debugfs opens only read-only files)");
		vm_series(f, "shadowtrace_kvm_stats_refused", e);
		value(f, (uint64_t)kvm_stats_refused(&e->kvm_stats));
	}
}

static void render(FILE *f, const struct report_ctx *r, const struct vm_table *t, double wall_now)
{
	for (int i = 0; i < st_figures_n; i++)
		if (st_figures[i].kind == ST_FIG_COUNTER)
			counter(f, &st_figures[i], t);
	per_vm_value(f, t, "shadowtrace_shadow_pages", "gauge",
		     "Shadow pages tracked right now.", live_sps);
	per_vm_value(f, t, "shadowtrace_pending_writes", "gauge",
		     "Writes not yet resolved (at most one per VM).", pending);
	if (r->mmu_known) {
		family(f, "shadowtrace_vm_info", "gauge",
		       "The MMU serving the VM: shadow, tdp, tdp+nested-shadow or unknown (no page yet).");
		for (unsigned int i = 0; i < t->n; i++) {
			vm_series(f, "shadowtrace_vm_info", &t->vms[i]);
			label(f, "mmu", st_mmu_name(t->vms[i].mmu));
			fputs("} 1\n", f);
		}
	}
	for (int i = 0; i < st_figures_n; i++)
		if (st_figures[i].kind == ST_FIG_HISTOGRAM)
			histogram(f, &st_figures[i], t);
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
	if (r->mmu_known) {
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
	fprintf(f, "shadowtrace_bpf_map_entries{map=\"churned_slots\"} %" PRId64 "\n", r->usage[ST_USAGE_CHURNED_SLOTS]);
	family(f, "shadowtrace_bpf_map_capacity", "gauge", "Capacity of shadowtrace's bounded BPF maps.");
	fprintf(f, "shadowtrace_bpf_map_capacity{map=\"shadow_pages\"} %u\n", r->limits.max_shadow_pages);
	fprintf(f, "shadowtrace_bpf_map_capacity{map=\"vms\"} %u\n", r->limits.max_vms);
	fprintf(f, "shadowtrace_bpf_map_capacity{map=\"churned_slots\"} %u\n", r->limits.max_churn_slots);
	if (r->map_bytes) {
		family(f, "shadowtrace_bpf_map_memory_bytes", "gauge",
		       "Kernel memory of shadowtrace's BPF maps, preallocated at load.");
		fprintf(f, "shadowtrace_bpf_map_memory_bytes %" PRIu64 "\n", r->map_bytes);
	}
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
		if (t->vms[k].id.pid == t->vms[i].id.pid && !strcmp(t->vms[k].id.name, t->vms[i].id.name))
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
