// TIME_WAIT (RFC 9293 3.6.1, RFC 6191, RFC 1122 4.2.2.13). A SYN for a connection that
// lingers in TIME_WAIT may open a new incarnation: with timestamps when its timestamp is
// newer than the last seen (or equal, with a higher sequence number), without them when its
// sequence number is past the old RCV.NXT, and always when the old incarnation had no
// timestamps but the new one will; the new ISN is above every sequence number the old one
// used. Anything else is an old duplicate: it draws an ACK and leaves TIME_WAIT alone. A
// full connection table gives up its oldest TIME_WAIT entry for a new connection.
//
// The client of the first part is a raw port on the LAN, so that it can reuse its 4-tuple
// and choose its sequence numbers and timestamps.
import { describe, expect, it } from "vitest";
import type { TcpSocket } from "../../src/socket/tcp";
import { seedFrom, withSeed } from "../helpers";
import {
  ACK, FIN, ip, optionsOf, optMss, optSackPerm, optTimestamp, PSH, RST, SYN, tcpFrame, tcpOf, type TcpView,
} from "../packets";
import { RawPort } from "../testbed";
import { B_IP, findConn, makePair, streamBytes, tcpTable } from "./harness";

const RAW_MAC = new Uint8Array([2, 0, 0, 0, 0, 0x88]);
const RAW_IP = "10.0.0.7";
const RPORT = 4000;
/** the raw client's first ISN */
const X = 100_000;

/**
 * b listens on port 80; a raw client at RAW_IP:RPORT opens a connection (with timestamps
 * or not), b's server writes `serverBytes` and closes first, the client acknowledges and
 * closes: b's end lingers in TIME_WAIT.
 */
function timeWait(seed: number, ts: boolean, serverBytes = 2) {
  const pair = makePair(seed, { delayMs: 1 });
  const { world, lan, b, B } = pair;
  const raw = new RawPort(world, lan);
  raw.arpAnswers.set(ip(RAW_IP), RAW_MAC);
  const fromB = (): TcpView[] => raw.take().map((f) => tcpOf(f.bytes)).filter((v): v is TcpView => v !== null);
  /** the raw client's clock for its TSval */
  let clock = 1000;
  const send = (flags: number, seq: number, ack: number, opts: { ts?: number; ecr?: number; syn?: boolean; payload?: Uint8Array } = {}): void => {
    const options: number[] = [];
    if (opts.syn === true) options.push(...optMss(1460), ...optSackPerm());
    if (opts.ts !== undefined) options.push(...optTimestamp(opts.ts, opts.ecr ?? 0));
    raw.send(tcpFrame(b.devices[0].addr, RAW_MAC, {
      src: ip(RAW_IP), dst: ip(B_IP), sport: RPORT, dport: 80, seq, ack, flags, window: 65535, options, payload: opts.payload,
    }));
    world.runFor(5);
  };
  const servers: TcpSocket[] = [];
  const got: number[][] = [];
  const listener = new B.Listener({
    port: 80,
    onReadable() {
      const k = got.length;
      got.push([]);
      servers.push(new B.TCP({ from: this.read()!, onReadable(n) { got[k].push(...new Uint8Array(this.read(n))); }, onError() { this.close(); } }));
    },
  });
  world.runFor(5);
  const stamp = (): number | undefined => (ts ? clock++ : undefined);
  // The handshake.
  send(SYN, X, 0, { syn: true, ts: stamp() });
  const [synAck] = fromB();
  expect(synAck.flags).toBe(SYN | ACK);
  expect(optionsOf(synAck).hasTimestamp).toBe(ts);
  const iss = synAck.seq;
  let ecr = optionsOf(synAck).tsVal;
  send(ACK, X + 1, iss + 1, { ts: stamp(), ecr });
  world.runFor(5);
  expect(servers).toHaveLength(1);
  // The server writes and closes; the client acknowledges everything as it comes.
  const data = streamBytes(serverBytes, seed);
  let written = 0;
  const sndMaxSeen = { v: iss + 1 };
  let finSeen = false;
  const ackAll = (): void => {
    const segs = fromB();
    if (segs.length === 0) return;
    for (const v of segs) {
      const end = (v.seq + v.payload.length + ((v.flags & FIN) !== 0 ? 1 : 0)) >>> 0;
      if (((end - sndMaxSeen.v) | 0) > 0) sndMaxSeen.v = end;
      if ((v.flags & FIN) !== 0) finSeen = true;
      if (optionsOf(v).hasTimestamp) ecr = optionsOf(v).tsVal;
    }
    send(ACK, X + 1, sndMaxSeen.v, { ts: stamp(), ecr });
  };
  for (let i = 0; i < 1000 && !finSeen; i++) {
    if (written < serverBytes) {
      let room = servers[0].write(new Uint8Array(0));
      while (written < serverBytes && room > 0) {
        const n = Math.min(room, serverBytes - written);
        room = servers[0].write(data.subarray(written, written + n));
        written += n;
      }
      if (written === serverBytes) servers[0].close();
    }
    world.runFor(2);
    ackAll();
  }
  expect(finSeen).toBe(true);
  expect(tcpTable(b.net)).toEqual(["LISTEN 80->0", "FIN_WAIT2 80->4000"]);
  // The client's FIN: b is in TIME_WAIT and acknowledges it.
  send(FIN | ACK, X + 1, sndMaxSeen.v, { ts: stamp(), ecr });
  const [lastAck] = fromB();
  expect([lastAck.flags, lastAck.seq, lastAck.ack]).toEqual([ACK, sndMaxSeen.v, X + 2]);
  expect(tcpTable(b.net)).toEqual(["LISTEN 80->0", "TIME_WAIT 80->4000"]);
  const c = findConn(b.net, 80, RPORT);
  const t = b.net.tcp.tcb;
  expect(t.rcvNxt[c]).toBe(X + 2);
  if (ts) expect(t.tsRecent[c]).toBe(clock - 1);
  return {
    ...pair, raw, fromB, send, servers, got, listener, iss, c, t,
    /** the last TSval the client sent */
    lastTs: clock - 1,
    /** the highest sequence number b used (its FIN's, plus one) */
    oldSndMax: sndMaxSeen.v,
    tw: t.waitTimer[c].expires,
  };
}

