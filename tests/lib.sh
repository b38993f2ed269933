# Helpers for the bash tests (sourced by tests/run.sh).

# Why live tests cannot run here, or nothing.
why_no_live() {
	[[ $(id -u) -eq 0 ]] || { echo "not root"; return; }
	[[ -c /dev/kvm ]] || { echo "no /dev/kvm"; return; }
	(exec 3<>/dev/kvm) 2>/dev/null || { echo "/dev/kvm does not open"; return; }
	[[ -r /sys/kernel/btf/vmlinux ]] || { echo "kernel has no BTF"; return; }
	command -v jq >/dev/null || { echo "jq missing (make deps)"; return; }
}

# What --attach auto uses on this kernel, as the tool names it ("tracepoint",
# "fentry+tracepoint", ...).
auto_attach_mode() {
	"$ST_BIN" --list-probes 2>/dev/null | sed -n 's/.*--attach auto: \([a-z+]*\).*/\1/p'
}

# skip_test REASON: ends the test as skipped, for a reason (one line) that a
# user cannot fix on this machine. Never a pass.
skip_test() {
	echo "$*" >"${SKIP_FILE:?}"
	exit 77
}

# needs_root: kernel tests skip when not root (say so, never pass)
needs_root() {
	[[ $(id -u) -eq 0 ]] || skip_test "needs root"
}

# has_kprobes: the kernel offers kprobes (its kprobe PMU)
has_kprobes() { [[ -e /sys/bus/event_source/devices/kprobe ]]; }

# ksym_kind NAME: "exact" when NAME is a text symbol of the running kernel,
# "clone" when only a compiler clone (NAME.part.N, NAME.isra.N ...) is, else "none"
ksym_kind() {
	awk -v f="$1" '$2 ~ /^[tT]$/ { if ($3 == f) e = 1; else if (index($3, f ".") == 1) c = 1 }
		END { print e ? "exact" : c ? "clone" : "none" }' /proc/kallsyms
}

# has_tracepoint NAME: KVM's BTF (module or vmlinux) has the tracepoint NAME
has_tracepoint() {
	local f
	for f in /sys/kernel/btf/vmlinux /sys/kernel/btf/kvm; do
		[[ -r $f ]] && bpftool btf dump file "$f" 2>/dev/null | grep -q "'btf_trace_$1'" && return 0
	done
	return 1
}

# The comparable figures of one VM, normalized (jq filter on a figures object).
# The comparable figures as a jq filter, derived from the tool's figure table
# (shadowtrace --list-figures): every figure; a histogram whose buckets
# depend on timing by its sample count only. No table, no comparison: jq fails.
figures_filter() {
	"$ST_BIN" --list-figures 2>/dev/null | awk -F'\t' '
		/^#/ { next }
		{ f = $1; if ($2 == "histogram") f = f ": .histograms." $1 ($4 == "count" ? ".count" : "")
		  out = out (n++ ? ", " : "") f }
		END { if (n) print "{" out "}"; else print "error(\"no figure table from shadowtrace --list-figures\")" }'
}
FIGURES=$(figures_filter)

# trace CMD...: runs CMD under shadowtrace --json -c, output in $TMP/trace.json
trace() {
	timeout $((120 * SLOW)) "$ST_BIN" --json -c "$*" >"$TMP/trace.json"
}

# expect_vm NAME SCENARIO N [JSON]: VM NAME's figures equal the ground truth
# (EXPECT_ARGS: more micro-guest options, e.g. "--passes 40").
expect_vm() {
	local name=$1 scen=$2 n=$3 json=${4:-$TMP/trace.json}
	local want got
	# shellcheck disable=SC2086
	want=$("$MG_BIN" ${EXPECT_ARGS:-} --expect "$scen" "$n" | jq -S "$FIGURES")
	got=$(jq -S --arg n "$name" ".vms[] | select(.name == \$n) | $FIGURES" "$json")
	if [[ -z $got ]]; then
		echo "VM $name not in the report: $(jq -c '[.vms[].name]' "$json")"
		return 1
	fi
	if [[ $want != "$got" ]]; then
		echo "VM $name ($scen $n) differs from ground truth:"
		diff <(echo "$want") <(echo "$got") | head -40
		return 1
	fi
}

# expect_vms NAME COUNT SCENARIO N [JSON]: exactly COUNT VMs named NAME in
# JSON, each the ground truth of SCENARIO N (VMs one after another in one
# process share a name)
expect_vms() {
	local name=$1 count=$2 scen=$3 n=$4 json=${5:-$TMP/trace.json}
	local want got
	# shellcheck disable=SC2086
	want=$("$MG_BIN" ${EXPECT_ARGS:-} --expect "$scen" "$n" | jq -cS "$FIGURES")
	got=$(jq -cS --arg n "$name" ".vms[] | select(.name == \$n) | $FIGURES" "$json" | sort | uniq -c)
	[[ $got == "$(printf '%7d %s' "$count" "$want")" ]] ||
		{ echo "VMs $name, counted by figures (want $count of the ground truth): $got"; return 1; }
}

