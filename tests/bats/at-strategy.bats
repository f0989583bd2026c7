#!/usr/bin/env bats
# at-strategy on both ledgers: configs, versions, audit rows, tier caps,
# status transitions and tenant isolation.

load helper

A=aaaaaaaa-0000-4000-8000-00000000000a
B=bbbbbbbb-0000-4000-8000-00000000000b

STRADDLE='{"strategy_type":"short_straddle","instrument":"NIFTY","expiry":"current_week","leg_selection":"atm","lots":1,"entry_time":"09:20","exit_conditions":{"profit_target_mtm":5000,"stop_loss_mtm":-3000,"time_exit":"15:15"}}'
FLY='{"strategy_type":"iron_fly","leg_selection":"atm","hedge_distance":200,"exit_conditions":{"profit_target_mtm":4000,"stop_loss_mtm":-2500,"time_exit":"15:10"}}'

setup() {
	at_setup
	DB=$(new_ledger)
	export AT_DB=$DB
	at-db init >/dev/null 2>&1
	ledger_sql "$DB" "INSERT INTO users (id, email, name, tier, created_ms, updated_ms) VALUES ('$A', 'a@x.test', 'A', 'FREE', 0, 0), ('$B', 'b@x.test', 'B', 'PRO', 0, 0)"
	echo "$STRADDLE" >straddle.json
	echo "$FLY" >fly.json
}

count() { ledger_sql "$DB" "$1"; }

@test "validate: the seed's examples validate and print the normalised config" {
	run at-strategy validate straddle.json
	assert_success
	assert_output '{"strategy_type":"short_straddle","instrument":"NIFTY","expiry":"current_week","leg_selection":"atm","hedge_distance":null,"lots":1,"entry_time":"09:20","exit_conditions":{"profit_target_mtm":5000,"stop_loss_mtm":-3000,"stop_loss_pct":null,"trailing_stop":null,"time_exit":"15:15","max_reentries":0}}'
	run at-strategy validate <fly.json
	assert_success
	assert_output --partial '"strategy_type":"iron_fly","instrument":"NIFTY","expiry":"current_week","leg_selection":"atm","hedge_distance":200'
	# normalising is idempotent
	at-strategy validate fly.json >norm.json
	run at-strategy validate norm.json
	assert_output "$(cat norm.json)"
}

@test "validate: errors name the input and the field path, exit 65" {
	echo '{"strategy_type":"short_straddle","exit_conditions":{"stop_loss_mtm":"3000"}}' >config.json
	run at-strategy validate config.json
	assert_failure 65
	assert_output 'at-strategy: error (at config.json): field "exit_conditions.stop_loss_mtm": expected number, got string'
	run at-strategy validate <<<'{"strategy_type":"short_straddle","exit_conditions":{"foo":1}}'
	assert_failure 65
	assert_output 'at-strategy: error (at <stdin>): unknown field "exit_conditions.foo"'
	run at-strategy validate <<<'{"strategy_type":"short_straddle",'
	assert_failure 65
	assert_output --partial 'error (at <stdin>): invalid json'
	run at-strategy validate <<<'{"strategy_type":"iron_condor","leg_selection":"atm","hedge_distance":100}'
	assert_failure 65
	assert_output --partial 'field "leg_selection"'
	run at-strategy validate missing.json
	assert_failure 66
}

@test "usage: every command but validate needs a user; bad commands are usage errors" {
	run at-strategy list
	assert_failure 64
	assert_output --partial "no user"
	run at-strategy --user a@x.test frob
	assert_failure 64
	run at-strategy --user a@x.test show
	assert_failure 64
	run at-strategy --user nobody@x.test list
	assert_failure 67
	run at-strategy --help
	assert_success
	assert_output --partial "usage: at-strategy"
}

