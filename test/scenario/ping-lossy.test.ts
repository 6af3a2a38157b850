// Scenarios in virtual time over the simulated LAN: loss accounted frame by frame, ARP
// with packets waiting, fragmented pings, pool exhaustion and recovery, a full TX ring.
import { describe, expect, it } from "vitest";
import { Pinger } from "../../src/apps/ping";
import type { Net } from "../../src/core/net";
import type { NetDevice } from "../../src/core/netdevice";
import type { SkBuff } from "../../src/core/skb";
import { ETH_P_ARP, ETH_P_IP, ethType } from "../../src/wire/ethernet";
import { ICMP_ECHO, ICMP_ECHOREPLY } from "../../src/wire/icmp";
import { IPPROTO_ICMP, ipFragField, ipIhlBytes, ipProto } from "../../src/wire/ipv4";
import { makeWorld, seedFrom, withSeed } from "../helpers";
import { addTap } from "../../src/core/link";

/** Counts frames a stack sends and receives, by kind, from an ETH_P_ALL tap. */
class FrameCounter {
  txArp = 0;
  rxArp = 0;
  txEchoRequest = 0;
  rxEchoRequest = 0;
  txEchoReply = 0;
  rxEchoReply = 0;
  constructor(net: Net) {
    addTap(net, (_dev: NetDevice, skb: SkBuff, outgoing: boolean) => {
      const buf = net.pool.buf;
      // Outgoing frames start at the Ethernet header; incoming ones too (taps run before eth_type_trans).
      const eth = skb.data;
      const type = ethType(buf, eth);
      if (type === ETH_P_ARP) {
        if (outgoing) this.txArp++;
        else this.rxArp++;
        return;
      }
      if (type !== ETH_P_IP) return;
      const iph = eth + 14;
      if (ipProto(buf, iph) !== IPPROTO_ICMP || (ipFragField(buf, iph) & 0x1fff) !== 0) return;
      const icmpType = buf[iph + ipIhlBytes(buf, iph)];
      if (icmpType === ICMP_ECHO) {
        if (outgoing) this.txEchoRequest++;
        else this.rxEchoRequest++;
      } else if (icmpType === ICMP_ECHOREPLY) {
        if (outgoing) this.txEchoReply++;
        else this.rxEchoReply++;
      }
    });
  }
}

function delta<T extends object>(now: T, before: T): T {
  const out = { ...now } as Record<string, number>;
  for (const [k, v] of Object.entries(before)) out[k] -= v as number;
  return out as T;
}

