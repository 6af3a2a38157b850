// The device app on a board (Moddable): the stack on the Moddable platform, one Ethernet
// interface with a static address, and the services of app.ts. Settings come from mc/config
// (the manifest's "config", or key=value on mcconfig's command line):
//
//   mcconfig -d -m -p esp32/<board> ip=192.168.1.20/24 gateway=192.168.1.1 mac=02:00:00:00:00:01 hostname=board1
//
// On a board the interface is the board's MAC (board-mac.ts: a placeholder that returns
// null, and the services then listen on 127.0.0.1 over lo only). In Moddable's Linux
// simulator it is the UDP frame link to a socat TAP (link-udp.ts; docs/DEVICE.md):
//
//   mcconfig -m -p lin link=udp:9201:9200 ip=169.254.77.2/24 gateway= sizes=device
//
// (the lin defaults of manifest.json). sizes=device runs the Node device mode's sizes
// (DEVICE_MODE_STACK_CONFIG: 64 KB TCP windows, room for a 65,000-byte ping); otherwise a
// board's (BOARD_STACK_CONFIG). An empty gateway sets none.

import config from "mc/config";
import { DmaMacDriver } from "xsnet/drivers/dma-mac";
import { startStack, type DeviceFactory } from "xsnet/moddable/start";
import { tcpInit } from "xsnet/src/tcp/init";
import { udpInit } from "xsnet/src/udp/udp";
import { startDeviceApp } from "xsnet/examples/device-app/app";
import { BOARD_APP_SIZES, BOARD_STACK_CONFIG, DEVICE_MODE_STACK_CONFIG } from "xsnet/examples/device-app/board";
import boardMac from "board-mac";
import deviceLink from "device-link";

const link = deviceLink();
const hw = link === null ? boardMac() : null;
const device: DeviceFactory | null = link !== null
  ? link.device
  : hw === null ? null : (net, name, mac) => new DmaMacDriver(hw).register(net, name, mac);
const deviceSizes = String(config.sizes ?? "") === "device";
const protocols = Object.freeze([udpInit, tcpInit]);
const address = device === null ? "127.0.0.1/8" : String(config.ip);
const gateway = String(config.gateway ?? "");
const stack = startStack({
  config: deviceSizes ? DEVICE_MODE_STACK_CONFIG : BOARD_STACK_CONFIG,
  protocols,
  device,
  mac: String(config.mac),
  address,
  gateway: gateway === "" ? undefined : gateway,
});

startDeviceApp(stack.net, {
  address: address.slice(0, address.indexOf("/")),
  hostname: String(config.hostname ?? "xsnet"),
  ...(deviceSizes ? {} : BOARD_APP_SIZES),
  log: (line) => trace(`${line}\n`),
});
trace(`xsnet device app: ${device === null
  ? "no MAC driver (board-mac.ts is a placeholder); serving on 127.0.0.1 over lo"
  : `eth0 ${address}${link !== null ? ` on ${link.name}` : ""}`}\n`);
