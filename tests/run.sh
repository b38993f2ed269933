#!/usr/bin/env bash
# The test suite: unit tests, CLI tests, kernel tests, live tests against the
# micro-guest's ground truth, the stock-kernel lane. Ends with one line
# "N passed, N failed, N skipped"; the line before it says where the live
# tests ran. Fails when no live test ran.
#
# Test functions (tests/*_tests.sh), by prefix:
#   cli_*     no kernel needed: run on the host
#   kernel_*  root and BPF on the running kernel, no VM: run on the host and,
#             when the live tests run there, in the test VM too
#   live_*    real VMs of the micro-guest (/dev/kvm): run where LIVE says
#   lane_*    boot their own QEMU: run on the host, always
# A test may skip only by calling skip_test REASON (tests/lib.sh); a skip
# is never a pass.
#
# Environment: ST_BIN, MG_BIN, UNIT_BIN (the binaries under test),
# ATTACK_BIN (tests/http_attack.c), RELEASE_BIN (the release build, for one
# demo run), FUZZ_BIN, FUZZ_HTTP_BIN and FUZZ_SECONDS (the recording parser's
# and the endpoint's fuzzers, run briefly), TESTS (a regex
# to run only matching tests), TEST_TIMEOUT (seconds a test may take), LIVE:
#   auto  (default) on the host when its /dev/kvm works, else in the test VM
#   host  on the host (fails when its /dev/kvm does not work)
#   vm    in the test VM (tools/testvm/run), whatever the host has: one
#         per kernel of TESTVM_KERNELS (default Debian 12's 6.1 and 6.12)
# Inside the test VM the suite runs as "tests/run.sh --in-vm".
set -u
cd "$(dirname "$0")/.."

ST_BIN=${ST_BIN:-./shadowtrace}
MG_BIN=${MG_BIN:-tools/microguest/microguest}
UNIT_BIN=${UNIT_BIN:-.output/unit_tests}
ATTACK_BIN=${ATTACK_BIN:-$(dirname "$UNIT_BIN")/http_attack}	# hostile /metrics clients
RELEASE_BIN=${RELEASE_BIN:-./shadowtrace}
TESTS=${TESTS:-.}
LIVE=${LIVE:-auto}
IN_VM=0
[[ ${1:-} == --in-vm ]] && IN_VM=1
# the test VM's kernels (packages or meta-packages), each its own VM, all
# at once: Debian 12's 6.1 and the 6.12 LTS
TESTVM_KERNELS=${TESTVM_KERNELS:-linux-image-amd64 linux-image-6.12-amd64}
TEST_TIMEOUT=${TEST_TIMEOUT:-1200}	# seconds, per test: a hung test fails, the suite goes on
# the tests' hang guards (timeouts, waits for readiness) are multiplied by
# SLOW: software emulation in the test VM runs BPF verification ~20x slower
SLOW=1
[[ $IN_VM == 1 ]] && SLOW=6
export ST_BIN MG_BIN UNIT_BIN ATTACK_BIN RELEASE_BIN TESTS FUZZ_BIN=${FUZZ_BIN:-} FUZZ_HTTP_BIN=${FUZZ_HTTP_BIN:-} FUZZ_SECONDS=${FUZZ_SECONDS:-60}
# leaks are reported by LeakSanitizer; keep ASan quiet about BPF's mmaps
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

TMP=$(mktemp -d /tmp/shadowtrace-test.XXXXXX)
mounted_debugfs=0
trap 'rm -rf "$TMP"; [[ $mounted_debugfs == 0 ]] || umount /sys/kernel/debug' EXIT
passed=0 failed=0 skipped=0 live_ran=0

pass() { passed=$((passed + 1)); echo "PASS $1${2:+ $2}"; }
fail() { failed=$((failed + 1)); echo "FAIL $1: $2"; }
skip() { skipped=$((skipped + 1)); echo "SKIP $1: $2"; }

. tests/lib.sh
. tests/cli_tests.sh
. tests/live_tests.sh
. tests/prom_tests.sh
. tests/reliability_tests.sh
. tests/record_tests.sh
. tests/http_tests.sh
. tests/kit_tests.sh

# tests_of PREFIX: the test functions of that prefix that TESTS selects
tests_of() {
	declare -F | awk '{print $3}' | grep -E "^$1_" | grep -E -- "$TESTS" || true
}

