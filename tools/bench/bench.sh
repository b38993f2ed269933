#!/usr/bin/env bash
# make bench: shadowtrace's overhead on a fault-bound micro-guest workload,
# measured side by side in one run. Modes run interleaved, round after round;
# each figure is the median over rounds (these machines are noisy).
#
#   untraced    the workload alone
#   floor       shadowtrace --bench-floor: the same BPF hooks, doing nothing
#   tracepoint  shadowtrace, all metrics on
#   record      shadowtrace record: the same, and every event to a file
#   bpftrace    tools/bench/equivalent.bt: comparable per-VM counting
#
# Output: a table on stdout and JSON in $BENCH_OUT (default bench/results.json;
# "-": on stdout after a line "BENCH-JSON"). Knobs: ROUNDS (9), PAGES (4096),
# PASSES (20), VMS16_SECONDS (10), WORKLOAD_FLAGS (more micro-guest flags),
# STAT_ROUNDS (3: rounds of the per-program costs and of the scale table),
# SCALE (VMSxPAGES configurations of the scale table), TIME_WINDOWS (5),
# ATTACH (auto: shadowtrace's
# --attach in every run; the mode called "tracepoint" below is all figures on).
# In the test VM (tools/bench/in-testvm.sh) every figure is labelled as
# measured under software emulation; with npt=1 the workload runs on the
# TDP MMU: what shadowtrace costs ordinary VMs.
set -euo pipefail
cd "$(dirname "$0")/../.."
ST=./shadowtrace MG=tools/microguest/microguest
ROUNDS=${ROUNDS:-9} PAGES=${PAGES:-4096} PASSES=${PASSES:-20} STAT_ROUNDS=${STAT_ROUNDS:-3}
ATTACH=${ATTACH:-auto} ATT=(--attach "$ATTACH")
VMS16_SECONDS=${VMS16_SECONDS:-10} WORKLOAD_FLAGS=${WORKLOAD_FLAGS:-}
SCALE=${SCALE:-1x200 1x4000 1x16000 16x200 64x200} TIME_WINDOWS=${TIME_WINDOWS:-5}
OUT=${BENCH_OUT:-bench/results.json}
if [[ -n ${TESTVM_RELEASE:-} ]]; then
	mmu=$([[ ${TESTVM_NPT:-0} == 1 ]] && echo "tdp (npt=1: the workload's faults are TDP MMU faults)" ||
		echo "shadow (npt=0)")
	where="test VM (Linux $TESTVM_RELEASE under QEMU TCG, nested SVM), MMU $mmu: measured under software emulation, not comparable to a host's ratios"
else
	where="this host (Linux $(uname -r), /dev/kvm), MMU $(grep -qx 1 /sys/module/kvm_amd/parameters/npt 2>/dev/null ||
		grep -qx Y /sys/module/kvm_intel/parameters/ept 2>/dev/null && echo 'tdp (EPT/NPT)' || echo shadow)"
