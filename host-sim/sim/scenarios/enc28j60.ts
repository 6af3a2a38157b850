// Host a on a simulated ENC28J60 (drivers/enc28j60.ts over the chip model on an SPI bus),
// host b on the default simulated MAC: ping, UDP echo through the socket API, TCP bulk both
// ways. The ENC28J60 is 10BASE-T: its own transmissions take 10 Mbit/s wire time, and the
// switch port toward it (lan direction b -> a) runs at 10 Mbit/s too.

import { Pinger } from "../../../src/apps/ping";
import { udpSocketClass, type UdpPacket } from "../../../src/socket/udp";
import { ipAddrAdd } from "../../../src/ipv4/devinet";
import { devOpen } from "../../../src/core/link";
import type { NetDevice } from "../../../src/core/netdevice";
import { Enc28j60Driver, type Enc28j60Options } from "../../../drivers/enc28j60";
import { Enc28j60Chip, ENC28J60_MAX_HZ, type Enc28j60ChipOptions } from "../enc28j60-chip";
import type { SimLan } from "../lan";
import { SimGpio, SimSpiBus } from "../spi-bus";
import { SimWorld, type AttachHost, type SimHost } from "../world";
import { report, type ScenarioReport } from "./report";
import { tcpBulk } from "./tcp-bulk";

/** ESP32 pins of a common ENC28J60 module wiring (chip select, INT, RESET). */
export const ENC28J60_PINS = Object.freeze({ clock: 18, in: 19, out: 23, select: 5, interrupt: 4, reset: 16 });

/** The parts of one host's ENC28J60, for tests and reports. */
export interface Enc28j60Parts {
  host: SimHost;
  lan: SimLan;
  bus: SimSpiBus;
  gpio: SimGpio;
  chip: Enc28j60Chip;
  driver: Enc28j60Driver;
  dev: NetDevice;
}

export interface AttachEnc28j60Options {
  driver?: Enc28j60Options;
  chip?: Enc28j60ChipOptions;
  /** SPI clock (default the chip's 20 MHz) */
  hz?: number;
  /** ESP-IDF's per-transaction CPU time, microseconds (default 0) */
  callOverheadUs?: number;
  mtu?: number;
  /** without a RESET line the driver resets by SRC */
  noResetPin?: boolean;
  napiWeight?: number;
  /** told the parts once the interface is up */
  onAttach?: (parts: Enc28j60Parts) => void;
}

/** Plug a host in through an ENC28J60 on its own SPI bus (the host's CPU is the bus's clock). */
export function attachEnc28j60(options: AttachEnc28j60Options = {}): AttachHost {
  return (world, host, lan, cidr) => {
    const pins = ENC28J60_PINS;
    const bus = new SimSpiBus(world.loop, host.platform, { callOverheadUs: options.callOverheadUs ?? 0 });
    const gpio = new SimGpio(world.loop);
    const chip = new Enc28j60Chip(world.loop, lan, bus, gpio, pins, options.chip);
    const driver = new Enc28j60Driver({
      spi: { io: bus.io, clock: ENC28J60_PINS.clock, in: ENC28J60_PINS.in, out: ENC28J60_PINS.out, select: pins.select, hz: options.hz ?? ENC28J60_MAX_HZ },
      interrupt: { io: gpio.io, pin: pins.interrupt },
      reset: options.noResetPin === true ? undefined : { io: gpio.io, pin: pins.reset },
    }, options.driver);
    const n = world.hosts.indexOf(host) + 1;
    const mac = new Uint8Array([0x02, 0x28, 0x60, 0x00, 0x00, n & 0xff]);
    const dev = driver.register(host.net, `eth${host.devices.length}`, mac, { mtu: options.mtu ?? 1500, napiWeight: options.napiWeight });
    if (cidr !== null) ipAddrAdd(host.net, dev, cidr);
    devOpen(dev);
    if (options.onAttach !== undefined) options.onAttach({ host, lan, bus, gpio, chip, driver, dev });
    return dev;
  };
}

/** The switch port toward the 10BASE-T chip on `port` serializes at 10 Mbit/s. */
export function tenBaseTToward(lan: SimLan, port: number, others: readonly number[]): void {
  for (const from of others) lan.setFaults(from, port, { rateBps: 10_000_000 });
}

