// Timestamps (RFC 7323): offered in the SYN and the SYN-ACK (config.tcpTimestamps), then on
// every segment but resets; TSecr echoes TS.Recent; they take 12 bytes of every segment,
// so the MSS of data drops to 1448 on a 1500-byte MTU and only 3 SACK blocks fit beside
// them. A peer that does not offer them gets none. PAWS drops a segment whose timestamp is
// older than TS.Recent (acknowledging it), resets apart. Each connection has its own
// TSval offset (RFC 7323 5.4). The timestamps time the round trip: srtt converges on the
// link's RTT.
import { describe, expect, it } from "vitest";
import type { NetConfig } from "../../src/config";
import type { TcpSocket } from "../../src/socket/tcp";
import { TF_TSTAMP } from "../../src/tcp/tcb";
import { seedFrom, withSeed } from "../helpers";
import {
  ACK, FIN, ip, optionKinds, optionsOf, optMss, optSackPerm, optTimestamp, PSH, RST, SYN, tcpFrame, tcpOf,
  type TcpView,
} from "../packets";
import { RawPort } from "../testbed";
import {
  A_IP, B_IP, connectedPair, DROP, filterLan, findConn, localPortTo, makePair, PASS, sha256, Sink, streamBytes,
  tapLan, tcpTable,
} from "./harness";

const RAW_MAC = new Uint8Array([2, 0, 0, 0, 0, 0x77]);
const RAW_IP = "10.0.0.7";

const KIND_MSS = 2;
const KIND_WSCALE = 3;
const KIND_SACK_PERM = 4;
const KIND_SACK = 5;
const KIND_TIMESTAMP = 8;

interface Seg {
  t: number;
  /** LAN port that sent it: 0 is a, 1 is b */
  port: number;
  v: TcpView;
}

/** Every TCP segment on the LAN, from now on. */
function record(pair: ReturnType<typeof makePair>): Seg[] {
  const segs: Seg[] = [];
  tapLan(pair.lan, pair.world, (t, port, frame) => {
    const v = tcpOf(frame);
    if (v !== null) segs.push({ t, port, v });
  });
  return segs;
}

/**
 * A client on a writes `up` bytes to a server on b, which writes `down` bytes back; both
 * check what they got; the client closes after it has everything, the server on the FIN.
 */
function exchange(pair: ReturnType<typeof makePair>, seed: number, up: number, down: number): void {
  const { world, A, B } = pair;
  const upData = streamBytes(up, seed);
  const downData = streamBytes(down, seed + 1);
  const gotUp = new Sink(up);
  const gotDown = new Sink(down);
  let server: TcpSocket | null = null;
  const listener = new B.Listener({
    port: 80,
    onReadable() {
      server = new B.TCP({
        from: this.read()!,
        onReadable(n) {
          gotUp.push(new Uint8Array(this.read(n)));
          if (gotUp.len === up) this.write(downData);
        },
        onError() { this.close(); },
      });
    },
  });
  let sent = 0;
  const client = new A.TCP({
    address: B_IP,
    port: 80,
    onWritable(room) {
      while (sent < up && room > 0) {
        const n = Math.min(room, up - sent);
        room = this.write(upData.subarray(sent, sent + n));
        sent += n;
      }
    },
    onReadable(n) {
      gotDown.push(new Uint8Array(this.read(n)));
      if (gotDown.len === down) this.close();
    },
  });
  world.runFor(5_000);
  expect(sha256(gotUp.bytes())).toBe(sha256(upData));
  expect(sha256(gotDown.bytes())).toBe(sha256(downData));
  expect(server).not.toBeNull();
  void client;
  listener.close();
}

/** a and b connected (harness connectedPair); inject sends a segment "from b" with a timestamp option. */
function established(seed: number, config: Partial<NetConfig> = {}) {
  const p = connectedPair(seed, config, RAW_MAC);
  const inject = (flags: number, seq: number, ack: number, tsVal: number, payload?: Uint8Array): void =>
    p.send({ flags, seq, ack, window: 1024, payload, options: optTimestamp(tsVal, p.a.net.tcp.tsVal(p.c)) });
  return { ...p, inject };
}

