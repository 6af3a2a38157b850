// A board's start-up in one call: the stack on the Moddable platform, one Ethernet
// interface with a static address and default gateway, brought up. The driver is the
// board's: `device` registers it (drivers/netdev.ts is the contract it implements).

import type { NetConfig } from "../src/config";
import { init, type Net } from "../src/core/net";
import type { NetDevice } from "../src/core/netdevice";
import { parseMac } from "../src/wire/ethernet";
import { ModdablePlatform, type ModdablePlatformOptions } from "./platform";

/** Registers the interface with the stack, e.g. `(net, name, mac) => new DmaMacDriver(hw).register(net, name, mac)`. */
export type DeviceFactory = (net: Net, name: string, mac: Uint8Array) => NetDevice;

export interface StackOptions {
  /** overrides of DEFAULT_CONFIG; every pool and table is sized from it, once */
  config?: Partial<NetConfig>;
  platform?: ModdablePlatformOptions;
  /** the board's MAC driver; null: no interface but the loopback device */
  device: DeviceFactory | null;
  /** interface name (default "eth0") */
  name?: string;
  /** "02:00:00:00:00:01" or 6 bytes; required with a device */
  mac?: string | Uint8Array;
  /** "192.168.1.20/24"; required with a device (no DHCP yet) */
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
  const net = init(options.config ?? {}, platform);
  // Before any timer can fire: the platform runs whatever init asked for.
  platform.net = net;
  if (options.device === null) return { net, platform, dev: null };
  if (options.mac === undefined) throw new TypeError("startStack: a device needs options.mac");
  if (options.address === undefined) throw new TypeError("startStack: a device needs options.address (\"192.168.1.20/24\")");
  const mac = typeof options.mac === "string" ? parseMac(options.mac) : options.mac;
  const dev = options.device(net, options.name ?? "eth0", mac);
  net.ipAddrAdd(dev, options.address);
  if (options.gateway !== undefined) net.setDefaultGateway(options.gateway, dev);
  net.devOpen(dev);
  return { net, platform, dev };
}

/** Every interface down, every skb back in the pool, no more wake-ups. */
export function stopStack(stack: Stack): void {
  stack.net.shutdown();
  stack.platform.close();
}
