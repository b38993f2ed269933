// SPDX-License-Identifier: GPL-2.0
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "cli/options.h"

const char *argp_program_version = "shadowtrace " ST_VERSION;
const char *argp_program_bug_address = "the shadowtrace issue tracker";

static const char doc[] =
"Trace KVM's shadow MMU translation cache (kvm_mmu_page.shadowed_translation)\n"
"per VM: translation writes, access-bit churn, gfn mismatches, sync and split.\n"
"\n"
"USAGE: shadowtrace [OPTION...]          trace all VMs until Ctrl-C\n"
"       shadowtrace record -o FILE [OPTION...]\n"
"                                        trace, and record every event\n"
"       shadowtrace report FILE [--json] [--prom-file PATH]\n"
"                                        a recording's figures\n"
"       shadowtrace diff A B [--json]    what changed between two recordings\n"
"       shadowtrace demo [OPTION...]     built-in micro-guest vs ground truth\n"
"       shadowtrace decode 0xVALUE       one shadowed_translation value\n"
"\n"
"EXAMPLES:\n"
"    shadowtrace -i 5                   # a per-VM report every 5 seconds\n"
"    shadowtrace -p 4242 -d 60 --json   # one VMM process for a minute, as JSON\n"
"    shadowtrace -c 'qemu-system-x86_64 ...'    # while the command runs\n"
"    shadowtrace -i 15 --prom-file \\\n"
"        /var/lib/prometheus/node-exporter/shadowtrace.prom\n"
"    shadowtrace demo --scenario sync-flip -n 512 --vms 4\n"
"    shadowtrace record -o before.strec -d 600   # then upgrade, record again:\n"
"    shadowtrace diff before.strec after.strec\n"
"\n"
"Exit status: 0 ok, 1 runtime error, 2 bad usage, 3 unsupported environment\n"
"(root, BPF, BTF, KVM or its cache missing), 4 demo figures differ from the\n"
"ground truth, 5 the -c command failed, 6 a recording is unreadable or cut\n"
"short (report prints the figures up to its last complete block).\n"
"diff: 0 no change beyond --threshold, 1 changes, 2 bad usage, 6 as above.";

enum {
	OPT_MAX_VMS = 256, OPT_MAX_PAGES, OPT_MAX_SLOTS, OPT_SCENARIO, OPT_VMS,
	OPT_PROM_FILE, OPT_PROM_KEEP, OPT_LISTEN, OPT_LISTEN_PUBLIC, OPT_FLOOR, OPT_BENCH_STEP, OPT_ATTACH,
	OPT_LIST_PROBES, OPT_LIST_FIGURES, OPT_SKIP_PROBE, OPT_RING_MB, OPT_THRESHOLD, OPT_TIMING, OPT_TOP, OPT_HTML,
};