type Tw = ReturnType<typeof timeWait>;

/** A SYN from the raw client: it must make a new connection, which then carries data. */
function expectReopened(s: Tw, seq: number, ts: number | undefined): void {
  const { world, b, send, fromB, got } = s;
  send(SYN, seq, 0, { syn: true, ts });
  expect(b.net.tcp.stats.timeWaitReused).toBe(1);
  const out = fromB();
  expect(out.map((v) => [v.flags, v.ack])).toEqual([[SYN | ACK, seq + 1]]);
  const synAck = out[0];
  expect(optionsOf(synAck).hasTimestamp).toBe(ts !== undefined);
  if (ts !== undefined) expect(optionsOf(synAck).tsEcr).toBe(ts);
  expect(tcpTable(b.net)).toEqual(["LISTEN 80->0", "SYN_RECV 80->4000"]);
  // RFC 9293 3.6.1 (1), RFC 1122 4.2.2.13 (a): the new ISN is above every sequence number
  // the old incarnation used, so none of its segments can pass for the new one's.
  expect((synAck.seq - s.oldSndMax) | 0).toBeGreaterThan(0);
  const ecr = optionsOf(synAck).tsVal;
  const ts2 = ts !== undefined ? ts + 1 : undefined;
  send(ACK, seq + 1, synAck.seq + 1, { ts: ts2, ecr });
  send(ACK | PSH, seq + 1, synAck.seq + 1, { ts: ts2, ecr, payload: new Uint8Array([7, 8, 9]) });
  world.runFor(100);
  expect(got[1]).toEqual([7, 8, 9]);
  expect(tcpTable(b.net)).toEqual(["LISTEN 80->0", "ESTABLISHED 80->4000"]);
  expect(b.net.tcp.stats.passiveOpens).toBe(2);
  // The client resets the new connection: done.
  send(RST, seq + 4, 0);
  expect(tcpTable(b.net)).toEqual(["LISTEN 80->0"]);
  s.listener.close();
}

/** A SYN from the raw client that must not end TIME_WAIT: an ACK, no new connection. */
function expectRefused(s: Tw, seq: number, ts: number | undefined): void {
  const { b, send, fromB, t, c } = s;
  send(SYN, seq, 0, { syn: true, ts });
  expect(b.net.tcp.stats.timeWaitReused).toBe(0);
  expect(b.net.tcp.stats.passiveOpens).toBe(1);
  expect(tcpTable(b.net)).toEqual(["LISTEN 80->0", "TIME_WAIT 80->4000"]);
  // The answer is the ACK TIME_WAIT gives any unacceptable segment (RFC 9293 3.10.7.4):
  // what the peer should have, if it is still there.
  expect(fromB().map((v) => [v.flags, v.seq, v.ack])).toEqual([[ACK, s.oldSndMax, X + 2]]);
  expect(t.rcvNxt[c]).toBe(X + 2);
  // TIME_WAIT runs on, and ends.
  s.world.runFor(70_000);
  expect(tcpTable(b.net)).toEqual(["LISTEN 80->0"]);
  s.listener.close();
}

