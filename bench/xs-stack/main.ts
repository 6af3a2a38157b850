// bench/xs-stack: each path of host-sim/sim/stack-paths.ts run from a Timer callback in
// Moddable's runtime, one per turn, with XS's stack peak read (stack-probe.c).
//
// A board enters xsnet from a Timer callback (the loop's wake-up) and nowhere else; the
// simulation enters it from its event loop, each event's handler (a host's loop run, a
// simulated MAC's DMA and interrupt) called under the frames of the event loop and of the
// path's own driver. So each handler call is measured alone: the peak during it less the
// slots in use when it began, plus the slots in use in a Timer callback here (what a board's
// callback already holds). The simulated MAC's and LAN's own work is not counted (a board's
// hardware does it). Traces per path:
//   stack NAME SLOTS DONE COUNTS        SLOTS: the deepest event, as a board would use
//   frames NAME DEPTH base=B;F@N;...    the frames at the deepest transmit inside an entry (F begins
//                                       N slots down; the entry began B down)
// then `stack entry N` and `stack done SIZE`.
import config from "mc/config";
import Timer from "timer";
import { depth, frames, peak, reset, restore, size } from "stack-probe";
import { SimDmaMac } from "xsnet/host-sim/sim/dma-mac-hw";
import { stackPaths } from "xsnet/host-sim/sim/stack-paths";
import { SimPlatform } from "xsnet/host-sim/sim/world";
import { SimGpio, SimSpi } from "xsnet/host-sim/sim/spi-bus";

const paths = stackPaths();
const names = Object.keys(paths);
// `mcconfig ... paths=ping-every-size,http-service` measures only those
const only = typeof config.paths === "string" && config.paths !== "" ? config.paths.split(",") : undefined;
const state = { deepestEvent: 0, txDepth: 0, txFrames: "", entryBase: -1 };

/** Each call of an entry from the simulation into a host measured alone (see above). */
function measureEntry<K extends string>(proto: Record<K, (...args: never[]) => void>, name: K): void {
  const method = proto[name] as (...args: unknown[]) => void;
  proto[name] = function (this: unknown, ...args: unknown[]): void {
    const base = depth();
    const outer = state.entryBase;
    state.entryBase = base;
    reset();
    method.apply(this, args);
    const used = peak() - base;
    state.entryBase = outer;
    if (used > state.deepestEvent) state.deepestEvent = used;
  } as Record<K, (...args: never[]) => void>[K];
}
measureEntry(SimPlatform.prototype, "onSimEvent"); // a host's loop run
measureEntry(SimDmaMac.prototype, "onSimEvent"); // DMA done: the driver's interrupt
measureEntry(SimDmaMac.prototype, "onFrame"); // a frame from the LAN: the driver's interrupt
measureEntry(SimGpio.prototype, "onSimEvent"); // an SPI chip's interrupt pin: the driver's onReadable

// On a board the SPI class is native: a call's own frame counts (this wrapper's stands in for
// it), the chip model behind it is the chip's work and does not.
for (const name of ["read", "write", "transfer", "flush"] as const) {
  const method = SimSpi.prototype[name] as (this: SimSpi, ...args: unknown[]) => void;
  (SimSpi.prototype as unknown as Record<string, unknown>)[name] = function (this: SimSpi, ...args: unknown[]): void {
    const before = peak();
    const at = depth();
    method.apply(this, args);
    restore(before > at ? before : at);
  };
}

// The frames at the deepest transmit (the end of every send chain): where the slots go. The
// simulated MAC's own work (DMA, the LAN, its frame hash) is a board's hardware: not counted.
const txKick = SimDmaMac.prototype.txKick;
SimDmaMac.prototype.txKick = function (this: SimDmaMac): void {
  // slots below the entry (a board's Timer callback begins there): only inside a measured entry
  const d = state.entryBase < 0 ? -1 : depth() - state.entryBase;
  if (d > state.txDepth) {
    state.txDepth = d;
    state.txFrames = `base=${state.entryBase};${frames()}`;
  }
  const before = peak();
  txKick.call(this);
  restore(before);
};

// With `bench/xs-stack.ts --where`, every function of xsnet's src/ begins with a call of this
// probe (in a scratch copy the bench builds): the frames at the deepest probe show where the
// slots go on each path. A probe's own call adds its frame there, so those peaks read high.
(globalThis as unknown as { xsnetStackMark: () => void }).xsnetStackMark = (): void => {
  const d = state.entryBase < 0 ? -1 : depth() - state.entryBase;
  if (d > state.txDepth) {
    state.txDepth = d;
    state.txFrames = `base=${state.entryBase};${frames()}`;
  }
};

function measure(index: number): void {
  Timer.set(() => {
    const entry = depth();
    const name = names[index];
    if (only === undefined || only.includes(name)) {
      state.deepestEvent = 0;
      state.txDepth = 0;
      const report = paths[name](7);
      trace(`stack ${name} ${state.deepestEvent + entry} ${report.done} ${JSON.stringify(report.counts)}\n`);
      trace(`frames ${name} ${state.txDepth} ${state.txFrames}\n`);
    }
    if (index + 1 < names.length) measure(index + 1);
    else trace(`stack entry ${entry}\nstack done ${size()}\n`);
  }, 1);
}

trace(`stack start ${size()}\n`);
measure(0);
