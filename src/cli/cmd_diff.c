// SPDX-License-Identifier: GPL-2.0
/*
 * shadowtrace diff A B: two recordings replayed, their figures compared per
 * VM (matched by name, else by position) and overall, every figure and
 * histogram bucket side by side, most significant change first.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "figures/compare.h"
#include "figures/hist.h"
#include "output/html.h"
#include "output/json.h"
#include "figures/names.h"
#include "record/replay.h"
#include "cli/commands.h"

struct metric {
	char name[96];
	uint64_t a, b;
	bool timing;		/* where a sample falls in time: not deterministic */
	bool counts;		/* a difference for the exit status */
};

struct scope {
	char label[160];
	struct metric *m;
	unsigned int n, cap;
};

struct diff_run {
	const struct st_options *o;
	struct scope *scopes;
	unsigned int nscopes;
	unsigned int differences;
	bool oom;
};

static void add_metric(struct diff_run *d, struct scope *s, const char *name, uint64_t a,
		       uint64_t b, bool timing)
{
	struct metric *m;
	uint64_t lo = a < b ? a : b, hi = a < b ? b : a;

	if (a == b)
		return;
	if (s->n == s->cap) {
		unsigned int cap = s->cap ? s->cap * 2 : 32;
		struct metric *more = realloc(s->m, cap * sizeof(*more));

		if (!more) {
			d->oom = true;
			return;
		}
		s->m = more;
		s->cap = cap;
	}
	m = &s->m[s->n++];
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->a = a;
	m->b = b;
	m->timing = timing;
	/* beyond the threshold, relative to the larger side (a new figure: 100%) */
	m->counts = (!timing || d->o->gate_timing) &&
		    (double)(hi - lo) * 100.0 > (double)d->o->threshold_pct * (double)hi;
	d->differences += m->counts;
}

struct walk {
	struct diff_run *d;
	struct scope *s;
};

/* every figure st_figures_each() walks is deterministic (a timing histogram: its count) */
static void on_field(const char *name, uint64_t a, uint64_t b, void *arg)
{
	struct walk *w = arg;

	add_metric(w->d, w->s, name, a, b, false);
}

static void on_timing(const char *name, uint64_t a, uint64_t b, void *arg)
{
	struct walk *w = arg;

	add_metric(w->d, w->s, name, a, b, true);
}

static void compare(struct diff_run *d, const char *label, const struct st_vm_counters *a,
		    const struct st_vm_counters *b)
{
	struct scope *more = realloc(d->scopes, (d->nscopes + 1) * sizeof(*more));
	struct walk w = { d, NULL };

	if (!more) {
		d->oom = true;
		return;
	}
	d->scopes = more;
	w.s = &d->scopes[d->nscopes++];
	memset(w.s, 0, sizeof(*w.s));
	snprintf(w.s->label, sizeof(w.s->label), "%s", label);
	st_figures_each(a, b, on_field, &w);
	st_timing_each(a, b, on_timing, &w);
}

static double significance(const struct metric *m)
{
	uint64_t hi = m->a > m->b ? m->a : m->b, lo = m->a > m->b ? m->b : m->a;

	return hi ? (double)(hi - lo) / (double)hi : 0;
}

static int by_significance(const void *x, const void *y)
{
	const struct metric *a = x, *b = y;
	double sa = significance(a), sb = significance(b);
	uint64_t da = a->a > a->b ? a->a - a->b : a->b - a->a;
	uint64_t db = b->a > b->b ? b->a - b->b : b->b - b->a;

	if (a->counts != b->counts)
		return a->counts ? -1 : 1;
	if (sa != sb)
		return sa > sb ? -1 : 1;
	if (da != db)
		return da > db ? -1 : 1;
	return strcmp(a->name, b->name);
}

static void add_counters(struct st_vm_counters *sum, const struct st_vm_counters *c)
{
	__u64 *s = (__u64 *)sum;
	const __u64 *v = (const __u64 *)c;

	/* every member is a __u64 (include/shadowtrace.h) */
	for (size_t i = 0; i < sizeof(*c) / sizeof(__u64); i++)
		s[i] += v[i];
}

