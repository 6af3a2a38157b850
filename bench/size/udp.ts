// Size entry "udp": an app that sends and receives UDP (say, sensor readings): the core,
// IPv4 with ARP and ICMP, UDP and its socket class, the DMA MAC driver. No TCP.
import { DmaMacDriver, type DmaMacHw } from "../../drivers/dma-mac";
import { devOpen } from "../../src/core/link";
import { netInit } from "../../src/core/net";
import type { Platform } from "../../src/core/platform";
import { inetInit } from "../../src/ipv4/af-inet";
import { ipAddrAdd } from "../../src/ipv4/devinet";
import { udpSocketClass } from "../../src/socket/udp";
import { udpInit } from "../../src/udp/udp";

export function start(platform: Platform, hw: DmaMacHw, mac: Uint8Array, address: string): unknown {
  const net = netInit({}, platform);
  inetInit(net);
  udpInit(net);
  const dev = new DmaMacDriver(hw).register(net, "eth0", mac);
  ipAddrAdd(net, dev, address);
  devOpen(dev);
  return { net, UDP: udpSocketClass(net) };
}
