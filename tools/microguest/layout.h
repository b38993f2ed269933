/* SPDX-License-Identifier: GPL-2.0 */
/* Guest memory layout, shared by the scenario scripts and their ground truth. */
#ifndef MICROGUEST_LAYOUT_H
#define MICROGUEST_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>
#include "scenario.h"

#define PML4A_GPA	0x1000ULL
#define PML4B_GPA	0x2000ULL
#define PDPT_GPA	0x3000ULL
#define PD_GPA		0x4000ULL
#define PT0_GPA		0x5000ULL
#define DATA_PT_GPA	0x6000ULL	/* up to 32 consecutive PTs */
#define TSS_GPA		0xf8000ULL	/* alone in its 8-PTE prefetch group */
#define CODE_GPA	0x100000ULL	/* likewise */
#define DATA_GPA	0x200000ULL
/* sparse: data page i at gva 1 GiB + i * 2 MiB, alone in its PT (PDPT[1..32]) */
#define SPARSE_GVA	(1ULL << 30)

/*
 * Nested scenarios: L1's structures for its L2. L2 runs with paging off,
 * so its only translation is L1's NPT, identity: L2 gpa X is L1 gpa X.
 */
#define NPT_PML4_GPA	0x30000ULL
#define NPT_PDPT_GPA	0x31000ULL
#define NPT_PD_GPA	0x32000ULL
#define NPT_PT0_GPA	0x33000ULL	/* maps L2's code page */
#define NPT_DATA_PT_GPA	0x34000ULL	/* up to 32 consecutive PTs */
#define VMCB_GPA	0x60000ULL
#define HSAVE_GPA	0x61000ULL
#define IOPM_GPA	0x62000ULL	/* 12 KiB: every port intercepted */
#define L2_CODE_GPA	0x108000ULL	/* alone in its 8-entry NPT group */

#define PTE_P	0x1ULL
#define PTE_W	0x2ULL
#define PTE_U	0x4ULL
#define PTE_A	0x20ULL
#define PTE_D	0x40ULL
#define PTE_PS	0x80ULL

#define KVM_MEM_LOG_DIRTY_PAGES_FLAG	1u

struct mg_layout {
	unsigned int n;
	unsigned int data_pts;		/* 4 KiB data: PTs covering n pages */
	unsigned int huge_pages;	/* huge data: 2 MiB guest pages */
	unsigned int sparse_pds;	/* sparse: PDs of one PT per page (n PTs) */
	uint64_t sparse_gpa;		/* sparse: its PDs, then its PTs */
	uint64_t remap_delta;		/* pages a remapped PTE moves up */
	uint64_t mem_size;
	bool huge;			/* 2 MiB guest (or NPT) pages */
	bool hugetlb;			/* backed by hugetlbfs, not THP */
	bool accessed;			/* data PTEs start with Accessed=1 */
	bool nested;			/* an L2 runs on L1's NPT */
	bool alias;			/* L1's NPT maps each 2 MiB page twice */
};

static inline unsigned int div_up(unsigned int a, unsigned int b)
{
	return (a + b - 1) / b;
}

static inline void mg_layout(enum mg_scenario s, unsigned int n, struct mg_layout *l)
{
	uint64_t pages;

	*l = (struct mg_layout){ .n = n };
	l->huge = s == MG_HUGEPAGE_DIRTYLOG || s == MG_NESTED_HUGEPAGE_DIRTYLOG ||
		  s == MG_NESTED_HUGEPAGE_ALIAS || s == MG_NESTED_CLEAR_DIRTYLOG ||
		  s == MG_NESTED_HUGETLB_DIRTYLOG;
	l->hugetlb = s == MG_NESTED_HUGETLB_DIRTYLOG;
	l->alias = s == MG_NESTED_HUGEPAGE_ALIAS;
	l->nested = mg_scenario_nested(s);
	l->accessed = s == MG_PREFETCH;
	if (l->huge) {
		l->huge_pages = div_up(n, 512);
		l->mem_size = DATA_GPA + ((uint64_t)l->huge_pages << 21);
		return;
	}
	if (s == MG_SPARSE) {
		l->sparse_pds = div_up(n, 512);
		l->sparse_gpa = DATA_GPA + ((uint64_t)n << 12);
		pages = (l->sparse_gpa >> 12) + l->sparse_pds + n;
		l->mem_size = ((pages << 12) + (2ULL << 20) - 1) & ~((2ULL << 20) - 1);
		return;
	}
	l->data_pts = div_up(n, 512);
	/* a power of two at least n, so remapped gfns never overlap */
	l->remap_delta = 1024;
	while (l->remap_delta < n)
		l->remap_delta <<= 1;
	pages = (DATA_GPA >> 12) + n + (s == MG_REMAP || s == MG_NESTED_REMAP ? l->remap_delta : 0);
	l->mem_size = ((pages << 12) + (2ULL << 20) - 1) & ~((2ULL << 20) - 1);
}

/* sparse: the PT of page i, the PD of pages 512 j.. */
static inline uint64_t mg_sparse_pt(const struct mg_layout *l, unsigned int i)
{
	return l->sparse_gpa + ((uint64_t)(l->sparse_pds + i) << 12);
}

static inline uint64_t mg_sparse_pd(const struct mg_layout *l, unsigned int j)
{
	return l->sparse_gpa + ((uint64_t)j << 12);
}

#endif
