// SPDX-License-Identifier: GPL-2.0
#include <time.h>

#include "figures/names.h"
#include "output/figures_json.h"
#include "output/report.h"

/*
 * KVM's own statistics of the VM as last read (null: never readable), and
 * those the kernel refused to let be read (lockdown).
 */
static void kvm_stats_json(struct json *j, const struct vm_entry *e)
{
	if (!e->kvm_stats.read_at) {
		json_null(j, "kvm_stats");
		return;
	}
	json_obj_begin(j, "kvm_stats");
	for (int i = 0; i < KVM_STATS_N; i++)
		if (kvm_stat_present(&e->kvm_stats, i))
			json_u64(j, kvm_stat_defs[i].name, e->kvm_stats.v[i]);
	json_obj_end(j);
	json_arr_begin(j, "kvm_stats_refused");
	for (int i = 0; i < KVM_STATS_N; i++)
		if (e->kvm_stats.refused & (1u << i))
			json_str(j, NULL, kvm_stat_defs[i].name);
	json_arr_end(j);
}

void report_json(FILE *f, const struct report_ctx *r, const struct vm_table *t)
{
	struct json j;

	json_init(&j, f);
	json_obj_begin(&j, NULL);
	json_str(&j, "version", ST_VERSION);
	json_str(&j, "attach_mode", r->attach_mode);
	json_str(&j, "kernel", r->kernel);
	json_bool(&j, "access_known", r->access_known);
	json_u64(&j, "timestamp", (uint64_t)time(NULL));
	json_double(&j, "elapsed_s", r->elapsed_s);
	json_bool(&j, "final", r->final);
	json_arr_begin(&j, "vms");
	for (unsigned int i = 0; i < t->n; i++) {
		const struct vm_entry *e = &t->vms[i];

		if (e->exit_reported && !r->final)
			continue;	/* shown once after it exited */
		json_obj_begin(&j, NULL);
		json_u64(&j, "pid", e->id.pid);
		json_str(&j, "name", e->id.name);
		json_bool(&j, "alive", e->alive);
		json_u64(&j, "pending_writes", e->pending);
		json_u64(&j, "shadow_pages_adopted", e->adopted_sps);
		json_u64(&j, "shadow_pages_live", e->live_sps);
		if (r->mmu_known)
			json_str(&j, "mmu", st_mmu_name(e->mmu));
		st_json_vm_figures(&j, &e->c);
		if (!r->recording)	/* live only */
			kvm_stats_json(&j, e);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_begin(&j, "bpf_maps");
	json_i64(&j, "shadow_pages", r->usage[ST_USAGE_TRACKED_PAGES]);
	json_u64(&j, "shadow_pages_max", r->limits.max_shadow_pages);
	json_u64(&j, "vm_slots", r->vm_slots_used);
	json_u64(&j, "vm_slots_max", r->limits.max_vms);
	json_i64(&j, "churned_slots", r->usage[ST_USAGE_CHURNED_SLOTS]);
	json_u64(&j, "churned_slots_max", r->limits.max_churn_slots);
	if (r->map_bytes)
		json_u64(&j, "memory_bytes", r->map_bytes);
	json_obj_end(&j);
	json_obj_begin(&j, "dropped");
	for (int d = 0; d < ST_DROPS; d++)
		json_u64(&j, st_drop_names[d], r->drops[d]);
	json_u64(&j, "exited_vms_forgotten", r->vms_forgotten);
	json_obj_end(&j);
	if (r->mmu_known) {
		json_obj_begin(&j, "tdp_mmu_pages");
		json_u64(&j, "created", r->tdp_mmu_pages[ST_SP_CREATED]);
		json_u64(&j, "zapped", r->tdp_mmu_pages[ST_SP_ZAPPED]);
		json_obj_end(&j);
	}
	if (r->recording) {
		const struct rec_summary *rs = r->recording;

		json_obj_begin(&j, "recording");
		json_bool(&j, "complete", rs->complete);
		if (!rs->complete)
			json_str(&j, "problem", rs->problem);
		json_u64(&j, "records", rs->records);
		json_u64(&j, "events_naming_unknown", rs->inconsistent);
		json_obj_begin(&j, "lost");
		for (int e = 1; e < ST_EV_TYPES; e++)
			json_u64(&j, st_event_names[e], rs->lost[e]);
		json_obj_end(&j);
		json_obj_end(&j);
	}
	json_obj_end(&j);
	fputc('\n', f);
	fflush(f);
}
