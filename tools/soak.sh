#!/usr/bin/env bash
# tools/soak.sh: shadowtrace for minutes under VM churn, scraped every
# 100 ms, writing its textfile every second and recording every event.
# Every SOAK_SAMPLE seconds it samples the tracer's RSS, open file
# descriptors, BPF map occupancy, lost events and scrape failures, and at
# the end prints them as a table. Passes (exit 0) when they stay flat:
# descriptors within 2, RSS growth after the first sample within 10 %
# (or 4 MiB), no event lost, no scrape failed, the maps empty at the end.
#
#   SOAK_SECONDS (default 240), SOAK_SAMPLE (default 10), ST_BIN, MG_BIN,
#   ATTACK_BIN (the scraper)
# Needs root and a working /dev/kvm: `make soak` runs it in the test VM
# when this host has none.
set -euo pipefail
cd "$(dirname "$0")/.."
ST_BIN=${ST_BIN:-./shadowtrace}
MG_BIN=${MG_BIN:-tools/microguest/microguest}
ATTACK_BIN=${ATTACK_BIN:-.output/http_attack}
SECONDS_TOTAL=${SOAK_SECONDS:-240}
SAMPLE=${SOAK_SAMPLE:-10}
W=$(mktemp -d /tmp/shadowtrace-soak.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$((20000 + RANDOM % 20000))
"$ST_BIN" record -o "$W/soak.strec" -i 1 --json --prom-file "$W/soak.prom" \
	--listen "127.0.0.1:$port" >"$W/soak.json" 2>"$W/soak.err" &
st=$!
pids+=("$st")
for _ in $(seq 600); do grep -q Tracing "$W/soak.err" && break; sleep 0.1; done
grep -q Tracing "$W/soak.err" || { echo "soak: tracer not ready: $(cat "$W/soak.err")" >&2; exit 1; }

# VM churn: 8 micro-guest VMs at a time, the scenarios in turn
scenarios=(fault-churn sync-flip remap prefetch sync-keep)
(
	i=0
	while :; do
		"$MG_BIN" -name "guest=soak$i" --vms 8 "${scenarios[i % ${#scenarios[@]}]}" 64 >/dev/null || exit 1
		i=$((i + 1))
		echo "$i" >"$W/rounds"
	done
) &
pids+=($!)
# a scrape every 100 ms; failures counted (tests/http_attack.c)
"$ATTACK_BIN" every "127.0.0.1:$port" 100 0 >"$W/scrapes" &
pids+=($!)

sample() { # one table row
	local t=$1 rss fds last pages slots lost rounds scrapes
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$st/status")
	fds=$(find "/proc/$st/fd" -mindepth 1 -maxdepth 1 | wc -l)
	last=$(tail -n1 "$W/soak.json")
	pages=$(jq '.bpf_maps.shadow_pages' <<<"$last")
	slots=$(jq '.bpf_maps.vm_slots' <<<"$last")
	lost=$(jq '[.recording.lost[]?] | add // 0' <<<"$last")
	rounds=$(cat "$W/rounds" 2>/dev/null || echo 0)
	scrapes=$(tail -n1 "$W/scrapes" | awk '{ print $1, $3 }')
	[[ -n $scrapes ]] || scrapes="0 0"
	printf '%6s %9s %5s %12s %9s %6s %7s %11s %8s\n' "$t" "$rss" "$fds" "$pages" "$slots" "$lost" \
		"$((rounds * 8))" "${scrapes% *}" "${scrapes#* }"
}

{
	printf '%6s %9s %5s %12s %9s %6s %7s %11s %8s\n' t_s rss_kib fds shadow_pages vm_slots lost vms \
		scrapes_ok failed
	t0=$SECONDS
	while ((SECONDS - t0 < SECONDS_TOTAL)); do
		sleep "$SAMPLE"
		sample $((SECONDS - t0))
	done
} | tee "$W/table"

# the churn stops; the maps must drain, then the tracer ends
kill "${pids[1]}" "${pids[2]}" 2>/dev/null || true
wait "${pids[1]}" "${pids[2]}" 2>/dev/null || true
sleep 3
sample end | tee -a "$W/table"
kill -INT "$st"
wait "$st" || { echo "soak: the tracer exited $?" >&2; exit 1; }

awk 'NR == 1 { next }
     $1 != "end" { n++; if (n == 1) { rss0 = $2 } rss = $2
		   if (fdmin == "" || $3 < fdmin) fdmin = $3; if ($3 > fdmax) fdmax = $3 }
     { if ($6 > 0) lost = 1; if ($9 > 0) failed = 1 }
     $1 == "end" { pages = $4; slots = $5 }
     END {
	growth = rss - rss0
	bad = ""
	if (fdmax - fdmin > 2) bad = bad " descriptors grew (" fdmin "->" fdmax ")"
	if (growth > 4096 && growth > rss0 / 10) bad = bad " RSS grew " growth " KiB"
	if (lost) bad = bad " events lost"
	if (failed) bad = bad " scrapes failed"
	if (pages != 0 || slots != 0) bad = bad " maps not empty at the end"
	if (bad != "") { print "soak: NOT flat:" bad; exit 1 }
	print "soak: flat (RSS " rss0 " -> " rss " KiB, descriptors " fdmin "-" fdmax ", nothing lost, no scrape failed, maps empty)"
     }' "$W/table"
