#!/usr/bin/env bats
# at-user: tenants, broker credentials, key rotation, Google sign-in, on
# both ledgers.  Sign-in runs against tests/fixtures/fake-oidc.py on
# loopback.

load helper
bats_require_minimum_version 1.5.0

API_SECRET='apiSecretPlain7Q2'
TOTP='JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'
PASSWORD='pw-PlainText-91xZ'

setup() {
	at_setup
	DB=$(new_ledger)
	export AT_DB="$DB"
	at-db init >/dev/null 2>&1
	KEY1=$(at-user genkey)
	KEY2=$(at-user genkey)
	export AT_FERNET_KEY="$KEY1"
	unset AT_FERNET_KEY_FILE AT_ACTOR
	OIDC_PID=""
}

stop_oidc() {
	if [ -n "$OIDC_PID" ]; then
		kill "$OIDC_PID" 2>/dev/null || true
		wait "$OIDC_PID" 2>/dev/null || true
	fi
	OIDC_PID=""
}

teardown() {
	stop_oidc
}

# creds [extra JSON members]: a valid credentials document
creds() {
	printf '{"api_key":"kiteapikey01","api_secret":"%s","totp_secret":"%s","broker_user_id":"AB1234","password":"%s"%s}\n' \
		"$API_SECRET" "$TOTP" "$PASSWORD" "${1:-}"
}

count() { ledger_sql "$DB" "SELECT count(*) FROM $1"; }

uid() { at-user show "$1" | jq -r .id; }

fernet_decrypt() { # KEY TOKEN
	python3 -c 'import sys; from cryptography.fernet import Fernet; print(Fernet(sys.argv[1].encode()).decrypt(sys.argv[2].encode()).decode())' "$1" "$2"
}

fernet_encrypt() { # KEY PLAINTEXT
	python3 -c 'import sys; from cryptography.fernet import Fernet; print(Fernet(sys.argv[1].encode()).encrypt(sys.argv[2].encode()).decode())' "$1" "$2"
}

# start_oidc ARGS...: the fake provider; exports the AT_OIDC_* variables
start_oidc() {
	python3 "$REPO/tests/fixtures/fake-oidc.py" --log "$BATS_TEST_TMPDIR/oidc.log" "$@" \
		>"$BATS_TEST_TMPDIR/oidc.port" 2>"$BATS_TEST_TMPDIR/oidc.err" &
	OIDC_PID=$!
	local i
	for i in $(seq 1 100); do
		[ -s "$BATS_TEST_TMPDIR/oidc.port" ] && break
		sleep 0.1
	done
	local port
	port=$(head -1 "$BATS_TEST_TMPDIR/oidc.port")
	[ -n "$port" ] || { cat "$BATS_TEST_TMPDIR/oidc.err" >&2; return 1; }
	export AT_OIDC_DEVICE_URL="http://127.0.0.1:$port/device/code"
	export AT_OIDC_TOKEN_URL="http://127.0.0.1:$port/token"
	export AT_OIDC_JWKS_URL="http://127.0.0.1:$port/certs"
	export AT_OIDC_CLIENT_ID="test-client.apps.example"
	export AT_OIDC_POLL_SCALE=0.01
	unset AT_OIDC_ISSUER AT_OIDC_CLIENT_SECRET AT_OIDC_CLIENT_SECRET_FILE
}

# ---- basics ----------------------------------------------------------------

@test "at-user --help, --version, usage errors" {
	run at-user --help
	assert_success
	assert_output --partial "usage: at-user"
	assert_output --partial "set-credentials USER"
	run at-user --version
	assert_success
	assert_output --regexp '^at-user \(at\) [0-9]+\.[0-9]+\.[0-9]+$'
	run at-user
	assert_failure 64
	assert_output --partial "missing command"
	run at-user frobnicate
	assert_failure 64
	assert_output --partial 'unknown command "frobnicate"'
	run at-user show
	assert_failure 64
	run at-user list extra
	assert_failure 64
	run at-user list --email a@x.test
	assert_failure 64
	assert_output --partial "list does not take --email"
}