fi
TMP=$(mktemp -d /tmp/shadowtrace-bench.XXXXXX)
mounted_tracefs=0
tracer=""
cleanup() {
	# whatever failed, leave no tracer attached and no VM running
	[[ -n $tracer ]] && kill -INT "$tracer" 2>/dev/null && wait "$tracer" 2>/dev/null
	pkill -f "^$MG " 2>/dev/null || true
	[[ $mounted_tracefs == 1 ]] && umount /sys/kernel/tracing 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
[[ $(id -u) == 0 && -c /dev/kvm ]] || { echo "bench: needs root and /dev/kvm" >&2; exit 3; }

# a tracer left on the same hooks would tax every mode, untraced included
if pgrep -x bpftrace >/dev/null || pgrep -f '^[^ ]*shadowtrace( |$)' >/dev/null; then
	echo "bench: another bpftrace/shadowtrace is running; stop it first" >&2
	exit 1
fi

modes=(untraced floor tracepoint record)
if command -v bpftrace >/dev/null; then
	# bpftrace's tracepoint probes need tracefs; mount it only for this run
	if [[ ! -d /sys/kernel/tracing/events ]]; then
		mount -t tracefs nodev /sys/kernel/tracing && mounted_tracefs=1
	fi
	modes+=(bpftrace)
fi

# shellcheck disable=SC2086 # WORKLOAD_FLAGS: words
workload() { "$MG" --timing --passes "$PASSES" $WORKLOAD_FLAGS reuse "$PAGES"; }

wait_line() { # wait_line FILE PATTERN: the tracer's start (its verifier
	# runs take seconds, more beside 16 busy VMs), 120 s at most
	for _ in $(seq 2400); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		[[ -z $tracer ]] || kill -0 "$tracer" 2>/dev/null || break
		sleep 0.05
	done
	echo "bench: tracer did not start: $(cat "$1")" >&2
	return 1
}

# run_mode MODE: prints "guest_ns faults"
run_mode() {
	local mode=$1 json
	tracer=""
	case $mode in
	untraced) ;;
	floor) "$ST" --bench-floor "${ATT[@]}" >/dev/null 2>"$TMP/err" & tracer=$!; wait_line "$TMP/err" Tracing ;;
	tracepoint) "$ST" --json "${ATT[@]}" >"$TMP/st.json" 2>"$TMP/err" & tracer=$!; wait_line "$TMP/err" Tracing ;;
	record) "$ST" record -o "$TMP/rec.strec" --json "${ATT[@]}" >"$TMP/st.json" 2>"$TMP/err" & tracer=$!
		wait_line "$TMP/err" Tracing ;;
	bpftrace) bpftrace tools/bench/equivalent.bt >"$TMP/err" 2>&1 & tracer=$!
		  wait_line "$TMP/err" Attaching; sleep 0.3 ;;
	esac
	json=$(workload)
	if [[ -n $tracer ]]; then
		kill -INT "$tracer"; wait "$tracer" 2>/dev/null || true
		tracer=""
	fi
	if [[ $mode == tracepoint || $mode == record ]]; then
		jq -r '[.dropped[]] | add' "$TMP/st.json" >>"$TMP/lost"
	fi
	if [[ $mode == record ]]; then	# events and bytes of the recording
		echo "$(sed -n 's/.*recorded \([0-9]*\) events.*/\1/p' "$TMP/err") $(stat -c %s "$TMP/rec.strec")" \
			>>"$TMP/recsize"
		rm -f "$TMP/rec.strec"
	fi
	jq -r '"\(.guest_ns) \(.faults)"' <<<"$json"
}

