// SPDX-License-Identifier: GPL-2.0
/* report --html: one self-contained page of a recording's figures. */
#include <inttypes.h>

#include "output/figures_json.h"
#include "output/html.h"
#include "figures/names.h"
#include "output/report.h"

static uint64_t sum(const __u64 *v, int n)
{
	uint64_t s = 0;

	for (int i = 0; i < n; i++)
		s += v[i];
	return s;
}

static void summary_row(FILE *f, const struct vm_entry *e)
{
	const struct st_vm_counters *c = &e->c;
	uint64_t changes = 0;

	for (int o = 0; o < ST_ORIGINS; o++)
		changes += sum(&c->access_changes[o][0][0], ST_ACC_COMBOS * ST_ACC_COMBOS);
	fputs("<tr><td class=\"l\"><a href=\"#vm-", f);
	fprintf(f, "%u-%" PRIu64 "\">", e->id.pid, e->id.kvm);
	html_text(f, e->id.name);
	fprintf(f, "</a></td><td>%u</td>", e->id.pid);
	for (int o = 0; o < ST_ORIGINS; o++)
		fprintf(f, "<td>%" PRIu64 "</td>", st_writes_of_origin(c, o));
	fprintf(f, "<td>%" PRIu64 "</td>", changes);
	for (int m = 0; m < ST_MISMATCHES; m++)
		fprintf(f, "<td>%" PRIu64 "</td>", (uint64_t)c->gfn_mismatches[m]);
	fprintf(f, "<td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td></tr>\n",
		sum(c->sync_drops, ST_SYNC_DROPS), (uint64_t)c->sp_events[ST_SP_CREATED],
		(uint64_t)c->splits[ST_SPLIT_OK]);
}

/* a table of one row: @names as heads, @v as cells */
static void named_table(FILE *f, const char *title, const char *const *names, const __u64 *v, int n)
{
	fprintf(f, "<h3>%s</h3><table><tr>", title);
	for (int i = 0; i < n; i++)
		fprintf(f, "<th>%s</th>", names[i]);
	fputs("</tr><tr>", f);
	for (int i = 0; i < n; i++)
		fprintf(f, "<td>%" PRIu64 "</td>", (uint64_t)v[i]);
	fputs("</tr></table>\n", f);
}

static void writes_by_page(FILE *f, const struct st_vm_counters *c)
{
	fputs("<h3>Translation writes by shadow page</h3><table><tr><th class=\"l\">page</th>", f);
	for (int o = 0; o < ST_ORIGINS; o++)
		fprintf(f, "<th>%s</th>", st_origin_names[o]);
	fputs("</tr>\n", f);
	for (int k = 0; k < ST_KINDS; k++)
		for (int l = 0; l < ST_LEVELS; l++) {
			uint64_t any = 0;

			for (int o = 0; o < ST_ORIGINS; o++)
				any += c->writes[o][k][l];
			if (!any)
				continue;
			fprintf(f, "<tr><td class=\"l\">%s L%d</td>", st_kind_names[k], l + 1);
			for (int o = 0; o < ST_ORIGINS; o++)
				fprintf(f, "<td>%" PRIu64 "</td>", (uint64_t)c->writes[o][k][l]);
			fputs("</tr>\n", f);
		}
	fputs("</table>\n", f);
}

static void vm_section(FILE *f, const struct vm_entry *e)
{
	const struct st_vm_counters *c = &e->c;

	fprintf(f, "<h2 id=\"vm-%u-%" PRIu64 "\">VM ", e->id.pid, e->id.kvm);
	html_text(f, e->id.name);
	fprintf(f, " <span class=\"muted\">pid %u%s</span></h2>\n", e->id.pid, e->alive ? "" : ", exited");
	writes_by_page(f, c);
	fputs("<h3>Access changes (all origins; rows from, columns to; w write, u user, x exec)</h3>\n", f);
	html_access_heatmap(f, c);
	named_table(f, "Gfn mismatches", st_mismatch_names, c->gfn_mismatches, ST_MISMATCHES);
	named_table(f, "Sync drops", st_sync_drop_names, c->sync_drops, ST_SYNC_DROPS);
	named_table(f, "Shadow pages", st_sp_event_names, c->sp_events, ST_SP_EVENTS);
	fputs("<div class=\"charts\">\n", f);
	for (int h = 0; h < ST_HISTS; h++)
		html_hist_chart(f, c, h);
	fputs("</div>\n", f);
}

void report_html(FILE *f, const struct report_ctx *r, const struct vm_table *t, const char *source)
{
	char title[512];
	uint64_t dropped = 0;

	for (int d = 0; d < ST_DROPS; d++)
		dropped += r->drops[d];

	snprintf(title, sizeof(title), "shadowtrace report: %s", source);
	html_begin(f, title);
	fprintf(f, "<table class=\"meta\"><tr><td>kernel</td><td>%s</td></tr>"
		"<tr><td>attach mode</td><td>%s</td></tr><tr><td>traced</td><td>%.1f s</td></tr>"
		"<tr><td>VMs</td><td>%u</td></tr><tr><td>events dropped</td><td>%" PRIu64 "</td></tr>",
		r->kernel, r->attach_mode, r->elapsed_s, t->n, dropped);
	if (r->recording)
		fprintf(f, "<tr><td>recording</td><td>%" PRIu64 " records, %s</td></tr>",
			r->recording->records, r->recording->complete ? "complete" : r->recording->problem);
	fputs("</table>\n<h2>VMs</h2>\n<table><tr><th class=\"l\">VM</th><th>pid</th>", f);
	for (int o = 0; o < ST_ORIGINS; o++)
		fprintf(f, "<th>%s writes</th>", st_origin_names[o]);
	fputs("<th>access changes</th>", f);
	for (int m = 0; m < ST_MISMATCHES; m++)
		fprintf(f, "<th>%s gfn mismatches</th>", st_mismatch_names[m]);
	fputs("<th>sync drops</th><th>shadow pages</th><th>splits</th></tr>\n", f);
	for (unsigned int i = 0; i < t->n; i++)
		summary_row(f, &t->vms[i]);
	fputs("</table>\n", f);
	for (unsigned int i = 0; i < t->n; i++)
		vm_section(f, &t->vms[i]);
	html_end(f);
}
