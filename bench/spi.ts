// What the SPI Ethernet drivers cost on the bus, per chip (drivers/w5500.ts, drivers/enc28j60.ts
// over their register-level models in host-sim): SPI calls (each an ESP-IDF transaction),
// chip-select frames and bytes per delivered full-size frame (1,514 bytes), received and
// sent, against the floor the chip's SPI protocol allows (the chip model's export: frame
// bytes plus the least framing the chip requires), and their ratio (the goal: at most 1.1x).
// Then the TCP throughput the bus would carry at 20 and 40 MHz, with the per-call overhead
// a parameter: from the measured costs (a full segment one way and an ACK for every second
// one the other way), and from a simulated TCP bulk run in which SPI keeps the host busy
// (host-sim/sim/spi-bus.ts), capped by the chip's wire (W5500 100 Mbit/s, ENC28J60 10).
// The figure to beat: W5500 in MACRAW under lwIP on an ESP32-S3, 9.2 Mbit/s. Printed, never
// asserted; virtual time, so the figures are the same on every machine.
//
//   npx tsx bench/spi.ts [--overhead-us 15] [--frames 200] [--no-tcp] [--docs]
//
// --docs writes the tables into docs/BENCHMARKS.md (section spi).

import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { build } from "esbuild";
import { bundle } from "./size";
import { tcpSocketClasses } from "../src/socket/tcp";
import { udpSocketClass } from "../src/socket/udp";
import type { SpiStats } from "../host-sim/sim/spi-bus";
import { SimWorld, type AttachHost } from "../host-sim/sim/world";
import { W5500_PINS, attachW5500 } from "../host-sim/sim/scenarios/w5500";
import { w5500SpiFloor } from "../host-sim/sim/w5500-chip";
import { ENC28J60_PINS, attachEnc28j60, tenBaseTToward } from "../host-sim/sim/scenarios/enc28j60";
import { ENC28J60_MAX_HZ, enc28j60SpiFloor } from "../host-sim/sim/enc28j60-chip";
import type { SimLan } from "../host-sim/sim/lan";
import { Printed, commandLine, docsRequested, printedSection, runNote, writeDocsSection } from "./docs";

const FULL_FRAME = 1514;
const UDP_FULL_PAYLOAD = FULL_FRAME - 14 - 20 - 8;
const ACK_FRAME = 60; // a bare ACK: 54 bytes, padded to the Ethernet minimum on the wire
const TCP_MSS = 1460;

/** A chip as the bench drives it. */
interface SpiChipBench {
  name: string;
  /** the driver's module and class, for its flash */
  module: string;
  driverClass: string;
  /** plugs a host in through the chip; `onStats` is given the chip's bus counters */
  attach(o: { hz: number; callOverheadUs: number; onStats: (stats: () => SpiStats) => void }): AttachHost;
  floor(frameLen: number): { rx: { frames: number; bytes: number }; tx: { frames: number; bytes: number } };
  /** the fastest SPI clock the chip takes */
  maxHz: number;
  /** the chip's Ethernet rate */
  wireMbps: number;
  /** between two frames of a measured stream: the chip drains one before the next lands */
  frameGapMs: number;
  /** the LAN once the chip's host (port 0) and its peer (port 1) are on it */
  setupLan?: (lan: SimLan) => void;
}

const SPI_CHIPS: readonly SpiChipBench[] = [
  {
    name: "W5500",
    module: "drivers/w5500",
    driverClass: "W5500Driver",
    attach: (o) => attachW5500({ hz: o.hz, bus: { callOverheadUs: o.callOverheadUs }, onAttach: (p) => o.onStats(() => p.bus.stats(W5500_PINS.select)) }),
    floor: w5500SpiFloor,
    maxHz: 80_000_000,
    wireMbps: 100,
    frameGapMs: 1,
  },
  {
    name: "ENC28J60",
    module: "drivers/enc28j60",
    driverClass: "Enc28j60Driver",
    attach: (o) => attachEnc28j60({ hz: o.hz, callOverheadUs: o.callOverheadUs, onAttach: (p) => o.onStats(() => p.bus.stats(ENC28J60_PINS.select)) }),
    floor: enc28j60SpiFloor,
    maxHz: ENC28J60_MAX_HZ,
    wireMbps: 10,
    frameGapMs: 2,
    // 10BASE-T: the switch port toward the chip serializes at 10 Mbit/s too.
    setupLan: (lan) => tenBaseTToward(lan, 0, [1]),
  },
];

interface Cost {
  calls: number;
  frames: number;
  bytes: number;
}

interface Snapshot {
  calls: number;
  frames: number;
  bytes: number;
}

const snap = (s: SpiStats): Snapshot => ({ calls: s.calls, frames: s.frames, bytes: s.bytes });

