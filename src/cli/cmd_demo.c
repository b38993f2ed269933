// SPDX-License-Identifier: GPL-2.0
/*
 * shadowtrace demo: run the built-in micro-guest scenarios under tracing
 * and print what was observed beside the ground truth.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include "figures/names.h"
#include "figures/compare.h"
#include "figures/figures_json.h"
#include "microguest.h"
#include "trace/session.h"
#include "cli/commands.h"

struct side_by_side {
	FILE *f;
};

static void row(const char *name, uint64_t want, uint64_t got, void *arg)
{
	struct side_by_side *x = arg;

	if (!want && !got)
		return;
	fprintf(x->f, "    %-52s %10" PRIu64 " %10" PRIu64 "  %s\n", name, want, got,
		want == got ? "ok" : "DIFFERS");
}

struct demo_result {
	unsigned int vms, matched, skipped;
};

static void print_vm_json(struct json *j, const struct vm_entry *e,
			  const struct st_vm_counters *want, int diffs)
{
	json_obj_begin(j, NULL);
	json_u64(j, "pid", e->id.pid);
	json_str(j, "name", e->id.name);
	json_bool(j, "match", diffs == 0);
	json_u64(j, "differences", (uint64_t)diffs);
	json_obj_begin(j, "observed");
	st_json_vm_figures(j, &e->c);
	json_obj_end(j);
	json_obj_begin(j, "expected");
	st_json_vm_figures(j, want);
	json_obj_end(j);
	json_obj_end(j);
}

static int run_scenario(struct session *s, const struct st_options *o, enum mg_scenario sc,
			struct json *j, struct demo_result *res)
{
	const char *const self[] = { "/proc/self/exe", "guest", NULL };
	int pids[MG_MAX_VMS];
	char prefix[64], err[256] = "";
	struct st_vm_counters want;
	unsigned int n = o->n;
	snprintf(prefix, sizeof(prefix), "demo-%s", mg_scenario_name(sc));
	int r = mg_run_many(self, prefix, sc, n, o->vms, pids, err, sizeof(err));
	if (r == MG_EXIT_PRECONDITION) {
		res->skipped++;
		if (!o->json)
			printf("scenario %s N=%u: skipped (%s)\n\n", mg_scenario_name(sc), n,
			       "precondition not met on this machine; see the message above");
		return 0;
	}
	if (r) {
		fprintf(stderr, "shadowtrace: demo scenario %s: micro-guest failed: %s\n",
			mg_scenario_name(sc), err);
		return ST_EXIT_RUNTIME;
	}
	session_refresh(s);
	mg_expect(sc, n, &want);
	if (j) {
		json_obj_begin(j, NULL);
		json_str(j, "scenario", mg_scenario_name(sc));
		json_u64(j, "n", n);
		json_arr_begin(j, "vms");
	}
	for (unsigned int i = 0; i < o->vms; i++) {
		struct vm_entry *e = vm_table_find_pid(&s->table, (uint32_t)pids[i], 0);
		struct vm_entry none = { .id.pid = (uint32_t)pids[i] };
		int diffs;

		if (!e) {
			snprintf(none.id.name, sizeof(none.id.name), "(not seen)");
			e = &none;
		}
		diffs = st_compare(&want, &e->c, NULL);
		res->vms++;
		res->matched += diffs == 0;
		if (j) {
			print_vm_json(j, e, &want, diffs);
			continue;
		}
		printf("scenario %s N=%u, VM %s (pid %u): %s\n", mg_scenario_name(sc), n, e->id.name,
		       e->id.pid, diffs ? "DIFFERS from ground truth" : "matches ground truth");
		if (i == 0 || diffs) {
			struct side_by_side x = { stdout };

			printf("    %-52s %10s %10s\n", "figure", "expected", "observed");
			st_figures_each(&want, &e->c, row, &x);
		}
		putchar('\n');
	}
	if (j) {
		json_arr_end(j);
		json_obj_end(j);
	}
	vm_table_release_exited(&s->table, s->tracer, st_now());
	return 0;
}

/* The demo's VMs need this host's KVM; without it, make demo runs the demo in the test VM. */
static int kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int version = fd < 0 ? -1 : ioctl(fd, KVM_GET_API_VERSION, 0);

	if (fd < 0 || version != KVM_API_VERSION) {
		fprintf(stderr, "shadowtrace: demo: %s /dev/kvm%s%s; 'make demo' runs the demo "
			"inside the test VM instead\n", fd < 0 ? "cannot open" : "no KVM behind",
			fd < 0 ? ": " : "", fd < 0 ? strerror(errno) : "");
		if (fd >= 0)
			close(fd);
		return ST_EXIT_ENV;
	}
	close(fd);
	return 0;
}

int st_demo(const struct st_options *o)
{
	struct demo_result res = {};
	struct session s;
	struct json j;
	int r = kvm_usable();

	if (r)
		return r;
	r = session_start(&s, o);

	if (r)
		return r;
	st_install_signals();
	if (o->json) {
		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_str(&j, "version", ST_VERSION);
		json_str(&j, "attach_mode", s.rep.attach_mode);
		json_str(&j, "kernel", s.kernel);
		json_arr_begin(&j, "scenarios");
	} else {
		printf("shadowtrace demo: %s mode, kernel %s; micro-guest VMs with known shadow-MMU events\n\n",
		       s.rep.attach_mode, s.kernel);
	}
	for (int sc = 0; sc < MG_SCENARIOS && !r && !st_stop_signal; sc++)
		if (o->scenario < 0 || o->scenario == sc)
			r = run_scenario(&s, o, (enum mg_scenario)sc, o->json ? &j : NULL, &res);
	session_refresh(&s);
	uint64_t dropped = 0;
	for (int d = 0; d < ST_DROPS; d++)
		dropped += s.rep.drops[d];
	if (o->json) {
		json_arr_end(&j);
		json_u64(&j, "vms", res.vms);
		json_u64(&j, "matched", res.matched);
		json_u64(&j, "skipped_scenarios", res.skipped);
		json_obj_begin(&j, "dropped");
		for (int d = 0; d < ST_DROPS; d++)
			json_u64(&j, st_drop_names[d], s.rep.drops[d]);
		json_obj_end(&j);
		json_obj_end(&j);
		putchar('\n');
	} else {
		printf("%u of %u VMs match the ground truth exactly%s; events dropped: %" PRIu64 "\n",
		       res.matched, res.vms, res.skipped ? " (some scenarios skipped)" : "", dropped);
	}
	session_end(&s);
	if (r)
		return r;
	if (st_stop_signal)
		return ST_EXIT_OK;
	return res.matched == res.vms && res.vms ? ST_EXIT_OK : ST_EXIT_MISMATCH;
}
