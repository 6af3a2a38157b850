// Runs the stack inside the real XS engine (@agoric/xsnap builds Moddable's XS from source
// at install). The device-side code and the Node-free simulator are bundled by rollup
// into one script, evaluated in an xsnap worker; results come back through issueCommand.
// A separate process, because @endo/init locks down the JavaScript realm it runs in.
//
//   node --import tsx host-sim/xs-run.ts scenarios SEED...   reports of every scenario
//   node --import tsx host-sim/xs-run.ts steady N1 N2        heap count and compute, steady state
//   node --import tsx host-sim/xs-run.ts ram                 pool/table bytes and XS memory
//
// Prints one JSON object on stdout.

import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import typescript from "@rollup/plugin-typescript";
import { rollup } from "rollup";

const REPO = fileURLToPath(new URL("..", import.meta.url));

/** The XS bundle: src/, drivers/ and host-sim/sim/ as one script defining `xsnetSim`. */
export async function buildXsBundle(): Promise<string> {
  const bundle = await rollup({
    input: `${REPO}host-sim/sim/xs-entry.ts`,
    plugins: [
      typescript({
        tsconfig: `${REPO}tsconfig.device.json`,
        noEmit: false,
        noEmitOnError: true,
        outDir: `${REPO}dist`,
        declaration: false,
        include: [`${REPO}src/**/*.ts`, `${REPO}drivers/**/*.ts`, `${REPO}host-sim/sim/**/*.ts`],
      }),
    ],
    onwarn: (w) => {
      throw new Error(`rollup: ${w.message}`);
    },
  });
  const { output } = await bundle.generate({ format: "iife", name: "xsnetSim" });
  await bundle.close();
  return output[0].code;
}

interface Meter {
  compute: number;
  currentHeapCount: number;
  allocate: number;
}

interface XsWorker {
  evaluate(code: string): Promise<Meter>;
  /** send bytes to the worker's handleCommand; its reply and the meter */
  command(message: Uint8Array): Promise<{ reply: Uint8Array; meter: Meter }>;
  /** evaluate `expr` and return its value (JSON through issueCommand) */
  call<T>(expr: string): Promise<{ value: T; meter: Meter }>;
  close(): Promise<void>;
}

async function startWorker(bundle: string): Promise<XsWorker> {
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
    handleCommand: async (msg: Uint8Array) => {
      reply = new TextDecoder().decode(msg);
      return new Uint8Array(0);
    },
  });
  const meterOf = (m: { compute: number | null; currentHeapCount: number | null; allocate: number | null }): Meter =>
    ({ compute: m.compute ?? 0, currentHeapCount: m.currentHeapCount ?? 0, allocate: m.allocate ?? 0 });
  const evaluate = async (code: string): Promise<Meter> => meterOf((await worker.evaluate(code)).meterUsage);
  await evaluate(bundle);
  return {
    evaluate,
    async call<T>(expr: string) {
      reply = null;
      const meter = await evaluate(`issueCommand(new TextEncoder().encode(JSON.stringify(${expr})).buffer);`);
      if (reply === null) throw new Error(`XS: no result from ${expr}`);
      return { value: JSON.parse(reply) as T, meter };
    },
    async command(message: Uint8Array) {
      const r = await worker.issueCommand(message);
      return { reply: r.reply, meter: meterOf(r.meterUsage) };
    },
    close: () => worker.close(),
  };
}

