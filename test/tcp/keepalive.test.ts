// Keepalive (RFC 1122 4.2.3.6), the socket option `keepalive` timed by
// config.tcpKeepaliveIdleMs / IntervalMs / Probes: off unless a socket asks; a peer that
// is gone (its host unplugged, or every frame lost) is found out after idle + probes x
// interval, the owner told with onError; a live peer answers each probe and an idle
// connection lives on for hours. A probe is an ACK one below SND.UNA with no data (as Linux
// sends it), which the peer answers with an ACK of where it is.
import { describe, expect, it } from "vitest";
import type { NetConfig } from "../../src/config";
import { DEFAULT_CONFIG } from "../../src/config";
import type { TcpSocket } from "../../src/socket/tcp";
import { seedFrom, withSeed } from "../helpers";
import { ACK, ip, RST, tcpOf, type TcpView } from "../packets";
import { A_IP, B_IP, makePair, type Pair, sha256, Sink, streamBytes, tapLan, tcpTable } from "./harness";

const PORT = 7000;
const HOUR = 3_600_000;

interface Wire {
  t: number;
  port: number;
  v: TcpView;
}

/**
 * a (client) and b (server) connected, each having sent the other `n` bytes (checked),
 * keepalive asked for on the client or on the server's accepted socket, or neither.
 */
function connected(seed: number, config: Partial<NetConfig>, keepalive: "client" | "server" | "none", n = 3000) {
  const pair = makePair(seed, { delayMs: 1 }, config);
  const { world, lan, A, B } = pair;
  const wire: Wire[] = [];
  tapLan(lan, world, (t, port, frame) => {
    const v = tcpOf(frame);
    if (v !== null) wire.push({ t, port, v });
  });
  const got = { a: new Sink(n), b: new Sink(n) };
  const errors = { a: [] as number[], b: [] as number[] };
  let server: TcpSocket | null = null;
  const listener = new B.Listener({
    port: PORT,
    onReadable() {
      server = new B.TCP({
        from: this.read()!,
        keepalive: keepalive === "server",
        onReadable(k) { got.b.push(new Uint8Array(this.read(k))); },
        onError() { errors.b.push(world.now); },
      });
    },
  });
  const client = new A.TCP({
    address: B_IP,
    port: PORT,
    keepalive: keepalive === "client",
    onReadable(k) { got.a.push(new Uint8Array(this.read(k))); },
    onError() { errors.a.push(world.now); },
  });
  world.runFor(20);
  const toB = streamBytes(n, seed);
  const toA = streamBytes(n, seed + 1);
  client.write(toB);
  server!.write(toA);
  world.runFor(200);
  expect(sha256(got.b.bytes())).toBe(sha256(toB));
  expect(sha256(got.a.bytes())).toBe(sha256(toA));
  expect(errors).toEqual({ a: [], b: [] });
  return { ...pair, wire, got, errors, client, server: server!, listener };
}

/** Both sides exchange `n` more bytes (checked), then the client closes and the server follows. */
function exchangeAndClose(s: ReturnType<typeof connected>, seed: number, n: number): void {
  const { world, a, b, client, server, got, listener } = s;
  const startA = got.a.len;
  const startB = got.b.len;
  const toB = streamBytes(n, seed + 2);
  const toA = streamBytes(n, seed + 3);
  client.write(toB);
  server.write(toA);
  world.runFor(500);
  expect(sha256(got.b.bytes().subarray(startB))).toBe(sha256(toB));
  expect(sha256(got.a.bytes().subarray(startA))).toBe(sha256(toA));
  client.close();
  world.runFor(100);
  server.close();
  world.runFor(100);
  listener.close();
  world.runFor(a.net.config.tcpTimeWaitMs + 10);
  expect(tcpTable(a.net)).toEqual([]);
  expect(tcpTable(b.net)).toEqual([]);
  for (const h of [a, b]) expect([h.net.tcp.stats.currEstab, h.net.tcp.stats.estabResets, h.net.tcp.stats.outRsts]).toEqual([0, 0, 0]);
}

/**
 * The keepalive probes `port` sent from `from` on: pure ACKs one below what the peer last
 * acknowledged (Linux tcp_xmit_probe_skb: SND.UNA - 1, no data).
 */
function probesFrom(wire: Wire[], port: number, from = 0): Wire[] {
  const out: Wire[] = [];
  let peerAck = -1;
  for (const w of wire) {
    if (w.port !== port) {
      if ((w.v.flags & ACK) !== 0) peerAck = w.v.ack;
      continue;
    }
    if (w.t >= from && w.v.flags === ACK && w.v.payload.length === 0 && peerAck >= 0 && w.v.seq === ((peerAck - 1) >>> 0)) out.push(w);
  }
  return out;
}

