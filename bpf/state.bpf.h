/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which VM and which shadow page an event belongs to.
 *
 * KVM gives no struct kvm with most kvmmmu tracepoints and BPF cannot do
 * virt_to_page() here, so shadow pages are remembered by their spt page
 * (seen at creation), and a VM seen for the first time has its existing
 * pages adopted by walking kvm->arch.active_mmu_pages (under mmu_lock,
 * which every caller holds).
 */
#ifndef SHADOWTRACE_STATE_BPF_H
#define SHADOWTRACE_STATE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "shadowtrace.h"
#include "page_state.h"
#include "maps.bpf.h"
#include "record.bpf.h"
#include "kvm.bpf.h"
#include "account.bpf.h"
#include "pages.bpf.h"

static __always_inline int vm_ref_of_slot(__u32 slot, struct vm_ref *v)
{
	v->slot = slot;
	v->info = bpf_map_lookup_elem(&vms, &slot);
	v->c = bpf_map_lookup_elem(&vm_counters, &slot);
	return v->info && v->c && v->info->state == ST_VM_LIVE ? 0 : -1;
}

/* Which MMU's pages VM @v has: TDP pages are seen under the read mmu_lock, in parallel. */
static __always_inline void mmu_seen(struct vm_ref *v, __u32 mmu)
{
	if (!(v->info->mmu & mmu))
		__sync_fetch_and_or(&v->info->mmu, mmu);
}

/* The VM of tracked page @s; an event on a page whose VM is freed is a drop. */
static __always_inline int vm_ref_of_sp(const struct st_sp *s, struct vm_ref *v)
{
	if (!vm_ref_of_slot(s->vm, v))
		return 0;
	drop(ST_DROP_UNKNOWN_VM);
	return -1;
}

struct own_vm_ctx {
	__u32 tgid, found, slot;
};

static long find_own_vm(__u32 i, void *data)
{
	struct own_vm_ctx *o = data;
	struct st_vm_info *info = bpf_map_lookup_elem(&vms, &i);

	if (info && info->state == ST_VM_LIVE && info->pid == o->tgid && (info->mmu & ST_MMU_SHADOW)) {
		o->found++;
		o->slot = i;
	}
	return o->found > 1;
}

/*
 * The VM with shadow pages of the current process, for an event that names
 * none (a split KVM gave up or retries, from a VM ioctl: no vCPU, no page).
 * 0: found; 1: the process has none, the event is not ours (the TDP MMU's);
 * -1: several, which one is unknown (counted as a drop).
 */
static __always_inline int vm_of_current_process(struct vm_ref *v)
{
	struct own_vm_ctx o = { .tgid = bpf_get_current_pid_tgid() >> 32 };

	bpf_loop(max_vms, find_own_vm, &o, 0);
	if (!o.found)
		return 1;
	if (o.found > 1 || vm_ref_of_slot(o.slot, v)) {
		drop(ST_DROP_UNKNOWN_VM);
		return -1;
	}
	return 0;
}

/*
 * The TDP page cache (maps.bpf.h tdp_pages). Only TDP MMU pages are in it,
 * put there when the TDP MMU makes one or a vCPU in the TDP MMU writes to
 * it; a shadow page KVM makes takes its address out first, before any
 * write to it. A TDP page is freed an RCU grace period after its zap, and
 * a program writing to it runs inside that period: no stale entry is put
 * back once the address is a shadow page's.
 */
static __always_inline __u64 *tdp_cache_entry(__u64 spt)
{
	__u32 i = (spt >> 12) & (TDP_CACHE_ENTRIES - 1);

	return bpf_map_lookup_elem(&tdp_pages, &i);
}

static __always_inline bool tdp_page_cached(__u64 spt)
{
	__u64 *e = tdp_cache_entry(spt);

	return e && *e == spt;
}

static __always_inline void tdp_page_cache(__u64 spt)
{
	__u64 *e = tdp_cache_entry(spt);

	if (e)
		*e = spt;
}

static __always_inline void tdp_page_forget(__u64 spt)
{
	__u64 *e = tdp_cache_entry(spt);

	if (e && *e == spt)
		*e = 0;
}

/* Track shadow page @sp of VM @v; an older page at the same key ended. */
static __always_inline struct st_sp *track_sp(struct kvm_mmu_page *sp, bool adopted,
					      struct vm_ref *v)
{
	__u32 flags = adopted ? ST_EVF_ADOPTED : 0;
	struct sp_facts f;
	struct st_sp *s;

