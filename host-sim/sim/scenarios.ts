// Scenarios that run the same on V8 and inside the XS engine: each builds a simulated
// network from a seed, runs it in virtual time and reports what happened, including a
// hash of every frame put on any LAN, in order. Same seed, same bytes: the determinism
// check compares these reports between the engines. Node-free (bundled for XS).

import { Pinger } from "../../src/apps/ping";
import { udpSocketClass, type UdpPacket } from "../../src/socket/udp";
import { tcpSocketClasses, type TcpSocket } from "../../src/socket/tcp";
import { copyBytes } from "../../src/core/bytes";
import { csumFold, csumPartial, csumPartialView, csumPseudoHeader } from "../../src/wire/checksum";
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, TcpOptions, tcpParseOptions } from "../../src/wire/tcp";
import type { NetConfig } from "../../src/config";
import type { Net } from "../../src/core/net";
import { TCP_CLOSED, TCP_LISTEN, seqGt, seqLt } from "../../src/tcp/tcb";
import type { LinkFaults, SimLan } from "./lan";
import type { SimMacOptions } from "./dma-mac-hw";
import { SimWorld, type SimHost } from "./world";

export interface ScenarioReport {
  name: string;
  seed: number;
  /** FNV-1a over (time, port, length, bytes) of every frame on every LAN, in order */
  frameHash: string;
  frames: number;
  pingsSent: number;
  pingsAnswered: number;
  corrupted: number;
  /** drops by reason over all hosts */
  drops: Record<string, number>;
  /** every host's pool full again after shutdown */
  poolsFull: boolean;
  virtualMs: number;
  /** scenario-specific counts (datagrams sent and echoed, ...) */
  extra: Record<string, number>;
}

function report(name: string, world: SimWorld, pings: Pinger[], extra: Record<string, number> = {}): ScenarioReport {
  const drops: Record<string, number> = {};
  for (const h of world.hosts) {
    const snap = h.net.drops.snapshot();
    for (const k of Object.keys(snap)) drops[k] = (drops[k] ?? 0) + snap[k];
  }
  const virtualMs = world.now;
  for (const p of pings) p.close();
  world.shutdown();
  let poolsFull = true;
  for (const h of world.hosts) if (h.net.pool.inUse !== 0 || h.net.pool.recordsInUse !== 0) poolsFull = false;
  let sent = 0;
  let answered = 0;
  let corrupted = 0;
  for (const p of pings) {
    sent += p.sent;
    answered += p.received;
    corrupted += p.corrupted;
  }
  return {
    name,
    seed: world.seed,
    frameHash: (world.frameHash >>> 0).toString(16).padStart(8, "0"),
    frames: world.framesOnWire,
    pingsSent: sent,
    pingsAnswered: answered,
    corrupted,
    drops,
    poolsFull,
    virtualMs,
    extra,
  };
}

/** ARP with packets waiting, then steady pings, on a clean LAN. */
function arp(seed: number): ScenarioReport {
  const { world, a } = new SimWorld(seed).twoHosts({ faults: { delayMs: 1, jitterMs: 0.5 }, a: { config: { neighQueueMax: 3 } } });
  const ping = new Pinger(a.net, 0x1234);
  for (let i = 0; i < 5; i++) ping.send("10.0.0.2", 64 + i);
  world.runFor(100);
  for (let i = 0; i < 20; i++) {
    ping.send("10.0.0.2", 100 * i);
    world.runFor(10);
  }
  world.runFor(40_000); // entries age: REACHABLE -> STALE
  ping.send("10.0.0.2", 56); // STALE -> DELAY -> PROBE
  world.runFor(10_000);
  return report("arp", world, [ping]);
}

/** Pings of every size up to 65,000 bytes over a link with loss, reordering, duplication. */
function pingFragLossy(seed: number): ScenarioReport {
  const { world, a } = new SimWorld(seed).twoHosts({
    lanName: "lossy",
    faults: { lossRate: 0.05, delayMs: 2, jitterMs: 1, reorderRate: 0.02, reorderDelayMs: 3, duplicateRate: 0.01, corruptRate: 0.001 },
  });
  const ping = new Pinger(a.net, 0x2345);
  const sizes = [56, 1472, 1473, 4000, 9000, 65000];
  for (let i = 0; i < 120; i++) {
    ping.send("10.0.0.2", sizes[i % sizes.length]);
    world.runFor(25);
  }
  world.runFor(35_000); // past the reassembly timeout: every held fragment is released
  return report("ping-frag-lossy", world, [ping]);
}

/** A host with 24 buffers receives datagrams that cannot fit, then recovers. */
function poolExhaustion(seed: number): ScenarioReport {
  const { world, a } = new SimWorld(seed).twoHosts({
    faults: { delayMs: 1 },
    b: { config: { skbSlots: 24, skbRecords: 28, reasmSkbsMax: 12 }, mac: { rxRingSize: 8 } },
  });
  const ping = new Pinger(a.net, 0x3456);
  ping.send("10.0.0.2", 56);
  world.runFor(50);
  for (let i = 0; i < 3; i++) {
    ping.send("10.0.0.2", 65000);
    world.runFor(100);
  }
  world.runFor(35_000);
  for (let i = 0; i < 10; i++) {
    ping.send("10.0.0.2", 1000);
    world.runFor(20);
  }
  return report("pool-exhaustion", world, [ping]);
}

/** The demo's network: two LANs joined by a router, one lossy, one with MTU 576. */
function router(seed: number): ScenarioReport {
  const { world, a } = new SimWorld(seed).routedHosts({
    faults1: { lossRate: 0.03, delayMs: 2, jitterMs: 1, rateBps: 100_000_000 },
    faults2: { delayMs: 5, rateBps: 10_000_000, mtu: 576 },
    config: { skbSlots: 256, skbRecords: 288, reasmSkbsMax: 128 },
    mtu2: 576,
  });
  const ping = new Pinger(a.net, 0x4567);
  const sizes = [56, 512, 1472, 4000, 8000];
  for (let i = 0; i < 60; i++) {
    ping.send("10.0.2.2", sizes[i % sizes.length]);
    world.runFor(50);
  }
  ping.send("10.0.2.2", 56, 1); // TTL 1: time exceeded from the router
  world.runFor(2000);
  return report("router", world, [ping]);
}

/** 3 % loss with reordering and duplication (the echo scenarios' link) */
const LOSSY_REORDERING: Partial<LinkFaults> = Object.freeze({ lossRate: 0.03, delayMs: 2, jitterMs: 1, reorderRate: 0.02, reorderDelayMs: 3, duplicateRate: 0.01 });

