// Test benches for unit tests of the core and IPv4 layers: a fake driver that the test
// feeds frames into and reads transmitted frames from, a one-interface stack around it,
// a raw LAN endpoint for simulated worlds, and byte builders and parsers for crafted
// frames. Test code only: it allocates freely.

import { NETDEV_TX_BUSY, NETDEV_TX_OK, type NetDeviceOps } from "../src/core/netdevice";
import type { NetConfig } from "../src/config";
import { devKfreeSkbIrq, napiComplete, napiSchedule, netifReceiveSkb, netifStopQueue } from "../src/core/dev";
import { SKB_DROP } from "../src/core/drop";
import { kfreeSkbReason } from "../src/core/free";
import type { Net } from "../src/core/net";
import type { Napi, NetDevice } from "../src/core/netdevice";
import type { SkBuff } from "../src/core/skb";
import type { SimLan } from "../host-sim/sim/lan";
import type { SimWorld } from "../host-sim/sim/world";
import { csumFold, csumPartial } from "../src/wire/checksum";
import { parseMac } from "../src/wire/ethernet";
import { parseIpv4 } from "../src/wire/ipv4";
import { makeNet, type ManualPlatform } from "./helpers";
import { devOpen, netifCarrierOn, registerNetdev } from "../src/core/link";
import { ipAddrAdd } from "../src/ipv4/devinet";

export const mac = parseMac;
export const ip = parseIpv4;

export const HOST_MAC = mac("02:00:00:00:00:01");
export const HOST_IP = ip("10.0.0.1");
export const PEER_MAC = mac("02:00:00:00:00:02");
export const PEER_IP = ip("10.0.0.2");
export const BCAST_MAC = mac("ff:ff:ff:ff:ff:ff");

// ---------------------------------------------------------------- fake driver

/**
 * A driver the test drives by hand: inject() puts a frame on its receive queue and
 * schedules NAPI; startXmit copies each frame it takes into `sent`. With autoComplete the
 * TX-done "interrupt" comes at once (devKfreeSkbIrq); otherwise complete(n) does it.
 * ringSize bounds the frames taken and not completed; past it, startXmit is BUSY.
 */
export class FakeDriver implements NetDeviceOps {
  dev: NetDevice | null = null;
  readonly rx: SkBuff[] = [];
  readonly ring: SkBuff[] = [];
  readonly sent: Uint8Array[] = [];
  /** skb record id of each sent frame */
  readonly sentIds: number[] = [];
  readonly polls: { budget: number; work: number }[] = [];
  ringSize = Infinity;
  autoComplete = true;
  busyReturns = 0;
  /** stop the queue before BUSY (as a ring-full driver does) */
  stopOnFull = true;

  open(_dev: NetDevice): void {}

  stop(dev: NetDevice): void {
    for (const skb of this.rx.splice(0)) kfreeSkbReason(dev.net, skb, SKB_DROP.SHUTDOWN);
    this.complete(this.ring.length);
  }

  startXmit(skb: SkBuff, dev: NetDevice): number {
    if (this.ring.length >= this.ringSize) {
      this.busyReturns++;
      if (this.stopOnFull) netifStopQueue(dev);
      return NETDEV_TX_BUSY;
    }
    const buf = dev.net.pool.buf;
    this.sent.push(buf.slice(skb.data, skb.tail));
    this.sentIds.push(skb.id);
    if (this.autoComplete) devKfreeSkbIrq(skb);
    else this.ring.push(skb);
    return NETDEV_TX_OK;
  }

  /** TX-done for the n oldest frames in the ring. */
  complete(n: number): void {
    for (let i = 0; i < n && this.ring.length > 0; i++) devKfreeSkbIrq(this.ring.shift() as SkBuff);
  }

  poll(napi: Napi, budget: number): number {
    let work = 0;
    while (work < budget && this.rx.length > 0) {
      netifReceiveSkb(this.rx.shift() as SkBuff);
      work++;
    }
    if (work < budget) napiComplete(napi);
    this.polls.push({ budget, work });
    return work;
  }

  setRxMode(_dev: NetDevice): void {}

  /** A frame arrives: copied into a pool skb, queued, NAPI scheduled. */
  inject(frame: Uint8Array): SkBuff {
    const dev = this.dev as NetDevice;
    const net = dev.net;
    const skb = net.pool.alloc();
    if (skb === null) throw new Error("FakeDriver.inject: pool empty");
    const at = skb.put(frame.length);
    net.pool.buf.set(frame, at);
    skb.dev = dev;
    this.rx.push(skb);
    napiSchedule(dev.napi);
    return skb;
  }

  /** Take and forget the frames sent so far. */
  take(): Uint8Array[] {
    this.sentIds.length = 0;
    return this.sent.splice(0);
  }
}

/** Register a FakeDriver device on net (down until devOpen). */
export function addFakeDevice(net: Net, name: string, hwaddr: Uint8Array, options: { mtu?: number } = {}): { dev: NetDevice; drv: FakeDriver } {
  const drv = new FakeDriver();
  const dev = registerNetdev(net, name, drv, hwaddr, { mtu: options.mtu });
  drv.dev = dev;
  return { dev, drv };
}

