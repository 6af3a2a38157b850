// Scenarios under pool pressure, in virtual time over the simulated LAN: packets waiting
// for ARP must not take the buffers the ARP reply needs, and a pool that really runs dry
// (the driver cannot refill its ring) is counted and recovers once the traffic stops.
import { describe, expect, it } from "vitest";
import { Pinger } from "../../src/apps/ping";
import type { DmaMacDriver } from "../../drivers/dma-mac";
import { makeWorld, seedFrom, withSeed } from "../helpers";

describe("pool pressure", () => {
  it("a burst to a neighbour that answers ARP late: waiting packets give way, the reply gets through", () =>
    withSeed(seedFrom(51), (seed) => {
      // a: 40 buffers, 8 of them in the RX ring, a queue long enough to hold them all.
      const { world, a, b } = makeWorld(seed).twoHosts({
        faults: { delayMs: 20 },
        a: { config: { skbSlots: 40, skbRecords: 48, reasmSkbsMax: 8, neighQueueMax: 48 }, mac: { rxRingSize: 8 } },
      });
      world.runFor(100); // the link-up announcements come and go
      expect(a.net.neigh.dump()).toEqual([]);
      expect(a.net.pool.inUse).toBe(8);
      const ping = new Pinger(a.net);
      // One ping a millisecond while the ARP request and its reply take 40 ms: unchecked,
      // the waiting pings take every buffer (the request's own too, once sent), and the
      // reply is dropped for want of a buffer to refill the RX ring (NOMEM).
      const burst = 36;
      let minAvailable = Infinity;
      for (let i = 0; i < burst; i++) {
        ping.send("10.0.0.2", 1000);
        minAvailable = Math.min(minAvailable, a.net.pool.available);
        world.runFor(1);
      }
      const afterBurst = { available: a.net.pool.available, entry: a.net.neigh.dump()[0] };
      // The reply needs a buffer to refill the RX ring: the entry resolves only if the
      // waiting packets left one free.
      world.runFor(200);
      expect(a.net.neigh.dump()[0]).toMatchObject({ state: "REACHABLE", queued: 0 });
      expect(a.net.neigh.stats.arpRequestsSent).toBe(1);
      expect(a.net.neigh.stats.resFailed).toBe(0);
      // More than the pool holds: the oldest waiting gave way, leaving the reserve free.
      const discarded = a.net.neigh.stats.unresDiscards;
      expect(discarded).toBeGreaterThan(0);
      expect(minAvailable).toBeGreaterThanOrEqual(2); // max(2, 40 >> 4)
      expect(afterBurst.available).toBeGreaterThanOrEqual(2);
      expect(afterBurst.entry).toMatchObject({ state: "INCOMPLETE", queued: burst - discarded });
      expect(ping.sendErrors).toBe(0);
      expect(ping.received).toBe(burst - discarded);
      expect(ping.corrupted).toBe(0);
      expect(a.net.drops.snapshot()).toEqual({ NEIGH_QUEUEFULL: discarded });
      // Later pings are answered, and nothing else was dropped on either side.
      for (let i = 0; i < 10; i++) {
        ping.send("10.0.0.2", 1000);
        world.runFor(50);
      }
      expect(ping.received).toBe(burst - discarded + 10);
      expect(a.net.drops.snapshot()).toEqual({ NEIGH_QUEUEFULL: discarded });
      expect(b.net.drops.total).toBe(0);
      expect(a.net.pool.inUse).toBe(8);
      ping.close();
    }));

  it("a pool that runs dry: refill failures are counted as NOMEM, and the stack recovers", () =>
    withSeed(seedFrom(52), (seed) => {
      // b: 24 buffers, 8 in the RX ring, and a slow line: its echo replies pile up in the
      // qdisc, each holding a buffer, until none is left to refill the ring.
      const { world, a, b, devB } = makeWorld(seed).twoHosts({
        faults: { delayMs: 1 },
        b: { config: { skbSlots: 24, skbRecords: 28, reasmSkbsMax: 8 }, mac: { rxRingSize: 8, txRingSize: 2, lineRateBps: 1_000_000 } },
      });
      const ping = new Pinger(a.net);
      ping.send("10.0.0.2", 56); // ARP both ways first
      world.runFor(100);
      expect(ping.received).toBe(1);
      expect(b.net.pool.allocFailures).toBe(0);

      const flood = 60;
      for (let i = 0; i < flood; i++) {
        ping.send("10.0.0.2", 1000);
        world.runFor(0.2);
      }
      // Really dry: allocations failed, and the driver dropped frames it could not replace.
      expect(b.net.pool.available).toBe(0);
      expect(b.net.pool.allocFailures).toBeGreaterThan(0);
      const nomem = b.net.drops.count("NOMEM");
      expect(nomem).toBeGreaterThan(0);
      expect(devB.stats.rxDropped).toBe(nomem);
      expect((devB.ops as DmaMacDriver).rxRefillFailures).toBeGreaterThan(0);
      expect(b.net.drops.snapshot()).toEqual({ NOMEM: nomem });

      // The traffic stops; the qdisc drains at the line rate and every buffer comes back.
      world.runFor(1000);
      // Frames still on the wire when the flood stopped met a dry pool too: count again.
      const nomemAll = b.net.drops.count("NOMEM");
      const missed = devB.stats.rxMissedErrors;
      expect(devB.stats.rxDropped).toBe(nomemAll);
      expect(ping.received).toBe(1 + flood - nomemAll - missed);
      expect(b.net.ipv4.icmp.stats.outEchoReps).toBe(1 + flood - nomemAll - missed);
      expect(devB.qdisc?.qlen).toBe(0);
      expect(ping.corrupted).toBe(0);
      // Ordinary pings are answered again.
      const before = ping.received;
      for (let i = 0; i < 10; i++) {
        ping.send("10.0.0.2", 1000);
        world.runFor(50);
      }
      expect(ping.received).toBe(before + 10);
      expect(b.net.drops.snapshot()).toEqual({ NOMEM: nomemAll });
      // In use now: only the RX ring's buffers.
      expect(b.net.pool.inUse).toBe(8);
      ping.close();
    }));
});
