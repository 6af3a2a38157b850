// One instance of the stack (Linux struct net): the packet pool, timers, drop counters, the
// loop, the device list, the packet-type table, taps, and the hooks through which upper
// layers join in. Made in netInit(config) and never grown. Nothing lives at module level,
// so modules can be preloaded (frozen into flash) on the device and several stacks can
// share a process on the host.
//
// The core knows no protocol. A protocol's init registers with the layer below
// (devAddPack here, Ipv4.addProtocol one layer up) and hangs its own state on Net by declaring
// it in its own module (`declare module "../core/net" { interface Net { tcp: Tcp } }`),
// the way Linux keeps per-namespace protocol state in struct net. src/stack.ts composes
// the full stack; a smaller app calls only the inits it needs.

import { makeConfig, type NetConfig } from "../config";
import { netRxAction, netTxAction } from "./dev";
import { DropStats } from "./drop";
import { HOOKS_MAX, devClose, devOpen, registerNetdev, type NetdevNotifier } from "./link";
import { LoopbackOps } from "./loopback";
import { IFF_LOOPBACK, IFF_NOARP, type NetDevice, type PacketHandler, type PacketTap } from "./netdevice";
import type { Platform } from "./platform";
import { SkbPool } from "./skb";
import { NET_RX_SOFTIRQ, NET_TX_SOFTIRQ, Softnet, type Tasklet } from "./softirq";
import { TimerWheel, type Timer } from "./timer";

/**
 * An upper layer with work for the end of each received skb's processing (IP's sends from
 * the receive path), run from the loop rather than from the top of the protocol's receive
 * path, whose frames would hold the stack under the send chain's.
 */
export interface RxSkbDoneHook {
  rxSkbDone(): void;
}
/** What an upper layer returns to the pool at shutdown (pernet_operations.exit). */
export type PernetExit = () => void;


export class Net {
  readonly config: NetConfig;
  readonly platform: Platform;
  readonly pool: SkbPool;
  readonly drops = new DropStats();
  readonly timers: TimerWheel;
  /** the loop and its queues */
  readonly softnet: Softnet<Net>;
  /** every registered device, loopback first (dev_base_head) */
  readonly devices: NetDevice[] = [];
  readonly loopback: NetDevice;
  /** ETH_P_ALL taps (packet capture) */
  readonly taps: PacketTap[] = [];
  /** the packet-type table: ethertype -> handler (ptype_base) */
  readonly ptypeTypes: number[] = [];
  readonly ptypeHandlers: PacketHandler[] = [];
  readonly netdevNotifiers: NetdevNotifier[] = [];
  readonly rxSkbDoneHooks: RxSkbDoneHook[] = [];
  readonly pernetExits: PernetExit[] = [];

  constructor(config: NetConfig, platform: Platform, options: InitOptions = {}) {
    this.config = config;
    this.platform = platform;
    this.pool = new SkbPool(
      config.skbSlots, config.skbRecords, config.skbHeadroomBytes,
      config.mtuMaxBytes + 14, config.skbTailroomBytes, config.skbCbWords,
      options.memory, options.memoryOffset,
    );
    this.timers = new TimerWheel(config.timersMax, config.timerWheelSlots, config.timerTickMs);
    this.softnet = new Softnet<Net>(this, platform, this.timers, config.softirqRoundsMax);
    this.softnet.open(NET_RX_SOFTIRQ, netRxAction);
    this.softnet.open(NET_TX_SOFTIRQ, netTxAction);
    this.loopback = registerNetdev(this, "lo", new LoopbackOps(this), new Uint8Array(6), {
      mtu: config.mtuMaxBytes, noQueue: true, flags: IFF_LOOPBACK | IFF_NOARP,
    });
    devOpen(this.loopback);
  }

  now(): number {
    return this.platform.now();
  }

  /** mod_timer: arm t for `expires` (platform ms); the loop asks the host to wake it then. */
  modTimer(t: Timer, expires: number): void {
    this.timers.mod(t, expires);
    const sn = this.softnet;
    if (!sn.running) sn.requestRun(expires - this.platform.now());
  }

  delTimer(t: Timer): void {
    this.timers.del(t);
  }

  /**
   * Stop every interface and return every skb to the pool: queued frames and what each
   * layer holds (its pernet exit, in the order the layers registered) are purged, counted
   * as SHUTDOWN; timers are cancelled and the loop asks the host for nothing more.
   */
  shutdown(): void {
    for (let i = this.devices.length - 1; i >= 0; i--) devClose(this.devices[i]);
    for (let i = 0; i < this.pernetExits.length; i++) this.pernetExits[i]();
    netTxAction(this);
    this.softnet.stop();
  }
}

/** What a layer does after each received skb (see RxSkbDoneHook). */
export function registerRxSkbDone(net: Net, fn: RxSkbDoneHook): void {
  hookAdd(net.rxSkbDoneHooks, fn, "rx skb done hook");
}

/** A layer's tasklet (see Tasklet in softirq.ts): scheduled with net.softnet.schedule(t). */
export function registerTasklet(net: Net, t: Tasklet): void {
  net.softnet.addTasklet(t);
}

/** What a layer gives back at shutdown. */
export function registerPernetExit(net: Net, fn: PernetExit): void {
  hookAdd(net.pernetExits, fn, "pernet exit");
}

function hookAdd<T>(table: T[], fn: T, what: string): void {
  if (table.length >= HOOKS_MAX) throw new RangeError(`${what} table full (${HOOKS_MAX})`);
  table.push(fn);
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

/**
 * The core alone: pool, timers, loop, the loopback device. No protocol: the caller adds
 * them (src/stack.ts `init` gives the full stack in one call).
 */
export function netInit(config: Partial<NetConfig> | NetConfig, platform: Platform, options: InitOptions = {}): Net {
  if (!platform || typeof platform.now !== "function" || typeof platform.requestRun !== "function" || typeof platform.random32 !== "function") {
    throw new TypeError("init: platform must provide now(), requestRun(delayMs) and random32()");
  }
  return new Net(makeConfig(config), platform, options);
}
