// What every scenario reports, and what several of them check with: the report (frame
// hash, pings, drops summed over the hosts, pools full again after shutdown), the
// connections a stack still holds, and a pattern stream a writer sends and its reader checks.

import type { Pinger } from "../../../src/apps/ping";
import type { Net } from "../../../src/core/net";
import { TCP_CLOSED, TCP_LISTEN } from "../../../src/tcp/tcb";
import type { SimWorld } from "../world";

export interface ScenarioReport {
  name: string;
  seed: number;
  /** FNV-1a over (time, port, length, bytes) of every frame on every LAN, in order */
  frameHash: string;
  frames: number;
  pingsSent: number;
  pingsAnswered: number;
  corrupted: number;
  /** drops by reason over all hosts */
  drops: Record<string, number>;
  /** every host's pool full again after shutdown */
  poolsFull: boolean;
  virtualMs: number;
  /** scenario-specific counts (datagrams sent and echoed, ...) */
  extra: Record<string, number>;
}

/** The report of a scenario run in `world`; closes the pingers and shuts every host down. */
export function report(name: string, world: SimWorld, pings: Pinger[], extra: Record<string, number> = {}): ScenarioReport {
  const drops: Record<string, number> = {};
  for (const h of world.hosts) {
    const snap = h.net.drops.snapshot();
    for (const k of Object.keys(snap)) drops[k] = (drops[k] ?? 0) + snap[k];
  }
  const virtualMs = world.now;
  for (const p of pings) p.close();
  world.shutdown();
  let poolsFull = true;
  for (const h of world.hosts) if (h.net.pool.inUse !== 0 || h.net.pool.recordsInUse !== 0) poolsFull = false;
  let sent = 0;
  let answered = 0;
  let corrupted = 0;
  for (const p of pings) {
    sent += p.sent;
    answered += p.received;
    corrupted += p.corrupted;
  }
  return {
    name,
    seed: world.seed,
    frameHash: (world.frameHash >>> 0).toString(16).padStart(8, "0"),
    frames: world.framesOnWire,
    pingsSent: sent,
    pingsAnswered: answered,
    corrupted,
    drops,
    poolsFull,
    virtualMs,
    extra,
  };
}

/** Connections of a stack that are neither closed nor listening. */
export function connections(net: Net): number {
  const t = net.tcp.tcb;
  let n = 0;
  for (let c = 0; c < t.size; c++) if (t.state[c] !== TCP_CLOSED && t.state[c] !== TCP_LISTEN) n++;
  return n;
}

/**
 * A byte stream that is a function of its seed only (xorshift32, four bytes a step): what
 * a writer sends, and what its reader checks each byte against.
 */
export class PatternStream {
  #s: number;
  #word = 0;
  #left = 0;
  /** bytes of the last check() that differed from the stream */
  mismatches = 0;
  /** where the first of them was, from the check's offset; -1 for none */
  firstMismatch = -1;

  constructor(seed: number) {
    this.#s = Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) >>> 0 || 1;
  }

  /**
   * The next len bytes of the stream into buf[off..off+len); returns the FNV-1a hash h
   * carried over them (one pass: this loop is much of a scenario's cost inside XS).
   */
  fill(buf: Uint8Array, off: number, len: number, h: number): number {
    let s = this.#s;
    let w = this.#word;
    let left = this.#left;
    const end = off + len;
    for (let i = off; i < end; i++) {
      if (left === 0) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        s >>>= 0;
        w = s;
        left = 4;
      }
      const b = w & 0xff;
      buf[i] = b;
      h = Math.imul(h ^ b, 0x01000193);
      w >>>= 8;
      left--;
    }
    this.#s = s;
    this.#word = w;
    this.#left = left;
    return h >>> 0;
  }

  /**
   * Check buf[off..off+len) against the next len bytes of the stream (mismatches and
   * firstMismatch tell); returns the FNV-1a hash h carried over the bytes of buf.
   */
  check(buf: Uint8Array, off: number, len: number, h: number): number {
    let s = this.#s;
    let w = this.#word;
    let left = this.#left;
    let bad = 0;
    let first = -1;
    const end = off + len;
    for (let i = off; i < end; i++) {
      if (left === 0) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        s >>>= 0;
        w = s;
        left = 4;
      }
      const b = buf[i];
      if (b !== (w & 0xff)) {
        if (bad === 0) first = i - off;
        bad++;
      }
      h = Math.imul(h ^ b, 0x01000193);
      w >>>= 8;
      left--;
    }
    this.#s = s;
    this.#word = w;
    this.#left = left;
    this.mismatches = bad;
    this.firstMismatch = first;
    return h >>> 0;
  }
}
