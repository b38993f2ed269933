# Recordings: record, report, diff, damaged files (sourced by tests/run.sh).

# Every scenario, two VMs each: replay == live run == ground truth.
live_record_report_equals_live() {
	local s
	for s in fault-churn sync-flip remap hugepage-dirtylog prefetch reuse sync-keep sparse; do
		timeout $((120 * SLOW)) "$ST_BIN" record -o "$TMP/$s.strec" --json \
			-c "$MG_BIN -name guest=$s --vms 2 $s 128" >"$TMP/live-$s.json" 2>"$TMP/err"
		[[ ! -e $TMP/$s.strec.partial ]]
		"$ST_BIN" report "$TMP/$s.strec" --json >"$TMP/rep-$s.json"
		same_report "$TMP/live-$s.json" "$TMP/rep-$s.json" || {
			echo "$s: replay differs; VMs [name, pid, created], live then replayed:"
			jq -c '[.vms[] | [.name, .pid, .shadow_pages.created]]' "$TMP/live-$s.json" "$TMP/rep-$s.json"
			return 1
		}
		expect_vm "$s-1" "$s" 128 "$TMP/rep-$s.json"
		expect_vm "$s-2" "$s" 128 "$TMP/rep-$s.json"
		expect_no_drops "$TMP/rep-$s.json"
		jq -e '.recording.complete and .recording.events_naming_unknown == 0
			and ([.recording.lost[]] | add) == 0' "$TMP/rep-$s.json" >/dev/null
		grep -q "recorded [0-9]* events to $TMP/$s.strec" "$TMP/err"
	done
	# the text report and a Prometheus textfile come from a recording too
	"$ST_BIN" report "$TMP/sync-flip.strec" | grep -q 'sync-flip-1'
	"$ST_BIN" report "$TMP/sync-flip.strec" --prom-file "$TMP/r.prom" >/dev/null
	promtool check metrics <"$TMP/r.prom"
	grep -q '^shadowtrace_translation_writes_total{.*vm="sync-flip-1".*origin="sync".*} 128$' "$TMP/r.prom"
}

# fault-churn vs sync-flip: exactly sync-flip's transitions appear.
live_diff_fault_churn_vs_sync_flip() {
	local n=64
	"$ST_BIN" record -o "$TMP/a.strec" -c "$MG_BIN -name guest=g fault-churn $n" >/dev/null 2>&1
	"$ST_BIN" record -o "$TMP/b.strec" -c "$MG_BIN -name guest=g sync-flip $n" >/dev/null 2>&1
	local rc=0
	"$ST_BIN" diff "$TMP/a.strec" "$TMP/b.strec" --json >"$TMP/d.json" || rc=$?
	[[ $rc == 1 ]] || { echo "diff exited $rc, want 1"; return 1; }
	# the VM matched by name; its changed transitions, from the ground truths
	local got want
	# shellcheck disable=SC2016
	got=$(jq -c '[.scopes[] | select(.scope == "VM g") | .changes[]
		| select(.figure | startswith("access_changes.")) | {figure, a, b}] | sort_by(.figure)' "$TMP/d.json")
	want='[{"figure":"access_changes.fault.-ux->wux","a":64,"b":65},{"figure":"access_changes.sync.wux->-ux","a":0,"b":64}]'
	[[ $got == "$want" ]] || { echo "transitions: $got"; return 1; }
	# most significant first: the appearing sync transition leads
	jq -e '.scopes[0].scope == "all VMs" and .scopes[0].changes[0].a == 0' "$TMP/d.json" >/dev/null
	# a recording against itself: no difference, exit 0
	"$ST_BIN" diff "$TMP/a.strec" "$TMP/a.strec" | grep -q '^0 differences'
	# VMs whose names differ pair by position; one more VM is compared with nothing
	"$ST_BIN" record -o "$TMP/c.strec" \
		-c "$MG_BIN -name guest=h1 fault-churn $n && $MG_BIN -name guest=h2 fault-churn $n" >/dev/null 2>&1
	"$ST_BIN" diff "$TMP/a.strec" "$TMP/c.strec" --json >"$TMP/p.json" || true
	jq -e '[.scopes[].scope] == ["all VMs", "VM g / h1 (by position)", "VM h2 (only in B)"]' \
		"$TMP/p.json" >/dev/null || { jq -c '[.scopes[].scope]' "$TMP/p.json"; return 1; }
	jq -e '[.scopes[1].changes[] | select(.counts)] | length == 0' "$TMP/p.json" >/dev/null
	jq -e '.scopes[2].changes[] | select(.figure == "translation_writes_by_page.fault.indirect.L1") | .a == 0 and .b == 129' \
		"$TMP/p.json" >/dev/null
	# a threshold hides small relative changes: only new/gone and big ones gate
	"$ST_BIN" diff "$TMP/a.strec" "$TMP/b.strec" --threshold 50 --json >"$TMP/t.json" || true
	jq -e '[.scopes[0].changes[] | select(.counts) | .figure] | index("access_changes.fault.-ux->wux") == null' \
		"$TMP/t.json" >/dev/null
}

