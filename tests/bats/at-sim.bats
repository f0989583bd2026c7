#!/usr/bin/env bats
# at-sim over HTTP with curl: the login flow, orders, portfolio, quotes,
# rate limits, faults, admin API and shutdown.  (The ticker is covered by
# tests/unit/test_sim.c.)

load helper

S1=JBSWY3DPEHPK3PXP
S2=GEZDGNBVGY3TQOJQ

start_sim() { # extra flags...
	at-sim --accounts acc.json --listen 127.0.0.1:0 --seed 5 \
		--port-file port "$@" >sim.out 2>sim.err &
	SIM_PID=$!
	for _ in $(seq 1 200); do
		[ -s port ] && break
		sleep 0.05
	done
	PORT=$(cat port)
	B=http://127.0.0.1:$PORT
}

setup() {
	at_setup
	cat >acc.json <<EOF
[{"api_key":"key1","api_secret":"sec1","user_id":"AB0001","password":"pw1","totp_secret":"$S1"},
 {"api_key":"key2","api_secret":"sec2","user_id":"AB0002","password":"pw2","totp_secret":"$S2"}]
EOF
	start_sim --clock manual --start-ms 1715831100000
}

teardown() {
	if [ -n "${SIM_PID:-}" ]; then
		kill "$SIM_PID" 2>/dev/null || true
		wait "$SIM_PID" 2>/dev/null || true
	fi
}