export interface Bench {
  net: Net;
  platform: ManualPlatform;
  dev: NetDevice;
  drv: FakeDriver;
  /** run the loop until nothing is pending */
  run(): void;
  /** inject a frame and run */
  rx(frame: Uint8Array): void;
  /** frames sent since the last call */
  take(): Uint8Array[];
}

export interface BenchOptions {
  cidr?: string;
  mtu?: number;
  /** a permanent neighbour entry for PEER_IP -> PEER_MAC, so replies need no ARP */
  peer?: boolean;
  /** our MAC (default HOST_MAC) */
  hwaddr?: Uint8Array;
  /** the permanent peer (default PEER_IP at PEER_MAC) */
  peerIp?: number;
  peerMac?: Uint8Array;
}

/** A stack on a manual clock with one fake Ethernet interface, up, with carrier and an address. */
export function makeBench(config: Partial<NetConfig> = {}, options: BenchOptions = {}): Bench {
  const { net, platform } = makeNet(config, "bench");
  const { dev, drv } = addFakeDevice(net, "eth0", options.hwaddr ?? HOST_MAC, { mtu: options.mtu });
  ipAddrAdd(net, dev, options.cidr ?? "10.0.0.1/24");
  devOpen(dev);
  netifCarrierOn(dev);
  if (options.peer !== false) net.neigh.addPermanent(options.peerIp ?? PEER_IP, dev, options.peerMac ?? PEER_MAC);
  const run = (): void => runUntilIdle(net);
  run();
  drv.take();
  return {
    net, platform, dev, drv, run,
    rx(frame: Uint8Array) {
      drv.inject(frame);
      run();
    },
    take: () => drv.take(),
  };
}

/** Run the loop until no softirq is pending (bounded). */
export function runUntilIdle(net: Net): void {
  for (let i = 0; i < 1000; i++) {
    net.softnet.run();
    if (net.softnet.idle) return;
  }
  throw new Error("runUntilIdle: the loop never went idle");
}

// ---------------------------------------------------------------- a raw LAN port

export interface CapturedFrame {
  t: number;
  bytes: Uint8Array;
}

/**
 * A test endpoint on a simulated LAN: records a copy of every frame that reaches it and
 * sends crafted frames. It answers ARP requests for the addresses in `arpAnswers` (each
 * with its own MAC), so it can stand for several hosts.
 */
export class RawPort {
  readonly port: number;
  readonly frames: CapturedFrame[] = [];
  readonly arpAnswers = new Map<number, Uint8Array>();
  readonly #world: SimWorld;
  readonly #lan: SimLan;

