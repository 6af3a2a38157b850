// A simulated Ethernet LAN: one learning switch joining N endpoints, with faults injected per
// direction (from port -> to port): loss, delay, jitter, reordering, duplication, single
// bit flips, a rate limit with a tail-drop queue, and an MTU.
//
// Path of one frame:
//   transmit(from)                    copy nothing yet; taps (onWire) see it
//    -> learn source MAC -> port      (an up port, unicast source only)
//    -> unicast to a known port, else flood to every other port
//    -> #forward(from, to)            per direction: down? mtu? backlog? dropFilter? loss?
//                                     pool slot, serialization, delay + jitter, reorder,
//                                     corrupt, dup
//    -> event at arrival time
//    -> #deliver(slot)                endpoint.onFrame(pool, off, len), slot back to the pool
//
// Every random choice is drawn from the direction's own Prng, forked from the LAN seed with
// the (from, to) pair as salt, so a scenario replays exactly from its seed and a fault added
// on one direction does not move the random sequence of another.
//
// Nothing is allocated per frame: frames are copied into a pool preallocated at
// construction (framesMax x frameBytesMax) and recycled through a free-list stack; the
// delivery event's argument is the pool slot, whose metadata lives in parallel typed arrays.
// Every frame that is not delivered bumps exactly one counter, so for each direction
//   sent + duplicated == delivered + lost + filterDropped + mtuDropped + queueDropped
//                        + poolDropped + downDropped + (frames still in flight)
//
// Node-free: this file also runs inside XS.

import type { EventLoop, SimEventHandler } from "./event-loop";
import { copyBytes } from "../../src/core/bytes";
import { Prng } from "./prng";

export interface LanEndpoint {
  /** A frame arrives. buf belongs to the LAN and is reused after the call: copy what you keep. */
  onFrame(buf: Uint8Array, off: number, len: number): void;
}

export interface LinkFaults {
  /** probability a frame is lost after serialization */
  lossRate: number;
  /** fixed propagation delay */
  delayMs: number;
  /** extra delay, uniform in [0, jitterMs); never reorders frames by itself */
  jitterMs: number;
  /** probability a frame is held back reorderDelayMs so later frames overtake it */
  reorderRate: number;
  reorderDelayMs: number;
  /** probability a second copy is delivered right after the first */
  duplicateRate: number;
  /** probability one random bit of the frame is flipped */
  corruptRate: number;
  /** serialization rate in bits per second, 0 = unlimited */
  rateBps: number;
  /** largest IP payload: frames with len - 14 > mtu are dropped */
  mtu: number;
  /** tail-drop a frame that would wait longer than this behind the serialization backlog */
  queueLimitMs: number;
}

export const NO_FAULTS: Readonly<LinkFaults> = Object.freeze({
  lossRate: 0,
  delayMs: 0,
  jitterMs: 0,
  reorderRate: 0,
  reorderDelayMs: 1,
  duplicateRate: 0,
  corruptRate: 0,
  rateBps: 0,
  mtu: 1500,
  queueLimitMs: 100,
});

/** Counters of one direction (from port -> to port), or their sum. */
export interface LinkStats {
  /** deliveries attempted: one per frame switched toward this port */
  sent: number;
  delivered: number;
  lost: number;
  /** dropped because dropFilter said so */
  filterDropped: number;
  /** extra copies made (each is then delivered or counted as a drop) */
  duplicated: number;
  corrupted: number;
  reordered: number;
  mtuDropped: number;
  queueDropped: number;
  poolDropped: number;
  downDropped: number;
}

/** Counters of the switch itself, before a frame has a direction. */
export interface SwitchStats {
  /** transmit() calls */
  transmitted: number;
  /** shorter than an Ethernet header (14 bytes): dropped */
  runtDropped: number;
  /** longer than frameBytesMax: dropped */
  oversizeDropped: number;
  /** unicast to a MAC learned on the sending port itself: dropped, as a switch does */
  filtered: number;
  /** frames sent to every other port (broadcast, multicast, unknown unicast) */
  flooded: number;
  /** a source MAC not learned because the MAC table was full */
  macTableFull: number;
}

export interface SimLanOptions {
  /** the one seed every random choice of this LAN derives from */
  seed: number;
  /** for error messages */
  name?: string;
  /** frame buffers in the pool (frames in flight at once), default 4096 */
  framesMax?: number;
  /** bytes per frame buffer, default 1536 */
  frameBytesMax?: number;
  /** most ports, default 32 */
  portsMax?: number;
  /** most MAC addresses the switch learns, default 1024 */
  macsMax?: number;
  /** faults of every direction, over NO_FAULTS */
  faults?: Partial<LinkFaults>;
  /** place the frame buffers in this memory (from memoryOffset) instead of a new array */
  memory?: Uint8Array;
  memoryOffset?: number;
}

