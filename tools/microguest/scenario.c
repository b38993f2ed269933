// SPDX-License-Identifier: GPL-2.0
/*
 * The scenarios by name, their limits and the reuse scenario's passes:
 * what shadowtrace's demo and the micro-guest share (scenario.h). No
 * /dev/kvm here.
 */
#include <string.h>

#include "scenario.h"

unsigned int mg_passes = 2;

static const char *const names[MG_SCENARIOS] = {
	[MG_FAULT_CHURN] = "fault-churn",
	[MG_SYNC_FLIP] = "sync-flip",
	[MG_REMAP] = "remap",
	[MG_HUGEPAGE_DIRTYLOG] = "hugepage-dirtylog",
	[MG_PREFETCH] = "prefetch",
	[MG_REUSE] = "reuse",
	[MG_SYNC_KEEP] = "sync-keep",
	[MG_SPARSE] = "sparse",
	[MG_NESTED_FAULT_CHURN] = "nested-fault-churn",
	[MG_NESTED_HUGEPAGE_DIRTYLOG] = "nested-hugepage-dirtylog",
	[MG_NESTED_SYNC_FLIP] = "nested-sync-flip",
	[MG_NESTED_REMAP] = "nested-remap",
	[MG_NESTED_HUGEPAGE_ALIAS] = "nested-hugepage-alias",
	[MG_NESTED_CLEAR_DIRTYLOG] = "nested-clear-dirtylog",
	[MG_NESTED_HUGETLB_DIRTYLOG] = "nested-hugetlb-dirtylog",
};

const char *mg_scenario_name(enum mg_scenario s)
{
	return s < MG_SCENARIOS ? names[s] : "?";
}

bool mg_scenario_nested(enum mg_scenario s)
{
	return s >= MG_NESTED_FAULT_CHURN && s < MG_SCENARIOS;
}

int mg_scenario_parse(const char *name, enum mg_scenario *out)
{
	for (int s = 0; s < MG_SCENARIOS; s++)
		if (!strcmp(name, names[s])) {
			*out = s;
			return 0;
		}
	return -1;
}

const char *mg_check_n(enum mg_scenario s, unsigned int n)
{
	if (n < 1 || n > MG_MAX_N)
		return "N must be between 1 and 16384";
	/* N + N/512 + 4 shadow pages: within shadowtrace's default --max-shadow-pages */
	if (s == MG_SPARSE && n > MG_MAX_SPARSE_N)
		return "sparse: N must be between 1 and 16320";
	return NULL;
}