/** UDP echo through the socket API over a lossy, reordering link, datagrams up to 8,000 bytes. */
function udpEcho(seed: number): ScenarioReport {
  const { world, a, b } = new SimWorld(seed).twoHosts({ lanName: "lossy", faults: LOSSY_REORDERING });
  const UdpA = udpSocketClass(a.net);
  const UdpB = udpSocketClass(b.net);
  const scratch = new Uint8Array(8000);
  const echo = new UdpB({ port: 7 });
  let echoed = 0;
  let received = 0;
  let bytesReceived = 0;
  const client = new UdpA({ port: 5555 });
  const sizes = [1, 64, 512, 1472, 1473, 3000, 8000];
  for (let i = 0; i < 140; i++) {
    const size = sizes[i % sizes.length];
    for (let k = 0; k < size; k++) scratch[k] = (k + i) & 0xff;
    client.write(new Uint8Array(scratch.buffer, 0, size), "10.0.0.2", 7);
    world.runFor(10);
    let p: UdpPacket | undefined;
    while ((p = echo.read()) !== undefined) {
      echo.write(p, p.address, p.port);
      echoed++;
    }
    while ((p = client.read()) !== undefined) {
      received++;
      bytesReceived += p.byteLength;
    }
  }
  world.runFor(35_000);
  echo.close();
  client.close();
  return report("udp-echo", world, [], { sent: 140, echoed, received, bytesReceived });
}

/** TCP echo through the socket API, 200 KB, over a link with loss, reordering and duplication. */
function tcpEcho(seed: number): ScenarioReport {
  const { world, a, b } = new SimWorld(seed).twoHosts({ lanName: "lossy", faults: LOSSY_REORDERING, config: { tcpTimeWaitMs: 2000 } });
  const SA = tcpSocketClasses(a.net);
  const SB = tcpSocketClasses(b.net);
  const total = 200_000;
  let echoed = 0;
  let received = 0;
  let mismatches = 0;
  let sent = 0;
  let serverClosed = 0;
  const chunk = new Uint8Array(4096);
  let available = 0; // what the server's last onReadable said, less what it read since
  const pump = (sock: TcpSocket): void => {
    // Echo what fits: read only as much as the send buffer takes.
    for (;;) {
      const room = sock.write(chunk.subarray(0, 0));
      const n = Math.min(room, available, chunk.length);
      if (n <= 0) return;
      sock.read(chunk.subarray(0, n));
      available -= n;
      sock.write(chunk.subarray(0, n));
      echoed += n;
    }
  };
  const listener = new SB.Listener({
    port: 7,
    onReadable() {
      const from = this.read();
      if (from === undefined) return;
      new SB.TCP({
        from,
        onReadable(bytes) {
          available = bytes;
          pump(this);
        },
        onWritable() { pump(this); },
        onError() { serverClosed++; this.close(); },
      });
    },
  });
  const out = new Uint8Array(8192);
  const client = new SA.TCP({
    address: "10.0.0.2",
    port: 7,
    onWritable(room) {
      const n = Math.min(room, total - sent, out.length);
      if (n <= 0) return;
      for (let k = 0; k < n; k++) out[k] = ((sent + k) * 31 + 7) & 0xff;
      this.write(out.subarray(0, n));
      sent += n;
    },
    onReadable(bytes) {
      const got = new Uint8Array(this.read(bytes));
      for (let k = 0; k < got.length; k++) if (got[k] !== (((received + k) * 31 + 7) & 0xff)) mismatches++;
      received += got.length;
      if (received === total) this.close();
    },
  });
  world.runFor(120_000);
  listener.close();
  const closedCleanly = a.net.tcp.stats.currEstab === 0 && b.net.tcp.stats.currEstab === 0 ? 1 : 0;
  void client;
  return report("tcp-echo", world, [], {
    sent, echoed, received, mismatches, serverClosed, closedCleanly,
    retransA: a.net.tcp.stats.retransSegs, retransB: b.net.tcp.stats.retransSegs,
  });
}

// ---------------------------------------------------------------- TCP bulk, both ways

/**
 * A byte stream that is a function of its seed only (xorshift32, four bytes a step): what
 * a writer sends, and what its reader checks each byte against.
 */
export class PatternStream {
  #s: number;
  #word = 0;
  #left = 0;
  /** bytes of the last check() that differed from the stream */
  mismatches = 0;
  /** where the first of them was, from the check's offset; -1 for none */
  firstMismatch = -1;

  constructor(seed: number) {
    this.#s = Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) >>> 0 || 1;
  }

  /**
   * The next len bytes of the stream into buf[off..off+len); returns the FNV-1a hash h
   * carried over them (one pass: this loop is much of a scenario's cost inside XS).
   */
  fill(buf: Uint8Array, off: number, len: number, h: number): number {
    let s = this.#s;
    let w = this.#word;
    let left = this.#left;
    const end = off + len;
    for (let i = off; i < end; i++) {
      if (left === 0) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        s >>>= 0;
        w = s;
        left = 4;
      }
      const b = w & 0xff;
      buf[i] = b;
      h = Math.imul(h ^ b, 0x01000193);
      w >>>= 8;
      left--;
    }
    this.#s = s;
    this.#word = w;
    this.#left = left;
    return h >>> 0;
  }

  /**
   * Check buf[off..off+len) against the next len bytes of the stream (mismatches and
   * firstMismatch tell); returns the FNV-1a hash h carried over the bytes of buf.
   */
  check(buf: Uint8Array, off: number, len: number, h: number): number {
    let s = this.#s;
    let w = this.#word;
    let left = this.#left;
    let bad = 0;
    let first = -1;
    const end = off + len;
    for (let i = off; i < end; i++) {
      if (left === 0) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        s >>>= 0;
        w = s;
        left = 4;
      }
      const b = buf[i];
      if (b !== (w & 0xff)) {
        if (bad === 0) first = i - off;
        bad++;
      }
      h = Math.imul(h ^ b, 0x01000193);
      w >>>= 8;
      left--;
    }
    this.#s = s;
    this.#word = w;
    this.#left = left;
    this.mismatches = bad;
    this.firstMismatch = first;
    return h >>> 0;
  }
}

export interface TcpBulkOptions {
  /** bytes the client (host a, 10.0.0.1) writes; and the server (host b, 10.0.0.2) too when bothWays */
  bytes: number;
  /** both ends write `bytes` at once on the one connection (else only the client writes) */
  bothWays: boolean;
  faults: Partial<LinkFaults>;
  /** both hosts' configuration over the defaults (tcpTimeWaitMs is 1,000 unless given) */
  config?: Partial<NetConfig>;
  /** both simulated MACs (rings, line rate) */
  mac?: SimMacOptions;
  /**
   * Drop the client's data segments with these numbers on their first transmission (0 is
   * the first data segment it sends), through the LAN's dropFilter: losses chosen exactly.
   */
  dropClientSegs?: readonly number[];
  /** virtual time allowed for the whole exchange, the close included (default 600 s) */
  limitMs?: number;
  /** sees the bytes each side writes (side 0: the client) and reads, in order: a caller's own hash */
  onWrite?: (side: number, bytes: Uint8Array) => void;
  onRead?: (side: number, bytes: Uint8Array) => void;
}

/** Chunk sizes writers cycle through: tiny, odd, an MSS, several segments, a large write. */
const BULK_CHUNKS = [1, 1000, 1460, 3333, 7777, 65536];
const BULK_PORT = 5001;

/** One end of the bulk exchange: what it writes, what it must read, and what it saw. */
class BulkSide {
  readonly out: PatternStream;
  readonly expect: PatternStream;
  sent = 0;
  received = 0;
  outHash = 0x811c9dc5;
  inHash = 0x811c9dc5;
  mismatches = 0;
  firstMismatch = -1;
  /** onError before everything was read (a reset, a timeout) */
  errors = 0;
  closed = false;
  chunk = 0;
  /** virtual time the last byte was read */
  lastByteMs = -1;

