/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which entry point serves each hook on the running kernel: the exact KVM
 * function (fentry, else kprobe) where it is a symbol with the arguments we
 * know, else a caller, else KVM's tracepoint. Decided before load, by
 * looking (kallsyms, BTF) and by test-loading, like libbpf-tools'
 * fentry_can_attach() and kprobe_exists().
 */
#ifndef SHADOWTRACE_PROBES_H
#define SHADOWTRACE_PROBES_H

#include <stdbool.h>
#include <stdio.h>
#include "shadowtrace.h"

enum probe_request {
	PROBE_AUTO,		/* the best each hook can have */
	PROBE_TRACEPOINT,	/* tracepoints only */
	PROBE_KPROBE,		/* kprobes where a hook has one, else its tracepoint */
	PROBE_FENTRY,		/* fentry/fexit where a hook has one, else its tracepoint */
};

enum probe_hook {
	HOOK_SET_TRANSLATION,	/* a new mapping stores gfn and access */
	HOOK_SET_ACCESS,	/* a kept mapping stores new access */
	HOOK_SYNC,		/* an unsync page is synced */
	HOOK_SPLIT,		/* eager huge page split */
	PROBE_HOOKS,
};

#define PROBE_CANDIDATES_MAX	6
#define PROBE_SKIP_MAX		8	/* --skip-probe FUNC, repeatable */

struct probe_status {
	bool chosen;
	char why_not[160];
};

struct probe_plan {
	enum probe_request req;
	const char *skip[PROBE_SKIP_MAX];	/* functions not to probe (set by caller) */
	int chosen[PROBE_HOOKS];	/* index into the hook's candidates; -1: not needed */
	struct probe_status st[PROBE_HOOKS][PROBE_CANDIDATES_MAX];
	bool cache_has_access;		/* shadowed_translation, not the old gfns */
	bool needs_set_spte_tracepoint;
	bool reads_by_loads;		/* tracepoints read SPTEs, cache, vCPU by BTF loads */
	bool sync_stores_seen;		/* a function probe sees the stores of sync */
	bool stores_need_mark;		/* it sees silent stores: the tracepoint marks */
	bool sync_return_seen;		/* a probe at FNAME(sync_page)'s return */
	bool split_stores_seen;		/* function probes see the stores of splits */
	char summary[48];		/* modes in use, e.g. "fentry+tracepoint" */
};

struct btf;
struct bpf_object;
struct bpf_link;

/* Parses "auto", "tracepoint", "kprobe", "fentry"; -1 if none of them. */
int probe_request_parse(const char *s);

/*
 * Chooses per hook and prepares @obj (autoload, attach targets; NULL: only
 * choose, as --list-probes does). @kvm_btf:
 * the kvm module's BTF, or NULL when KVM is built in. Returns 0, or -1 with
 * @err set (one line) when a forced mode fits no hook.
 */
int probes_plan(struct probe_plan *p, enum probe_request req, struct bpf_object *obj,
		const struct btf *vmlinux, const struct btf *kvm_btf, char *err, size_t errlen);
/* Attaches the chosen function probes (tracepoints are the caller's). */
int probes_attach(const struct probe_plan *p, struct bpf_object *obj, struct bpf_link **links,
		  int max_links, int *nlinks);
void probes_print(FILE *f, const struct probe_plan *p, const char *kernel);

#endif
