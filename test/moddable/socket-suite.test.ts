// Moddable's own ECMA-419 socket tests (the SDK's tests/modules/io/socket: 21 TCP, 10
// Listener, 10 UDP), unchanged, on xsnet: the device is an xsnet stack on a simulated LAN in
// virtual time, another xsnet host plays www.example.com (HTTP on 80) and pool.ntp.org (SNTP
// on 123). Each file runs on V8 and inside XS (run.ts, one process per engine); it passes only
// when it passes on both. One line per file says how it went.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { suiteFiles, type EngineReport } from "./run";

const REPO = fileURLToPath(new URL("../..", import.meta.url));

/**
 * The copy of the SDK files: XSNET_MODDABLE, else ../shared/moddable beside the repository
 * (a worktree one level deeper, as /work/wt/NAME, finds it at ../../shared).
 */
function moddableDir(): string | null {
  const env = process.env.XSNET_MODDABLE;
  if (env !== undefined && env !== "") return env;
  for (const up of ["..", "../.."]) {
    const dir = join(REPO, up, "shared/moddable");
    if (existsSync(join(dir, "tests/modules/io/socket"))) return dir;
  }
  return null;
}

function runEngine(engine: "v8" | "xs", dir: string): Promise<EngineReport> {
  const flags = engine === "v8" ? ["--experimental-vm-modules"] : [];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...flags, "--import", "tsx", "test/moddable/run.ts", engine, dir], { cwd: REPO, timeout: 600_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`run.ts ${engine} failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(String(stdout).trim().split("\n").pop() as string) as EngineReport);
    });
  });
}

const DIR = moddableDir();

describe.skipIf(DIR === null)("Moddable's socket tests on xsnet (V8 and XS)", () => {
  const files = DIR === null ? [] : suiteFiles(DIR).map((f) => f.name);
  let v8: EngineReport;
  let xs: EngineReport;

  beforeAll(async () => {
    [v8, xs] = await Promise.all([runEngine("v8", DIR as string), runEngine("xs", DIR as string)]);
  }, 600_000);

  it("finds the 41 files, and each engine ran every one of them", () => {
    expect(files).toHaveLength(41);
    expect(v8.results.map((r) => r.name)).toEqual(files);
    expect(xs.results.map((r) => r.name)).toEqual(files);
    // What the harness provides that XS on a device has (Node 20's V8 lacks Promise.withResolvers too).
    expect(xs.builtins).toEqual(["Promise.withResolvers", "ArrayBuffer.fromString", "String.fromArrayBuffer"]);
  });

  it.each(files)("%s", (name) => {
    const a = v8.results.find((r) => r.name === name);
    const b = xs.results.find((r) => r.name === name);
    const line = (r: typeof a) => (r === undefined ? "not run" : r.pass ? `pass (${r.virtualMs.toFixed(1)} ms, ${r.events} events)` : `FAIL: ${r.message}`);
    console.log(`${name.padEnd(36)} v8 ${line(a)}  xs ${line(b)}`);
    for (const r of [a, b]) if (r !== undefined && !r.pass && r.trace !== "") console.log(`  trace: ${r.trace}`);
    expect([a?.pass, b?.pass], `${name}: v8 ${line(a)}; xs ${line(b)}`).toEqual([true, true]);
  });
});

if (DIR === null) {
  describe("Moddable's socket tests on xsnet", () => {
    it.skip("skipped: ../shared/moddable (the Moddable SDK files) is not on this machine", () => {});
  });
}
