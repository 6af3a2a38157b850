// A fault-injecting relay for the UDP link: it sits between socat and the device, one
// Ethernet frame per datagram each way, and loses, holds back (reorders), duplicates and
// corrupts frames by a seed.
//
//   Linux TAP <-> socat <-> [socat side] relay [device side] <-> device (--link udp:...)
//
// Path of one frame (each direction on its own):
//   socket 'message'          (a fresh Buffer per datagram, ours to keep)
//    -> RelayDirection.input  FaultDecider.decide(len): lose? hold? duplicate? flip a bit?
//    -> lost: counted, gone
//    -> corrupt: one bit flipped in place (past the Ethernet header, so the frame still
//       reaches the stack and its checksums have to catch it)
//    -> held: a timer of holdMs, so the frames behind it overtake it; else sent now
//    -> duplicate: the same bytes sent a second time right after the first
//
// The decisions are deterministic: every fault kind draws from its own generator, forked
// from the seed with (direction, kind) as salt, a fixed number of draws per frame whatever
// was decided for the frame or by the other kinds. So the fate of the k-th frame of a
// direction depends on (seed, direction, k) only (the flipped bit also on its length),
// and turning one fault on does not move the others' sequences. The timing is the
// machine's own: which frames overtake a held one depends on when they arrive.
//
// Counters per direction; for each, at any time
//   in - lost + duplicated == out + held now + discarded at stop
// where out counts datagrams handed to the socket (send errors are a subset of out).
//
// RelayDirection and FaultDecider are socket-free (unit-tested with a fake clock);
// UdpRelay wires them to two dgram sockets on 127.0.0.1. host-sim/relay-cli.ts is the
// command line. Node-only (UdpRelay); the rest only needs a timer function.

import { createSocket, type Socket } from "node:dgram";
import { Prng } from "./sim/prng";

export interface RelayFaults {
  /** probability a frame is lost */
  lossRate: number;
  /** probability a frame is held back holdMs, so the frames after it overtake it */
  reorderRate: number;
  /** how long a held frame waits (real milliseconds) */
  holdMs: number;
  /** probability a frame is sent twice */
  duplicateRate: number;
  /** probability one bit of the frame (past the Ethernet header) is flipped */
  corruptRate: number;
}

export const NO_RELAY_FAULTS: Readonly<RelayFaults> = Object.freeze({
  lossRate: 0,
  reorderRate: 0,
  holdMs: 5,
  duplicateRate: 0,
  corruptRate: 0,
});

/** Frames held at once per direction; past this a frame due to be held is sent at once (counted). */
export const HELD_MAX_DEFAULT = 1024;

const ETH_HLEN = 14;

/** Salt of each fault kind's generator (the direction's salt times 8, plus this). */
const KIND_LOSS = 1;
const KIND_REORDER = 2;
const KIND_DUPLICATE = 3;
const KIND_CORRUPT = 4;

/** The two directions, as salts. */
export const TO_DEVICE = 1;
export const TO_LINUX = 2;

/** A complete fault set over NO_RELAY_FAULTS; throws a RangeError naming a bad field. */
export function relayFaults(partial: Partial<RelayFaults> = {}, where = "relay"): RelayFaults {
  const f: RelayFaults = { ...NO_RELAY_FAULTS, ...partial };
  for (const k of ["lossRate", "reorderRate", "duplicateRate", "corruptRate"] as const) {
    const v = f[k];
    if (typeof v !== "number" || !(v >= 0 && v <= 1)) throw new RangeError(`${where}: ${k} must be in [0, 1], got ${String(v)}`);
  }
  if (typeof f.holdMs !== "number" || !(f.holdMs >= 0 && f.holdMs <= 60_000)) {
    throw new RangeError(`${where}: holdMs must be in [0, 60000], got ${String(f.holdMs)}`);
  }
  return f;
}

