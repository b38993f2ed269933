/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Atomic replacement of an output file: a temporary file in the same
 * directory (O_EXCL|O_NOFOLLOW, mode 0644), fsync, rename, fsync of the
 * directory. On failure the previous file stays intact and no temporary
 * file is left; each failure condition is reported once, and recovery too.
 */
#ifndef SHADOWTRACE_PROM_FILE_H
#define SHADOWTRACE_PROM_FILE_H

#include <stdbool.h>
#include <stddef.h>

struct out_file {
	char dir[4096];
	char base[256];
	char path[4096];
	int last_err;		/* errno of the condition already reported, 0 if ok */
	const char *last_stage;
};

/* Checks the shape of @path (not its existence); returns an error or NULL. */
const char *out_file_init(struct out_file *o, const char *path);
/* Writes all of @data to @fd (retrying short writes): 0 or -errno. */
int out_write_all(int fd, const void *data, size_t len);
/* Returns 0 or -errno; prints one line per new failure condition. */
int out_file_replace(struct out_file *o, const char *data, size_t len);

#endif
