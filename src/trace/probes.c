// SPDX-License-Identifier: GPL-2.0
/* Per-hook choice of entry point: see probes.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "trace/kernel_view.h"
#include "trace/probes.h"

struct candidate {
	enum st_attach_mode mode;
	const char *func;	/* kernel function, or the tracepoint */
	const char *params;	/* its arguments as BTF names them; NULL: a tracepoint */
	const char *entry;	/* BPF program at entry, or NULL */
	const char *exit;	/* BPF program at return, or NULL */
	bool forced_only;	/* auto does not use it (see allowed()) */
	/*
	 * The function every store goes through (kvm_mmu_page_set_access
	 * calls it): it sees sync's stores, and set_access needs no probe.
	 */
	bool sees_every_store;
	bool sees_sync_stores;	/* kvm_mmu_page_set_access: sync stores through it */
};

#define TP ST_ATTACH_TRACEPOINT
#define KP ST_ATTACH_KPROBE
#define FE ST_ATTACH_FENTRY
#define SET_TRANSLATION_ARGS	"sp,index,gfn,access"
#define RMAP_ADD_ARGS		"kvm,cache,slot,spte,gfn,access"
#define SET_ACCESS_ARGS		"sp,index,access"
#define MMU_SET_SPTE_ARGS	"vcpu,slot,sptep,pte_access,gfn,pfn,fault"
#define SYNC_PAGE_ARGS		"vcpu,sp"
#define SPLIT_ONE_ARGS		"kvm,slot,huge_sptep"
#define TRY_SPLIT_ARGS		"kvm,slot,start,end,target_level"

/* In order of preference: exact function, then a caller, then the tracepoint. */
static const struct candidate candidates[PROBE_HOOKS][PROBE_CANDIDATES_MAX] = {
	[HOOK_SET_TRANSLATION] = {
		{ FE, "kvm_mmu_page_set_translation", SET_TRANSLATION_ARGS, "fentry_set_translation",
		  .sees_every_store = true },
		{ KP, "kvm_mmu_page_set_translation", SET_TRANSLATION_ARGS, "kprobe_set_translation",
		  .sees_every_store = true },
		{ FE, "__rmap_add", RMAP_ADD_ARGS, "fentry_rmap_add" },
		{ KP, "__rmap_add", RMAP_ADD_ARGS, "kprobe_rmap_add" },
		{ TP, "kvmmmu:kvm_mmu_set_spte", NULL, "tp_set_spte" },
	},
	[HOOK_SET_ACCESS] = {
		{ FE, "kvm_mmu_page_set_access", SET_ACCESS_ARGS, "fentry_set_access",
		  .sees_sync_stores = true },
		{ KP, "kvm_mmu_page_set_access", SET_ACCESS_ARGS, "kprobe_set_access",
		  .sees_sync_stores = true },
		{ FE, "mmu_set_spte", MMU_SET_SPTE_ARGS, "fentry_mmu_set_spte", "fexit_mmu_set_spte" },
		{ TP, "kvmmmu:kvm_mmu_set_spte", NULL, "tp_set_spte" },
		{ KP, "mmu_set_spte", MMU_SET_SPTE_ARGS, "kprobe_mmu_set_spte",
		  "kretprobe_mmu_set_spte", .forced_only = true },
	},
	[HOOK_SYNC] = {
		{ FE, "paging64_sync_page", SYNC_PAGE_ARGS, NULL, "fexit_sync_page" },
		{ KP, "paging64_sync_page", SYNC_PAGE_ARGS, NULL, "kretprobe_sync_page" },
		/* Linux 6.4+: the loop over FNAME(sync_spte), every paging mode */
		{ FE, "__kvm_sync_page", SYNC_PAGE_ARGS, NULL, "fexit_sync_page" },
		{ KP, "__kvm_sync_page", SYNC_PAGE_ARGS, NULL, "kretprobe_sync_page" },
		{ TP, "kvmmmu:kvm_mmu_sync_page", NULL, NULL },
	},
	[HOOK_SPLIT] = {
		{ FE, "shadow_mmu_split_huge_page", SPLIT_ONE_ARGS, "fentry_split", "fexit_split" },
		{ KP, "shadow_mmu_split_huge_page", SPLIT_ONE_ARGS, "kprobe_split", "kretprobe_split" },
		{ FE, "kvm_shadow_mmu_try_split_huge_pages", TRY_SPLIT_ARGS, "fentry_split",
		  "fexit_split" },
		{ KP, "kvm_shadow_mmu_try_split_huge_pages", TRY_SPLIT_ARGS, "kprobe_split",
		  "kretprobe_split" },
		{ TP, "kvmmmu:kvm_mmu_split_huge_page", NULL, NULL },
	},
};

