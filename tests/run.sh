#!/usr/bin/env bash
# The test suite: unit tests, CLI tests, live tests against the micro-guest's
# ground truth. Ends with one line "N passed, N failed, N skipped".
#
# Environment: ST_BIN, MG_BIN, UNIT_BIN (the binaries under test),
# RELEASE_BIN (the release build, for one demo run), FUZZ_BIN and
# FUZZ_SECONDS (the recording parser's fuzzer, run briefly), TESTS (a regex
# to run only matching tests).
set -u
cd "$(dirname "$0")/.."

ST_BIN=${ST_BIN:-./shadowtrace}
MG_BIN=${MG_BIN:-tools/microguest/microguest}
UNIT_BIN=${UNIT_BIN:-.output/unit_tests}
RELEASE_BIN=${RELEASE_BIN:-./shadowtrace}
TESTS=${TESTS:-.}
# leaks are reported by LeakSanitizer; keep ASan quiet about BPF's mmaps
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

TMP=$(mktemp -d /tmp/shadowtrace-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
passed=0 failed=0 skipped=0

pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1: $2"; }
skip() { skipped=$((skipped + 1)); echo "SKIP $1: $2"; }

# --- unit tests (C) ---
if [[ unit =~ $TESTS ]] || [[ $TESTS == . ]]; then
	while read -r verdict name rest; do
		case $verdict in
		PASS) pass "unit/$name" ;;
		FAIL) fail "unit/${name%:}" "$rest" ;;
		esac
	done < <("$UNIT_BIN" 2>&1)
fi

# --- CLI and live tests (bash, one function each) ---
. tests/lib.sh
. tests/cli_tests.sh
. tests/live_tests.sh
. tests/prom_tests.sh
. tests/reliability_tests.sh
. tests/record_tests.sh

live_reason=$(why_no_live)
for t in $(declare -F | awk '{print $3}' | grep -E '^(cli|live)_' ); do
	[[ $t =~ $TESTS ]] || continue
	if [[ $t == live_* && -n $live_reason ]]; then
		skip "$t" "$live_reason"
		continue
	fi
	log="$TMP/$t.log"
	# a plain statement: bash ignores set -e, even in a subshell, when the
	# subshell is an "if" condition or left of "||"
	( set -e; "$t" ) >"$log" 2>&1
	rc=$?
	if [[ $rc == 0 ]]; then
		pass "$t"
	else
		fail "$t" "(line of failure in the log) $(tail -n 15 "$log" | tr '\n' ' ' | cut -c1-1500)"
	fi
done

# nothing of ours may stay behind
if command -v bpftool >/dev/null && [[ -z $live_reason ]]; then
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
# micro-guest VMs or tracers left running (matched on the executable)
left=$(pgrep -f '^[^ ]*(microguest|shadowtrace)( |$)' || true)
if [[ -n $left ]]; then
	fail "leftover_processes" "$(ps -o pid=,args= -p "$(echo $left | tr ' ' ,)" | head -3)"
	kill $left 2>/dev/null
else
	pass "leftover_processes"
fi

echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]
