// TCP bulk transfer both ways at once through the socket API, every byte checked, with what
// the wire showed; and its presets (the XS harness runs them small, test/tcp/scale.test.ts
// with 10 MB each way).

import { tcpSocketClasses, type TcpSocket } from "../../../src/socket/tcp";
import type { NetConfig } from "../../../src/config";
import { seqGt, seqLt } from "../../../src/tcp/tcb";
import { ETH_HLEN, ETH_P_IP, ethType } from "../../../src/wire/ethernet";
import { IPPROTO_TCP, IPV4_HLEN, IP_MF, IP_OFFMASK, ipFragField, ipIhlBytes, ipProto, ipTotLen } from "../../../src/wire/ipv4";
import {
  TCP_ACK, TCP_FIN, TCP_HLEN, TCP_RST, TCP_SYN, TcpOptions, tcpAckSeq, tcpDoffBytes, tcpFlags, tcpParseOptions, tcpSeq, tcpWindow,
} from "../../../src/wire/tcp";
import type { SimMacOptions } from "../dma-mac-hw";
import type { LinkFaults, SimLan } from "../lan";
import { SimWorld, type HostSpec } from "../world";
import { connections, PatternStream, report, type ScenarioReport } from "./report";

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
  /** host a (the client) plugged in some other way (an SPI Ethernet chip, say) */
  a?: HostSpec;
  /**
   * Drop the client's data segments with these numbers on their first transmission (0 is
   * the first data segment it sends), through the LAN's dropFilter: losses chosen exactly.
   */
  dropClientSegs?: readonly number[];
  /** virtual time allowed for the whole exchange, the close included (default 600 s) */
  limitMs?: number;
  /** runs once the hosts are attached (a rate limit toward a slower port, say) */
  setup?: (lan: SimLan) => void;
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
  const { world, lan, a, b } = new SimWorld(seed).twoHosts({ faults: o.faults, config: { tcpTimeWaitMs: 1000, ...o.config }, mac: o.mac, a: o.a });
  if (o.setup !== undefined) o.setup(lan);
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
    if (len < ETH_HLEN + IPV4_HLEN || ethType(buf, off) !== ETH_P_IP) return;
    const ip = off + ETH_HLEN;
    const ihl = ipIhlBytes(buf, ip);
    const frag = ipFragField(buf, ip);
    if ((frag & (IP_MF | IP_OFFMASK)) !== 0) w.fragments++;
    if (ipProto(buf, ip) !== IPPROTO_TCP || (frag & IP_OFFMASK) !== 0) return;
    const th = ip + ihl;
    const doff = tcpDoffBytes(buf, th);
    const payload = ipTotLen(buf, ip) - ihl - doff;
    const seq = tcpSeq(buf, th);
    const ack = tcpAckSeq(buf, th);
    const flags = tcpFlags(buf, th);
    const win = tcpWindow(buf, th);
    opts.reset();
    if (doff > TCP_HLEN) tcpParseOptions(buf, th + TCP_HLEN, doff - TCP_HLEN, opts);
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

export function bulkScenario(preset: BulkPreset): (seed: number) => ScenarioReport {
  const name = `tcp-bulk-${preset}`;
  return (seed) => tcpBulk(name, seed, { ...BULK_PRESETS[preset], bytes: XS_BULK_BYTES[preset] as number });
}
