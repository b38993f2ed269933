// SPDX-License-Identifier: GPL-2.0
/*
 * Guest page tables, guest code and the scripted scenarios.
 *
 * Guest physical (= guest virtual, identity mapped) layout:
 *   0x1000 PML4 A, 0x2000 PML4 B (same PDPT: a CR3 switch target),
 *   0x3000 PDPT, 0x4000 PD, 0x5000 PT0 (maps 0..2 MiB),
 *   0x6000.. data PTs (map 2 MiB.. in 4 KiB pages), 0xf8000 TSS, 0x100000 code,
 *   2 MiB.. data pages (or 2 MiB guest huge pages).
 * Sparse: data page i at gva 1 GiB + i * 2 MiB, each in a PT of its own
 * (PDPT[1..32] -> PDs -> PT i -> gpa 2 MiB + i * 4 KiB), so that N pages
 * keep N + N/512 + 4 shadow pages alive.
 * Every guest PTE starts with Accessed=0 and Dirty=0, so KVM neither
 * prefetches it nor maps it writable on a read: each event is scripted.
 * Only where a scenario wants prefetch (prefetch, remap's re-read) are
 * gptes accessed: one fault then maps its whole 8-entry group.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "microguest.h"
#include "vm.h"
#include "layout.h"
#include "nested.h"

bool mg_host_write_protect;
bool mg_no_thp;

/* Guest routines; each ends with "out 0x10, al" (done) and "jmp $". */
static const uint8_t guest_code[] = {
	/* 0x00 READ: rdi addr, rsi stride, rcx count */
	0x8a, 0x07,			/* mov al, [rdi]   */
	0x48, 0x01, 0xf7,		/* add rdi, rsi    */
	0x48, 0xff, 0xc9,		/* dec rcx         */
	0x75, 0xf6,			/* jnz 0x00        */
	0xe6, 0x10, 0xeb, 0xfe,		/* out 0x10; jmp $ */
	[0x20] =
	/* 0x20 WRITE: rdi addr, rsi stride, rcx count */
	0x88, 0x07,			/* mov [rdi], al   */
	0x48, 0x01, 0xf7,		/* add rdi, rsi    */
	0x48, 0xff, 0xc9,		/* dec rcx         */
	0x75, 0xf6,			/* jnz 0x20        */
	0xe6, 0x10, 0xeb, 0xfe,
	[0x40] =
	/* 0x40 PTE_AND: rdi first PTE, rcx count, rdx mask */
	0x48, 0x21, 0x17,		/* and [rdi], rdx  */
	0x48, 0x83, 0xc7, 0x08,		/* add rdi, 8      */
	0x48, 0xff, 0xc9,		/* dec rcx         */
	0x75, 0xf4,			/* jnz 0x40        */
	0xe6, 0x10, 0xeb, 0xfe,
	[0x60] =
	/* 0x60 PTE_REMAP: rdi first PTE, rcx count, rbx mask, rdx addend */
	0x48, 0x21, 0x1f,		/* and [rdi], rbx  */
	0x48, 0x01, 0x17,		/* add [rdi], rdx  */
	0x48, 0x83, 0xc7, 0x08,		/* add rdi, 8      */
	0x48, 0xff, 0xc9,		/* dec rcx         */
	0x75, 0xf1,			/* jnz 0x60        */
	0xe6, 0x10, 0xeb, 0xfe,
	[0x80] =
	/* 0x80 NOP: just report done (lets KVM sync on entry) */
	0xe6, 0x10, 0xeb, 0xfe,
	[0xa0] =
	/* 0xa0 READ_WRITE_BACK: rdi addr, rsi stride, rcx count; a load, then a store */
	0x48, 0x8b, 0x07,		/* mov rax, [rdi]  */
	0x48, 0x89, 0x07,		/* mov [rdi], rax  */
	0x48, 0x01, 0xf7,		/* add rdi, rsi    */
	0x48, 0xff, 0xc9,		/* dec rcx         */
	0x75, 0xf2,			/* jnz 0xa0        */
	0xe6, 0x10, 0xeb, 0xfe,
};

