// XS figures: the stack inside the real XS engine (xsnap), measured by XS's own
// deterministic meter (`compute`, an operation count), beside a floor measured in the same
// run: each packet's bytes copied twice and checksummed twice. Plus RAM of the default and
// the minimal configuration, and the size of the XS bundle. Printed, never asserted.
//
//   npm run bench:xs [-- --docs]
//
// --docs writes the figures into docs/BENCHMARKS.md (section xs). The meter counts XS's
// operations, so its figures are the same on any machine for the same code.

import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import typescript from "@rollup/plugin-typescript";
import { rollup } from "rollup";
import { Printed, docsRequested, printedSection, runNote, writeDocsSection } from "./docs";

const REPO = fileURLToPath(new URL("..", import.meta.url));

function xsRun(args: string[]): Record<string, any> {
  const out = execFileSync(process.execPath, ["--import", "tsx", "host-sim/xs-run.ts", ...args], { cwd: REPO, maxBuffer: 16 << 20 });
  return JSON.parse(String(out).trim().split("\n").pop() as string);
}

const out = new Printed();
const steady = xsRun(["steady", "1000", "2000"]);
const ram = xsRun(["ram"]).ram;
const perPacket = steady.computePerPing / 2;
const floorPerPacket = steady.floorPerPing / 2;
out.log("xsnet on XS (xsnap), meter units per delivered full-size packet (1,514-byte frames, ping both ways)");
out.log(`  stack + simulated MACs and LAN: ${perPacket.toFixed(0)} per packet`);
out.log(`  floor (copy twice + checksum twice): ${floorPerPacket.toFixed(0)} per packet`);
out.log(`  ratio: ${(perPacket / floorPerPacket).toFixed(2)}x (goal: 1.5x)`);
out.log(`  heap after 1,000 and 2,000 pings (gc): ${steady.heapAfterFirst} and ${steady.heapAfterSecond} slots`);
out.log("");
out.log("TCP on XS, meter units per full-size data segment (1,448 bytes), steady bulk a -> b, 2 MB metered");
out.log("  floor: the payload copied in and out (copyWithin) and checksummed twice (csumPartialView)");
out.log("  link   reader        per segment   floor   ratio   heap slots after 2 MB and 4 MB (gc)");
for (const [link, read] of [["lo", "buffer"], ["lo", "view"], ["lan", "buffer"], ["lan", "view"]]) {
  const t = xsRun(["tcp", link, read]).tcp;
  out.log(`  ${link.padEnd(5)}  ${t.read.padEnd(12)} ${t.computePerSegment.toFixed(0).padStart(12)} ${t.floorPerSegment.toFixed(0).padStart(7)}   ` +
    `${(t.computePerSegment / t.floorPerSegment).toFixed(2)}x   ${t.heapAfterFirst} and ${t.heapAfterSecond}`);
}
out.log("  (goal 1.5x. lo: one stack talks to itself through 127.0.0.1, both ends, no simulated hardware;");
out.log("   lan: two stacks with the simulated DMA MACs, LAN and event loop. read(n) returns a new");
out.log("   ArrayBuffer, copied natively by slice; read(view) fills the application's view by 32-bit");
out.log("   DataView copies, as no native copy reaches another buffer without allocating a view.)");
out.log("  The meter charges a native built-in (copyWithin; on a Moddable build also the C checksum and");
out.log("  copies of moddable/native/bulk.c) by its bytes, not its time: wall time is npm run bench:native.");
out.log("");
out.log("RAM, fixed at init (bytes)            default     minimal");
const rows: [string, string][] = [
  ["skb slots", "skbSlots"], ["packet pool", "poolBytes"], ["skb control blocks", "skbCbBytes"],
  ["DMA MAC rings (RX + TX)", "ringBytes"], ["neighbour table", "neighTableBytes"], ["routing table", "routeTableBytes"],
  ["total of the above", "total"], ["XS heap slots added by init", "xsHeapSlotsAdded"],
  ["TCP connections", "tcpConnections"], ["TCP state per connection (typed arrays)", "tcpStateBytesPerConnection"],
];
for (const [label, key] of rows) {
  out.log(`  ${label.padEnd(34)} ${String(ram.default[key]).padStart(9)} ${String(ram.minimal[key]).padStart(11)}`);
}
out.log(`  (an XS heap slot is 16 bytes on a 32-bit MCU; TCP state excludes its buffers, queues and timers)`);
out.log("");
const device = await rollup({
  input: `${REPO}src/index.ts`,
  plugins: [typescript({ tsconfig: `${REPO}tsconfig.device.json`, noEmit: false, outDir: `${REPO}dist`, declaration: false, include: [`${REPO}src/**/*.ts`, `${REPO}drivers/**/*.ts`] })],
});
const deviceCode = (await device.generate({ format: "es" })).output[0].code;
await device.close();
out.log(`code size: device bundle (src/ and drivers/, unminified JS) ${(Buffer.byteLength(deviceCode) / 1024).toFixed(1)} KiB; ` +
  `XS test bundle (with the simulator) ${(steady.bundleBytes / 1024).toFixed(1)} KiB`);
if (docsRequested()) {
  writeDocsSection("xs", printedSection("npm run bench:xs",
    `${runNote()} (the meter counts XS operations: the same on any machine for the same code)`, out.lines));
}
