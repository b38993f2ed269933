// SPDX-License-Identifier: GPL-2.0
#include "figures/figures.h"
#include "figures/names.h"

static const struct st_dim origin = { "origin", st_origin_names, ST_ORIGINS, false, ".", "" };
static const struct st_dim page_kind = { "kind", st_kind_names, ST_KINDS, false, ".", "" };
static const struct st_dim level = { "level", st_level_names, ST_LEVELS, true, ".", "L" };
static const struct st_dim acc_from = { "from", st_access_names, ST_ACC_COMBOS, false, ".", "" };
static const struct st_dim acc_to = { "to", st_access_names, ST_ACC_COMBOS, false, "->", "" };
static const struct st_dim mismatch = { "kind", st_mismatch_names, ST_MISMATCHES, false, ".", "" };
static const struct st_dim drop_reason = { "reason", st_sync_drop_names, ST_SYNC_DROPS, false, ".", "" };
static const struct st_dim sp_event = { "event", st_sp_event_names, ST_SP_EVENTS, false, ".", "" };
static const struct st_dim split_result = { "result", st_split_names, ST_SPLITS, false, ".", "" };
static const struct st_dim unseen = { "what", st_unseen_names, ST_UNSEENS, false, ".", "" };

#define AT(field) offsetof(struct st_vm_counters, field)
#define COUNTER(...) .kind = ST_FIG_COUNTER, .dims = { __VA_ARGS__ }
#define HIST(id) .kind = ST_FIG_HISTOGRAM, .hist = id, .offset = AT(hist[id])

const struct st_figure st_figures[] = {
	{ .name = "translation_writes", .prom = "shadowtrace_translation_writes_total",
	  .title = "translation writes", .offset = AT(writes), .ndims = 3, .shown = 1,
	  COUNTER(&origin, &page_kind, &level),
	  .help = "Writes to KVM's shadowed-translation cache, by origin." },
	{ .name = "translation_writes_by_page", .prom = "shadowtrace_translation_writes_by_page_total",
	  .title = "  by page", .offset = AT(writes), .ndims = 3, .shown = 3, .sparse = true,
	  COUNTER(&origin, &page_kind, &level),
	  .help = "Writes to the cache by origin, shadow page kind and level." },
	{ .name = "first_writes", .prom = "shadowtrace_first_writes_total",
	  .title = "first writes", .offset = AT(first_writes), COUNTER(NULL),
	  .help = "Cache writes into a slot with no known translation." },
	{ .name = "remaps", .prom = "shadowtrace_remaps_total",
	  .title = "remaps", .offset = AT(remaps), COUNTER(NULL),
	  .help = "Cache rewrites with another gfn outside sync." },
	{ .name = "access_changes", .prom = "shadowtrace_access_changes_total",
	  .title = "access changes", .offset = AT(access_changes), .ndims = 3, .shown = 3,
	  .sparse = true, COUNTER(&origin, &acc_from, &acc_to),
	  .help = "Access changes of cached translations, from -> to in KVM's wux letters." },
	{ .name = "gfn_mismatches", .prom = "shadowtrace_gfn_mismatches_total",
	  .title = "gfn mismatches", .offset = AT(gfn_mismatches), .ndims = 1, .shown = 1,
	  COUNTER(&mismatch),
	  .help = "Gfn mismatches: sync drops of remapped gptes, direct page invariant violations." },
	{ .name = "sync_drops", .prom = "shadowtrace_sync_drops_total",
	  .title = "sync drops", .offset = AT(sync_drops), .ndims = 1, .shown = 1,
	  COUNTER(&drop_reason), .help = "SPTEs dropped by sync, by reason read from the gpte." },
	{ .name = "shadow_pages", .prom = "shadowtrace_shadow_pages_total",
	  .title = "shadow pages", .offset = AT(sp_events), .ndims = 1, .shown = 1,
	  COUNTER(&sp_event), .help = "Shadow page events." },
	{ .name = "splits", .prom = "shadowtrace_splits_total",
	  .title = "splits", .offset = AT(splits), .ndims = 1, .shown = 1,
	  COUNTER(&split_result),
	  .help = "Eager huge page splits of the shadow MMU; retried: -EAGAIN, KVM splits again." },
	{ .name = "unobservable", .prom = "shadowtrace_unobservable_total",
	  .title = "unobservable", .offset = AT(unobservable), .ndims = 1, .shown = 1,
	  COUNTER(&unseen),
	  .help = "Events this attach mode could not see: split_writes, splits whose writes went unseen." },
	{ .name = "lifetimes_untracked", .prom = "shadowtrace_untracked_lifetimes_total",
	  .title = "untracked lifetimes", .offset = AT(lifetimes_untracked), COUNTER(NULL),
	  .help = "Slot lifetimes whose change count was lost to a full churn table." },
	{ .name = "slot_access_changes", .prom = "shadowtrace_slot_access_changes",
	  HIST(ST_HIST_SLOT_CHANGES), .unit = "changes", .prom_first = 0, .prom_last = 17,
	  .help = "Access changes of one SPTE slot over its lifetime (recorded when it ends)." },
	{ .name = "access_change_interval_ns", .prom = "shadowtrace_access_change_interval_seconds",
	  HIST(ST_HIST_CHANGE_INTERVAL), .unit = "ns", .prom_first = 10, .prom_last = 40,
	  .ns_to_seconds = true, .timing = true,
	  .help = "Time between successive access changes of one SPTE slot." },
	{ .name = "gfn_mismatch_distance_pages", .prom = "shadowtrace_gfn_mismatch_distance_pages",
	  HIST(ST_HIST_GFN_DISTANCE), .unit = "pages", .prom_first = 0, .prom_last = 33,
	  .help = "Distance in pages between the cached and the new gfn of a mismatch." },
};