enum {
	R_READ = 0x00, R_WRITE = 0x20, R_PTE_AND = 0x40, R_PTE_REMAP = 0x60, R_NOP = 0x80,
	R_READ_WRITE_BACK = 0xa0,
};

static uint64_t *table(struct mg_vm *vm, uint64_t gpa)
{
	return (uint64_t *)(vm->mem + gpa);
}

/* (Re)write all guest page tables: fresh A=0/D=0 entries. */
static void build_tables(struct mg_vm *vm, const struct mg_layout *l)
{
	const uint64_t up = PTE_P | PTE_W | PTE_U;

	memset(vm->mem, 0, DATA_GPA);
	table(vm, PML4A_GPA)[0] = PDPT_GPA | up;
	table(vm, PML4B_GPA)[0] = PDPT_GPA | up;
	table(vm, PDPT_GPA)[0] = PD_GPA | up;
	table(vm, PD_GPA)[0] = PT0_GPA | up;
	for (uint64_t i = 0; i < 512; i++)
		table(vm, PT0_GPA)[i] = i << 12 | up;
	memcpy(vm->mem + CODE_GPA, guest_code, sizeof(guest_code));

	if (l->huge) {
		for (unsigned int j = 0; j < l->huge_pages; j++)
			table(vm, PD_GPA)[1 + j] = (DATA_GPA + ((uint64_t)j << 21)) | up | PTE_PS;
		return;
	}
	for (unsigned int j = 0; j < l->sparse_pds; j++)
		table(vm, PDPT_GPA)[1 + j] = mg_sparse_pd(l, j) | up;
	for (unsigned int i = 0; i < l->n && l->sparse_pds; i++) {
		table(vm, mg_sparse_pd(l, i / 512))[i % 512] = mg_sparse_pt(l, i) | up;
		table(vm, mg_sparse_pt(l, i))[0] = (DATA_GPA + ((uint64_t)i << 12)) | up;
	}
	for (unsigned int j = 0; j < l->data_pts; j++)
		table(vm, PD_GPA)[1 + j] = (DATA_PT_GPA + ((uint64_t)j << 12)) | up;
	for (unsigned int i = 0; i < l->n; i++)
		table(vm, DATA_PT_GPA)[i] = (DATA_GPA + ((uint64_t)i << 12)) | up |
					    (l->accessed ? PTE_A : 0);
}

static int call(struct mg_vm *vm, uint64_t routine, uint64_t rdi, uint64_t rsi,
		uint64_t rcx, uint64_t rdx, uint64_t rbx)
{
	struct mg_call c = {
		.rip = CODE_GPA + routine, .rdi = rdi, .rsi = rsi,
		.rcx = rcx, .rdx = rdx, .rbx = rbx,
	};
	return mg_vm_call(vm, &c);
}

static int touch(struct mg_vm *vm, uint64_t routine, unsigned int n, uint64_t stride)
{
	return call(vm, routine, DATA_GPA, stride, n, 0, 0);
}

/*
 * The guest maps its own data PTs with a plain load, then a plain store:
 * a read fault and a write fault (which unsyncs them) on any CPU. A
 * read-modify-write instruction would be one write fault on hardware but
 * a load and a store, two faults, under QEMU's emulation.
 */
static int guest_touch_own_pts(struct mg_vm *vm, unsigned int n)
{
	return call(vm, R_READ_WRITE_BACK, DATA_PT_GPA, 4096, div_up(n, 512), 0, 0);
}

/*
 * The guest ANDs its own first n data PTEs with @mask (~PTE_W: write-protect
 * them; ~0: store them as they were); a CR3 switch syncs them.
 */
static int guest_and_ptes_and_sync(struct mg_vm *vm, unsigned int n, uint64_t mask)
{
	int r = guest_touch_own_pts(vm, n);

	if (!r)
		r = call(vm, R_PTE_AND, DATA_PT_GPA, 0, n, mask, 0);

	if (!r)
		r = mg_vm_set_cr3(vm, PML4B_GPA);
	if (!r)
		r = call(vm, R_NOP, 0, 0, 0, 0, 0);
	return r;
}

