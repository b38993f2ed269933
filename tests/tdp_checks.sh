#!/usr/bin/env bash
# The TDP MMU checks, run inside the npt=1 test VM by lane_tdp_mmu
# (tools/testvm/run --npt): KVM maps the micro-guest's memory with the TDP
# MMU (NPT), as on nearly every production host. Its pages are not shadow
# pages: in every attach mode the VM is listed with no shadow figures,
# nothing is dropped, and shadowtrace's count of TDP MMU pages created and
# zapped equals the kernel's own count of the kvmmmu tracepoints that say
# so (kvm_mmu_get_page, kvm_mmu_prepare_zap_page), counted by ftrace.
# The nested lane: there the shadow MMU serves nested guests, as on
# production hosts. Each nested scenario (an L1 micro-hypervisor runs an
# L2 on its NPT) matches its ground truth exactly in every attach mode,
# nothing dropped, the VM's MMU "tdp+nested-shadow"; eager splits KVM
# retried (-EAGAIN, when it refilled its caches: not a failure, and not
# deterministic) are counted by ftrace and must be what splits.retried says.
# Prints one PASS/FAIL line per check; exit 1 if any failed.
set -u
cd "$(dirname "$0")/.." || exit 1
ST_BIN=${ST_BIN:-./shadowtrace}
MG_BIN=${MG_BIN:-tools/microguest/microguest}
TMP=$(mktemp -d /tmp/shadowtrace-tdp.XXXXXX)
TRACING=/sys/kernel/tracing/instances/shadowtrace-tdp
HUGEPAGES=/proc/sys/vm/nr_hugepages
hugepages_before=$(cat "$HUGEPAGES")
trap 'rmdir "$TRACING" 2>/dev/null; echo "$hugepages_before" >"$HUGEPAGES"; rm -rf "$TMP"' EXIT
EVENTS="kvm_mmu_get_page kvm_mmu_prepare_zap_page kvm_mmu_split_huge_page"
failed=0

# check_line (tests/lib.sh)
. tests/lib.sh
check() { check_line tdp_ "$@"; }

tdp_mmu_on() {
	[[ $(cat /sys/module/kvm_amd/parameters/npt) == [Y1] ]] || { echo "kvm_amd npt is off"; return 1; }
	[[ $(cat /sys/module/kvm/parameters/tdp_mmu) == [Y1] ]] || { echo "KVM's tdp_mmu is off"; return 1; }
}

