#!/bin/sh
# Installs what building and testing shadowtrace needs on Debian 12, only if
# missing (apt-get, as root). Idempotent; quiet when all is there.
set -eu
pkgs=""
need() { # need COMMAND-OR-FILE PACKAGE
	case $1 in
	/*) [ -e "$1" ] || pkgs="$pkgs $2" ;;
	*) command -v "$1" >/dev/null 2>&1 || pkgs="$pkgs $2" ;;
	esac
}
need clang clang
need llvm-strip llvm
need gcc gcc
need make make
need bpftool bpftool
need jq jq
need curl curl
need valgrind valgrind
need qemu-system-x86_64 qemu-system-x86
need busybox busybox-static
need xz xz-utils
need unshare util-linux
need promtool prometheus
need /usr/bin/prometheus-node-exporter prometheus-node-exporter
need setpriv util-linux
need pgrep procps
need /usr/include/bpf/libbpf.h libbpf-dev
need /usr/include/gelf.h libelf-dev
need /usr/include/zlib.h zlib1g-dev
need /usr/include/microhttpd.h libmicrohttpd-dev
# the man page, and the tests of it, of the completion and of the package
need scdoc scdoc
need man man-db
need /usr/share/bash-completion/bash_completion bash-completion
need chromium chromium	# the HTML pages' test: a real browser, headless
need /usr/include/linux/kvm.h linux-libc-dev
# clang's sanitizer runtime for the test build
ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.asan-x86_64.a >/dev/null 2>&1 ||
	dpkg -s libasan8 >/dev/null 2>&1 || pkgs="$pkgs libasan8"
dpkg -s libubsan1 >/dev/null 2>&1 || pkgs="$pkgs libubsan1"
# libFuzzer (make fuzz, and the short fuzz run of make test)
ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 ||
	pkgs="$pkgs libclang-rt-dev"
[ -z "$pkgs" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing:$pkgs; run as root (sudo make deps)" >&2
	exit 1
fi
echo "install-deps: installing$pkgs" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
