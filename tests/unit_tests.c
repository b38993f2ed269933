// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the pure C parts: the translation decode, histogram edges,
 * access letters, VM naming, JSON escaping, the comparator, the
 * micro-guest's ground truth, the recording format's fields and the
 * replay's hash table. Prints "PASS name" / "FAIL name: why".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "figures/compare.h"
#include "output/figures_json.h"
#include "figures/hist.h"
#include "output/json.h"
#include "trace/kvm_stats.h"
#include "layout.h"
#include "microguest.h"
#include "figures/names.h"
#include "record/recfile.h"
#include "record/u64map.h"
#include "trace/verifier_log.h"
#include "trace/vm_name.h"

static int failed, passed;
static const char *current;
static int current_failed;

#define CHECK(cond) do { \
	if (!(cond)) { \
		printf("FAIL %s: %s (line %d)\n", current, #cond, __LINE__); \
		current_failed = 1; \
		return; \
	} } while (0)

#define CHECK_EQ(a, b) do { \
	uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b); \
	if (a_ != b_) { \
		printf("FAIL %s: %s == %" PRIu64 ", want %" PRIu64 " (line %d)\n", \
		       current, #a, a_, b_, __LINE__); \
		current_failed = 1; \
		return; \
	} } while (0)

static void run(const char *name, void (*fn)(void))
{
	current = name;
	current_failed = 0;
	fn();
	if (current_failed) {
		failed++;
	} else {
		passed++;
		printf("PASS %s\n", name);
	}
}

static void test_translation_decode(void)
{
	uint64_t v = st_translation_make(0x12345, ST_ACC_WRITE | ST_ACC_USER);

	CHECK_EQ(v, 0x12345006);
	CHECK_EQ(st_translation_gfn(v), 0x12345);
	CHECK_EQ(st_translation_access(v), 6);
	CHECK_EQ(st_translation_gfn(0xffffffffff000007ULL), 0xffffffffff000ULL);
	CHECK_EQ(st_translation_access(0xffffffffffffffffULL), 7);
	/* access is masked: stray bits never leak into the gfn */
	CHECK_EQ(st_translation_make(1, 0xff), 0x1007);
	/* direct page invariant: level 1 index 5, level 2 index 3 */
	CHECK_EQ(st_direct_gfn(0x200, 1, 5), 0x205);
	CHECK_EQ(st_direct_gfn(0x40000, 2, 3), 0x40000 + 3 * 512);
}

static void test_hist_edges(void)
{
	/* bucket 0 = {0}, bucket k = [2^(k-1), 2^k - 1]: edges are honest */
	CHECK_EQ(st_hist_bucket(0), 0);
	CHECK_EQ(st_hist_bucket(1), 1);
	CHECK_EQ(st_hist_bucket(2), 2);
	CHECK_EQ(st_hist_bucket(3), 2);
	CHECK_EQ(st_hist_bucket(4), 3);
	CHECK_EQ(st_hist_bucket(1023), 10);
	CHECK_EQ(st_hist_bucket(1024), 11);
	CHECK_EQ(st_hist_bucket(~0ULL), ST_HIST_BUCKETS - 1);
	for (uint32_t b = 1; b < ST_HIST_BUCKETS - 1; b++) {
		CHECK_EQ(st_hist_bucket(st_hist_lower(b)), b);
		CHECK_EQ(st_hist_bucket(st_hist_upper(b)), b);
		CHECK_EQ(st_hist_upper(b) + 1, st_hist_lower(b + 1));
	}
}

static void test_access_letters(void)
{
	CHECK(!strcmp(st_access_letters(7), "wux"));
	CHECK(!strcmp(st_access_letters(5), "-ux"));
	CHECK(!strcmp(st_access_letters(0), "---"));
	CHECK(!strcmp(st_access_letters(ST_ACC_WRITE), "w--"));
	for (int a = 0; a < 8; a++)
		CHECK_EQ(st_access_parse(st_access_letters((uint32_t)a)), a);
	CHECK_EQ(st_access_parse("xuw"), (uint64_t)-1);
	CHECK_EQ(st_access_parse("wu"), (uint64_t)-1);
}

