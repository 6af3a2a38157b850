import { describe, expect, it } from "vitest";
import { Pinger } from "../../src/apps/ping";
import { CHECKSUM_UNNECESSARY, type SkBuff } from "../../src/core/skb";
import type { DmaMacDriver } from "../../drivers/dma-mac";
import { NETIF_F_RXCSUM } from "../../src/core/netdevice";
import { csumVerify } from "../../src/wire/checksum";
import { ETH_HLEN, ETH_P_IP } from "../../src/wire/ethernet";
import { makeWorld, seedFrom, withSeed } from "../helpers";
import { BCAST_MAC, ethFrame, mac } from "../packets";
import { addTap } from "../../src/core/link";
import { ipMcJoin, ipMcLeave } from "../../src/ipv4/devinet";

describe("DMA MAC driver over the simulated MAC", () => {
  it("with RX checksum offload, good frames arrive marked and bad ones are still caught in software", () =>
    withSeed(seedFrom(21), (seed) => {
      const { world, lan, a, b, devB } = makeWorld(seed).twoHosts({ b: { mac: { rxChecksumOffload: true } } });
      expect(devB.features & NETIF_F_RXCSUM).toBe(NETIF_F_RXCSUM);
      let marked = 0;
      let echoes = 0;
      let markedButBad = 0;
      addTap(b.net, (_dev, skb, outgoing) => {
        const buf = b.net.pool.buf;
        if (outgoing || buf[skb.data + 12] !== 0x08 || buf[skb.data + 23] !== 1) return;
        echoes++;
        if (skb.ipSummed !== CHECKSUM_UNNECESSARY) return;
        marked++;
        // What the MAC vouched for must really be intact: the ICMP bytes sum to 0xffff.
        const icmp = skb.data + 14 + 20;
        if (!csumVerify(buf, icmp, skb.tail - icmp, 0)) markedButBad++;
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
      // A flip outside the ICMP bytes (MACs, IP header) leaves the L4 checksum good.
      expect(markedButBad).toBe(0);
      expect(b.net.drops.count("ICMP_CSUM")).toBeGreaterThan(20);
      // Only a flip in the Ethernet source address leaves a request answerable.
      expect(ping.received).toBeLessThan(5 + 3);
      expect(ping.corrupted).toBe(0);
      ping.close();
    }));

  it("pulling the cable drops the carrier and what waits to be sent; plugging it back resumes", () =>
    withSeed(seedFrom(22), (seed) => {
      const { world, a, devA } = makeWorld(seed).twoHosts({ a: { mac: { txRingSize: 2, lineRateBps: 1_000_000 } } });
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
      const { world, a, b, devA } = makeWorld(seed).twoHosts({ a: { config: { icmpEchoIgnoreBroadcasts: false } } });
      world.runFor(10);
      const ping = new Pinger(b.net);
      ping.send("239.1.2.3", 56);
      world.runFor(10);
      expect(a.macs[0].stats.rxFiltered).toBe(1);
      expect(ping.received).toBe(0);
      ipMcJoin(devA, "239.1.2.3");
      expect(() => ipMcJoin(devA, "10.0.0.9")).toThrow(/not a multicast address/);
      ping.send("239.1.2.3", 56);
      world.runFor(10);
      expect(ping.received).toBe(1);
      ipMcLeave(devA, "239.1.2.3");
      ping.send("239.1.2.3", 56);
      world.runFor(10);
      expect(a.macs[0].stats.rxFiltered).toBe(2);
      expect(ping.received).toBe(1);
      ping.close();
    }));
});

describe("DMA MAC receive errors and refill failures", () => {
  it("a frame the MAC flags too long is counted rx_length_errors and dropped as RX_HW_ERROR; its buffer goes back", () =>
    withSeed(seedFrom(24), (seed) => {
      const { world, a, b, devA } = makeWorld(seed).twoHosts({ a: { mac: { rxRingSize: 8 } } });
      world.runFor(10);
      const inUse = a.net.pool.inUse;
      const rxPackets = devA.stats.rxPackets;
      // 2000 bytes to the broadcast address: past the MAC filter, longer than any RX buffer.
      const big = ethFrame(BCAST_MAC, mac("02:00:00:00:00:42"), ETH_P_IP, new Uint8Array(2000 - ETH_HLEN));
      a.macs[0].onFrame(big, 0, 2000);
      world.runFor(1);
      expect(a.macs[0].stats.rxOversize).toBe(1);
      expect(devA.stats.rxErrors).toBe(1);
      expect(devA.stats.rxLengthErrors).toBe(1);
      expect(devA.stats.rxCrcErrors).toBe(0);
      expect(devA.stats.rxPackets).toBe(rxPackets);
      expect(a.net.drops.snapshot()).toEqual({ RX_HW_ERROR: 1 });
      expect(a.net.pool.inUse).toBe(inUse);
      // The ring goes on: all eight descriptors are used again, and pings are answered.
      const ping = new Pinger(b.net);
      for (let i = 0; i < 12; i++) {
        ping.send("10.0.0.1", 100);
        world.runFor(5);
      }
      expect(ping.received).toBe(12);
      expect(a.net.drops.total).toBe(1);
      ping.close();
    }));

  it("a frame that finds no buffer to refill its descriptor is dropped as NOMEM, keeping the ring whole", () =>
    withSeed(seedFrom(25), (seed) => {
      const { world, a, b, devA } = makeWorld(seed).twoHosts({ a: { mac: { rxRingSize: 8 } } });
      const ping = new Pinger(b.net);
      ping.send("10.0.0.1", 56);
      world.runFor(20);
      expect(ping.received).toBe(1);
      // Take every free buffer: the next frame has nothing to replace its buffer with.
      const hoard: SkBuff[] = [];
      for (let s = a.net.pool.alloc(); s !== null; s = a.net.pool.alloc()) hoard.push(s);
      const failures = a.net.pool.allocFailures;
      ping.send("10.0.0.1", 56);
      world.runFor(20);
      for (const s of hoard) a.net.pool.free(s);
      expect(ping.received).toBe(1);
      expect(a.net.drops.snapshot()).toEqual({ NOMEM: 1 });
      expect(devA.stats.rxDropped).toBe(1);
      expect(a.net.pool.allocFailures).toBeGreaterThan(failures);
      expect((devA.ops as DmaMacDriver).rxRefillFailures).toBeGreaterThan(0);
      expect(a.net.pool.inUse).toBe(8); // the ring kept its buffer
      ping.send("10.0.0.1", 56);
      world.runFor(20);
      expect(ping.received).toBe(2);
      expect(a.net.pool.inUse).toBe(8);
      ping.close();
    }));
});
