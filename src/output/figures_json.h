/* SPDX-License-Identifier: GPL-2.0 */
/* The per-VM figures as JSON: the tool's output and the ground truth alike. */
#ifndef SHADOWTRACE_FIGURES_JSON_H
#define SHADOWTRACE_FIGURES_JSON_H

#include <stdio.h>
#include "figures/figures.h"
#include "output/json.h"
#include "shadowtrace.h"

/* Adds the figures' fields to the JSON object being written. */
void st_json_vm_figures(struct json *j, const struct st_vm_counters *c);
/* One JSON object holding only the figures. */
void st_json_vm_counters(FILE *f, const struct st_vm_counters *c);

#endif
