// SPDX-License-Identifier: GPL-2.0
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "trace/vm_name.h"

static void printable(char *s);

/* QEMU option syntax: "guest=NAME,debug-threads=on" or plain "NAME". */
static bool name_value(const char *v, char *out, size_t outlen)
{
	const char *start = v, *end;

	if (!strncmp(v, "guest=", 6))
		start = v + 6;
	else {
		/* a bare value unless its first element is key=value */
		const char *eq = strchr(v, '='), *comma = strchr(v, ',');
		if (eq && (!comma || eq < comma))
			return false;
	}
	end = strchr(start, ',');
	size_t n = end ? (size_t)(end - start) : strlen(start);
	if (!n)
		return false;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, start, n);
	out[n] = 0;
	printable(out);	/* names become labels and JSON strings */
	return true;
}

bool st_name_from_cmdline(const char *cmdline, size_t len, char *out, size_t outlen)
{
	const char *p = cmdline, *end = cmdline + len;

	if (!outlen)
		return false;
	while (p < end) {
		const char *arg = p;
		size_t alen = strnlen(arg, (size_t)(end - arg));
		const char *next = arg + alen + 1;

		if (!strncmp(arg, "-name=", 6) || !strncmp(arg, "--name=", 7)) {
			if (name_value(strchr(arg, '=') + 1, out, outlen))
				return true;
		} else if ((!strcmp(arg, "-name") || !strcmp(arg, "--name")) && next < end) {
			if (name_value(next, out, outlen))
				return true;
		}
		p = next;
	}
	return false;
}

static void printable(char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s == 0x7f)
			*s = '?';
}

void st_vm_name_from(const char *cmdline, size_t len, const char *comm, pid_t pid,
		     char *out, size_t outlen)
{
	if (st_name_from_cmdline(cmdline, len, out, outlen))
		return;
	if (comm && comm[0]) {
		snprintf(out, outlen, "%s", comm);
		printable(out);
		return;
	}
	snprintf(out, outlen, "pid-%d", (int)pid);
}

void st_vm_name_live(const char *cmdline, size_t len, const char *comm, pid_t pid,
		     char *out, size_t outlen)
{
	char path[32], buf[512];
	ssize_t n = 0;
	int fd;

	if (!len && pid > 0) {
		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			n = read(fd, buf, sizeof(buf));
			close(fd);
		}
		if (n > 0) {
			cmdline = buf;
			len = (size_t)n;
		}
	}
	st_vm_name_from(cmdline, len, comm, pid, out, outlen);
}
