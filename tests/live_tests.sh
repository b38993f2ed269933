# Live tests: shadowtrace on real VMs of the micro-guest, every figure
# compared with the ground truth exactly (sourced by tests/run.sh; they
# need root, /dev/kvm and BPF, and are skipped with a reason otherwise).

# One scenario per test, sizes crossing a page-table (512 entries) boundary.
live_fault_churn()       { trace "$MG_BIN -name guest=t fault-churn 700"; expect_vm t fault-churn 700; expect_no_drops; }
live_sync_flip()         { trace "$MG_BIN -name guest=t sync-flip 600"; expect_vm t sync-flip 600; expect_no_drops; }
# sync stores every kept entry on 6.1 (not on 6.12): none of them is a write
live_sync_keep()         { trace "$MG_BIN -name guest=t sync-keep 600"; expect_vm t sync-keep 600; expect_no_drops; }
live_sparse()            { trace "$MG_BIN -name guest=t sparse 600"; expect_vm t sparse 600; expect_no_drops; }
live_remap()             { trace "$MG_BIN -name guest=t remap 555"; expect_vm t remap 555; expect_no_drops; }
live_hugepage_dirtylog() { trace "$MG_BIN -name guest=t hugepage-dirtylog 700"; expect_vm t hugepage-dirtylog 700; expect_no_drops; }
live_prefetch()          { trace "$MG_BIN -name guest=t prefetch 333"; expect_vm t prefetch 333; expect_no_drops; }
live_reuse()             { trace "$MG_BIN -name guest=t reuse 300"; expect_vm t reuse 300; expect_no_drops; }

# Several VMs at once, each its own scenario: figures never mix.
live_multi_vm_mixed() {
	trace "$MG_BIN -name guest=a fault-churn 300 & $MG_BIN -name guest=b sync-flip 200 &
	       $MG_BIN -name guest=c remap 100 & $MG_BIN -name guest=d prefetch 64 &
	       $MG_BIN -name guest=e hugepage-dirtylog 1 & $MG_BIN -name guest=f sync-flip 1 & wait"
	expect_vm a fault-churn 300
	expect_vm b sync-flip 200
	expect_vm c remap 100
	expect_vm d prefetch 64
	expect_vm e hugepage-dirtylog 1
	expect_vm f sync-flip 1
	[[ $(jq '.vms | length' "$TMP/trace.json") == 6 ]]
	expect_no_drops
}

# A second witness: KVM's own statistics of the VM (KVM_GET_STATS_FD, read
# by the micro-guest before it closes the VM) agree with shadowtrace's
# figures in every scenario: pages created = mmu_cache_miss, fault writes =
# pf_fixed; and the MMU shrinker took no page (mmu_recycled 0).
live_kvm_own_statistics_agree() {
	local s got want
	for s in fault-churn sync-flip remap hugepage-dirtylog prefetch reuse sync-keep sparse; do
		trace "$MG_BIN -name guest=k --kvm-stats $TMP/kvm.json $s 128"
		expect_vm k "$s" 128
		got=$(jq -c '.vms[0] | [.shadow_pages.created, .translation_writes.fault, 0]' "$TMP/trace.json")
		want=$(jq -c '[.vm.mmu_cache_miss, .vcpu.pf_fixed, .vm.mmu_recycled]' "$TMP/kvm.json")
		[[ $got == "$want" ]] ||
			{ echo "$s: [created, fault writes, 0] $got, KVM [mmu_cache_miss, pf_fixed, mmu_recycled] $want"; return 1; }
	done
}

