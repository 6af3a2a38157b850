// The relay's decisions and its forwarding, without sockets: a fake clock stands in for
// the timers and an array for the socket. The relay on real sockets runs in test/linux.

import { describe, expect, it } from "vitest";
import {
  FaultDecider, NO_RELAY_FAULTS, RelayDirection, TO_DEVICE, TO_LINUX, UdpRelay, formatRelayStats, parseRelayLine, relayFaults,
  type RelayFaults, type RelayStats, type RelayTimers,
} from "../../host-sim/relay";
import { write32 } from "../../src/wire/bytes";
import { ETH_HLEN } from "../../src/wire/ethernet";
import { ethFrame } from "../packets";

/** Timers that fire only when the test advances the clock, in (due time, order set) order. */
class FakeTimers implements RelayTimers {
  now = 0;
  #seq = 0;
  readonly #pending = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq;
    this.#pending.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#pending.delete(handle as number);
  }
  get pending(): number {
    return this.#pending.size;
  }
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | null = null;
      for (const e of this.#pending) if (e[1].at <= end && (next === null || e[1].at < next[1].at)) next = e;
      if (next === null) break;
      this.#pending.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
    }
    this.now = end;
  }
}

const ANY_MAC = new Uint8Array(6).fill(0xee);

/** A 64-byte frame (ethertype 0x88b5, local experimental) numbered k (bytes 14..17), the rest a filler that depends on k. */
function frame(k: number, len = 64): Uint8Array {
  const payload = new Uint8Array(len - ETH_HLEN).map((_, i) => (k * 7 + ETH_HLEN + i) & 0xff);
  write32(payload, 0, k);
  return ethFrame(ANY_MAC, ANY_MAC, 0x88b5, payload);
}

function numberOf(f: Uint8Array): number {
  return new DataView(f.buffer, f.byteOffset).getUint32(14);
}

function fates(seed: number, salt: number, faults: Partial<RelayFaults>, n: number, len = 1000): string[] {
  const d = new FaultDecider(seed, salt, faults);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const x = d.decide(len);
    out.push(`${x.lose ? "L" : ""}${x.hold ? "H" : ""}${x.duplicate ? "D" : ""}${x.corruptBit >= 0 ? `C${x.corruptBit}` : ""}`);
  }
  return out;
}

const LOSSY: Partial<RelayFaults> = { lossRate: 0.05, reorderRate: 0.05, holdMs: 5, duplicateRate: 0.01, corruptRate: 0.01 };

function balance(s: RelayStats, held: number): void {
  expect(s.in - s.lost + s.duplicated, formatRelayStats(s, held)).toBe(s.out + held + s.discardedAtStop);
}