describe("ping over a simulated LAN", () => {
  it("1,000 pings over a 5% loss link: every loss accounted for", () =>
    withSeed(seedFrom(5), (seed) => {
      const { world, lan, a, b } = makeWorld(seed).twoHosts({ lanName: "lossy", faults: { lossRate: 0.05, delayMs: 1 } });
      // Let the link-up announcements settle, then count from a quiet start.
      world.runFor(10);
      const ab0 = { ...lan.stats(0, 1) };
      const ba0 = { ...lan.stats(1, 0) };
      const countA = new FrameCounter(a.net);
      const countB = new FrameCounter(b.net);
      const ping = new Pinger(a.net);
      for (let i = 0; i < 1000; i++) {
        ping.send("10.0.0.2", 56);
        world.runFor(20);
      }
      world.runFor(5000);
      const ab = delta(lan.stats(0, 1), ab0);
      const ba = delta(lan.stats(1, 0), ba0);
      // Nothing but loss on this link, and every frame sent either arrived or was lost.
      expect(ab.sent).toBe(ab.delivered + ab.lost);
      expect(ba.sent).toBe(ba.delivered + ba.lost);
      expect(ab.lost + ba.lost).toBeGreaterThan(50);
      // Frame by frame: what one side sent and the other did not see is the LAN's loss.
      const lostRequests = countA.txEchoRequest - countB.rxEchoRequest;
      const lostReplies = countB.txEchoReply - countA.rxEchoReply;
      const lostArpAB = countA.txArp - countB.rxArp;
      const lostArpBA = countB.txArp - countA.rxArp;
      expect(lostRequests + lostArpAB).toBe(ab.lost);
      expect(lostReplies + lostArpBA).toBe(ba.lost);
      // Every request that arrived was answered; every unanswered ping is a lost frame.
      expect(countB.txEchoReply).toBe(countB.rxEchoRequest);
      expect(ping.sent).toBe(1000);
      expect(countA.txEchoRequest).toBe(1000 - a.net.drops.count("NEIGH_QUEUEFULL") - a.net.drops.count("NEIGH_FAILED"));
      expect(ping.sent - ping.received).toBe(lostRequests + lostReplies + (1000 - countA.txEchoRequest));
      expect(ping.received).toBe(countA.rxEchoReply);
      expect(ping.corrupted).toBe(0);
      expect(ping.duplicates).toBe(0);
      expect(ping.received).toBeGreaterThan(850);
      // The stacks dropped nothing themselves.
      expect(a.net.drops.total).toBe(a.net.drops.count("NEIGH_QUEUEFULL") + a.net.drops.count("NEIGH_FAILED"));
      expect(b.net.drops.total).toBe(0);
      ping.close();
    }));

  it("packets wait in the neighbour queue while ARP resolves, bounded", () =>
    withSeed(seedFrom(7), (seed) => {
      const { world, a } = makeWorld(seed).twoHosts({ faults: { delayMs: 5 }, a: { config: { neighQueueMax: 3 } } });
      const ping = new Pinger(a.net);
      for (let i = 0; i < 5; i++) expect(ping.send("10.0.0.2", 100)).toBe(i);
      expect(a.net.neigh.dump()[0]).toMatchObject({ state: "INCOMPLETE", queued: 3 });
      world.runFor(100);
      // The two oldest were pushed out of the queue, counted; the three newest were answered.
      expect(a.net.drops.count("NEIGH_QUEUEFULL")).toBe(2);
      expect(a.net.neigh.stats.unresDiscards).toBe(2);
      expect(ping.received).toBe(3);
      expect(a.net.neigh.dump()[0]).toMatchObject({ state: "REACHABLE", queued: 0 });
      ping.close();
    }));

  it("pings of 4,000 and 65,000 bytes are fragmented and reassembled both ways", () =>
    withSeed(seedFrom(11), (seed) => {
      const { world, a, b } = makeWorld(seed).twoHosts({ faults: { delayMs: 1 } });
      const ping = new Pinger(a.net);
      const rtts: number[] = [];
      ping.onReply = (_seq, rtt, bytes) => rtts.push(bytes);
      ping.send("10.0.0.2", 4000);
      world.runFor(200);
      ping.send("10.0.0.2", 65000);
      world.runFor(500);
      ping.send("10.0.0.2", 65507);
      world.runFor(500);
      expect(rtts).toEqual([4000, 65000, 65507]);
      // 4,028 bytes of IP payload in 1,480-byte fragments: 3; 65,008: 44; 65,515: 45.
      expect(a.net.ipv4.stats.fragCreates).toBe(2 + 43 + 44);
      expect(b.net.ipv4.stats.reasmOKs).toBe(3);
      expect(a.net.ipv4.stats.reasmOKs).toBe(3);
      expect(b.net.ipv4.stats.fragOKs).toBe(3);
      expect(ping.corrupted).toBe(0);
      expect(a.net.drops.total + b.net.drops.total).toBe(0);
      ping.close();
    }));

  it("pool exhaustion is counted, and the stack recovers", () =>
    withSeed(seedFrom(13), (seed) => {
      // b: 24 packet buffers, 8 of them in the RX ring: a 65,000-byte datagram (45 fragments) cannot fit.
      const { world, a, b } = makeWorld(seed).twoHosts({
        faults: { delayMs: 1 },
        b: { config: { skbSlots: 24, skbRecords: 28, reasmSkbsMax: 12 }, mac: { rxRingSize: 8 } },
      });
      const ping = new Pinger(a.net);
      ping.send("10.0.0.2", 56);
      world.runFor(50);
      expect(ping.received).toBe(1);
      ping.send("10.0.0.2", 65000);
      world.runFor(40_000); // past the reassembly timeout
      expect(ping.received).toBe(1);
      const drops = b.net.drops;
      expect(drops.count("IP_FRAG_NOMEM")).toBeGreaterThan(0);
      expect(b.net.ipv4.stats.reasmFails).toBeGreaterThan(0);
      expect(b.net.ipv4.reasm.slotsInUse).toBe(0);
      expect(b.net.ipv4.reasm.held).toBe(0);
      // After: ordinary pings work again.
      for (let i = 0; i < 10; i++) {
        ping.send("10.0.0.2", 1000);
        world.runFor(20);
      }
      expect(ping.received).toBe(11);
      // In use now: only the RX ring's buffers.
      expect(b.net.pool.inUse).toBe(8);
      ping.close();
    }));

  it("a full TX ring holds packets in the qdisc and loses none", () =>
    withSeed(seedFrom(17), (seed) => {
      // 2 TX descriptors at 1 Mbit/s: a burst of 30 pings must wait in pfifo_fast.
      const { world, a, devA } = makeWorld(seed).twoHosts({ a: { mac: { txRingSize: 2, lineRateBps: 1_000_000 } } });
      const ping = new Pinger(a.net);
      ping.send("10.0.0.2", 56);
      world.runFor(50);
      let maxQueued = 0;
      for (let i = 0; i < 30; i++) {
        ping.send("10.0.0.2", 1000);
        maxQueued = Math.max(maxQueued, devA.qdisc?.qlen ?? 0);
      }
      expect(maxQueued).toBeGreaterThan(20);
      world.runFor(1000);
      expect(ping.received).toBe(31);
      expect(a.net.drops.total).toBe(0);
      expect(devA.qdisc?.qlen).toBe(0);
      expect(devA.queueStopped).toBe(false);
      ping.close();
    }));
});