	if (read_sp(sp, &f)) {
		drop(ST_DROP_READ_FAULT);
		return NULL;
	}
	mmu_seen(v, ST_MMU_SHADOW);
	s = page_find(f.spt);
	if (s) {
		if (!s->zapped && s->vm == v->slot)
			end_sp(v, s, f.spt);	/* its zap went unseen */
		else	/* zapped, or left by a VM long gone */
			flags |= ST_EVF_LIVE;
	} else {
		s = page_insert(f.spt);
		if (!s) {
			drop(ST_DROP_SP_MAP_FULL);
			return NULL;
		}
		flags |= ST_EVF_LIVE;
	}
	s->sp = (__u64)sp;
	s->translations = f.translations;
	s->ad_disabled = f.ad_disabled;
	account_page_start(v, s, f.spt, f.gfn, f.level, flags | (f.direct ? ST_EVF_DIRECT : 0) |
			   (f.guest_mode ? ST_EVF_NESTED : 0), now_tick());
	return s;
}

struct adopt_ctx {
	__u64 head;
	__u64 node;
	__u64 skip;		/* the page being created right now */
	__u32 done;
	struct vm_ref *v;
};

static long adopt_one(__u32 i, void *data)
{
	struct adopt_ctx *a = data;
	struct kvm_mmu_page *sp;

	if (!a->node || a->node == a->head) {
		a->done = 1;
		return 1;
	}
	sp = (struct kvm_mmu_page *)(a->node - bpf_core_field_offset(struct kvm_mmu_page, link));
	if ((__u64)sp != a->skip)
		track_sp(sp, true, a->v);
	/* a local: BPF_CORE_READ would relocate a->node itself otherwise */
	struct list_head *node = (struct list_head *)a->node;
	a->node = (__u64)BPF_CORE_READ(node, next);
	return 0;
}

static __always_inline void adopt_existing_pages(struct kvm *kvm, struct vm_ref *v, __u64 skip)
{
	struct adopt_ctx a = { .v = v, .skip = skip };

	a.head = (__u64)kvm + bpf_core_field_offset(struct kvm, arch.active_mmu_pages);
	a.node = (__u64)BPF_CORE_READ(kvm, arch.active_mmu_pages.next);
	bpf_loop(adopt_limit, adopt_one, &a, 0);
	if (!a.done)
		drop(ST_DROP_ADOPT_TRUNCATED);
}

struct claim_ctx {
	__u64 kvm;
	__s32 slot;
};

static long claim_free_slot(__u32 i, void *data)
{
	struct claim_ctx *cl = data;
	struct st_vm_info *info;

	if (i >= max_vms)
		return 1;
	info = bpf_map_lookup_elem(&vms, &i);
	if (!info || info->kvm)
		return 0;
	/* user space frees slots too: claim atomically */
	if (__sync_val_compare_and_swap(&info->kvm, 0, cl->kvm) != 0)
		return 0;
	cl->slot = i;
	return 1;
}

/* Who runs this VM: read now, in the VMM's context. */
static __always_inline void read_vmm_identity(struct st_vm_info *info)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 start = BPF_CORE_READ(task, mm, arg_start);
	__u64 end = BPF_CORE_READ(task, mm, arg_end);
	__u32 len = end > start ? end - start : 0;

	bpf_get_current_comm(info->comm, sizeof(info->comm));
	if (len > ST_CMDLINE_MAX)
		len = ST_CMDLINE_MAX;
	info->cmdline_len = 0;
	if (len && !bpf_probe_read_user(info->cmdline, len & (ST_CMDLINE_MAX - 1) ?: ST_CMDLINE_MAX,
					(void *)start))
		info->cmdline_len = len;
}

/* The events vm_get() is called for: only KVM making a page starts a VM. */
enum vm_event {
	VM_SEEN,		/* any other: a known address is its VM */
	VM_TDP_PAGE,		/* the TDP MMU made a page */
	VM_SHADOW_PAGE,		/* the shadow MMU made a page */
};

/*
 * Does a page made for the VM at a known address start a new VM, one KVM
 * put where one of the same process ended? The VM's debugfs directory
 * says so (kvm_dir_ino(): a new inode at each KVM_CREATE_VM). Without one,
 * only a shadow page can tell: KVM's count of them (kvm->stat.mmu_cache_miss,
 * under mmu_lock) only grows within one VM. Other events never start a VM:
 * at teardown the directory is gone before the last zaps.
 */