  constructor(
    readonly side: number,
    readonly toSend: number,
    readonly toRead: number,
    outSeed: number,
    inSeed: number,
  ) {
    this.out = new PatternStream(outSeed);
    this.expect = new PatternStream(inSeed);
  }
}

/** What the wire shows of one host's TCP segments (seen as they leave, before any fault). */
class WireSide {
  segs = 0;
  dataSegs = 0;
  /** segments whose sequence space was sent before (what RetransSegs should count) */
  retrans = 0;
  /** segments carrying SACK blocks */
  sackSegs = 0;
  fins = 0;
  rsts = 0;
  /** IP fragments (a segment larger than the MTU) */
  fragments = 0;
  /** window scale shift in its SYN, -1 without */
  shift = -1;
  /** largest window it advertised (scaled) */
  maxWindow = 0;
  /** highest sequence number sent (valid once its SYN went) */
  maxEnd = 0;
  synSeen = false;
  /** highest ACK it sent */
  ackMax = 0;
  ackSeen = false;
  /** most bytes it had sent and not yet seen acknowledged on the wire */
  maxInFlight = 0;
  /** number of its first transmissions of data so far */
  newData = 0;
  /** the number of the frame just seen if it was a first transmission of data, else -1 */
  lastNewData = -1;
  /** that frame's sequence space */
  lastSeq = 0;
  lastEnd = 0;
}

function connections(net: Net): number {
  const t = net.tcp.tcb;
  let n = 0;
  for (let c = 0; c < t.size; c++) if (t.state[c] !== TCP_CLOSED && t.state[c] !== TCP_LISTEN) n++;
  return n;
}

/**
 * TCP bulk transfer through the socket API: a client on a (10.0.0.1) connects to a server
 * on b (10.0.0.2); each writes `bytes` of its own pattern stream (only the client unless
 * bothWays) in chunks of every size, and reads and checks every byte the other sends. Each
 * end closes once it has written and read everything; the run ends when both connections
 * are gone (TIME_WAIT over). Reports the bytes and hashes of each direction, the TCP
 * counters of both hosts, what the wire showed (segments, retransmissions, windows, bytes
 * in flight), the LAN's fault counts, and whether each pool is back to its idle level.
 */
export function tcpBulk(name: string, seed: number, o: TcpBulkOptions): ScenarioReport {
  const { world, lan, a, b } = new SimWorld(seed).twoHosts({ faults: o.faults, config: { tcpTimeWaitMs: 1000, ...o.config }, mac: o.mac });
  // The pools' idle level: the receive rings filled, the announcements of attach sent.
  world.runFor(5);
  const idle = [a.net.pool.inUse, b.net.pool.inUse, a.net.pool.recordsInUse, b.net.pool.recordsInUse];

  // The wire, seen by a tap after the world's frame hash.
  const wire = [new WireSide(), new WireSide()];
  const opts = new TcpOptions();
  const hashTap = lan.onWire;
  lan.onWire = (port, buf, off, len) => {
    if (hashTap !== null) hashTap(port, buf, off, len);
    const w = wire[port];
    const peer = wire[port ^ 1];
    w.lastNewData = -1;
    if (len < 34 || buf[off + 12] !== 0x08 || buf[off + 13] !== 0x00) return;
    const ip = off + 14;
    const ihl = (buf[ip] & 15) * 4;
    if (((buf[ip + 6] & 0x3f) | buf[ip + 7]) !== 0) w.fragments++;
    if (buf[ip + 9] !== 6 || (buf[ip + 6] & 0x1f) !== 0 || buf[ip + 7] !== 0) return;
    const th = ip + ihl;
    const total = (buf[ip + 2] << 8) | buf[ip + 3];
    const doff = (buf[th + 12] >> 4) * 4;
    const payload = total - ihl - doff;
    const seq = ((buf[th + 4] << 24) | (buf[th + 5] << 16) | (buf[th + 6] << 8) | buf[th + 7]) >>> 0;
    const ack = ((buf[th + 8] << 24) | (buf[th + 9] << 16) | (buf[th + 10] << 8) | buf[th + 11]) >>> 0;
    const flags = buf[th + 13];
    const win = (buf[th + 14] << 8) | buf[th + 15];
    opts.reset();
    if (doff > 20) tcpParseOptions(buf, th + 20, doff - 20, opts);
    w.segs++;
    if ((flags & TCP_RST) !== 0) w.rsts++;
    if ((flags & TCP_FIN) !== 0) w.fins++;
    if (opts.sackCount > 0) w.sackSegs++;
    if ((flags & TCP_SYN) !== 0) {
      w.shift = opts.wscale;
    } else {
      // Scaled only when both SYNs offered scaling (RFC 7323 2.2).
      const scaled = w.shift >= 0 && peer.shift >= 0 ? win * 2 ** w.shift : win;
      if (scaled > w.maxWindow) w.maxWindow = scaled;
    }
    if ((flags & TCP_ACK) !== 0 && (!w.ackSeen || seqGt(ack, w.ackMax))) {
      w.ackMax = ack;
      w.ackSeen = true;
    }
    if (payload > 0) w.dataSegs++;
    const segLen = payload + ((flags & TCP_SYN) !== 0 ? 1 : 0) + ((flags & TCP_FIN) !== 0 ? 1 : 0);
    if (segLen > 0 && (flags & TCP_RST) === 0) {
      const end = (seq + segLen) >>> 0;
      if (!w.synSeen) {
        w.synSeen = (flags & TCP_SYN) !== 0;
        w.maxEnd = end;
      } else {
        if (seqLt(seq, w.maxEnd)) w.retrans++;
        else if (payload > 0) {
          w.lastNewData = w.newData++;
          w.lastSeq = seq;
          w.lastEnd = end;
        }
        if (seqGt(end, w.maxEnd)) w.maxEnd = end;
      }
    }
    if (w.synSeen && peer.ackSeen) {
      const inFlight = (w.maxEnd - peer.ackMax) | 0;
      if (inFlight > w.maxInFlight) w.maxInFlight = inFlight;
    }
  };
  let filterDrops = 0;
  /** the sequence space the dropped segments spanned */
  let dropFirst = 0;
  let dropEnd = 0;
  const drop = o.dropClientSegs;
  if (drop !== undefined && drop.length > 0) {
    // Asked right after the tap saw the same frame (SimLan.transmit: onWire, then forward).
    lan.dropFilter = (from) => {
      const w = wire[from];
      if (from !== 0 || w.lastNewData < 0 || drop.indexOf(w.lastNewData) < 0) return false;
      if (filterDrops === 0 || seqLt(w.lastSeq, dropFirst)) dropFirst = w.lastSeq;
      if (filterDrops === 0 || seqGt(w.lastEnd, dropEnd)) dropEnd = w.lastEnd;
      filterDrops++;
      return true;
    };
  }

  const client = new BulkSide(0, o.bytes, o.bothWays ? o.bytes : 0, seed * 2 + 1, seed * 2 + 2);
  const server = new BulkSide(1, o.bothWays ? o.bytes : 0, o.bytes, seed * 2 + 2, seed * 2 + 1);
  const scratch = new Uint8Array(65536);
  const onWrite = o.onWrite;
  const onRead = o.onRead;

  const maybeClose = (s: BulkSide, sock: TcpSocket): void => {
    if (!s.closed && s.sent === s.toSend && s.received === s.toRead) {
      s.closed = true;
      sock.close();
    }
  };
  const writeAll = (s: BulkSide, sock: TcpSocket, room: number): void => {
    while (s.sent < s.toSend && room > 0) {
      let n = BULK_CHUNKS[s.chunk++ % BULK_CHUNKS.length];
      if (n > room) n = room;
      if (n > s.toSend - s.sent) n = s.toSend - s.sent;
      s.outHash = s.out.fill(scratch, 0, n, s.outHash);
      const bytes = scratch.subarray(0, n);
      room = sock.write(bytes);
      if (onWrite !== undefined) onWrite(s.side, bytes);
      s.sent += n;
    }
    maybeClose(s, sock);
  };
  const readAll = (s: BulkSide, sock: TcpSocket, available: number): void => {
    while (available > 0) {
      const n = available < scratch.length ? available : scratch.length;
      const bytes = scratch.subarray(0, n);
      sock.read(bytes);
      available -= n;
      s.inHash = s.expect.check(scratch, 0, n, s.inHash);
      if (s.expect.mismatches > 0) {
        if (s.firstMismatch < 0) s.firstMismatch = s.received + s.expect.firstMismatch;
        s.mismatches += s.expect.mismatches;
      }
      if (onRead !== undefined) onRead(s.side, bytes);
      s.received += n;
    }
    if (s.received >= s.toRead && s.lastByteMs < 0) s.lastByteMs = world.now;
    maybeClose(s, sock);
  };
  const peerClosed = (s: BulkSide, sock: TcpSocket): void => {
    // The peer closed and everything was read: it must have had all it wanted, and we too.
    if (s.received !== s.toRead || s.sent !== s.toSend) s.errors++;
    if (!s.closed) {
      s.closed = true;
      sock.close();
    }
  };

  const SA = tcpSocketClasses(a.net);
  const SB = tcpSocketClasses(b.net);
  let accepted = 0;
  const listener = new SB.Listener({
    port: BULK_PORT,
    onReadable() {
      const from = this.read();
      if (from === undefined) return;
      accepted++;
      new SB.TCP({
        from,
        onWritable(room) { writeAll(server, this, room); },
        onReadable(n) { readAll(server, this, n); },
        onError() { peerClosed(server, this); },
      });
    },
  });
  new SA.TCP({
    address: "10.0.0.2",
    port: BULK_PORT,
    onWritable(room) { writeAll(client, this, room); },
    onReadable(n) { readAll(client, this, n); },
    onError() { peerClosed(client, this); },
  });

  const done = world.runUntil(() => client.closed && server.closed && connections(a.net) === 0 && connections(b.net) === 0, o.limitMs ?? 600_000);
  const doneMs = world.now;
  const leaks = [a.net.pool.inUse - idle[0], b.net.pool.inUse - idle[1], a.net.pool.recordsInUse - idle[2], b.net.pool.recordsInUse - idle[3]];
  listener.close();

  const extra: Record<string, number> = {
    bytes: o.bytes,
    done: done ? 1 : 0,
    doneMs,
    accepted,
    filterDrops,
    dropSpan: (dropEnd - dropFirst) | 0,
  };
  for (const [key, s] of [["client", client], ["server", server]] as const) {
    extra[`${key}.sent`] = s.sent;
    extra[`${key}.received`] = s.received;
    extra[`${key}.outHash`] = s.outHash;
    extra[`${key}.inHash`] = s.inHash;
    extra[`${key}.mismatches`] = s.mismatches;
    extra[`${key}.firstMismatch`] = s.firstMismatch;
    extra[`${key}.errors`] = s.errors;
    extra[`${key}.lastByteMs`] = s.lastByteMs;
  }
  const hosts = [a, b];
  for (let i = 0; i < 2; i++) {
    const key = i === 0 ? "a" : "b";
    const stats = hosts[i].net.tcp.stats as unknown as Record<string, number>;
    for (const k of Object.keys(stats)) extra[`${key}.${k}`] = stats[k];
    const w = wire[i] as unknown as Record<string, number | boolean>;
    for (const k of ["segs", "dataSegs", "retrans", "sackSegs", "fins", "rsts", "fragments", "shift", "maxWindow", "maxInFlight", "newData"]) {
      extra[`${key}.wire.${k}`] = w[k] as number;
    }
    extra[`${key}.poolLeak`] = leaks[i];
    extra[`${key}.recordLeak`] = leaks[2 + i];
  }
  // The LAN per direction: ab is a -> b (port 0 -> port 1).
  for (const [key, from, to] of [["ab", 0, 1], ["ba", 1, 0]] as const) {
    const link = lan.stats(from, to) as unknown as Record<string, number>;
    for (const k of Object.keys(link)) extra[`lan.${key}.${k}`] = link[k];
  }
  return report(name, world, [], extra);
}

