// Deterministic pseudo-random numbers for the simulator: xoshiro128** (Blackman and Vigna,
// https://prng.di.unimi.it/xoshiro128starstar.c), its 128-bit state filled from a single
// uint32 seed by splitmix32. Only 32-bit integer math (Math.imul, shifts), so the same seed
// gives the same sequence on V8 and on XS. Not for cryptography.
//
// One seed feeds a whole scenario; every consumer (each link direction, each host) takes
// its own generator with fork(salt), so adding a consumer does not shift anyone else's
// sequence (TigerBeetle's VOPR, smoltcp's netsim).
//
// Node-free: this file also runs inside XS.

/** splitmix32's output function (a good 32-bit avalanche hash). */
export function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x21f0aaad);
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

const GOLDEN = 0x9e3779b9;
const TWO_POW_32 = 4294967296;

export class Prng {
  /** the uint32 this generator was seeded with (fork derives from it, not from the state) */
  readonly seed: number;
  #s0 = 0;
  #s1 = 0;
  #s2 = 0;
  #s3 = 0;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`Prng seed must be a finite number, got ${seed}`);
    this.seed = seed >>> 0;
    // splitmix32: a Weyl sequence through the mixer. Four consecutive outputs are never all
    // zero (the mixer is a bijection of distinct inputs), which xoshiro forbids.
    let s = this.seed;
    s = (s + GOLDEN) >>> 0;
    this.#s0 = mix32(s);
    s = (s + GOLDEN) >>> 0;
    this.#s1 = mix32(s);
    s = (s + GOLDEN) >>> 0;
    this.#s2 = mix32(s);
    s = (s + GOLDEN) >>> 0;
    this.#s3 = mix32(s);
  }

  /**
   * A generator with its state set directly (for checking against the reference vectors).
   * The state must not be all zero.
   */
  static fromState(s0: number, s1: number, s2: number, s3: number): Prng {
    if ((s0 | s1 | s2 | s3) === 0) throw new RangeError("xoshiro128** state must not be all zero");
    const p = new Prng(0);
    p.#s0 = s0 >>> 0;
    p.#s1 = s1 >>> 0;
    p.#s2 = s2 >>> 0;
    p.#s3 = s3 >>> 0;
    return p;
  }

  /** next uint32 (xoshiro128**) */
  next32(): number {
    const s1 = this.#s1;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= s1;
    this.#s1 = s1 ^ this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    const s3 = this.#s3;
    this.#s3 = (s3 << 11) | (s3 >>> 21);
    return result;
  }

  /** uniform in [0, 1), 32 bits of resolution */
  nextFloat(): number {
    return this.next32() / TWO_POW_32;
  }

  /** uniform integer in [0, n), n a positive integer up to 2^32 (multiply-high, no modulo) */
  nextInt(n: number): number {
    if (!(n > 0 && n <= TWO_POW_32)) throw new RangeError(`Prng.nextInt bound must be in 1..2^32, got ${n}`);
    return Math.floor((this.next32() / TWO_POW_32) * n);
  }

  /**
   * true with probability p. p <= 0 and p >= 1 draw nothing, so a fault rate of zero costs
   * nothing and does not move the sequence.
   */
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.next32() / TWO_POW_32 < p;
  }

  /**
   * An independent generator derived from this generator's seed and a salt; it does not
   * consume from (or depend on the current state of) this generator. Set-up time only.
   */
  fork(salt: number): Prng {
    return new Prng(mix32((this.seed ^ mix32((salt >>> 0) ^ 0x5bd1e995)) >>> 0) ^ mix32((salt + GOLDEN) >>> 0));
  }
}
