// One instance of the stack (Linux struct net plus softnet_data): every pool, table and
// queue, made in init(config) and never grown. Nothing lives at module level, so modules
// can be preloaded (frozen into flash) on the device and several stacks can share a
// process on the host.

import { makeConfig, type NetConfig } from "../config";
import { NeighTable } from "../neigh/neigh";
import { arpAnnounce, arpRcv } from "../neigh/arp";
import { Ipv4 } from "../ipv4/ipv4";
import { ipRcv } from "../ipv4/input";
import { UdpTable, udpErr, udpRcv } from "../udp/udp";
import { Tcp } from "../tcp/tcp";
import { tcpV4Err, tcpV4Rcv } from "../tcp/input";
import { PfifoFast } from "../sched/pfifo-fast";
import type { Qdisc } from "../sched/qdisc";
import { ETH_P_ARP, ETH_P_IP } from "../wire/ethernet";
import { IPPROTO_TCP, IPPROTO_UDP, ipIsLoopback, ipIsMulticast, ipIsZeronet, parseCidr, parseIpv4, prefixMask } from "../wire/ipv4";
import type { NetDeviceOps } from "../../drivers/netdev";
import { devDeactivate, netRxAction, netTxAction } from "./dev";
import { DropStats, SKB_DROP } from "./drop";
import { LoopbackOps } from "./loopback";
import {
  IFF_BROADCAST, IFF_LOOPBACK, IFF_MULTICAST, IFF_NOARP, IFF_RUNNING, IFF_UP,
  NetDevice, type Napi, type PacketHandler, type PacketTap,
} from "./netdevice";
import type { Platform } from "./platform";
import { SkbPool, type SkBuff } from "./skb";
import { NET_RX_SOFTIRQ, NET_TX_SOFTIRQ, SoftirqStats, TIMER_SOFTIRQ } from "./softirq";
import { TimerWheel, type Timer } from "./timer";

export interface DeviceOptions {
  mtu?: number;
  /** NETIF_F_* offloads */
  features?: number;
  /** a queueless device (loopback) */
  noQueue?: boolean;
  /** a qdisc other than pfifo_fast, made for this device */
  qdisc?: (net: Net, dev: NetDevice) => Qdisc;
  flags?: number;
  /** frames one NAPI poll of this device may take (default config.napiWeight) */
  napiWeight?: number;
}

export class Net {
  readonly config: NetConfig;
  readonly platform: Platform;
  readonly pool: SkbPool;
  readonly drops = new DropStats();
  readonly timers: TimerWheel;
  readonly softirqStats = new SoftirqStats();
  readonly devices: NetDevice[] = [];
  readonly loopback: NetDevice;
  readonly neigh: NeighTable;
  readonly ipv4: Ipv4;
  readonly udp: UdpTable;
  readonly tcp: Tcp;
  /** ETH_P_ALL taps (packet capture) */
  readonly taps: PacketTap[] = [];
  /** the packet-type table: ethertype -> handler (ptype_base) */
  readonly ptypeTypes: number[] = [];
  readonly ptypeHandlers: PacketHandler[] = [];

  /** pending softirq bits */
  pending = 0;
  // NET_RX: devices to poll (softnet_data.poll_list)
  pollHead: Napi | null = null;
  pollTail: Napi | null = null;
  // NET_TX: transmitted skbs to free, devices whose qdisc must run
  completionHead: SkBuff | null = null;
  completionTail: SkBuff | null = null;
  txErrorHead: SkBuff | null = null;
  txErrorTail: SkBuff | null = null;
  txListHead: NetDevice | null = null;
  txListTail: NetDevice | null = null;

  #inRun = false;
  #soonRequested = false;
  /** the earliest future wake-up already asked of the host */
  #wakeAt = Infinity;
  #stopped = false;

  constructor(config: NetConfig, platform: Platform, options: InitOptions = {}) {
    this.config = config;
    this.platform = platform;
    this.pool = new SkbPool(
      config.skbSlots, config.skbRecords, config.skbHeadroomBytes,
      config.mtuMaxBytes + 14, config.skbTailroomBytes, config.skbCbWords,
      options.memory, options.memoryOffset,
    );
    this.timers = new TimerWheel(config.timersMax, config.timerWheelSlots, config.timerTickMs);
    this.neigh = new NeighTable(this);
    this.ipv4 = new Ipv4(this);
    this.udp = new UdpTable(this);
    this.ipv4.addProtocol(IPPROTO_UDP, udpRcv, udpErr);
    this.tcp = new Tcp(this);
    this.ipv4.addProtocol(IPPROTO_TCP, tcpV4Rcv, tcpV4Err);
    this.devAddPack(ETH_P_IP, ipRcv);
    this.devAddPack(ETH_P_ARP, arpRcv);
    this.loopback = this.registerNetdev("lo", new LoopbackOps(this), new Uint8Array(6), {
      mtu: config.mtuMaxBytes, noQueue: true, flags: IFF_LOOPBACK | IFF_NOARP,
    });
    this.ipAddrAdd(this.loopback, "127.0.0.1/8");
    this.devOpen(this.loopback);
  }

