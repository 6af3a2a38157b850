// Hosts on a WIZnet W5500 (MACRAW) over the simulated SPI bus: the attach that plugs one in,
// and the scenarios that ping, echo UDP and move TCP bulk both ways through it. Node-free.

import { Pinger } from "../../../src/apps/ping";
import { udpSocketClass, type UdpPacket } from "../../../src/socket/udp";
import { W5500Driver, type W5500DriverOptions } from "../../../drivers/w5500";
import { ipAddrAdd } from "../../../src/ipv4/devinet";
import { devOpen } from "../../../src/core/link";
import type { NetDevice } from "../../../src/core/netdevice";
import { SimGpio, SimSpiBus, type SimSpiBusOptions } from "../spi-bus";
import { W5500Chip, type W5500ChipOptions } from "../w5500-chip";
import { SimWorld, type AttachHost, type SimHost } from "../world";
import type { SimLan } from "../lan";
import { report, type ScenarioReport } from "./report";
import { tcpBulk } from "./tcp-bulk";

/** ESP32-style pins of the module: SCLK, MISO, MOSI, chip select, INTn, RSTn */
export const W5500_PINS = Object.freeze({ clock: 18, in: 19, out: 23, select: 5, interrupt: 4, reset: 12 });

export interface AttachW5500Options extends W5500DriverOptions {
  /** SPI clock (default 20 MHz) */
  hz?: number;
  /** the bus's per-call overhead */
  bus?: SimSpiBusOptions;
  /** how the chip model behaves where silicon differs */
  chip?: W5500ChipOptions;
  /** wire RSTn (default true); without it the driver resets by MR.RST */
  resetPin?: boolean;
  mtu?: number;
  name?: string;
  /** sees the parts once made (tests reach the chip and the driver through it) */
  onAttach?: (parts: W5500Parts) => void;
}

/** What attachW5500 made for one host. */
export interface W5500Parts {
  host: SimHost;
  bus: SimSpiBus;
  gpio: SimGpio;
  chip: W5500Chip;
  driver: W5500Driver;
  dev: NetDevice;
}

/** Plug a host in through a W5500 on its own SPI bus (the host's CPU is the bus's clock). */
export function attachW5500(options: AttachW5500Options = {}): AttachHost {
  return (world: SimWorld, host: SimHost, lan: SimLan, cidr: string | null): NetDevice => {
    const bus = new SimSpiBus(world.loop, host.platform, options.bus);
    const gpio = new SimGpio(world.loop);
    const chip = new W5500Chip(world.loop, lan, bus, gpio, W5500_PINS, options.chip);
    const driver = new W5500Driver({
      spi: { io: bus.io, clock: W5500_PINS.clock, in: W5500_PINS.in, out: W5500_PINS.out, select: W5500_PINS.select, hz: options.hz ?? 20_000_000 },
      interrupt: { io: gpio.io, pin: W5500_PINS.interrupt },
      reset: options.resetPin === false ? undefined : { io: gpio.io, pin: W5500_PINS.reset },
    }, options);
    // WIZnet's OUI with a serial: the host's place in the world, so the same for the same set-up.
    const serial = (world.seed + world.hosts.indexOf(host) + 1) & 0xffff;
    const mac = new Uint8Array([0x00, 0x08, 0xdc, 0x55, serial >> 8, serial & 0xff]);
    const dev = driver.register(host.net, options.name ?? `eth${host.devices.length}`, mac, { mtu: options.mtu ?? 1500 });
    if (cidr !== null) ipAddrAdd(host.net, dev, cidr);
    devOpen(dev);
    if (options.onAttach !== undefined) options.onAttach({ host, bus, gpio, chip, driver, dev });
    return dev;
  };
}

/** The scenarios' set-up: host a on a W5500, host b on the simulated DMA MAC. */
function w5500Hosts(seed: number, parts: { p: W5500Parts | null }, tcpTimeWaitMs = 1000) {
  const attach = attachW5500({ onAttach: (p) => { parts.p = p; } });
  return new SimWorld(seed).twoHosts({ faults: { delayMs: 0.05 }, config: { tcpTimeWaitMs }, a: { attach } });
}

