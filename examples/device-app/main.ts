// The device app on a board (Moddable): the stack on the Moddable platform, one Ethernet
// interface with a static address, and the services of app.ts. Settings come from mc/config
// (the manifest's "config", or key=value on mcconfig's command line):
//
//   mcconfig -d -m -p esp32/<board> ip=192.168.1.20/24 gateway=192.168.1.1 mac=02:00:00:00:00:01 hostname=board1
//
// Not built with mcconfig yet (no Moddable SDK where it was written): type-checked against
// @moddable/typings only. As examples/ping, it needs a board's MAC driver (board-mac.ts is
// a placeholder that returns null, and the services then listen on 127.0.0.1 over lo only).

import config from "mc/config";
import { DmaMacDriver } from "xsnet/drivers/dma-mac";
import { startStack } from "xsnet/moddable/start";
import { tcpInit } from "xsnet/src/tcp/init";
import { udpInit } from "xsnet/src/udp/udp";
import { startDeviceApp } from "xsnet/examples/device-app/app";
import { BOARD_APP_SIZES, BOARD_STACK_CONFIG as STACK_CONFIG } from "xsnet/examples/device-app/board";
import boardMac from "board-mac";

const hw = boardMac();
const protocols = [udpInit, tcpInit];
const address = hw === null ? "127.0.0.1/8" : String(config.ip);
const stack = hw === null
  ? startStack({ config: STACK_CONFIG, protocols, device: null })
  : startStack({
      config: STACK_CONFIG,
      protocols,
      device: (net, name, mac) => new DmaMacDriver(hw).register(net, name, mac),
      mac: String(config.mac),
      address,
      gateway: String(config.gateway),
    });

startDeviceApp(stack.net, {
  address: address.slice(0, address.indexOf("/")),
  hostname: String(config.hostname ?? "xsnet"),
  ...BOARD_APP_SIZES,
  log: (line) => trace(`${line}\n`),
});
trace(`xsnet device app: ${hw === null ? "no MAC driver (board-mac.ts is a placeholder); serving on 127.0.0.1 over lo" : `eth0 ${address}`}\n`);
