/* SPDX-License-Identifier: GPL-2.0 */
/* The one clock of reports, exits and flushes: monotonic seconds. */
#ifndef SHADOWTRACE_CLOCK_H
#define SHADOWTRACE_CLOCK_H

#include <time.h>

static inline double st_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif
