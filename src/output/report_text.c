// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "figures/figures.h"
#include "output/figures_json.h"
#include "figures/hist.h"
#include "figures/names.h"
#include "output/report.h"

/* KVM's own statistics, as last read, wrapped within 79 columns (live only). */
static void kvm_stats_text(FILE *f, const struct vm_entry *e)
{
	const char *title = "KVM's statistics";
	int col = 0;	/* of the line being written; 0: none yet */

	if (!e->kvm_dir[0])
		return;		/* a recording, or KVM without debugfs */
	if (!e->kvm_stats.read_at) {
		fprintf(f, "  %-20s not readable in /sys/kernel/debug/kvm/%s\n", title, e->kvm_dir);
		return;
	}
	for (int i = 0; i < KVM_STATS_N; i++) {
		char item[64];
		int n;

		if (!kvm_stat_present(&e->kvm_stats, i))
			continue;
		n = snprintf(item, sizeof(item), " %s %" PRIu64, kvm_stat_defs[i].name, e->kvm_stats.v[i]);
		if (!col || col + n > 79) {
			fprintf(f, "%s  %-20s", col ? "\n" : "", title);
			title = "";
			col = 22;
		}
		fputs(item, f);
		col += n;
	}
	if (col)
		fputc('\n', f);
	if (e->kvm_stats.refused)
		fprintf(f, "  %-20s %d refused by the kernel (lockdown: debugfs opens only read-only files)\n",
			col ? "" : title, kvm_stats_refused(&e->kvm_stats));
}

/* A row of a matrix figure: "fault indirect L1", "fault -ux -> wux". */
static void row_labels(FILE *f, const struct st_figure *fig, int cell)
{
	for (int d = 0; d < fig->shown; d++) {
		const struct st_dim *dim = fig->dims[d];

		fprintf(f, "%s%s%s", !d ? "" : strcmp(dim->sep, ".") ? " -> " : " ", dim->prefix,
			dim->values[st_fig_shown_coord(fig, cell, d)]);
	}
}

/* One counter figure: a value, a line of named values, or a line per row. */
static void counter_text(FILE *f, const struct st_figure *fig, const struct st_vm_counters *c)
{
	bool any = false;

	fprintf(f, "  %-20s", fig->title);
	if (!fig->shown) {
		fprintf(f, " %" PRIu64 "\n", st_fig_cell(fig, c, 0));
		return;
	}
	for (int cell = 0; cell < st_fig_shown_cells(fig); cell++) {
		uint64_t n = st_fig_shown(fig, c, cell);

		if (fig->shown == 1) {
			fprintf(f, " %s %" PRIu64, fig->dims[0]->values[cell], n);
			continue;
		}
		if (!n && fig->sparse)
			continue;
		fprintf(f, "%s", any ? "\n  " : " ");
		if (any)
			fprintf(f, "%-20s ", "");
		row_labels(f, fig, cell);
		fprintf(f, "  %" PRIu64, n);
		any = true;
	}
	fprintf(f, "%s\n", fig->shown > 1 && !any ? " none" : "");
}

void report_text_vm(FILE *f, const struct vm_entry *e)
{
	fprintf(f, "VM %s (pid %u%s%s)%s%s\n", e->id.name, e->id.pid, e->mmu ? ", MMU " : "",
		e->mmu ? st_mmu_name(e->mmu) : "", e->alive ? "" : " [exited]",
		e->pending ? " [1 write pending]" : "");
	for (int i = 0; i < st_figures_n; i++)
		if (st_figures[i].kind == ST_FIG_COUNTER)
			counter_text(f, &st_figures[i], &e->c);
	fprintf(f, "  %-20s adopted %" PRIu64 " live %" PRIu64 "\n", "shadow pages now",
		e->adopted_sps, e->live_sps);
	kvm_stats_text(f, e);
	for (int i = 0; i < st_figures_n; i++) {
		const struct st_figure *h = &st_figures[i];
		const struct st_hist *d = st_fig_hist(h, &e->c);

		if (h->kind != ST_FIG_HISTOGRAM)
			continue;
		fprintf(f, "  %s (%" PRIu64 " samples)\n", h->name, st_hist_total(d));
		st_hist_print(f, d, h->unit, st_hist_last(h->hist));
	}
}

static uint64_t writes_new(const struct vm_entry *e)
{
	return st_writes_total(&e->c) - e->writes_reported;
}

static uint64_t access_changes(const struct st_vm_counters *c)
{
	uint64_t n = 0;

	for (int o = 0; o < ST_ORIGINS; o++)
		for (int a = 0; a < ST_ACC_COMBOS; a++)
			for (int b = 0; b < ST_ACC_COMBOS; b++)
				n += c->access_changes[o][a][b];
	return n;
}

