# Command-line behaviour that needs no KVM (sourced by tests/run.sh).

cli_decode() {
	local out
	out=$(expect_status 0 "$ST_BIN" decode 0x1234007)
	grep -q '^gfn    0x1234 (gpa 0x1234000)$' <<<"$out"
	grep -q '^access wux (write user exec)$' <<<"$out"
	out=$(expect_status 0 "$ST_BIN" decode --json 0x200005)
	[[ $(jq -c . <<<"$out") == '{"value":2097157,"gfn":512,"gpa":2097152,"access":"-ux","reserved_bits":0}' ]]
}

cli_bad_numbers() {
	expect_one_line_error 2 "invalid --interval 'abc'" "$ST_BIN" -i abc
	expect_one_line_error 2 "invalid --interval '0'" "$ST_BIN" -i 0
	expect_one_line_error 2 "invalid --duration '-5'" "$ST_BIN" -d -5
	expect_one_line_error 2 "invalid --pid '12x'" "$ST_BIN" -p 12x
	expect_one_line_error 2 "invalid --max-vms '0'" "$ST_BIN" --max-vms 0
	expect_one_line_error 2 "invalid --max-shadow-pages '99999999999'" "$ST_BIN" --max-shadow-pages 99999999999
	expect_one_line_error 2 "invalid -n '0'" "$ST_BIN" demo -n 0
	expect_one_line_error 2 "invalid --vms '65'" "$ST_BIN" demo --vms 65
}

cli_bad_words() {
	expect_one_line_error 2 "unexpected argument 'frobnicate'" "$ST_BIN" frobnicate
	expect_one_line_error 2 "unknown scenario 'nope'" "$ST_BIN" demo --scenario nope
	expect_one_line_error 2 "cannot decode 'zz'" "$ST_BIN" decode zz
	expect_one_line_error 2 "decode needs a value" "$ST_BIN" decode
	expect_one_line_error 2 "--scenario is a demo option" "$ST_BIN" --scenario remap
	expect_one_line_error 2 "unrecognized option" "$ST_BIN" --bogus
}

cli_help() {
	local out
	out=$(expect_status 0 "$ST_BIN" --help)
	grep -q 'Exit status: 0 ok' <<<"$out"
	grep -q -- '--max-shadow-pages' <<<"$out"
}

cli_microguest_usage() {
	expect_one_line_error 2 "unknown scenario" "$MG_BIN" warp 10
	expect_one_line_error 2 "N must be between" "$MG_BIN" fault-churn 0
	expect_one_line_error 2 "usage" "$MG_BIN"
}

# Refusals of the environment: exit 3 with one line (run as an unprivileged user).
cli_refuse_unprivileged() {
	command -v setpriv >/dev/null || return 0
	[[ $(id -u) -eq 0 ]] || return 0
	expect_one_line_error 3 "needs root \(or CAP_BPF and CAP_PERFMON\)" \
		setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$ST_BIN" -d 1
}

# btf_of NAME: a BTF file compiled from tests/btf/NAME.c
btf_of() {
	clang -g -O2 -target bpf -c "tests/btf/$1.c" -o "$TMP/$1.o"
	echo "$TMP/$1.o"
}

cli_refuse_kvm_missing() {
	[[ $(id -u) -eq 0 ]] || return 0
	expect_one_line_error 3 "KVM is not loaded" env SHADOWTRACE_CHECK_BTF="$(btf_of no_kvm)" "$ST_BIN" -d 1
}

cli_refuse_kernel_without_cache() {
	[[ $(id -u) -eq 0 ]] || return 0
	expect_one_line_error 3 "neither shadowed_translation nor gfns" \
		env SHADOWTRACE_CHECK_BTF="$(btf_of no_cache)" "$ST_BIN" -d 1
}

# A pre-5.19 KVM (gfns only) is traced, and says access is unknown.
cli_old_gfns_layout_accepted() {
	[[ $(id -u) -eq 0 ]] || return 0
	local out
	out=$(SHADOWTRACE_CHECK_BTF="$(btf_of old_layout)" "$ST_BIN" --list-probes)
	grep -q '; cache gfns (before Linux 5.19: gfn only, access unknown)$' <<<"$out"
}

cli_attach_modes() {
	expect_one_line_error 2 "unknown --attach mode 'bogus'" "$ST_BIN" --attach bogus -d 1
	expect_one_line_error 2 "--skip-probe: at most 8 functions" "$ST_BIN" \
		$(printf -- '--skip-probe f%d ' 1 2 3 4 5 6 7 8 9) -d 1
	[[ $(id -u) -eq 0 ]] || return 0
	# this platform: no kprobes, fentry refused (platform.md 1)
	[[ ! -e /sys/bus/event_source/devices/kprobe ]] || return 0
	expect_one_line_error 3 "--attach kprobe: no hook can use one on this kernel .kvm_mmu_page_set_translation: this kernel has no kprobes" \
		"$ST_BIN" --attach kprobe -d 1
	expect_one_line_error 3 "--attach fentry: no hook can use one on this kernel" \
		"$ST_BIN" --attach fentry -d 1
}

# --list-probes on this platform: every hook on its tracepoint, each
# function probe refused for the reason this kernel gives.
cli_list_probes() {
	[[ $(id -u) -eq 0 && ! -e /sys/bus/event_source/devices/kprobe ]] || return 0
	local out
	out=$("$ST_BIN" --list-probes --skip-probe mmu_set_spte)
	grep -q -- '--attach auto: tracepoint; cache shadowed_translation' <<<"$out"
	[[ $(grep -c ' chosen' <<<"$out") -eq 5 ]]
	grep -qE '^set_translation +tracepoint +kvmmmu:kvm_mmu_set_spte +chosen' <<<"$out"
	grep -qE '^set_access +tracepoint +kvmmmu:kvm_mmu_set_spte +chosen' <<<"$out"
	grep -qE '^sync +tracepoint +kvmmmu:kvm_mmu_sync_page +chosen' <<<"$out"
	grep -qE '^split +tracepoint +kvmmmu:kvm_mmu_split_huge_page +chosen' <<<"$out"
	grep -qE '^set_translation +fentry +kvm_mmu_page_set_translation +no: inlined; only the compiler clone kvm_mmu_page_set_translation\.part\.0' <<<"$out"
	grep -qE '^set_translation +fentry +__rmap_add +no: refused by the kernel: Operation not permitted' <<<"$out"
	grep -qE '^set_translation +kprobe +__rmap_add +no: this kernel has no kprobes' <<<"$out"
	grep -qE '^set_access +fentry +mmu_set_spte \(\+return\) +no: skipped \(--skip-probe\)' <<<"$out"
	grep -qE '^set_access +fentry +kvm_mmu_page_set_access +no: no such symbol' <<<"$out"
	# no test program stays loaded
	[[ -z $(bpftool prog show 2>/dev/null | grep st_test) ]]
}