echo "bench: $ROUNDS rounds of ${modes[*]}; workload: $PASSES passes x $PAGES pages (read, write, zap)" >&2
for r in $(seq "$ROUNDS"); do
	# rotate the order each round so no mode always runs first
	for k in "${!modes[@]}"; do
		m=${modes[$(((k + r) % ${#modes[@]}))]}
		run_mode "$m" >>"$TMP/$m"
	done
	echo "  round $r/$ROUNDS done" >&2
done

# Per-program cost, steadier than throughput on a noisy machine: runs with
# kernel.bpf_stats_enabled (restored after), ns per run of each program,
# STAT_ROUNDS interleaved rounds, the median per program: all figures on,
# (the floor) the same programs returning at once, and where SPTEs,
# translations and vCPU are read by BTF loads, the same read by
# bpf_probe_read_kernel (Linux < 6.2).
# And the per-write program's breakdown: the same stopped after each of its
# steps (--bench-step: 1 the entry, 2 the page lookup, 3 the state read),
# and (4) its early exit for TDP faults, a hit in the cache of TDP pages, run
# at this host's own speed: the workload's pages taken for TDP pages.
variants=(progs floor step1 step2 step3 step4)
"$ST" --list-probes "${ATT[@]}" 2>/dev/null | grep -q 'by BTF loads' && variants+=(probe_reads)
# our programs, by name (bpftool shows 15 characters): every attach mode's
ours='select(.name | test("^(tp|fentry|fexit|kprobe|kretprobe)_"))'
# one line per run: [{name, ns_per_run, runs}] of our programs that ran
prog_costs() { bpftool prog show -j | jq -c "[.[] | $ours"' |
	select(.run_cnt > 0) | {name, ns_per_run: (.run_time_ns / .run_cnt | floor), runs: .run_cnt}]'; }
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
for r in $(seq "$STAT_ROUNDS"); do
	for k in "${!variants[@]}"; do
		variant=${variants[$(((k + r) % ${#variants[@]}))]}
		case $variant in
		progs) opt=(--json) ;;
		floor) opt=(--bench-floor) ;;
		probe_reads) opt=(--json --skip-probe bpf_rdonly_cast) ;;
		step*) opt=(--json --bench-step "${variant#step}") ;;
		esac
		"$ST" "${opt[@]}" "${ATT[@]}" >/dev/null 2>"$TMP/errs" & st=$! tracer=$!
		wait_line "$TMP/errs" Tracing
		workload >/dev/null
		prog_costs >>"$TMP/$variant.runs"
		kill -INT "$st"; wait "$st" || true
		tracer=""
	done
done

# Cost in scale (shadow MMU only: on TDP a sparse guest makes no shadow
# page). One tracer per run, all figures on; K micro-guests at once, each
# keeping N+N/512+4 shadow pages live (scenario sparse): all our programs'
# BPF ns per SPTE write (page creation and zap included: each write here has
# a page of its own) and the per-write program's ns per run, STAT_ROUNDS
# interleaved rounds, medians. Then the
# time traced: one tracer through TIME_WINDOWS runs of sparse 4000, the
# same cost window by window.
scale=()
[[ ${TESTVM_NPT:-0} == 1 || $where == *"tdp (EPT/NPT)"* ]] || scale=($SCALE)
# our programs' bpf_stats so far: [{name, run_time_ns, run_cnt}]
tp_stats() { bpftool prog show -j | jq -c "[.[] | $ours"' |
	{name, run_time_ns: (.run_time_ns // 0), run_cnt: (.run_cnt // 0)}]'; }
expected_writes() { "$MG" --expect sparse "$1" | jq '[.translation_writes[]] | add'; }
for r in $(seq "$STAT_ROUNDS"); do
	for k in "${!scale[@]}"; do
		cfg=${scale[$(((k + r) % ${#scale[@]}))]} vms=${cfg%x*} n=${cfg#*x}
		"$ST" --json "${ATT[@]}" >"$TMP/scale.json" 2>"$TMP/errs" & st=$! tracer=$!
		wait_line "$TMP/errs" Tracing
		"$MG" -name guest=s --vms "$vms" sparse "$n" >/dev/null
		stats=$(tp_stats)
		kill -INT "$st"; wait "$st" || true
		tracer=""
		# hot: the program that ran most (the per-write one, whatever the mode)
		jq -c --arg cfg "$cfg" --argjson s "$stats" '{cfg: $cfg,
			hot: ($s | max_by(.run_cnt) | {name, ns_per_run: (.run_time_ns / .run_cnt | floor)}),
			shadow_pages: ([.vms[].shadow_pages.created] | add),
			writes: ([.vms[].translation_writes[]] | add), dropped: ([.dropped[]] | add)} |
			.ns_per_write = (($s | map(.run_time_ns) | add) / .writes | floor)' "$TMP/scale.json" >>"$TMP/scale.runs"
	done
done
if [[ ${#scale[@]} -gt 0 ]]; then
	"$ST" --json "${ATT[@]}" >"$TMP/scale.json" 2>"$TMP/errs" & st=$! tracer=$!
	wait_line "$TMP/errs" Tracing
	per_run=$(expected_writes 4000) before=0
	for w in $(seq "$TIME_WINDOWS"); do
		"$MG" -name "guest=w$w" sparse 4000 >/dev/null
		now=$(tp_stats | jq 'map(.run_time_ns) | add // 0')
		echo $(((now - before) / per_run)) >>"$TMP/windows"
		before=$now
	done
	kill -INT "$st"; wait "$st" || true
	tracer=""
fi
sysctl -qw kernel.bpf_stats_enabled="$stats_was"
# the median run of each program over the rounds
median_costs() { jq -sc '[flatten | group_by(.name)[] | sort_by(.ns_per_run) | .[(length - 1) / 2 | floor]]' "$1"; }
for v in "${variants[@]}"; do median_costs "$TMP/$v.runs" >"$TMP/$v-costs.json"; done
[[ -s $TMP/probe_reads-costs.json ]] || echo '[]' >"$TMP/probe_reads-costs.json"

# the median run of each scale configuration, in SCALE's order
if [[ -s $TMP/scale.runs ]]; then
	jq -sc --arg order "$SCALE" '($order | split(" ")) as $o | group_by(.cfg) |
		map(sort_by(.ns_per_write) | .[(length - 1) / 2 | floor]) |
		sort_by(.cfg as $c | $o | index($c))' "$TMP/scale.runs" >"$TMP/scale-median.json"
else
	echo '[]' >"$TMP/scale-median.json"
fi
: >>"$TMP/windows"
# %.15g: mawk prints a computed number as %.6g (2.4e+09), %d stops at 2^31
median() { sort -n | awk '{a[NR]=$1} END {printf "%.15g\n", NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# the median over rounds of each round's untraced time / MODE's: the runs of
# a round are close in time, so a drift of the machine's speed cancels out
paired() { paste "$TMP/untraced" "$TMP/$1" | awk '{printf "%.6f\n", $1 / $3}' | median; }
faults=$(head -n1 "$TMP/untraced" | awk '{print $2}')
base=$(awk '{print $1}' "$TMP/untraced" | median)
# each mode's figures, once for the table and the JSON:
# mode median_ns vs_untraced paired added_ns_per_fault
for m in "${modes[@]}"; do
	med=$(awk '{print $1}' "$TMP/$m" | median)
	awk -v m="$m" -v med="$med" -v base="$base" -v f="$faults" -v p="$(paired "$m")" 'BEGIN {
		printf "%s %.0f %.6f %.6f %.6f\n", m, med, base / med, p, (med - base) / f }'
done >"$TMP/mode-figures"
# BPF time per fault (bpf_stats: all our programs, ns/run x runs) and the
# throughput it implies beside an untraced fault: steadier than the
# throughput ratios, which scatter by a percent or two on a noisy machine
bpf_per_fault() { jq --argjson f "$faults" '[.[] | .ns_per_run * .runs] | add // 0 | . / $f | floor' "$1"; }
bpf_ns=$(bpf_per_fault "$TMP/progs-costs.json")
bpf_floor_ns=$(bpf_per_fault "$TMP/floor-costs.json")
implied=$(awk -v b="$bpf_ns" -v base="$base" -v f="$faults" 'BEGIN {printf "%.4f\n", 1 / (1 + b / (base / f))}')
# the recording's events per run and bytes per million events (median),
# once for the table and the JSON; a few events (a TDP workload has no
# shadow ones) weigh only the header: null
rec_events=$(head -n1 "$TMP/recsize" | cut -d' ' -f1)
rec_bytes=$(awk '{printf "%.0f\n", $2 / $1 * 1e6}' "$TMP/recsize" | median)
((rec_events >= 1000)) || rec_bytes=null

# user-space CPU with 16 VMs and a 1 s export interval, and BPF map memory
for i in $(seq 16); do "$MG" -name "guest=b$i" --passes 100000 reuse 256 >/dev/null 2>&1 & done
sleep 1
"$ST" -i 1 --prom-file "$TMP/st.prom" "${ATT[@]}" >/dev/null 2>"$TMP/err16" &
st=$! tracer=$!
wait_line "$TMP/err16" Tracing
sleep 1
# CPU time of the whole process, all threads, in ns
cpu_ns() { awk '{s += $1} END {print s}' /proc/"$1"/task/*/schedstat; }
t0=$(cpu_ns "$st")
sleep "$VMS16_SECONDS"
t1=$(cpu_ns "$st")
# memory of the maps our programs use (ids from the loaded programs)
map_ids=$(bpftool prog show -j | jq -c "[.[] | $ours"' | .map_ids[]?] | unique')
mem=$(bpftool map show -j | jq --argjson ids "$map_ids" '[.[] | select(.id as $i | $ids | index($i)) | .bytes_memlock | tonumber] | add')
vms_seen=$(grep -c 'shadowtrace_translation_writes_total{.*origin="fault"}' "$TMP/st.prom" || true)
kill -INT "$st"; wait "$st" || true
tracer=""
pkill -f "^$MG " || true
cpu_pct=$(awk -v a="$t0" -v b="$t1" -v s="$VMS16_SECONDS" 'BEGIN {printf "%.3f", (b - a) / 1e9 / s * 100}')

{
	echo "where: $where; --attach $ATTACH: $("$ST" --list-probes "${ATT[@]}" | sed -n '1s/.*: \([a-z+]*\); cache.*/\1/p')"
	printf '%-11s %12s %10s %10s %14s\n' mode "median_ms" "vs_untraced" "paired" "added_ns/fault"
	awk '{printf "%-11s %12.1f %10.3f %10.3f %14.1f\n", $1, $2 / 1e6, $3, $4, $5}' "$TMP/mode-figures"
	echo "(vs_untraced: the ratio of the medians; paired: the median of each round's ratio)"
	echo "faults per run: $faults"
	echo "user-space CPU, 16 VMs, -i 1 --prom-file: ${cpu_pct}% of one core (VMs exported: $vms_seen)"
	echo "BPF map memory (default limits): $((mem / 1024 / 1024)) MiB ($mem bytes)"
	echo "events lost in tracepoint and record runs: $(awk '{s += $1} END {print s + 0}' "$TMP/lost")"
	if [[ $rec_bytes == null ]]; then
		echo "recording: $rec_events events per run, too few for a size per event"
	else
		awk -v ev="$rec_events" -v b="$rec_bytes" 'BEGIN {
			printf "recording: %d events per run, %.2f MiB per million events (median)\n", ev, b / 1048576 }'
	fi
	echo "per program (bpf_stats, includes its own ~20-40 ns of timing; floor: the same program returning at once):"
	jq -r --argjson f "$faults" --slurpfile fl "$TMP/floor-costs.json" '.[] | .name as $n |
		"  \(.name): \(.ns_per_run) ns/run (floor \([$fl[0][] | select(.name == $n) | .ns_per_run] | first // "-")), \(.runs / $f * 1000 | floor / 1000) runs/fault, \(.ns_per_run * .runs / $f | floor) ns/fault"' \
		"$TMP/progs-costs.json"
	awk -v b="$bpf_ns" -v fl="$bpf_floor_ns" -v base="$base" -v f="$faults" -v r="$implied" 'BEGIN {
		printf "  all: %d ns per fault (floor %d) beside an untraced fault of %d ns: implies %s of untraced throughput\n",
			b, fl, base / f, r }'
	jq -r '.[] | select(.name == "tp_set_spte") |
		"  the same, read by bpf_probe_read_kernel: \(.name): \(.ns_per_run) ns/run"' \
		"$TMP/probe_reads-costs.json"
	jq -rs 'map(map(select(.name == "tp_set_spte")) | first.ns_per_run // 0) as $s |
		"  \(.[0][] | select(.name == "tp_set_spte") | .name) by step, ns/run (each the same program stopped after it):",
		"    floor \($s[0]), entry \($s[1]) (+\($s[1] - $s[0])), page lookup \($s[2]) (+\($s[2] - $s[1])), SPTE and old translation read \($s[3]) (+\($s[3] - $s[2])), accounting: all \($s[4]) (+\($s[4] - $s[3]))",
		"  its early exit for TDP faults (a hit in the cache of TDP pages; --bench-step 4): \($s[5]) ns/run, floor \($s[0]) (+\($s[5] - $s[0]))"' \
		"$TMP/floor-costs.json" "$TMP/step1-costs.json" "$TMP/step2-costs.json" "$TMP/step3-costs.json" \
		"$TMP/progs-costs.json" "$TMP/step4-costs.json"
	if [[ -s $TMP/scale.runs ]]; then
		echo "scale (scenario sparse, median of $STAT_ROUNDS): all programs' BPF ns per SPTE write; the per-write program's ns per run"
		printf '  %-9s %13s %13s %12s %20s %8s\n' VMSxPAGES "shadow_pages" "SPTE_writes" "ns_per_write" "per-write program" dropped
		jq -r '.[] | "  \(.cfg) \(.shadow_pages) \(.writes) \(.ns_per_write) \(.hot.name):\(.hot.ns_per_run) \(.dropped)"' \
			"$TMP/scale-median.json" | awk '{printf "  %-9s %13d %13d %12d %20s %8d\n", $1, $2, $3, $4, $5, $6}'
		echo "time traced (one tracer, $TIME_WINDOWS x sparse 4000): ns per SPTE write by window: $(paste -sd' ' "$TMP/windows")"
	fi
} | tee "$TMP/table"

json_out() { if [[ $OUT == - ]]; then echo BENCH-JSON; jq -c .; else mkdir -p "$(dirname "$OUT")"; jq . >"$OUT"; fi; }
{
	echo "{\"where\":$(jq -Rn --arg w "$where" '$w'),\"rounds\":$ROUNDS,\"pages\":$PAGES,\"passes\":$PASSES,\"faults_per_run\":$faults,"
	echo "\"kernel\":\"$(uname -r)\",\"attach\":\"$ATTACH\",\"modes\":{"
	awk 'NR > 1 {print ","} {printf "\"%s\":{\"median_ns\":%.0f,\"throughput_vs_untraced\":%.4f,\"throughput_vs_untraced_paired\":%.4f,\"added_ns_per_fault\":%.1f}",
		$1, $2, $3, $4, $5}' "$TMP/mode-figures"
	echo "},\"userspace_cpu_pct_16vms\":$cpu_pct,\"bpf_map_bytes\":$mem,"
	echo "\"events_lost\":$(awk '{s += $1} END {print s + 0}' "$TMP/lost"),"
	echo "\"record_events_per_run\":$rec_events,"
	echo "\"record_bytes_per_million_events\":$rec_bytes,"
	echo "\"workload_flags\":$(jq -Rn --arg w "$WORKLOAD_FLAGS" '$w'),"
	echo "\"bpf_ns_per_fault\":$bpf_ns,\"bpf_ns_per_fault_floor\":$bpf_floor_ns,\"implied_vs_untraced\":$implied,"
	echo "\"stat_rounds\":$STAT_ROUNDS,\"programs\":$(cat "$TMP/progs-costs.json"),"
	echo "\"programs_floor\":$(cat "$TMP/floor-costs.json"),"
	echo "\"programs_probe_reads\":$(cat "$TMP/probe_reads-costs.json"),"
	echo "\"programs_by_step\":{\"entry\":$(cat "$TMP/step1-costs.json"),\"page_lookup\":$(cat "$TMP/step2-costs.json"),"
	echo "\"state_read\":$(cat "$TMP/step3-costs.json"),\"tdp_exit\":$(cat "$TMP/step4-costs.json")},"
	echo "\"scale\":$(cat "$TMP/scale-median.json"),"
	echo "\"time_windows_ns_per_write\":$(jq -sc . "$TMP/windows")}"
} | json_out
[[ $OUT == - ]] || echo "bench: results in $OUT" >&2
