// The device app's XS heap on Moddable's own runtime: the app built for lin as a debug build
// (mcconfig -d) with the heap probe as its main (examples/device-app/lin/heap-probe.ts: a full
// collection once a second, then the chunk and slot heap XS holds), run in Moddable's
// simulator on socat's TAP in a namespace of its own, with TCP echo driven through it by nc:
// the heap after start-up, after a 1 MB warm-up, and after 10 MB more; and the deepest XS
// stack the run reached. Flat after start-up means the 10 MB leave the heap where the
// warm-up left it. Printed, never asserted.
//
//   sudo npx tsx bench/mcsim-heap.ts [--bytes 10000000] [--warmup-bytes 1000000]
//                                    [--socket frames|moddable] [--docs]
//
// --socket moddable runs the app over Moddable's own UDP class (50 frames a second: 10 MB
// take minutes). --docs writes the table into docs/BENCHMARKS.md (section mcsim-heap).
// Needs root, ip netns, /dev/net/tun, socat, OpenBSD nc, a built Moddable SDK and xvfb-run.
// Only loopback and 169.254.0.0/16 addresses. Node-only.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { buildDeviceApp, XS_DEFAULT_STACK_SLOTS, mcsimArgs, mcsimSkipReason, MCSIM_UP, parseHeapLines, parseInstruments, type HeapSample } from "../host-sim/mcsim";
import { Printed, commandLine, runNote, writeDocsSection, printedSection } from "./docs";

function positive(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got '${text}'`);
  return n;
}

const opts = new Command()
  .name("bench/mcsim-heap.ts")
  .option("--bytes <n>", "bytes echoed after the warm-up", positive, 10_000_000)
  .option("--warmup-bytes <n>", "bytes echoed first", positive, 1_000_000)
  .option("--socket <kind>", "the UDP class under the link: frames (FrameSocket) or moddable (embedded:io/socket/udp)", "frames")
  .option("--docs", "write the table into docs/BENCHMARKS.md")
  .parse()
  .opts<{ bytes: number; warmupBytes: number; socket: string; docs?: boolean }>();

if (opts.socket !== "frames" && opts.socket !== "moddable") {
  console.error(`--socket must be frames or moddable, got '${opts.socket}'`);
  process.exit(2);
}
const skip = process.getuid?.() !== 0 ? "not root (a network namespace and a TAP)" : mcsimSkipReason();
if (skip !== null) {
  console.log(`bench/mcsim-heap.ts skipped: ${skip}`);
  process.exit(0);
}

const NS = `xsheap${process.pid}`;
const DEV = "169.254.77.2";
const started: ChildProcess[] = [];
let nsMade = false;

/** Our processes (timeout passes the TERM on to xvfb-run, Xvfb and mcsim), then the namespace. */
function cleanUp(): void {
  for (const p of started.reverse()) if (p.exitCode === null && p.signalCode === null) p.kill("SIGTERM");
  if (nsMade) {
    spawnSync("sleep", ["1"]);
    for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    spawnSync("ip", ["netns", "del", NS]);
    nsMade = false;
  }
}
process.once("exit", cleanUp);

function sh(args: string[]): void {
  const r = spawnSync("ip", ["netns", "exec", NS, ...args], { encoding: "utf8", timeout: 10_000 });
  if (r.status !== 0) throw new Error(`${args.join(" ")}: ${r.stderr}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** nc -N through TCP echo: `bytes` of a pattern out, the same count back (checked), in ms. */
function echo(bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const nc = spawn("ip", ["netns", "exec", NS, "nc", "-N", "-w", "30", DEV, "7"], { stdio: ["pipe", "pipe", "inherit"] });
    let back = 0;
    let bad = -1;
    nc.stdout.on("data", (b: Buffer) => {
      for (let i = 0; i < b.length && bad < 0; i++) if (b[i] !== (back + i) % 251) bad = back + i;
      back += b.length;
    });
    let sent = 0;
    const chunk = new Uint8Array(251 * 261); // a multiple of 251: each chunk starts the pattern anew
    for (let i = 0; i < chunk.length; i++) chunk[i] = i % 251;
    const pump = (): void => {
      while (sent < bytes) {
        const n = Math.min(chunk.length, bytes - sent);
        sent += n;
        if (!nc.stdin.write(chunk.subarray(0, n))) {
          nc.stdin.once("drain", pump);
          return;
        }
      }
      nc.stdin.end();
    };
    pump();
    nc.on("close", (code) => {
      if (code !== 0 || back !== bytes || bad >= 0) reject(new Error(`echo of ${bytes} bytes: nc exit ${code}, ${back} bytes back, first wrong byte ${bad}`));
      else resolve(Date.now() - t0);
    });
  });
}

