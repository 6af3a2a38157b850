// TCP options at the handshake: a peer that offers none (MSS 536, no window scale, no
// SACK: RFC 9293 3.7.1, RFC 1122 4.2.2.6, RFC 7323 1.3, RFC 2018 2), an MSS clamped to the
// route MTU, malformed options in a SYN (each with a defined outcome: the options before the
// bad one count, nothing after it, as Linux tcp_parse_options), and a data offset that
// points past the segment (dropped, counted). The odd peers are a raw endpoint on the LAN.
import { describe, expect, it } from "vitest";
import type { NetConfig } from "../../src/config";
import { tcpSocketClasses, type TcpSocket } from "../../src/socket/tcp";
import { makeWorld, seedFrom, withSeed } from "../helpers";
import { ACK, FIN, ipOf, isIp, optMss, parseOptions, PSH, RST, SYN, tcpOf, type TcpView } from "../packets";
import { B_IP, sha256, Sink, streamBytes, tapLan, tcpTable } from "./harness";
import { hostAndPeer } from "./rawpeer";

const RAW_IP = "10.0.0.9";
const RAW_MAC = new Uint8Array([2, 0, 0, 0, 0, 0x99]);
const PORT = 80;
const BIG_RCVBUF = 256 * 1024; // large enough that b scales its window when the peer lets it

/** Host b (10.0.0.2) with a server on port 80, and a raw peer (10.0.0.9) on one LAN. */
function setup(seed: number, config: Partial<NetConfig> = {}) {
  const { world, lan, b, B, peer, bMac } = hostAndPeer(seed, config, RAW_IP, RAW_MAC);
  const got = new Sink(1 << 16);
  const srv = { socket: null as TcpSocket | null, errors: 0 };
  const listener = new B.Listener({
    port: PORT,
    onReadable() {
      srv.socket = new B.TCP({
        from: this.read()!,
        onReadable(n) { got.push(new Uint8Array(this.read(n))); },
        onError() {
          srv.errors++;
          this.close();
        },
      });
    },
  });
  /** b's segments (frames b put on the wire) */
  const fromB: (TcpView & { t: number })[] = [];
  tapLan(lan, world, (t, port, frame) => {
    const v = tcpOf(frame);
    if (v !== null && port === 0) fromB.push({ ...v, t });
  });
  return { world, lan, b, B, peer, got, srv, listener, fromB, bMac };
}

type Setup = ReturnType<typeof setup>;

/**
 * b's server writes `data`; the peer ACKs what it holds only every 5 ms (each segment with
 * an ACK of its own, so slow start grows as usual), so each burst b sends is what the
 * window and cwnd allow. Returns the largest burst (bytes sent and not acknowledged).
 */
function serverSends(s: Setup, data: Uint8Array): number {
  const { world, peer, srv } = s;
  peer.autoAck = false;
  const start = peer.data.len;
  let written = 0;
  let maxBurst = 0;
  let acked = peer.rcvNxt;
  for (let i = 0; i < 2000 && peer.data.len - start < data.length; i++) {
    const room = srv.socket!.write(new Uint8Array(0));
    const n = Math.min(room, data.length - written);
    if (n > 0) {
      srv.socket!.write(data.subarray(written, written + n));
      written += n;
    }
    world.runFor(5);
    maxBurst = Math.max(maxBurst, (peer.rcvNxt - acked) >>> 0);
    acked = peer.rcvNxt;
    peer.ackPending();
  }
  peer.autoAck = true;
  expect(peer.data.len - start).toBe(data.length);
  expect(sha256(peer.data.bytes().subarray(start))).toBe(sha256(data));
  return maxBurst;
}

/** The peer closes; b's server closes when told; b's entry is freed once the peer ACKs its FIN. */
function closeFromPeer(s: Setup): void {
  const { world, b, peer, listener } = s;
  peer.send(FIN | ACK);
  world.runFor(50);
  expect(peer.finReceived).toBe(true);
  expect(tcpTable(b.net)).toEqual([`LISTEN ${PORT}->0`]);
  listener.close();
}

/** Counters that hold for every clean exchange with the raw peer. */
function checkCounters(s: Setup): void {
  const st = s.b.net.tcp.stats;
  expect(st.passiveOpens).toBe(1);
  expect(st.currEstab).toBe(0);
  expect(st.estabResets).toBe(0);
  expect(st.attemptFails).toBe(0);
  expect(st.outRsts).toBe(0);
  expect(st.retransSegs).toBe(0);
  // Every segment b sent reached the peer, and b took every segment the peer sent.
  expect(st.outSegs).toBe(s.fromB.length);
  expect(st.outSegs).toBe(s.peer.segments.length);
  expect(st.inSegs).toBe(s.peer.sentSegments);
}

