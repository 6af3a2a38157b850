// Runs Moddable's ECMA-419 socket test suite (tests/modules/io/socket/{tcp,listener,udp} of
// the Moddable SDK, read where they lie in ../shared/moddable, unchanged) on xsnet, in one
// engine, and prints one JSON line: { engine, builtins, results }.
//
//   node --experimental-vm-modules --import tsx test/moddable/run.ts v8 DIR
//       V8: each file a vm.SourceTextModule in this realm, its imports linked to synthetic
//       modules (the map testmc.ts builds), test262's harness.js run once as a script
//   node --import tsx test/moddable/run.ts xs DIR
//       XS (xsnap, the engine Moddable ships): the harness, the stack and the simulator
//       bundled by rollup (xs-entry.ts), each file a ModuleSource in its own Compartment
//
// DIR is the copy of the SDK files (../shared/moddable). The harness itself is testmc.ts.

import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import typescript from "@rollup/plugin-typescript";
import { rollup } from "rollup";
import { installDeviceBuiltins, runSuite, type LoadModule, type TestFile, type TestResult } from "./testmc";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const SUITE_DIRS = ["tcp", "listener", "udp"];

/** The suite's files, in a fixed order (directory, then name). */
export function suiteFiles(moddableDir: string): TestFile[] {
  const root = join(moddableDir, "tests/modules/io/socket");
  const files: TestFile[] = [];
  for (const dir of SUITE_DIRS) {
    for (const name of fs.readdirSync(join(root, dir)).filter((n) => n.endsWith(".js")).sort()) {
      const path = join(root, dir, name);
      files.push({ name: relative(root, path), source: fs.readFileSync(path, "utf8") });
    }
  }
  return files;
}

export interface EngineReport {
  engine: "v8" | "xs";
  /** what the harness had to provide that XS on a device has */
  builtins: string[];
  results: TestResult[];
}

/** V8: a test file is a source text module of this realm; its imports, synthetic modules. */
const v8Load: LoadModule = async (file, modules, globals) => {
  Object.assign(globalThis, globals);
  const module = new vm.SourceTextModule(file.source, { identifier: file.name });
  await module.link((specifier) => {
    const exports = modules[specifier];
    if (exports === undefined) throw new Error(`${file.name}: no module "${specifier}" in the import map`);
    const names = Object.keys(exports);
    return new vm.SyntheticModule(names, function (this: vm.SyntheticModule) {
      for (const name of names) this.setExport(name, exports[name]);
    }, { identifier: specifier });
  });
  await module.evaluate();
};

async function runV8(moddableDir: string): Promise<EngineReport> {
  const builtins = installDeviceBuiltins();
  vm.runInThisContext(fs.readFileSync(join(moddableDir, "tools/test262/harness.js"), "utf8"), { filename: "harness.js" });
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
  return { engine: "v8", builtins, results: await runSuite(suiteFiles(moddableDir), v8Load, turn) };
}

/** The XS bundle: the harness, src/, drivers/ and host-sim/sim as one script defining `xsnetModdable`. */
export async function buildModdableXsBundle(): Promise<string> {
  const bundle = await rollup({
    input: `${REPO}test/moddable/xs-entry.ts`,
    plugins: [
      typescript({
        tsconfig: `${REPO}test/moddable/tsconfig.xs.json`,
        noEmit: false,
        noEmitOnError: true,
        outDir: `${REPO}dist`,
        declaration: false,
      }),
    ],
    onwarn: (w) => {
      throw new Error(`rollup: ${w.message}`);
    },
  });
  const { output } = await bundle.generate({ format: "iife", name: "xsnetModdable" });
  await bundle.close();
  return output[0].code;
}

async function runXs(moddableDir: string): Promise<EngineReport> {
  const bundle = await buildModdableXsBundle();
  await import("@endo/init");
  const { xsnap } = await import("@agoric/xsnap");
  const tmp = await import("tmp");
  let reply: string | null = null;
  const worker = await xsnap({
    os: os.type(),
    spawn,
    fs: { ...fs, ...fs.promises, tmpName: tmp.tmpName },
    meteringLimit: 0,
    stderr: "inherit",
    stdout: "inherit",
    handleCommand: async (message: Uint8Array) => {
      reply = new TextDecoder().decode(message);
      return new Uint8Array(0);
    },
  });
  try {
    await worker.evaluate(bundle);
    const files = suiteFiles(moddableDir);
    const harness = fs.readFileSync(join(moddableDir, "tools/test262/harness.js"), "utf8");
    // The suite runs on xsnap's own turns (setImmediate): evaluate returns once it is done.
    await worker.evaluate(`xsnetModdable.runAll(${JSON.stringify(files)}, ${JSON.stringify(harness)});`);
  } finally {
    await worker.close();
  }
  if (reply === null) throw new Error("XS: the suite sent no report");
  const report = JSON.parse(reply) as { builtins: string[]; results?: TestResult[]; error?: string };
  if (report.results === undefined) throw new Error(`XS: the suite failed: ${report.error}`);
  return { engine: "xs", builtins: report.builtins, results: report.results };
}

async function main(): Promise<void> {
  const [engine, dir] = process.argv.slice(2);
  if ((engine !== "v8" && engine !== "xs") || dir === undefined) throw new Error("usage: run.ts v8|xs MODDABLE_DIR");
  const report = engine === "v8" ? await runV8(dir) : await runXs(dir);
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(`moddable run: ${(err as Error).stack ?? String(err)}`);
      process.exit(1);
    },
  );
}