@test "secrets are never accepted as flags" {
	at-user add --email a@x.test --name A >/dev/null
	for f in --password --api-secret --api_secret --totp-secret --secret --client-secret --key --fernet-key --access-token; do
		run at-user set-credentials a@x.test "$f" hunter2
		assert_failure 64
		run at-user set-credentials a@x.test "$f=hunter2"
		assert_failure 64
		refute_output --partial hunter2
	done
	run at-user set-credentials a@x.test --fi c.json
	assert_failure 64
	run count broker_credentials
	assert_output 0
}

# ---- add, list, show, disable, enable --------------------------------------

@test "add creates a user; show works by email and by id; list is ordered JSON lines" {
	export AT_ACTOR="web:ops@x.test"
	run at-user add --email Zed@X.test --name "Zed Z" --tier PRO --google-sub 42
	assert_success
	echo "$output" | jq -e '.email == "zed@x.test" and .name == "Zed Z" and .tier == "PRO" and .status == "active" and .google_sub == "42" and .credentials == null' >/dev/null
	id=$(echo "$output" | jq -r .id)
	at-user add --email amy@x.test --name Amy >/dev/null
	run at-user show "$id"
	assert_success
	assert_output --partial '"email":"zed@x.test"'
	run at-user show ZED@x.test
	assert_success
	assert_output --partial "\"id\":\"$id\""
	run at-user list
	assert_success
	[ "${#lines[@]}" -eq 2 ]
	echo "${lines[0]}" | jq -e '.email == "amy@x.test" and .tier == "FREE" and .google_sub == null' >/dev/null
	echo "${lines[1]}" | jq -e '.email == "zed@x.test"' >/dev/null
	run ledger_sql "$DB" "SELECT actor, action FROM audit_log WHERE user_id = '$id'"
	assert_output "$(printf 'web:ops@x.test\tuser.add')"
	run at-db verify
	assert_success
}

@test "add refuses bad or duplicate input and writes nothing" {
	at-user add --email a@x.test --name A --google-sub s1 >/dev/null
	run at-user add --name A
	assert_failure 64
	assert_output --partial "--email and --name"
	run at-user add --email not-an-address --name A
	assert_failure 65
	assert_output --partial 'email "not-an-address": not an address'
	run at-user add --email 'a b@x.test' --name A
	assert_failure 65
	run at-user add --email A@X.TEST --name A
	assert_failure 65
	assert_output --partial 'user "a@x.test" already exists'
	run at-user add --email b@x.test --name B --tier GOLD
	assert_failure 65
	assert_output --partial 'unknown tier "GOLD"'
	run at-user add --email b@x.test --name B --google-sub s1
	assert_failure 65
	assert_output --partial 'google sub already linked to user "a@x.test"'
	run at-user add --email b@x.test --name $'bad\001name'
	assert_failure 65
	assert_output --partial "name: control character"
	run count users
	assert_output 1
	run count audit_log
	assert_output 1
}

@test "show of an unknown user exits 67" {
	run at-user show nobody@x.test
	assert_failure 67
	assert_output --partial 'unknown user "nobody@x.test"'
	run at-user show 00000000-0000-4000-8000-000000000000
	assert_failure 67
	run at-user disable nobody@x.test
	assert_failure 67
}

@test "disable and enable change the status once and audit it" {
	at-user add --email a@x.test --name A >/dev/null
	id=$(uid a@x.test)
	run at-user disable a@x.test
	assert_success
	assert_output "{\"id\":\"$id\",\"status\":\"disabled\",\"changed\":true}"
	run at-user disable "$id"
	assert_success
	assert_output --partial '"changed":false'
	run at-user show a@x.test
	assert_output --partial '"status":"disabled"'
	run at-user enable a@x.test
	assert_success
	assert_output --partial '"changed":true'
	run ledger_sql "$DB" "SELECT action || ' ' || detail FROM audit_log WHERE user_id = '$id' ORDER BY seq"
	assert_line --index 1 'user.disable {"status":"disabled","previous":"active"}'
	assert_line --index 2 'user.enable {"status":"active","previous":"disabled"}'
	[ "${#lines[@]}" -eq 3 ]
}

