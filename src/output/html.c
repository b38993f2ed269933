// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdlib.h>

#include "figures/figures.h"
#include "figures/hist.h"
#include "output/html.h"
#include "figures/names.h"
#include "output/atomic_file.h"
#include "trace/tracer.h"

static const char style[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:72em}"
	"h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}"
	"h3{font-size:1em;margin:1.2em 0 .3em}"
	"table{border-collapse:collapse;margin:.3em 0}td,th{padding:2px 8px;text-align:right;"
	"border:1px solid #ddd}th{background:#f4f4f4}td.l,th.l{text-align:left;white-space:nowrap}"
	".meta td{text-align:left;border:none;padding:0 1em 0 0}"
	"tr.changed td{background:#fff3c4;font-weight:600}.muted{color:#888}"
	".hm td{min-width:3.2em}.charts{display:flex;flex-wrap:wrap;gap:1.5em}"
	"svg text{font:10px sans-serif;fill:#444}";

void html_begin(FILE *f, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>", f);
	html_text(f, title);
	fprintf(f, "</title>\n<style>%s</style>\n</head><body>\n<h1>", style);
	html_text(f, title);
	fputs("</h1>\n", f);
}

void html_end(FILE *f)
{
	fputs("<p class=\"muted\">shadowtrace " ST_VERSION "</p>\n</body></html>\n", f);
}

void html_text(FILE *f, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
}

void html_access_heatmap(FILE *f, const struct st_vm_counters *c)
{
	uint64_t m[ST_ACC_COMBOS][ST_ACC_COMBOS] = { { 0 } }, max = 0;

	for (int o = 0; o < ST_ORIGINS; o++)
		for (int a = 0; a < ST_ACC_COMBOS; a++)
			for (int b = 0; b < ST_ACC_COMBOS; b++) {
				m[a][b] += c->access_changes[o][a][b];
				if (m[a][b] > max)
					max = m[a][b];
			}
	fputs("<table class=\"hm\"><tr><th class=\"l\">from \\ to</th>", f);
	for (int b = 0; b < ST_ACC_COMBOS; b++)
		fprintf(f, "<th>%s</th>", st_access_letters((uint32_t)b));
	fputs("</tr>\n", f);
	for (int a = 0; a < ST_ACC_COMBOS; a++) {
		fprintf(f, "<tr><th class=\"l\">%s</th>", st_access_letters((uint32_t)a));
		for (int b = 0; b < ST_ACC_COMBOS; b++) {
			/* shade: 0 white, max deep orange */
			int shade = max && m[a][b] ? 40 + (int)(170.0 * (double)m[a][b] / (double)max) : 0;

			if (shade)
				fprintf(f, "<td style=\"background:rgb(255,%d,%d)\">%" PRIu64 "</td>",
					250 - shade, 240 - shade, m[a][b]);
			else
				fputs("<td class=\"muted\">·</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

void html_hist_chart(FILE *f, const struct st_vm_counters *c, int id)
{
	const struct st_figure *fig = st_fig_of_hist(id);
	const struct st_hist *h = st_fig_hist(fig, c);
	uint32_t last = 0;
	uint64_t max = 0;
	const int bw = 14, height = 100;

	for (uint32_t b = 0; b <= st_hist_last(id); b++)
		if (h->buckets[b]) {
			last = b;
			if (h->buckets[b] > max)
				max = h->buckets[b];
		}
	fprintf(f, "<figure><figcaption>%s (%s; %" PRIu64 " samples)</figcaption>\n", fig->name, fig->unit,
		st_hist_total(h));
	if (!max) {
		fputs("<p class=\"muted\">no samples</p></figure>\n", f);
		return;
	}
	fprintf(f, "<svg width=\"%u\" height=\"%d\" role=\"img\">", (last + 1) * bw + 40, height + 30);
	for (uint32_t b = 0; b <= last; b++) {
		int bar = max ? (int)((double)height * (double)h->buckets[b] / (double)max) : 0;

		fprintf(f, "<rect x=\"%u\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#e8743b\">"
			"<title>[%" PRIu64 ", %" PRIu64 "]: %" PRIu64 "</title></rect>",
			b * bw + 30, height - bar, bw - 2, bar, st_hist_lower(b), (uint64_t)st_hist_upper(b),
			(uint64_t)h->buckets[b]);
		if (b % 4 == 0)
			fprintf(f, "<text x=\"%u\" y=\"%d\">%" PRIu64 "</text>", b * bw + 30, height + 14,
				st_hist_lower(b));
	}
	fprintf(f, "<text x=\"0\" y=\"10\">%" PRIu64 "</text></svg></figure>\n", max);
}

int html_write_file(const char *path, void (*draw)(FILE *f, const void *arg), const void *arg)
{
	struct out_file out;
	const char *why = out_file_init(&out, path);
	char *page = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	if (why) {
		fprintf(stderr, "shadowtrace: --html '%s': %s\n", path, why);
		return ST_EXIT_USAGE;
	}
	f = open_memstream(&page, &len);
	if (!f) {
		fprintf(stderr, "shadowtrace: out of memory\n");
		return ST_EXIT_RUNTIME;
	}
	draw(f, arg);
	r = fclose(f) ? -1 : out_file_replace(&out, page, len);
	free(page);
	return r ? ST_EXIT_RUNTIME : ST_EXIT_OK;
}
