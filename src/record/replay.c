// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "page_state.h"
#include "record/replay.h"

/*
 * What bpf/account.bpf.h needs from BPF, in user space. The accounting code
 * names its maps as globals, so the replay in progress is one too.
 */
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

static struct replay *R;

/*
 * The churn table (bpf/churn.bpf.h). A slot is refused where the live one
 * refused it: the write says so from version 4; version 3 had a capacity.
 */
static struct st_churn *churn_find(uint64_t spt, uint32_t idx)
{
	uint64_t *p = u64map_get(&R->churn_table, st_churn_key(spt, idx));

	return p ? (struct st_churn *)(uintptr_t)*p : NULL;
}

static int churn_insert(uint64_t spt, uint32_t idx, uint64_t now)
{
	struct st_churn *n;

	if ((R->version >= 4 && R->churn_refused) || churn_find(spt, idx) ||
	    !(n = malloc(sizeof(*n))))
		return -1;
	*n = (struct st_churn){ .changes = 1, .last_tick = now };
	if (u64map_put(&R->churn_table, st_churn_key(spt, idx), (uint64_t)(uintptr_t)n)) {
		free(n);
		return -1;
	}
	return 0;
}

static int churn_end(uint64_t spt, uint32_t idx, __u64 *changes)
{
	struct st_churn *n = churn_find(spt, idx);

	if (!n)
		return -1;
	*changes = n->changes;
	free(n);
	return u64map_del(&R->churn_table, st_churn_key(spt, idx));
}

static long bpf_loop(uint32_t n, long (*fn)(uint32_t, void *), void *ctx, uint64_t flags)
{
	uint32_t i;

	(void)flags;
	for (i = 0; i < n; i++)
		if (fn(i, ctx))
			return i + 1;
	return i;
}

static void drop(enum st_drop why)
{
	R->drops[why]++;
}

static void usage_add(enum st_usage what, int delta)
{
	(void)what;
	(void)delta;
}

static uint64_t now_tick(void)
{
	return R->now;
}

/* replaying emits nothing */
static void emit(uint32_t vm, uint32_t type, uint32_t flags, uint32_t idx, uint64_t spt,
		 uint64_t a, uint64_t b, uint64_t time)
{
	(void)vm; (void)type; (void)flags; (void)idx; (void)spt; (void)a; (void)b; (void)time;
}

#include "../../bpf/account.bpf.h"

/* ------------------------------------------------------------------ VMs */

static struct replay_vm *vm_of_slot(struct replay *rp, uint32_t slot, struct vm_ref *v)
{
	struct replay_vm *vm;

	if (slot >= rp->h.max_vms || rp->slot_vm[slot] < 0)
		return NULL;
	vm = rp->vms[rp->slot_vm[slot]];
	v->slot = slot;
	v->info = &vm->info;
	v->c = &vm->c;
	return vm;
}

/* Table full: forget the VM seen first whose slot has since been reused. */
static int forget_one(struct replay *rp)
{
	for (unsigned int i = 0; i < rp->n; i++) {
		if (rp->vms[i]->bound)
			continue;
		free(rp->vms[i]);
		memmove(&rp->vms[i], &rp->vms[i + 1], (rp->n - i - 1) * sizeof(rp->vms[0]));
		rp->n--;
		for (uint32_t s = 0; s < rp->h.max_vms; s++)
			if (rp->slot_vm[s] > (int32_t)i)
				rp->slot_vm[s]--;
		rp->forgotten++;
		return 0;
	}
	return -1;
}

