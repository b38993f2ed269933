// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/utsname.h>

#include "cli/session.h"

/* KVM's own statistics of a live VM are read this often (README). */
#define KVM_STATS_PERIOD_S	1.0

volatile sig_atomic_t st_stop_signal;

static void on_signal(int sig)
{
	st_stop_signal = sig;
}

void st_install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int session_start(struct session *s, const struct st_options *o)
{
	struct utsname u;
	int status = 0;

	memset(s, 0, sizeof(*s));
	if (vm_table_init(&s->table)) {
		fprintf(stderr, "shadowtrace: out of memory\n");
		return ST_EXIT_RUNTIME;
	}
	s->tracer = tracer_start(&o->lim, &status);
	if (!s->tracer) {
		vm_table_free(&s->table);
		return status;
	}
	snprintf(s->kernel, sizeof(s->kernel), "%s", uname(&u) ? "unknown" : u.release);
	s->rep.attach_mode = tracer_attach_mode(s->tracer);
	s->rep.access_known = tracer_cache_has_access(s->tracer);
	s->rep.kernel = s->kernel;
	s->rep.limits = *tracer_limits(s->tracer);
	s->rep.map_bytes = tracer_map_bytes(s->tracer);
	s->rep.mmu_known = true;
	s->rep.top = o->top;
	s->start = st_now();
	return 0;
}

void session_refresh(struct session *s)
{
	struct st_drops d;
	double now;

	if (vm_table_refresh(&s->table, s->tracer))
		fprintf(stderr, "shadowtrace: cannot read BPF maps\n");
	tracer_drops(s->tracer, &d);
	memcpy(s->rep.drops, d.n, sizeof(s->rep.drops));
	memcpy(s->rep.usage, d.usage, sizeof(s->rep.usage));
	memcpy(s->rep.lost, d.lost, sizeof(s->rep.lost));
	memcpy(s->rep.tdp_mmu_pages, d.tdp_mmu_pages, sizeof(s->rep.tdp_mmu_pages));
	s->rep.vm_slots_used = 0;
	for (unsigned int i = 0; i < s->table.n; i++)
		s->rep.vm_slots_used += !s->table.vms[i].released;
	now = st_now();
	s->rep.elapsed_s = now - s->start;
	vm_table_read_kvm_stats(&s->table, now, KVM_STATS_PERIOD_S);
	s->rep.vms_forgotten = s->table.forgotten;
}

void session_report(struct session *s, const struct st_options *o, bool final)
{
	s->rep.final = final;
	if (o->json)
		report_json(stdout, &s->rep, &s->table);
	else
		report_text(stdout, &s->rep, &s->table);
}

void session_end(struct session *s)
{
	tracer_stop(s->tracer);
	s->tracer = NULL;
	vm_table_free(&s->table);
}
