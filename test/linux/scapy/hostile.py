#!/usr/bin/python3
# Hostile input for the xsnet device, from inside the test's network namespace, written
# onto the TAP with an AF_PACKET socket (so the frames reach the device exactly as built,
# bad checksums and all). Frames are built with python3-scapy (Debian's, /usr/bin/python3).
#
#   hostile.py --iface xt0 --dst 169.254.77.2 --dst-mac 02:78:73:6e:65:74 --src 169.254.77.1 CATEGORY
#
# Categories: eth, arp, ip, tcp, udp, frag, flags, synflood, rststorm, sack.
# Each prints one JSON line: {"category": ..., "probes": {name: frames sent, ...}, "total": n, ...}
# so the test can compare what it sent with the device's drop counters.
#
# Only the TAP given, only 169.254.0.0/16 addresses (spoofed sources included), every loop
# bounded, paced so the TAP's queue never overflows (a lost frame would be the link's, not
# the device's).

import argparse
import json
import os
import random
import socket
import struct
import sys
import time

from scapy.config import conf

conf.verb = 0
from scapy.layers.inet import ICMP, IP, TCP, UDP  # noqa: E402
from scapy.layers.l2 import ARP, Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402

LINK_NET = (169 << 24) | (254 << 16)


def in_link_range(addr):
    a = struct.unpack("!I", socket.inet_aton(addr))[0]
    return (a & 0xFFFF0000) == LINK_NET


class Wire:
    """AF_PACKET socket on the TAP: raw frames out, raw frames in (for the sniffing helpers)."""

    def __init__(self, iface, dst_mac, pace_every=16, pace_s=0.002):
        self.iface = iface
        self.dst_mac = dst_mac
        self.src_mac = open(f"/sys/class/net/{iface}/address").read().strip()
        self.out = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        self.out.bind((iface, 0))
        self.sent = 0
        self.pace_every = pace_every
        self.pace_s = pace_s

    def eth(self):
        return Ether(dst=self.dst_mac, src=self.src_mac)

    def send(self, frame):
        data = bytes(frame)
        self.out.send(data)
        self.sent += 1
        if self.sent % self.pace_every == 0:
            time.sleep(self.pace_s)

    def sniffer(self):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        s.bind((self.iface, 0))
        return s


def raw_ip(ver_ihl, tot_len, proto, src, dst, payload=b"", opts=b"", csum=None, frag=0, ident=0x4242, ttl=64):
    """An IPv4 header with every field as given (checksum computed unless given)."""
    hdr = struct.pack("!BBHHHBBH4s4s", ver_ihl, 0, tot_len, ident, frag, ttl, proto, 0, socket.inet_aton(src), socket.inet_aton(dst)) + opts
    if csum is None:
        csum = inet_csum(hdr)
    hdr = hdr[:10] + struct.pack("!H", csum) + hdr[12:]
    return hdr + payload


def inet_csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth_raw(w, ethertype, payload):
    return bytes(Ether(dst=w.dst_mac, src=w.src_mac, type=ethertype)) + payload


def echo_req(ident, seq, data=b"xsnet-hostile"):
    return bytes(ICMP(type=8, id=ident, seq=seq) / Raw(data))


def repeat(probes, name, n, make, w):
    for i in range(n):
        w.send(make(i))
    probes[name] = probes.get(name, 0) + n


# ------------------------------------------------------------------ categories


def cat_eth(a, w):
    p = {}
    # an IPv4 ethertype with nothing after it (a TAP cannot carry a frame shorter than its header)
    repeat(p, "eth_ipv4_empty", 5, lambda i: eth_raw(w, 0x0800, b""), w)
    repeat(p, "eth_ipv4_3_bytes", 5, lambda i: eth_raw(w, 0x0800, b"\x45\x00\x00"), w)
    repeat(p, "eth_arp_empty", 5, lambda i: eth_raw(w, 0x0806, b""), w)
    # an unknown ethertype
    repeat(p, "eth_unknown_type", 5, lambda i: eth_raw(w, 0x88B5, b"\0" * 46), w)
    return p


