#!/usr/bin/env python3
"""Write an at-feed capture file (at-streams(5)) of Kite ticker frames.

    make-capture.py OUT [N] [--bad]

N frames (default 50), each received 100 ms after the previous from
2024-05-20T09:15:00+05:30, each holding a full-mode packet of NIFTY 50
(index, 32 bytes) and of two NFO options (184 bytes), an ltp packet and a
quote packet; every 10th frame is preceded by a 1-byte heartbeat and
every 7th by an order text frame.  --bad adds a frame with an impossible
packet length, one with an unknown packet size, and a garbage text
message (the stream must go on past them).
"""
import struct
import sys

T0_US = 1716176700000000  # 2024-05-20 09:15:00 IST


def index_full(token, ltp, ts):
    p = [int(round(x * 100)) for x in (ltp, ltp + 10, ltp - 10, ltp - 5, ltp - 20)]
    return struct.pack(">IiiiiiiI", token, p[0], p[1], p[2], p[3], p[4], p[0] - p[4], ts)


def quote(token, ltp, vol):
    p = int(round(ltp * 100))
    return struct.pack(">IiIiIIIiiii", token, p, 25, p - 5, vol, 1000, 2000,
                       p - 100, p + 200, p - 300, p - 50)


def full(token, ltp, vol, ts):
    p = int(round(ltp * 100))
    b = quote(token, ltp, vol)
    b += struct.pack(">IIIII", ts - 1, 5000 + vol % 100, 6000, 4000, ts)
    for side in (0, 1):
        for lvl in range(5):
            price = p - 5 * (lvl + 1) if side == 0 else p + 5 * (lvl + 1)
            b += struct.pack(">IiHH", 25 * (lvl + 1), price, lvl + 1, 0)
    return b


def frame(packets):
    b = struct.pack(">H", len(packets))
    for p in packets:
        b += struct.pack(">H", len(p)) + p
    return b


def rec(us, kind, data):
    return struct.pack(">IqBBH", len(data), us, kind, 0, 0) + data


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2].isdigit() else 50
    bad = "--bad" in sys.argv
    buf = b"ATCAP01\n"
    for i in range(n):
        us = T0_US + i * 100000
        ts = us // 1000000
        if i % 10 == 0:
            buf += rec(us, 0, b"\x00")
        if i % 7 == 3:
            buf += rec(us, 1, b'{"type":"order","data":{"order_id":"%d","status":"COMPLETE"}}' % i)
        pk = [index_full(256265, 22500 + i * 0.05, ts),
              full(2560258, 100.5 + i * 0.05, 1000 + i, ts),
              full(2560514, 95.25 - i * 0.05, 2000 + i, ts),
              struct.pack(">Ii", 408065, 141085 + i),
              quote(128053508, 1411.1 + i, 500 + i)]
        buf += rec(us, 0, frame(pk))
        if bad and i == n // 2:
            buf += rec(us, 0, struct.pack(">HH", 1, 300) + b"\x00" * 20)
            buf += rec(us, 0, frame([b"\x00" * 12]))
            buf += rec(us, 1, b"garbage{")
    open(out, "wb").write(buf)


main()