# run_tests NAME...: each in a subshell under set -e, its log kept for a
# failure, with a TMP of its own (a file one test leaves is not another's)
run_tests() {
	local t log rc t0 pid wd
	for t in "$@"; do
		t0=$SECONDS
		log="$TMP/$t.log"
		rm -f "$TMP/skip-reason"
		# a plain statement: bash ignores set -e, even in a subshell, when
		# the subshell is an "if" condition or left of "||". Its own
		# process group (set -m), so that a watchdog can end all of it.
		set -m
		( set -e; SKIP_FILE=$TMP/skip-reason; TMP=$TMP/$t.d; mkdir "$TMP"; "$t" ) >"$log" 2>&1 &
		pid=$!
		( sleep "$TEST_TIMEOUT"; echo "timed out after $TEST_TIMEOUT s" >>"$log"
		  kill -TERM -- -"$pid"; sleep 5; kill -KILL -- -"$pid" ) >/dev/null 2>&1 &
		wd=$!
		set +m
		wait "$pid"
		rc=$?
		kill -- -"$wd" 2>/dev/null
		wait "$wd" 2>/dev/null
		[[ $t == live_* ]] && live_ran=$((live_ran + 1))
		if [[ $rc == 0 ]]; then
			pass "$t" "($((SECONDS - t0)) s)"
		elif [[ $rc == 77 && -s $TMP/skip-reason ]]; then
			skip "$t" "$(head -n1 "$TMP/skip-reason")"
		else
			# a lane's own FAIL lines first: its log's end may be all PASS
			fail "$t" "(exit $rc; the log's FAIL lines and end) $({ grep '^FAIL' "$log" | head -n 5
				tail -n 15 "$log"; } | tr '\n' ' ' | cut -c1-2000)"
		fi
	done
}

# The unit tests (C): every test the binary plans reports, and it exits 0.
run_unit_tests() {
	[[ unit =~ $TESTS || $TESTS == . ]] || return 0
	local plan=-1 results=0 verdict name rest rc
	if [[ ! -x $UNIT_BIN ]]; then
		fail unit "no unit test binary $UNIT_BIN"
		return
	fi
	"$UNIT_BIN" >"$TMP/unit.out" 2>&1
	rc=$?
	while read -r verdict name rest; do
		case $verdict in
		PLAN) plan=$name ;;
		PASS) results=$((results + 1)); pass "unit/$name" ;;
		FAIL) results=$((results + 1)); fail "unit/${name%:}" "$rest" ;;
		esac
	done <"$TMP/unit.out"
	[[ $rc == 0 ]] || fail unit "$UNIT_BIN exited $rc"
	[[ $plan == "$results" ]] || fail unit "$UNIT_BIN planned $plan tests, reported $results"
}

# Where the live tests run, or why they cannot ("!" and the reason).
live_where() {
	local why
	why=$(why_no_live)
	case $LIVE in
	host) [[ -z $why ]] && echo host || echo "!LIVE=host, but $why" ;;
	vm) echo vm ;;
	auto) [[ -z $why ]] && echo host || echo vm ;;
	*) echo "!unknown LIVE=$LIVE (auto, host or vm)" ;;
	esac
}

# The suite inside the test VM on kernel package $1: its raw output, then
# "TESTVM-EXIT status".
vm_suite() {
	TESTVM_KERNEL=$1 tools/testvm/run --env ST_BIN --env MG_BIN --env ATTACK_BIN --env RELEASE_BIN --env TESTS \
		--env ASAN_OPTIONS --env UBSAN_OPTIONS --env TEST_TIMEOUT --env FUZZ_BIN \
		-- tests/run.sh --in-vm 2>&1
	echo "TESTVM-EXIT $?"
}

# collect_vm LABEL WANT: vm_suite's output on stdin; its results join ours
# as LABEL/NAME, and it must have run WANT of them.
collect_vm() {
	local label=$1 want=$2 got=0 line verdict name rest closing="" rc=""
	while IFS= read -r line; do
		if [[ $line =~ ^[0-9]+\ passed,\ [0-9]+\ failed ]]; then
			closing=$line
			continue
		fi
		read -r verdict name rest <<<"$line"
		case $verdict in
		PASS) got=$((got + 1)); pass "$label/$name" "$rest" ;;
		FAIL) got=$((got + 1)); fail "$label/${name%:}" "$rest" ;;
		SKIP) got=$((got + 1)); skip "$label/${name%:}" "$rest" ;;
		TESTVM-LIVE)
			live_ran=$((live_ran + name))
			LIVE_WHERE_TEXT+="${LIVE_WHERE_TEXT:+; }$rest: $name live tests" ;;
		TESTVM-EXIT) rc=$name ;;
		*) echo "  $label| $line" ;;
		esac
	done
	if [[ ${rc:-125} != 0 && ${rc:-125} != 1 ]] || [[ -z $closing ]]; then
		fail "$label" "the test VM did not complete the suite (exit ${rc:-?})"
	elif [[ $got != "$want" ]]; then
		fail "$label" "the test VM ran $got of $want tests"
	fi
}

