// SPDX-License-Identifier: GPL-2.0
/*
 * The L1 micro-hypervisor of the nested scenarios: L1 (the micro-guest's
 * vCPU, at CPL 0 with EFER.SVME) runs VMRUN on a VMCB that this file writes
 * into L1's memory: nested paging on (L1's NPT, identity), every I/O port,
 * HLT, VMMCALL and shutdown intercepted. L2 runs in 32-bit protected mode
 * with paging off, so every L2 access is translated by L1's NPT alone and
 * each first touch is exactly one nested page fault: KVM shadows L1's NPT
 * (shadow pages with role.guest_mode) as it shadows a guest's page tables.
 *
 * One L2 routine per call: L1 runs "vmrun; out 0x10" with the routine's
 * arguments in rdi/rsi/rcx, which VMRUN leaves to L2; L2's "out 0x10" is
 * intercepted, #VMEXIT returns to L1, whose own "out 0x10" ends the call.
 * Layout: layout.h.
 */
#include <stdio.h>
#include <string.h>

#include "microguest.h"
#include "vm.h"
#include "layout.h"
#include "nested.h"

#define MSR_VM_HSAVE_PA	0xc0010117u
#define L1_STUB_GPA	(CODE_GPA + 0x800)
#define NPT_PRESENT	(PTE_P | PTE_W | PTE_U)	/* nested accesses are user accesses */

/* VMCB offsets (AMD APM vol. 2, appendix B) */
enum {
	VMCB_INTERCEPT_MISC1 = 0x00c, VMCB_INTERCEPT_MISC2 = 0x010,
	VMCB_IOPM_BASE = 0x040, VMCB_MSRPM_BASE = 0x048, VMCB_ASID = 0x058, VMCB_TLB_CTL = 0x05c,
	VMCB_EXIT_CODE = 0x070, VMCB_EXIT_INFO1 = 0x078, VMCB_EXIT_INFO2 = 0x080,
	VMCB_NESTED_CTL = 0x090, VMCB_NESTED_CR3 = 0x0b0, VMCB_CLEAN = 0x0c0,
	VMCB_ES = 0x400, VMCB_CS = 0x410, VMCB_SS = 0x420, VMCB_DS = 0x430,
	VMCB_FS = 0x440, VMCB_GS = 0x450, VMCB_TR = 0x490, VMCB_CPL = 0x4cb,
	VMCB_EFER = 0x4d0, VMCB_CR4 = 0x548, VMCB_CR3 = 0x550, VMCB_CR0 = 0x558,
	VMCB_DR7 = 0x560, VMCB_DR6 = 0x568, VMCB_RFLAGS = 0x570, VMCB_RIP = 0x578,
	VMCB_RSP = 0x5d8, VMCB_RAX = 0x5f8, VMCB_G_PAT = 0x668,
};

#define INTERCEPT_HLT		(1u << 24)
#define INTERCEPT_IOIO		(1u << 27)
#define INTERCEPT_SHUTDOWN	(1u << 31)
#define INTERCEPT_VMRUN		(1u << 0)	/* required by VMRUN itself */
#define INTERCEPT_VMMCALL	(1u << 1)
#define EXIT_IOIO		0x7bu
#define EXIT_NPF		0x400u

/* L1: vmrun (rax = VMCB); out 0x10, al; jmp $ */
static const uint8_t l1_stub[] = { 0x0f, 0x01, 0xd8, 0xe6, 0x10, 0xeb, 0xfe };

/* L2 routines, 32-bit code: edi address, esi stride, ecx count */
static const uint8_t l2_code[] = {
	/* 0x00 READ */
	0x8a, 0x07,			/* mov al, [edi]   */
	0x01, 0xf7,			/* add edi, esi    */
	0x49,				/* dec ecx         */
	0x75, 0xf9,			/* jnz 0x00        */
	0xe6, 0x10, 0xeb, 0xfe,		/* out 0x10; jmp $ */
	[0x20] =
	/* 0x20 WRITE */
	0x88, 0x07,			/* mov [edi], al   */
	0x01, 0xf7,			/* add edi, esi    */
	0x49,				/* dec ecx         */
	0x75, 0xf9,			/* jnz 0x20        */
	0xe6, 0x10, 0xeb, 0xfe,
	[0x40] =
	/* 0x40 NOP: entering L2 is the point (KVM syncs L1's NPT on it) */
	0xe6, 0x10, 0xeb, 0xfe,
};