const ETH_HLEN = 14;

function zeroStats(): LinkStats {
  return {
    sent: 0,
    delivered: 0,
    lost: 0,
    filterDropped: 0,
    duplicated: 0,
    corrupted: 0,
    reordered: 0,
    mtuDropped: 0,
    queueDropped: 0,
    poolDropped: 0,
    downDropped: 0,
  };
}

function addStats(into: LinkStats, s: LinkStats): void {
  into.sent += s.sent;
  into.delivered += s.delivered;
  into.lost += s.lost;
  into.filterDropped += s.filterDropped;
  into.duplicated += s.duplicated;
  into.corrupted += s.corrupted;
  into.reordered += s.reordered;
  into.mtuDropped += s.mtuDropped;
  into.queueDropped += s.queueDropped;
  into.poolDropped += s.poolDropped;
  into.downDropped += s.downDropped;
}

function checkFaults(f: LinkFaults, where: string): void {
  const rates = ["lossRate", "reorderRate", "duplicateRate", "corruptRate"] as const;
  for (const k of rates) {
    const v = f[k];
    if (!(v >= 0 && v <= 1)) throw new RangeError(`${where}: ${k} must be in [0, 1], got ${v}`);
  }
  const nonNeg = ["delayMs", "jitterMs", "reorderDelayMs", "rateBps", "queueLimitMs"] as const;
  for (const k of nonNeg) {
    const v = f[k];
    if (!(v >= 0)) throw new RangeError(`${where}: ${k} must be >= 0, got ${v}`);
  }
  if (!(f.mtu > 0)) throw new RangeError(`${where}: mtu must be > 0, got ${f.mtu}`);
}