# shadowtrace reports KVM's own statistics of each VM (debugfs, read every
# second while the VM lives): read while the micro-guest's VM stood still
# (--hold-ms), they are what the VM itself read (KVM_GET_STATS_FD), in
# JSON, text and Prometheus, beside figures they witness. Under kernel
# lockdown debugfs refuses KVM's counters (writable files): they are named
# as refused, the gauges still read.
live_kvm_stats_reported() {
	local hold=$((1500 * SLOW)) got want pid refused
	timeout $((120 * SLOW)) "$ST_BIN" --json --prom-file "$TMP/k.prom" \
		-c "$MG_BIN -name guest=k --kvm-stats $TMP/kvm.json --hold-ms $hold sync-flip 128" >"$TMP/trace.json"
	expect_vm k sync-flip 128
	pid=$(jq '.vms[0].pid' "$TMP/trace.json")
	# every statistic both read, equal (one vCPU: debugfs' sum is the vCPU's)
	got=$(jq -cS '.vms[0].kvm_stats' "$TMP/trace.json")
	refused=$(jq -c '.vms[0].kvm_stats_refused' "$TMP/trace.json")
	want=$(jq -cS --argjson got "$got" '.vm + .vcpu | with_entries(select(.key | in($got)))' "$TMP/kvm.json")
	[[ $got == "$want" && $(jq length <<<"$got") -ge 4 &&
		$(($(jq length <<<"$got") + $(jq length <<<"$refused"))) -ge 12 ]] ||
		{ echo "kvm_stats $got, refused $refused; the VM's own $want"; return 1; }
	if [[ $refused != "[]" ]]; then
		# lockdown: only the counters, each named; said in text and Prometheus
		jq -e --argjson r "$refused" '$r - [.vm, .vcpu | to_entries[] | .key |
			select(test("^(mmu_unsync|pages_.*)$") | not)] == []' "$TMP/kvm.json" >/dev/null ||
			{ echo "refused a gauge: $refused"; return 1; }
		grep -qx "shadowtrace_kvm_stats_refused{vm=\"k\",pid=\"$pid\"} $(jq length <<<"$refused")" "$TMP/k.prom"
		promtool check metrics <"$TMP/k.prom"
		timeout $((120 * SLOW)) "$ST_BIN" -c "$MG_BIN -name guest=k --hold-ms $hold sync-flip 128" >"$TMP/k.txt"
		grep -q "^  .* $(jq length <<<"$refused") refused by the kernel (lockdown" "$TMP/k.txt" ||
			{ cat "$TMP/k.txt"; return 1; }
		return 0
	fi
	jq -e '.vms[0] | .kvm_stats.mmu_cache_miss == .shadow_pages.created and
		.kvm_stats.pf_fixed == .translation_writes.fault and .kvm_stats.mmu_cache_miss > 0' \
		"$TMP/trace.json" >/dev/null || { echo "figures: $(jq -c '.vms[0] | [.shadow_pages, .translation_writes]' "$TMP/trace.json")"; return 1; }
	grep -qx "shadowtrace_kvm_pf_fixed_total{vm=\"k\",pid=\"$pid\"} $(jq '.vcpu.pf_fixed' "$TMP/kvm.json")" "$TMP/k.prom" ||
		{ grep kvm_pf_fixed "$TMP/k.prom"; return 1; }
	grep -qx "# TYPE shadowtrace_kvm_pages_4k gauge" "$TMP/k.prom"
	promtool check metrics <"$TMP/k.prom"
	# text: the same, wrapped within 79 columns
	timeout $((120 * SLOW)) "$ST_BIN" -c "$MG_BIN -name guest=k --hold-ms $hold sync-flip 128" >"$TMP/k.txt"
	grep -q "^  KVM's statistics .*mmu_cache_miss $(jq '.vm.mmu_cache_miss' "$TMP/kvm.json")\( \|$\)" "$TMP/k.txt" ||
		{ cat "$TMP/k.txt"; return 1; }
	# its lines (the first, and those indented under it) within 79 columns
	awk '/^  KVM.s statistics/ { k = 1 } k && !/^  KVM.s statistics/ && !/^                      [a-z]/ { k = 0 }
		k && length($0) > 79 { print "too wide: " $0; bad = 1 } END { exit bad }' "$TMP/k.txt"
}