static void put16(struct mg_vm *vm, uint64_t off, uint16_t v) { memcpy(vm->mem + VMCB_GPA + off, &v, 2); }
static void put32(struct mg_vm *vm, uint64_t off, uint32_t v) { memcpy(vm->mem + VMCB_GPA + off, &v, 4); }
static void put64(struct mg_vm *vm, uint64_t off, uint64_t v) { memcpy(vm->mem + VMCB_GPA + off, &v, 8); }

static uint64_t get64(const struct mg_vm *vm, uint64_t off)
{
	uint64_t v;

	memcpy(&v, vm->mem + VMCB_GPA + off, 8);
	return v;
}

static uint64_t *npt(struct mg_vm *vm, uint64_t gpa)
{
	return (uint64_t *)(vm->mem + gpa);
}

/* A flat 4 GiB segment; SVM's attribute format: type, S, DPL 0, P, D/B, G. */
static void segment(struct mg_vm *vm, uint64_t off, uint16_t sel, uint16_t type)
{
	put16(vm, off, sel);
	put16(vm, off + 2, type | 0x10 | 0x80 | 0x400 | 0x800);
	put32(vm, off + 4, 0xffffffff);
	put64(vm, off + 8, 0);
}

/* L1's NPT: L2 gpa = L1 gpa; every entry with Accessed=0 and Dirty=0. */
static void build_npt(struct mg_vm *vm, const struct mg_layout *l)
{
	memset(vm->mem + NPT_PML4_GPA, 0, VMCB_GPA - NPT_PML4_GPA);
	npt(vm, NPT_PML4_GPA)[0] = NPT_PDPT_GPA | NPT_PRESENT;
	npt(vm, NPT_PDPT_GPA)[0] = NPT_PD_GPA | NPT_PRESENT;
	npt(vm, NPT_PD_GPA)[0] = NPT_PT0_GPA | NPT_PRESENT;
	npt(vm, NPT_PT0_GPA)[L2_CODE_GPA >> 12] = L2_CODE_GPA | NPT_PRESENT;
	if (l->huge) {
		/* alias: entries huge_pages.. map the same 2 MiB pages again */
		for (unsigned int j = 0; j < l->huge_pages * (l->alias ? 2 : 1); j++)
			npt(vm, NPT_PD_GPA)[1 + j] = (DATA_GPA + ((uint64_t)(j % l->huge_pages) << 21)) |
						     NPT_PRESENT | PTE_PS;
		return;
	}
	for (unsigned int j = 0; j < l->data_pts; j++)
		npt(vm, NPT_PD_GPA)[1 + j] = (NPT_DATA_PT_GPA + ((uint64_t)j << 12)) | NPT_PRESENT;
	for (unsigned int i = 0; i < l->n; i++)
		npt(vm, NPT_DATA_PT_GPA)[i] = (DATA_GPA + ((uint64_t)i << 12)) | NPT_PRESENT;
}