/* most translation writes since the last report first, then most in all, then by name */
static int by_activity(const void *pa, const void *pb)
{
	const struct vm_entry *a = *(const struct vm_entry *const *)pa;
	const struct vm_entry *b = *(const struct vm_entry *const *)pb;
	uint64_t na = writes_new(a), nb = writes_new(b);
	uint64_t ta = st_writes_total(&a->c), tb = st_writes_total(&b->c);

	if (na != nb)
		return na < nb ? 1 : -1;
	if (ta != tb)
		return ta < tb ? 1 : -1;
	return strcmp(a->id.name, b->id.name);
}

/* A line a VM, within 79 columns: its counters in all, and what is new since the last report. */
void report_text_top(FILE *f, const struct report_ctx *r, const struct vm_table *t)
{
	const struct vm_entry **shown = calloc(t->n ? t->n : 1, sizeof(*shown));
	unsigned int n = 0;

	if (!shown)
		return;
	for (unsigned int i = 0; i < t->n; i++)
		if (!t->vms[i].exit_reported || r->final)
			shown[n++] = &t->vms[i];
	qsort(shown, n, sizeof(*shown), by_activity);
	fprintf(f, "%-14s %6s  %8s %8s %8s %8s %6s %8s %4s\n", "VM", "PID", "WRITES+", "FAULT", "PREFETCH",
		"SYNC", "SPLIT", "ACCESS~", "GFN!");
	for (unsigned int i = 0; i < n && i < r->top; i++) {
		const struct vm_entry *e = shown[i];
		const struct st_vm_counters *c = &e->c;

		fprintf(f, "%-14.14s %6u%c %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %6" PRIu64
			" %8" PRIu64 " %4" PRIu64 "\n", e->id.name, e->id.pid, e->alive ? ' ' : '*', writes_new(e),
			st_writes_of_origin(c, ST_ORIGIN_FAULT), st_writes_of_origin(c, ST_ORIGIN_PREFETCH),
			st_writes_of_origin(c, ST_ORIGIN_SYNC), st_writes_of_origin(c, ST_ORIGIN_SPLIT),
			access_changes(c), (uint64_t)(c->gfn_mismatches[ST_MISMATCH_SYNC] + c->gfn_mismatches[ST_MISMATCH_DIRECT]));
	}
	if (n > r->top)
		fprintf(f, "... and %u more VMs (--top %u)\n", n - r->top, r->top);
	fprintf(f, "(WRITES+ since the last report, the rest in all; ACCESS~ access changes;\n"
		" GFN! gfn mismatches; PID* exited)\n");
	free(shown);
}

void report_text(FILE *f, const struct report_ctx *r, const struct vm_table *t)
{
	char ts[32];
	time_t now = time(NULL);
	uint64_t dropped = 0;

	strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&now));
	fprintf(f, "%s  shadowtrace %s mode%s\n", ts, r->attach_mode, r->final ? " (final)" : "");
	if (!r->access_known)
		fprintf(f, "  access unknown: this kernel's cache holds gfns only (before Linux 5.19);"
			" access changes cannot be seen\n");
	if (r->top)
		report_text_top(f, r, t);
	else
		for (unsigned int i = 0; i < t->n; i++)
			if (!t->vms[i].exit_reported || r->final)
				report_text_vm(f, &t->vms[i]);
	for (int d = 0; d < ST_DROPS; d++)
		dropped += r->drops[d];
	if (dropped || r->vms_forgotten) {
		fprintf(f, "DROPPED:");
		for (int d = 0; d < ST_DROPS; d++)
			if (r->drops[d])
				fprintf(f, " %s %" PRIu64, st_drop_names[d], r->drops[d]);
		if (r->vms_forgotten)
			fprintf(f, " exited_vms_forgotten %" PRIu64, r->vms_forgotten);
		fputc('\n', f);
	}
	if (r->tdp_mmu_pages[ST_SP_CREATED] || r->tdp_mmu_pages[ST_SP_ZAPPED])
		fprintf(f, "TDP MMU: %" PRIu64 " pages created, %" PRIu64 " zapped; not shadow pages,"
			" left out\n", r->tdp_mmu_pages[ST_SP_CREATED], r->tdp_mmu_pages[ST_SP_ZAPPED]);
	if (r->recording) {
		const struct rec_summary *rs = r->recording;

		fprintf(f, "RECORDING: %" PRIu64 " records, %s", rs->records,
			rs->complete ? "complete" : rs->problem);
		for (int e = 1; e < ST_EV_TYPES; e++)
			if (rs->lost[e])
				fprintf(f, "; lost %s %" PRIu64, st_event_names[e], rs->lost[e]);
		if (rs->inconsistent)
			fprintf(f, "; %" PRIu64 " events naming no known VM or page", rs->inconsistent);
		fputc('\n', f);
	}
	fflush(f);
}
