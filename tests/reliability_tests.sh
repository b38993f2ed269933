# Reliability: VM churn, full maps, attach/detach under load, signals, two
# instances, refusals, files, privileges, leaks (sourced by tests/run.sh).

# 200 VMs, 8 at a time: each exact, nothing dropped, maps back to empty.
live_vm_churn_200() {
	timeout $((120 * SLOW)) "$ST_BIN" --json -c "for i in \$(seq 25); do $MG_BIN -name guest=c --vms 8 fault-churn 64 || exit 1; done" >"$TMP/churn.json"
	local want got
	want=$("$MG_BIN" --expect fault-churn 64 | jq -S -c "$FIGURES")
	[[ $(jq '.vms | length' "$TMP/churn.json") == 200 ]]
	got=$(jq -S -c "[.vms[] | $FIGURES] | unique" "$TMP/churn.json")
	[[ $got == "[$want]" ]] || { echo "VMs differ: $got"; return 1; }
	expect_no_drops "$TMP/churn.json"
	# totals over all VMs equal the sum of the ground truths
	[[ $(jq '[.vms[].translation_writes.fault] | add' "$TMP/churn.json") == $((200 * 129)) ]]
	[[ $(jq '.bpf_maps.shadow_pages' "$TMP/churn.json") == 0 ]]
}

# While tracing as a daemon, VMs come and go: the maps return to empty
# (checked against bpftool, not only our own gauge).
live_maps_back_to_baseline() {
	"$ST_BIN" --json -i 1 >"$TMP/d.json" 2>"$TMP/err" &
	local st=$!
	wait_ready "$TMP/err"
	"$MG_BIN" -name guest=base --vms 4 sync-flip 600
	sleep 2.5
	local entries
	# an array: its entries in use are those with a page's key (pages.bpf.h)
	entries=$(bpftool map dump name sps -j 2>/dev/null | jq '[.[] | select(.formatted.value.key > 1)] | length')
	kill -INT "$st"
	wait "$st"
	[[ $entries == 0 ]] || { echo "sps map holds $entries entries"; return 1; }
	[[ $(tail -n1 "$TMP/d.json" | jq '.bpf_maps.shadow_pages') == 0 ]]
	[[ $(tail -n1 "$TMP/d.json" | jq '.bpf_maps.vm_slots') == 0 ]]
	# each VM was reported exactly, once more after it exited
	jq -s -e '[.[] | .vms[] | select(.name | startswith("base-")) | .alive] | any(. == false)' "$TMP/d.json" >/dev/null
}

# Maps too small on purpose: counted, reported, and a later VM is exact again.
# 8 VMs of 36 pages each, at once, in a table of 128 entries (64 pages
# always fit, pages.bpf.h): surely full.
live_full_maps_counted_then_recovered() {
	timeout $((120 * SLOW)) "$ST_BIN" --json --max-shadow-pages 64 \
		-c "$MG_BIN -name guest=big --vms 8 fault-churn 16384; $MG_BIN -name guest=after fault-churn 100" >"$TMP/p.json"
	[[ $(jq '.dropped.shadow_page_map_full' "$TMP/p.json") -gt 0 ]]
	[[ $(jq '.dropped.unknown_shadow_page' "$TMP/p.json") -gt 0 ]]
	expect_vm after fault-churn 100 "$TMP/p.json"
}

# Attach and detach while VMs fault hard: no failure, consistent figures,
# adopted pages, nothing unknown, no new kernel warning.
live_attach_detach_under_load() {
	local log_mark k adopted=0
	# check WHAT JQ-FILTER: one report's property, or say which and why
	check() {
		jq -e "$2" "$TMP/a$k.json" >/dev/null || {
			echo "attach $k: $1 failed: $(jq -c '{dropped: (.dropped | with_entries(select(.value != 0))),
				vms: [.vms[] | {name, alive,
				fault: .translation_writes.fault, adopted: .shadow_pages_adopted,
				live: .shadow_pages_live, pages: .shadow_pages}]}' "$TMP/a$k.json" 2>&1 | cut -c1-800)"
			return 1
		}
	}
	log_mark=$(log_mark_now)
	# niced: they fault whenever a CPU is free, yet leave the tracer's
	# attach its time (one emulated CPU in the test VM)
	for i in 1 2 3 4; do nice -n 19 "$MG_BIN" -name "guest=load$i" --passes 100000 reuse 512 >/dev/null 2>&1 & done
	trap 'pkill -f "guest=load" 2>/dev/null || true' EXIT
	sleep 0.5
	for k in $(seq 8); do
		# attach (about a second of BPF verification), trace 0.3-1.0 s, detach
		"$ST_BIN" --json >"$TMP/a$k.json" 2>"$TMP/err$k" &
		local st=$!
		wait_ready "$TMP/err$k"
		sleep "0.$((3 + RANDOM % 8))"
		kill -INT "$st"
		wait "$st"
		check "final report" '.final == true'
		check "changes <= writes" '[.vms[] | .translation_writes.fault + .translation_writes.prefetch
			+ .translation_writes.sync >= ([.access_changes[].count] | add // 0)] | all'
		check "nothing unknown" '.dropped.unknown_shadow_page == 0 and
			.dropped.kernel_read_fault == 0 and .dropped.unknown_vm == 0'
		check "all 4 VMs seen" '[.vms[] | select(.name | startswith("load"))] | length == 4'
		# a VM first seen creating its pages right after a memslot zap
		# adopts none, so adoption is summed over the runs; each page is
		# accounted for in every run
		check "pages accounted" '[.vms[] | .shadow_pages_adopted + .shadow_pages.created
			- .shadow_pages.zapped == .shadow_pages_live] | all'
		adopted=$((adopted + $(jq '[.vms[].shadow_pages_adopted] | add' "$TMP/a$k.json")))
	done
	[[ $adopted -gt 0 ]] || { echo "no pages adopted in 8 attaches"; return 1; }
	pkill -f "guest=load"
	wait 2>/dev/null || true
	! bpftool prog show | grep -q tp_set_spte
	expect_no_kernel_warning_since "$log_mark"
}

