// SPDX-License-Identifier: GPL-2.0
/* /dev/kvm plumbing: VM, memslot 0, one vCPU in 64-bit mode at CPL 3. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "microguest.h"
#include "vm.h"

#define HUGE_2M		(2ULL << 20)
#define DONE_PORT	0x10

static int fail(struct mg_vm *vm, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vm->err, vm->errlen, fmt, ap);
	va_end(ap);
	return status;
}

static int set_cpuid(struct mg_vm *vm)
{
	const int max = 128;
	struct kvm_cpuid2 *cpuid;
	int r;

	cpuid = calloc(1, sizeof(*cpuid) + max * sizeof(cpuid->entries[0]));
	if (!cpuid)
		return fail(vm, MG_EXIT_GUEST, "out of memory");
	cpuid->nent = max;
	r = ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid);
	/* SVM (0x80000001 ecx bit 2) and nested paging (0x8000000a edx bit 0) */
	for (unsigned int i = 0, svm = 0, np = 0; !r && i < cpuid->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		svm |= e->function == 0x80000001 && (e->ecx & 1u << 2);
		np |= e->function == 0x8000000a && (e->edx & 1u);
		vm->nested_npt = svm && np;
	}
	if (!r)
		r = ioctl(vm->vcpu_fd, KVM_SET_CPUID2, cpuid);
	free(cpuid);
	if (r)
		return fail(vm, MG_EXIT_NO_KVM, "KVM cpuid setup: %s", strerror(errno));
	return 0;
}

int mg_kvm_check(char *err, size_t errlen)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int version = fd < 0 ? -1 : ioctl(fd, KVM_GET_API_VERSION, 0);
	int e = errno;

	if (fd >= 0)
		close(fd);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open /dev/kvm: %s", strerror(e));
		return MG_EXIT_NO_KVM;
	}
	if (version != KVM_API_VERSION) {
		snprintf(err, errlen, "no KVM behind /dev/kvm");
		return MG_EXIT_NO_KVM;
	}
	return MG_EXIT_OK;
}

int mg_vm_open(struct mg_vm *vm, uint64_t mem_size, enum mg_backing backing)
{
	int mmap_size;

	vm->kvm_fd = vm->vm_fd = vm->vcpu_fd = -1;
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return fail(vm, MG_EXIT_NO_KVM, "cannot open /dev/kvm: %s", strerror(errno));
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return fail(vm, MG_EXIT_NO_KVM, "KVM_CREATE_VM: %s", strerror(errno));

	/* 2 MiB aligned anonymous memory, so guest huge pages can be huge. */
	vm->mem_size = mem_size;
	if (backing == MG_BACKING_HUGETLB) {	/* mem_size is a multiple of 2 MiB */
		vm->map_len = mem_size;
		vm->map = mmap(NULL, vm->map_len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (21 << MAP_HUGE_SHIFT), -1, 0);
		if (vm->map == MAP_FAILED) {
			vm->map = NULL;
			return fail(vm, MG_EXIT_PRECONDITION, "mmap of %llu MiB of 2 MiB hugetlbfs pages: "
				    "%s (reserve them: /proc/sys/vm/nr_hugepages)",
				    (unsigned long long)(mem_size >> 20), strerror(errno));
		}
	} else {
		vm->map_len = mem_size + HUGE_2M;
		vm->map = mmap(NULL, vm->map_len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (vm->map == MAP_FAILED) {
			vm->map = NULL;
			return fail(vm, MG_EXIT_GUEST, "mmap guest memory: %s", strerror(errno));
		}
	}
	vm->mem = (uint8_t *)(((uintptr_t)vm->map + HUGE_2M - 1) & ~(HUGE_2M - 1));
	if (backing == MG_BACKING_THP && madvise(vm->mem, mem_size, MADV_HUGEPAGE))
		return fail(vm, MG_EXIT_PRECONDITION, "madvise(MADV_HUGEPAGE): %s",
			    strerror(errno));
	if (backing == MG_BACKING_4K && mg_no_thp && madvise(vm->mem, mem_size, MADV_NOHUGEPAGE))
		return fail(vm, MG_EXIT_PRECONDITION, "madvise(MADV_NOHUGEPAGE): %s",
			    strerror(errno));
	/* Populate now: THP on first touch, and no host faults mid-scenario. */
	for (uint64_t off = 0; off < mem_size; off += 4096)
		vm->mem[off] = 0;

	int r = mg_vm_set_slot(vm, 0);
	if (r)
		return r;

	vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu_fd < 0)
		return fail(vm, MG_EXIT_NO_KVM, "KVM_CREATE_VCPU: %s", strerror(errno));
	mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size <= 0)
		return fail(vm, MG_EXIT_NO_KVM, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
	vm->run_size = (size_t)mmap_size;
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->vcpu_fd, 0);
	if (vm->run == MAP_FAILED) {
		vm->run = NULL;
		return fail(vm, MG_EXIT_NO_KVM, "mmap kvm_run: %s", strerror(errno));
	}
	return set_cpuid(vm);
}

