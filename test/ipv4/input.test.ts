import { describe, expect, it } from "vitest";
import type { NetDevice } from "../../src/core/netdevice";
import type { SkBuff } from "../../src/core/skb";
import { ipSend } from "../../src/ipv4/output";
import { ETH_P_IP } from "../../src/wire/ethernet";
import {
  BCAST_MAC, checksum, concat, echoRequest, ethFrame, ip, ipFrame, ipOf, type Ipv4Fields, ipv4Packet,
} from "../packets";
import { type Bench, HOST_IP, HOST_MAC, makeBench, PEER_IP, PEER_MAC } from "../testbed";

/** The non-zero fields of a counter object. */
function nonZero(o: object): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(o)) if (typeof v === "number" && v !== 0) out[k] = v;
  return out;
}

/** A datagram from the peer to us, with overrides. */
function fromPeer(f: Partial<Ipv4Fields> = {}): Uint8Array {
  return ipv4Packet({ src: PEER_IP, dst: HOST_IP, proto: 253, payload: new Uint8Array(8).fill(0x11), ...f });
}

function rxIp(b: Bench, packet: Uint8Array, dst = HOST_MAC): void {
  b.rx(ethFrame(dst, PEER_MAC, ETH_P_IP, packet));
}

/** Check the exact IP MIB counters and drop reasons, and that nothing was sent. */
function expectOnly(b: Bench, ipStats: Record<string, number>, drops: Record<string, number>): void {
  expect(nonZero(b.net.ipv4.stats)).toEqual(ipStats);
  expect(b.net.drops.snapshot()).toEqual(drops);
  expect(b.take()).toEqual([]);
}