const printed = new Printed();
const log = printed.log;
const dir = mkdtempSync(join(tmpdir(), "xsnet-mcsim-heap-"));
try {
  console.log("building the device app for lin (mcconfig -d -m -p lin, with the heap probe)...");
  const build = await buildDeviceApp({ outDir: dir, name: "xsnet-heap", debug: true, heapProbe: true, config: { link: "udp:9201:9200", ip: `${DEV}/24`, socket: opts.socket } });
  spawnSync("ip", ["netns", "add", NS]);
  nsMade = true;
  sh(["ip", "link", "set", "lo", "up"]);
  sh(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
  started.push(spawn("ip", ["netns", "exec", NS, "socat", "TUN:169.254.77.1/24,tun-type=tap,tun-name=xt0,iff-no-pi,iff-up",
    "UDP-DATAGRAM:127.0.0.1:9201,bind=127.0.0.1:9200"], { stdio: "ignore" }));
  await sleep(500);
  const app = spawn("ip", ["netns", "exec", NS, ...mcsimArgs(build.mcSo, 3600)], { stdio: ["ignore", "pipe", "pipe"] });
  started.push(app);
  let out = "";
  app.stdout?.on("data", (b: Buffer) => (out += b.toString()));
  app.stderr?.on("data", (b: Buffer) => (out += b.toString()));
  const until = async (cond: () => boolean, ms: number, what: string): Promise<void> => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end || app.exitCode !== null) throw new Error(`${what}: not within ${ms} ms; mcsim said:\n${out.slice(-3000)}`);
      await sleep(100);
    }
  };
  await until(() => MCSIM_UP.test(out), 60_000, "the app's start-up line");
  /** the probe's sample two seconds from now (a collection and a sample after whatever ran before) */
  const sampleAfterNow = async (): Promise<HeapSample> => {
    const n = parseHeapLines(out).length;
    await until(() => parseHeapLines(out).length >= n + 2, 10_000, "the heap probe's lines");
    const lines = parseHeapLines(out);
    return lines[lines.length - 1];
  };
  const startup = await sampleAfterNow();
  const warmMs = await echo(opts.warmupBytes);
  const warm = await sampleAfterNow();
  const bulkMs = await echo(opts.bytes);
  const after = await sampleAfterNow();
  const samples = parseHeapLines(out);
  const instruments = parseInstruments(out);
  const stackBytes = instruments.length > 0 ? instruments[0]["Stack available"] : NaN;
  const slotBytes = stackBytes / XS_DEFAULT_STACK_SLOTS;
  const stackPeak = Math.max(...samples.map((s) => s.stack), ...instruments.map((r) => r["Stack used"] ?? 0));
  const row = (label: string, s: HeapSample): string =>
    `${label.padEnd(44)}${String(s.chunk).padStart(12)}${String(s.slot).padStart(12)}`;
  const delta = (a: number, b: number): string => `${b - a >= 0 ? "+" : ""}${b - a}`;
  log(`xsnet device app in Moddable's simulator (debug build, over ${opts.socket === "frames" ? "FrameSocket" : "Moddable's embedded:io/socket/udp"}), ` +
    "live XS heap after a full collection (bytes):");
  log(`${"".padEnd(44)}${"chunk heap".padStart(12)}${"slot heap".padStart(12)}`);
  log(row(`after start-up (t=${startup.t} s)`, startup));
  log(row(`after ${opts.warmupBytes / 1e6} MB echoed (warm-up, ${(warmMs / 1000).toFixed(1)} s)`, warm));
  log(row(`after ${opts.bytes / 1e6} MB more (${(opts.bytes / 1e6 / (bulkMs / 1000)).toFixed(2)} MB/s each way)`, after));
  log(`${"change over those MB".padEnd(44)}${delta(warm.chunk, after.chunk).padStart(12)}${delta(warm.slot, after.slot).padStart(12)}`);
  log(`${"change since start-up".padEnd(44)}${delta(startup.chunk, after.chunk).padStart(12)}${delta(startup.slot, after.slot).padStart(12)}`);
  log(`deepest XS stack of the run: ${stackPeak} bytes = ${Number.isFinite(slotBytes) ? `${Math.round(stackPeak / slotBytes)} slots of ${slotBytes} bytes` : "?"} ` +
    `of the ${XS_DEFAULT_STACK_SLOTS} XS gives when the manifest sets no creation.stack`);
  if (opts.docs) writeDocsSection("mcsim-heap", printedSection(commandLine("sudo npx tsx bench/mcsim-heap.ts"), runNote(), printed.lines));
} finally {
  cleanUp();
  rmSync(dir, { recursive: true, force: true });
}
