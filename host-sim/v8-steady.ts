// The steady state on V8, for `node --expose-gc --trace-gc`: warm up, then pump full-size
// pings between two markers; V8 prints a line per collection, so a collection between the
// markers is an allocation on the packet path (of the stack or of the simulator).
//
//   node --expose-gc --trace-gc --import tsx host-sim/v8-steady.ts 10000

import { SteadyPing } from "./sim/scenarios/steady";

const n = Number(process.argv[2] ?? 10_000);
const steady = new SteadyPing(9);
steady.pump(2000);
(globalThis as { gc?: () => void }).gc?.();
console.log("xsnet-steady-begin");
const frames = steady.pump(n);
console.log("xsnet-steady-end");
console.log(JSON.stringify({ pings: n, frames, corrupted: steady.ping.corrupted }));
steady.world.shutdown();
