// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>

#include "clock.h"
#include "record/recorder.h"
#include "trace/vm_name.h"

#define FLUSH_EVERY_S	1.0

/* A VM first seen: its record carries the name the live report uses. */
static int vm_record(struct recorder *r, const struct st_event_vm *e)
{
	uint8_t rec[ST_REC_VM_HDR + VM_NAME_MAX];
	char comm[ST_COMM_MAX], name[VM_NAME_MAX];
	struct vm_id *more;
	size_t n;

	memcpy(comm, e->comm, sizeof(comm));
	comm[sizeof(comm) - 1] = 0;
	st_vm_name_live(e->cmdline, e->cmdline_len < ST_CMDLINE_MAX ? e->cmdline_len : ST_CMDLINE_MAX,
			comm, (pid_t)e->pid, name, sizeof(name));
	n = strnlen(name, VM_NAME_MAX - 1);
	/* the trailer's VM table: the first REC_TRAILER_VMS_MAX VMs */
	if (r->nvms < REC_TRAILER_VMS_MAX) {
		more = realloc(r->vms, (r->nvms + 1) * sizeof(*r->vms));
		if (!more)
			return -ENOMEM;
		r->vms = more;
		r->vms[r->nvms] = (struct vm_id){ .slot = e->vm, .kvm = e->kvm, .pid = e->pid };
		memcpy(r->vms[r->nvms++].name, name, n + 1);
	}
	rec[0] = ST_EV_VM;
	rec[1] = 0;
	rec_put16(rec + 2, (uint16_t)(ST_REC_VM_HDR + n));
	rec_put16(rec + 4, e->vm);
	rec_put16(rec + 6, (uint16_t)n);
	rec_put32(rec + 8, e->pid);
	rec_put64(rec + 12, e->kvm);
	memcpy(rec + ST_REC_VM_HDR, name, n);
	return rec_writer_add(&r->w, rec, ST_REC_VM_HDR + n);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct recorder *r = ctx;
	const struct st_event *e = data;
	int err;

	if (r->err)
		return 0;
	if (size >= sizeof(struct st_event_vm) && e->type == ST_EV_VM)
		err = vm_record(r, data);
	else if (size >= sizeof(*e))
		err = rec_writer_add(&r->w, e, sizeof(*e));	/* x86: already little-endian */
	else
		err = 0;
	if (err)
		r->err = err;
	else
		r->events++;
	return 0;
}

int recorder_start(struct recorder *r, const char *path, const struct report_ctx *rep,
		   const struct tracer *tracer, double start_mono, double wall_start)
{
	struct rec_header h = {
		.start_wall_ns = (uint64_t)(wall_start * 1e9),
		.start_mono_ns = (uint64_t)(start_mono * 1e9),
		.max_vms = rep->limits.max_vms,
		.max_shadow_pages = rep->limits.max_shadow_pages,
		.max_churn_slots = rep->limits.max_churn_slots,
		.flags = rep->access_known ? ST_REC_FLAG_ACCESS : 0,
	};
	int err;

	memset(r, 0, sizeof(*r));
	snprintf(h.kernel, sizeof(h.kernel), "%s", rep->kernel);
	snprintf(h.attach_mode, sizeof(h.attach_mode), "%s", rep->attach_mode);
	snprintf(h.version, sizeof(h.version), "%s", ST_VERSION);
	err = rec_writer_open(&r->w, path, &h);
	if (err)
		return err;
	r->rb = ring_buffer__new(tracer_events_fd(tracer), on_event, r, NULL);
	if (!r->rb) {
		err = -errno;
		fprintf(stderr, "shadowtrace: cannot open the events ring buffer: %s\n", strerror(errno));
		return err;
	}
	r->last_flush = st_now();
	return 0;
}

int recorder_fd(const struct recorder *r)
{
	return r->rb ? ring_buffer__epoll_fd(r->rb) : -1;
}

