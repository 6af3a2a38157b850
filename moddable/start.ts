// A board's start-up in one call: the core and IPv4 (ARP, ICMP) on the Moddable platform,
// the transport protocols the app names (`protocols: [udpInit, tcpInit]`), one Ethernet
// interface with a static address and default gateway (or none, for a DHCP client the app
// starts: src/lan/dhcp-client.ts), brought up. The driver is the
// board's: `device` registers it (NetDeviceOps in src/core/netdevice.ts is the contract it
// implements). Only what the app names is imported, so only that is linked into flash.

import type { NetConfig } from "../src/config";
import { netInit, type Net } from "../src/core/net";
import { inetInit } from "../src/ipv4/af-inet";
import type { NetDevice } from "../src/core/netdevice";
import { parseMac } from "../src/wire/ethernet";
import { ModdablePlatform, type ModdablePlatformOptions } from "./platform";
import { ipAddrAdd, setDefaultGateway } from "../src/ipv4/devinet";
import { devOpen } from "../src/core/link";

/** Registers the interface with the stack, e.g. `(net, name, mac) => new DmaMacDriver(hw).register(net, name, mac)`. */
export type DeviceFactory = (net: Net, name: string, mac: Uint8Array) => NetDevice;

/** A protocol's init (udpInit, tcpInit), run after IPv4's. */
export type ProtocolInit = (net: Net) => void;

export interface StackOptions {
  /** overrides of DEFAULT_CONFIG; every pool and table is sized from it, once */
  config?: Partial<NetConfig>;
  /** protocols on top of IPv4, in this order (default none: ping only) */
  protocols?: readonly ProtocolInit[];
  platform?: ModdablePlatformOptions;
  /** the board's MAC driver; null: no interface but the loopback device */
  device: DeviceFactory | null;
  /** interface name (default "eth0") */
  name?: string;
  /** "02:00:00:00:00:01" or 6 bytes; required with a device */
  mac?: string | Uint8Array;
  /** "192.168.1.20/24"; absent: the interface comes up without one (the app runs DHCP) */
  address?: string;
  /** default gateway on that interface's subnet */
  gateway?: string;
}

export interface Stack {
  readonly net: Net;
  readonly platform: ModdablePlatform;
  /** the Ethernet interface, or null without a device */
  readonly dev: NetDevice | null;
}

export function startStack(options: StackOptions): Stack {
  const platform = new ModdablePlatform(options.platform);
  const net = netInit(options.config ?? {}, platform);
  inetInit(net);
  for (const protocolInit of options.protocols ?? []) protocolInit(net);
  // Before any timer can fire: the platform runs whatever init asked for.
  platform.net = net;
  if (options.device === null) return { net, platform, dev: null };
  if (options.mac === undefined) throw new TypeError("startStack: a device needs options.mac");
  if (options.gateway !== undefined && options.address === undefined) throw new TypeError("startStack: a gateway needs options.address (with DHCP the lease gives the router)");
  const mac = typeof options.mac === "string" ? parseMac(options.mac) : options.mac;
  const dev = options.device(net, options.name ?? "eth0", mac);
  if (options.address !== undefined) ipAddrAdd(net, dev, options.address);
  if (options.gateway !== undefined) setDefaultGateway(net, options.gateway, dev);
  devOpen(dev);
  return { net, platform, dev };
}

/** Every interface down, every skb back in the pool, no more wake-ups. */
export function stopStack(stack: Stack): void {
  stack.net.shutdown();
  stack.platform.close();
}
