#!/usr/bin/env bash
# Debian's stock kernel for the test VMs, downloaded once (apt-get download,
# never installed) and unpacked into the cache. Prints "KDIR RELEASE".
#
#   TESTVM_KERNEL   the kernel package (default: what linux-image-amd64
#                   points to, e.g. linux-image-6.1.0-57-amd64)
#   SHADOWTRACE_CACHE  the cache (default ~/.cache/shadowtrace)
set -euo pipefail
CACHE=${SHADOWTRACE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shadowtrace}

default_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}
kpkg=${TESTVM_KERNEL:-$(default_pkg)}
if [[ -z $kpkg ]]; then
	apt-get update -qq
	kpkg=$(default_pkg)
fi
[[ -n $kpkg ]] || { echo "testvm: cannot resolve linux-image-amd64 (apt-get update?)" >&2; exit 3; }
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