static void name_of(const char *args, size_t len, char *out)
{
	if (!st_name_from_cmdline(args, len, out, 64))
		strcpy(out, "<none>");
}

static void test_vm_names(void)
{
	char out[64];
	static const char q1[] = "qemu-system-x86_64\0-m\0001G\0-name\0guest=web1,debug-threads=on\0";
	static const char q2[] = "qemu\0-name\0db\0";
	static const char q3[] = "qemu\0-name\0process=x,guest=y\0";
	static const char q4[] = "vmm\0--name=alpha\0";
	static const char q5[] = "vmm\0-name\0";
	static const char q6[] = "vmm\0-name\0a\tb\0";

	name_of(q1, sizeof(q1) - 1, out);
	CHECK(!strcmp(out, "web1"));
	name_of(q2, sizeof(q2) - 1, out);
	CHECK(!strcmp(out, "db"));
	name_of(q3, sizeof(q3) - 1, out);	/* first element is key=value, not guest= */
	CHECK(!strcmp(out, "<none>"));
	name_of(q4, sizeof(q4) - 1, out);
	CHECK(!strcmp(out, "alpha"));
	name_of(q5, sizeof(q5) - 1, out);	/* -name as the last argument */
	CHECK(!strcmp(out, "<none>"));
	name_of(q6, sizeof(q6) - 1, out);	/* control characters never reach labels */
	CHECK(!strcmp(out, "a?b"));
	/* truncated cmdline without final NUL */
	name_of("q\0-name\0guest=long", 18, out);
	CHECK(!strcmp(out, "long"));
	st_vm_name_from("x", 1, "qemu-kvm", 7, out, sizeof(out));
	CHECK(!strcmp(out, "qemu-kvm"));
	st_vm_name_from("", 0, "", 7, out, sizeof(out));
	CHECK(!strcmp(out, "pid-7"));
}

