/* SPDX-License-Identifier: GPL-2.0 */
/* Observed figures against the micro-guest's ground truth, field by field. */
#ifndef SHADOWTRACE_COMPARE_H
#define SHADOWTRACE_COMPARE_H

#include <stdint.h>
#include <stdio.h>
#include "shadowtrace.h"

typedef void (*st_field_fn)(const char *name, uint64_t want, uint64_t got, void *arg);

/*
 * Calls @fn for every comparable figure. Timing histograms compare by
 * sample count only: where their samples fall is not deterministic.
 */
void st_figures_each(const struct st_vm_counters *want, const struct st_vm_counters *got,
		     st_field_fn fn, void *arg);

/* Calls @fn for every bucket of the timing histograms (diff shows them apart). */
void st_timing_each(const struct st_vm_counters *a, const struct st_vm_counters *b,
		    st_field_fn fn, void *arg);

/* Number of differing figures, each reported to @out (if not NULL). */
int st_compare(const struct st_vm_counters *want, const struct st_vm_counters *got, FILE *out);

#endif
