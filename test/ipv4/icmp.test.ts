import { describe, expect, it } from "vitest";
import { PACKET_BROADCAST, PACKET_HOST, PACKET_MULTICAST, type SkBuff } from "../../src/core/skb";
import { ICMP_DEST_UNREACH, ICMP_PROT_UNREACH } from "../../src/wire/icmp";
import { TCP_SYN } from "../../src/wire/tcp";
import { advance } from "../helpers";
import {
  BCAST_MAC, checksum, echoRequest, icmpMessage, ip, ipFrame, ipOf, type Ipv4Fields, ipv4Packet, joinFragments, mac,
  patternBytes, tcpSegment,
} from "../packets";
import { type Bench, HOST_IP, HOST_MAC, makeBench, PEER_IP, PEER_MAC } from "../testbed";
import { ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, IP_A, IP_B, MAC_A, MAC_B } from "../wire/fixtures";

function nonZero(o: object): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(o)) if (typeof v === "number" && v !== 0) out[k] = v;
  return out;
}

/** An ICMP message from the peer to `dst` (our address by default). */
function icmpIn(msg: Uint8Array, f: Partial<Ipv4Fields> = {}, dstMac = HOST_MAC): Uint8Array {
  return ipFrame(dstMac, PEER_MAC, { src: PEER_IP, dst: HOST_IP, proto: 1, payload: msg, ...f });
}

describe("ICMP echo (icmp_echo)", () => {
  it("answers the captured Linux echo request exactly as Linux did, but for the IP id", () => {
    const b = makeBench({}, { cidr: "192.168.69.2/24", hwaddr: MAC_B, peerIp: IP_A, peerMac: MAC_A });
    b.rx(ICMP_ECHO_REQUEST);
    const out = b.take();
    expect(out.length).toBe(1);
    const ours = out[0];
    expect(ours.length).toBe(ICMP_ECHO_REPLY.length);
    const r = ipOf(ours);
    expect(r.csumOk).toBe(true);
    expect([r.src, r.dst]).toEqual([IP_B, IP_A]);
    // The IP id (and so the header checksum) is ours to choose; every other byte is Linux's.
    const patched = ours.slice();
    patched.set(ICMP_ECHO_REPLY.subarray(18, 20), 18);
    patched.set(ICMP_ECHO_REPLY.subarray(24, 26), 24);
    expect(patched).toEqual(ICMP_ECHO_REPLY);
    const st = b.net.ipv4.icmp.stats;
    expect(nonZero(st)).toEqual({ inMsgs: 1, inEchos: 1, outMsgs: 1, outEchoReps: 1 });
    expect(b.net.drops.total).toBe(0);
  });

  it("answers a 4000-byte request that came in three fragments with the same bytes, fragmented", () => {
    const b = makeBench();
    const data = patternBytes(4000 - 8, 41);
    const msg = echoRequest(0x1234, 9, data);
    for (const [off, len] of [[0, 1480], [1480, 1480], [2960, 1040]]) {
      b.drv.inject(icmpIn(msg.subarray(off, off + len), { id: 0x4444, frag: (off + len < 4000 ? 0x2000 : 0) | (off >> 3) }));
    }
    b.run();
    const out = b.take();
    expect(out.length).toBe(3);
    const views = out.map((f) => ipOf(f));
    expect(out.map((f) => f.length)).toEqual([1514, 1514, 14 + 20 + 1040]);
    expect(views.map((v) => [v.offset, v.mf])).toEqual([[0, true], [1480, true], [2960, false]]);
    expect(new Set(views.map((v) => v.id)).size).toBe(1);
    for (const v of views) {
      expect(v.csumOk).toBe(true);
      expect([v.src, v.dst, v.proto, v.df]).toEqual([HOST_IP, PEER_IP, 1, false]);
    }
    const reply = joinFragments(out);
    expect(reply.length).toBe(4000);
    expect(checksum(reply)).toBe(0);
    expect([reply[0], reply[1]]).toEqual([0, 0]);
    expect(reply.subarray(4)).toEqual(msg.subarray(4)); // id, seq and all the data
    expect(b.net.ipv4.stats.reasmOKs).toBe(1);
    expect(b.net.ipv4.stats.fragOKs).toBe(1);
    expect(b.net.ipv4.stats.fragCreates).toBe(2);
    expect(b.net.pool.inUse).toBe(0);
  });

  it("ignores echo to a broadcast or multicast address (ICMP_IGNORED)", () => {
    const b = makeBench();
    const req = echoRequest(1, 1, new Uint8Array(8));
    b.rx(icmpIn(req, { dst: ip("10.0.0.255") }, BCAST_MAC));
    b.rx(icmpIn(req, { dst: 0xffffffff }, BCAST_MAC));
    b.rx(icmpIn(req, { dst: ip("224.0.0.1") }, mac("01:00:5e:00:00:01")));
    expect(b.take()).toEqual([]);
    expect(b.net.drops.snapshot()).toEqual({ ICMP_IGNORED: 3 });
    expect(b.net.ipv4.icmp.stats.inEchos).toBe(3);
    expect(b.net.ipv4.icmp.stats.outEchoReps).toBe(0);
  });

  it("answers broadcast echo from our address when told to", () => {
    const b = makeBench({ icmpEchoIgnoreBroadcasts: false });
    b.rx(icmpIn(echoRequest(1, 2, new Uint8Array(8)), { dst: ip("10.0.0.255") }, BCAST_MAC));
    const out = b.take();
    expect(out.length).toBe(1);
    const r = ipOf(out[0]);
    expect([r.src, r.dst, r.payload[0]]).toEqual([HOST_IP, PEER_IP, 0]);
    expect(out[0].subarray(0, 6)).toEqual(PEER_MAC);
  });

  it("answers an echo to our unicast address even inside a link-layer broadcast, as Linux", () => {
    const b = makeBench();
    b.rx(icmpIn(echoRequest(1, 4, new Uint8Array(8)), {}, BCAST_MAC));
    const out = b.take();
    expect(out.length).toBe(1);
    expect([ipOf(out[0]).src, ipOf(out[0]).dst]).toEqual([HOST_IP, PEER_IP]);
    expect(b.net.drops.total).toBe(0);
  });

  it("does not answer an echo from 0.0.0.0 (ICMP_INVALID)", () => {
    const b = makeBench();
    b.rx(icmpIn(echoRequest(1, 3, new Uint8Array(8)), { src: 0 }));
    expect(b.take()).toEqual([]);
    expect(b.net.drops.snapshot()).toEqual({ ICMP_INVALID: 1 });
  });
});