/* VMs paired: by name first, then the rest by position. */
static void pair_vms(struct diff_run *d, const struct replay *a, const struct replay *b)
{
	bool *used_b = calloc(b->n + 1, sizeof(bool)), *used_a = calloc(a->n + 1, sizeof(bool));
	static const struct st_vm_counters none;
	unsigned int j = 0;
	char label[160];

	if (!used_a || !used_b) {
		d->oom = true;
		goto out;
	}
	for (unsigned int i = 0; i < a->n; i++)
		for (unsigned int k = 0; k < b->n; k++)
			if (!used_b[k] && !strcmp(a->vms[i]->id.name, b->vms[k]->id.name)) {
				used_a[i] = used_b[k] = true;
				snprintf(label, sizeof(label), "VM %s", a->vms[i]->id.name);
				compare(d, label, &a->vms[i]->c, &b->vms[k]->c);
				break;
			}
	for (unsigned int i = 0; i < a->n; i++) {
		if (used_a[i])
			continue;
		while (j < b->n && used_b[j])
			j++;
		if (j < b->n) {
			used_b[j] = true;
			snprintf(label, sizeof(label), "VM %s / %s (by position)", a->vms[i]->id.name,
				 b->vms[j]->id.name);
			compare(d, label, &a->vms[i]->c, &b->vms[j]->c);
		} else {
			snprintf(label, sizeof(label), "VM %s (only in A)", a->vms[i]->id.name);
			compare(d, label, &a->vms[i]->c, &none);
		}
	}
	for (unsigned int k = 0; k < b->n; k++)
		if (!used_b[k]) {
			snprintf(label, sizeof(label), "VM %s (only in B)", b->vms[k]->id.name);
			compare(d, label, &none, &b->vms[k]->c);
		}
out:
	free(used_a);
	free(used_b);
}

static void print_text(const struct diff_run *d, const char *fa, const struct replay *a,
		       const char *fb, const struct replay *b)
{
	printf("A: %s (kernel %s, %s, %u VMs)\n", fa, a->h.kernel, a->h.attach_mode, a->n);
	printf("B: %s (kernel %s, %s, %u VMs)\n", fb, b->h.kernel, b->h.attach_mode, b->n);
	for (unsigned int i = 0; i < d->nscopes; i++) {
		const struct scope *s = &d->scopes[i];

		printf("\n%s:%s\n", s->label, s->n ? "" : " no change");
		if (s->n)
			printf("  %-52s %12s %12s %13s %9s\n", "figure", "A", "B", "change", "relative");
		for (unsigned int k = 0; k < s->n; k++) {
			const struct metric *m = &s->m[k];
			char rel[32];

			if (!m->a)
				snprintf(rel, sizeof(rel), "new");
			else if (!m->b)
				snprintf(rel, sizeof(rel), "gone");
			else
				snprintf(rel, sizeof(rel), "%+.1f%%",
					 ((double)m->b - (double)m->a) * 100.0 / (double)m->a);
			printf("  %-52s %12" PRIu64 " %12" PRIu64 " %+13" PRId64 " %9s%s\n", m->name,
			       m->a, m->b, (int64_t)(m->b - m->a), rel,
			       m->counts ? "" : m->timing && !d->o->gate_timing ? "  (timing)" :
			       "  (within threshold)");
		}
	}
	printf("\n%u difference%s (threshold %u%%%s)\n", d->differences, d->differences == 1 ? "" : "s",
	       d->o->threshold_pct, d->o->gate_timing ? ", timing included" : ", timing not gated");
}

struct diff_page {
	const struct diff_run *d;
	const char *file[2];
	const struct replay *r[2];
	const struct st_vm_counters *sum[2];
};

static void draw_diff(FILE *f, const void *arg)
{
	const struct diff_page *p = arg;
	const struct diff_run *d = p->d;

	html_begin(f, "shadowtrace diff");
	fputs("<table class=\"meta\">", f);
	for (int i = 0; i < 2; i++) {
		fprintf(f, "<tr><td>%c</td><td>", 'A' + i);
		html_text(f, p->file[i]);
		fprintf(f, " (kernel %s, %s, %u VMs)</td></tr>", p->r[i]->h.kernel, p->r[i]->h.attach_mode,
			p->r[i]->n);
	}
	fprintf(f, "<tr><td>differences</td><td>%u (threshold %u%%%s; highlighted)</td></tr></table>\n",
		d->differences, d->o->threshold_pct, d->o->gate_timing ? ", timing included" : "");
	fputs("<h2>Access changes, all VMs</h2><div class=\"charts\">", f);
	for (int i = 0; i < 2; i++) {
		fprintf(f, "<figure><figcaption>%c</figcaption>", 'A' + i);
		html_access_heatmap(f, p->sum[i]);
		fputs("</figure>", f);
	}
	fputs("</div>\n", f);
	for (unsigned int i = 0; i < d->nscopes; i++) {
		const struct scope *s = &d->scopes[i];

		fputs("<h2>", f);
		html_text(f, s->label);
		fprintf(f, "</h2>\n%s", s->n ? "<table><tr><th class=\"l\">figure</th><th>A</th><th>B</th>"
			"<th>change</th><th>relative</th></tr>\n" : "<p class=\"muted\">no change</p>\n");
		for (unsigned int k = 0; k < s->n; k++) {
			const struct metric *m = &s->m[k];

			fprintf(f, "<tr%s><td class=\"l\">", m->counts ? " class=\"changed\"" : "");
			html_text(f, m->name);
			fprintf(f, "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%+" PRId64 "</td><td>",
				m->a, m->b, (int64_t)(m->b - m->a));
			if (m->a && m->b)
				fprintf(f, "%+.1f%%", ((double)m->b - (double)m->a) * 100.0 / (double)m->a);
			else
				fputs(m->a ? "gone" : "new", f);
			fputs("</td></tr>\n", f);
		}
		if (s->n)
			fputs("</table>\n", f);
	}
	html_end(f);
}

