// What the Moddable runtime gives a module, on Node's real clock, for Moddable's code running
// on xsnet as a device on the UDP link (host-sim/moddable-device.ts): the "timer" module on
// Node's timers, and the loader that runs a module's source unchanged as an ES module whose
// imports are mapped as a Moddable manifest maps them (node:vm's SourceTextModule: node
// needs --experimental-vm-modules). "time" (on
// performance.now()), "text/decoder", the System global, the table resolver and the builtins
// XS has come from the simulation's runtime (host-sim/moddable/runtime.ts), which is Node-free
// and takes its clock as a function. Node-only.

import vm from "node:vm";
import { timerOn, type ModdableTimer, type TimerClock } from "./moddable/timer";

/**
 * Moddable's Timer on Node's clock, as host-sim/moddable/timer.ts has it on the virtual one;
 * `onError` is told of a callback's exception.
 */
export function nodeTimer(onError: (err: unknown) => void): ModdableTimer {
  const clock: TimerClock = {
    arm: (delayMs, fire) => setTimeout(fire, delayMs),
    disarm: (handle) => clearTimeout(handle as NodeJS.Timeout),
  };
  return timerOn(clock, onError, "Timer.delay: a blocking delay would stop the stack's loop");
}

/** A module's exports by name. */
export type ModuleExports = Readonly<Record<string, unknown>>;

/**
 * Run `source` as an ES module (named `name`) in this realm after putting `globals` on
 * globalThis; its imports are linked to `modules` (specifier -> exports) and nothing else.
 * Resolves to its namespace once it has evaluated.
 */
export async function loadModule(name: string, source: string, modules: Readonly<Record<string, ModuleExports>>, globals: ModuleExports): Promise<Record<string, unknown>> {
  if (typeof vm.SourceTextModule !== "function") throw new Error("node:vm has no SourceTextModule: run node with --experimental-vm-modules");
  Object.assign(globalThis, globals);
  const module = new vm.SourceTextModule(source, { identifier: name });
  await module.link((specifier) => {
    const exports = modules[specifier];
    if (exports === undefined) throw new Error(`${name}: no module "${specifier}" in the import map`);
    const names = Object.keys(exports);
    return new vm.SyntheticModule(names, function (this: vm.SyntheticModule) {
      for (const n of names) this.setExport(n, exports[n]);
    }, { identifier: specifier });
  });
  await module.evaluate();
  return module.namespace as Record<string, unknown>;
}