describe("TCP options: a peer that offers none", () => {
  it("SYN without options: MSS 536, no window scale, no SACK, no timestamps, either way", () =>
    withSeed(seedFrom(401), (seed) => {
      const s = setup(seed, { tcpRcvBufBytes: BIG_RCVBUF, tcpSack: true });
      const { world, b, peer, got, fromB, bMac } = s;
      peer.window = 4000;
      peer.connect(B_IP, bMac, PORT); // no options at all
      world.runFor(10);
      // The SYN-ACK answers with its MSS only: b would scale its 256 KB window and use
      // SACK, but a SYN that offers neither turns both off (RFC 7323 1.3, RFC 2018 2).
      const synAck = peer.synAck!;
      expect(synAck.flags).toBe(SYN | ACK);
      expect(parseOptions(synAck.options)).toEqual({ kinds: [2], mss: 1460, sackPermitted: false, sack: [], timestamp: false });
      expect(synAck.window).toBe(65535);
      expect(s.srv.socket).not.toBe(null);
      expect(tcpTable(b.net)).toEqual([`LISTEN ${PORT}->0`, `ESTABLISHED ${PORT}->${peer.sport}`]);

      // The peer sends three segments, the first last: b holds two out of order and says so
      // with duplicate ACKs, which must not carry SACK blocks.
      const sent = streamBytes(1500, seed);
      const base = peer.sndNxt;
      for (const k of [1, 2, 0]) {
        peer.sendSegment({ flags: ACK | PSH, seq: base + 500 * k, ack: peer.rcvNxt, window: peer.window, payload: sent.subarray(500 * k, 500 * k + 500) });
        world.runFor(5);
      }
      peer.sndNxt = base + 1500;
      expect(got.len).toBe(1500);
      expect(sha256(got.bytes())).toBe(sha256(sent));
      const acks = peer.segments.filter((v) => v.payload.length === 0 && v.flags === ACK).map((v) => (v.ack - base) >>> 0);
      expect(acks).toEqual([0, 0, 1500]);
      expect(b.net.tcp.stats.ofoQueue).toBe(2);

      // b sends 30 KB: segments of at most 536 bytes (the peer gave no MSS), never more in
      // flight than the peer's unscaled window of 4000 bytes.
      const data = streamBytes(30_000, seed + 1);
      const burst = serverSends(s, data);
      expect(burst).toBeLessThanOrEqual(4000);
      expect(burst).toBeGreaterThan(4000 - 536);
      closeFromPeer(s);

      const afterSyn = fromB.filter((v) => (v.flags & SYN) === 0);
      expect(Math.max(...afterSyn.map((v) => v.payload.length))).toBe(536);
      // No options at all after the SYN-ACK (no SACK blocks, no timestamps), and b's window
      // unscaled: the most 16 bits can say, its buffer being 256 KB and nearly empty.
      expect(afterSyn.filter((v) => v.options.length > 0)).toEqual([]);
      expect(afterSyn.filter((v) => v.window !== 65535).map((v) => v.window)).toEqual([]);
      expect(b.net.tcp.stats.sackBlocksSent).toBe(0);
      checkCounters(s);
    }));
});

