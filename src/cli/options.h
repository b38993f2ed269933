/* SPDX-License-Identifier: GPL-2.0 */
/* Command line of shadowtrace (argp). */
#ifndef SHADOWTRACE_OPTIONS_H
#define SHADOWTRACE_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include "trace/tracer.h"

enum st_command { CMD_TRACE, CMD_DEMO, CMD_DECODE, CMD_RECORD, CMD_REPORT, CMD_DIFF };

struct st_options {
	enum st_command cmd;
	uint32_t interval_s;		/* 0: report at exit only */
	uint32_t duration_s;		/* 0: until signal or command exit */
	const char *command;		/* -c: trace while it runs */
	bool json;
	uint32_t top;			/* text: a table of the N most active VMs (0: all, in full) */
	bool list_probes;		/* --list-probes: show and exit */
	bool list_figures;		/* --list-figures: show and exit */
	/* Prometheus */
	const char *prom_file;		/* textfile for node_exporter */
	uint32_t prom_keep_s;		/* exited VMs stay this long */
	bool prom_keep_set;
	const char *listen;		/* HTTP /metrics address */
	bool listen_public;
	struct tracer_limits lim;
	/* demo */
	int scenario;			/* -1: all */
	uint32_t n, vms;
	/* decode */
	const char *value;
	/* record, report, diff */
	const char *output;		/* record -o FILE */
	uint32_t ring_mb;		/* record: events ring buffer, MiB */
	const char *files[2];		/* report FILE, diff A B */
	unsigned int nfiles;
	const char *html;		/* report, diff: also a self-contained HTML page */
	uint32_t threshold_pct;		/* diff: a change up to this is no change */
	bool gate_timing;		/* diff: change-interval buckets count too */
};

/* Returns 0, or an ST_EXIT_* status after printing one line. */
int st_parse_options(int argc, char **argv, struct st_options *o);

#endif
