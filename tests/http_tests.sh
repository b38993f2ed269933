# The /metrics endpoint (sourced by tests/run.sh): what it answers, and that
# no client, slow, hostile or one of many, holds up tracing.

# listener PORT ARGS...: shadowtrace ARGS --listen 127.0.0.1:PORT in the
# background as $LISTENER, stdout in $TMP/listen.out; returns when ready
listener() {
	local port=$1
	shift
	"$ST_BIN" "$@" --listen "127.0.0.1:$port" >"$TMP/listen.out" 2>"$TMP/listen.err" &
	LISTENER=$!
	# a failing test (its own subshell) leaves no tracer behind
	trap '{ kill -INT "$LISTENER" && wait "$LISTENER"; } 2>/dev/null || true' EXIT
	wait_ready "$TMP/listen.err"
}

http_code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# the metrics text without the line that is the scrape's time
figures_only() { grep -v '^shadowtrace_last_export_timestamp_seconds '; }

live_prom_listen_http() {
	local port
	port=$(free_port)
	timeout $((60 * SLOW)) "$ST_BIN" --listen "127.0.0.1:$port" --json \
		-c "$MG_BIN -name guest=h fault-churn 120; sleep 3" >"$TMP/out.json" 2>"$TMP/err" &
	local st=$!
	local got=""
	for _ in $(seq $((60 * SLOW))); do
		sleep 0.1
		got=$(curl -sf "http://127.0.0.1:$port/metrics" || true)
		grep -q 'origin="fault",from="-ux",to="wux"} 120' <<<"$got" && break
	done
	grep -q 'shadowtrace_access_changes_total{vm="h",pid="[0-9]*",origin="fault",from="-ux",to="wux"} 120' <<<"$got"
	promtool check metrics <<<"$got"
	wait "$st"
}

cli_listen_refuses_public() {
	expect_one_line_error 2 "not a loopback address; add --listen-public" "$ST_BIN" --listen 192.0.2.1:9977 -d 1
	expect_one_line_error 2 "invalid --listen 'nonsense'" "$ST_BIN" --listen nonsense -d 1
	expect_one_line_error 2 "invalid --listen '127.0.0.1:99999'" "$ST_BIN" --listen 127.0.0.1:99999 -d 1
	expect_one_line_error 2 "invalid --listen '\[::1\]9977'" "$ST_BIN" --listen '[::1]9977' -d 1
}

# A port in use: one line, exit 1, before anything is attached.
cli_listen_port_in_use() {
	local port nc
	port=$(free_port)
	busybox nc -l -p "$port" </dev/null >/dev/null &
	nc=$!
	for _ in $(seq 50); do ss -Hltn "sport = :$port" | grep -q . && break; sleep 0.1; done
	expect_one_line_error 1 "cannot listen on 127.0.0.1:$port: Address already in use" \
		"$ST_BIN" --listen "127.0.0.1:$port" -d 1 || { kill "$nc"; return 1; }
	kill "$nc"
}

