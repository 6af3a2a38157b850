// Size entry "ping": the core and IPv4 with ARP and ICMP (inetInit), the ping client and the
// DMA MAC driver: a device that answers ping and pings, and nothing else.
import { DmaMacDriver, type DmaMacHw } from "../../drivers/dma-mac";
import { Pinger } from "../../src/apps/ping";
import { devOpen } from "../../src/core/link";
import { netInit } from "../../src/core/net";
import type { Platform } from "../../src/core/platform";
import { inetInit } from "../../src/ipv4/af-inet";
import { ipAddrAdd } from "../../src/ipv4/devinet";

export function start(platform: Platform, hw: DmaMacHw, mac: Uint8Array, address: string): unknown {
  const net = netInit({}, platform);
  inetInit(net);
  const dev = new DmaMacDriver(hw).register(net, "eth0", mac);
  ipAddrAdd(net, dev, address);
  devOpen(dev);
  return { net, Pinger };
}
