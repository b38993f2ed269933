# Prometheus export: real promtool, a real node_exporter, failure handling
# (sourced by tests/run.sh).

NODE_EXPORTER=${NODE_EXPORTER:-/usr/bin/prometheus-node-exporter}

# free_port: a loopback TCP port nobody listens on
free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 20000))
		! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && { echo "$p"; return; }
	done
	return 1
}

# no_temp_files DIR: nothing half-written left behind
no_temp_files() {
	local left
	left=$(find "$1" -name '.*.tmp' 2>/dev/null)
	[[ -z $left ]] || { echo "temporary files left: $left"; return 1; }
}

prom_value() { # prom_value FILE SERIES-REGEX: the value of the one matching series
	grep -E "^$2 " "$1" | awk '{print $2}'
}

# expect_series FILE SERIES-REGEX VALUE: that series has exactly VALUE
expect_series() {
	local got
	got=$(prom_value "$1" "$2")
	[[ $got == "$3" ]] || { echo "series $2: got '$got', want $3"; return 1; }
}

live_prom_file_exact() {
	mkdir "$TMP/prom"
	timeout $((60 * SLOW)) "$ST_BIN" --prom-file "$TMP/prom/st.prom" -c "$MG_BIN -name guest=p sync-flip 200" >/dev/null
	promtool check metrics <"$TMP/prom/st.prom"
	local f=$TMP/prom/st.prom
	[[ $(stat -c %a "$f") == 644 ]]
	[[ $(tail -c1 "$f" | od -An -c | tr -d ' ') == '\n' ]]
	expect_series "$f" 'shadowtrace_access_changes_total\{vm="p",pid="[0-9]+",origin="sync",from="wux",to="-ux"\}' 200
	expect_series "$f" 'shadowtrace_access_changes_total\{vm="p",pid="[0-9]+",origin="fault",from="-ux",to="wux"\}' 201
	expect_series "$f" 'shadowtrace_translation_writes_total\{vm="p",pid="[0-9]+",origin="fault"\}' 403
	expect_series "$f" 'shadowtrace_translation_writes_total\{vm="p",pid="[0-9]+",origin="sync"\}' 200
	expect_series "$f" 'shadowtrace_shadow_pages_total\{vm="p",pid="[0-9]+",event="synced"\}' 1
	expect_series "$f" 'shadowtrace_gfn_mismatches_total\{vm="p",pid="[0-9]+",kind="sync"\}' 0
	# histogram: the code page (0 changes), the PT page (1), 200 data slots
	# (2 each); cumulative, +Inf = count
	expect_series "$f" 'shadowtrace_slot_access_changes_bucket\{vm="p",pid="[0-9]+",le="0"\}' 1
	expect_series "$f" 'shadowtrace_slot_access_changes_bucket\{vm="p",pid="[0-9]+",le="1"\}' 2
	expect_series "$f" 'shadowtrace_slot_access_changes_bucket\{vm="p",pid="[0-9]+",le="3"\}' 202
	expect_series "$f" 'shadowtrace_slot_access_changes_bucket\{vm="p",pid="[0-9]+",le="\+Inf"\}' 202
	expect_series "$f" 'shadowtrace_slot_access_changes_sum\{vm="p",pid="[0-9]+"\}' 401
	expect_series "$f" 'shadowtrace_access_change_interval_seconds_count\{vm="p",pid="[0-9]+"\}' 200
	grep -q "^shadowtrace_build_info{version=\"[^\"]*\",attach_mode=\"$(auto_attach_mode)\",kernel=\"$(uname -r)\"} 1\$" "$f"
	grep -q '^shadowtrace_dropped_events_total{reason="shadow_page_map_full"} 0$' "$f"
	grep -q '^shadowtrace_tdp_mmu_pages_total{event="created"} 0$' "$f"
	no_temp_files "$TMP/prom"
}

