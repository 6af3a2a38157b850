// The Moddable SDK for the tests and benches that build with Moddable's own tools: where it
// is ($MODDABLE, or what ../shared/moddable-sdk/setup.sh builds), why it cannot be used
// here, a PATH with TypeScript 7 as mcconfig's tsc, an app build, and an app run in Moddable's
// simulator (mcsim, headless under xvfb-run) until its trace says it is done. Node-only.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPO = resolve(import.meta.dirname, "..");
/** ../shared beside the repository (a worktree one level deeper, as /work/wt/NAME, finds ../../shared) */
export const SETUP = [resolve(REPO, "../shared/moddable-sdk/setup.sh"), resolve(REPO, "../../shared/moddable-sdk/setup.sh")].find((p) => existsSync(p)) ?? resolve(REPO, "../shared/moddable-sdk/setup.sh");
const DEFAULT_DIR = "/tmp/moddable-sdk-8.2.3";

const built = (dir: string): boolean => existsSync(join(dir, "build/bin/lin/release/mcconfig"));

/** Why the SDK cannot be used here, or null. `needsSim`: mcsim's headless run (xvfb-run) too. */
export function moddableSkipReason(needsSim = false): string | null {
  if (process.platform !== "linux") return "not Linux (Moddable's Linux tools)";
  const env = process.env.MODDABLE;
  if (env !== undefined && env !== "") {
    if (!built(env)) return `$MODDABLE=${env} has no built tools (build/bin/lin/release/mcconfig)`;
  } else {
    if (!existsSync(SETUP)) return `no Moddable SDK: $MODDABLE is unset and ${SETUP} is absent`;
    if (!built(DEFAULT_DIR) && process.getuid?.() !== 0) return `the Moddable SDK is not built and setup.sh needs root for its Debian packages (run ${SETUP} as root)`;
  }
  if (needsSim && spawnSync("sh", ["-c", "command -v xvfb-run"]).status !== 0 && built(process.env.MODDABLE || DEFAULT_DIR)) return "no xvfb-run (Debian's xvfb) for mcsim's headless run";
  return null;
}

/** The SDK's folder, building it with setup.sh if needed (minutes, once). */
export function moddableDir(): string {
  const env = process.env.MODDABLE;
  if (env !== undefined && env !== "") return env;
  if (built(DEFAULT_DIR)) return DEFAULT_DIR;
  return execFileSync("bash", [SETUP], { encoding: "utf8" }).trim().split("\n").pop()!;
}

/** The environment Moddable's tools run in: MODDABLE, and a PATH whose tsc is TypeScript 7 (in `scratch`/bin). */
export function moddableEnv(moddable: string, scratch: string): NodeJS.ProcessEnv {
  const bin = join(scratch, "bin");
  if (!existsSync(join(bin, "tsc"))) {
    mkdirSync(bin, { recursive: true });
    symlinkSync(join(REPO, "node_modules/typescript-native/bin/tsc"), join(bin, "tsc"));
  }
  return { ...process.env, MODDABLE: moddable, PATH: `${bin}:${join(moddable, "build/bin/lin/release")}:${process.env.PATH}` };
}

/**
 * xvfb-run's options: a free X display (-a), searched from a number of this process's own,
 * so that test files starting mcsim at the same moment do not race for the same display.
 */
export function xvfbRunArgs(): string[] {
  return ["-a", "-n", String(100 + (process.pid % 800))];
}

/** Lines of a build's output that fail it: tsc errors, xsl's preload warnings and errors. */
export function buildComplaints(out: string): string[] {
  return out.split("\n").filter((l) => / error TS\d+:|typescript compile failure|^### (warning|error)|: no const$|: not frozen$|^### Error/.test(l));
}

export interface BuildResult {
  status: number | null;
  output: string;
  /** the app for mcsim (lin builds) */
  app: string;
}

/** `mcconfig -m -p lin [flags] -o out [config...]` in appDir; -i: instrumented release (folder instrument), -d: debug. */
export function mcconfigLin(appDir: string, out: string, env: NodeJS.ProcessEnv, flags: string[] = [], config: string[] = []): BuildResult {
  mkdirSync(out, { recursive: true });
  const r = spawnSync("nice", ["-n", "10", "mcconfig", ...flags, "-m", "-p", "lin", "-o", out, ...config], { cwd: appDir, env, encoding: "utf8", maxBuffer: 64 << 20 });
  const kind = flags.includes("-d") ? "debug" : flags.includes("-i") ? "instrument" : "release";
  const name = appDir.split("/").filter((p) => p !== "").pop()!;
  return { status: r.status, output: `${r.stdout}\n${r.stderr}`, app: join(out, "bin/lin/mc", kind, name, "mc.so") };
}

/**
 * Runs `app` in mcsim under xvfb-run until a trace line matches `done` or `timeoutMs` passes,
 * then ends it (mcsim never exits by itself). Resolves with stdout and whether `done` was seen.
 */
export function runInMcsim(moddable: string, app: string, env: NodeJS.ProcessEnv, done: RegExp, timeoutMs: number): Promise<{ trace: string; finished: boolean; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn("xvfb-run", [...xvfbRunArgs(), "stdbuf", "-oL", "-eL", join(moddable, "build/bin/lin/release/mcsim"), app], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let trace = "";
    let stderr = "";
    let finished = false;
    const stop = (): void => {
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(stop, timeoutMs);
    child.stdout.on("data", (d: Buffer) => {
      trace += d.toString();
      if (!finished && done.test(trace)) {
        finished = true;
        stop();
      }
      // An abort opens mcsim's alert dialog and waits there: end it now rather than at the timeout.
      else if (/^XS abort/m.test(trace)) stop();
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", () => {
      clearTimeout(timer);
      resolvePromise({ trace, finished, stderr });
    });
  });
}
