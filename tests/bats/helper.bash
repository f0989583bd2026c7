# Common set-up for the bats suites.  Each case runs in its own temp dir.
# A file that calls new_ledger is run once per backend by tests/run
# (AT_TEST_BACKEND=sqlite|postgres).

REPO=${AT_REPO:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
export PATH="$REPO/bin:$PATH"

for d in /usr/lib/bats /usr/lib/bats-core /usr/local/lib; do
	if [ -f "$d/bats-support/load.bash" ]; then
		load "$d/bats-support/load.bash"
		load "$d/bats-assert/load.bash"
		break
	fi
done

at_setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	export AT_HOME="$BATS_TEST_TMPDIR/home"
	unset AT_DB
	export AT_LOG_LEVEL=${AT_LOG_LEVEL:-warn}
}

# new_ledger: print the URL of a fresh, empty ledger on the current backend.
new_ledger() {
	case "${AT_TEST_BACKEND:-sqlite}" in
	sqlite)
		echo "sqlite:$BATS_TEST_TMPDIR/at-$RANDOM$RANDOM.db"
		;;
	postgres)
		if [ -z "${AT_PG_SOCK:-}" ]; then
			echo "new_ledger: no postgresql cluster (AT_PG_SOCK unset)" >&2
			return 1
		fi
		local name="t_$(date +%s%N)_$RANDOM"
		"$AT_PG_BIN/psql" -X -q -h "$AT_PG_SOCK" -U "$AT_PG_USER" -d postgres \
			-c "CREATE DATABASE \"$name\"" >/dev/null || return 1
		echo "postgresql:///$name?host=$AT_PG_SOCK&user=$AT_PG_USER"
		;;
	*)
		echo "new_ledger: unknown backend ${AT_TEST_BACKEND}" >&2
		return 1
		;;
	esac
}

# ledger_sql URL SQL: run SQL directly against the ledger (as the owner or
# superuser, i.e. behind the tools' backs); prints rows tab-separated.
ledger_sql() {
	local url=$1 sql=$2
	case "$url" in
	postgres://* | postgresql://*)
		"$AT_PG_BIN/psql" -X -q -A -t -F $'\t' -v ON_ERROR_STOP=1 "$url" -c "$sql"
		;;
	*)
		sqlite3 -batch -separator $'\t' "${url#sqlite:}" "$sql"
		;;
	esac
}

is_pg() { case "$1" in postgres://* | postgresql://*) return 0 ;; esac; return 1; }
