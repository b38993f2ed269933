/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The table of per-VM figures: one row per figure of struct st_vm_counters
 * (include/shadowtrace.h), from which JSON, text, Prometheus, the
 * comparison with ground truth, diff and the tests' "comparable figures"
 * (shadowtrace --list-figures) are all derived. A new figure is one row
 * here plus its accounting in bpf/account.bpf.h.
 */
#ifndef SHADOWTRACE_FIGURES_H
#define SHADOWTRACE_FIGURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "shadowtrace.h"

#define ST_FIG_DIMS_MAX	3

/* A label of a figure, and the values it takes. */
struct st_dim {
	const char *label;		/* Prometheus label, JSON key of a row */
	const char *const *values;
	int n;
	bool numeric;			/* JSON: the value's name is a number (levels) */
	const char *sep;		/* before it in a cell's name: "." or "->" */
	const char *prefix;		/* before its value in a cell's name: "L" */
};

enum st_fig_kind {
	ST_FIG_COUNTER,		/* u64 cells: a scalar, a vector, a matrix */
	ST_FIG_HISTOGRAM,	/* one struct st_hist */
};

struct st_figure {
	const char *name;		/* JSON key (under "histograms" for one) */
	const char *prom;		/* Prometheus family */
	const char *title;		/* text report */
	const char *help;
	enum st_fig_kind kind;
	size_t offset;			/* in struct st_vm_counters */
	/* counters: the array's shape, and how many leading dims are reported */
	const struct st_dim *dims[ST_FIG_DIMS_MAX];
	int ndims, shown;		/* shown < ndims: the rest summed (a view) */
	bool sparse;			/* rows of zero left out (JSON arrays, Prometheus) */
	/* histograms */
	int hist;			/* enum st_hist_id */
	const char *unit;
	uint32_t prom_first, prom_last;	/* buckets exported with a finite le */
	bool ns_to_seconds;
	bool timing;			/* buckets depend on timing: compared by count */
};

extern const struct st_figure st_figures[];
extern const int st_figures_n;

/* A view sums another figure's cells (the dims not shown): it is not compared itself. */
static inline bool st_fig_is_view(const struct st_figure *f)
{
	return f->shown < f->ndims;
}

/* Cells of a counter figure (its full shape) and one by flat index. */
int st_fig_cells(const struct st_figure *f);
uint64_t st_fig_cell(const struct st_figure *f, const struct st_vm_counters *c, int cell);
/* The value index of dim @d in flat cell @cell. */
int st_fig_coord(const struct st_figure *f, int cell, int d);
/* A reported cell (of the first f->shown dims): the sum over the others. */
int st_fig_shown_coord(const struct st_figure *f, int cell, int d);
int st_fig_shown_cells(const struct st_figure *f);
uint64_t st_fig_shown(const struct st_figure *f, const struct st_vm_counters *c, int cell);
const struct st_hist *st_fig_hist(const struct st_figure *f, const struct st_vm_counters *c);
/* The row of histogram @id. */
const struct st_figure *st_fig_of_hist(int id);
/* "access_changes.fault.-ux->wux": a cell's name in comparisons and diffs. */
void st_fig_cell_name(const struct st_figure *f, int cell, char *buf, size_t len);

/* Totals the outputs share. */
uint64_t st_writes_of_origin(const struct st_vm_counters *c, int origin);
uint64_t st_writes_total(const struct st_vm_counters *c);

/* --list-figures: the table, a line per figure (README "Figures"). */
void st_figures_list(FILE *out);

#endif
