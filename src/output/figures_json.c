// SPDX-License-Identifier: GPL-2.0
/* The figure table (figures.h) as JSON. */
#include <stdlib.h>

#include "figures/figures.h"
#include "output/figures_json.h"
#include "figures/hist.h"

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

/* a row of a matrix: {label: value, ..., "count": n} */
static void row_json(struct json *j, const struct st_figure *f, int cell, uint64_t n)
{
	json_obj_begin(j, NULL);
	for (int d = 0; d < f->shown; d++) {
		const struct st_dim *dim = f->dims[d];
		int v = st_fig_shown_coord(f, cell, d);

		if (dim->numeric)
			json_u64(j, dim->label, strtoull(dim->values[v], NULL, 10));
		else
			json_str(j, dim->label, dim->values[v]);
	}
	json_u64(j, "count", n);
	json_obj_end(j);
}

static void counter_json(struct json *j, const struct st_figure *f, const struct st_vm_counters *c)
{
	int cells = st_fig_shown_cells(f);

	if (!f->shown) {
		json_u64(j, f->name, st_fig_cell(f, c, 0));
		return;
	}
	if (f->shown == 1) {
		json_obj_begin(j, f->name);
		for (int i = 0; i < cells; i++)
			json_u64(j, f->dims[0]->values[i], st_fig_shown(f, c, i));
		json_obj_end(j);
		return;
	}
	json_arr_begin(j, f->name);
	for (int i = 0; i < cells; i++) {
		uint64_t n = st_fig_shown(f, c, i);

		if (n || !f->sparse)
			row_json(j, f, i, n);
	}
	json_arr_end(j);
}

void st_json_vm_figures(struct json *j, const struct st_vm_counters *c)
{
	for (int i = 0; i < st_figures_n; i++)
		if (st_figures[i].kind == ST_FIG_COUNTER)
			counter_json(j, &st_figures[i], c);
	json_obj_begin(j, "histograms");
	for (int i = 0; i < st_figures_n; i++) {
		const struct st_figure *f = &st_figures[i];

		if (f->kind == ST_FIG_HISTOGRAM)
			hist_json(j, f->name, st_fig_hist(f, c), st_hist_last(f->hist));
	}
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