describe("ICMP receive checks", () => {
  it("drops a bad checksum (ICMP_CSUM)", () => {
    const b = makeBench();
    const req = echoRequest(1, 1, new Uint8Array(8));
    req[10] ^= 0xff;
    b.rx(icmpIn(req));
    expect(b.take()).toEqual([]);
    expect(b.net.drops.snapshot()).toEqual({ ICMP_CSUM: 1 });
    expect(nonZero(b.net.ipv4.icmp.stats)).toEqual({ inMsgs: 1, inErrors: 1, inCsumErrors: 1 });
  });

  it("drops a message shorter than its header (ICMP_INVALID)", () => {
    const b = makeBench();
    b.rx(icmpIn(new Uint8Array([8, 0, 0xf7, 0xff])));
    expect(b.take()).toEqual([]);
    expect(b.net.drops.snapshot()).toEqual({ ICMP_INVALID: 1 });
    expect(nonZero(b.net.ipv4.icmp.stats)).toEqual({ inMsgs: 1, inErrors: 1 });
  });

  it("drops a message cut anywhere inside its 8-byte header (ICMP_INVALID)", () => {
    const b = makeBench();
    const req = echoRequest(1, 1, new Uint8Array(0));
    for (let len = 0; len < 8; len++) b.rx(icmpIn(req.subarray(0, len)));
    expect(b.take()).toEqual([]);
    expect(b.net.drops.snapshot()).toEqual({ ICMP_INVALID: 8 });
    expect(nonZero(b.net.ipv4.icmp.stats)).toEqual({ inMsgs: 8, inErrors: 8 });
  });

  it("drops an error whose quoted IP header is cut, impossible or short of 8 data bytes, whatever its protocol (ICMP_INVALID)", () => {
    const b = makeBench();
    // Our TCP segment 40000 -> 80 as a router would quote it: IP header and 8 bytes of TCP.
    const tcp = tcpSegment({ src: HOST_IP, dst: PEER_IP, sport: 40000, dport: 80, seq: 1, flags: TCP_SYN, window: 0, check: "zero" });
    const segment = ipv4Packet({ src: HOST_IP, dst: PEER_IP, proto: 6, payload: tcp });
    const bad: [string, Uint8Array][] = [];
    for (let len = 0; len < 28; len++) bad.push([`quote of ${len} bytes`, segment.subarray(0, len)]);
    bad.push(["IHL under 5", ipv4Packet({ src: HOST_IP, dst: PEER_IP, proto: 6, payload: tcp, ihlWords: 4 })]);
    bad.push(["options past the quote", ipv4Packet({ src: HOST_IP, dst: PEER_IP, proto: 6, payload: tcp, ihlWords: 8 }).subarray(0, 30)]);
    bad.push(["total length below the header", ipv4Packet({ src: HOST_IP, dst: PEER_IP, proto: 6, payload: tcp, totLen: 19 })]);
    bad.push(["total length 0", ipv4Packet({ src: HOST_IP, dst: PEER_IP, proto: 17, payload: tcp, totLen: 0 })]);
    for (const [, quote] of bad) b.rx(icmpIn(icmpMessage(3, 3, 0, quote)));
    expect(b.take()).toEqual([]);
    expect(b.net.drops.snapshot()).toEqual({ ICMP_INVALID: bad.length });
    expect(nonZero(b.net.ipv4.icmp.stats)).toEqual({ inMsgs: bad.length, inDestUnreachs: bad.length, inErrors: bad.length });
    // Cut to the header and 8 bytes of TCP (total length past the quote, as routers send) it is passed up.
    b.rx(icmpIn(icmpMessage(3, 3, 0, segment.subarray(0, 28))));
    expect(b.net.drops.snapshot()).toEqual({ ICMP_INVALID: bad.length });
    expect(b.net.ipv4.icmp.stats.inErrors).toBe(bad.length);
    expect(b.net.pool.inUse).toBe(0);
  });

  it("counts errors and replies it receives, and drops types it does not answer", () => {
    const b = makeBench();
    // A UDP header from port 12345 to 53, length 8: no socket of ours, so only counted.
    const quote = ipv4Packet({ src: HOST_IP, dst: PEER_IP, proto: 17, payload: new Uint8Array([0x30, 0x39, 0, 53, 0, 8, 0, 0]) });
    b.rx(icmpIn(icmpMessage(0, 0, 0x00010001, new Uint8Array(4))));
    b.rx(icmpIn(icmpMessage(3, 3, 0, quote)));
    b.rx(icmpIn(icmpMessage(11, 0, 0, quote)));
    b.rx(icmpIn(icmpMessage(12, 0, 0, quote)));
    b.rx(icmpIn(icmpMessage(4, 0, 0, quote)));
    b.rx(icmpIn(icmpMessage(5, 1, 0, quote)));
    b.rx(icmpIn(icmpMessage(13, 0, 0, new Uint8Array(12)))); // timestamp: not answered
    expect(b.take()).toEqual([]);
    expect(nonZero(b.net.ipv4.icmp.stats)).toEqual({
      inMsgs: 7, inEchoReps: 1, inDestUnreachs: 1, inTimeExcds: 1, inParmProbs: 1, inSrcQuenchs: 1, inRedirects: 1,
    });
    expect(b.net.drops.snapshot()).toEqual({ ICMP_UNSUPPORTED: 1 });
  });
});