/* A command line BPF could not read is read from /proc while the VMM lives. */
static void test_vm_name_live(void)
{
	char out[64];
	pid_t child = fork();

	if (child == 0) {
		execl("/bin/sh", "sh", "-c", "sleep 5", "-name", "guest=from-proc", (char *)NULL);
		_exit(127);
	}
	CHECK(child > 0);
	for (int i = 0; i < 200; i++) {	/* until the exec is done */
		st_vm_name_live("", 0, "sh", child, out, sizeof(out));
		if (!strcmp(out, "from-proc"))
			break;
		usleep(10000);
	}
	CHECK(!strcmp(out, "from-proc"));
	/* a command line BPF did read wins */
	st_vm_name_live("q\0-name\0bpf\0", 13, "sh", child, out, sizeof(out));
	CHECK(!strcmp(out, "bpf"));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

/* KVM's debugfs directory of a VM, faked: numbers read, the rest left out */
static void test_kvm_stats_read(void)
{
	char root[] = "/tmp/shadowtrace-unit-kvm.XXXXXX", path[256];
	struct kvm_stats s = { .read_at = 7 };
	uint64_t ino = 0, ino2;
	FILE *f;

	CHECK(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/12-7", root);
	CHECK(!mkdir(path, 0700));
	CHECK(kvm_stats_read(root, "12-7", &s, 1, &ino, 0) == -ENOENT);	/* no statistic in it */
	CHECK(s.read_at == 7);
	const char *files[][2] = { { "mmu_cache_miss", "5569\n" }, { "pf_fixed", "60937\n" },
				   { "pages_2m", "junk\n" }, { "not_ours", "3\n" } };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/12-7/%s", root, files[i][0]);
		CHECK((f = fopen(path, "w")) != NULL);
		fputs(files[i][1], f);
		fclose(f);
	}
	CHECK(!kvm_stats_read(root, "12-7", &s, 2, &ino, 0));
	CHECK(s.read_at == 2 && ino != 0);
	CHECK(s.present == (1u << KVM_STAT_mmu_cache_miss | 1u << KVM_STAT_pf_fixed));
	CHECK(kvm_stat_present(&s, KVM_STAT_pf_fixed) && !kvm_stat_present(&s, KVM_STAT_pages_2m));
	CHECK(s.v[KVM_STAT_mmu_cache_miss] == 5569 && s.v[KVM_STAT_pf_fixed] == 60937);
	CHECK(!strcmp(kvm_stat_defs[KVM_STAT_pf_fixed].name, "pf_fixed"));
	/* refused once (lockdown): counted refused, never opened again */
	CHECK(!kvm_stats_read(root, "12-7", &s, 3, &ino, 1u << KVM_STAT_pf_fixed));
	CHECK(s.present == 1u << KVM_STAT_mmu_cache_miss && s.refused == 1u << KVM_STAT_pf_fixed);
	CHECK(kvm_stats_refused(&s) == 1 && s.v[KVM_STAT_mmu_cache_miss] == 5569);
	/* names from the kernel never leave the root */
	CHECK(kvm_stats_read(root, "../x", &s, 3, &ino, 0) == -EINVAL);
	CHECK(kvm_stats_read(root, "..", &s, 3, &ino, 0) == -EINVAL);
	CHECK(kvm_stats_read(root, "13-7", &s, 4, &ino, 0) == -ENOENT);
	CHECK(s.read_at == 3);
	/* another directory under the same name: another VM */
	ino2 = ino + 1;
	CHECK(kvm_stats_read(root, "12-7", &s, 4, &ino2, 0) == -ESTALE);
	/* is the VM of that directory still there? */
	CHECK(kvm_dir_state(root, "12-7", ino) == KVM_DIR_LIVE);
	CHECK(kvm_dir_state(root, "12-7", ino2) == KVM_DIR_GONE);	/* a new VM has its name */
	CHECK(kvm_dir_state(root, "13-7", ino) == KVM_DIR_GONE);	/* destroyed */
	CHECK(kvm_dir_state(root, "12-7", 0) == KVM_DIR_UNKNOWN);	/* no inode from BPF */
	CHECK(kvm_dir_state(root, "../x", ino) == KVM_DIR_UNKNOWN);
	snprintf(path, sizeof(path), "%s/none", root);
	CHECK(kvm_dir_state(path, "12-7", ino) == KVM_DIR_UNKNOWN);	/* no debugfs */
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/12-7/%s", root, files[i][0]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/12-7", root);
	rmdir(path);
	rmdir(root);
}

static void test_json_escape(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json j;

	json_init(&j, f);
	json_obj_begin(&j, NULL);
	json_str(&j, "a\"b", "x\\y\n\x01");
	json_arr_begin(&j, "l");
	json_u64(&j, NULL, 1);
	json_u64(&j, NULL, 2);
	json_arr_end(&j);
	json_obj_end(&j);
	fclose(f);
	CHECK(!strcmp(buf, "{\"a\\\"b\":\"x\\\\y\\n\\u0001\",\"l\":[1,2]}"));
	free(buf);
}

static void test_compare(void)
{
	struct st_vm_counters a, b;

	mg_expect(MG_SYNC_FLIP, 100, &a);
	b = a;
	CHECK_EQ(st_compare(&a, &b, NULL), 0);
	b.access_changes[ST_ORIGIN_SYNC][7][5]++;
	CHECK_EQ(st_compare(&a, &b, NULL), 1);
	b = a;
	/* interval histograms compare by count only */
	b.hist[ST_HIST_CHANGE_INTERVAL].buckets[0] = 0;
	b.hist[ST_HIST_CHANGE_INTERVAL].buckets[20] = 100;
	b.hist[ST_HIST_CHANGE_INTERVAL].sum = 123456;
	CHECK_EQ(st_compare(&a, &b, NULL), 0);
	b.hist[ST_HIST_CHANGE_INTERVAL].buckets[21] = 1;
	CHECK_EQ(st_compare(&a, &b, NULL), 1);
}

