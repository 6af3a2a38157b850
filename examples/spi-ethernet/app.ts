// A board app for an SPI Ethernet chip (examples/w5500, examples/enc28j60 run it with their
// driver): the stack on the Moddable platform over the chip, an address by DHCP (or a static
// one), HOSTNAME.local by mDNS, and the device app's services (examples/device-app/app.ts:
// echo, discard, chargen, UDP echo, iperf, HTTP). Settings come from mc/config, the
// manifest's "config" or key=value on mcconfig's command line:
//
//   ip       "dhcp" (default) or "192.168.1.20/24"; gateway with a static address
//   mac      the interface's address (the chips have none of their own)
//   hostname the DHCP host name and the mDNS name (default "xsnet")
//   sclk miso mosi cs int rst   ESP32 GPIO numbers (rst -1: reset by command)
//   hz port  the SPI clock and the ESP32 SPI host (1: SPI2_HOST, 2: SPI3_HOST)

import type { DigitalIoClass, SpiChipWiring, SpiIoClass } from "xsnet/drivers/spi-io";
import type { NetDevice } from "xsnet/src/core/netdevice";
import type { Net } from "xsnet/src/core/net";
import { startStack } from "xsnet/moddable/start";
import { udpInit } from "xsnet/src/udp/udp";
import { tcpInit } from "xsnet/src/tcp/init";
import { PORT_HTTP } from "xsnet/src/apps/http-server";
import { DhcpClient } from "xsnet/src/lan/dhcp-client";
import { MdnsResponder } from "xsnet/src/lan/mdns";
import { formatIpv4 } from "xsnet/src/wire/ipv4";
import { startDeviceApp } from "xsnet/examples/device-app/app";
import { BOARD_APP_SIZES, BOARD_STACK_CONFIG } from "xsnet/examples/device-app/board";

/** The board's ECMA-419 IO classes (embedded:io/spi, embedded:io/digital). */
export interface BoardIo {
  SPI: SpiIoClass;
  Digital: DigitalIoClass;
}

/** An SPI Ethernet driver: made over the wiring, registered with the stack. */
export interface SpiEthernetDriver {
  register(net: Net, name: string, mac: Uint8Array): NetDevice;
}

export interface SpiEthernetAppOptions {
  /** the chip's name, for the log */
  chip: string;
  config: Record<string, unknown>;
  /** null on a platform without embedded:io/spi (Moddable's simulator) */
  io: BoardIo | null;
  makeDriver: (wiring: SpiChipWiring) => SpiEthernetDriver;
}

function gpio(config: Record<string, unknown>, key: string): number {
  const n = Number(config[key]);
  if (!Number.isInteger(n) || n < -1 || n > 48) throw new RangeError(`config.${key} must be an ESP32 GPIO number (or -1), got ${String(config[key])}`);
  return n;
}

/** The chip's wiring from the config's pin numbers. */
export function spiWiring(config: Record<string, unknown>, io: BoardIo): SpiChipWiring {
  const rst = gpio(config, "rst");
  return {
    spi: {
      io: io.SPI, clock: gpio(config, "sclk"), in: gpio(config, "miso"), out: gpio(config, "mosi"), select: gpio(config, "cs"),
      hz: Number(config.hz), port: Number(config.port), mode: 0,
    },
    interrupt: { io: io.Digital, pin: gpio(config, "int") },
    reset: rst < 0 ? undefined : { io: io.Digital, pin: rst },
  };
}

export function startSpiEthernetApp(options: SpiEthernetAppOptions): void {
  const { chip, config, io } = options;
  if (io === null) {
    trace(`xsnet ${chip}: no embedded:io/spi on this platform (build for esp32); nothing started\n`);
    return;
  }
  const wiring = spiWiring(config, io);
  const ip = String(config.ip ?? "dhcp");
  const dhcp = ip === "dhcp";
  const gateway = String(config.gateway ?? "");
  const hostname = String(config.hostname ?? "xsnet");
  const stack = startStack({
    // The board's sizes, with UDP sockets for the echo service, DHCP and mDNS.
    config: { ...BOARD_STACK_CONFIG, udpSocketsMax: 4 },
    protocols: [udpInit, tcpInit],
    device: (net, name, mac) => options.makeDriver(wiring).register(net, name, mac),
    mac: String(config.mac),
    address: dhcp ? undefined : ip,
    gateway: dhcp || gateway === "" ? undefined : gateway,
  });
  const net = stack.net;
  const dev = stack.dev as NetDevice;
  const mdns = new MdnsResponder(net, dev, { hostname, services: [{ type: "_http._tcp", port: PORT_HTTP, txt: ["path=/"] }] });
  if (dhcp) {
    const client = new DhcpClient(net, dev, {
      hostname,
      onLease: (lease) => {
        trace(`xsnet ${chip}: DHCP lease ${lease.address}/${lease.prefixLength}, router ${lease.router ?? "none"}, ${lease.leaseSeconds} s\n`);
        // HOSTNAME.local now has an address: probe and announce it (RFC 6762 8).
        mdns.addressChanged();
      },
      onLost: (why) => {
        trace(`xsnet ${chip}: DHCP lease lost (${why})\n`);
        mdns.addressChanged();
      },
    });
    client.start();
  }
  startDeviceApp(net, { hostname, ...BOARD_APP_SIZES, log: (line) => trace(`${line}\n`) });
  const address = dev.inDev.addr === 0 ? "no address yet (DHCP)" : formatIpv4(dev.inDev.addr);
  trace(`xsnet ${chip}: eth0 ${address}, ${hostname}.local, SPI ${wiring.spi.hz} Hz\n`);
}