static int vm_record(struct replay *rp, const uint8_t *p, size_t len)
{
	uint32_t slot, name_len;
	struct replay_vm *vm;

	if (len < ST_REC_VM_HDR)
		return -1;
	slot = rec_get16(p + 4);
	name_len = rec_get16(p + 6);
	if (slot >= rp->h.max_vms || name_len >= VM_NAME_MAX || len != ST_REC_VM_HDR + name_len)
		return -1;
	if (rp->slot_vm[slot] >= 0)
		rp->vms[rp->slot_vm[slot]]->bound = false;
	rp->slot_vm[slot] = -1;
	if (rp->n == VM_TABLE_MAX && forget_one(rp))
		return -1;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -1;
	vm->ordinal = rp->next_ordinal++;
	vm->id.slot = slot;
	vm->bound = true;
	vm->id.pid = rec_get32(p + 8);
	vm->id.kvm = rec_get64(p + 12);
	vm->info.state = ST_VM_LIVE;
	memcpy(vm->id.name, p + ST_REC_VM_HDR, name_len);
	vm->id.name[name_len] = 0;
	rp->vms[rp->n] = vm;
	rp->slot_vm[slot] = (int32_t)rp->n++;
	return 0;
}

/* --------------------------------------------------------------- events */

static struct st_sp *page(struct replay *rp, uint64_t spt)
{
	uint64_t *p = u64map_get(&rp->pages, spt);

	return p ? (struct st_sp *)(uintptr_t)*p : NULL;
}

static struct st_sp *page_start(struct replay *rp, uint64_t spt)
{
	struct st_sp *s = page(rp, spt);

	if (s)		/* account_page_start() ends what it held */
		return s;
	s = calloc(1, sizeof(*s));
	if (s && u64map_put(&rp->pages, spt, (uint64_t)(uintptr_t)s)) {
		free(s);
		s = NULL;
	}
	return s;
}

static void page_gone(struct replay *rp, uint64_t spt)
{
	struct st_sp *s = page(rp, spt);

	if (s) {
		u64map_del(&rp->pages, spt);
		free(s);
	}
}

/* One event through the accounting code: 0, or -1 if it names nothing known. */
static int event(struct replay *rp, const struct st_event *e)
{
	struct vm_ref v;
	struct st_sp *s = NULL;

	if (!vm_of_slot(rp, e->vm, &v))
		return -1;
	rp->now = e->time;
	if (e->time > rp->last_tick)
		rp->last_tick = e->time;
	switch (e->type) {
	case ST_EV_PAGE_START:
		/* KVM's levels are 1..5; the direct-gfn check shifts by them */
		if (e->b < 1 || e->b > ST_LEVELS || !(s = page_start(rp, e->spt)))
			return -1;
		account_page_start(&v, s, e->spt, e->a, (uint32_t)e->b, e->flags, e->time);
		return 0;
	case ST_EV_PAGE_EVENT:
		account_page_event(&v, e->spt, (uint32_t)e->a, e->flags);
		if (e->flags & ST_EVF_GONE)
			page_gone(rp, e->spt);
		return 0;
	case ST_EV_SPLIT:
		account_split(&v, (uint32_t)e->a, (uint32_t)e->b);
		return 0;
	default:
		break;
	}
	if (!(s = page(rp, e->spt)) || e->idx >= ST_SPTES_PER_PAGE)
		return -1;
	switch (e->type) {
	case ST_EV_PAGE_END:
		end_sp(&v, s, e->spt);
		return 0;
	case ST_EV_WRITE:
		rp->churn_refused = e->flags & ST_EVF_CHURN_FULL;
		account_write(&v, s, e->spt, e->idx, e->flags & 3, e->flags & ST_EVF_OLD_KNOWN,
			      e->a, e->b, e->time);
		return 0;
	case ST_EV_DIRECT_WRITE:
		account_direct_write(&v, s, e->spt, e->idx, e->flags & 3, e->a);
		return 0;
	case ST_EV_SYNC_DROP:
		account_sync_drop(&v, s, e->spt, e->idx, (uint32_t)e->a, e->b);
		return 0;
	default:
		return -1;
	}
}

