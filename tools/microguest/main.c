// SPDX-License-Identifier: GPL-2.0
/* The standalone micro-guest; see cli.c. */
#include "microguest.h"

int main(int argc, char **argv)
{
	const char *const self[] = { "/proc/self/exe", NULL };

	return mg_main(argc, argv, self);
}