def cat_arp(a, w):
    p = {}
    # hardware length 0, protocol length 0, opcode 99, a truncated body, a request for someone else
    repeat(p, "arp_hlen0", 5, lambda i: w.eth() / ARP(hwlen=0, plen=4, op=1, psrc=a.src, pdst=a.dst), w)
    repeat(p, "arp_plen0", 5, lambda i: w.eth() / ARP(hwlen=6, plen=0, op=1), w)
    repeat(p, "arp_op99", 5, lambda i: w.eth() / ARP(op=99, hwsrc=w.src_mac, psrc=a.src, pdst=a.dst), w)
    repeat(p, "arp_truncated", 5, lambda i: eth_raw(w, 0x0806, bytes(ARP(op=1, psrc=a.src, pdst=a.dst))[:12]), w)
    repeat(p, "arp_not_for_us", 5, lambda i: w.eth() / ARP(op=1, hwsrc=w.src_mac, psrc=a.src, pdst="169.254.77.99"), w)
    return p


def cat_ip(a, w):
    p = {}
    icmp = echo_req(0x1111, 1)
    n = 10
    repeat(p, "ip_version6", n, lambda i: eth_raw(w, 0x0800, raw_ip(0x65, 20 + len(icmp), 1, a.src, a.dst, icmp)), w)
    repeat(p, "ip_ihl4", n, lambda i: eth_raw(w, 0x0800, raw_ip(0x44, 20 + len(icmp), 1, a.src, a.dst, icmp)), w)
    repeat(p, "ip_ihl0", n, lambda i: eth_raw(w, 0x0800, raw_ip(0x40, 20 + len(icmp), 1, a.src, a.dst, icmp)), w)
    # IHL 15 (60 bytes) in a 28-byte datagram
    repeat(p, "ip_ihl_past_frame", n, lambda i: eth_raw(w, 0x0800, raw_ip(0x4F, 28, 1, a.src, a.dst, b"\0" * 8)), w)
    repeat(p, "ip_bad_csum", n, lambda i: eth_raw(w, 0x0800, raw_ip(0x45, 20 + len(icmp), 1, a.src, a.dst, icmp, csum=0xDEAD)), w)
    repeat(p, "ip_totlen_past_frame", n, lambda i: eth_raw(w, 0x0800, raw_ip(0x45, 1400, 1, a.src, a.dst, icmp)), w)
    repeat(p, "ip_totlen_below_ihl", n, lambda i: eth_raw(w, 0x0800, raw_ip(0x45, 12, 1, a.src, a.dst, icmp)), w)
    repeat(p, "ip_truncated", n, lambda i: eth_raw(w, 0x0800, raw_ip(0x45, 20, 1, a.src, a.dst)[:12]), w)
    # martian sources: limited broadcast, multicast, and the device's own address (a land packet)
    repeat(p, "ip_src_broadcast", n, lambda i: eth_raw(w, 0x0800, raw_ip(0x45, 20 + len(icmp), 1, "255.255.255.255", a.dst, icmp)), w)
    repeat(p, "ip_src_multicast", n, lambda i: eth_raw(w, 0x0800, raw_ip(0x45, 20 + len(icmp), 1, "224.0.0.1", a.dst, icmp)), w)
    repeat(p, "ip_land_icmp", n, lambda i: eth_raw(w, 0x0800, raw_ip(0x45, 20 + len(icmp), 1, a.dst, a.dst, icmp)), w)
    # an unknown protocol (answered with protocol unreachable, rate-limited)
    repeat(p, "ip_unknown_proto", n, lambda i: eth_raw(w, 0x0800, raw_ip(0x45, 28, 253, a.src, a.dst, b"\0" * 8)), w)
    # IP options with length 0 and 1, and an option running past the header
    for name, opts in (("ip_opt_len0", b"\x83\x00\x00\x00"), ("ip_opt_len1", b"\x83\x01\x00\x00"), ("ip_opt_past_header", b"\x07\x27\x04\x00")):
        repeat(p, name, n, lambda i, o=opts: eth_raw(w, 0x0800, raw_ip(0x46, 24 + len(icmp), 1, a.src, a.dst, icmp, opts=o)), w)
    return p


