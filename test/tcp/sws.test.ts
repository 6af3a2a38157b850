// Sender silly-window avoidance (RFC 1122 4.2.3.4, RFC 9293 3.8.6.2.1): when the peer's
// window leaves room for less than a full segment and less than half the largest window
// it ever offered, the sender waits instead of sending a sliver; it sends once the window
// opens by a full segment or half that largest window, or when the persist timer fires
// with nothing in flight (the override, so a peer whose window never grows still gets
// data). The peer is a raw port on the LAN, so its windows are exactly what the test says.
import { describe, expect, it } from "vitest";
import { seedFrom, withSeed } from "../helpers";
import { ACK, ip, optMss, RST, SYN, tcpFrame, tcpOf, type TcpView } from "../packets";
import { RawPort } from "../testbed";
import { A_IP, findConn, makePair, streamBytes, tcpTable } from "./harness";

const RAW_MAC = new Uint8Array([2, 0, 0, 0, 0, 0x99]);
const RAW_IP = "10.0.0.7";
/** the raw server's ISN */
const RISS = 7000;

/**
 * A client on a connected to a raw server at RAW_IP:80 that offered `window` bytes and an
 * MSS of `mss` in its SYN-ACK (no window scale, timestamps or SACK). The client writes
 * `total` bytes at once.
 */
function setup(seed: number, window: number, mss: number, total: number) {
  const pair = makePair(seed, { delayMs: 1 });
  const { world, lan, a, A } = pair;
  const raw = new RawPort(world, lan);
  raw.arpAnswers.set(ip(RAW_IP), RAW_MAC);
  const data = streamBytes(total, seed);
  let errors = 0;
  const client = new A.TCP({ address: RAW_IP, port: 80, onError() { errors++; } });
  world.runFor(10);
  const first = raw.take().map((f) => tcpOf(f.bytes)).filter((v): v is TcpView => v !== null);
  expect(first.map((v) => v.flags)).toEqual([SYN]);
  const lport = first[0].sport;
  const iss = first[0].seq;
  const send = (flags: number, ack: number, win: number, options: number[] = []): void => {
    raw.send(tcpFrame(a.devices[0].addr, RAW_MAC, { src: ip(RAW_IP), dst: ip(A_IP), sport: 80, dport: lport, seq: RISS + (flags & SYN ? 0 : 1), ack, flags, window: win, options }));
  };
  send(SYN | ACK, iss + 1, window, optMss(mss));
  world.runFor(10);
  const c = findConn(a.net, lport, 80);
  const t = a.net.tcp.tcb;
  expect(t.mss[c]).toBe(Math.min(mss, 1460));
  expect(t.maxSndWnd[c]).toBe(window);
  raw.take();
  /** What the raw server received: every data segment from a, and the stream as it stands. */
  const segs: { t: number; off: number; len: number }[] = [];
  const stream = new Uint8Array(total);
  const pull = (): { off: number; len: number }[] => {
    const out: { off: number; len: number }[] = [];
    for (const f of raw.take()) {
      const v = tcpOf(f.bytes);
      if (v === null || v.payload.length === 0) continue;
      const off = (v.seq - iss - 1) >>> 0;
      stream.set(v.payload, off);
      segs.push({ t: f.t, off, len: v.payload.length });
      out.push({ off, len: v.payload.length });
    }
    return out;
  };
  /** The raw server acknowledges `upTo` bytes of the stream, offering `win`. */
  const ack = (upTo: number, win: number): void => {
    send(ACK, iss + 1 + upTo, win);
    world.runFor(5);
  };
  client.write(data);
  world.runFor(5);
  const done = (): void => {
    // Everything that was sent is what was written.
    const have = segs.reduce((m, s) => Math.max(m, s.off + s.len), 0);
    expect(stream.subarray(0, have)).toEqual(data.subarray(0, have));
    send(RST, 0, 0);
    world.runFor(5);
    expect(errors).toBe(1);
    expect(tcpTable(a.net)).toEqual([]);
  };
  return { ...pair, raw, client, c, t, pull, ack, segs, done, data };
}

