#!/usr/bin/env bash
# Debian's stock kernel for the test VMs, downloaded once (apt-get download,
# never installed) and unpacked into the cache. Prints "KDIR RELEASE".
#
#   TESTVM_KERNEL   the kernel package, or a meta-package naming one
#                   (default linux-image-amd64, e.g. linux-image-6.1.0-57-amd64;
#                   linux-image-6.12-amd64 is the 6.12 LTS)
#   SHADOWTRACE_CACHE  the cache (default ~/.cache/shadowtrace)
set -euo pipefail
CACHE=${SHADOWTRACE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shadowtrace}

want=${TESTVM_KERNEL:-linux-image-amd64}
# the kernel package itself, when $want is a meta-package pointing to one
resolve() {
	local real
	real=$(apt-cache depends "$want" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	if [[ -n $real ]]; then
		echo "$real"
	elif apt-cache show "$want" >/dev/null 2>&1 && [[ $want =~ ^linux-image-[0-9] ]]; then
		echo "$want"
	fi
}
kpkg=$(resolve)
if [[ -z $kpkg ]]; then
	apt-get update -qq
	kpkg=$(resolve)
fi
[[ -n $kpkg ]] || { echo "testvm: cannot resolve $want to a kernel package (apt-get update?)" >&2; exit 3; }
mkdir -p "$CACHE"
deb=$(ls "$CACHE/${kpkg}"_*.deb 2>/dev/null | head -n1 || true)
if [[ -z $deb ]]; then
	echo "testvm: downloading $kpkg (once, into $CACHE)" >&2
	(cd "$CACHE" && apt-get download -q "$kpkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
	deb=$(ls "$CACHE/${kpkg}"_*.deb 2>/dev/null | head -n1 || true)
	[[ -n $deb ]] || { echo "testvm: cannot download $kpkg" >&2; exit 3; }
fi
kdir=$CACHE/$kpkg
if [[ ! -d $kdir/boot ]]; then
	rm -rf "$kdir.tmp" && dpkg-deb -x "$deb" "$kdir.tmp" && mv "$kdir.tmp" "$kdir"
fi
echo "$kdir ${kpkg#linux-image-}"
