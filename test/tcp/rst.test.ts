// RST, SYN and ACK injection into an established connection (RFC 5961): a raw port on the
// LAN sends segments that claim to come from the peer. An RST exactly at RCV.NXT resets;
// one elsewhere in the window, a SYN, or an ACK of data never sent draws a challenge ACK
// (rate-limited by config.tcpChallengeAcksPerSec) and the connection lives on; an RST
// outside the window is dropped in silence.
import { describe, expect, it } from "vitest";
import type { NetConfig } from "../../src/config";
import { seedFrom, withSeed } from "../helpers";
import { ACK, ip, RST, SYN, tcpFrame, tcpOf } from "../packets";
import { RawPort } from "../testbed";
import { B_IP, connectedPair, makePair, tcpTable } from "./harness";

const RAW_MAC = new Uint8Array([2, 0, 0, 0, 0, 0x66]);

/** a and b connected (harness connectedPair); inject sends a segment "from b" to a's connection. */
function setup(seed: number, config: Partial<NetConfig> = {}) {
  const p = connectedPair(seed, config, RAW_MAC);
  const inject = (flags: number, seq: number, ack = 0, payload?: Uint8Array): void => p.send({ flags, seq, ack, window: 8192, payload });
  return { ...p, inject };
}

describe("TCP RST, SYN and ACK injection (RFC 5961)", () => {
  it("an in-window RST not at RCV.NXT draws a challenge ACK; the connection lives on", () =>
    withSeed(seedFrom(71), (seed) => {
      const s = setup(seed);
      const { a, c, t, fromA, inject, world } = s;
      const rcvNxt = t.rcvNxt[c];
      const sndNxt = t.sndNxt[c];
      inject(RST, rcvNxt + 100);
      // The challenge ACK: our SND.NXT, ACK of RCV.NXT, nothing else.
      expect(fromA.map((v) => [v.flags, v.seq, v.ack, v.payload.length])).toEqual([[ACK, sndNxt, rcvNxt, 0]]);
      expect(a.net.tcp.stats.challengeAcks).toBe(1);
      expect(a.net.drops.count("TCP_RESET_CHALLENGED")).toBe(1);
      expect(a.net.tcp.stats.estabResets).toBe(0);
      // Also an RST with an ACK, one segment further.
      inject(RST | ACK, rcvNxt + 1460, sndNxt);
      expect(a.net.tcp.stats.challengeAcks).toBe(2);
      // Still connected, both ways.
      s.client.write(new Uint8Array([7]));
      s.server.write(new Uint8Array([8]));
      world.runFor(500);
      expect(s.got).toEqual({ a: [4, 5, 6, 8], b: [1, 2, 3, 7] });
      expect(s.errors).toEqual({ a: 0, b: 0 });
      s.client.close();
      world.runFor(100);
      s.server.close();
      s.listener.close();
    }));

  it("an RST outside the window is dropped without an answer", () =>
    withSeed(seedFrom(72), (seed) => {
      const s = setup(seed);
      const { a, c, t, fromA, inject } = s;
      inject(RST, t.rcvNxt[c] + 100_000);
      inject(RST, t.rcvNxt[c] - 1);
      expect(fromA).toEqual([]);
      expect(a.net.drops.count("TCP_OUT_OF_WINDOW")).toBe(2);
      expect(a.net.tcp.stats.challengeAcks).toBe(0);
      expect(s.errors).toEqual({ a: 0, b: 0 });
      s.client.close();
      s.world.runFor(100);
      s.server.close();
      s.listener.close();
    }));

  it("an RST exactly at RCV.NXT resets: onError, EstabResets; the peer's next segment then draws a reset", () =>
    withSeed(seedFrom(73), (seed) => {
      const s = setup(seed);
      const { a, b, c, t, fromA, inject, world } = s;
      inject(RST, t.rcvNxt[c]);
      expect(s.errors).toEqual({ a: 1, b: 0 });
      expect(fromA).toEqual([]); // never answer an RST
      expect(a.net.tcp.stats.estabResets).toBe(1);
      expect(a.net.tcp.stats.currEstab).toBe(0);
      expect(a.net.tcp.stats.challengeAcks).toBe(0);
      expect(() => s.client.write(new Uint8Array(1))).toThrow(/closed/);
      // b did not hear of it: its next data meets no connection on a, which resets b.
      s.server.write(new Uint8Array([9]));
      world.runFor(100);
      expect(fromA.map((v) => v.flags)).toEqual([RST]);
      expect(s.errors).toEqual({ a: 1, b: 1 });
      expect(b.net.tcp.stats.estabResets).toBe(1);
      expect(a.net.tcp.stats.outRsts).toBe(1);
      s.client.close();
      s.server.close();
      s.listener.close();
    }));

  it("a SYN in an established connection draws a challenge ACK (at RCV.NXT and elsewhere in the window)", () =>
    withSeed(seedFrom(74), (seed) => {
      const s = setup(seed);
      const { a, c, t, fromA, inject } = s;
      const rcvNxt = t.rcvNxt[c];
      inject(SYN, rcvNxt);
      inject(SYN, rcvNxt + 5000);
      expect(fromA.map((v) => [v.flags, v.seq, v.ack])).toEqual([[ACK, t.sndNxt[c], rcvNxt], [ACK, t.sndNxt[c], rcvNxt]]);
      expect(a.net.tcp.stats.challengeAcks).toBe(2);
      expect(s.errors).toEqual({ a: 0, b: 0 });
      expect(a.net.tcp.stats.estabResets).toBe(0);
      s.client.close();
      s.world.runFor(100);
      s.server.close();
      s.listener.close();
    }));

  it("an ACK of data never sent draws a challenge ACK and its data is not taken", () =>
    withSeed(seedFrom(75), (seed) => {
      const s = setup(seed);
      const { a, c, t, fromA, inject } = s;
      const rcvNxt = t.rcvNxt[c];
      inject(ACK, rcvNxt, t.sndNxt[c] + 1000, new Uint8Array([0xba, 0xd0]));
      expect(fromA.map((v) => [v.flags, v.seq, v.ack])).toEqual([[ACK, t.sndNxt[c], rcvNxt]]);
      expect(a.net.tcp.stats.challengeAcks).toBe(1);
      expect(a.net.drops.count("TCP_ACK_UNSENT")).toBe(1);
      expect(t.rcvNxt[c]).toBe(rcvNxt);
      expect(s.got.a).toEqual([4, 5, 6]);
      s.client.close();
      s.world.runFor(100);
      s.server.close();
      s.listener.close();
    }));

  it("challenge ACKs are limited to config.tcpChallengeAcksPerSec", () =>
    withSeed(seedFrom(76), (seed) => {
      const s = setup(seed, { tcpChallengeAcksPerSec: 2 });
      const { a, c, t, fromA, inject, world } = s;
      for (let i = 1; i <= 5; i++) inject(RST, t.rcvNxt[c] + 10 * i);
      expect(fromA).toHaveLength(2);
      expect(a.net.tcp.stats.challengeAcks).toBe(2);
      expect(a.net.drops.count("TCP_RESET_CHALLENGED")).toBe(5);
      world.runFor(1000);
      inject(RST, t.rcvNxt[c] + 10);
      expect(fromA).toHaveLength(3);
      expect(s.errors).toEqual({ a: 0, b: 0 });
      s.client.close();
      world.runFor(100);
      s.server.close();
      s.listener.close();
    }));

  // Was a bug (src/tcp/input.ts, established(), the RST branch for a SYN_RECV child): the child is
  // freed and the listener goes on, but AttemptFails is not counted. RFC 4022 tcpAttemptFails:
  // "... plus the number of times that TCP connections have made a direct transition to the
  // LISTEN state from the SYN-RCVD state". (The timeout of a child is counted, in #onRtx.)
  it("an RST to a half-open child returns the listener to LISTEN and counts AttemptFails (RFC 4022)", () =>
    withSeed(seedFrom(77), (seed) => {
      const { world, lan, b, B, A } = makePair(seed, { delayMs: 1 });
      const raw = new RawPort(world, lan);
      raw.arpAnswers.set(ip("10.0.0.7"), RAW_MAC);
      let waiting = 0;
      const listener = new B.Listener({ port: 80, onReadable(n) { waiting = n; } });
      const fromRaw = (flags: number, seq: number): void => {
        raw.send(tcpFrame(b.devices[0].addr, RAW_MAC, { src: ip("10.0.0.7"), dst: ip(B_IP), sport: 4000, dport: 80, seq, flags }));
        world.runFor(10);
      };
      fromRaw(SYN, 1000);
      expect(raw.take().map((f) => tcpOf(f.bytes)?.flags).filter((f) => f !== undefined)).toEqual([SYN | ACK]);
      expect(tcpTable(b.net)).toEqual(["LISTEN 80->0", "SYN_RECV 80->4000"]);
      fromRaw(RST, 1001);
      expect(tcpTable(b.net)).toEqual(["LISTEN 80->0"]);
      expect(raw.take().filter((f) => tcpOf(f.bytes) !== null)).toEqual([]);
      expect(waiting).toBe(0);
      // The listener still takes connections.
      let up = false;
      const c = new A.TCP({ address: B_IP, port: 80, onWritable() { up = true; } });
      world.runFor(50);
      expect(up).toBe(true);
      expect(b.net.tcp.stats.passiveOpens).toBe(2);
      expect(b.net.tcp.stats.attemptFails).toBe(1);
      c.close();
      listener.read()?.close();
      world.runFor(50);
      listener.close();
    }));

  it("a SYN never completed: the SYN-ACK goes again with backoff, then the child is dropped (AttemptFails)", () =>
    withSeed(seedFrom(78), (seed) => {
      const { world, lan, b, B } = makePair(seed, { delayMs: 1 });
      const raw = new RawPort(world, lan);
      raw.arpAnswers.set(ip("10.0.0.7"), RAW_MAC);
      const listener = new B.Listener({ port: 80 });
      world.runFor(5);
      const t0 = world.now;
      raw.send(tcpFrame(b.devices[0].addr, RAW_MAC, { src: ip("10.0.0.7"), dst: ip(B_IP), sport: 4000, dport: 80, seq: 1000, flags: SYN }));
      world.runFor(200_000);
      const synAcks = raw.take().filter((f) => tcpOf(f.bytes)?.flags === (SYN | ACK)).map((f) => Math.round(f.t - t0));
      // The SYN arrives 1 ms after it left; b's ARP request and its answer take 2 ms more;
      // each SYN-ACK takes 1 ms to arrive.
      expect(synAcks).toEqual([4, 1002, 3002, 7002, 15002, 31002, 63002]);
      expect(tcpTable(b.net)).toEqual(["LISTEN 80->0"]);
      const s = b.net.tcp.stats;
      expect([s.passiveOpens, s.attemptFails, s.retransSegs, s.currEstab]).toEqual([1, 1, 6, 0]);
      listener.close();
    }));
});

