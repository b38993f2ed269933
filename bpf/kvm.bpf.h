/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading KVM's structures with CO-RE. Everything here is a read; nothing
 * writes kernel memory.
 */
#ifndef SHADOWTRACE_KVM_BPF_H
#define SHADOWTRACE_KVM_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "shadowtrace.h"
#include "page_state.h"
#include "maps.bpf.h"		/* reads_by_loads */

#define SPTE_MMU_PRESENT	(1ULL << 11)	/* is_shadow_present_pte(), 5.13+ */
#define SPTE_ACCESSED		(1ULL << 5)	/* shadow_accessed_mask of shadow paging */
#define GPTE_PRESENT		(1ULL << 0)
#define GPTE_ACCESSED		(1ULL << 5)
#define GPTE_ADDR_MASK		0x000ffffffffff000ULL

#define PAGE_MASK_4K		(~4095ULL)

/* The slot of an SPTE pointer within its page of 512. */
static __always_inline __u32 sptep_index(__u64 sptep)
{
	return (sptep & ~PAGE_MASK_4K) / sizeof(__u64);
}

/*
 * Linux 6.2+: a kernel address as a typed pointer, its fields read by plain
 * loads (the verifier makes them fault-safe) instead of a helper call each.
 * Weak, and called only under reads_by_loads: elsewhere the verifier drops
 * the call as dead code. Not in an object that defines ST_READS_BY_HELPER
 * (functions.bpf.c says why).
 */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;
#ifdef ST_READS_BY_HELPER
#define loads_linked false
#else
#define loads_linked true
#endif

/*
 * The u64 at kernel address @addr into *@out; 0, or -1 if unreadable.
 * With reads_by_loads (Linux 6.2+, tracepoints): one plain load, the
 * address typed as a struct whose first field is 64 bits (struct
 * timespec64, in every kernel's BTF), no helper call: a
 * bpf_probe_read_kernel() cost ~30 ns on the December PVM host, and a
 * write takes three. Such a load reads 0 where the address faults, unseen;
 * the words read here are KVM's SPTEs and translation caches and the
 * vCPU, in the direct map, which never fault.
 */
static __always_inline int kernel_u64(__u64 addr, __u64 *out)
{
	if (loads_linked && reads_by_loads) {
		const struct timespec64 *w =
			bpf_rdonly_cast((void *)addr, bpf_core_type_id_kernel(struct timespec64));

		*out = (__u64)w->tv_sec;
		return 0;
	}
	*out = 0;
	return bpf_probe_read_kernel(out, sizeof(*out), (void *)addr) ? -1 : 0;
}

/* The SPTE in slot @idx of page @spt as written now; 0 if unreadable. */
static __always_inline __u64 read_spte(__u64 spt, __u32 idx)
{
	__u64 spte;

	kernel_u64(spt + (idx & (ST_SPTES_PER_PAGE - 1)) * sizeof(__u64), &spte);
	return spte;
}

/*
 * Fault or prefetch, from the SPTE just written: make_spte() sets Accessed
 * only for the faulting SPTE (prefetch=false), not for prefetched ones.
 * Pages with A/D bits disabled (nested EPT without A/D) cannot tell: fault.
 */
static __always_inline __u32 write_origin(const struct st_sp *s, __u64 spte)
{
	if (s->ad_disabled)
		return ST_ORIGIN_FAULT;
	return spte & SPTE_ACCESSED ? ST_ORIGIN_FAULT : ST_ORIGIN_PREFETCH;
}

/* bytes, not words: adopt_one() holds one, and 6.1 allows 512 bytes of stack in all */
struct sp_facts {
	__u64 spt;
	__u64 translations;
	__u64 gfn;
	__u8 level;
	__u8 direct;
	__u8 invalid;
	__u8 unsync;
	__u8 gpte4;		/* 32-bit guest page table (4-byte gptes) */
	__u8 guest_mode;	/* shadows a nested guest's tables */
	__u8 ad_disabled;	/* SPTEs without Accessed/Dirty bits */
};

/* Before Linux 5.19 the cache held only gfns (no access bits). */
struct kvm_mmu_page___gfns {
	gfn_t *gfns;
} __attribute__((preserve_access_index));

static __always_inline bool cache_has_access(void)
{
	return bpf_core_field_exists(struct kvm_mmu_page, shadowed_translation);
}

/* A cache entry as a translation (gfn << 12 | access); access 0 if unknown. */
static __always_inline __u64 cache_value(__u64 raw)
{
	return cache_has_access() ? raw : raw << 12;
}

static __always_inline __u64 cache_array(struct kvm_mmu_page *sp)
{
	if (cache_has_access())
		return (__u64)BPF_CORE_READ(sp, shadowed_translation);
	return (__u64)BPF_CORE_READ((struct kvm_mmu_page___gfns *)sp, gfns);
}