function positiveInt(v: number, name: string, where: string): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${where}: ${name} must be a positive integer, got ${v}`);
  return v;
}

/** State of one direction, created when its second port is attached. */
class Direction {
  readonly prng: Prng;
  readonly faults: LinkFaults;
  readonly stats: LinkStats = zeroStats();
  /** virtual time the serializer is busy until */
  busyUntil = 0;
  /** latest arrival time of an in-order frame (jitter never goes below it) */
  lastArrival = 0;

  constructor(prng: Prng, faults: Readonly<LinkFaults>) {
    this.prng = prng;
    this.faults = { ...faults };
  }
}

export class SimLan {
  readonly name: string;
  readonly seed: number;
  readonly framesMax: number;
  readonly frameBytesMax: number;
  readonly portsMax: number;
  readonly macsMax: number;
  /** sees every frame an up port transmits, before faults (frame hashes, pcap capture) */
  onWire: ((fromPort: number, buf: Uint8Array, off: number, len: number) => void) | null = null;
  /**
   * Drops chosen frames: asked once per delivery attempt (from port -> to port) that got
   * past the down, MTU and queue checks; true drops the frame as if it were lost on the
   * wire (it still took its serialization time), counted as filterDropped. A dropped frame
   * draws nothing from the direction's generator. buf belongs to the caller: read only.
   */
  dropFilter: ((fromPort: number, toPort: number, buf: Uint8Array, off: number, len: number) => boolean) | null = null;

  readonly #loop: EventLoop;
  readonly #root: Prng;
  #defaults: LinkFaults;
  readonly #endpoints: LanEndpoint[] = [];
  readonly #up: Uint8Array;
  /** portsMax * portsMax, index from * portsMax + to; null on the diagonal and unattached */
  readonly #dirs: (Direction | null)[];
  readonly #sw: SwitchStats = {
    transmitted: 0,
    runtDropped: 0,
    oversizeDropped: 0,
    filtered: 0,
    flooded: 0,
    macTableFull: 0,
  };

  // frame pool
  readonly #pool: Uint8Array;
  readonly #memoryOffset: number;
  readonly #free: Int32Array;
  #freeTop: number;
  readonly #slotFrom: Int16Array;
  readonly #slotTo: Int16Array;
  readonly #slotLen: Int32Array;
  /** the delivery event's handler, made once: the event's arg is the pool slot */
  readonly #deliverer: SimEventHandler;

  // MAC table: open addressing, linear probing; a MAC is hi (bytes 0..1) and lo (bytes 2..5).
  // Entries are never removed (a port going down sets its entries' port to -1).
  readonly #macMask: number;
  readonly #macHi: Int32Array; // -1 = empty
  readonly #macLo: Int32Array;
  readonly #macPort: Int16Array; // -1 = unknown (flood)
  #macCount = 0;

  constructor(loop: EventLoop, options: SimLanOptions) {
    this.name = options.name ?? "lan";
    const where = `SimLan ${this.name}`;
    if (!Number.isFinite(options.seed)) throw new RangeError(`${where}: seed must be a finite number`);
    this.seed = options.seed >>> 0;
    this.framesMax = positiveInt(options.framesMax ?? 4096, "framesMax", where);
    this.frameBytesMax = positiveInt(options.frameBytesMax ?? 1536, "frameBytesMax", where);
    this.portsMax = positiveInt(options.portsMax ?? 32, "portsMax", where);
    if (this.portsMax > 4096) throw new RangeError(`${where}: portsMax must be <= 4096, got ${this.portsMax}`);
    this.macsMax = positiveInt(options.macsMax ?? 1024, "macsMax", where);
    this.#loop = loop;
    this.#root = new Prng(this.seed);
    this.#defaults = { ...NO_FAULTS, ...options.faults };
    checkFaults(this.#defaults, where);

    this.#up = new Uint8Array(this.portsMax);
    this.#dirs = new Array<Direction | null>(this.portsMax * this.portsMax).fill(null);

    const fm = this.framesMax;
    // Frames may live in memory shared with the hosts' packet pools (SimWorld does this),
    // so every copy between them is one native copyWithin.
    const bytes = fm * this.frameBytesMax;
    if (options.memory !== undefined) {
      this.#memoryOffset = options.memoryOffset ?? 0;
      if (this.#memoryOffset + bytes > options.memory.length) throw new RangeError(`${where}: memory too small for ${fm} frames`);
      this.#pool = options.memory;
    } else {
      this.#memoryOffset = 0;
      this.#pool = new Uint8Array(bytes);
    }
    this.#free = new Int32Array(fm);
    // pop order 0, 1, 2, ... so the first frames use the first slots
    for (let i = 0; i < fm; i++) this.#free[i] = fm - 1 - i;
    this.#freeTop = fm;
    this.#slotFrom = new Int16Array(fm);
    this.#slotTo = new Int16Array(fm);
    this.#slotLen = new Int32Array(fm);
    this.#deliverer = { onSimEvent: (slot: number) => this.#deliver(slot) };

    let size = 8;
    while (size < this.macsMax * 2) size *= 2;
    this.#macMask = size - 1;
    this.#macHi = new Int32Array(size).fill(-1);
    this.#macLo = new Int32Array(size);
    this.#macPort = new Int16Array(size).fill(-1);
  }

  /** ports attached so far */
  get ports(): number {
    return this.#endpoints.length;
  }

  /** frame buffers out of the pool (frames in flight); 0 once the LAN is quiet */
  get inFlight(): number {
    return this.framesMax - this.#freeTop;
  }

  /** Attach an endpoint (set-up time); returns its port index. The port starts up. */
  attach(endpoint: LanEndpoint): number {
    const port = this.#endpoints.length;
    if (port >= this.portsMax) throw new RangeError(`SimLan ${this.name}: all ${this.portsMax} ports attached (portsMax)`);
    this.#endpoints.push(endpoint);
    this.#up[port] = 1;
    const pm = this.portsMax;
    for (let other = 0; other < port; other++) {
      this.#dirs[other * pm + port] = new Direction(this.#root.fork((other << 16) | port), this.#defaults);
      this.#dirs[port * pm + other] = new Direction(this.#root.fork((port << 16) | other), this.#defaults);
    }
    return port;
  }

  /** Change one direction's faults; fields not given keep their current values. */
  setFaults(fromPort: number, toPort: number, faults: Partial<LinkFaults>): void {
    const d = this.#dir(fromPort, toPort);
    const next = { ...d.faults, ...faults };
    checkFaults(next, `SimLan ${this.name} ${fromPort}->${toPort}`);
    Object.assign(d.faults, next);
  }

  /** Change every direction's faults, and the defaults for ports attached later. */
  setAllFaults(faults: Partial<LinkFaults>): void {
    const next = { ...this.#defaults, ...faults };
    checkFaults(next, `SimLan ${this.name}`);
    this.#defaults = next;
    // the fields given were checked above; the others keep each direction's valid values
    for (const d of this.#dirs) if (d !== null) Object.assign(d.faults, faults);
  }

  /** The current faults of one direction (a copy). */
  faults(fromPort: number, toPort: number): LinkFaults {
    return { ...this.#dir(fromPort, toPort).faults };
  }

  /**
   * Bring a port up or down. A down port's frames and frames toward it are counted as
   * downDropped (frames already in flight to it included); the switch forgets the MACs
   * it learned there, as it would on link loss.
   */
  setPortUp(port: number, up: boolean): void {
    this.#checkPort(port);
    this.#up[port] = up ? 1 : 0;
    if (!up) {
      const ports = this.#macPort;
      for (let i = 0; i <= this.#macMask; i++) if (ports[i] === port) ports[i] = -1;
    }
  }

  isPortUp(port: number): boolean {
    this.#checkPort(port);
    return this.#up[port] === 1;
  }

  /** Counters of one direction (a snapshot). */
  stats(from: number, to: number): LinkStats {
    const s = zeroStats();
    addStats(s, this.#dir(from, to).stats);
    return s;
  }

  /** Counters of every direction, summed (a snapshot). */
  totals(): LinkStats {
    const s = zeroStats();
    for (const d of this.#dirs) if (d !== null) addStats(s, d.stats);
    return s;
  }

  /** Counters of the switch before a frame has a direction (a snapshot). */
  switchStats(): SwitchStats {
    return { ...this.#sw };
  }

  /** The port a MAC (6 bytes at off) was learned on, -1 when unknown. */
  lookupMac(buf: Uint8Array, off: number): number {
    const i = this.#macFind(hiOf(buf, off), loOf(buf, off));
    return i < 0 ? -1 : this.#macPort[i];
  }

  /** Send a frame from a port. The bytes are copied; buf may be reused on return. */
  transmit(fromPort: number, buf: Uint8Array, off: number, len: number): void {
    this.#checkPort(fromPort);
    if (!(off >= 0 && len >= 0 && off + len <= buf.length)) {
      throw new RangeError(`SimLan ${this.name}.transmit: off ${off} len ${len} outside a ${buf.length}-byte buffer`);
    }
    const sw = this.#sw;
    sw.transmitted++;
    if (len < ETH_HLEN) {
      sw.runtDropped++;
      return;
    }
    if (len > this.frameBytesMax) {
      sw.oversizeDropped++;
      return;
    }
    const fromUp = this.#up[fromPort] === 1;
    if (fromUp) {
      if (this.onWire !== null) this.onWire(fromPort, buf, off, len);
      if ((buf[off + 6] & 1) === 0) this.#learn(hiOf(buf, off + 6), loOf(buf, off + 6), fromPort);
    }
    if ((buf[off] & 1) === 0) {
      const i = this.#macFind(hiOf(buf, off), loOf(buf, off));
      const to = i < 0 ? -1 : this.#macPort[i];
      if (to >= 0) {
        if (to === fromPort) sw.filtered++;
        else this.#forward(fromPort, to, buf, off, len);
        return;
      }
    }
    sw.flooded++;
    const n = this.#endpoints.length;
    for (let to = 0; to < n; to++) if (to !== fromPort) this.#forward(fromPort, to, buf, off, len);
  }

  // One delivery attempt from -> to, under that direction's faults.
  #forward(from: number, to: number, buf: Uint8Array, off: number, len: number): void {
    const d = this.#dirs[from * this.portsMax + to]!;
    const st = d.stats;
    const f = d.faults;
    const prng = d.prng;
    st.sent++;
    if (this.#up[from] === 0 || this.#up[to] === 0) {
      st.downDropped++;
      return;
    }
    if (len - ETH_HLEN > f.mtu) {
      st.mtuDropped++;
      return;
    }
    // serialization: one frame at a time per direction, tail drop past the queue limit
    const now = this.#loop.now;
    const start = d.busyUntil > now ? d.busyUntil : now;
    if (start - now > f.queueLimitMs) {
      st.queueDropped++;
      return;
    }
    const txMs = f.rateBps > 0 ? (len * 8000) / f.rateBps : 0;
    const departure = start + txMs;
    d.busyUntil = departure;
    if (this.dropFilter !== null && this.dropFilter(from, to, buf, off, len)) {
      st.filterDropped++;
      return;
    }
    if (prng.chance(f.lossRate)) {
      st.lost++;
      return;
    }
    const slot = this.#alloc();
    if (slot < 0) {
      st.poolDropped++;
      return;
    }
    const pool = this.#pool;
    const base = this.#memoryOffset + slot * this.frameBytesMax;
    copyBytes(pool, base, buf, off, len);

    let arrival = departure + f.delayMs;
    if (f.jitterMs > 0) arrival += prng.nextFloat() * f.jitterMs;
    const reordered = prng.chance(f.reorderRate);
    if (reordered) {
      // held back and not recorded as lastArrival, so later frames overtake it
      arrival += f.reorderDelayMs;
      st.reordered++;
    } else {
      if (arrival < d.lastArrival) arrival = d.lastArrival;
      d.lastArrival = arrival;
    }

    // a duplicate is the frame as it left the sender; it follows one serialization time later
    let dup = -1;
    if (prng.chance(f.duplicateRate)) {
      st.duplicated++;
      dup = this.#alloc();
      if (dup < 0) st.poolDropped++;
      else {
        const dbase = this.#memoryOffset + dup * this.frameBytesMax;
        pool.copyWithin(dbase, base, base + len);
        this.#maybeCorrupt(prng, f, st, dbase, len);
      }
    }
    this.#maybeCorrupt(prng, f, st, base, len);

    this.#schedule(slot, from, to, len, arrival);
    if (dup >= 0) {
      const dupArrival = arrival + txMs;
      if (!reordered && dupArrival > d.lastArrival) d.lastArrival = dupArrival;
      this.#schedule(dup, from, to, len, dupArrival);
    }
  }

  #maybeCorrupt(prng: Prng, f: LinkFaults, st: LinkStats, base: number, len: number): void {
    if (!prng.chance(f.corruptRate)) return;
    const bit = prng.nextInt(len * 8);
    this.#pool[base + (bit >>> 3)] ^= 1 << (bit & 7);
    st.corrupted++;
  }

  #schedule(slot: number, from: number, to: number, len: number, time: number): void {
    this.#slotFrom[slot] = from;
    this.#slotTo[slot] = to;
    this.#slotLen[slot] = len;
    this.#loop.at(time, this.#deliverer, slot);
  }

  #deliver(slot: number): void {
    const from = this.#slotFrom[slot];
    const to = this.#slotTo[slot];
    const st = this.#dirs[from * this.portsMax + to]!.stats;
    if (this.#up[to] === 0) {
      st.downDropped++;
      this.#release(slot);
      return;
    }
    st.delivered++;
    try {
      this.#endpoints[to].onFrame(this.#pool, this.#memoryOffset + slot * this.frameBytesMax, this.#slotLen[slot]);
    } finally {
      this.#release(slot);
    }
  }

  #alloc(): number {
    if (this.#freeTop === 0) return -1;
    return this.#free[--this.#freeTop];
  }

  #release(slot: number): void {
    this.#free[this.#freeTop++] = slot;
  }

  #learn(hi: number, lo: number, port: number): void {
    const mask = this.#macMask;
    let i = macHash(hi, lo) & mask;
    const his = this.#macHi;
    const los = this.#macLo;
    for (;;) {
      const h = his[i];
      if (h === -1) break;
      if (h === hi && los[i] === lo) {
        this.#macPort[i] = port;
        return;
      }
      i = (i + 1) & mask;
    }
    if (this.#macCount >= this.macsMax) {
      this.#sw.macTableFull++;
      return;
    }
    his[i] = hi;
    los[i] = lo;
    this.#macPort[i] = port;
    this.#macCount++;
  }

  #macFind(hi: number, lo: number): number {
    const mask = this.#macMask;
    let i = macHash(hi, lo) & mask;
    const his = this.#macHi;
    const los = this.#macLo;
    // the table is at most half full, so an empty entry ends every probe
    for (;;) {
      const h = his[i];
      if (h === -1) return -1;
      if (h === hi && los[i] === lo) return i;
      i = (i + 1) & mask;
    }
  }

  #dir(from: number, to: number): Direction {
    this.#checkPort(from);
    this.#checkPort(to);
    if (from === to) throw new RangeError(`SimLan ${this.name}: no direction from port ${from} to itself`);
    return this.#dirs[from * this.portsMax + to]!;
  }

  #checkPort(port: number): void {
    if (!(Number.isInteger(port) && port >= 0 && port < this.#endpoints.length)) {
      throw new RangeError(`SimLan ${this.name}: no port ${port} (${this.#endpoints.length} attached)`);
    }
  }
}

function hiOf(buf: Uint8Array, off: number): number {
  return (buf[off] << 8) | buf[off + 1];
}

function loOf(buf: Uint8Array, off: number): number {
  return (buf[off + 2] << 24) | (buf[off + 3] << 16) | (buf[off + 4] << 8) | buf[off + 5];
}

function macHash(hi: number, lo: number): number {
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 15;
  return Math.imul(h, 0xc2b2ae35) ^ (h >>> 13);
}

/** Copy len bytes into the pool without allocating (set() would need a subarray view). */
