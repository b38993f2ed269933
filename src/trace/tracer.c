// SPDX-License-Identifier: GPL-2.0
/* Load and attach the BPF side; read and recycle its per-VM state. */
#define _GNU_SOURCE	/* vasprintf */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "trace/kernel_btf.h"
#include "trace/kernel_view.h"
#include "trace/probes.h"
#include "trace/tracer.h"
#include "trace/verifier_log.h"
#include "trace/vm_name.h"
#include "shadowtrace.skel.h"

#define MAX_PROBE_LINKS 8

struct tracer {
	struct shadowtrace_bpf *skel;
	struct tracer_limits lim;
	struct probe_plan plan;
	struct bpf_link *links[MAX_PROBE_LINKS];	/* function probes */
	int nlinks;
	int ncpus;
	uint64_t map_bytes;	/* the kernel's memory for our maps */
};

static char libbpf_last[512];
static char verifier_said[512];	/* "PROGRAM: the verifier's reason", of a failed load */

static bool debug_enabled(void)
{
	const char *d = getenv("SHADOWTRACE_DEBUG");

	return d && d[0] && strcmp(d, "0");
}

/* Keep libbpf quiet, but remember its last warning for our one-line error. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && !debug_enabled()) {
		char *msg = NULL;

		if (vasprintf(&msg, fmt, ap) < 0)
			return 0;
		verifier_reason(msg, verifier_said, sizeof(verifier_said));
		snprintf(libbpf_last, sizeof(libbpf_last), "%.*s", (int)strcspn(msg, "\n"), msg);
		free(msg);
		return 0;
	}
	if (debug_enabled())
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static int refuse(int *status, int code, const char *fmt, ...)
{
	va_list ap;

	fputs("shadowtrace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	*status = code;
	return -1;
}

static void size_maps(struct shadowtrace_bpf *skel, const struct tracer_limits *lim)
{
	bpf_map__set_max_entries(skel->maps.vm_ids, lim->max_vms);
	bpf_map__set_max_entries(skel->maps.vms, lim->max_vms);
	bpf_map__set_max_entries(skel->maps.vm_counters, lim->max_vms);
	bpf_map__set_max_entries(skel->maps.sync_snaps, lim->max_vms);
	/* open addressing (bpf/pages.bpf.h): half full at the limit */
	uint32_t sps_entries = 2 * lim->max_shadow_pages;

	bpf_map__set_max_entries(skel->maps.sps, sps_entries);
	skel->rodata->sps_entries = sps_entries;
	/* open addressing (bpf/churn.bpf.h): twice the slots, a power of two */
	uint32_t churn_entries = 128;

	while (churn_entries < 2 * lim->max_churn_slots)
		churn_entries *= 2;
	bpf_map__set_max_entries(skel->maps.churn, churn_entries);
	skel->rodata->churn_mask = churn_entries - 1;
	skel->rodata->max_vms = lim->max_vms;
	skel->rodata->targ_tgid = lim->target_pid;
	skel->rodata->adopt_limit = lim->max_shadow_pages;
	skel->rodata->floor_only = lim->floor_only;
	skel->rodata->bench_step = lim->bench_step;
	if (lim->ring_bytes) {
		bpf_map__set_max_entries(skel->maps.events, lim->ring_bytes);
		skel->rodata->ring_bytes = lim->ring_bytes;
		skel->rodata->recording = true;
	}
}

/*
 * Attach page creation first: a page is then either already there when its
 * VM is first seen (adopted) or seen being created. The zap hook next, so
 * no tracked page is freed unseen; the stores last (function probes after).
 * The programs do nothing till all are attached and "armed" is set.
 */
static int attach_in_order(struct shadowtrace_bpf *skel)
{
	struct {
		struct bpf_program *prog;
		struct bpf_link **link;
	} order[] = {
		{ skel->progs.tp_get_page, &skel->links.tp_get_page },
		{ skel->progs.tp_zap_all_fast, &skel->links.tp_zap_all_fast },
		{ skel->progs.tp_prepare_zap_page, &skel->links.tp_prepare_zap_page },
		{ skel->progs.tp_sync_page, &skel->links.tp_sync_page },
		{ skel->progs.tp_unsync_page, &skel->links.tp_unsync_page },
		{ skel->progs.tp_split_huge_page, &skel->links.tp_split_huge_page },
		{ skel->progs.tp_set_spte, &skel->links.tp_set_spte },
	};

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!bpf_program__autoload(order[i].prog))
			continue;
		*order[i].link = bpf_program__attach(order[i].prog);
		if (!*order[i].link)
			return -errno;
	}
	return 0;
}