# GET, HEAD, gzip, /, 404, 405; 200 scrapes at once, all answered alike.
kernel_http_answers() {
	local port url
	port=$(free_port)
	url=http://127.0.0.1:$port
	listener "$port" --json
	# the threads that read clients' bytes hold no capability
	local task
	for task in /proc/"$LISTENER"/task/*; do
		grep -q '^CapEff:[[:space:]]*0000000000000000$' "$task/status" ||
			{ echo "thread ${task##*/} ($(cat "$task/comm")): $(grep CapEff "$task/status")"; return 1; }
	done
	[[ $(find /proc/"$LISTENER"/task -mindepth 1 -maxdepth 1 | wc -l) -ge 3 ]]
	curl -sf -D "$TMP/get.h" "$url/metrics" >"$TMP/plain"
	promtool check metrics <"$TMP/plain"
	grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8' "$TMP/get.h"
	# HEAD: GET's status and headers, no body
	curl -sI "$url/metrics" >"$TMP/head.h"
	grep -q '^HTTP/1.1 200' "$TMP/head.h"
	[[ $(curl -s -X HEAD -m 5 "$url/metrics" | wc -c) == 0 ]]
	# gzip when accepted, the same figures; not with q=0
	curl -sf -H 'Accept-Encoding: gzip' -D "$TMP/gz.h" "$url/metrics" >"$TMP/gz"
	grep -qi '^Content-Encoding: gzip' "$TMP/gz.h"
	diff <(figures_only <"$TMP/plain") <(gunzip <"$TMP/gz" | figures_only)
	curl -sf -H 'Accept-Encoding: gzip;q=0, identity' -D "$TMP/q0.h" "$url/metrics" >/dev/null
	! grep -qi '^Content-Encoding' "$TMP/q0.h"
	# the root page links the metrics; other paths and methods are refused
	curl -sf "$url/" | grep -q 'href="/metrics"'
	[[ $(http_code "$url/other") == 404 ]]
	[[ $(http_code -X POST -d x=1 "$url/metrics") == 405 ]]
	curl -s -X DELETE -D - -o /dev/null "$url/metrics" | grep -qi '^Allow: GET, HEAD'
	# 200 concurrent scrapes: every one answered, one content
	local got
	got=$("$ATTACK_BIN" scrape "127.0.0.1:$port" 200)
	[[ $got == "scrape: 200 of 200 answered 200, 1 distinct bodies" ]] || { echo "$got"; return 1; }
	got=$("$ATTACK_BIN" scrape "127.0.0.1:$port" 200 gzip)
	[[ $got == "scrape: 200 of 200 answered 200, 1 distinct bodies" ]] || { echo "gzip: $got"; return 1; }
	kill -INT "$LISTENER"
	wait "$LISTENER"
}

# Malformed and oversized requests: an error status or a closed
# connection, and the tracer goes on answering.
kernel_http_refuses_malformed() {
	local port addr got
	port=$(free_port)
	addr=127.0.0.1:$port
	listener "$port" --json
	# expect_answer PATTERN [send-mode]: stdin as a request, the reply matches
	expect_answer() {
		got=$("$ATTACK_BIN" send "$addr" "${2:-}")
		[[ $got =~ $1 ]] || { echo "got '$got', want /$1/"; return 1; }
	}
	printf 'GET /metrics HTTP/1.1' | expect_answer '^(closed|HTTP/1.1 400)' half-close
	printf 'GET /metrics HTTP/1.1' | expect_answer '^(closed|HTTP/1.1 400)'
	head -c 4096 /dev/urandom | expect_answer '^(closed|HTTP/1.1 400)'
	printf '\0\377\r\n\r\n' | expect_answer '^(closed|HTTP/1.1 400)'
	printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n' | expect_answer '^(closed|HTTP/1.1 400)' half-close
	{ printf 'GET /metrics HTTP/1.1\r\nHost: x\r\nX-Long: '; head -c 65536 /dev/zero | tr '\0' a
	  printf '\r\n\r\n'; } | expect_answer '^HTTP/1.1 431'
	{ printf 'GET /'; head -c 65536 /dev/zero | tr '\0' a; printf ' HTTP/1.1\r\n\r\n'; } |
		expect_answer '^(closed|HTTP/1.1 (414|431))'
	printf 'GET /metrics HTTP/9.9\r\n\r\n' | expect_answer '^(closed|HTTP/1.1 (400|505))'
	printf 'POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\nxx' |
		expect_answer '^HTTP/1.1 405' half-close
	# still serving, still tracing
	printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n' | expect_answer '^HTTP/1.1 200'
	kill -0 "$LISTENER"
	kill -INT "$LISTENER"
	wait "$LISTENER"
	[[ $(jq -s 'map(select(.final)) | length' "$TMP/listen.out") == 1 ]]
}

