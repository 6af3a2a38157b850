// Interfaces (the device half of net/core/dev.c): register, open, close, carrier, and
// the tables an interface's frames meet on the way up: the packet-type table
// (dev_add_pack) and the ETH_P_ALL taps. Upper layers hear of a device's life through
// the netdevice notifiers (net.ts), not through calls from here.

import type { Qdisc } from "./qdisc";
import { PfifoFast } from "./pfifo-fast";
import { devDeactivate } from "./dev";
import { SKB_DROP } from "./drop";
import type { Net } from "./net";
import {
  IFF_BROADCAST, IFF_LOOPBACK, IFF_MULTICAST, IFF_RUNNING, IFF_UP,
  NetDevice, type NetDeviceOps, type PacketHandler, type PacketTap,
} from "./netdevice";

// netdevice notifier events (NETDEV_*), for registerNetdevNotifier
/** a device was registered (before it is up) */
export const NETDEV_REGISTER = 1;
/** the device is up and has carrier: the link can carry traffic */
export const NETDEV_UP = 2;
/** the device went down (after its driver stopped) */
export const NETDEV_DOWN = 3;

/** A netdevice notifier (register_netdevice_notifier). */
export type NetdevNotifier = (net: Net, event: number, dev: NetDevice) => void;
/** Hooks of each kind the core keeps (fixed tables). */
export const HOOKS_MAX = 8;

/** register_netdevice_notifier: told of every device registered, up and down. */
export function registerNetdevNotifier(net: Net, fn: NetdevNotifier): void {
  if (net.netdevNotifiers.length >= HOOKS_MAX) throw new RangeError(`netdev notifier table full (${HOOKS_MAX})`);
  net.netdevNotifiers.push(fn);
}

/** unregister_netdevice_notifier: a service that closes gives its slot back. */
export function unregisterNetdevNotifier(net: Net, fn: NetdevNotifier): void {
  const i = net.netdevNotifiers.indexOf(fn);
  if (i >= 0) net.netdevNotifiers.splice(i, 1);
}

/** Tell the notifiers of a device event (call_netdevice_notifiers). */
function callNetdevNotifiers(net: Net, event: number, dev: NetDevice): void {
  const n = net.netdevNotifiers;
  for (let i = 0; i < n.length; i++) n[i](net, event, dev);
}

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

/** register_netdev: a new interface, down until devOpen. */
export function registerNetdev(net: Net, name: string, ops: NetDeviceOps, mac: Uint8Array, options: DeviceOptions = {}): NetDevice {
  const config = net.config;
  if (net.devices.length >= config.devicesMax) {
    throw new RangeError(`device table full: config.devicesMax is ${config.devicesMax}`);
  }
  if (devByName(net, name) !== null) throw new TypeError(`a device named '${name}' already exists`);
  if (!(mac instanceof Uint8Array) || mac.length !== 6) throw new TypeError(`device '${name}': MAC address must be a 6-byte Uint8Array`);
  const mtu = options.mtu ?? 1500;
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > config.mtuMaxBytes) {
    throw new RangeError(`device '${name}': mtu ${mtu} is outside 68..${config.mtuMaxBytes} (config.mtuMaxBytes)`);
  }
  const flags = options.flags ?? IFF_BROADCAST | IFF_MULTICAST;
  const weight = options.napiWeight ?? config.napiWeight;
  if (!Number.isInteger(weight) || weight < 1) throw new RangeError(`device '${name}': napiWeight must be a positive integer, got ${weight}`);
  const dev = new NetDevice(net, name, net.devices.length + 1, ops, mac, mtu, flags & ~(IFF_UP | IFF_RUNNING), options.features ?? 0, weight);
  if (options.qdisc) dev.qdisc = options.qdisc(net, dev);
  else if (!options.noQueue) dev.qdisc = new PfifoFast(net, config.txQueueLen);
  net.devices.push(dev);
  callNetdevNotifiers(net, NETDEV_REGISTER, dev);
  return dev;
}

export function devByName(net: Net, name: string): NetDevice | null {
  for (const d of net.devices) if (d.name === name) return d;
  return null;
}

/** dev_open: bring the interface up (the driver fills its rings). */
export function devOpen(dev: NetDevice): void {
  if (dev.isUp) return;
  dev.flags |= IFF_UP;
  dev.queueStopped = false;
  // A driver that finds its link up calls netifCarrierOn from open(), which tells the notifiers.
  const hadCarrier = dev.hasCarrier;
  dev.ops.open(dev);
  if ((dev.flags & IFF_LOOPBACK) !== 0) dev.flags |= IFF_RUNNING;
  else if (hadCarrier) callNetdevNotifiers(dev.net, NETDEV_UP, dev);
}

/** dev_close: the driver stops and gives back its skbs; the qdisc is purged, the notifiers told. */
export function devClose(dev: NetDevice): void {
  if (!dev.isUp) return;
  dev.ops.stop(dev);
  devDeactivate(dev);
  dev.flags &= ~IFF_UP;
  callNetdevNotifiers(dev.net, NETDEV_DOWN, dev);
}

/** netif_carrier_on (from the driver). */
export function netifCarrierOn(dev: NetDevice): void {
  if (dev.hasCarrier) return;
  dev.flags |= IFF_RUNNING;
  if (dev.isUp) callNetdevNotifiers(dev.net, NETDEV_UP, dev);
}

/** netif_carrier_off (from the driver): what waits to be sent is dropped, counted. */
export function netifCarrierOff(dev: NetDevice): void {
  if (!dev.hasCarrier) return;
  dev.flags &= ~IFF_RUNNING;
  if (dev.qdisc !== null) dev.qdisc.reset(SKB_DROP.NO_CARRIER);
}

/** dev_add_pack: a handler for one ethertype. */
export function devAddPack(net: Net, type: number, handler: PacketHandler): void {
  const i = net.ptypeTypes.indexOf(type);
  if (i >= 0) {
    net.ptypeHandlers[i] = handler;
  } else {
    if (net.ptypeTypes.length >= HOOKS_MAX) throw new RangeError(`packet-type table full (${HOOKS_MAX} ethertypes)`);
    net.ptypeTypes.push(type);
    net.ptypeHandlers.push(handler);
  }
}

/** An ETH_P_ALL tap (packet capture); at most config.tapsMax. */
export function addTap(net: Net, tap: PacketTap): void {
  if (net.taps.length >= net.config.tapsMax) throw new RangeError(`tap table full: config.tapsMax is ${net.config.tapsMax}`);
  net.taps.push(tap);
}

export function removeTap(net: Net, tap: PacketTap): void {
  const i = net.taps.indexOf(tap);
  if (i >= 0) net.taps.splice(i, 1);
}