@test "add: writes the strategy, version 1 and an audit row; bad input writes nothing" {
	run at-strategy --user a@x.test add straddle straddle.json
	assert_success
	assert_output --partial '"name":"straddle","strategy_type":"short_straddle","status":"stopped","version":1'
	assert_equal "$(count "SELECT count(*) FROM strategies")" 1
	assert_equal "$(count "SELECT count(*) FROM strategy_versions WHERE version = 1 AND change = 'add'")" 1
	assert_equal "$(count "SELECT count(*) FROM audit_log WHERE action = 'strategy.add' AND user_id = '$A'")" 1
	run count "SELECT detail FROM audit_log WHERE action = 'strategy.add'"
	assert_output --partial '"name":"straddle","version":1,"changed":["entry_time","exit_conditions","expiry"'
	# duplicate name, bad config, bad name: nothing written
	run at-strategy --user a@x.test add straddle fly.json
	assert_failure 65
	assert_output --partial 'already exists'
	echo '{"strategy_type":"iron_fly","lots":0,"hedge_distance":200}' >bad.json
	run at-strategy --user a@x.test add other bad.json
	assert_failure 65
	assert_output 'at-strategy: error (at bad.json): field "lots": 0 is out of range [1, 100]'
	run at-strategy --user a@x.test add 'bad name' fly.json
	assert_failure 65
	assert_equal "$(count "SELECT count(*) FROM strategies")" 1
	assert_equal "$(count "SELECT count(*) FROM strategy_versions")" 1
	assert_equal "$(count "SELECT count(*) FROM audit_log")" 1
	run at-db verify
	assert_success
}

@test "update and history: every change is a new version with the changed keys audited" {
	at-strategy --user a@x.test add s1 straddle.json >/dev/null
	sed 's/"lots":1/"lots":2/; s/5000/6000/' straddle.json >v2.json
	run at-strategy --user a@x.test update s1 v2.json
	assert_success
	assert_output --partial '"version":2'
	# the same config again changes nothing
	run at-strategy --user a@x.test update s1 <v2.json
	assert_success
	assert_output --partial '"version":2'
	run at-strategy --user a@x.test history s1
	assert_success
	assert_line --index 0 --partial '"version":1,"change":"add"'
	assert_line --index 1 --partial '"version":2,"change":"update"'
	assert_line --index 1 --partial '"lots":2'
	assert_equal "${#lines[@]}" 2
	run count "SELECT detail FROM audit_log WHERE action = 'strategy.update'"
	assert_output --partial '"version":2,"changed":["exit_conditions","lots"]'
	assert_equal "$(count "SELECT count(*) FROM audit_log")" 2
	# a bad update writes nothing
	echo '{"strategy_type":"short_straddle","exit_conditions":{"time_exit":"16:00"}}' >bad.json
	run at-strategy --user a@x.test update s1 bad.json
	assert_failure 65
	assert_output --partial 'field "exit_conditions.time_exit"'
	assert_equal "$(count "SELECT version FROM strategies")" 2
	run at-db verify
	assert_success
}

@test "status: legal transitions, illegal ones fail clearly, stop is idempotent" {
	at-strategy --user a@x.test add s1 straddle.json >/dev/null
	run at-strategy --user a@x.test pause s1
	assert_failure 65
	assert_output --partial 'cannot pause strategy "s1": it is stopped'
	run at-strategy --user a@x.test start s1
	assert_success
	assert_output --partial '"status":"running"'
	run at-strategy --user a@x.test start s1
	assert_failure 65
	assert_output --partial 'already running'
	run at-strategy --user a@x.test pause s1
	assert_output --partial '"status":"paused"'
	# identity fields cannot change while paused/running
	sed 's/NIFTY/SENSEX/' straddle.json >sensex.json
	run at-strategy --user a@x.test update s1 sensex.json
	assert_failure 65
	assert_output --partial 'stop it before changing'
	run at-strategy --user a@x.test start s1
	assert_output --partial '"status":"running"'
	run at-strategy --user a@x.test stop s1
	assert_output --partial '"status":"stopped"'
	run at-strategy --user a@x.test stop s1
	assert_success
	assert_equal "$(count "SELECT action FROM audit_log ORDER BY seq" | tr '\n' ' ')" "strategy.add strategy.start strategy.pause strategy.start strategy.stop "
	run at-strategy --user a@x.test update s1 sensex.json
	assert_success
	run at-db verify
	assert_success
}

