// struct net_device and struct napi_struct: what the core knows of an interface.

import type { Qdisc } from "./qdisc";
import { ETH_HLEN } from "../wire/ethernet";
import type { Net } from "./net";
import type { SkBuff } from "./skb";

// The driver contract, in the shape of Linux's net_device_ops and NAPI. A driver:
//  - in open(), fills its RX ring with skbs from the pool and enables its interrupts;
//  - in its interrupt, only calls napiSchedule(napi) (the irq is a flag, work runs in NET_RX);
//  - in poll(napi, budget), hands at most `budget` received frames to netifReceiveSkb,
//    refills the ring, reaps TX completions with devKfreeSkbIrq, and calls napiComplete
//    when it did less than the budget;
//  - in startXmit(), posts the skb to its TX ring and returns NETDEV_TX_OK (it now owns the
//    skb and frees it on completion), or NETDEV_TX_BUSY without taking it when the ring
//    is full (it then calls netifStopQueue, and netifWakeQueue once room returns);
//  - reports link changes with netifCarrierOn/netifCarrierOff;
//  - in stop(), returns every skb it holds to the pool.
// The simulated DMA MAC, the loopback device and the UDP link all implement this, so the
// core cannot tell them from a chip.

export const NETDEV_TX_OK = 0;
export const NETDEV_TX_BUSY = 0x10;

// dev->features: work the hardware does, so the core skips it.
/** the MAC computes IPv4 TCP/UDP/ICMP checksums on transmit */
export const NETIF_F_IP_CSUM = 1 << 0;
/** the MAC verifies L4 checksums on receive and marks good frames CHECKSUM_UNNECESSARY */
export const NETIF_F_RXCSUM = 1 << 1;

export interface NetDeviceOps {
  /** ndo_open */
  open(dev: NetDevice): void;
  /** ndo_stop: quiesce and give back every skb the driver holds */
  stop(dev: NetDevice): void;
  /** ndo_start_xmit: NETDEV_TX_OK or NETDEV_TX_BUSY */
  startXmit(skb: SkBuff, dev: NetDevice): number;
  /** NAPI poll: frames handed up (<= budget) */
  poll(napi: Napi, budget: number): number;
  /** ndo_set_rx_mode: program the multicast filter from dev.mcList */
  setRxMode(dev: NetDevice): void;
}

// dev->flags (Linux IFF_*)
export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
/** carrier present (Linux keeps this in IFF_RUNNING / __LINK_STATE_NOCARRIER) */
export const IFF_RUNNING = 0x40;
export const IFF_NOARP = 0x80;
export const IFF_PROMISC = 0x100;
export const IFF_MULTICAST = 0x1000;

/** rtnl_link_stats64, the subset a small MAC can count */
export class DeviceStats {
  rxPackets = 0;
  rxBytes = 0;
  rxErrors = 0;
  rxDropped = 0;
  rxLengthErrors = 0;
  rxCrcErrors = 0;
  /** frames the MAC had no RX descriptor for (ring overrun) */
  rxMissedErrors = 0;
  rxNohandler = 0;
  multicast = 0;
  txPackets = 0;
  txBytes = 0;
  txErrors = 0;
  txDropped = 0;
  txCarrierErrors = 0;
  /** driver answered NETDEV_TX_BUSY and the skb went back to the qdisc */
  txBusy = 0;
}

const stat = (key: keyof DeviceStats, name: string): readonly [keyof DeviceStats, string] => Object.freeze([key, name] as const);

/** Linux names of the counters, in print order. */
export const DEVICE_STAT_NAMES: readonly (readonly [keyof DeviceStats, string])[] = Object.freeze([
  stat("rxPackets", "rx_packets"), stat("rxBytes", "rx_bytes"), stat("rxErrors", "rx_errors"), stat("rxDropped", "rx_dropped"),
  stat("rxLengthErrors", "rx_length_errors"), stat("rxCrcErrors", "rx_crc_errors"), stat("rxMissedErrors", "rx_missed_errors"),
  stat("rxNohandler", "rx_nohandler"), stat("multicast", "multicast"), stat("txPackets", "tx_packets"), stat("txBytes", "tx_bytes"),
  stat("txErrors", "tx_errors"), stat("txDropped", "tx_dropped"), stat("txCarrierErrors", "tx_carrier_errors"), stat("txBusy", "tx_busy"),
]);

export class Napi {
  readonly dev: NetDevice;
  readonly weight: number;
  /** NAPI_STATE_SCHED: an interrupt asked for a poll that has not completed */
  scheduled = false;
  /** on the softirq's poll list */
  onList = false;
  next: Napi | null = null;
  polls = 0;

  constructor(dev: NetDevice, weight: number) {
    this.dev = dev;
    this.weight = weight;
  }
}

/** Multicast groups a device's list holds (dev.mcList; IGMP keeps as many per device). */
export const NETDEV_MC_MAX = 8;

export class NetDevice {
  readonly net: Net;
  readonly name: string;
  readonly ifindex: number;
  mtu: number;
  readonly hardHeaderLen = ETH_HLEN;
  /** our MAC address */
  readonly addr: Uint8Array;
  readonly broadcastAddr: Uint8Array;
  flags: number;
  /** NETIF_F_* offloads the driver offers */
  features: number;
  readonly ops: NetDeviceOps;
  /** null for devices without a queue (loopback), which transmit directly */
  qdisc: Qdisc | null = null;
  readonly napi: Napi;
  readonly stats = new DeviceStats();
  /** multicast groups the MAC filter passes (IPv4 group addresses); fixed size */
  readonly mcList: Uint32Array;
  mcCount = 0;
  /** __QUEUE_STATE_DRV_XOFF: the driver's TX ring is full */
  queueStopped = false;
  /** qdisc_run in progress (guards re-entry from a synchronous completion) */
  qdiscRunning = false;
  /** on the NET_TX output list */
  txScheduled = false;
  nextTx: NetDevice | null = null;
  /** the driver's own state */
  priv: unknown = null;

  constructor(net: Net, name: string, ifindex: number, ops: NetDeviceOps, mac: Uint8Array, mtu: number, flags: number, features: number, napiWeight: number) {
    this.net = net;
    this.name = name;
    this.ifindex = ifindex;
    this.ops = ops;
    this.addr = new Uint8Array(6);
    this.addr.set(mac);
    this.broadcastAddr = new Uint8Array(6).fill(0xff);
    this.mtu = mtu;
    this.flags = flags;
    this.features = features;
    this.napi = new Napi(this, napiWeight);
    this.mcList = new Uint32Array(NETDEV_MC_MAX);
  }

  get isUp(): boolean {
    return (this.flags & IFF_UP) !== 0;
  }

  get hasCarrier(): boolean {
    return (this.flags & IFF_RUNNING) !== 0;
  }
}

/** A packet handler for one ethertype (struct packet_type). */
export type PacketHandler = (net: Net, skb: SkBuff) => void;
/** An ETH_P_ALL tap: sees each frame, must copy what it keeps, must not free it. */
export type PacketTap = (dev: NetDevice, skb: SkBuff, outgoing: boolean) => void;
