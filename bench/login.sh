#!/usr/bin/env bash
# bench/login.sh LEDGER_URL: the morning rush of issue "at-login".
# 1000 tenants (AT_BENCH_TENANTS), at-sim adding 200 ms to every request,
# a global limit of 5 logins/s: wall time against the N/5 s floor, the peak
# login rate at-sim saw, CPU seconds and peak RSS of at-login.  Then again
# at 50/s to show the workers, not the limit, are no bottleneck.
set -eu
url=$1
n=${AT_BENCH_TENANTS:-1000}
d=$(mktemp -d /tmp/at-bench-login.XXXXXX)
trap 'kill $simpid 2>/dev/null; rm -rf "$d"' EXIT
export AT_LOG_LEVEL=error
export AT_FERNET_KEY=$(bin/at-user genkey)
python3 - "$d" "$n" <<'PY'
import base64, json, sys
d, n = sys.argv[1], int(sys.argv[2])
acc = [{"api_key": "key%d" % i, "api_secret": "sec%d" % i,
        "user_id": "BK%05d" % i, "password": "pw%d" % i,
        "totp_secret": base64.b32encode(b"bench-totp-%06d" % i).decode().rstrip("=")}
       for i in range(1, n + 1)]
json.dump(acc, open(d + "/acc.json", "w"))
with open(d + "/creds.jsonl", "w") as f:
    for a in acc:
        c = dict(a); c["broker_user_id"] = c.pop("user_id")
        f.write(json.dumps(c) + "\n")
PY
bin/at-db --db "$url" init >/dev/null
i=0
while IFS= read -r line; do
	i=$((i + 1))
	bin/at-user --db "$url" add --email "b$i@bench.test" --name "B $i" >/dev/null
	printf '%s\n' "$line" | bin/at-user --db "$url" set-credentials "b$i@bench.test" >/dev/null
done <"$d/creds.jsonl"

bin/at-sim --accounts "$d/acc.json" --port-file "$d/port" --latency-ms 200 \
	--no-rate-limit >/dev/null 2>"$d/sim.err" &
simpid=$!
for _ in $(seq 1 200); do [ -s "$d/port" ] && break; sleep 0.05; done
S=http://127.0.0.1:$(cat "$d/port")
export AT_KITE_API_URL=$S AT_KITE_LOGIN_URL=$S

run() { # rate workers date
	local rate=$1 workers=$2 date=$3 before after
	before=$(curl -s "$S/_sim/stats" | jq .data.logins)
	curl -s -X POST "$S/_sim/reset" >/dev/null
	/usr/bin/time -f '%e %U %S %M' -o "$d/time" bin/at-login --db "$url" --all \
		--rate "$rate" --workers "$workers" --force --date "$date" \
		--deadline +3600 >"$d/out" 2>"$d/err" || true
	read -r wall usr sys rss <"$d/time"
	ok=$(grep -c '"status":"ok"' "$d/out" || true)
	peak=$(curl -s "$S/_sim/stats" | jq .data.login_peak_per_s)
	floor=$(echo "$n / $rate" | bc -l)
	printf '%-6s %7s %5d %6d %9.1f %9.1f %+8.2f%% %6s %8.1f %7d\n' "$rate/s" "$workers" \
		"$ok" "$peak" "$floor" "$wall" "$(echo "($wall - $floor) * 100 / $floor" | bc -l)" \
		"-" "$(echo "$usr + $sys" | bc -l)" "$((rss / 1024))"
}
printf '%-6s %7s %5s %6s %9s %9s %9s %6s %8s %7s\n' rate workers ok peak floor_s wall_s over "" cpu_s rss_MiB
run 5 32 2030-01-01
run 50 128 2030-01-02