describe("TCP TIME_WAIT reuse by a new SYN (RFC 9293 3.6.1, RFC 6191)", () => {
  it("timestamps: a SYN with a newer TSval opens a new connection, whatever its sequence number", () =>
    withSeed(seedFrom(1201), (seed) => {
      const s = timeWait(seed, true);
      // Below the old RCV.NXT even: the timestamp decides (RFC 6191 2).
      expectReopened(s, X - 50_000, s.lastTs + 10);
    }));

  it("timestamps: a SYN with an older TSval is an old duplicate (PAWS): an ACK, TIME_WAIT stays", () =>
    withSeed(seedFrom(1202), (seed) => {
      const s = timeWait(seed, true);
      // Past the old RCV.NXT, but stamped before the last segment seen.
      expectRefused(s, X + 50_000, s.lastTs - 2);
      expect(s.b.net.tcp.stats.pawsEstabRejected).toBe(1);
      expect(s.b.net.drops.count("TCP_RFC7323_PAWS")).toBe(1);
    }));

  // RFC 6191 2: an equal timestamp with a higher sequence number is honoured too (Linux:
  // "not PAWS-rejected, and seq after rcv_nxt or TSval newer"); with a 1 ms TSval clock a
  // client that reconnects within the millisecond of its last segment meets it.
  it("timestamps: a SYN with the same TSval and a sequence number past the old RCV.NXT opens a new connection", () =>
    withSeed(seedFrom(1203), (seed) => {
      const s = timeWait(seed, true);
      expectReopened(s, X + 50_000, s.lastTs);
    }));

  it("timestamps: a SYN with the same TSval and an old sequence number: an ACK, TIME_WAIT stays", () =>
    withSeed(seedFrom(1204), (seed) => {
      const s = timeWait(seed, true);
      expectRefused(s, X - 50_000, s.lastTs);
    }));

  it("timestamps in the old connection, none in the SYN: the sequence number decides", () =>
    withSeed(seedFrom(1205), (seed) => {
      const s = timeWait(seed, true);
      expectReopened(s, X + 50_000, undefined);
      const s2 = timeWait(seed + 1, true);
      expectRefused(s2, X - 50_000, undefined);
    }));

  // RFC 9293 3.6.1 (MAY-2) reopens from TIME_WAIT only with an ISN "larger than the largest
  // sequence number it used on the previous connection incarnation" (RFC 1122 4.2.2.13): the
  // old snd_nxt + 65535 + 2, as Linux, not the RFC 6528 ISN, which moves 250 a millisecond.
  it("no timestamps: a SYN past the old RCV.NXT opens a new connection, with an ISN above the old one's sequence space", () =>
    withSeed(seedFrom(1206), (seed) => {
      // b sent 60 KB in the old incarnation, within a few tens of milliseconds.
      const s = timeWait(seed, false, 60_000);
      expect((s.oldSndMax - s.iss) >>> 0).toBe(60_000 + 2);
      expectReopened(s, X + 70_000, undefined);
    }));

  it("no timestamps: a SYN at or below the old RCV.NXT is an old duplicate: an ACK, TIME_WAIT stays", () =>
    withSeed(seedFrom(1207), (seed) => {
      const s = timeWait(seed, false);
      expectRefused(s, X - 5, undefined);
      const s2 = timeWait(seed + 1, false);
      expectRefused(s2, X + 2, undefined);
    }));

  // RFC 6191 2: "If the previous incarnation of the connection did not use Timestamps, then:
  // If TCP Timestamps would be enabled for the new incarnation of the connection, honor the
  // incoming connection request" (PAWS then guards the new one). Linux does not.
  it("no timestamps in the old connection, timestamps in the SYN: a new connection, whatever its sequence number", () =>
    withSeed(seedFrom(1208), (seed) => {
      const s = timeWait(seed, false);
      expectReopened(s, X - 5, 777);
    }));
});