  now(): number {
    return this.platform.now();
  }

  // ------------------------------------------------------------ the loop

  raiseSoftirq(bit: number): void {
    this.pending |= bit;
    if (!this.#inRun) this.#requestRun(0);
  }

  /** mod_timer, and make sure the host wakes us for it. */
  modTimer(t: Timer, expires: number): void {
    this.timers.mod(t, expires);
    if (!this.#inRun) this.#requestRun(expires - this.platform.now());
  }

  delTimer(t: Timer): void {
    this.timers.del(t);
  }

  /**
   * Ask the host for a run, once: one "soon" request until the next run, and one wake-up
   * per earlier deadline (a later one is already covered by the pending wake-up).
   */
  #requestRun(delayMs: number): void {
    if (this.#stopped) return;
    if (delayMs <= 0) {
      if (this.#soonRequested) return;
      this.#soonRequested = true;
      this.platform.requestRun(0);
      return;
    }
    const at = this.platform.now() + delayMs;
    if (at >= this.#wakeAt) return;
    this.#wakeAt = at;
    this.platform.requestRun(delayMs);
  }

  /**
   * One turn of the loop (do_softirq): TIMER, NET_RX, NET_TX, at most
   * config.softirqRoundsMax rounds; then ask the host to call again when work remains
   * or the next timer is due. The host calls this when the platform asks it to, with
   * `woken` true for a wake-up it asked for (after a delay): the stack then asks again for
   * its next deadline, which the host may have folded into the wake-up just done.
   */
  run(woken = false): void {
    if (this.#inRun) return;
    this.#inRun = true;
    this.#soonRequested = false;
    if (woken || this.platform.now() >= this.#wakeAt) this.#wakeAt = Infinity;
    const stats = this.softirqStats;
    stats.runs++;
    if (this.timers.nextExpiry() <= this.platform.now()) this.pending |= TIMER_SOFTIRQ;
    let rounds = this.config.softirqRoundsMax;
    while (this.pending !== 0 && rounds > 0) {
      const p = this.pending;
      this.pending = 0;
      rounds--;
      stats.rounds++;
      if ((p & TIMER_SOFTIRQ) !== 0) this.timers.run(this.platform.now());
      if ((p & NET_RX_SOFTIRQ) !== 0) netRxAction(this);
      if ((p & NET_TX_SOFTIRQ) !== 0) netTxAction(this);
      if (this.timers.nextExpiry() <= this.platform.now()) this.pending |= TIMER_SOFTIRQ;
    }
    this.#inRun = false;
    if (this.pending !== 0) {
      stats.yields++;
      this.#requestRun(0);
    } else {
      const next = this.timers.nextExpiry();
      if (next !== Infinity) this.#requestRun(next - this.platform.now());
    }
  }

  /** True when no softirq is pending and nothing waits in a queue (for tests and shutdown). */
  get idle(): boolean {
    return this.pending === 0 && this.completionHead === null && this.txErrorHead === null;
  }

  /** When the loop next wants to run, in platform ms (Infinity: only on an event). */
  nextWakeup(): number {
    return this.pending !== 0 ? this.platform.now() : this.timers.nextExpiry();
  }

  // ------------------------------------------------------------ devices

  /** dev_add_pack: a handler for one ethertype. */
  devAddPack(type: number, handler: PacketHandler): void {
    const i = this.ptypeTypes.indexOf(type);
    if (i >= 0) {
      this.ptypeHandlers[i] = handler;
    } else {
      this.ptypeTypes.push(type);
      this.ptypeHandlers.push(handler);
    }
  }

  /** An ETH_P_ALL tap (packet capture); at most config.tapsMax. */
  addTap(tap: PacketTap): void {
    if (this.taps.length >= this.config.tapsMax) throw new RangeError(`tap table full: config.tapsMax is ${this.config.tapsMax}`);
    this.taps.push(tap);
  }

  removeTap(tap: PacketTap): void {
    const i = this.taps.indexOf(tap);
    if (i >= 0) this.taps.splice(i, 1);
  }

  /** register_netdev: a new interface, down until devOpen. */
  registerNetdev(name: string, ops: NetDeviceOps, mac: Uint8Array, options: DeviceOptions = {}): NetDevice {
    if (this.devices.length >= this.config.devicesMax) {
      throw new RangeError(`device table full: config.devicesMax is ${this.config.devicesMax}`);
    }
    if (this.devices.some((d) => d.name === name)) throw new TypeError(`a device named '${name}' already exists`);
    if (!(mac instanceof Uint8Array) || mac.length !== 6) throw new TypeError(`device '${name}': MAC address must be a 6-byte Uint8Array`);
    const mtu = options.mtu ?? 1500;
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > this.config.mtuMaxBytes) {
      throw new RangeError(`device '${name}': mtu ${mtu} is outside 68..${this.config.mtuMaxBytes} (config.mtuMaxBytes)`);
    }
    const flags = options.flags ?? IFF_BROADCAST | IFF_MULTICAST;
    const weight = options.napiWeight ?? this.config.napiWeight;
    if (!Number.isInteger(weight) || weight < 1) throw new RangeError(`device '${name}': napiWeight must be a positive integer, got ${weight}`);
    const dev = new NetDevice(this, name, this.devices.length + 1, ops, mac, mtu, flags & ~(IFF_UP | IFF_RUNNING), options.features ?? 0, weight);
    if (options.qdisc) dev.qdisc = options.qdisc(this, dev);
    else if (!options.noQueue) dev.qdisc = new PfifoFast(this, this.config.txQueueLen);
    this.devices.push(dev);
    return dev;
  }

  devByName(name: string): NetDevice | null {
    for (const d of this.devices) if (d.name === name) return d;
    return null;
  }

  /** dev_open: bring the interface up (the driver fills its rings). */
  devOpen(dev: NetDevice): void {
    if (dev.isUp) return;
    dev.flags |= IFF_UP;
    dev.queueStopped = false;
    // A driver that finds its link up calls netifCarrierOn from open(), which announces us.
    const hadCarrier = dev.hasCarrier;
    dev.ops.open(dev);
    if ((dev.flags & IFF_LOOPBACK) !== 0) dev.flags |= IFF_RUNNING;
    else if (hadCarrier) this.#linkUp(dev);
  }

  /** dev_close: the driver stops and gives back its skbs; queues and neighbours are flushed. */
  devClose(dev: NetDevice): void {
    if (!dev.isUp) return;
    dev.ops.stop(dev);
    devDeactivate(dev);
    dev.flags &= ~IFF_UP;
    this.neigh.ifdown(dev);
  }

  /** netif_carrier_on (from the driver). */
  netifCarrierOn(dev: NetDevice): void {
    if (dev.hasCarrier) return;
    dev.flags |= IFF_RUNNING;
    if (dev.isUp) this.#linkUp(dev);
  }

  /** netif_carrier_off (from the driver): what waits to be sent is dropped, counted. */
  netifCarrierOff(dev: NetDevice): void {
    if (!dev.hasCarrier) return;
    dev.flags &= ~IFF_RUNNING;
    if (dev.qdisc !== null) dev.qdisc.reset(SKB_DROP.NO_CARRIER);
  }

  #linkUp(dev: NetDevice): void {
    if ((dev.flags & IFF_NOARP) === 0 && dev.inDev.configured) arpAnnounce(this, dev);
  }

  // ------------------------------------------------------------ IPv4 configuration

  /** Give an interface its IPv4 address ("169.254.77.2/24") and the connected route. */
  ipAddrAdd(dev: NetDevice, cidr: string): void {
    const { addr, prefixLen } = parseCidr(cidr);
    // A host address: not multicast, broadcast or network 0; 127/8 only on loopback.
    if (ipIsMulticast(addr) || addr === 0xffffffff || ipIsZeronet(addr) || (ipIsLoopback(addr) && (dev.flags & IFF_LOOPBACK) === 0)) {
      throw new TypeError(`${cidr} is not a usable address for ${dev.name}`);
    }
    const inDev = dev.inDev;
    if (inDev.configured) this.ipv4.routes.delConnected(dev);
    inDev.addr = addr;
    inDev.prefixLen = prefixLen;
    inDev.mask = prefixMask(prefixLen);
    inDev.broadcast = prefixLen >= 31 ? 0xffffffff : ((addr & inDev.mask) | ~inDev.mask) >>> 0;
    inDev.configured = true;
    this.ipv4.routes.add((addr & inDev.mask) >>> 0, prefixLen, 0, dev, 0);
    if (dev.isUp && dev.hasCarrier && (dev.flags & IFF_NOARP) === 0) arpAnnounce(this, dev);
  }

  /** A route: "10.0.0.0/8" via "10.1.0.1" (or null for on-link) through dev. */
  routeAdd(destCidr: string, gateway: string | null, dev: NetDevice, metric = 0): void {
    const { addr, prefixLen } = parseCidr(destCidr);
    const gw = gateway === null ? 0 : parseIpv4(gateway);
    // Not "connected": a route added by hand stays when the interface's address changes.
    this.ipv4.routes.add((addr & prefixMask(prefixLen)) >>> 0, prefixLen, gw, dev, metric, false);
  }

  /** The default route through a gateway on one of the interfaces. */
  setDefaultGateway(gateway: string, dev?: NetDevice): void {
    const gw = parseIpv4(gateway);
    if (ipIsMulticast(gw) || gw === 0xffffffff || ipIsZeronet(gw) || ipIsLoopback(gw)) throw new TypeError(`gateway ${gateway} is not a unicast address`);
    const onLink = (d: NetDevice): boolean => d.inDev.configured && ((gw & d.inDev.mask) >>> 0) === ((d.inDev.addr & d.inDev.mask) >>> 0);
    const out = dev ?? this.devices.find(onLink);
    if (!out || !onLink(out)) throw new TypeError(`gateway ${gateway} is not on the subnet of ${dev ? dev.name : "any interface"}`);
    this.ipv4.routes.add(0, 0, gw, out, 0);
  }

  /**
   * ip_mc_join_group: receive datagrams for a multicast group on dev (no IGMP reports are
   * sent: the group is joined locally and in the MAC's filter).
   */
  ipMcJoin(dev: NetDevice, group: string): void {
    const g = parseIpv4(group);
    if (!ipIsMulticast(g)) throw new TypeError(`${group} is not a multicast address`);
    for (let i = 0; i < dev.mcCount; i++) if (dev.mcList[i] === g) return;
    if (dev.mcCount >= dev.mcList.length) throw new RangeError(`device ${dev.name}: multicast list full (${dev.mcList.length} groups)`);
    dev.mcList[dev.mcCount++] = g;
    dev.ops.setRxMode(dev);
  }

  ipMcLeave(dev: NetDevice, group: string): void {
    const g = parseIpv4(group);
    for (let i = 0; i < dev.mcCount; i++) {
      if (dev.mcList[i] === g) {
        dev.mcList[i] = dev.mcList[--dev.mcCount];
        dev.ops.setRxMode(dev);
        return;
      }
    }
  }

  // ------------------------------------------------------------ shutdown

  /**
   * Stop every interface and return every skb to the pool: queued frames, neighbour
   * queues and reassembly are purged (counted as SHUTDOWN), timers are cancelled.
   */
  shutdown(): void {
    for (let i = this.devices.length - 1; i >= 0; i--) this.devClose(this.devices[i]);
    this.neigh.flushAll();
    this.ipv4.flush();
    this.udp.flush();
    this.tcp.flush();
    netTxAction(this);
    this.pending = 0;
    this.#stopped = true;
  }
}

export interface InitOptions {
  /** memory for the packet pool (e.g. a DMA-capable region), used from memoryOffset */
  memory?: Uint8Array;
  memoryOffset?: number;
}

/** Bytes of packet memory a configuration needs (for InitOptions.memory). */
export function poolBytes(config: Partial<NetConfig> | NetConfig): number {
  const c = makeConfig(config);
  return ((c.skbHeadroomBytes + c.mtuMaxBytes + 14 + c.skbTailroomBytes + 7) & ~7) * c.skbSlots;
}

/** Make a stack: every pool and table is sized here, from the configuration. */
export function init(config: Partial<NetConfig> | NetConfig, platform: Platform, options: InitOptions = {}): Net {
  if (!platform || typeof platform.now !== "function" || typeof platform.requestRun !== "function" || typeof platform.random32 !== "function") {
    throw new TypeError("init: platform must provide now(), requestRun(delayMs) and random32()");
  }
  return new Net(makeConfig(config), platform, options);
}