static const struct argp_option opts[] = {
	{ "pid", 'p', "PID", 0, "Trace only the VMs of this VMM process", 0 },
	{ "interval", 'i', "SEC", 0, "Report every SEC seconds (1-86400)", 0 },
	{ "duration", 'd', "SEC", 0, "Stop after SEC seconds (1-31536000)", 0 },
	{ "command", 'c', "CMD", 0, "Run CMD with /bin/sh and trace until it exits", 0 },
	{ "json", 'j', NULL, 0, "JSON output (one object per report)", 0 },
	{ "attach", OPT_ATTACH, "MODE", 0,
	  "auto (default: the best probe per hook), tracepoint, kprobe or fentry", 0 },
	{ "top", OPT_TOP, "N", 0,
	  "Text reports: one line for each of the N VMs most active since the last report (1-1024)", 0 },
	{ "list-probes", OPT_LIST_PROBES, NULL, 0,
	  "Show which probe serves each hook on this kernel, and why not the others", 0 },
	{ "list-figures", OPT_LIST_FIGURES, NULL, 0,
	  "Show the per-VM figures: name, kind, labels, how compared, Prometheus family, help", 0 },
	{ "skip-probe", OPT_SKIP_PROBE, "FUNC", 0,
	  "Do not probe kernel function FUNC; its hook falls back (repeatable; bpf_rdonly_cast: read SPTEs, cache and vCPU by bpf_probe_read_kernel)", 0 },
	{ "prom-file", OPT_PROM_FILE, "PATH", 0,
	  "Write Prometheus metrics to PATH (*.prom) every interval (-i, default 15 s) and at exit", 1 },
	{ "prom-keep", OPT_PROM_KEEP, "SEC", 0,
	  "Keep an exited VM's series this long (0-86400, default one interval)", 1 },
	{ "listen", OPT_LISTEN, "IP:PORT", 0, "Serve metrics over HTTP at /metrics (loopback)", 1 },
	{ "listen-public", OPT_LISTEN_PUBLIC, NULL, 0, "Allow --listen on a non-loopback address", 1 },
	{ "max-vms", OPT_MAX_VMS, "N", 0, "VMs tracked at once (1-1024, default 64)", 1 },
	{ "max-shadow-pages", OPT_MAX_PAGES, "N", 0,
	  "Shadow pages tracked (64-4194304, default 16384)", 1 },
	{ "max-churn-slots", OPT_MAX_SLOTS, "N", 0,
	  "Slots whose access changed, tracked at once (64-4194304, default 65536)", 1 },
	{ "bench-floor", OPT_FLOOR, NULL, 0,
	  "Benchmark floor: attach to the same hooks, account nothing", 1 },
	{ "bench-step", OPT_BENCH_STEP, "N", 0,
	  "Benchmark breakdown: the per-write tracepoint program stops after step N (1: entry, 2: page lookup, 3: old state read; 4: the TDP early exit, every page taken for a cached TDP page)", 1 },
	{ "output", 'o', "FILE", 0, "record: write the recording to FILE", 3 },
	{ "ring-mb", OPT_RING_MB, "MIB", 0,
	  "record: events ring buffer size (1-1024, a power of two, default 16)", 3 },
	{ "html", OPT_HTML, "FILE", 0,
	  "report, diff: also write the figures as one self-contained HTML page to FILE", 3 },
	{ "threshold", OPT_THRESHOLD, "PCT", 0,
	  "diff: changes up to PCT percent are not differences (0-1000, default 0)", 3 },
	{ "timing", OPT_TIMING, NULL, 0,
	  "diff: change-interval histogram buckets count as differences too", 3 },
	{ "scenario", OPT_SCENARIO, "NAME", 0,
	  "demo: one scenario (fault-churn sync-flip remap hugepage-dirtylog prefetch reuse sync-keep sparse)", 2 },
	{ "n", 'n', "N", 0, "demo: pages per scenario (1-16384, default 256)", 2 },
	{ "vms", OPT_VMS, "K", 0, "demo: VMs per scenario at once (1-64, default 1)", 2 },
	{},
};

static const char *const command_names[] = {
	[CMD_TRACE] = "tracing", [CMD_DEMO] = "demo", [CMD_DECODE] = "decode",
	[CMD_RECORD] = "record", [CMD_REPORT] = "report", [CMD_DIFF] = "diff",
};

static uint32_t number(struct argp_state *st, const char *opt, const char *arg,
		       unsigned long lo, unsigned long hi)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v < lo || v > hi)
		argp_failure(st, ST_EXIT_USAGE, 0, "invalid %s '%s': expected a number from %lu to %lu",
			     opt, arg, lo, hi);
	return (uint32_t)v;
}