/** The fate of one frame (one object per decider, rewritten by each decide()). */
export class FaultDecision {
  /** index of the frame in its direction, from 0 */
  frame = -1;
  lose = false;
  hold = false;
  duplicate = false;
  /** bit to flip (0 = the most significant bit of byte 0), or -1 */
  corruptBit = -1;
}

/** The seeded decisions of one direction. */
export class FaultDecider {
  readonly faults: Readonly<RelayFaults>;
  readonly seed: number;
  readonly salt: number;
  readonly decision = new FaultDecision();
  #frames = 0;
  readonly #loss: Prng;
  readonly #reorder: Prng;
  readonly #duplicate: Prng;
  readonly #corrupt: Prng;

  constructor(seed: number, salt: number, faults: Partial<RelayFaults> = {}) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`relay: seed must be an integer in 0..2^32-1, got ${seed}`);
    this.faults = Object.freeze(relayFaults(faults));
    this.seed = seed;
    this.salt = salt >>> 0;
    const root = new Prng(seed);
    this.#loss = root.fork(this.salt * 8 + KIND_LOSS);
    this.#reorder = root.fork(this.salt * 8 + KIND_REORDER);
    this.#duplicate = root.fork(this.salt * 8 + KIND_DUPLICATE);
    this.#corrupt = root.fork(this.salt * 8 + KIND_CORRUPT);
  }

  /** frames decided so far */
  get frames(): number {
    return this.#frames;
  }

  /** Decide the fate of the next frame, len bytes long (the same object every call). */
  decide(len: number): FaultDecision {
    const f = this.faults;
    const d = this.decision;
    d.frame = this.#frames++;
    // One draw per kind per frame (none for a kind whose rate is 0), whatever the outcome.
    d.lose = this.#loss.chance(f.lossRate);
    d.hold = this.#reorder.chance(f.reorderRate);
    d.duplicate = this.#duplicate.chance(f.duplicateRate);
    d.corruptBit = -1;
    if (f.corruptRate > 0) {
      const hit = this.#corrupt.nextFloat() < f.corruptRate;
      const where = this.#corrupt.nextFloat();
      if (hit && len > 0) {
        // Past the Ethernet header when there is something past it: the frame still reaches
        // the stack above, whose checksum must catch the flip.
        const first = len > ETH_HLEN ? ETH_HLEN * 8 : 0;
        d.corruptBit = first + Math.floor(where * (len * 8 - first));
      }
    }
    return d;
  }
}

/** Counters of one direction (names as printed). */
export class RelayStats {
  /** datagrams received */
  in = 0;
  inBytes = 0;
  lost = 0;
  /** held back for reordering */
  reordered = 0;
  /** extra copies sent */
  duplicated = 0;
  corrupted = 0;
  /** datagrams handed to the socket (copies included) */
  out = 0;
  outBytes = 0;
  /** sends the socket failed (a subset of out) */
  sendErrors = 0;
  /** frames due to be held but sent at once because heldMax were held already */
  holdOverflow = 0;
  /** held frames dropped when the relay stopped, and frames that came after */
  discardedAtStop = 0;
}

/** What a direction needs from its host: a timer (real or fake) and a way out. */
export interface RelayTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const REAL_TIMERS: RelayTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** A frame waiting out its hold time (and its copy, when it is also duplicated). */
interface HeldFrame {
  frame: Uint8Array;
  copies: number;
}

/** One direction: decisions, the held frames, the counters. */
export class RelayDirection {
  readonly name: string;
  readonly decider: FaultDecider;
  readonly stats = new RelayStats();
  /** most frames held at once */
  readonly heldMax: number;
  readonly #send: (frame: Uint8Array) => void;
  readonly #timers: RelayTimers;
  /** held frames by timer handle (a Map keeps the order they were held in) */
  readonly #held = new Map<unknown, HeldFrame>();
  /** datagrams waiting in #held (a held duplicate counts twice) */
  #heldCopies = 0;
  #stopped = false;

