// SPDX-License-Identifier: GPL-2.0
/* shadowtrace report FILE: a recording replayed into the live reports. */
#include <stdlib.h>

#include "output/html.h"
#include "output/prom.h"
#include "record/replay.h"
#include "cli/commands.h"

static int write_prom(const char *path, const struct report_ctx *rep, const struct vm_table *t,
		      double wall)
{
	struct out_file out;
	const char *why = out_file_init(&out, path);

	if (why) {
		fprintf(stderr, "shadowtrace: --prom-file '%s': %s\n", path, why);
		return ST_EXIT_USAGE;
	}
	return prom_write_file(&out, rep, t, wall) ? ST_EXIT_RUNTIME : ST_EXIT_OK;
}

struct html_page {
	const struct report_ctx *rep;
	const struct vm_table *t;
	const char *source;
};

static void draw_page(FILE *f, const void *arg)
{
	const struct html_page *p = arg;

	report_html(f, p->rep, p->t, p->source);
}

int st_report(const struct st_options *o)
{
	struct replay *rp = calloc(1, sizeof(*rp));
	struct report_ctx rep = { 0 };
	struct rec_summary sum;
	struct vm_table t = { 0 };
	enum replay_status st;
	int status;

	if (!rp)
		return ST_EXIT_RUNTIME;
	st = replay_path(rp, o->files[0]);
	if (st == REPLAY_UNREADABLE) {
		replay_free(rp);
		free(rp);
		return ST_EXIT_RECORDING;
	}
	if (replay_table(rp, &t, &rep, &sum)) {
		status = ST_EXIT_RUNTIME;
		goto out;
	}
	rep.top = o->top;
	if (o->json)
		report_json(stdout, &rep, &t);
	else
		report_text(stdout, &rep, &t);
	status = st == REPLAY_COMPLETE ? ST_EXIT_OK : ST_EXIT_RECORDING;
	if (o->prom_file) {
		/* samples stamped with the recording's end, not with now */
		double wall = (double)rp->h.start_wall_ns / 1e9 + rep.elapsed_s;
		int r = write_prom(o->prom_file, &rep, &t, wall);

		if (r)
			status = r;
	}
	if (o->html) {
		struct html_page page = { &rep, &t, o->files[0] };
		int r = html_write_file(o->html, draw_page, &page);

		if (r)
			status = r;
	}
out:
	free(t.vms);
	replay_free(rp);
	free(rp);
	return status;
}
