#!/usr/bin/env bats
# at-login against at-sim on loopback, on both ledgers: the rush, wrong
# credentials, injected network errors, the global rate limit, reruns and
# two processes sharing one rush.

load helper

N=50

setup_file() {
	export AT_LOG_LEVEL=warn
	local d=$BATS_FILE_TMPDIR
	export AT_FERNET_KEY=$(at-user genkey)
	# accounts at the broker
	python3 - "$d" "$N" <<'PY'
import base64, json, sys
d, n = sys.argv[1], int(sys.argv[2])
acc = []
for i in range(1, n + 1):
    acc.append({"api_key": "key%d" % i, "api_secret": "apisecret%d" % i,
                "user_id": "AB%04d" % (1000 + i), "password": "pass-%d" % i,
                "totp_secret": base64.b32encode(b"tenant-totp-%04d" % i).decode().rstrip("=")})
json.dump(acc, open(d + "/accounts.json", "w"))
for i, a in enumerate(acc, 1):
    c = dict(a)
    c["broker_user_id"] = c.pop("user_id")
    if i == 7:  # tenant 7's stored TOTP secret is wrong
        c["totp_secret"] = base64.b32encode(b"not-the-right-one").decode().rstrip("=")
    json.dump(c, open(d + "/cred%d.json" % i, "w"))
PY
	chmod 600 "$d"/cred*.json
}

start_sim() { # extra flags...
	rm -f "$BATS_TEST_TMPDIR/port"
	at-sim --accounts "$BATS_FILE_TMPDIR/accounts.json" --listen 127.0.0.1:0 \
		--seed 7 --port-file "$BATS_TEST_TMPDIR/port" "$@" \
		>"$BATS_TEST_TMPDIR/sim.out" 2>"$BATS_TEST_TMPDIR/sim.err" &
	SIM_PID=$!
	for _ in $(seq 1 200); do
		[ -s "$BATS_TEST_TMPDIR/port" ] && break
		sleep 0.05
	done
	SIM=http://127.0.0.1:$(cat "$BATS_TEST_TMPDIR/port")
	export AT_KITE_API_URL=$SIM AT_KITE_LOGIN_URL=$SIM AT_KITE_WS_URL=ws://${SIM#http://}
}

# tenants N [skip]: add N tenants with credentials (tenant 7's TOTP secret
# is wrong unless skip is "all-good")
tenants() {
	local n=$1
	for i in $(seq 1 "$n"); do
		at-user --db "$DB" add --email "t$i@x.test" --name "Tenant $i" >/dev/null || return 1
		if [ "$i" -eq 7 ] && [ "${2:-}" = all-good ]; then
			python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c["totp_secret"]=sys.argv[2]; print(json.dumps(c))' \
				"$BATS_FILE_TMPDIR/cred7.json" "$(python3 -c 'import base64;print(base64.b32encode(b"tenant-totp-0007").decode().rstrip("="))')" |
				at-user --db "$DB" set-credentials "t$i@x.test" || return 1
		else
			at-user --db "$DB" set-credentials "t$i@x.test" --file "$BATS_FILE_TMPDIR/cred$i.json" || return 1
		fi
	done
}

sim_stat() { curl -s "$SIM/_sim/stats" | jq ".data$1"; }

setup() {
	at_setup
	DB=$(new_ledger)
	at-db --db "$DB" init >/dev/null
}

teardown() {
	if [ -n "${SIM_PID:-}" ]; then
		kill "$SIM_PID" 2>/dev/null || true
		wait "$SIM_PID" 2>/dev/null || true
	fi
}

@test "at-login: usage errors" {
	run at-login --db "$DB"
	assert_failure 64
	run at-login --db "$DB" --all t1@x.test
	assert_failure 64
	run at-login --db "$DB" --all --rate 0
	assert_failure 64
	assert_output --partial "--rate"
	run at-login --db "$DB" --all --deadline 25:00
	assert_failure 64
	run at-login --db "$DB" nobody@x.test
	assert_failure 67
	assert_output --partial 'unknown user "nobody@x.test"'
	unset AT_FERNET_KEY
	run at-login --db "$DB" --all
	assert_failure 78
}

