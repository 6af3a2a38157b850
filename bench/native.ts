// Wall time in Moddable's runtime, with and without the native helpers: bench/native (an
// app) built for lin twice by mcconfig, with manifest_core.json's default mapping
// (xsnet/src/wire/bulk is moddable/native/bulk.c) and with XSNET_BULK pointing at the
// JavaScript (src/wire/bulk.ts), run in turn in mcsim (release build, headless), twice
// each, each figure's best kept (the load of a shared machine moves under a run). Prints
// nanoseconds per 1,460-byte checksum and copy and per full TCP data segment. Printed,
// never asserted. Needs a built Moddable SDK 8.2.3 and xvfb-run (host-sim/moddable-sdk.ts).
//
//   npm run bench:native [-- --docs]
//
// The XS meter (bench/xs.ts) charges a native built-in by the bytes it touches, not by its
// time, so its ratio to the floor does not say what these helpers save: this wall time does.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { mcconfigLin, moddableDir, moddableEnv, moddableSkipReason, runInMcsim } from "../host-sim/moddable-sdk";
import { Printed, docsRequested, printedSection, runNote, writeDocsSection } from "./docs";

const REPO = fileURLToPath(new URL("..", import.meta.url));

const skip = moddableSkipReason(true);
if (skip !== null) {
  console.log(`bench/native.ts: nothing to measure: ${skip}`);
  process.exit(0);
}
const moddable = moddableDir();
const tmp = mkdtempSync(join(tmpdir(), "xsnet-bench-native-"));
const figures: Record<string, Record<string, number>> = { javascript: {}, native: {} };
try {
  const apps: [string, string, NodeJS.ProcessEnv][] = [];
  for (const [helpers, bulk] of [["javascript", join(REPO, "src/wire/bulk")], ["native", undefined]] as const) {
    const env = moddableEnv(moddable, tmp);
    if (bulk === undefined) delete env.XSNET_BULK;  // manifest_core.json's default: the C
    else env.XSNET_BULK = bulk;
    const build = mcconfigLin(join(REPO, "bench/native"), join(tmp, helpers), env);
    if (build.status !== 0) throw new Error(`mcconfig (${helpers}) exited ${build.status}:\n${build.output.slice(-3000)}`);
    apps.push([helpers, build.app, env]);
  }
  // Turn about, twice, keeping each figure's best: the machine's load moves under a run.
  for (let round = 0; round < 2; round++) {
    for (const [helpers, app, env] of apps) {
      const { trace } = await runInMcsim(moddable, app, env, /^(bench done|XS abort.*)$/m, 300_000);
      if (!trace.includes(`helpers: ${helpers}\n`) || !/^bench done$/m.test(trace)) throw new Error(`mcsim (${helpers}):\n${trace}`);
      for (const m of trace.matchAll(/^bench (\S+) (\d+)$/gm)) figures[helpers][m[1]] = Math.min(figures[helpers][m[1]] ?? Infinity, Number(m[2]));
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const out = new Printed();
const ROWS: [string, string][] = [
  ["csum-view", "checksum sum, 1,460 bytes, DataView (csumPartialView)"],
  ["csum-bytes", "checksum sum, 1,460 bytes, Uint8Array (csumPartial)"],
  ["copy-view", "copy 1,460 bytes, DataView to DataView (copyView)"],
  ["copy-bytes", "copy 1,460 bytes, two Uint8Arrays (copyBytes)"],
  ["copy-within", "copy 1,460 bytes within one buffer (copyBytes)"],
  ["floor", "TCP segment floor: 1,448 copied twice, summed twice"],
  ["segment-lo", "TCP data segment, one stack both ends over lo"],
  ["segment-lan", "TCP data segment, two stacks, simulated MACs + LAN"],
];
const us = (ns: number): string => (ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${ns.toFixed(0)} ns`);
out.log("xsnet in Moddable's runtime (mcsim, lin release build), wall time, best of 2 x 3 runs of >= 300 ms");
out.log("  what                                                     JavaScript        native   speed-up");
for (const [key, label] of ROWS) {
  const js = figures.javascript[key];
  const nat = figures.native[key];
  out.log(`  ${label.padEnd(54)} ${us(js).padStart(11)} ${us(nat).padStart(13)} ${(js / nat).toFixed(1).padStart(9)}x`);
}
out.log("  (JavaScript: XSNET_BULK=src/wire/bulk, the TypeScript the stack runs on V8 and xsnap; native:");
out.log("   manifest_core.json's default, moddable/native/bulk.c. A segment: steady bulk through the");
out.log("   socket API, the reader's view filled by copyView, 2 MB a run. within one buffer, the");
out.log("   JavaScript is copyWithin, native already. The XS meter of bench/xs.ts charges a native");
out.log("   built-in by its bytes, not its time: these wall times are what the helpers save.)");
if (docsRequested()) {
  writeDocsSection("native", printedSection("npm run bench:native", `${runNote()} (wall time: it moves with the machine's load)`, out.lines));
}