  constructor(world: SimWorld, lan: SimLan) {
    this.#world = world;
    this.#lan = lan;
    this.port = lan.attach({ onFrame: (buf, off, len) => this.#onFrame(buf, off, len) });
  }

  #onFrame(buf: Uint8Array, off: number, len: number): void {
    const bytes = buf.slice(off, off + len);
    this.frames.push({ t: this.#world.now, bytes });
    if (isArp(bytes) && arpOf(bytes).op === 1) {
      const a = arpOf(bytes);
      const answer = this.arpAnswers.get(a.tpa);
      if (answer !== undefined) this.send(ethFrame(a.sha, answer, 0x0806, arpPacket(2, answer, a.tpa, a.sha, a.spa)));
    }
  }

  send(frame: Uint8Array): void {
    this.#lan.transmit(this.port, frame, 0, frame.length);
  }

  take(): CapturedFrame[] {
    return this.frames.splice(0);
  }
}

// ---------------------------------------------------------------- builders

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Bytes from a seed (xorshift32), for payloads. */
export function patternBytes(len: number, seed: number): Uint8Array {
  const out = new Uint8Array(len);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s & 0xff;
  }
  return out;
}

export function checksum(bytes: Uint8Array, off = 0, len = bytes.length - off): number {
  return csumFold(csumPartial(bytes, off, len, 0));
}

export function ethFrame(dst: Uint8Array, src: Uint8Array, type: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + payload.length);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  f.set(payload, 14);
  return f;
}

export interface Ipv4Fields {
  src: number;
  dst: number;
  proto: number;
  payload: Uint8Array;
  ttl?: number;
  id?: number;
  tos?: number;
  /** flags and fragment offset (in 8-byte units), raw 16 bits */
  frag?: number;
  /** header length in 32-bit words (options zero-filled) */
  ihlWords?: number;
  version?: number;
  /** override the total length field */
  totLen?: number;
  /** store a wrong header checksum */
  badChecksum?: boolean;
}

export function ipv4Packet(f: Ipv4Fields): Uint8Array {
  const ihlWords = f.ihlWords ?? 5;
  const hlen = ihlWords * 4;
  const p = new Uint8Array(Math.max(hlen, 20) + f.payload.length);
  p[0] = ((f.version ?? 4) << 4) | (ihlWords & 15);
  p[1] = f.tos ?? 0;
  const tot = f.totLen ?? p.length;
  p[2] = tot >> 8;
  p[3] = tot & 0xff;
  const id = f.id ?? 0x1234;
  p[4] = id >> 8;
  p[5] = id & 0xff;
  const frag = f.frag ?? 0;
  p[6] = frag >> 8;
  p[7] = frag & 0xff;
  p[8] = f.ttl ?? 64;
  p[9] = f.proto;
  put32(p, 12, f.src);
  put32(p, 16, f.dst);
  p.set(f.payload, Math.max(hlen, 20));
  const c = checksum(p, 0, Math.max(hlen, 20));
  const stored = f.badChecksum ? c ^ 0x0101 : c;
  p[10] = stored >> 8;
  p[11] = stored & 0xff;
  return p;
}

export function ipFrame(dst: Uint8Array, src: Uint8Array, f: Ipv4Fields): Uint8Array {
  return ethFrame(dst, src, 0x0800, ipv4Packet(f));
}

/** An ICMP message with its checksum. */
export function icmpMessage(type: number, code: number, rest32: number, data: Uint8Array): Uint8Array {
  const m = new Uint8Array(8 + data.length);
  m[0] = type;
  m[1] = code;
  put32(m, 4, rest32 >>> 0);
  m.set(data, 8);
  const c = checksum(m);
  m[2] = c >> 8;
  m[3] = c & 0xff;
  return m;
}

export function echoRequest(id: number, seq: number, data: Uint8Array): Uint8Array {
  return icmpMessage(8, 0, ((id << 16) | seq) >>> 0, data);
}

export function arpPacket(op: number, sha: Uint8Array, spa: number, tha: Uint8Array, tpa: number): Uint8Array {
  const a = new Uint8Array(28);
  a.set([0, 1, 8, 0, 6, 4, 0, op]);
  a.set(sha, 8);
  put32(a, 14, spa);
  a.set(tha, 18);
  put32(a, 24, tpa);
  return a;
}

export function put32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

export function get16(b: Uint8Array, off: number): number {
  return (b[off] << 8) | b[off + 1];
}

export function get32(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

// ---------------------------------------------------------------- parsers

export function ethType(frame: Uint8Array): number {
  return get16(frame, 12);
}

export function isArp(frame: Uint8Array): boolean {
  return frame.length >= 42 && ethType(frame) === 0x0806;
}

export function isIp(frame: Uint8Array): boolean {
  return frame.length >= 34 && ethType(frame) === 0x0800;
}

export interface ArpView {
  op: number;
  sha: Uint8Array;
  spa: number;
  tha: Uint8Array;
  tpa: number;
}

export function arpOf(frame: Uint8Array): ArpView {
  const a = 14;
  return {
    op: get16(frame, a + 6),
    sha: frame.slice(a + 8, a + 14),
    spa: get32(frame, a + 14),
    tha: frame.slice(a + 18, a + 24),
    tpa: get32(frame, a + 24),
  };
}

export interface IpView {
  ihl: number;
  tos: number;
  totLen: number;
  id: number;
  frag: number;
  mf: boolean;
  df: boolean;
  offset: number;
  ttl: number;
  proto: number;
  src: number;
  dst: number;
  /** the header checksum verifies */
  csumOk: boolean;
  /** bytes after the header, up to the total length */
  payload: Uint8Array;
}

export function ipOf(frame: Uint8Array, at = 14): IpView {
  const ihl = (frame[at] & 15) * 4;
  const totLen = get16(frame, at + 2);
  const frag = get16(frame, at + 6);
  return {
    ihl,
    tos: frame[at + 1],
    totLen,
    id: get16(frame, at + 4),
    frag,
    mf: (frag & 0x2000) !== 0,
    df: (frag & 0x4000) !== 0,
    offset: (frag & 0x1fff) * 8,
    ttl: frame[at + 8],
    proto: frame[at + 9],
    src: get32(frame, at + 12),
    dst: get32(frame, at + 16),
    csumOk: checksum(frame, at, ihl) === 0,
    payload: frame.slice(at + ihl, at + totLen),
  };
}

/** Join the payloads of IP fragments (any order) into the datagram's payload. */
export function joinFragments(frames: Uint8Array[]): Uint8Array {
  const views = frames.map((f) => ipOf(f)).sort((a, b) => a.offset - b.offset);
  const total = views.reduce((n, v) => Math.max(n, v.offset + v.payload.length), 0);
  const out = new Uint8Array(total);
  for (const v of views) out.set(v.payload, v.offset);
  return out;
}

/** The bytes of an skb chain from skb.data on (a copy). */
export function skbBytes(net: Net, skb: SkBuff): Uint8Array {
  const out = new Uint8Array(skb.chainLen());
  let at = 0;
  for (let s: SkBuff | null = skb; s !== null; s = s.fragNext) {
    out.set(net.pool.buf.subarray(s.data, s.tail), at);
    at += s.len;
  }
  return out;
}