@test "at-login: 50 tenants all log in, tokens stored encrypted and ready; a rerun does nothing" {
	start_sim
	tenants "$N" all-good
	run at-login --db "$DB" --all --workers 8 --rate 25
	assert_success
	[ "$(echo "$output" | grep -c '"status":"ok"')" -eq "$N" ]
	[ "$(sim_stat .logins)" -eq "$N" ]
	[ "$(sim_stat .login_peak_per_s)" -le 25 ]
	run ledger_sql "$DB" "SELECT count(*) FROM broker_credentials WHERE access_token_encrypted IS NOT NULL AND ready_status = 'ready'"
	assert_output "$N"
	run ledger_sql "$DB" "SELECT count(*) FROM audit_log WHERE action = 'login.ok'"
	assert_output "$N"
	run at-db --db "$DB" verify
	assert_success
	# no access token in plaintext anywhere in the ledger
	tok=$(curl -s "$SIM/_sim/accounts" | jq -r '.. | .access_token? // empty' | head -1)
	if [ -n "$tok" ]; then
		run ledger_sql "$DB" "SELECT count(*) FROM broker_credentials WHERE access_token_encrypted LIKE '%$tok%'"
		assert_output "0"
	fi
	# the rerun logs nobody in
	run at-login --db "$DB" --all --workers 8 --rate 25
	assert_success
	[ "$(echo "$output" | grep -c '"status":"skipped"')" -eq "$N" ]
	[ "$(sim_stat .logins)" -eq "$N" ]
}

@test "at-login: a wrong TOTP secret fails that tenant cleanly, the others log in" {
	start_sim
	tenants 12
	run at-login --db "$DB" --all --workers 4 --rate 25
	assert_failure 65
	[ "$(echo "$output" | grep -c '"status":"ok"')" -eq 11 ]
	line=$(echo "$output" | grep '"status":"failed"')
	echo "$line" | jq -e '.error_type == "bad_totp" and .attempts == 1 and (.message | length > 0)'
	# not retried: one attempt only, and the summary says so
	[ "$(sim_stat .logins)" -eq 12 ]
	assert_output --partial "11 ok, 0 skipped, 1 failed, 0 to retry"
	run ledger_sql "$DB" "SELECT count(*) FROM audit_log WHERE action = 'login.failed'"
	assert_output "1"
	# no secret in the audit log or the output
	run ledger_sql "$DB" "SELECT detail FROM audit_log"
	refute_output --partial "pass-"
	refute_output --partial "apisecret"
}

@test "at-login: 20% injected network errors all recover" {
	start_sim --error-rate '*=0.2'
	tenants 20 all-good
	run at-login --db "$DB" --all --workers 6 --rate 25
	assert_success
	[ "$(echo "$output" | grep -c '"status":"ok"')" -eq 20 ]
	# some needed more than one attempt
	echo "$output" | grep '"status":"ok"' | jq -s -e 'map(.attempts) | max > 1'
	run ledger_sql "$DB" "SELECT count(*) FROM audit_log WHERE action = 'login.retry'"
	[ "$output" -gt 0 ]
}

@test "at-login: the peak login rate seen by the broker never exceeds the limit" {
	start_sim
	tenants 20 all-good
	run at-login --db "$DB" --all --workers 16 --rate 5
	assert_success
	[ "$(sim_stat .logins)" -eq 20 ]
	peak=$(sim_stat .login_peak_per_s)
	echo "peak $peak"
	[ "$peak" -le 5 ]
	[ "$peak" -ge 4 ]
}

@test "at-login: two processes started together log each tenant in exactly once" {
	start_sim
	tenants 24 all-good
	at-login --db "$DB" --all --workers 4 --rate 30 >a.out 2>a.err &
	a=$!
	at-login --db "$DB" --all --workers 4 --rate 30 >b.out 2>b.err &
	b=$!
	wait $a
	wait $b
	[ "$(sim_stat .logins)" -eq 24 ]
	[ "$(cat a.out b.out | grep '"status":"ok"' | jq -r .user_id | sort -u | wc -l)" -eq 24 ]
	[ "$(cat a.out b.out | grep -c '"status":"ok"')" -eq 24 ]
	run ledger_sql "$DB" "SELECT count(*) FROM login_jobs WHERE status = 'ok' AND attempts = 1"
	assert_output "24"
}

@test "at-login USER: the manual trigger logs one tenant in; --force logs in again" {
	start_sim
	tenants 3 all-good
	run at-login --db "$DB" t2@x.test
	assert_success
	[ "${#lines[@]}" -eq 2 ]
	echo "${lines[0]}" | jq -e '.status == "ok"'
	run at-login --db "$DB" t2@x.test
	assert_success
	echo "${lines[0]}" | jq -e '.status == "skipped"'
	run at-login --db "$DB" --force t2@x.test
	assert_success
	echo "${lines[0]}" | jq -e '.status == "ok"'
	[ "$(sim_stat .logins)" -eq 2 ]
}

@test "at-login: an unreachable broker is a temporary failure past the deadline (exit 75), retried by a rerun" {
	start_sim
	tenants 2 all-good
	kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null || true; SIM_PID=
	run at-login --db "$DB" --all --workers 2 --deadline +4
	assert_failure 75
	[ "$(echo "$output" | grep -c '"retry":true')" -eq 2 ]
	run ledger_sql "$DB" "SELECT count(*) FROM login_jobs WHERE status = 'retry'"
	assert_output "2"
	start_sim
	run at-login --db "$DB" --all --workers 2
	assert_success
	[ "$(echo "$output" | grep -c '"status":"ok"')" -eq 2 ]
}