static int slot_ioctl(struct mg_vm *vm, uint64_t size, uint32_t flags)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.flags = flags,
		.guest_phys_addr = 0,
		.memory_size = size,
		.userspace_addr = (uintptr_t)vm->mem,
	};

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region))
		return fail(vm, MG_EXIT_NO_KVM, "KVM_SET_USER_MEMORY_REGION: %s",
			    strerror(errno));
	return 0;
}

int mg_vm_set_slot(struct mg_vm *vm, uint32_t flags)
{
	return slot_ioctl(vm, vm->mem_size, flags);
}

int mg_vm_delete_slot(struct mg_vm *vm)
{
	return slot_ioctl(vm, 0, 0);
}

int mg_vm_set_mmu_pages(struct mg_vm *vm, unsigned int pages)
{
	if (ioctl(vm->vm_fd, KVM_SET_NR_MMU_PAGES, (unsigned long)pages))
		return fail(vm, MG_EXIT_NO_KVM, "KVM_SET_NR_MMU_PAGES %u: %s", pages, strerror(errno));
	return 0;
}

int mg_vm_manual_dirty_log(struct mg_vm *vm)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
		.args = { KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET },
	};

	if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap))
		return fail(vm, MG_EXIT_PRECONDITION, "KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2: %s",
			    strerror(errno));
	return 0;
}

int mg_vm_clear_dirty_log(struct mg_vm *vm, uint64_t first_page)
{
	uint64_t bits = ~0ULL;
	struct kvm_clear_dirty_log clear = {
		.slot = 0, .first_page = first_page, .num_pages = 64, .dirty_bitmap = &bits,
	};

	if (ioctl(vm->vm_fd, KVM_CLEAR_DIRTY_LOG, &clear))
		return fail(vm, MG_EXIT_NO_KVM, "KVM_CLEAR_DIRTY_LOG: %s", strerror(errno));
	return 0;
}

static void flat_segment(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code, uint8_t dpl)
{
	memset(s, 0, sizeof(*s));
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->dpl = dpl;
	s->s = 1;
	s->g = 1;
	s->l = code;
	s->db = !code;
}

int mg_vm_start_long_mode(struct mg_vm *vm, uint64_t cr3, uint64_t tss_gpa, bool hypervisor)
{
	struct kvm_sregs sregs;

	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs))
		return fail(vm, MG_EXIT_NO_KVM, "KVM_GET_SREGS: %s", strerror(errno));
	/*
	 * CPL 3 code: under PVM, CPL 0 guest code is emulated and hardly
	 * faults; CPL 3 code runs natively and faults on every first touch.
	 */
	if (hypervisor) {	/* VMRUN needs CPL 0; nested runs never meet PVM */
		flat_segment(&sregs.cs, 0x08, 0xb, true, 0);
		flat_segment(&sregs.ds, 0x10, 0x3, false, 0);
	} else {
		flat_segment(&sregs.cs, 0x33, 0xb, true, 3);
		flat_segment(&sregs.ds, 0x2b, 0x3, false, 3);
	}
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	memset(&sregs.tr, 0, sizeof(sregs.tr));
	sregs.tr.selector = 0x40;
	/*
	 * Own 8-entry PTE group for the TSS: emulating "out" reads its I/O
	 * bitmap, which sets Accessed in its gpte, and KVM would prefetch
	 * any accessed neighbour of a faulting page.
	 */
	sregs.tr.base = tss_gpa;
	sregs.tr.limit = 0x67;
	sregs.tr.type = 11;	/* busy 64-bit TSS */
	sregs.tr.present = 1;
	sregs.cr0 = 0x80000011;	/* PG | ET | PE */
	sregs.cr4 = 0x20;	/* PAE */
	sregs.efer = 0x500 | (hypervisor ? 0x1000 : 0);	/* LME | LMA (| SVME) */
	sregs.cr3 = cr3;
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs))
		return fail(vm, MG_EXIT_NO_KVM, "KVM_SET_SREGS: %s", strerror(errno));
	return 0;
}