def syn(a, w, dport, flags="S", options=None, sport=None, seq=None, src=None, doff=None, payload=b"", chksum=None):
    t = TCP(sport=sport if sport is not None else random.randint(20000, 60000), dport=dport, flags=flags,
            seq=seq if seq is not None else random.getrandbits(32), window=64240, options=options or [])
    if doff is not None:
        t.dataofs = doff
    if chksum is not None:
        t.chksum = chksum
    return w.eth() / IP(src=src or a.src, dst=a.dst) / t / (Raw(payload) if payload else b"")


def raw_tcp(a, w, dport, tcp_bytes):
    """A TCP segment given as bytes (header as is; checksum filled in over the pseudo-header)."""
    b = bytearray(tcp_bytes)
    b[16:18] = b"\0\0"
    pseudo = socket.inet_aton(a.src) + socket.inet_aton(a.dst) + struct.pack("!BBH", 0, 6, len(b))
    b[16:18] = struct.pack("!H", inet_csum(pseudo + bytes(b)))
    return eth_raw(w, 0x0800, raw_ip(0x45, 20 + len(b), 6, a.src, a.dst, bytes(b)))


def tcp_hdr(sport, dport, seq, ack, doff, flags, window=64240, opts=b"", payload=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, window, 0, 0) + opts + payload


def cat_tcp(a, w):
    p = {}
    ports = [int(x) for x in a.ports.split(",")]
    n = 5
    for port in ports:
        sfx = f"_{port}"
        repeat(p, "tcp_bad_csum" + sfx, n, lambda i: syn(a, w, port, chksum=0xBEEF), w)
        repeat(p, "tcp_doff4" + sfx, n, lambda i: raw_tcp(a, w, port, tcp_hdr(40000 + i, port, 1000, 0, 4, 0x02)), w)
        repeat(p, "tcp_doff0" + sfx, n, lambda i: raw_tcp(a, w, port, tcp_hdr(40000 + i, port, 1000, 0, 0, 0x02)), w)
        # data offset 15 (60 bytes) in a 24-byte segment
        repeat(p, "tcp_doff_past_segment" + sfx, n, lambda i: raw_tcp(a, w, port, tcp_hdr(40000 + i, port, 1000, 0, 15, 0x02, opts=b"\x01\x01\x01\x01")), w)
        repeat(p, "tcp_truncated" + sfx, n, lambda i: raw_tcp(a, w, port, tcp_hdr(40000 + i, port, 1000, 0, 5, 0x02)[:12]), w)
        # SYNs with bad options: the segment itself is fine, the options are not
        bad_opts = {
            "tcp_opt_len0": b"\x02\x00\x05\xb4",            # MSS with length 0
            "tcp_opt_len1": b"\x02\x01\x05\xb4",            # MSS with length 1
            "tcp_opt_mss0": b"\x02\x04\x00\x00",            # MSS 0
            "tcp_opt_wscale15": b"\x03\x03\x0f\x00",        # window scale 15 (over 14)
            "tcp_opt_wscale255": b"\x03\x03\xff\x00",       # window scale 255
            "tcp_opt_past_doff": b"\x01\x01\x08\x0a",       # timestamps, 10 bytes, in a 4-byte option area
            "tcp_opt_sackok_len3": b"\x04\x03\x00\x00",     # SACK-permitted with a bad length
            "tcp_opt_sack_on_syn": b"\x05\x0a\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00",  # SACK block on a SYN
            "tcp_opt_unknown_len255": b"\xfe\xff\x00\x00",  # unknown kind, length past the area
        }
        for name, opts in bad_opts.items():
            doff = 5 + len(opts) // 4
            repeat(p, name + sfx, n, lambda i, o=opts, d=doff: raw_tcp(a, w, port, tcp_hdr(41000 + i, port, random.getrandbits(32), 0, d, 0x02, opts=o)), w)
    return p