# ---- credentials -------------------------------------------------------------

@test "set-credentials from stdin stores the secrets encrypted (Fernet, readable by Python's cryptography)" {
	at-user add --email a@x.test --name A >/dev/null
	id=$(uid a@x.test)
	run bash -c "printf '%s' '$(creds ',"egress_ip":"2001:DB8:0:0::1"')' | at-user set-credentials a@x.test"
	assert_success
	assert_output "{\"id\":\"$id\",\"changed\":[\"api_key\",\"api_secret\",\"totp_secret\",\"broker_user_id\",\"password\",\"egress_ip\"]}"
	run at-user show a@x.test
	assert_success
	echo "$output" | jq -e '.credentials.api_key == "kiteapikey01" and .credentials.broker_user_id == "AB1234" and .credentials.egress_ip == "2001:db8::1" and .credentials.has_access_token == false' >/dev/null
	refute_output --partial "$API_SECRET"
	refute_output --partial "$PASSWORD"
	refute_output --partial "$TOTP"
	tok=$(ledger_sql "$DB" "SELECT api_secret_encrypted FROM broker_credentials")
	run fernet_decrypt "$KEY1" "$tok"
	assert_output "$API_SECRET"
	tok=$(ledger_sql "$DB" "SELECT totp_secret_encrypted FROM broker_credentials")
	run fernet_decrypt "$KEY1" "$tok"
	assert_output "$TOTP"
	tok=$(ledger_sql "$DB" "SELECT password_encrypted FROM broker_credentials")
	run fernet_decrypt "$KEY1" "$tok"
	assert_output "$PASSWORD"
	run ledger_sql "$DB" "SELECT detail FROM audit_log WHERE action = 'credentials.set'"
	assert_output '{"fields":["api_key","api_secret","totp_secret","broker_user_id","password","egress_ip"],"created":true,"access_token_dropped":false}'
}