describe("TCP MSS and the route MTU", () => {
  // The small-MTU host is the client (a) or the server (b); the LAN drops any frame whose IP
  // packet is over 1000 bytes, so a segment sized for 1500 would be lost, not just big.
  for (const smallIsClient of [true, false]) {
    it(`an MTU of 1000 on the ${smallIsClient ? "client" : "server"}: its SYN says MSS 960, and no segment either way is larger`, () =>
      withSeed(seedFrom(smallIsClient ? 411 : 412), (seed) => {
        const TOTAL = 200_000;
        const { world, lan, a, b } = makeWorld(seed).twoHosts({
          faults: { delayMs: 1, mtu: 1000 },
          config: { tcpTimeWaitMs: 500 },
          a: { mac: { mtu: smallIsClient ? 1000 : 1500 } },
          b: { mac: { mtu: smallIsClient ? 1500 : 1000 } },
        });
        const A = tcpSocketClasses(a.net);
        const B = tcpSocketClasses(b.net);
        const wire: [number, TcpView][] = [];
        let fragments = 0;
        let largest = 0;
        tapLan(lan, world, (_t, port, frame) => {
          if (!isIp(frame)) return;
          const ipv = ipOf(frame);
          if (ipv.mf || ipv.offset > 0) fragments++;
          largest = Math.max(largest, ipv.totLen);
          const v = tcpOf(frame);
          if (v !== null) wire.push([port, v]);
        });
        // An echo: the client writes TOTAL bytes, the server writes each back.
        const data = streamBytes(TOTAL, seed);
        const serverGot = new Sink(TOTAL);
        const clientGot = new Sink(TOTAL);
        let echoed = 0;
        const flush = (sock: TcpSocket): void => {
          let room = sock.write(new Uint8Array(0));
          while (echoed < serverGot.len && room > 0) {
            const n = Math.min(room, serverGot.len - echoed);
            room = sock.write(serverGot.buf.subarray(echoed, echoed + n));
            echoed += n;
          }
        };
        let serverErrors = 0;
        const listener = new B.Listener({
          port: PORT,
          onReadable() {
            new B.TCP({
              from: this.read()!,
              onReadable(n) { serverGot.push(new Uint8Array(this.read(n))); flush(this); },
              onWritable() { flush(this); },
              onError() { serverErrors++; this.close(); },
            });
          },
        });
        let sent = 0;
        let closed = false;
        new A.TCP({
          address: B_IP,
          port: PORT,
          onWritable(room) {
            while (sent < TOTAL && room > 0) {
              const n = Math.min(room, TOTAL - sent, 7000);
              room = this.write(data.subarray(sent, sent + n));
              sent += n;
            }
          },
          onReadable(n) {
            clientGot.push(new Uint8Array(this.read(n)));
            if (clientGot.len === TOTAL && !closed) {
              closed = true;
              this.close();
            }
          },
        });
        const done = world.runUntil(() => closed && tcpTable(b.net).length === 1, 60_000);
        expect(done, `stalled: sent ${sent}, server ${serverGot.len}, client ${clientGot.len}`).toBe(true);
        expect(sha256(serverGot.bytes())).toBe(sha256(data));
        expect(sha256(clientGot.bytes())).toBe(sha256(data));
        world.runFor(1000);
        expect(tcpTable(a.net)).toEqual([]);
        expect(tcpTable(b.net)).toEqual([`LISTEN ${PORT}->0`]);
        listener.close();

        // The SYN's MSS is the route MTU less 40; each side's own, as its SYN says.
        const syn = wire.find(([, v]) => v.flags === SYN)!;
        const synAck = wire.find(([, v]) => v.flags === (SYN | ACK))!;
        expect(parseOptions(syn[1].options).mss).toBe(smallIsClient ? 960 : 1460);
        expect(parseOptions(synAck[1].options).mss).toBe(smallIsClient ? 1460 : 960);
        // Either way no segment is larger than 960 bytes of payload and options, nothing is
        // fragmented, nothing was dropped for its size, and the full size was used.
        const sizes = wire.map(([, v]) => v.payload.length + v.options.length);
        expect(Math.max(...sizes)).toBe(960);
        expect(largest).toBe(1000);
        expect(fragments).toBe(0);
        expect(lan.totals().mtuDropped).toBe(0);
        expect(lan.totals().lost).toBe(0);
        expect(serverErrors).toBe(1);
        for (const [h, port] of [[a, 0], [b, 1]] as const) {
          const st = h.net.tcp.stats;
          expect(st.retransSegs).toBe(0);
          expect(st.outSegs).toBe(wire.filter(([p]) => p === port).length);
          expect(st.inSegs).toBe(wire.filter(([p]) => p !== port).length);
          expect([st.currEstab, st.estabResets, st.outRsts, st.inErrs]).toEqual([0, 0, 0, 0]);
        }
      }));
  }
});

interface MalformedCase {
  name: string;
  options: number[];
  /** the MSS b uses toward the peer */
  mss: number;
  /** the peer's window scale as b takes it, or -1: none */
  wscale: number;
  sack: boolean;
}