describe("ICMP errors (icmp_send)", () => {
  /** Ask for a protocol-unreachable about `packet`; returns the frames that went out. */
  function sendAbout(b: Bench, packet: Uint8Array, pktType = PACKET_HOST): Uint8Array[] {
    const skb = b.net.pool.alloc() as SkBuff;
    const at = skb.put(packet.length);
    b.net.pool.buf.set(packet, at);
    skb.networkHeader = at;
    skb.pktType = pktType;
    b.net.ipv4.icmp.send(skb, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0);
    b.net.pool.free(skb); // icmp.send never takes the skb
    b.run();
    return b.take();
  }

  const about = (f: Partial<Ipv4Fields>): Uint8Array =>
    ipv4Packet({ src: PEER_IP, dst: HOST_IP, proto: 200, payload: new Uint8Array(16), ...f });

  it("sends one for an ordinary unicast datagram", () => {
    const b = makeBench();
    const out = sendAbout(b, about({}));
    expect(out.length).toBe(1);
    const r = ipOf(out[0]);
    expect([r.src, r.dst, r.payload[0], r.payload[1]]).toEqual([HOST_IP, PEER_IP, 3, 2]);
  });

  it("sends none about an ICMP error, but may about an echo request", () => {
    const b = makeBench();
    const quote = ipv4Packet({ src: HOST_IP, dst: PEER_IP, proto: 17, payload: new Uint8Array(8) });
    for (const type of [3, 4, 5, 11, 12]) {
      expect(sendAbout(b, about({ proto: 1, payload: icmpMessage(type, 0, 0, quote) })), `type ${type}`).toEqual([]);
    }
    expect(sendAbout(b, about({ proto: 1, payload: icmpMessage(19, 0, 0, new Uint8Array(8)) }))).toEqual([]); // unknown type
    expect(sendAbout(b, about({ proto: 1, payload: echoRequest(1, 1, new Uint8Array(8)) })).length).toBe(1);
    expect(b.net.ipv4.icmp.stats.outMsgs).toBe(1);
  });

  it("sends none about a datagram to a broadcast or multicast address, or one that came as a link broadcast", () => {
    const b = makeBench();
    expect(sendAbout(b, about({ dst: 0xffffffff }))).toEqual([]);
    expect(sendAbout(b, about({ dst: ip("10.0.0.255") }))).toEqual([]);
    expect(sendAbout(b, about({ dst: ip("224.0.0.5") }))).toEqual([]);
    expect(sendAbout(b, about({}), PACKET_BROADCAST)).toEqual([]);
    expect(sendAbout(b, about({}), PACKET_MULTICAST)).toEqual([]);
    expect(b.net.ipv4.icmp.stats.outMsgs).toBe(0);
  });

  it("sends none about a non-first fragment, but does about a first one", () => {
    const b = makeBench();
    expect(sendAbout(b, about({ frag: 0x2000 | 1 }))).toEqual([]);
    expect(sendAbout(b, about({ frag: 185 }))).toEqual([]);
    expect(sendAbout(b, about({ frag: 0x2000 })).length).toBe(1);
  });

  it("sends none to a source that is not a unicast host", () => {
    const b = makeBench();
    for (const src of ["0.0.0.0", "0.1.2.3", "10.0.0.255", "255.255.255.255", "224.0.0.9"]) {
      expect(sendAbout(b, about({ src: ip(src) })), src).toEqual([]);
    }
    expect(b.net.ipv4.icmp.stats.outMsgs).toBe(0);
  });

  it("quotes at most 576 bytes of IP in all", () => {
    const b = makeBench();
    const out = sendAbout(b, about({ payload: patternBytes(1400, 9) }));
    const r = ipOf(out[0]);
    expect(r.totLen).toBe(576);
    expect(r.payload.subarray(8)).toEqual(about({ payload: patternBytes(1400, 9) }).subarray(0, 548));
    expect(checksum(r.payload)).toBe(0);
  });

  it("quotes a reassembled datagram across its pieces, with the reassembled header", () => {
    const b = makeBench();
    const payload = patternBytes(1000, 13);
    // 256-byte pieces: the 528 quoted data bytes span three of them.
    for (const off of [0, 256, 512, 768]) {
      const len = Math.min(256, 1000 - off);
      b.drv.inject(icmpIn(payload.subarray(off, off + len), { proto: 200, id: 0x99, frag: (off + len < 1000 ? 0x2000 : 0) | (off >> 3) }));
    }
    b.run();
    const out = b.take();
    expect(out.length).toBe(1);
    const r = ipOf(out[0]);
    expect(r.totLen).toBe(576);
    const quoted = ipOf(r.payload, 8);
    expect([quoted.totLen, quoted.frag, quoted.csumOk]).toEqual([1020, 0, true]);
    expect(r.payload.subarray(8 + 20)).toEqual(payload.subarray(0, 528));
    expect(checksum(r.payload)).toBe(0);
  });

  it("rate-limits errors with a token bucket: burst 5 at 1/s gives 5 of 20, then one more a second later", () => {
    const b = makeBench({ icmpBurst: 5, icmpRatePerSec: 1 });
    for (let i = 0; i < 20; i++) b.drv.inject(icmpIn(new Uint8Array(8), { proto: 200, id: i }));
    b.run();
    const st = b.net.ipv4.icmp.stats;
    expect(b.take().length).toBe(5);
    expect(st.outMsgs).toBe(5);
    expect(st.outDestUnreachs).toBe(5);
    expect(st.outRateLimited).toBe(15);
    expect(b.net.drops.count("IP_NOPROTO")).toBe(20);
    advance(b.net, b.platform, 999);
    b.rx(icmpIn(new Uint8Array(8), { proto: 200, id: 100 }));
    expect(b.take().length).toBe(0);
    expect(st.outRateLimited).toBe(16);
    advance(b.net, b.platform, 1);
    b.rx(icmpIn(new Uint8Array(8), { proto: 200, id: 101 }));
    b.rx(icmpIn(new Uint8Array(8), { proto: 200, id: 102 }));
    const out = b.take();
    expect(out.length).toBe(1);
    expect(ipOf(out[0]).payload.subarray(8 + 4, 8 + 6)).toEqual(new Uint8Array([0, 101]));
    expect(st.outMsgs).toBe(6);
    expect(st.outRateLimited).toBe(17);
  });

  it("the rate limit does not apply to echo replies", () => {
    const b = makeBench({ icmpBurst: 1, icmpRatePerSec: 1 });
    for (let i = 0; i < 5; i++) b.drv.inject(icmpIn(echoRequest(1, i, new Uint8Array(8))));
    b.run();
    expect(b.take().length).toBe(5);
    expect(b.net.ipv4.icmp.stats.outRateLimited).toBe(0);
  });
});