/**
 * The bulk exchanges, both ways at once: the XS harness runs them small (SCENARIOS), the
 * V8 scale tests (test/tcp/scale.test.ts) with 10 MB each way.
 */
export const BULK_PRESETS = Object.freeze({
  clean: { bothWays: true, faults: { delayMs: 1 } },
  /** 1 % loss with reordering, duplication and corruption */
  loss1: { bothWays: true, faults: { delayMs: 1, lossRate: 0.01, reorderRate: 0.01, reorderDelayMs: 3, duplicateRate: 0.01, corruptRate: 0.005 } },
  /** 5 % loss with reordering, duplication and corruption */
  loss5: { bothWays: true, faults: { delayMs: 1, lossRate: 0.05, reorderRate: 0.02, reorderDelayMs: 3, duplicateRate: 0.02, corruptRate: 0.01 } },
  /** a 100 ms round trip */
  rtt100: { bothWays: true, faults: { delayMs: 50 } },
  /** a 100 ms round trip with 1 % loss, reordering, duplication and corruption */
  rtt100loss1: { bothWays: true, faults: { delayMs: 50, lossRate: 0.01, reorderRate: 0.01, reorderDelayMs: 3, duplicateRate: 0.01, corruptRate: 0.005 } },
  /**
   * A bandwidth-delay product of 250 KB (20 Mbit/s, 100 ms round trip) and 256 KB socket
   * buffers: only a scaled window (RFC 7323) fills the link.
   */
  wscale: {
    bothWays: true,
    faults: { delayMs: 50, rateBps: 20_000_000 },
    config: { tcpSndBufBytes: 256 << 10, tcpRcvBufBytes: 256 << 10, skbSlots: 640, skbRecords: 768 },
  },
  /**
   * Three data segments of one flight dropped (clean link otherwise), and an out-of-order
   * queue that holds a whole window, so nothing but the three is lost.
   */
  sack: { bothWays: true, faults: { delayMs: 1 }, dropClientSegs: [60, 62, 65], config: { tcpOooMax: 32 } },
} satisfies Record<string, Omit<TcpBulkOptions, "bytes">>);

export type BulkPreset = keyof typeof BULK_PRESETS;

