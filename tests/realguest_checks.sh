#!/usr/bin/env bash
# The real-guest checks, run inside the test VM by lane_real_guest: QEMU,
# the VMM users run, boots a real Linux guest (tools/realguest/run) under
# the test VM's KVM, shadow paging, once per attach mode. A real guest is
# not deterministic, so the checks are relations: the VM is named from
# QEMU's command line; nothing is dropped; every page created was zapped
# when the VM ended; KVM's own statistics (debugfs, read while the
# powered-off guest stood still) agree where their meanings coincide; a
# recording replays to the live figures; and the modes agree on what a
# synced page costs in sync writes (within 10 %: separate runs).
# Prints one PASS/FAIL line per check and a table; exit 1 if any failed.
#   REALGUEST_KERNEL  the guest's kernel (default: the running one's, from
#                     the test VM's cache)   REALGUEST_ROUNDS (default 100)
set -u
cd "$(dirname "$0")/.." || exit 1
ST_BIN=${ST_BIN:-./shadowtrace}
KERNEL=${REALGUEST_KERNEL:?the guest kernel}
ROUNDS=${REALGUEST_ROUNDS:-100}
TMP=$(mktemp -d /tmp/shadowtrace-realguest-checks.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
MODES="tracepoint kprobe fentry"
failed=0

check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		echo "PASS real_guest_$name${out:+ ($out)}"
	else
		echo "FAIL real_guest_$name: $(tr '\n' ' ' <<<"$out" | cut -c1-1200)"
		failed=$((failed + 1))
	fi
}

# the guest's figures in MODE's report
vm() { jq -c --arg m "$1" '.vms[] | select(.name == "rg")' "$TMP/$1.json"; }

# MODE: the guest traced in MODE (tracepoint mode recorded too)
traced() {
	local mode=$1 t0=$SECONDS cmd=(--attach "$mode" --json)
	[[ $mode == tracepoint ]] && cmd=(record -o "$TMP/rg.strec" "${cmd[@]}")
	timeout 2400 "$ST_BIN" "${cmd[@]}" -c "tools/realguest/run --rounds $ROUNDS rg $KERNEL $TMP/$mode" \
		>"$TMP/$mode.json" 2>"$TMP/$mode.err" || { tail -n 5 "$TMP/$mode.err"; return 1; }
	[[ -s $TMP/$mode/kvm.json ]] || { echo "no KVM statistics"; return 1; }
	echo "$((SECONDS - t0)) s"
}

# MODE: the report's relations and KVM's statistics
figures_hold() {
	local j=$TMP/$1.json k=$TMP/$1/kvm.json v
	[[ $(jq '[.vms[] | select(.name == "rg")] | length' "$j") == 1 ]] ||
		{ echo "VMs: $(jq -c '[.vms[].name]' "$j")"; return 1; }
	jq -e '[.dropped[]] | add == 0' "$j" >/dev/null || { echo "drops: $(jq -c .dropped "$j")"; return 1; }
	v=$(vm "$1")
	# every page the VM had was zapped when KVM destroyed it
	jq -e '.shadow_pages.zapped == .shadow_pages.created + .shadow_pages_adopted and .shadow_pages_live == 0' \
		<<<"$v" >/dev/null || { echo "pages: $(jq -c '{shadow_pages, shadow_pages_adopted, shadow_pages_live}' <<<"$v")"; return 1; }
	# fault writes by page kind and level add up to the fault writes
	jq -e '([.translation_writes_by_page[][]] | add) == .translation_writes.fault' <<<"$v" >/dev/null ||
		{ echo "by page: $(jq -c '[.translation_writes.fault, .translation_writes_by_page]' <<<"$v")"; return 1; }
	# KVM's witness: pages created = mmu_cache_miss, fault writes = pf_fixed
	jq -e --slurpfile k "$k" '.shadow_pages.created == $k[0].mmu_cache_miss and
		.translation_writes.fault == $k[0].pf_fixed' <<<"$v" >/dev/null ||
		{ echo "[created, fault writes] $(jq -c '[.shadow_pages.created, .translation_writes.fault]' <<<"$v"), KVM [mmu_cache_miss, pf_fixed] $(jq -c '[.mmu_cache_miss, .pf_fixed]' "$k")"; return 1; }
	jq -r '"\(.shadow_pages.created) pages, \(.translation_writes.fault) fault writes, as KVM counted"' <<<"$v"
}

replay_is_live() {
	local filter='del(.timestamp, .elapsed_s, .bpf_maps, .tdp_mmu_pages, .vms[].kvm_stats)'
	"$ST_BIN" report "$TMP/rg.strec" --json >"$TMP/replay.json" || return 1
	diff <(jq -S "$filter" "$TMP/tracepoint.json") <(jq -S "$filter" "$TMP/replay.json") | head -20
	[[ -z $(diff <(jq -S "$filter" "$TMP/tracepoint.json") <(jq -S "$filter" "$TMP/replay.json")) ]]
}

# sync writes per synced page: within 10 % of the tracepoint mode's
modes_agree_on_sync() {
	local m base r
	base=$(vm tracepoint | jq '.translation_writes.sync / .shadow_pages.synced')
	for m in $MODES; do
		r=$(vm "$m" | jq '.translation_writes.sync / .shadow_pages.synced')
		jq -en --argjson a "$base" --argjson b "$r" '($a - $b | fabs) <= 0.1 * ([$a, $b] | max)' >/dev/null ||
			{ echo "sync writes per synced page: tracepoint $base, $m $r"; return 1; }
	done
}

table() {
	local m
	printf '%-10s %8s %8s %8s %8s %8s %8s %9s %8s\n' mode created cachemis synced fault pf_fixed sync zapped shzapped
	for m in $MODES; do
		[[ -s $TMP/$m.json && -s $TMP/$m/kvm.json ]] || continue
		vm "$m" | jq -r --slurpfile k "$TMP/$m/kvm.json" --arg m "$m" \
			'[$m, .shadow_pages.created, $k[0].mmu_cache_miss, .shadow_pages.synced, .translation_writes.fault,
			  $k[0].pf_fixed, .translation_writes.sync, .shadow_pages.zapped, $k[0].mmu_shadow_zapped] | @tsv' |
			awk -F'\t' '{printf "%-10s %8s %8s %8s %8s %8s %8s %9s %8s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9}'
	done
}

for mode in $MODES; do
	check "runs_$mode" traced "$mode" && check "figures_$mode" figures_hold "$mode"
done
check replay_equals_live replay_is_live
check modes_agree_on_sync modes_agree_on_sync
table
echo "REALGUEST-CHECKS failed=$failed"
[[ $failed == 0 ]]
