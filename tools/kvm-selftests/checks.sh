#!/usr/bin/env bash
# tools/kvm-selftests/checks.sh SELFTESTS_DIR: run inside the test VM
# (tools/kvm-selftests/run boots it, npt=0 or --npt). Each of KVM's own
# selftests below runs under shadowtrace in each attach mode, and:
#  * passes traced (shadowtrace's exit status is the test's);
#  * nothing is dropped;
#  * every VM ended with zapped == created + adopted, and is served by the
#    MMU this VM's kvm_amd says (npt=0: shadow; npt=1: tdp, no shadow page);
#  * the number of VMs is the test's own (from its source: a VM that never
#    ran a vCPU has no MMU event, so is not seen);
#  * shadow pages and TDP MMU pages created add up to what the kernel's
#    kvm_mmu_get_page tracepoint said (" new"), counted by ftrace in the same
#    run: a second witness, exact even where the test is not deterministic.
# Prints one PASS/FAIL line per check, then one figures line per run.
set -u
cd "$(dirname "$0")/../.." || exit 1
DIR=${1:?usage: checks.sh SELFTESTS_DIR}
ST_BIN=${ST_BIN:-./shadowtrace}
TMP=$(mktemp -d /tmp/shadowtrace-selftests.XXXXXX)
TRACING=/sys/kernel/tracing/instances/shadowtrace-selftests
trap 'rmdir "$TRACING" 2>/dev/null; rm -rf "$TMP"' EXIT
failed=0
. tests/lib.sh
check() { check_line selftest_ "$@"; }

npt=$(cat /sys/module/kvm_amd/parameters/npt)
[[ $npt == [Y1] ]] && mmu=tdp || mmu=shadow

# TEST ARGS VMS: the tests, small sizes (every one runs under emulation)
TESTS=(
	"set_memory_region_test||21"	# 1 with no memslot, 10 moves, 10 deletes
	"dirty_log_test|-i 3 -I 10|3"	# dirty-log, clear-log, dirty-ring
	"memslot_modification_stress_test|-b 16M -i 20|1"
	"demand_paging_test|-b 16M|1"
	"kvm_page_table_test|-b 16M|1"
)

# ftrace's count of kvm_mmu_get_page " new" while the command runs, into FILE
count_new_pages() {
	local out=$1
	shift
	mkdir "$TRACING" || return 1
	echo 16384 >"$TRACING/buffer_size_kb"
	echo 1 >"$TRACING/events/kvmmmu/kvm_mmu_get_page/enable"
	"$@"
	local rc=$?
	echo 0 >"$TRACING/events/kvmmmu/kvm_mmu_get_page/enable"
	grep -c ' kvm_mmu_get_page: .* new$' "$TRACING/trace" >"$out"
	grep -q 'entries-in-buffer/entries-written: \([0-9]*\)/\1 ' "$TRACING/trace" ||
		{ grep entries-in-buffer "$TRACING/trace"; rc=1; }
	rmdir "$TRACING"
	return $rc
}

# TEST ARGS VMS MODE
traced_selftest() {
	local test=$1 args=$2 vms=$3 mode=$4 j=$TMP/$1.$4.json
	count_new_pages "$TMP/new" timeout 1200 "$ST_BIN" --attach "$mode" --json \
		-c "$DIR/$test $args >$TMP/$test.out 2>&1" >"$j" 2>"$TMP/err" ||
		{ tail -n 3 "$TMP/err" "$TMP/$test.out"; return 1; }
	jq -e '[.dropped[]] | add == 0' "$j" >/dev/null || { echo "drops: $(jq -c .dropped "$j")"; return 1; }
	jq -e --argjson n "$vms" '.vms | length == $n' "$j" >/dev/null ||
		{ echo "$(jq '.vms | length' "$j") VMs, want $vms"; return 1; }
	jq -e --arg m "$mmu" '[.vms[] | .mmu == $m and .shadow_pages.zapped ==
		.shadow_pages.created + .shadow_pages_adopted] | all' "$j" >/dev/null ||
		{ echo "VMs: $(jq -c '[.vms[] | {mmu, shadow_pages, shadow_pages_adopted}]' "$j")"; return 1; }
	local got
	got=$(jq '([.vms[].shadow_pages.created] | add) + .tdp_mmu_pages.created' "$j")
	[[ $got == "$(cat "$TMP/new")" ]] ||
		{ echo "pages created $got, kvm_mmu_get_page new: $(cat "$TMP/new")"; return 1; }
	jq -r --arg t "$test" --arg m "$mode" '"FIGURES \($t) \($m): \(.vms | length) VMs, shadow pages \([.vms[].shadow_pages.created] | add),
		TDP MMU pages \(.tdp_mmu_pages.created), writes \([.vms[].translation_writes[]] | add), sync drops \([.vms[].sync_drops[]] | add)"' "$j" |
		tr -s '\t\n' ' '
}

for t in "${TESTS[@]}"; do
	IFS='|' read -r test args vms <<<"$t"
	for mode in tracepoint kprobe fentry; do
		check "${test}_$mode" traced_selftest "$test" "$args" "$vms" "$mode"
	done
done
echo "SELFTESTS ($mmu MMU) failed=$failed"
[[ $failed == 0 ]]