static __always_inline int read_sp(struct kvm_mmu_page *sp, struct sp_facts *f)
{
	union kvm_mmu_page_role role;

	/*
	 * Copy the role, then decode the copy: libbpf 1.1's probed bitfield
	 * read returns 0 for this anonymous struct inside a union.
	 */
	if (bpf_probe_read_kernel(&role, sizeof(role), &sp->role))
		return -1;
	f->level = BPF_CORE_READ_BITFIELD(&role, level);
	f->direct = BPF_CORE_READ_BITFIELD(&role, direct);
	f->invalid = BPF_CORE_READ_BITFIELD(&role, invalid);
	f->gpte4 = BPF_CORE_READ_BITFIELD(&role, has_4_byte_gpte);
	f->guest_mode = BPF_CORE_READ_BITFIELD(&role, guest_mode);
	f->ad_disabled = BPF_CORE_READ_BITFIELD(&role, ad_disabled);
	f->spt = (__u64)BPF_CORE_READ(sp, spt);
	f->gfn = BPF_CORE_READ(sp, gfn);
	f->unsync = BPF_CORE_READ(sp, unsync);
	f->translations = f->direct ? 0 : cache_array(sp);
	return f->spt ? 0 : -1;
}

/* KVM's count of the shadow pages it created in @kvm (5.14+: a u64). */
static __always_inline __u64 kvm_pages_created(struct kvm *kvm)
{
	return BPF_CORE_READ(kvm, stat.mmu_cache_miss);
}

/* @kvm's debugfs directory ("PID-FD", where KVM keeps its statistics), or NULL. */
static __always_inline struct dentry *kvm_dir(struct kvm *kvm)
{
	struct dentry *d = BPF_CORE_READ(kvm, debugfs_dentry);

	return !d || (__u64)d >= (__u64)-4095 ? NULL : d;	/* IS_ERR_OR_NULL */
}

/* The name of @kvm's debugfs directory into @out; "" without one. */
static __always_inline void read_kvm_dir(struct kvm *kvm, char *out, __u32 size)
{
	struct dentry *d = kvm_dir(kvm);
	const unsigned char *name;

	out[0] = 0;
	if (!d)
		return;
	name = BPF_CORE_READ(d, d_name.name);
	if (!name || bpf_probe_read_kernel_str(out, size, name) < 0)
		out[0] = 0;
}

/*
 * The inode number of @kvm's debugfs directory: new at every KVM_CREATE_VM
 * (get_next_ino()), even where the VM has the PID-FD name and the struct
 * kvm address of one that ended. 0 without one (debugfs off, a duplicate
 * name), and once KVM's teardown has removed it.
 */
static __always_inline __u64 kvm_dir_ino(struct kvm *kvm)
{
	struct dentry *d = kvm_dir(kvm);

	return d ? BPF_CORE_READ(d, d_inode, i_ino) : 0;
}

/* @kvm belongs to the current process (an exiting VMM has only active_mm). */
static __always_inline bool kvm_is_current(struct kvm *kvm)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct mm_struct *mm = task->mm ?: task->active_mm;

	return kvm && mm && BPF_CORE_READ(kvm, mm) == mm;
}

/*
 * A page KVM just created is at the head of kvm->arch.active_mmu_pages
 * (list_add in kvm_mmu_alloc_shadow_page, right before the tracepoint), so
 * its link.prev is the list head inside struct kvm.
 */
static __always_inline struct kvm *kvm_of_new_sp(struct kvm_mmu_page *sp)
{
	__u64 prev = (__u64)BPF_CORE_READ(sp, link.prev);
	struct kvm *kvm;

	if (!prev)
		return NULL;
	kvm = (struct kvm *)(prev - bpf_core_field_offset(struct kvm, arch.active_mmu_pages));
	return kvm_is_current(kvm) ? kvm : NULL;
}

/*
 * The running vCPU, without kvm_running_vcpu (a static per-CPU symbol the
 * kernel may not resolve): a loaded vCPU registers its preempt_notifier on
 * the current task. NULL outside a vCPU thread.
 */
static __always_inline struct kvm_vcpu *current_vcpu(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 first = (__u64)task->preempt_notifiers.first;	/* a BTF load, no helper call */

	if (!first)
		return NULL;
	return (struct kvm_vcpu *)(first - bpf_core_field_offset(struct preempt_notifier, link) -
				   bpf_core_field_offset(struct kvm_vcpu, preempt_notifier));
}

/* The VM of @vcpu (may be NULL), if it belongs to the current process. */
static __always_inline struct kvm *kvm_of_vcpu(struct kvm_vcpu *vcpu)
{
	struct kvm *kvm;

	if (!vcpu)
		return NULL;
	kvm = BPF_CORE_READ(vcpu, kvm);
	return kvm_is_current(kvm) ? kvm : NULL;
}

static __always_inline struct kvm *kvm_of_current_vcpu(void)
{
	return kvm_of_vcpu(current_vcpu());
}

