// Loss recovery (RFC 6675 SACK recovery, RFC 8985 RACK-TLP, RFC 6582 NewReno): a filter on
// the LAN drops chosen data segments of a bulk transfer from a to b (by their offset in
// the stream and how many times they were sent), or holds them back. A lost retransmission
// is found by RACK and sent again without waiting for the RTO; a lost tail is found by a
// tail loss probe; three holes in one window are repaired in one recovery; a peer without
// SACK is recovered by NewReno's fast retransmit and partial ACKs; reordering shorter
// than RACK's reordering window (by fewer than DupThresh segments) causes no retransmission
// at all, and deeper reordering no more than that of the reordered segment.
import { describe, expect, it } from "vitest";
import type { LinkFaults } from "../../host-sim/sim/lan";
import type { SimMacOptions } from "../../host-sim/sim/dma-mac-hw";
import type { NetConfig } from "../../src/config";
import type { TcpSocket } from "../../src/socket/tcp";
import { TF_SACK } from "../../src/tcp/tcb";
import { seedFrom, withSeed } from "../helpers";
import { optionsOf, tcpOf } from "../packets";
import {
  B_IP, DROP, filterLan, findConn, localPortTo, makePair, PASS, sha256, Sink, streamBytes, tcpTable,
} from "./harness";

/** One data segment a put on the wire (or tried to: `action` says what the filter did). */
interface Sent {
  t: number;
  /** offset of its first byte in the stream */
  off: number;
  len: number;
  /** 1 for the first transmission, 2 for the first resend, ... */
  nth: number;
  action: number;
}

interface Options {
  faults?: Partial<LinkFaults>;
  configA?: Partial<NetConfig>;
  configB?: Partial<NetConfig>;
  mac?: SimMacOptions;
  total: number;
  /** what to do with a data segment from a: PASS, DROP, or milliseconds to hold it */
  decide: (off: number, nth: number, len: number) => number;
}

/**
 * a writes `total` bytes to b as fast as it may; b reads everything at once. The client
 * closes only once b has it all, so the data is the tail of what a sends.
 */
function transfer(seed: number, o: Options) {
  // b may hold a whole window out of order (32 KB is 23 segments; the default keeps 16), so
  // that nothing but the filter loses a segment.
  const pair = makePair(seed, o.faults ?? { delayMs: 5 }, { tcpTimeWaitMs: 500, ...o.configA }, { tcpTimeWaitMs: 500, tcpOooMax: 32, ...o.configB }, o.mac);
  const { world, lan, a, b, A, B } = pair;
  const data = streamBytes(o.total, seed);
  const sent: Sent[] = [];
  const times = new Map<number, number>();
  let isn = -1;
  /** the time b held everything */
  let doneAt = -1;
  let sackOptions = 0;
  filterLan(lan, world, (t, port, frame) => {
    const v = tcpOf(frame);
    if (v === null) return PASS;
    if (port === 1 && optionsOf(v).sackCount > 0) sackOptions++;
    if (port !== 0 || v.payload.length === 0 || isn < 0) return PASS;
    const off = (v.seq - isn - 1) >>> 0;
    const nth = (times.get(off) ?? 0) + 1;
    times.set(off, nth);
    const action = o.decide(off, nth, v.payload.length);
    sent.push({ t, off, len: v.payload.length, nth, action });
    return action;
  });
  const got = new Sink(o.total);
  let server: TcpSocket | null = null;
  const listener = new B.Listener({
    port: 80,
    onReadable() {
      server = new B.TCP({
        from: this.read()!,
        onReadable(n) {
          got.push(new Uint8Array(this.read(n)));
          if (got.len === o.total && doneAt < 0) doneAt = world.now;
        },
        onError() { this.close(); },
      });
    },
  });
  let written = 0;
  const client = new A.TCP({
    address: B_IP,
    port: 80,
    onWritable(room) {
      while (written < o.total && room > 0) {
        const n = Math.min(room, o.total - written);
        room = this.write(data.subarray(written, written + n));
        written += n;
      }
    },
  });
  world.runFor(1);
  const c = findConn(a.net, localPortTo(a.net, 80), 80);
  isn = a.net.tcp.tcb.iss[c];
  world.runUntil(() => got.len === o.total, 60_000);
  const mss = a.net.tcp.tcb.mss[c];
  expect(sha256(got.bytes())).toBe(sha256(data));
  // Everything acknowledged; a closes, then b.
  world.runUntil(() => a.net.tcp.tcb.sndUna[c] === a.net.tcp.tcb.sndMax[c], 5_000);
  const rto = a.net.tcp.tcb.rto[c];
  const srtt = a.net.tcp.tcb.srtt[c];
  const sack = (a.net.tcp.tcb.flags[c] & TF_SACK) !== 0;
  client.close();
  world.runFor(2_000);
  expect(tcpTable(a.net)).toEqual([]);
  expect(tcpTable(b.net)).toEqual(["LISTEN 80->0"]);
  void server;
  listener.close();
  /** transmissions of the segment at `off` */
  const of = (off: number) => sent.filter((s) => s.off === off);
  return { ...pair, sent, of, mss, rto, srtt, sack, doneAt, sackOptions, sa: a.net.tcp.stats, sb: b.net.tcp.stats };
}

