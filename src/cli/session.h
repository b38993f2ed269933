/* SPDX-License-Identifier: GPL-2.0 */
/* What trace and demo share: signals, clock, tracer + table lifecycle. */
#ifndef SHADOWTRACE_SESSION_H
#define SHADOWTRACE_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include "clock.h"
#include "cli/options.h"
#include "output/report.h"
#include "trace/tracer.h"
#include "trace/vm_table.h"

struct session {
	struct tracer *tracer;
	struct vm_table table;
	struct report_ctx rep;
	char kernel[128];
	double start;
};

extern volatile sig_atomic_t st_stop_signal;

/* SIGINT/SIGTERM/SIGHUP stop the session cleanly (st_stop_signal). */
void st_install_signals(void);
/* Starts the tracer; returns 0 or an ST_EXIT_* status (message printed). */
int session_start(struct session *s, const struct st_options *o);
/* Refreshes the VM table and the report context (drops, elapsed). */
void session_refresh(struct session *s);
void session_report(struct session *s, const struct st_options *o, bool final);
void session_end(struct session *s);

#endif
