// What the stack needs from the world, injected so that src/ reads no clock and no random
// source of its own: on Moddable, Time.ticks and Timer; on Node, performance.now() and
// setImmediate/setTimeout; in tests, a virtual clock the test advances.

export interface Platform {
  /** monotonic milliseconds (may be fractional) */
  now(): number;
  /**
   * Ask the host to call `net.softnet.run()` after `delayMs` (0: as soon as possible, after the
   * current event), not before; for a delayed request, `net.softnet.run(true)`. The stack asks
   * once per deadline, so a host must keep every request until it is due (coalescing
   * requests for the same or a later time into one wake-up is fine: run(true) makes the
   * stack ask again); an extra call to run() is harmless.
   */
  requestRun(delayMs: number): void;
  /** 32 random bits (uint32), from a seeded source in tests */
  random32(): number;
}
