// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "figures/names.h"

const char *const st_origin_names[ST_ORIGINS] = { "fault", "prefetch", "sync", "split" };
const char *const st_kind_names[ST_KINDS] = {
	"indirect", "direct", "nested-indirect", "nested-direct",
};
const char *const st_mismatch_names[ST_MISMATCHES] = { "sync", "direct" };
const char *const st_sync_drop_names[ST_SYNC_DROPS] = { "gfn", "invalid", "other", "unreadable" };
const char *const st_sp_event_names[ST_SP_EVENTS] = { "created", "synced", "unsynced", "zapped" };
const char *const st_split_names[ST_SPLITS] = { "ok", "failed", "retried" };
const char *const st_unseen_names[ST_UNSEENS] = { "split_writes" };

const char *const st_level_names[ST_LEVELS] = { "1", "2", "3", "4", "5" };
const char *const st_access_names[ST_ACC_COMBOS] = {
	"---", "--x", "w--", "w-x", "-u-", "-ux", "wu-", "wux",
};

const char *st_mmu_name(uint32_t mmu)
{
	/* shadow pages beside TDP pages can only be a nested guest's */
	static const char *const names[] = { "unknown", "shadow", "tdp", "tdp+nested-shadow" };

	return names[mmu & (ST_MMU_SHADOW | ST_MMU_TDP)];
}

const char *st_access_letters(uint32_t access)
{
	return st_access_names[access & ST_ACC_ALL];
}

int st_access_parse(const char *s)
{
	for (int a = 0; a < ST_ACC_COMBOS; a++)
		if (!strcmp(s, st_access_names[a]))
			return a;
	return -1;
}

const char *const st_drop_names[ST_DROPS] = {
	[ST_DROP_SP_MAP_FULL] = "shadow_page_map_full",
	[ST_DROP_VM_MAP_FULL] = "vm_map_full",
	[ST_DROP_SLOT_MAP_FULL] = "churn_slot_map_full",
	[ST_DROP_UNKNOWN_SP] = "unknown_shadow_page",
	[ST_DROP_UNKNOWN_VM] = "unknown_vm",
	[ST_DROP_READ_FAULT] = "kernel_read_fault",
	[ST_DROP_ADOPT_TRUNCATED] = "adopt_walk_truncated",
	[ST_DROP_RINGBUF_FULL] = "ringbuf_full",
};

const char *const st_event_names[ST_EV_TYPES] = {
	[0] = "none", [ST_EV_VM] = "vm", [ST_EV_PAGE_START] = "page_start",
	[ST_EV_PAGE_END] = "page_end", [ST_EV_PAGE_EVENT] = "page_event",
	[ST_EV_WRITE] = "write", [ST_EV_DIRECT_WRITE] = "direct_write",
	[ST_EV_SYNC_DROP] = "sync_drop", [ST_EV_SPLIT] = "split",
};