# VMs one after another in one process: KVM tends to put each at the
# address of the last, yet each is its own record, exact, live and replayed.
live_vms_back_to_back_one_process() {
	timeout $((120 * SLOW)) "$ST_BIN" record -o "$TMP/b.strec" --json \
		-c "$MG_BIN -name guest=b --serial 30 fault-churn 64" >"$TMP/trace.json"
	expect_no_drops
	expect_vms b 30 fault-churn 64
	"$ST_BIN" report "$TMP/b.strec" --json >"$TMP/rep.json"
	same_report "$TMP/trace.json" "$TMP/rep.json"
	# Prometheus: one series per (vm, pid), the newest VM's
	"$ST_BIN" report "$TMP/b.strec" --prom-file "$TMP/b.prom" >/dev/null
	promtool check metrics <"$TMP/b.prom"
	[[ $(grep -c '^shadowtrace_shadow_pages_total{vm="b",.*event="created"} 5$' "$TMP/b.prom") == 1 ]]
}

# The same in the other attach modes (auto, above, is fentry where the
# kernel allows it): every mode starts a new record at each new VM.
live_vms_back_to_back_other_modes() {
	local mode
	for mode in tracepoint kprobe; do
		[[ $mode == kprobe ]] && ! has_kprobes && continue
		timeout $((120 * SLOW)) "$ST_BIN" --attach "$mode" --json \
			-c "$MG_BIN -name guest=b --serial 10 fault-churn 64" >"$TMP/trace.json"
		expect_no_drops || { echo "in $mode mode"; return 1; }
		expect_vms b 10 fault-churn 64 || { echo "in $mode mode"; return 1; }
	done
}

