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
	expect_one_line_error 2 "invalid --bench-step '5'" "$ST_BIN" --bench-step 5
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
	# fits 80 columns as written: no line over 79, none wrapped by argp
	local long
	long=$(awk 'length($0) > 79' <<<"$out")
	[[ -z $long ]] || { echo "over 79 columns: $long"; return 1; }
	grep -q '^       shadowtrace decode 0xVALUE  *one shadowed_translation value$' <<<"$out"
	grep -q '^        /var/lib/prometheus/node-exporter/shadowtrace.prom$' <<<"$out"
}

# --top: a line a VM within 79 columns, most active first, the rest counted.
# README's metric table and the figure table (shadowtrace --list-figures) agree:
# every figure's family is a row of its type with its labels, and every
# per-VM counter or histogram row is a figure (KVM's own statistics aside).
cli_readme_figures_table() {
	local table name kind labels prom row l bad=0
	table=$("$ST_BIN" --list-figures | grep -v '^#')
	[[ -n $table ]] || { echo "no figure table"; return 1; }
	while IFS=$'\t' read -r name kind labels _ prom _; do
		row=$(grep -F "\`$prom\`" README.md | grep '^| `shadowtrace_' | head -1)
		[[ $kind == histogram ]] || kind=counter
		if ! awk -F' [|] ' -v k="$kind" '{ exit !($2 == k) }' <<<"$row"; then
			echo "$name: README has no $kind row for $prom: '$row'"; bad=1; continue
		fi
		for l in vm pid ${labels//,/ }; do
			[[ $l == - ]] || grep -qF "\`$l\`" <<<"$(awk -F' [|] ' '{ print $3 }' <<<"$row")" ||
				{ echo "$name: README's row for $prom lacks label $l"; bad=1; }
		done
	done <<<"$table"
	for prom in $(grep '^| `shadowtrace_' README.md | awk -F' [|] ' '($2 == "counter" || $2 == "histogram") && $3 ~ /`vm`/ { print $1 }' |
		grep -o 'shadowtrace_[a-z_]*' | grep -v '^shadowtrace_kvm_'); do
		cut -f5 <<<"$table" | grep -qx "$prom" || { echo "README lists $prom, not a figure"; bad=1; }
	done
	return $bad
}

cli_report_top() {
	local out
	out=$("$ST_BIN" report tests/fuzz/seeds/remap.strec --top 1)
	[[ -z $(awk 'length($0) > 79' <<<"$out") ]] || { echo "over 79 columns: $out"; return 1; }
	grep -qE '^remap-1 +[0-9]+\* +19 +12 +7 +0 +0 +1 +8$' <<<"$out" || { echo "$out"; return 1; }
	grep -q '^\.\.\. and 1 more VMs (--top 1)$' <<<"$out"
	[[ $("$ST_BIN" report tests/fuzz/seeds/remap.strec --top 5 | grep -c '^remap-') == 2 ]]
	expect_one_line_error 2 "invalid --top '0'" "$ST_BIN" --top 0
}

cli_microguest_usage() {
	expect_one_line_error 2 "unknown scenario" "$MG_BIN" warp 10
	expect_one_line_error 2 "N must be between" "$MG_BIN" fault-churn 0
	expect_one_line_error 2 "usage" "$MG_BIN"
}

# exactly one line on stderr, status $1, matching $2 (a fixed string)
expect_exactly_one_line() {
	local want=$1 text=$2 err rc
	shift 2
	err=$("$@" 2>&1 >/dev/null) && rc=0 || rc=$?
	[[ $rc == "$want" ]] || { echo "'$*' exited $rc, want $want: $err"; return 1; }
	[[ $(printf '%s\n' "$err" | grep -c .) == 1 ]] || { echo "not one line: $err"; return 1; }
	grep -qF -- "$text" <<<"$err" || { echo "message '$err' lacks '$text'"; return 1; }
}

# The tracer is no VMM: "guest" (once a hidden micro-guest subcommand) is no
# subcommand, and neither the tracer nor its static build links the
# micro-guest's VM code or even names /dev/kvm: its demo runs the
# micro-guest program, which alone opens /dev/kvm.
cli_no_guest_subcommand() {
	expect_exactly_one_line 2 "unexpected argument 'guest'" "$ST_BIN" guest fault-churn 10
	expect_one_line_error 2 "unexpected argument 'guest'|unrecognized option '--expect'" "$ST_BIN" guest --expect fault-churn 10
}

cli_tracer_has_no_vmm() {
	local bin bins=("$ST_BIN" "$RELEASE_BIN") vmm='^[0-9a-f]* [TtDdBbRr] (mg_run|mg_main|mg_kvm_check|mg_vm_[a-z_]*|mg_stats_path|mg_hold_ms|mg_pause_after)$'
	[[ -x .output/shadowtrace.static ]] && bins+=(.output/shadowtrace.static)
	# the check itself: the micro-guest has what the tracer must not
	nm "$MG_BIN" | grep -qE "$vmm" || { echo "no VMM symbols found in $MG_BIN: the check is stale"; return 1; }
	grep -q /dev/kvm "$MG_BIN" || { echo "$MG_BIN never names /dev/kvm: the check is stale"; return 1; }
	for bin in "${bins[@]}"; do
		[[ -z $(nm "$bin" | grep -E "$vmm") ]] || { echo "$bin links the VMM: $(nm "$bin" | grep -E "$vmm" | head -3)"; return 1; }
		! grep -q /dev/kvm "$bin" || { echo "$bin names /dev/kvm"; return 1; }
		! grep -q KVM_CREATE_VM "$bin" || { echo "$bin names KVM_CREATE_VM"; return 1; }
	done
}

# The demo finds the micro-guest: $SHADOWTRACE_MICROGUEST, else beside the
# executable, in tools/microguest/ there (the build tree), in
# ../lib/shadowtrace/ (make install). A fake one that refuses KVM (exit 3)
# shows which was run, before anything needs root; none found, or an
# unusable $SHADOWTRACE_MICROGUEST: exit 3, one line.
cli_demo_finds_microguest() {
	local d=$TMP/find where
	mkdir -p "$d/sbin" "$d/lib/shadowtrace" "$d/tree/tools/microguest" "$d/beside" "$d/x/none"
	printf '#!/bin/sh\n[ "$1" = --check-kvm ] || exit 5\necho "microguest: fake micro-guest $0 has no KVM" >&2\nexit 3\n' >"$d/fake"
	chmod +x "$d/fake"
	for where in sbin/shadowtrace tree/shadowtrace beside/shadowtrace x/none/shadowtrace; do
		cp "$ST_BIN" "$d/$where"
	done
	cp "$d/fake" "$d/lib/shadowtrace/microguest"
	cp "$d/fake" "$d/tree/tools/microguest/microguest"
	cp "$d/fake" "$d/beside/microguest"
	local tail="has no KVM; 'make demo' runs the demo inside the test VM instead"
	expect_exactly_one_line 3 "shadowtrace: demo: fake micro-guest $d/sbin/../lib/shadowtrace/microguest $tail" \
		env -u SHADOWTRACE_MICROGUEST "$d/sbin/shadowtrace" demo
	expect_exactly_one_line 3 "fake micro-guest $d/tree/tools/microguest/microguest $tail" \
		env -u SHADOWTRACE_MICROGUEST "$d/tree/shadowtrace" demo
	expect_exactly_one_line 3 "fake micro-guest $d/beside/microguest $tail" \
		env -u SHADOWTRACE_MICROGUEST "$d/beside/shadowtrace" demo
	# the environment overrides all
	expect_exactly_one_line 3 "fake micro-guest $d/fake $tail" \
		env SHADOWTRACE_MICROGUEST="$d/fake" "$d/beside/shadowtrace" demo
	expect_exactly_one_line 3 "shadowtrace: demo: SHADOWTRACE_MICROGUEST=/nonexistent is not an executable file" \
		env SHADOWTRACE_MICROGUEST=/nonexistent "$ST_BIN" demo
	expect_exactly_one_line 3 "shadowtrace: demo: no micro-guest: none of microguest" \
		env -u SHADOWTRACE_MICROGUEST "$d/x/none/shadowtrace" demo
	# a micro-guest that does not work is named, in one line
	printf '#!/bin/sh\nexit 9\n' >"$d/broken" && chmod +x "$d/broken"
	expect_exactly_one_line 3 "the micro-guest $d/broken does not work" \
		env SHADOWTRACE_MICROGUEST="$d/broken" "$ST_BIN" demo
	# --check-kvm takes no scenario
	expect_one_line_error 2 "usage" "$MG_BIN" --check-kvm fault-churn 10
}

# Refusals of the environment: exit 3 with one line (run as an unprivileged user).
kernel_refuse_unprivileged() {
	needs_root
	expect_one_line_error 3 "needs root \(or CAP_BPF and CAP_PERFMON\)" \
		setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$ST_BIN" -d 1
}

# btf_of NAME: a BTF file compiled from tests/btf/NAME.c
btf_of() {
	clang -g -O2 -target bpf -c "tests/btf/$1.c" -o "$TMP/$1.o"
	echo "$TMP/$1.o"
}

# shadowtrace demo without a working /dev/kvm: one line naming it and
# make demo, exit 3, no "0 of 0" table. Where /dev/kvm is there (the test
# VM), an empty file is bound over it in a private mount namespace.
kernel_demo_without_kvm() {
	needs_root
	local had_kvm=no
	[[ -e /dev/kvm ]] && had_kvm=yes
	if [[ $had_kvm == yes ]]; then
		: >"$TMP/not-kvm"
		expect_one_line_error 3 "no KVM behind /dev/kvm; 'make demo' runs" unshare -m sh -c \
			"mount --bind '$TMP/not-kvm' /dev/kvm && exec '$ST_BIN' demo"
	else
		expect_one_line_error 3 "cannot open /dev/kvm: .*; 'make demo' runs" "$ST_BIN" demo
		[[ ! -e /dev/kvm ]] || { echo "/dev/kvm appeared"; return 1; }
	fi
	[[ -z $("$ST_BIN" demo 2>/dev/null | grep 'of 0 VMs') ]]
}

kernel_refuse_kvm_missing() {
	needs_root
	expect_one_line_error 3 "KVM is not loaded" env SHADOWTRACE_CHECK_BTF="$(btf_of no_kvm)" "$ST_BIN" -d 1
}

kernel_refuse_kernel_without_cache() {
	needs_root
	expect_one_line_error 3 "neither shadowed_translation nor gfns" \
		env SHADOWTRACE_CHECK_BTF="$(btf_of no_cache)" "$ST_BIN" -d 1
}

# A pre-5.19 KVM (gfns only) is traced, and says access is unknown.
kernel_old_gfns_layout_accepted() {
	needs_root
	local out
	out=$(SHADOWTRACE_CHECK_BTF="$(btf_of old_layout)" "$ST_BIN" --list-probes)
	grep -q '; cache gfns (before Linux 5.19: gfn only, access unknown); tracepoints read SPTEs, cache and vCPU by ' <<<"$out"
}

cli_attach_mode_words() {
	expect_one_line_error 2 "unknown --attach mode 'bogus'" "$ST_BIN" --attach bogus -d 1
	expect_one_line_error 2 "--skip-probe: at most 8 functions" "$ST_BIN" \
		$(printf -- '--skip-probe f%d ' 1 2 3 4 5 6 7 8 9) -d 1
}

# --list-probes: one line per candidate; each verdict must agree with what
# the running kernel offers, read independently (kallsyms, the kprobe PMU,
# KVM's BTF), and each hook has exactly one probe chosen.
# README's table of kernels says, for this kernel's series, what
# --attach auto takes on each hook: the lanes that run on each kernel (the
# host, the test VMs) check it against --list-probes, so it cannot go stale.
kernel_readme_kernels_table() {
	needs_root
	local series row hook want got
	series=$(uname -r | sed -E 's/^([0-9]+[.][0-9]+)[.-].*/\1/')
	# the row whose kernel column names this series (e.g. "6.12.117 LTS", "Debian 12 6.1.0-57")
	row=$(awk -F' [|] ' -v s="$series" '/^[|] .* [|] .* [|] (fentry|kprobe|tracepoint) / {
		k = $1; sub(/^[|] /, "", k)
		if (k ~ ("(^| )" s "[.-]")) print }' README.md)
	[[ $(grep -c . <<<"$row") == 1 ]] || { echo "README has no one row for Linux $series: '$row'"; return 1; }
	# HOOK MODE PROBE STATUS as kernel_list_probes splits them; the chosen ones
	got=$("$ST_BIN" --list-probes | sed -n '3,$p' |
		sed -E 's/^([a-z_]+) +([a-z]+) +([^ ]+)( \([^)]*\))? +(chosen.*|no:.*)$/\1\t\2\t\3\t\5/' |
		awk -F'\t' '$4 ~ /^chosen/ && $1 != "page_lifecycle" { p = $3; sub(/^kvmmmu:/, "", p); print $1, $2, p }')
	want=$(awk -F' [|] ' '{ n = split("set_translation set_access sync split", h, " ")
		for (i = 1; i <= n; i++) { c = $(i + 2); m = c; sub(/ .*/, "", m)
			p = c; sub(/^[^`]*`/, "", p); sub(/`.*/, "", p); printf "%s %s %s\n", h[i], m, p } }' <<<"$row")
	[[ $got == "$want" ]] || { echo "README's row for $series: $(tr '\n' ';' <<<"$want"), --list-probes: $(tr '\n' ';' <<<"$got")"; return 1; }
}

kernel_list_probes() {
	needs_root
	local out rows hook mode status fn kind
	out=$("$ST_BIN" --list-probes --skip-probe mmu_set_spte)
	grep -qE -- '--attach auto: (tracepoint|kprobe|fentry)' <<<"$out"
	# HOOK MODE PROBE STATUS, tab-separated; "(return)" notes dropped
	rows=$(sed -n '3,$p' <<<"$out" |
		sed -E 's/^([a-z_]+) +([a-z]+) +([^ ]+)( \([^)]*\))? +(chosen.*|no:.*)$/\1\t\2\t\3\t\5/')
	for hook in set_translation set_access sync split page_lifecycle; do
		[[ $(awk -F'\t' -v h="$hook" '$1 == h && $4 ~ /^chosen/' <<<"$rows" | wc -l) == 1 ]] ||
			{ echo "$hook: not one probe chosen: $out"; return 1; }
	done
	while IFS=$'\t' read -r hook mode fn status; do
		case $mode in
		tracepoint)
			[[ $status != chosen* ]] && continue
			fn=${fn#kvmmmu:}
			[[ $fn == *'{'* ]] && fn=kvm_mmu_get_page
			has_tracepoint "$fn" || { echo "$hook: chose tracepoint $fn, which KVM's BTF lacks"; return 1; } ;;
		kprobe | fentry)
			kind=$(ksym_kind "$fn")
			case $status in
			chosen*)
				[[ $kind == exact ]] || { echo "$hook: chose $mode $fn, not a symbol ($kind)"; return 1; }
				[[ $mode == fentry ]] || has_kprobes || { echo "$hook: chose kprobe without kprobes"; return 1; } ;;
			"no: this kernel has no kprobes")
				! has_kprobes || { echo "$hook: says no kprobes, but the kernel has them"; return 1; } ;;
			"no: no such symbol"*)
				[[ $kind == none ]] || { echo "$hook: $fn is a symbol ($kind), said missing"; return 1; } ;;
			"no: inlined; only the compiler clone"*)
				[[ $kind == clone ]] || { echo "$hook: $fn is $kind, said a clone only"; return 1; } ;;
			"no: skipped (--skip-probe)")
				[[ $fn == mmu_set_spte ]] || { echo "$hook: $fn skipped unasked"; return 1; } ;;
			esac ;;
		*) echo "unknown mode '$mode' in: $hook $mode $fn $status"; return 1 ;;
		esac
	done <<<"$rows"
	# with no kprobes every kprobe line says so
	has_kprobes || [[ -z $(grep -E '^[a-z_]+ +kprobe ' <<<"$out" | grep -v 'no: this kernel has no kprobes\|skipped') ]]
	# no test program stays loaded
	[[ -z $(bpftool prog show 2>/dev/null | grep st_test) ]]
}

# --attach kprobe|fentry: accepted where the kernel offers that probe for
# set_translation (kprobes and a symbol; for fentry, what auto chose), and
# then used; else refused with exit 3 and one line.
kernel_attach_modes() {
	needs_root
	local mode auto out usable
	auto=$("$ST_BIN" --list-probes --attach auto)
	for mode in kprobe fentry; do
		if [[ $mode == kprobe ]]; then
			usable=no
			has_kprobes && [[ $(ksym_kind kvm_mmu_page_set_translation) == exact ||
					  $(ksym_kind __rmap_add) == exact ]] && usable=yes
		else
			grep -qE "^set_translation +fentry .* chosen" <<<"$auto" && usable=yes || usable=no
		fi
		if [[ $usable == yes ]]; then
			out=$(expect_status 0 "$ST_BIN" --attach "$mode" --list-probes)
			grep -qE "^set_translation +$mode .* chosen" <<<"$out" ||
				{ echo "--attach $mode: set_translation not on a $mode: $out"; return 1; }
		else
			expect_one_line_error 3 "--attach $mode: no hook can use one on this kernel" \
				"$ST_BIN" --attach "$mode" -d 1
		fi
	done
}

# The seed recordings are of format 1 (no MMUs in their trailer): still
# read, to their ground truth, and no MMU is made up for them.
cli_report_reads_format_1() {
	[[ $(od -An -tu4 -j8 -N4 tests/fuzz/seeds/fault-churn.strec | tr -d ' ') == 1 ]]
	"$ST_BIN" report --json tests/fuzz/seeds/fault-churn.strec >"$TMP/trace.json"
	expect_vm fault-churn-1 fault-churn 8
	expect_vm fault-churn-2 fault-churn 8
	jq -e '.recording.complete and (has("tdp_mmu_pages") | not) and ([.vms[] | has("mmu")] | any | not)' \
		"$TMP/trace.json" >/dev/null
}
