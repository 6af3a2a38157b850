import { describe, expect, it } from "vitest";
import { Pinger } from "../../src/apps/ping";
import { Tbf } from "../../src/sched/tbf";
import { makeWorld, seedFrom, withSeed } from "../helpers";

describe("tbf qdisc", () => {
  it("paces a burst at the configured rate and loses nothing", () =>
    withSeed(seedFrom(3), (seed) => {
      // 125,000 bytes/s with a 3,000-byte bucket: two 1,042-byte frames go at once, then one per 8.3 ms.
      const { world, lan, a, devA } = makeWorld(seed).twoHosts({
        a: { mac: { qdisc: (net, dev) => new Tbf(net, dev, { rateBytesPerSec: 125_000, burstBytes: 3000, limit: 64 }) } },
      });
      const ping = new Pinger(a.net);
      ping.send("10.0.0.2", 56);
      world.runFor(100);
      const departures: number[] = [];
      lan.onWire = (port, _buf, _off, len) => {
        if (port === 0 && len > 1000) departures.push(world.now);
      };
      const t0 = world.now;
      for (let i = 0; i < 20; i++) ping.send("10.0.0.2", 1000);
      world.runFor(1000);
      expect(ping.received).toBe(21);
      expect(departures.length).toBe(20);
      // The bucket refilled during the 100 ms before: 2 frames leave at once.
      expect(departures[1] - t0).toBeLessThan(0.5);
      const gap = (departures[19] - departures[2]) / 17;
      expect(gap).toBeGreaterThan(8.2);
      expect(gap).toBeLessThan(8.5);
      expect(devA.qdisc?.stats.overlimits).toBeGreaterThan(0);
      expect(a.net.drops.total).toBe(0);
      ping.close();
    }));

  it("drops over its limit, counted as QDISC_DROP", () =>
    withSeed(seedFrom(4), (seed) => {
      const { world, a } = makeWorld(seed).twoHosts({
        a: { mac: { qdisc: (net, dev) => new Tbf(net, dev, { rateBytesPerSec: 10_000, burstBytes: 1600, limit: 4 }) } },
      });
      const ping = new Pinger(a.net);
      ping.send("10.0.0.2", 56);
      world.runFor(100);
      for (let i = 0; i < 10; i++) ping.send("10.0.0.2", 1000);
      // One left at once (the bucket's 1,600 bytes), four wait, five are dropped.
      expect(a.net.drops.count("QDISC_DROP")).toBe(5);
      world.runFor(2000);
      expect(ping.received).toBe(6);
      ping.close();
    }));

  it("refuses a bucket smaller than one frame", () => {
    const world = makeWorld(1);
    const lan = world.addLan("lan");
    const a = world.addHost("a");
    expect(() =>
      world.attach(a, lan, "10.0.0.1/24", { qdisc: (net, dev) => new Tbf(net, dev, { rateBytesPerSec: 1000, burstBytes: 100, limit: 4 }) }),
    ).toThrow(/burstBytes must hold one full frame/);
  });
});
