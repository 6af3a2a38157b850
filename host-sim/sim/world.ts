// A simulated network in virtual time: LANs, hosts running the stack, and simulated DMA
// MACs joining them. One seed feeds every random choice (each LAN and each host forks
// its own generator from it), and events run in (time, sequence) order, so a scenario
// replays exactly from its seed. Node-free: the XS harness runs the same scenarios.

import { DmaMacDriver } from "../../drivers/dma-mac";
import type { NetConfig } from "../../src/config";
import { poolBytes, type Net } from "../../src/core/net";
import { init } from "../../src/stack";
import { type DeviceOptions } from "../../src/core/link";
import type { NetDevice } from "../../src/core/netdevice";
import type { Platform } from "../../src/core/platform";
import { EventLoop, type SimEventHandler } from "./event-loop";
import { SimLan, type LinkFaults } from "./lan";
import { SimDmaMac, type SimMacOptions } from "./dma-mac-hw";
import { Prng } from "./prng";
import { ipAddrAdd } from "../../src/ipv4/devinet";
import { devOpen } from "../../src/core/link";

const SOON = 0;
const WAKE = 1;

/** The platform of a host in the simulation: virtual clock, events, a seeded generator. */
export class SimPlatform implements Platform, SimEventHandler {
  readonly #loop: EventLoop;
  readonly #prng: Prng;
  #soonPending = false;
  /** the earliest wake-up event pending */
  #wakeAt = Infinity;
  net: Net | null = null;

  constructor(loop: EventLoop, prng: Prng) {
    this.#loop = loop;
    this.#prng = prng;
  }

  now(): number {
    return this.#loop.now;
  }

