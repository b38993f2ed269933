// SPDX-License-Identifier: GPL-2.0
/* The main job: trace live VMs, report and export per interval and at the end. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "output/http.h"
#include "output/prom.h"
#include "output/atomic_file.h"
#include "record/recorder.h"
#include "cli/session.h"
#include "cli/commands.h"

#define DEFAULT_EXPORT_INTERVAL 15

struct tracing {
	struct session s;
	const struct st_options *o;
	struct out_file prom;
	struct http *http;	/* --listen: serves what publish_metrics() hands it */
	struct recorder rec;
	struct rec_summary rec_sum;	/* shown in the reports while recording */
	bool recording;
	bool progress_shown;	/* a progress line is on the terminal */
	double keep_s;
};

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
static int reap(pid_t child)
{
	int status = 0;

	kill(child, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(child, &status, WNOHANG) == child)
			return status;
		usleep(50000);
	}
	kill(child, SIGKILL);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A scrape asked for fresh figures: render them for the server thread. */
static void publish_metrics(struct tracing *x)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	session_refresh(&x->s);
	f = open_memstream(&text, &len);
	if (!f)
		return;
	prom_render(f, &x->s.rep, &x->s.table, wall_now());
	if (fclose(f)) {
		free(text);
		return;
	}
	http_publish(x->http, text, len);
}

static int export_prom(struct tracing *x)
{
	return x->o->prom_file ? prom_write_file(&x->prom, &x->s.rep, &x->s.table, wall_now()) : 0;
}

/*
 * Every 100 ms: free the BPF slots of VMs whose process is gone, so that
 * --max-vms bounds VMs alive at once, not VMs seen. Their figures stay in
 * the table for the next report. Costs a scan of at most --max-vms slots.
 */
#define HOUSEKEEPING_S 0.1
static void housekeeping(struct tracing *x)
{
	session_refresh(&x->s);
	vm_table_release_exited(&x->s.table, x->s.tracer, st_now());
}

/*
 * record on a terminal: once a second, one line on stderr (redrawn) of what
 * was recorded and lost so far, as libbpf-tools' long runs do.
 */
static void show_progress(struct tracing *x, bool last)
{
	uint64_t lost = 0;

	if (!x->recording || !isatty(STDERR_FILENO))
		return;
	session_refresh(&x->s);
	recorder_summary(&x->rec, &x->s.rep, false, &x->rec_sum);
	for (int e = 1; e < ST_EV_TYPES; e++)
		lost += x->rec_sum.lost[e];
	fprintf(stderr, "\rrecording: %" PRIu64 " records, %.1f MiB, %" PRIu64 " events lost, %.0f s%s",
		x->rec_sum.records, recorder_bytes(&x->rec) / 1048576.0, lost, st_now() - x->s.start,
		last ? "\n" : "");
	x->progress_shown = !last;
}

/* One interval: report (with -i), export; a daemon then forgets old exits. */
static void tick(struct tracing *x)
{
	if (x->recording)
		recorder_summary(&x->rec, &x->s.rep, false, &x->rec_sum);
	if (x->o->interval_s) {
		session_report(&x->s, x->o, false);
		vm_table_mark_reported(&x->s.table);
	}
	export_prom(x);
	if (!x->o->command)	/* shown once more, kept --prom-keep, then gone */
		vm_table_forget_exited(&x->s.table, st_now(), x->keep_s);
}

static int open_outputs(struct tracing *x)
{
	const struct st_options *o = x->o;
	char err[256];
	bool usage;

	if (o->prom_file) {
		const char *why = out_file_init(&x->prom, o->prom_file);

		if (why) {
			fprintf(stderr, "shadowtrace: --prom-file '%s': %s\n", o->prom_file, why);
			return ST_EXIT_USAGE;
		}
	}
	if (o->listen && !(x->http = http_start(o->listen, o->listen_public, err, sizeof(err), &usage))) {
		fprintf(stderr, "shadowtrace: %s\n", err);
		return usage ? ST_EXIT_USAGE : ST_EXIT_RUNTIME;
	}
	return 0;
}

