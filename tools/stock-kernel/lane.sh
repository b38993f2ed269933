#!/usr/bin/env bash
# make test-stock-kernel: shadowtrace on Debian's stock kernel, booted under
# QEMU (software emulation, nested SVM, kvm_amd npt=0: shadow paging), its
# figures checked against the micro-guest's ground truth there.
#
# The kernel package is downloaded with apt-get download (never installed)
# and cached in $SHADOWTRACE_CACHE (default ~/.cache/shadowtrace), by
# tools/testvm/kernel.sh.
# Exit 0 when every check passed; the console log is printed on failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
TIMEOUT=${LANE_TIMEOUT:-600}
WORK=$(mktemp -d /tmp/shadowtrace-lane.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

for tool in qemu-system-x86_64 busybox dpkg-deb apt-get; do
	command -v "$tool" >/dev/null || { echo "lane: $tool missing (make deps)" >&2; exit 3; }
done

# Debian's current stock kernel, fetched once (shared with the test VM)
read -r kdir release < <(tools/testvm/kernel.sh) || exit 3
kpkg=linux-image-$release

# the initramfs: busybox, static shadowtrace and beside it the static
# micro-guest its demo runs (make static), the KVM modules, our /init
root=$WORK/root
mkdir -p "$root"/{bin,proc,sys,dev,tmp,mods}
cp "$(command -v busybox)" "$root/bin/busybox"
for bin in shadowtrace microguest; do
	[[ -x .output/$bin.static ]] || { echo "lane: no .output/$bin.static (make static)" >&2; exit 3; }
	cp ".output/$bin.static" "$root/bin/$bin"
done
. tools/testvm/modules.sh
copy_modules "$kdir" "$release" "$root/mods" kvm_amd || exit 3
cp tools/stock-kernel/init "$root/init"
chmod +x "$root/init"
(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$WORK/initrd.gz"

echo "lane: booting $kpkg under QEMU (TCG, nested SVM, npt=0)" >&2
start=$(date +%s)
timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -cpu qemu64,+svm -smp 1 -m 2048 \
	-nographic -no-reboot -kernel "$kdir/boot/vmlinuz-$release" -initrd "$WORK/initrd.gz" \
	-append "console=ttyS0 quiet panic=-1" </dev/null >"$WORK/console.log" 2>&1 || true
echo "lane: QEMU ran $(($(date +%s) - start)) s" >&2

tr -d '\r' <"$WORK/console.log" | sed -n 's/.*\(LANE-NOTE\)/\1/p; /^LANE-BEGIN/,/^LANE-END/p' >"$WORK/result"
grep -v '^LANE-FIGURES\|^LANE-RECORD' "$WORK/result"
# a recording's report is the live report of its run (timestamps aside)
grep '^LANE-RECORD' "$WORK/result" | while read -r _ kind name json; do
	printf '%s\n' "$json" | jq -cS 'del(.timestamp, .elapsed_s, .bpf_maps, .vms[].kvm_stats) | .vms |= sort_by(.name)' >"$WORK/rec-$kind.$name" ||
		echo "unparsable" >"$WORK/rec-$kind.$name"
done
for f in "$WORK"/rec-live.*; do
	[[ -e $f ]] || continue
	name=${f##*.}
	if [[ -s $f ]] && cmp -s "$f" "$WORK/rec-replay.$name" && jq -e '.vms | length == 2' "$f" >/dev/null; then
		echo "LANE-RESULT replay-equals-live-$name rc=0"
	else
		echo "LANE-RESULT replay-equals-live-$name rc=1"
		diff "$f" "$WORK/rec-replay.$name" | head -5
	fi
done | tee -a "$WORK/result"
# one meaning: every attach configuration observed the very same figures
# (but the change intervals, which are timings); nothing to compare fails
grep '^LANE-FIGURES' "$WORK/result" | while read -r _ name json; do
	printf '%s\n' "$json" | jq -cS '[.scenarios[].vms[].observed | del(.histograms.access_change_interval_ns)]' >"$WORK/observed.$name" ||
		echo "unparsable" >"$WORK/observed.$name"
done
for f in "$WORK"/observed.*; do
	[[ -e $f ]] || continue
	if jq -e 'length > 0' "$f" >/dev/null 2>&1 && cmp -s "$f" "$WORK/observed.tracepoint"; then
		echo "LANE-RESULT same-as-tracepoint-${f##*.} rc=0"
	else
		echo "LANE-RESULT same-as-tracepoint-${f##*.} rc=1"
	fi
done | tee -a "$WORK/result"
results=$(grep -c '^LANE-RESULT' "$WORK/result" || true)
failed=$(grep '^LANE-RESULT' "$WORK/result" | grep -vc 'rc=0$' || true)
if [[ $results -eq 0 || $failed -ne 0 ]]; then
	echo "lane: FAILED ($results results, $failed failed); console log:" >&2
	tr -d '\r' <"$WORK/console.log" | tail -n 60 >&2
	exit 1
fi
echo "lane: $results checks passed on $kpkg" >&2