describe("TCP sender silly-window avoidance (RFC 1122 4.2.3.4)", () => {
  it("an idle sender facing a window smaller than a segment waits until it opens by a full segment", () =>
    withSeed(seedFrom(1401), (seed) => {
      // The peer offered 8000 bytes and an MSS of 1000: cwnd starts at 4 segments.
      const s = setup(seed, 8000, 1000, 20_000);
      const { t, c, pull, ack, world } = s;
      expect(pull()).toEqual([0, 1000, 2000, 3000].map((off) => ({ off, len: 1000 })));
      // All acknowledged, but only 300 bytes of window: less than a segment, less than 4000.
      ack(4000, 300);
      expect(t.sndWnd[c]).toBe(300);
      world.runFor(50);
      expect(pull()).toEqual([]);
      // 999 bytes: still less than a segment.
      ack(4000, 999);
      world.runFor(50);
      expect(pull()).toEqual([]);
      // A full segment's worth: one full segment goes.
      ack(4000, 1000);
      expect(pull()).toEqual([{ off: 4000, len: 1000 }]);
      // Room for 2.5 segments: two go, the half segment waits.
      ack(5000, 2500);
      expect(pull()).toEqual([{ off: 5000, len: 1000 }, { off: 6000, len: 1000 }]);
      world.runFor(50);
      expect(pull()).toEqual([]);
      expect(a_persistProbes(s)).toBe(0);
      s.done();
    }));

  it("with data in flight, the part of a segment that would fit is not sent", () =>
    withSeed(seedFrom(1402), (seed) => {
      // The peer acknowledges part of the flight and offers windows whose right edge cuts
      // into the next segment.
      const s = setup(seed, 8000, 1000, 20_000);
      const { pull, ack, world } = s;
      expect(pull()).toHaveLength(4);
      // 1000 acknowledged; window 3300 from there: 3000 in flight, 300 of room.
      ack(1000, 3300);
      world.runFor(50);
      expect(pull()).toEqual([]);
      // 2000 acknowledged, window 2900: 2000 in flight, 900 of room: nothing yet.
      ack(2000, 2900);
      world.runFor(50);
      expect(pull()).toEqual([]);
      // 3000 acknowledged, window 2100: 1000 in flight, 1100 of room: one full segment.
      ack(3000, 2100);
      expect(pull()).toEqual([{ off: 4000, len: 1000 }]);
      world.runFor(50);
      expect(pull()).toEqual([]);
      s.done();
    }));

  it("a window of half the largest one offered is used, even below a full segment", () =>
    withSeed(seedFrom(1403), (seed) => {
      // The peer never offers more than 2000 bytes, with an MSS of 1460: half its largest
      // window (1000) is the threshold, not the segment.
      const s = setup(seed, 2000, 1460, 20_000);
      const { t, c, pull, ack, world } = s;
      // 2000 of window: a full segment; the 540 left over waits.
      expect(pull()).toEqual([{ off: 0, len: 1460 }]);
      world.runFor(50);
      expect(pull()).toEqual([]);
      // All acknowledged, 999 of window: below half the largest window and below a segment.
      ack(1460, 999);
      world.runFor(50);
      expect(pull()).toEqual([]);
      // 1000: half the largest window: sent.
      ack(1460, 1000);
      expect(pull()).toEqual([{ off: 1460, len: 1000 }]);
      expect(t.maxSndWnd[c]).toBe(2000);
      s.done();
    }));

  it("the persist timer overrides it: with nothing in flight, the small window is filled after an RTO", () =>
    withSeed(seedFrom(1404), (seed) => {
      const s = setup(seed, 8000, 1000, 20_000);
      const { t, c, pull, ack, world, segs } = s;
      expect(pull()).toHaveLength(4);
      ack(4000, 300);
      const at = world.now;
      const rto = t.rto[c];
      expect(rto).toBeGreaterThanOrEqual(200);
      world.runFor(rto - 10);
      expect(pull()).toEqual([]);
      world.runFor(20);
      // The override: 300 bytes, one RTO after the window went small.
      expect(pull()).toEqual([{ off: 4000, len: 300 }]);
      expect(segs[segs.length - 1].t - at).toBeGreaterThanOrEqual(rto - 5);
      expect(segs[segs.length - 1].t - at).toBeLessThanOrEqual(rto + 5);
      // It was data, not a window probe.
      expect(a_persistProbes(s)).toBe(0);
      // Acknowledged with the same small window: again only after the persist timer.
      ack(4300, 300);
      world.runFor(t.rto[c] - 10);
      expect(pull()).toEqual([]);
      world.runFor(20);
      expect(pull()).toEqual([{ off: 4300, len: 300 }]);
      // The window opens wide: the rest of the split segment, then full segments.
      ack(4600, 8000);
      world.runFor(5);
      const next = pull();
      expect(next[0]).toEqual({ off: 4600, len: 400 });
      expect(next.slice(1).every((x) => x.len === 1000)).toBe(true);
      expect(a_timeouts(s)).toBe(0);
      s.done();
    }));

  it("with data in flight the override waits: a sliver goes only once the flight is acknowledged", () =>
    withSeed(seedFrom(1405), (seed) => {
      const s = setup(seed, 8000, 1000, 20_000);
      const { t, c, pull, ack, world } = s;
      expect(pull()).toHaveLength(4);
      // 300 bytes of room beside 3000 in flight, for longer than an RTO: the retransmission
      // timer runs for the flight, and resends its first segment; no sliver is sent.
      ack(1000, 3300);
      world.runFor(t.rto[c] + 20);
      const resent = pull();
      expect(resent).toEqual([{ off: 1000, len: 1000 }]);
      expect(a_timeouts(s)).toBe(1);
      // Everything acknowledged, the window still small: the persist timer's override.
      ack(4000, 300);
      world.runFor(t.rto[c] + 20);
      expect(pull()).toEqual([{ off: 4000, len: 300 }]);
      s.done();
    }));
});

function a_persistProbes(s: ReturnType<typeof setup>): number {
  return s.a.net.tcp.stats.persistProbes;
}

function a_timeouts(s: ReturnType<typeof setup>): number {
  return s.a.net.tcp.stats.timeouts;
}