int st_trace(const struct st_options *o)
{
	struct tracing x = { .o = o };
	pid_t child = -1;
	int status = 0, r, export_err;
	bool child_done = false, failed = false;
	char err[256];
	uint32_t every = o->interval_s ? o->interval_s :
			 (o->prom_file || o->listen ? DEFAULT_EXPORT_INTERVAL : 0);
	double next, next_housekeeping, next_progress;

	x.keep_s = o->prom_keep_set ? o->prom_keep_s : every;
	st_install_signals();
	r = open_outputs(&x);
	if (!r)
		r = session_start(&x.s, o);
	if (r) {
		http_stop(x.http);
		return r;
	}
	if (o->output) {
		if (recorder_start(&x.rec, o->output, &x.s.rep, x.s.tracer, x.s.start, wall_now())) {
			recorder_close(&x.rec);
			session_end(&x.s);
			return ST_EXIT_RUNTIME;
		}
		x.recording = true;
		x.s.rep.recording = &x.rec_sum;
		recorder_summary(&x.rec, &x.s.rep, false, &x.rec_sum);
	}
	if (o->command) {
		child = spawn_shell(o->command);
		if (child < 0) {
			fprintf(stderr, "shadowtrace: fork: %s\n", strerror(errno));
			if (x.recording)
				recorder_close(&x.rec);
			session_end(&x.s);
			http_stop(x.http);
			return ST_EXIT_RUNTIME;
		}
	}
	/* attached, the -c command started with our privileges: need none now */
	if (st_drop_privileges())
		fprintf(stderr, "shadowtrace: cannot drop privileges: %s (continuing)\n", strerror(errno));
	if (x.http && http_serve(x.http, err, sizeof(err))) {
		fprintf(stderr, "shadowtrace: %s\n", err);
		failed = true;
	}
	if (x.http)	/* the first scrape need not wait */
		publish_metrics(&x);
	/* on stderr, also with --json: scripts wait for this line */
	fprintf(stderr, "Tracing KVM shadow MMU (%s mode)... %s\n", x.s.rep.attach_mode,
		o->command ? "until the command exits." : "Hit Ctrl-C to end.");
	next = x.s.start + every;
	next_housekeeping = x.s.start + HOUSEKEEPING_S;
	next_progress = x.s.start + 1;
	while (!st_stop_signal && !failed) {
		struct pollfd pfd[2] = { { .fd = http_want_fd(x.http), .events = POLLIN },
					 { .fd = x.recording ? recorder_fd(&x.rec) : -1, .events = POLLIN } };

		if (child > 0 && waitpid(child, &status, WNOHANG) == child) {
			child_done = true;
			break;
		}
		if (o->duration_s && st_now() - x.s.start >= o->duration_s)
			break;
		double now = st_now();
		bool report_due = every && now >= next;

		/* a report wants fresh figures too: one refresh serves both */
		if (report_due || now >= next_housekeeping) {
			housekeeping(&x);
			next_housekeeping = now + HOUSEKEEPING_S;
		}
		if (report_due) {
			if (x.progress_shown)	/* the report starts on a line of its own */
				fputc('\n', stderr);
			tick(&x);
			next += every;
		}
		if (now >= next_progress) {
			show_progress(&x, false);
			next_progress = now + 1;
		}
		/* the events ring is drained on this 50 ms beat, or when half full */
		if (poll(pfd, 2, 50) > 0 && (pfd[0].revents & POLLIN))
			publish_metrics(&x);
		if (x.recording)
			recorder_poll(&x.rec);
	}
	if (x.progress_shown)
		show_progress(&x, true);
	if (child > 0 && !child_done)
		status = reap(child);
	tracer_detach(x.s.tracer);
	session_refresh(&x.s);
	export_err = 0;
	if (x.recording) {	/* first, so that the final report says how it went */
		export_err = recorder_finish(&x.rec, &x.s.rep, &x.s.table);
		recorder_summary(&x.rec, &x.s.rep, !export_err, &x.rec_sum);
	}
	session_report(&x.s, o, true);
	export_err |= export_prom(&x);
	if (x.recording)
		recorder_close(&x.rec);
	vm_table_release_exited(&x.s.table, x.s.tracer, st_now());
	session_end(&x.s);
	http_stop(x.http);
	if (export_err || failed)
		return ST_EXIT_RUNTIME;
	/* a command ended by us (-d, a signal) did not fail */
	if (child_done && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		fprintf(stderr, "shadowtrace: command failed (%s %d)\n",
			WIFEXITED(status) ? "exit status" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return ST_EXIT_CMD;
	}
	return ST_EXIT_OK;
}