# nothing dropped in a report
expect_no_drops() {
	local json=${1:-$TMP/trace.json} d
	d=$(jq '[.dropped[]] | add' "$json")
	[[ $d == 0 ]] || { echo "drops: $(jq -c .dropped "$json")"; return 1; }
	# shadow paging only here: no TDP MMU page (a recording does not say)
	d=$(jq '[.tdp_mmu_pages[]?] | add // 0' "$json")
	[[ $d == 0 ]] || { echo "tdp_mmu_pages: $(jq -c .tdp_mmu_pages "$json")"; return 1; }
	# ... so every VM with a page is served by the shadow MMU (live reports say)
	d=$(jq -c '[.vms[] | select(.mmu != null) | select(.mmu != (if .shadow_pages.created +
		.shadow_pages_adopted > 0 then "shadow" else "unknown" end)) | {name, mmu}]' "$json")
	[[ $d == "[]" ]] || { echo "VMs not on the shadow MMU: $d"; return 1; }
}

# A live report and the report of its recording: the same, timestamps and live-only figures aside
# (also tests/realguest_checks.sh).
same_report() {
	# VMs started together may be listed in either order; kvm_stats are live only
	local live=$1 rec=$2 filter='del(.timestamp, .elapsed_s, .bpf_maps, .vms[].kvm_stats, .vms[].kvm_stats_refused) | .vms |= sort_by(.name)'
	diff <(jq -S "$filter" "$live") <(jq -S "$filter" "$rec") | head -40
	[[ -z $(diff <(jq -S "$filter" "$live") <(jq -S "$filter" "$rec")) ]]
}

# check_line PREFIX NAME COMMAND...: for the check scripts run inside a test
# VM (tdp_checks.sh, realguest_checks.sh): one line "PASS PREFIXNAME (its
# output)" or "FAIL PREFIXNAME: its output", a failure counted in $failed
check_line() {
	local name=$1$2 out
	shift 2
	if out=$("$@" 2>&1); then
		echo "PASS $name${out:+ ($out)}"
	else
		echo "FAIL $name: $(tr '\n' ' ' <<<"$out" | cut -c1-1200)"
		failed=$((failed + 1))
		return 1
	fi
}

# fails with the command's output unless it exits with status $1
expect_status() {
	local want=$1; shift
	local out rc
	out=$("$@" 2>&1) && rc=0 || rc=$?
	if [[ $rc != "$want" ]]; then
		echo "'$*' exited $rc, want $want: $out"
		return 1
	fi
	printf '%s' "$out"
}

# one line on stderr, naming the problem
expect_one_line_error() {
	local want_status=$1 pattern=$2; shift 2
	local err rc
	err=$("$@" 2>&1 >/dev/null) && rc=0 || rc=$?
	[[ $rc == "$want_status" ]] || { echo "'$*' exited $rc, want $want_status: $err"; return 1; }
	[[ $(printf '%s\n' "$err" | grep -c .) -ge 1 ]] || { echo "no message"; return 1; }
	printf '%s\n' "$err" | head -1 | grep -qE -- "$pattern" || { echo "message '$err' lacks /$pattern/"; return 1; }
}

# trace_after_pause K MICROGUEST-ARGS...: runs a micro-guest VM that pauses
# after K guest routines, attaches shadowtrace to it (-p) while it is
# paused, resumes it and traces until it exits; JSON in $TMP/trace.json.
trace_after_pause() {
	local pause=$1 fifo out mg st
	shift
	fifo=$(mktemp -u "$TMP/go.XXXXXX")
	out=$(mktemp "$TMP/paused.XXXXXX")
	mkfifo "$fifo"
	"$MG_BIN" --pause-after "$pause" "$@" <"$fifo" >"$out" &
	mg=$!
	exec 7>"$fifo"
	for _ in $(seq $((100 * SLOW))); do grep -q paused "$out" && break; sleep 0.1; done
	grep -q paused "$out" || { echo "micro-guest never paused"; return 1; }
	timeout $((60 * SLOW)) "$ST_BIN" --json -p "$mg" -c "tests/wait-exit.sh $mg" >"$TMP/trace.json" 2>"$TMP/err" &
	st=$!
	wait_ready "$TMP/err"
	echo go >&7
	exec 7>&-
	wait "$mg"
	wait "$st"
}

# wait_ready FILE: shadowtrace printed its "Tracing" line
wait_ready() {
	for _ in $(seq $((100 * SLOW))); do grep -q Tracing "$1" 2>/dev/null && return 0; sleep 0.1; done
	echo "tracer not ready: $(cat "$1")"
	return 1
}

# The time of the kernel log's last line, for expect_no_kernel_warning_since
# (not named kernel_*: that prefix is a test's).
log_mark_now() {
	dmesg 2>/dev/null | tail -n1 | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p' | grep . || echo 0
}

# No WARNING, BUG or call trace in the kernel log after MARK. Lines newer
# than the mark, not a count of all lines: the log is a ring, and a flood
# (lockdown's notices, say) pushes old warnings out while a test runs.
expect_no_kernel_warning_since() {
	local new
	new=$(dmesg 2>/dev/null | awk -v mark="$1" '
		{ t = substr($0, 2, index($0, "]") - 2) + 0 }
		t > mark && /WARNING|BUG|Call Trace/')
	[[ -z $new ]] || { echo "new kernel warnings:"; echo "$new" | head -20; return 1; }
}