@test "tier caps: FREE runs one strategy (paused counts); the cap comes from subscription_tiers" {
	at-strategy --user a@x.test add s1 straddle.json >/dev/null
	at-strategy --user a@x.test add s2 fly.json >/dev/null
	at-strategy --user a@x.test start s1 >/dev/null
	before=$(count "SELECT count(*) FROM audit_log")
	run at-strategy --user a@x.test start s2
	assert_failure 77
	assert_output --partial 'tier FREE allows 1 running or paused strategy'
	at-strategy --user a@x.test pause s1 >/dev/null
	run at-strategy --user a@x.test start s2
	assert_failure 77
	assert_equal "$(count "SELECT status FROM strategies WHERE name = 's2'")" stopped
	assert_equal "$(count "SELECT count(*) FROM audit_log")" "$((before + 1))"
	# resuming the paused one is always allowed
	run at-strategy --user a@x.test start s1
	assert_success
	# the operator raises the cap
	ledger_sql "$DB" "UPDATE subscription_tiers SET max_running_strategies = 2 WHERE tier = 'FREE'"
	run at-strategy --user a@x.test start s2
	assert_success
	# PRO: 10
	for i in $(seq 1 11); do at-strategy --user b@x.test add "p$i" fly.json >/dev/null; done
	for i in $(seq 1 10); do at-strategy --user b@x.test start "p$i" >/dev/null; done
	run at-strategy --user b@x.test start p11
	assert_failure 77
	assert_output --partial 'tier PRO allows 10'
	assert_equal "$(count "SELECT count(*) FROM strategies WHERE user_id = '$B' AND status = 'running'")" 10
}

@test "a disabled user cannot start strategies but can stop them" {
	at-strategy --user a@x.test add s1 straddle.json >/dev/null
	at-strategy --user a@x.test add s2 fly.json >/dev/null
	at-strategy --user a@x.test start s1 >/dev/null
	ledger_sql "$DB" "UPDATE users SET status = 'disabled' WHERE id = '$A'"
	run at-strategy --user a@x.test stop s1
	assert_success
	run at-strategy --user a@x.test start s2
	assert_failure 77
	assert_output --partial 'user is disabled'
	assert_equal "$(count "SELECT count(*) FROM strategies WHERE status <> 'stopped'")" 0
}

@test "tenant isolation: acting for A, B's strategies are unknown by id and by name" {
	at-strategy --user b@x.test add bs straddle.json >/dev/null
	bid=$(count "SELECT id FROM strategies WHERE name = 'bs'")
	for ref in bs "$bid"; do
		for c in show start stop pause history; do
			run at-strategy --user a@x.test "$c" "$ref"
			assert_failure 66
			assert_output --partial 'unknown strategy'
		done
		run at-strategy --user a@x.test update "$ref" fly.json
		assert_failure 66
	done
	run at-strategy --user a@x.test list
	assert_success
	assert_output ""
	# A may use the same name: names are per user
	run at-strategy --user "$A" add bs fly.json
	assert_success
	run env AT_USER=b@x.test at-strategy list
	assert_output --partial '"strategy_type":"short_straddle"'
	assert_equal "${#lines[@]}" 1
	assert_equal "$(count "SELECT status || ' ' || version FROM strategies WHERE id = '$bid'")" "stopped 1"
	assert_equal "$(count "SELECT count(*) FROM audit_log WHERE user_id = '$B'")" 1
	# upper-case ids work for the owner
	run at-strategy --user b@x.test show "${bid^^}"
	assert_success
}

@test "list and show print one JSON object per line" {
	at-strategy --user a@x.test add b-fly fly.json >/dev/null
	at-strategy --user a@x.test add a-straddle straddle.json >/dev/null
	run at-strategy --user a@x.test list
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_line --index 0 --partial '"name":"a-straddle"'
	assert_line --index 1 --partial '"name":"b-fly"'
	id=$(count "SELECT id FROM strategies WHERE name = 'b-fly'")
	run at-strategy --user a@x.test show "$id"
	assert_success
	assert_output --partial "{\"id\":\"$id\",\"user_id\":\"$A\",\"name\":\"b-fly\""
	if command -v jq >/dev/null; then
		at-strategy --user a@x.test list | jq -e -s 'length == 2 and all(.config.exit_conditions | type == "object")'
	fi
}