# The remap scenario's distances, through node_exporter's textfile collector.
live_prom_node_exporter_scrape() {
	[[ -x $NODE_EXPORTER ]] || { echo "no $NODE_EXPORTER (make deps)"; return 1; }
	mkdir "$TMP/textfile"
	local port
	port=$(free_port)
	"$NODE_EXPORTER" --web.listen-address="127.0.0.1:$port" --collector.disable-defaults \
		--collector.textfile --collector.textfile.directory="$TMP/textfile" >"$TMP/ne.log" 2>&1 &
	local ne=$!
	timeout $((60 * SLOW)) "$ST_BIN" --prom-file "$TMP/textfile/shadowtrace.prom" \
		-c "$MG_BIN -name guest=ne remap 300 & $MG_BIN -name guest=ne2 sync-flip 100; wait" >/dev/null
	local ok=1
	for _ in $(seq $((50 * SLOW))); do curl -sf "http://127.0.0.1:$port/metrics" >"$TMP/scrape" && ok=0 && break; sleep 0.1; done
	kill "$ne"; wait "$ne" 2>/dev/null || true
	[[ $ok == 0 ]] || { echo "node_exporter did not answer: $(cat "$TMP/ne.log")"; return 1; }
	local f=$TMP/scrape
	expect_series "$f" 'node_textfile_scrape_error' 0
	expect_series "$f" 'shadowtrace_gfn_mismatches_total\{kind="sync",pid="[0-9]+",vm="ne"\}' 300
	# node_exporter sorts labels, but keeps "le" last
	expect_series "$f" 'shadowtrace_gfn_mismatch_distance_pages_bucket\{pid="[0-9]+",vm="ne",le="1023"\}' 0
	expect_series "$f" 'shadowtrace_gfn_mismatch_distance_pages_bucket\{pid="[0-9]+",vm="ne",le="2047"\}' 300
	expect_series "$f" 'shadowtrace_access_changes_total\{from="wux",origin="sync",pid="[0-9]+",to="-ux",vm="ne2"\}' 100
}

cli_prom_file_needs_prom_suffix() {
	expect_one_line_error 2 "must name a \*.prom file" "$ST_BIN" --prom-file /tmp/x.txt -d 1
	expect_one_line_error 2 "must name a \*.prom file" "$ST_BIN" --prom-file /tmp/dir/ -d 1
	expect_one_line_error 2 "goes with tracing or report, not demo" "$ST_BIN" demo --prom-file /tmp/x.prom
}

# A missing directory: one message however many exports fail; tracing goes on.
live_prom_missing_dir_reported_once() {
	local rc=0
	timeout $((60 * SLOW)) "$ST_BIN" --prom-file "$TMP/nope/st.prom" -i 1 -d 4 >/dev/null 2>"$TMP/err" || rc=$?
	[[ $rc == 1 ]] || { echo "exit $rc, want 1 (final export failed)"; return 1; }
	[[ $(grep -c 'cannot open directory of' "$TMP/err") == 1 ]] || { cat "$TMP/err"; return 1; }
	[[ ! -e $TMP/nope ]]
}

# with_tmpfs SIZE: a small tmpfs at $TMP/fs, unmounted at the end of the test
with_tmpfs() {
	mkdir -p "$TMP/fs"
	mount -t tmpfs -o "size=$1" shadowtrace-test "$TMP/fs"
	# each test runs in its own subshell: unmount when it ends, pass or fail
	trap 'umount "$TMP/fs" 2>/dev/null || true' EXIT
}

# Read-only file system after a first export: the file stays as it was.
live_prom_readonly_keeps_previous() {
	with_tmpfs 1m
	timeout $((60 * SLOW)) "$ST_BIN" --prom-file "$TMP/fs/st.prom" -i 1 -d 5 \
		-c "$MG_BIN -name guest=ro fault-churn 50; sleep 6" >/dev/null 2>"$TMP/err" &
	local st=$!
	for _ in $(seq $((40 * SLOW))); do [[ -s $TMP/fs/st.prom ]] && break; sleep 0.1; done
	sleep 1.2	# an export after the VM exited
	mount -o remount,ro "$TMP/fs"
	cp "$TMP/fs/st.prom" "$TMP/before"
	local rc=0
	wait "$st" || rc=$?
	[[ $rc == 1 ]]
	cmp "$TMP/before" "$TMP/fs/st.prom"
	promtool check metrics <"$TMP/fs/st.prom"
	[[ $(grep -c 'Read-only file system' "$TMP/err") == 1 ]] || { cat "$TMP/err"; return 1; }
	no_temp_files "$TMP/fs"
	umount "$TMP/fs"
}

