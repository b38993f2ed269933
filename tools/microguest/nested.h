/* SPDX-License-Identifier: GPL-2.0 */
/* The L1 micro-hypervisor of the nested scenarios (nested.c). */
#ifndef MICROGUEST_NESTED_H
#define MICROGUEST_NESTED_H

#include <stdbool.h>
#include <stdint.h>
#include "layout.h"
#include "vm.h"

/* L1's NPT, VMCB and I/O bitmap for @l, L2's code, and L1's host save area. */
int mg_nested_setup(struct mg_vm *vm, const struct mg_layout *l);
/* L2 reads (writes) @count bytes @stride apart from L2 gpa @addr, one VMRUN. */
int mg_nested_read(struct mg_vm *vm, uint64_t addr, unsigned int count, uint64_t stride);
int mg_nested_write(struct mg_vm *vm, uint64_t addr, unsigned int count, uint64_t stride);
/* L1 changed its NPT: it enters L2 with a TLB flush (KVM syncs on entry). */
int mg_nested_flush(struct mg_vm *vm);

#endif
