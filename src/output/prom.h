/* SPDX-License-Identifier: GPL-2.0 */
/* The Prometheus text exposition format (version 0.0.4) of the VM table. */
#ifndef SHADOWTRACE_PROM_H
#define SHADOWTRACE_PROM_H

#include <stdio.h>
#include "output/atomic_file.h"
#include "output/report.h"

/* Writes every metric family; VMs that exited are included while kept. */
void prom_render(FILE *f, const struct report_ctx *r, const struct vm_table *t, double wall_now);
/* Renders the metrics and replaces file @o with them: 0 or -errno. */
int prom_write_file(struct out_file *o, const struct report_ctx *r, const struct vm_table *t,
		    double wall_now);
/* Writes @s as a label value: backslash, double quote and newline escaped. */
void prom_label_value(FILE *f, const char *s);

#endif
