// SPDX-License-Identifier: GPL-2.0
/*
 * The one definition of every map and global variable the program objects
 * share (they see extern declarations: see maps.bpf.h), and the license.
 * No programs: bpftool gen object links this with tracepoints.bpf.o and
 * functions.bpf.o into shadowtrace.bpf.o.
 */
#define ST_DEFINE_GLOBALS
#include "maps.bpf.h"
#include "record.bpf.h"

char LICENSE[] SEC("license") = "GPL";