// What the parse keeps: RFC 9293 3.1 (every option but EOL and NOP has a length that counts
// its kind and length bytes), RFC 1122 4.2.2.5 (an unknown option is skipped by its length),
// RFC 7323 2.3 (a shift over 14 is taken as 14), RFC 9293 3.7.1 / Linux (an MSS of 0 is no
// MSS). A list that stops making sense ends the parse: what came before it counts, nothing
// after it does, and the connection opens (Linux: "don't parse partial options").
const MALFORMED: MalformedCase[] = [
  { name: "an option of length 0 after an MSS", options: [2, 4, 0x04, 0xb0, 4, 0, 3, 3, 2], mss: 1200, wscale: -1, sack: false },
  { name: "an option of length 0 first", options: [3, 0, 2, 4, 0x04, 0xb0, 4, 2], mss: 536, wscale: -1, sack: false },
  { name: "an option of length 1", options: [4, 2, 2, 1, 0x04, 0xb0, 1, 1], mss: 536, wscale: -1, sack: true },
  { name: "an option running past the header", options: [2, 4, 0x05, 0x00, 3, 3, 2, 1, 8, 10, 0, 0], mss: 1280, wscale: 2, sack: false },
  { name: "a length byte past the header", options: [1, 1, 2, 4, 0x05, 0x00, 3, 3, 2, 1, 1, 4], mss: 1280, wscale: 2, sack: false },
  { name: "MSS 0", options: [2, 4, 0, 0, 4, 2, 1, 1], mss: 536, wscale: -1, sack: true },
  { name: "an MSS of the wrong length, skipped", options: [2, 3, 0x04, 3, 3, 1, 4, 2], mss: 536, wscale: 1, sack: true },
  { name: "window scale 15 (taken as 14)", options: [2, 4, 0x05, 0xb4, 3, 3, 15, 1], mss: 1460, wscale: 14, sack: false },
  { name: "window scale 255 (taken as 14)", options: [3, 3, 255, 1], mss: 536, wscale: 14, sack: false },
  { name: "an unknown option, skipped by its length", options: [99, 6, 1, 2, 3, 4, 2, 4, 0x04, 0x00, 4, 2], mss: 1024, wscale: -1, sack: true },
];

describe("TCP malformed options in a SYN", () => {
  for (const [i, k] of MALFORMED.entries()) {
    it(`${k.name}: the connection opens with MSS ${k.mss}, ${k.wscale < 0 ? "no window scale" : `window scale ${k.wscale}`}, ${k.sack ? "SACK" : "no SACK"}`, () =>
      withSeed(seedFrom(420 + i), (seed) => {
        const s = setup(seed, { tcpRcvBufBytes: BIG_RCVBUF });
        const { world, b, peer, fromB, bMac } = s;
        // The window the peer offers after the SYN, in bytes, and the field that says it.
        const shift = k.wscale < 0 ? 0 : k.wscale;
        const wndBytes = k.wscale === 14 ? 16384 : 8000;
        peer.window = 8000; // a SYN's window is never scaled
        peer.connect(B_IP, bMac, PORT, new Uint8Array(k.options));
        world.runFor(10);
        const synAck = peer.synAck!;
        expect(synAck, "no SYN-ACK").not.toBe(null);
        const o = parseOptions(synAck.options);
        expect(o.mss).toBe(1460);
        expect(o.sackPermitted).toBe(k.sack);
        expect(o.timestamp).toBe(false);
        // b offers its own scale only to a peer that sent one (RFC 7323 1.3).
        expect(o.wscale !== undefined).toBe(k.wscale >= 0);
        expect(tcpTable(b.net)).toEqual([`LISTEN ${PORT}->0`, `ESTABLISHED ${PORT}->${peer.sport}`]);
        peer.window = wndBytes >>> shift;
        peer.send(ACK); // the window, scaled as agreed

        const data = streamBytes(60_000, seed);
        const burst = serverSends(s, data);
        const segs = fromB.filter((v) => (v.flags & SYN) === 0);
        expect(Math.max(...segs.map((v) => v.payload.length))).toBe(k.mss);
        // The peer's window, read with the scale as b took it: never overrun, and used.
        expect(burst).toBeLessThanOrEqual(wndBytes);
        expect(burst).toBeGreaterThan(wndBytes - k.mss);
        // b's window: scaled by what its SYN-ACK said when both sent the option, else the
        // most an unscaled window can say; its 256 KB buffer is empty each time.
        const ours = o.wscale ?? 0;
        expect(segs.filter((v) => v.window * 2 ** ours !== (o.wscale === undefined ? 65535 : BIG_RCVBUF)).map((v) => v.window)).toEqual([]);
        closeFromPeer(s);
        checkCounters(s);
        expect(b.net.tcp.stats.inErrs).toBe(0);
      }));
  }
});