/** Bytes each way of the bulk scenarios inside XS (its interpreter is some 50 times slower than V8). */
export const XS_BULK_BYTES: Readonly<Partial<Record<BulkPreset, number>>> = Object.freeze({
  clean: 200_000,
  loss1: 200_000,
  loss5: 200_000,
  rtt100loss1: 200_000,
  rtt100: 200_000,
  wscale: 400_000,
  sack: 200_000,
});

function bulkScenario(preset: BulkPreset): (seed: number) => ScenarioReport {
  const name = `tcp-bulk-${preset}`;
  return (seed) => tcpBulk(name, seed, { ...BULK_PRESETS[preset], bytes: XS_BULK_BYTES[preset] as number });
}

// ---------------------------------------------------------------- TCP protocol corners
// Small versions of what test/tcp/*.test.ts checks on V8 (zero window, keepalive, failed
// connects, request/response timing, SYN flood), so the same corners run inside XS too.

interface CornerPair {
  world: SimWorld;
  lan: SimLan;
  a: SimHost;
  b: SimHost;
  SA: ReturnType<typeof tcpSocketClasses>;
  SB: ReturnType<typeof tcpSocketClasses>;
}

/** a (10.0.0.1) and b (10.0.0.2) on one LAN. */
function cornerPair(seed: number, faults: Partial<LinkFaults>, config: Partial<NetConfig>): CornerPair {
  const hosts = new SimWorld(seed).twoHosts({ faults, config });
  return { ...hosts, SA: tcpSocketClasses(hosts.a.net), SB: tcpSocketClasses(hosts.b.net) };
}

/**
 * Calls fn for every TCP segment (not a fragment) an up port transmits, after the world's
 * frame hash: the port, the flags, the destination port, the payload length, the raw window.
 */
function tapTcp(lan: SimLan, fn: (port: number, flags: number, dport: number, payload: number, win: number) => void): void {
  const hashTap = lan.onWire;
  lan.onWire = (port, buf, off, len) => {
    if (hashTap !== null) hashTap(port, buf, off, len);
    if (len < 54 || buf[off + 12] !== 0x08 || buf[off + 13] !== 0x00) return;
    const ip = off + 14;
    if (buf[ip + 9] !== 6 || (buf[ip + 6] & 0x3f) !== 0 || buf[ip + 7] !== 0) return;
    const ihl = (buf[ip] & 15) * 4;
    const th = ip + ihl;
    const total = (buf[ip + 2] << 8) | buf[ip + 3];
    const doff = (buf[th + 12] >> 4) * 4;
    fn(port, buf[th + 13], (buf[th + 2] << 8) | buf[th + 3], total - ihl - doff, (buf[th + 14] << 8) | buf[th + 15]);
  };
}

const F_ACK = TCP_ACK;

/**
 * A reader that does not read for 60 s: the window closes, the writer probes it (persist
 * timer, backing off) without giving up, and once reading resumes every byte arrives.
 */
function tcpZeroWindow(seed: number): ScenarioReport {
  const TOTAL = 100_000;
  const { world, lan, a, b, SA, SB } = cornerPair(seed, { delayMs: 1 }, { tcpTimeWaitMs: 500 });
  let reading = false;
  let windowShut = false;
  let wireProbes = 0;
  let lastProbeMs = 0;
  let probeGapMax = 0;
  let firstProbeMs = -1;
  tapTcp(lan, (port, flags, _dport, payload, win) => {
    if (port === 1 && win === 0 && (flags & F_ACK) !== 0) windowShut = true;
    if (port === 0 && windowShut && !reading && payload === 0 && flags === F_ACK) {
      if (wireProbes > 0 && world.now - lastProbeMs > probeGapMax) probeGapMax = world.now - lastProbeMs;
      if (firstProbeMs < 0) firstProbeMs = world.now;
      lastProbeMs = world.now;
      wireProbes++;
    }
  });
  const out = new PatternStream(seed + 11);
  const expect = new PatternStream(seed + 11);
  const scratch = new Uint8Array(8192);
  let outHash = 0x811c9dc5;
  let inHash = 0x811c9dc5;
  let mismatches = 0;
  let sent = 0;
  let received = 0;
  let available = 0;
  let serverErrors = 0;
  let clientErrors = 0;
  let server: TcpSocket | null = null;
  const drain = (s: TcpSocket): void => {
    while (available > 0) {
      const n = available < scratch.length ? available : scratch.length;
      s.read(scratch.subarray(0, n));
      available -= n;
      inHash = expect.check(scratch, 0, n, inHash);
      mismatches += expect.mismatches;
      received += n;
    }
  };
  const listener = new SB.Listener({
    port: 80,
    onReadable() {
      const from = this.read();
      if (from === undefined) return;
      server = new SB.TCP({
        from,
        onReadable(n) {
          available = n;
          if (reading) drain(this);
        },
        onError() { serverErrors++; this.close(); },
      });
    },
  });
  const client = new SA.TCP({
    address: "10.0.0.2",
    port: 80,
    onWritable(room) {
      while (sent < TOTAL && room > 0) {
        const n = Math.min(room, TOTAL - sent, 5000);
        outHash = out.fill(scratch, 0, n, outHash);
        room = this.write(scratch.subarray(0, n));
        sent += n;
      }
      if (sent === TOTAL) this.close();
    },
    onError() { clientErrors++; },
  });
  world.runFor(60_000);
  const sentWhileShut = sent;
  const heldWhileShut = b.net.tcp.stats.currEstab === 1 && a.net.tcp.stats.currEstab === 1 ? 1 : 0;
  const timeoutsWhileShut = a.net.tcp.stats.timeouts;
  reading = true;
  if (server !== null) drain(server);
  world.runFor(6_000);
  listener.close();
  void client;
  return report("tcp-zero-window", world, [], {
    bytes: received,
    sent,
    mismatches,
    outHash,
    inHash,
    persistProbes: a.net.tcp.stats.persistProbes,
    wireProbes,
    firstProbeMs,
    probeGapMax,
    sentWhileShut,
    heldWhileShut,
    timeoutsWhileShut,
    clientErrors,
    serverErrors,
    connectionsLeft: connections(a.net) + connections(b.net),
  });
}

/**
 * Keepalive on the client's socket with short times; every frame is lost from some point
 * on: the client probes after the idle time, once each interval, and gives up (onError,
 * a reset) when the probes went unanswered. The peer writes later and is reset too.
 */