#define for_each_candidate(h, i) \
	for (int i = 0; i < PROBE_CANDIDATES_MAX && candidates[h][i].func; i++)

/* The candidate chosen for hook @h, or NULL when the hook needs none. */
static const struct candidate *chosen_of(const struct probe_plan *p, int h)
{
	return p->chosen[h] >= 0 ? &candidates[h][p->chosen[h]] : NULL;
}

/* The one kind of probe --attach kprobe|fentry asks for; TP otherwise. */
static enum st_attach_mode requested_mode(enum probe_request req)
{
	return req == PROBE_KPROBE ? KP : req == PROBE_FENTRY ? FE : TP;
}

static const char *const hook_names[PROBE_HOOKS] = {
	[HOOK_SET_TRANSLATION] = "set_translation",
	[HOOK_SET_ACCESS] = "set_access",
	[HOOK_SYNC] = "sync",
	[HOOK_SPLIT] = "split",
};

/* What the tracepoint fallback of each hook gives. */
static const char *const tracepoint_notes[PROBE_HOOKS] = {
	[HOOK_SET_TRANSLATION] = "store resolved at the VM's next MMU event",
	[HOOK_SET_ACCESS] = "marks the stores that change an SPTE (silent ones are not writes)",
	[HOOK_SYNC] = "snapshot resolved at the VM's next MMU event",
	[HOOK_SPLIT] = "a split into a new child page: its 512 writes; into a reused one: unobservable",
};

static const char *const mode_names[ST_ATTACH_MODES] = {
	[TP] = "tracepoint", [KP] = "kprobe", [FE] = "fentry",
};

static const char *const request_names[] = {
	[PROBE_AUTO] = "auto", [PROBE_TRACEPOINT] = "tracepoint",
	[PROBE_KPROBE] = "kprobe", [PROBE_FENTRY] = "fentry",
};

int probe_request_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(request_names) / sizeof(request_names[0]); i++)
		if (!strcmp(s, request_names[i]))
			return (int)i;
	return -1;
}

/* Can @c run here? If not, why (into @why). */
static bool usable(const struct kernel_view *k, const struct candidate *c, char *why, size_t n)
{
	char got[128];
	const char *clone;
	bool exact;
	int nargs = 0, err;

	if (c->mode == TP)
		return true;
	if (c->mode == KP && !k->kprobes) {
		snprintf(why, n, "this kernel has no kprobes");
		return false;
	}
	clone = kernel_view_symbol(k, c->func, &exact);
	if (!exact) {
		if (clone[0])
			snprintf(why, n, "inlined; only the compiler clone %s, whose arguments are not known intact",
				 clone);
		else
			snprintf(why, n, "no such symbol (inlined or absent)");
		return false;
	}
	if (!kernel_params_match(k, c->func, c->params, &nargs, got, sizeof(got))) {
		if (got[0])
			snprintf(why, n, "arguments (%.80s) differ from the known (%s)", got, c->params);
		else
			snprintf(why, n, "no BTF prototype to check its arguments");
		return false;
	}
	if (c->mode == KP)
		return true;
	err = kernel_trampoline_test(k, c->func, !c->entry);
	if (!err && c->entry && c->exit)
		err = kernel_trampoline_test(k, c->func, true);
	if (!err)
		return true;
	if (nargs > 6 && (err == -524 || err == -EINVAL))
		snprintf(why, n, "%d arguments: more than this kernel's trampoline takes", nargs);
	else
		snprintf(why, n, "refused by the kernel: %s", strerror(-err));
	return false;
}

