// Size entry "full": every protocol (src/stack.ts init), every socket class, the ping
// client and the DMA MAC driver, as a board app that uses all of xsnet.
import { DmaMacDriver, type DmaMacHw } from "../../drivers/dma-mac";
import { Pinger } from "../../src/apps/ping";
import type { Platform } from "../../src/core/platform";
import { ipAddrAdd } from "../../src/ipv4/devinet";
import { devOpen } from "../../src/core/link";
import { rawSocketClass } from "../../src/socket/raw";
import { tcpSocketClasses } from "../../src/socket/tcp";
import { udpSocketClass } from "../../src/socket/udp";
import { init } from "../../src/stack";

export function start(platform: Platform, hw: DmaMacHw, mac: Uint8Array, address: string): unknown {
  const net = init({}, platform);
  const dev = new DmaMacDriver(hw).register(net, "eth0", mac);
  ipAddrAdd(net, dev, address);
  devOpen(dev);
  return { net, Pinger, UDP: udpSocketClass(net), RAW: rawSocketClass(net), ...tcpSocketClasses(net) };
}
