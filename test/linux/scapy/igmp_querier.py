# An IGMP querier from Linux for test/linux/igmp.test.ts, with the standard library only:
# a raw IGMP socket sends a General Query (version 2 or 3) out of the TAP to 224.0.0.1, and
# a packet socket on the TAP collects, for `wait` seconds, the IGMP messages the device
# sends (to any group: no membership needed), printed as one JSON line.
#   igmp_querier.py VERSION TAP LINUX_ADDR DEVICE_ADDR WAIT_S [MAX_RESP_TENTHS]
import json
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def main():
    version, tap, linux_addr, device_addr, wait = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
    max_resp = int(sys.argv[6]) if len(sys.argv) > 6 else 10
    sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
    sniff.bind((tap, 0))
    sniff.settimeout(0.1)
    q = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP)
    q.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(linux_addr))
    q.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    q.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    if version == "3":
        msg = struct.pack("!BBH4sBBH", 0x11, max_resp, 0, b"\0" * 4, 2, 125, 0)
    else:
        msg = struct.pack("!BBH4s", 0x11, max_resp, 0, b"\0" * 4)
    msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
    q.sendto(msg, ("224.0.0.1", 0))
    sent = time.time()
    got = []
    while time.time() < sent + wait:
        try:
            frame = sniff.recv(2048)
        except socket.timeout:
            continue
        ip = frame[14:]
        if len(ip) < 20 or ip[9] != socket.IPPROTO_IGMP or socket.inet_ntoa(ip[12:16]) != device_addr:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        m = ip[ihl:total]
        entry = {
            "t": round(time.time() - sent, 3),
            "type": m[0],
            "dst": socket.inet_ntoa(ip[16:20]),
            "dstMac": frame[0:6].hex(),
            "ttl": ip[8],
            "routerAlert": ihl >= 24 and ip[20:24] == b"\x94\x04\x00\x00",
            "checksumOk": csum(bytes(m)) == 0,
        }
        if m[0] == 0x22:
            records = []
            o = 8
            for _ in range(struct.unpack("!H", m[6:8])[0]):
                records.append([m[o], socket.inet_ntoa(m[o + 4:o + 8])])
                o += 8 + 4 * (m[o + 1] + struct.unpack("!H", m[o + 2:o + 4])[0])
            entry["records"] = records
        else:
            entry["group"] = socket.inet_ntoa(m[4:8])
        got.append(entry)
    print(json.dumps({"messages": got}))


main()
