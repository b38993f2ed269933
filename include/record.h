/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Recordings: the events the BPF side emits through its ring buffer, and
 * the file `shadowtrace record` writes them to. Shared by bpf/ and src/.
 *
 * An event is one call of the accounting code (bpf/account.bpf.h) with its
 * arguments: replaying the calls in order through the same code gives the
 * same figures the live tracer had.
 *
 * File format, version 1. All integers little-endian, no padding implied
 * beyond what is written here.
 *
 *   header   "SHTRACE\n"  magic, 8 bytes
 *            u32 version (1), u32 length of the header body that follows
 *            body: u64 start wall clock (ns since the epoch)
 *                  u64 start monotonic clock (ns, the events' time base)
 *                  u32 max_vms, u32 max_shadow_pages, u32 max_churn_slots
 *                  (before version 3 the latter held only the slots of
 *                  over 254 access changes; from 3, every churned slot)
 *                  u32 flags (bit 0: the cache holds access bits)
 *                  str kernel release, str attach mode, str tool version
 *                  (str: u16 length, bytes; at most 255 bytes)
 *            u32 CRC-32 (zlib) of the body
 *   blocks   u32 "BLK1" (0x314b4c42), u32 raw length (<= 1 MiB),
 *            u32 compressed length (<= compressBound(raw)),
 *            u32 CRC-32 of the raw bytes, then the zlib stream.
 *            The raw bytes are whole records, each: u8 type, u8 flags,
 *            u16 length of the whole record, then its fields:
 *              ST_EV_VM:     u16 vm slot, u16 name length (< 64), u32 pid,
 *                            u64 kvm, the name's bytes (the VM's name as
 *                            the live report shows it)
 *              the others:   struct st_event below, as it is (40 bytes)
 *   trailer  one last block whose single record is ST_REC_TRAILER, its
 *            length field 0 (it is the rest of the block):
 *            u64 end monotonic ns, u64 records written, u64 drops[ST_DROPS],
 *            u64 lost[ST_EV_TYPES] (ring buffer full, per event type),
 *            (version 2:) u64 TDP MMU pages created, u64 zapped,
 *            u32 VM count, then the VM table, per VM in ST_EV_VM order
 *            (the first 8192): u8 alive, u8 pending write, u32 pid,
 *            (version 2:) u8 its MMUs (enum st_mmu_seen bits),
 *            u8 name length, the name.
 *   VM table: a VM is first seen (and adopted) during the run, so the VMs
 *            appear in the stream as ST_EV_VM records when first seen, and
 *            all together in the trailer.
 *   Blocks are written when 1 MiB is gathered and at least every second.
 *
 * A file cut short (crash, full disk) is read up to its last complete
 * block; no trailer means the run did not end cleanly, and the reader says
 * so. `record` writes FILE.partial and renames it to FILE once complete.
 */
#ifndef SHADOWTRACE_RECORD_H
#define SHADOWTRACE_RECORD_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define ST_REC_MAGIC		"SHTRACE\n"
#define ST_REC_VERSION		4	/* 4: a write says if the churn table refused its slot;
					   3: the churn table holds every churned slot;
					   2: the trailer holds the MMUs; 1 to 3 are read too */
#define ST_REC_BLOCK_MAGIC	0x314b4c42u	/* "BLK1" */
#define ST_REC_BLOCK_MAX	(1u << 20)	/* raw bytes per block */
#define ST_REC_HEADER_MAX	4096
#define ST_REC_STR_MAX		255
#define ST_REC_FLAG_ACCESS	1u

enum st_event_type {
	ST_EV_VM = 1,		/* a VM first seen: its slot now means this VM */
	ST_EV_PAGE_START,	/* a shadow page tracked (created or adopted) */
	ST_EV_PAGE_END,		/* every slot lifetime of a page ends (zap) */
	ST_EV_PAGE_EVENT,	/* created/synced/unsynced/zapped, counted */
	ST_EV_WRITE,		/* a translation write into an indirect page */
	ST_EV_DIRECT_WRITE,	/* a write into a direct page: gfn checked */
	ST_EV_SYNC_DROP,	/* sync dropped an SPTE: its lifetime ends */
	ST_EV_SPLIT,		/* an eager huge page split */
	ST_EV_TYPES,
	ST_REC_TRAILER = 0x7f,	/* file only */
};

/* ST_EV_VM in the file: type flags len, slot, name length, pid, kvm; name */
#define ST_REC_VM_HDR		20

/* ST_EV_PAGE_START flags */
#define ST_EVF_DIRECT		1u
#define ST_EVF_ADOPTED		2u	/* existed before shadowtrace attached */
#define ST_EVF_LIVE		4u	/* newly counted among the VM's live pages */
#define ST_EVF_NESTED		8u	/* shadows a nested guest's tables (guest_mode) */
/* ST_EV_PAGE_EVENT flags */
#define ST_EVF_COUNTED		1u	/* counted in sp_events (not an invalid root) */
#define ST_EVF_GONE		2u	/* leaves the VM's live pages */
/* ST_EV_WRITE flags: the origin in bits 0-1, and */
#define ST_EVF_OLD_KNOWN	4u
#define ST_EVF_CHURN_FULL	8u	/* its slot's first access change found the churn table full */

/*
 * Every event but ST_EV_VM: 40 bytes. @a/@b by type:
 *   PAGE_START  a gfn, b level, time: the page's tick base
 *   PAGE_EVENT  a enum st_sp_event
 *   WRITE       a old translation, b new translation, time: tick if used
 *   DIRECT_WRITE a gfn written (origin in flags)
 *   SYNC_DROP   a enum st_sync_drop, b |gfn distance| (GFN drops)
 *   SPLIT       a enum st_split, b what of its writes a mode could not see
 *               (ST_SPLIT_STORES_*; 0 in recordings of older versions)
 */
/* A split's writes, when the attach mode cannot see them (SPLIT's @b). */
#define ST_SPLIT_STORES_SEEN	0u	/* counted as they were made */
#define ST_SPLIT_STORES_UNSEEN	0xffu	/* into a reused child page: unknown */
/* otherwise: the level of a new child page, which the split fills whole */

struct st_event {
	__u8 type;
	__u8 flags;
	__u16 len;		/* sizeof(struct st_event) */
	__u16 vm;		/* VM slot */
	__u16 idx;		/* SPTE index in its page */
	__u64 spt;		/* the page's key: its spt page address */
	__u64 a;
	__u64 b;
	__u64 time;		/* 1.024 us ticks of the monotonic clock */
};

#define ST_CMDLINE_MAX	256	/* of a VMM's command line, as read */
#define ST_COMM_MAX	16
#define ST_KVM_DIR_MAX	32	/* KVM's debugfs directory of a VM, "PID-FD" */

/* ST_EV_VM as the BPF side emits it; the file holds the derived name. */
struct st_event_vm {
	__u8 type;
	__u8 flags;
	__u16 len;
	__u16 vm;
	__u16 cmdline_len;
	__u32 pid;
	__u32 pad;
	__u64 kvm;
	char comm[ST_COMM_MAX];
	char cmdline[ST_CMDLINE_MAX];
};

#endif /* SHADOWTRACE_RECORD_H */
