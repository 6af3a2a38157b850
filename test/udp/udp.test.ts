// UDP receive on crafted frames: checksum (and the zero checksum), lengths, port
// unreachable, broadcast, a full receive queue.
import { describe, expect, it } from "vitest";
import { udpSocketClass } from "../../src/socket/udp";
import { BCAST_MAC, HOST_IP, HOST_MAC, ip, ipFrame, ipOf, makeBench, PEER_IP, PEER_MAC, checksum, put32 } from "../testbed";

/** A UDP datagram from the peer; `check` "good", "zero" or "bad". */
function udpFrame(dport: number, data: Uint8Array, check: "good" | "zero" | "bad" = "good", dst = HOST_IP, dstMac = HOST_MAC, lenField?: number): Uint8Array {
  const u = new Uint8Array(8 + data.length);
  u[0] = 0x30; u[1] = 0x39; // source port 12345
  u[2] = dport >> 8; u[3] = dport & 0xff;
  const len = lenField ?? u.length;
  u[4] = len >> 8; u[5] = len & 0xff;
  u.set(data, 8);
  if (check !== "zero") {
    const pseudo = new Uint8Array(12 + u.length);
    put32(pseudo, 0, PEER_IP);
    put32(pseudo, 4, dst);
    pseudo[9] = 17;
    pseudo[10] = u.length >> 8; pseudo[11] = u.length & 0xff;
    pseudo.set(u, 12);
    let c = checksum(pseudo);
    if (c === 0) c = 0xffff;
    if (check === "bad") c ^= 0x0001;
    u[6] = c >> 8; u[7] = c & 0xff;
  }
  return ipFrame(dstMac, PEER_MAC, { src: PEER_IP, dst, proto: 17, payload: u });
}

describe("UDP receive (udp_rcv)", () => {
  it("delivers a good datagram with its source, accepts a zero checksum, drops a bad one", () => {
    const b = makeBench();
    const UDP = udpSocketClass(b.net);
    const got: number[] = [];
    const s = new UDP({ port: 7, onReadable: (n) => got.push(n) });
    b.rx(udpFrame(7, new Uint8Array([1, 2, 3])));
    b.rx(udpFrame(7, new Uint8Array([4, 5]), "zero"));
    b.rx(udpFrame(7, new Uint8Array([6]), "bad"));
    expect(got).toEqual([1, 2]);
    const p1 = s.read() as ArrayBuffer & { address: string; port: number };
    expect([...new Uint8Array(p1)]).toEqual([1, 2, 3]);
    expect([p1.address, p1.port]).toEqual(["10.0.0.2", 12345]);
    expect([...new Uint8Array(s.read() as ArrayBuffer)]).toEqual([4, 5]);
    expect(s.read()).toBeUndefined();
    expect(b.net.drops.snapshot()).toEqual({ UDP_CSUM: 1 });
    expect(b.net.udp.stats).toMatchObject({ inDatagrams: 2, inCsumErrors: 1, inErrors: 1 });
    s.close();
  });

  it("drops impossible lengths (UDP_INVALID) and trims a short UDP length", () => {
    const b = makeBench();
    const UDP = udpSocketClass(b.net);
    const s = new UDP({ port: 9 });
    b.rx(udpFrame(9, new Uint8Array(10), "zero", HOST_IP, HOST_MAC, 7)); // under the header
    b.rx(udpFrame(9, new Uint8Array(10), "zero", HOST_IP, HOST_MAC, 40)); // past the datagram
    expect(b.net.drops.snapshot()).toEqual({ UDP_INVALID: 2 });
    b.rx(udpFrame(9, new Uint8Array([9, 8, 7, 6]), "zero", HOST_IP, HOST_MAC, 10)); // 2 bytes of data
    expect([...new Uint8Array(s.read() as ArrayBuffer)]).toEqual([9, 8]);
    s.close();
  });

  it("answers a closed port with ICMP port unreachable, but never a broadcast", () => {
    const b = makeBench();
    b.rx(udpFrame(4242, new Uint8Array(4)));
    const out = b.take();
    expect(out.length).toBe(1);
    const icmp = ipOf(out[0]);
    expect([icmp.proto, icmp.dst, icmp.payload[0], icmp.payload[1]]).toEqual([1, PEER_IP, 3, 3]);
    // It quotes our datagram's IP header.
    expect(ipOf(icmp.payload, 8).dst).toBe(HOST_IP);
    b.rx(udpFrame(4242, new Uint8Array(4), "good", ip("10.0.0.255"), BCAST_MAC));
    b.rx(udpFrame(4242, new Uint8Array(4), "good", 0xffffffff, BCAST_MAC));
    expect(b.take()).toEqual([]);
    expect(b.net.udp.stats.noPorts).toBe(3);
    expect(b.net.drops.snapshot()).toEqual({ UDP_NOPORT: 3 });
  });

  it("gives broadcasts to the sockets that asked, a copy each", () => {
    const b = makeBench();
    const UDP = udpSocketClass(b.net);
    const plain = new UDP({ port: 5000, address: "10.0.0.1" });
    const one = new UDP({ port: 5001, broadcast: true });
    b.rx(udpFrame(5001, new Uint8Array([1]), "good", ip("10.0.0.255"), BCAST_MAC));
    b.rx(udpFrame(5000, new Uint8Array([2]), "good", 0xffffffff, BCAST_MAC));
    expect([...new Uint8Array(one.read() as ArrayBuffer)]).toEqual([1]);
    expect(plain.read()).toBeUndefined();
    expect(b.net.udp.stats.noPorts).toBe(1);
    one.close();
    plain.close();
  });

  it("a full receive queue drops and counts; closing drops what was never read", () => {
    const b = makeBench({ udpRxQueueMax: 3 });
    const UDP = udpSocketClass(b.net);
    const s = new UDP({ port: 7 });
    for (let i = 0; i < 5; i++) b.rx(udpFrame(7, new Uint8Array([i])));
    expect(b.net.udp.stats.rcvbufErrors).toBe(2);
    expect(b.net.drops.count("SOCKET_RCVBUFF")).toBe(2);
    expect([...new Uint8Array(s.read() as ArrayBuffer)]).toEqual([0]);
    s.close();
    expect(b.net.drops.count("SOCKET_CLOSE")).toBe(2);
    expect(b.net.pool.inUse).toBe(0);
  });
});
