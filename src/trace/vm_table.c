// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figures/figures.h"
#include "trace/vm_name.h"
#include "trace/vm_table.h"

int vm_table_init(struct vm_table *t)
{
	memset(t, 0, sizeof(*t));
	t->vms = calloc(VM_TABLE_MAX, sizeof(*t->vms));
	return t->vms ? 0 : -ENOMEM;
}

void vm_table_free(struct vm_table *t)
{
	free(t->vms);
	t->vms = NULL;
	t->n = 0;
}

/* A zombie's VM fds are closed, so its VMs are gone. */
bool st_process_alive(uint32_t pid)
{
	char path[64], buf[256], *p;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static void drop_oldest_released(struct vm_table *t)
{
	for (unsigned int i = 0; i < t->n; i++)
		if (t->vms[i].released) {
			memmove(&t->vms[i], &t->vms[i + 1], (t->n - i - 1) * sizeof(t->vms[0]));
			t->n--;
			t->forgotten++;
			return;
		}
}

/*
 * KVM destroyed the VM: it removes the VM's debugfs directory first thing
 * in kvm_destroy_vm and zaps its shadow pages after, so only once none of
 * them is live (else its last zaps, still coming, would find its slot
 * given to another VM).
 */
static bool destroyed(const char *kvm_dir, const struct tracer_vm *v)
{
	return !v->live_sps && kvm_dir_state(NULL, kvm_dir, v->kvm_dir_ino) == KVM_DIR_GONE;
}

static void refresh_one(const struct tracer_vm *v, void *arg)
{
	struct vm_table *t = arg;
	struct vm_entry *e = NULL;

	for (unsigned int i = 0; i < t->n; i++)
		if (!t->vms[i].released && vm_id_same(&t->vms[i].id, &v->id)) {
			e = &t->vms[i];
			break;
		}
	if (!e) {
		if (t->n == VM_TABLE_MAX)
			drop_oldest_released(t);
		if (t->n == VM_TABLE_MAX)
			return;		/* every entry live: cannot happen with max-vms <= 1024 */
		e = &t->vms[t->n++];
		memset(e, 0, sizeof(*e));
		e->id = v->id;
		memcpy(e->kvm_dir, v->kvm_dir, sizeof(e->kvm_dir));
		e->kvm_dir_ino = v->kvm_dir_ino;
	}
	e->c = v->c;
	e->pending = v->pending;
	e->adopted_sps = v->adopted_sps;
	e->live_sps = v->live_sps;
	e->mmu = v->mmu;
	/*
	 * The counters were read just before this check: a process that died
	 * in between had its teardown zaps after them. Only counters read in a
	 * later refresh are final.
	 */
	e->alive = v->live && st_process_alive(v->id.pid) && !destroyed(e->kvm_dir, v);
	e->final = !e->alive && e->gone_seen;
	e->gone_seen = !e->alive;
}

int vm_table_refresh(struct vm_table *t, struct tracer *tr)
{
	return tracer_collect(tr, refresh_one, t);
}

void vm_table_release_exited(struct vm_table *t, struct tracer *tr, double now)
{
	for (unsigned int i = 0; i < t->n; i++) {
		struct vm_entry *e = &t->vms[i];

		if (e->alive || e->released || !e->final)
			continue;
		tracer_release_vm(tr, e->id.slot, e->id.kvm);
		e->released = true;
		e->exited_at = now;
	}
}

void vm_table_forget_exited(struct vm_table *t, double now, double keep_s)
{
	unsigned int out = 0;

	for (unsigned int i = 0; i < t->n; i++)
		if (!t->vms[i].released || now - t->vms[i].exited_at < keep_s)
			t->vms[out++] = t->vms[i];
	t->n = out;
}

void vm_table_mark_reported(struct vm_table *t)
{
	for (unsigned int i = 0; i < t->n; i++) {
		struct vm_entry *e = &t->vms[i];

		if (!e->alive)
			e->exit_reported = true;
		e->writes_reported = st_writes_total(&e->c);
	}
}

void vm_table_read_kvm_stats(struct vm_table *t, double now, double period_s)
{
	for (unsigned int i = 0; i < t->n; i++) {
		struct vm_entry *e = &t->vms[i];

		if (!e->alive || !e->kvm_dir[0] || e->kvm_dir_taken ||
		    (e->kvm_stats.read_at && now - e->kvm_stats.read_at < period_s))
			continue;
		/* the VM ended and a new one took its PID-FD name: keep the last read */
		if (kvm_stats_read(NULL, e->kvm_dir, &e->kvm_stats, now, &e->kvm_dir_ino,
				   t->kvm_stats_refused) == -ESTALE)
			e->kvm_dir_taken = true;
		t->kvm_stats_refused |= e->kvm_stats.refused;
	}
}

struct vm_entry *vm_table_find_pid(struct vm_table *t, uint32_t pid, unsigned int nth)
{
	for (unsigned int i = 0; i < t->n; i++)
		if (t->vms[i].id.pid == pid && nth-- == 0)
			return &t->vms[i];
	return NULL;
}
