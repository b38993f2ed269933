// SPDX-License-Identifier: GPL-2.0
/*
 * shadowtrace demo: run the micro-guest's scenarios under tracing and print
 * what was observed beside the ground truth. The VMs are the micro-guest
 * program's (tools/microguest), run as child processes: shadowtrace itself
 * never opens /dev/kvm. It links only the micro-guest's scenario names and
 * ground truth (tools/microguest/scenario.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "figures/names.h"
#include "figures/compare.h"
#include "output/figures_json.h"
#include "scenario.h"
#include "cli/session.h"
#include "cli/commands.h"
#include "trace/kernel_view.h"

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

static void skipped(const struct st_options *o, enum mg_scenario sc, const char *why,
		    struct demo_result *res)
{
	res->skipped++;
	if (!o->json)
		printf("scenario %s N=%u: skipped (%s)\n\n", mg_scenario_name(sc), o->n, why);
}

/* @tdp: kernel_kvm_uses_tdp(), read once per demo */
static int run_scenario(struct session *s, const struct st_options *o, const char *microguest,
			enum mg_scenario sc, bool tdp, struct json *j, struct demo_result *res)
{
	const char *const cmd[] = { microguest, NULL };
	int pids[MG_MAX_VMS];
	char prefix[64], err[256] = "";
	struct st_vm_counters want;
	unsigned int n = o->n;
	if (!mg_scenario_nested(sc) && tdp) {
		skipped(o, sc, "KVM maps this host's VMs with EPT/NPT: only nested guests have "
			"shadow pages here, as the nested scenarios show", res);
		return 0;
	}
	snprintf(prefix, sizeof(prefix), "demo-%s", mg_scenario_name(sc));
	int r = mg_run_many(cmd, prefix, sc, n, o->vms, pids, err, sizeof(err));
	if (r == MG_EXIT_PRECONDITION) {
		skipped(o, sc, "precondition not met on this machine; see the message above", res);
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
		struct st_vm_counters vm_want;
		int diffs;

		if (!e) {
			snprintf(none.id.name, sizeof(none.id.name), "(not seen)");
			e = &none;
		}
		/*
		 * Not ground truth: how often KVM retried a split varies from run
		 * to run, and what a mode could not see is the mode's (tests check
		 * both against ftrace and the mode)
		 */
		vm_want = want;
		vm_want.splits[ST_SPLIT_RETRIED] = e->c.splits[ST_SPLIT_RETRIED];
		memcpy(vm_want.unobservable, e->c.unobservable, sizeof(vm_want.unobservable));
		diffs = st_compare(&vm_want, &e->c, NULL);
		res->vms++;
		res->matched += diffs == 0;
		if (j) {
			print_vm_json(j, e, &vm_want, diffs);
			continue;
		}
		printf("scenario %s N=%u, VM %s (pid %u): %s\n", mg_scenario_name(sc), n, e->id.name,
		       e->id.pid, diffs ? "DIFFERS from ground truth" : "matches ground truth");
		if (i == 0 || diffs) {
			struct side_by_side x = { stdout };

			printf("    %-52s %10s %10s\n", "figure", "expected", "observed");
			st_figures_each(&vm_want, &e->c, row, &x);
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

static bool executable_file(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
}

/*
 * The micro-guest program into @out: $SHADOWTRACE_MICROGUEST if set, else
 * the first of microguest beside this executable, tools/microguest/microguest
 * there (the build tree) and ../lib/shadowtrace/microguest (make install).
 * Returns 0, or ST_EXIT_ENV after one line on stderr.
 */
static int find_microguest(char *out, size_t len)
{
	static const char *const rel[] = {
		"microguest", "tools/microguest/microguest", "../lib/shadowtrace/microguest",
	};
	const char *env = getenv("SHADOWTRACE_MICROGUEST");
	char exe[PATH_MAX], *slash;
	ssize_t n;

	if (env && *env) {
		if (executable_file(env)) {
			snprintf(out, len, "%s", env);
			return 0;
		}
		fprintf(stderr, "shadowtrace: demo: SHADOWTRACE_MICROGUEST=%s is not an executable "
			"file: %s\n", env, access(env, F_OK) ? strerror(errno) : "wrong type or mode");
		return ST_EXIT_ENV;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		fprintf(stderr, "shadowtrace: demo: cannot read /proc/self/exe: %s; "
			"set SHADOWTRACE_MICROGUEST to the micro-guest\n", strerror(errno));
		return ST_EXIT_ENV;
	}
	exe[n] = '\0';
	slash = strrchr(exe, '/');	/* the kernel gives an absolute path */
	if (slash)
		*slash = '\0';
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		if ((size_t)snprintf(out, len, "%s/%s", exe, rel[i]) < len && executable_file(out))
			return 0;
	}
	fprintf(stderr, "shadowtrace: demo: no micro-guest: none of microguest, "
		"tools/microguest/microguest, ../lib/shadowtrace/microguest in %s; "
		"set SHADOWTRACE_MICROGUEST\n", exe);
	return ST_EXIT_ENV;
}

/*
 * The demo's VMs need this host's KVM; without it, make demo runs the demo
 * in the test VM. The micro-guest tells (--check-kvm): it, not shadowtrace,
 * opens /dev/kvm.
 */
static int kvm_usable(const char *microguest)
{
	int fds[2], status = 0;
	char why[256] = "";
	size_t got = 0;
	ssize_t r;
	pid_t pid;

	if (pipe(fds)) {
		fprintf(stderr, "shadowtrace: demo: pipe: %s\n", strerror(errno));
		return ST_EXIT_RUNTIME;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "shadowtrace: demo: fork: %s\n", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return ST_EXIT_RUNTIME;
	}
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		close(fds[1]);
		execl(microguest, microguest, "--check-kvm", (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", microguest, strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	while (got < sizeof(why) - 1 &&
	       ((r = read(fds[0], why + got, sizeof(why) - 1 - got)) > 0 || (r < 0 && errno == EINTR)))
		got += r > 0 ? (size_t)r : 0;
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	why[got] = '\0';
	why[strcspn(why, "\n")] = '\0';
	if (WIFEXITED(status) && WEXITSTATUS(status) == MG_EXIT_OK)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == MG_EXIT_NO_KVM) {
		const char *reason = why;

		if (!strncmp(reason, "microguest: ", 12))
			reason += 12;
		fprintf(stderr, "shadowtrace: demo: %s; 'make demo' runs the demo "
			"inside the test VM instead\n", *reason ? reason : "the micro-guest found no usable KVM");
		return ST_EXIT_ENV;
	}
	fprintf(stderr, "shadowtrace: demo: the micro-guest %s does not work (%s)\n", microguest,
		*why ? why : WIFEXITED(status) ? "--check-kvm failed" : "killed by a signal");
	return ST_EXIT_ENV;
}

int st_demo(const struct st_options *o)
{
	struct demo_result res = {};
	struct session s;
	struct json j;
	char microguest[PATH_MAX];
	int r = find_microguest(microguest, sizeof(microguest));

	if (!r)
		r = kvm_usable(microguest);
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
	bool tdp = kernel_kvm_uses_tdp();

	for (int sc = 0; sc < MG_SCENARIOS && !r && !st_stop_signal; sc++)
		if (o->scenario < 0 || o->scenario == sc)
			r = run_scenario(&s, o, microguest, (enum mg_scenario)sc, tdp,
					 o->json ? &j : NULL, &res);
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