/* Checks the environment, opens the object and plans its probes (@listing: plan only). */
static struct tracer *tracer_open(const struct tracer_limits *lim, struct kernel_btf *k,
				  bool listing, int *status)
{
	char err[256];
	struct tracer *t;
	const char *why;

	libbpf_set_print(libbpf_print);
	if (!st_has_bpf_caps()) {
		refuse(status, ST_EXIT_ENV, "needs root (or CAP_BPF and CAP_PERFMON) to load BPF programs");
		return NULL;
	}
	why = kernel_btf_open(k);
	if (why) {
		refuse(status, ST_EXIT_ENV, "%s", why);
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		refuse(status, ST_EXIT_RUNTIME, "out of memory");
		return NULL;
	}
	t->lim = *lim;
	t->ncpus = libbpf_num_possible_cpus();
	t->skel = shadowtrace_bpf__open();
	if (!t->skel) {
		refuse(status, ST_EXIT_ENV, "cannot open BPF object: %s", strerror(errno));
		goto fail;
	}
	size_maps(t->skel, lim);
	t->plan.cache_has_access = k->cache_has_access;
	memcpy(t->plan.skip, lim->skip_probes, sizeof(t->plan.skip));
	/*
	 * Only listing: no programs touched (libbpf 1.1 keeps the vmlinux BTF
	 * an attach target loads until the object loads, leaking it otherwise)
	 */
	if (probes_plan(&t->plan, lim->attach, listing ? NULL : t->skel->obj, k->vmlinux, k->kvm,
			err, sizeof(err))) {
		refuse(status, ST_EXIT_ENV, "%s", err);
		goto fail;
	}
	t->skel->rodata->sync_stores_seen = t->plan.sync_stores_seen;
	t->skel->rodata->stores_need_mark = t->plan.stores_need_mark;
	t->skel->rodata->sync_return_seen = t->plan.sync_return_seen;
	t->skel->rodata->split_stores_seen = t->plan.split_stores_seen;
	t->skel->rodata->nested_tables_npt = kernel_nested_tables_npt();
	t->skel->rodata->tdp_host = kernel_kvm_uses_tdp();
	t->skel->rodata->reads_by_loads = t->plan.reads_by_loads;
	return t;
fail:
	tracer_stop(t);
	return NULL;
}

/*
 * What the kernel charges for our maps: fdinfo's memlock (real usage since
 * 6.4; older kernels estimate key + value per entry). Preallocated maps
 * hold it from load on. 0 if unknown.
 */
static uint64_t maps_memory(const struct bpf_object *obj)
{
	const struct bpf_map *map;
	uint64_t sum = 0;

	bpf_object__for_each_map(map, obj) {
		char path[64], line[128];
		unsigned long long bytes;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", bpf_map__fd(map));
		f = fopen(path, "re");
		if (!f)
			return 0;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "memlock: %llu", &bytes) == 1)
				sum += bytes;
		fclose(f);
	}
	return sum;
}

struct tracer *tracer_start(const struct tracer_limits *lim, int *status)
{
	struct kernel_btf k = { 0 };
	struct tracer *t = tracer_open(lim, &k, false, status);
	int err;

	kernel_btf_free(&k);
	if (!t)
		return NULL;
	verifier_said[0] = 0;
	err = shadowtrace_bpf__load(t->skel);
	if (err && verifier_said[0]) {
		refuse(status, ST_EXIT_ENV, "cannot load BPF programs: the verifier refuses %s "
		       "(SHADOWTRACE_DEBUG=1 shows its log)", verifier_said);
		goto fail;
	}
	if (err) {
		refuse(status, err == -EPERM ? ST_EXIT_ENV : ST_EXIT_RUNTIME,
		       "cannot load BPF programs: %s%s%s", strerror(-err),
		       libbpf_last[0] ? ": " : "", libbpf_last);
		goto fail;
	}
	err = attach_in_order(t->skel);
	if (err) {
		refuse(status, ST_EXIT_ENV, "cannot attach to the kvmmmu tracepoints: %s", strerror(-err));
		goto fail;
	}
	err = probes_attach(&t->plan, t->skel->obj, t->links, MAX_PROBE_LINKS, &t->nlinks);
	if (err) {
		refuse(status, ST_EXIT_ENV, "cannot attach the %s probes: %s", t->plan.summary,
		       strerror(-err));
		goto fail;
	}
	t->map_bytes = maps_memory(t->skel->obj);
	__atomic_store_n(&t->skel->bss->armed, true, __ATOMIC_RELEASE);
	return t;
fail:
	tracer_stop(t);
	return NULL;
}

int tracer_list_probes(const struct tracer_limits *lim, const char *kernel, FILE *out)
{
	struct kernel_btf k = { 0 };
	int status = ST_EXIT_OK;
	struct tracer *t = tracer_open(lim, &k, true, &status);

	kernel_btf_free(&k);
	if (!t)
		return status;
	probes_print(out, &t->plan, kernel);
	tracer_stop(t);
	return ST_EXIT_OK;
}