describe("TCP timestamps (RFC 7323)", () => {
  it("both ends offer them; every segment then carries them, TSecr echoing the peer's TSval; data segments carry 1448 bytes", () =>
    withSeed(seedFrom(1101), (seed) => {
      const pair = makePair(seed, { delayMs: 1 }, { tcpTimeWaitMs: 500 });
      const { a, b } = pair;
      const segs = record(pair);
      exchange(pair, seed, 20_000, 7_000);
      const [syn, synAck] = segs;
      expect(syn.v.flags).toBe(SYN);
      expect(synAck.v.flags).toBe(SYN | ACK);
      // Linux's layout: MSS, SACK-permitted + timestamps (12 bytes), NOP + window scale.
      for (const s of [syn, synAck]) {
        expect(optionKinds(s.v)).toEqual([KIND_MSS, KIND_SACK_PERM, KIND_TIMESTAMP, KIND_WSCALE]);
        expect(s.v.options.length).toBe(20);
        // The MSS option counts data only: options do not come off it (RFC 9293 3.7.1).
        expect(optionsOf(s.v).mss).toBe(1460);
      }
      const synTs = optionsOf(syn.v);
      expect(synTs.tsEcr).toBe(0);
      expect(optionsOf(synAck.v).tsEcr).toBe(synTs.tsVal);
      // Every segment after the handshake: timestamps and nothing else (no loss, no SACK).
      const rest = segs.slice(2);
      expect(rest.length).toBeGreaterThan(20);
      expect(rest.filter((s) => (s.v.flags & RST) !== 0)).toEqual([]);
      for (const s of rest) expect(optionKinds(s.v)).toEqual([KIND_TIMESTAMP]);
      // A 1500-byte MTU: 20 + 20 + 12 bytes of headers, 1448 of data.
      const sizes = rest.filter((s) => s.v.payload.length > 0).map((s) => s.v.payload.length);
      expect(Math.max(...sizes)).toBe(1448);
      expect(sizes.filter((n) => n === 1448).length).toBeGreaterThanOrEqual(Math.floor(20_000 / 1448) + Math.floor(7_000 / 1448));
      for (const s of segs) expect(s.v.csumOk).toBe(true);
      // TSval is a 1 ms clock plus the sender's offset for the connection: it never runs
      // ahead of the time the segment is on the wire, nor goes back. TSecr is always a
      // TSval the peer sent before, never going back either.
      const sentTs: [number[], number[]] = [[], []];
      const lastEcr = [-1, -1];
      for (const s of segs) {
        const o = optionsOf(s.v);
        const mine = sentTs[s.port];
        if (mine.length > 0) expect((o.tsVal - mine[mine.length - 1]) | 0).toBeGreaterThanOrEqual(0);
        mine.push(o.tsVal);
        if (s === syn) continue;
        expect(sentTs[1 - s.port]).toContain(o.tsEcr);
        if (lastEcr[s.port] !== -1) expect((o.tsEcr - lastEcr[s.port]) | 0).toBeGreaterThanOrEqual(0);
        lastEcr[s.port] = o.tsEcr;
      }
      // RFC 7323 4.3: an ACK echoes the TSval of the earliest segment it newly acknowledges
      // (the one at the previous ACK number), so a delayed ACK's echo counts the delay.
      const tsAt: [Map<number, number>, Map<number, number>] = [new Map(), new Map()];
      const acked = [syn.v.seq, synAck.v.seq];
      let advancing = 0;
      for (const s of segs) {
        const o = optionsOf(s.v);
        const occupies = s.v.payload.length + (s.v.flags & (SYN | FIN) ? 1 : 0);
        if (occupies > 0 && !tsAt[s.port].has(s.v.seq)) tsAt[s.port].set(s.v.seq, o.tsVal);
        const prev = acked[1 - s.port];
        if ((s.v.flags & ACK) === 0 || s.v.ack === prev) continue;
        expect(o.tsEcr).toBe(tsAt[1 - s.port].get(prev));
        acked[1 - s.port] = s.v.ack;
        advancing++;
      }
      expect(advancing).toBeGreaterThan(10);
      // The clock: TSval - offset is the time the segment was made, which is when it goes
      // on the wire or a little before (the SYN waited for ARP, frames wait for the MAC).
      const offA = a.net.tcp.secrets.tsOffset(syn.v.src, syn.v.sport, syn.v.dst, syn.v.dport);
      for (const s of segs.filter((x) => x.port === 0)) {
        const lag = Math.floor(s.t) - ((optionsOf(s.v).tsVal - offA) | 0);
        expect(lag).toBeGreaterThanOrEqual(0);
        expect(lag).toBeLessThanOrEqual(1);
      }
      // The last segment of all (a's ACK of b's FIN, from TIME_WAIT) echoes b's FIN.
      const last = segs[segs.length - 1];
      const finB = segs.filter((s) => s.port === 1 && (s.v.flags & FIN) !== 0).pop()!;
      expect(last.port).toBe(0);
      expect(optionsOf(last.v).tsEcr).toBe(optionsOf(finB.v).tsVal);
      expect(a.net.tcp.stats.pawsEstabRejected + b.net.tcp.stats.pawsEstabRejected).toBe(0);
      pair.world.runFor(1000);
      expect(tcpTable(a.net)).toEqual([]);
    }));

  it("the connection's MSS is 1448 at both ends, and TS.Recent follows the peer's clock", () =>
    withSeed(seedFrom(1102), (seed) => {
      const pair = makePair(seed, { delayMs: 1 });
      const { world, a, b, A, B } = pair;
      const segs = record(pair);
      let server: TcpSocket | null = null;
      const listener = new B.Listener({ port: 80, onReadable() { server = new B.TCP({ from: this.read()! }); } });
      const client = new A.TCP({ address: B_IP, port: 80 });
      world.runFor(50);
      const ca = findConn(a.net, localPortTo(a.net, 80), 80);
      const cb = findConn(b.net, 80, localPortTo(a.net, 80));
      const ta = a.net.tcp.tcb;
      const tb = b.net.tcp.tcb;
      expect(ta.flags[ca] & TF_TSTAMP).toBe(TF_TSTAMP);
      expect(tb.flags[cb] & TF_TSTAMP).toBe(TF_TSTAMP);
      expect([ta.mss[ca], tb.mss[cb]]).toEqual([1448, 1448]);
      // Each end's TS.Recent is the TSval of the last segment the other sent.
      const lastFrom = (port: number) => optionsOf(segs.filter((s) => s.port === port).pop()!.v).tsVal;
      expect(ta.tsRecent[ca]).toBe(lastFrom(1));
      expect(tb.tsRecent[cb]).toBe(lastFrom(0));
      // 1 s later, a one-byte write each way: TS.Recent moves on with the peer's clock.
      const before = [lastFrom(0), lastFrom(1)];
      const at = (port: number) => Math.floor(segs.filter((s) => s.port === port).pop()!.t);
      const beforeAt = [at(0), at(1)];
      world.runFor(1000);
      client.write(new Uint8Array([1]));
      server!.write(new Uint8Array([2]));
      world.runFor(100);
      expect(ta.tsRecent[ca]).toBe(lastFrom(1));
      expect(tb.tsRecent[cb]).toBe(lastFrom(0));
      for (const port of [0, 1]) {
        const moved = (lastFrom(port) - before[port]) | 0;
        expect(moved).toBeGreaterThan(1000);
        expect(Math.abs(moved - (at(port) - beforeAt[port]))).toBeLessThanOrEqual(1);
      }
      client.close();
      world.runFor(100);
      server!.close();
      listener.close();
    }));

  it("a reset carries no timestamps (RFC 7323 3.2)", () =>
    withSeed(seedFrom(1112), (seed) => {
      const pair = makePair(seed, { delayMs: 1 });
      const { world, b, A, B } = pair;
      const segs = record(pair);
      let server: TcpSocket | null = null;
      const listener = new B.Listener({ port: 80, onReadable() { server = new B.TCP({ from: this.read()! }); } });
      let errors = 0;
      const client = new A.TCP({ address: B_IP, port: 80, onError() { errors++; } });
      world.runFor(50);
      client.write(new Uint8Array([1, 2, 3]));
      world.runFor(50);
      // Closed with data unread: a reset, not a FIN.
      server!.close();
      world.runFor(50);
      const rst = segs.filter((s) => (s.v.flags & RST) !== 0);
      expect(rst.map((s) => [s.port, s.v.flags])).toEqual([[1, RST | ACK]]);
      expect(rst[0].v.options.length).toBe(0);
      expect(segs.filter((s) => (s.v.flags & RST) === 0).every((s) => optionsOf(s.v).hasTimestamp)).toBe(true);
      expect(errors).toBe(1);
      expect(b.net.tcp.stats.outRsts).toBe(1);
      expect(tcpTable(pair.a.net)).toEqual([]);
      listener.close();
    }));

  it("beside timestamps only 3 SACK blocks fit in the 40 option bytes; without them, 4", () =>
    withSeed(seedFrom(1103), (seed) => {
      const blocks = (config: Partial<NetConfig>): { most: number; optionBytes: number; mss: number; kinds: number[] } => {
        const pair = makePair(seed, { delayMs: 1 }, config);
        const { world, lan, a, b, A, B } = pair;
        // After a warm-up that opens cwnd, a burst of 14 segments of which the 2nd, 4th, 6th
        // and 8th are lost once: b holds four ranges out of order.
        const WARM = 60_000;
        const TOTAL = WARM + 14 * 1460;
        const data = streamBytes(TOTAL, seed);
        let isn = -1;
        const seen = new Set<number>();
        let mss = 0;
        filterLan(lan, world, (_t, port, frame) => {
          const v = tcpOf(frame);
          if (v === null || port !== 0 || v.payload.length === 0) return PASS;
          if (isn < 0) return PASS;
          const off = (v.seq - isn - 1) >>> 0;
          if (off < WARM || seen.has(v.seq)) return PASS;
          seen.add(v.seq);
          const k = Math.round((off - WARM) / mss);
          return k === 1 || k === 3 || k === 5 || k === 7 ? DROP : PASS;
        });
        let most = 0;
        let optionBytes = 0;
        let kinds: number[] = [];
        tapLan(lan, world, (_t, port, frame) => {
          const v = tcpOf(frame);
          if (v === null || port !== 1) return;
          const n = optionsOf(v).sackCount;
          if (n > most) {
            most = n;
            kinds = optionKinds(v);
          }
          optionBytes = Math.max(optionBytes, v.options.length);
        });
        const got = new Sink(TOTAL);
        let server: TcpSocket | null = null;
        const listener = new B.Listener({
          port: 80,
          onReadable() { server = new B.TCP({ from: this.read()!, onReadable(n) { got.push(new Uint8Array(this.read(n))); } }); },
        });
        const client = new A.TCP({ address: B_IP, port: 80 });
        world.runFor(20);
        const c = findConn(a.net, localPortTo(a.net, 80), 80);
        isn = a.net.tcp.tcb.iss[c];
        mss = a.net.tcp.tcb.mss[c];
        // The warm-up, then the burst, written when the warm-up is acknowledged.
        client.write(data.subarray(0, 30_000));
        world.runFor(500);
        client.write(data.subarray(30_000, WARM));
        world.runFor(500);
        expect(a.net.tcp.tcb.sndUna[c]).toBe((isn + 1 + WARM) >>> 0);
        expect(a.net.tcp.tcb.cwnd[c]).toBeGreaterThanOrEqual(14 * mss);
        client.write(data.subarray(WARM));
        world.runFor(2000);
        expect(sha256(got.bytes())).toBe(sha256(data));
        expect(a.net.tcp.stats.timeouts).toBe(0);
        expect(b.net.tcp.stats.sackBlocksSent).toBeGreaterThan(0);
        client.close();
        world.runFor(100);
        server!.close();
        listener.close();
        return { most, optionBytes, mss, kinds };
      };
      // With timestamps: 12 + 4 + 3 * 8 = 40 bytes.
      expect(blocks({})).toEqual({ most: 3, optionBytes: 40, mss: 1448, kinds: [KIND_TIMESTAMP, KIND_SACK] });
      // Without: 4 + 4 * 8 = 36 bytes.
      expect(blocks({ tcpTimestamps: false })).toEqual({ most: 4, optionBytes: 36, mss: 1460, kinds: [KIND_SACK] });
    }));

  it("a SYN without timestamps gets a SYN-ACK without them, and no segment of the connection carries them", () =>
    withSeed(seedFrom(1104), (seed) => {
      const { world, lan, b, B } = makePair(seed, { delayMs: 1 });
      const raw = new RawPort(world, lan);
      raw.arpAnswers.set(ip(RAW_IP), RAW_MAC);
      const fromB = (): TcpView[] => raw.take().map((f) => tcpOf(f.bytes)).filter((v): v is TcpView => v !== null);
      const send = (flags: number, seq: number, ack: number, options: number[], payload?: Uint8Array): void => {
        raw.send(tcpFrame(b.devices[0].addr, RAW_MAC, { src: ip(RAW_IP), dst: ip(B_IP), sport: 4000, dport: 80, seq, ack, flags, window: 65535, options, payload }));
        world.runFor(10);
      };
      const got: number[] = [];
      let server: TcpSocket | null = null;
      let errors = 0;
      const listener = new B.Listener({
        port: 80,
        onReadable() {
          server = new B.TCP({ from: this.read()!, onReadable(n) { got.push(...new Uint8Array(this.read(n))); }, onError() { errors++; } });
        },
      });
      world.runFor(5);
      // MSS and SACK-permitted, no timestamps, no window scale.
      send(SYN, 1000, 0, [...optMss(1460), ...optSackPerm()]);
      const [synAck] = fromB();
      expect(synAck.flags).toBe(SYN | ACK);
      expect(synAck.ack).toBe(1001);
      expect(optionKinds(synAck)).toEqual([KIND_MSS, KIND_SACK_PERM]);
      expect(optionsOf(synAck).hasTimestamp).toBe(false);
      const iss = synAck.seq;
      send(ACK, 1001, iss + 1, []);
      send(ACK | PSH, 1001, iss + 1, [], new Uint8Array([1, 2, 3]));
      world.runFor(100);
      expect(got).toEqual([1, 2, 3]);
      const c = findConn(b.net, 80, 4000);
      expect(b.net.tcp.tcb.flags[c] & TF_TSTAMP).toBe(0);
      expect(b.net.tcp.tcb.mss[c]).toBe(1460);
      // b's data: full 1460-byte segments, bare 20-byte headers.
      server!.write(streamBytes(2920, seed));
      world.runFor(10);
      const out = fromB();
      expect(out.length).toBeGreaterThanOrEqual(3);
      expect(out.filter((v) => v.payload.length > 0).map((v) => v.payload.length)).toEqual([1460, 1460]);
      for (const v of out) expect(v.options.length).toBe(0);
      // A segment with a timestamp now changes nothing: none in the answer either.
      send(ACK | PSH, 1004, iss + 1 + 2920, optTimestamp(12345, 0), new Uint8Array([4]));
      world.runFor(100);
      expect(got).toEqual([1, 2, 3, 4]);
      for (const v of fromB()) expect(v.options.length).toBe(0);
      expect(b.net.tcp.stats.pawsEstabRejected).toBe(0);
      // The raw peer resets: over.
      send(RST, 1005, 0, []);
      expect(errors).toBe(1);
      expect(tcpTable(b.net)).toEqual(["LISTEN 80->0"]);
      listener.close();
    }));

  it("a SYN-ACK without timestamps: the client that offered them stops sending them", () =>
    withSeed(seedFrom(1105), (seed) => {
      const { world, lan, a, A } = makePair(seed, { delayMs: 1 });
      const raw = new RawPort(world, lan);
      raw.arpAnswers.set(ip(RAW_IP), RAW_MAC);
      const fromA = (): TcpView[] => raw.take().map((f) => tcpOf(f.bytes)).filter((v): v is TcpView => v !== null);
      let errors = 0;
      const client = new A.TCP({ address: RAW_IP, port: 80, onError() { errors++; } });
      world.runFor(10);
      const [syn] = fromA();
      expect(syn.flags).toBe(SYN);
      expect(optionsOf(syn).hasTimestamp).toBe(true);
      const lport = syn.sport;
      raw.send(tcpFrame(a.devices[0].addr, RAW_MAC, {
        src: ip(RAW_IP), dst: ip(A_IP), sport: 80, dport: lport, seq: 5000, ack: syn.seq + 1, flags: SYN | ACK, window: 65535, options: optMss(1460),
      }));
      world.runFor(10);
      const c = findConn(a.net, lport, 80);
      expect(a.net.tcp.tcb.flags[c] & TF_TSTAMP).toBe(0);
      expect(a.net.tcp.tcb.mss[c]).toBe(1460);
      client.write(streamBytes(2920, seed));
      world.runFor(10);
      const out = fromA();
      expect(out.map((v) => [v.flags & ~PSH, v.payload.length])).toEqual([[ACK, 0], [ACK, 1460], [ACK, 1460]]);
      for (const v of out) expect(v.options.length).toBe(0);
      raw.send(tcpFrame(a.devices[0].addr, RAW_MAC, { src: ip(RAW_IP), dst: ip(A_IP), sport: 80, dport: lport, seq: 5001, flags: RST }));
      world.runFor(10);
      expect(errors).toBe(1);
      expect(tcpTable(a.net)).toEqual([]);
    }));

  it("config.tcpTimestamps false: no timestamps offered, whichever end has it", () =>
    withSeed(seedFrom(1106), (seed) => {
      for (const [ca, cb] of [[{ tcpTimestamps: false }, {}], [{}, { tcpTimestamps: false }]] as Partial<NetConfig>[][]) {
        const pair = makePair(seed, { delayMs: 1 }, { ...ca, tcpTimeWaitMs: 500 }, { ...cb, tcpTimeWaitMs: 500 });
        const segs = record(pair);
        exchange(pair, seed, 5_000, 3_000);
        const [syn, synAck] = segs;
        // The end that has them off offers none; the other offers them, and gets none back.
        expect(optionsOf(syn.v).hasTimestamp).toBe(ca.tcpTimestamps !== false);
        expect(optionsOf(synAck.v).hasTimestamp).toBe(false);
        // SACK-permitted still goes, in its own 4 bytes.
        expect(optionKinds(synAck.v)).toEqual([KIND_MSS, KIND_SACK_PERM, KIND_WSCALE]);
        expect(synAck.v.options.length).toBe(12);
        for (const s of segs.slice(2)) expect(s.v.options.length).toBe(0);
        expect(Math.max(...segs.map((s) => s.v.payload.length))).toBe(1460);
        pair.world.runFor(1000);
        expect(tcpTable(pair.a.net)).toEqual([]);
      }
    }));

  it("PAWS: a segment with an older TSval is dropped and acknowledged, however right its sequence numbers", () =>
    withSeed(seedFrom(1107), (seed) => {
      const s = established(seed);
      const { a, c, t, fromA, inject, world } = s;
      const rcvNxt = t.rcvNxt[c];
      const sndNxt = t.sndNxt[c];
      const recent = t.tsRecent[c];
      // Exactly the next data b would send, but stamped 1 ms, then about 12 days, before TS.Recent.
      // Two ticks old: one tick is forgiven (PAWS_WINDOW, as Linux).
      inject(ACK | PSH, rcvNxt, sndNxt, recent - 2, new Uint8Array([0xba, 0xd]));
      inject(ACK | PSH, rcvNxt, sndNxt, recent - 0x40000000, new Uint8Array([0xba, 0xd]));
      expect(a.net.tcp.stats.pawsEstabRejected).toBe(2);
      expect(a.net.drops.count("TCP_RFC7323_PAWS")).toBe(2);
      // Each answered with an ACK of what a really has, echoing the real TS.Recent.
      expect(fromA.map((v) => [v.flags, v.seq, v.ack, v.payload.length])).toEqual([[ACK, sndNxt, rcvNxt, 0], [ACK, sndNxt, rcvNxt, 0]]);
      for (const v of fromA) expect(optionsOf(v).tsEcr).toBe(recent);
      expect(t.rcvNxt[c]).toBe(rcvNxt);
      expect(t.tsRecent[c]).toBe(recent);
      expect(s.got.a).toEqual([4, 5, 6]);
      // b's real data still goes through.
      s.server.write(new Uint8Array([7]));
      s.client.write(new Uint8Array([8]));
      world.runFor(500);
      expect(s.got).toEqual({ a: [4, 5, 6, 7], b: [1, 2, 3, 8] });
      expect(a.net.tcp.stats.pawsEstabRejected).toBe(2);
      expect(s.errors).toEqual({ a: 0, b: 0 });
      s.client.close();
      world.runFor(100);
      s.server.close();
      s.listener.close();
    }));

  it("PAWS spares resets: an old-stamped RST in the window is challenged, one at RCV.NXT resets", () =>
    withSeed(seedFrom(1108), (seed) => {
      const s = established(seed);
      const { a, c, t, fromA, inject } = s;
      const rcvNxt = t.rcvNxt[c];
      const old = t.tsRecent[c] - 1000;
      inject(RST, rcvNxt + 100, 0, old);
      expect(a.net.tcp.stats.challengeAcks).toBe(1);
      expect(fromA.map((v) => [v.flags, v.ack])).toEqual([[ACK, rcvNxt]]);
      inject(RST, rcvNxt, 0, old);
      expect(a.net.tcp.stats.pawsEstabRejected).toBe(0);
      expect(a.net.drops.count("TCP_RFC7323_PAWS")).toBe(0);
      expect(a.net.tcp.stats.estabResets).toBe(1);
      expect(s.errors).toEqual({ a: 1, b: 0 });
      expect(fromA).toHaveLength(1); // a reset is never answered
      expect(tcpTable(a.net)).toEqual([]);
      s.client.close();
      s.server.close();
      s.listener.close();
    }));

  it("each connection has its own TSval offset (RFC 7323 5.4), not the uptime", () =>
    withSeed(seedFrom(1109), (seed) => {
      const pair = makePair(seed, { delayMs: 1 });
      const { world, a, b, A, B } = pair;
      const segs = record(pair);
      const accepted: TcpSocket[] = [];
      const listener = new B.Listener({ port: 80, onReadable() { accepted.push(new B.TCP({ from: this.read()! })); } });
      const clients = [new A.TCP({ address: B_IP, port: 80 }), new A.TCP({ address: B_IP, port: 80 }), new A.TCP({ address: B_IP, port: 80 })];
      world.runFor(50);
      for (const cl of clients) cl.write(new Uint8Array([1]));
      world.runFor(100);
      // Per sender and connection (a's local port), TSval minus the time in ms.
      const offsets = new Map<string, Set<number>>();
      for (const s of segs) {
        const key = `${s.port}:${s.port === 0 ? s.v.sport : s.v.dport}`;
        const set = offsets.get(key) ?? new Set<number>();
        set.add((optionsOf(s.v).tsVal - Math.floor(s.t)) >>> 0);
        offsets.set(key, set);
      }
      expect(offsets.size).toBe(6);
      // One offset per connection and direction (within a ms of the wire time), all different.
      const firsts = [...offsets.values()].map((set) => Math.max(...set));
      for (const set of offsets.values()) expect(Math.max(...set) - Math.min(...set)).toBeLessThanOrEqual(1);
      expect(new Set(firsts).size).toBe(6);
      for (const off of firsts) expect(Math.abs(off | 0)).toBeGreaterThan(1000);
      // The tables agree, and each offset is the keyed hash of its 4-tuple.
      const ta = a.net.tcp.tcb;
      const tb = b.net.tcp.tcb;
      const seen = new Set<number>();
      for (let ca = 0; ca < ta.size; ca++) {
        if (ta.state[ca] <= 1) continue;
        expect(ta.tsOffset[ca]).toBe(a.net.tcp.secrets.tsOffset(ta.localAddr[ca], ta.localPort[ca], ta.remoteAddr[ca], ta.remotePort[ca]));
        seen.add(ta.tsOffset[ca]);
        const cb = findConn(b.net, 80, ta.localPort[ca]);
        seen.add(tb.tsOffset[cb]);
      }
      expect(seen.size).toBe(6);
      for (const cl of clients) cl.close();
      world.runFor(100);
      for (const sk of accepted) sk.close();
      listener.close();
    }));

  for (const delayMs of [25, 50]) {
    it(`srtt converges on the round trip of a ${2 * delayMs} ms link`, () =>
      withSeed(seedFrom(1110 + delayMs), (seed) => {
        const pair = makePair(seed, { delayMs }, { tcpTimeWaitMs: 500 });
        const { world, a, b, A, B } = pair;
        // Each knows the other's MAC: the SYN does not wait for ARP (its TSval would count the wait).
        a.net.neigh.addPermanent(ip(B_IP), a.devices[0], b.devices[0].addr);
        b.net.neigh.addPermanent(ip(A_IP), b.devices[0], a.devices[0].addr);
        const TOTAL = 300_000;
        const data = streamBytes(TOTAL, seed);
        const got = new Sink(TOTAL);
        let server: TcpSocket | null = null;
        const listener = new B.Listener({
          port: 80,
          onReadable() { server = new B.TCP({ from: this.read()!, onReadable(n) { got.push(new Uint8Array(this.read(n))); }, onError() { this.close(); } }); },
        });
        let sent = 0;
        const samples: number[] = [];
        const client = new A.TCP({
          address: B_IP,
          port: 80,
          onWritable(room) {
            while (sent < TOTAL && room > 0) {
              const n = Math.min(room, TOTAL - sent);
              room = this.write(data.subarray(sent, sent + n));
              sent += n;
            }
          },
        });
        world.runFor(4 * delayMs);
        const c = findConn(a.net, localPortTo(a.net, 80), 80);
        const cb = findConn(b.net, 80, localPortTo(a.net, 80));
        const rtt = 2 * delayMs * 1000;
        // The handshake gave both ends a first sample.
        expect(Math.abs(a.net.tcp.tcb.srtt[c] - rtt)).toBeLessThanOrEqual(2000);
        expect(Math.abs(b.net.tcp.tcb.srtt[cb] - rtt)).toBeLessThanOrEqual(2000);
        while (got.len < TOTAL && world.now < 60_000) {
          world.runFor(delayMs);
          samples.push(a.net.tcp.tcb.srtt[c]);
        }
        expect(sha256(got.bytes())).toBe(sha256(data));
        // srtt never goes below the link's RTT; a delayed ACK (40 ms) in the first flight,
        // counted as RFC 7323 4.3 wants, weighs an eighth: at most 5 ms above it, for a while.
        // Then it settles within a millisecond (the MACs' serialization is in it too).
        expect(Math.min(...samples)).toBeGreaterThanOrEqual(rtt);
        expect(Math.max(...samples)).toBeLessThanOrEqual(rtt + 6000);
        const srtt = a.net.tcp.tcb.srtt[c];
        expect(srtt - rtt).toBeLessThanOrEqual(1000);
        expect(samples.slice(-samples.length >> 1).every((x) => x - rtt <= 1000)).toBe(true);
        expect(a.net.tcp.tcb.rto[c]).toBeGreaterThanOrEqual(200);
        expect(a.net.tcp.stats.retransSegs).toBe(0);
        client.close();
        world.runFor(2000);
        void server;
        listener.close();
      }));
  }
});