describe("relay fault decisions", () => {
  it("are a function of the seed: the same seed gives the same fates, another seed others", () => {
    const a = fates(42, TO_DEVICE, LOSSY, 20_000);
    expect(fates(42, TO_DEVICE, LOSSY, 20_000)).toEqual(a);
    const b = fates(43, TO_DEVICE, LOSSY, 20_000);
    expect(b).not.toEqual(a);
    // and each direction has its own sequence
    expect(fates(42, TO_LINUX, LOSSY, 20_000)).not.toEqual(a);
  });

  it("hit their rates", () => {
    const n = 200_000;
    const d = new FaultDecider(7, TO_DEVICE, LOSSY);
    let lost = 0, held = 0, dup = 0, corrupt = 0;
    for (let i = 0; i < n; i++) {
      const x = d.decide(1514);
      if (x.lose) lost++;
      if (x.hold) held++;
      if (x.duplicate) dup++;
      if (x.corruptBit >= 0) corrupt++;
    }
    // within 5 standard deviations of n p
    const near = (count: number, p: number): void => {
      const sd = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(count - n * p), `${count} of ${n} at p=${p}`).toBeLessThan(5 * sd);
    };
    near(lost, 0.05);
    near(held, 0.05);
    near(dup, 0.01);
    near(corrupt, 0.01);
    expect(d.frames).toBe(n);
  });

  it("of one kind do not move when another kind is turned on or off", () => {
    const lossOnly = fates(9, TO_LINUX, { lossRate: 0.05 }, 5000).map((f) => f.includes("L"));
    const all = fates(9, TO_LINUX, LOSSY, 5000).map((f) => f.includes("L"));
    expect(all).toEqual(lossOnly);
    const holdOnly = fates(9, TO_LINUX, { reorderRate: 0.05 }, 5000).map((f) => f.includes("H"));
    expect(fates(9, TO_LINUX, LOSSY, 5000).map((f) => f.includes("H"))).toEqual(holdOnly);
    // nor with the frame lengths (the flipped bit's position aside)
    const short = fates(9, TO_LINUX, LOSSY, 5000, 60).map((f) => f.replace(/C\d+/, "C"));
    const long = fates(9, TO_LINUX, LOSSY, 5000, 1514).map((f) => f.replace(/C\d+/, "C"));
    expect(short).toEqual(long);
  });

  it("flip a bit past the Ethernet header, inside the frame", () => {
    const d = new FaultDecider(3, TO_DEVICE, { corruptRate: 1 });
    const seen = new Set<number>();
    for (let i = 0; i < 5000; i++) {
      const len = 15 + (i % 1500);
      const bit = d.decide(len).corruptBit;
      expect(bit).toBeGreaterThanOrEqual(14 * 8);
      expect(bit).toBeLessThan(len * 8);
      seen.add(bit & 7);
    }
    expect(seen.size).toBe(8);
    // a frame no longer than the header still gets its flip, inside it
    for (let len = 1; len <= 14; len++) {
      const bit = d.decide(len).corruptBit;
      expect(bit).toBeGreaterThanOrEqual(0);
      expect(bit).toBeLessThan(len * 8);
    }
  });

  it("with no faults, decide nothing", () => {
    expect(fates(1, TO_DEVICE, NO_RELAY_FAULTS, 1000).every((f) => f === "")).toBe(true);
  });

  it("refuse bad settings by name", () => {
    expect(() => relayFaults({ lossRate: 1.5 })).toThrow(/lossRate/);
    expect(() => relayFaults({ reorderRate: -0.1 })).toThrow(/reorderRate/);
    expect(() => relayFaults({ duplicateRate: Number.NaN })).toThrow(/duplicateRate/);
    expect(() => relayFaults({ corruptRate: 2 })).toThrow(/corruptRate/);
    expect(() => relayFaults({ holdMs: -1 })).toThrow(/holdMs/);
    expect(() => new FaultDecider(-1, TO_DEVICE)).toThrow(/seed/);
    expect(() => new FaultDecider(2 ** 32, TO_DEVICE)).toThrow(/seed/);
    const side = { localPort: 1, remotePort: 2 };
    expect(() => new UdpRelay({ socat: { localPort: 0, remotePort: 2 }, device: side, seed: 1 })).toThrow(/socat-side local port/);
    expect(() => new UdpRelay({ socat: side, device: { localPort: 1, remotePort: 70000 }, seed: 1 })).toThrow(/device-side remote port/);
  });
});

