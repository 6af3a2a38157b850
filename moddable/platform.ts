// The stack's platform on Moddable: Time.ticks for the clock, Timer for "run me", XS's
// random source for random32. Imports only Moddable modules and types from src/.
//
// requestRun keeps at most one wake-up for "as soon as possible" and one for the earliest
// future deadline; a later deadline is covered by the run at the earlier one, after which
// Net asks again. A wake-up is never early: if a timer fires before its deadline (a long
// wait done in steps, or a clock that disagrees with the timer's), it waits out the rest.
//
// The Timer objects are made once and re-armed with Timer.schedule, so a wake-up allocates
// nothing. Each role has two timers, and a timer is never re-armed from its own callback:
// a simulator timer (modules/base/timer/lin/timer.c) re-armed that way with a first
// interval unlike its repeat keeps firing; re-arming the other one is safe on every port.

import Time from "time";
import Timer from "timer";
import type { Net } from "../src/core/net";
import type { Platform } from "../src/core/platform";

/**
 * The longest single Timer wait. Timer intervals are int32 milliseconds; waiting at most
 * an hour at a time also reads the clock often enough to unwrap Time.ticks (below).
 */
const WAIT_STEP_MAX_MS = 3_600_000;

// Timer indices: two for "soon", two for the earliest deadline.
const SOON_A = 0;
const AT_A = 2;

export interface ModdablePlatformOptions {
  /**
   * 32 random bits (uint32) from a source the board trusts: where a board plugs its
   * hardware RNG (for example a native binding of esp_fill_random with the entropy source
   * enabled). TCP initial sequence numbers (RFC 6528) will need an unpredictable source.
   */
  random32?: () => number;
}

export class ModdablePlatform implements Platform {
  /** the stack to run; set after init() */
  net: Net | null = null;
  /** wake-ups that reached net.softnet.run() (diagnostics) */
  runs = 0;

  readonly #timers: Timer[] = [];
  /** the soon timer in use (SOON_A or SOON_A + 1) and whether it is armed */
  #soon = SOON_A;
  #soonArmed = false;
  /** the deadline timer in use (AT_A or AT_A + 1), whether armed, and its deadline */
  #at = AT_A;
  #atArmed = false;
  #atDue = Infinity;
  /** the timer whose callback is running (-1: none) */
  #firing = -1;
  #closed = false;

  /** last raw Time.ticks, and the monotonic clock built from it */
  #lastTicks: number;
  #nowMs = 0;

  readonly #random: (() => number) | null;
  #randomState: number;
  #randomCount = 0;

  constructor(options: ModdablePlatformOptions = {}) {
    this.#random = options.random32 ?? null;
    this.#lastTicks = Time.ticks;
    this.#randomState = fmix32(this.#lastTicks >>> 0);
    for (let i = 0; i < 4; i++) {
      const t = Timer.repeat(() => this.#fire(i), WAIT_STEP_MAX_MS);
      Timer.schedule(t); // made idle; armed on request
      this.#timers.push(t);
    }
  }

  /**
   * Monotonic milliseconds since the platform was made. Time.ticks is an int32 that wraps
   * on a device (about 24.8 days) and wall-clock time in the simulator, so the clock
   * advances by the int32 difference between readings and never steps back. A gap of 24.8
   * days or more between two readings (the stack idle, no timer pending) is not counted
   * in full; while a deadline is pending the clock is read at least hourly.
   */
  now(): number {
    const raw = Time.ticks;
    const d = (raw - this.#lastTicks) | 0;
    this.#lastTicks = raw;
    if (d > 0) this.#nowMs += d;
    return this.#nowMs;
  }

  requestRun(delayMs: number): void {
    if (this.#closed) return;
    if (!(delayMs > 0)) {
      if (this.#soonArmed) return;
      this.#soonArmed = true;
      this.#soon = this.#arm(this.#soon, 0);
      return;
    }
    const due = this.now() + delayMs;
    if (this.#atArmed && due >= this.#atDue) return;
    this.#atArmed = true;
    this.#atDue = due;
    this.#at = this.#arm(this.#at, delayMs);
  }

  /**
   * On ESP32, XS's Math.random is esp_random(), the hardware RNG: 31 bits a call, truly
   * random while Wi-Fi or Bluetooth is on or the bootloader entropy source is re-enabled,
   * pseudo-random otherwise (an Ethernet-only board: ESP-IDF "Random Number Generation").
   * In the simulator and on ports without a hardware source it is libc rand(), which XS
   * never seeds: the same sequence on every start. So the draws are hashed (murmur3's
   * finaliser) into a running state together with Time.ticks and a counter: that costs
   * nothing where the source is good, and elsewhere makes runs differ, but it does not make
   * the values unguessable. Good enough for ping ids and IP ids; a board that needs
   * unpredictable numbers passes options.random32.
   */
  random32(): number {
    if (this.#random !== null) return this.#random() >>> 0;
    const a = Math.round(Math.random() * 0x7fffffff);
    const b = Math.round(Math.random() * 0x7fffffff);
    const mixed = this.#randomState ^ a ^ (b << 16) ^ Time.ticks ^ Math.imul(++this.#randomCount, 0x9e3779b9);
    this.#randomState = fmix32(mixed >>> 0);
    return this.#randomState;
  }

  /** Cancel pending wake-ups and refuse new ones (after net.shutdown). */
  close(): void {
    this.#closed = true;
    this.#soonArmed = this.#atArmed = false;
    this.#atDue = Infinity;
    for (const t of this.#timers) Timer.clear(t);
    this.#timers.length = 0;
  }

  /** Arm timer i (or its pair, if i is the one firing now) for delayMs; returns the one armed. */
  #arm(i: number, delayMs: number): number {
    if (i === this.#firing) i ^= 1;
    let ms = Math.ceil(delayMs);
    if (ms > WAIT_STEP_MAX_MS) ms = WAIT_STEP_MAX_MS;
    // A repeat of 0 would make a one-shot that Moddable frees after it fires; the callback
    // disarms it instead.
    Timer.schedule(this.#timers[i], ms, ms > 0 ? ms : WAIT_STEP_MAX_MS);
    return i;
  }

  #fire(i: number): void {
    if (this.#closed) return;
    Timer.schedule(this.#timers[i]); // disarm: every wake-up is asked for
    if (i < AT_A) {
      if (!this.#soonArmed || i !== this.#soon) return;
      this.#soonArmed = false;
    } else {
      if (!this.#atArmed || i !== this.#at) return;
      const rest = this.#atDue - this.now();
      if (rest > 0) {
        this.#firing = i;
        this.#at = this.#arm(i, rest);
        this.#firing = -1;
        return;
      }
      this.#atArmed = false;
      this.#atDue = Infinity;
    }
    if (this.net === null) return;
    this.runs++;
    this.#firing = i;
    try {
      this.net.softnet.run(i >= AT_A);
    } finally {
      this.#firing = -1;
    }
  }
}

/** murmur3's 32-bit finaliser: a bijection that spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