const char *tracer_attach_mode(const struct tracer *t)
{
	return t->lim.floor_only ? "tracepoint-floor" : t->plan.summary;
}

bool tracer_cache_has_access(const struct tracer *t)
{
	return t->plan.cache_has_access;
}

int tracer_events_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.events);
}

int tracer_collect(struct tracer *t, void (*fn)(const struct tracer_vm *, void *), void *arg)
{
	int info_fd = bpf_map__fd(t->skel->maps.vms);
	int cnt_fd = bpf_map__fd(t->skel->maps.vm_counters);
	struct tracer_vm *vm = malloc(sizeof(*vm));
	struct st_vm_info info;

	if (!vm)
		return -ENOMEM;
	for (uint32_t slot = 0; slot < t->lim.max_vms; slot++) {
		if (bpf_map_lookup_elem(info_fd, &slot, &info) || !info.kvm ||
		    info.state == ST_VM_FREE)	/* empty, or BPF is still filling it */
			continue;
		memset(vm, 0, sizeof(*vm));
		if (bpf_map_lookup_elem(cnt_fd, &slot, &vm->c))
			continue;
		vm->id.slot = slot;
		vm->id.kvm = info.kvm;
		vm->id.pid = info.pid;
		vm->live = info.state == ST_VM_LIVE;
		vm->pending = info.pending.type != ST_PENDING_NONE;
		vm->adopted_sps = info.adopted_sps;
		vm->live_sps = info.live_sps;
		vm->mmu = info.mmu;
		info.comm[ST_COMM_MAX - 1] = 0;
		info.kvm_dir[ST_KVM_DIR_MAX - 1] = 0;
		memcpy(vm->kvm_dir, info.kvm_dir, sizeof(vm->kvm_dir));
		vm->kvm_dir_ino = info.kvm_dir_ino;
		st_vm_name_live(info.cmdline, info.cmdline_len < ST_CMDLINE_MAX ? info.cmdline_len :
				ST_CMDLINE_MAX, info.comm, info.pid, vm->id.name, sizeof(vm->id.name));
		fn(vm, arg);
	}
	free(vm);
	return 0;
}

void tracer_release_vm(struct tracer *t, uint32_t slot, uint64_t kvm)
{
	static const struct st_vm_counters zero_counters;
	int ids_fd = bpf_map__fd(t->skel->maps.vm_ids);
	struct st_vm_info zero_info = {};
	uint32_t mapped;

	if (!bpf_map_lookup_elem(ids_fd, &kvm, &mapped) && mapped == slot)
		bpf_map_delete_elem(ids_fd, &kvm);
	bpf_map_update_elem(bpf_map__fd(t->skel->maps.vm_counters), &slot, &zero_counters, BPF_ANY);
	/* kvm = 0 last: only then may BPF claim the slot again */
	bpf_map_update_elem(bpf_map__fd(t->skel->maps.vms), &slot, &zero_info, BPF_ANY);
}

void tracer_drops(struct tracer *t, struct st_drops *sum)
{
	struct st_drops *percpu;
	uint32_t zero = 0;

	memset(sum, 0, sizeof(*sum));
	percpu = calloc((size_t)t->ncpus, sizeof(*percpu));
	if (!percpu)
		return;
	if (!bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.drops), &zero, percpu))
		for (int cpu = 0; cpu < t->ncpus; cpu++) {
			for (int i = 0; i < ST_DROPS; i++)
				sum->n[i] += percpu[cpu].n[i];
			for (int i = 0; i < ST_USAGES; i++)
				sum->usage[i] += percpu[cpu].usage[i];
			for (int i = 0; i < ST_EV_TYPES; i++)
				sum->lost[i] += percpu[cpu].lost[i];
			for (int i = 0; i < ST_SP_EVENTS; i++)
				sum->tdp_mmu_pages[i] += percpu[cpu].tdp_mmu_pages[i];
		}
	free(percpu);
}

uint64_t tracer_map_bytes(const struct tracer *t)
{
	return t->map_bytes;
}

const struct tracer_limits *tracer_limits(const struct tracer *t)
{
	return &t->lim;
}

void tracer_detach(struct tracer *t)
{
	for (int i = t->nlinks - 1; i >= 0; i--)
		bpf_link__destroy(t->links[i]);
	t->nlinks = 0;
	shadowtrace_bpf__detach(t->skel);
}

void tracer_stop(struct tracer *t)
{
	if (!t)
		return;
	tracer_detach(t);
	shadowtrace_bpf__destroy(t->skel);
	free(t);
}