# -i 1 -d 12, recording and writing the textfile while a slowloris client,
# 50 idle connections and a client that never reads its answer are at the
# endpoint, and a VM runs: one report a second, the end on time, the
# textfile fresh every second, no event lost, the VM exact.
live_http_hostile_clients_keep_tracing() {
	local port addr t0 t1 want
	port=$(free_port)
	addr=127.0.0.1:$port
	# --prom-keep: the VM, once exited, stays in the reports to the end
	listener "$port" record -o "$TMP/hostile.strec" -i 1 -d 12 --json --prom-file "$TMP/st.prom" --prom-keep 60
	t0=$(date +%s.%N)
	"$ATTACK_BIN" hold "$addr" 1 11 1500 >"$TMP/trickle" &
	"$ATTACK_BIN" hold "$addr" 50 11 >"$TMP/idle" &
	printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n' | "$ATTACK_BIN" send "$addr" no-read >/dev/null &
	"$MG_BIN" -name guest=hostile fault-churn 120 >/dev/null &
	local mg=$!
	# the textfile's own stamp, as long as the tracer runs
	while kill -0 "$LISTENER" 2>/dev/null; do
		prom_value "$TMP/st.prom" shadowtrace_last_export_timestamp_seconds
		sleep 0.5
	done >"$TMP/stamps"
	wait "$LISTENER"
	t1=$(date +%s.%N)
	wait "$mg"
	wait
	jq -s -c '[.[] | {final, elapsed_s}]' "$TMP/listen.out"
	# one report a second (±1), the end within a second of 12 s
	jq -s -e '[.[] | select(.final | not)] | length >= 11 and length <= 13' "$TMP/listen.out" >/dev/null ||
		{ echo "interval reports: $(jq -s '[.[] | select(.final | not)] | length' "$TMP/listen.out")"; return 1; }
	jq -s -e '[.[] | select(.final | not) | .elapsed_s] as $e | [$e[0]] + [range(1; $e | length) |
		$e[.] - $e[. - 1]] | all(. >= 0.5 and . <= 2)' "$TMP/listen.out" >/dev/null
	# (in the test VM, detaching under emulation, with another VM beside it,
	# takes seconds of its own: the final report comes that much later)
	local slack=1
	[[ $SLOW == 1 ]] || slack=4
	jq -s -e --argjson last $((12 + slack)) 'map(select(.final))[0].elapsed_s <= $last' "$TMP/listen.out" >/dev/null
	# and the process soon gone (ASan's exit too)
	awk -v a="$t0" -v b="$t1" -v slack=$((2 * SLOW)) 'BEGIN { exit !(b - a <= 13 + slack) }' ||
		{ echo "ended $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s after ready"; return 1; }
	# the textfile was rewritten every second: no gap over 2.5 s between its stamps
	sort -u "$TMP/stamps" | awk 'NR > 1 && $1 - prev > 2.5 { bad = 1 } { prev = $1; n++ }
		END { exit bad || n < 9 }' || { echo "textfile stamps: $(tr '\n' ' ' <"$TMP/stamps")"; return 1; }
	# no event lost, the VM exact, in the report and in the recording
	jq -s -e 'map(select(.final))[0].recording.lost | [.[]] | add == 0' "$TMP/listen.out" >/dev/null
	jq -s 'map(select(.final))[0]' "$TMP/listen.out" >"$TMP/final.json"
	expect_vm hostile fault-churn 120 "$TMP/final.json"
	expect_no_drops "$TMP/final.json"
	"$ST_BIN" report "$TMP/hostile.strec" --json >"$TMP/replayed.json"
	expect_vm hostile fault-churn 120 "$TMP/replayed.json"
	# the slow clients were cut (they would hold 11 s): at 10 s the trickler,
	# at 5 s of silence the idle ones (in the test VM, under emulation and
	# another VM's load, seen up to 5.7 s: 2 s of slack there)
	cat "$TMP/trickle" "$TMP/idle"
	awk '{ exit !($(NF-1) <= 10.5) }' "$TMP/trickle"
	awk -v most="$([[ $SLOW == 1 ]] && echo 5.5 || echo 7.5)" '{ exit !($(NF-1) <= most && $3 >= 100) }' "$TMP/idle"
}

# What is ours of the endpoint under libFuzzer, briefly (make fuzz-http runs
# it longer): addresses, Accept-Encoding, whole requests to the real server.
cli_fuzz_http_requests() {
	[[ -x ${FUZZ_HTTP_BIN:-} ]] || { echo "no fuzzer built (clang's libFuzzer)"; return 1; }
	mkdir -p "$TMP/http-corpus" .output-fuzz/artifacts
	cp tests/fuzz/http-seeds/* "$TMP/http-corpus/"
	"$FUZZ_HTTP_BIN" -max_total_time="$(( (${FUZZ_SECONDS:-60} + 1) / 2 ))" -max_len=16384 \
		-artifact_prefix=.output-fuzz/artifacts/ -print_final_stats=1 "$TMP/http-corpus" >"$TMP/fuzz-http.log" 2>&1 ||
		{ tail -30 "$TMP/fuzz-http.log"; return 1; }
	grep -q 'Done [0-9]* runs' "$TMP/fuzz-http.log"
}