function spiExtra(p: W5500Parts | null, extra: Record<string, number>): Record<string, number> {
  if (p === null) return extra;
  const st = p.bus.stats(W5500_PINS.select);
  extra["spi.calls"] = st.calls;
  extra["spi.frames"] = st.frames;
  extra["spi.bytes"] = st.bytes;
  const d = p.driver.stats as unknown as Record<string, number>;
  for (const k of Object.keys(d)) extra[`drv.${k}`] = d[k];
  const c = p.chip.stats as unknown as Record<string, number>;
  for (const k of Object.keys(c)) extra[`chip.${k}`] = c[k];
  return extra;
}

/** Pings of several sizes from the W5500 host and to it (fragmented ones included). */
export function w5500Ping(seed: number): ScenarioReport {
  const parts: { p: W5500Parts | null } = { p: null };
  const { world, a, b } = w5500Hosts(seed, parts);
  world.runFor(10); // reset and ready
  const fromA = new Pinger(a.net, 0x5500);
  const fromB = new Pinger(b.net, 0x5501);
  const sizes = [0, 56, 1000, 1472, 1473, 4000, 8000];
  for (let i = 0; i < 28; i++) {
    fromA.send("10.0.0.2", sizes[i % sizes.length]);
    fromB.send("10.0.0.1", sizes[(i + 3) % sizes.length]);
    world.runFor(20);
  }
  world.runFor(500);
  return report("w5500-ping", world, [fromA, fromB], spiExtra(parts.p, {}));
}

/** UDP echo through the socket API: the W5500 host echoes what b sends, up to 8,000 bytes. */
export function w5500UdpEcho(seed: number): ScenarioReport {
  const parts: { p: W5500Parts | null } = { p: null };
  const { world, a, b } = w5500Hosts(seed, parts);
  world.runFor(10);
  const UdpA = udpSocketClass(a.net);
  const UdpB = udpSocketClass(b.net);
  const scratch = new Uint8Array(8000);
  const echo = new UdpA({ port: 7 });
  const client = new UdpB({ port: 5555 });
  let echoed = 0;
  let received = 0;
  let bytesReceived = 0;
  let mismatches = 0;
  const sizes = [1, 64, 512, 1472, 1473, 3000, 8000];
  const n = 70;
  for (let i = 0; i < n; i++) {
    const size = sizes[i % sizes.length];
    for (let k = 0; k < size; k++) scratch[k] = (k * 7 + i) & 0xff;
    client.write(new Uint8Array(scratch.buffer, 0, size), "10.0.0.1", 7);
    world.runFor(10);
    let p: UdpPacket | undefined;
    while ((p = echo.read()) !== undefined) {
      echo.write(p, p.address, p.port);
      echoed++;
    }
    world.runFor(10);
    while ((p = client.read()) !== undefined) {
      const got = new Uint8Array(p);
      if (got.length !== size) mismatches++;
      else for (let k = 0; k < size; k++) if (got[k] !== ((k * 7 + i) & 0xff)) { mismatches++; break; }
      received++;
      bytesReceived += got.length;
    }
  }
  world.runFor(100);
  echo.close();
  client.close();
  return report("w5500-udp-echo", world, [], spiExtra(parts.p, { sent: n, echoed, received, bytesReceived, mismatches }));
}

/** Bytes each way of the W5500 TCP bulk scenario (kept small for XS). */
export const W5500_BULK_BYTES = 64 * 1024;

/** TCP bulk both ways at once between the W5500 host (client) and b, every byte checked. */
export function w5500TcpBulk(seed: number): ScenarioReport {
  const parts: { p: W5500Parts | null } = { p: null };
  const attach = attachW5500({ onAttach: (p) => { parts.p = p; } });
  const r = tcpBulk("w5500-tcp-bulk", seed, {
    bytes: W5500_BULK_BYTES, bothWays: true, faults: { delayMs: 0.05 }, a: { attach },
  });
  spiExtra(parts.p, r.extra);
  return r;
}
