// The keyed hashes of one stack's TCP (Linux net/core/secure_seq.c and syncookies.c):
// initial sequence numbers (RFC 6528), timestamp offsets (RFC 7323 5.4) and SYN cookies
// (RFC 4987 3.6), all HalfSipHash-2-4 with 32-bit output under secret keys drawn from the
// platform's random source. Time is passed in, in milliseconds.

/** MSS values a SYN cookie can carry (RFC 4987: a small table; the largest not above the peer's is used) */
export const COOKIE_MSS = Object.freeze([536, 1220, 1440, 1460] as const);

/** a cookie's clock ticks every 64 s; a cookie is good in its period and the next */
const COOKIE_PERIOD_MS = 64_000;

export interface RandomSource {
  random32(): number;
}

export class TcpSecrets {
  readonly #isnKey0: number;
  readonly #isnKey1: number;
  readonly #cookieKey0: number;
  readonly #cookieKey1: number;
  /** HalfSipHash state words */
  readonly #v = new Uint32Array(4);
  /** when a SYN cookie was last sent (-Infinity: never) */
  cookieSentAt = -Infinity;

  constructor(random: RandomSource) {
    this.#isnKey0 = random.random32();
    this.#isnKey1 = random.random32();
    this.#cookieKey0 = random.random32();
    this.#cookieKey1 = random.random32();
  }

  /** RFC 6528: ISN = M + F(4-tuple, secret), M a 4 µs clock, F a keyed hash (HalfSipHash-2-4). */
  isn(nowMs: number, laddr: number, lport: number, raddr: number, rport: number): number {
    const f = halfSipHash(this.#v, this.#isnKey0, this.#isnKey1, laddr, raddr, ((lport << 16) | rport) >>> 0);
    return (f + Math.floor(nowMs * 250)) >>> 0;
  }

  /** RFC 7323 5.4: a timestamp offset per connection, from a keyed hash (the peer cannot learn our uptime). */
  tsOffset(laddr: number, lport: number, raddr: number, rport: number): number {
    return halfSipHash(this.#v, this.#isnKey1, this.#isnKey0, raddr, laddr, ((rport << 16) | lport) >>> 0);
  }

  /**
   * A SYN cookie (RFC 4987 3.6): our ISN carries a keyed hash of the 4-tuple, the peer's
   * ISN and a 64-second clock, with the MSS as an index in the low two bits, so a listener
   * whose SYN queue is full keeps no state until the handshake's ACK comes back. `age`:
   * periods back from now.
   */
  cookie(nowMs: number, laddr: number, lport: number, raddr: number, rport: number, peerIsn: number, mssIndex: number, age = 0): number {
    const clock = Math.floor(nowMs / COOKIE_PERIOD_MS) - age;
    const h = halfSipHash(this.#v, this.#cookieKey0, this.#cookieKey1, (laddr ^ peerIsn) >>> 0, (raddr ^ clock) >>> 0, ((lport << 16) | rport) >>> 0);
    return ((h & ~3) | mssIndex) >>> 0;
  }

  /** Were cookies sent within the two periods a cookie stays valid? */
  cookiesRecent(nowMs: number): boolean {
    return nowMs - this.cookieSentAt < 2 * COOKIE_PERIOD_MS;
  }

  /** The MSS of a valid cookie (made in this or the last period), or 0. */
  checkCookie(nowMs: number, laddr: number, lport: number, raddr: number, rport: number, peerIsn: number, cookie: number): number {
    const index = cookie & 3;
    for (let age = 0; age < 2; age++) {
      if (this.cookie(nowMs, laddr, lport, raddr, rport, peerIsn, index, age) === cookie) return COOKIE_MSS[index];
    }
    return 0;
  }
}

// HalfSipHash-2-4 (Aumasson and Bernstein), 32-bit words, 64-bit key, 32-bit output: two
// rounds per message word, four to finish. Messages are whole little-endian words here,
// given as numbers.

function rotl(x: number, b: number): number {
  return ((x << b) | (x >>> (32 - b))) >>> 0;
}

function sipRound(v: Uint32Array): void {
  v[0] += v[1]; v[1] = rotl(v[1], 5); v[1] ^= v[0]; v[0] = rotl(v[0], 16);
  v[2] += v[3]; v[3] = rotl(v[3], 8); v[3] ^= v[2];
  v[0] += v[3]; v[3] = rotl(v[3], 7); v[3] ^= v[0];
  v[2] += v[1]; v[1] = rotl(v[1], 13); v[1] ^= v[2]; v[2] = rotl(v[2], 16);
}

/** Start a hash under the key (k0, k1): the key's first and second little-endian words. */
export function halfSipInit(v: Uint32Array, k0: number, k1: number): void {
  v[0] = k0;
  v[1] = k1;
  v[2] = 0x6c796765 ^ k0;
  v[3] = 0x74656462 ^ k1;
}

/** Take one message word (four bytes, little-endian). */
export function halfSipWord(v: Uint32Array, m: number): void {
  v[3] ^= m;
  sipRound(v);
  sipRound(v);
  v[0] ^= m;
}

/** Finish: `last` is the message length in the top byte, the 0-3 bytes after the last whole word below it. */
export function halfSipFinal(v: Uint32Array, last: number): number {
  v[3] ^= last;
  sipRound(v);
  sipRound(v);
  v[0] ^= last;
  v[2] ^= 0xff;
  sipRound(v);
  sipRound(v);
  sipRound(v);
  sipRound(v);
  return (v[1] ^ v[3]) >>> 0;
}

/** HalfSipHash-2-4 of a 12-byte message, three words, under (k0, k1): the RFC 6528 F(). */
export function halfSipHash(v: Uint32Array, k0: number, k1: number, m0: number, m1: number, m2: number): number {
  halfSipInit(v, k0, k1);
  halfSipWord(v, m0);
  halfSipWord(v, m1);
  halfSipWord(v, m2);
  return halfSipFinal(v, (12 << 24) >>> 0);
}
