// SPDX-License-Identifier: GPL-2.0
/* shadowtrace: see README.md and "shadowtrace --help". */
#include <stdio.h>
#include <sys/utsname.h>

#include "cli/options.h"
#include "figures/figures.h"
#include "cli/commands.h"

int main(int argc, char **argv)
{
	struct st_options o;
	int r;

	r = st_parse_options(argc, argv, &o);
	if (r)
		return r;
	if (o.list_figures) {
		st_figures_list(stdout);
		return ST_EXIT_OK;
	}
	if (o.list_probes) {
		struct utsname u;

		uname(&u);
		return tracer_list_probes(&o.lim, u.release, stdout);
	}
	switch (o.cmd) {
	case CMD_DEMO:
		return st_demo(&o);
	case CMD_DECODE:
		return st_decode(&o);
	case CMD_REPORT:
		return st_report(&o);
	case CMD_DIFF:
		return st_diff(&o);
	default:
		return st_trace(&o);
	}
}
