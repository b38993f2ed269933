/* SPDX-License-Identifier: GPL-2.0 */
/* Names of everything shadowtrace counts: one table, used by every output. */
#ifndef SHADOWTRACE_NAMES_H
#define SHADOWTRACE_NAMES_H

#include <stdint.h>
#include "shadowtrace.h"

extern const char *const st_origin_names[ST_ORIGINS];
extern const char *const st_kind_names[ST_KINDS];
extern const char *const st_mismatch_names[ST_MISMATCHES];
extern const char *const st_sync_drop_names[ST_SYNC_DROPS];
extern const char *const st_sp_event_names[ST_SP_EVENTS];
extern const char *const st_split_names[ST_SPLITS];
extern const char *const st_unseen_names[ST_UNSEENS];
extern const char *const st_level_names[ST_LEVELS];
extern const char *const st_access_names[ST_ACC_COMBOS];	/* KVM's "wux" letters */
extern const char *const st_drop_names[ST_DROPS];
extern const char *const st_event_names[ST_EV_TYPES];

/* Which MMU serves a VM, from enum st_mmu_seen bits: "shadow", "tdp", "tdp+nested-shadow", "unknown". */
const char *st_mmu_name(uint32_t mmu);
/* KVM's access in "wux" letters, '-' for a missing right: 5 -> "-ux". */
const char *st_access_letters(uint32_t access);
/* Inverse of st_access_letters; -1 if @s is not three such letters. */
int st_access_parse(const char *s);

#endif
