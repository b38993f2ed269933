// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <time.h>

#include "figures_json.h"
#include "hist.h"
#include "names.h"
#include "report.h"

static void named_row(FILE *f, const char *title, const char *const *names, const __u64 *v, int n)
{
	fprintf(f, "  %-20s", title);
	for (int i = 0; i < n; i++)
		fprintf(f, " %s %" PRIu64, names[i], (uint64_t)v[i]);
	fputc('\n', f);
}

void report_text_vm(FILE *f, const struct vm_entry *e)
{
	const struct st_vm_counters *c = &e->c;
	bool any = false;

	fprintf(f, "VM %s (pid %u)%s%s\n", e->name, e->pid, e->alive ? "" : " [exited]",
		e->pending ? " [1 write pending]" : "");
	fprintf(f, "  %-20s", "translation writes");
	for (int o = 0; o < ST_ORIGINS; o++)
		fprintf(f, " %s %" PRIu64, st_origin_names[o], st_writes_of_origin(c, o));
	fprintf(f, "   (first %" PRIu64 ", remaps %" PRIu64 ")\n", (uint64_t)c->first_writes, (uint64_t)c->remaps);
	fprintf(f, "  %-20s", "  by page");
	for (int k = 0; k < ST_KINDS; k++)
		for (int l = 0; l < ST_LEVELS; l++) {
			uint64_t n = 0;

			for (int o = 0; o < ST_ORIGINS; o++)
				n += c->writes[o][k][l];
			if (n)
				fprintf(f, " %s-L%d %" PRIu64, st_kind_names[k], l + 1, n);
		}
	fputc('\n', f);
	for (int o = 0; o < ST_ORIGINS; o++)
		for (int a = 0; a < ST_ACC_COMBOS; a++)
			for (int b = 0; b < ST_ACC_COMBOS; b++) {
				if (!c->access_changes[o][a][b])
					continue;
				fprintf(f, "  %-20s %-8s %s -> %s  %" PRIu64 "\n",
					any ? "" : "access changes", st_origin_names[o],
					st_access_letters((uint32_t)a), st_access_letters((uint32_t)b),
					(uint64_t)c->access_changes[o][a][b]);
				any = true;
			}
	if (!any)
		fprintf(f, "  %-20s none\n", "access changes");
	named_row(f, "gfn mismatches", st_mismatch_names, c->gfn_mismatches, ST_MISMATCHES);
	named_row(f, "sync drops", st_sync_drop_names, c->sync_drops, ST_SYNC_DROPS);
	named_row(f, "shadow pages", st_sp_event_names, c->sp_events, ST_SP_EVENTS);
	fprintf(f, "  %-20s adopted %" PRIu64 " live %" PRIu64 "   splits ok %" PRIu64
		" failed %" PRIu64 "\n", "", e->adopted_sps, e->live_sps,
		(uint64_t)c->splits[ST_SPLIT_OK], (uint64_t)c->splits[ST_SPLIT_FAILED]);
	for (int h = 0; h < ST_HISTS; h++) {
		fprintf(f, "  %s (%" PRIu64 " samples)\n", st_hist_names[h], st_hist_total(&c->hist[h]));
		st_hist_print(f, &c->hist[h], st_hist_units[h], st_hist_last(h));
	}
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
