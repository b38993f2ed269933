/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shadowtrace record: the accounting calls as events (include/record.h),
 * through a ring buffer that never blocks KVM: when it is full the event
 * is counted lost, per type. Compiled out unless "recording" is set.
 */
#ifndef SHADOWTRACE_RECORD_BPF_H
#define SHADOWTRACE_RECORD_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "record.h"
#include "maps.bpf.h"

ST_GLOBAL struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);	/* sized by user space */
} events SEC(".maps");

static __always_inline void event_lost(__u32 type)
{
	struct st_drops *d = this_cpu_drops();

	drop(ST_DROP_RINGBUF_FULL);
	if (d && type < ST_EV_TYPES)
		d->lost[type]++;
}

/* User space drains the ring on a timer; wake it early only past half full. */
static __always_inline __u64 wakeup_flag(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > ring_bytes / 2 ?
	       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/* Room for one event of @size, or NULL (not recording, or counted lost). */
static __always_inline void *reserve(__u32 type, __u64 size)
{
	void *e;

	if (!recording)
		return NULL;
	e = bpf_ringbuf_reserve(&events, size, 0);
	if (!e)
		event_lost(type);
	return e;
}

static __always_inline void emit(__u32 vm, __u32 type, __u32 flags, __u32 idx, __u64 spt,
				 __u64 a, __u64 b, __u64 time)
{
	struct st_event *e = reserve(type, sizeof(*e));

	if (!e)
		return;
	e->type = type;
	e->flags = flags;
	e->len = sizeof(*e);
	e->vm = vm;
	e->idx = idx;
	e->spt = spt;
	e->a = a;
	e->b = b;
	e->time = time;
	bpf_ringbuf_submit(e, wakeup_flag());
}

/* A VM first seen, with the identity user space names it by. */
static __always_inline void emit_vm(__u32 slot, const struct st_vm_info *info)
{
	struct st_event_vm *e = reserve(ST_EV_VM, sizeof(*e));

	if (!e)
		return;
	e->type = ST_EV_VM;
	e->flags = 0;
	e->len = sizeof(*e);
	e->vm = slot;
	e->pid = info->pid;
	e->pad = 0;
	e->kvm = info->kvm;
	e->cmdline_len = info->cmdline_len;
	__builtin_memcpy(e->comm, info->comm, sizeof(e->comm));
	__builtin_memcpy(e->cmdline, info->cmdline, sizeof(e->cmdline));
	bpf_ringbuf_submit(e, wakeup_flag());
}

#endif
