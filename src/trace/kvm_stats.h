/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KVM's own statistics of a VM, read from debugfs (/sys/kernel/debug/kvm/
 * PID-FD/, vCPU figures summed by KVM itself): a second witness beside
 * shadowtrace's figures, as kvm_stat shows them. User space reads them;
 * the directory's name is what BPF read from kvm->debugfs_dentry.
 */
#ifndef SHADOWTRACE_KVM_STATS_H
#define SHADOWTRACE_KVM_STATS_H

#include <stdbool.h>
#include <stdint.h>

/* The statistics reported, as KVM names them: X(name, counter?, help). */
#define KVM_STATS(X) \
	X(mmu_cache_miss, true, "Shadow pages KVM created (compare shadowtrace_shadow_pages_total{event=\"created\"})") \
	X(mmu_shadow_zapped, true, "Shadow pages KVM zapped, an invalid root again at each of its zaps") \
	X(mmu_unsync, false, "Shadow pages unsync now") \
	X(mmu_pte_write, true, "Guest page table writes KVM emulated") \
	X(mmu_pde_zapped, true, "Shadow page table entries zapped by emulated guest PTE writes") \
	X(mmu_flooded, true, "Shadow pages zapped because the guest wrote them too often") \
	X(mmu_recycled, true, "Shadow pages the MMU shrinker or the page limit took") \
	X(pages_4k, false, "SPTEs mapping 4 KiB now") \
	X(pages_2m, false, "SPTEs mapping 2 MiB now") \
	X(pages_1g, false, "SPTEs mapping 1 GiB now") \
	X(pf_taken, true, "Page faults KVM handled (all vCPUs)") \
	X(pf_fixed, true, "Page faults KVM fixed by installing an SPTE (compare translation writes from faults)") \
	X(pf_emulate, true, "Page faults KVM emulated") \
	X(pf_spurious, true, "Page faults that found the SPTE already fixed") \
	X(pf_guest, true, "Page faults KVM reflected into the guest") \
	X(invlpg, true, "INVLPG instructions KVM handled")

enum kvm_stat_id {
#define KVM_STAT_ID(name, counter, help) KVM_STAT_##name,
	KVM_STATS(KVM_STAT_ID)
#undef KVM_STAT_ID
	KVM_STATS_N,
};

struct kvm_stat_def {
	const char *name;
	bool counter;		/* only grows; else a gauge */
	const char *help;
};

extern const struct kvm_stat_def kvm_stat_defs[KVM_STATS_N];

struct kvm_stats {
	double read_at;		/* monotonic seconds of the last read; 0: never read */
	uint32_t present;	/* bit per enum kvm_stat_id: the kernel has it */
	/*
	 * Bit per id: the kernel has it, but refused to let it be read. Under
	 * kernel lockdown debugfs opens only read-only files, and KVM's
	 * counters are writable (a write clears them); its gauges are not.
	 */
	uint32_t refused;
	uint64_t v[KVM_STATS_N];
};

/* Statistic @id was read (never, before a first read). */
static inline bool kvm_stat_present(const struct kvm_stats *s, int id)
{
	return s->present & (1u << id);
}

/* Statistics the kernel refused to let be read (see refused). */
static inline int kvm_stats_refused(const struct kvm_stats *s)
{
	return __builtin_popcount(s->refused);
}

/*
 * Reads the statistics in @root/@dir (@root NULL: KVM's debugfs) into @out.
 * *@ino is the directory's inode: 0 at first, set then; -ESTALE when the
 * directory is another by now (the VM ended, a new one has its name).
 * Statistics in @refused_before are counted refused without being opened:
 * lockdown holds for the whole kernel and is never lifted, and each refused
 * open writes a notice to the kernel log.
 * Returns 0, or -errno and @out as it was: no directory (the VM has ended,
 * debugfs is not mounted), or none of the statistics in it.
 */
int kvm_stats_read(const char *root, const char *dir, struct kvm_stats *out, double now,
		   uint64_t *ino, uint32_t refused_before);

/*
 * Does KVM still have the VM whose debugfs directory is @root/@dir with
 * inode @ino (as BPF read it when KVM made it)? KVM removes the directory
 * first thing when it destroys the VM; a new VM of the same process may
 * then take its name, not its inode. Unknown without debugfs or an inode.
 */
enum kvm_dir_state {
	KVM_DIR_UNKNOWN,
	KVM_DIR_LIVE,
	KVM_DIR_GONE,
};
enum kvm_dir_state kvm_dir_state(const char *root, const char *dir, uint64_t ino);

#endif