function tcpKeepalive(seed: number): ScenarioReport {
  const IDLE = 10_000;
  const INTERVAL = 1_000;
  const PROBES = 4;
  const config = { tcpKeepaliveIdleMs: IDLE, tcpKeepaliveIntervalMs: INTERVAL, tcpKeepaliveProbes: PROBES, tcpTimeWaitMs: 1000 };
  const { world, lan, a, b, SA, SB } = cornerPair(seed, { delayMs: 1 }, config);
  let lastIntoA = -1;
  let probesOnWire = 0;
  let cutAt = -1;
  tapTcp(lan, (port, flags, _dport, payload) => {
    if (port === 1) lastIntoA = world.now;
    else if (cutAt >= 0 && flags === F_ACK && payload === 0) probesOnWire++;
  });
  let clientErrorAt = -1;
  let serverErrorAt = -1;
  let clientGot = 0;
  let serverGot = 0;
  let server: TcpSocket | null = null;
  const listener = new SB.Listener({
    port: 7000,
    onReadable() {
      const from = this.read();
      if (from === undefined) return;
      server = new SB.TCP({
        from,
        onReadable(n) { serverGot += this.read(n).byteLength; },
        onError() { if (serverErrorAt < 0) serverErrorAt = world.now; this.close(); },
      });
    },
  });
  const client = new SA.TCP({
    address: "10.0.0.2",
    port: 7000,
    keepalive: true,
    onReadable(n) { clientGot += this.read(n).byteLength; },
    onError() { if (clientErrorAt < 0) clientErrorAt = world.now; this.close(); },
  });
  world.runFor(20);
  const data = new Uint8Array(3000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + seed) & 0xff;
  client.write(data);
  if (server !== null) (server as TcpSocket).write(data.subarray(0, 2000));
  world.runFor(1200);
  cutAt = world.now;
  const lastIn = lastIntoA;
  lan.setAllFaults({ lossRate: 1 });
  world.runFor(IDLE + PROBES * INTERVAL + 5_000);
  const st = a.net.tcp.stats;
  const ka = { probes: st.keepaliveProbes, timeouts: st.keepaliveTimeouts, estabResets: st.estabResets, outRsts: st.outRsts };
  // The link comes back and the server writes: a reset answers, and it is told.
  lan.setAllFaults({ lossRate: 0 });
  if (server !== null) (server as TcpSocket).write(data.subarray(0, 3));
  world.runFor(5_000);
  listener.close();
  return report("tcp-keepalive", world, [], {
    clientGot,
    serverGot,
    keepaliveProbes: ka.probes,
    keepaliveTimeouts: ka.timeouts,
    estabResets: ka.estabResets,
    outRsts: ka.outRsts,
    probesOnWire,
    cutAt,
    lastIn,
    clientErrorAt,
    /** the error after the last segment in, less idle + probes x interval */
    errorLate: clientErrorAt - (lastIn + 1 + IDLE + PROBES * INTERVAL),
    serverErrorAt,
    serverResets: b.net.tcp.stats.estabResets,
    peerProbes: b.net.tcp.stats.keepaliveProbes,
    connectionsLeft: connections(a.net) + connections(b.net),
  });
}

/**
 * Connects that fail: to a closed port (answered with a reset: refused at once), and to a
 * port whose segments the LAN drops (the SYN retransmitted with a doubling RTO from
 * tcpRtoInitialMs, tcpSynRetries times, then the error).
 */
function tcpConnectFail(seed: number): ScenarioReport {
  const { world, lan, a, SA } = cornerPair(seed, { delayMs: 1 }, { tcpRtoInitialMs: 300, tcpSynRetries: 3 });
  const synTimes: number[] = [];
  let rsts = 0;
  let t0 = 0;
  tapTcp(lan, (port, flags, dport) => {
    if (port === 0 && dport === 81 && flags === TCP_SYN) synTimes.push(world.now - t0);
    if (port === 1 && (flags & TCP_RST) !== 0) rsts++;
  });
  // A firewall on the LAN: every frame to TCP port 81 is dropped.
  lan.dropFilter = (_from, _to, buf, off, len) => {
    if (len < 54 || buf[off + 12] !== 0x08 || buf[off + 13] !== 0x00 || buf[off + 23] !== 6) return false;
    const th = off + 14 + (buf[off + 14] & 15) * 4;
    return ((buf[th + 2] << 8) | buf[th + 3]) === 81;
  };
  world.runFor(5);
  t0 = world.now;
  let refusedAt = -1;
  let refusedErrors = 0;
  let refusedWritable = 0;
  const refused = new SA.TCP({
    address: "10.0.0.2",
    port: 4242,
    onWritable() { refusedWritable++; },
    onError() { refusedErrors++; refusedAt = world.now - t0; },
  });
  world.runFor(2_000);
  const afterRefused = { attemptFails: a.net.tcp.stats.attemptFails, retrans: a.net.tcp.stats.retransSegs };
  refused.close();
  t0 = world.now;
  let silentAt = -1;
  let silentErrors = 0;
  const silent = new SA.TCP({ address: "10.0.0.2", port: 81, onError() { silentErrors++; silentAt = world.now - t0; } });
  world.runFor(10_000);
  silent.close();
  const st = a.net.tcp.stats;
  const extra: Record<string, number> = {
    refusedAt,
    refusedErrors,
    refusedWritable,
    refusedAttemptFails: afterRefused.attemptFails,
    rsts,
    silentAt,
    silentErrors,
    syns: synTimes.length,
    attemptFails: st.attemptFails,
    retransSegs: st.retransSegs,
    timeouts: st.timeouts,
    activeOpens: st.activeOpens,
    currEstab: st.currEstab,
    connectionsLeft: connections(a.net),
  };
  for (let i = 0; i < synTimes.length; i++) extra[`syn${i}`] = synTimes[i];
  return report("tcp-connect-fail", world, [], extra);
}

/**
 * Request/response with small writes both ways, 50 rounds of a 40-byte request and a
 * 100-byte reply written in two pieces (30 + 70), over a 10 ms round trip: once with
 * nodelay (every round one round trip), once without (Nagle holds the second piece and
 * the client delays its ACK: from the second round on, a round waits out tcpDelackMs).
 */
function tcpReqResp(seed: number): ScenarioReport {
  const ROUNDS = 50;
  const REQ = 40;
  const REPLY = 100;
  const FIRST = 30;
  const { world, a, b, SA, SB } = cornerPair(seed, { delayMs: 5 }, { tcpTimeWaitMs: 1000 });
  const extra: Record<string, number> = {};
  const reqBuf = new Uint8Array(REQ);
  const repBuf = new Uint8Array(REPLY);
  let port = 8000;
  for (const nodelay of [true, false]) {
    const key = nodelay ? "nodelay" : "nagle";
    const reqOut = new PatternStream(seed * 4 + port);
    const reqIn = new PatternStream(seed * 4 + port);
    const repOut = new PatternStream(seed * 4 + port + 1);
    const repIn = new PatternStream(seed * 4 + port + 1);
    let serverGot = 0;
    let clientGot = 0;
    let replied = 0;
    let mismatches = 0;
    let serverErrors = 0;
    let round = 0;
    let started = 0;
    const times: number[] = [];
    const listener = new SB.Listener({
      port,
      onReadable() {
        const from = this.read();
        if (from === undefined) return;
        new SB.TCP({
          from,
          nodelay,
          onReadable(n) {
            const got = new Uint8Array(this.read(n));
            reqIn.check(got, 0, got.length, 0);
            mismatches += reqIn.mismatches;
            serverGot += got.length;
            while (serverGot >= REQ * (replied + 1)) {
              repOut.fill(repBuf, 0, REPLY, 0);
              this.write(repBuf.subarray(0, FIRST));
              this.write(repBuf.subarray(FIRST));
              replied++;
            }
          },
          onError() { serverErrors++; this.close(); },
        });
      },
    });
    const ask = (s: TcpSocket): void => {
      started = world.now;
      reqOut.fill(reqBuf, 0, REQ, 0);
      s.write(reqBuf);
    };
    let asked = false;
    const client = new SA.TCP({
      address: "10.0.0.2",
      port,
      nodelay,
      onWritable() {
        if (!asked) {
          asked = true;
          ask(this);
        }
      },
      onReadable(n) {
        const got = new Uint8Array(this.read(n));
        repIn.check(got, 0, got.length, 0);
        mismatches += repIn.mismatches;
        clientGot += got.length;
        if (clientGot === REPLY * (round + 1)) {
          times.push(world.now - started);
          round++;
          if (round < ROUNDS) ask(this);
        }
      },
    });
    const done = world.runUntil(() => round === ROUNDS, 60_000);
    client.close();
    world.runFor(1200);
    listener.close();
    extra[`${key}.done`] = done ? 1 : 0;
    extra[`${key}.rounds`] = round;
    extra[`${key}.mismatches`] = mismatches;
    extra[`${key}.clientGot`] = clientGot;
    extra[`${key}.serverGot`] = serverGot;
    extra[`${key}.serverErrors`] = serverErrors;
    let min = Infinity;
    let max = 0;
    let restMin = Infinity;
    for (let i = 0; i < times.length; i++) {
      extra[`${key}.t${i}`] = times[i];
      if (times[i] < min) min = times[i];
      if (times[i] > max) max = times[i];
      if (i > 0 && times[i] < restMin) restMin = times[i];
    }
    extra[`${key}.min`] = min;
    extra[`${key}.max`] = max;
    extra[`${key}.restMin`] = restMin;
    port++;
  }
  for (const [key, h] of [["a", a], ["b", b]] as const) {
    const st = h.net.tcp.stats;
    extra[`${key}.retransSegs`] = st.retransSegs;
    extra[`${key}.outSegs`] = st.outSegs;
    extra[`${key}.inSegs`] = st.inSegs;
    extra[`${key}.outRsts`] = st.outRsts;
  }
  extra.delackMs = a.net.config.tcpDelackMs;
  extra.connectionsLeft = connections(a.net) + connections(b.net);
  return report("tcp-reqresp", world, [], extra);
}

