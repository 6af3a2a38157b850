// Virtual clock and discrete-event scheduler for the simulator. Time only moves when an
// event runs (or a run* call says so), so a scenario is a pure function of its seed.
//
// Events are ordered by (time, sequence number): two events at the same virtual time run in
// the order they were scheduled, on every engine. The queue is a binary min-heap stored in
// parallel typed arrays preallocated at construction (time, seq, arg) plus one handler
// array filled once; scheduling and running an event allocate nothing. An event is a
// (handler, number) pair rather than a closure, so callers keep their own records and pass
// an index.
//
// Node-free: this file also runs inside XS.

export interface SimEventHandler {
  onSimEvent(arg: number): void;
}

const NO_HANDLER: SimEventHandler = { onSimEvent() {} };

export class EventLoop {
  /** most events that can be pending at once */
  readonly capacity: number;
  /** events run since construction */
  eventsRun = 0;

  #now = 0;
  #seq = 0;
  #size = 0;
  // heap slot i: children 2i+1, 2i+2
  readonly #time: Float64Array;
  readonly #order: Float64Array; // sequence numbers; a double counts exactly to 2^53
  readonly #arg: Float64Array;
  readonly #handler: SimEventHandler[];

  constructor(capacity = 65536) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`EventLoop capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.#time = new Float64Array(capacity);
    this.#order = new Float64Array(capacity);
    this.#arg = new Float64Array(capacity);
    this.#handler = new Array<SimEventHandler>(capacity).fill(NO_HANDLER);
  }

  /** virtual time in milliseconds (may be fractional) */
  get now(): number {
    return this.#now;
  }

  /** events waiting to run */
  get pending(): number {
    return this.#size;
  }

  /** time of the earliest pending event, Infinity when none */
  get nextTime(): number {
    return this.#size > 0 ? this.#time[0] : Infinity;
  }

  /** Schedule handler.onSimEvent(arg) at a virtual time; a time in the past runs at now. */
  at(time: number, handler: SimEventHandler, arg: number): void {
    if (time !== time) throw new RangeError("EventLoop.at: time is NaN");
    if (time < this.#now) time = this.#now;
    const n = this.#size;
    if (n >= this.capacity) {
      throw new Error(`EventLoop: event queue full (capacity ${this.capacity} pending events); raise the EventLoop capacity or look for a runaway producer`);
    }
    const seq = this.#seq++;
    const times = this.#time;
    const order = this.#order;
    const args = this.#arg;
    const handlers = this.#handler;
    // sift up with a hole: move parents down until the new event's place is found
    let i = n;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = times[p];
      if (pt < time || (pt === time && order[p] < seq)) break;
      times[i] = pt;
      order[i] = order[p];
      args[i] = args[p];
      handlers[i] = handlers[p];
      i = p;
    }
    times[i] = time;
    order[i] = seq;
    args[i] = arg;
    handlers[i] = handler;
    this.#size = n + 1;
  }

  /** Schedule after a delay in milliseconds from now (a negative delay runs at now). */
  after(delayMs: number, handler: SimEventHandler, arg: number): void {
    this.at(this.#now + delayMs, handler, arg);
  }

  /** Run the earliest event, advancing now to its time. false when nothing is pending. */
  step(): boolean {
    const n = this.#size;
    if (n === 0) return false;
    const times = this.#time;
    const order = this.#order;
    const args = this.#arg;
    const handlers = this.#handler;
    const time = times[0];
    const arg = args[0];
    const handler = handlers[0];
    // take the last event out and sift it down from the root
    const last = n - 1;
    const lt = times[last];
    const lo = order[last];
    const la = args[last];
    const lh = handlers[last];
    handlers[last] = NO_HANDLER; // let go of the reference
    this.#size = last;
    if (last > 0) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= last) break;
        const r = c + 1;
        if (r < last && (times[r] < times[c] || (times[r] === times[c] && order[r] < order[c]))) c = r;
        const ct = times[c];
        if (lt < ct || (lt === ct && lo < order[c])) break;
        times[i] = ct;
        order[i] = order[c];
        args[i] = args[c];
        handlers[i] = handlers[c];
        i = c;
      }
      times[i] = lt;
      order[i] = lo;
      args[i] = la;
      handlers[i] = lh;
    }
    if (time > this.#now) this.#now = time;
    this.eventsRun++;
    handler.onSimEvent(arg);
    return true;
  }

  /**
   * Run every event with time <= `time` (including ones those events schedule), then set
   * now = time if that is later. Stops early after maxEvents events, leaving now at the
   * last event run (check nextTime). Returns the number of events run.
   */
  runUntil(time: number, maxEvents = Infinity): number {
    let run = 0;
    while (this.#size > 0 && this.#time[0] <= time) {
      if (run >= maxEvents) return run;
      this.step();
      run++;
    }
    if (time > this.#now) this.#now = time;
    return run;
  }

  /**
   * Run events while cond() holds, for at most limitMs of virtual time from now and at most
   * maxEvents events. When the queue runs dry (or the next event lies past the limit) with
   * cond() still true, now moves to the limit (if it is finite). Returns !cond() at the end: true when the
   * condition was met.
   */
  runWhile(cond: () => boolean, limitMs: number, maxEvents = Infinity): boolean {
    const deadline = this.#now + limitMs;
    let run = 0;
    while (cond()) {
      if (run >= maxEvents) return false;
      if (this.#size === 0 || this.#time[0] > deadline) {
        // a queue that ran dry cannot change cond(); time still passes up to the limit
        if (deadline > this.#now && deadline !== Infinity) this.#now = deadline;
        return !cond();
      }
      this.step();
      run++;
    }
    return true;
  }
}
