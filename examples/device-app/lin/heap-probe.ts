// The device app with a heap probe, for bench/mcsim-heap.ts (a debug build in Moddable's
// simulator; host-sim/mcsim.ts makes this module the app's main): the app starts, then once
// a second a full collection and one trace line of what XS holds after it, so the figures
// are the live heap, not garbage waiting for a collection:
//
//   heap: t=SECONDS chunk=BYTES slot=BYTES stack=SLOTS_BYTES gc=COLLECTIONS
//
// (XS's Instrumentation: chunk and slot heap in use, the stack's peak in bytes since the
// last sample, collections so far.) Not part of the app on a board.

import Debug from "debug";
import Instrumentation from "instrumentation";
import Timer from "timer";
import "main";

const CHUNK = Instrumentation.map("XS Chunk Heap Used");
const SLOT = Instrumentation.map("XS Slot Heap Used");
const STACK = Instrumentation.map("XS Stack Used");
const GC = Instrumentation.map("XS Garbage Collection Count");

function startProbe(): void {
  let seconds = 0;
  Timer.repeat(() => {
    seconds++;
    Debug.gc();
    trace(`heap: t=${seconds} chunk=${Instrumentation.get(CHUNK)} slot=${Instrumentation.get(SLOT)} stack=${Instrumentation.get(STACK)} gc=${Instrumentation.get(GC)}\n`);
  }, 1000);
}

startProbe();
