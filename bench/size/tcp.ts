// Size entry "tcp": an app that talks TCP (a client or a server): the core, IPv4 with ARP
// and ICMP, TCP and its socket classes (TCP, Listener), the DMA MAC driver. No UDP.
import { DmaMacDriver, type DmaMacHw } from "../../drivers/dma-mac";
import { devOpen } from "../../src/core/link";
import { netInit } from "../../src/core/net";
import type { Platform } from "../../src/core/platform";
import { inetInit } from "../../src/ipv4/af-inet";
import { ipAddrAdd } from "../../src/ipv4/devinet";
import { tcpSocketClasses } from "../../src/socket/tcp";
import { tcpInit } from "../../src/tcp/init";

export function start(platform: Platform, hw: DmaMacHw, mac: Uint8Array, address: string): unknown {
  const net = netInit({}, platform);
  inetInit(net);
  tcpInit(net);
  const dev = new DmaMacDriver(hw).register(net, "eth0", mac);
  ipAddrAdd(net, dev, address);
  devOpen(dev);
  return { net, ...tcpSocketClasses(net) };
}
