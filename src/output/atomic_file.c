// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "output/atomic_file.h"

const char *out_file_init(struct out_file *o, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) : 0;

	memset(o, 0, sizeof(*o));
	if (!path[0] || (slash && !slash[1]))
		return "needs a file name, not a directory";
	if (strlen(path) >= sizeof(o->path) || strlen(slash ? slash + 1 : path) >= sizeof(o->base) - 32)
		return "path too long";
	snprintf(o->path, sizeof(o->path), "%s", path);
	snprintf(o->base, sizeof(o->base), "%s", slash ? slash + 1 : path);
	if (!slash)
		snprintf(o->dir, sizeof(o->dir), ".");
	else if (!dlen)
		snprintf(o->dir, sizeof(o->dir), "/");
	else
		snprintf(o->dir, sizeof(o->dir), "%.*s", (int)dlen, path);
	return NULL;
}

static int failed(struct out_file *o, const char *stage, int err)
{
	if (o->last_err != err || o->last_stage != stage)
		fprintf(stderr, "shadowtrace: cannot %s %s: %s (previous file kept; retrying)\n",
			stage, o->path, strerror(err));
	o->last_err = err;
	o->last_stage = stage;
	return -err;
}

int out_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!n)
				errno = EIO;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int out_file_replace(struct out_file *o, const char *data, size_t len)
{
	char tmp[320];
	int dfd, fd, err = 0;
	const char *stage = "write";

	/* a dot name without .prom: node_exporter never reads it half-written */
	snprintf(tmp, sizeof(tmp), ".%s.%d.tmp", o->base, (int)getpid());
	dfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return failed(o, "open directory of", errno);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 && errno == EEXIST) {	/* left by a crash of this pid */
		unlinkat(dfd, tmp, 0);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	}
	if (fd < 0) {
		err = errno;
		close(dfd);
		return failed(o, "create a temporary file for", err);
	}
	if (fchmod(fd, 0644) || out_write_all(fd, data, len) || fsync(fd)) {
		err = errno;
	}
	if (close(fd) && !err)
		err = errno;
	if (!err && renameat(dfd, tmp, dfd, o->base)) {
		err = errno;
		stage = "replace";
	}
	if (err) {
		unlinkat(dfd, tmp, 0);
		close(dfd);
		return failed(o, stage, err);
	}
	fsync(dfd);
	close(dfd);
	if (o->last_err)
		fprintf(stderr, "shadowtrace: %s written again\n", o->path);
	o->last_err = 0;
	o->last_stage = NULL;
	return 0;
}
