// SPDX-License-Identifier: GPL-2.0
/* shadowtrace: see README.md and "shadowtrace --help". */
#include <string.h>

#include "microguest.h"
#include "options.h"
#include "trace.h"

int main(int argc, char **argv)
{
	struct st_options o;
	int r;

	/* the micro-guest as a subcommand: the demo runs its VMs through it */
	if (argc > 1 && !strcmp(argv[1], "guest")) {
		const char *const self[] = { "/proc/self/exe", "guest", NULL };

		return mg_main(argc - 1, argv + 1, self);
	}
	r = st_parse_options(argc, argv, &o);
	if (r)
		return r;
	switch (o.cmd) {
	case CMD_DEMO:
		return st_demo(&o);
	case CMD_DECODE:
		return st_decode(&o);
	default:
		return st_trace(&o);
	}
}
