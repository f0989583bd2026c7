#!/usr/bin/env bash
# bench/bench_feed_latency.sh: end-to-end latency from at-sim's send of a
# ticker frame to at-feed's write of its tick line (issue "at-feed").
# at-sim --record-sends keeps the CLOCK_REALTIME microseconds of every
# binary frame it hands to the kernel; at-feed subscribes one instrument in
# full mode (an empty ledger, so its master set resolves to nothing), so
# every frame holds exactly one packet and gives one line; its stdout is a
# pipe into build/bench/bench_feed_latency, which stamps each line with
# CLOCK_REALTIME microseconds when read() returns it.  The i-th line is the
# i-th frame of the connection; latency = read - send.  Prints p50, p99,
# max and the count.  AT_BENCH_LAT_SECS (10), AT_BENCH_LAT_RATE (10/s).
set -eu
cd "$(dirname "$0")/.."
secs=${AT_BENCH_LAT_SECS:-10}
rate=${AT_BENCH_LAT_RATE:-10}
d=$(mktemp -d /tmp/at-bench-lat.XXXXXX)
simpid="" feedpid=""
trap '[ -n "$feedpid" ] && kill $feedpid 2>/dev/null; [ -n "$simpid" ] && kill $simpid 2>/dev/null; [ -n "${AT_BENCH_KEEP:-}" ] || rm -rf "$d"' EXIT
export AT_LOG_LEVEL=warn
secret=JBSWY3DPEHPK3PXP
echo "[{\"api_key\":\"bk\",\"api_secret\":\"bs\",\"user_id\":\"BK0001\",\"password\":\"pw\",\"totp_secret\":\"$secret\"}]" >"$d/acc.json"
bin/at-sim --accounts "$d/acc.json" --port-file "$d/port" --no-rate-limit \
	--tick-rate "$rate" --record-sends >/dev/null 2>"$d/sim.err" &
simpid=$!
for _ in $(seq 1 200); do [ -s "$d/port" ] && break; sleep 0.05; done
P=$(cat "$d/port")
B=http://127.0.0.1:$P
loc=$(curl -s -o /dev/null -w '%{redirect_url}' "$B/connect/login?v=3&api_key=bk")
rid=$(curl -s -d "user_id=BK0001&password=pw" "$B/api/login" | jq -r .data.request_id)
curl -s -c "$d/cj" -d "user_id=BK0001&request_id=$rid&twofa_value=$(oathtool --totp -b $secret)&twofa_type=totp" "$B/api/twofa" >/dev/null
loc=$(curl -s -b "$d/cj" -o /dev/null -w '%{redirect_url}' "$B/connect/finish?v=3&api_key=bk&sess_id=${loc##*sess_id=}")
rt=${loc##*request_token=}
sum=$(printf '%s' "bk${rt}bs" | sha256sum | cut -d' ' -f1)
(
	umask 077
	curl -s -d "api_key=bk&request_token=$rt&checksum=$sum" "$B/session/token" | jq -r .data.access_token >"$d/token"
)
# an instrument master of the NIFTY 50 index alone: the master set (NIFTY,
# its chain, India VIX) resolves to that one instrument, one full-mode
# packet per round
curl -s "$B/instruments/NSE" | awk -F, 'NR == 1 || $3 == "NIFTY 50"' >"$d/instruments.csv"
tok=$(awk -F, 'NR == 2 { print $1 }' "$d/instruments.csv")
[ -n "$tok" ] || { echo "bench_feed_latency: no NIFTY 50 in at-sim's NSE instruments" >&2; exit 1; }
bin/at-db --db "sqlite:$d/feed.db" init >/dev/null
bin/at-feed --db "sqlite:$d/feed.db" --refresh-instruments \
	--instruments-file "$d/instruments.csv" >/dev/null 2>"$d/feed.err"
bin/at-feed --db "sqlite:$d/feed.db" --api-key bk --token-file "$d/token" \
	--ws-url "ws://127.0.0.1:$P" --mode full --tokens "$tok" 2>"$d/feed.err" |
	build/bench/bench_feed_latency >"$d/lines" &
readpid=$!
sleep "$secs"
feedpid=$(pgrep -P $$ -x at-feed || true)
[ -n "$feedpid" ] && kill "$feedpid"
wait "$readpid" || true
feedpid=""
curl -s "$B/_sim/sends" >"$d/sends.json"
kill "$simpid"
wait "$simpid" || true
simpid=""
python3 - "$d/lines" "$d/sends.json" "$tok" <<'PY'
import json, sys
lines, sends, tok = sys.argv[1], json.load(open(sys.argv[2])), int(sys.argv[3])
if "data" in sends:
    sends = sends["data"]
read = []
for ln in open(lines):
    us, _, js = ln.partition("\t")
    t = json.loads(js)
    if t.get("instrument_token") != tok:
        sys.exit("bench_feed_latency: a line of another instrument: " + js.strip())
    read.append(int(us))
if len(sends) != 1:
    sys.exit("bench_feed_latency: expected one ticker connection, got %d" % len(sends))
sent = next(iter(sends.values()))
if any(s["packets"] != 1 for s in sent):
    sys.exit("bench_feed_latency: a frame with more than one packet")
rounds = [s["round"] for s in sent]
if rounds != list(range(rounds[0], rounds[0] + len(rounds))):
    sys.exit("bench_feed_latency: at-sim skipped rounds on the connection")
# frames still in flight when at-feed was stopped were never read
if not 0 <= len(sent) - len(read) <= 3:
    sys.exit("bench_feed_latency: %d frames sent, %d lines read" % (len(sent), len(read)))
lat = sorted(r - s["us"] for r, s in zip(read, sent))
if lat[0] < 0:
    sys.exit("bench_feed_latency: a line read before its frame was sent (misaligned)")
def pct(p):
    return lat[min(len(lat) - 1, max(0, -(-len(lat) * p // 100) - 1))]
print("# at-sim send -> at-feed write (read by a pipe reader): %d ticks, %d frames sent; "
      "p50 %d us, p99 %d us, max %d us, min %d us" % (len(lat), len(sent), pct(50), pct(99), lat[-1], lat[0]))
PY
