import { describe, expect, it } from "vitest";
import { EventLoop, type SimEventHandler } from "../../host-sim/sim/event-loop";
import { Prng } from "../../host-sim/sim/prng";

class Recorder implements SimEventHandler {
  readonly log: Array<[number, number]> = [];
  constructor(readonly loop: EventLoop) {}
  onSimEvent(arg: number): void {
    this.log.push([this.loop.now, arg]);
  }
}

describe("EventLoop", () => {
  it("runs events in time order and advances the clock", () => {
    const loop = new EventLoop(16);
    const r = new Recorder(loop);
    loop.at(30, r, 3);
    loop.at(10, r, 1);
    loop.at(20.5, r, 2);
    expect(loop.pending).toBe(3);
    expect(loop.nextTime).toBe(10);
    expect(loop.now).toBe(0);
    while (loop.step());
    expect(r.log).toEqual([
      [10, 1],
      [20.5, 2],
      [30, 3],
    ]);
    expect(loop.now).toBe(30);
    expect(loop.pending).toBe(0);
    expect(loop.eventsRun).toBe(3);
    expect(loop.step()).toBe(false);
    expect(loop.nextTime).toBe(Infinity);
  });

  it("breaks ties by insertion order", () => {
    const loop = new EventLoop(2048);
    const r = new Recorder(loop);
    // many events at few distinct times, scheduled in a shuffled time order
    const prng = new Prng(11);
    const expected: Array<[number, number]> = [];
    for (let i = 0; i < 1000; i++) {
      const t = prng.nextInt(5);
      loop.at(t, r, i);
      expected.push([t, i]);
    }
    expected.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    while (loop.step());
    expect(r.log).toEqual(expected);
  });

  it("orders events scheduled from inside events (same time goes after the ones already queued)", () => {
    const loop = new EventLoop(16);
    const order: number[] = [];
    const chain: SimEventHandler = {
      onSimEvent(arg) {
        order.push(arg);
        if (arg === 1) {
          loop.after(0, chain, 10); // same time as 2 and 3, but scheduled later
          loop.at(loop.now - 5, chain, 11); // in the past: clamped to now, after 10
        }
      },
    };
    loop.at(5, chain, 1);
    loop.at(5, chain, 2);
    loop.at(5, chain, 3);
    while (loop.step());
    expect(order).toEqual([1, 2, 3, 10, 11]);
    expect(loop.now).toBe(5);
  });

  it("clamps times in the past to now", () => {
    const loop = new EventLoop(4);
    const r = new Recorder(loop);
    loop.runUntil(100);
    expect(loop.now).toBe(100);
    loop.at(50, r, 1);
    loop.after(-10, r, 2);
    loop.step();
    loop.step();
    expect(r.log).toEqual([
      [100, 1],
      [100, 2],
    ]);
    expect(() => loop.at(NaN, r, 0)).toThrow(RangeError);
  });

  it("runUntil runs events up to and at the time, then sets now", () => {
    const loop = new EventLoop(8);
    const r = new Recorder(loop);
    loop.at(1, r, 1);
    loop.at(5, r, 5);
    loop.at(5.0001, r, 6);
    expect(loop.runUntil(5)).toBe(2);
    expect(loop.now).toBe(5);
    expect(loop.pending).toBe(1);
    expect(loop.runUntil(3)).toBe(0);
    expect(loop.now).toBe(5); // never goes back
    expect(loop.runUntil(50)).toBe(1);
    expect(loop.now).toBe(50);
  });

  it("runUntil stops after maxEvents without jumping over pending events", () => {
    const loop = new EventLoop(8);
    const again: SimEventHandler = { onSimEvent: () => loop.after(1, again, 0) }; // runs forever
    loop.at(0, again, 0);
    expect(loop.runUntil(1000, 10)).toBe(10);
    expect(loop.now).toBe(9);
    expect(loop.nextTime).toBe(10);
  });

  it("runWhile stops when the condition turns false, or at the time limit", () => {
    const loop = new EventLoop(8);
    let count = 0;
    const tick: SimEventHandler = {
      onSimEvent() {
        count++;
        loop.after(10, tick, 0);
      },
    };
    loop.at(10, tick, 0);
    expect(loop.runWhile(() => count < 3, 1000)).toBe(true);
    expect(count).toBe(3);
    expect(loop.now).toBe(30);
    // limit: only events within now + 25 run
    expect(loop.runWhile(() => count < 100, 25)).toBe(false);
    expect(count).toBe(5);
    expect(loop.now).toBe(55);
    // maxEvents
    expect(loop.runWhile(() => true, 1e9, 4)).toBe(false);
    expect(count).toBe(9);
    // a dry queue moves the clock to the limit
    const idle = new EventLoop(1);
    expect(idle.runWhile(() => true, 40)).toBe(false);
    expect(idle.now).toBe(40);
    expect(idle.runWhile(() => false, 40)).toBe(true);
    expect(idle.now).toBe(40);
  });

  it("throws a clear error when the queue is full, and keeps working after", () => {
    const loop = new EventLoop(3);
    const r = new Recorder(loop);
    loop.at(1, r, 1);
    loop.at(2, r, 2);
    loop.at(3, r, 3);
    expect(() => loop.at(4, r, 4)).toThrow(/capacity 3/);
    expect(loop.pending).toBe(3);
    while (loop.step());
    expect(r.log.map((e) => e[1])).toEqual([1, 2, 3]);
    expect(() => new EventLoop(0)).toThrow(RangeError);
  });

  it("matches a reference sort on a random workload interleaving pushes and pops", () => {
    const loop = new EventLoop(512);
    const prng = new Prng(77);
    const got: number[] = [];
    const h: SimEventHandler = { onSimEvent: (arg) => got.push(arg) };
    // model: list of [time, seq, arg]
    const model: Array<[number, number, number]> = [];
    const want: number[] = [];
    let seq = 0;
    for (let round = 0; round < 5000; round++) {
      if (model.length < 500 && (model.length === 0 || prng.chance(0.55))) {
        const t = loop.now + prng.nextInt(50) * 0.5;
        loop.at(t, h, round);
        model.push([t, seq++, round]);
      } else {
        model.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        want.push(model.shift()![2]);
        loop.step();
      }
    }
    expect(got).toEqual(want);
  });
});