int mg_vm_set_msr(struct mg_vm *vm, uint32_t index, uint64_t value)
{
	struct {
		struct kvm_msrs head;
		struct kvm_msr_entry entry;
	} msrs = { .head.nmsrs = 1, .entry = { .index = index, .data = value } };

	if (ioctl(vm->vcpu_fd, KVM_SET_MSRS, &msrs) != 1)
		return fail(vm, MG_EXIT_NO_KVM, "KVM_SET_MSRS %#x: %s", index, strerror(errno));
	return 0;
}

int mg_vm_set_cr3(struct mg_vm *vm, uint64_t cr3)
{
	struct kvm_sregs sregs;

	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs))
		return fail(vm, MG_EXIT_NO_KVM, "KVM_GET_SREGS: %s", strerror(errno));
	sregs.cr3 = cr3;
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs))
		return fail(vm, MG_EXIT_NO_KVM, "KVM_SET_SREGS: %s", strerror(errno));
	return 0;
}

unsigned int mg_pause_after;

/* Lets a test attach a tracer to a VM that already has shadow pages. */
static void maybe_pause(void)
{
	static unsigned int calls;
	char byte;

	if (!mg_pause_after || ++calls != mg_pause_after)
		return;
	fputs("paused\n", stdout);
	fflush(stdout);
	if (read(STDIN_FILENO, &byte, 1) < 0)
		return;
}

int mg_vm_call(struct mg_vm *vm, const struct mg_call *c)
{
	struct kvm_regs regs = {
		.rip = c->rip, .rdi = c->rdi, .rsi = c->rsi,
		.rcx = c->rcx, .rdx = c->rdx, .rbx = c->rbx, .rax = c->rax,
		.rflags = 0x3002,	/* IOPL 3: "out" works at CPL 3 */
	};

	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs))
		return fail(vm, MG_EXIT_NO_KVM, "KVM_SET_REGS: %s", strerror(errno));
	for (;;) {
		if (ioctl(vm->vcpu_fd, KVM_RUN, 0)) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return fail(vm, MG_EXIT_GUEST, "KVM_RUN: %s", strerror(errno));
		}
		switch (vm->run->exit_reason) {
		case KVM_EXIT_IO:
			if (vm->run->io.port == DONE_PORT) {
				maybe_pause();
				return 0;
			}
			return fail(vm, MG_EXIT_GUEST, "guest I/O to unexpected port %#x",
				    vm->run->io.port);
		case KVM_EXIT_INTR:
			continue;
		case KVM_EXIT_SHUTDOWN:
			return fail(vm, MG_EXIT_GUEST,
				    "guest shut down (unhandled fault) in routine at %#llx",
				    (unsigned long long)c->rip);
		default:
			return fail(vm, MG_EXIT_GUEST, "unexpected KVM exit reason %u",
				    vm->run->exit_reason);
		}
	}
}

uint64_t mg_vm_thp_bytes(const struct mg_vm *vm)
{
	char line[256];
	uint64_t lo = (uintptr_t)vm->map, total = 0;
	bool in_vma = false;
	FILE *f = fopen("/proc/self/smaps", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end, kb;

		if (sscanf(line, "%llx-%llx ", &start, &end) == 2) {
			in_vma = start <= lo + vm->map_len && end > lo;
			continue;
		}
		if (in_vma && sscanf(line, "AnonHugePages: %llu kB", &kb) == 1)
			total += kb * 1024;
	}
	fclose(f);
	return total;
}

int mg_vm_host_write_protect(struct mg_vm *vm)
{
	if (mprotect(vm->map, vm->map_len, PROT_READ) ||
	    mprotect(vm->map, vm->map_len, PROT_READ | PROT_WRITE)) {
		snprintf(vm->err, vm->errlen, "mprotect of guest memory: %s", strerror(errno));
		return MG_EXIT_GUEST;
	}
	return 0;
}

void mg_vm_close(struct mg_vm *vm)
{
	if (vm->run)
		munmap(vm->run, vm->run_size);
	if (vm->vcpu_fd >= 0)
		close(vm->vcpu_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->map)
		munmap(vm->map, vm->map_len);
	vm->run = NULL;
	vm->map = NULL;
	vm->kvm_fd = vm->vm_fd = vm->vcpu_fd = -1;
}
