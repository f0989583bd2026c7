#!/usr/bin/env bats
# at-db: init, migrate, status, verify, on both ledgers.

load helper

# migrations shipped (numbers may have gaps while branches are merged)
NMIG=$(ls "$REPO"/sql/sqlite/*.sql | wc -l)
LATEST=$(ls "$REPO"/sql/sqlite/*.sql | sed 's|.*/0*||; s|_.*||' | sort -n | tail -1)

setup() {
	at_setup
	DB=$(new_ledger)
}

@test "at-db --help and --version" {
	run at-db --help
	assert_success
	assert_output --partial "usage: at-db"
	run at-db --version
	assert_success
	assert_output --regexp '^at-db \(at\) [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "at-db without a command is a usage error" {
	run at-db
	assert_failure 64
	assert_output --partial "missing command"
	run at-db frobnicate
	assert_failure 64
	assert_output --partial 'unknown command "frobnicate"'
}

@test "init creates the ledger at the latest schema; a second init applies nothing" {
	run at-db --db "$DB" init
	assert_success
	assert_output --partial "\"applied\":$NMIG"
	run at-db --db "$DB" init
	assert_success
	assert_output --partial '"applied":0'
	run at-db --db "$DB" status
	assert_success
	assert_output --partial '"compatible":true'
	assert_output --partial '"kill_switch":"off"'
	assert_output --partial '"pending_migrations":0'
}

@test "status of an empty ledger reports pending migrations; migrate applies them" {
	if ! is_pg "$DB"; then
		sqlite3 "${DB#sqlite:}" 'PRAGMA user_version = 0;'
	fi
	run at-db --db "$DB" status
	assert_success
	assert_output --partial '"schema_version":0'
	assert_output --partial '"compatible":false'
	run at-db --db "$DB" migrate
	assert_success
	assert_output --partial "\"schema_version\":$LATEST"
}

@test "AT_DB is used when --db is absent, and --db overrides it" {
	export AT_DB="$DB"
	run at-db init
	assert_success
	run at-db status
	assert_output --partial "\"schema_version\":$LATEST"
	run at-db --db "sqlite:$BATS_TEST_TMPDIR/other.db" status
	assert_failure 66
}

@test "the default ledger is \$AT_HOME/at.db, created 0600" {
	run at-db init
	assert_success
	[ -f "$AT_HOME/at.db" ]
	run stat -c %a "$AT_HOME/at.db"
	assert_output "600"
	run stat -c %a "$AT_HOME"
	assert_output "700"
}

@test "a ledger whose schema is newer than the binary is refused" {
	at-db --db "$DB" init
	ledger_sql "$DB" "INSERT INTO schema_migrations VALUES (999, '0999_future', 0)"
	run at-db --db "$DB" migrate
	assert_failure 78
	assert_output --partial "newer than this build"
	run at-db --db "$DB" verify
	assert_failure 78
	[ "${#lines[@]}" -eq 1 ]
}

@test "a failing migration leaves nothing half-applied" {
	if is_pg "$DB"; then
		# a conflicting object makes migration 1 fail midway
		ledger_sql "$DB" "CREATE TABLE market_snapshots (x int)"
	else
		sqlite3 "${DB#sqlite:}" "CREATE TABLE market_snapshots (x int)"
	fi
	run at-db --db "$DB" migrate
	[ "$status" -ne 0 ]
	assert_output --partial "migration 0001_init"
	[ "${#lines[@]}" -eq 1 ]
	run ledger_sql "$DB" "SELECT count(*) FROM information_schema.tables WHERE table_name = 'users'"
	if is_pg "$DB"; then assert_output "0"; fi
	if ! is_pg "$DB"; then
		run sqlite3 "${DB#sqlite:}" "SELECT count(*) FROM sqlite_master WHERE name = 'users'"
		assert_output "0"
	fi
}

@test "a malformed ledger url is a one-line usage error" {
	run at-db --db "mysql://localhost/x" status
	assert_failure 64
	[ "${#lines[@]}" -eq 1 ]
	assert_output --partial 'malformed ledger url'
}

@test "an unreachable postgresql is a one-line unavailable error" {
	run at-db --db "postgresql:///nope?host=$BATS_TEST_TMPDIR/nosock&user=x&connect_timeout=2" status
	assert_failure 69
	[ "${#lines[@]}" -eq 1 ]
}

@test "the password in a postgres url never appears in output" {
	run at-db --db "postgresql://alice:s3cretpw@127.0.0.1:1/x?connect_timeout=2" status
	assert_failure 69
	refute_output --partial "s3cretpw"
	assert_output --partial "***"
}

@test "a corrupt sqlite file is a one-line data error" {
	printf 'this is not a database at all, not even close........' >"$BATS_TEST_TMPDIR/bad.db"
	run at-db --db "sqlite:$BATS_TEST_TMPDIR/bad.db" status
	assert_failure 65
	[ "${#lines[@]}" -eq 1 ]
	assert_output --partial "not a database"
}

@test "a read-only sqlite ledger is refused by init with a one-line error" {
	at-db --db "sqlite:$BATS_TEST_TMPDIR/ro.db" init
	chmod 0444 "$BATS_TEST_TMPDIR/ro.db"
	chmod 0555 "$BATS_TEST_TMPDIR"
	if [ "$(id -u)" -eq 0 ]; then
		run setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
			"$REPO/bin/at-db" --db "sqlite:$BATS_TEST_TMPDIR/ro.db" migrate
	else
		run at-db --db "sqlite:$BATS_TEST_TMPDIR/ro.db" migrate
	fi
	chmod 0755 "$BATS_TEST_TMPDIR"
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	assert_output --regexp 'read-only|readonly|unable to open|Permission denied'
}

@test "verify passes on a fresh ledger and on a chain of appended rows" {
	at-db --db "$DB" init
	run at-db --db "$DB" verify
	assert_success
	assert_output '{"ok":true,"rows":0}'
}

# audit_append URL USER ACTOR ACTION DETAIL: append one chained row with the
# canonical encoding computed here, independently of lib/audit.
audit_append() {
	local url=$1 user=$2 actor=$3 action=$4 detail=$5 seq prev ts canon hash uf
	seq=$(ledger_sql "$url" "SELECT seq FROM audit_head")
	prev=$(ledger_sql "$url" "SELECT hash FROM audit_head")
	seq=$((seq + 1))
	ts=$((1764000000000 + seq))
	if [ -n "$user" ]; then uf="${#user}:$user"; else uf="-"; fi
	hash=$(printf '%sat-audit-v1\n%s\n%s\n%s\n%s\n%s\n%s\n' "$prev" "$seq" "$ts" "$uf" \
		"${#actor}:$actor" "${#action}:$action" "${#detail}:$detail" | sha256sum | cut -d' ' -f1)
	local uv="NULL"
	[ -n "$user" ] && uv="'$user'"
	ledger_sql "$url" "INSERT INTO audit_log (seq, ts_ms, user_id, actor, action, detail, prev_hash, hash) VALUES ($seq, $ts, $uv, '$actor', '$action', '$detail', '$prev', '$hash'); UPDATE audit_head SET seq = $seq, hash = '$hash'"
}

@test "verify walks a chain of rows and finds a row altered behind the triggers' back" {
	at-db --db "$DB" init
	audit_append "$DB" "" "at-db" "test.one" '{"n":1}'
	audit_append "$DB" "" "operator" "test.two" '{"n":2}'
	audit_append "$DB" "" "operator" "test.three" '{"n":3}'
	run at-db --db "$DB" verify
	assert_success
	assert_output '{"ok":true,"rows":3}'

	# the triggers reject UPDATE and DELETE
	run ledger_sql "$DB" "UPDATE audit_log SET detail = '{\"n\":9}' WHERE seq = 2"
	assert_failure
	assert_output --partial "append-only"
	run ledger_sql "$DB" "DELETE FROM audit_log WHERE seq = 3"
	assert_failure
	assert_output --partial "append-only"

	# behind their back: drop the trigger, alter row 2, restore the trigger
	if is_pg "$DB"; then
		ledger_sql "$DB" "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update; UPDATE audit_log SET detail = '{\"n\":9}' WHERE seq = 2; ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update"
	else
		ledger_sql "$DB" "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET detail = '{\"n\":9}' WHERE seq = 2"
	fi
	run at-db --db "$DB" verify
	assert_failure 65
	assert_output --partial '"first_bad_seq":2'
	assert_output --partial "audit chain broken at seq 2"
}

@test "verify notices rows cut off the end of the chain" {
	at-db --db "$DB" init
	audit_append "$DB" "" "at-db" "a" '{}'
	audit_append "$DB" "" "at-db" "b" '{}'
	if is_pg "$DB"; then
		ledger_sql "$DB" "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update; DELETE FROM audit_log WHERE seq = 2"
	else
		ledger_sql "$DB" "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 2"
	fi
	run at-db --db "$DB" verify
	assert_failure 65
	assert_output --partial "rows removed from the end"
}

@test "verify notices a row removed from the middle" {
	at-db --db "$DB" init
	audit_append "$DB" "" "at-db" "a" '{}'
	audit_append "$DB" "" "at-db" "b" '{}'
	audit_append "$DB" "" "at-db" "c" '{}'
	if is_pg "$DB"; then
		ledger_sql "$DB" "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update; DELETE FROM audit_log WHERE seq = 2"
	else
		ledger_sql "$DB" "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 2"
	fi
	run at-db --db "$DB" verify
	assert_failure 65
	assert_output --partial '"first_bad_seq":2'
}
