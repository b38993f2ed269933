// SPDX-License-Identifier: GPL-2.0
/*
 * Several micro-guest VMs at once, one process each, each with its own name:
 * run by the micro-guest (--vms) and by shadowtrace's demo. It only forks
 * and execs a micro-guest; the VMs are created there.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scenario.h"

int mg_run_many(const char *const *cmd, const char *name_prefix,
		enum mg_scenario s, unsigned int n, unsigned int vms,
		int *pids_out, char *err, size_t errlen)
{
	pid_t pids[MG_MAX_VMS];
	unsigned int started = 0;
	int worst = MG_EXIT_OK;
	char nbuf[16], passes[16];

	if (vms < 1 || vms > MG_MAX_VMS) {
		snprintf(err, errlen, "--vms must be between 1 and %d", MG_MAX_VMS);
		return MG_EXIT_USAGE;
	}
	snprintf(nbuf, sizeof(nbuf), "%u", n);
	snprintf(passes, sizeof(passes), "%u", mg_passes);
	for (; started < vms; started++) {
		char name[96];
		const char *argv[16];
		int argc = 0;

		snprintf(name, sizeof(name), "guest=%s-%u", name_prefix, started + 1);
		for (; cmd[argc] && argc < 10; argc++)
			argv[argc] = cmd[argc];
		argv[argc++] = "-name";
		argv[argc++] = name;
		argv[argc++] = "--passes";
		argv[argc++] = passes;
		argv[argc++] = mg_scenario_name(s);
		argv[argc++] = nbuf;
		argv[argc] = NULL;

		pid_t pid = fork();
		if (pid < 0) {
			snprintf(err, errlen, "fork: %s", strerror(errno));
			worst = MG_EXIT_GUEST;
			break;
		}
		if (pid == 0) {
			execv(argv[0], (char *const *)argv);
			fprintf(stderr, "microguest: exec %s: %s\n", argv[0], strerror(errno));
			_exit(MG_EXIT_GUEST);
		}
		pids[started] = pid;
		if (pids_out)
			pids_out[started] = pid;
	}
	for (unsigned int i = 0; i < started; i++) {
		int status;

		while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
			;
		int code = WIFEXITED(status) ? WEXITSTATUS(status) : MG_EXIT_GUEST;
		if (code > worst) {
			worst = code;
			snprintf(err, errlen, "VM %u of %u failed (status %d)", i + 1, vms, code);
		}
		if (pids_out && code)
			pids_out[i] = -code;	/* tell the caller which ones failed */
	}
	return worst;
}
