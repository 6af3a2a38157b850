// A simulated network in virtual time: LANs, hosts running the stack, and simulated DMA
// MACs joining them. One seed feeds every random choice (each LAN and each host forks
// its own generator from it), and events run in (time, sequence) order, so a scenario
// replays exactly from its seed. Node-free: the XS harness runs the same scenarios.
// The set-ups every scenario, test and bench shares are here too: two hosts on a LAN, one
// host alone, two LANs joined by a router (twoHosts, oneHost, routedHosts).

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
import { ipAddrAdd, setDefaultGateway } from "../../src/ipv4/devinet";
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
  /**
   * The CPU is busy until then, polling an SPI bus (SimSpiBus pushes it forward): the
   * clock reads it, and no softirq runs before it.
   */
  busyUntil = 0;

  constructor(loop: EventLoop, prng: Prng) {
    this.#loop = loop;
    this.#prng = prng;
  }

  now(): number {
    const t = this.#loop.now;
    return this.busyUntil > t ? this.busyUntil : t;
  }

  /**
   * Coalesced like a device's one hardware timer: at most one "now" event and one wake-up
   * pending; an earlier deadline adds an event, a later one is already covered (an extra
   * run is harmless: Net.run asks again for what it still needs).
   */
  requestRun(delayMs: number): void {
    const now = this.now();
    if (!(delayMs > 0)) {
      if (this.#soonPending) return;
      this.#soonPending = true;
      this.#loop.after(0, this, SOON);
      return;
    }
    const at = now + delayMs;
    if (at >= this.#wakeAt) return;
    this.#wakeAt = at;
    this.#loop.at(at, this, WAKE);
  }

  random32(): number {
    return this.#prng.next32();
  }

  onSimEvent(arg: number): void {
    if (this.busyUntil > this.#loop.now) {
      // The CPU is still in an SPI transfer: the run waits for it.
      this.#loop.at(this.busyUntil, this, arg);
      return;
    }
    if (arg === SOON) this.#soonPending = false;
    else if (this.#loop.now >= this.#wakeAt) this.#wakeAt = Infinity;
    if (this.net !== null) this.net.softnet.run(arg === WAKE);
  }
}

export interface SimHost {
  readonly name: string;
  readonly net: Net;
  /** its clock, events and random source; an SPI bus keeps its CPU busy through it */
  readonly platform: SimPlatform;
  readonly macs: SimDmaMac[];
  readonly devices: NetDevice[];
}

/** A host's simulated MAC (rings, line rate, offloads) and its interface (MTU, name, qdisc). */
export type AttachOptions = SimMacOptions & { mtu?: number; name?: string; qdisc?: DeviceOptions["qdisc"] };

/** One host of a set-up: what differs from the defaults. */
export interface HostSpec {
  /** the host's name (default "a", "b", "r") */
  name?: string;
  /** its configuration, over the one the set-up gives every host */
  config?: Partial<NetConfig>;
  /** its address (two hosts: 10.0.0.1/24 and 10.0.0.2/24) */
  cidr?: string;
  /** its MAC and interface, over the ones the set-up gives every host */
  mac?: AttachOptions;
  /** plugs the host in some other way than a simulated DMA MAC (an SPI Ethernet chip, say) */
  attach?: AttachHost;
}

/** Plugs a host into a LAN, gives it `cidr` (null: none) and brings the interface up. */
export type AttachHost = (world: SimWorld, host: SimHost, lan: SimLan, cidr: string | null) => NetDevice;

export interface TwoHostsOptions {
  /** the LAN's name (default "lan") */
  lanName?: string;
  faults?: Partial<LinkFaults>;
  /** frames the LAN holds (default 1024) */
  framesMax?: number;
  /** every host's configuration */
  config?: Partial<NetConfig>;
  /** every host's MAC and interface */
  mac?: AttachOptions;
  a?: HostSpec;
  b?: HostSpec;
  /**
   * Hash every frame on the LAN (default true). Off for steady-state measurements: the
   * hash is the determinism check's work, not the stack's.
   */
  frameHash?: boolean;
  /** permanent neighbour entries both ways: no ARP cycle inside a measurement */
  staticNeighbours?: boolean;
}

/** Hosts a and b on one LAN, each with one interface. */
export interface TwoHosts {
  world: SimWorld;
  lan: SimLan;
  a: SimHost;
  b: SimHost;
  devA: NetDevice;
  devB: NetDevice;
}

export interface RoutedHostsOptions {
  /** faults of lan1 (a and r) and lan2 (r and b) */
  faults1?: Partial<LinkFaults>;
  faults2?: Partial<LinkFaults>;
  /** every host's configuration (r forwards over it unless its own says not) */
  config?: Partial<NetConfig>;
  /** the MTU of the interfaces on lan2 (r's second and b's; default 1500) */
  mtu2?: number;
  a?: Omit<HostSpec, "cidr">;
  r?: Omit<HostSpec, "cidr">;
  b?: Omit<HostSpec, "cidr">;
  /** runs once the hosts exist and before their interfaces come up (a tap added here sees the announcements) */
  beforeAttach?: (hosts: readonly SimHost[]) => void;
}

/** a (10.0.1.2) - lan1 - r (10.0.1.1, 10.0.2.1) - lan2 - b (10.0.2.2), the default routes through r. */
export interface RoutedHosts {
  world: SimWorld;
  lan1: SimLan;
  lan2: SimLan;
  a: SimHost;
  r: SimHost;
  b: SimHost;
  devA: NetDevice;
  /** r's interfaces on lan1 and lan2 */
  r0: NetDevice;
  r1: NetDevice;
  devB: NetDevice;
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
    const host: SimHost = { name, net, platform, macs: [], devices: [] };
    this.hosts.push(host);
    return host;
  }

  /**
   * Plug a host into a LAN through a new simulated DMA MAC: registers the interface,
   * gives it `cidr` ("10.0.1.2/24"; null: none, for a DHCP client) and brings it up.
   */
  attach(host: SimHost, lan: SimLan, cidr: string | null, options: AttachOptions = {}): NetDevice {
    const hw = new SimDmaMac(this.loop, lan, options);
    const driver = new DmaMacDriver(hw);
    const serial = this.#macSerial++;
    const mac = new Uint8Array([0x02, 0x00, 0x5e, (serial >> 16) & 0xff, (serial >> 8) & 0xff, serial & 0xff]);
    const dev = driver.register(host.net, options.name ?? `eth${host.devices.length}`, mac, { mtu: options.mtu ?? 1500, qdisc: options.qdisc });
    if (cidr !== null) ipAddrAdd(host.net, dev, cidr);
    devOpen(dev);
    host.macs.push(hw);
    host.devices.push(dev);
    return dev;
  }

  #attachSpec(spec: HostSpec | undefined, host: SimHost, lan: SimLan, cidr: string | null, mac: AttachOptions): NetDevice {
    if (spec?.attach === undefined) return this.attach(host, lan, cidr, mac);
    const dev = spec.attach(this, host, lan, cidr);
    host.devices.push(dev);
    return dev;
  }

  /**
   * The common set-up: hosts a and b on one LAN, each with one interface, in the order
   * every scenario and test made them (LAN, host a, host b, a's interface, b's), so the
   * random draws and the frames are the same for the same seed.
   */
  twoHosts(o: TwoHostsOptions = {}): TwoHosts {
    const lan = this.addLan(o.lanName ?? "lan", o.faults, o.framesMax);
    if (o.frameHash === false) lan.onWire = null;
    const a = this.addHost(o.a?.name ?? "a", { ...o.config, ...o.a?.config });
    const b = this.addHost(o.b?.name ?? "b", { ...o.config, ...o.b?.config });
    const devA = this.#attachSpec(o.a, a, lan, o.a?.cidr ?? "10.0.0.1/24", { ...o.mac, ...o.a?.mac });
    const devB = this.#attachSpec(o.b, b, lan, o.b?.cidr ?? "10.0.0.2/24", { ...o.mac, ...o.b?.mac });
    if (o.staticNeighbours === true) {
      a.net.neigh.addPermanent(devB.inDev.addr, devA, devB.addr);
      b.net.neigh.addPermanent(devA.inDev.addr, devB, devA.addr);
    }
    return { world: this, lan, a, b, devA, devB };
  }

  /** One host alone on a LAN (default: "a", 10.0.0.1/24), for tests that put a raw endpoint beside it. */
  oneHost(o: { lanName?: string; faults?: Partial<LinkFaults>; host?: HostSpec } = {}): { world: SimWorld; lan: SimLan; host: SimHost; dev: NetDevice } {
    const lan = this.addLan(o.lanName ?? "lan", o.faults);
    const host = this.addHost(o.host?.name ?? "a", o.host?.config);
    const dev = this.#attachSpec(o.host, host, lan, o.host?.cidr ?? "10.0.0.1/24", o.host?.mac ?? {});
    return { world: this, lan, host, dev };
  }

  /** Two LANs joined by a router that forwards (RoutedHosts), made in the order the scenarios made them. */
  routedHosts(o: RoutedHostsOptions = {}): RoutedHosts {
    const lan1 = this.addLan("lan1", o.faults1);
    const lan2 = this.addLan("lan2", o.faults2);
    const a = this.addHost(o.a?.name ?? "a", { ...o.config, ...o.a?.config });
    const r = this.addHost(o.r?.name ?? "r", { ...o.config, ipForward: true, ...o.r?.config });
    const b = this.addHost(o.b?.name ?? "b", { ...o.config, ...o.b?.config });
    if (o.beforeAttach !== undefined) o.beforeAttach([a, r, b]);
    const mtu2 = o.mtu2 ?? 1500;
    const devA = this.attach(a, lan1, "10.0.1.2/24", o.a?.mac);
    const r0 = this.attach(r, lan1, "10.0.1.1/24", o.r?.mac);
    const r1 = this.attach(r, lan2, "10.0.2.1/24", { ...o.r?.mac, mtu: mtu2 });
    const devB = this.attach(b, lan2, "10.0.2.2/24", { ...o.b?.mac, mtu: mtu2 });
    setDefaultGateway(a.net, "10.0.1.1");
    setDefaultGateway(b.net, "10.0.2.1");
    return { world: this, lan1, lan2, a, r, b, devA, r0, r1, devB };
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
