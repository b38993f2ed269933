/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the running kernel offers to function probes: its symbols (exact or
 * only compiler clones), their BTF prototypes, and whether a trampoline
 * attaches (fentry_can_attach()). Read by probes.c to choose probes.
 */
#ifndef SHADOWTRACE_KERNEL_VIEW_H
#define SHADOWTRACE_KERNEL_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <bpf/btf.h>

/* What the running kernel offers, looked up once. */
struct kernel_view {
	const struct btf *vmlinux, *kvm;
	int kvm_btf_fd;			/* the kvm module's BTF object, or 0 */
	bool kprobes;
	struct {
		const char *func;
		bool exact;
		char clone[96];		/* e.g. foo.part.0 */
	} syms[16];
	int nsyms;
};

/* Ask kernel_view_read_kallsyms() about @func. */
void kernel_view_want(struct kernel_view *k, const char *func);
/* One pass over /proc/kallsyms for every function wanted. */
void kernel_view_read_kallsyms(struct kernel_view *k);
/* Whether @func is a text symbol (*exact); else its compiler clone's name, or "". */
const char *kernel_view_symbol(const struct kernel_view *k, const char *func, bool *exact);
/* The fd of loaded BTF object @name (a module), or 0. */
int kernel_module_btf_fd(const char *name);
/* Are @func's arguments, as BTF names them, exactly @want ("a,b,c")? @got: what they are. */
bool kernel_params_match(const struct kernel_view *k, const char *func, const char *want,
			 int *nargs, char *got, size_t gotlen);
/*
 * Whether a nested guest's tables that KVM shadows here are AMD's NPT
 * (gptes in the 64-bit paging format) rather than Intel's EPT (another
 * format): the CPU's vendor says which.
 */
bool kernel_nested_tables_npt(void);
/*
 * Whether KVM maps ordinary VMs with EPT/NPT here (kvm_amd npt, kvm_intel
 * ept): then only nested guests have shadow pages.
 */
bool kernel_kvm_uses_tdp(void);
/* 0 if an empty fentry (or fexit) program attaches to @func, else -errno. */
int kernel_trampoline_test(const struct kernel_view *k, const char *func, bool fexit);

#endif