async function main(): Promise<void> {
  const [job, ...args] = process.argv.slice(2);
  const bundle = await buildXsBundle();
  const out: Record<string, unknown> = { bundleBytes: Buffer.byteLength(bundle) };
  if (job === "scenarios") {
    const w = await startWorker(bundle);
    const names = (await w.call<string[]>("xsnetSim.scenarioNames()")).value;
    const reports = [];
    for (const seed of args.map(Number)) {
      for (const name of names) {
        const { value, meter } = await w.call<object>(`xsnetSim.runScenario(${JSON.stringify(name)}, ${seed})`);
        reports.push({ ...value, xsCompute: meter.compute });
      }
    }
    await w.close();
    out.reports = reports;
  } else if (job === "steady") {
    // Commands go to a handleCommand defined once in the worker: every `evaluate` compiles
    // a new script, which itself keeps one heap slot, and would hide what we measure.
    const [n1, n2] = args.map(Number);
    const w = await startWorker(bundle);
    await w.evaluate(`
      globalThis.steady = new xsnetSim.SteadyPing(9);
      globalThis.scratch = new Uint8Array(4608);
      globalThis.reply = new Uint32Array(1);
      globalThis.handleCommand = (message) => {
        const op = new Uint32Array(message);
        if (op[0] === 3) xsnetSim.SteadyPing.floor(op[1], scratch);
        else reply[0] = steady.pump(op[1]);
        if (op[0] === 1) gc();
        return reply.buffer;
      };
      steady.pump(500);
      gc();`);
    const command = async (op: number, n: number): Promise<{ meter: Meter; frames: number }> => {
      const r = await w.command(new Uint8Array(new Uint32Array([op, n]).buffer));
      return { meter: r.meter, frames: new Uint32Array(r.reply.buffer.slice(r.reply.byteOffset, r.reply.byteOffset + 4))[0] };
    };
    // With gc before each reading: live slots after n1 pings and after n2 more.
    const first = await command(1, n1);
    const second = await command(1, n2 - n1);
    // Without gc: what a call adds to the heap, with n1 pings and with n2 (garbage included).
    const base = (await command(1, 0)).meter.currentHeapCount;
    const withN1 = (await command(2, n1)).meter.currentHeapCount - base;
    const base2 = (await command(1, 0)).meter.currentHeapCount;
    const withN2 = (await command(2, n2)).meter.currentHeapCount - base2;
    // Compute: the pings metered alone, and the floor beside them.
    const metered = await command(2, n1);
    const floor = await command(3, n1);
    out.heapAfterFirst = first.meter.currentHeapCount;
    out.heapAfterSecond = second.meter.currentHeapCount;
    out.framesFirst = first.frames;
    out.framesSecond = second.frames;
    out.slotsAddedNoGc = [withN1, withN2];
    out.corrupted = (await w.call<number>("steady.ping.corrupted")).value;
    out.pings = n1;
    out.computePerPing = metered.meter.compute / n1;
    out.floorPerPing = floor.meter.compute / n1;
    await w.close();
  } else if (job === "tcp") {
    // Steady TCP (full segments a -> b through the socket API) metered alone, the heap count
    // around it (with gc), and the per-segment floor beside it.
    const loopback = args[0] === "lo";
    const readBuffers = args[1] === "buffer";
    const bytes = Number(args[2] ?? 2_000_000);
    const w = await startWorker(bundle);
    await w.evaluate(`
      globalThis.steadyTcp = new xsnetSim.SteadyTcp(9, ${loopback}, ${readBuffers});
      globalThis.scratch = new Uint8Array(4608);
      globalThis.reply = new Uint32Array(1);
      globalThis.handleCommand = (message) => {
        const op = new Uint32Array(message);
        if (op[0] === 3) xsnetSim.tcpSegmentFloor(op[1], scratch);
        else reply[0] = steadyTcp.pump(op[1]);
        if (op[0] === 1) gc();
        return reply.buffer;
      };
      steadyTcp.pump(500000);
      gc();`);
    const command = async (op: number, n: number): Promise<{ meter: Meter; value: number }> => {
      const r = await w.command(new Uint8Array(new Uint32Array([op, n]).buffer));
      return { meter: r.meter, value: new Uint32Array(r.reply.buffer.slice(r.reply.byteOffset, r.reply.byteOffset + 4))[0] };
    };
    const first = await command(1, bytes);
    const second = await command(1, bytes);
    const metered = await command(2, bytes);
    const floor = await command(3, metered.value);
    await w.close();
    out.tcp = {
      link: loopback ? "lo" : "lan",
      read: readBuffers ? "read(n)" : "read(view)",
      bytes,
      segments: metered.value,
      computePerSegment: metered.meter.compute / metered.value,
      floorPerSegment: floor.meter.compute / metered.value,
      heapAfterFirst: first.meter.currentHeapCount,
      heapAfterSecond: second.meter.currentHeapCount,
    };
  } else if (job === "ram") {
    const configs = ["default", "minimal"];
    const figures: Record<string, unknown> = {};
    for (const which of configs) {
      const w = await startWorker(bundle);
      const before = await w.evaluate("gc();");
      const { value } = await w.call<object>(`xsnetSim.ramFigures(${JSON.stringify(which)})`);
      const after = await w.evaluate("gc();");
      figures[which] = { ...value, xsHeapSlotsAdded: after.currentHeapCount - before.currentHeapCount, xsAllocateBytes: after.allocate };
      await w.close();
    }
    out.ram = figures;
  } else {
    throw new Error(`usage: xs-run.ts scenarios SEED... | steady N1 N2 | tcp lan|lo view|buffer [BYTES] | ram (got '${job ?? ""}')`);
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`xs-run: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