const int st_figures_n = sizeof(st_figures) / sizeof(st_figures[0]);

int st_fig_cells(const struct st_figure *f)
{
	int n = 1;

	for (int d = 0; d < f->ndims; d++)
		n *= f->dims[d]->n;
	return n;
}

uint64_t st_fig_cell(const struct st_figure *f, const struct st_vm_counters *c, int cell)
{
	return ((const __u64 *)((const char *)c + f->offset))[cell];
}

int st_fig_coord(const struct st_figure *f, int cell, int d)
{
	for (int k = f->ndims - 1; k > d; k--)
		cell /= f->dims[k]->n;
	return cell % f->dims[d]->n;
}

/* cells of the dims summed in one reported cell */
static int summed(const struct st_figure *f)
{
	int n = 1;

	for (int d = f->shown; d < f->ndims; d++)
		n *= f->dims[d]->n;
	return n;
}

int st_fig_shown_cells(const struct st_figure *f)
{
	return st_fig_cells(f) / summed(f);
}

uint64_t st_fig_shown(const struct st_figure *f, const struct st_vm_counters *c, int cell)
{
	int rest = summed(f);
	uint64_t n = 0;

	for (int i = 0; i < rest; i++)
		n += st_fig_cell(f, c, cell * rest + i);
	return n;
}

int st_fig_shown_coord(const struct st_figure *f, int cell, int d)
{
	return st_fig_coord(f, cell * summed(f), d);
}

const struct st_figure *st_fig_of_hist(int id)
{
	for (int i = 0; i < st_figures_n; i++)
		if (st_figures[i].kind == ST_FIG_HISTOGRAM && st_figures[i].hist == id)
			return &st_figures[i];
	return NULL;
}

void st_fig_cell_name(const struct st_figure *f, int cell, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s", f->name);

	for (int d = 0; d < f->ndims && n >= 0 && (size_t)n < len; d++) {
		const struct st_dim *dim = f->dims[d];

		n += snprintf(buf + n, len - (size_t)n, "%s%s%s", dim->sep, dim->prefix,
			      dim->values[st_fig_coord(f, cell, d)]);
	}
}

const struct st_hist *st_fig_hist(const struct st_figure *f, const struct st_vm_counters *c)
{
	return (const struct st_hist *)((const char *)c + f->offset);
}

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

void st_figures_list(FILE *out)
{
	fprintf(out, "# name\tkind\tlabels\tcompared\tprometheus\thelp\n");
	for (int i = 0; i < st_figures_n; i++) {
		const struct st_figure *f = &st_figures[i];
		const char *kind = f->kind == ST_FIG_HISTOGRAM ? "histogram" :
				   !f->ndims ? "counter" : f->shown == 1 ? "vector" : "matrix";

		fprintf(out, "%s\t%s\t", f->name, kind);
		for (int d = 0; d < f->shown; d++)
			fprintf(out, "%s%s", d ? "," : "", f->dims[d]->label);
		fprintf(out, "%s\t%s\t%s\t%s\n", f->shown ? "" : "-",
			st_fig_is_view(f) ? "view" : f->timing ? "count" : "yes", f->prom, f->help);
	}
}
