/* SPDX-License-Identifier: GPL-2.0 */
/* The exit statuses of every subcommand (README "Exit status"). */
#ifndef SHADOWTRACE_EXIT_STATUS_H
#define SHADOWTRACE_EXIT_STATUS_H

#define ST_EXIT_OK		0
#define ST_EXIT_RUNTIME		1
#define ST_EXIT_USAGE		2
#define ST_EXIT_ENV		3	/* no root/BPF/BTF/KVM/cache */
#define ST_EXIT_MISMATCH	4	/* demo: observed != ground truth */
#define ST_EXIT_CMD		5	/* -c command failed */
#define ST_EXIT_RECORDING	6	/* a recording unreadable or cut short */
#define ST_EXIT_DIFFERENT	1	/* diff: the recordings differ */

#endif
