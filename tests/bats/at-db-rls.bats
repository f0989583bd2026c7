#!/usr/bin/env bats
# backends: postgres
# Row Level Security on every tenant table (PostgreSQL only; on SQLite the
# tools' own user_id filters are the guard, tested with each tool).

load helper

setup() {
	at_setup
	DB=$(new_ledger)
}

# Row Level Security: seed two tenants with a row in every tenant table,
# then act as tenant A through the at_app role.
rls_seed() {
	local A=aaaaaaaa-0000-4000-8000-00000000000a B=bbbbbbbb-0000-4000-8000-00000000000b
	local s
	for u in $A $B; do
		s="${u:0:1}"
		ledger_sql "$DB" "
		INSERT INTO users (id, email, created_ms, updated_ms) VALUES ('$u', '$s@x.test', 0, 0);
		INSERT INTO broker_credentials (user_id, api_key, api_secret_encrypted, totp_secret_encrypted, broker_user_id, password_encrypted, updated_ms) VALUES ('$u', 'k', 'x', 'x', 'AB1234', 'x', 0);
		INSERT INTO strategies (id, user_id, name, strategy_type, config, created_ms, updated_ms) VALUES ('${s}${s}${s}${s}${s}${s}${s}${s}-1111-4000-8000-000000000001', '$u', 'n', 'short_straddle', '{}', 0, 0);
		INSERT INTO strategy_versions (strategy_id, user_id, version, config, changed_by, created_ms) VALUES ('${s}${s}${s}${s}${s}${s}${s}${s}-1111-4000-8000-000000000001', '$u', 1, '{}', 'x', 0);
		INSERT INTO strategy_state (strategy_id, user_id, state, updated_ms) VALUES ('${s}${s}${s}${s}${s}${s}${s}${s}-1111-4000-8000-000000000001', '$u', '{}', 0);
		INSERT INTO optimization_suggestions (user_id, kind, reason, patch, created_ms) VALUES ('$u', 'k', 'r', '{}', 0);
		INSERT INTO orders (user_id, intent_id, exchange, tradingsymbol, transaction_type, order_type, product, quantity, status, created_ms, updated_ms) VALUES ('$u', 'i1', 'NFO', 'NIFTY24MAY22500CE', 'BUY', 'MARKET', 'MIS', 50, 'OPEN', 0, 0);
		INSERT INTO positions (user_id, exchange, tradingsymbol, product, quantity, updated_ms) VALUES ('$u', 'NFO', 'NIFTY24MAY22500CE', 'MIS', 50, 0);
		INSERT INTO login_jobs (user_id, run_date, created_ms) VALUES ('$u', '2026-11-25', 0);
		INSERT INTO audit_log (seq, ts_ms, user_id, actor, action, detail, prev_hash, hash) VALUES ((SELECT coalesce(max(seq), 0) + 1 FROM audit_log), 0, '$u', 'x', 'x', '{}', 'x', 'x');"
	done
}

as_tenant() { # SQL as tenant A through the at_app role
	ledger_sql "$DB" "SET ROLE at_app; SELECT set_config('at.user_id', 'aaaaaaaa-0000-4000-8000-00000000000a', false); $1"
}

@test "rls: every table with a user_id column has row level security enabled and forced" {
	at-db --db "$DB" init
	run ledger_sql "$DB" "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND EXISTS (SELECT 1 FROM information_schema.columns k WHERE k.table_name = c.relname AND k.column_name = 'user_id') AND NOT (c.relrowsecurity AND c.relforcerowsecurity) ORDER BY 1"
	assert_success
	assert_output ""
	run ledger_sql "$DB" "SELECT count(*) FROM pg_class WHERE relrowsecurity AND relforcerowsecurity"
	assert_output "10"
}

@test "rls: acting as tenant A, tenant B's rows can be neither read, updated, deleted nor inserted" {
	at-db --db "$DB" init
	rls_seed
	B=bbbbbbbb-0000-4000-8000-00000000000b
	for t in users broker_credentials strategies strategy_versions strategy_state \
		optimization_suggestions orders positions login_jobs audit_log; do
		run as_tenant "SELECT count(*) FROM $t"
		assert_output --partial "1"
		run as_tenant "SELECT count(*) FROM $t WHERE user_id = '$B'"
		assert_line "0"
		if [ "$t" != audit_log ]; then
			c=user_id
			[ "$t" = users ] && c=email
			run as_tenant "UPDATE $t SET $c = $c WHERE user_id = '$B'"
			assert_success
			run as_tenant "WITH u AS (UPDATE $t SET $c = $c RETURNING 1) SELECT count(*) FROM u"
			assert_line "1"
			run as_tenant "WITH d AS (DELETE FROM $t WHERE user_id = '$B' RETURNING 1) SELECT count(*) FROM d"
			assert_line "0"
		fi
		# B's rows are all still there
		run ledger_sql "$DB" "SELECT count(*) FROM $t WHERE user_id = '$B'"
		assert_output "1"
	done
	# inserting a row for B is refused by the policy's WITH CHECK
	run as_tenant "INSERT INTO orders (user_id, intent_id, exchange, tradingsymbol, transaction_type, order_type, product, quantity, status, created_ms, updated_ms) VALUES ('$B', 'i2', 'NFO', 'X', 'BUY', 'MARKET', 'MIS', 1, 'OPEN', 0, 0)"
	assert_failure
	assert_output --partial "row-level security"
	# moving one's own row to B is refused as well
	run as_tenant "UPDATE orders SET user_id = '$B'"
	assert_failure
	# and the audit log cannot be rewritten even by the platform role
	run ledger_sql "$DB" "SET ROLE at_platform; DELETE FROM audit_log"
	assert_failure
}

@test "rls: with no tenant set, at_app sees nothing" {
	at-db --db "$DB" init
	rls_seed
	run ledger_sql "$DB" "SET ROLE at_app; SELECT count(*) FROM orders"
	assert_output "0"
	run ledger_sql "$DB" "SET ROLE at_platform; SELECT count(*) FROM orders"
	assert_output "2"
}