static error_t parse(int key, char *arg, struct argp_state *st)
{
	struct st_options *o = st->input;

	switch (key) {
	case 'p': o->lim.target_pid = number(st, "--pid", arg, 1, 4194304); break;
	case 'i': o->interval_s = number(st, "--interval", arg, 1, 86400); break;
	case 'd': o->duration_s = number(st, "--duration", arg, 1, 31536000); break;
	case 'c':
		if (!arg[0])
			argp_failure(st, ST_EXIT_USAGE, 0, "--command needs a command");
		o->command = arg;
		break;
	case 'j': o->json = true; break;
	case OPT_PROM_FILE: {
		size_t n = strlen(arg);

		if (n < 6 || strcmp(arg + n - 5, ".prom") || arg[n - 6] == '/')
			argp_failure(st, ST_EXIT_USAGE, 0,
				     "--prom-file '%s' must name a *.prom file (node_exporter reads only those)",
				     arg);
		o->prom_file = arg;
		break;
	}
	case OPT_PROM_KEEP:
		o->prom_keep_s = number(st, "--prom-keep", arg, 0, 86400);
		o->prom_keep_set = true;
		break;
	case OPT_LISTEN: o->listen = arg; break;
	case OPT_LISTEN_PUBLIC: o->listen_public = true; break;
	case OPT_FLOOR: o->lim.floor_only = true; break;
	case OPT_BENCH_STEP:
		o->lim.bench_step = number(st, "--bench-step", arg, ST_BENCH_ENTRY, ST_BENCH_TDP_EXIT);
		break;
	case OPT_ATTACH: {
		int r = probe_request_parse(arg);

		if (r < 0)
			argp_failure(st, ST_EXIT_USAGE, 0,
				     "unknown --attach mode '%s': expected auto, tracepoint, kprobe or fentry", arg);
		o->lim.attach = (enum probe_request)r;
		break;
	}
	case OPT_LIST_PROBES: o->list_probes = true; break;
	case OPT_LIST_FIGURES: o->list_figures = true; break;
	case OPT_SKIP_PROBE: {
		int i = 0;

		while (i < PROBE_SKIP_MAX && o->lim.skip_probes[i])
			i++;
		if (i == PROBE_SKIP_MAX)
			argp_failure(st, ST_EXIT_USAGE, 0, "--skip-probe: at most %d functions",
				     PROBE_SKIP_MAX);
		o->lim.skip_probes[i] = arg;
		break;
	}
	case OPT_TOP: o->top = number(st, "--top", arg, 1, 1024); break;
	case OPT_MAX_VMS: o->lim.max_vms = number(st, "--max-vms", arg, 1, 1024); break;
	case OPT_MAX_PAGES:
		o->lim.max_shadow_pages = number(st, "--max-shadow-pages", arg, 64, 4194304);
		break;
	case OPT_MAX_SLOTS:
		o->lim.max_churn_slots = number(st, "--max-churn-slots", arg, 64, 4194304);
		break;
	case OPT_SCENARIO: {
		enum mg_scenario s;

		if (mg_scenario_parse(arg, &s))
			argp_failure(st, ST_EXIT_USAGE, 0, "unknown scenario '%s'", arg);
		o->scenario = (int)s;
		break;
	}
	case 'n': o->n = number(st, "-n", arg, 1, MG_MAX_N); break;
	case 'o': o->output = arg; break;
	case OPT_RING_MB:
		o->ring_mb = number(st, "--ring-mb", arg, 1, 1024);
		if (o->ring_mb & (o->ring_mb - 1))
			argp_failure(st, ST_EXIT_USAGE, 0, "--ring-mb %s: must be a power of two", arg);
		break;
	case OPT_HTML: o->html = arg; break;
	case OPT_THRESHOLD: o->threshold_pct = number(st, "--threshold", arg, 0, 1000); break;
	case OPT_TIMING: o->gate_timing = true; break;
	case OPT_VMS: o->vms = number(st, "--vms", arg, 1, MG_MAX_VMS); break;
	case ARGP_KEY_ARG:
		if (st->arg_num == 0 && !strcmp(arg, "demo"))
			o->cmd = CMD_DEMO;
		else if (st->arg_num == 0 && !strcmp(arg, "decode"))
			o->cmd = CMD_DECODE;
		else if (st->arg_num == 0 && !strcmp(arg, "record"))
			o->cmd = CMD_RECORD;
		else if (st->arg_num == 0 && !strcmp(arg, "report"))
			o->cmd = CMD_REPORT;
		else if (st->arg_num == 0 && !strcmp(arg, "diff"))
			o->cmd = CMD_DIFF;
		else if (st->arg_num == 1 && o->cmd == CMD_DECODE)
			o->value = arg;
		else if (o->nfiles < (o->cmd == CMD_DIFF ? 2u : o->cmd == CMD_REPORT ? 1u : 0u))
			o->files[o->nfiles++] = arg;
		else
			argp_failure(st, ST_EXIT_USAGE, 0, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (o->cmd == CMD_DECODE && !o->value)
			argp_failure(st, ST_EXIT_USAGE, 0, "decode needs a value, e.g. decode 0x1234007");
		if (o->cmd == CMD_DEMO && o->command)
			argp_failure(st, ST_EXIT_USAGE, 0, "demo runs its own guests; drop --command");
		if (o->listen && o->cmd != CMD_TRACE && o->cmd != CMD_RECORD)
			argp_failure(st, ST_EXIT_USAGE, 0, "--listen goes with tracing, not %s",
				     command_names[o->cmd]);
		if (o->prom_file && o->cmd != CMD_TRACE && o->cmd != CMD_RECORD && o->cmd != CMD_REPORT)
			argp_failure(st, ST_EXIT_USAGE, 0, "--prom-file goes with tracing or report, not %s",
				     command_names[o->cmd]);
		if (o->cmd == CMD_RECORD && !o->output)
			argp_failure(st, ST_EXIT_USAGE, 0, "record needs -o FILE");
		if ((o->output || o->ring_mb) && o->cmd != CMD_RECORD)
			argp_failure(st, ST_EXIT_USAGE, 0, "-o and --ring-mb are record options");
		if ((o->cmd == CMD_REPORT || o->cmd == CMD_DIFF) &&
		    (o->lim.target_pid || o->interval_s || o->duration_s || o->command))
			argp_failure(st, ST_EXIT_USAGE, 0, "-p, -i, -d and -c go with tracing, not %s",
				     command_names[o->cmd]);
		if (o->cmd == CMD_REPORT && o->nfiles != 1)
			argp_failure(st, ST_EXIT_USAGE, 0, "report needs one recording file");
		if (o->cmd == CMD_DIFF && o->nfiles != 2)
			argp_failure(st, ST_EXIT_USAGE, 0, "diff needs two recording files");
		if (o->html && o->cmd != CMD_REPORT && o->cmd != CMD_DIFF)
			argp_failure(st, ST_EXIT_USAGE, 0, "--html goes with report and diff");
		if ((o->threshold_pct || o->gate_timing) && o->cmd != CMD_DIFF)
			argp_failure(st, ST_EXIT_USAGE, 0, "--threshold and --timing are diff options");
		if (o->cmd == CMD_RECORD)
			o->lim.ring_bytes = (o->ring_mb ? o->ring_mb : 16) << 20;
		if (o->scenario >= 0 && o->cmd != CMD_DEMO)
			argp_failure(st, ST_EXIT_USAGE, 0, "--scenario is a demo option");
		if (o->cmd == CMD_DEMO && o->scenario >= 0) {
			const char *why = mg_check_n((enum mg_scenario)o->scenario, o->n);
			if (why)
				argp_failure(st, ST_EXIT_USAGE, 0, "%s", why);
		}
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int st_parse_options(int argc, char **argv, struct st_options *o)
{
	static const struct argp argp = { opts, parse, NULL, doc, NULL, NULL, NULL };

	*o = (struct st_options){
		.cmd = CMD_TRACE,
		.lim = { .max_vms = 64, .max_shadow_pages = 16384, .max_churn_slots = 65536 },
		.scenario = -1,
		.n = 256,
		.vms = 1,
	};
	argp_err_exit_status = ST_EXIT_USAGE;
	return argp_parse(&argp, argc, argv, 0, NULL, o) ? ST_EXIT_USAGE : 0;
}
