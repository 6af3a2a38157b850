// Moddable's "timer" module (Timer.set, repeat, schedule, clear) on the simulation's virtual
// clock, as the Moddable runtime provides it on a device's clock: a callback is called with
// its timer, a repeating timer fires every `repeat` ms after the first, a timer that fired
// and does not repeat is spent (clearing it then is harmless). Node-free: it runs in XS too.
// Test code: it allocates freely.

import type { EventLoop, SimEventHandler } from "../sim/event-loop";

type TimerCallback = (timer: ModdableTimerId) => void;

/**
 * What Timer.set returns: an id passed back to the callback and to clear/schedule. An
 * object apps may add properties to, as they do to Moddable's host object (MQTT's client
 * keeps its keepalive times on its timer).
 */
export type ModdableTimerId = Record<string, unknown>;

export interface ModdableTimer {
  set(callback: TimerCallback, delay?: number, repeat?: number): ModdableTimerId;
  repeat(callback: TimerCallback, interval: number): ModdableTimerId;
  schedule(id: ModdableTimerId, delay?: number, repeat?: number): void;
  clear(id: ModdableTimerId | undefined): void;
  delay(ms: number): void;
}

/** A clock timers run on: arm calls fire once after delayMs and returns a handle for disarm. */
export interface TimerClock {
  arm(delayMs: number, fire: () => void): unknown;
  disarm(handle: unknown): void;
}

interface TimerRecord {
  callback: TimerCallback;
  repeat: number;
  /** what clock.arm returned, or null while not armed */
  handle: unknown;
  id: ModdableTimerId;
}

/**
 * Moddable's Timer on any clock (the virtual loop here, Node's timers in the device runner):
 * `onError` is told of an exception thrown by a callback (the clock goes on); `delayRefusal`
 * is what Timer.delay, a blocking wait, throws.
 */
export function timerOn(clock: TimerClock, onError: (err: unknown) => void, delayRefusal: string): ModdableTimer {
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
    r.handle = clock.arm(delay > 0 ? delay : 0, () => fire(r));
  }

  function disarm(r: TimerRecord): void {
    if (r.handle !== null) clock.disarm(r.handle);
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
      throw new Error(delayRefusal);
    },
  };
  return Object.freeze(Timer);
}

/** Timers on the simulation's loop; `onError` is told of an exception thrown by a callback. */
export function makeTimer(loop: EventLoop, onError: (err: unknown) => void): ModdableTimer {
  /** events in flight: what each fires, or null once disarmed (the loop cannot cancel one) */
  const armed: ((() => void) | null)[] = [];
  const handler: SimEventHandler = {
    onSimEvent(arg: number): void {
      const fire = armed[arg];
      armed[arg] = null;
      if (fire !== null && fire !== undefined) fire();
    },
  };
  const clock: TimerClock = {
    arm(delayMs, fire) {
      const i = armed.length;
      armed.push(fire);
      loop.after(delayMs, handler, i);
      return i;
    },
    disarm(handle) {
      armed[handle as number] = null;
    },
  };
  return timerOn(clock, onError, "Timer.delay: blocking delays do not exist in virtual time");
}
