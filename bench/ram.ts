// RAM the stack fixes at init, table by table (lwIP prints its memp pools the same way):
// ramBudget (src/config.ts) for the default, the minimal and the device configuration
// (host-sim/device.ts DEVICE_CONFIG), then checked against the engines: the typed-array
// bytes Node sees init allocate, and the heap slots XS (xsnap) adds, against the estimate.
// bench/xs.ts's pool, control-block, neighbour and route figures are exact parts of these
// rows (its DMA ring bytes are the driver's, not the stack's). Printed, never asserted.
//
//   npm run bench:ram        (or: npx tsx bench/ram.ts [--no-xs] [--docs])
//
// --docs writes the tables into docs/BENCHMARKS.md (section ram).

import { execFileSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { DEFAULT_CONFIG, MINIMAL_CONFIG, makeConfig, ramBudget, XS_SLOT_BYTES, type NetConfig } from "../src/config";
import { registerNetdev } from "../src/core/link";
import type { NetDeviceOps } from "../src/core/netdevice";
import { init } from "../src/stack";
import { DEVICE_CONFIG } from "../host-sim/device";
import { Printed, commandLine, docsRequested, printedSection, runNote, writeDocsSection } from "./docs";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);

export const BENCH_CONFIGS: Readonly<Record<string, Partial<NetConfig>>> = Object.freeze({
  default: DEFAULT_CONFIG,
  minimal: MINIMAL_CONFIG,
  device: DEVICE_CONFIG,
});

const TYPED_ARRAYS = ["Uint8Array", "Int8Array", "Uint16Array", "Int16Array", "Uint32Array", "Int32Array", "Float32Array", "Float64Array", "Uint8ClampedArray"];

/** A driver that does nothing: devices to register, as an application would after init. */
export const NULL_OPS: NetDeviceOps = Object.freeze({
  open() {},
  stop() {},
  startXmit: () => 0,
  poll: () => 0,
  setRxMode() {},
});

/**
 * Bytes of typed arrays and ArrayBuffers made by init(config) and by registering the other
 * config.devicesMax - 1 devices: the typed-array constructors are wrapped meanwhile to count
 * each new buffer (views on an existing buffer count nothing). Includes what init makes and
 * drops (the loopback's all-zero MAC argument, 6 bytes).
 */
export function typedArrayBytesAtInit(overrides: Partial<NetConfig>): number {
  const config = makeConfig(overrides);
  const platform = { now: () => 0, requestRun: () => {}, random32: () => 0x12345678 };
  const macs: Uint8Array[] = [];
  for (let i = 1; i < config.devicesMax; i++) macs.push(new Uint8Array([2, 0, 0, 0, 0, i]));
  const { bytes, made: net } = typedArrayBytesMadeBy(() => {
    const n = init(config, platform);
    for (let i = 0; i < macs.length; i++) registerNetdev(n, `eth${i + 1}`, NULL_OPS, macs[i]);
    return n;
  });
  net.shutdown();
  return bytes;
}

/**
 * Bytes of the typed arrays and ArrayBuffers `make` allocates: the constructors are wrapped
 * meanwhile to count each new buffer (views on an existing buffer count nothing). Objects
 * made before still pass instanceof checks. bench/lan.ts counts each LAN service with it.
 */
export function typedArrayBytesMadeBy<T>(make: () => T): { bytes: number; made: T } {
  const g = globalThis as unknown as Record<string, unknown>;
  const names = [...TYPED_ARRAYS, "ArrayBuffer"];
  const saved = names.map((name) => g[name]);
  let bytes = 0;
  try {
    for (const name of TYPED_ARRAYS) {
      const Base = g[name] as new (...args: unknown[]) => ArrayBufferView;
      g[name] = class extends Base {
        static override [Symbol.hasInstance](x: unknown): boolean {
          return x instanceof Base;
        }
        constructor(...args: unknown[]) {
          super(...args);
          if (typeof args[0] === "number") bytes += this.byteLength;
        }
      };
    }
    g.ArrayBuffer = class extends ArrayBuffer {
      static override [Symbol.hasInstance](x: unknown): boolean {
        return x instanceof (saved[saved.length - 1] as typeof ArrayBuffer);
      }
      constructor(length: number) {
        super(length);
        bytes += length;
      }
    };
    const made = make();
    return { bytes, made };
  } finally {
    names.forEach((name, i) => (g[name] = saved[i]));
  }
}

// ------------------------------------------------------------ XS (a child process: @endo/init locks its realm down)

const XS_ENTRY = "\0xsnet-ram-entry";

function xsEntrySource(): string {
  return `
import { init } from ${JSON.stringify(`${REPO}src/stack.ts`)};
import { registerNetdev } from ${JSON.stringify(`${REPO}src/core/link.ts`)};
import { makeConfig } from ${JSON.stringify(`${REPO}src/config.ts`)};
export function prepare(overrides) {
  const config = makeConfig(overrides);
  const macs = [];
  const names = [];
  for (let i = 1; i < config.devicesMax; i++) {
    macs.push(new Uint8Array([2, 0, 0, 0, 0, i]));
    names.push("eth" + i);
  }
  const platform = { now: () => 0, requestRun: () => {}, random32: () => 0x12345678 };
  const ops = { open() {}, stop() {}, startXmit: () => 0, poll: () => 0, setRxMode() {} };
  return { config, platform, ops, macs, names };
}
export function build(p) {
  const net = init(p.config, p.platform);
  for (let i = 0; i < p.macs.length; i++) registerNetdev(net, p.names[i], p.ops, p.macs[i]);
  return net;
}
`;
}