# A full disk: previous file intact, no temporary file left, then recovery.
live_prom_disk_full_then_recovers() {
	with_tmpfs 64k
	timeout $((60 * SLOW)) "$ST_BIN" --prom-file "$TMP/fs/st.prom" -i 1 -d 7 \
		-c "$MG_BIN -name guest=full fault-churn 50; sleep 8" >/dev/null 2>"$TMP/err" &
	local st=$!
	for _ in $(seq $((40 * SLOW))); do [[ -s $TMP/fs/st.prom ]] && break; sleep 0.1; done
	sleep 1.2
	# leave less room than one export needs
	dd if=/dev/zero of="$TMP/fs/filler" bs=1k count=64 2>/dev/null || true
	cp "$TMP/fs/st.prom" "$TMP/before"
	sleep 2.5
	cmp "$TMP/before" "$TMP/fs/st.prom"
	no_temp_files "$TMP/fs"
	rm -f "$TMP/fs/filler"
	wait "$st"
	[[ $(grep -c 'No space left on device' "$TMP/err") == 1 ]] || { cat "$TMP/err"; return 1; }
	grep -q 'written again' "$TMP/err"
	promtool check metrics <"$TMP/fs/st.prom"
	no_temp_files "$TMP/fs"
	umount "$TMP/fs"
}

# The export directory replaced by a file: reported once, tracing goes on.
live_prom_dir_replaced_by_file() {
	mkdir "$TMP/d"
	timeout $((60 * SLOW)) "$ST_BIN" --prom-file "$TMP/d/st.prom" -i 1 -d 5 >/dev/null 2>"$TMP/err" &
	local st=$!
	for _ in $(seq $((40 * SLOW))); do [[ -s $TMP/d/st.prom ]] && break; sleep 0.1; done
	rm -rf "$TMP/d" && touch "$TMP/d"
	local rc=0
	wait "$st" || rc=$?
	[[ $rc == 1 ]]
	[[ $(grep -c 'Not a directory' "$TMP/err") == 1 ]] || { cat "$TMP/err"; return 1; }
	[[ -f $TMP/d && ! -s $TMP/d ]]
}

# SIGTERM at random moments of exporting: a whole file, no temporary file.
live_prom_sigterm_during_export() {
	mkdir "$TMP/sig"
	for i in 1 2 3 4 5; do
		"$ST_BIN" --prom-file "$TMP/sig/st.prom" -i 1 >/dev/null 2>"$TMP/err" &
		local st=$!
		sleep "1.$((RANDOM % 10))"
		kill -TERM "$st"
		wait "$st"
		promtool check metrics <"$TMP/sig/st.prom"
		no_temp_files "$TMP/sig"
	done
}

# A VM that exits stays for --prom-keep, then its series disappear.
live_prom_exited_vm_kept_then_dropped() {
	mkdir "$TMP/keep"
	"$ST_BIN" --prom-file "$TMP/keep/st.prom" -i 1 --prom-keep 2 >/dev/null 2>"$TMP/err" &
	local st=$!
	wait_ready "$TMP/err"
	"$MG_BIN" -name guest=gone fault-churn 30
	local seen=0
	for _ in $(seq $((30 * SLOW))); do
		grep -q 'origin="fault",from="-ux",to="wux"} 30' "$TMP/keep/st.prom" 2>/dev/null && { seen=1; break; }
		sleep 0.2
	done
	[[ $seen == 1 ]] || { echo "exited VM never exported"; kill "$st"; return 1; }
	sleep 4.5
	! grep -q 'vm="gone"' "$TMP/keep/st.prom" || { echo "series still there"; kill "$st"; return 1; }
	kill -INT "$st"
	wait "$st"
}

# The alerting and recording rules: valid, and each alert both firing and
# not in its promtool unit tests (contrib/prometheus/*.test.yml).
cli_prom_rules_unit_tests() {
	promtool check rules contrib/prometheus/shadowtrace.rules.yml
	(cd contrib/prometheus && promtool test rules shadowtrace.rules.test.yml)
}

# promql URL QUERY: the query's JSON answer from Prometheus at URL
promql() { curl -sfG --data-urlencode "query=$2" "$1/api/v1/query"; }

