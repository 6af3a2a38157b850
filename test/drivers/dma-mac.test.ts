import { describe, expect, it } from "vitest";
import { Pinger } from "../../src/apps/ping";
import { CHECKSUM_UNNECESSARY } from "../../src/core/skb";
import { NETIF_F_RXCSUM } from "../../drivers/netdev";
import { makeWorld, seedFrom, withSeed } from "../helpers";

describe("DMA MAC driver over the simulated MAC", () => {
  it("with RX checksum offload, good frames arrive marked and bad ones are still caught in software", () =>
    withSeed(seedFrom(21), (seed) => {
      const world = makeWorld(seed);
      const lan = world.addLan("lan");
      const a = world.addHost("a");
      const b = world.addHost("b");
      world.attach(a, lan, "10.0.0.1/24");
      const devB = world.attach(b, lan, "10.0.0.2/24", { rxChecksumOffload: true });
      expect(devB.features & NETIF_F_RXCSUM).toBe(NETIF_F_RXCSUM);
      let marked = 0;
      let echoes = 0;
      b.net.addTap((_dev, skb, outgoing) => {
        const buf = b.net.pool.buf;
        if (outgoing || buf[skb.data + 12] !== 0x08 || buf[skb.data + 23] !== 1) return;
        echoes++;
        if (skb.ipSummed === CHECKSUM_UNNECESSARY) marked++;
      });
      const ping = new Pinger(a.net);
      for (let i = 0; i < 5; i++) {
        ping.send("10.0.0.2", 200);
        world.runFor(10);
      }
      expect(ping.received).toBe(5);
      expect(echoes).toBe(5);
      expect(marked).toBe(5);
      // Now flip one bit in every frame toward b: the MAC must mark none of them good, and
      // those with the flip in the ICMP part are caught by ICMP's own check.
      lan.setFaults(0, 1, { corruptRate: 1 });
      for (let i = 0; i < 40; i++) {
        ping.send("10.0.0.2", 1000);
        world.runFor(10);
      }
      expect(lan.stats(0, 1).corrupted).toBeGreaterThanOrEqual(40);
      expect(marked).toBe(5);
      expect(b.net.drops.count("ICMP_CSUM")).toBeGreaterThan(20);
      // Only a flip in the Ethernet source address leaves a request answerable.
      expect(ping.received).toBeLessThan(5 + 3);
      expect(ping.corrupted).toBe(0);
      ping.close();
    }));

  it("pulling the cable drops the carrier and what waits to be sent; plugging it back resumes", () =>
    withSeed(seedFrom(22), (seed) => {
      const world = makeWorld(seed);
      const lan = world.addLan("lan");
      const a = world.addHost("a");
      const b = world.addHost("b");
      const devA = world.attach(a, lan, "10.0.0.1/24", { txRingSize: 2, lineRateBps: 1_000_000 });
      world.attach(b, lan, "10.0.0.2/24");
      const ping = new Pinger(a.net);
      ping.send("10.0.0.2", 56);
      world.runFor(50);
      expect(ping.received).toBe(1);
      for (let i = 0; i < 10; i++) ping.send("10.0.0.2", 1000);
      const queued = devA.qdisc?.qlen ?? 0;
      expect(queued).toBeGreaterThan(5);
      a.macs[0].setLink(false);
      world.runFor(5);
      expect(devA.hasCarrier).toBe(false);
      expect(a.net.drops.count("NO_CARRIER")).toBe(queued);
      expect(ping.send("10.0.0.2", 56)).toBe(10 + 1);
      expect(a.net.drops.count("NO_CARRIER")).toBe(queued + 1);
      a.macs[0].setLink(true);
      world.runFor(50);
      expect(devA.hasCarrier).toBe(true);
      const got = ping.received;
      ping.send("10.0.0.2", 56);
      world.runFor(50);
      expect(ping.received).toBe(got + 1);
      ping.close();
    }));
});

describe("multicast filter", () => {
  it("a joined group reaches the stack through the MAC filter; others are filtered in hardware", () =>
    withSeed(seedFrom(23), (seed) => {
      const world = makeWorld(seed);
      const lan = world.addLan("lan");
      const a = world.addHost("a", { icmpEchoIgnoreBroadcasts: false });
      const b = world.addHost("b");
      const devA = world.attach(a, lan, "10.0.0.1/24");
      world.attach(b, lan, "10.0.0.2/24");
      world.runFor(10);
      const ping = new Pinger(b.net);
      ping.send("239.1.2.3", 56);
      world.runFor(10);
      expect(a.macs[0].stats.rxFiltered).toBe(1);
      expect(ping.received).toBe(0);
      a.net.ipMcJoin(devA, "239.1.2.3");
      expect(() => a.net.ipMcJoin(devA, "10.0.0.9")).toThrow(/not a multicast address/);
      ping.send("239.1.2.3", 56);
      world.runFor(10);
      expect(ping.received).toBe(1);
      a.net.ipMcLeave(devA, "239.1.2.3");
      ping.send("239.1.2.3", 56);
      world.runFor(10);
      expect(a.macs[0].stats.rxFiltered).toBe(2);
      expect(ping.received).toBe(1);
      ping.close();
    }));
});