# request_token KEY USER PASSWORD SECRET: the login steps up to the
# request_token (printed)
request_token() {
	local key=$1 user=$2 pw=$3 sec=$4 loc sess rid code
	loc=$(curl -s -o /dev/null -w '%{redirect_url}' "$B/connect/login?v=3&api_key=$key")
	sess=${loc##*sess_id=}
	rid=$(curl -s -X POST -d "user_id=$user&password=$pw" "$B/api/login" | jq -r .data.request_id)
	code=$(oathtool --totp -b "$sec")
	curl -s -c cj -X POST -d "user_id=$user&request_id=$rid&twofa_value=$code&twofa_type=totp" "$B/api/twofa" >/dev/null
	loc=$(curl -s -b cj -o /dev/null -w '%{redirect_url}' "$B/connect/finish?v=3&api_key=$key&sess_id=$sess")
	echo "${loc##*request_token=}"
}

# login KEY USER PASSWORD SECRET API_SECRET: prints the access token
login() {
	local key=$1 user=$2 pw=$3 sec=$4 api_secret=$5 loc sess rid code rt sum
	loc=$(curl -s -o /dev/null -w '%{redirect_url}' "$B/connect/login?v=3&api_key=$key")
	sess=${loc##*sess_id=}
	rid=$(curl -s -X POST -d "user_id=$user&password=$pw" "$B/api/login" | jq -r .data.request_id)
	code=$(oathtool --totp -b "$sec")
	curl -s -c cj -X POST -d "user_id=$user&request_id=$rid&twofa_value=$code&twofa_type=totp" "$B/api/twofa" >/dev/null
	loc=$(curl -s -b cj -o /dev/null -w '%{redirect_url}' "$B/connect/finish?v=3&api_key=$key&sess_id=$sess")
	rt=${loc##*request_token=}
	sum=$(printf '%s' "$key$rt$api_secret" | sha256sum | cut -d' ' -f1)
	curl -s -X POST -d "api_key=$key&request_token=$rt&checksum=$sum" "$B/session/token" | jq -r .data.access_token
}

# the first NFO instrument: "symbol lot_size"
first_option() {
	curl -s "$B/instruments/NFO" | awk -F, 'NR==2 {print $3, $9}'
}

@test "prints the listen address and refuses non-loopback" {
	run cat sim.out
	assert_output "{\"listen\":\"127.0.0.1:$PORT\"}"
	run at-sim --accounts acc.json --listen 0.0.0.0:0
	assert_failure 64
	assert_output --partial "not a loopback address"
}

@test "accounts file errors: position, exit 65 and 66" {
	run at-sim --accounts nope.json
	assert_failure 66
	echo '[{"api_key":"k","api_secret":"s","user_id":"U","password":"p","totp_secret":"JBSWY3DP"},{"api_key":1}]' >bad.json
	run at-sim --accounts bad.json
	assert_failure 65
	assert_output --partial 'bad.json: account 2: field "api_key"'
	echo '[{' >bad2.json
	run at-sim --accounts bad2.json
	assert_failure 65
	run at-sim --accounts acc.json --latency-ms x
	assert_failure 64
	run at-sim --accounts acc.json --error-rate nope=1
	assert_failure 64
}

@test "login flow: success, profile and session shape" {
	tok=$(login key1 AB0001 pw1 $S1 sec1)
	[ ${#tok} -eq 32 ]
	run curl -s -H "X-Kite-Version: 3" -H "Authorization: token key1:$tok" "$B/user/profile"
	assert_success
	[ "$(echo "$output" | jq -r .data.user_id)" = AB0001 ]
	[ "$(echo "$output" | jq -r .status)" = success ]
	run curl -s "$B/_sim/accounts"
	[ "$(echo "$output" | jq -r '.data[0].logged_in')" = true ]
	[ "$(echo "$output" | jq -r '.data[1].logged_in')" = false ]
}

@test "login flow: unknown api_key, wrong password, wrong totp" {
	run curl -s -w ' %{http_code}' "$B/connect/login?v=3&api_key=nokey"
	assert_output --partial '"error_type":"InputException"'
	assert_output --partial 'Invalid api_key'
	assert_output --partial ' 400'
	run curl -s -w ' %{http_code}' -X POST -d "user_id=AB0001&password=wrong" "$B/api/login"
	assert_output --partial 'Invalid username or password.'
	assert_output --partial ' 400'
	run curl -s -X POST -d "user_id=NOONE&password=pw1" "$B/api/login"
	assert_output --partial 'Invalid username or password.'
	rid=$(curl -s -X POST -d "user_id=AB0001&password=pw1" "$B/api/login" | jq -r .data.request_id)
	code=$(oathtool --totp -b $S1)
	bad=$(printf '%06d' $(((10#$code + 500000) % 1000000)))
	run curl -s -w ' %{http_code}' -X POST -d "user_id=AB0001&request_id=$rid&twofa_value=$bad&twofa_type=totp" "$B/api/twofa"
	assert_output --partial '"error_type":"TwoFAException"'
	assert_output --partial 'Invalid TOTP'
	run curl -s -X POST -d "user_id=AB0001&request_id=nope&twofa_value=$code" "$B/api/twofa"
	assert_output --partial 'Request expired. Please login again.'
	# finish without 2FA
	loc=$(curl -s -o /dev/null -w '%{redirect_url}' "$B/connect/login?v=3&api_key=key1")
	run curl -s -w ' %{http_code}' "$B/connect/finish?v=3&api_key=key1&sess_id=${loc##*sess_id=}"
	assert_output --partial '"error_type":"TokenException"'
	assert_output --partial ' 403'
}

@test "login flow: wrong checksum, reused request_token" {
	loc=$(curl -s -o /dev/null -w '%{redirect_url}' "$B/connect/login?v=3&api_key=key2")
	sess=${loc##*sess_id=}
	rid=$(curl -s -X POST -d "user_id=AB0002&password=pw2" "$B/api/login" | jq -r .data.request_id)
	code=$(oathtool --totp -b $S2)
	run curl -s -i -c cj -X POST -d "user_id=AB0002&request_id=$rid&twofa_value=$code&twofa_type=totp" "$B/api/twofa"
	assert_output --partial 'set-cookie: enctoken='
	loc=$(curl -s -b cj -o /dev/null -w '%{redirect_url}' "$B/connect/finish?v=3&api_key=key2&sess_id=$sess")
	[[ $loc == http://127.0.0.1/at-callback?action=login\&type=login\&status=success\&request_token=* ]]
	rt=${loc##*request_token=}
	run curl -s -w ' %{http_code}' -X POST -d "api_key=key2&request_token=$rt&checksum=0000" "$B/session/token"
	assert_output --partial 'Invalid checksum'
	assert_output --partial ' 403'
	sum=$(printf '%s' "key2${rt}sec2" | sha256sum | cut -d' ' -f1)
	run curl -s -X POST -d "api_key=key2&request_token=$rt&checksum=$sum" "$B/session/token"
	assert_output --partial '"access_token":'
	run curl -s -w ' %{http_code}' -X POST -d "api_key=key2&request_token=$rt&checksum=$sum" "$B/session/token"
	assert_output --partial 'Token is invalid or has expired.'
	assert_output --partial ' 403'
}

@test "a request_token expires after 5 minutes" {
	rt=$(request_token key1 AB0001 pw1 $S1)
	[ ${#rt} -eq 32 ]
	curl -s -X POST "$B/_sim/advance?ms=301000" >/dev/null
	sum=$(printf '%s' "key1${rt}sec1" | sha256sum | cut -d' ' -f1)
	run curl -s -w ' %{http_code}' -X POST -d "api_key=key1&request_token=$rt&checksum=$sum" "$B/session/token"
	assert_output --partial 'Token is invalid or has expired.'
	assert_output --partial ' 403'
}

@test "tokens expire at the daily time and on logout" {
	tok=$(login key1 AB0001 pw1 $S1 sec1)
	H="Authorization: token key1:$tok"
	run curl -s -w ' %{http_code}' -H "$H" "$B/user/margins"
	assert_output --partial ' 200'
	# the manual clock starts 2024-05-16 09:15 IST; expiry 07:30 IST next day
	curl -s -X POST "$B/_sim/advance?ms=$((23 * 3600 * 1000))" >/dev/null
	run curl -s -w ' %{http_code}' -H "$H" "$B/user/margins"
	assert_output --partial 'Incorrect `api_key` or `access_token`.'
	assert_output --partial ' 403'
	tok=$(login key1 AB0001 pw1 $S1 sec1)
	run curl -s -X DELETE "$B/session/token?api_key=key1&access_token=$tok"
	assert_output '{"status":"success","data":true}'
	run curl -s -w ' %{http_code}' -H "Authorization: token key1:$tok" "$B/user/profile"
	assert_output --partial ' 403'
}

@test "orders: market fill, limit rests, modify, cancel, bad input, freeze quantity" {
	tok=$(login key1 AB0001 pw1 $S1 sec1)
	H="Authorization: token key1:$tok"
	read -r sym lot < <(first_option)
	run curl -s -H "$H" -X POST -d "tradingsymbol=$sym&exchange=NFO&transaction_type=BUY&order_type=MARKET&quantity=$lot&product=NRML" "$B/orders/regular"
	assert_output --partial '"order_id":'
	id=$(echo "$output" | jq -r .data.order_id)
	run curl -s -H "$H" "$B/orders/$id"
	[ "$(echo "$output" | jq -r '.data[-1].status')" = COMPLETE ]
	# a buy limit far below the market rests
	run curl -s -H "$H" -X POST -d "tradingsymbol=$sym&exchange=NFO&transaction_type=BUY&order_type=LIMIT&price=0.05&quantity=$lot&product=NRML" "$B/orders/regular"
	lid=$(echo "$output" | jq -r .data.order_id)
	run curl -s -H "$H" "$B/orders"
	[ "$(echo "$output" | jq -r ".data[] | select(.order_id==\"$lid\") | .status")" = OPEN ]
	run curl -s -H "$H" -X PUT -d "price=0.10" "$B/orders/regular/$lid"
	assert_output --partial "\"order_id\":\"$lid\""
	run curl -s -H "$H" -X DELETE "$B/orders/regular/$lid"
	assert_output --partial "\"order_id\":\"$lid\""
	run curl -s -H "$H" "$B/orders"
	[ "$(echo "$output" | jq -r ".data[] | select(.order_id==\"$lid\") | .status")" = CANCELLED ]
	# malformed: the field is named
	run curl -s -w ' %{http_code}' -H "$H" -X POST -d "tradingsymbol=$sym&exchange=NFO&transaction_type=HOLD&order_type=MARKET&quantity=$lot&product=NRML" "$B/orders/regular"
	assert_output --partial '`transaction_type`'
	assert_output --partial ' 400'
	run curl -s -H "$H" -X POST -d "tradingsymbol=$sym&exchange=NFO&transaction_type=BUY&order_type=MARKET&quantity=abc&product=NRML" "$B/orders/regular"
	assert_output --partial '`quantity`'
	run curl -s -H "$H" -X POST -d "tradingsymbol=$sym&exchange=NFO&transaction_type=BUY&order_type=MARKET&quantity=1%zz" "$B/orders/regular"
	assert_output --partial 'InputException'
	run curl -s -H "$H" -X POST -d "tradingsymbol=$sym&exchange=NFO" "$B/orders/weird"
	assert_output --partial 'Invalid variety.'
	# above the freeze quantity: refused at placement
	run curl -s -w ' %{http_code}' -H "$H" -X POST -d "tradingsymbol=$sym&exchange=NFO&transaction_type=BUY&order_type=MARKET&quantity=$((lot * 10000))&product=NRML" "$B/orders/regular"
	assert_output --partial 'is higher than the maximum quantity of'
	assert_output --partial '"error_type":"InputException"'
	assert_output --partial ' 400'
	# another account sees none of these
	tok2=$(login key2 AB0002 pw2 $S2 sec2)
	run curl -s -H "Authorization: token key2:$tok2" "$B/orders"
	assert_output '{"status":"success","data":[]}'
}

@test "limit order fills after the clock moves across its price" {
	tok=$(login key1 AB0001 pw1 $S1 sec1)
	H="Authorization: token key1:$tok"
	read -r sym lot < <(first_option)
	ltp=$(curl -s -H "$H" "$B/quote/ltp?i=NFO:$sym" | jq -r ".data[\"NFO:$sym\"].last_price")
	# one tick below the last price: rests now
	px=$(echo "$ltp - 0.05" | bc)
	run curl -s -H "$H" -X POST -d "tradingsymbol=$sym&exchange=NFO&transaction_type=BUY&order_type=LIMIT&price=$px&quantity=$lot&product=NRML" "$B/orders/regular"
	id=$(echo "$output" | jq -r .data.order_id)
	[ "$(curl -s -H "$H" "$B/orders/$id" | jq -r '.data[-1].status')" = OPEN ]
	crossed=0
	for _ in $(seq 1 120); do
		curl -s -X POST "$B/_sim/advance?ms=5000" >/dev/null
		l=$(curl -s "$B/_sim/orders?api_key=key1" | jq -r '.data | length')
		st=$(curl -s "$B/_sim/orders?api_key=key1" | jq -r ".data[] | select(.order_id==\"$id\") | .status")
		if [ "$st" = COMPLETE ]; then crossed=1; break; fi
	done
	[ "$crossed" = 1 ]
}

@test "portfolio, margins, quotes, instruments" {
	tok=$(login key1 AB0001 pw1 $S1 sec1)
	H="Authorization: token key1:$tok"
	run curl -s -H "$H" "$B/portfolio/positions"
	[ "$(echo "$output" | jq -r '.data | has("net") and has("day")')" = true ]
	run curl -s -H "$H" "$B/portfolio/holdings"
	[ "$(echo "$output" | jq -r .status)" = success ]
	run curl -s -H "$H" "$B/user/margins/equity"
	[ "$(echo "$output" | jq -r .status)" = success ]
	run curl -s -H "$H" "$B/user/margins/nonsense"
	assert_output --partial 'InputException'
	read -r sym lot < <(first_option)
	sleep 1.1 # quote is limited to 1/s per api_key
	run curl -s -H "$H" "$B/quote?i=NFO:$sym&i=NSE:NOPE"
	[ "$(echo "$output" | jq -r ".data[\"NFO:$sym\"].instrument_token > 0")" = true ]
	[ "$(echo "$output" | jq -r '.data | has("NSE:NOPE")')" = false ]
	sleep 1.1
	run curl -s -H "$H" "$B/quote/ohlc?i=NFO:$sym"
	[ "$(echo "$output" | jq -r ".data[\"NFO:$sym\"] | has(\"ohlc\")")" = true ]
	sleep 1.1
	run curl -s -H "$H" "$B/quote/ltp"
	assert_output --partial 'Missing `i`.'
	run curl -s "$B/instruments"
	assert_line --index 0 'instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange'
	run curl -s "$B/instruments/NFO"
	[ "$(echo "$output" | tail -n +2 | cut -d, -f12 | sort -u)" = NFO ]
}

@test "rate limits: 11 quick order calls give a 429; stats show the peak" {
	tok=$(login key1 AB0001 pw1 $S1 sec1)
	H="Authorization: token key1:$tok"
	codes=""
	for i in $(seq 1 11); do
		codes="$codes $(curl -s -o /dev/null -w '%{http_code}' -H "$H" -X DELETE "$B/orders/regular/nope$i")"
	done
	[[ $codes == *429* ]]
	run curl -s -H "$H" -X DELETE "$B/orders/regular/x"
	run curl -s "$B/_sim/stats"
	[ "$(echo "$output" | jq -r '.data.api_keys.key1.peak_per_s >= 11')" = true ]
	[ "$(echo "$output" | jq -r '.data.api_keys.key1.rate_limited >= 1')" = true ]
	[ "$(echo "$output" | jq -r '.data.requests["orders.cancel"] >= 11')" = true ]
	[ "$(echo "$output" | jq -r '.data.logins')" = 1 ]
	[ "$(echo "$output" | jq -r '.data.login_peak_per_s')" = 1 ]
	run curl -s -H "$H" -X DELETE "$B/orders/regular/y"
	assert_output --partial '"message":"Too many requests"'
}

@test "login rate limit and --no-rate-limit" {
	kill "$SIM_PID"
	wait "$SIM_PID" || true
	rm -f port
	start_sim --login-rate 2 --no-rate-limit
	codes=""
	for i in 1 2 3 4; do
		codes="$codes $(curl -s -o /dev/null -w '%{http_code}' -X POST -d "user_id=AB0001&password=pw1" "$B/api/login")"
	done
	[[ $codes == *429* ]]
	run curl -s "$B/_sim/stats"
	[ "$(echo "$output" | jq -r '.data.login_peak_per_s')" = 4 ]
	tok=$(sleep 1.1; login key1 AB0001 pw1 $S1 sec1)
	codes=""
	for i in $(seq 1 15); do
		codes="$codes $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: token key1:$tok" "$B/user/profile")"
	done
	[[ $codes != *429* ]]
}

@test "faults: error rate, latency, rejected orders, expired tokens; reset" {
	tok=$(login key1 AB0001 pw1 $S1 sec1)
	H="Authorization: token key1:$tok"
	run curl -s -X POST -d '{"error_rate":{"user.profile":1.0}}' "$B/_sim/faults"
	assert_output --partial '"user.profile":1'
	run curl -s -w ' %{http_code}' -H "$H" "$B/user/profile"
	assert_output --partial '"status":"error"'
	assert_output --partial ' 503'
	run curl -s -w ' %{http_code}' -H "$H" "$B/user/margins"
	assert_output --partial ' 200'
	run curl -s -w ' %{http_code}' -X POST -d '{"error_rate":{"bogus":1}}' "$B/_sim/faults"
	assert_output --partial ' 400'
	run curl -s -X POST -d '{"error_rate":{"*":0},"latency_ms":300}' "$B/_sim/faults"
	assert_output --partial '"latency_ms":300'
	run curl -s -o /dev/null -w '%{time_total}' -H "$H" "$B/user/margins"
	[ "$(echo "$output >= 0.3" | bc)" = 1 ]
	curl -s -X POST -d '{"latency_ms":0,"reject_orders":true}' "$B/_sim/faults" >/dev/null
	read -r sym lot < <(first_option)
	run curl -s -H "$H" -X POST -d "tradingsymbol=$sym&exchange=NFO&transaction_type=BUY&order_type=MARKET&quantity=$lot&product=NRML" "$B/orders/regular"
	id=$(echo "$output" | jq -r .data.order_id)
	[ "$(curl -s -H "$H" "$B/orders/$id" | jq -r '.data[-1].status')" = REJECTED ]
	curl -s -X POST -d '{"reject_orders":false,"expire_tokens":true}' "$B/_sim/faults" >/dev/null
	run curl -s -w ' %{http_code}' -H "$H" "$B/user/profile"
	assert_output --partial ' 403'
	run curl -s -w ' %{http_code}' -X POST -d 'not json' "$B/_sim/faults"
	assert_output --partial ' 400'
	run curl -s -X POST "$B/_sim/reset"
	assert_output '{"status":"success","data":true}'
	run curl -s "$B/_sim/stats"
	[ "$(echo "$output" | jq -r '.data.requests | length')" = 0 ]
	run curl -s "$B/_sim/orders"
	[ "$(echo "$output" | jq -c '.data.AB0001')" = '[]' ]
	run curl -s "$B/_sim/positions?api_key=key1"
	[ "$(echo "$output" | jq -r .status)" = success ]
}

@test "latency fault delays without blocking: 50 concurrent requests" {
	tok=$(login key1 AB0001 pw1 $S1 sec1)
	kill "$SIM_PID"
	wait "$SIM_PID" || true
	rm -f port
	start_sim --latency-ms 1000 --no-rate-limit
	tok=$(login key1 AB0001 pw1 $S1 sec1)
	start=$(date +%s%N)
	for i in $(seq 1 50); do
		curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: token key1:$tok" "$B/user/profile" >>codes &
	done
	wait_codes() { [ "$(grep -c 200 codes 2>/dev/null)" -ge 50 ]; }
	for _ in $(seq 1 400); do wait_codes && break; sleep 0.05; done
	elapsed=$((($(date +%s%N) - start) / 1000000))
	[ "$(grep -c 200 codes)" = 50 ]
	# serial handling would take 50 s; concurrent handling about 1 s
	[ "$elapsed" -lt 20000 ]
}

@test "bad requests: unknown route, garbage body, bad auth header" {
	run curl -s -w ' %{http_code}' "$B/nope"
	assert_output --partial ' 404'
	run curl -s -w ' %{http_code}' -H "Authorization: garbage" "$B/user/profile"
	assert_output --partial ' 403'
	run curl -s -w ' %{http_code}' -X POST --data-binary $'\x00\x01%%%' "$B/api/login"
	assert_output --partial ' 400'
	assert_output --partial 'InputException'
	run curl -s -w ' %{http_code}' "$B/_sim/sends"
	assert_output --partial 'start with --record-sends'
	assert_output --partial ' 400'
	run curl -s -w ' %{http_code}' -X POST "$B/_sim/advance?ms=-5"
	assert_output --partial ' 400'
	run curl -s -X POST "$B/_sim/advance?ms=1000"
	assert_output '{"status":"success","data":{"clock_ms":1715831101000}}'
}

@test "SIGTERM: clean exit 0" {
	kill -TERM "$SIM_PID"
	rc=0
	wait "$SIM_PID" || rc=$?
	SIM_PID=
	[ "$rc" -eq 0 ]
	run at-sim --help
	assert_success
	assert_output --partial 'usage: at-sim'
}
