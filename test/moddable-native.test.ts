// The native helpers in Moddable's own runtime (issue 13): test/moddable-native, built by
// mcconfig for lin (manifest_core.json maps xsnet/src/wire/bulk to moddable/native/bulk.c)
// with TypeScript 7 as tsc, runs headless in mcsim and traces what it finds: the native
// checksum sums and copies against the JavaScript of src/wire/bulk.ts over seeded random
// buffers, views, offsets, lengths and running sums (odd ones included), the same RangeError
// from both for bytes outside a buffer and the native TypeErrors, then two echo scenarios
// over the native helpers, whose frames must hash as V8's do for the same seed.
// Needs Linux, the Moddable SDK 8.2.3 ($MODDABLE, or ../shared/moddable-sdk/setup.sh, which
// host-sim/moddable-sdk.ts runs as root if the SDK is not built yet) and xvfb-run; skipped
// with one line otherwise. One build (about 30 s on an idle machine) and one run.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, buildComplaints, mcconfigLin, moddableDir, moddableEnv, moddableSkipReason, runInMcsim } from "../host-sim/moddable-sdk";
import { runScenario } from "../host-sim/sim/scenarios";

const SKIP = moddableSkipReason(true);
if (SKIP !== null) console.log(`test/moddable-native.test.ts skipped: ${SKIP}`);

describe.skipIf(SKIP !== null)("the native helpers in Moddable's simulator (mcconfig -m -p lin, mcsim)", () => {
  const out = SKIP === null ? mkdtempSync(join(tmpdir(), "xsnet-native-")) : "";
  let trace = "";

  beforeAll(async () => {
    const moddable = moddableDir();
    const env = moddableEnv(moddable, out);
    delete env.XSNET_BULK;  // manifest_core.json's default: the native twin
    const { app, status, output } = mcconfigLin(join(REPO, "test/moddable-native"), join(out, "build"), env);
    expect(buildComplaints(output), "mcconfig's output").toEqual([]);
    expect(status, `mcconfig exited ${status}:\n${output.slice(-3000)}`).toBe(0);
    expect(output, "bulk.c compiled").toMatch(/^# cc bulk\.c\.o$/m);
    const run = await runInMcsim(moddable, app, env, /^(scenarios done|XS abort.*)$/m, 300_000);
    trace = `${run.trace}${run.stderr}`;
  }, 900_000);

  afterAll(() => {
    if (out !== "") rmSync(out, { recursive: true, force: true });
  });

  it("maps xsnet/src/wire/bulk to the native twin", () => {
    expect(trace, `mcsim's trace:\n${trace}`).toMatch(/^helpers: native \(moddable\/native\/bulk\.c\)$/m);
  });

  it("gives the JavaScript's results over seeded random buffers, views, offsets, lengths and sums", () => {
    for (const name of ["csumPartial", "csumPartialView", "copyBytes", "copyBytes within one array", "copyView"]) {
      expect(trace, `mcsim's trace:\n${trace}`).toMatch(new RegExp(`^check ${name}: 3000 cases, 0 mismatches$`, "m"));
    }
  });

  it("throws the JavaScript's RangeError for bytes outside a buffer, and names a wrong argument", () => {
    const errors = trace.split("\n").filter((l) => l.startsWith("check error ") || l.startsWith("check native "));
    expect(errors.length, `mcsim's trace:\n${trace}`).toBe(11);
    for (const line of errors) expect(line).toMatch(/: (same|as expected): (Range|Type)Error: /);
    expect(trace).toMatch(/^checks done: 0 failed$/m);
  });

  it("puts the same frames on the wire as V8 for the same seed (udp-echo, tcp-echo)", () => {
    expect(trace, `mcsim's trace:\n${trace}`).not.toMatch(/XS abort/);
    for (const name of ["udp-echo", "tcp-echo"]) {
      const v8 = runScenario(name, 1);
      expect(trace, `${name} seed=1 in mcsim against V8`).toContain(`scenario ${name}/1 ${v8.frameHash} ${v8.frames} poolsFull=true\n`);
    }
  });
});