describe("ipRcv validation (RFC 1122 3.2.1)", () => {
  it("drops a version other than 4 (IP_INHDR)", () => {
    const b = makeBench();
    rxIp(b, fromPeer({ version: 6 }));
    expectOnly(b, { inReceives: 1, inHdrErrors: 1 }, { IP_INHDR: 1 });
  });

  it("drops a header length under 5 words (IP_INHDR)", () => {
    const b = makeBench();
    rxIp(b, fromPeer({ ihlWords: 4 }));
    expectOnly(b, { inReceives: 1, inHdrErrors: 1 }, { IP_INHDR: 1 });
  });

  it("drops a datagram shorter than a minimal header (PKT_TOO_SMALL)", () => {
    const b = makeBench();
    rxIp(b, fromPeer().subarray(0, 19));
    expectOnly(b, { inReceives: 1, inTruncatedPkts: 1 }, { PKT_TOO_SMALL: 1 });
  });

  it("drops a datagram cut anywhere inside its 20 fixed bytes (PKT_TOO_SMALL)", () => {
    const b = makeBench();
    const p = fromPeer();
    for (let len = 0; len < 20; len++) rxIp(b, p.subarray(0, len));
    expectOnly(b, { inReceives: 20, inTruncatedPkts: 20 }, { PKT_TOO_SMALL: 20 });
  });

  it("drops a datagram cut anywhere after its header short of its total length (PKT_TOO_SMALL)", () => {
    const b = makeBench();
    const p = fromPeer({ ihlWords: 6, payload: new Uint8Array(8) }); // 24-byte header, total 32
    for (let len = 20; len < 32; len++) rxIp(b, p.subarray(0, len));
    expectOnly(b, { inReceives: 12, inTruncatedPkts: 12 }, { PKT_TOO_SMALL: 12 });
    expect(b.net.pool.inUse).toBe(0);
  });

  it("drops a header longer than the frame (PKT_TOO_SMALL)", () => {
    const b = makeBench();
    const p = fromPeer({ ihlWords: 15, payload: new Uint8Array(40) }); // 60-byte header
    rxIp(b, p.subarray(0, 40));
    expectOnly(b, { inReceives: 1, inTruncatedPkts: 1 }, { PKT_TOO_SMALL: 1 });
  });

  it("drops a bad header checksum (IP_CSUM)", () => {
    const b = makeBench();
    rxIp(b, fromPeer({ badChecksum: true }));
    expectOnly(b, { inReceives: 1, inCsumErrors: 1 }, { IP_CSUM: 1 });
  });

  it("drops a total length beyond the frame (PKT_TOO_SMALL)", () => {
    const b = makeBench();
    rxIp(b, fromPeer({ totLen: 200 }));
    expectOnly(b, { inReceives: 1, inTruncatedPkts: 1 }, { PKT_TOO_SMALL: 1 });
  });

  it("drops a total length shorter than the header (IP_INHDR)", () => {
    const b = makeBench();
    rxIp(b, fromPeer({ totLen: 16 }));
    expectOnly(b, { inReceives: 1, inHdrErrors: 1 }, { IP_INHDR: 1 });
    rxIp(b, fromPeer({ ihlWords: 6, totLen: 22, payload: new Uint8Array(4) }));
    expect(b.net.drops.snapshot()).toEqual({ IP_INHDR: 2 });
  });

  it("trims Ethernet padding to the total length before anything reads the payload", () => {
    const b = makeBench();
    // A 28-byte echo request padded to the 60-byte minimum with non-zero bytes: without the
    // trim its ICMP checksum would fail and the reply would carry the padding.
    const echo = echoRequest(0x77, 1, new Uint8Array(0));
    const frame = concat(ipFrame(HOST_MAC, PEER_MAC, { src: PEER_IP, dst: HOST_IP, proto: 1, payload: echo }), new Uint8Array(18).fill(0xee));
    expect(frame.length).toBe(60);
    b.rx(frame);
    const out = b.take();
    expect(out.length).toBe(1);
    expect(out[0].length).toBe(42);
    const r = ipOf(out[0]);
    expect([r.totLen, r.src, r.dst, r.proto]).toEqual([28, HOST_IP, PEER_IP, 1]);
    expect(r.payload.length).toBe(8);
    expect([r.payload[0], r.payload[1]]).toEqual([0, 0]); // echo reply
    expect(Array.from(r.payload.subarray(4, 8))).toEqual([0x00, 0x77, 0x00, 0x01]); // id, seq
    expect(checksum(r.payload)).toBe(0);
    expect(b.net.drops.total).toBe(0);
    expect(nonZero(b.net.ipv4.stats)).toEqual({ inReceives: 1, inDelivers: 1, outRequests: 1 });
  });

  it("drops martian sources: multicast, limited broadcast, loopback from the wire (IP_INVALID_SOURCE)", () => {
    const b = makeBench();
    for (const src of ["224.0.0.9", "239.255.255.250", "255.255.255.255", "127.0.0.1", "127.9.9.9"]) rxIp(b, fromPeer({ src: ip(src) }));
    expectOnly(b, { inReceives: 5, inAddrErrors: 5 }, { IP_INVALID_SOURCE: 5 });
  });

  it("drops a loopback destination that came from the wire (IP_INADDRERRORS), and sends nothing from 127/8", () => {
    const b = makeBench();
    const echo = echoRequest(1, 1, new Uint8Array(8));
    b.rx(ipFrame(HOST_MAC, PEER_MAC, { src: PEER_IP, dst: ip("127.0.0.1"), proto: 1, payload: echo }));
    b.rx(ipFrame(HOST_MAC, PEER_MAC, { src: PEER_IP, dst: ip("127.1.2.3"), proto: 200, payload: echo }));
    expectOnly(b, { inReceives: 2, inAddrErrors: 2 }, { IP_INADDRERRORS: 2 });
  });

  it("accepts 0.0.0.0 as a source (a host still configuring, RFC 1122 3.2.1.3)", () => {
    const b = makeBench();
    const seen: number[] = [];
    b.net.ipv4.raw.register(253, (n, skb) => seen.push(skb.len));
    rxIp(b, fromPeer({ src: 0 }));
    expect(seen).toEqual([8]);
    expect(nonZero(b.net.ipv4.stats)).toEqual({ inReceives: 1, inDelivers: 1 });
  });

  it("drops a datagram for another host when not forwarding (IP_INADDRERRORS, inAddrErrors)", () => {
    const b = makeBench();
    rxIp(b, fromPeer({ dst: ip("10.0.0.99") }));
    rxIp(b, fromPeer({ dst: ip("8.8.8.8") }));
    expectOnly(b, { inReceives: 2, inAddrErrors: 2 }, { IP_INADDRERRORS: 2 });
  });

  it("drops multicast for a group not joined, delivers 224.0.0.1 and broadcasts", () => {
    const b = makeBench();
    const seen: number[] = [];
    b.net.ipv4.raw.register(253, (n, skb) => seen.push(n.pool.buf[skb.networkHeader + 19]));
    rxIp(b, fromPeer({ dst: ip("239.1.2.3") }), new Uint8Array([0x01, 0, 0x5e, 1, 2, 3]));
    expect(b.net.drops.snapshot()).toEqual({ IP_INADDRERRORS: 1 });
    rxIp(b, fromPeer({ dst: ip("224.0.0.1") }), new Uint8Array([0x01, 0, 0x5e, 0, 0, 1]));
    rxIp(b, fromPeer({ dst: ip("10.0.0.255") }), BCAST_MAC);
    rxIp(b, fromPeer({ dst: 0xffffffff }), BCAST_MAC);
    expect(seen).toEqual([1, 255, 255]);
    expect(nonZero(b.net.ipv4.stats)).toEqual({ inReceives: 4, inAddrErrors: 1, inDelivers: 3 });
  });

  it("answers a malformed option list with a parameter problem pointing at the bad byte, and drops it (IP_INHDR)", () => {
    const withOptions = (options: number[]): Uint8Array => fromPeer({ ihlWords: 6, options });
    const cases: [number[], number][] = [
      [[0x83, 0x00, 0, 0], 21], // length 0
      [[0x83, 0x01, 0, 0], 21], // length 1
      [[0x07, 0x27, 0x04, 0], 21], // runs past the header
      [[0x01, 0x01, 0x01, 0x44], 23], // the length byte missing
    ];
    const b = makeBench();
    const seen: number[] = [];
    b.net.ipv4.raw.register(253, () => seen.push(1));
    for (const [opts, pointer] of cases) {
      rxIp(b, withOptions(opts));
      const out = b.take();
      expect(out.length).toBe(1);
      const r = ipOf(out[0]);
      expect([r.proto, r.dst]).toEqual([1, PEER_IP]);
      expect(Array.from(r.payload.subarray(0, 2))).toEqual([12, 0]);
      expect(r.payload[4]).toBe(pointer);
    }
    expect(seen).toEqual([]);
    expect(b.net.drops.snapshot()).toEqual({ IP_INHDR: 4 });
    expect(b.net.ipv4.stats.inHdrErrors).toBe(4);
    // Well-formed lists are delivered (options are not acted on).
    rxIp(b, withOptions([0x01, 0x00, 0, 0]));
    rxIp(b, withOptions([0x07, 0x03, 0x04, 0]));
    expect(seen).toEqual([1, 1]);
  });

  it("delivers past IP options: L4 sees data after the whole header", () => {
    const b = makeBench();
    const seen: [number, number][] = [];
    b.net.ipv4.raw.register(253, (n, skb) => seen.push([skb.data - skb.networkHeader, skb.len]));
    rxIp(b, fromPeer({ ihlWords: 7, payload: new Uint8Array(12) }));
    expect(seen).toEqual([[28, 12]]);
  });
});