static void decode_event(const uint8_t *p, struct st_event *e)
{
	e->type = p[0];
	e->flags = p[1];
	e->len = rec_get16(p + 2);
	e->vm = rec_get16(p + 4);
	e->idx = rec_get16(p + 6);
	e->spt = rec_get64(p + 8);
	e->a = rec_get64(p + 16);
	e->b = rec_get64(p + 24);
	e->time = rec_get64(p + 32);
}

/* The records of one block: 0, or -1 if malformed (rp->err says why). */
static int block(struct replay *rp, const uint8_t *p, size_t len, uint64_t nblock)
{
	const uint8_t *end = p + len;

	while (p < end) {
		size_t left = (size_t)(end - p), n;
		struct st_event e;

		if (left < 4)
			goto bad;
		n = rec_get16(p + 2);
		if (p[0] == ST_REC_TRAILER) {
			if (rec_trailer_decode(p, left, rp->version, &rp->t))
				goto bad;
			rp->complete = true;
			return 0;
		}
		if (n < 4 || n > left)
			goto bad;
		if (p[0] == ST_EV_VM) {
			if (vm_record(rp, p, n))
				goto bad;
		} else {
			if (n != sizeof(struct st_event) || p[0] >= ST_EV_TYPES)
				goto bad;
			decode_event(p, &e);
			if (event(rp, &e))
				rp->inconsistent++;
		}
		rp->records++;
		p += n;
	}
	return 0;
bad:
	snprintf(rp->err, sizeof(rp->err), "block %llu holds a malformed record",
		 (unsigned long long)nblock);
	return -1;
}

enum replay_status replay_file(struct replay *rp, FILE *f, const char *name, uint32_t max_pages)
{
	struct rec_reader r;
	const uint8_t *data;
	size_t len;
	int got;

	memset(rp, 0, sizeof(*rp));
	for (int i = 0; i < 1024; i++)
		rp->slot_vm[i] = -1;
	if (rec_reader_open(&r, f, name)) {
		snprintf(rp->err, sizeof(rp->err), "%s", r.err);
		rec_reader_close(&r);
		return REPLAY_UNREADABLE;
	}
	rp->h = r.h;
	rp->version = r.version;
	rp->vms = calloc(VM_TABLE_MAX, sizeof(*rp->vms));
	u64map_init(&rp->pages, max_pages && max_pages < r.h.max_shadow_pages ? max_pages :
				r.h.max_shadow_pages);
	/* before format 3 the limit held only slots of over 254 changes */
	u64map_init(&rp->churn_table, r.version == 3 ? r.h.max_churn_slots : UINT32_MAX / 2);
	if (!rp->vms) {
		snprintf(rp->err, sizeof(rp->err), "out of memory");
		rec_reader_close(&r);
		return REPLAY_UNREADABLE;
	}
	R = rp;
	while ((got = rec_reader_next(&r, &data, &len)) == 1) {
		if (rp->complete) {
			snprintf(rp->err, sizeof(rp->err), "data after the trailer (block %llu)",
				 (unsigned long long)r.blocks);
			rp->complete = false;
			break;
		}
		if (block(rp, data, len, r.blocks))
			break;
	}
	if (got < 0)
		snprintf(rp->err, sizeof(rp->err), "%s", r.err);
	else if (!got && !rp->complete && !rp->err[0])
		snprintf(rp->err, sizeof(rp->err), "no trailer: the recording did not end cleanly");
	R = NULL;
	rec_reader_close(&r);
	return rp->complete && !rp->err[0] ? REPLAY_COMPLETE : REPLAY_INCOMPLETE;
}

void replay_free(struct replay *rp)
{
	for (uint32_t i = 0; i < rp->pages.cap; i++)
		if (rp->pages.used[i])
			free((void *)(uintptr_t)rp->pages.vals[i]);
	for (uint32_t i = 0; i < rp->churn_table.cap; i++)
		if (rp->churn_table.used[i])
			free((void *)(uintptr_t)rp->churn_table.vals[i]);
	u64map_free(&rp->pages);
	u64map_free(&rp->churn_table);
	for (unsigned int i = 0; i < rp->n; i++)
		free(rp->vms[i]);
	free(rp->vms);
	free(rp->t.vms);
	memset(rp, 0, sizeof(*rp));
}

