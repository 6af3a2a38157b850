// Shared pieces of the TCP scenario tests: two hosts on one simulated LAN with the
// ECMA-419 classes of each, a pattern stream and its hash, a look at the connection table,
// and builders and parsers for crafted TCP segments (a raw port on the LAN injects them).
// Test code only: it allocates freely.

import { createHash } from "node:crypto";
import type { NetConfig } from "../../src/config";
import type { Net } from "../../src/core/net";
import type { SimLan, LinkFaults } from "../../host-sim/sim/lan";
import type { SimMacOptions } from "../../host-sim/sim/dma-mac-hw";
import type { SimWorld, TwoHosts } from "../../host-sim/sim/world";
import { tcpSocketClasses, type TcpSocket } from "../../src/socket/tcp";
import { TCP_CLOSED, TCP_STATE_NAMES } from "../../src/tcp/tcb";
import { makeWorld } from "../helpers";
import { checksum, ethFrame, get16, get32, ip, ipv4Packet, isIp, ipOf, put32, RawPort } from "../testbed";

export type Classes = ReturnType<typeof tcpSocketClasses>;

export const A_IP = "10.0.0.1";
export const B_IP = "10.0.0.2";

export interface Pair extends TwoHosts {
  A: Classes;
  B: Classes;
}

/** Hosts a (10.0.0.1) and b (10.0.0.2) on one LAN with `faults`, a with `config`, b with `configB`. */
export function makePair(seed: number, faults: Partial<LinkFaults> = {}, config: Partial<NetConfig> = {}, configB: Partial<NetConfig> = config, mac: SimMacOptions = {}): Pair {
  const hosts = makeWorld(seed).twoHosts({ faults, mac, a: { config }, b: { config: configB } });
  return { ...hosts, A: tcpSocketClasses(hosts.a.net), B: tcpSocketClasses(hosts.b.net) };
}

/** The bytes of a stream, a function of (length, seed): what senders write and receivers check. */
export function streamBytes(len: number, seed: number): Uint8Array {
  const out = new Uint8Array(len);
  let s = (seed * 0x9e3779b1) >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s >>> 24;
  }
  return out;
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** A growing byte sink (what a reader received, in order). */
export class Sink {
  buf: Uint8Array;
  len = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
  }
  push(bytes: Uint8Array): void {
    if (this.len + bytes.length > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + bytes.length));
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Connections of a stack that are not CLOSED, as "STATE localPort->remotePort". */
export function tcpTable(net: Net): string[] {
  const t = net.tcp.tcb;
  const out: string[] = [];
  for (let c = 0; c < t.size; c++) if (t.state[c] !== TCP_CLOSED) out.push(`${TCP_STATE_NAMES[t.state[c]]} ${t.localPort[c]}->${t.remotePort[c]}`);
  return out;
}

/** The connection index of a 4-tuple seen from `net` (not a listener), or -1. */
export function findConn(net: Net, localPort: number, remotePort: number): number {
  const t = net.tcp.tcb;
  for (let c = 0; c < t.size; c++) if (t.state[c] > 1 && t.localPort[c] === localPort && t.remotePort[c] === remotePort) return c;
  return -1;
}

/** Chain a tap on every frame a LAN carries (the world's frame hash keeps running). */
export function tapLan(lan: SimLan, world: SimWorld, fn: (t: number, port: number, frame: Uint8Array) => void): void {
  const prev = lan.onWire;
  lan.onWire = (port, buf, off, len) => {
    if (prev !== null) prev(port, buf, off, len);
    fn(world.now, port, buf.slice(off, off + len));
  };
}

// ---------------------------------------------------------------- TCP segments

export const FIN = 1;
export const SYN = 2;
export const RST = 4;
export const PSH = 8;
export const ACK = 16;

export interface TcpFields {
  src: number;
  dst: number;
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  flags: number;
  window?: number;
  payload?: Uint8Array;
  /** option bytes, padded with EOL to a multiple of 4 */
  options?: number[];
}

/** A TCP segment (options if given) with its checksum over the pseudo-header. */
export function tcpSegment(f: TcpFields): Uint8Array {
  const payload = f.payload ?? new Uint8Array(0);
  const opts = f.options ?? [];
  const hlen = 20 + ((opts.length + 3) & ~3);
  const s = new Uint8Array(hlen + payload.length);
  s[0] = f.sport >> 8;
  s[1] = f.sport & 0xff;
  s[2] = f.dport >> 8;
  s[3] = f.dport & 0xff;
  put32(s, 4, f.seq >>> 0);
  put32(s, 8, (f.ack ?? 0) >>> 0);
  s[12] = (hlen / 4) << 4;
  s[13] = f.flags;
  const w = f.window ?? 65535;
  s[14] = w >> 8;
  s[15] = w & 0xff;
  s.set(opts, 20);
  s.set(payload, hlen);
  // Pseudo-header (RFC 9293 3.1): source, destination, zero, protocol, TCP length.
  const pseudo = new Uint8Array(12 + s.length);
  put32(pseudo, 0, f.src);
  put32(pseudo, 4, f.dst);
  pseudo[9] = 6;
  pseudo[10] = s.length >> 8;
  pseudo[11] = s.length & 0xff;
  pseudo.set(s, 12);
  const c = checksum(pseudo);
  s[16] = c >> 8;
  s[17] = c & 0xff;
  return s;
}