def cat_udp(a, w):
    p = {}
    n = 10
    data = b"xsnet"

    def udp_raw(dport, length, csum=None, payload=data):
        hdr = struct.pack("!HHHH", 40000, dport, length, 0)
        b = hdr + payload
        if csum is None:
            pseudo = socket.inet_aton(a.src) + socket.inet_aton(a.dst) + struct.pack("!BBH", 0, 17, len(b))
            csum = inet_csum(pseudo + b) or 0xFFFF
        b = b[:6] + struct.pack("!H", csum) + b[8:]
        return eth_raw(w, 0x0800, raw_ip(0x45, 20 + len(b), 17, a.src, a.dst, b))

    repeat(p, "udp_len_past_datagram", n, lambda i: udp_raw(7, 500), w)
    repeat(p, "udp_len_below_header", n, lambda i: udp_raw(7, 4), w)
    repeat(p, "udp_bad_csum", n, lambda i: udp_raw(7, 8 + len(data), csum=0x1234), w)
    repeat(p, "udp_truncated", n, lambda i: eth_raw(w, 0x0800, raw_ip(0x45, 24, 17, a.src, a.dst, b"\x9c\x40\x00\x07")), w)
    return p


def cat_frag(a, w):
    p = {}
    n = 5
    ident = [0x6000]

    def nid():
        ident[0] += 1
        return ident[0]

    def frag(i, off8, mf, payload, proto=1):
        return eth_raw(w, 0x0800, raw_ip(0x45, 20 + len(payload), proto, a.src, a.dst, payload, frag=(0x2000 if mf else 0) | off8, ident=i))

    body = echo_req(0x2222, 1, b"A" * 64)  # 72 bytes of ICMP
    for _ in range(n):
        # overlapping: [0, 48) then [40, 72): the second overlaps the first by 8 bytes
        i = nid()
        w.send(frag(i, 0, True, body[:48]))
        w.send(frag(i, 5, False, body[40:]))
    p["frag_overlap"] = 2 * n
    for _ in range(n):
        # teardrop: the second fragment lies inside the first
        i = nid()
        w.send(frag(i, 0, True, body[:48]))
        w.send(frag(i, 1, False, body[8:24]))
    p["frag_teardrop"] = 2 * n
    for _ in range(n):
        # oversize: a fragment ending past 65535 (offset 65528 + 64 bytes)
        i = nid()
        w.send(frag(i, 8191, False, b"B" * 64))
    p["frag_oversize"] = n
    for _ in range(n):
        # ping of death: a first fragment, then the last one past 65535
        i = nid()
        w.send(frag(i, 0, True, body[:64]))
        w.send(frag(i, 8190, False, b"C" * 100))
    p["frag_ping_of_death"] = 2 * n
    for _ in range(n):
        # more-fragments with a length not a multiple of 8
        i = nid()
        w.send(frag(i, 0, True, body[:45]))
    p["frag_len_not_8"] = n
    for _ in range(n):
        # duplicate fragments of a datagram that completes (an echo request, answered once)
        i = nid()
        w.send(frag(i, 0, True, body[:40]))
        w.send(frag(i, 0, True, body[:40]))
        w.send(frag(i, 5, False, body[40:]))
    p["frag_duplicate"] = 3 * n
    for _ in range(n):
        # a first fragment that never gets its rest (freed at timeout or shutdown)
        i = nid()
        w.send(frag(i, 0, True, body[:40]))
    p["frag_incomplete"] = n
    return p