@test "the plaintext secrets appear nowhere in the ledger (sqlite file and wal, or pg_dump)" {
	at-user add --email a@x.test --name A >/dev/null
	creds | at-user set-credentials a@x.test >/dev/null
	printf '%s' "$(creds)" | sed "s/$PASSWORD/${PASSWORD}2/" | at-user set-credentials a@x.test >/dev/null
	AT_FERNET_KEY="$KEY2,$KEY1" at-user rotate-key >/dev/null
	if is_pg "$DB"; then
		dbname=${DB#postgresql:///}
		dbname=${dbname%%\?*}
		"$AT_PG_BIN/pg_dump" -h "$AT_PG_SOCK" -U "$AT_PG_USER" "$dbname" >dump.sql
		grep -q kiteapikey01 dump.sql # the dump is real
		files=dump.sql
	else
		f=${DB#sqlite:}
		files="$f"
		[ -f "$f-wal" ] && files="$files $f-wal"
		grep -qa kiteapikey01 $files
	fi
	for s in "$API_SECRET" "$PASSWORD" "${PASSWORD}2" "$TOTP" "$KEY1" "$KEY2"; do
		run grep -ac -- "$s" $files
		assert_output --regexp '^(0[[:space:]]*)+$|^([^:]+:0[[:space:]]*)+$'
	done
}

@test "set-credentials from a 0600 file; looser permissions and missing files are refused" {
	at-user add --email a@x.test --name A >/dev/null
	creds >c.json
	chmod 0644 c.json
	run at-user set-credentials a@x.test --file c.json
	assert_failure 78
	assert_output --partial "credentials file c.json: permissions 0644, must not be readable by group or others"
	run count broker_credentials
	assert_output 0
	run at-user set-credentials a@x.test --file missing.json
	assert_failure 66
	chmod 0600 c.json
	run at-user set-credentials a@x.test --file c.json
	assert_success
	run count broker_credentials
	assert_output 1
}

@test "set-credentials reports only changed fields and drops the access token when login data change" {
	at-user add --email a@x.test --name A >/dev/null
	id=$(uid a@x.test)
	creds | at-user set-credentials a@x.test >/dev/null
	n=$(count audit_log)
	run bash -c "$(declare -f creds); API_SECRET='$API_SECRET' TOTP='$TOTP' PASSWORD='$PASSWORD' creds | at-user set-credentials a@x.test"
	assert_success
	assert_output "{\"id\":\"$id\",\"changed\":[]}"
	[ "$(count audit_log)" -eq "$n" ]
	tok=$(fernet_encrypt "$KEY1" access-token-x)
	ledger_sql "$DB" "UPDATE broker_credentials SET access_token_encrypted = '$tok', token_date = '2026-11-25'"
	run bash -c "printf '%s' '$(creds ',"egress_ip":"10.0.0.7"')' | at-user set-credentials a@x.test"
	assert_output --partial '"changed":["egress_ip"]'
	run at-user show a@x.test
	assert_output --partial '"has_access_token":true'
	run bash -c "printf '%s' '$(creds)' | sed 's/$PASSWORD/newpw-Plain-55/' | at-user set-credentials a@x.test"
	assert_success
	assert_output --partial '"changed":["password","egress_ip"]'
	run at-user show a@x.test
	assert_output --partial '"has_access_token":false'
	run ledger_sql "$DB" "SELECT detail FROM audit_log WHERE action = 'credentials.set' ORDER BY seq DESC LIMIT 1"
	assert_output '{"fields":["password","egress_ip"],"created":false,"access_token_dropped":true}'
	run ledger_sql "$DB" "SELECT detail FROM audit_log"
	refute_output --partial newpw-Plain-55
	refute_output --partial "$PASSWORD"
}

@test "set-credentials rejects bad documents with a one-line error naming the field, and writes nothing" {
	at-user add --email a@x.test --name A >/dev/null
	bad() { # expected-message document
		run bash -c "printf '%s' \"\$1\" | at-user set-credentials a@x.test" _ "$2"
		assert_failure 65
		assert_output --partial "$1"
		[ "${#lines[@]}" -eq 1 ]
		refute_output --partial "$API_SECRET"
		refute_output --partial "$PASSWORD"
	}
	bad '<stdin>: offset' '{"api_key":'
	bad '<stdin>: offset' 'not json'
	bad '<stdin>: offset' '[1,2]'
	bad '<stdin>: offset' ''
	bad 'unknown field "api_secrte"' "$(creds ',"api_secrte":"x"')"
	bad 'field "api_key": expected string, got number' '{"api_key":12,"api_secret":"s","totp_secret":"JBSWY3DPEHPK3PXP","broker_user_id":"AB1234","password":"p"}'
	bad 'field "password": missing' '{"api_key":"k","api_secret":"s","totp_secret":"JBSWY3DPEHPK3PXP","broker_user_id":"AB1234"}'
	bad 'field "api_secret": missing' '{"api_key":"k","api_secret":null,"totp_secret":"JBSWY3DPEHPK3PXP","broker_user_id":"AB1234","password":"p"}'
	bad 'field "password": must not be empty' '{"api_key":"k","api_secret":"s","totp_secret":"JBSWY3DPEHPK3PXP","broker_user_id":"AB1234","password":""}'
	bad 'field "totp_secret": not valid base32' '{"api_key":"k","api_secret":"s","totp_secret":"JBSWY3DP!HPK3PXP","broker_user_id":"AB1234","password":"p"}'
	bad 'field "totp_secret": shorter than 10 bytes' '{"api_key":"k","api_secret":"s","totp_secret":"JBSWY3DP","broker_user_id":"AB1234","password":"p"}'
	bad 'field "broker_user_id": expected 2-4 capital letters' '{"api_key":"k","api_secret":"s","totp_secret":"JBSWY3DPEHPK3PXP","broker_user_id":"ab1234","password":"p"}'
	bad 'field "broker_user_id"' '{"api_key":"k","api_secret":"s","totp_secret":"JBSWY3DPEHPK3PXP","broker_user_id":"A1","password":"p"}'
	bad 'field "egress_ip": not an ipv4 or ipv6 address' "$(creds ',"egress_ip":"10.0.0.256"')"
	bad 'field "egress_ip"' "$(creds ',"egress_ip":"fe80::1::2"')"
	bad 'field "api_key": string longer than 64 bytes' "{\"api_key\":\"$(printf 'k%.0s' $(seq 70))\",\"api_secret\":\"s\",\"totp_secret\":\"JBSWY3DPEHPK3PXP\",\"broker_user_id\":\"AB1234\",\"password\":\"p\"}"
	bad 'field "api_key": only letters' '{"api_key":"k y","api_secret":"s","totp_secret":"JBSWY3DPEHPK3PXP","broker_user_id":"AB1234","password":"p"}'
	bad 'field "password": control character' '{"api_key":"k","api_secret":"s","totp_secret":"JBSWY3DPEHPK3PXP","broker_user_id":"AB1234","password":"p\u0007"}'
	bad 'duplicate' '{"api_key":"k","api_key":"k","api_secret":"s","totp_secret":"JBSWY3DPEHPK3PXP","broker_user_id":"AB1234","password":"p"}'
	run count broker_credentials
	assert_output 0
	run count audit_log
	assert_output 1
}

@test "a missing, malformed or wrong fernet key, or a loose key file, is refused and nothing is written" {
	at-user add --email a@x.test --name A >/dev/null
	unset AT_FERNET_KEY
	run bash -c "$(declare -f creds); API_SECRET=a TOTP='$TOTP' PASSWORD=p creds | at-user set-credentials a@x.test"
	assert_failure 78
	assert_output --partial "fernet"
	run bash -c "$(declare -f creds); API_SECRET=a TOTP='$TOTP' PASSWORD=p creds | AT_FERNET_KEY=short at-user set-credentials a@x.test"
	assert_failure 78
	assert_output --partial "key 1 is not 32 bytes of urlsafe base64"
	printf '%s\n' "$KEY1" >key
	chmod 0640 key
	run bash -c "$(declare -f creds); API_SECRET=a TOTP='$TOTP' PASSWORD=p creds | AT_FERNET_KEY_FILE=key at-user set-credentials a@x.test"
	assert_failure 78
	assert_output --partial "permissions 0640"
	run count broker_credentials
	assert_output 0
	chmod 0600 key
	export AT_FERNET_KEY_FILE=key
	creds | at-user set-credentials a@x.test >/dev/null
	run count broker_credentials
	assert_output 1
	unset AT_FERNET_KEY_FILE
	# another key cannot read what is stored: refused, nothing changed
	before=$(ledger_sql "$DB" "SELECT password_encrypted FROM broker_credentials")
	run bash -c "printf '%s' '$(creds)' | sed s/AB1234/CD5678/ | AT_FERNET_KEY='$KEY2' at-user set-credentials a@x.test"
	assert_failure 78
	assert_output --partial "cannot be decrypted with the given fernet keys"
	[ "$(ledger_sql "$DB" "SELECT password_encrypted FROM broker_credentials")" = "$before" ]
	run ledger_sql "$DB" "SELECT broker_user_id FROM broker_credentials"
	assert_output AB1234
}

# ---- rotate-key ----------------------------------------------------------------

@test "rotate-key re-encrypts every secret, the access token included, under the new first key" {
	at-user add --email a@x.test --name A >/dev/null
	at-user add --email b@x.test --name B >/dev/null
	creds | at-user set-credentials a@x.test >/dev/null
	creds | at-user set-credentials b@x.test >/dev/null
	tok=$(fernet_encrypt "$KEY1" access-token-a)
	ledger_sql "$DB" "UPDATE broker_credentials SET access_token_encrypted = '$tok' WHERE user_id = '$(uid a@x.test)'"
	run env AT_FERNET_KEY="$KEY2,$KEY1" at-user rotate-key
	assert_success
	assert_output '{"users":2,"secrets":7,"keys":2}'
	for col in api_secret_encrypted totp_secret_encrypted password_encrypted; do
		for t in $(ledger_sql "$DB" "SELECT $col FROM broker_credentials"); do
			run fernet_decrypt "$KEY1" "$t"
			assert_failure
			run fernet_decrypt "$KEY2" "$t"
			assert_success
		done
	done
	t=$(ledger_sql "$DB" "SELECT access_token_encrypted FROM broker_credentials WHERE access_token_encrypted IS NOT NULL")
	run fernet_decrypt "$KEY2" "$t"
	assert_output access-token-a
	run ledger_sql "$DB" "SELECT action || ' ' || detail FROM audit_log WHERE action LIKE '%rotate%' ORDER BY seq"
	assert_line --index 0 'credentials.rotate {"fields":["api_secret","totp_secret","password","access_token"]}'
	assert_line --index 1 'credentials.rotate {"fields":["api_secret","totp_secret","password"]}'
	assert_line --index 2 'fernet.rotate_key {"users":2,"secrets":7,"keys":2}'
	# the old key alone no longer reads them: set-credentials refuses
	run bash -c "printf '%s' '$(creds)' | at-user set-credentials a@x.test"
	assert_failure 78
	run at-db verify
	assert_success
}

@test "rotate-key interrupted midway rolls everything back and names the user" {
	for u in a b c; do
		at-user add --email $u@x.test --name $u >/dev/null
		creds | at-user set-credentials $u@x.test >/dev/null
	done
	# b's access token is under a key nobody has
	rogue=$(at-user genkey)
	tok=$(fernet_encrypt "$rogue" token-b)
	ledger_sql "$DB" "UPDATE broker_credentials SET access_token_encrypted = '$tok' WHERE user_id = '$(uid b@x.test)'"
	before=$(ledger_sql "$DB" "SELECT user_id, api_secret_encrypted, totp_secret_encrypted, password_encrypted, access_token_encrypted FROM broker_credentials ORDER BY user_id")
	n=$(count audit_log)
	run env AT_FERNET_KEY="$KEY2,$KEY1" at-user rotate-key
	assert_failure 65
	assert_output --partial "user \"b@x.test\" ($(uid b@x.test)): field \"access_token\": cannot be decrypted with any key; nothing rotated"
	after=$(ledger_sql "$DB" "SELECT user_id, api_secret_encrypted, totp_secret_encrypted, password_encrypted, access_token_encrypted FROM broker_credentials ORDER BY user_id")
	[ "$before" = "$after" ]
	[ "$(count audit_log)" -eq "$n" ]
	run at-user rotate-key --user a@x.test
	assert_failure 64
}

# ---- tenant isolation ------------------------------------------------------------

@test "--user scopes list, show and set-credentials to one tenant" {
	at-user add --email a@x.test --name A >/dev/null
	at-user add --email b@x.test --name B >/dev/null
	creds | at-user set-credentials b@x.test >/dev/null
	A=$(uid a@x.test)
	B=$(uid b@x.test)
	run at-user --user a@x.test list
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	assert_output --partial "\"id\":\"$A\""
	refute_output --partial b@x.test
	run at-user --user a@x.test show b@x.test
	assert_failure 67
	run at-user --user a@x.test show "$B"
	assert_failure 67
	refute_output --partial kiteapikey01
	run at-user --user "$A" show a@x.test
	assert_success
	b_before=$(ledger_sql "$DB" "SELECT api_key, password_encrypted FROM broker_credentials WHERE user_id = '$B'")
	run bash -c "printf '%s' '$(creds)' | sed s/kiteapikey01/stolen/ | at-user --user a@x.test set-credentials b@x.test"
	assert_failure 67
	[ "$(ledger_sql "$DB" "SELECT api_key, password_encrypted FROM broker_credentials WHERE user_id = '$B'")" = "$b_before" ]
	run bash -c "printf '%s' '$(creds)' | at-user --user a@x.test set-credentials a@x.test"
	assert_success
	run ledger_sql "$DB" "SELECT count(*) FROM audit_log WHERE user_id = '$A' AND action = 'credentials.set'"
	assert_output 1
	for c in "add --email c@x.test --name C" "disable b@x.test" "enable b@x.test" "rotate-key" "signin"; do
		run at-user --user a@x.test $c
		assert_failure 64
		assert_output --partial "operator command"
	done
	run at-user --user nobody@x.test list
	assert_failure 67
	if is_pg "$DB"; then
		# Row Level Security: acting as tenant A, B's rows are invisible
		as_a="SET ROLE at_app; SELECT set_config('at.user_id', '$A', false);"
		run ledger_sql "$DB" "$as_a SELECT count(*) FROM users"
		assert_line 1
		run ledger_sql "$DB" "$as_a SELECT count(*) FROM broker_credentials WHERE user_id = '$B'"
		assert_line 0
		run ledger_sql "$DB" "$as_a SELECT count(*) FROM audit_log WHERE user_id = '$B'"
		assert_line 0
		run ledger_sql "$DB" "$as_a UPDATE broker_credentials SET api_key = 'x' WHERE user_id = '$B' RETURNING 1"
		refute_line 1
		run ledger_sql "$DB" "SELECT api_key FROM broker_credentials WHERE user_id = '$B'"
		assert_output kiteapikey01
	fi
}

# ---- signin --------------------------------------------------------------------

@test "signin creates a user from a verified google identity; stdout is only the JSON line" {
	start_oidc --mode success --email New.Trader@example.com --sub 1001 --name "New Trader"
	export AT_ACTOR=os:tester
	run --separate-stderr at-user signin
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	echo "$output" | jq -e '.email == "new.trader@example.com" and .google_sub == "1001" and .action == "created"' >/dev/null
	[[ "$stderr" == *"visit https://www.google.com/device and enter the code WDJB-MJHT"* ]]
	run at-user show new.trader@example.com
	echo "$output" | jq -e '.name == "New Trader" and .google_sub == "1001" and .tier == "FREE"' >/dev/null
	run ledger_sql "$DB" "SELECT actor || ' ' || action || ' ' || detail FROM audit_log"
	assert_output 'os:tester user.signin_create {"via":"google","email":"new.trader@example.com"}'
	grep -q '^poll 2$' oidc.log # authorization_pending first, then the token
	grep -q '^GET /certs$' oidc.log
	stop_oidc
	start_oidc --mode success --email new.trader@example.com --sub 1001
	run --separate-stderr at-user signin
	assert_success
	assert_output --partial '"action":"existing"'
	run count users
	assert_output 1
}

@test "signin links an existing user by email; a sub linked elsewhere is refused" {
	at-user add --email a@x.test --name A >/dev/null
	at-user add --email b@x.test --name B --google-sub other-sub >/dev/null
	start_oidc --mode success --email A@x.test --sub sub-a
	run --separate-stderr at-user signin
	assert_success
	assert_output --partial '"action":"linked"'
	assert_output --partial "\"id\":\"$(uid a@x.test)\""
	run ledger_sql "$DB" "SELECT action FROM audit_log ORDER BY seq DESC LIMIT 1"
	assert_output user.signin_link
	stop_oidc
	# the email's user already has another google account
	start_oidc --mode success --email b@x.test --sub sub-b
	run --separate-stderr at-user signin
	assert_failure 77
	[[ "$stderr" == *'user "b@x.test" is linked to another google account'* ]]
	stop_oidc
	# linking a's sub to b by name is refused
	start_oidc --mode success --email a@x.test --sub sub-a
	n=$(count audit_log)
	run --separate-stderr at-user signin b@x.test
	assert_failure 77
	[[ "$stderr" == *"already linked to another user (\"a@x.test\")"* ]]
	[ "$(count audit_log)" -eq "$n" ]
	run ledger_sql "$DB" "SELECT email || ' ' || coalesce(google_sub, '-') FROM users ORDER BY email"
	assert_output "$(printf 'a@x.test sub-a\nb@x.test other-sub')"
	# a named user without a sub can be linked to an identity of any email
	at-user add --email c@x.test --name C >/dev/null
	stop_oidc
	start_oidc --mode success --email personal@gmail.test --sub sub-c
	run --separate-stderr at-user signin c@x.test
	assert_success
	assert_output --partial '"action":"linked"'
	run at-user show c@x.test
	assert_output --partial '"google_sub":"sub-c"'
}

@test "signin of a disabled user is refused" {
	at-user add --email a@x.test --name A --google-sub sub-a >/dev/null
	at-user disable a@x.test >/dev/null
	start_oidc --mode success --email a@x.test --sub sub-a
	run --separate-stderr at-user signin
	assert_failure 77
	[[ "$stderr" == *'user "a@x.test" is disabled'* ]]
}

@test "signin refuses tokens that do not prove the identity, and writes nothing" {
	for m in "expired:id token: expired" "wrong-aud:audience is not this client" \
		"wrong-iss:issuer \"https://evil.example\" is not the configured one" \
		"bad-sig:id token: bad signature" "unverified:email is not verified" \
		"denied:sign-in was denied"; do
		start_oidc --mode "${m%%:*}"
		run --separate-stderr at-user signin
		assert_failure 77
		[[ "$stderr" == *"${m#*:}"* ]] || { echo "mode ${m%%:*}: $stderr"; false; }
		stop_oidc
		[ -z "$output" ]
	done
	start_oidc --mode expired-token
	run --separate-stderr at-user signin
	assert_failure 75
	[[ "$stderr" == *"device code expired"* ]]
	run count users
	assert_output 0
	run count audit_log
	assert_output 0
}

@test "signin honours slow_down: the polling interval grows by 5 seconds" {
	start_oidc --mode slow-down
	AT_LOG_LEVEL=info run --separate-stderr at-user signin
	assert_success
	assert_output --partial '"action":"created"'
	[[ "$stderr" == *'msg="waiting for sign-in" interval=1'* ]]
	[[ "$stderr" == *'msg="slow_down: polling less often" interval=6'* ]]
	[ "$(grep -c '^poll' oidc.log)" -eq 2 ]
}

@test "signin sends the client secret from the environment or a 0600 file, never from argv" {
	start_oidc --mode success --client-secret 'GOCSPX-s3cr3t'
	run --separate-stderr at-user signin
	assert_failure 65
	[[ "$stderr" == *'token endpoint: error "invalid_request"'* ]]
	AT_OIDC_CLIENT_SECRET='GOCSPX-s3cr3t' run --separate-stderr at-user signin
	assert_success
	stop_oidc
	start_oidc --mode success --client-secret 'GOCSPX-s3cr3t' --sub 2 --email two@x.test
	printf 'GOCSPX-s3cr3t\n' >secret
	chmod 0644 secret
	run --separate-stderr at-user signin --client-secret-file secret
	assert_failure 78
	chmod 0600 secret
	run --separate-stderr at-user signin --client-secret-file secret
	assert_success
	run at-user signin --client-secret GOCSPX-s3cr3t
	assert_failure 64
	run at-user signin --client-secret=GOCSPX-s3cr3t
	assert_failure 64
	refute_output --partial GOCSPX
}

@test "signin configuration: client id required, endpoints must be https or loopback, flags override env" {
	start_oidc --mode success
	unset AT_OIDC_CLIENT_ID
	run --separate-stderr at-user signin
	assert_failure 78
	[[ "$stderr" == *"no oidc client id"* ]]
	export AT_OIDC_CLIENT_ID=test-client.apps.example
	run --separate-stderr at-user signin --token-url http://example.com/token
	assert_failure 78
	[[ "$stderr" == *"token url: must be https"* ]]
	run --separate-stderr at-user signin --client-id wrong-client
	assert_failure 65
	[[ "$stderr" == *"invalid_client"* ]]
	run --separate-stderr at-user signin --issuer https://other.example
	assert_failure 77
	run --separate-stderr at-user signin nobody@x.test
	assert_failure 67
	run --separate-stderr at-user signin --client-id test-client.apps.example
	assert_success
	run at-db verify
	assert_success
}

@test "genkey prints a fresh Fernet key Python accepts" {
	run at-user genkey
	assert_success
	[ "${#output}" -eq 44 ]
	k=$output
	run at-user genkey
	[ "$output" != "$k" ]
	t=$(fernet_encrypt "$k" hello)
	run fernet_decrypt "$k" "$t"
	assert_output hello
}