# A recording cut mid-block reads to its last complete block, exit 6.
live_record_truncated_readable() {
	"$ST_BIN" record -o "$TMP/r.strec" -c "$MG_BIN -name guest=t --passes 40 reuse 512" >/dev/null 2>&1
	local size blocks
	size=$(stat -c %s "$TMP/r.strec")
	blocks=$("$ST_BIN" report "$TMP/r.strec" --json | jq '.vms[0].translation_writes.fault')
	# the trailer block gone: figures complete, but the end is unknown
	head -c $((size - 40)) "$TMP/r.strec" >"$TMP/cut.strec"
	expect_status 6 "$ST_BIN" report "$TMP/cut.strec" --json
	"$ST_BIN" report "$TMP/cut.strec" --json 2>"$TMP/err" >"$TMP/cut.json" || true
	grep -q 'figures up to the last complete block' "$TMP/err"
	[[ $(wc -l <"$TMP/err") == 1 ]]
	[[ $(jq '.vms[0].translation_writes.fault' "$TMP/cut.json") -le $blocks ]]
	jq -e '.recording.complete == false and (.recording.problem | test("cut short"))' "$TMP/cut.json" >/dev/null
	# cut in the middle: fewer figures, still a report
	head -c $((size / 2)) "$TMP/r.strec" >"$TMP/half.strec"
	"$ST_BIN" report "$TMP/half.strec" --json >"$TMP/half.json" 2>/dev/null || true
	jq -e '.final == true' "$TMP/half.json" >/dev/null
}

# Damaged files: one line, exit 6, no crash (the fuzzer tries many more).
cli_report_bad_files() {
	: >"$TMP/empty.strec"
	expect_one_line_error 6 "not a shadowtrace recording" "$ST_BIN" report "$TMP/empty.strec"
	printf 'hello world, not a recording at all' >"$TMP/text.strec"
	expect_one_line_error 6 "not a shadowtrace recording" "$ST_BIN" report "$TMP/text.strec"
	printf 'SHTRACE\n\x05\x00\x00\x00\x40\x00\x00\x00' >"$TMP/v5.strec"
	expect_one_line_error 6 "format version 5" "$ST_BIN" report "$TMP/v5.strec"
	printf 'SHTRACE\n\x01\x00\x00\x00\xff\xff\xff\x7f' >"$TMP/huge.strec"
	expect_one_line_error 6 "header length .* out of range" "$ST_BIN" report "$TMP/huge.strec"
	expect_one_line_error 6 "cannot open" "$ST_BIN" report "$TMP/missing.strec"
	# a real header, then a block claiming 4 GiB: refused before any allocation
	local seed=tests/fuzz/seeds/fault-churn.strec h
	h=$((16 + $(od -An -tu4 -j12 -N4 "$seed") + 4))
	{ head -c "$h" "$seed"; printf 'BLK1\xff\xff\xff\xff\xff\xff\xff\xff\0\0\0\0'; } >"$TMP/huge-block.strec"
	expect_one_line_error 6 "block 1 .*length out of range" "$ST_BIN" report "$TMP/huge-block.strec"
	expect_one_line_error 6 "not a shadowtrace recording" "$ST_BIN" diff "$TMP/empty.strec" "$TMP/text.strec"
	expect_one_line_error 2 "report needs one recording file" "$ST_BIN" report
	expect_one_line_error 2 "diff needs two recording files" "$ST_BIN" diff "$TMP/empty.strec"
	expect_one_line_error 2 "record needs -o FILE" "$ST_BIN" record -d 1
	expect_one_line_error 2 "must be a power of two" "$ST_BIN" record -o "$TMP/x.strec" --ring-mb 3
	expect_one_line_error 2 "go with tracing, not report" "$ST_BIN" report "$TMP/empty.strec" -d 5
}

