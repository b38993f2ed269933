// SPDX-License-Identifier: GPL-2.0
/* The main job: trace live VMs, report per interval and at the end. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "session.h"
#include "trace.h"

static pid_t spawn_shell(const char *cmd)
{
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		fprintf(stderr, "shadowtrace: cannot run /bin/sh: %s\n", strerror(errno));
		_exit(127);
	}
	return pid;
}

/* Ends a still-running -c command: SIGTERM, then SIGKILL after 5 s. */
static int reap(pid_t child, bool running)
{
	int status = 0;

	if (running) {
		kill(child, SIGTERM);
		for (int i = 0; i < 100; i++) {
			if (waitpid(child, &status, WNOHANG) == child)
				return status;
			usleep(50000);
		}
		kill(child, SIGKILL);
	}
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

int st_trace(const struct st_options *o)
{
	struct session s;
	pid_t child = -1;
	int status = 0, r;
	bool child_done = false;
	double next;

	st_install_signals();
	r = session_start(&s, o);
	if (r)
		return r;
	if (o->command) {
		child = spawn_shell(o->command);
		if (child < 0) {
			fprintf(stderr, "shadowtrace: fork: %s\n", strerror(errno));
			session_end(&s);
			return ST_EXIT_RUNTIME;
		}
	}
	/* on stderr, also with --json: scripts wait for this line */
	fprintf(stderr, "Tracing KVM shadow MMU (%s mode)... %s\n", s.rep.attach_mode,
		o->command ? "until the command exits." : "Hit Ctrl-C to end.");
	next = s.start + o->interval_s;
	while (!st_stop_signal) {
		struct timespec nap = { 0, 50 * 1000 * 1000 };

		if (child > 0 && waitpid(child, &status, WNOHANG) == child) {
			child_done = true;
			break;
		}
		if (o->duration_s && st_now() - s.start >= o->duration_s)
			break;
		if (o->interval_s && st_now() >= next) {
			session_refresh(&s);
			session_report(&s, o, false);
			vm_table_release_exited(&s.table, s.tracer);
			if (!o->command)	/* a daemon forgets exited VMs */
				vm_table_forget_released(&s.table);
			next += o->interval_s;
		}
		nanosleep(&nap, NULL);
	}
	if (child > 0 && !child_done)
		status = reap(child, true);
	session_refresh(&s);
	session_report(&s, o, true);
	vm_table_release_exited(&s.table, s.tracer);
	session_end(&s);
	if (child > 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0) && !st_stop_signal) {
		fprintf(stderr, "shadowtrace: command failed (%s %d)\n",
			WIFEXITED(status) ? "exit status" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return ST_EXIT_CMD;
	}
	return ST_EXIT_OK;
}