/*
 * The TDP MMU (EPT/NPT, the default on hosts that have them) fires the same
 * kvmmmu tracepoints for its own pages, which cache no guest translation:
 * they are not shadow pages, and events on them are not ours to account.
 * A page says so itself (tdp_mmu_page, 5.10+); an SPTE pointer does not, but
 * a vCPU faulting through a direct root (not a nested guest's tables) with
 * a page we never saw is in the TDP MMU.
 */
static __always_inline bool sp_is_tdp(struct kvm_mmu_page *sp)
{
	return bpf_core_field_exists(struct kvm_mmu_page, tdp_mmu_page) && BPF_CORE_READ(sp, tdp_mmu_page);
}

/*
 * @vcpu (may be NULL) faults through the TDP MMU: it runs on its root MMU
 * (not on a nested guest's shadowed tables) in a VM whose TDP MMU has
 * roots. A VM without the TDP MMU never has one; in a VM with it, the root
 * MMU's roots are all the TDP MMU's. Three reads, no map: the early exit
 * of TDP faults. Each a word at a field's offset (kernel_u64()): a typed
 * load's offset has 16 bits, and before Linux 6.10 struct kvm's
 * arch.tdp_mmu_roots lies past 32 KiB (the mmu_page_hash array before it).
 */
static __always_inline bool vcpu_in_tdp_mmu(struct kvm_vcpu *vcpu)
{
	__u64 v = (__u64)vcpu, mmu, kvm, roots, first_root;

	if (!v || kernel_u64(v + bpf_core_field_offset(struct kvm_vcpu, arch.mmu), &mmu) ||
	    mmu != v + bpf_core_field_offset(struct kvm_vcpu, arch.root_mmu))
		return false;
	if (kernel_u64(v + bpf_core_field_offset(struct kvm_vcpu, kvm), &kvm) || !kvm)
		return false;
	roots = kvm + bpf_core_field_offset(struct kvm, arch.tdp_mmu_roots);
	return !kernel_u64(roots + bpf_core_field_offset(struct list_head, next), &first_root) &&
	       first_root != roots;
}

static __always_inline bool vcpu_on_direct_root(struct kvm_vcpu *vcpu)
{
	union kvm_mmu_page_role role;
	struct kvm_mmu *mmu;

	if (!vcpu || !bpf_core_field_exists(struct kvm_mmu, root_role))
		return false;
	mmu = BPF_CORE_READ(vcpu, arch.mmu);
	/* a copy, decoded: see read_sp() */
	if (!mmu || bpf_probe_read_kernel(&role, sizeof(role), &mmu->root_role))
		return false;
	return BPF_CORE_READ_BITFIELD(&role, direct);
}

struct list_walk {
	__u64 node;
	__u64 head_off;		/* offsetof(struct kvm, arch.active_mmu_pages) */
	struct kvm *kvm;
};

static long find_list_head(__u32 i, void *data)
{
	struct list_walk *w = data;
	struct kvm *candidate = (struct kvm *)(w->node - w->head_off);
	struct list_head *node = (struct list_head *)w->node;

	if (!w->node)
		return 1;
	/* the head lives in struct kvm, the other nodes in shadow pages */
	if (kvm_is_current(candidate)) {
		w->kvm = candidate;
		return 1;
	}
	w->node = (__u64)BPF_CORE_READ(node, next);
	return 0;
}

/*
 * The VM of any page on kvm->arch.active_mmu_pages, where no vCPU runs
 * (zaps from a memslot ioctl, VM teardown): walk the list to its head, the
 * one node whose enclosing struct kvm belongs to the current process.
 */
static __always_inline struct kvm *kvm_of_listed_sp(struct kvm_mmu_page *sp, __u32 limit)
{
	struct list_walk w = {
		.node = (__u64)BPF_CORE_READ(sp, link.next),
		.head_off = bpf_core_field_offset(struct kvm, arch.active_mmu_pages),
	};

	bpf_loop(limit, find_list_head, &w, 0);
	return w.kvm;
}

/* Host virtual address of @gfn in the (non-SMM) address space, or 0. */
static __always_inline __u64 gfn_to_hva(struct kvm *kvm, __u64 gfn)
{
	struct kvm_memslots *slots;
	struct rb_node *node;
	int idx;

	slots = BPF_CORE_READ(kvm, memslots[0]);
	if (!slots)
		return 0;
	idx = BPF_CORE_READ(slots, node_idx) & 1;
	node = BPF_CORE_READ(slots, gfn_tree.rb_node);
	for (int depth = 0; depth < 48 && node; depth++) {
		struct kvm_memory_slot *ms = (void *)((__u64)node -
			bpf_core_field_offset(struct kvm_memory_slot, gfn_node) -
			idx * sizeof(struct rb_node));
		__u64 base = BPF_CORE_READ(ms, base_gfn);
		__u64 npages = BPF_CORE_READ(ms, npages);

		if (gfn < base)
			node = BPF_CORE_READ(node, rb_left);
		else if (gfn >= base + npages)
			node = BPF_CORE_READ(node, rb_right);
		else
			return BPF_CORE_READ(ms, userspace_addr) + ((gfn - base) << 12);
	}
	return 0;
}

#endif
