// Built by Moddable's own tools (issue 13): every board app in examples/ built for `lin` with
// `mcconfig -m -p lin`, and the JavaScript half of an `esp32` build (mcconfig's makefile up to
// and including xsl's preload, mc.xs.c), with the project's TypeScript 7 (the typescript-native
// dev dependency, several times faster than 6 at mcconfig's per-module checks) as `tsc` on PATH. Fails on any tsc error and on any xsl warning (`no const`: module-level mutable state;
// `not frozen`: a table reachable from a preloaded module). Then ping runs in Moddable's
// simulator (mcsim, headless under xvfb-run) and its replies over lo are checked in the trace.
// The esp32 C half (ESP-IDF, link, flash) is not run: these machines have no ESP-IDF.
// Needs Linux and a Moddable SDK 8.2.3: $MODDABLE, or ../shared/moddable-sdk/setup.sh (run here
// as root if the SDK is not built yet; it reuses a built folder); skipped with one line otherwise.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { xvfbRunArgs } from "../host-sim/moddable-sdk";

const REPO = resolve(import.meta.dirname, "..");
// ../shared beside the repository (a worktree one level deeper, as /work/wt/NAME, finds ../../shared)
const SETUP = [resolve(REPO, "../shared/moddable-sdk/setup.sh"), resolve(REPO, "../../shared/moddable-sdk/setup.sh")].find((p) => existsSync(p)) ?? resolve(REPO, "../shared/moddable-sdk/setup.sh");
const DEFAULT_DIR = "/tmp/moddable-sdk-8.2.3";
const EXAMPLES = readdirSync(join(REPO, "examples")).filter((d) => existsSync(join(REPO, "examples", d, "manifest.json"))).sort();

const built = (dir: string) => existsSync(join(dir, "build/bin/lin/release/mcconfig"));

function skipReason(): string | null {
  if (process.platform !== "linux") return "not Linux (the test builds with Moddable's Linux tools)";
  const env = process.env.MODDABLE;
  if (env !== undefined && env !== "") return built(env) ? null : `$MODDABLE=${env} has no built tools (build/bin/lin/release/mcconfig)`;
  if (!existsSync(SETUP)) return `no Moddable SDK: $MODDABLE is unset and ${SETUP} is absent`;
  if (!built(DEFAULT_DIR) && process.getuid?.() !== 0) return `the Moddable SDK is not built and setup.sh needs root for its Debian packages (run ${SETUP} as root)`;
  return null;
}

const SKIP = skipReason();
if (SKIP !== null) console.log(`test/moddable-build.test.ts skipped: ${SKIP}`);

/** Lines of a build's output that fail it: tsc errors, xsl's preload warnings and errors. */
function complaints(out: string): string[] {
  return out.split("\n").filter((l) => / error TS\d+:|typescript compile failure|^### (warning|error)|: no const$|: not frozen$|^### Error/.test(l));
}

describe.skipIf(SKIP !== null)("Moddable's tools build every example (lin, esp32's JavaScript half) with no tsc error and no xsl warning", () => {
  let moddable = "";
  let env: NodeJS.ProcessEnv = {};
  const out = SKIP === null ? mkdtempSync(join(tmpdir(), "xsnet-mcconfig-")) : "";

  beforeAll(() => {
    const fromEnv = process.env.MODDABLE;
    moddable = fromEnv !== undefined && fromEnv !== "" ? fromEnv : execFileSync("bash", [SETUP], { encoding: "utf8" }).trim().split("\n").pop()!;
    const bin = join(out, "bin");
    mkdirSync(bin);
    symlinkSync(join(REPO, "node_modules/typescript-native/bin/tsc"), join(bin, "tsc"));
    env = { ...process.env, MODDABLE: moddable, PATH: `${bin}:${join(moddable, "build/bin/lin/release")}:${process.env.PATH}` };
  }, 900_000);

  afterAll(() => {
    if (out !== "") rmSync(out, { recursive: true, force: true });
  });

  function run(cmd: string, args: string[], cwd: string): string {
    // niced: the builds take minutes of both cores, beside the suite's timed XS tests
    const r = spawnSync("nice", ["-n", "10", cmd, ...args], { cwd, env, encoding: "utf8", maxBuffer: 64 << 20 });
    const text = `${r.stdout}\n${r.stderr}`;
    expect(complaints(text), `${cmd} ${args.join(" ")} in ${cwd}`).toEqual([]);
    expect(r.status, `${cmd} ${args.join(" ")} in ${cwd} exited ${r.status}:\n${text.slice(-3000)}`).toBe(0);
    return text;
  }

  it.each(EXAMPLES)("examples/%s for lin (mcconfig -m -p lin)", (name) => {
    const o = join(out, "lin", name);
    mkdirSync(o, { recursive: true });
    run("mcconfig", ["-m", "-p", "lin", "-o", o], join(REPO, "examples", name));
    expect(existsSync(join(o, "bin/lin/mc/release", name, "mc.so"))).toBe(true);
  }, 900_000);

  it.each(EXAMPLES)("examples/%s for esp32, JavaScript half (tsc, xsc, xsl preload; no ESP-IDF here for the C half)", (name) => {
    const o = join(out, "esp32", name);
    mkdirSync(o, { recursive: true });
    // The generated makefile asks IDF_PATH only for `git describe`: a stand-in repository.
    const idf = join(out, `idf-${name}`);
    mkdirSync(idf);
    const git = (...a: string[]) => execFileSync("git", ["-C", idf, "-c", "user.email=build@localhost", "-c", "user.name=build", ...a]);
    git("init", "-q");
    git("commit", "-q", "--allow-empty", "-m", "stand-in");
    git("tag", "v5.5.1");
    env.IDF_PATH = idf;
    run("mcconfig", ["-p", "esp32", "-o", o], join(REPO, "examples", name));
    const t = join(o, "tmp/esp32/release", name);
    mkdirSync(join(t, "xsProj-esp32/build/config"), { recursive: true });
    writeFileSync(join(t, "xsProj-esp32/build/config/sdkconfig.h"), "");
    const text = run("make", ["-f", "makefile", join(t, "mc.xs.c")], t);
    expect(text).toMatch(/### \d+ instances/);  // xsl ran its preload
    expect(existsSync(join(t, "mc.xs.c"))).toBe(true);
  }, 900_000);

  it("examples/ping in mcsim (headless): 10 echo replies from 127.0.0.1 over lo", () => {
    // The app as built above, with XS's default 384 stack slots (it needed 512 before the
    // receive path left its sends and its owners' callbacks to the end of each skb).
    const o = join(out, "lin", "ping");
    const app = join(o, "bin/lin/mc/release/ping/mc.so");
    // mcsim never exits by itself: timeout ends it (status 124) after the summary is traced.
    const r = spawnSync("timeout", ["15", "xvfb-run", ...xvfbRunArgs(), "stdbuf", "-oL", "-eL", join(moddable, "build/bin/lin/release/mcsim"), app], { env, encoding: "utf8" });
    const trace = r.stdout;
    expect(trace, `mcsim's trace:\n${trace}\n${r.stderr}`).toMatch(/pinging 127\.0\.0\.1 over lo/);
    for (let seq = 0; seq < 10; seq++) expect(trace).toMatch(new RegExp(`^64 bytes from 127\\.0\\.0\\.1: icmp_seq=${seq} time=\\d+ ms$`, "m"));
    expect(trace).toMatch(/^10 transmitted, 10 received, 0% loss/m);
    expect(trace).not.toMatch(/XS abort/);
  }, 900_000);
});