/* Ground truth is internally consistent for every scenario and size. */
static void test_expectations_consistent(void)
{
	static const unsigned int ns[] = { 1, 7, 8, 100, 511, 512, 513, 1000, 4096 };

	for (int s = 0; s < MG_SCENARIOS; s++)
		for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
			struct st_vm_counters c;
			struct mg_layout l;
			uint64_t writes = 0, first_and_rewrites;

			mg_expect((enum mg_scenario)s, ns[k], &c);
			mg_layout((enum mg_scenario)s, ns[k], &l);
			for (int o = 0; o < ST_ORIGINS; o++)
				for (int l2 = 0; l2 < ST_LEVELS; l2++)
					writes += c.writes[o][ST_KIND_INDIRECT][l2] +
						  c.writes[o][ST_KIND_NESTED_INDIRECT][l2];
			/* every indirect write is a first write or a rewrite */
			first_and_rewrites = c.first_writes;
			for (int o = 0; o < ST_ORIGINS; o++)
				for (int a = 0; a < 8; a++)
					for (int b = 0; b < 8; b++)
						first_and_rewrites += c.access_changes[o][a][b];
			CHECK(first_and_rewrites <= writes);
			/* every slot lifetime ends when the VM exits */
			CHECK(st_hist_total(&c.hist[ST_HIST_SLOT_CHANGES]) >= c.first_writes - c.remaps);
			CHECK_EQ(c.sp_events[ST_SP_CREATED], c.sp_events[ST_SP_ZAPPED]);
			CHECK(l.mem_size % (2u << 20) == 0);
		}
	struct st_vm_counters c;
	mg_expect(MG_FAULT_CHURN, 1000, &c);
	CHECK_EQ(c.writes[ST_ORIGIN_FAULT][ST_KIND_INDIRECT][0], 2001);
	CHECK_EQ(c.sp_events[ST_SP_CREATED], 6);	/* 4 + two data PTs */
	mg_expect(MG_PREFETCH, 100, &c);
	CHECK_EQ(c.writes[ST_ORIGIN_FAULT][ST_KIND_INDIRECT][0], 14);	/* ceil(100/8)+code */
	CHECK_EQ(c.writes[ST_ORIGIN_PREFETCH][ST_KIND_INDIRECT][0], 87);
	/* nested: the same writes, of the nested kinds; a split fills 512 */
	mg_expect(MG_NESTED_FAULT_CHURN, 1000, &c);
	CHECK_EQ(c.writes[ST_ORIGIN_FAULT][ST_KIND_NESTED_INDIRECT][0], 2001);
	CHECK_EQ(c.writes[ST_ORIGIN_FAULT][ST_KIND_INDIRECT][0], 0);
	mg_expect(MG_NESTED_HUGEPAGE_ALIAS, 1000, &c);
	CHECK_EQ(c.writes[ST_ORIGIN_SPLIT][ST_KIND_NESTED_DIRECT][0], 2 * 512);
	CHECK_EQ(c.splits[ST_SPLIT_OK], 4);
	/* sparse: a PT per page and a PD per 512, all inside guest memory */
	struct mg_layout sl;
	mg_expect(MG_SPARSE, 1000, &c);
	CHECK_EQ(c.sp_events[ST_SP_CREATED], 4 + 2 + 1000);
	mg_layout(MG_SPARSE, MG_MAX_SPARSE_N, &sl);
	CHECK(mg_sparse_pt(&sl, MG_MAX_SPARSE_N - 1) + 4096 <= sl.mem_size);
	CHECK(mg_check_n(MG_SPARSE, MG_MAX_SPARSE_N) == NULL && mg_check_n(MG_SPARSE, MG_MAX_SPARSE_N + 1));
}