describe("ICMP error rate limit: the token bucket keeps fractional refill", () => {
  // Burst 2, not 1: with a bucket of one token, each refill fills it and the rest of the
  // interval is lost to the cap (a true token bucket gives one per 1.2 ms there, fix or not).
  it("at 1000/s with burst 2, one error-provoking datagram every 0.6 ms for 1 s gets about 1000 errors", () => {
    const b = makeBench({ icmpRatePerSec: 1000, icmpBurst: 2 });
    const offered = Math.ceil(1000 / 0.6); // t = 0, 0.6, ... 999.6 ms
    let sent = 0;
    for (let k = 0; k < offered; k++) {
      b.platform.time = k * 0.6;
      b.rx(icmpIn(new Uint8Array(8), { proto: 200, id: k & 0xffff }));
      sent += b.take().length;
    }
    const st = b.net.ipv4.icmp.stats;
    expect(offered).toBe(1667);
    expect(sent).toBe(st.outMsgs);
    expect(st.outRateLimited).toBe(offered - sent);
    // One token per ms carried exactly: about 1000 in the second plus the initial burst.
    // Dropping the fraction at each refill gives one per 1.2 ms instead (about 833).
    expect(sent).toBeGreaterThanOrEqual(999);
    expect(sent).toBeLessThanOrEqual(1002);
    expect(b.net.drops.count("IP_NOPROTO")).toBe(offered);
  });
});