  constructor(name: string, decider: FaultDecider, send: (frame: Uint8Array) => void, timers: RelayTimers = REAL_TIMERS, heldMax = HELD_MAX_DEFAULT) {
    if (!Number.isInteger(heldMax) || heldMax < 0 || heldMax > 65536) throw new RangeError(`relay: heldMax must be an integer in 0..65536, got ${heldMax}`);
    this.name = name;
    this.decider = decider;
    this.#send = send;
    this.#timers = timers;
    this.heldMax = heldMax;
  }

  /** datagrams waiting now (a held duplicate counts twice) */
  get heldNow(): number {
    return this.#heldCopies;
  }

  /** A frame arrived (the buffer is the relay's from now on: it may be flipped and held). */
  input(frame: Uint8Array): void {
    const s = this.stats;
    s.in++;
    s.inBytes += frame.length;
    if (this.#stopped) {
      s.discardedAtStop++;
      return;
    }
    const d = this.decider.decide(frame.length);
    if (d.lose) {
      s.lost++;
      return;
    }
    if (d.corruptBit >= 0) {
      frame[d.corruptBit >>> 3] ^= 0x80 >>> (d.corruptBit & 7);
      s.corrupted++;
    }
    const copies = d.duplicate ? 2 : 1;
    if (d.duplicate) s.duplicated++;
    if (d.hold) {
      if (this.#held.size < this.heldMax) {
        s.reordered++;
        const entry: HeldFrame = { frame, copies };
        const handle: unknown = this.#timers.setTimeout(() => this.#release(handle), this.decider.faults.holdMs);
        this.#held.set(handle, entry);
        this.#heldCopies += copies;
        return;
      }
      s.holdOverflow++;
    }
    for (let i = 0; i < copies; i++) this.#out(frame);
  }

  #release(handle: unknown): void {
    const entry = this.#held.get(handle);
    if (entry === undefined) return;
    this.#held.delete(handle);
    this.#heldCopies -= entry.copies;
    for (let i = 0; i < entry.copies; i++) this.#out(entry.frame);
  }

  #out(frame: Uint8Array): void {
    this.stats.out++;
    this.stats.outBytes += frame.length;
    this.#send(frame);
  }

  /** Stop: held frames are dropped (counted), and frames from now on too. */
  stop(): void {
    this.#stopped = true;
    for (const [handle, entry] of this.#held) {
      this.#timers.clearTimeout(handle);
      this.stats.discardedAtStop += entry.copies;
    }
    this.#held.clear();
    this.#heldCopies = 0;
  }

  /** "in=.. lost=.. ..." */
  format(): string {
    return formatRelayStats(this.stats, this.heldNow);
  }
}

export function formatRelayStats(s: RelayStats, heldNow = 0): string {
  return `in=${s.in} in_bytes=${s.inBytes} lost=${s.lost} reordered=${s.reordered} duplicated=${s.duplicated} corrupted=${s.corrupted} ` +
    `out=${s.out} out_bytes=${s.outBytes} send_errors=${s.sendErrors} hold_overflow=${s.holdOverflow} held=${heldNow} discarded_at_stop=${s.discardedAtStop}`;
}

export interface RelaySide {
  /** the UDP port the relay binds on this side */
  localPort: number;
  /** where it sends: socat's port, or the device's */
  remotePort: number;
}

export interface UdpRelayOptions {
  /** toward socat: socat sends to localPort, the relay sends to socat's remotePort */
  socat: RelaySide;
  /** toward the device: the device sends to localPort (its --link REMOTE), the relay sends to its --link LOCAL */
  device: RelaySide;
  seed: number;
  /** faults of both directions (each with its own decisions) */
  faults?: Partial<RelayFaults>;
  /** faults of one direction, over `faults` */
  toDevice?: Partial<RelayFaults>;
  toLinux?: Partial<RelayFaults>;
  /** loopback only; default 127.0.0.1 */
  host?: string;
  /** SO_RCVBUF of each socket; default 4 MB (as the device's link) */
  recvBufferBytes?: number;
  heldMax?: number;
  timers?: RelayTimers;
}