describe("relay direction (fake clock, no sockets)", () => {
  function direction(faults: Partial<RelayFaults>, seed = 5, heldMax?: number) {
    const timers = new FakeTimers();
    const sent: Uint8Array[] = [];
    const dir = new RelayDirection("test", new FaultDecider(seed, TO_DEVICE, faults), (f) => sent.push(f.slice()), timers, heldMax);
    return { timers, sent, dir };
  }

  it("forwards every frame in order, unchanged, with no faults", () => {
    const { sent, dir, timers } = direction({});
    for (let k = 0; k < 100; k++) dir.input(frame(k));
    expect(sent.map(numberOf)).toEqual([...Array(100).keys()]);
    for (let k = 0; k < 100; k++) expect(sent[k]).toEqual(frame(k));
    expect(timers.pending).toBe(0);
    balance(dir.stats, dir.heldNow);
    expect(dir.stats.out).toBe(100);
  });

  it("loses exactly the frames its decider loses", () => {
    const faults = { lossRate: 0.2 };
    const { sent, dir } = direction(faults, 11);
    const ref = new FaultDecider(11, TO_DEVICE, faults);
    const expected: number[] = [];
    for (let k = 0; k < 2000; k++) {
      if (!ref.decide(64).lose) expected.push(k);
      dir.input(frame(k));
    }
    expect(sent.map(numberOf)).toEqual(expected);
    expect(dir.stats.lost).toBe(2000 - expected.length);
    balance(dir.stats, dir.heldNow);
  });

  it("holds a frame holdMs while later frames overtake it", () => {
    const faults = { reorderRate: 0.1, holdMs: 5 };
    const { sent, dir, timers } = direction(faults, 21);
    const ref = new FaultDecider(21, TO_DEVICE, faults);
    const heldAt = new Map<number, number>();
    for (let k = 0; k < 500; k++) {
      if (ref.decide(64).hold) heldAt.set(k, timers.now);
      dir.input(frame(k));
      timers.advance(1); // one frame a millisecond
      balance(dir.stats, dir.heldNow);
    }
    timers.advance(10);
    const order = sent.map(numberOf);
    expect(order.slice().sort((a, b) => a - b)).toEqual([...Array(500).keys()]);
    expect(heldAt.size).toBeGreaterThan(20);
    expect(dir.stats.reordered).toBe(heldAt.size);
    // each held frame k comes out after the frames k+1 .. k+4 (sent at +1..+4 ms), before k+6
    for (const k of heldAt.keys()) {
      if (k + 6 >= 500) continue;
      const at = order.indexOf(k);
      for (let j = k + 1; j <= k + 4; j++) if (!heldAt.has(j)) expect(order.indexOf(j), `frame ${j} before held ${k}`).toBeLessThan(at);
      if (!heldAt.has(k + 6)) expect(order.indexOf(k + 6)).toBeGreaterThan(at);
    }
    expect(dir.heldNow).toBe(0);
    balance(dir.stats, 0);
  });

  it("sends a duplicate right after the original, and a held duplicate twice when released", () => {
    const faults = { duplicateRate: 0.1, reorderRate: 0.3, holdMs: 3 };
    const { sent, dir, timers } = direction(faults, 33);
    const ref = new FaultDecider(33, TO_DEVICE, faults);
    let dups = 0;
    for (let k = 0; k < 1000; k++) {
      if (ref.decide(64).duplicate) dups++;
      dir.input(frame(k));
      timers.advance(1);
    }
    timers.advance(5);
    expect(dir.stats.duplicated).toBe(dups);
    expect(sent.length).toBe(1000 + dups);
    const counts = new Map<number, number>();
    for (const f of sent) counts.set(numberOf(f), (counts.get(numberOf(f)) ?? 0) + 1);
    expect([...counts.values()].filter((c) => c === 2).length).toBe(dups);
    // copies are adjacent
    for (let i = 0; i < sent.length; i++) {
      const k = numberOf(sent[i]);
      if (counts.get(k) === 2 && (i === 0 || numberOf(sent[i - 1]) !== k)) expect(numberOf(sent[i + 1])).toBe(k);
    }
    balance(dir.stats, dir.heldNow);
  });

  it("flips exactly the decided bit, and counts it", () => {
    const faults = { corruptRate: 0.5 };
    const { sent, dir } = direction(faults, 44);
    const ref = new FaultDecider(44, TO_DEVICE, faults);
    for (let k = 0; k < 200; k++) {
      const bit = ref.decide(100).corruptBit;
      dir.input(frame(k, 100));
      const want = frame(k, 100);
      if (bit >= 0) want[bit >> 3] ^= 0x80 >> (bit & 7);
      expect(sent[k]).toEqual(want);
      // one bit, past the Ethernet header
      let diff = 0;
      const orig = frame(k, 100);
      for (let i = 0; i < 100; i++) if (orig[i] !== sent[k][i]) diff += i >= 14 ? 1 : 100;
      expect(diff).toBe(bit >= 0 ? 1 : 0);
    }
    expect(dir.stats.corrupted).toBeGreaterThan(60);
    expect(dir.stats.corrupted).toBeLessThan(140);
  });

  it("bounds the held frames, and counts what it dropped at stop", () => {
    const { sent, dir, timers } = direction({ reorderRate: 1, holdMs: 1000, duplicateRate: 0.5 }, 55, 8);
    for (let k = 0; k < 20; k++) dir.input(frame(k));
    expect(dir.stats.reordered).toBe(8);
    expect(dir.stats.holdOverflow).toBe(12);
    expect(timers.pending).toBe(8);
    balance(dir.stats, dir.heldNow);
    const before = sent.length;
    dir.stop();
    expect(timers.pending).toBe(0);
    expect(dir.heldNow).toBe(0);
    dir.input(frame(99)); // after stop: counted, not sent
    timers.advance(2000);
    expect(sent.length).toBe(before);
    expect(dir.stats.discardedAtStop).toBeGreaterThanOrEqual(9);
    balance(dir.stats, 0);
  });

  it("prints counters that parse back", () => {
    const { dir } = direction(LOSSY, 66);
    for (let k = 0; k < 300; k++) dir.input(frame(k));
    const parsed = parseRelayLine(`relay test: ${dir.format()}`);
    expect(parsed.in).toBe(300);
    expect(parsed.lost).toBe(dir.stats.lost);
    expect(parsed.out).toBe(dir.stats.out);
    expect(parsed.held).toBe(dir.heldNow);
    dir.stop();
  });
});
