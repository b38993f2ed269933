// SPDX-License-Identifier: GPL-2.0
/* What the running kernel offers to probes: see kernel_view.h. */
#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "trace/kernel_view.h"

void kernel_view_want(struct kernel_view *k, const char *func)
{
	for (int i = 0; i < k->nsyms; i++)
		if (!strcmp(k->syms[i].func, func))
			return;
	if (k->nsyms < (int)(sizeof(k->syms) / sizeof(k->syms[0])))
		k->syms[k->nsyms++].func = func;
}

/* One pass over /proc/kallsyms for every function a candidate names. */
void kernel_view_read_kallsyms(struct kernel_view *k)
{
	char line[512], name[256], type;
	FILE *f = fopen("/proc/kallsyms", "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %c %255s", &type, name) != 2 || (type != 't' && type != 'T'))
			continue;
		for (int i = 0; i < k->nsyms; i++) {
			size_t n = strlen(k->syms[i].func);

			if (strncmp(name, k->syms[i].func, n))
				continue;
			if (!name[n])
				k->syms[i].exact = true;
			else if (name[n] == '.' && !k->syms[i].clone[0])
				snprintf(k->syms[i].clone, sizeof(k->syms[i].clone), "%.95s", name);
		}
	}
	fclose(f);
}

const char *kernel_view_symbol(const struct kernel_view *k, const char *func, bool *exact)
{
	for (int i = 0; i < k->nsyms; i++)
		if (!strcmp(k->syms[i].func, func)) {
			*exact = k->syms[i].exact;
			return k->syms[i].clone;
		}
	*exact = false;
	return "";
}

/* The fd of loaded BTF object @name (a module), or 0. */
int kernel_module_btf_fd(const char *name)
{
	char got[64] = "";	/* the kernel fills it; empty if it does not */
	__u32 id = 0;

	while (!bpf_btf_get_next_id(id, &id)) {
		struct bpf_btf_info info = { .name = (__u64)(unsigned long)got,
					     .name_len = sizeof(got) };
		__u32 len = sizeof(info);
		int fd = bpf_btf_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.kernel_btf &&
		    !strcmp(got, name))
			return fd;
		close(fd);
	}
	return 0;
}

/* @func's BTF id, and in @kvm_side whether it is in the module's BTF. */
static __s32 func_btf_id(const struct kernel_view *k, const char *func, bool *in_module)
{
	__s32 id = btf__find_by_name_kind(k->vmlinux, func, BTF_KIND_FUNC);

	*in_module = false;
	if (id < 0 && k->kvm) {
		id = btf__find_by_name_kind(k->kvm, func, BTF_KIND_FUNC);
		*in_module = id >= 0;
	}
	return id;
}

/* Are @func's arguments, as BTF names them, exactly @want ("a,b,c")? */
bool kernel_params_match(const struct kernel_view *k, const char *func, const char *want,
			 int *nargs, char *got, size_t gotlen)
{
	bool in_module;
	__s32 id = func_btf_id(k, func, &in_module);
	const struct btf *btf = in_module ? k->kvm : k->vmlinux;
	const struct btf_type *t;
	const struct btf_param *p;
	size_t off = 0;

	got[0] = 0;
	if (id < 0)
		return false;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	*nargs = btf_vlen(t);
	p = btf_params(t);
	for (int i = 0; i < *nargs && off < gotlen; i++)
		off += (size_t)snprintf(got + off, gotlen - off, "%s%s", i ? "," : "",
					btf__name_by_offset(btf, p[i].name_off));
	return !strcmp(got, want);
}

/* Load and attach an empty fentry/fexit program (fentry_can_attach()). */
int kernel_trampoline_test(const struct kernel_view *k, const char *func, bool fexit)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	bool in_module;
	__s32 id = func_btf_id(k, func, &in_module);
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type = fexit ? BPF_TRACE_FEXIT : BPF_TRACE_FENTRY,
		    .attach_btf_id = (__u32)id,
		    .attach_btf_obj_fd = in_module ? (__u32)k->kvm_btf_fd : 0);
	int prog, link, err;

	if (in_module && !k->kvm_btf_fd)
		return -ENOENT;
	prog = bpf_prog_load(BPF_PROG_TYPE_TRACING, "st_test", "GPL", insns, 2, &opts);
	if (prog < 0)
		return -errno;
	link = bpf_raw_tracepoint_open(NULL, prog);
	err = link < 0 ? -errno : 0;
	if (link >= 0)
		close(link);
	close(prog);
	return err;
}

bool kernel_nested_tables_npt(void)
{
	unsigned int eax, ebx, ecx, edx;
	char vendor[13];

	if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx))
		return false;
	memcpy(vendor, &ebx, 4);
	memcpy(vendor + 4, &edx, 4);
	memcpy(vendor + 8, &ecx, 4);
	vendor[12] = '\0';
	return !strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine");
}

bool kernel_kvm_uses_tdp(void)
{
	static const char *const params[] = {
		"/sys/module/kvm_amd/parameters/npt", "/sys/module/kvm_intel/parameters/ept",
	};
	bool tdp = false;

	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		FILE *f = fopen(params[i], "re");
		int c = f ? fgetc(f) : EOF;

		tdp |= c == 'Y' || c == '1';
		if (f)
			fclose(f);
	}
	return tdp;
}
