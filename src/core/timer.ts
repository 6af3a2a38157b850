// A timer wheel of preallocated timers (Linux timer_list on a wheel). Timers are created
// at start-up by the layers that own them (one per neighbour entry, reassembly slot, ...)
// and only armed and disarmed afterwards. A timer's callback and argument are set once.

export type TimerCallback = (arg: number) => void;

export class Timer {
  /** absolute expiry, in platform milliseconds */
  expires = 0;
  pending = false;
  readonly callback: TimerCallback;
  readonly arg: number;
  /** wheel slot list links */
  prev: Timer | null = null;
  next: Timer | null = null;
  /** link in the list of timers that fire in this run */
  fireNext: Timer | null = null;
  slot = -1;

  constructor(callback: TimerCallback, arg: number) {
    this.callback = callback;
    this.arg = arg;
  }
}

export class TimerWheel {
  readonly #slots: (Timer | null)[];
  readonly #mask: number;
  readonly #tickMs: number;
  readonly #capacity: number;
  #created = 0;
  #pendingCount = 0;
  /** last tick whose slot was processed */
  #lastTick = -1;
  /** cached earliest expiry; NaN when it must be recomputed */
  #earliest = Infinity;
  fired = 0;

  constructor(capacity: number, slots: number, tickMs: number) {
    this.#slots = new Array<Timer | null>(slots).fill(null);
    this.#mask = slots - 1;
    this.#tickMs = tickMs;
    this.#capacity = capacity;
  }

  get pendingCount(): number {
    return this.#pendingCount;
  }

  /** Make a timer (start-up only: the table has a fixed size set by config.timersMax). */
  create(callback: TimerCallback, arg = 0): Timer {
    if (this.#created >= this.#capacity) {
      throw new RangeError(`timer table full: config.timersMax (${this.#capacity}) is too small for this configuration`);
    }
    this.#created++;
    return new Timer(callback, arg);
  }

  /** mod_timer: arm (or re-arm) a timer to fire at `expires` (absolute ms). */
  mod(t: Timer, expires: number): void {
    if (t.pending) {
      this.#unlink(t);
      // It may have been the earliest: re-arming it later must not leave a stale minimum.
      if (t.expires <= this.#earliest) this.#earliest = NaN;
    }
    t.expires = expires;
    // The first tick at or after the expiry: once a slot's tick has come, all it holds for
    // this lap is due (a floor would strand a fractional expiry in a slot already passed).
    let tick = Math.ceil(expires / this.#tickMs);
    if (tick <= this.#lastTick) tick = this.#lastTick + 1;
    const slot = tick & this.#mask;
    t.slot = slot;
    t.prev = null;
    t.next = this.#slots[slot];
    if (t.next !== null) t.next.prev = t;
    this.#slots[slot] = t;
    t.pending = true;
    this.#pendingCount++;
    if (expires < this.#earliest) this.#earliest = expires;
  }

  /** del_timer: disarm; harmless when not armed. */
  del(t: Timer): void {
    if (t.pending) {
      this.#unlink(t);
      if (t.expires <= this.#earliest) this.#earliest = NaN;
    }
  }

  #unlink(t: Timer): void {
    if (t.prev !== null) t.prev.next = t.next;
    else this.#slots[t.slot] = t.next;
    if (t.next !== null) t.next.prev = t.prev;
    t.prev = t.next = null;
    t.pending = false;
    this.#pendingCount--;
  }

  /** The earliest expiry of any armed timer, Infinity when none. */
  nextExpiry(): number {
    if (this.#pendingCount === 0) return Infinity;
    if (this.#earliest === this.#earliest) return this.#earliest; // not NaN
    let min = Infinity;
    for (let i = 0; i <= this.#mask; i++) {
      for (let t = this.#slots[i]; t !== null; t = t.next) if (t.expires < min) min = t.expires;
    }
    this.#earliest = min;
    return min;
  }

  /** Fire every timer whose expiry is <= now. Returns how many fired. */
  run(now: number): number {
    const nowTick = Math.floor(now / this.#tickMs);
    if (nowTick <= this.#lastTick && this.nextExpiry() > now) return 0;
    // Visit each slot passed since the last run (all of them before the first run: timers
    // may be armed before it), at most once around the wheel; a timer further out stays in
    // its slot for a later lap. Slot nowTick + 1 holds timers due within this tick and
    // ones armed for the past, so it is always visited too.
    let first = this.#lastTick + 1;
    const last = nowTick + 1;
    if (last - first > this.#mask) first = last - this.#mask;
    let fire: Timer | null = null;
    let fireTail: Timer | null = null;
    for (let tick = first; tick <= last; tick++) {
      let t = this.#slots[tick & this.#mask];
      while (t !== null) {
        const next: Timer | null = t.next;
        if (t.expires <= now) {
          this.#unlink(t);
          t.fireNext = null;
          if (fireTail === null) fire = t;
          else fireTail.fireNext = t;
          fireTail = t;
        }
        t = next;
      }
    }
    if (nowTick > this.#lastTick) this.#lastTick = nowTick;
    this.#earliest = NaN;
    // Callbacks run after the scan, so one that re-arms its timer cannot loop here.
    let n = 0;
    while (fire !== null) {
      const t: Timer = fire;
      fire = t.fireNext;
      t.fireNext = null;
      n++;
      t.callback(t.arg);
    }
    this.fired += n;
    return n;
  }
}
