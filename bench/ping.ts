// Ping through two stacks in one process, over the simulated DMA MACs and LAN (no delay,
// no line rate): echoes per second and CPU per echo, beside a floor measured in the same
// run (the bytes of request and reply each copied twice and checksummed twice: what any
// stack moving them through a DMA buffer must at least do). Printed, never asserted.
//
//   npm run bench            (or: npx tsx bench/ping.ts [--seconds S] [--docs])
//
// --docs writes the table into docs/BENCHMARKS.md (section ping).

import { Pinger } from "../src/apps/ping";
import { copyBytes } from "../src/core/bytes";
import { csumPartial } from "../src/wire/checksum";
import { SimWorld } from "../host-sim/sim/world";
import { Printed, commandLine, docsRequested, printedSection, runNote, writeDocsSection } from "./docs";

const seconds = Number(process.argv[process.argv.indexOf("--seconds") + 1]) || 2;

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function benchPing(dataBytes: number, window: number): { echoes: number; wallMs: number; cpuMs: number; frames: number } {
  const { world, a } = new SimWorld(42).twoHosts({
    lanName: "bench",
    framesMax: 4096,
    config: { skbSlots: 256, skbRecords: 300 },
    mac: { lineRateBps: 0, rxRingSize: 64, txRingSize: 64 },
  });
  const ping = new Pinger(a.net);
  const dst = 0x0a000002;
  // Warm up (ARP, JIT).
  ping.send(dst, dataBytes);
  world.runFor(1);
  let outstanding = 0;
  ping.onReply = () => {
    outstanding--;
  };
  for (let i = 0; i < 2000; i++) {
    ping.send(dst, dataBytes);
    world.runFor(0.01);
  }
  world.runFor(10);
  const startReceived = ping.received;
  const startFrames = world.framesOnWire;
  const t0 = performance.now();
  const c0 = cpuMs();
  outstanding = 0;
  while (performance.now() - t0 < seconds * 1000) {
    for (let k = 0; k < 256; k++) {
      while (outstanding < window) {
        if (ping.send(dst, dataBytes) < 0) break;
        outstanding++;
      }
      world.runFor(0.001);
    }
  }
  world.runFor(10);
  const wallMs = performance.now() - t0;
  const used = cpuMs() - c0;
  const echoes = ping.received - startReceived;
  if (ping.corrupted !== 0) throw new Error("corrupted replies in the benchmark");
  ping.close();
  world.shutdown();
  return { echoes, wallMs, cpuMs: used, frames: world.framesOnWire - startFrames };
}

/** The floor: per echo, both frames copied twice (copyWithin, the cheapest copy) and checksummed twice. */
function benchFloor(frameBytes: number): number {
  const memory = new Uint8Array(frameBytes * 3);
  for (let i = 0; i < frameBytes; i++) memory[i] = i & 0xff;
  const mid = frameBytes;
  const dst = 2 * frameBytes;
  let sink = 0;
  const t0 = performance.now();
  const c0 = cpuMs();
  let n = 0;
  while (performance.now() - t0 < 500) {
    for (let k = 0; k < 1000; k++) {
      for (let frame = 0; frame < 2; frame++) {
        copyBytes(memory, mid, memory, 0, frameBytes);
        sink += csumPartial(memory, mid, frameBytes, 0);
        copyBytes(memory, dst, memory, mid, frameBytes);
        sink += csumPartial(memory, dst, frameBytes, 0);
      }
      n++;
    }
  }
  const used = cpuMs() - c0;
  if (sink === -1) console.log(sink);
  return (used * 1000) / n; // µs per echo
}

const out = new Printed();
out.log(`xsnet ping bench: two stacks in one process, simulated DMA MACs and LAN, ${seconds} s per size (Node ${process.version})`);
out.log("  data B  window   echoes/s   frames/s   CPU µs/echo   floor µs/echo   ratio");
for (const [size, window] of [[56, 32], [1472, 32], [4000, 8]] as const) {
  const r = benchPing(size, window);
  const frameBytes = Math.min(size, 1472) + 42;
  const floor = benchFloor(frameBytes * Math.max(1, Math.ceil((size + 8) / 1480)));
  const perEcho = (r.cpuMs * 1000) / r.echoes;
  out.log(
    `  ${String(size).padStart(6)} ${String(window).padStart(7)} ${((r.echoes * 1000) / r.wallMs).toFixed(0).padStart(10)} ` +
      `${((r.frames * 1000) / r.wallMs).toFixed(0).padStart(10)} ${perEcho.toFixed(2).padStart(13)} ${floor.toFixed(2).padStart(15)} ${(perEcho / floor).toFixed(1).padStart(7)}x`,
  );
}
out.log("CPU per echo includes both stacks, both drivers, the simulated MACs and LAN (copies, events).");
if (docsRequested()) {
  writeDocsSection("ping", printedSection(commandLine("npx tsx bench/ping.ts"),
    `run once on ${runNote()}, a machine shared with other work (wall-clock figures move with its load)`, out.lines));
}
