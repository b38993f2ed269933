/* SPDX-License-Identifier: GPL-2.0 */
/* Log2 histograms (bucket edges: include/translation.h). */
#ifndef SHADOWTRACE_HIST_H
#define SHADOWTRACE_HIST_H

#include <stdint.h>
#include <stdio.h>
#include "shadowtrace.h"

uint64_t st_hist_total(const struct st_hist *h);
/* Smallest value bucket @b holds. */
uint64_t st_hist_lower(uint32_t b);
/* "name[lo..hi]", or "name[lo..]" for the open-ended bucket @last. */
void st_hist_bucket_name(const char *hist, uint32_t b, uint32_t last, char *buf, size_t len);
/* bcc-style text rendering with a star bar per bucket; @last is open-ended. */
void st_hist_print(FILE *f, const struct st_hist *h, const char *unit, uint32_t last);

#endif
