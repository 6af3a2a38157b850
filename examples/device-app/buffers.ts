// The app's memory, made once at start: one ArrayBuffer carved into a scratch chunk (what
// reads land in and echoes leave from), the chargen pattern, the /bytes pattern and the
// HTTP request buffers. One ArrayBuffer for all of it, so a socket makes its DataView over
// the application's bytes once (src/socket/tcp.ts keeps one per ArrayBuffer) and every read
// and write after that allocates at most a view header.

import type { TcpSocket } from "../../src/index";

/** RFC 864 chargen as lwIP's anchor device makes it: line L is 72 characters from the
 * printable set 32..126 starting at L % 95, then CR LF; the stream repeats after 95 lines. */
export const CHARGEN_LINE = 72;
export const CHARGEN_LINE_BYTES = CHARGEN_LINE + 2;
export const CHARGEN_PERIOD = 95 * CHARGEN_LINE_BYTES;

/** /bytes/N and the client mode: byte i of the stream is i % 251 (a prime, so the pattern never lines up with a segment). */
export const MOD = 251;

/** Byte i of the chargen stream. */
export function chargenByte(i: number): number {
  const line = Math.floor(i / CHARGEN_LINE_BYTES);
  const col = i - line * CHARGEN_LINE_BYTES;
  if (col === CHARGEN_LINE) return 13;
  if (col === CHARGEN_LINE + 1) return 10;
  return 32 + ((line + col) % 95);
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
  readonly app: { readonly buffers: AppBuffers; untrack(sock: TcpSocket): void };
}

/** Close a service's connection once, reading away what is unread first (unread bytes would turn the close into a reset). */
export function closeConn(sock: TcpSocket, conn: ClosingConn): void {
  if (conn.closed) return;
  conn.closed = true;
  try {
    discardBytes(conn.app.buffers, sock, conn.avail);
  } catch {
    // reset already: nothing to read
  }
  conn.avail = 0;
  sock.close();
  conn.app.untrack(sock);
}

export interface BufferSizes {
  /** largest read or write the app makes at once (default 65536) */
  chunkBytes: number;
  /** HTTP connections served at once, each with a request buffer */
  httpConnsMax: number;
  /** bytes of one HTTP request's line and headers (larger: 431) */
  httpRequestMax: number;
}

export class AppBuffers {
  readonly chunk: number;
  /** the whole arena */
  readonly arena: Uint8Array;
  readonly scratch: Uint8Array;
  /** chargen stream from any offset below CHARGEN_PERIOD, chunk bytes long */
  readonly chargen: Uint8Array;
  /** i % 251 from any offset below 251, chunk bytes long */
  readonly mod: Uint8Array;
  readonly http: Uint8Array[] = [];
  /** zero bytes over the arena: write(empty) asks a socket how much it may take now */
  readonly empty: Uint8Array;
  #last: Uint8Array;

  constructor(sizes: BufferSizes) {
    const chunk = sizes.chunkBytes;
    this.chunk = chunk;
    const total = chunk + (CHARGEN_PERIOD + chunk) + (MOD + chunk) + sizes.httpConnsMax * sizes.httpRequestMax;
    const arena = new Uint8Array(total);
    this.arena = arena;
    let at = 0;
    this.scratch = arena.subarray(at, (at += chunk));
    this.chargen = arena.subarray(at, (at += CHARGEN_PERIOD + chunk));
    this.mod = arena.subarray(at, (at += MOD + chunk));
    for (let i = 0; i < sizes.httpConnsMax; i++) this.http.push(arena.subarray(at, (at += sizes.httpRequestMax)));
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
