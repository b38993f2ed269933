#!/usr/bin/env bash
# tools/kvm-selftests/build.sh: build the KVM selftests that
# tools/kvm-selftests/checks.sh runs, statically, from Debian's
# linux-source-6.1 (only its tools/ is unpacked), into the cache; prints
# that directory. Nothing is installed: the package is only downloaded.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${SHADOWTRACE_CACHE:-$HOME/.cache/shadowtrace}
out=$cache/kvm-selftests-6.1
tests="set_memory_region_test dirty_log_test memslot_modification_stress_test demand_paging_test kvm_page_table_test"
have=1
for t in $tests; do [[ -x $out/$t ]] || have=0; done
if [[ $have == 0 ]]; then
	src=$cache/src
	mkdir -p "$src" "$out"
	if [[ ! -d $src/linux-source-6.1/tools/testing/selftests/kvm ]]; then
		(cd "$src" && apt-get download -q linux-source-6.1 >&2)
		dpkg-deb --fsys-tarfile "$src"/linux-source-6.1_*_all.deb |
			tar -xO ./usr/src/linux-source-6.1.tar.xz | xz -dc |
			tar -x -C "$src" linux-source-6.1/tools linux-source-6.1/Makefile \
				linux-source-6.1/scripts/subarch.include
		rm -f "$src"/linux-source-6.1_*_all.deb
	fi
	targets=()
	for t in $tests; do targets+=("$out/$t"); done
	# the uapi headers are the system's (linux-libc-dev: Debian 12's are 6.1's)
	make -s -C "$src/linux-source-6.1/tools/testing/selftests/kvm" OUTPUT="$out" \
		KHDR_INCLUDES="-isystem /usr/include" \
		EXTRA_CFLAGS="-static -w -include $here/compat.h" "${targets[@]}" >&2
fi
echo "$out"