describe("TCP data offset", () => {
  /** b's server connected to the raw peer (MSS 1460, no other option). */
  function connected(seed: number) {
    const s = setup(seed);
    s.peer.connect(B_IP, s.bMac, PORT, optMss(1460));
    s.world.runFor(10);
    expect(tcpTable(s.b.net)).toEqual([`LISTEN ${PORT}->0`, `ESTABLISHED ${PORT}->${s.peer.sport}`]);
    return s;
  }

  // The bad segments: a data offset past the end of the segment (with and without data),
  // and one below the fixed header (5 words).
  const bad = (s: Setup): void => {
    const { peer, world } = s;
    const payload = new Uint8Array([1, 2, 3, 4]);
    peer.sendSegment({ flags: ACK | PSH, seq: peer.sndNxt, ack: peer.rcvNxt, payload, doffWords: 15 }); // 60 > 24
    peer.sendSegment({ flags: ACK | PSH, seq: peer.sndNxt, ack: peer.rcvNxt, payload, doffWords: 7 }); // 28 > 24
    peer.sendSegment({ flags: ACK, seq: peer.sndNxt, ack: peer.rcvNxt, doffWords: 6 }); // 24 > 20
    peer.sendSegment({ flags: ACK | PSH, seq: peer.sndNxt, ack: peer.rcvNxt, payload, doffWords: 4 }); // 16 < 20
    peer.sendSegment({ flags: FIN | ACK, seq: peer.sndNxt, ack: peer.rcvNxt, doffWords: 15 });
    peer.sendSegment({ flags: RST, seq: peer.sndNxt, doffWords: 15 });
    world.runFor(10);
  };

  it("past the end of the segment (or inside the fixed header): dropped in silence, counted in InErrs; the connection goes on", () =>
    withSeed(seedFrom(431), (seed) => {
      const s = connected(seed);
      const { world, b, peer, got, fromB } = s;
      const before = { ...b.net.tcp.stats };
      const dropsBefore = b.net.drops.count("TCP_INVALID");
      const segsBefore = fromB.length;
      bad(s);
      // Nothing was taken, nothing answered (no ACK, no RST), the connection unchanged.
      expect(fromB.length).toBe(segsBefore);
      expect(got.len).toBe(0);
      expect(b.net.drops.count("TCP_INVALID") - dropsBefore).toBe(6);
      expect(b.net.tcp.stats.inErrs - before.inErrs).toBe(6);
      expect(b.net.tcp.stats.inCsumErrors).toBe(0);
      expect(s.srv.errors).toBe(0);
      expect(tcpTable(b.net)).toEqual([`LISTEN ${PORT}->0`, `ESTABLISHED ${PORT}->${peer.sport}`]);
      // The same bytes with a true data offset are taken.
      const sent = streamBytes(3000, seed);
      for (let at = 0; at < 3000; at += 1000) peer.send(ACK | PSH, sent.subarray(at, at + 1000));
      world.runFor(50); // the last ACK is a delayed one
      expect(got.len).toBe(3000);
      expect(sha256(got.bytes())).toBe(sha256(sent));
      expect(peer.peerAck).toBe(peer.sndNxt);
      closeFromPeer(s);
      const st = b.net.tcp.stats;
      expect([st.currEstab, st.estabResets, st.outRsts, st.retransSegs]).toEqual([0, 0, 0, 0]);
      expect(st.outSegs).toBe(fromB.length);
    }));

  // RFC 4022 tcpInSegs: "The total number of segments received, including those received in
  // error." Linux counts it first thing in tcp_v4_rcv ("Count it even if it's bad"), before
  // the header and checksum checks; InErrs then counts the bad ones among them.
  it("a segment received in error counts in InSegs too (RFC 4022), as one with a bad checksum does", () =>
    withSeed(seedFrom(432), (seed) => {
      const s = connected(seed);
      const { b, peer, world, got } = s;
      const before = { ...b.net.tcp.stats };
      bad(s);
      peer.sendSegment({ flags: ACK | PSH, seq: peer.sndNxt, ack: peer.rcvNxt, payload: new Uint8Array([9, 9]), check: "bad" });
      world.runFor(5);
      const st = b.net.tcp.stats;
      expect(got.len).toBe(0);
      expect(st.inCsumErrors - before.inCsumErrors).toBe(1);
      expect(st.inErrs - before.inErrs).toBe(7);
      expect(st.inSegs - before.inSegs).toBe(7);
      // A good segment: one more of each it should be.
      peer.send(ACK | PSH, new Uint8Array([9, 9]));
      world.runFor(5);
      expect(got.len).toBe(2);
      expect(st.inSegs - before.inSegs).toBe(8);
      expect(st.inErrs - before.inErrs).toBe(7);
      closeFromPeer(s);
    }));
});
