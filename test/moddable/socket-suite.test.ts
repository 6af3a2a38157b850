// Moddable's own ECMA-419 socket tests (the SDK's tests/modules/io/socket: 21 TCP, 10
// Listener, 10 UDP), unchanged, on xsnet: the device is an xsnet stack on a simulated LAN in
// virtual time, another xsnet host plays www.example.com (HTTP on 80) and pool.ntp.org (SNTP
// on 123). Each file runs on V8 and inside XS (run.ts, one process per engine); it passes only
// when it passes on both. One line per file says how it went.
import { beforeAll, describe, expect, it } from "vitest";
import type { TestResult } from "./testmc";
import { moddableDir, runEngine, suiteFiles, type SuiteReport } from "./run";

const DIR = moddableDir();

describe.skipIf(DIR === null)("Moddable's socket tests on xsnet (V8 and XS)", () => {
  const files = DIR === null ? [] : suiteFiles(DIR).map((f) => f.name);
  let v8: SuiteReport;
  let xs: SuiteReport;

  beforeAll(async () => {
    [v8, xs] = await Promise.all([runEngine<TestResult>("v8", "suite", DIR as string), runEngine<TestResult>("xs", "suite", DIR as string)]);
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
