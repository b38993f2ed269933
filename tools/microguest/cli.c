// SPDX-License-Identifier: GPL-2.0
/*
 * microguest [-name guest=NAME] [--vms K] [--serial K] [--kvm-stats FILE] [--hold-ms MS]
 *            [--linger-ms MS] [--no-thp] [--expect] SCENARIO N
 * microguest --check-kvm
 *
 * Runs a scripted shadow-MMU scenario in a tiny VM (or K VMs, one process
 * each, or K VMs one after another in this one); with --expect it prints
 * the ground truth of one VM as JSON; --check-kvm only says (exit 0 or 3,
 * and why on stderr) whether /dev/kvm works. shadowtrace's demo runs this
 * program; it has no VMM of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "microguest.h"
#include "output/figures_json.h"

static int usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-name guest=NAME] [--vms K] [--pause-after K] [--passes K] [--serial K] [--kvm-stats FILE] [--hold-ms MS] [--linger-ms MS] [--no-thp] [--host-write-protect] [--timing] [--expect] SCENARIO N\n"
		"       %s --check-kvm\n"
		"scenarios: fault-churn sync-flip remap hugepage-dirtylog prefetch reuse sync-keep\n"
		"  nested (L1 with SVM and NPT runs an L2): nested-fault-churn nested-hugepage-dirtylog\n"
		"    nested-sync-flip nested-remap nested-hugepage-alias nested-clear-dirtylog\n"
		"    nested-hugetlb-dirtylog\n", prog, prog);
	return MG_EXIT_USAGE;
}

/* A milliseconds option's value @arg into *@ms: 0..600000, else one line and -1. */
static int ms_option(const char *opt, const char *arg, unsigned int *ms)
{
	char *end;

	*ms = (unsigned int)strtoul(arg, &end, 10);
	if (*end || *ms > 600000) {
		fprintf(stderr, "microguest: %s must be 0..600000\n", opt);
		return -1;
	}
	return 0;
}

int mg_main(int argc, char **argv, const char *const *self_cmd)
{
	const char *name = "microguest";
	unsigned int vms = 0, serial = 1, linger_ms = 0, n;
	bool expect = false, timing = false, check_kvm = false;
	uint64_t guest_ns = 0;
	enum mg_scenario s;
	char err[256] = "", *end;
	int i = 1, r;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-name") && i + 1 < argc) {
			name = argv[++i];
			if (!strncmp(name, "guest=", 6))
				name += 6;
		} else if (!strcmp(argv[i], "--vms") && i + 1 < argc) {
			vms = (unsigned int)strtoul(argv[++i], &end, 10);
			if (*end || !vms || vms > MG_MAX_VMS) {
				fprintf(stderr, "microguest: --vms must be 1..%d\n", MG_MAX_VMS);
				return MG_EXIT_USAGE;
			}
		} else if (!strcmp(argv[i], "--pause-after") && i + 1 < argc) {
			mg_pause_after = (unsigned int)strtoul(argv[++i], &end, 10);
			if (*end || !mg_pause_after) {
				fprintf(stderr, "microguest: --pause-after needs a routine count\n");
				return MG_EXIT_USAGE;
			}
		} else if (!strcmp(argv[i], "--passes") && i + 1 < argc) {
			mg_passes = (unsigned int)strtoul(argv[++i], &end, 10);
			if (*end || mg_passes < 1 || mg_passes > 100000) {
				fprintf(stderr, "microguest: --passes must be 1..100000\n");
				return MG_EXIT_USAGE;
			}
		} else if (!strcmp(argv[i], "--serial") && i + 1 < argc) {
			serial = (unsigned int)strtoul(argv[++i], &end, 10);
			if (*end || !serial || serial > 1000) {
				fprintf(stderr, "microguest: --serial must be 1..1000\n");
				return MG_EXIT_USAGE;
			}
		} else if (!strcmp(argv[i], "--kvm-stats") && i + 1 < argc) {
			mg_stats_path = argv[++i];
		} else if (!strcmp(argv[i], "--hold-ms") && i + 1 < argc) {
			if (ms_option(argv[i], argv[i + 1], &mg_hold_ms))
				return MG_EXIT_USAGE;
			i++;
		} else if (!strcmp(argv[i], "--linger-ms") && i + 1 < argc) {
			/* a VMM that outlives its VMs: this process, once they are closed */
			if (ms_option(argv[i], argv[i + 1], &linger_ms))
				return MG_EXIT_USAGE;
			i++;
		} else if (!strcmp(argv[i], "--no-thp")) {
			mg_no_thp = true;
		} else if (!strcmp(argv[i], "--host-write-protect")) {
			mg_host_write_protect = true;
		} else if (!strcmp(argv[i], "--timing")) {
			timing = true;
		} else if (!strcmp(argv[i], "--expect")) {
			expect = true;
		} else if (!strcmp(argv[i], "--check-kvm")) {
			check_kvm = true;
		} else {
			return usage(argv[0]);
		}
	}
	if (check_kvm) {
		if (argc - i != 0)
			return usage(argv[0]);
		r = mg_kvm_check(err, sizeof(err));
		if (r)
			fprintf(stderr, "microguest: %s\n", err);
		return r;
	}
	if (argc - i != 2)
		return usage(argv[0]);
	if (mg_scenario_parse(argv[i], &s)) {
		fprintf(stderr, "microguest: unknown scenario '%s'\n", argv[i]);
		return MG_EXIT_USAGE;
	}
	n = (unsigned int)strtoul(argv[i + 1], &end, 10);
	if (*end || mg_check_n(s, n)) {
		fprintf(stderr, "microguest: %s\n", *end ? "N must be a number" : mg_check_n(s, n));
		return MG_EXIT_USAGE;
	}

	if (expect) {
		/* ground truth only: deterministic from scenario and N */
		struct st_vm_counters c;

		mg_expect(s, n, &c);
		st_json_vm_counters(stdout, &c);
		fputc('\n', stdout);
		return MG_EXIT_OK;
	}
	if (vms) {
		r = mg_run_many(self_cmd, name, s, n, vms, NULL, err, sizeof(err));
	} else {
		/* --serial: VM after VM in this process, each closed before the next */
		r = 0;
		for (unsigned int k = 0; k < serial && !r; k++)
			r = mg_run(s, n, &guest_ns, err, sizeof(err));
		if (!r && timing) {
			struct st_vm_counters c;
			uint64_t faults = 0;

			mg_expect(s, n, &c);
			for (int k = 0; k < ST_KINDS; k++)
				for (int l = 0; l < ST_LEVELS; l++)
					faults += c.writes[ST_ORIGIN_FAULT][k][l];
			printf("{\"scenario\":\"%s\",\"n\":%u,\"faults\":%llu,\"guest_ns\":%llu}\n",
			       mg_scenario_name(s), n, (unsigned long long)faults,
			       (unsigned long long)guest_ns);
		}
	}
	if (r)
		fprintf(stderr, "microguest: %s\n", err);
	else if (linger_ms)
		usleep(linger_ms * 1000);
	return r;
}