static void test_figures_json_roundtrip_keys(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct st_vm_counters c;

	mg_expect(MG_REMAP, 64, &c);
	st_json_vm_counters(f, &c);
	fclose(f);
	CHECK(strstr(buf, "\"gfn_mismatches\":{\"sync\":64,\"direct\":0}"));
	CHECK(strstr(buf, "\"gfn_mismatch_distance_pages\":{\"count\":64,\"sum\":65536,"
			  "\"buckets\":[{\"min\":1024,\"max\":2047,\"count\":64}]}"));
	free(buf);
}

static void test_scenario_names(void)
{
	enum mg_scenario s;

	for (int i = 0; i < MG_SCENARIOS; i++) {
		CHECK_EQ(mg_scenario_parse(mg_scenario_name((enum mg_scenario)i), &s), 0);
		CHECK_EQ(s, i);
	}
	CHECK(mg_scenario_parse("nope", &s) != 0);
	CHECK(mg_check_n(MG_FAULT_CHURN, 0) != NULL);
	CHECK(mg_check_n(MG_FAULT_CHURN, MG_MAX_N + 1) != NULL);
	CHECK(mg_check_n(MG_PREFETCH, 13) == NULL);
}

/* the replay's table against a plain array, through growth and deletion */
static void test_u64map(void)
{
	enum { N = 3000 };
	static uint64_t shadow[N];
	struct u64map m;

	u64map_init(&m, N);
	for (uint64_t i = 0; i < N; i++) {
		/* page-aligned keys, as spt addresses are */
		CHECK_EQ(u64map_put(&m, (i + 1) << 12, i * 7), 0);
		shadow[i] = i * 7;
	}
	CHECK(u64map_put(&m, 1ULL << 40, 1) == -1);	/* full: like a BPF map */
	for (uint64_t i = 0; i < N; i += 3) {
		CHECK_EQ(u64map_del(&m, (i + 1) << 12), 0);
		shadow[i] = UINT64_MAX;
	}
	CHECK(u64map_del(&m, 1ULL << 40) == -1);
	for (uint64_t i = 0; i < N; i++) {
		uint64_t *v = u64map_get(&m, (i + 1) << 12);

		if (shadow[i] == UINT64_MAX)
			CHECK(v == NULL);
		else
			CHECK(v && *v == shadow[i]);
	}
	CHECK_EQ(m.n, N - N / 3);
	u64map_free(&m);
}

