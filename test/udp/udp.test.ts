// UDP receive on crafted frames: checksum (and the zero checksum), lengths, port
// unreachable, broadcast, a full receive queue.
import { describe, expect, it } from "vitest";
import { udpSocketClass } from "../../src/socket/udp";
import { BCAST_MAC, type Check, icmpMessage, ip, ipFrame, ipOf, type Ipv4Fields, ipv4Packet, udpDatagram, udpFrame } from "../packets";
import { HOST_IP, HOST_MAC, makeBench, PEER_IP, PEER_MAC } from "../testbed";

/** A UDP datagram from the peer's port 12345; `check` "good", "zero" or "bad". */
function fromPeer(dport: number, data: Uint8Array, check: Check = "good", dst = HOST_IP, dstMac = HOST_MAC, lenField?: number): Uint8Array {
  return udpFrame(dstMac, PEER_MAC, { src: PEER_IP, dst, sport: 12345, dport, payload: data, check, len: lenField });
}

describe("UDP receive (udp_rcv)", () => {
  it("delivers a good datagram with its source, accepts a zero checksum, drops a bad one", () => {
    const b = makeBench();
    const UDP = udpSocketClass(b.net);
    const got: number[] = [];
    const s = new UDP({ port: 7, onReadable: (n) => got.push(n) });
    b.rx(fromPeer(7, new Uint8Array([1, 2, 3])));
    b.rx(fromPeer(7, new Uint8Array([4, 5]), "zero"));
    b.rx(fromPeer(7, new Uint8Array([6]), "bad"));
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
    b.rx(fromPeer(9, new Uint8Array(10), "zero", HOST_IP, HOST_MAC, 7)); // under the header
    b.rx(fromPeer(9, new Uint8Array(10), "zero", HOST_IP, HOST_MAC, 40)); // past the datagram
    expect(b.net.drops.snapshot()).toEqual({ UDP_INVALID: 2 });
    // An IP payload cut inside the 8-byte UDP header, at every length.
    const header = udpDatagram({ src: PEER_IP, dst: HOST_IP, sport: 12345, dport: 9, check: "zero" });
    for (let len = 0; len < 8; len++) {
      b.rx(ipFrame(HOST_MAC, PEER_MAC, { src: PEER_IP, dst: HOST_IP, proto: 17, payload: header.subarray(0, len) }));
    }
    expect(b.net.drops.snapshot()).toEqual({ UDP_INVALID: 10 });
    expect(b.net.udp.stats).toMatchObject({ inErrors: 10, inDatagrams: 0 });
    b.rx(fromPeer(9, new Uint8Array([9, 8, 7, 6]), "zero", HOST_IP, HOST_MAC, 10)); // 2 bytes of data
    expect([...new Uint8Array(s.read() as ArrayBuffer)]).toEqual([9, 8]);
    s.close();
  });

  it("answers a closed port with ICMP port unreachable, but never a broadcast", () => {
    const b = makeBench();
    b.rx(fromPeer(4242, new Uint8Array(4)));
    const out = b.take();
    expect(out.length).toBe(1);
    const icmp = ipOf(out[0]);
    expect([icmp.proto, icmp.dst, icmp.payload[0], icmp.payload[1]]).toEqual([1, PEER_IP, 3, 3]);
    // It quotes our datagram's IP header.
    expect(ipOf(icmp.payload, 8).dst).toBe(HOST_IP);
    b.rx(fromPeer(4242, new Uint8Array(4), "good", ip("10.0.0.255"), BCAST_MAC));
    b.rx(fromPeer(4242, new Uint8Array(4), "good", 0xffffffff, BCAST_MAC));
    expect(b.take()).toEqual([]);
    expect(b.net.udp.stats.noPorts).toBe(3);
    expect(b.net.drops.snapshot()).toEqual({ UDP_NOPORT: 3 });
  });

  it("gives broadcasts to the sockets that asked, a copy each", () => {
    const b = makeBench();
    const UDP = udpSocketClass(b.net);
    const plain = new UDP({ port: 5000, address: "10.0.0.1" });
    const one = new UDP({ port: 5001, broadcast: true });
    b.rx(fromPeer(5001, new Uint8Array([1]), "good", ip("10.0.0.255"), BCAST_MAC));
    b.rx(fromPeer(5000, new Uint8Array([2]), "good", 0xffffffff, BCAST_MAC));
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
    for (let i = 0; i < 5; i++) b.rx(fromPeer(7, new Uint8Array([i])));
    expect(b.net.udp.stats.rcvbufErrors).toBe(2);
    expect(b.net.drops.count("SOCKET_RCVBUFF")).toBe(2);
    expect([...new Uint8Array(s.read() as ArrayBuffer)]).toEqual([0]);
    s.close();
    expect(b.net.drops.count("SOCKET_CLOSE")).toBe(2);
    expect(b.net.pool.inUse).toBe(0);
  });
});