static void side_json(struct json *j, const char *key, const char *file, const struct replay *r,
		      bool complete)
{
	json_obj_begin(j, key);
	json_str(j, "file", file);
	json_str(j, "kernel", r->h.kernel);
	json_str(j, "attach_mode", r->h.attach_mode);
	json_u64(j, "vms", r->n);
	json_bool(j, "complete", complete);
	json_obj_end(j);
}

static void print_json(const struct diff_run *d, const char *fa, const struct replay *a, bool ca,
		       const char *fb, const struct replay *b, bool cb)
{
	struct json j;

	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	side_json(&j, "a", fa, a, ca);
	side_json(&j, "b", fb, b, cb);
	json_u64(&j, "threshold_pct", d->o->threshold_pct);
	json_bool(&j, "timing_gated", d->o->gate_timing);
	json_u64(&j, "differences", d->differences);
	json_arr_begin(&j, "scopes");
	for (unsigned int i = 0; i < d->nscopes; i++) {
		const struct scope *s = &d->scopes[i];

		json_obj_begin(&j, NULL);
		json_str(&j, "scope", s->label);
		json_arr_begin(&j, "changes");
		for (unsigned int k = 0; k < s->n; k++) {
			const struct metric *m = &s->m[k];

			json_obj_begin(&j, NULL);
			json_str(&j, "figure", m->name);
			json_u64(&j, "a", m->a);
			json_u64(&j, "b", m->b);
			json_i64(&j, "change", (int64_t)(m->b - m->a));
			if (m->a)
				json_double(&j, "relative", ((double)m->b - (double)m->a) / (double)m->a);
			json_bool(&j, "timing", m->timing);
			json_bool(&j, "counts", m->counts);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	fputc('\n', stdout);
}

int st_diff(const struct st_options *o)
{
	struct replay *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct st_vm_counters *sa = calloc(1, sizeof(*sa)), *sb = calloc(1, sizeof(*sb));
	struct diff_run d = { .o = o };
	enum replay_status ra = REPLAY_UNREADABLE, rb = REPLAY_UNREADABLE;
	int status = ST_EXIT_RECORDING;

	if (!a || !b || !sa || !sb) {
		status = ST_EXIT_RUNTIME;
		goto out;
	}
	ra = replay_path(a, o->files[0]);
	rb = replay_path(b, o->files[1]);
	if (ra == REPLAY_UNREADABLE || rb == REPLAY_UNREADABLE)
		goto out;
	for (unsigned int i = 0; i < a->n; i++)
		add_counters(sa, &a->vms[i]->c);
	for (unsigned int i = 0; i < b->n; i++)
		add_counters(sb, &b->vms[i]->c);
	compare(&d, "all VMs", sa, sb);
	pair_vms(&d, a, b);
	if (d.oom) {
		fprintf(stderr, "shadowtrace: out of memory\n");
		status = ST_EXIT_RUNTIME;
		goto out;
	}
	for (unsigned int i = 0; i < d.nscopes; i++)
		if (d.scopes[i].n > 1)
			qsort(d.scopes[i].m, d.scopes[i].n, sizeof(struct metric), by_significance);
	if (o->json)
		print_json(&d, o->files[0], a, ra == REPLAY_COMPLETE, o->files[1], b,
			   rb == REPLAY_COMPLETE);
	else
		print_text(&d, o->files[0], a, o->files[1], b);
	if (o->html) {
		struct diff_page page = { &d, { o->files[0], o->files[1] }, { a, b }, { sa, sb } };
		int r = html_write_file(o->html, draw_diff, &page);

		if (r) {
			status = r;
			goto out;
		}
	}
	if (ra != REPLAY_COMPLETE || rb != REPLAY_COMPLETE)
		status = ST_EXIT_RECORDING;
	else
		status = d.differences ? ST_EXIT_DIFFERENT : ST_EXIT_OK;
out:
	for (unsigned int i = 0; i < d.nscopes; i++)
		free(d.scopes[i].m);
	free(d.scopes);
	if (a)
		replay_free(a);
	if (b)
		replay_free(b);
	free(a);
	free(b);
	free(sa);
	free(sb);
	return status;
}