def cat_flags(a, w):
    """SYN+FIN, NULL, XMAS and others, to each port in --ports (listening or closed)."""
    p = {}
    n = 5
    sets = {"synfin": "SF", "null": "", "xmas": "FPU", "synrst": "SR", "fin": "F", "urg": "U", "all": "FSRPAUEC", "synurg": "SU"}
    for port in [int(x) for x in a.ports.split(",")]:
        for name, flags in sets.items():
            repeat(p, f"flags_{name}_{port}", n, lambda i, f=flags: syn(a, w, port, flags=f), w)
        # land: source = destination, address and port
        repeat(p, f"land_{port}", n, lambda i: syn(a, w, port, sport=port, src=a.dst), w)
    return p


def cat_synflood(a, w):
    """SYNs from thousands of spoofed 169.254.x.y sources, to one port."""
    rng = random.Random(a.seed)
    count = a.count
    skip = {a.src, a.dst}
    sent = 0
    for k in range(count):
        while True:
            src = f"169.254.{rng.randrange(0, 256)}.{rng.randrange(1, 255)}"
            if src not in skip:
                break
        f = w.eth() / IP(src=src, dst=a.dst) / TCP(sport=rng.randrange(1024, 65536), dport=a.port, flags="S",
                                                   seq=rng.getrandbits(32), window=64240, options=[("MSS", 1460)])
        w.send(f)
        sent += 1
    return {"synflood": sent}