/** Bus cost per frame of a stream of `count` UDP datagrams of `payload` bytes, into (rx) or out of (tx) the chip's host. */
function streamCost(chip: SpiChipBench, hz: number, overheadUs: number, rx: boolean, payload: number, count: number): Cost {
  const world = new SimWorld(1);
  let stats: (() => SpiStats) | null = null;
  const attach: AttachHost = chip.attach({ hz, callOverheadUs: overheadUs, onStats: (s) => { stats = s; } });
  const { lan, a, b, devA } = world.twoHosts({ a: { attach }, staticNeighbours: true, frameHash: false });
  chip.setupLan?.(lan);
  const sender = rx ? b : a;
  const receiver = rx ? a : b;
  const Tx = udpSocketClass(sender.net);
  const Rx = udpSocketClass(receiver.net);
  const sink = new Rx({ port: 9, onReadable(n: number) { for (let i = 0; i < n; i++) this.read(); } });
  const src = new Tx({ port: 5555 });
  const payloadBytes = new Uint8Array(payload);
  const to = rx ? "10.0.0.1" : "10.0.0.2";
  // Warm up (the driver's first reads, the chip's pointers), then measure.
  for (let i = 0; i < 4; i++) {
    src.write(payloadBytes, to, 9);
    world.runFor(5);
  }
  world.runFor(50);
  const get = stats as (() => SpiStats) | null;
  if (get === null) throw new Error(`${chip.name}: attach never gave its bus stats`);
  const before = snap(get());
  const framesBefore = rx ? devA.stats.rxPackets : devA.stats.txPackets;
  // Paced so that neither the chip's buffer nor the LAN overflows: a frame every `gapMs`.
  for (let i = 0; i < count; i++) {
    src.write(payloadBytes, to, 9);
    world.runFor(chip.frameGapMs);
  }
  world.runFor(100);
  const after = snap(get());
  const frames = (rx ? devA.stats.rxPackets : devA.stats.txPackets) - framesBefore;
  sink.close();
  src.close();
  world.shutdown();
  if (frames < count) throw new Error(`${chip.name}: ${frames} of ${count} ${rx ? "received" : "sent"} frames counted`);
  return { calls: (after.calls - before.calls) / frames, frames: (after.frames - before.frames) / frames, bytes: (after.bytes - before.bytes) / frames };
}

/** ms the bus is busy for one frame's cost at hz, with overheadUs per call. */
const busMs = (c: Cost, hz: number, overheadUs: number): number => (c.bytes * 8 * 1000) / hz + (c.calls * overheadUs) / 1000;

/** Goodput of a simulated TCP bulk transfer one way through the chip (Mbit/s of payload), in virtual time. */
function simulatedTcp(chip: SpiChipBench, hz: number, overheadUs: number, toChip: boolean, bytes: number): number {
  const world = new SimWorld(2);
  const attach = chip.attach({ hz, callOverheadUs: overheadUs, onStats: () => {} });
  const { lan, a, b } = world.twoHosts({ a: { attach }, staticNeighbours: true, frameHash: false, config: { tcpSndBufBytes: 32 * 1024, tcpRcvBufBytes: 32 * 1024 } });
  chip.setupLan?.(lan);
  const sender = toChip ? b : a;
  const receiver = toChip ? a : b;
  const S = tcpSocketClasses(sender.net);
  const R = tcpSocketClasses(receiver.net);
  const chunk = new Uint8Array(8192);
  let received = 0;
  let firstByteAt = -1;
  let lastByteAt = -1;
  let written = 0;
  const listener = new R.Listener({
    port: 5001,
    onReadable(count: number) {
      for (let i = 0; i < count; i++) {
        const sock = new R.TCP({ from: this.read(), onReadable(n: number) {
          const buf = this.read(n) as ArrayBuffer;
          if (firstByteAt < 0) firstByteAt = world.now;
          received += buf.byteLength;
          lastByteAt = world.now;
        } });
        void sock;
      }
    },
  });
  const to = toChip ? "10.0.0.1" : "10.0.0.2";
  const client = new S.TCP({
    address: to, port: 5001,
    onWritable(room: number) {
      while (room > 0 && written < bytes) {
        const n = Math.min(room, chunk.length, bytes - written);
        this.write(n === chunk.length ? chunk : chunk.subarray(0, n));
        written += n;
        room -= n;
      }
    },
  });
  world.runUntil(() => received >= bytes, 600_000);
  client.close();
  listener.close();
  world.runFor(2000);
  world.shutdown();
  if (received < bytes) throw new Error(`${chip.name}: TCP bulk moved ${received} of ${bytes} bytes`);
  return ((received - 8192) * 8) / ((lastByteAt - firstByteAt) * 1000);
}

const REPO = fileURLToPath(new URL("..", import.meta.url));

/** Flash the driver adds to the "full" bundle (bench/size.ts's), minified and gzipped. */
async function driverFlash(chip: SpiChipBench): Promise<{ minified: number; gzip: number }> {
  const full = await bundle("full");
  const result = await build({
    stdin: { contents: `export { start } from "./bench/size/full";\nexport { ${chip.driverClass} } from "./${chip.module}";\n`, resolveDir: REPO, loader: "ts" },
    bundle: true, minify: true, format: "esm", target: "es2022", platform: "neutral", write: false, logLevel: "silent",
  });
  const code = result.outputFiles[0].text;
  return {
    minified: Buffer.byteLength(code) - Buffer.byteLength(full),
    gzip: gzipSync(code, { level: 9 }).length - gzipSync(full, { level: 9 }).length,
  };
}

