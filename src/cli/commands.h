/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SHADOWTRACE_COMMANDS_H
#define SHADOWTRACE_COMMANDS_H

#include "exit_status.h"

#include "cli/options.h"

int st_trace(const struct st_options *o);
int st_demo(const struct st_options *o);
int st_decode(const struct st_options *o);
/* report FILE: a recording's figures, as the live tracer printed them */
int st_report(const struct st_options *o);
/* diff A B: what changed between two recordings */
int st_diff(const struct st_options *o);

#endif
