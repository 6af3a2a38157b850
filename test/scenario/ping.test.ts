import { describe, expect, it } from "vitest";
import { Pinger } from "../../src/apps/ping";
import { makeWorld, seedFrom, withSeed } from "../helpers";

describe("two hosts on one LAN", () => {
  it("resolve each other with ARP and ping", () =>
    withSeed(seedFrom(1), (seed) => {
      const { world, a } = makeWorld(seed).twoHosts({ lanName: "lan0" });
      const ping = new Pinger(a.net);
      expect(ping.send("10.0.0.2", 56)).toBe(0);
      world.runFor(100);
      expect(ping.received).toBe(1);
      for (let i = 0; i < 10; i++) {
        ping.send("10.0.0.2", 1000);
        world.runFor(10);
      }
      expect(ping.received).toBe(11);
      expect(ping.corrupted).toBe(0);
      ping.close();
    }));
});
