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
	# the unit's Documentation= is what was installed: the man page, the README
	local doc
	grep -q '^Documentation=man:shadowtrace(8) ' "$TMP/root/usr/lib/systemd/system/shadowtrace.service"
	doc=$(sed -n 's|^Documentation=.* file://\(/[^ ]*\).*|\1|p' "$TMP/root/usr/lib/systemd/system/shadowtrace.service")
	[[ -n $doc && -s $TMP/root$doc ]] || { echo "the unit's Documentation file://$doc is not installed"; return 1; }
	# the demo's micro-guest, where the installed shadowtrace looks for it
	[[ -x $TMP/root/usr/sbin/../lib/shadowtrace/microguest ]]
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

# chromium_load HTML PNG: headless Debian chromium renders HTML to PNG; its
# text content in $TMP/dom.txt, its log in $TMP/chromium.log
chromium_load() {
	local flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1800)
	timeout 120 chromium "${flags[@]}" --enable-logging=stderr --v=0 --screenshot="$2" "file://$1" \
		>/dev/null 2>"$TMP/chromium.log"
	timeout 120 chromium "${flags[@]}" --dump-dom "file://$1" 2>/dev/null | sed 's/<[^>]*>/ /g' >"$TMP/dom.txt"
	[[ -s $2 ]] || { echo "no screenshot: $(tail -3 "$TMP/chromium.log")"; return 1; }
	# a console message (an error of the page) would be logged as CONSOLE
	! grep -i 'console' "$TMP/chromium.log"
}

# report --html and diff --html: self-contained pages that a real browser
# renders without a console message, with the figures in their text.
cli_html_pages_in_chromium() {
	command -v chromium >/dev/null || { echo "no chromium (make deps)"; return 1; }
	"$ST_BIN" report tests/fuzz/seeds/remap.strec --html "$TMP/report.html" >/dev/null
	# nothing fetched: no script, no external address
	! grep -Eiq '<script|https?://|src=' "$TMP/report.html"
	chromium_load "$TMP/report.html" "$TMP/report.png"
	grep -q 'VM remap-1' "$TMP/dom.txt"
	# remap-1's figures (tests/fuzz/seeds/remap.strec): 12 fault and 7
	# prefetch writes, 8 sync gfn mismatches; its distance chart's 8 samples
	grep -Eq 'remap-1 +4857 +12 +7 +0 +0 +1 +8 +0' "$TMP/dom.txt" || { head -c 2000 "$TMP/dom.txt"; return 1; }
	grep -q 'gfn_mismatch_distance_pages (pages; 8 samples)' "$TMP/dom.txt"
	# the diff: exactly its counted differences highlighted
	local want
	want=$("$ST_BIN" diff tests/fuzz/seeds/sync-flip.strec tests/fuzz/seeds/remap.strec --json | jq .differences)
	expect_status 1 "$ST_BIN" diff tests/fuzz/seeds/sync-flip.strec tests/fuzz/seeds/remap.strec \
		--html "$TMP/diff.html" >/dev/null
	[[ $(grep -o 'class="changed"' "$TMP/diff.html" | wc -l) == "$want" ]]
	chromium_load "$TMP/diff.html" "$TMP/diff.png"
	grep -q "differences  *$want" "$TMP/dom.txt"
	# refused where it makes no sense; an unwritable place leaves nothing behind
	expect_one_line_error 2 "--html goes with report and diff" "$ST_BIN" --html "$TMP/x.html" -d 1
	expect_one_line_error 1 "cannot" "$ST_BIN" report tests/fuzz/seeds/remap.strec --html "$TMP/no/such/x.html"
}
