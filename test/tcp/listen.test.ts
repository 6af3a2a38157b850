// Segments to a listener (RFC 9293 3.10.7.2): an RST is dropped, an ACK draws a reset
// ("second"), a SYN opens ("third"), and anything else ("fourth, other data or control":
// a bare FIN, a NULL or Xmas probe, data without ACK) is dropped unanswered and counted
// (TcpExt-style listenNoSynDrops), as Linux and lwIP do. A closed port still answers such a
// segment with a reset (3.10.7.1). The prober is a raw endpoint on the LAN.
import { describe, expect, it } from "vitest";
import { seedFrom, withSeed } from "../helpers";
import { IPPROTO_TCP, IP_MF } from "../../src/wire/ipv4";
import { ACK, FIN, ip, ipFrame, PSH, RST, SYN, tcpOf, tcpSegment, type TcpView } from "../packets";
import { B_IP, tapLan, tcpTable } from "./harness";
import { hostAndPeer } from "./rawpeer";

const URG = 32;
const RAW_IP = "10.0.0.9";
const RAW_MAC = new Uint8Array([2, 0, 0, 0, 0, 0x77]);

/** Host b (10.0.0.2) listening on port 80, and a raw prober (10.0.0.9) aimed at `port`. */
function setup(seed: number, port = 80) {
  const { world, lan, b, B, peer, bMac } = hostAndPeer(seed, {}, RAW_IP, RAW_MAC);
  let accepted = 0;
  const listener = new B.Listener({
    port: 80,
    onReadable(n) {
      for (let i = 0; i < n; i++) {
        accepted++;
        new B.TCP({ from: this.read()! }).close();
      }
    },
  });
  peer.dst = ip(B_IP);
  peer.dstMac = bMac;
  peer.dport = port;
  const fromB: TcpView[] = [];
  tapLan(lan, world, (_t, p, frame) => {
    const v = tcpOf(frame);
    if (v !== null && p === 0) fromB.push(v);
  });
  return { world, b, bMac, listener, peer, fromB, accepted: () => accepted };
}

const PROBES: [string, number, number][] = [
  ["a bare FIN", FIN, 0],
  ["a NULL probe (no flags)", 0, 0],
  ["an Xmas probe (FIN|PSH|URG)", FIN | PSH | URG, 0],
  ["PSH with data", PSH, 100],
];

describe("TCP segments to a listener (RFC 9293 3.10.7.2)", () => {
  for (const [name, flags, bytes] of PROBES) {
    it(`drops ${name} without an answer, and counts it`, () =>
      withSeed(seedFrom(91), (seed) => {
        const s = setup(seed);
        const stats = s.b.net.tcp.stats;
        const invalidBefore = s.b.net.drops.count("TCP_INVALID");
        for (let i = 0; i < 3; i++) {
          s.peer.sendSegment({ flags, seq: 5000 + i * 1000, payload: new Uint8Array(bytes) });
          s.world.runFor(10);
        }
        expect(s.fromB).toEqual([]);
        expect(stats.listenNoSynDrops).toBe(3);
        expect(stats.outRsts).toBe(0);
        expect(s.b.net.drops.count("TCP_INVALID") - invalidBefore).toBe(3);
        expect(tcpTable(s.b.net)).toEqual(["LISTEN 80->0"]);
        // The listener still takes a real connection.
        s.peer.connect(B_IP, s.bMac, 80);
        s.world.runFor(50);
        expect(s.peer.synAck).not.toBeNull();
        expect(s.accepted()).toBe(1);
        s.listener.close();
        s.world.runFor(100);
      }));
  }

  it("answers an ACK with a reset (its ACK as the sequence number), and drops an RST", () =>
    withSeed(seedFrom(92), (seed) => {
      const s = setup(seed);
      s.peer.sendSegment({ flags: ACK, seq: 7000, ack: 123456 });
      s.peer.sendSegment({ flags: RST, seq: 7000 });
      s.world.runFor(10);
      expect(s.fromB.map((v) => [v.flags, v.seq, v.ack])).toEqual([[RST, 123456, 0]]);
      expect(s.b.net.tcp.stats.listenNoSynDrops).toBe(0);
      s.listener.close();
    }));

  it("a closed port still answers a bare FIN with a reset (RFC 9293 3.10.7.1)", () =>
    withSeed(seedFrom(93), (seed) => {
      const s = setup(seed, 81);
      s.peer.sendSegment({ flags: FIN, seq: 9000 });
      s.peer.sendSegment({ flags: 0, seq: 9000 });
      s.world.runFor(10);
      // No ACK in them: the reset acknowledges what they occupied (the FIN counts one).
      expect(s.fromB.map((v) => [v.flags, v.seq, v.ack])).toEqual([[RST | ACK, 0, 9001], [RST | ACK, 0, 9000]]);
      expect(s.b.net.tcp.stats.listenNoSynDrops).toBe(0);
      expect(s.b.net.drops.count("TCP_NOSOCKET")).toBe(2);
      s.listener.close();
    }));

  // RFC 1122 4.2.3.10: a SYN to a broadcast or multicast address is ignored, even one that
  // reaches us in a frame addressed to our MAC (IP routes it as broadcast or multicast).
  for (const dst of ["10.0.0.255", "255.255.255.255", "224.0.0.1"]) {
    it(`ignores a SYN to ${dst} sent to its MAC: no answer, dropped as TCP_INVALID`, () =>
      withSeed(seedFrom(93), (seed) => {
        const s = setup(seed);
        const invalidBefore = s.b.net.drops.count("TCP_INVALID");
        s.peer.dst = ip(dst);
        s.peer.sendSegment({ flags: SYN, seq: 1000 });
        s.world.runFor(10);
        expect(s.fromB).toEqual([]);
        expect(s.b.net.tcp.stats.outRsts).toBe(0);
        expect(s.b.net.drops.count("TCP_INVALID") - invalidBefore).toBe(1);
        expect(tcpTable(s.b.net)).toEqual(["LISTEN 80->0"]);
        s.listener.close();
        s.world.runFor(100);
      }));
  }

  it("answers a SYN that came in two IP fragments (reassembled, then made one skb)", () =>
    withSeed(seedFrom(94), (seed) => {
      const s = setup(seed);
      const src = ip(RAW_IP);
      const dst = ip(B_IP);
      // 20 bytes of header and 40 of data: the first fragment holds the header and 4 bytes.
      const seg = tcpSegment({ src, dst, sport: s.peer.sport, dport: 80, flags: SYN, seq: 7000, payload: new Uint8Array(40).fill(7) });
      const frag = (off: number, end: number, more: boolean): Uint8Array =>
        ipFrame(s.bMac, RAW_MAC, { src, dst, proto: IPPROTO_TCP, id: 0x4242, frag: (more ? IP_MF : 0) | (off >>> 3), payload: seg.slice(off, end) });
      s.peer.sendFrame(frag(24, seg.length, false)); // the last one first: reassembly orders them
      s.peer.sendFrame(frag(0, 24, true));
      s.world.runFor(10);
      expect(s.b.net.ipv4.stats.reasmOKs).toBe(1);
      expect(s.fromB[0].flags).toBe(SYN | ACK);
      expect(s.fromB[0].ack).toBe(7001); // data on a SYN waits for the handshake (RFC 9293 3.10.7.2)
      s.listener.close();
      s.world.runFor(100);
    }));
});
