// The device app in Moddable's simulator, as a device on the TAP link (docs/DEVICE.md): the
// app built for lin with mcconfig (the SDK and TypeScript 7 as tsc from host-sim/moddable-sdk.ts)
// from a wrapper manifest that adds the heap probe when asked, and mcsim's command line (headless, under xvfb-run) for a process that stays up as a
// device. Node-only: test/linux/mcsim.test.ts, bench/versus.ts and bench/mcsim-heap.ts use it.

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildComplaints, moddableDir, moddableEnv, moddableSkipReason, REPO, xvfbRunArgs } from "./moddable-sdk";

// XS's stack when a manifest does not set creation.stack (mcmanifest.js: 384 slots). The
// device app runs in it: its deepest use while Linux's tools drive every service is within it
// (bench/mcsim-heap.ts prints the figure of a TCP echo run; test/linux/mcsim.test.ts runs
// every service in it), so the wrapper manifest sets no creation.stack of its own.
export const XS_DEFAULT_STACK_SLOTS = 384;

/** Why the app cannot be built and run in mcsim here (one line), or null. */
export function mcsimSkipReason(): string | null {
  const sdk = moddableSkipReason(true);
  if (sdk !== null) return sdk;
  if (!existsSync(join(REPO, "node_modules/typescript-native/bin/tsc"))) return "no node_modules/typescript-native (TypeScript 7, mcconfig's tsc)";
  return null;
}

export interface McsimBuildOptions {
  /** an existing folder: the build and its wrapper go in it */
  outDir: string;
  /** the app's name (its wrapper folder), default "xsnet-device" */
  name?: string;
  /** mcconfig -d: XS's debug build, which prints an `instruments:` line a second */
  debug?: boolean;
  /** mc/config on mcconfig's command line (link=udp:L:R, ip=A/P, ...): over the manifest's lin defaults */
  config?: Readonly<Record<string, string>>;
  /** creation.stack in XS slots (default: the manifest sets none, XS_DEFAULT_STACK_SLOTS) */
  stackSlots?: number;
  /** main is examples/device-app/lin/heap-probe.ts: the app, and a `heap:` line a second after a full GC (debug builds) */
  heapProbe?: boolean;
}

export interface McsimBuild {
  /** the app to run: mcsim MC_SO */
  mcSo: string;
  /** mcconfig's output */
  output: string;
  ms: number;
}

/**
 * Build the device app for lin (about a minute; half that when another build in the same
 * outDir made XS's objects already); rejects with mcconfig's output on an error or a complaint.
 * Two builds in one outDir must not run at once (they share XS's objects).
 */
export function buildDeviceApp(o: McsimBuildOptions): Promise<McsimBuild> {
  const env = moddableEnv(moddableDir(), o.outDir);
  const name = o.name ?? "xsnet-device";
  const wrapper = join(o.outDir, name);
  const out = join(o.outDir, "build");
  mkdirSync(wrapper, { recursive: true });
  mkdirSync(out, { recursive: true });
  const manifest: Record<string, unknown> = {
    include: [join(REPO, "examples/device-app/manifest.json")],
    creation: o.stackSlots === undefined ? {} : { stack: o.stackSlots },
  };
  if (o.heapProbe === true) {
    manifest.include = [
      ...(manifest.include as string[]),
      "$(MODDABLE)/modules/base/instrumentation/manifest.json",
      "$(MODDABLE)/modules/base/debug/manifest.json",
    ];
    manifest.modules = { "heap-probe": join(REPO, "examples/device-app/lin/heap-probe") };
    (manifest.creation as Record<string, unknown>).main = "heap-probe";
  }
  writeFileSync(join(wrapper, "manifest.json"), `${JSON.stringify(manifest, null, "\t")}\n`);
  const args = [...(o.debug === true ? ["-d"] : []), "-m", "-p", "lin", "-o", out,
    ...Object.entries(o.config ?? {}).map(([k, v]) => `${k}=${v}`)];
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn("mcconfig", args, {
      cwd: wrapper,
      stdio: ["ignore", "pipe", "pipe"],
      env,
    });
    let output = "";
    child.stdout.on("data", (b: Buffer) => (output += b.toString()));
    child.stderr.on("data", (b: Buffer) => (output += b.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const complaints = buildComplaints(output);
      if (code !== 0 || complaints.length > 0) {
        reject(new Error(`mcconfig ${args.join(" ")} in ${wrapper} exited ${code}${complaints.length > 0 ? `, with:\n${complaints.join("\n")}` : ""}\n${output.slice(-3000)}`));
        return;
      }
      const mcSo = join(out, "bin/lin/mc", o.debug === true ? "debug" : "release", name, "mc.so");
      if (!existsSync(mcSo)) reject(new Error(`mcconfig made no ${mcSo}:\n${output.slice(-3000)}`));
      else resolve({ mcSo, output, ms: Date.now() - t0 });
    });
  });
}

/**
 * mcsim running an app headless, its trace() on stdout line by line. Under `timeout`, which
 * passes a SIGTERM on to xvfb-run, Xvfb and mcsim (its process group), so ending the one pid
 * we started ends them all; and which ends them itself after `seconds`.
 */
export function mcsimArgs(mcSo: string, seconds = 3600): string[] {
  return ["timeout", "-s", "TERM", String(seconds), "xvfb-run", ...xvfbRunArgs(), "stdbuf", "-oL", "-eL", join(moddableDir(), "build/bin/lin/release/mcsim"), mcSo];
}

/** The line the app traces once its interface is up (examples/device-app/main.ts). */
export const MCSIM_UP = /xsnet device app: eth0 \S+ on udp:\d+:\d+/;

export interface HeapSample {
  /** seconds since the probe started */
  t: number;
  chunk: number;
  slot: number;
  stack: number;
  gc: number;
}

/** The heap probe's lines (`heap: t=… chunk=… slot=… stack=… gc=…`), in order. */
export function parseHeapLines(text: string): HeapSample[] {
  const out: HeapSample[] = [];
  for (const m of text.matchAll(/^heap: t=(\d+) chunk=(\d+) slot=(\d+) stack=(\d+) gc=(\d+)$/gm)) {
    out.push({ t: Number(m[1]), chunk: Number(m[2]), slot: Number(m[3]), stack: Number(m[4]), gc: Number(m[5]) });
  }
  return out;
}

/** XS's `instruments:` lines of a debug build, as named columns (the `instruments key:` line names them). */
export function parseInstruments(text: string): Record<string, number>[] {
  const key = /^instruments key: (.*)$/m.exec(text);
  if (key === null) return [];
  const names = key[1].split(",");
  const rows: Record<string, number>[] = [];
  for (const m of text.matchAll(/^instruments: ([\d,-]+)$/gm)) {
    const values = m[1].split(",").map(Number);
    const row: Record<string, number> = {};
    names.forEach((n, i) => (row[n] = values[i]));
    rows.push(row);
  }
  return rows;
}