/* fields are little-endian whatever the host; the trailer round-trips */
static void test_record_fields(void)
{
	struct rec_trailer_vm vms[2] = {
		{ .alive = 1, .pid = 42, .mmu = ST_MMU_TDP | ST_MMU_SHADOW, .name = "web-1" },
		{ .pending = 1, .pid = 4242, .name = "" },
	};
	struct rec_trailer t = { .end_mono_ns = 123456789, .events = 1000, .nvms = 2, .vms = vms,
				 .tdp_mmu_pages = { 5, 3 } }, u;
	uint8_t b[8], buf[1024];

	rec_put64(b, 0x0102030405060708ULL);
	CHECK_EQ(b[0], 8);
	CHECK_EQ(b[7], 1);
	CHECK_EQ(rec_get64(b), 0x0102030405060708ULL);
	CHECK_EQ(sizeof(struct st_event), 40);
	t.drops[ST_DROP_RINGBUF_FULL] = 7;
	t.lost[ST_EV_WRITE] = 7;
	CHECK(rec_trailer_size(&t) <= sizeof(buf));
	rec_trailer_encode(&t, buf);
	CHECK_EQ(rec_trailer_decode(buf, rec_trailer_size(&t), ST_REC_VERSION, &u), 0);
	CHECK_EQ(u.end_mono_ns, 123456789);
	CHECK_EQ(u.events, 1000);
	CHECK_EQ(u.drops[ST_DROP_RINGBUF_FULL], 7);
	CHECK_EQ(u.lost[ST_EV_WRITE], 7);
	CHECK_EQ(u.nvms, 2);
	CHECK_EQ(u.vms[1].pid, 4242);
	CHECK_EQ(u.vms[1].pending, 1);
	CHECK_EQ(u.vms[0].mmu, ST_MMU_TDP | ST_MMU_SHADOW);
	CHECK_EQ(u.tdp_mmu_pages[0], 5);
	CHECK_EQ(u.tdp_mmu_pages[1], 3);
	CHECK(!strcmp(u.vms[0].name, "web-1") && !u.vms[1].name[0]);
	free(u.vms);
	/* a length that does not match its VM count is refused */
	CHECK(rec_trailer_decode(buf, rec_trailer_size(&t) - 1, ST_REC_VERSION, &u) == -1);
	/* version 1 had neither the TDP MMU counts nor each VM's MMUs: 16 + 2 bytes less */
	CHECK(rec_trailer_decode(buf, rec_trailer_size(&t), 1, &u) == -1);
}

/* The reason line of a real refusal (Linux 6.12's log of tp_get_page). */
static void test_verifier_reason(void)
{
	char out[256];

	CHECK(verifier_reason("prog 'tp_get_page': -- BEGIN PROG LOAD LOG --\n"
			      "0: R1=ctx() R10=fp0\n"
			      "; int BPF_PROG(tp_get_page, struct kvm_mmu_page *sp, bool created)\n"
			      "14: (07) r3 += 40\n"
			      "R3 pointer arithmetic on trusted_ptr_or_null_ prohibited, null-check it first\n"
			      "processed 15 insns (limit 1000000) max_states_per_insn 0 total_states 1\n"
			      "-- END PROG LOAD LOG --\n", out, sizeof(out)));
	CHECK(!strcmp(out, "tp_get_page: R3 pointer arithmetic on trusted_ptr_or_null_ "
			   "prohibited, null-check it first"));
	CHECK(!verifier_reason("prog 'x': BPF program load failed: Permission denied\n", out,
			       sizeof(out)));
	CHECK(!verifier_reason("prog 'x': -- BEGIN PROG LOAD LOG --\n-- END PROG LOAD LOG --\n",
			       out, sizeof(out)));
	/* cut to the buffer, never past it */
	CHECK(verifier_reason("prog 'p': -- BEGIN PROG LOAD LOG --\nlong reason\n-- END PROG LOAD LOG --\n",
			      out, 8));
	CHECK(!strcmp(out, "p: long"));
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "translation_decode", test_translation_decode },
	{ "hist_edges", test_hist_edges },
	{ "access_letters", test_access_letters },
	{ "vm_names", test_vm_names },
	{ "vm_name_live", test_vm_name_live },
	{ "kvm_stats_read", test_kvm_stats_read },
	{ "json_escape", test_json_escape },
	{ "compare", test_compare },
	{ "expectations_consistent", test_expectations_consistent },
	{ "figures_json", test_figures_json_roundtrip_keys },
	{ "scenario_names", test_scenario_names },
	{ "u64map", test_u64map },
	{ "record_fields", test_record_fields },
	{ "verifier_reason", test_verifier_reason },
};

/* PLAN first: the runner fails a binary that reports fewer results (a crash) */
int main(void)
{
	size_t n = sizeof(tests) / sizeof(tests[0]);

	setvbuf(stdout, NULL, _IOLBF, 0);	/* a crash keeps the lines before it */
	printf("PLAN %zu\n", n);
	for (size_t i = 0; i < n; i++)
		run(tests[i].name, tests[i].fn);
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
