#!/usr/bin/env bash
# The real-guest checks, run inside the test VM by "make realguest": QEMU,
# the VMM users run, boots a real Linux guest (tools/realguest/run: Debian's
# kernel, a busybox workload) under the test VM's KVM, shadow paging. Three
# shadowtrace instances trace that one run at once, one per attach mode
# (tracepoint, recording too; kprobe; fentry), so that the modes can be
# compared figure by figure on the very same events. A real guest is not
# deterministic, so the rest are relations: the VM is named from QEMU's
# command line; nothing is dropped; every page created was zapped when the
# VM ended; KVM's own statistics, read while the ended guest stood
# still, witness the figures (pages created = mmu_cache_miss; pf_fixed <=
# fault writes <= pf_fixed + pf_emulate) and are what shadowtrace reports
# as kvm_stats; the recording replays to the live figures. A boot that
# the nested emulation fails (stalled or panicked: tools/realguest/run's
# exit 3) is ended and the guest booted again, as rg-2, rg-3, ..., under
# the same tracers: the failed boots' VMs must obey the relations too.
# Prints one PASS/FAIL line per check and a table; exit 1 if any failed.
#   REALGUEST_KERNEL  the guest's kernel (default: the test VM's own)
#   REALGUEST_ROUNDS (default 20), REALGUEST_ATTEMPTS (boots, default 8)
set -u
cd "$(dirname "$0")/.." || exit 1
ST_BIN=${ST_BIN:-./shadowtrace}
KERNEL=${REALGUEST_KERNEL:-${TESTVM_VMLINUZ:?REALGUEST_KERNEL: the guest kernel}}
ROUNDS=${REALGUEST_ROUNDS:-20} ATTEMPTS=${REALGUEST_ATTEMPTS:-8}
NAME= GUEST=	# the boot that ran to its end: its VM's name, its directory
TMP=$(mktemp -d /tmp/shadowtrace-realguest-checks.XXXXXX)
MODES="tracepoint kprobe fentry"
pids=()
trap 'kill -INT "${pids[@]}" 2>/dev/null; wait; rm -rf "$TMP"' EXIT
failed=0
exec 3>&2	# progress, past the checks' captured output
# FIGURES (the comparable figures), same_report, check_line
. tests/lib.sh

check() { check_line real_guest_ "$@"; }

# the guest's figures in MODE's report
vm() { jq -c --arg n "$NAME" '.vms[] | select(.name == $n)' "$TMP/$1.json"; }

