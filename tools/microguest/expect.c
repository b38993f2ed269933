// SPDX-License-Identifier: GPL-2.0
/*
 * Ground truth: the per-VM figures each scenario must produce, derived from
 * the script and the layout (see scenarios.c), not from any measurement.
 *
 * Every run maps: the code page (one read/exec fault, access -ux) and the
 * page-table pages the guest writes itself (a read fault, -ux, then a
 * write fault, wux).
 * Shadow pages: PML4, PDPT, PD, PT0 (code), plus data PTs or direct pages,
 * plus a second root after a CR3 switch; the VM's exit zaps them all.
 */
#include <string.h>

#include "scenario.h"
#include "layout.h"

#define RUX (ST_ACC_USER | ST_ACC_EXEC)		/* "-ux" */
#define WUX (ST_ACC_ALL)			/* "wux" */

static void lifetimes(struct st_vm_counters *c, unsigned int changes, __u64 slots)
{
	struct st_hist *h = &c->hist[ST_HIST_SLOT_CHANGES];

	h->buckets[st_hist_bucket(changes)] += slots;
	h->sum += (__u64)changes * slots;
}

static void pages(struct st_vm_counters *c, unsigned int created)
{
	c->sp_events[ST_SP_CREATED] += created;
	c->sp_events[ST_SP_ZAPPED] += created;
}

/* read n pages then write them: n first maps (-ux) and n -ux -> wux */
static void fault_churn(struct st_vm_counters *c, unsigned int n, unsigned int pts)
{
	c->writes[ST_ORIGIN_FAULT][ST_KIND_INDIRECT][0] += 2ULL * n + 1;
	c->first_writes += n + 1ULL;
	c->access_changes[ST_ORIGIN_FAULT][RUX][WUX] += n;
	lifetimes(c, 1, n);
	lifetimes(c, 0, 1);		/* code page */
	pages(c, 4 + pts);
}

/* the guest reads, then writes its own data PTs: -ux, then wux and unsync */
static void guest_pt_writes(struct st_vm_counters *c, unsigned int pts)
{
	c->writes[ST_ORIGIN_FAULT][ST_KIND_INDIRECT][0] += 2ULL * pts;
	c->first_writes += pts;
	c->access_changes[ST_ORIGIN_FAULT][RUX][WUX] += pts;
	lifetimes(c, 1, pts);
	c->sp_events[ST_SP_UNSYNCED] += pts;
	c->sp_events[ST_SP_SYNCED] += pts;	/* after the CR3 switch */
	pages(c, 1);				/* root B */
}

/* L1 wrote its NPT leaves: their pages went unsync, L2's next entry syncs them */
static void npt_writes(struct st_vm_counters *c, unsigned int pts)
{
	c->sp_events[ST_SP_UNSYNCED] += pts;
	c->sp_events[ST_SP_SYNCED] += pts;
}

/* sync write-protects n faulted-in pages: wux -> -ux, each slot then had 2 changes */
static void sync_flip(struct st_vm_counters *c, unsigned int n)
{
	c->writes[ST_ORIGIN_SYNC][ST_KIND_INDIRECT][0] += n;
	c->access_changes[ST_ORIGIN_SYNC][WUX][RUX] += n;
	c->hist[ST_HIST_SLOT_CHANGES].buckets[st_hist_bucket(1)] -= n;
	c->hist[ST_HIST_SLOT_CHANGES].sum -= n;
	lifetimes(c, 2, n);
	c->hist[ST_HIST_CHANGE_INTERVAL].buckets[0] = n; /* count only */
}

/* n reads; sync drops n (gfn moved by delta); the re-read: a fault per 8 */
static void remap(struct st_vm_counters *c, unsigned int n, const struct mg_layout *l)
{
	c->writes[ST_ORIGIN_FAULT][ST_KIND_INDIRECT][0] += n + 1ULL + div_up(n, 8);
	c->writes[ST_ORIGIN_PREFETCH][ST_KIND_INDIRECT][0] += n - div_up(n, 8);
	c->first_writes += 2ULL * n + 1;
	lifetimes(c, 0, 2ULL * n + 1);
	pages(c, 4 + l->data_pts);
	c->gfn_mismatches[ST_MISMATCH_SYNC] += n;
	c->sync_drops[ST_SYNC_DROP_GFN] += n;
	c->hist[ST_HIST_GFN_DISTANCE].buckets[st_hist_bucket(l->remap_delta)] += n;
	c->hist[ST_HIST_GFN_DISTANCE].sum += n * l->remap_delta;
}

/*
 * The code page, then @faults 2 MiB maps (of l->huge_pages distinct pages)
 * and their eager splits: a new direct child page per distinct page (512
 * writes); a split of an alias finds that child full and writes nothing.
 */