  /**
   * Coalesced like a device's one hardware timer: at most one "now" event and one wake-up
   * pending; an earlier deadline adds an event, a later one is already covered (an extra
   * run is harmless: Net.run asks again for what it still needs).
   */
  requestRun(delayMs: number): void {
    const now = this.#loop.now;
    if (!(delayMs > 0)) {
      if (this.#soonPending) return;
      this.#soonPending = true;
      this.#loop.after(0, this, SOON);
      return;
    }
    const at = now + delayMs;
    if (at >= this.#wakeAt) return;
    this.#wakeAt = at;
    this.#loop.after(delayMs, this, WAKE);
  }

  random32(): number {
    return this.#prng.next32();
  }

  onSimEvent(arg: number): void {
    if (arg === SOON) this.#soonPending = false;
    else if (this.#loop.now >= this.#wakeAt) this.#wakeAt = Infinity;
    if (this.net !== null) this.net.softnet.run(arg === WAKE);
  }
}

export interface SimHost {
  readonly name: string;
  readonly net: Net;
  readonly macs: SimDmaMac[];
  readonly devices: NetDevice[];
}

/** FNV-1a over a frame: the determinism check hashes every frame on every LAN in order. */
function fnv1a(h: number, buf: Uint8Array, off: number, len: number): number {
  for (let i = off; i < off + len; i++) h = Math.imul(h ^ buf[i], 0x01000193) >>> 0;
  return h;
}

export class SimWorld {
  readonly seed: number;
  readonly loop: EventLoop;
  readonly lans: SimLan[] = [];
  readonly hosts: SimHost[] = [];
  readonly #prng: Prng;
  /** running hash of every frame put on any LAN, in order (with its time and port) */
  frameHash = 0x811c9dc5;
  framesOnWire = 0;
  readonly #hashScratch = new Uint8Array(8);
  #macSerial = 1;
  /**
   * One arena of "physical memory" for every host's packet pool and every LAN's frame
   * buffers, as DMA memory on a board: a copy between a LAN and a MAC is one copyWithin.
   */
  readonly memory: Uint8Array;
  #memoryUsed = 0;

  constructor(seed: number, eventCapacity = 1 << 16, memoryBytes = 12 << 20) {
    this.seed = seed >>> 0;
    this.loop = new EventLoop(eventCapacity);
    this.#prng = new Prng(this.seed);
    this.memory = new Uint8Array(memoryBytes);
  }

  #carve(bytes: number, what: string): number {
    const at = this.#memoryUsed;
    if (at + bytes > this.memory.length) {
      throw new RangeError(`SimWorld: ${what} needs ${bytes} bytes; the arena has ${this.memory.length - at} left (raise memoryBytes)`);
    }
    this.#memoryUsed = (at + bytes + 7) & ~7;
    return at;
  }

  addLan(name: string, faults: Partial<LinkFaults> = {}, framesMax = 1024): SimLan {
    const frameBytesMax = 1536;
    const memoryOffset = this.#carve(framesMax * frameBytesMax, `LAN ${name}`);
    const lan = new SimLan(this.loop, {
      seed: this.#prng.fork(0x4c414e00 + this.lans.length).next32(), name, faults, framesMax, frameBytesMax,
      memory: this.memory, memoryOffset,
    });
    lan.onWire = (port, buf, off, len) => this.#hashFrame(port, buf, off, len);
    this.lans.push(lan);
    return lan;
  }

  #hashFrame(port: number, buf: Uint8Array, off: number, len: number): void {
    const s = this.#hashScratch;
    const t = Math.round(this.loop.now * 1000);
    s[0] = t & 0xff; s[1] = (t >>> 8) & 0xff; s[2] = (t >>> 16) & 0xff; s[3] = (t >>> 24) & 0xff;
    s[4] = port & 0xff; s[5] = len & 0xff; s[6] = (len >>> 8) & 0xff; s[7] = 0;
    this.frameHash = fnv1a(fnv1a(this.frameHash, s, 0, 8), buf, off, len);
    this.framesOnWire++;
  }

  /** A host running its own stack (its platform forks the world's generator). */
  addHost(name: string, config: Partial<NetConfig> = {}): SimHost {
    const platform = new SimPlatform(this.loop, this.#prng.fork(0x484f5354 + this.hosts.length));
    const memoryOffset = this.#carve(poolBytes(config), `host ${name}'s packet pool`);
    const net = init(config, platform, { memory: this.memory, memoryOffset });
    platform.net = net;
    const host: SimHost = { name, net, macs: [], devices: [] };
    this.hosts.push(host);
    return host;
  }

  /**
   * Plug a host into a LAN through a new simulated DMA MAC: registers the interface,
   * gives it `cidr` ("10.0.1.2/24") and brings it up.
   */
  attach(host: SimHost, lan: SimLan, cidr: string, options: SimMacOptions & { mtu?: number; name?: string; qdisc?: DeviceOptions["qdisc"] } = {}): NetDevice {
    const hw = new SimDmaMac(this.loop, lan, options);
    const driver = new DmaMacDriver(hw);
    const serial = this.#macSerial++;
    const mac = new Uint8Array([0x02, 0x00, 0x5e, (serial >> 16) & 0xff, (serial >> 8) & 0xff, serial & 0xff]);
    const dev = driver.register(host.net, options.name ?? `eth${host.devices.length}`, mac, { mtu: options.mtu ?? 1500, qdisc: options.qdisc });
    ipAddrAdd(host.net, dev, cidr);
    devOpen(dev);
    host.macs.push(hw);
    host.devices.push(dev);
    return dev;
  }

  get now(): number {
    return this.loop.now;
  }

  /** Run virtual time forward by ms. */
  runFor(ms: number): void {
    this.loop.runUntil(this.loop.now + ms);
  }

  /** Run until cond() holds or limitMs of virtual time pass; true when it holds. */
  runUntil(cond: () => boolean, limitMs: number): boolean {
    return this.loop.runWhile(() => !cond(), limitMs);
  }

  /** Stop every host, returning every skb to its pool. */
  shutdown(): void {
    for (const h of this.hosts) h.net.shutdown();
  }
}