uint64_t recorder_bytes(const struct recorder *r)
{
	struct stat st;

	return r->w.fd >= 0 && !fstat(r->w.fd, &st) ? (uint64_t)st.st_size : 0;
}

void recorder_poll(struct recorder *r)
{
	double now = st_now();

	ring_buffer__consume(r->rb);
	if (now - r->last_flush >= FLUSH_EVERY_S) {
		int err = rec_writer_flush(&r->w);

		if (err && !r->err)
			r->err = err;
		r->last_flush = now;
	}
}

/* The trailer's VM table: each recorded VM with its state in the final table. */
static int trailer_vms(const struct recorder *r, const struct vm_table *table, struct rec_trailer *t)
{
	/* both in order of first sight: a slot and address reused match in turn */
	bool *taken = calloc(table->n ? table->n : 1, sizeof(bool));

	t->vms = calloc(r->nvms ? r->nvms : 1, sizeof(*t->vms));
	if (!t->vms || !taken) {
		free(t->vms);
		free(taken);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < r->nvms; i++) {
		memcpy(t->vms[i].name, r->vms[i].name, sizeof(t->vms[i].name));
		t->vms[i].pid = r->vms[i].pid;
		for (unsigned int j = 0; j < table->n; j++) {
			const struct vm_entry *e = &table->vms[j];

			if (!taken[j] && vm_id_same(&e->id, &r->vms[i])) {
				t->vms[i].alive = e->alive;
				t->vms[i].pending = e->pending;
				t->vms[i].mmu = (uint8_t)e->mmu;
				taken[j] = true;
				break;
			}
		}
	}
	free(taken);
	return 0;
}

int recorder_finish(struct recorder *r, const struct report_ctx *rep, const struct vm_table *table)
{
	struct rec_trailer t = { .end_mono_ns = (uint64_t)(st_now() * 1e9), .nvms = r->nvms };
	int err;

	ring_buffer__consume(r->rb);
	if (r->err) {
		fprintf(stderr, "shadowtrace: recording failed: %s; %s holds what was written\n",
			strerror(-r->err), r->w.partial);
		return r->err;
	}
	t.events = r->events;
	/* the session's final figures: read after the probes were detached */
	memcpy(t.drops, rep->drops, sizeof(t.drops));
	memcpy(t.lost, rep->lost, sizeof(t.lost));
	t.tdp_mmu_pages[0] = rep->tdp_mmu_pages[ST_SP_CREATED];
	t.tdp_mmu_pages[1] = rep->tdp_mmu_pages[ST_SP_ZAPPED];
	err = trailer_vms(r, table, &t);
	if (err)
		return err;
	err = rec_writer_finish(&r->w, &t);
	free(t.vms);
	if (!err) {
		uint64_t lost = rep->drops[ST_DROP_RINGBUF_FULL];
		struct stat st = { 0 };

		fstat(r->w.fd, &st);
		fprintf(stderr, "shadowtrace: recorded %llu events to %s (%.1f KiB)%s",
			(unsigned long long)r->events, r->w.path, (double)st.st_size / 1024,
			lost ? "" : "\n");
		if (lost)
			fprintf(stderr, "; %llu lost (ring buffer full: raise --ring-mb)\n",
				(unsigned long long)lost);
	}
	return err;
}

void recorder_close(struct recorder *r)
{
	ring_buffer__free(r->rb);
	r->rb = NULL;
	rec_writer_close(&r->w);
	free(r->vms);
	r->vms = NULL;
}

void recorder_summary(const struct recorder *r, const struct report_ctx *rep, bool finished,
		      struct rec_summary *sum)
{
	memset(sum, 0, sizeof(*sum));
	sum->complete = finished;
	sum->problem = finished ? NULL : r->err ? "recording failed: the file ends early" :
		       "recording in progress";
	sum->records = r->events;
	memcpy(sum->lost, rep->lost, sizeof(sum->lost));
}
