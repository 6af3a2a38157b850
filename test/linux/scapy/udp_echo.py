#!/usr/bin/python3
# UDP echo check against the device's port 7: for each size, a datagram of seeded bytes,
# and the same bytes back (a few tries each, for a lossy link). One JSON line:
# {"results": [{"size": n, "ok": bool, "tries": k}, ...], "all_ok": bool}.
# Only 169.254.0.0/16 addresses; bounded tries and timeouts.

import argparse
import json
import random
import socket
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dst", required=True)
    ap.add_argument("--port", type=int, default=7)
    ap.add_argument("--sizes", default="0,1,100,1472,1473,4000,8000,30000,65507")
    ap.add_argument("--tries", type=int, default=3)
    ap.add_argument("--wait", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if not a.dst.startswith("169.254."):
        sys.exit("udp_echo.py: --dst must be in 169.254.0.0/16")
    rng = random.Random(a.seed)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.connect((a.dst, a.port))
    s.settimeout(a.wait)
    results = []
    for size in [int(x) for x in a.sizes.split(",")]:
        data = bytes(rng.getrandbits(8) for _ in range(size))
        ok = False
        tries = 0
        err = None
        while tries < a.tries and not ok:
            tries += 1
            try:
                s.send(data)
                while True:
                    got = s.recv(65535)
                    if got == data:
                        ok = True
                        break
                    # an echo of an earlier try (or a duplicate): keep waiting
            except socket.timeout:
                err = "timeout"
            except OSError as e:
                err = f"{type(e).__name__}: {e}"
        results.append({"size": size, "ok": ok, "tries": tries, "error": None if ok else err})
    print(json.dumps({"results": results, "all_ok": all(r["ok"] for r in results)}), flush=True)


if __name__ == "__main__":
    main()