static int guest_remap_and_sync(struct mg_vm *vm, const struct mg_layout *l)
{
	/*
	 * Move each PTE delta pages up, keeping it present and accessed: sync
	 * then drops it for the gfn change alone (an unaccessed gpte would be
	 * dropped as invalid before its gfn is even compared).
	 */
	int r = guest_touch_own_pts(vm, l->n);

	if (!r)
		r = call(vm, R_PTE_REMAP, DATA_PT_GPA, 0, l->n, l->remap_delta << 12, ~0ULL);

	if (!r)
		r = mg_vm_set_cr3(vm, PML4B_GPA);
	if (!r)
		r = call(vm, R_NOP, 0, 0, 0, 0, 0);
	return r;
}

static int fault_churn(struct mg_vm *vm, unsigned int n)
{
	int r = touch(vm, R_READ, n, 4096);

	return r ? r : touch(vm, R_WRITE, n, 4096);
}

/* read n pages 2 MiB apart, then write them: a shadow PT per page */
static int sparse_churn(struct mg_vm *vm, unsigned int n)
{
	int r = call(vm, R_READ, SPARSE_GVA, 2ULL << 20, n, 0, 0);

	return r ? r : call(vm, R_WRITE, SPARSE_GVA, 2ULL << 20, n, 0, 0);
}

static int nested_fault_churn(struct mg_vm *vm, unsigned int n)
{
	int r = mg_nested_read(vm, DATA_GPA, n, 4096);

	return r ? r : mg_nested_write(vm, DATA_GPA, n, 4096);
}

