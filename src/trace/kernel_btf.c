// SPDX-License-Identifier: GPL-2.0
/* The kernel's BTF and what it says of KVM's shadow MMU: see kernel_btf.h. */
#define _GNU_SOURCE	/* vasprintf */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "trace/kernel_btf.h"

static char reason[256];

static const char *why(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return reason;
}

static bool struct_has_member(const struct btf *btf, const char *type, const char *member)
{
	__s32 id = btf__find_by_name_kind(btf, type, BTF_KIND_STRUCT);
	const struct btf_type *t;
	const struct btf_member *m;

	if (id < 0)
		return false;
	t = btf__type_by_id(btf, id);
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(btf, m->name_off), member))
			return true;
	return false;
}

/*
 * KVM's shadow MMU types, in vmlinux BTF (built-in) or kvm module BTF.
 * SHADOWTRACE_CHECK_BTF=FILE checks FILE's BTF instead (tests only).
 */
const char *kernel_btf_open(struct kernel_btf *k)
{
	const char *test_btf = getenv("SHADOWTRACE_CHECK_BTF");
	const struct btf *where;

	if (!test_btf && access("/sys/kernel/btf/vmlinux", R_OK))
		return why("kernel has no BTF (/sys/kernel/btf/vmlinux); CONFIG_DEBUG_INFO_BTF=y is needed");
	k->vmlinux = test_btf ? btf__parse(test_btf, NULL) : btf__load_vmlinux_btf();
	if (!k->vmlinux)
		return why("cannot read kernel BTF: %s", strerror(errno));
	where = k->vmlinux;
	if (btf__find_by_name_kind(k->vmlinux, "kvm_mmu_page", BTF_KIND_STRUCT) < 0 && !test_btf) {
		k->kvm = btf__load_module_btf("kvm", k->vmlinux);
		where = k->kvm;
	}
	if (!where || btf__find_by_name_kind(where, "kvm_mmu_page", BTF_KIND_STRUCT) < 0)
		return why("KVM is not loaded (no struct kvm_mmu_page in kernel BTF); modprobe kvm_intel or kvm_amd");
	k->cache_has_access = struct_has_member(where, "kvm_mmu_page", "shadowed_translation");
	if (!k->cache_has_access && !struct_has_member(where, "kvm_mmu_page", "gfns"))
		return why("this kernel's KVM has neither shadowed_translation nor gfns in struct kvm_mmu_page");
	return NULL;
}

void kernel_btf_free(struct kernel_btf *k)
{
	btf__free(k->kvm);
	btf__free(k->vmlinux);
}

