/* SPDX-License-Identifier: GPL-2.0 */
/* A VM's name from its VMM's command line (QEMU's -name guest=NAME). */
#ifndef SHADOWTRACE_VM_NAME_H
#define SHADOWTRACE_VM_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * @cmdline is /proc/PID/cmdline: NUL-separated arguments, @len bytes.
 * Understands "-name NAME", "-name guest=NAME,opt=..." (also "--name" and
 * "-name=..."). Returns false if no name is given.
 */
bool st_name_from_cmdline(const char *cmdline, size_t len, char *out, size_t outlen);
/* A VM's name: from the VMM's command line, else its @comm, else "pid-N". */
void st_vm_name_from(const char *cmdline, size_t len, const char *comm, pid_t pid,
		     char *out, size_t outlen);

/*
 * st_vm_name_from() for a live VM: when BPF could not read the VMM's
 * command line (@len 0), it is read from /proc/@pid/cmdline instead.
 */
void st_vm_name_live(const char *cmdline, size_t len, const char *comm, pid_t pid,
		     char *out, size_t outlen);

#endif
