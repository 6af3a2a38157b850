import { describe, expect, it } from "vitest";
import { Prng, mix32 } from "../../host-sim/sim/prng";

function take(p: Prng, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(p.next32());
  return out;
}

describe("Prng", () => {
  it("matches the xoshiro128** reference output for state {1, 2, 3, 4}", () => {
    // first outputs of the reference C code (prng.di.unimi.it/xoshiro128starstar.c)
    expect(take(Prng.fromState(1, 2, 3, 4), 6)).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it("keeps a stable sequence for a seed (replays depend on it)", () => {
    expect(take(new Prng(42), 6)).toEqual([660444221, 3652823732, 77672526, 910233633, 2297337756, 3786072677]);
    expect(take(new Prng(0), 3)).toEqual([1789933344, 44971166, 2521387044]);
    const f = new Prng(42).fork(1);
    expect(f.seed).toBe(2550601440);
    expect(take(f, 3)).toEqual([3494582291, 2893788077, 3879360988]);
  });

  it("is a function of the seed only", () => {
    expect(take(new Prng(7), 100)).toEqual(take(new Prng(7), 100));
    expect(take(new Prng(7), 10)).not.toEqual(take(new Prng(8), 10));
    expect(new Prng(-1).seed).toBe(0xffffffff);
    expect(take(new Prng(-1), 5)).toEqual(take(new Prng(0xffffffff), 5));
  });

  it("returns uint32, floats in [0, 1), ints in [0, n)", () => {
    const p = new Prng(1234);
    for (let i = 0; i < 10000; i++) {
      const u = p.next32();
      expect(u >>> 0).toBe(u);
      const f = p.nextFloat();
      expect(f >= 0 && f < 1).toBe(true);
      const k = p.nextInt(7);
      expect(Number.isInteger(k) && k >= 0 && k < 7).toBe(true);
    }
    expect(() => p.nextInt(0)).toThrow(RangeError);
  });

  it("is roughly uniform", () => {
    const p = new Prng(99);
    const buckets = new Array<number>(10).fill(0);
    const n = 100000;
    for (let i = 0; i < n; i++) buckets[p.nextInt(10)]++;
    for (const b of buckets) expect(Math.abs(b - n / 10)).toBeLessThan(600); // ~6 sigma
    let hits = 0;
    for (let i = 0; i < n; i++) if (p.chance(0.25)) hits++;
    expect(Math.abs(hits / n - 0.25)).toBeLessThan(0.01);
  });

  it("chance(0) and chance(1) decide without drawing", () => {
    const a = new Prng(5);
    const b = new Prng(5);
    expect(a.chance(0)).toBe(false);
    expect(a.chance(1)).toBe(true);
    expect(a.next32()).toBe(b.next32());
  });

  it("forks independent generators without disturbing the parent", () => {
    const parent = new Prng(2024);
    const before = take(new Prng(2024), 5);
    const a = parent.fork(1);
    const b = parent.fork(2);
    expect(take(parent, 5)).toEqual(before);
    // same (seed, salt) -> same child, whatever the parent's state
    expect(take(parent.fork(1), 20)).toEqual(take(new Prng(2024).fork(1), 20));
    const sa = take(a, 1000);
    const sb = take(b, 1000);
    expect(sa).not.toEqual(sb);
    expect(sa.slice(0, 20)).not.toEqual(before.slice(0, 20));
    // no shared prefix or lockstep: few equal values at equal positions
    let same = 0;
    for (let i = 0; i < 1000; i++) if (sa[i] === sb[i]) same++;
    expect(same).toBe(0);
    // children of different parents differ on the same salt
    expect(take(new Prng(1).fork(3), 5)).not.toEqual(take(new Prng(2).fork(3), 5));
    // (from, to) salts of a small LAN give distinct seeds
    const seeds = new Set<number>();
    for (let from = 0; from < 32; from++) for (let to = 0; to < 32; to++) seeds.add(parent.fork((from << 16) | to).seed);
    expect(seeds.size).toBe(32 * 32);
  });

  it("mix32 is a bijection on a sample (no collisions)", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 100000; i++) seen.add(mix32(i));
    expect(seen.size).toBe(100000);
  });
});
