// The cooperative loop (do_softirq) and its queues (softnet_data). An interrupt or a layer
// raises a pending bit; run() serves TIMER, NET_RX, TASKLET and NET_TX in that order, a
// bounded number of rounds, then yields to the host and asks to be run again if work
// remains, so neither the host's event loop nor an ESP32 watchdog starves.
//
// The actions are registered (open_softirq): the core's net_rx_action and net_tx_action
// from dev.ts, so this file knows the queues but not what serves them. Tasklets are what
// the protocols leave for the loop itself: TCP's output (Linux's TSQ tasklet) and the
// sockets' owners (the process a wake-up would run). They run from run()'s own frame, so
// the application's callbacks, and every send chain they start, begin near the bottom of a
// board's small XS stack rather than on top of the receive path.

import type { Platform } from "./platform";
import type { SkBuff } from "./skb";
import type { Napi, NetDevice } from "./netdevice";
import type { TimerWheel } from "./timer";

export const TIMER_SOFTIRQ = 1 << 0;
export const NET_RX_SOFTIRQ = 1 << 1;
export const NET_TX_SOFTIRQ = 1 << 2;
export const TASKLET_SOFTIRQ = 1 << 3;

/** tasklet_struct: work a protocol schedules for the loop (Softnet.schedule). */
export interface Tasklet {
  /** set by schedule(), cleared just before runTasklet() */
  scheduled: boolean;
  runTasklet(): void;
}

/** Tasklets a stack can register (one per protocol that has one). */
export const TASKLETS_MAX = 8;

export class SoftirqStats {
  runs = 0;
  rounds = 0;
  /** turns that ended with work left (the loop yielded and rescheduled itself) */
  yields = 0;
  /** NET_RX runs that used their whole budget (Linux time_squeeze) */
  timeSqueeze = 0;
}

/** A softirq action (net_rx_action, net_tx_action), given the stack it serves. */
export type SoftirqAction<N> = (net: N) => void;

export class Softnet<N = unknown> {
  readonly stats = new SoftirqStats();
  /** pending softirq bits */
  pending = 0;
  // NET_RX: devices to poll (softnet_data.poll_list)
  pollHead: Napi | null = null;
  pollTail: Napi | null = null;
  // NET_TX: transmitted skbs to free, devices whose qdisc must run
  completionHead: SkBuff | null = null;
  completionTail: SkBuff | null = null;
  txErrorHead: SkBuff | null = null;
  txErrorTail: SkBuff | null = null;
  txListHead: NetDevice | null = null;
  txListTail: NetDevice | null = null;
  /**
   * NET_RX: what a driver's poll received, processed once the poll returns (napi's
   * rx_list, flushed as gro_normal_list does), so that the protocols do not run on top of
   * the driver's frame; rxListOpen while a poll runs.
   */
  rxListHead: SkBuff | null = null;
  rxListTail: SkBuff | null = null;
  rxListOpen = false;
  /** true while a received skb is processed: upper layers may leave work for rxSkbDone */
  inRxSkb = false;

  readonly #platform: Platform;
  readonly #timers: TimerWheel;
  readonly #roundsMax: number;
  readonly #net: N;
  readonly #tasklets: Tasklet[] = [];
  #rxAction: SoftirqAction<N> | null = null;
  #txAction: SoftirqAction<N> | null = null;
  /** inside run(): what is raised or armed now is served before run() returns (set by run() only) */
  running = false;
  #soonRequested = false;
  /** the earliest future wake-up already asked of the host */
  #wakeAt = Infinity;
  #stopped = false;

  constructor(net: N, platform: Platform, timers: TimerWheel, roundsMax: number) {
    this.#net = net;
    this.#platform = platform;
    this.#timers = timers;
    this.#roundsMax = roundsMax;
  }

  /** open_softirq: the action for NET_RX_SOFTIRQ or NET_TX_SOFTIRQ. */
  open(bit: number, action: SoftirqAction<N>): void {
    if (bit === NET_RX_SOFTIRQ) this.#rxAction = action;
    else if (bit === NET_TX_SOFTIRQ) this.#txAction = action;
    else throw new RangeError(`open_softirq: no action slot for bit ${bit}`);
  }

