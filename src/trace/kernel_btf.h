/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SHADOWTRACE_KERNEL_BTF_H
#define SHADOWTRACE_KERNEL_BTF_H

#include <stdbool.h>

struct btf;

/* The kernel's BTF: vmlinux, and the kvm module's when KVM is one. */
struct kernel_btf {
	struct btf *vmlinux, *kvm;
	bool cache_has_access;
};

/*
 * Reads the kernel's BTF and checks KVM's shadow MMU types are in it (vmlinux
 * or the kvm module). NULL, or why not (one line). SHADOWTRACE_CHECK_BTF=FILE
 * checks FILE's BTF instead (tests only).
 */
const char *kernel_btf_open(struct kernel_btf *k);
void kernel_btf_free(struct kernel_btf *k);

#endif
