# Throwaway PostgreSQL cluster for the test suite (sourced by tests/run and
# bench/run).  initdb + pg_ctl in a temp dir, unix socket only (no TCP), as a
# non-root user: when run as root the cluster runs as "postgres" (Debian's
# package creates it) or a user made for the purpose.
#
#   pg_start DIR   start; sets AT_PG_SOCK, AT_PG_USER, AT_PG_BIN
#   pg_url NAME    a fresh database NAME; prints its URL
#   pg_stop        stop and leave nothing running

pg_find_bin() {
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			echo "$d"
			return 0
		fi
	done
	command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)" && return 0
	return 1
}

pg_as() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$AT_PG_OSUSER" -- "$@"
	else
		"$@"
	fi
}

pg_start() {
	local dir=$1
	AT_PG_BIN=$(pg_find_bin) || return 1
	if [ "$(id -u)" -eq 0 ]; then
		AT_PG_OSUSER=postgres
		if ! id "$AT_PG_OSUSER" >/dev/null 2>&1; then
			AT_PG_OSUSER=at-pg-test
			id "$AT_PG_OSUSER" >/dev/null 2>&1 ||
				useradd --system --no-create-home --shell /usr/sbin/nologin "$AT_PG_OSUSER" || return 1
		fi
	else
		AT_PG_OSUSER=$(id -un)
	fi
	mkdir -p "$dir" || return 1
	chmod 755 "$dir"
	[ "$(id -u)" -eq 0 ] && chown "$AT_PG_OSUSER" "$dir"
	AT_PG_USER=at_test
	pg_as "$AT_PG_BIN/initdb" -D "$dir/data" -U "$AT_PG_USER" --auth=trust \
		--encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
		pg_as "$AT_PG_BIN/initdb" -D "$dir/data" -U "$AT_PG_USER" --auth=trust \
			--encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		return 1
	}
	pg_as "$AT_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-c listen_addresses='' -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
		start >/dev/null 2>&1 || {
		cat "$dir/server.log" >&2
		return 1
	}
	AT_PG_DIR=$dir
	AT_PG_SOCK=$dir
	export AT_PG_BIN AT_PG_DIR AT_PG_SOCK AT_PG_USER AT_PG_OSUSER
}

pg_url() {
	local name=$1
	"$AT_PG_BIN/psql" -X -q -h "$AT_PG_SOCK" -U "$AT_PG_USER" -d postgres \
		-c "CREATE DATABASE \"$name\"" >/dev/null || return 1
	echo "postgresql:///$name?host=$AT_PG_SOCK&user=$AT_PG_USER"
}

pg_stop() {
	[ -n "${AT_PG_DIR:-}" ] || return 0
	pg_as "$AT_PG_BIN/pg_ctl" -D "$AT_PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
	AT_PG_DIR=
}
