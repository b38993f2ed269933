# What an operator installs (sourced by tests/run.sh): the man page, bash
# completion, make install and the Debian package.

MAN_PAGE=${MAN_PAGE:-.output/shadowtrace.8}

# The man page renders, and names every long option --help lists.
cli_man_page() {
	[[ -s $MAN_PAGE ]] || { echo "no $MAN_PAGE (make all)"; return 1; }
	MANWIDTH=80 man -l "$MAN_PAGE" >"$TMP/man.txt" 2>"$TMP/man.err"
	[[ ! -s $TMP/man.err ]] || { cat "$TMP/man.err"; return 1; }
	grep -q '^NAME' "$TMP/man.txt"
	grep -q '^EXIT STATUS' "$TMP/man.txt"
	local opt missing=""
	for opt in $("$ST_BIN" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
		grep -q -- "$opt" "$TMP/man.txt" || missing="$missing $opt"
	done
	[[ -z $missing ]] || { echo "not in the man page:$missing"; return 1; }
}

# complete_words WORDS...: what bash completion offers for the last word
complete_words() {
	PATH="$(cd "$(dirname "$ST_BIN")" && pwd):$PATH" bash -c '. /usr/share/bash-completion/bash_completion
		. contrib/bash-completion/shadowtrace
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_shadowtrace shadowtrace "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$@"
}

cli_bash_completion() {
	[[ $(complete_words shadowtrace re | tr '\n' ' ') == "record report " ]]
	[[ $(complete_words shadowtrace --attach k) == kprobe ]]
	complete_words shadowtrace --max | grep -qx -- '--max-shadow-pages='
	complete_words shadowtrace demo --scenario sync | grep -qx sync-keep
}

# make install into a DESTDIR puts every piece where it belongs.
cli_make_install() {
	make -s --no-print-directory install PREFIX=/usr DESTDIR="$TMP/root" >/dev/null
	local f
	for f in sbin/shadowtrace lib/shadowtrace/microguest share/man/man8/shadowtrace.8.gz \
		share/bash-completion/completions/shadowtrace lib/systemd/system/shadowtrace.service \
		share/shadowtrace/prometheus/shadowtrace.rules.yml share/shadowtrace/grafana/shadowtrace.json; do
		[[ -s $TMP/root/usr/$f ]] || { echo "missing /usr/$f"; return 1; }
	done
	grep -q '^ExecStart=/usr/sbin/shadowtrace ' "$TMP/root/usr/lib/systemd/system/shadowtrace.service"
	"$TMP/root/usr/sbin/shadowtrace" --version | grep -q shadowtrace
}

# The .deb installs with apt-get, runs, and is removed without a trace.
cli_debian_package() {
	local deb
	deb=$(ls .output/shadowtrace_*.deb 2>/dev/null | head -1)
	[[ -n $deb ]] || { echo "no .output/shadowtrace_*.deb (make deb)"; return 1; }
	if dpkg -s shadowtrace >/dev/null 2>&1; then
		echo "a shadowtrace package is installed on this machine already: not touching it"
		return 1
	fi
	dpkg-deb -f "$deb" Depends | grep -q 'libbpf1' 
	trap 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq shadowtrace >/dev/null 2>&1 || true' EXIT
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "./$deb" >"$TMP/apt.log" 2>&1 ||
		{ tail -5 "$TMP/apt.log"; return 1; }
	/usr/sbin/shadowtrace --version | grep -q shadowtrace
	/usr/sbin/shadowtrace --list-probes >"$TMP/probes" 2>&1 || { cat "$TMP/probes"; return 1; }
	grep -q 'set_spte' "$TMP/probes"
	MANWIDTH=80 man shadowtrace 2>/dev/null | grep -q '^EXIT STATUS'
	DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq shadowtrace >"$TMP/apt.log" 2>&1
	! dpkg -s shadowtrace >/dev/null 2>&1
	[[ ! -e /usr/sbin/shadowtrace && ! -e /usr/share/shadowtrace && ! -e /usr/lib/shadowtrace ]]
}