describe("TCP keepalive", () => {
  it("is off by default: no probes on an idle connection for 5 hours, even with short keepalive times configured", () =>
    withSeed(seedFrom(301), (seed) => {
      const config = { tcpKeepaliveIdleMs: 1000, tcpKeepaliveIntervalMs: 100, tcpKeepaliveProbes: 2, tcpTimeWaitMs: 1000 };
      const s = connected(seed, config, "none");
      const { world, a, b, wire } = s;
      const quietFrom = wire.length;
      world.runFor(5 * HOUR);
      expect(wire.slice(quietFrom)).toEqual([]); // not one TCP segment either way
      for (const h of [a, b]) expect([h.net.tcp.stats.keepaliveProbes, h.net.tcp.stats.keepaliveTimeouts]).toEqual([0, 0]);
      expect(tcpTable(a.net)).toEqual([expect.stringMatching(/^ESTABLISHED/)]);
      exchangeAndClose(s, seed, 5000);
      expect(s.errors.a).toEqual([]);
    }));

  // The peer's host silently gone: its LAN port down (unplugged, or the host powered off),
  // or every frame on the LAN lost; keepalive on the client, or on the server's socket.
  // The probes are on the wire as long as the neighbour entry lets them go (a's entry for b
  // is REACHABLE, from b's ARP reply, for at least 15 s; b has only a STALE one, from a's
  // request, so it is given a permanent one); the last case lets ARP fail too.
  interface Gone {
    what: string;
    side: "client" | "server";
    cut: (p: Pair) => void;
    idle: number;
    interval: number;
    probes: number;
    /** every probe reaches the wire (else some wait for ARP and are dropped with it) */
    onWire: boolean;
  }
  const GONE: Gone[] = [
    { what: "the server's LAN port goes down", side: "client", cut: (p) => p.lan.setPortUp(1, false), idle: 10_000, interval: 1_000, probes: 4, onWire: true },
    { what: "every frame is lost", side: "client", cut: (p) => p.lan.setAllFaults({ lossRate: 1 }), idle: 10_000, interval: 1_000, probes: 4, onWire: true },
    { what: "the client's LAN port goes down, keepalive on the server's socket", side: "server", cut: (p) => p.lan.setPortUp(0, false), idle: 5_000, interval: 500, probes: 6, onWire: true },
    { what: "the server's LAN port goes down, long enough for ARP to fail too", side: "client", cut: (p) => p.lan.setPortUp(1, false), idle: 60_000, interval: 5_000, probes: 3, onWire: false },
  ];
  for (const [i, k] of GONE.entries()) {
    it(`a dead peer (${k.what}): onError after idle + probes x interval (${k.idle} + ${k.probes} x ${k.interval} ms)`, () =>
      withSeed(seedFrom(311 + i), (seed) => {
        const config = { tcpKeepaliveIdleMs: k.idle, tcpKeepaliveIntervalMs: k.interval, tcpKeepaliveProbes: k.probes };
        const s = connected(seed, config, k.side);
        const { world, wire, errors } = s;
        const me = k.side === "client" ? s.a : s.b;
        const peer = k.side === "client" ? s.b : s.a;
        const myPort = k.side === "client" ? 0 : 1;
        if (k.side === "server") s.b.net.neigh.addPermanent(ip(A_IP), s.b.devices[0], s.a.devices[0].addr);
        world.runFor(1000);
        // The last segment the keepalive side received: its idle time runs from its arrival.
        const lastIn = wire.filter((w) => w.port !== myPort).at(-1)!;
        const cutAt = world.now;
        k.cut(s);
        world.runFor(k.idle + k.probes * k.interval + 10_000);
        const myErrors = k.side === "client" ? errors.a : errors.b;
        expect(myErrors).toHaveLength(1);
        // RFC 1122 4.2.3.6: the first probe once the connection was idle for the idle time,
        // one each interval after; Linux (tcp_keepalive_timer) gives up when `probes` probes
        // went unanswered and the next would be due. + 1 ms: lastIn's time on the wire.
        const due = lastIn.t + 1 + k.idle + k.probes * k.interval;
        expect(myErrors[0] - due).toBeGreaterThanOrEqual(0);
        expect(myErrors[0] - due).toBeLessThan(0.1);
        const probes = probesFrom(wire, myPort, cutAt);
        const mine = wire.filter((w) => w.port === myPort && w.t > cutAt);
        if (k.onWire) {
          expect(probes).toHaveLength(k.probes);
          const first = probes[0].t;
          expect(first - (lastIn.t + 1 + k.idle)).toBeGreaterThanOrEqual(0);
          expect(first - (lastIn.t + 1 + k.idle)).toBeLessThan(0.1);
          expect(probes.map((p) => Math.round(p.t - first))).toEqual(Array.from({ length: k.probes }, (_, n) => n * k.interval));
          // Nothing else but, at the end, the reset (Linux tcp_keepalive_timer sends one too).
          expect(mine.map((w) => w.v.flags)).toEqual([...probes.map(() => ACK), RST | ACK]);
          expect(mine.at(-1)!.t - myErrors[0]).toBeGreaterThanOrEqual(0);
          expect(mine.at(-1)!.t - myErrors[0]).toBeLessThan(0.1);
        } else {
          // The neighbour entry went stale, then failed: some probes never left, and the
          // reset with them. The timing above holds all the same.
          expect(probes.length).toBeGreaterThan(0);
          expect(probes.length).toBeLessThan(k.probes);
          expect(mine.every((w) => probes.includes(w))).toBe(true);
          expect(me.net.neigh.stats.resFailed).toBeGreaterThan(0);
        }
        expect(tcpTable(me.net).filter((x) => !x.startsWith("LISTEN"))).toEqual([]);
        const st = me.net.tcp.stats;
        expect(st.keepaliveProbes).toBe(k.probes);
        expect(st.keepaliveTimeouts).toBe(1);
        // An ESTABLISHED connection reset (RFC 4022 tcpEstabResets; Linux counts it too).
        expect(st.estabResets).toBe(1);
        expect(st.outRsts).toBe(1);
        expect(st.currEstab).toBe(0);
        expect([st.timeouts, st.retransSegs, st.attemptFails]).toEqual([0, 0, 0]);
        // The peer heard nothing of it; its stack did not probe (its socket did not ask).
        expect(peer.net.tcp.stats.keepaliveProbes).toBe(0);
        expect(peer.net.tcp.stats.inSegs).toBe(wire.filter((w) => w.port === myPort && w.t < cutAt).length);

        // The peer comes back and writes: the answer is a reset, and it is told.
        s.lan.setPortUp(0, true);
        s.lan.setPortUp(1, true);
        s.lan.setAllFaults({ lossRate: 0 });
        const peerSocket = k.side === "client" ? s.server : s.client;
        peerSocket.write(new Uint8Array([1, 2, 3]));
        world.runFor(5000);
        expect(k.side === "client" ? errors.b : errors.a).toHaveLength(1);
        expect(peer.net.tcp.stats.estabResets).toBe(1);
        expect(me.net.tcp.stats.outRsts).toBe(2);
        expect(tcpTable(peer.net).filter((x) => !x.startsWith("LISTEN"))).toEqual([]);
        s.client.close();
        s.server.close();
        s.listener.close();
      }));
  }

  it("a live idle peer answers every probe: 4 hours idle, one probe a minute, then the connection carries data", () =>
    withSeed(seedFrom(321), (seed) => {
      const IDLE = 60_000;
      const config = { tcpKeepaliveIdleMs: IDLE, tcpKeepaliveIntervalMs: 5_000, tcpKeepaliveProbes: 3, tcpTimeWaitMs: 1000 };
      const s = connected(seed, config, "client");
      const { world, a, b, wire } = s;
      const quietFrom = wire.length;
      world.runFor(4 * HOUR);
      const idle = wire.slice(quietFrom);
      const probes = probesFrom(wire, 0, idle[0].t);
      // Each probe is answered (an ACK of where b is), which starts the idle time again: a
      // probe every IDLE plus the round trip, never a second one at the interval.
      const answers = idle.filter((w) => w.port === 1);
      expect(idle.length).toBe(2 * probes.length);
      expect(answers.every((w) => w.v.flags === ACK && w.v.payload.length === 0)).toBe(true);
      const gaps = probes.slice(1).map((p, k) => p.t - probes[k].t);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(IDLE);
      expect(Math.max(...gaps)).toBeLessThan(IDLE + 3);
      expect(probes.length).toBeGreaterThanOrEqual(Math.floor((4 * HOUR) / (IDLE + 3)) - 1);
      expect(a.net.tcp.stats.keepaliveProbes).toBe(probes.length);
      expect(a.net.tcp.stats.keepaliveTimeouts).toBe(0);
      // b took each probe for what it is: a segment below its window, answered with an ACK.
      expect(b.net.drops.count("TCP_OUT_OF_WINDOW")).toBe(probes.length);
      expect(b.net.tcp.stats.keepaliveProbes).toBe(0);
      expect(s.errors).toEqual({ a: [], b: [] });
      expect(a.net.tcp.stats.timeouts + b.net.tcp.stats.timeouts).toBe(0);
      exchangeAndClose(s, seed, 20_000);
      expect(s.errors.a).toEqual([]);
    }));

  it("with the default times (2 h idle): an idle connection is probed at 2 h and 4 h in 5 hours, and lives on", () =>
    withSeed(seedFrom(322), (seed) => {
      // RFC 1122 4.2.3.6: the interval MUST default to no less than two hours.
      expect(DEFAULT_CONFIG.tcpKeepaliveIdleMs).toBeGreaterThanOrEqual(2 * HOUR);
      const s = connected(seed, { tcpTimeWaitMs: 1000 }, "server");
      const { world, a, b, wire } = s;
      const quietFrom = wire.length;
      const lastIn = wire.filter((w) => w.port === 0).at(-1)!;
      world.runFor(5 * HOUR);
      const probes = probesFrom(wire, 1, lastIn.t + 1);
      expect(probes.map((p) => Math.floor((p.t - lastIn.t) / 1000))).toEqual([
        DEFAULT_CONFIG.tcpKeepaliveIdleMs / 1000,
        (2 * DEFAULT_CONFIG.tcpKeepaliveIdleMs) / 1000,
      ]);
      expect(wire.length - quietFrom).toBe(4);
      expect(b.net.tcp.stats.keepaliveProbes).toBe(2);
      expect(a.net.tcp.stats.keepaliveProbes).toBe(0);
      exchangeAndClose(s, seed, 10_000);
    }));
});
