/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SHADOWTRACE_TRACE_H
#define SHADOWTRACE_TRACE_H

#include "options.h"

int st_trace(const struct st_options *o);
int st_demo(const struct st_options *o);
int st_decode(const struct st_options *o);

#endif