describe("TCP loss recovery", () => {
  it("a lost retransmission is found by RACK and sent again, without an RTO", () =>
    withSeed(seedFrom(1301), (seed) => {
      const MSS = 1448;
      const K = 30 * MSS;
      // Buffers of 64 KB: new data keeps flowing after the resend, so that its SACKs show
      // the resend lost (with 32 KB the send buffer fills, and a tail loss probe does it).
      const big = { tcpSndBufBytes: 65536, tcpRcvBufBytes: 65536, tcpOooMax: 64 };
      const r = transfer(seed, { total: 300_000, configA: big, configB: big, decide: (off, nth) => (off === K && nth <= 2 ? DROP : PASS) });
      expect(r.mss).toBe(MSS);
      expect(r.sack).toBe(true);
      // Sent three times: the first two lost, the third delivered.
      expect(r.of(K).map((s) => s.action)).toEqual([DROP, DROP, PASS]);
      const [first, second, third] = r.of(K);
      // The second loss was found by RACK's time rule, the third send came well before
      // an RTO (200 ms at least) after the second.
      expect(r.sa.rackLost).toBeGreaterThanOrEqual(1);
      expect(r.sa.timeouts).toBe(0);
      expect(third.t - second.t).toBeLessThan(r.rto / 2);
      expect(second.t - first.t).toBeLessThan(r.rto / 2);
      // One recovery; only the lost segment was sent more than once.
      expect(r.sa.sackRecoveries).toBeGreaterThanOrEqual(1);
      expect(r.sent.filter((s) => s.nth > 1 && s.off !== K)).toEqual([]);
      expect(r.sa.retransSegs).toBe(2);
      expect(r.sa.lossProbes).toBe(0);
    }));

  it("a lost retransmission with the send buffer full: the tail loss probe's SACK shows it, RACK marks it, no RTO", () =>
    withSeed(seedFrom(1307), (seed) => {
      const MSS = 1448;
      // 32 KB buffers and the loss at the end of a flight: after the resend, the send
      // buffer is full of data waiting for it, so nothing new follows it until the probe.
      const K = 40 * MSS;
      const r = transfer(seed, { total: 200_000, decide: (off, nth) => (off === K && nth <= 2 ? DROP : PASS) });
      expect(r.of(K).map((s) => s.action)).toEqual([DROP, DROP, PASS]);
      const [, second, third] = r.of(K);
      expect(r.sa.lossProbes).toBe(1);
      expect(r.sa.rackLost).toBeGreaterThanOrEqual(1);
      expect(r.sa.timeouts).toBe(0);
      // The probe is new data, sent about two RTTs after the lost resend; the third send
      // follows the probe's SACK, an RTT later: all well before an RTO.
      const probe = r.sent.find((x) => x.t > second.t && x.nth === 1)!;
      expect(probe.t - second.t).toBeLessThanOrEqual(3 * r.srtt / 1000 + 2);
      expect(third.t).toBeGreaterThan(probe.t);
      expect(third.t - second.t).toBeLessThan(r.rto);
      expect(r.sent.filter((x) => x.nth > 1 && x.off !== K)).toEqual([]);
      expect(r.sa.retransSegs).toBe(2);
    }));

  it("a lost tail is repaired by a tail loss probe, long before the RTO", () =>
    withSeed(seedFrom(1302), (seed) => {
      const MSS = 1448;
      const N = 50;
      const total = N * MSS;
      // The last two segments are lost the first time: no later data can reveal them.
      const r = transfer(seed, { total, decide: (off, nth) => (off >= (N - 2) * MSS && nth === 1 ? DROP : PASS) });
      expect(r.sack).toBe(true);
      expect(r.of((N - 2) * MSS).map((s) => s.action)).toEqual([DROP, PASS]);
      expect(r.of((N - 1) * MSS).map((s) => s.action)).toEqual([DROP, PASS]);
      expect(r.sa.lossProbes).toBeGreaterThanOrEqual(1);
      expect(r.sa.timeouts).toBe(0);
      expect(r.sa.retransSegs).toBe(2);
      // The probe (the last segment again) went about two RTTs after the tail; all was
      // delivered well before an RTO would have fired.
      const tail = r.of((N - 1) * MSS)[0].t;
      const probe = r.of((N - 1) * MSS)[1].t;
      expect(probe - tail).toBeLessThanOrEqual(3 * r.srtt / 1000 + 2);
      expect(r.doneAt - tail).toBeLessThan(r.rto);
      expect(r.of((N - 2) * MSS)[1].t).toBeGreaterThan(probe);
    }));

  it("three holes in one window are repaired in one recovery, without an RTO", () =>
    withSeed(seedFrom(1303), (seed) => {
      const MSS = 1448;
      const holes = [30 * MSS, 33 * MSS, 36 * MSS];
      const r = transfer(seed, { total: 150_000, decide: (off, nth) => (holes.includes(off) && nth === 1 ? DROP : PASS) });
      for (const h of holes) expect(r.of(h).map((s) => s.action)).toEqual([DROP, PASS]);
      expect(r.sa.sackRecoveries).toBe(1);
      expect(r.sa.fastRetrans).toBe(1);
      expect(r.sa.sackRetrans).toBe(3);
      expect(r.sa.retransSegs).toBe(3);
      expect(r.sa.timeouts).toBe(0);
      expect(r.sa.lossProbes).toBe(0);
      expect(r.sent.filter((s) => s.nth > 1).map((s) => s.off)).toEqual(holes);
      // All three resent within one round trip of the first.
      const resends = r.sent.filter((s) => s.nth > 1).map((s) => s.t);
      expect(resends[2] - resends[0]).toBeLessThanOrEqual(r.srtt / 1000 + 1);
      expect(r.sb.sackBlocksSent).toBeGreaterThan(0);
    }));

  for (const side of ["receiver", "sender"] as const) {
    it(`without SACK (config.tcpSack false on the ${side}): NewReno's fast retransmit and a partial ACK, without an RTO`, () =>
      withSeed(seedFrom(side === "receiver" ? 1304 : 1305), (seed) => {
        const MSS = 1448;
        const holes = [30 * MSS, 34 * MSS];
        const off = { tcpSack: false };
        const r = transfer(seed, {
          total: 150_000,
          configA: side === "sender" ? off : {},
          configB: side === "receiver" ? off : {},
          decide: (o, nth) => (holes.includes(o) && nth === 1 ? DROP : PASS),
        });
        expect(r.sack).toBe(false);
        expect(r.sackOptions).toBe(0);
        for (const h of holes) expect(r.of(h).map((s) => s.action)).toEqual([DROP, PASS]);
        // One recovery: the first hole on the third duplicate ACK, the second on the partial
        // ACK that the first one's repair draws (RFC 6582 3.2 step 4).
        expect(r.sa.fastRetrans).toBe(1);
        expect(r.sa.sackRecoveries).toBe(0);
        expect(r.sa.retransSegs).toBe(2);
        expect(r.sa.timeouts).toBe(0);
        expect(r.sa.lossProbes).toBe(0);
        expect(r.sent.filter((s) => s.nth > 1).map((s) => s.off)).toEqual(holes);
      }));
  }

  it("reordering shorter than a quarter RTT causes no retransmission (RACK's reordering window)", () =>
    withSeed(seedFrom(1306), (seed) => {
      const MSS = 1448;
      // 10 Mb/s MACs: a full frame every 1.2 ms; 20 ms each way, so a quarter RTT is 10 ms.
      // A segment held back 2.5 ms is overtaken by the next two.
      const held = [30 * MSS, 60 * MSS, 61 * MSS, 90 * MSS];
      const r = transfer(seed, {
        total: 150_000,
        faults: { delayMs: 20 },
        mac: { lineRateBps: 10_000_000 },
        decide: (off, nth) => (held.includes(off) && nth === 1 ? 2.5 : PASS),
      });
      expect(r.srtt).toBeGreaterThan(40_000);
      for (const h of held) expect(r.of(h).map((s) => s.action)).toEqual([2.5]);
      // b saw them out of order (SACK blocks went out), a resent nothing.
      expect(r.sb.ofoQueue).toBeGreaterThanOrEqual(4);
      expect(r.sb.sackBlocksSent).toBeGreaterThan(0);
      expect(r.sa.retransSegs).toBe(0);
      expect(r.sa.sackRecoveries + r.sa.fastRetrans).toBe(0);
      expect(r.sa.rackLost).toBe(0);
      expect(r.sa.timeouts).toBe(0);
    }));

  // Was a bug (src/tcp/recovery.ts, processAck): dupAcks kept its count through recovery, so
  // every partial ACK marked the new head lost again and resent segments still on their
  // way. RFC 6675 resends in recovery only what IsLost() or RACK (RFC 8985 6.2) calls lost.
  // Reordering deeper than DupThresh resends the held segment itself, and nothing else.
  it("reordering deeper than DupThresh: only the held segment is resent, nothing else of its flight", () =>
    withSeed(seedFrom(1308), (seed) => {
      const MSS = 1448;
      // 100 Mb/s MACs: a segment held back 2.5 ms is overtaken by about twenty.
      const r = transfer(seed, {
        total: 150_000,
        faults: { delayMs: 20 },
        decide: (off, nth) => (off === 30 * MSS && nth === 1 ? 2.5 : PASS),
      });
      expect(r.of(30 * MSS).map((s) => s.action)).toEqual([2.5, PASS]);
      expect(r.sent.filter((s) => s.nth > 1).map((s) => s.off / MSS)).toEqual([30]);
      expect(r.sa.retransSegs).toBe(1);
      expect(r.sa.timeouts).toBe(0);
      // b got the resend as a duplicate, and nothing else twice.
      expect(r.b.net.drops.count("TCP_OUT_OF_WINDOW")).toBe(1);
    }));
});