# The kernel and live tests in a test VM per kernel of TESTVM_KERNELS, all
# at once (each QEMU uses one CPU); the first one's results as they come.
run_in_test_vms() {
	local want kernels=() labels=() k rel i pids=()
	want=$( (tests_of kernel; tests_of live) | wc -l)
	[[ $want -gt 0 ]] || return 0
	read -ra kernels <<<"$TESTVM_KERNELS"
	for k in "${kernels[@]}"; do
		# fetched here, one at a time, so that parallel boots find them
		if ! read -r _ rel < <(TESTVM_KERNEL=$k tools/testvm/kernel.sh); then
			fail "vm" "no test VM kernel $k"
			return
		fi
		labels+=("vm-$(sed -E 's/^([0-9]+[.][0-9]+).*/\1/' <<<"$rel")")
	done
	echo "tests: $want kernel and live tests in the test VM, on ${labels[*]} (tools/testvm/run)"
	want=$((want + 2))	# and its check_leftovers: programs, processes
	for ((i = 1; i < ${#kernels[@]}; i++)); do
		vm_suite "${kernels[i]}" >"$TMP/${labels[i]}.out" &
		pids+=($!)
	done
	collect_vm "${labels[0]}" "$want" < <(vm_suite "${kernels[0]}")
	for ((i = 1; i < ${#kernels[@]}; i++)); do
		wait "${pids[i - 1]}"
		collect_vm "${labels[i]}" "$want" <"$TMP/${labels[i]}.out"
	done
}

# Live tests on this host: KVM's debugfs (its statistics, VM ends) is
# mounted for the run where it is not (and unmounted after), and the hang
# guards scale with how long a tracer takes to start here (its verifier
# runs: 1-2 s on most hosts, ten on some PVM ones).
prepare_host_live() {
	local t0 t1
	if [[ ! -d /sys/kernel/debug/kvm ]] && mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null; then
		mounted_debugfs=1
	fi
	t0=$(date +%s%N)
	timeout 300 "$ST_BIN" -d 1 >/dev/null 2>&1
	t1=$(date +%s%N)
	SLOW=$((1 + (t1 - t0) / 2000000000))
	echo "live: a tracer's start and 1 s of tracing took $(((t1 - t0) / 1000000)) ms here: hang guards x$SLOW"
}

# Nothing of ours may stay behind.
check_leftovers() {
	if command -v bpftool >/dev/null && [[ $(id -u) == 0 ]]; then
		# detached programs are freed after a grace period: wait for it
		for _ in $(seq 40); do
			bpftool prog show 2>/dev/null | grep -q 'tp_set_spte' || break
			sleep 0.05
		done
		if bpftool prog show 2>/dev/null | grep -q 'tp_set_spte'; then
			fail "leftovers" "a shadowtrace BPF program is still loaded"
		else
			pass "leftovers"
		fi
	fi
	# micro-guest VMs, tracers or test VMs left running (matched on the executable)
	local left
	left=$(pgrep -f '^[^ ]*(microguest|shadowtrace)( |$)|qemu-system-x86_64 .*/tmp/shadowtrace-(testvm|lane)' || true)
	if [[ -n $left ]]; then
		fail "leftover_processes" "$(ps -o pid=,args= -p "$(echo $left | tr ' ' ,)" | head -3)"
		kill $left 2>/dev/null
	else
		pass "leftover_processes"
	fi
}

if [[ $IN_VM == 1 ]]; then
	# inside the test VM: what needs its kernel and its /dev/kvm
	why=$(why_no_live)
	run_tests $(tests_of kernel)
	if [[ -n $why ]]; then
		fail live "the test VM cannot run live tests: $why"
	else
		run_tests $(tests_of live)
	fi
	check_leftovers
	echo "TESTVM-LIVE $live_ran test VM ($(uname -r), kvm_amd npt=${TESTVM_NPT:-?}, attach auto: $(auto_attach_mode))"
	echo "$passed passed, $failed failed, $skipped skipped"
	[[ $failed -eq 0 ]]
	exit
fi

run_unit_tests
run_tests $(tests_of cli) $(tests_of kernel)
where=$(live_where)
LIVE_WHERE_TEXT=
case $where in
host)
	[[ -z $(tests_of live) ]] || prepare_host_live
	run_tests $(tests_of live)
	LIVE_WHERE_TEXT="host ($(uname -r), /dev/kvm): $live_ran live tests" ;;
vm) run_in_test_vms ;;
*) fail live "${where#!}" ;;
esac
run_tests $(tests_of lane)
check_leftovers

if [[ $live_ran -eq 0 && $TESTS == . ]]; then
	fail live "no live test ran"
fi
echo "live: ${LIVE_WHERE_TEXT:-nowhere: 0 live tests}"
echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]