# A real Prometheus scrapes a real node_exporter reading textfiles that
# shadowtrace wrote (from recordings of micro-guest runs), loads the rules,
# and answers every dashboard and rule expression: each parses; each
# dashboard panel's, template's and recording rule's returns series.
cli_prom_rules_and_dashboard_evaluate() {
	[[ -x $NODE_EXPORTER ]] || { echo "no $NODE_EXPORTER (make deps)"; return 1; }
	local ne_port p_port url s
	SERVERS=()	# global: the EXIT trap runs after the locals are gone
	mkdir "$TMP/textfile"
	for s in remap sync-flip hugepage-dirtylog; do
		"$ST_BIN" report "tests/fuzz/seeds/$s.strec" --prom-file "$TMP/textfile/$s.prom" >/dev/null
	done
	ne_port=$(free_port)
	"$NODE_EXPORTER" --web.listen-address="127.0.0.1:$ne_port" --collector.disable-defaults \
		--collector.textfile --collector.textfile.directory="$TMP/textfile" >"$TMP/ne.log" 2>&1 &
	SERVERS+=($!)
	p_port=$(free_port)
	[[ $p_port != "$ne_port" ]] || p_port=$((ne_port + 1))
	cat >"$TMP/prometheus.yml" <<-CONF
		global: {scrape_interval: 1s, evaluation_interval: 1s}
		rule_files: ["$PWD/contrib/prometheus/shadowtrace.rules.yml"]
		scrape_configs:
		  - job_name: node
		    static_configs: [{targets: ["127.0.0.1:$ne_port"]}]
	CONF
	prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
		--web.listen-address="127.0.0.1:$p_port" --log.level=warn >"$TMP/prom.log" 2>&1 &
	SERVERS+=($!)
	trap 'kill "${SERVERS[@]}" 2>/dev/null || true; wait || true' EXIT
	url=http://127.0.0.1:$p_port
	# scrapes enough for a rate, and a rule evaluation, behind us
	series() { promql "$url" "$1" 2>/dev/null | jq '.data.result | length'; }
	local ready=0
	for _ in $(seq 600); do
		[[ $(series 'rate(shadowtrace_translation_writes_total[1m])') -gt 0 &&
		   $(series 'instance_map:shadowtrace_bpf_map_usage:ratio') -gt 0 ]] && ready=1 && break
		sleep 0.1
	done
	[[ $ready == 1 ]] || { echo "Prometheus not ready: $(curl -s "$url/api/v1/targets" | head -c 600)"
		tail -5 "$TMP/prom.log" "$TMP/ne.log"; return 1; }
	local q n=0 alerts=0 answer
	# check QUERY WANT-SERIES
	check() {
		answer=$(promql "$url" "$1") || { echo "query failed: $1"; return 1; }
		jq -e '.status == "success"' <<<"$answer" >/dev/null || { echo "error: $1: $answer"; return 1; }
		[[ $2 == no ]] || jq -e '.data.result | length > 0' <<<"$answer" >/dev/null ||
			{ echo "no series: $1"; return 1; }
		n=$((n + 1))
	}
	while IFS= read -r q; do
		check "$q" yes
	done < <(jq -r '.panels[].targets[]?.expr, (.templating.list[].query.query? // empty |
		sub("^label_values\\((?<m>.*), *[a-z_]+\\)$"; "\(.m)"))' contrib/grafana/shadowtrace.json |
		sed 's/\$instance/.*/g; s/\$vm/.*/g; s/\$__rate_interval/1m/g')
	curl -sf "$url/api/v1/rules" >"$TMP/rules.json"
	[[ $(jq '[.data.groups[].rules[]] | length' "$TMP/rules.json") == 10 ]]
	while IFS=$'\t' read -r kind name q; do
		if [[ $kind == recording ]]; then
			check "$q" yes
			check "$name" yes
		else
			check "$q" no
			alerts=$((alerts + 1))
		fi
	done < <(jq -r '.data.groups[].rules[] | [.type, .name, (.query | gsub("\n"; " "))] | @tsv' "$TMP/rules.json")
	jq -e '[.data.groups[].rules[] | select(.health != "ok")] | length == 0' "$TMP/rules.json" >/dev/null ||
		{ echo "unhealthy rules: $(jq -c '[.data.groups[].rules[] | select(.health != "ok")]' "$TMP/rules.json")"; return 1; }
	echo "$n expressions answered ($alerts alerts parsed and evaluated)"
	[[ $alerts == 6 ]]
}
