// Shared pieces of the TCP scenario tests: two hosts on one simulated LAN with the
// ECMA-419 classes of each, a pattern stream and its hash, a look at the connection table,
// taps and filters on a LAN, and a connected pair a raw port injects crafted segments into
// (built with test/packets.ts). Test code only: it allocates freely.

import { createHash } from "node:crypto";
import type { NetConfig } from "../../src/config";
import type { Net } from "../../src/core/net";
import type { SimLan, LinkFaults } from "../../host-sim/sim/lan";
import type { SimMacOptions } from "../../host-sim/sim/dma-mac-hw";
import type { SimWorld, TwoHosts } from "../../host-sim/sim/world";
import { tcpSocketClasses, type TcpSocket } from "../../src/socket/tcp";
import { TCP_CLOSED, TCP_STATE_NAMES } from "../../src/tcp/tcb";
import { makeWorld } from "../helpers";
import { ip, tcpFrame, tcpOf, type TcpView } from "../packets";
import { RawPort } from "../testbed";
import { xorshift32 } from "../wire/fixtures";

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
  const next = xorshift32((seed * 0x9e3779b1) >>> 0);
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = next() >>> 24;
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

/** What a filter does with a frame: pass it, drop it, or hold it back some milliseconds. */
export const PASS = 0;
export const DROP = -1;

/**
 * Put a filter in front of a LAN: `decide` sees every frame a port transmits (a copy, at
 * the time it leaves) and returns PASS, DROP, or a number of milliseconds to hold it back
 * (it then enters the LAN that much later, so frames sent after it overtake it). A dropped
 * frame never reaches the LAN, so taps (tapLan) and the world's frame hash do not see it;
 * a held frame is seen when it enters. Deterministic: it draws nothing at random.
 */
export function filterLan(lan: SimLan, world: SimWorld, decide: (t: number, port: number, frame: Uint8Array) => number): void {
  const transmit = lan.transmit.bind(lan);
  lan.transmit = (port: number, buf: Uint8Array, off: number, len: number): void => {
    const frame = buf.slice(off, off + len);
    const d = decide(world.now, port, frame);
    if (d === PASS) {
      transmit(port, buf, off, len);
    } else if (d > 0) {
      world.loop.after(d, { onSimEvent: () => transmit(port, frame, 0, frame.length) }, 0);
    }
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
