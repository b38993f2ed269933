// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <string.h>

#include "figures/hist.h"

uint64_t st_hist_total(const struct st_hist *h)
{
	uint64_t n = 0;

	for (int b = 0; b < ST_HIST_BUCKETS; b++)
		n += h->buckets[b];
	return n;
}

uint64_t st_hist_lower(uint32_t b)
{
	return b == 0 ? 0 : 1ULL << (b - 1);
}

void st_hist_bucket_name(const char *hist, uint32_t b, uint32_t last, char *buf, size_t len)
{
	if (b >= last)
		snprintf(buf, len, "%s[%" PRIu64 "..]", hist, st_hist_lower(b));
	else
		snprintf(buf, len, "%s[%" PRIu64 "..%" PRIu64 "]", hist, st_hist_lower(b),
			 (uint64_t)st_hist_upper(b));
}

void st_hist_print(FILE *f, const struct st_hist *h, const char *unit, uint32_t last_bucket)
{
	const int width = 40;
	uint64_t max = 0;
	int first = -1, last = -1;

	for (int b = 0; b < ST_HIST_BUCKETS; b++) {
		if (!h->buckets[b])
			continue;
		if (first < 0)
			first = b;
		last = b;
		if (h->buckets[b] > max)
			max = h->buckets[b];
	}
	if (first < 0) {
		fprintf(f, "      (no samples)\n");
		return;
	}
	fprintf(f, "      %-24s : %-10s distribution\n", unit, "count");
	for (int b = first; b <= last; b++) {
		char range[64], bar[64];
		int stars = (int)(h->buckets[b] * (uint64_t)width / max);

		if (b == 0)
			snprintf(range, sizeof(range), "0");
		else if ((uint32_t)b >= last_bucket)
			snprintf(range, sizeof(range), "%" PRIu64 " ->", st_hist_lower(b));
		else if (st_hist_lower(b) == st_hist_upper(b))
			snprintf(range, sizeof(range), "%" PRIu64, st_hist_lower(b));
		else
			snprintf(range, sizeof(range), "%" PRIu64 " -> %" PRIu64,
				 st_hist_lower(b), (uint64_t)st_hist_upper(b));
		memset(bar, '*', (size_t)stars);
		bar[stars] = 0;
		fprintf(f, "      %-24s : %-10" PRIu64 " |%-*s|\n", range, (uint64_t)h->buckets[b], width, bar);
	}
}