# Three tracers, ready; the guest boots (again if it stalled), works, ends;
# the tracers end. The boot that ran to its end: in $TMP/boot.
traced_run() {
	local m t0=$SECONDS rc=0 a st cpus
	# the tracers keep off the guest's CPU, the last (tools/realguest/run)
	cpus=0-$(($(nproc) - 2))
	[[ $(nproc) -gt 1 ]] || cpus=0
	for m in $MODES; do
		if [[ $m == tracepoint ]]; then
			taskset -c "$cpus" "$ST_BIN" record -o "$TMP/rg.strec" --attach "$m" --json >"$TMP/$m.json" 2>"$TMP/$m.err" &
		else
			taskset -c "$cpus" "$ST_BIN" --attach "$m" --json >"$TMP/$m.json" 2>"$TMP/$m.err" &
		fi
		pids+=($!)
	done
	for m in $MODES; do
		for _ in $(seq 3000); do grep -q Tracing "$TMP/$m.err" && break; sleep 0.2; done
		grep -q Tracing "$TMP/$m.err" || { echo "$m tracer not ready: $(cat "$TMP/$m.err")"; return 1; }
	done
	echo "realguest: 3 tracers ready after $((SECONDS - t0)) s" >&3
	for a in $(seq "$ATTEMPTS"); do
		NAME=rg-$a GUEST=$TMP/guest-$a
		tools/realguest/run --rounds "$ROUNDS" "$NAME" "$KERNEL" "$GUEST" && break
		st=$?
		[[ $st == 3 && $a -lt $ATTEMPTS ]] && { echo "realguest: $NAME stalled or panicked; booting again" >&3; continue; }
		rc=1
		tr -d '\r' <"$GUEST/console.log" | grep -v '^realguest' | tail -n 40 >&3
		break
	done
	echo "realguest: the guest ran, $((SECONDS - t0)) s in all" >&3
	sleep 1	# the tracers see QEMU gone and read the VM's teardown
	kill -INT "${pids[@]}"
	for m in "${pids[@]}"; do wait "$m" || rc=1; done
	pids=()
	[[ $rc == 0 ]] || { tail -n 3 "$TMP"/*.err; return 1; }
	echo "$a" >"$TMP/boot"
	echo "$((SECONDS - t0)) s, boot $a of $ATTEMPTS ran to its end, $(grep -c . "$GUEST/console.log") console lines"
}

# MODE: the report's relations and KVM's statistics
figures_hold() {
	local j=$TMP/$1.json k=$GUEST/kvm.json v
	# one VM per boot, the stalled ones too
	jq -e --argjson n "${NAME#rg-}" '[.vms[].name] | sort == ([range(1; $n + 1) | "rg-\(.)"] | sort)' "$j" >/dev/null ||
		{ echo "VMs: $(jq -c '[.vms[].name]' "$j")"; return 1; }
	jq -e '[.dropped[]] | add == 0' "$j" >/dev/null || { echo "drops: $(jq -c .dropped "$j")"; return 1; }
	# every page of every VM created (or adopted) was zapped when it ended
	jq -e '[.vms[] | .shadow_pages.zapped == .shadow_pages.created + .shadow_pages_adopted and
		.shadow_pages_live == 0] | all' "$j" >/dev/null ||
		{ echo "pages: $(jq -c '[.vms[] | {name, shadow_pages, shadow_pages_adopted, shadow_pages_live}]' "$j")"; return 1; }
	v=$(vm "$1")
	jq -e '([.translation_writes_by_page[].count] | add) == ([.translation_writes[]] | add)' <<<"$v" >/dev/null ||
		{ echo "by page: $(jq -c '[.translation_writes, .translation_writes_by_page]' <<<"$v")"; return 1; }
	jq -e --slurpfile k "$k" '.shadow_pages.created == $k[0].mmu_cache_miss and
		.translation_writes.fault >= $k[0].pf_fixed and
		.translation_writes.fault <= $k[0].pf_fixed + $k[0].pf_emulate' <<<"$v" >/dev/null ||
		{ echo "[created, fault writes] $(jq -c '[.shadow_pages.created, .translation_writes.fault]' <<<"$v"), KVM [mmu_cache_miss, pf_fixed, pf_emulate] $(jq -c '[.mmu_cache_miss, .pf_fixed, .pf_emulate]' "$k")"; return 1; }
	# what shadowtrace read of KVM's statistics is what the VMM's side read
	# (record's report is its recording's: no kvm_stats). A tracer's last
	# read may fall in the VM's teardown: QEMU's memory is unmapped, so KVM
	# zaps every page, before the VM's debugfs directory goes. Then the
	# zaps and the live gauges have moved; nothing else may.
	if [[ $1 == tracepoint ]]; then
		jq -e 'has("kvm_stats") | not' <<<"$v" >/dev/null || { echo "record reports kvm_stats"; return 1; }
	else
		jq -e --slurpfile k "$k" '.kvm_stats | length >= 12 and .mmu_shadow_zapped >= $k[0].mmu_shadow_zapped and
			(to_entries | all(.value == $k[0][.key] or (.key | test("^(mmu_shadow_zapped|mmu_unsync|pages_.*)$"))))' \
			<<<"$v" >/dev/null || { echo "kvm_stats $(jq -c .kvm_stats <<<"$v"), debugfs $(jq -c . "$k")"; return 1; }
	fi
	jq -r '"\(.shadow_pages.created) pages, \(.translation_writes.fault) fault writes"' <<<"$v"
}

# every mode saw the same figures, of every VM (change intervals are
# timings: counts only)
all_vms() { jq -S "[.vms | sort_by(.name)[] | {name} + $FIGURES]" "$TMP/$1.json"; }
modes_agree() {
	local m want got
	want=$(all_vms tracepoint)
	for m in $MODES; do
		got=$(all_vms "$m")
		[[ $got == "$want" ]] || { echo "tracepoint vs $m:"; diff <(echo "$want") <(echo "$got") | head -20; return 1; }
	done
}

replay_is_live() {
	"$ST_BIN" report "$TMP/rg.strec" --json >"$TMP/replay.json" &&
		same_report "$TMP/tracepoint.json" "$TMP/replay.json"
}

table() {
	local m
	printf 'REALGUEST %-10s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n' mode created c_miss synced fault pf_fixed pf_emul sync zapped sh_zap
	for m in $MODES; do
		vm "$m" | jq -r --slurpfile k "$GUEST/kvm.json" --arg m "$m" \
			'[$m, .shadow_pages.created, $k[0].mmu_cache_miss, .shadow_pages.synced, .translation_writes.fault,
			  $k[0].pf_fixed, $k[0].pf_emulate, .translation_writes.sync, .shadow_pages.zapped, $k[0].mmu_shadow_zapped] | @tsv' |
			awk -F'\t' '{printf "REALGUEST %-10s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10}'
	done
}

if check traced_run traced_run; then
	read -r boot <"$TMP/boot"
	NAME=rg-$boot GUEST=$TMP/guest-$boot
	for m in $MODES; do check "figures_$m" figures_hold "$m"; done
	check modes_agree modes_agree
	check replay_equals_live replay_is_live
	table
fi
echo "REALGUEST-CHECKS failed=$failed"
[[ $failed == 0 ]]