int replay_table(const struct replay *rp, struct vm_table *t, struct report_ctx *rep,
		 struct rec_summary *sum)
{
	uint64_t end_ns;

	t->vms = calloc(rp->n ? rp->n : 1, sizeof(*t->vms));
	if (!t->vms)
		return -1;
	t->n = rp->n;
	t->forgotten = rp->forgotten;
	for (unsigned int i = 0; i < rp->n; i++) {
		const struct replay_vm *vm = rp->vms[i];
		struct vm_entry *e = &t->vms[i];

		e->id = vm->id;
		if (rp->complete && vm->ordinal < rp->t.nvms) {
			e->alive = rp->t.vms[vm->ordinal].alive;
			e->pending = rp->t.vms[vm->ordinal].pending;
			e->mmu = rp->t.vms[vm->ordinal].mmu;
		}
		e->adopted_sps = vm->info.adopted_sps;
		e->live_sps = vm->info.live_sps;
		e->c = vm->c;
		rep->vm_slots_used += vm->bound;
	}
	rep->attach_mode = rp->h.attach_mode;
	rep->kernel = rp->h.kernel;
	rep->access_known = rp->h.flags & ST_REC_FLAG_ACCESS;
	rep->final = true;
	end_ns = rp->complete ? rp->t.end_mono_ns : rp->last_tick << ST_TICK_SHIFT;
	rep->elapsed_s = end_ns > rp->h.start_mono_ns ? (double)(end_ns - rp->h.start_mono_ns) / 1e9 : 0;
	memcpy(rep->drops, rp->t.drops, sizeof(rep->drops));
	memcpy(rep->lost, rp->t.lost, sizeof(rep->lost));
	rep->tdp_mmu_pages[ST_SP_CREATED] = rp->t.tdp_mmu_pages[0];
	rep->tdp_mmu_pages[ST_SP_ZAPPED] = rp->t.tdp_mmu_pages[1];
	rep->mmu_known = rp->complete && rp->version >= 2;
	rep->vms_forgotten = rp->forgotten;
	rep->limits.max_vms = rp->h.max_vms;
	rep->limits.max_shadow_pages = rp->h.max_shadow_pages;
	rep->limits.max_churn_slots = rp->h.max_churn_slots;
	sum->complete = rp->complete && !rp->err[0];
	sum->problem = rp->err;
	sum->records = rp->records;
	sum->inconsistent = rp->inconsistent;
	memcpy(sum->lost, rep->lost, sizeof(sum->lost));
	rep->recording = sum;
	return 0;
}

enum replay_status replay_path(struct replay *rp, const char *path)
{
	FILE *f = fopen(path, "rb");
	enum replay_status st;
	uint64_t lost;

	if (!f) {
		memset(rp, 0, sizeof(*rp));
		fprintf(stderr, "shadowtrace: cannot open %s: %s\n", path, strerror(errno));
		return REPLAY_UNREADABLE;
	}
	st = replay_file(rp, f, path, 0);
	fclose(f);
	if (st == REPLAY_UNREADABLE) {
		fprintf(stderr, "shadowtrace: %s: %s\n", path, rp->err);
		return st;
	}
	if (st == REPLAY_INCOMPLETE)
		fprintf(stderr, "shadowtrace: %s: %s; figures up to the last complete block\n",
			path, rp->err);
	lost = rp->t.drops[ST_DROP_RINGBUF_FULL];
	if (lost)
		fprintf(stderr, "shadowtrace: %s: %llu events were lost while recording (ring buffer full): figures undercount\n",
			path, (unsigned long long)lost);
	if (rp->inconsistent)
		fprintf(stderr, "shadowtrace: %s: %llu events name a VM or page the recording never started\n",
			path, (unsigned long long)rp->inconsistent);
	return st;
}
