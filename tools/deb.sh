#!/usr/bin/env bash
# tools/deb.sh VERSION: builds shadowtrace_VERSION-1_ARCH.deb (in .output/)
# from `make install PREFIX=/usr` with dpkg-deb. Depends: the package of
# each shared library the binaries link, at least at the version built with.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$1
arch=$(dpkg --print-architecture)
root=.output/deb/root
rm -rf .output/deb
make -s --no-print-directory install PREFIX=/usr DESTDIR="$PWD/$root" >/dev/null
# the libraries each binary names itself (NEEDED), where ldd finds them
depends=$(for bin in "$root/usr/sbin/shadowtrace" "$root/usr/lib/shadowtrace/microguest"; do
		ldd "$bin" | awk -v needed=" $(readelf -d "$bin" | awk '/NEEDED/ { gsub(/[][]/, "", $5); printf "%s ", $5 }')" \
			'$3 ~ /^\// && index(needed, " " $1 " ") { print $3 }'
	done | sort -u | while read -r lib; do
		dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib"
	done | cut -d: -f1 | sort -u | while read -r pkg; do
		printf '%s (>= %s)\n' "$pkg" "$(dpkg-query -W -f='${Version}' "$pkg")"
	done | paste -sd, | sed 's/,/, /g')
mkdir -p "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<CONTROL
Package: shadowtrace
Version: $version-1
Architecture: $arch
Maintainer: shadowtrace developers <shadowtrace@localhost>
Section: admin
Priority: optional
Depends: $depends
Recommends: prometheus-node-exporter
Installed-Size: $(du -sk "$root/usr" | cut -f1)
Homepage: https://localhost/shadowtrace
Description: trace KVM's x86 shadow MMU translation cache, per VM
 shadowtrace observes, with BPF, the writes to KVM's shadowed-translation
 cache (kvm_mmu_page.shadowed_translation) and reports per VM: writes by
 origin, access-bit churn, gfn mismatches, huge-page splits. Text, JSON,
 recordings that can be replayed and diffed, and Prometheus metrics (a
 node_exporter textfile or /metrics), with alerting rules and a Grafana
 dashboard.
CONTROL
out=.output/shadowtrace_${version}-1_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "  DEB      $out ($(grep '^Depends' "$root/DEBIAN/control"))"