function checkPort(p: number, what: string): void {
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new RangeError(`relay: ${what} ${String(p)} is not a port in 1..65535`);
}

/** The relay on two UDP sockets. */
export class UdpRelay {
  readonly options: Readonly<UdpRelayOptions>;
  readonly host: string;
  /** frames from socat (Linux) to the device */
  readonly toDevice: RelayDirection;
  /** frames from the device to socat (Linux) */
  readonly toLinux: RelayDirection;
  /** socket errors other than send failures (ECONNREFUSED while a peer is not up, ...) */
  socketErrors = 0;
  lastSocketError: Error | null = null;
  #socatSock: Socket | null = null;
  #deviceSock: Socket | null = null;
  #stopped = false;

  constructor(options: UdpRelayOptions) {
    checkPort(options.socat.localPort, "socat-side local port");
    checkPort(options.socat.remotePort, "socat-side remote port");
    checkPort(options.device.localPort, "device-side local port");
    checkPort(options.device.remotePort, "device-side remote port");
    this.options = options;
    this.host = options.host ?? "127.0.0.1";
    const timers = options.timers ?? REAL_TIMERS;
    const heldMax = options.heldMax ?? HELD_MAX_DEFAULT;
    this.toDevice = new RelayDirection("linux->device", new FaultDecider(options.seed, TO_DEVICE, { ...options.faults, ...options.toDevice }),
      (f) => this.#sendOn(this.#deviceSock, this.toDevice, f), timers, heldMax);
    this.toLinux = new RelayDirection("device->linux", new FaultDecider(options.seed, TO_LINUX, { ...options.faults, ...options.toLinux }),
      (f) => this.#sendOn(this.#socatSock, this.toLinux, f), timers, heldMax);
  }

  #sendOn(sock: Socket | null, dir: RelayDirection, frame: Uint8Array): void {
    if (sock === null || this.#stopped) {
      dir.stats.sendErrors++;
      return;
    }
    sock.send(frame, (err) => {
      if (err) {
        dir.stats.sendErrors++;
        this.lastSocketError = err;
      }
    });
  }

  async #open(side: RelaySide, into: RelayDirection): Promise<Socket> {
    const sock = createSocket({ type: "udp4", recvBufferSize: this.options.recvBufferBytes ?? 4 * 1024 * 1024 });
    sock.on("error", (err) => {
      this.socketErrors++;
      this.lastSocketError = err;
    });
    sock.on("message", (msg: Buffer) => into.input(msg));
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => reject(err);
      sock.once("error", fail);
      sock.bind(side.localPort, this.host, () => {
        // Connected: datagrams from anyone but the peer are not ours.
        sock.connect(side.remotePort, this.host, () => {
          sock.off("error", fail);
          resolve();
        });
      });
    });
    return sock;
  }

  /** Bind and connect both sockets. */
  async start(): Promise<void> {
    this.#socatSock = await this.#open(this.options.socat, this.toDevice);
    this.#deviceSock = await this.#open(this.options.device, this.toLinux);
  }

  /** Close both sockets; held frames are dropped (counted). */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.toDevice.stop();
    this.toLinux.stop();
    for (const sock of [this.#socatSock, this.#deviceSock]) {
      if (sock === null) continue;
      sock.removeAllListeners("message");
      try {
        sock.close();
      } catch {
        // not bound
      }
    }
    this.#socatSock = this.#deviceSock = null;
  }

  /** Two lines of counters. */
  format(): string[] {
    return [`relay ${this.toDevice.name}: ${this.toDevice.format()}`, `relay ${this.toLinux.name}: ${this.toLinux.format()}`];
  }
}

/** Parse a line printed by UdpRelay.format() back into numbers (for tests). */
export function parseRelayLine(line: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of line.matchAll(/([a-z_]+)=(\d+)/g)) out[m[1]] = Number(m[2]);
  return out;
}