static void huge_split(struct st_vm_counters *c, unsigned int faults, const struct mg_layout *l)
{
	c->writes[ST_ORIGIN_FAULT][ST_KIND_INDIRECT][0] += 1;
	c->writes[ST_ORIGIN_FAULT][ST_KIND_INDIRECT][1] += faults;
	c->writes[ST_ORIGIN_SPLIT][ST_KIND_DIRECT][0] += (__u64)ST_SPTES_PER_PAGE * l->huge_pages;
	c->first_writes += 1ULL + faults;
	lifetimes(c, 0, 1ULL + faults);
	pages(c, 4 + l->huge_pages);
	c->splits[ST_SPLIT_OK] += faults;
}

/* A nested scenario's shadow pages all shadow L1's NPT: its writes are of the nested kinds. */
static void nested_kinds(struct st_vm_counters *c)
{
	for (int o = 0; o < ST_ORIGINS; o++)
		for (int l = 0; l < ST_LEVELS; l++) {
			c->writes[o][ST_KIND_NESTED_INDIRECT][l] = c->writes[o][ST_KIND_INDIRECT][l];
			c->writes[o][ST_KIND_NESTED_DIRECT][l] = c->writes[o][ST_KIND_DIRECT][l];
			c->writes[o][ST_KIND_INDIRECT][l] = c->writes[o][ST_KIND_DIRECT][l] = 0;
		}
}

void mg_expect(enum mg_scenario s, unsigned int n, struct st_vm_counters *c)
{
	struct mg_layout l;

	mg_layout(s, n, &l);
	memset(c, 0, sizeof(*c));
	switch (s) {
	case MG_FAULT_CHURN:
	case MG_NESTED_FAULT_CHURN:	/* the same on L1's NPT: L2's code page, n reads, n writes */
		fault_churn(c, n, l.data_pts);
		break;
	case MG_SYNC_FLIP:
		fault_churn(c, n, l.data_pts);
		guest_pt_writes(c, l.data_pts);
		sync_flip(c, n);
		break;
	case MG_NESTED_SYNC_FLIP:	/* L1's NPT writes are TDP faults, not ours */
		fault_churn(c, n, l.data_pts);
		npt_writes(c, l.data_pts);
		sync_flip(c, n);
		break;
	case MG_REMAP:
		remap(c, n, &l);
		guest_pt_writes(c, l.data_pts);
		break;
	case MG_NESTED_REMAP:
		remap(c, n, &l);
		npt_writes(c, l.data_pts);
		break;
	case MG_HUGEPAGE_DIRTYLOG:
		/* code, one 2 MiB map per huge page, then n 4 KiB in direct pages */
		c->writes[ST_ORIGIN_FAULT][ST_KIND_INDIRECT][0] += 1;
		c->writes[ST_ORIGIN_FAULT][ST_KIND_INDIRECT][1] += l.huge_pages;
		c->writes[ST_ORIGIN_FAULT][ST_KIND_DIRECT][0] += n;
		c->first_writes += 1ULL + l.huge_pages;
		lifetimes(c, 0, 1ULL + l.huge_pages);
		pages(c, 4 + l.huge_pages);
		break;
	case MG_NESTED_HUGEPAGE_DIRTYLOG:
	case MG_NESTED_HUGETLB_DIRTYLOG:	/* the same on hugetlbfs pages */
	case MG_NESTED_HUGEPAGE_ALIAS:
		/* then n 4 KiB write faults land in the split children */
		huge_split(c, l.huge_pages * (l.alias ? 2 : 1), &l);
		c->writes[ST_ORIGIN_FAULT][ST_KIND_DIRECT][0] += n;
		break;
	case MG_NESTED_CLEAR_DIRTYLOG:	/* split by the first clear of each page */
		huge_split(c, l.huge_pages, &l);
		break;
	case MG_PREFETCH:
		/* one fault per 8-entry group, KVM prefetches the rest */
		c->writes[ST_ORIGIN_FAULT][ST_KIND_INDIRECT][0] += div_up(n, 8) + 1ULL;
		c->writes[ST_ORIGIN_PREFETCH][ST_KIND_INDIRECT][0] += n - div_up(n, 8);
		c->first_writes += n + 1ULL;
		lifetimes(c, 0, n + 1ULL);
		pages(c, 4 + l.data_pts);
		break;
	case MG_SPARSE:		/* fault-churn with a PT per page */
		fault_churn(c, n, l.sparse_pds + n);
		break;
	case MG_SYNC_KEEP:
		/* sync finds every entry as it was: it writes nothing */
		fault_churn(c, n, l.data_pts);
		guest_pt_writes(c, l.data_pts);
		break;
	case MG_REUSE:
		for (unsigned int pass = 0; pass < mg_passes; pass++)
			fault_churn(c, n, l.data_pts);
		break;
	default:
		break;
	}
	if (mg_scenario_nested(s))
		nested_kinds(c);
}
