// The stack's platform on Node: performance.now() for the clock, setImmediate and
// setTimeout for "run me", node:crypto (or a seeded Prng, for replayable runs) for
// random bits. Node-only.
//
// requestRun is coalesced so a burst of interrupts costs one wake-up: at most one
// setImmediate is pending (for "as soon as possible"), and at most one setTimeout, for
// the earliest deadline asked for; an earlier deadline replaces a later timer. An extra
// run is harmless (Net.run asks again for whatever it still needs).

import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Net } from "../src/core/net";
import type { Platform } from "../src/core/platform";
import { Prng } from "./sim/prng";

/** random bytes fetched from the kernel at a time (one system call per 1024 draws) */
const RANDOM_BATCH_WORDS = 1024;
/** a link idle this long (ms) is quiet: the next interrupt runs the stack at once */
const QUIET_MS = 0.5;

export interface NodePlatformOptions {
  /** seed a Prng instead of using node:crypto (replayable ISNs, IP ids, ping ids) */
  seed?: number;
}

export class NodePlatform implements Platform {
  /** the stack to run; set after init() */
  net: Net | null = null;
  /** wake-ups that reached net.softnet.run() (diagnostics) */
  runs = 0;
  readonly #prng: Prng | null;
  readonly #random = new Uint32Array(RANDOM_BATCH_WORDS);
  #randomLeft = 0;
  #immediate: NodeJS.Immediate | null = null;
  #timer: NodeJS.Timeout | null = null;
  /** performance.now() at which #timer is due (Infinity: none) */
  #timerAt = Infinity;
  #closed = false;
  readonly #onImmediate: () => void;
  readonly #onMicrotask: () => void;
  #microtask = false;
  #inRun = false;
  #lastRunEnd = -Infinity;
  readonly #onTimer: () => void;

  constructor(options: NodePlatformOptions = {}) {
    this.#prng = options.seed === undefined ? null : new Prng(options.seed);
    this.#onImmediate = () => {
      this.#immediate = null;
      this.#run();
    };
    this.#onMicrotask = () => {
      this.#microtask = false;
      this.#run();
    };
    this.#onTimer = () => {
      this.#timer = null;
      // Node starts a timeout from the loop's cached clock, so it can fire a few ms before
      // performance.now() reaches the deadline. Net counts on a run at or after the
      // deadline it asked for (it does not ask twice), so wait out the rest.
      const early = this.#timerAt - performance.now();
      if (early > 0) {
        this.#timer = setTimeout(this.#onTimer, early);
        return;
      }
      this.#timerAt = Infinity;
      this.#run(true);
    };
  }

  now(): number {
    return performance.now();
  }

  requestRun(delayMs: number): void {
    if (this.#closed) return;
    if (!(delayMs > 0)) {
      if (this.#immediate !== null || this.#microtask) return;
      // An interrupt on a quiet link runs the stack at once (a microtask after this I/O
      // callback): a lone ping or request is not kept for the rest of the loop's turn. A
      // yield from a run, or a busy link, goes through setImmediate, so the frames of one
      // turn are taken in one NAPI batch and timers and I/O are never starved.
      if (!this.#inRun && performance.now() - this.#lastRunEnd > QUIET_MS) {
        this.#microtask = true;
        queueMicrotask(this.#onMicrotask);
        return;
      }
      this.#immediate = setImmediate(this.#onImmediate);
      return;
    }
    const at = performance.now() + delayMs;
    if (at >= this.#timerAt) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    // Node rounds timeouts below 1 ms up to 1 ms; Net.run asks again if it woke early.
    this.#timer = setTimeout(this.#onTimer, delayMs);
    this.#timerAt = at;
  }

  random32(): number {
    if (this.#prng !== null) return this.#prng.next32();
    if (this.#randomLeft === 0) {
      const bytes = randomBytes(RANDOM_BATCH_WORDS * 4);
      for (let i = 0; i < RANDOM_BATCH_WORDS; i++) this.#random[i] = bytes.readUInt32LE(i * 4);
      this.#randomLeft = RANDOM_BATCH_WORDS;
    }
    return this.#random[--this.#randomLeft];
  }

  /** Cancel pending wake-ups and refuse new ones (after net.shutdown), so the process can exit. */
  close(): void {
    this.#closed = true;
    if (this.#immediate !== null) clearImmediate(this.#immediate);
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#immediate = null;
    this.#timer = null;
    this.#timerAt = Infinity;
  }

  #run(woken = false): void {
    if (this.#closed || this.net === null) return;
    this.#inRun = true;
    try {
      this.#runNet(woken);
    } finally {
      this.#inRun = false;
      this.#lastRunEnd = performance.now();
    }
  }

  #runNet(woken: boolean): void {
    if (this.net === null) return;
    this.runs++;
    this.net.softnet.run(woken);
  }
}