/** An Ethernet frame carrying a crafted TCP segment. */
export function tcpFrame(dstMac: Uint8Array, srcMac: Uint8Array, f: TcpFields): Uint8Array {
  return ethFrame(dstMac, srcMac, 0x0800, ipv4Packet({ src: f.src, dst: f.dst, proto: 6, payload: tcpSegment(f) }));
}

export interface TcpView {
  src: number;
  dst: number;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** options bytes */
  options: Uint8Array;
  payload: Uint8Array;
  /** the checksum verifies over the pseudo-header */
  csumOk: boolean;
}

/** The TCP segment of a frame, or null when the frame is not IPv4/TCP. */
export function tcpOf(frame: Uint8Array): TcpView | null {
  if (!isIp(frame)) return null;
  const v = ipOf(frame);
  if (v.proto !== 6 || v.offset !== 0) return null;
  const s = v.payload;
  const doff = (s[12] >> 4) * 4;
  const pseudo = new Uint8Array(12 + s.length);
  put32(pseudo, 0, v.src);
  put32(pseudo, 4, v.dst);
  pseudo[9] = 6;
  pseudo[10] = s.length >> 8;
  pseudo[11] = s.length & 0xff;
  pseudo.set(s, 12);
  return {
    src: v.src,
    dst: v.dst,
    sport: get16(s, 0),
    dport: get16(s, 2),
    seq: get32(s, 4),
    ack: get32(s, 8),
    flags: s[13],
    window: get16(s, 14),
    options: s.slice(20, doff),
    payload: s.slice(doff),
    csumOk: checksum(pseudo) === 0,
  };
}


/** The local port of `net`'s (first) connection to remote port `remotePort`, or -1. */
export function localPortTo(net: Net, remotePort: number): number {
  const t = net.tcp.tcb;
  for (let c = 0; c < t.size; c++) if (t.state[c] > 1 && t.remotePort[c] === remotePort) return t.localPort[c];
  return -1;
}

/** A segment "from b" to a's connection of connectedPair (addresses and ports filled in). */
export interface InjectFields {
  flags: number;
  seq: number;
  ack?: number;
  window?: number;
  payload?: Uint8Array;
  options?: number[];
}

/**
 * a (client) and b (server on port 80) connected, having exchanged three bytes each way,
 * with a raw port beside them on the LAN (MAC rawMac) that injects segments "from b" to a's
 * connection; fromA collects what a sends from then on.
 */
export function connectedPair(seed: number, config: Partial<NetConfig>, rawMac: Uint8Array) {
  const pair = makePair(seed, { delayMs: 1 }, config);
  const { world, lan, a, A, B } = pair;
  const raw = new RawPort(world, lan);
  const got = { a: [] as number[], b: [] as number[] };
  const errors = { a: 0, b: 0 };
  let server: TcpSocket | null = null;
  const listener = new B.Listener({
    port: 80,
    onReadable() {
      server = new B.TCP({
        from: this.read()!,
        onReadable(n) { got.b.push(...new Uint8Array(this.read(n))); },
        onError() { errors.b++; },
      });
    },
  });
  const client = new A.TCP({
    address: B_IP,
    port: 80,
    onReadable(n) { got.a.push(...new Uint8Array(this.read(n))); },
    onError() { errors.a++; },
  });
  world.runFor(50);
  client.write(new Uint8Array([1, 2, 3]));
  (server as TcpSocket | null)?.write(new Uint8Array([4, 5, 6]));
  world.runFor(2000);
  if (got.a.join() !== "4,5,6" || got.b.join() !== "1,2,3") throw new Error(`connectedPair: exchange failed: ${JSON.stringify(got)}`);
  const lport = localPortTo(a.net, 80);
  const c = findConn(a.net, lport, 80);
  const t = a.net.tcp.tcb;
  const fromA: TcpView[] = [];
  tapLan(lan, world, (_t, port, frame) => {
    const v = tcpOf(frame);
    if (v !== null && port === 0) fromA.push(v);
  });
  const send = (f: InjectFields): void => {
    raw.send(tcpFrame(a.devices[0].addr, rawMac, { src: ip(B_IP), dst: ip(A_IP), sport: 80, dport: lport, ...f }));
    world.runFor(5);
  };
  return { ...pair, raw, got, errors, client, server: server as unknown as TcpSocket, listener, c, t, fromA, send, lport };
}
