// The services' memory, made once: one ArrayBuffer carved into a scratch chunk (what reads
// land in and echoes leave from), the chargen pattern, the i % 251 pattern and HTTP request
// buffers, as the services that share it need them. One ArrayBuffer for all of it, so a socket
// makes its DataView over the application's bytes once (src/socket/tcp.ts keeps one per
// ArrayBuffer) and every read and write after that allocates at most a view header. Services
// that run in the same stack may share one: each uses scratch only within a callback.

import type { TcpSocket } from "../socket/tcp";

/** RFC 864 chargen as lwIP's anchor device makes it: line L is 72 characters from the
 * printable set 32..126 starting at L % 95, then CR LF; the stream repeats after 95 lines. */
export const CHARGEN_LINE = 72;
export const CHARGEN_LINE_BYTES = CHARGEN_LINE + 2;
export const CHARGEN_PERIOD = 95 * CHARGEN_LINE_BYTES;

/** /bytes/N, iperf's data and the device app's client: byte i of the stream is i % 251 (a prime, so the pattern never lines up with a segment). */
export const MOD = 251;

/** Byte i of the chargen stream. */
export function chargenByte(i: number): number {
  const line = Math.floor(i / CHARGEN_LINE_BYTES);
  const col = i - line * CHARGEN_LINE_BYTES;
  if (col === CHARGEN_LINE) return 13;
  if (col === CHARGEN_LINE + 1) return 10;
  return 32 + ((line + col) % 95);
}

/** What a set of services needs of their shared memory. */
export interface AppBufferNeeds {
  /** the chargen stream (chargen) */
  chargen?: boolean;
  /** the i % 251 stream (iperf, HTTP's /bytes) */
  mod?: boolean;
  /** HTTP request buffers, one per connection served at once (default 0) */
  requestBuffers?: number;
  /** bytes of each request buffer: a request's line and headers (larger: 431) */
  requestBytes?: number;
}

export interface AppBufferSizes extends AppBufferNeeds {
  /** largest read or write a service makes at once */
  chunkBytes: number;
}

export class AppBuffers {
  readonly chunk: number;
  /** the whole arena */
  readonly arena: Uint8Array;
  readonly scratch: Uint8Array;
  /** chargen stream from any offset below CHARGEN_PERIOD, chunk bytes long (empty when not asked for) */
  readonly chargen: Uint8Array;
  /** i % 251 from any offset below 251, chunk bytes long (empty when not asked for) */
  readonly mod: Uint8Array;
  readonly requests: Uint8Array[] = [];
  /** zero bytes over the arena: write(empty) asks a socket how much it may take now */
  readonly empty: Uint8Array;
  #last: Uint8Array;

  constructor(sizes: AppBufferSizes) {
    const chunk = sizes.chunkBytes;
    const requestBuffers = sizes.requestBuffers ?? 0;
    const requestBytes = requestBuffers > 0 ? sizes.requestBytes ?? 2048 : 0;
    if (!Number.isInteger(chunk) || chunk < 512) throw new RangeError(`app buffers: chunkBytes must be an integer >= 512, got ${chunk}`);
    if (!Number.isInteger(requestBuffers) || requestBuffers < 0) throw new RangeError(`app buffers: requestBuffers must be an integer >= 0, got ${requestBuffers}`);
    if (requestBuffers > 0 && (!Number.isInteger(requestBytes) || requestBytes < 64)) throw new RangeError(`app buffers: requestBytes must be an integer >= 64, got ${requestBytes}`);
    this.chunk = chunk;
    const chargenBytes = sizes.chargen === true ? CHARGEN_PERIOD + chunk : 0;
    const modBytes = sizes.mod === true ? MOD + chunk : 0;
    const arena = new Uint8Array(chunk + chargenBytes + modBytes + requestBuffers * requestBytes);
    this.arena = arena;
    let at = 0;
    this.scratch = arena.subarray(at, (at += chunk));
    this.chargen = arena.subarray(at, (at += chargenBytes));
    this.mod = arena.subarray(at, (at += modBytes));
    for (let i = 0; i < requestBuffers; i++) this.requests.push(arena.subarray(at, (at += requestBytes)));
    this.empty = arena.subarray(0, 0);
    this.#last = this.scratch;
    // The chargen pattern line by line, as lwip-udpdev.c's make_pattern.
    const cg = this.chargen;
    for (let k = 0, line = 0; k < cg.length; line++) {
      for (let c = 0; c < CHARGEN_LINE && k < cg.length; c++) cg[k++] = 32 + ((line + c) % 95);
      if (k < cg.length) cg[k++] = 13;
      if (k < cg.length) cg[k++] = 10;
    }
    const mod = this.mod;
    for (let k = 0; k < mod.length; k++) mod[k] = k % MOD;
  }

  /** Throw, naming the service, when these buffers lack what it needs. */
  check(needs: AppBufferNeeds, who: string): void {
    if (needs.chargen === true && this.chargen.length === 0) throw new RangeError(`${who}: its buffers have no chargen pattern (chargen: true)`);
    if (needs.mod === true && this.mod.length === 0) throw new RangeError(`${who}: its buffers have no i % 251 pattern (mod: true)`);
    if ((needs.requestBuffers ?? 0) > this.requests.length) throw new RangeError(`${who}: its buffers have ${this.requests.length} request buffers, ${needs.requestBuffers} needed`);
  }

  /** The first n bytes of scratch (n <= chunk); the last view is kept, so a run of equal sizes allocates nothing. */
  scratchView(n: number): Uint8Array {
    if (this.#last.length !== n) this.#last = this.scratch.subarray(0, n);
    return this.#last;
  }

  /** Copy an ASCII string's characters [from, from + n) into scratch[at, at + n). */
  putAscii(s: string, from: number, n: number, at: number): void {
    const dst = this.scratch;
    for (let i = 0; i < n; i++) dst[at + i] = s.charCodeAt(from + i);
  }
}

/** Read and drop `n` bytes (n <= what the socket holds), a chunk at a time. */
export function discardBytes(b: AppBuffers, sock: TcpSocket, n: number): void {
  const chunk = b.chunk;
  while (n > 0) {
    const k = n < chunk ? n : chunk;
    sock.read(b.scratchView(k));
    n -= k;
  }
}

/** A service's connection as a clean close needs it. */
export interface ClosingConn {
  closed: boolean;
  /** bytes reported readable and not yet read */
  avail: number;
  readonly service: { readonly buffers: AppBuffers; untrack(sock: TcpSocket): void };
}

/** Close after reading away the `unread` bytes (unread bytes would turn the close into a reset). */
export function drainAndClose(b: AppBuffers, sock: TcpSocket, unread: number): void {
  try {
    discardBytes(b, sock, unread);
  } catch {
    // reset already: nothing to read
  }
  sock.close();
}

/** Close a service's connection once, reading away what is unread first. */
export function closeConn(sock: TcpSocket, conn: ClosingConn): void {
  if (conn.closed) return;
  conn.closed = true;
  drainAndClose(conn.service.buffers, sock, conn.avail);
  conn.avail = 0;
  conn.service.untrack(sock);
}