# A corrupted block: the figures before it, exit 6, the block named.
live_record_corrupt_block() {
	"$ST_BIN" record -o "$TMP/r.strec" -c "$MG_BIN -name guest=c fault-churn 64" >/dev/null 2>&1
	cp "$TMP/r.strec" "$TMP/bad.strec"
	# the first block's compressed bytes start after the header (~80 bytes)
	printf '\xff\xff\xff\xff' | dd of="$TMP/bad.strec" bs=1 seek=120 conv=notrunc 2>/dev/null
	expect_one_line_error 6 "block 1 .* corrupt" "$ST_BIN" report "$TMP/bad.strec"
}

# The ring buffer full while the recorder is stopped: KVM never waits, the
# lost events are counted per type, live figures stay exact, and the
# recording says it undercounts.
live_record_ring_overflow_counted() {
	"$ST_BIN" record -o "$TMP/o.strec" --ring-mb 1 --json >"$TMP/live.json" 2>"$TMP/err" &
	local st=$!
	wait_ready "$TMP/err"
	kill -STOP "$st"
	"$MG_BIN" -name guest=over fault-churn 16384
	kill -CONT "$st"
	sleep 0.3
	kill -INT "$st"
	wait "$st"
	expect_vm over fault-churn 16384 "$TMP/live.json"
	local lost
	lost=$(jq '.dropped.ringbuf_full' "$TMP/live.json")
	[[ $lost -gt 0 ]] || { echo "nothing lost"; return 1; }
	grep -q "; $lost lost (ring buffer full" "$TMP/err"
	"$ST_BIN" report "$TMP/o.strec" --json >"$TMP/rep.json" 2>"$TMP/rerr"
	[[ $(jq '.dropped.ringbuf_full' "$TMP/rep.json") == "$lost" ]]
	# counted per event type, and they add up
	[[ $(jq '[.recording.lost[]] | add' "$TMP/rep.json") == "$lost" ]]
	[[ $(jq '.recording.lost.write' "$TMP/rep.json") -gt 0 ]]
	grep -q "$lost events were lost while recording" "$TMP/rerr"
	# what the replay missed is what was lost: fewer writes than live
	[[ $(jq '.vms[0].translation_writes.fault' "$TMP/rep.json") -lt \
	   $(jq '.vms[0].translation_writes.fault' "$TMP/live.json") ]]
}

# The recorder dies: FILE.partial stays, readable up to its last block.
live_record_killed_partial_readable() {
	"$ST_BIN" record -o "$TMP/k.strec" 2>"$TMP/err" >/dev/null &
	local st=$!
	wait_ready "$TMP/err"
	"$MG_BIN" -name guest=k fault-churn 256
	sleep 1.5	# a block is written at least every second
	kill -KILL "$st"
	wait "$st" 2>/dev/null || true
	[[ ! -e $TMP/k.strec && -s $TMP/k.strec.partial ]]
	"$ST_BIN" report "$TMP/k.strec.partial" --json >"$TMP/k.json" 2>"$TMP/kerr" || true
	grep -q 'no trailer' "$TMP/kerr"
	expect_vm k fault-churn 256 "$TMP/k.json"
}