static struct bpf_program *program(struct bpf_object *obj, const char *name)
{
	return name && obj ? bpf_object__find_program_by_name(obj, name) : NULL;
}

static void set_autoload(struct bpf_object *obj, const char *name, bool on)
{
	struct bpf_program *prog = program(obj, name);

	if (prog)
		bpf_program__set_autoload(prog, on);
}

/* Every program the table names is in @obj: else the build is broken, say so. */
static const char *missing_program(struct bpf_object *obj)
{
	if (!obj)
		return NULL;
	if (!program(obj, "tp_set_spte"))
		return "tp_set_spte";
	for (int h = 0; h < PROBE_HOOKS; h++)
		for_each_candidate(h, i) {
			const struct candidate *c = &candidates[h][i];

			if (c->entry && !program(obj, c->entry))
				return c->entry;
			if (c->exit && !program(obj, c->exit))
				return c->exit;
		}
	return NULL;
}

static bool skipped(const struct probe_plan *p, const char *func)
{
	for (int i = 0; i < PROBE_SKIP_MAX && p->skip[i]; i++)
		if (!strcmp(p->skip[i], func))
			return true;
	return false;
}

static bool allowed(const struct probe_plan *p, const struct candidate *c, char *why, size_t n)
{
	enum probe_request req = p->req;
	enum st_attach_mode want = requested_mode(req);

	if (skipped(p, c->func)) {
		snprintf(why, n, "skipped (--skip-probe)");
		return false;
	}
	if (req == PROBE_AUTO && c->forced_only) {
		snprintf(why, n, "auto: an entry/return kprobe pair costs more than the tracepoint and sees the same stores");
		return false;
	}
	if (req != PROBE_AUTO && c->mode != want && c->mode != TP) {
		snprintf(why, n, "not with --attach %s", request_names[req]);
		return false;
	}
	return true;
}

static void choose(struct probe_plan *p, const struct kernel_view *k, int h)
{
	bool forced = requested_mode(p->req) != TP;
	const struct candidate *st_hook = chosen_of(p, HOOK_SET_TRANSLATION);

	p->chosen[h] = -1;
	if (h == HOOK_SET_ACCESS && st_hook && st_hook->sees_every_store) {
		/* its tracepoint still tells which stores change an SPTE */
		for_each_candidate(h, i)
			if (candidates[h][i].mode == TP && p->chosen[h] < 0) {
				p->st[h][i].chosen = true;
				p->chosen[h] = i;
			} else {
				snprintf(p->st[h][i].why_not, sizeof(p->st[h][i].why_not),
					 "not needed: its stores go through the probed kvm_mmu_page_set_translation");
			}
		return;
	}
	/* a forced mode takes the tracepoint only when none of its own fits */
	for (int pass = 0; pass < (forced ? 2 : 1); pass++)
		for_each_candidate(h, i) {
			const struct candidate *c = &candidates[h][i];
			struct probe_status *st = &p->st[h][i];

			if (forced && (c->mode == TP) != (pass == 1))
				continue;
			if (!allowed(p, c, st->why_not, sizeof(st->why_not)))
				continue;
			if (p->chosen[h] >= 0)
				snprintf(st->why_not, sizeof(st->why_not), "a better one was chosen");
			else if (usable(k, c, st->why_not, sizeof(st->why_not))) {
				st->chosen = true;
				p->chosen[h] = i;
			}
		}
}

