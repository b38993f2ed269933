/* SPDX-License-Identifier: GPL-2.0 */
/* Why the kernel refused a BPF program, from libbpf's report of the load. */
#ifndef SHADOWTRACE_VERIFIER_LOG_H
#define SHADOWTRACE_VERIFIER_LOG_H

#include <stdbool.h>
#include <stddef.h>

/*
 * @msg is one libbpf warning. From its "prog 'NAME': -- BEGIN PROG LOAD LOG
 * --\n...-- END PROG LOAD LOG --" form, writes "NAME: REASON" to @out: the
 * log's last line that is not the verifier's statistics. False for any
 * other message.
 */
bool verifier_reason(const char *msg, char *out, size_t outlen);

#endif