/** A SYN from (src, sport) to (dst, dport) with an MSS option, built into frame (78 bytes). */
function craftSyn(frame: Uint8Array, dstMac: Uint8Array, srcMac: Uint8Array, src: number, dst: number, sport: number, dport: number, isn: number, ipId: number): number {
  frame.fill(0, 0, 58);
  frame.set(dstMac, 0);
  frame.set(srcMac, 6);
  frame[12] = 0x08;
  frame[13] = 0x00;
  const ip = 14;
  const tcpLen = 24;
  const total = 20 + tcpLen;
  frame[ip] = 0x45;
  frame[ip + 2] = total >> 8;
  frame[ip + 3] = total & 0xff;
  frame[ip + 4] = (ipId >> 8) & 0xff;
  frame[ip + 5] = ipId & 0xff;
  frame[ip + 8] = 64;
  frame[ip + 9] = 6;
  const put32 = (o: number, v: number): void => {
    frame[o] = (v >>> 24) & 0xff;
    frame[o + 1] = (v >>> 16) & 0xff;
    frame[o + 2] = (v >>> 8) & 0xff;
    frame[o + 3] = v & 0xff;
  };
  put32(ip + 12, src);
  put32(ip + 16, dst);
  const ipCsum = csumFold(csumPartial(frame, ip, 20, 0));
  frame[ip + 10] = ipCsum >> 8;
  frame[ip + 11] = ipCsum & 0xff;
  const th = ip + 20;
  frame[th] = sport >> 8;
  frame[th + 1] = sport & 0xff;
  frame[th + 2] = dport >> 8;
  frame[th + 3] = dport & 0xff;
  put32(th + 4, isn);
  frame[th + 12] = 6 << 4;
  frame[th + 13] = TCP_SYN;
  frame[th + 14] = 0xff;
  frame[th + 15] = 0xff;
  frame[th + 20] = 2;
  frame[th + 21] = 4;
  frame[th + 22] = 0x05;
  frame[th + 23] = 0xb4;
  const c = csumFold(csumPartial(frame, th, tcpLen, csumPseudoHeader(src, dst, 6, tcpLen)));
  frame[th + 16] = c >> 8;
  frame[th + 17] = c & 0xff;
  return 14 + total;
}

/**
 * A flood of SYNs from spoofed sources, raw frames on the LAN, fills a listener's SYN
 * queue (backlog 2); real clients connect all the same, through SYN cookies (RFC 4987),
 * send a greeting and get it back.
 */
function tcpSynflood(seed: number): ScenarioReport {
  const FLOOD = 500;
  const { world, lan, a: server, b: client, devA: devS } = new SimWorld(seed).twoHosts({
    faults: { delayMs: 1 },
    config: { tcpTimeWaitMs: 1000 },
    a: { name: "server", config: { tcpSocketsMax: 8 } },
    b: { name: "client" },
  });
  const attacker = lan.attach({ onFrame() {} });
  const attackerMac = new Uint8Array([0x02, 0x66, 0x66, 0x66, 0x66, 0x66]);
  const S = tcpSocketClasses(server.net);
  const C = tcpSocketClasses(client.net);
  let accepted = 0;
  let serverBytes = 0;
  const listener = new S.Listener({
    port: 80,
    backlog: 2,
    onReadable() {
      let from;
      while ((from = this.read()) !== undefined) {
        accepted++;
        new S.TCP({
          from,
          onReadable(n) {
            const got = new Uint8Array(this.read(n));
            serverBytes += got.length;
            this.write(got);
            this.close();
          },
          onError() { this.close(); },
        });
      }
    },
  });
  const frame = new Uint8Array(128);
  let sent = 0;
  const flood = (): void => {
    for (let i = 0; i < 10 && sent < FLOOD; i++, sent++) {
      const src = (0x0a000064 + (sent % 150)) >>> 0; // 10.0.0.100 ...
      const len = craftSyn(frame, devS.addr, attackerMac, src, 0x0a000001, 1024 + (sent % 50000), 80, Math.imul(sent, 7919) >>> 0, sent);
      lan.transmit(attacker, frame, 0, len);
    }
  };
  let clientBytes = 0;
  let clientMismatches = 0;
  let clientErrors = 0;
  let clients = 0;
  for (let round = 0; round < 50; round++) {
    flood();
    if (round % 10 === 5) {
      const k = clients++;
      const hello = new Uint8Array(12 + k);
      for (let i = 0; i < hello.length; i++) hello[i] = (i * 13 + k) & 0xff;
      let got = 0;
      new C.TCP({
        address: "10.0.0.1",
        port: 80,
        onWritable() {
          if (got === 0) this.write(hello);
        },
        onReadable(n) {
          const back = new Uint8Array(this.read(n));
          for (let i = 0; i < back.length; i++) if (back[i] !== hello[got + i]) clientMismatches++;
          got += back.length;
          clientBytes += back.length;
        },
        onError() { clientErrors++; this.close(); },
      });
    }
    world.runFor(20);
  }
  world.runFor(20_000);
  const st = server.net.tcp.stats;
  const extra: Record<string, number> = {
    flood: sent,
    clients,
    accepted,
    serverBytes,
    clientBytes,
    clientMismatches,
    clientErrors,
    syncookiesSent: st.syncookiesSent,
    syncookiesRecv: st.syncookiesRecv,
    syncookiesFailed: st.syncookiesFailed,
    tableFull: st.tableFull,
    listenDrops: st.listenDrops,
    halfOpen: server.net.tcp.children(0, false),
  };
  listener.close();
  extra.connectionsLeft = connections(server.net) + connections(client.net);
  return report("tcp-synflood", world, [], extra);
}

