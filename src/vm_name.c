// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>

#include "vm_name.h"

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
	/* keep names printable: they become labels and JSON strings */
	for (size_t i = 0; i < n; i++)
		out[i] = (start[i] >= 0x20 && start[i] < 0x7f) ? start[i] : '?';
	out[n] = 0;
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

void st_vm_name(pid_t pid, char *out, size_t outlen)
{
	char path[64], buf[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	f = fopen(path, "re");
	if (f) {
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		if (st_name_from_cmdline(buf, n, out, outlen))
			return;
	}
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(buf, sizeof(buf), f)) {
			buf[strcspn(buf, "\n")] = 0;
			fclose(f);
			if (buf[0]) {
				snprintf(out, outlen, "%s", buf);
				for (char *c = out; *c; c++)
					if (*c < 0x20 || *c == 0x7f)
						*c = '?';
				return;
			}
		} else {
			fclose(f);
		}
	}
	snprintf(out, outlen, "pid-%d", (int)pid);
}