/** Counters of the chip, the driver and the bus, for a report's extra. */
function partsExtra(p: Enc28j60Parts | null, extra: Record<string, number>): Record<string, number> {
  if (p === null) return extra;
  const add = (prefix: string, o: object): void => {
    for (const [k, v] of Object.entries(o)) if (typeof v === "number") extra[`${prefix}.${k}`] = v;
  };
  add("chip", p.chip.stats);
  add("driver", p.driver.stats);
  const spi = p.bus.stats(ENC28J60_PINS.select);
  extra["spi.calls"] = spi.calls;
  extra["spi.frames"] = spi.frames;
  extra["spi.bytes"] = spi.bytes;
  return extra;
}

/** Pings of several sizes (fragmented ones too) from the ENC28J60 host, and back. */
export function enc28j60Ping(seed: number): ScenarioReport {
  let parts: Enc28j60Parts | null = null;
  const { world, lan, a, b } = new SimWorld(seed).twoHosts({
    faults: { delayMs: 1 },
    a: { attach: attachEnc28j60({ onAttach: (p) => { parts = p; } }) },
  });
  tenBaseTToward(lan, 0, [1]);
  const pingA = new Pinger(a.net, 0x2801);
  const pingB = new Pinger(b.net, 0x2802);
  const sizes = [56, 512, 1472, 1473, 4000];
  for (let i = 0; i < 30; i++) {
    pingA.send("10.0.0.2", sizes[i % sizes.length]);
    world.runFor(20);
    pingB.send("10.0.0.1", sizes[(i + 2) % sizes.length]);
    world.runFor(20);
  }
  world.runFor(2000);
  const extra = partsExtra(parts, {});
  return report("enc28j60-ping", world, [pingA, pingB], extra);
}

/** UDP echo through the socket API: client on the ENC28J60 host, echo server on b. */
export function enc28j60UdpEcho(seed: number): ScenarioReport {
  let parts: Enc28j60Parts | null = null;
  const { world, lan, a, b } = new SimWorld(seed).twoHosts({
    faults: { delayMs: 1, lossRate: 0.01 },
    a: { attach: attachEnc28j60({ onAttach: (p) => { parts = p; } }) },
  });
  tenBaseTToward(lan, 0, [1]);
  const UdpA = udpSocketClass(a.net);
  const UdpB = udpSocketClass(b.net);
  const scratch = new Uint8Array(8000);
  const echo = new UdpB({ port: 7 });
  const client = new UdpA({ port: 5555 });
  let echoed = 0;
  let received = 0;
  let bytesReceived = 0;
  let mismatches = 0;
  const sizes = [1, 64, 512, 1472, 1473, 3000, 8000];
  const sent = 70;
  for (let i = 0; i < sent; i++) {
    const size = sizes[i % sizes.length];
    for (let k = 0; k < size; k++) scratch[k] = (k + i) & 0xff;
    client.write(new Uint8Array(scratch.buffer, 0, size), "10.0.0.2", 7);
    world.runFor(30);
    let p: UdpPacket | undefined;
    while ((p = echo.read()) !== undefined) {
      echo.write(p, p.address, p.port);
      echoed++;
    }
    world.runFor(30);
    while ((p = client.read()) !== undefined) {
      received++;
      bytesReceived += p.byteLength;
      const got = new Uint8Array(p);
      const base = got.length > 0 ? (got[0] - 0) & 0xff : 0;
      for (let k = 0; k < got.length; k++) if (got[k] !== ((k + base) & 0xff)) mismatches++;
    }
  }
  world.runFor(35_000);
  echo.close();
  client.close();
  return report("enc28j60-udp-echo", world, [], partsExtra(parts, { sent, echoed, received, bytesReceived, mismatches }));
}

/** Bytes each way of the TCP bulk exchange (small for XS: the chip is 10 Mbit/s). */
export const ENC28J60_BULK_BYTES = 64 * 1024;

/** TCP bulk both ways at once, every byte checked, between the ENC28J60 host and b. */
export function enc28j60TcpBulk(seed: number): ScenarioReport {
  let parts: Enc28j60Parts | null = null;
  const r = tcpBulk("enc28j60-tcp-bulk", seed, {
    bytes: ENC28J60_BULK_BYTES,
    bothWays: true,
    faults: { delayMs: 1 },
    a: { attach: attachEnc28j60({ onAttach: (p) => { parts = p; } }) },
    setup: (lan) => tenBaseTToward(lan, 0, [1]),
    limitMs: 120_000,
  });
  partsExtra(parts, r.extra);
  return r;
}