static void summarize(struct probe_plan *p)
{
	bool used[ST_ATTACH_MODES] = { false };
	static const enum st_attach_mode order[] = { FE, KP, TP };

	for (int h = 0; h < PROBE_HOOKS; h++)
		if (chosen_of(p, h))
			used[chosen_of(p, h)->mode] = true;
	p->summary[0] = 0;
	for (size_t i = 0; i < 3; i++)
		if (used[order[i]])
			snprintf(p->summary + strlen(p->summary), sizeof(p->summary) - strlen(p->summary),
				 "%s%s", p->summary[0] ? "+" : "", mode_names[order[i]]);
}

/*
 * bpf_rdonly_cast() (Linux 6.2+) types a kernel word's address as struct
 * timespec64 (bpf/kvm.bpf.h kernel_u64()), so the tracepoints read SPTEs,
 * translations and the vCPU by plain loads (function probes by helper
 * calls: bpf/functions.bpf.c says why). --skip-probe bpf_rdonly_cast: by
 * bpf_probe_read_kernel (to compare).
 */
static bool kernel_read_by_loads(const struct probe_plan *p, const struct btf *vmlinux)
{
	return vmlinux && !skipped(p, "bpf_rdonly_cast") &&
	       btf__find_by_name_kind(vmlinux, "bpf_rdonly_cast", BTF_KIND_FUNC) > 0 &&
	       btf__find_by_name_kind(vmlinux, "timespec64", BTF_KIND_STRUCT) > 0;
}

int probes_plan(struct probe_plan *p, enum probe_request req, struct bpf_object *obj,
		const struct btf *vmlinux, const struct btf *kvm_btf, char *err, size_t errlen)
{
	struct kernel_view k = { .vmlinux = vmlinux, .kvm = kvm_btf };
	enum st_attach_mode want = requested_mode(req);
	bool forced_used = false;

	const char *missing = missing_program(obj);

	if (missing) {
		snprintf(err, errlen, "the BPF object has no program %s (shadowtrace is built wrong)",
			 missing);
		return -1;
	}
	memset(p->chosen, 0, sizeof(p->chosen));
	memset(p->st, 0, sizeof(p->st));
	p->req = req;
	k.kprobes = !access("/sys/bus/event_source/devices/kprobe/type", F_OK);
	k.kvm_btf_fd = kvm_btf ? kernel_module_btf_fd("kvm") : 0;
	for (int h = 0; h < PROBE_HOOKS; h++)
		for_each_candidate(h, i)
			if (candidates[h][i].mode != TP)
				kernel_view_want(&k, candidates[h][i].func);
	if (req != PROBE_TRACEPOINT)
		kernel_view_read_kallsyms(&k);
	for (int h = 0; h < PROBE_HOOKS; h++) {
		choose(p, &k, h);
		if (chosen_of(p, h) && chosen_of(p, h)->mode != TP)
			forced_used = true;
	}
	if (k.kvm_btf_fd > 0)
		close(k.kvm_btf_fd);
	if (want != TP && !forced_used) {
		/* why the best probe of that kind for the first hook was refused */
		int best = 0;

		while (candidates[0][best].mode != want)
			best++;
		snprintf(err, errlen, "--attach %s: no hook can use one on this kernel (%s: %s)",
			 request_names[req], candidates[0][best].func, p->st[0][best].why_not);
		return -1;
	}
	/* every function program off, then the chosen ones on, targets set */
	p->needs_set_spte_tracepoint = false;
	p->sync_stores_seen = false;
	p->stores_need_mark = false;
	p->sync_return_seen = false;
	p->split_stores_seen = false;
	for (int h = 0; h < PROBE_HOOKS; h++)
		for_each_candidate(h, i) {
			set_autoload(obj, candidates[h][i].entry, false);
			set_autoload(obj, candidates[h][i].exit, false);
		}
	for (int h = 0; h < PROBE_HOOKS; h++) {
		const struct candidate *c = chosen_of(p, h);

		if (!c)
			continue;
		if (c->sees_every_store || c->sees_sync_stores)
			p->sync_stores_seen = true;
		if (c->sees_every_store)
			p->stores_need_mark = true;
		if (h == HOOK_SYNC && c->exit)
			p->sync_return_seen = true;
		/* a split's stores are seen where it and the stores have function probes */
		if (h == HOOK_SPLIT) {
			const struct candidate *st = chosen_of(p, HOOK_SET_TRANSLATION);

			p->split_stores_seen = c->mode != TP && st && st->mode != TP;
		}
		if (c->mode == TP && c->entry)
			p->needs_set_spte_tracepoint = true;
		for (int j = 0; j < 2; j++) {
			struct bpf_program *prog = program(obj, j ? c->exit : c->entry);

			if (!prog)
				continue;
			bpf_program__set_autoload(prog, true);
			if (c->mode == FE && bpf_program__set_attach_target(prog, 0, c->func)) {
				snprintf(err, errlen, "cannot target %s: %s", c->func, strerror(errno));
				return -1;
			}
		}
	}
	p->reads_by_loads = kernel_read_by_loads(p, vmlinux);
	set_autoload(obj, "tp_set_spte", p->needs_set_spte_tracepoint);
	summarize(p);
	return 0;
}