  /** tasklet_init: t may be scheduled from now on; run in the order registered. */
  addTasklet(t: Tasklet): void {
    if (this.#tasklets.length >= TASKLETS_MAX) throw new RangeError(`tasklet table full (${TASKLETS_MAX})`);
    this.#tasklets.push(t);
  }

  /** tasklet_schedule: t runs once in the loop's next TASKLET step (this round's, inside run()). */
  schedule(t: Tasklet): void {
    if (t.scheduled || this.#stopped) return;
    t.scheduled = true;
    // raise(TASKLET_SOFTIRQ), without the call: this ends every socket write.
    this.pending |= TASKLET_SOFTIRQ;
    if (!this.running) this.requestRun(0);
  }

  raise(bit: number): void {
    this.pending |= bit;
    if (!this.running) this.requestRun(0);
  }

  /**
   * Ask the host for a run, once: one "soon" request until the next run, and one wake-up
   * per earlier deadline (a later one is already covered by the pending wake-up).
   */
  requestRun(delayMs: number): void {
    if (this.#stopped) return;
    if (delayMs <= 0) {
      if (this.#soonRequested) return;
      this.#soonRequested = true;
      this.#platform.requestRun(0);
      return;
    }
    const at = this.#platform.now() + delayMs;
    if (at >= this.#wakeAt) return;
    this.#wakeAt = at;
    this.#platform.requestRun(delayMs);
  }

  /**
   * One turn of the loop (do_softirq): TIMER, NET_RX, NET_TX, at most
   * config.softirqRoundsMax rounds; then ask the host to call again when work remains
   * or the next timer is due. The host calls this when the platform asks it to, with
   * `woken` true for a wake-up it asked for (after a delay): the stack then asks again for
   * its next deadline, which the host may have folded into the wake-up just done.
   */
  run(woken = false): void {
    if (this.running) return;
    this.running = true;
    this.#soonRequested = false;
    const platform = this.#platform;
    const timers = this.#timers;
    if (woken || platform.now() >= this.#wakeAt) this.#wakeAt = Infinity;
    const stats = this.stats;
    const tasklets = this.#tasklets;
    stats.runs++;
    if (timers.nextExpiry() <= platform.now()) this.pending |= TIMER_SOFTIRQ;
    let rounds = this.#roundsMax;
    while (this.pending !== 0 && rounds > 0 && !this.#stopped) {
      const p = this.pending;
      this.pending = 0;
      rounds--;
      stats.rounds++;
      if ((p & TIMER_SOFTIRQ) !== 0) timers.run(platform.now());
      if ((p & NET_RX_SOFTIRQ) !== 0 && this.#rxAction !== null) this.#rxAction(this.#net);
      // What this round's timers and receive scheduled runs in this round, before NET_TX.
      if (((p | this.pending) & TASKLET_SOFTIRQ) !== 0) {
        this.pending &= ~TASKLET_SOFTIRQ;
        for (let i = 0; i < tasklets.length; i++) {
          const t = tasklets[i];
          if (!t.scheduled) continue;
          t.scheduled = false;
          t.runTasklet();
        }
      }
      if ((p & NET_TX_SOFTIRQ) !== 0 && this.#txAction !== null) this.#txAction(this.#net);
      if (timers.nextExpiry() <= platform.now()) this.pending |= TIMER_SOFTIRQ;
    }
    this.running = false;
    if (this.pending !== 0) {
      stats.yields++;
      this.requestRun(0);
    } else {
      const next = timers.nextExpiry();
      if (next !== Infinity) this.requestRun(next - platform.now());
    }
  }

  /** True when no softirq is pending and nothing waits in a queue (for tests and shutdown). */
  get idle(): boolean {
    return this.pending === 0 && this.completionHead === null && this.txErrorHead === null;
  }

  /** When the loop next wants to run, in platform ms (Infinity: only on an event). */
  nextWakeup(): number {
    return this.pending !== 0 ? this.#platform.now() : this.#timers.nextExpiry();
  }

  /** Stopped for good (shutdown): no more wake-ups are asked of the host. */
  stop(): void {
    this.pending = 0;
    this.#stopped = true;
    // Stopped from inside a callback, run() ends its round without running a tasklet again.
    for (let i = 0; i < this.#tasklets.length; i++) this.#tasklets[i].scheduled = false;
  }
}
