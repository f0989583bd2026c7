#!/usr/bin/env bats
# at-feed: instrument refresh, replay and record round trips, bad input,
# fan-out to FIFOs, and the live ticker against at-sim on loopback
# (subscriptions and modes, the 3-connection split, reconnect after a
# dropped connection).  Runs on both ledgers.

load helper
bats_require_minimum_version 1.5.0

S1=JBSWY3DPEHPK3PXP
FIX=$REPO/tests/fixtures/instruments_nifty.csv
MKCAP=$REPO/tests/lib/make-capture.py

setup() {
	at_setup
	DB=$(new_ledger)
	at-db --db "$DB" init >/dev/null 2>&1
}

teardown() {
	for p in ${FEED_PID:-} ${SIM_PID:-}; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

start_sim() { # extra flags...
	cat >acc.json <<EOF
[{"api_key":"key1","api_secret":"sec1","user_id":"AB0001","password":"pw1","totp_secret":"$S1"}]
EOF
	at-sim --accounts acc.json --listen 127.0.0.1:0 --seed 7 \
		--port-file port "$@" >sim.out 2>sim.err &
	SIM_PID=$!
	for _ in $(seq 1 200); do
		[ -s port ] && break
		sleep 0.05
	done
	PORT=$(cat port)
	B=http://127.0.0.1:$PORT
	export AT_KITE_API_KEY=key1 AT_KITE_API_URL=$B AT_KITE_WS_URL=ws://127.0.0.1:$PORT
	login >tok
	chmod 600 tok
}

# the Kite login flow against at-sim: prints the access token
login() {
	local loc sess rid code rt sum
	loc=$(curl -s -o /dev/null -w '%{redirect_url}' "$B/connect/login?v=3&api_key=key1")
	sess=${loc##*sess_id=}
	rid=$(curl -s -X POST -d "user_id=AB0001&password=pw1" "$B/api/login" | jq -r .data.request_id)
	code=$(oathtool --totp -b "$S1")
	curl -s -c cj -X POST -d "user_id=AB0001&request_id=$rid&twofa_value=$code&twofa_type=totp" "$B/api/twofa" >/dev/null
	loc=$(curl -s -b cj -o /dev/null -w '%{redirect_url}' "$B/connect/finish?v=3&api_key=key1&sess_id=$sess")
	rt=${loc##*request_token=}
	sum=$(printf '%s' "key1${rt}sec1" | sha256sum | cut -d' ' -f1)
	curl -s -X POST -d "api_key=key1&request_token=$rt&checksum=$sum" "$B/session/token" | jq -r .data.access_token
}

# wait_for CMD...: retry for up to 30 s (synchronisation, not a timing test)
wait_for() {
	for _ in $(seq 1 300); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

lines_at_least() { [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }
log_has() { grep -q -- "$2" "$1" 2>/dev/null; }
connected_twice() { [ "$(grep -c 'msg="ticker connected"' live.err)" -ge 2 ]; }

@test "help, version, usage errors" {
	run at-feed --help
	assert_success
	assert_output --partial 'usage: at-feed'
	run at-feed --version
	assert_success
	run at-feed --access-token x
	assert_failure 64
	run at-feed --mode fast
	assert_failure 64
	run at-feed --from 2024-05-20
	assert_failure 64
	assert_output --partial 'need --replay'
	run at-feed --replay --from 2024-13-01
	assert_failure 64
	run at-feed --tokens 1,x --replay
	assert_failure 64
}

@test "refresh-instruments from a file; a bad CSV is refused whole" {
	run at-feed --db "$DB" --refresh-instruments --instruments-file "$FIX"
	assert_success
	assert_output '{"instruments":114,"source":"file"}'
	run ledger_sql "$DB" "SELECT count(*) FROM instruments"
	assert_output 114
	run ledger_sql "$DB" "SELECT tradingsymbol, lot_size, expiry FROM instruments WHERE instrument_token = 2560258"
	assert_output "$(printf 'NIFTY2452322350CE\t25\t2024-05-23')"
	head -40 "$FIX" >bad.csv
	echo '99,1,X,Y,1.0,2024-02-30,0,0.05,1,CE,NFO-OPT,NFO' >>bad.csv
	tail -n +41 "$FIX" >>bad.csv
	run at-feed --db "$DB" --refresh-instruments --instruments-file bad.csv
	assert_failure 65
	assert_output 'at-feed: error: bad.csv:41:14: field "expiry": expected an empty field or a date YYYY-MM-DD'
	run ledger_sql "$DB" "SELECT count(*) FROM instruments WHERE instrument_token = 99"
	assert_output 0
	run ledger_sql "$DB" "SELECT count(*) FROM instruments"
	assert_output 114
}

@test "replay of a capture: tick and order lines, bad frames skipped" {
	python3 "$MKCAP" c.cap 20 --bad
	run --separate-stderr at-feed --replay=c.cap
	assert_success
	[ "$(echo "$output" | wc -l)" -eq $((20 * 5 + 3)) ]
	[ "$(echo "$output" | jq -c 'select(.type == "order")' | wc -l)" -eq 3 ]
	echo "$output" | jq -e -s 'map(select(.instrument_token == 408065)) | length == 20 and all(.mode == "ltp")'
	echo "$output" | jq -e -s 'map(select(.instrument_token == 2560258))[0] | .mode == "full" and .depth.buy[0].price == 100.45 and .ts_ms == 1716176700000'
	echo "$stderr" | grep -q 'msg="bad frame".*packet length 300 exceeds frame'
	echo "$stderr" | grep -q 'unknown packet length 12'
	echo "$stderr" | grep -q 'msg="bad text message skipped"'
	# filters
	run --separate-stderr at-feed --replay=c.cap --tokens 256265 --from 1716176700500 --to 1716176701000
	assert_success
	[ "$(echo "$output" | wc -l)" -eq 5 ]
	# a capture cut in the middle of a record: what came before, then 65
	head -c 1000 c.cap >cut.cap
	run --separate-stderr at-feed --replay=cut.cap
	assert_failure 65
	echo "$stderr" | grep -q 'truncated'
	[ "$(echo "$output" | wc -l)" -ge 5 ]
}

@test "record a capture, replay it from the ledger: same ticks, same order" {
	python3 "$MKCAP" c.cap 30
	run at-feed --db "$DB" --replay=c.cap --record
	assert_success
	echo "$output" | jq -c 'select(.instrument_token) | [.instrument_token, .mode, .last_price, .ts_ms, .volume_traded, .oi, .exchange_ts_ms]' >want
	run ledger_sql "$DB" "SELECT count(*) FROM ticks"
	assert_output 150
	run at-feed --db "$DB" --replay
	assert_success
	echo "$output" | jq -c '[.instrument_token, .mode, .last_price, .ts_ms, .volume_traded, .oi, .exchange_ts_ms]' >got
	diff want got
	echo "$output" | jq -e -s 'map(select(.instrument_token == 2560514))[0] | .bid == 95.2 and .ask == 95.3'
	run at-feed --db "$DB" --replay --tokens 2560258,408065 --from 2024-05-20T09:15:01 --to 2024-05-20T09:15:02
	assert_success
	[ "$(echo "$output" | wc -l)" -eq 20 ]
	run at-feed --db "$DB" --replay --record
	assert_failure 64
}

@test "replay of JSON lines: bad lines named and skipped, paced by --speed" {
	python3 "$MKCAP" c.cap 3
	at-feed --replay=c.cap >good.jsonl
	{
		head -2 good.jsonl
		echo '{"instrument_token":"x","last_price":1}'
		echo 'not json'
		tail -n +3 good.jsonl
	} >mixed.jsonl
	run --separate-stderr at-feed --replay=mixed.jsonl
	assert_success
	diff <(echo "$output") good.jsonl
	echo "$stderr" | grep -q 'at=mixed.jsonl:3 error="offset 20: field \\"instrument_token\\": expected integer'
	echo "$stderr" | grep -q 'at=mixed.jsonl:4'
	run at-feed --replay=- --speed 1000 <good.jsonl
	assert_success
	diff <(echo "$output") good.jsonl
}

@test "the access token never comes from a world-readable file" {
	echo secret >tok
	chmod 644 tok
	run at-feed --db "$DB" --api-key k --token-file tok
	assert_failure 77
	refute_output --partial secret
	run env -u AT_KITE_ACCESS_TOKEN at-feed --db "$DB" --api-key k
	assert_failure 78
}

@test "fanout: a reader that never reads is dropped, a fast one gets every line" {
	python3 "$MKCAP" big.cap 1500
	at-feed --replay=big.cap >want.jsonl
	n=$(wc -l <want.jsonl)
	mkdir fan
	mkfifo fan/fast fan/slow fan/noreader
	head -n "$n" 0<>fan/fast >fast.out &
	HEAD_PID=$!
	exec 5<>fan/slow
	wait_for test -e /proc/$HEAD_PID/fd/0
	run at-feed --replay=big.cap --speed 200 --fanout fan --fanout-buffer 65536
	assert_success
	wait "$HEAD_PID"
	exec 5<&-
	diff fast.out want.jsonl
	echo "$output" | grep -q 'msg="fanout: consumer dropped" fifo=slow'
	run grep -c 'consumer dropped' <<<"$output"
	assert_output 1
}

# ---- live, against at-sim -------------------------------------------------

@test "live: instruments from the broker, master set and running strategies, modes" {
	start_sim
	run at-feed --db "$DB" --refresh-instruments --token-file tok
	assert_success
	assert_output --partial '"source":"broker"'
	uid=$(ledger_sql "$DB" "INSERT INTO users (email, created_ms, updated_ms) VALUES ('a@x', 0, 0) RETURNING id")
	ledger_sql "$DB" "INSERT INTO strategies (user_id, name, strategy_type, config, status, created_ms, updated_ms) VALUES ('$uid', 's1', 'short_straddle', '{\"instrument\":\"BANKNIFTY\",\"expiry\":\"current_week\",\"lots\":1}', 'running', 0, 0)"
	ledger_sql "$DB" "INSERT INTO strategies (user_id, name, strategy_type, config, status, created_ms, updated_ms) VALUES ('$uid', 's2', 'short_straddle', '{\"instrument\":\"FINNIFTY\"}', 'stopped', 0, 0)"
	AT_LOG_LEVEL=info at-feed --db "$DB" --token-file tok --mode quote --strikes 2 >live.out 2>live.err &
	FEED_PID=$!
	# the indices first, then the chains around ATM once they have a price
	wait_for log_has live.err 'msg=subscriptions instruments=23'
	wait_for lines_at_least live.out 50
	kill -USR1 $FEED_PID
	wait_for log_has live.err 'msg=counters'
	kill -TERM $FEED_PID
	wait $FEED_PID
	FEED_PID=
	grep -q 'msg=subscriptions instruments=3 ' live.err
	jq -e -s 'all(.mode == "quote")' live.out
	# NIFTY 50, NIFTY BANK and INDIA VIX, and 2 x 5 options of each chain
	[ "$(jq -r .instrument_token live.out | sort -u | wc -l)" -eq 23 ]
	jq -e -s 'map(.instrument_token) | index(260105) != null and index(257801) == null' live.out
	grep -q 'conn0_instruments=23' live.err
	run ledger_sql "$DB" "SELECT instruments FROM feed_health"
	assert_output 23
	run ledger_sql "$DB" "SELECT count(*) FROM feed_health WHERE last_tick_ms > 0"
	assert_output 1
}

@test "live: 7000 instruments take 3 connections" {
	start_sim --strikes 400
	at-feed --db "$DB" --refresh-instruments --token-file tok >/dev/null
	toks=$(ledger_sql "$DB" "SELECT instrument_token FROM instruments ORDER BY instrument_token LIMIT 7000" | paste -sd, -)
	[ "$(echo "$toks" | tr , '\n' | wc -l)" -eq 7000 ]
	AT_LOG_LEVEL=info at-feed --db "$DB" --token-file tok --mode ltp --strikes 0 --tokens "$toks" >live.out 2>live.err &
	FEED_PID=$!
	wait_for log_has live.err 'msg="ticker connected" conn=2'
	wait_for lines_at_least live.out 7000
	kill -USR1 $FEED_PID
	wait_for log_has live.err 'msg=counters'
	run curl -s "$B/_sim/stats"
	echo "$output" >stats.json
	echo "$output" | jq -e '.data.ws_connections == 3'
	line=$(grep 'msg=counters' live.err)
	for c in 0 1 2; do
		n=$(echo "$line" | sed -n "s/.*conn${c}_instruments=\([0-9]*\).*/\1/p")
		[ "$n" -gt 0 ] && [ "$n" -le 3000 ]
	done
	[ "$(jq -r .instrument_token live.out | sort -u | wc -l)" -ge 6000 ]
	! grep -q 'left out' live.err
}

@test "live: reconnect and resubscribe after at-sim drops the connection" {
	start_sim --drop-ws-every 2
	at-feed --db "$DB" --refresh-instruments --token-file tok >/dev/null
	AT_LOG_LEVEL=info at-feed --db "$DB" --token-file tok --mode full --strikes 1 --capture cap.bin >live.out 2>live.err &
	FEED_PID=$!
	wait_for log_has live.err 'msg="ticker connection lost"'
	# a second "connected" after the loss, then ticks again
	wait_for connected_twice
	n=$(wc -l <live.out)
	wait_for lines_at_least live.out $((n + 10))
	kill -USR1 $FEED_PID
	wait_for log_has live.err 'msg=counters'
	kill -TERM $FEED_PID
	wait $FEED_PID
	FEED_PID=
	grep 'msg=counters' live.err | grep -q 'reconnects=[1-9]'
	# the resubscription restored full mode for the chain
	tail -5 live.out | jq -e -s 'all(.mode == "full")'
	# the capture replays to the same lines
	at-feed --replay=cap.bin | jq -c 'del(.ts_ms)' >replayed
	jq -c 'del(.ts_ms)' live.out >seen
	diff seen replayed
}