/** An ICMP error from `from` (the peer, or a router behind its MAC) quoting a UDP datagram we sent. */
function icmpAbout(type: number, code: number, quote: Uint8Array, from = PEER_IP): Uint8Array {
  return ipFrame(HOST_MAC, PEER_MAC, { src: from, dst: HOST_IP, proto: 1, payload: icmpMessage(type, code, 0, quote) });
}

/** Our datagram's IP header and UDP header (sport -> dport, UDP length ulen) and 4 bytes, as quoted. */
function quoted(sport: number, dport: number, fields: Partial<Ipv4Fields> = {}, ulen = 12): Uint8Array {
  const dst = ip("192.0.2.9");
  const u = udpDatagram({ src: HOST_IP, dst, sport, dport, payload: new Uint8Array(4), len: ulen, check: "zero" });
  return ipv4Packet({ src: HOST_IP, dst, proto: 17, payload: u, ...fields });
}

describe("ICMP errors to UDP sockets (__udp4_lib_err)", () => {
  it("the socket that sent the quoted datagram learns each kind, with who reported it", () => {
    const b = makeBench();
    const UDP = udpSocketClass(b.net);
    let calls = 0;
    const s = new UDP({ port: 5000, onError() { calls++; } });
    const router = ip("10.0.0.254");
    const cases: [number, number, string][] = [
      [3, 3, "ECONNREFUSED"], [3, 0, "ENETUNREACH"], [3, 1, "EHOSTUNREACH"], [3, 2, "ENOPROTOOPT"], [3, 13, "EHOSTUNREACH"],
      [11, 0, "EHOSTUNREACH"], [11, 1, "EHOSTUNREACH"], [12, 0, "EPROTO"],
    ];
    for (const [type, code, reason] of cases) {
      b.rx(icmpAbout(type, code, quoted(5000, 53), router));
      expect(s.readError(), `type ${type} code ${code}`).toEqual({ reason, address: "192.0.2.9", port: 53, from: "10.0.0.254", type, code });
    }
    expect(calls).toBe(cases.length);
    // Two errors before a read: the last one is kept.
    b.rx(icmpAbout(3, 1, quoted(5000, 53)));
    b.rx(icmpAbout(3, 3, quoted(5000, 54)));
    expect(s.readError()).toMatchObject({ reason: "ECONNREFUSED", port: 54, from: "10.0.0.2" });
    expect(s.readError()).toBeUndefined();
    expect(b.net.udp.stats).toMatchObject({ icmpErrors: cases.length + 2, icmpIgnored: 0, icmpInvalid: 0 });
    expect(b.net.drops.total).toBe(0);
    expect(b.take()).toEqual([]); // never an error about an error
    s.close();
  });

  it("ignores, counted, errors about no socket, a socket without onError, and kinds not reported", () => {
    const b = makeBench();
    const UDP = udpSocketClass(b.net);
    let calls = 0;
    const s = new UDP({ port: 5000, address: "10.0.0.1", onError() { calls++; } });
    const quiet = new UDP({ port: 5001 });
    b.rx(icmpAbout(3, 3, quoted(5002, 53))); // no socket on 5002
    b.rx(icmpAbout(3, 3, quoted(5001, 53))); // a socket that did not ask
    b.rx(icmpAbout(3, 4, quoted(5000, 53))); // fragmentation needed: UDP never sets DF
    b.rx(icmpAbout(3, 16, quoted(5000, 53))); // no such code
    b.rx(icmpAbout(3, 3, quoted(5000, 53, { src: ip("127.0.0.1") }))); // s is bound to 10.0.0.1 only
    expect(calls).toBe(0);
    expect(s.readError()).toBeUndefined();
    expect(quiet.readError()).toBeUndefined();
    expect(b.net.udp.stats).toMatchObject({ icmpErrors: 0, icmpIgnored: 5, icmpInvalid: 0 });
    expect(b.net.drops.total).toBe(0);
    s.close();
    quiet.close();
  });

  it("drops malformed and truncated quotes (ICMP_INVALID, InErrors) without telling the socket", () => {
    const b = makeBench();
    const UDP = udpSocketClass(b.net);
    let calls = 0;
    const s = new UDP({ port: 5000, onError() { calls++; } });
    const good = quoted(5000, 53);
    const bad: [string, Uint8Array][] = [
      ["no quote", new Uint8Array(0)],
      ["IP header only", good.slice(0, 20)],
      ["4 bytes of UDP", good.slice(0, 24)],
      ["IP version 6", quoted(5000, 53, { version: 6 })],
      ["IHL under 5", quoted(5000, 53, { ihlWords: 4 })],
      ["options past the quote", quoted(5000, 53, { ihlWords: 15 }).slice(0, 64)],
      ["a later fragment", quoted(5000, 53, { frag: 0x2000 | 185 })],
      ["not from us", quoted(5000, 53, { src: ip("10.0.0.77") })],
      ["UDP length under 8", quoted(5000, 53, {}, 7)],
      ["to a broadcast", quoted(5000, 53, { dst: 0xffffffff })],
      ["to a multicast group", quoted(5000, 53, { dst: ip("224.0.0.251") })],
    ];
    for (const [, quote] of bad) b.rx(icmpAbout(3, 3, quote));
    expect(calls).toBe(0);
    expect(s.readError()).toBeUndefined();
    expect(b.net.drops.snapshot()).toEqual({ ICMP_INVALID: bad.length });
    expect(b.net.ipv4.icmp.stats).toMatchObject({ inMsgs: bad.length, inDestUnreachs: bad.length, inErrors: bad.length });
    expect(b.net.udp.stats).toMatchObject({ icmpErrors: 0, icmpIgnored: 0, icmpInvalid: 3 });
    // The good quote still gets through afterwards.
    b.rx(icmpAbout(3, 3, good));
    expect(calls).toBe(1);
    expect(b.net.pool.inUse).toBe(0);
    s.close();
  });

  it("takes a quote cut anywhere after 8 bytes of UDP (its total and UDP lengths run past it), drops one cut before", () => {
    const b = makeBench();
    const UDP = udpSocketClass(b.net);
    let calls = 0;
    const s = new UDP({ port: 5000, onError() { calls++; } });
    const whole = quoted(5000, 53, {}, 1200); // a 1200-byte datagram; the quote holds 32 bytes of it
    for (let len = 0; len < 28; len++) b.rx(icmpAbout(3, 3, whole.subarray(0, len)));
    expect(calls).toBe(0);
    expect(b.net.drops.snapshot()).toEqual({ ICMP_INVALID: 28 });
    for (let len = 28; len <= whole.length; len++) b.rx(icmpAbout(3, 3, whole.subarray(0, len)));
    expect(calls).toBe(whole.length - 28 + 1);
    expect(s.readError()).toMatchObject({ reason: "ECONNREFUSED", port: 53 });
    expect(b.net.udp.stats).toMatchObject({ icmpErrors: whole.length - 28 + 1, icmpInvalid: 0 });
    expect(b.net.pool.inUse).toBe(0);
    s.close();
  });
});