describe("ipLocalDeliver: no handler for the protocol", () => {
  it("sends ICMP protocol unreachable quoting the datagram, and drops it as IP_NOPROTO", () => {
    const b = makeBench();
    const p = fromPeer({ proto: 200, tos: 0x10, id: 0xbeef, payload: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) });
    rxIp(b, p);
    const out = b.take();
    expect(out.length).toBe(1);
    expect(out[0].subarray(0, 14)).toEqual(ethFrame(PEER_MAC, HOST_MAC, ETH_P_IP, new Uint8Array(0)));
    const r = ipOf(out[0]);
    expect([r.src, r.dst, r.proto, r.ttl, r.tos, r.csumOk, r.df]).toEqual([HOST_IP, PEER_IP, 1, 64, 0xd0, true, false]);
    expect(r.totLen).toBe(20 + 8 + p.length);
    // Type 3 code 2, unused word zero, then the whole offending datagram.
    expect(Array.from(r.payload.subarray(0, 2))).toEqual([3, 2]);
    expect(Array.from(r.payload.subarray(4, 8))).toEqual([0, 0, 0, 0]);
    expect(r.payload.subarray(8)).toEqual(p);
    expect(checksum(r.payload)).toBe(0);
    expect(nonZero(b.net.ipv4.stats)).toEqual({ inReceives: 1, inUnknownProtos: 1, outRequests: 1 });
    expect(b.net.drops.snapshot()).toEqual({ IP_NOPROTO: 1 });
    expect(nonZero(b.net.ipv4.icmp.stats)).toEqual({ outMsgs: 1, outDestUnreachs: 1 });
  });

  it("sends no protocol unreachable for a datagram that came as a broadcast", () => {
    const b = makeBench();
    rxIp(b, fromPeer({ proto: 200, dst: ip("10.0.0.255") }), BCAST_MAC);
    expectOnly(b, { inReceives: 1, inUnknownProtos: 1 }, { IP_NOPROTO: 1 });
    expect(b.net.ipv4.icmp.stats.outMsgs).toBe(0);
  });
});

describe("ipRcv: our own address as a source", () => {
  it("drops a datagram from the wire whose source is our address (IP_INVALID_SOURCE)", () => {
    const b = makeBench();
    const seen: number[] = [];
    b.net.ipv4.raw.register(253, (_n, skb) => seen.push(skb.len));
    rxIp(b, fromPeer({ src: HOST_IP }));
    // An echo request "from us" must not make us answer ourselves on the wire either.
    rxIp(b, fromPeer({ src: HOST_IP, proto: 1, payload: echoRequest(1, 1, new Uint8Array(8)) }));
    expect(seen).toEqual([]);
    expectOnly(b, { inReceives: 2, inAddrErrors: 2 }, { IP_INVALID_SOURCE: 2 });
  });

  it("still delivers what we send ourselves through lo, from our address", () => {
    const b = makeBench();
    const seen: [number, string][] = [];
    b.net.ipv4.raw.register(253, (n, skb) => seen.push([n.pool.buf[skb.data], (skb.dev as NetDevice).name]));
    const skb = b.net.pool.alloc() as SkBuff;
    b.net.pool.buf.fill(7, skb.put(8), skb.tail);
    expect(ipSend(b.net, skb, 0, HOST_IP, 253, 0, 64, false)).toBe(0);
    b.run();
    expect(seen).toEqual([[7, "lo"]]);
    expect(b.take()).toEqual([]);
    expect(b.net.drops.total).toBe(0);
  });
});
