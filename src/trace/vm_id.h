/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who a VM is, one struct for every part that names VMs: the tracer's view
 * of BPF's slots, the VM table, the recorder and the replay.
 */
#ifndef SHADOWTRACE_VM_ID_H
#define SHADOWTRACE_VM_ID_H

#include <stdbool.h>
#include <stdint.h>

#define VM_NAME_MAX	64

struct vm_id {
	uint64_t kvm;		/* struct kvm * (as recorded, in a replay) */
	uint32_t slot;		/* BPF's VM slot */
	uint32_t pid;		/* the VMM process (tgid) */
	char name[VM_NAME_MAX];	/* from the VMM's command line, else its comm */
};

/* The same VM: one BPF slot holding one struct kvm. */
static inline bool vm_id_same(const struct vm_id *a, const struct vm_id *b)
{
	return a->slot == b->slot && a->kvm == b->kvm;
}

#endif
