import { describe, expect, it } from "vitest";
import { TimerWheel, type Timer } from "../../src/core/timer";

/** A wheel whose callbacks log (arg, time of the run) into `fired`. */
function wheel(capacity = 16, slots = 16, tickMs = 1) {
  const w = new TimerWheel(capacity, slots, tickMs);
  const fired: [number, number][] = [];
  let now = 0;
  const cb = (arg: number): void => {
    fired.push([arg, now]);
  };
  const make = (arg: number): Timer => w.create(cb, arg);
  const run = (t: number): number => {
    now = t;
    return w.run(t);
  };
  return { w, fired, make, run };
}

describe("TimerWheel", () => {
  it("refuses more timers than its capacity", () => {
    const w = new TimerWheel(2, 8, 1);
    w.create(() => {});
    w.create(() => {});
    expect(() => w.create(() => {})).toThrow(RangeError);
    expect(() => w.create(() => {})).toThrow(/timersMax \(2\)/);
  });

  it("fires a timer at its expiry, not before, and once", () => {
    const { w, fired, make, run } = wheel();
    const t = make(1);
    w.mod(t, 10);
    expect(t.pending).toBe(true);
    expect(w.pendingCount).toBe(1);
    expect(w.nextExpiry()).toBe(10);
    expect(run(0)).toBe(0);
    expect(run(9)).toBe(0);
    expect(fired).toEqual([]);
    expect(run(10)).toBe(1);
    expect(fired).toEqual([[1, 10]]);
    expect(t.pending).toBe(false);
    expect(w.pendingCount).toBe(0);
    expect(w.nextExpiry()).toBe(Infinity);
    expect(run(11)).toBe(0);
    expect(run(100)).toBe(0);
    expect(w.fired).toBe(1);
  });

  it("fires every timer due in one run, however far time jumped", () => {
    const { w, fired, make, run } = wheel();
    const ts = [make(0), make(1), make(2), make(3)];
    run(0);
    w.mod(ts[0], 3);
    w.mod(ts[1], 7);
    w.mod(ts[2], 7);
    w.mod(ts[3], 12);
    expect(run(8)).toBe(3);
    expect(fired.map(([a]) => a).sort()).toEqual([0, 1, 2]);
    expect(w.nextExpiry()).toBe(12);
    expect(run(12)).toBe(1);
    expect(w.fired).toBe(4);
  });

  it("keeps a timer more than one lap away in its slot until its own time", () => {
    const { w, fired, make, run } = wheel(4, 16, 1);
    run(0);
    const t = make(5);
    w.mod(t, 40); // 2.5 laps of a 16-slot wheel
    for (let now = 1; now < 40; now++) expect(run(now), `at ${now}`).toBe(0);
    expect(run(40)).toBe(1);
    expect(fired).toEqual([[5, 40]]);
  });

  it("fires a far timer after a jump longer than the wheel", () => {
    const { w, make, run } = wheel(4, 16, 1);
    run(0);
    const t = make(5);
    w.mod(t, 40);
    expect(run(1000)).toBe(1);
  });

  it("del disarms; del of an idle timer is harmless", () => {
    const { w, fired, make, run } = wheel();
    const a = make(1);
    const b = make(2);
    w.mod(a, 5);
    w.mod(b, 6);
    w.del(a);
    w.del(a);
    expect(a.pending).toBe(false);
    expect(w.pendingCount).toBe(1);
    expect(w.nextExpiry()).toBe(6);
    run(10);
    expect(fired).toEqual([[2, 10]]);
    w.del(b);
    expect(w.pendingCount).toBe(0);
  });

  it("mod re-arms a pending timer: it moves, it does not fire twice", () => {
    const { w, fired, make, run } = wheel();
    const t = make(1);
    w.mod(t, 5);
    w.mod(t, 9);
    expect(w.pendingCount).toBe(1);
    expect(w.nextExpiry()).toBe(9); // not the 5 it was armed for first
    expect(run(5)).toBe(0);
    expect(run(9)).toBe(1);
    w.mod(t, 20);
    w.mod(t, 12); // earlier
    expect(w.nextExpiry()).toBe(12);
    expect(run(12)).toBe(1);
    expect(fired).toEqual([[1, 9], [1, 12]]);
  });

  it("fires a timer armed in the past at the next run", () => {
    const { w, make, run } = wheel();
    run(50);
    const t = make(1);
    w.mod(t, 20);
    expect(w.nextExpiry()).toBe(20);
    expect(run(50)).toBe(1);
  });

  it("a callback that re-arms its timer for now runs again in the next run, not in a loop", () => {
    const w = new TimerWheel(2, 16, 1);
    let now = 0;
    let calls = 0;
    const t: Timer = w.create(() => {
      calls++;
      w.mod(t, now);
    });
    w.mod(t, 3);
    now = 3;
    expect(w.run(3)).toBe(1);
    expect(calls).toBe(1);
    expect(t.pending).toBe(true);
    expect(w.run(3)).toBe(1);
    expect(calls).toBe(2);
  });

  it("fires timers with fractional expiries inside one tick at their own times", () => {
    // Two timers in the same millisecond: the run at the first must not strand the second.
    const { w, fired, make, run } = wheel(4, 16, 1);
    run(0);
    const a = make(1);
    const b = make(2);
    w.mod(a, 10.2);
    w.mod(b, 10.5);
    expect(run(10)).toBe(0);
    expect(run(10.2)).toBe(1);
    expect(run(10.4)).toBe(0);
    expect(run(10.5)).toBe(1);
    expect(fired).toEqual([[1, 10.2], [2, 10.5]]);
    expect(w.pendingCount).toBe(0);
  });

  it("a run at a fractional time fires what is due then, with a coarse tick", () => {
    const { w, fired, make, run } = wheel(4, 16, 10);
    run(0);
    const a = make(1);
    const b = make(2);
    w.mod(a, 25);
    w.mod(b, 29);
    expect(run(24.9)).toBe(0);
    expect(run(25)).toBe(1);
    expect(run(28)).toBe(0);
    expect(run(29.5)).toBe(1);
    expect(fired).toEqual([[1, 25], [2, 29.5]]);
  });
});
