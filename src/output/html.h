/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Self-contained HTML pages (report --html, diff --html): inline CSS and
 * SVG, no script, nothing fetched. The pieces both pages draw.
 */
#ifndef SHADOWTRACE_HTML_H
#define SHADOWTRACE_HTML_H

#include <stdio.h>
#include "shadowtrace.h"

void html_begin(FILE *f, const char *title);
void html_end(FILE *f);
/* @s with &, <, >, " and ' escaped */
void html_text(FILE *f, const char *s);
/* The access-change matrix of @c (all origins), from rows x to columns, shaded by count. */
void html_access_heatmap(FILE *f, const struct st_vm_counters *c);
/* Histogram @id of @c as an SVG bar chart, one bar per log2 bucket up to the last used. */
void html_hist_chart(FILE *f, const struct st_vm_counters *c, int id);
/* @draw's page written to @path atomically (prom_file.h); 0, or an exit status after one line. */
int html_write_file(const char *path, void (*draw)(FILE *f, const void *arg), const void *arg);

#endif
