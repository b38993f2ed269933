// SPDX-License-Identifier: GPL-2.0
/*
 * KVM's own statistics of the micro-guest's VM and vCPU (KVM_GET_STATS_FD,
 * Linux 5.14+), as one JSON object: a second witness, besides the ground
 * truth, for the figures shadowtrace reports (mmu_cache_miss is a shadow
 * page created, pf_fixed a fixed page fault, mmu_recycled a page the MMU
 * shrinker took).
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "microguest.h"
#include "vm.h"

const char *mg_stats_path;
unsigned int mg_hold_ms;

/* The single-valued statistics of stats fd @fd as "name": value pairs. */
static int write_stats(FILE *f, int fd)
{
	struct kvm_stats_header h;
	size_t desc_size;
	char *descs;
	int r = -1;

	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) || h.name_size > 4096)
		return -1;
	desc_size = sizeof(struct kvm_stats_desc) + h.name_size;
	descs = calloc(h.num_desc, desc_size);
	if (!descs)
		return -1;
	if (pread(fd, descs, h.num_desc * desc_size, h.desc_offset) != (ssize_t)(h.num_desc * desc_size))
		goto out;
	fputc('{', f);
	for (uint32_t i = 0, n = 0; i < h.num_desc; i++) {
		struct kvm_stats_desc *d = (struct kvm_stats_desc *)(descs + i * desc_size);
		uint64_t v;

		if (d->size != 1)
			continue;	/* histograms */
		if (pread(fd, &v, sizeof(v), h.data_offset + d->offset) != (ssize_t)sizeof(v))
			goto out;
		d->name[h.name_size - 1] = 0;
		fprintf(f, "%s\"%s\":%llu", n++ ? "," : "", d->name, (unsigned long long)v);
	}
	fputc('}', f);
	r = 0;
out:
	free(descs);
	return r;
}

int mg_vm_write_stats(struct mg_vm *vm, const char *path)
{
	int vm_stats = ioctl(vm->vm_fd, KVM_GET_STATS_FD, NULL);
	int vcpu_stats = ioctl(vm->vcpu_fd, KVM_GET_STATS_FD, NULL);
	FILE *f = NULL;
	int r = -1;

	if (vm_stats >= 0 && vcpu_stats >= 0 && (f = fopen(path, "we"))) {
		fputs("{\"vm\":", f);
		r = write_stats(f, vm_stats);
		fputs(",\"vcpu\":", f);
		r |= write_stats(f, vcpu_stats);
		fputs("}\n", f);
		r |= fclose(f);
	}
	if (r)
		snprintf(vm->err, vm->errlen, "KVM statistics to %s: %s", path, strerror(errno));
	if (vm_stats >= 0)
		close(vm_stats);
	if (vcpu_stats >= 0)
		close(vcpu_stats);
	return r ? MG_EXIT_GUEST : 0;
}
