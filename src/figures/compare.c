// SPDX-License-Identifier: GPL-2.0
/* Figures side by side, cell by cell, from the figure table (figures.h). */
#include <inttypes.h>

#include "figures/compare.h"
#include "figures/figures.h"
#include "figures/hist.h"

static void hist_cells(const struct st_figure *f, const struct st_vm_counters *want,
		       const struct st_vm_counters *got, st_field_fn fn, void *arg)
{
	const struct st_hist *a = st_fig_hist(f, want), *b = st_fig_hist(f, got);
	char name[96];

	snprintf(name, sizeof(name), "%s.count", f->name);
	fn(name, st_hist_total(a), st_hist_total(b), arg);
	if (f->timing)
		return;
	snprintf(name, sizeof(name), "%s.sum", f->name);
	fn(name, a->sum, b->sum, arg);
	for (uint32_t k = 0; k < ST_HIST_BUCKETS; k++) {
		st_hist_bucket_name(f->name, k, st_hist_last(f->hist), name, sizeof(name));
		fn(name, a->buckets[k], b->buckets[k], arg);
	}
}

void st_figures_each(const struct st_vm_counters *want, const struct st_vm_counters *got,
		     st_field_fn fn, void *arg)
{
	char name[96];

	for (int i = 0; i < st_figures_n; i++) {
		const struct st_figure *f = &st_figures[i];

		if (f->kind == ST_FIG_HISTOGRAM) {
			hist_cells(f, want, got, fn, arg);
			continue;
		}
		if (st_fig_is_view(f))
			continue;	/* its cells are another figure's */
		for (int cell = 0; cell < st_fig_cells(f); cell++) {
			st_fig_cell_name(f, cell, name, sizeof(name));
			fn(name, st_fig_cell(f, want, cell), st_fig_cell(f, got, cell), arg);
		}
	}
}

void st_timing_each(const struct st_vm_counters *a, const struct st_vm_counters *b,
		    st_field_fn fn, void *arg)
{
	char name[96];

	for (int i = 0; i < st_figures_n; i++) {
		const struct st_figure *f = &st_figures[i];

		if (f->kind != ST_FIG_HISTOGRAM || !f->timing)
			continue;
		for (uint32_t k = 0; k <= st_hist_last(f->hist); k++) {
			st_hist_bucket_name(f->name, k, st_hist_last(f->hist), name, sizeof(name));
			fn(name, st_fig_hist(f, a)->buckets[k], st_fig_hist(f, b)->buckets[k], arg);
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
