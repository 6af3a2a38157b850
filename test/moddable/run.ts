// Runs Moddable's code on xsnet in one engine, read where it lies in the copy of the SDK files
// (DIR, ../shared/moddable), unchanged, and prints one JSON line: { engine, builtins, results }.
//   suite      Moddable's ECMA-419 socket test suite (tests/modules/io/socket/{tcp,listener,
//              udp}), each file as testmc runs it (testmc.ts)
//   examples   Moddable's HTTP client and server, MQTT client and SNTP client (examples/io),
//              driven through the scenarios of examples.ts
//
//   node --experimental-vm-modules --import tsx test/moddable/run.ts v8 suite|examples DIR
//       V8: each file a vm.SourceTextModule in this realm, its imports linked to synthetic
//       modules (the import map the harness builds), test262's harness.js run once as a script
//   node --import tsx test/moddable/run.ts xs suite|examples DIR
//       XS (xsnap, the engine Moddable ships): the harness, the stack and the simulator
//       bundled by rollup (xs-entry.ts), each file a ModuleSource in its own Compartment

import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import typescript from "@rollup/plugin-typescript";
import { rollup } from "rollup";
import { installDeviceBuiltins } from "../../host-sim/moddable/runtime";
import { EXAMPLE_MODULES, runExamples, type ExampleResult } from "./examples";
import { runSuite, type LoadModule, type TestFile, type TestResult } from "./testmc";

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

/** The example modules, named by their path below examples/io. */
export function exampleFiles(moddableDir: string): TestFile[] {
  return EXAMPLE_MODULES.map((name) => ({ name, source: fs.readFileSync(join(moddableDir, "examples/io", name), "utf8") }));
}

export type Job = "suite" | "examples";

export interface EngineReport<R = TestResult> {
  engine: "v8" | "xs";
  job: Job;
  /** what the harness had to provide that XS on a device has */
  builtins: string[];
  results: R[];
}

export type SuiteReport = EngineReport<TestResult>;
export type ExamplesReport = EngineReport<ExampleResult>;

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
  return module.namespace;
};

async function runV8(job: Job, moddableDir: string): Promise<EngineReport<TestResult | ExampleResult>> {
  const builtins = installDeviceBuiltins();
  vm.runInThisContext(fs.readFileSync(join(moddableDir, "tools/test262/harness.js"), "utf8"), { filename: "harness.js" });
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
  const results = job === "suite" ? await runSuite(suiteFiles(moddableDir), v8Load, turn) : await runExamples(exampleFiles(moddableDir), v8Load, turn);
  return { engine: "v8", job, builtins, results };
}

/** The XS bundle: the harness, src/, drivers/ and host-sim/sim as one script defining `xsnetModdable`. */
export async function buildModdableXsBundle(): Promise<string> {
  const bundle = await rollup({
    input: `${REPO}test/moddable/xs-entry.ts`,
    plugins: [
      typescript({
        tsconfig: `${REPO}test/moddable/tsconfig.xs.json`,
        rootDir: REPO,  // TypeScript 6 asks for it when sources span the repository (TS5011)
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

async function runXs(job: Job, moddableDir: string): Promise<EngineReport<TestResult | ExampleResult>> {
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
    const files = job === "suite" ? suiteFiles(moddableDir) : exampleFiles(moddableDir);
    const harness = fs.readFileSync(join(moddableDir, "tools/test262/harness.js"), "utf8");
    // It runs on xsnap's own turns (setImmediate): evaluate returns once it is done.
    await worker.evaluate(`xsnetModdable.runAll(${JSON.stringify(job)}, ${JSON.stringify(files)}, ${JSON.stringify(harness)});`);
  } finally {
    await worker.close();
  }
  if (reply === null) throw new Error("XS: the suite sent no report");
  const report = JSON.parse(reply) as { builtins: string[]; results?: (TestResult | ExampleResult)[]; error?: string };
  if (report.results === undefined) throw new Error(`XS: the ${job} failed: ${report.error}`);
  return { engine: "xs", job, builtins: report.builtins, results: report.results };
}

/**
 * The copy of the SDK files: XSNET_MODDABLE, else ../shared/moddable beside the repository
 * (a worktree one level deeper, as /work/wt/NAME, finds it at ../../shared); null when absent.
 */
export function moddableDir(): string | null {
  const env = process.env.XSNET_MODDABLE;
  if (env !== undefined && env !== "") return env;
  for (const up of ["..", "../.."]) {
    const dir = join(REPO, up, "shared/moddable");
    if (fs.existsSync(join(dir, "tests/modules/io/socket"))) return dir;
  }
  return null;
}

/** Run a job in a process of its own (V8's needs --experimental-vm-modules); its report. */
export function runEngine<R>(engine: "v8" | "xs", job: Job, dir: string): Promise<EngineReport<R>> {
  const flags = engine === "v8" ? ["--experimental-vm-modules"] : [];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...flags, "--import", "tsx", "test/moddable/run.ts", engine, job, dir], { cwd: REPO, timeout: 600_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`run.ts ${engine} ${job} failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(String(stdout).trim().split("\n").pop() as string) as EngineReport<R>);
    });
  });
}

async function main(): Promise<void> {
  const [engine, job, dir] = process.argv.slice(2);
  if ((engine !== "v8" && engine !== "xs") || (job !== "suite" && job !== "examples") || dir === undefined) throw new Error("usage: run.ts v8|xs suite|examples MODDABLE_DIR");
  const report = engine === "v8" ? await runV8(job, dir) : await runXs(job, dir);
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
