// The loop (src/core/softirq.ts): bounded rounds a turn, timers armed through it.
import { describe, expect, it } from "vitest";
import { advance, makeNet } from "../helpers";
import { frame, MAC0, setup } from "./bed";
import { PEER_MAC } from "../testbed";

describe("the softirq loop (do_softirq)", () => {
  it("bounds one turn of the loop to softirqRoundsMax rounds and yields with work left", () => {
    const { net, platform, devs, seen } = setup({ napiWeight: 64, netdevBudget: 10, softirqRoundsMax: 3 });
    for (let i = 0; i < 100; i++) devs[0].drv.inject(frame(MAC0, PEER_MAC, i & 0xff));
    const counts: number[] = [];
    for (let turn = 0; turn < 4; turn++) {
      net.softnet.run();
      counts.push(seen.length);
    }
    expect(counts).toEqual([30, 60, 90, 100]);
    expect(net.softnet.stats.runs).toBe(4);
    // Every round spends the budget exactly (a squeeze); the last turn needs a second
    // round to find the ring empty.
    expect(net.softnet.stats.rounds).toBe(11);
    expect(net.softnet.stats.yields).toBe(3);
    expect(net.softnet.stats.timeSqueeze).toBe(10);
    expect(platform.requests).toEqual([0, 0, 0, 0]);
    expect(net.softnet.idle).toBe(true);
  });
});

describe("timers on the stack's loop", () => {
  it("modTimer asks the platform to run at the expiry, and the loop fires it then", () => {
    const { net, platform } = makeNet();
    let firedAt = -1;
    const t = net.timers.create(() => {
      firedAt = platform.now();
    });
    platform.requests.length = 0;
    net.modTimer(t, 250);
    expect(platform.requests).toEqual([250]);
    net.modTimer(t, 300); // later than the wake-up already asked for: no new request
    expect(platform.requests).toEqual([250]);
    advance(net, platform, 299);
    expect(firedAt).toBe(-1);
    advance(net, platform, 1);
    expect(firedAt).toBe(300);
    expect(net.timers.fired).toBeGreaterThanOrEqual(1);
    net.delTimer(t);
  });

  it("does not spin when two timers share a millisecond", () => {
    const { net, platform } = makeNet();
    const order: number[] = [];
    const a = net.timers.create(() => order.push(1));
    const b = net.timers.create(() => order.push(2));
    platform.time = 5;
    net.softnet.run();
    net.modTimer(a, 10.25);
    net.modTimer(b, 10.75);
    platform.time = 10.25;
    net.softnet.run();
    expect(order).toEqual([1]);
    const yields = net.softnet.stats.yields;
    platform.time = 10.75;
    net.softnet.run();
    expect(order).toEqual([1, 2]);
    expect(net.softnet.stats.yields).toBe(yields);
    expect(net.softnet.nextWakeup()).toBe(Infinity);
  });
});