export const SCENARIOS: Readonly<Record<string, (seed: number) => ScenarioReport>> = {
  arp,
  "ping-frag-lossy": pingFragLossy,
  "pool-exhaustion": poolExhaustion,
  router,
  "udp-echo": udpEcho,
  "tcp-echo": tcpEcho,
  "tcp-bulk-clean": bulkScenario("clean"),
  "tcp-bulk-loss1": bulkScenario("loss1"),
  "tcp-bulk-loss5": bulkScenario("loss5"),
  "tcp-bulk-rtt100loss1": bulkScenario("rtt100loss1"),
  "tcp-bulk-rtt100": bulkScenario("rtt100"),
  "tcp-bulk-wscale": bulkScenario("wscale"),
  "tcp-bulk-sack": bulkScenario("sack"),
  "tcp-zero-window": tcpZeroWindow,
  "tcp-keepalive": tcpKeepalive,
  "tcp-connect-fail": tcpConnectFail,
  "tcp-reqresp": tcpReqResp,
  "tcp-synflood": tcpSynflood,
};

export function runScenario(name: string, seed: number): ScenarioReport {
  const fn = SCENARIOS[name];
  if (fn === undefined) throw new TypeError(`no scenario named '${name}'`);
  return fn(seed);
}

/**
 * A long-lived pair of hosts for steady-state measurements: pump(n) sends n full-size
 * pings (1,514-byte frames both ways) one after the other and returns the frames that
 * crossed the LAN.
 */
export class SteadyPing {
  readonly world: SimWorld;
  readonly ping: Pinger;
  readonly #dst = 0x0a000002;

  constructor(seed: number) {
    // No frame hash (a byte loop per frame: the determinism check's work, not the stack's);
    // static neighbours: no ARP cycle (REACHABLE -> STALE -> PROBE) inside a measurement.
    const { world, a } = new SimWorld(seed).twoHosts({ lanName: "steady", frameHash: false, staticNeighbours: true, mac: { lineRateBps: 0 } });
    this.world = world;
    // The data check is the application's work, not the stack's: checksums only here.
    this.ping = new Pinger(a.net, 0x5678, false);
    this.ping.send(this.#dst, 1472);
    this.world.runFor(5);
  }

  pump(n: number): number {
    const before = this.#framesSent();
    for (let i = 0; i < n; i++) {
      this.ping.send(this.#dst, 1472);
      this.world.runFor(0.5);
    }
    return this.#framesSent() - before;
  }

  #framesSent(): number {
    const hosts = this.world.hosts;
    let n = 0;
    for (let i = 0; i < hosts.length; i++) n += hosts[i].devices[0].stats.txPackets;
    return n;
  }

  /**
   * The floor for n pings: each of the two 1,514-byte frames copied twice (the cheapest
   * copy there is: copyWithin in one buffer) and checksummed twice.
   */
  static floor(n: number, memory: Uint8Array): number {
    const view = new DataView(memory.buffer, memory.byteOffset, memory.byteLength);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      for (let frame = 0; frame < 2; frame++) {
        copyBytes(memory, 1536, memory, 0, 1514);
        sum += csumPartialView(view, 1536, 1514, 0);
        copyBytes(memory, 3072, memory, 1536, 1514);
        sum += csumPartialView(view, 3072, 1514, 0);
      }
    }
    return sum;
  }
}

/**
 * Steady TCP: one connection from a to b on a clean, fast LAN, or (`loopback`) from a to
 * itself through 127.0.0.1, where no simulated hardware runs and the meter sees the stack
 * alone, both ends. The application writes full segments from one buffer and reads them
 * into one view, so the socket calls allocate nothing (or, `readBuffers`, as new
 * ArrayBuffers: read(n) allocates its result). pump(bytes) moves that many more
 * bytes and returns the data segments a sent.
 */
export class SteadyTcp {
  readonly world: SimWorld;
  readonly #a: Net;
  #client: TcpSocket | null = null;
  #target = 0;
  #sent = 0;
  received = 0;
  readonly #chunk: Uint8Array;
  readonly #sink: Uint8Array;
  readonly #empty = new Uint8Array(0);

  /** `readBuffers`: the reader takes each segment as a new ArrayBuffer (read(n)), not into its view */
  constructor(seed: number, loopback = false, readBuffers = false, mss = 1448) {
    const { world, a, b } = new SimWorld(seed).twoHosts({
      lanName: "steady-tcp",
      faults: { delayMs: 0.05 },
      frameHash: false,
      staticNeighbours: true,
      config: { skbSlots: 256, skbRecords: 320, tcpSndBufBytes: 65536, tcpRcvBufBytes: 65536 },
      mac: { lineRateBps: 0, rxRingSize: 64 },
    });
    this.world = world;
    this.#a = a.net;
    const pattern = new Uint8Array(mss);
    for (let i = 0; i < mss; i++) pattern[i] = i & 0xff;
    this.#chunk = pattern;
    this.#sink = new Uint8Array(mss);
    const sink = this.#sink;
    const SA = tcpSocketClasses(a.net);
    const SB = loopback ? SA : tcpSocketClasses(b.net);
    const self = this;
    new SB.Listener({
      port: 9,
      onReadable() {
        const from = this.read();
        if (from === undefined) return;
        new SB.TCP({
          from,
          onReadable(available) {
            while (available >= sink.length) {
              if (readBuffers) this.read(sink.length);
              else this.read(sink);
              self.received += sink.length;
              available -= sink.length;
            }
          },
        });
      },
    });
    this.#client = new SA.TCP({
      address: loopback ? "127.0.0.1" : "10.0.0.2",
      port: 9,
      onWritable() {
        self.#fill();
      },
    });
    this.world.runFor(10);
  }

  #fill(): void {
    const c = this.#client as TcpSocket;
    const chunk = this.#chunk;
    let room = c.write(this.#empty);
    while (this.#sent < this.#target && room >= chunk.length) {
      room = c.write(chunk);
      this.#sent += chunk.length;
    }
  }

  pump(bytes: number): number {
    const before = this.#a.tcp.stats.outSegs;
    this.#target += bytes - (bytes % this.#chunk.length);
    this.#fill();
    while (this.received < this.#target) this.world.runFor(1);
    return this.#a.tcp.stats.outSegs - before;
  }
}

/**
 * The floor of a TCP data segment between two stacks, n times: its payload copied in at
 * the sender and out at the receiver (native copies), and checksummed by each (the
 * stack's fastest checksum). `memory` holds at least 4,608 bytes.
 */
export function tcpSegmentFloor(n: number, memory: Uint8Array, payload = 1448): number {
  const view = new DataView(memory.buffer, memory.byteOffset, memory.byteLength);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    copyBytes(memory, 1536, memory, 0, payload);
    sum += csumPartialView(view, 1536, payload, 0);
    sum += csumPartialView(view, 1536, payload, 0);
    copyBytes(memory, 3072, memory, 1536, payload);
  }
  return sum;
}