static void build_vmcb(struct mg_vm *vm)
{
	memset(vm->mem + VMCB_GPA, 0, 4096);
	memset(vm->mem + IOPM_GPA, 0xff, 3 * 4096);
	put32(vm, VMCB_INTERCEPT_MISC1, INTERCEPT_HLT | INTERCEPT_IOIO | INTERCEPT_SHUTDOWN);
	put32(vm, VMCB_INTERCEPT_MISC2, INTERCEPT_VMRUN | INTERCEPT_VMMCALL);
	put64(vm, VMCB_IOPM_BASE, IOPM_GPA);
	put64(vm, VMCB_MSRPM_BASE, 0);		/* MSRs not intercepted: unread */
	put32(vm, VMCB_ASID, 1);
	put64(vm, VMCB_NESTED_CTL, 1);		/* NP_ENABLE */
	put64(vm, VMCB_NESTED_CR3, NPT_PML4_GPA);
	segment(vm, VMCB_CS, 0x08, 0xb);
	for (uint64_t off = VMCB_ES; off <= VMCB_GS; off += 0x10)
		if (off != VMCB_CS)
			segment(vm, off, 0x10, 0x3);
	put16(vm, VMCB_TR + 2, 0x8b);		/* a present busy TSS, never used */
	put32(vm, VMCB_TR + 4, 0x67);
	vm->mem[VMCB_GPA + VMCB_CPL] = 0;
	put64(vm, VMCB_EFER, 0x1000);		/* SVME, as VMRUN requires */
	put64(vm, VMCB_CR0, 0x11);		/* PE | ET: protected mode, no paging */
	put64(vm, VMCB_CR3, 0);
	put64(vm, VMCB_CR4, 0);
	put64(vm, VMCB_DR6, 0xffff0ff0);
	put64(vm, VMCB_DR7, 0x400);
	put64(vm, VMCB_RFLAGS, 0x2);
	put64(vm, VMCB_G_PAT, 0x0007040600070406ULL);
}

int mg_nested_setup(struct mg_vm *vm, const struct mg_layout *l)
{
	memcpy(vm->mem + L1_STUB_GPA, l1_stub, sizeof(l1_stub));
	memcpy(vm->mem + L2_CODE_GPA, l2_code, sizeof(l2_code));
	build_npt(vm, l);
	build_vmcb(vm);
	return mg_vm_set_msr(vm, MSR_VM_HSAVE_PA, HSAVE_GPA);
}

static int l2_call(struct mg_vm *vm, uint64_t routine, uint64_t addr, uint64_t stride,
		   uint64_t count, bool flush)
{
	struct mg_call c = {
		.rip = L1_STUB_GPA, .rax = VMCB_GPA,
		.rdi = addr, .rsi = stride, .rcx = count,
	};
	uint64_t code;
	int r;

	put64(vm, VMCB_RIP, L2_CODE_GPA + routine);
	put64(vm, VMCB_RAX, 0);
	put64(vm, VMCB_CLEAN, 0);		/* L1 changed the VMCB: reload it all */
	put64(vm, VMCB_EXIT_CODE, 0);
	vm->mem[VMCB_GPA + VMCB_TLB_CTL] = flush;	/* 1: flush all ASIDs */
	r = mg_vm_call(vm, &c);
	if (r)
		return r;
	code = get64(vm, VMCB_EXIT_CODE);
	if (code == EXIT_IOIO && (get64(vm, VMCB_EXIT_INFO1) >> 16 & 0xffff) == 0x10)
		return 0;
	if (code == EXIT_NPF)
		snprintf(vm->err, vm->errlen, "L2 nested page fault L1 did not expect at gpa %#llx",
			 (unsigned long long)get64(vm, VMCB_EXIT_INFO2));
	else
		snprintf(vm->err, vm->errlen,
			 "L2 exit %#llx (info1 %#llx, info2 %#llx), expected its I/O to port 0x10%s",
			 (unsigned long long)code, (unsigned long long)get64(vm, VMCB_EXIT_INFO1),
			 (unsigned long long)get64(vm, VMCB_EXIT_INFO2),
			 code == (uint64_t)-1 ? " (VMRUN refused the VMCB)" : "");
	return MG_EXIT_GUEST;
}

int mg_nested_read(struct mg_vm *vm, uint64_t addr, unsigned int count, uint64_t stride)
{
	return l2_call(vm, 0x00, addr, stride, count, false);
}

int mg_nested_write(struct mg_vm *vm, uint64_t addr, unsigned int count, uint64_t stride)
{
	return l2_call(vm, 0x20, addr, stride, count, false);
}

int mg_nested_flush(struct mg_vm *vm)
{
	return l2_call(vm, 0x40, 0, 0, 0, true);
}