int probes_attach(const struct probe_plan *p, struct bpf_object *obj, struct bpf_link **links,
		  int max_links, int *nlinks)
{
	/* stores last: returns before entries, so no entry waits for a return unseen */
	static const int order[] = { HOOK_SPLIT, HOOK_SYNC, HOOK_SET_ACCESS, HOOK_SET_TRANSLATION };

	for (size_t o = 0; o < sizeof(order) / sizeof(order[0]); o++) {
		const struct candidate *c = chosen_of(p, order[o]);

		if (!c || c->mode == TP)
			continue;
		for (int j = 0; j < 2; j++) {
			bool ret = j == 0;	/* the return first */
			struct bpf_program *prog = program(obj, ret ? c->exit : c->entry);
			struct bpf_link *l;

			if (!prog)
				continue;
			if (*nlinks >= max_links)
				return -E2BIG;
			l = c->mode == KP ? bpf_program__attach_kprobe(prog, ret, c->func)
					  : bpf_program__attach(prog);
			if (!l)
				return -errno;
			links[(*nlinks)++] = l;
		}
	}
	return 0;
}

void probes_print(FILE *f, const struct probe_plan *p, const char *kernel)
{
	fprintf(f, "kernel %s, --attach %s: %s; cache %s; tracepoints read SPTEs, cache and vCPU by %s\n",
		kernel, request_names[p->req], p->summary,
		p->cache_has_access ? "shadowed_translation (gfn and access)"
				    : "gfns (before Linux 5.19: gfn only, access unknown)",
		p->reads_by_loads ? "BTF loads (bpf_rdonly_cast)" : "bpf_probe_read_kernel");
	fprintf(f, "%-16s %-10s %-46s %s\n", "HOOK", "MODE", "PROBE", "STATUS");
	for (int h = 0; h < PROBE_HOOKS; h++)
		for_each_candidate(h, i) {
			const struct candidate *c = &candidates[h][i];
			const struct probe_status *st = &p->st[h][i];
			char probe[64];

			snprintf(probe, sizeof(probe), "%s%s", c->func,
				 c->mode == TP ? "" : !c->entry ? " (return)" : c->exit ? " (+return)" : "");
			fprintf(f, "%-16s %-10s %-46s %s%s%s\n", hook_names[h], mode_names[c->mode], probe,
				st->chosen ? "chosen" : "no: ",
				st->chosen ? (c->mode == TP ? ": " : "") : st->why_not,
				st->chosen && c->mode == TP ? tracepoint_notes[h] : "");
		}
	fprintf(f, "%-16s %-10s %-46s %s\n", "page_lifecycle", "tracepoint",
		"kvmmmu:kvm_mmu_{get,prepare_zap,sync,unsync}_page", "chosen: the only source");
}