describe("TCP TIME_WAIT when the connection table is full", () => {
  it("a new outgoing connection takes the oldest TIME_WAIT entry; with none, the table is full", () =>
    withSeed(seedFrom(1211), (seed) => {
      const { world, a, A, B } = makePair(seed, { delayMs: 1 }, { tcpSocketsMax: 4 }, {});
      const got: number[] = [];
      const accepted: TcpSocket[] = [];
      const listener = new B.Listener({
        port: 80,
        onReadable() {
          accepted.push(new B.TCP({ from: this.read()!, onReadable(n) { got.push(...new Uint8Array(this.read(n))); }, onError() { this.close(); } }));
        },
      });
      // Four connections, each closed by a first after a byte: four TIME_WAIT entries, 1 s apart.
      const ports: number[] = [];
      for (let i = 0; i < 4; i++) {
        const cl = new A.TCP({ address: B_IP, port: 80, onWritable() { if (ports.length === i) { ports.push(0); this.write(new Uint8Array([i])); this.close(); } } });
        void cl;
        world.runFor(1000);
      }
      expect(got).toEqual([0, 1, 2, 3]);
      const table = tcpTable(a.net);
      expect(table).toHaveLength(4);
      for (const e of table) expect(e).toMatch(/^TIME_WAIT \d+->80$/);
      const lports = table.map((e) => Number(/^TIME_WAIT (\d+)/.exec(e)![1]));
      // The first closed is the oldest: it goes.
      const oldest = lports.reduce((p, q) => (a.net.tcp.tcb.waitTimer[findConn(a.net, p, 80)].expires <= a.net.tcp.tcb.waitTimer[findConn(a.net, q, 80)].expires ? p : q));
      let up = false;
      const fifth = new A.TCP({ address: B_IP, port: 80, onWritable() { if (!up) { up = true; this.write(new Uint8Array([4])); } } });
      expect(a.net.tcp.stats.timeWaitReused).toBe(1);
      expect(a.net.tcp.stats.tableFull).toBe(0);
      world.runFor(100);
      expect(up).toBe(true);
      expect(got).toEqual([0, 1, 2, 3, 4]);
      const after = tcpTable(a.net);
      expect(after.filter((e) => e.startsWith("TIME_WAIT"))).toHaveLength(3);
      expect(after.some((e) => e.startsWith(`TIME_WAIT ${oldest}->`))).toBe(false);
      expect(after.filter((e) => e.startsWith("ESTABLISHED"))).toHaveLength(1);
      // Three more: each takes a TIME_WAIT entry; then there is none, and the table is full.
      const more: TcpSocket[] = [];
      for (let i = 0; i < 3; i++) more.push(new A.TCP({ address: B_IP, port: 80 }));
      expect(a.net.tcp.stats.timeWaitReused).toBe(4);
      world.runFor(100);
      expect(tcpTable(a.net).every((e) => e.startsWith("ESTABLISHED"))).toBe(true);
      expect(() => new A.TCP({ address: B_IP, port: 80 })).toThrow(/table full/);
      expect(a.net.tcp.stats.tableFull).toBe(1);
      fifth.close();
      for (const m of more) m.close();
      world.runFor(100);
      for (const s of accepted) s.close();
      listener.close();
    }));

  it("an incoming SYN to a full table takes the server's oldest TIME_WAIT entry", () =>
    withSeed(seedFrom(1212), (seed) => {
      // b: the listener and two connections. Its server closes first, so b keeps TIME_WAIT.
      const { world, a, b, A, B } = makePair(seed, { delayMs: 1 }, {}, { tcpSocketsMax: 3 });
      const listener = new B.Listener({
        port: 80,
        onReadable() {
          new B.TCP({
            from: this.read()!,
            onReadable(n) {
              const req = new Uint8Array(this.read(n));
              this.write(new Uint8Array([req[0] + 100]));
              this.close();
            },
          });
        },
      });
      const replies: number[] = [];
      const ask = (k: number): void => {
        let asked = false;
        new A.TCP({
          address: B_IP,
          port: 80,
          onWritable() { if (!asked) { asked = true; this.write(new Uint8Array([k])); } },
          onReadable(n) { replies.push(...new Uint8Array(this.read(n))); },
          onError() { this.close(); },
        });
        world.runFor(1000);
      };
      ask(1);
      ask(2);
      expect(replies).toEqual([101, 102]);
      const table = tcpTable(b.net);
      expect(table.filter((e) => e.startsWith("TIME_WAIT"))).toHaveLength(2);
      const tb = b.net.tcp.tcb;
      const byAge = table.filter((e) => e.startsWith("TIME_WAIT")).map((e) => Number(/->(\d+)$/.exec(e)![1]))
        .sort((p, q) => tb.waitTimer[findConn(b.net, 80, p)].expires - tb.waitTimer[findConn(b.net, 80, q)].expires);
      ask(3);
      expect(replies).toEqual([101, 102, 103]);
      expect(b.net.tcp.stats.timeWaitReused).toBe(1);
      expect(b.net.tcp.stats.listenDrops).toBe(0);
      expect(b.net.tcp.stats.tableFull).toBe(0);
      const now = tcpTable(b.net);
      expect(now.some((e) => e.endsWith(`->${byAge[0]}`))).toBe(false);
      expect(now.some((e) => e.endsWith(`->${byAge[1]}`))).toBe(true);
      expect(a.net.tcp.stats.attemptFails).toBe(0);
      world.runFor(1000);
      listener.close();
    }));
});
