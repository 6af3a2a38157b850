#!/usr/bin/python3
# ICMP echo at every size of a list, one at a time: a request with `size` bytes of data
# (seeded bytes per sequence number), and the reply must carry the same identifier,
# sequence number and every byte of the data, with a good ICMP checksum. Over a raw socket
# (the kernel builds the IP header and fragments what does not fit the MTU).
# One JSON line: {"sizes": n, "answered": k, "failed": [{"size", "why"}, ...] (the first 20),
# "ms": total}. Only 169.254.0.0/16 addresses; bounded tries and waits.

import argparse
import json
import random
import socket
import struct
import sys
import time


def parse_sizes(spec):
    out = []
    for part in spec.split(","):
        if "-" in part:
            lo, hi = part.split("-")
            out.extend(range(int(lo), int(hi) + 1))
        elif part:
            out.append(int(part))
    return out


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dst", required=True)
    ap.add_argument("--sizes", default="0-1600")
    ap.add_argument("--tries", type=int, default=2)
    ap.add_argument("--wait", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if not a.dst.startswith("169.254."):
        sys.exit("ping_sweep.py: --dst must be in 169.254.0.0/16")
    sizes = parse_sizes(a.sizes)
    if len(sizes) > 100000:
        sys.exit("ping_sweep.py: at most 100000 sizes")
    rng = random.Random(a.seed)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    ident = rng.randrange(1, 0xFFFF)
    seq = 0
    answered = 0
    failed = []
    t0 = time.monotonic()
    buf = bytearray(70000)
    for size in sizes:
        ok = False
        why = "no reply"
        for _ in range(a.tries):
            seq = (seq + 1) & 0xFFFF
            data = rng.randbytes(size)
            head = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
            csum = checksum(head + data)
            s.sendto(struct.pack("!BBHHH", 8, 0, csum, ident, seq) + data, (a.dst, 0))
            end = time.monotonic() + a.wait
            while not ok:
                left = end - time.monotonic()
                if left <= 0:
                    break
                s.settimeout(left)
                try:
                    n, src = s.recvfrom_into(buf)
                except socket.timeout:
                    break
                if src[0] != a.dst or n < 20:
                    continue
                ihl = (buf[0] & 15) * 4
                icmp = bytes(buf[ihl:n])
                if len(icmp) < 8:
                    continue
                typ, code, _, rid, rseq = struct.unpack("!BBHHH", icmp[:8])
                if typ != 0 or rid != ident or rseq != seq:
                    continue
                if code != 0:
                    why = "code %d" % code
                elif checksum(icmp) != 0:
                    why = "bad ICMP checksum"
                elif icmp[8:] != data:
                    why = "data differs (%d bytes back)" % (len(icmp) - 8)
                else:
                    ok = True
                break
            if ok:
                break
        if ok:
            answered += 1
        elif len(failed) < 20:
            failed.append({"size": size, "why": why})
    print(json.dumps({"sizes": len(sizes), "answered": answered, "failed": failed,
                      "ms": round((time.monotonic() - t0) * 1000)}))


if __name__ == "__main__":
    main()
