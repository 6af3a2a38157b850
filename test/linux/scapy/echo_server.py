#!/usr/bin/python3
# A TCP echo server for the device's client mode (--connect HOST:PORT --send N): it accepts
# one connection, checks that byte i of what arrives is i % 251, sends every byte back, and
# when the device closes its side, closes too. Prints "listening PORT" once ready and one
# JSON line at the end: {"received": n, "echoed": n, "pattern_ok": bool, "first_bad": i or -1, ...}.
# Bounded: gives up after --timeout seconds. Only 169.254.0.0/16 addresses.

import argparse
import json
import socket
import sys
import time

PERIOD = bytes(i % 251 for i in range(251)) * 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--timeout", type=float, default=120)
    a = ap.parse_args()
    if not a.bind.startswith("169.254."):
        sys.exit("echo_server.py: --bind must be in 169.254.0.0/16")
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(1)
    ls.settimeout(a.timeout)
    print(f"listening {a.port}", flush=True)
    out = {"received": 0, "echoed": 0, "pattern_ok": True, "first_bad": -1, "peer": None, "clean_eof": False, "error": None}
    t0 = time.time()
    try:
        c, peer = ls.accept()
        out["peer"] = f"{peer[0]}:{peer[1]}"
        print(f"accepted {out['peer']}", flush=True)
        c.settimeout(max(1.0, a.timeout - (time.time() - t0)))
        while True:
            if time.time() - t0 > a.timeout:
                out["error"] = "timeout"
                break
            chunk = c.recv(262144)
            if not chunk:
                out["clean_eof"] = True
                break
            pos = out["received"]
            if out["pattern_ok"]:
                # compare in slices against the i % 251 pattern
                k = 0
                while k < len(chunk):
                    off = (pos + k) % 251
                    n = min(251, len(chunk) - k)
                    if chunk[k:k + n] != PERIOD[off:off + n]:
                        for j in range(n):
                            if chunk[k + j] != (pos + k + j) % 251:
                                out["first_bad"] = pos + k + j
                                break
                        out["pattern_ok"] = False
                        break
                    k += n
            out["received"] += len(chunk)
            c.sendall(chunk)
            out["echoed"] += len(chunk)
        c.shutdown(socket.SHUT_WR)
        # wait for the device to finish closing (bounded)
        c.settimeout(5)
        try:
            while c.recv(65536):
                pass
        except OSError:
            pass
        c.close()
    except Exception as e:  # noqa: BLE001 - reported, not raised
        out["error"] = f"{type(e).__name__}: {e}"
    out["seconds"] = round(time.time() - t0, 3)
    ls.close()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