# SIGHUP ends cleanly too; two instances at once each see the VM exactly.
live_two_instances_and_sighup() {
	"$ST_BIN" --json >"$TMP/one.json" 2>"$TMP/err1" &
	local a=$!
	"$ST_BIN" --json --prom-file "$TMP/two.prom" >"$TMP/two.json" 2>"$TMP/err2" &
	local b=$!
	wait_ready "$TMP/err1"
	wait_ready "$TMP/err2"
	"$MG_BIN" -name guest=both sync-flip 300
	sleep 0.3
	kill -HUP "$a"
	kill -TERM "$b"
	wait "$a"
	wait "$b"
	expect_vm both sync-flip 300 "$TMP/one.json"
	expect_vm both sync-flip 300 "$TMP/two.json"
	promtool check metrics <"$TMP/two.prom"
	! bpftool prog show | grep -q tp_set_spte
}

# Kernel without BTF (hidden in a private mount namespace): exit 3, one line.
kernel_refuse_no_btf() {
	needs_root
	expect_one_line_error 3 "kernel has no BTF" unshare -m sh -c \
		"mount -t tmpfs none /sys/kernel/btf && exec $ST_BIN -d 1"
}

# An output path that is a symlink: replaced, never followed.
live_prom_symlink_not_followed() {
	mkdir "$TMP/s"
	: >"$TMP/victim"
	ln -s "$TMP/victim" "$TMP/s/st.prom"
	timeout $((60 * SLOW)) "$ST_BIN" --prom-file "$TMP/s/st.prom" -c "$MG_BIN fault-churn 10" >/dev/null
	[[ ! -s $TMP/victim ]]
	[[ -f $TMP/s/st.prom && ! -L $TMP/s/st.prom ]]
	[[ $(stat -c %a "$TMP/s/st.prom") == 644 ]]
}

# Attached, shadowtrace holds no capability.
live_drops_privileges() {
	"$ST_BIN" --json >/dev/null 2>"$TMP/err" &
	local st=$!
	wait_ready "$TMP/err"
	local caps
	caps=$(awk '/^CapEff/ {print $2}' "/proc/$st/status")
	kill -INT "$st"
	wait "$st"
	[[ $caps == 0000000000000000 ]] || { echo "CapEff $caps"; return 1; }
}

# The long-running loop under valgrind: no leak (release build).
live_valgrind_no_leaks() {
	command -v valgrind >/dev/null || { echo "valgrind missing (make deps)"; return 1; }
	timeout $((300 * SLOW)) valgrind -q --suppressions=tests/valgrind.supp --leak-check=full \
		--errors-for-leak-kinds=definite,indirect \
		--error-exitcode=9 "$RELEASE_BIN" -i 1 --json --prom-file "$TMP/vg.prom" \
		-c "for i in 1 2 3; do $MG_BIN -name guest=vg --vms 4 sync-flip 128; sleep 0.6; done" \
		>"$TMP/vg.json" 2>"$TMP/vg.err" || { cat "$TMP/vg.err" | head -30; return 1; }
	[[ $(tail -n1 "$TMP/vg.json" | jq '.vms | length') == 12 ]]
}

# A VM first seen at its teardown (zaps from the exiting VMM: no vCPU, no
# zap_all_fast): found through its page list, its pages adopted and counted.
live_vm_first_seen_at_teardown() {
	trace_after_pause 2 -name guest=late fault-churn 100
	jq -e '.dropped.unknown_vm == 0 and .dropped.unknown_shadow_page == 0' "$TMP/trace.json" >/dev/null ||
		{ echo "dropped: $(jq -c .dropped "$TMP/trace.json")"; return 1; }
	# PML4, PDPT, PD, PT0 and one data PT: adopted at teardown, all zapped
	jq -e '.vms[0] | .name == "late" and .shadow_pages_adopted == 5 and
		.shadow_pages.zapped == 5 and .translation_writes.fault == 0' "$TMP/trace.json" >/dev/null ||
		{ echo "got: $(jq -c '.vms' "$TMP/trace.json" | cut -c1-400)"; return 1; }
}