async function main(): Promise<void> {
  const program = new Command()
    .option("--overhead-us <us>", "CPU time per SPI call besides its bytes (ESP-IDF's transaction set-up)", "15")
    .option("--frames <n>", "frames per measured stream", "200")
    .option("--tcp-kb <kb>", "bytes of each simulated TCP run, KB", "512")
    .option("--no-tcp", "skip the simulated TCP runs")
    .option("--docs", "write the tables into docs/BENCHMARKS.md");
  program.parse();
  const o = program.opts<{ overheadUs: string; frames: string; tcpKb: string; tcp: boolean }>();
  const overheadUs = Number(o.overheadUs);
  const count = Number(o.frames);
  const printed = new Printed();
  const log = printed.log;

  log(`Per delivered frame of ${FULL_FRAME} bytes (a stream of ${count}; SPI calls, chip-select frames, bytes; floor: the chip's SPI protocol's least):`);
  log(`chip       dir  calls  CS frames  bytes    floor frames  floor bytes  bytes/floor  frames/floor  bus time/floor (20 MHz, ${overheadUs} us a call)`);
  const costs = new Map<string, { rx: Cost; tx: Cost; rxAck: Cost; txAck: Cost }>();
  for (const chip of SPI_CHIPS) {
    const rx = streamCost(chip, 20_000_000, overheadUs, true, UDP_FULL_PAYLOAD, count);
    const tx = streamCost(chip, 20_000_000, overheadUs, false, UDP_FULL_PAYLOAD, count);
    const rxAck = streamCost(chip, 20_000_000, overheadUs, true, ACK_FRAME - 42, count);
    const txAck = streamCost(chip, 20_000_000, overheadUs, false, ACK_FRAME - 42, count);
    costs.set(chip.name, { rx, tx, rxAck, txAck });
    const floor = chip.floor(FULL_FRAME);
    for (const [dir, c, f] of [["RX", rx, floor.rx], ["TX", tx, floor.tx]] as const) {
      // The floor's calls are its chip-select frames: one call each.
      const time = busMs(c, 20_000_000, overheadUs) / busMs({ calls: f.frames, frames: f.frames, bytes: f.bytes }, 20_000_000, overheadUs);
      log(`${chip.name.padEnd(10)} ${dir}   ${c.calls.toFixed(2).padStart(5)}  ${c.frames.toFixed(2).padStart(9)}  ${c.bytes.toFixed(1).padStart(7)}  ${String(f.frames).padStart(12)}  ${String(f.bytes).padStart(11)}  ${(c.bytes / f.bytes).toFixed(3).padStart(10)}x  ${(c.frames / f.frames).toFixed(2).padStart(11)}x  ${time.toFixed(3).padStart(13)}x`);
    }
  }
  log();
  log(`TCP throughput the bus would carry (Mbit/s of payload; ${overheadUs} us per SPI call; a full segment one way, an ACK per two the other; capped by the chip's wire):`);
  log("chip       hz      receive (bus)  send (bus)  receive (sim)  send (sim)");
  for (const chip of SPI_CHIPS) {
    const c = costs.get(chip.name)!;
    for (const hz of [20_000_000, 40_000_000]) {
      if (hz > chip.maxHz) {
        log(`${chip.name.padEnd(10)} ${String(hz / 1e6).padStart(2)} MHz  (the chip takes at most ${chip.maxHz / 1e6} MHz)`);
        continue;
      }
      const wire = chip.wireMbps;
      const rxMs = busMs(c.rx, hz, overheadUs) + busMs(c.txAck, hz, overheadUs) / 2;
      const txMs = busMs(c.tx, hz, overheadUs) + busMs(c.rxAck, hz, overheadUs) / 2;
      const rxMbps = Math.min(wire, (TCP_MSS * 8) / (rxMs * 1000));
      const txMbps = Math.min(wire, (TCP_MSS * 8) / (txMs * 1000));
      let sim = "";
      if (o.tcp) {
        const kb = Number(o.tcpKb) * 1024;
        sim = `${simulatedTcp(chip, hz, overheadUs, true, kb).toFixed(2).padStart(13)}  ${simulatedTcp(chip, hz, overheadUs, false, kb).toFixed(2).padStart(10)}`;
      }
      log(`${chip.name.padEnd(10)} ${String(hz / 1e6).padStart(2)} MHz  ${rxMbps.toFixed(2).padStart(13)}  ${txMbps.toFixed(2).padStart(10)}  ${sim}`);
    }
  }
  log("published: W5500 in MACRAW under lwIP on an ESP32-S3, 9.2 Mbit/s");
  log();
  log("Flash each driver adds to the full bundle (esbuild, minified; gzip):");
  for (const chip of SPI_CHIPS) {
    const f = await driverFlash(chip);
    log(`${chip.name.padEnd(10)} ${String(f.minified).padStart(6)} B  (${f.gzip} B gzip)`);
  }
  if (docsRequested()) writeDocsSection("spi", printedSection(commandLine("npx tsx bench/spi.ts"), runNote(), printed.lines));
}

await main();
