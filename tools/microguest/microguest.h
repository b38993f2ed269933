/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The micro-guest: a tiny VMM on /dev/kvm that runs scripted guest
 * scenarios producing exact, known shadow-MMU events, and states its own
 * ground truth as the per-VM figures shadowtrace must report.
 * Only the microguest program links what this header declares beyond
 * scenario.h: shadowtrace runs that program, it never creates a VM.
 */
#ifndef MICROGUEST_H
#define MICROGUEST_H

#include <stdbool.h>

#include "scenario.h"

/*
 * Run @s with @n in this process (one VM). Returns an MG_EXIT_* status and
 * on failure a one-line reason in @err; @guest_ns (may be NULL) gets the
 * time spent running the scripted steps (not VM setup).
 */
int mg_run(enum mg_scenario s, unsigned int n, uint64_t *guest_ns, char *err, size_t errlen);

/* Where mg_run() writes KVM's own statistics of its VM, JSON (NULL: nowhere). */
extern const char *mg_stats_path;

/* Milliseconds mg_run() keeps its VM open, idle, after the scenario (0: none). */
extern unsigned int mg_hold_ms;

/*
 * After the scenario, the host write-protects the guest's memory and gives
 * the write back (what compaction, KSM or a migration do): KVM zaps the
 * SPTEs through its MMU notifier, which no kvmmmu tracepoint shows.
 */
extern bool mg_host_write_protect;

/*
 * Guest memory not backed by transparent huge pages (except in the THP
 * scenarios): on the TDP MMU each 4 KiB page is then its own TDP fault.
 */
extern bool mg_no_thp;

/* After this many guest routines, print "paused" and wait for stdin (0: never). */
extern unsigned int mg_pause_after;

/* Whether /dev/kvm works here: 0, or MG_EXIT_NO_KVM and why not in @err. */
int mg_kvm_check(char *err, size_t errlen);

/* The micro-guest command line; @self_cmd re-runs it for --vms. */
int mg_main(int argc, char **argv, const char *const *self_cmd);

#endif /* MICROGUEST_H */
