#!/usr/bin/env bash
# tools/bench/in-testvm.sh [--npt]: make bench where this host's /dev/kvm does
# not work (or make bench-tdp anywhere): bench.sh in the test VM, its JSON
# into bench/results-testvm.json (--npt: bench/results-testvm-tdp.json, the
# workload on the TDP MMU). Software emulation: smaller default knobs, and
# every figure is labelled as emulated.
set -euo pipefail
cd "$(dirname "$0")/../.."
npt=() name=testvm passes=4 flags=""
# on the TDP MMU: no THP, so that each page is a TDP fault, and more of them
[[ ${1:-} == --npt ]] && npt=(--npt) name=testvm-tdp passes=16 flags=--no-thp
export ROUNDS=${ROUNDS:-5} PAGES=${PAGES:-1024} PASSES=${PASSES:-$passes} VMS16_SECONDS=${VMS16_SECONDS:-5} STAT_ROUNDS=${STAT_ROUNDS:-3} ATTACH=${ATTACH:-auto}
export WORKLOAD_FLAGS=${WORKLOAD_FLAGS:-$flags}
[[ $ATTACH == auto ]] || name+=-$ATTACH
log=$(mktemp /tmp/shadowtrace-bench-vm.XXXXXX)
trap 'rm -f "$log"' EXIT
tools/testvm/run --quiet "${npt[@]}" --env ROUNDS --env PAGES --env PASSES --env VMS16_SECONDS --env STAT_ROUNDS --env ATTACH --env WORKLOAD_FLAGS \
	--env SCALE --env TIME_WINDOWS -- \
	env BENCH_OUT=- tools/bench/bench.sh | tee "$log" | sed '/^BENCH-JSON$/,$d'
sed -n '/^BENCH-JSON$/{n;p}' "$log" | jq . >"bench/results-$name.json"
echo "bench: results in bench/results-$name.json" >&2