# A VM's record ends when KVM destroys it, not when its process exits: the
# micro-guest lingers after closing its VM, and the interval reports say
# the VM ended while its process ran on.
live_vm_ends_before_its_process() {
	timeout $((60 * SLOW)) "$ST_BIN" --json -i 1 \
		-c "$MG_BIN -name guest=le --linger-ms $((5000 * SLOW)) fault-churn 64" >"$TMP/lines.json"
	local alive after
	# per interval report: le alive (true/false), or null once no longer shown
	alive=$(jq -sc '[.[] | select(.final == false) | [.vms[] | select(.name == "le") | .alive] | first]' \
		"$TMP/lines.json")
	after=$(jq '(to_entries | map(select(.value == false)) | first.key) as $k |
		if $k == null then -1 else length - $k - 1 end' <<<"$alive")
	((after >= 2)) || { echo "le alive, by interval: $alive"; return 1; }
	tail -n1 "$TMP/lines.json" >"$TMP/final.json"
	expect_vm le fault-churn 64 "$TMP/final.json"
	expect_no_drops "$TMP/final.json"
}

live_many_vms_same_scenario() {
	trace "$MG_BIN -name guest=m --vms 8 sync-flip 128"
	for i in 1 2 3 4 5 6 7 8; do expect_vm "m-$i" sync-flip 128; done
	[[ $(jq '.vms | length' "$TMP/trace.json") == 8 ]]
}


# The host write-protects the guest's memory after the sync (compaction, KSM
# and migrations do so): KVM zaps the SPTEs through its MMU notifier, which
# no tracepoint shows, before the sync is resolved. Its writes still count,
# exactly, and it dropped nothing.
live_sync_then_host_write_protect() {
	trace "$MG_BIN -name guest=wp --host-write-protect sync-flip 128"
	expect_vm wp sync-flip 128
	expect_no_drops
}

# ... and a sync that kept every SPTE as it was: still no drop, no write.
live_sync_keep_then_host_write_protect() {
	trace "$MG_BIN -name guest=wk --host-write-protect sync-keep 128"
	expect_vm wk sync-keep 128
	expect_no_drops
}

# A VM that ran before shadowtrace attached: its pages are adopted, and only
# what happens after attach is counted, exactly.
live_adopt_running_vm() {
	trace_after_pause 2 -name guest=old sync-flip 300
	# after attach: the guest reads then writes its PT page (-ux, then wux),
	# sync write-protects 300 slots whose earlier changes went unseen
	local want='{"access_change_interval_ns":0,"access_changes":[{"count":1,"from":"-ux","origin":"fault","to":"wux"},{"count":300,"from":"wux","origin":"sync","to":"-ux"}],"first_writes":1,"gfn_mismatch_distance_pages":{"buckets":[],"count":0,"sum":0},"gfn_mismatches":{"direct":0,"sync":0},"lifetimes_untracked":0,"remaps":0,"shadow_pages":{"created":1,"synced":1,"unsynced":1,"zapped":6},"slot_access_changes":{"buckets":[{"count":301,"max":1,"min":1}],"count":301,"sum":301},"sync_drops":{"gfn":0,"invalid":0,"other":0,"unreadable":0},"translation_writes":{"fault":2,"prefetch":0,"split":0,"sync":300},"translation_writes_by_page":[{"count":2,"kind":"indirect","level":1,"origin":"fault"},{"count":300,"kind":"indirect","level":1,"origin":"sync"}]}'
	local got bad
	got=$(jq -S -c ".vms[] | select(.name == \"old\") | $FIGURES" "$TMP/trace.json")
	# these figures as written; any other (a figure added since) zero
	bad=$(jq -n -c --argjson w "$want" --argjson g "$got" '[($w | keys[]) as $k | select($g[$k] != $w[$k]) | $k]
		+ [$g | to_entries[] | . as $e | select(($w | has($e.key) | not) and ([.value | .. | numbers] | add // 0) != 0) | .key]')
	[[ $bad == "[]" ]] || { echo "adopted VM: $bad differ; got $got"; return 1; }
	[[ $(jq '.vms[0].shadow_pages_adopted' "$TMP/trace.json") == 5 ]]
	expect_no_drops
}

# -p: only that process's VMs, exactly; another VM at the same time is ignored.
live_pid_filter() {
	mkfifo "$TMP/go1" "$TMP/go2"
	"$MG_BIN" -name guest=target sync-flip 100 <"$TMP/go1" >/dev/null &
	local t=$!
	"$MG_BIN" -name guest=other fault-churn 100 <"$TMP/go2" >/dev/null &
	local o=$!
	timeout $((60 * SLOW)) "$ST_BIN" --json -p "$t" -c "tests/wait-exit.sh $t $o" >"$TMP/trace.json" 2>"$TMP/err" &
	local st=$!
	wait_ready "$TMP/err"
	exec 7>"$TMP/go1" 8>"$TMP/go2"
	exec 7>&- 8>&-
	wait "$t" "$o" "$st"
	expect_vm target sync-flip 100
	[[ $(jq '.vms | length' "$TMP/trace.json") == 1 ]]
}

# -i: one JSON object per interval, counters never go backwards, exact at the end.
live_interval_json() {
	# the sleep outlasts two intervals after the VM exits, however slow the machine
	timeout $((60 * SLOW)) "$ST_BIN" --json -i 1 -c "$MG_BIN -name guest=iv fault-churn 100; sleep $((2 * SLOW))" \
		>"$TMP/lines.json"
	jq -e . "$TMP/lines.json" >/dev/null
	local lines
	lines=$(jq -c '[.final, ([.vms[] | select(.name == "iv") | .translation_writes.fault] | first)]' \
		"$TMP/lines.json" | tr '\n' ' ')
	# interval reports, then one final one; the VM's count never goes down
	[[ $(wc -l <"$TMP/lines.json") -ge 3 ]] || { echo "lines [final, iv's fault writes]: $lines"; return 1; }
	[[ $(tail -n1 "$TMP/lines.json" | jq .final) == true ]]
	[[ $(head -n1 "$TMP/lines.json" | jq .final) == false ]]
	jq -s -e '[.[] | .vms[] | select(.name == "iv") | .translation_writes.fault] |
		  . == (. | sort) and length >= 2' "$TMP/lines.json" >/dev/null ||
		{ echo "lines [final, iv's fault writes]: $lines"; return 1; }
	tail -n1 "$TMP/lines.json" >"$TMP/final.json"
	expect_vm iv fault-churn 100 "$TMP/final.json"
}

# SIGINT/SIGTERM: final report, clean detach, status 0.
live_signals_clean_exit() {
	for sig in INT TERM; do
		"$ST_BIN" --json >"$TMP/sig.json" 2>"$TMP/err" &
		local st=$!
		wait_ready "$TMP/err"
		kill -"$sig" "$st"
		local rc=0
		wait "$st" || rc=$?
		[[ $rc == 0 ]] || { echo "SIG$sig: exit $rc"; return 1; }
		[[ $(jq .final "$TMP/sig.json") == true ]]
		! bpftool prog show | grep -q tp_set_spte
		rm -f "$TMP/err"
	done
}

# A full VM table: the VM that does not fit is counted, the one that fits is exact.
live_vm_map_full_counted() {
	# x1 holds the one slot, paused; x2 comes and goes meanwhile and finds none
	local fifo=$TMP/x1.go out=$TMP/x1.out
	mkfifo "$fifo"
	timeout $((120 * SLOW)) "$ST_BIN" --json --max-vms 1 -c "$MG_BIN -name guest=x1 --pause-after 1 \
		--passes 300 reuse 256 <$fifo >$out & exec 7>$fifo
		until grep -q paused $out; do sleep 0.05; done
		$MG_BIN -name guest=x2 fault-churn 100; echo go >&7; wait" >"$TMP/trace.json"
	[[ $(jq '.vms | length' "$TMP/trace.json") == 1 ]]
	[[ $(jq '.dropped.vm_map_full' "$TMP/trace.json") -gt 0 ]]
	EXPECT_ARGS="--passes 300" expect_vm x1 reuse 256
}

# A full churn table: each slot beyond it is counted twice (its first change
# a drop, its lifetime's end untracked), every other figure exact; the
# replay of the recording refuses the same slots. The table has 2 x 64
# entries: at least 64 slots fit, at most 128 (bpf/churn.bpf.h).
live_churn_table_full_counted() {
	local n=700 max=64 lost want got
	timeout $((120 * SLOW)) "$ST_BIN" record -o "$TMP/c.strec" --json --max-churn-slots $max \
		-c "$MG_BIN -name guest=c fault-churn $n" >"$TMP/trace.json" 2>/dev/null
	"$ST_BIN" report "$TMP/c.strec" --json >"$TMP/rep.json"
	same_report "$TMP/trace.json" "$TMP/rep.json"
	lost=$(jq .dropped.churn_slot_map_full "$TMP/trace.json")
	((lost >= n - 2 * max && lost <= n - max)) || { echo "refused $lost of $n"; return 1; }
	[[ $(jq -c '.dropped | [.[]] | add' "$TMP/trace.json") == "$lost" ]]
	jq -e ".bpf_maps | .churned_slots == 0 and .churned_slots_max == $max" "$TMP/trace.json" >/dev/null
	# the ground truth, less one change in each untracked lifetime
	want=$("$MG_BIN" --expect fault-churn $n | jq -S --argjson l $lost "$FIGURES | .lifetimes_untracked = \$l
		| .slot_access_changes.count -= \$l | .slot_access_changes.sum -= \$l
		| .slot_access_changes.buckets |= map(if .min == 1 then .count -= \$l else . end)")
	got=$(jq -S '.vms[] | select(.name == "c") | '"$FIGURES" "$TMP/trace.json")
	diff <(echo "$want") <(echo "$got") | head -20
	[[ $want == "$got" ]]
}

# make bench's breakdown (--bench-step N): each variant of the per-write
# program loads on this kernel; pages are tracked as ever, no write counted.
live_bench_steps_count_pages_not_writes() {
	local step pages
	pages=$("$MG_BIN" --expect fault-churn 64 | jq .shadow_pages.created)
	for step in 1 2 3 4; do
		timeout $((120 * SLOW)) "$ST_BIN" --json --bench-step $step \
			-c "$MG_BIN -name guest=b fault-churn 64" >"$TMP/trace.json" || return 1
		jq -e --argjson p "$pages" '.vms[] | select(.name == "b") |
			([.translation_writes[]] | add) == 0 and .shadow_pages.created == $p' \
			"$TMP/trace.json" >/dev/null || { echo "step $step: $(jq -c .vms "$TMP/trace.json")"; return 1; }
	done
}

# The built-in demo, as a user runs it, on the release build.
live_demo_release_build() {
	timeout $((120 * SLOW)) "$RELEASE_BIN" demo --json >"$TMP/demo.json"
	[[ $(jq '.matched' "$TMP/demo.json") == 8 ]]
	[[ $(jq '.vms' "$TMP/demo.json") == 8 ]]
	[[ $(jq '[.dropped[]] | add' "$TMP/demo.json") == 0 ]]
}

live_demo_multi_vm() {
	timeout $((120 * SLOW)) "$ST_BIN" demo -n 64 --vms 3 >"$TMP/demo.txt"
	grep -q '^24 of 24 VMs match the ground truth exactly' "$TMP/demo.txt"
}

# The demo's VMs are the micro-guest program's: shadowtrace itself never
# opens /dev/kvm, only the micro-guest processes it runs do (its
# --check-kvm, then one per VM). strace writes one file per process.
live_demo_only_microguest_opens_kvm() {
	command -v strace >/dev/null || skip_test "no strace"
	# (LeakSanitizer cannot work under ptrace: off for this run)
	ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 timeout $((120 * SLOW)) \
		strace -f -ff -e trace=openat,execve -o "$TMP/strace" \
		"$ST_BIN" demo --scenario fault-churn -n 16 --vms 2 >"$TMP/demo.txt"
	grep -q '^2 of 2 VMs match' "$TMP/demo.txt"
	local f opened=0
	for f in "$TMP"/strace.*; do
		grep -q '"/dev/kvm"' "$f" || continue
		opened=$((opened + 1))
		grep -q '^execve("[^"]*/microguest", ' "$f" ||
			{ echo "$f opened /dev/kvm, not a micro-guest: $(grep -m2 'execve\|/dev/kvm' "$f")"; return 1; }
	done
	[[ $opened == 3 ]] || { echo "$opened processes opened /dev/kvm, want 3"; return 1; }
}

# --attach tracepoint is the same as auto here, exactly.
live_attach_tracepoint_explicit() {
	timeout $((60 * SLOW)) "$ST_BIN" --attach tracepoint --json -c "$MG_BIN -name guest=t remap 64" >"$TMP/trace.json"
	[[ $(jq -r .attach_mode "$TMP/trace.json") == tracepoint ]]
	expect_vm t remap 64
}

# The same figures on Debian's stock kernel (KVM as a module), under QEMU,
# in all six attach configurations (its own boot; runs on every machine).
lane_stock_kernel() {
	command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86 missing (make deps)"; return 1; }
	[[ -x .output/shadowtrace.static ]] || { echo "no static build (make static)"; return 1; }
	timeout 900 tools/stock-kernel/lane.sh
}

# each_test_vm TESTVM-OPTIONS... -- COMMAND...: tools/testvm/run in a test VM
# per kernel of TESTVM_KERNELS, all at once (one CPU each); their outputs
# one after the other; fails if any did.
each_test_vm() {
	local k i rc=0 pids=() kernels
	read -ra kernels <<<"$TESTVM_KERNELS"
	# fetched one at a time, so that parallel boots find them
	for k in "${kernels[@]}"; do TESTVM_KERNEL=$k tools/testvm/kernel.sh >/dev/null || return 1; done
	for i in "${!kernels[@]}"; do
		TESTVM_KERNEL=${kernels[i]} timeout 1800 tools/testvm/run --quiet "$@" >"$TMP/each-vm-$i.log" 2>&1 &
		pids+=($!)
	done
	for i in "${!kernels[@]}"; do
		wait "${pids[i]}" || rc=1
		echo "== ${kernels[i]}"
		cat "$TMP/each-vm-$i.log"
	done
	return $rc
}

# A real Linux guest under QEMU with KVM, shadow paging, traced in the three
# attach modes at once: tests/realguest_checks.sh on every test VM kernel
# (the guest runs the test VM's own kernel). The tracers are the release
# build: the sanitized ones' extra work in the test VM starved the guest,
# which then failed 5 boots of 6 (tools/realguest/run).
lane_real_guest() {
	ST_BIN=$RELEASE_BIN each_test_vm --env ST_BIN -- tests/realguest_checks.sh
}

# The TDP MMU (kvm_amd npt=1): tests/tdp_checks.sh on every test VM kernel.
lane_tdp_mmu() {
	each_test_vm --npt --env ST_BIN --env MG_BIN --env ASAN_OPTIONS --env UBSAN_OPTIONS -- tests/tdp_checks.sh
}
