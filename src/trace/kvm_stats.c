// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "trace/kvm_stats.h"

#define KVM_DEBUGFS "/sys/kernel/debug/kvm"

const struct kvm_stat_def kvm_stat_defs[KVM_STATS_N] = {
#define KVM_STAT_DEF(name, counter, help) { #name, counter, help },
	KVM_STATS(KVM_STAT_DEF)
#undef KVM_STAT_DEF
};

/* One decimal number in file @name of directory @dfd. */
static int read_number(int dfd, const char *name, uint64_t *v)
{
	char buf[32], *end;
	ssize_t n;
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	errno = 0;
	*v = strtoull(buf, &end, 10);
	return errno || end == buf || (*end && *end != '\n') ? -EINVAL : 0;
}

/* @root/@dir into @path; a name from the kernel, yet never a path out of @root. */
static int kvm_dir_path(const char *root, const char *dir, char *path, size_t size)
{
	if (!dir[0] || strchr(dir, '/') || !strcmp(dir, ".") || !strcmp(dir, ".."))
		return -EINVAL;
	snprintf(path, size, "%s/%s", root ? root : KVM_DEBUGFS, dir);
	return 0;
}

enum kvm_dir_state kvm_dir_state(const char *root, const char *dir, uint64_t ino)
{
	char path[512];
	struct stat st;

	if (!ino || kvm_dir_path(root, dir, path, sizeof(path)))
		return KVM_DIR_UNKNOWN;
	if (!stat(path, &st))
		return (uint64_t)st.st_ino == ino ? KVM_DIR_LIVE : KVM_DIR_GONE;
	if (errno != ENOENT)
		return KVM_DIR_UNKNOWN;
	/* KVM's debugfs is there, the VM's directory not (or not mounted: who knows) */
	return stat(root ? root : KVM_DEBUGFS, &st) ? KVM_DIR_UNKNOWN : KVM_DIR_GONE;
}

int kvm_stats_read(const char *root, const char *dir, struct kvm_stats *out, double now,
		   uint64_t *ino, uint32_t refused_before)
{
	struct kvm_stats s = { .read_at = now };
	char path[512];
	struct stat st;
	int dfd;

	if (kvm_dir_path(root, dir, path, sizeof(path)))
		return -EINVAL;
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fstat(dfd, &st)) {
		close(dfd);
		return -errno;
	}
	if (*ino && *ino != (uint64_t)st.st_ino) {
		close(dfd);
		return -ESTALE;
	}
	*ino = st.st_ino;
	for (int i = 0; i < KVM_STATS_N; i++) {
		int r = refused_before & (1u << i) ? -EPERM :
			read_number(dfd, kvm_stat_defs[i].name, &s.v[i]);

		if (!r)
			s.present |= 1u << i;
		else if (r == -EPERM || r == -EACCES)
			s.refused |= 1u << i;
	}
	close(dfd);
	if (!s.present && !s.refused)
		return -ENOENT;	/* gone while we read, or not KVM's */
	*out = s;
	return 0;
}