/** In the child: heap slots XS adds for init and the other devices, per configuration. */
async function xsChild(): Promise<void> {
  const { spawn } = await import("node:child_process");
  const fs = await import("node:fs");
  const os = await import("node:os");
  const typescript = (await import("@rollup/plugin-typescript")).default;
  const { rollup } = await import("rollup");
  const bundle = await rollup({
    input: XS_ENTRY,
    plugins: [
      { name: "xsnet-ram-entry", resolveId: (id: string) => (id === XS_ENTRY ? XS_ENTRY : null), load: (id: string) => (id === XS_ENTRY ? xsEntrySource() : null) },
      typescript({
        tsconfig: `${REPO}tsconfig.device.json`, noEmit: false, noEmitOnError: true, outDir: `${REPO}dist`, declaration: false,
        include: [`${REPO}src/**/*.ts`, `${REPO}drivers/**/*.ts`],
      }),
    ],
  });
  const code = (await bundle.generate({ format: "iife", name: "xsRam" })).output[0].code;
  await bundle.close();
  await import("@endo/init");
  const { xsnap } = await import("@agoric/xsnap");
  const tmp = await import("tmp");
  const out: Record<string, number> = {};
  // A worker per configuration, so that nothing of the one before is still in the heap.
  for (const [name, config] of Object.entries(BENCH_CONFIGS)) {
    const worker = await xsnap({
      os: os.type(), spawn, fs: { ...fs, ...fs.promises, tmpName: tmp.tmpName }, meteringLimit: 0, stderr: "inherit", stdout: "inherit",
      handleCommand: async () => new Uint8Array(0),
    });
    const heap = async (script: string): Promise<number> => (await worker.evaluate(script)).meterUsage.currentHeapCount ?? 0;
    await worker.evaluate(code);
    await heap(`globalThis.prepared = xsRam.prepare(${JSON.stringify(config)}); globalThis.kept = null; gc();`);
    // Every script keeps a slot or so of its own: measured on one that allocates nothing else.
    const a = await heap("globalThis.kept = 1; gc();");
    const b = await heap("globalThis.kept = 2; gc();");
    const c = await heap("globalThis.kept = xsRam.build(prepared); gc();");
    out[name] = c - b - (b - a);
    await worker.close();
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

// ------------------------------------------------------------ the report

function kb(bytes: number): string {
  return bytes.toLocaleString("en-US");
}

function report(withXs: boolean, printed: Printed): void {
  const log = printed.log;
  const names = Object.keys(BENCH_CONFIGS);
  const budgets = names.map((name) => ramBudget(BENCH_CONFIGS[name]));
  log("RAM fixed at init, bytes on a 32-bit XS device: typed arrays exact, JS objects estimated (16-byte slots)");
  log(`  ${"".padEnd(34)}${names.map((n) => n.padStart(12)).join("")}`);
  budgets[0].rows.forEach((row, i) => {
    log(`  ${row.name.padEnd(34)}${budgets.map((b) => kb(b.rows[i].bytes).padStart(12)).join("")}`);
  });
  log(`  ${"total".padEnd(34)}${budgets.map((b) => kb(b.total).padStart(12)).join("")}`);
  log(`  ${"  of which typed arrays (exact)".padEnd(34)}${budgets.map((b) => kb(b.typedArrayBytes).padStart(12)).join("")}`);
  for (let k = 0; k < names.length; k++) {
    log("");
    log(`${names[k]}:`);
    for (const row of budgets[k].rows) log(`  ${row.name.padEnd(34)} ${kb(row.bytes).padStart(9)}  ${row.note}`);
  }
  log("");
  log("checked against the engines (init, then the other devicesMax - 1 devices registered)");
  log(`  ${"".padEnd(34)}${names.map((n) => n.padStart(12)).join("")}`);
  const measured = names.map((name) => typedArrayBytesAtInit(BENCH_CONFIGS[name]));
  log(`  ${"typed-array bytes, Node".padEnd(34)}${measured.map((m) => kb(m).padStart(12)).join("")}`);
  log(`  ${"  ramBudget (+ 6: lo's MAC argument)".padEnd(34)}${budgets.map((b) => kb(b.typedArrayBytes + 6).padStart(12)).join("")}`);
  if (!withXs) return;
  let slots: Record<string, number>;
  try {
    const out = execFileSync(process.execPath, ["--import", "tsx", THIS_FILE, "--xs-child"], { cwd: REPO, maxBuffer: 16 << 20 });
    slots = JSON.parse(String(out).trim().split("\n").pop() as string) as Record<string, number>;
  } catch (e) {
    log(`  XS heap slots: not measured (${(e as Error).message.split("\n")[0]})`);
    return;
  }
  log(`  ${"XS heap slots, xsnap".padEnd(34)}${names.map((n) => kb(slots[n]).padStart(12)).join("")}`);
  log(`  ${"  ramBudget's estimate".padEnd(34)}${budgets.map((b) => kb(b.xsSlots).padStart(12)).join("")}`);
  log(`  (a slot is ${XS_SLOT_BYTES} bytes on a 32-bit MCU; array items and typed-array bytes live in chunks, counted above)`);
  log("  bench/xs.ts's RAM table counts the pool, control blocks, neighbour and routing typed arrays: exact parts of the rows above;");
  log("  its heap slots added by init hold a DMA ring and no device but loopback.");
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes("--xs-child")) await xsChild();
  else {
    const out = new Printed();
    report(!process.argv.includes("--no-xs"), out);
    if (docsRequested()) {
      writeDocsSection("ram", printedSection(commandLine("npx tsx bench/ram.ts"),
        `${runNote()} (computed and counted, not timed: the same on any machine for the same code)`, out.lines));
    }
  }
}
