// What the Moddable runtime gives a module, on Node's real clock, for Moddable's code running
// on xsnet as a device on the UDP link (host-sim/moddable-device.ts): the "timer" module on
// Node's timers, and the loader that runs a module's source unchanged as an ES module whose
// imports are mapped as a Moddable manifest maps them (node:vm's SourceTextModule: node
// needs --experimental-vm-modules). "time" (on
// performance.now()), "text/decoder", the System global, the table resolver and the builtins
// XS has come from the simulation's runtime (host-sim/moddable/runtime.ts), which is Node-free
// and takes its clock as a function. Node-only.

import vm from "node:vm";
import type { ModdableTimer, ModdableTimerId } from "./moddable/timer";

type TimerCallback = (timer: ModdableTimerId) => void;

interface TimerRecord {
  callback: TimerCallback;
  repeat: number;
  handle: NodeJS.Timeout | null;
  id: ModdableTimerId;
}

/**
 * Moddable's Timer on Node's clock, as host-sim/moddable/timer.ts has it on the virtual one: a
 * callback is called with its timer, a repeating timer fires every `repeat` ms after the
 * first, a spent timer may be cleared harmlessly; `onError` is told of a callback's exception.
 */
export function nodeTimer(onError: (err: unknown) => void): ModdableTimer {
  const records = new Map<ModdableTimerId, TimerRecord>();

  function fire(r: TimerRecord): void {
    r.handle = null;
    if (r.repeat > 0) arm(r, r.repeat);
    else records.delete(r.id);
    try {
      r.callback.call(undefined, r.id);
    } catch (err) {
      onError(err);
    }
  }

  function arm(r: TimerRecord, delay: number): void {
    r.handle = setTimeout(fire, delay, r);
  }

  function disarm(r: TimerRecord): void {
    if (r.handle !== null) clearTimeout(r.handle);
    r.handle = null;
  }

  function toMs(value: unknown, what: string): number {
    const n = value === undefined ? 0 : Number(value);
    if (!(n >= 0)) throw new RangeError(`Timer: ${what} must be a number >= 0, got ${String(value)}`);
    return n;
  }

  const Timer: ModdableTimer = {
    set(callback, delay = 0, repeat?) {
      if (typeof callback !== "function") throw new TypeError("Timer.set: callback must be a function");
      const id: ModdableTimerId = {};
      const r: TimerRecord = { callback, repeat: repeat === undefined ? 0 : toMs(repeat, "repeat"), handle: null, id };
      records.set(id, r);
      arm(r, toMs(delay, "delay"));
      return id;
    },
    repeat(callback, interval) {
      const ms = toMs(interval, "interval");
      return Timer.set(callback, ms, ms > 0 ? ms : 1);
    },
    schedule(id, delay?, repeat?) {
      const r = records.get(id);
      if (r === undefined) throw new Error("Timer.schedule: no such timer (spent or cleared)");
      disarm(r);
      if (delay === undefined) return; // unscheduled, kept
      r.repeat = repeat === undefined ? 0 : toMs(repeat, "repeat");
      arm(r, toMs(delay, "delay"));
    },
    clear(id) {
      if (id === undefined) return;
      const r = records.get(id);
      if (r === undefined) return;
      disarm(r);
      records.delete(id);
    },
    delay() {
      throw new Error("Timer.delay: a blocking delay would stop the stack's loop");
    },
  };
  return Object.freeze(Timer);
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