# kernel_count FILE COMMAND...: the kvmmmu tracepoints fired while COMMAND
# ran, counted by ftrace, into FILE as {"created": N, "zapped": N}, and
# into FILE.retried the eager splits of the guest's data KVM retried
# (-EAGAIN; gfn 0x200..: no TDP MMU page of L1 maps it); COMMAND's output
# goes on.
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
	local gfn retried=0
	for gfn in $(sed -n 's/.* kvm_mmu_split_huge_page: gfn \([0-9a-f]*\) .* errno -11$/\1/p' "$TRACING/trace"); do
		((16#$gfn >= 0x200)) && retried=$((retried + 1))
	done
	echo "$retried" >"$out.retried"
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

# MODE SCENARIO N: a nested scenario's VM traced (and recorded) in MODE
# has its ground truth, splits.retried is ftrace's count of -EAGAIN
# splits, and the recording replays to the live figures.
traced_nested_vm() {
	local mode=$1 scenario=$2 n=$3 retried unseen=0 want got
	kernel_count "$TMP/kernel" timeout 900 "$ST_BIN" record -o "$TMP/$mode.strec" --attach "$mode" --json \
		-c "$MG_BIN -name guest=l2 $scenario $n" >"$TMP/$mode.json" 2>"$TMP/$mode.err" ||
		{ cat "$TMP/$mode.err"; return 1; }
	retried=$(cat "$TMP/kernel.retried")
	# the splits of an alias find a full child page: its writes are unseen
	# where no function probe sees a split's stores (tracepoint mode)
	[[ $scenario == nested-hugepage-alias && $mode == tracepoint ]] && unseen=$(((n + 511) / 512))
	want=$("$MG_BIN" --expect "$scenario" "$n" | jq -S --argjson r "$retried" --argjson u "$unseen" \
		'.splits.retried = $r | .unobservable.split_writes = $u' | jq -S "$FIGURES")
	got=$(jq -S '.vms[] | select(.name == "l2")' "$TMP/$mode.json" | jq -S "$FIGURES")
	[[ -n $got && $want == "$got" ]] ||
		{ echo "differs from the ground truth:"; diff <(echo "$want") <(echo "$got") | head -30; return 1; }
	jq -e '[.dropped[]] | add == 0' "$TMP/$mode.json" >/dev/null ||
		{ echo "drops: $(jq -c .dropped "$TMP/$mode.json")"; return 1; }
	jq -e '.vms[] | select(.name == "l2") | .mmu == "tdp+nested-shadow"' "$TMP/$mode.json" >/dev/null ||
		{ echo "mmu: $(jq -c '[.vms[] | {name, mmu}]' "$TMP/$mode.json")"; return 1; }
	"$ST_BIN" report --json "$TMP/$mode.strec" >"$TMP/$mode.replay.json" &&
		same_report "$TMP/$mode.json" "$TMP/$mode.replay.json" ||
		{ echo "the recording replays to other figures"; return 1; }
	echo "ground truth exactly, $(jq -c '.vms[] | select(.name == "l2") | {translation_writes, splits, unobservable}' "$TMP/$mode.json")"
}

check mmu_on tdp_mmu_on
# fault-churn: faults only; hugepage-dirtylog: dirty logging splits the
# TDP MMU's huge pages too (its split tracepoint)
for scenario in fault-churn hugepage-dirtylog; do
	for mode in tracepoint kprobe fentry auto; do
		check "${scenario}_$mode" traced_tdp_vm "$mode" "$scenario"
	done
done
# MODE: VMs one after another in one process, as VMMs that re-create VMs
# do (QEMU after a reset, sandbox pools): KVM tends to put each at the
# address of the last, yet each is its own record: 21 TDP-only VMs (as
# KVM's set_memory_region_test makes), listed with no shadow figures, then
# 3 nested ones, each its ground truth exactly.
vms_back_to_back() {
	local mode=$1 j=$TMP/b2b.$1.json got
	shift
	timeout 900 "$ST_BIN" --attach "$mode" "$@" --json -c "$MG_BIN -name guest=tb --serial 21 fault-churn 64 &&
		$MG_BIN -name guest=nb --serial 3 nested-fault-churn 64" >"$j" 2>"$TMP/err" ||
		{ tail -n 3 "$TMP/err"; return 1; }
	jq -e '[.dropped[]] | add == 0' "$j" >/dev/null || { echo "drops: $(jq -c .dropped "$j")"; return 1; }
	got=$(jq '[.vms[] | select(.name == "tb" and .mmu == "tdp" and .shadow_pages.created == 0
		and ([.translation_writes[]] | add) == 0)] | length' "$j")
	[[ $got == 21 ]] || { echo "TDP-only VMs: $got of 21: $(jq -c '[.vms[] | {name, mmu}]' "$j")"; return 1; }
	expect_vms nb 3 nested-fault-churn 64 "$j" || return 1
	jq -e '[.vms[] | select(.name == "nb") | .mmu == "tdp+nested-shadow"] | all' "$j" >/dev/null ||
		{ echo "mmu: $(jq -c '[.vms[] | {name, mmu}]' "$j")"; return 1; }
	echo "21 TDP-only VMs, 3 nested ones exact"
}
for mode in tracepoint kprobe fentry; do
	check "vms_back_to_back_$mode" vms_back_to_back "$mode"
done
# where the kernel is read by BTF loads (6.2+), the helper reads of older kernels too
if "$ST_BIN" --list-probes | grep -q 'by BTF loads'; then
	check vms_back_to_back_tracepoint_probe_reads vms_back_to_back tracepoint --skip-probe bpf_rdonly_cast
fi

# The demo as a user runs it on an EPT/NPT host: the shadow-paging
# scenarios are skipped (no shadow pages here), the nested ones exact.
demo_shows_nested() {
	timeout 900 "$ST_BIN" demo -n 64 --json >"$TMP/demo.json" 2>"$TMP/demo.err" ||
		{ tail -n 3 "$TMP/demo.err"; return 1; }
	jq -e '.vms == 7 and .matched == 7 and .skipped_scenarios == 8 and ([.dropped[]] | add) == 0
		and ([.scenarios[].scenario | startswith("nested-")] | all)' "$TMP/demo.json" >/dev/null ||
		{ jq -c '{vms, matched, skipped_scenarios, dropped, s: [.scenarios[].scenario]}' "$TMP/demo.json"; return 1; }
	echo "$(jq -r '[.scenarios[].scenario] | join(" ")'  "$TMP/demo.json"): 7 of 7 VMs exact"
}

# 2 MiB hugetlbfs pages for nested-hugetlb-dirtylog (restored on exit)
echo 64 >"$HUGEPAGES"
check hugepages_reserved test "$(cat "$HUGEPAGES")" -ge 32

# N: 700 spans two NPT leaf tables, two 2 MiB pages; 2048 splits four.
# The three attach modes (auto is fentry here, as the TDP checks show).
for scenario in nested-fault-churn:700 nested-sync-flip:700 nested-remap:700 \
	nested-hugepage-dirtylog:2048 nested-hugetlb-dirtylog:2048 nested-hugepage-alias:700 \
	nested-clear-dirtylog:700; do
	for mode in tracepoint kprobe fentry; do
		check "${scenario%:*}_$mode" traced_nested_vm "$mode" "${scenario%:*}" "${scenario#*:}"
	done
done
check demo demo_shows_nested
echo "TDP-CHECKS failed=$failed"
[[ $failed == 0 ]]