# The format's own fuzzer, briefly (make fuzz runs it longer); a crashing
# input lands in .output-fuzz/artifacts/ (git-ignored): keep it as a
# regression under tests/fuzz/regressions/.
cli_fuzz_recording_parser() {
	[[ -x ${FUZZ_BIN:-} ]] || { echo "no fuzzer built (clang's libFuzzer)"; return 1; }
	mkdir -p "$TMP/corpus" .output-fuzz/artifacts
	cp tests/fuzz/seeds/* "$TMP/corpus/"
	"$FUZZ_BIN" -max_total_time="${FUZZ_SECONDS:-60}" -rss_limit_mb=2048 -max_len=65536 \
		-artifact_prefix=.output-fuzz/artifacts/ -print_final_stats=1 "$TMP/corpus" >"$TMP/fuzz.log" 2>&1 ||
		{ tail -30 "$TMP/fuzz.log"; return 1; }
	grep -q 'Done [0-9]* runs' "$TMP/fuzz.log"
}

# Every input that once crashed the parser runs clean (ASan + UBSan).
cli_fuzz_regressions() {
	[[ -x ${FUZZ_BIN:-} ]] || { echo "no fuzzer built (clang's libFuzzer)"; return 1; }
	local f n=0
	for f in tests/fuzz/regressions/*; do
		"$FUZZ_BIN" -runs=1 "$f" >"$TMP/regr.log" 2>&1 || { echo "$f:"; tail -20 "$TMP/regr.log"; return 1; }
		n=$((n + 1))
	done
	[[ $n -gt 0 ]]
}

# An output that cannot be written: one line, status 1, nothing left.
live_record_bad_output() {
	expect_one_line_error 1 "is a directory" "$ST_BIN" record -o "$TMP" -d 1
	expect_one_line_error 1 "cannot create $TMP/no/such/dir/x.strec.partial" \
		"$ST_BIN" record -o "$TMP/no/such/dir/x.strec" -d 1
	[[ ! -e $TMP.partial ]]
	# the kernel frees the detached programs after a grace period
	for _ in $(seq $((40 * SLOW))); do bpftool prog show | grep -q tp_set_spte || return 0; sleep 0.05; done
	echo "BPF programs still loaded"
	return 1
}

# The disk fills while recording: one line when it happens, tracing goes on
# (the live report stays exact), exit 1, and FILE.partial reads up to its
# last complete block.
live_record_disk_full() {
	# a block of 1 MiB of records fits (zlib: ~150 KiB), not the whole run
	with_tmpfs 256k
	local rc=0
	timeout $((120 * SLOW)) "$ST_BIN" record -o "$TMP/fs/f.strec" --json \
		-c "$MG_BIN -name guest=full --passes 200 reuse 2048" >"$TMP/live.json" 2>"$TMP/err" || rc=$?
	[[ $rc == 1 ]] || { echo "exit $rc"; cat "$TMP/err"; return 1; }
	grep -q "cannot write $TMP/fs/f.strec.partial: No space left on device" "$TMP/err"
	[[ $(grep -c 'cannot write' "$TMP/err") == 1 ]]	# once, not per block
	grep -q "recording failed: .* holds what was written" "$TMP/err"
	jq -e '.recording.complete == false' "$TMP/live.json" >/dev/null
	EXPECT_ARGS="--passes 200" expect_vm full reuse 2048 "$TMP/live.json"
	[[ ! -e $TMP/fs/f.strec && -s $TMP/fs/f.strec.partial ]]
	rc=0
	"$ST_BIN" report "$TMP/fs/f.strec.partial" --json >"$TMP/p.json" 2>"$TMP/perr" || rc=$?
	[[ $rc == 6 ]]
	grep -q 'figures up to the last complete block' "$TMP/perr"
	# fewer writes than live, but some: the blocks before the disk filled
	local part live
	part=$(jq '.vms[0].translation_writes.fault' "$TMP/p.json")
	live=$(jq '.vms[0].translation_writes.fault' "$TMP/live.json")
	[[ $part -gt 0 && $part -lt $live ]] || { echo "partial $part of $live"; return 1; }
}

# record on a terminal shows its progress on stderr once a second; not in a file.
kernel_record_progress_on_a_terminal() {
	needs_root
	script -qec "$ST_BIN record -o $TMP/p.strec -d 3" /dev/null >"$TMP/tty.out"
	grep -q $'\rrecording: [0-9]* records, [0-9.]* MiB, 0 events lost, [0-9]* s' "$TMP/tty.out" ||
		{ cat -A "$TMP/tty.out"; return 1; }
	"$ST_BIN" record -o "$TMP/q.strec" -d 2 2>"$TMP/err" >/dev/null
	! grep -q 'recording:' "$TMP/err"
}