static int run_steps(struct mg_vm *vm, enum mg_scenario s, const struct mg_layout *l)
{
	int r;

	switch (s) {
	case MG_FAULT_CHURN:
		return fault_churn(vm, l->n);
	case MG_SYNC_FLIP:
		r = fault_churn(vm, l->n);
		return r ? r : guest_and_ptes_and_sync(vm, l->n, ~PTE_W);
	case MG_SYNC_KEEP:
		r = fault_churn(vm, l->n);
		return r ? r : guest_and_ptes_and_sync(vm, l->n, ~0ULL);
	case MG_REMAP:
		r = touch(vm, R_READ, l->n, 4096);
		if (!r)
			r = guest_remap_and_sync(vm, l);
		return r ? r : touch(vm, R_READ, l->n, 4096);
	case MG_HUGEPAGE_DIRTYLOG:
		r = touch(vm, R_WRITE, l->huge_pages, 2ULL << 20);
		if (!r)
			r = mg_vm_set_slot(vm, KVM_MEM_LOG_DIRTY_PAGES_FLAG);
		return r ? r : touch(vm, R_WRITE, l->n, 4096);
	case MG_SPARSE:
		return sparse_churn(vm, l->n);
	case MG_PREFETCH:
		return touch(vm, R_READ, div_up(l->n, 8), 8 * 4096);
	case MG_REUSE:
		r = fault_churn(vm, l->n);
		/* deleting the slot zaps every shadow page; addresses get reused */
		for (unsigned int pass = 1; pass < mg_passes && !r; pass++) {
			r = mg_vm_delete_slot(vm);
			if (!r) {
				build_tables(vm, l);
				r = mg_vm_set_slot(vm, 0);
			}
			if (!r)
				r = fault_churn(vm, l->n);
		}
		return r;
	case MG_NESTED_FAULT_CHURN:
		return nested_fault_churn(vm, l->n);
	case MG_NESTED_SYNC_FLIP:
		/* L1 (CPL 0, 64-bit) write-protects its NPT leaves */
		r = nested_fault_churn(vm, l->n);
		if (!r)
			r = call(vm, R_PTE_AND, NPT_DATA_PT_GPA, 0, l->n, ~PTE_W, 0);
		return r ? r : mg_nested_flush(vm);
	case MG_NESTED_REMAP:
		r = mg_nested_read(vm, DATA_GPA, l->n, 4096);
		if (!r)
			r = call(vm, R_PTE_REMAP, NPT_DATA_PT_GPA, 0, l->n, l->remap_delta << 12, ~0ULL);
		if (!r)
			r = mg_nested_flush(vm);
		return r ? r : mg_nested_read(vm, DATA_GPA, l->n, 4096);
	case MG_NESTED_HUGEPAGE_DIRTYLOG:
	case MG_NESTED_HUGETLB_DIRTYLOG:
	case MG_NESTED_HUGEPAGE_ALIAS:
		/* one write per 2 MiB NPT leaf; dirty logging splits them eagerly */
		r = mg_nested_write(vm, DATA_GPA, l->huge_pages * (l->alias ? 2 : 1), 2ULL << 20);
		if (!r)
			r = mg_vm_set_slot(vm, KVM_MEM_LOG_DIRTY_PAGES_FLAG);
		return r ? r : mg_nested_write(vm, DATA_GPA, l->n, 4096);
	case MG_NESTED_CLEAR_DIRTYLOG:
		/* nothing split when logging starts: each first 64-page clear splits */
		r = mg_nested_write(vm, DATA_GPA, l->huge_pages, 2ULL << 20);
		if (!r)
			r = mg_vm_manual_dirty_log(vm);
		if (!r)
			r = mg_vm_set_slot(vm, KVM_MEM_LOG_DIRTY_PAGES_FLAG);
		for (unsigned int j = 0; j < 2 * l->huge_pages && !r; j++)	/* words 0, then 1 */
			r = mg_vm_clear_dirty_log(vm, (DATA_GPA >> 12) + (uint64_t)(j % l->huge_pages) * 512 +
						  (j / l->huge_pages) * 64);
		return r;
	default:
		return MG_EXIT_USAGE;
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int mg_run(enum mg_scenario s, unsigned int n, uint64_t *guest_ns, char *err, size_t errlen)
{
	uint64_t t0;
	struct mg_vm vm = { .err = err, .errlen = errlen };
	struct mg_layout l;
	int r;

	mg_layout(s, n, &l);
	r = mg_vm_open(&vm, l.mem_size, l.hugetlb ? MG_BACKING_HUGETLB :
				       l.huge ? MG_BACKING_THP : MG_BACKING_4K);
	if (!r && l.huge && !l.hugetlb && mg_vm_thp_bytes(&vm) < l.mem_size) {
		snprintf(err, errlen,
			 "transparent huge pages unavailable (%llu of %llu bytes huge); "
			 "the hugepage scenarios need THP 'madvise' or 'always'",
			 (unsigned long long)mg_vm_thp_bytes(&vm),
			 (unsigned long long)l.mem_size);
		r = MG_EXIT_PRECONDITION;
	}
	/* KVM's default keeps 2 % of guest pages as shadow pages, then recycles */
	if (!r && l.sparse_pds)
		r = mg_vm_set_mmu_pages(&vm, 64 + l.n + l.sparse_pds);
	if (!r) {
		build_tables(&vm, &l);
		r = mg_vm_start_long_mode(&vm, PML4A_GPA, TSS_GPA, l.nested);
	}
	if (!r && l.nested && !vm.nested_npt) {
		snprintf(err, errlen, "KVM offers no nested SVM with nested paging here; "
			 "the nested scenarios need kvm_amd nested=1 npt=1");
		r = MG_EXIT_PRECONDITION;
	}
	if (!r && l.nested)
		r = mg_nested_setup(&vm, &l);
	t0 = now_ns();
	if (!r)
		r = run_steps(&vm, s, &l);
	if (guest_ns)
		*guest_ns = now_ns() - t0;
	if (!r && mg_host_write_protect)
		r = mg_vm_host_write_protect(&vm);
	/* still open: its teardown is not in them */
	if (!r && mg_stats_path)
		r = mg_vm_write_stats(&vm, mg_stats_path);
	if (!r && mg_hold_ms)	/* the VM stands still, still open, for a reader */
		usleep(mg_hold_ms * 1000);
	mg_vm_close(&vm);
	return r;
}