def connect(a, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((a.src, 0))
    s.settimeout(10)
    s.connect((a.dst, port))
    return s


def echo_round(s, n, tag):
    data = bytes((tag + i) % 256 for i in range(n))
    s.sendall(data)
    got = b""
    while len(got) < n:
        chunk = s.recv(n - len(got))
        if not chunk:
            break
        got += chunk
    return got == data


def cat_rststorm(a, w):
    """A blind RST storm at a live connection: random sequence numbers, the right 4-tuple."""
    s = connect(a, a.port)
    sport = s.getsockname()[1]
    before = echo_round(s, 1000, 1)
    rng = random.Random(a.seed)
    for k in range(a.count):
        flags = "R" if k % 2 == 0 else "RA"
        f = w.eth() / IP(src=a.src, dst=a.dst) / TCP(sport=sport, dport=a.port, flags=flags, seq=rng.getrandbits(32),
                                                     ack=rng.getrandbits(32) if flags == "RA" else 0, window=0)
        w.send(f)
    time.sleep(0.2)
    after = echo_round(s, 1000, 7)
    s.shutdown(socket.SHUT_WR)
    rest = s.recv(10)
    s.close()
    return {"rststorm": a.count}, {"before": before, "after": after, "clean_close": rest == b"", "sport": sport}


CHARGEN_PERIOD = 95 * 74


def chargen_pattern():
    out = bytearray()
    for line in range(95):
        out += bytes(32 + (line + c) % 95 for c in range(72)) + b"\r\n"
    return bytes(out)


def cat_sack(a, w):
    """ACKs with SACK blocks outside the window, injected into a live chargen connection."""
    pat = chargen_pattern()
    pat2 = pat * 2
    sn = w.sniffer()
    sn.settimeout(5)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    s.bind((a.src, 0))
    s.settimeout(10)
    s.connect((a.dst, a.port))
    sport = s.getsockname()[1]
    pos = 0
    ok = True

    def read(n):
        nonlocal pos, ok
        end = pos + n
        while pos < end:
            chunk = s.recv(min(65536, end - pos))
            if not chunk:
                return False
            off = pos % CHARGEN_PERIOD
            for k in range(0, len(chunk), CHARGEN_PERIOD):
                piece = chunk[k:k + CHARGEN_PERIOD]
                o = (off + k) % CHARGEN_PERIOD
                if pat2[o:o + len(piece)] != piece:
                    ok = False
            pos += len(chunk)
        return True

    read(100_000)
    # learn the device's sequence numbers from a segment it sends us
    dseq = None
    myseq = None
    deadline = time.time() + 5
    while time.time() < deadline and dseq is None:
        try:
            data = sn.recv(65535)
        except socket.timeout:
            break
        e = Ether(data)
        if TCP in e and IP in e and e[IP].src == a.dst and e[TCP].sport == a.port and e[TCP].dport == sport and len(e[TCP].payload) > 0:
            dseq = e[TCP].seq
            myseq = e[TCP].ack
        elif dseq is None:
            read(2000)  # keep it sending
    injected = 0
    if dseq is not None:
        m = 0xFFFFFFFF
        blocks = [
            [((dseq + 10_000_000) & m, (dseq + 10_001_000) & m)],                 # past anything sent
            [((dseq - 5_000_000) & m, (dseq - 4_999_000) & m)],                   # long acknowledged
            [((dseq + 1000) & m, dseq)],                                          # left edge after right edge
            [((dseq + 0x80000000) & m, (dseq + 0x80000100) & m)],                 # half the sequence space away
            [((dseq - 4000) & m, (dseq + 0x7FFFFFF0) & m)],                       # absurdly long
            [((dseq + i * 2000) & m, (dseq + i * 2000 + 1000) & m) for i in range(4)],  # four blocks, some past snd_nxt
        ]
        for rep in range(20):
            for b in blocks:
                f = w.eth() / IP(src=a.src, dst=a.dst) / TCP(sport=sport, dport=a.port, flags="A", seq=myseq, ack=dseq, window=8192,
                                                             options=[("NOP", None), ("NOP", None), ("SAck", tuple(x for blk in b for x in blk))])
                w.send(f)
                injected += 1
        # a SACK option with a bad length (not 2 + 8n), and one running past the header
        for rep in range(10):
            for raw_opt in (b"\x01\x01\x05\x0b" + b"\0" * 8, b"\x01\x01\x05\x22" + b"\0" * 4):
                hdr = tcp_hdr(sport, a.port, myseq, dseq, 5 + len(raw_opt) // 4, 0x10, 8192, raw_opt)
                w.send(raw_tcp(a, w, a.port, hdr))
                injected += 1
    alive = read(a.bytes)
    # close in order: our FIN, then read (and check) what chargen still sends until its FIN
    s.shutdown(socket.SHUT_WR)
    clean = False
    deadline = time.time() + 10
    try:
        while time.time() < deadline:
            before = pos
            if not read(65536) and pos == before:
                clean = True
                break
    except OSError:
        pass
    s.close()
    sn.close()
    return {"sack_injected": injected}, {"learned": dseq is not None, "read": pos, "pattern_ok": ok and alive, "clean_close": clean}


CATEGORIES = {
    "eth": cat_eth, "arp": cat_arp, "ip": cat_ip, "tcp": cat_tcp, "udp": cat_udp, "frag": cat_frag, "flags": cat_flags,
    "synflood": cat_synflood, "rststorm": cat_rststorm, "sack": cat_sack,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--iface", required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--dst-mac", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--ports", default="80,1", help="ports for tcp and flags (a listening one, a closed one)")
    ap.add_argument("--port", type=int, default=80, help="port for synflood, rststorm, sack")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--bytes", type=int, default=1_000_000, help="sack: chargen bytes to read after the injection")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("category", choices=sorted(CATEGORIES))
    a = ap.parse_args()
    for addr in (a.dst, a.src):
        if not in_link_range(addr):
            sys.exit(f"hostile.py: {addr} is not in 169.254.0.0/16")
    if not (0 < a.count <= 20000):
        sys.exit("hostile.py: --count must be in 1..20000")
    random.seed(a.seed)
    w = Wire(a.iface, a.dst_mac)
    t0 = time.time()
    res = CATEGORIES[a.category](a, w)
    probes, extra = (res if isinstance(res, tuple) else (res, {}))
    out = {"category": a.category, "probes": probes, "total": sum(probes.values()), "frames": w.sent, "seconds": round(time.time() - t0, 3)}
    out.update(extra)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
