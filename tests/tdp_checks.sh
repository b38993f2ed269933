#!/usr/bin/env bash
# The TDP MMU checks, run inside the npt=1 test VM by lane_tdp_mmu
# (tools/testvm/run --npt): KVM maps the micro-guest's memory with the TDP
# MMU (NPT), as on nearly every production host. Its pages are not shadow
# pages: in every attach mode the VM is listed with no shadow figures,
# nothing is dropped, and shadowtrace's count of TDP MMU pages created and
# zapped equals the kernel's own count of the kvmmmu tracepoints that say
# so (kvm_mmu_get_page, kvm_mmu_prepare_zap_page), counted by ftrace.
# Prints one PASS/FAIL line per check; exit 1 if any failed.
set -u
cd "$(dirname "$0")/.." || exit 1
ST_BIN=${ST_BIN:-./shadowtrace}
MG_BIN=${MG_BIN:-tools/microguest/microguest}
TMP=$(mktemp -d /tmp/shadowtrace-tdp.XXXXXX)
TRACING=/sys/kernel/tracing/instances/shadowtrace-tdp
trap 'rmdir "$TRACING" 2>/dev/null; rm -rf "$TMP"' EXIT
EVENTS="kvm_mmu_get_page kvm_mmu_prepare_zap_page"
failed=0

# check_line (tests/lib.sh)
. tests/lib.sh
check() { check_line tdp_ "$@"; }

tdp_mmu_on() {
	[[ $(cat /sys/module/kvm_amd/parameters/npt) == [Y1] ]] || { echo "kvm_amd npt is off"; return 1; }
	[[ $(cat /sys/module/kvm/parameters/tdp_mmu) == [Y1] ]] || { echo "KVM's tdp_mmu is off"; return 1; }
}

# kernel_count FILE COMMAND...: the kvmmmu tracepoints fired while COMMAND
# ran, counted by ftrace, into FILE as {"created": N, "zapped": N};
# COMMAND's output goes on.
kernel_count() {
	local out=$1 e
	shift
	mkdir "$TRACING" || return 1
	echo 8192 >"$TRACING/buffer_size_kb"
	for e in $EVENTS; do echo 1 >"$TRACING/events/kvmmmu/$e/enable"; done
	"$@"
	for e in $EVENTS; do echo 0 >"$TRACING/events/kvmmmu/$e/enable"; done
	printf '{"created": %d, "zapped": %d}\n' "$(grep -c ' kvm_mmu_get_page:' "$TRACING/trace")" \
		"$(grep -c ' kvm_mmu_prepare_zap_page:' "$TRACING/trace")" >"$out"
	# a full per-CPU buffer would lose the oldest: none may be lost
	grep -q 'entries-in-buffer/entries-written: \([0-9]*\)/\1 ' "$TRACING/trace" ||
		{ grep entries-in-buffer "$TRACING/trace" >&2; return 1; }
	rmdir "$TRACING"
}

# MODE SCENARIO: a TDP VM traced in MODE is listed, with no shadow figures,
# no drops, and exactly the kernel's count of TDP MMU events.
traced_tdp_vm() {
	local mode=$1 scenario=$2 want got
	kernel_count "$TMP/want" timeout 900 "$ST_BIN" --attach "$mode" --json \
		-c "$MG_BIN -name guest=tdp $scenario 128" >"$TMP/$mode.json" 2>"$TMP/$mode.err" ||
		{ cat "$TMP/$mode.err"; return 1; }
	want=$(jq -c . "$TMP/want")
	got=$(jq -c .tdp_mmu_pages "$TMP/$mode.json")
	[[ $got == "$want" ]] && jq -e '.created > 0' "$TMP/want" >/dev/null ||
		{ echo "tdp_mmu_pages $got, the kernel's tracepoints $want"; return 1; }
	jq -e '[.dropped[]] | add == 0' "$TMP/$mode.json" >/dev/null ||
		{ echo "drops: $(jq -c .dropped "$TMP/$mode.json")"; return 1; }
	jq -e '[.vms[] | select(.name == "tdp")] | length == 1' "$TMP/$mode.json" >/dev/null ||
		{ echo "VMs: $(jq -c '[.vms[].name]' "$TMP/$mode.json")"; return 1; }
	jq -e '.vms[] | select(.name == "tdp") | .shadow_pages.created == 0 and .shadow_pages_adopted == 0
		and ([.translation_writes[]] | add) == 0' "$TMP/$mode.json" >/dev/null ||
		{ echo "shadow figures: $(jq -c '.vms[] | {shadow_pages, translation_writes}' "$TMP/$mode.json")"; return 1; }
	jq -e '.vms[] | select(.name == "tdp") | .mmu == "tdp"' "$TMP/$mode.json" >/dev/null ||
		{ echo "mmu: $(jq -c '[.vms[] | {name, mmu}]' "$TMP/$mode.json")"; return 1; }
	echo "tdp_mmu_pages $got, as ftrace counted; mmu tdp"
}

check mmu_on tdp_mmu_on
# fault-churn: faults only; hugepage-dirtylog: dirty logging splits the
# TDP MMU's huge pages too (its split tracepoint)
for scenario in fault-churn hugepage-dirtylog; do
	for mode in tracepoint kprobe fentry auto; do
		check "${scenario}_$mode" traced_tdp_vm "$mode" "$scenario"
	done
done
echo "TDP-CHECKS failed=$failed"
[[ $failed == 0 ]]
