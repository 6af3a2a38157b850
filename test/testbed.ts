// Test benches for unit tests of the core and IPv4 layers: a fake driver that the test
// feeds frames into and reads transmitted frames from, a one-interface stack around it,
// and a raw LAN endpoint for simulated worlds. The frames they carry are built and read
// with test/packets.ts. Test code only: it allocates freely.

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
import { ARPOP_REPLY, ARPOP_REQUEST } from "../src/wire/arp";
import { makeNet, type ManualPlatform } from "./helpers";
import { arpFrame, arpOf, ip, isArp, mac } from "./packets";
import { devOpen, netifCarrierOn, registerNetdev } from "../src/core/link";
import { ipAddrAdd } from "../src/ipv4/devinet";

export const HOST_MAC = mac("02:00:00:00:00:01");
export const HOST_IP = ip("10.0.0.1");
export const PEER_MAC = mac("02:00:00:00:00:02");
export const PEER_IP = ip("10.0.0.2");

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

/**
 * A stack on a manual clock with fake interfaces eth0, eth1, ... at `macs`, each opened
 * and, unless told not, with carrier (no addresses).
 */
export function fakeStack(config: Partial<NetConfig>, macs: Uint8Array[], options: { carrier?: boolean; label?: string } = {}) {
  const { net, platform } = makeNet(config, options.label);
  const devs = macs.map((hwaddr, i) => {
    const d = addFakeDevice(net, `eth${i}`, hwaddr);
    devOpen(d.dev);
    if (options.carrier !== false) netifCarrierOn(d.dev);
    return d;
  });
  return { net, platform, devs };
}

/** A stack with two fake interfaces eth0 and eth1, up without carrier (routing asks only isUp). */
export function twoDevices() {
  const { net, devs } = fakeStack({ routesMax: 16 }, [mac("02:00:00:00:00:01"), mac("02:00:00:00:00:02")], { carrier: false });
  return { net, a: devs[0].dev, b: devs[1].dev };
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
  readonly #then: ((bytes: Uint8Array) => void) | null;

  /** `then` sees every frame that reaches the port, after the ARP answer if any. */
  constructor(world: SimWorld, lan: SimLan, then?: (bytes: Uint8Array) => void) {
    this.#world = world;
    this.#lan = lan;
    this.#then = then ?? null;
    this.port = lan.attach({ onFrame: (buf, off, len) => this.#onFrame(buf, off, len) });
  }

  #onFrame(buf: Uint8Array, off: number, len: number): void {
    const bytes = buf.slice(off, off + len);
    this.frames.push({ t: this.#world.now, bytes });
    if (isArp(bytes) && arpOf(bytes).op === ARPOP_REQUEST) {
      const a = arpOf(bytes);
      const answer = this.arpAnswers.get(a.tpa);
      if (answer !== undefined) this.send(arpFrame(a.sha, ARPOP_REPLY, answer, a.tpa, a.sha, a.spa));
    }
    if (this.#then !== null) this.#then(bytes);
  }

  send(frame: Uint8Array): void {
    this.#lan.transmit(this.port, frame, 0, frame.length);
  }

  take(): CapturedFrame[] {
    return this.frames.splice(0);
  }
}

// ---------------------------------------------------------------- skb bytes

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
