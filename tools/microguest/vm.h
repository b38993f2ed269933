/* SPDX-License-Identifier: GPL-2.0 */
/* Minimal /dev/kvm plumbing for the micro-guest: one VM, one vCPU, one slot. */
#ifndef MICROGUEST_VM_H
#define MICROGUEST_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mg_vm {
	int kvm_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
	void *map;		/* whole host mapping */
	size_t map_len;
	uint8_t *mem;		/* guest physical 0, 2 MiB aligned */
	uint64_t mem_size;
	bool nested_npt;	/* KVM offers the vCPU SVM with nested paging */
	char *err;		/* one-line reason of the last failure */
	size_t errlen;
};

/* Routine arguments, in the registers the guest code expects. */
struct mg_call {
	uint64_t rip, rdi, rsi, rcx, rdx, rbx, rax;
};

/* How guest memory is backed: 4 KiB pages, transparent or hugetlbfs 2 MiB pages. */
enum mg_backing { MG_BACKING_4K, MG_BACKING_THP, MG_BACKING_HUGETLB };

/* Returns 0, or an MG_EXIT_* status with @vm->err filled. */
int mg_vm_open(struct mg_vm *vm, uint64_t mem_size, enum mg_backing backing);
int mg_vm_set_slot(struct mg_vm *vm, uint32_t flags);
int mg_vm_delete_slot(struct mg_vm *vm);
/* KVM_SET_NR_MMU_PAGES: how many shadow pages KVM keeps before recycling */
int mg_vm_set_mmu_pages(struct mg_vm *vm, unsigned int pages);
/* KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, initially set: dirty logging protects nothing */
int mg_vm_manual_dirty_log(struct mg_vm *vm);
/* KVM_CLEAR_DIRTY_LOG of the 64 pages from @first_page (a multiple of 64) */
int mg_vm_clear_dirty_log(struct mg_vm *vm, uint64_t first_page);
/* At CPL 3; @hypervisor: at CPL 0 with EFER.SVME, so that it can run VMRUN. */
int mg_vm_start_long_mode(struct mg_vm *vm, uint64_t cr3, uint64_t tss_gpa, bool hypervisor);
int mg_vm_set_msr(struct mg_vm *vm, uint32_t index, uint64_t value);
int mg_vm_set_cr3(struct mg_vm *vm, uint64_t cr3);
/* Run a guest routine until it reports done with "out 0x10, al". */
int mg_vm_call(struct mg_vm *vm, const struct mg_call *c);
/* Bytes of @vm->mem backed by transparent huge pages. */
uint64_t mg_vm_thp_bytes(const struct mg_vm *vm);
/* Write-protect the guest's memory and restore it: 0 or MG_EXIT_GUEST. */
int mg_vm_host_write_protect(struct mg_vm *vm);
void mg_vm_close(struct mg_vm *vm);
/* KVM's statistics of the VM and its vCPU, as JSON into @path (kvm_stats.c). */
int mg_vm_write_stats(struct mg_vm *vm, const char *path);

#endif