static __always_inline bool vm_starts_anew(const struct st_vm_info *info, enum vm_event ev,
					   __u64 ino, __u64 created)
{
	if (ev == VM_SEEN)
		return false;
	if (ino && info->kvm_dir_ino)
		return ino != info->kvm_dir_ino;
	return ev == VM_SHADOW_PAGE && created <= info->pages_created;
}

/*
 * The slot of VM @kvm, creating it on first sight or when @ev starts a new
 * VM at its address (a new VM in another process too). @sp: the page
 * being made, if any, which adoption skips.
 */
static __always_inline int vm_get(struct kvm *kvm, struct vm_ref *v, enum vm_event ev, __u64 sp)
{
	__u64 key = (__u64)kvm;
	__u64 created = kvm_pages_created(kvm);
	__u64 ino = ev == VM_SEEN ? 0 : kvm_dir_ino(kvm);
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u32 *slotp = bpf_map_lookup_elem(&vm_ids, &key);
	struct claim_ctx cl = { .kvm = key, .slot = -1 };

	if (slotp) {
		if (vm_ref_of_slot(*slotp, v))
			return -1;
		if (v->info->pid == pid && !vm_starts_anew(v->info, ev, ino, created)) {
			if (ev == VM_SHADOW_PAGE)
				v->info->pages_created = created;
			return 0;
		}
		v->info->state = ST_VM_ENDED;	/* user space reports it */
		bpf_map_delete_elem(&vm_ids, &key);
	}
	bpf_loop(max_vms, claim_free_slot, &cl, 0);
	if (cl.slot < 0) {
		drop(ST_DROP_VM_MAP_FULL);
		return -1;
	}
	__u32 slot = cl.slot;
	v->slot = slot;
	v->info = bpf_map_lookup_elem(&vms, &slot);
	v->c = bpf_map_lookup_elem(&vm_counters, &slot);
	if (!v->info || !v->c)
		return -1;
	v->info->pid = pid;
	v->info->first_seen_ns = bpf_ktime_get_ns();
	v->info->adopted_sps = 0;
	v->info->live_sps = 0;
	v->info->mmu = 0;
	v->info->pages_created = created;
	v->info->kvm_dir_ino = ev == VM_SEEN ? kvm_dir_ino(kvm) : ino;
	v->info->pending.type = ST_PENDING_NONE;
	read_vmm_identity(v->info);
	read_kvm_dir(kvm, v->info->kvm_dir, sizeof(v->info->kvm_dir));
	v->info->state = ST_VM_LIVE;
	if (bpf_map_update_elem(&vm_ids, &key, &slot, BPF_ANY)) {
		v->info->state = ST_VM_FREE;
		v->info->kvm = 0;
		drop(ST_DROP_VM_MAP_FULL);
		return -1;
	}
	emit_vm(slot, v->info);
	adopt_existing_pages(kvm, v, sp);
	return 0;
}

/*
 * The tracked page with spt page @spt, adopting its VM's pages if new. @sp
 * (may be NULL) lets a page be placed without a running vCPU.
 */
static __always_inline struct st_sp *sp_lookup(__u64 spt, struct kvm_mmu_page *sp,
					       struct vm_ref *v)
{
	struct st_sp *s = page_find(spt);
	struct kvm *kvm;

	if (s)
		return vm_ref_of_sp(s, v) ? NULL : s;
	/* unknown page: maybe a VM that ran before we attached */
	struct kvm_vcpu *vcpu = current_vcpu();

	kvm = kvm_of_vcpu(vcpu);
	if (!kvm && sp)
		kvm = kvm_of_listed_sp(sp, adopt_limit);
	if (!kvm) {
		drop(ST_DROP_UNKNOWN_VM);
		return NULL;
	}
	__u64 key = (__u64)kvm;
	s = NULL;
	if (!bpf_map_lookup_elem(&vm_ids, &key) && !vm_get(kvm, v, VM_SEEN, 0))
		s = page_find(spt);	/* adopted just now */
	if (s)
		return s;
	/* an SPTE of a page never seen, written by a vCPU on a direct root */
	if (sp || !vcpu_on_direct_root(vcpu))
		drop(ST_DROP_UNKNOWN_SP);
	return NULL;
}

#endif
