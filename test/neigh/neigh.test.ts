import { describe, expect, it } from "vitest";
import type { Net } from "../../src/core/net";
import type { SkBuff } from "../../src/core/skb";
import { ipSend } from "../../src/ipv4/output";
import { nudStateName } from "../../src/neigh/neigh";
import { advance } from "../helpers";
import { ARPOP_REPLY, ARPOP_REQUEST } from "../../src/wire/arp";
import { arpFrame, arpOf, BCAST_MAC, ip, ipOf, isArp, isIp, mac } from "../packets";
import { type Bench, HOST_IP, HOST_MAC, makeBench, PEER_IP, PEER_MAC } from "../testbed";

const PROTO_TEST = 253; // RFC 3692 experimental

/** Send an 8-byte datagram of protocol 253 whose first byte is `marker`. */
function send(net: Net, dst: number, marker: number): number {
  const skb = net.pool.alloc() as SkBuff;
  const at = skb.put(8);
  net.pool.buf.fill(0, at, at + 8);
  net.pool.buf[at] = marker;
  return ipSend(net, skb, 0, dst, PROTO_TEST, 0, 64, false);
}

function state(b: Bench, addr: number): string {
  const i = b.net.neigh.lookup(addr, b.dev);
  return i < 0 ? "none" : nudStateName(b.net.neigh.state[i]);
}

function entry(b: Bench, addr: number): number {
  const i = b.net.neigh.lookup(addr, b.dev);
  if (i < 0) throw new Error("no entry");
  return i;
}

/** `who` (at `hw`) answers our request, unicast to us. */
function reply(b: Bench, who: number, hw: Uint8Array): void {
  b.rx(arpFrame(HOST_MAC, ARPOP_REPLY, hw, who, HOST_MAC, HOST_IP));
}

const ZERO_MAC = new Uint8Array(6);

/** Markers of the IP frames among `frames`, each checked to go to `dst`. */
function ipMarkers(frames: Uint8Array[], dst: Uint8Array): number[] {
  return frames.filter(isIp).map((f) => {
    expect(f.subarray(0, 6)).toEqual(dst);
    return ipOf(f).payload[0];
  });
}

describe("neighbour resolution", () => {
  it("INCOMPLETE sends a broadcast request and queues; the reply makes it REACHABLE and flushes in order", () => {
    const b = makeBench({}, { peer: false });
    for (const m of [1, 2, 3]) expect(send(b.net, PEER_IP, m)).toBe(0);
    b.run();
    const out = b.take();
    expect(out.length).toBe(1);
    expect(out[0]).toEqual(arpFrame(BCAST_MAC, ARPOP_REQUEST, HOST_MAC, HOST_IP, ZERO_MAC, PEER_IP));
    expect(state(b, PEER_IP)).toBe("INCOMPLETE");
    expect(b.net.neigh.queue[entry(b, PEER_IP)].qlen).toBe(3);
    expect(b.net.neigh.stats.arpRequestsSent).toBe(1);

    reply(b, PEER_IP, PEER_MAC);
    expect(state(b, PEER_IP)).toBe("REACHABLE");
    expect(ipMarkers(b.take(), PEER_MAC)).toEqual([1, 2, 3]);
    const i = entry(b, PEER_IP);
    expect(b.net.neigh.queue[i].qlen).toBe(0);
    expect(b.net.neigh.ha.slice(i * 6, i * 6 + 6)).toEqual(PEER_MAC);
    // RFC 4861 style: the reachable time is random in [0.5, 1.5) of the base.
    expect(b.net.neigh.reachableMs[i]).toBeGreaterThanOrEqual(15_000);
    expect(b.net.neigh.reachableMs[i]).toBeLessThan(45_000);
    expect(b.net.neigh.stats.arpRepliesReceived).toBe(1);

    send(b.net, PEER_IP, 4);
    b.run();
    expect(ipMarkers(b.take(), PEER_MAC)).toEqual([4]); // resolved: straight out, no ARP
    expect(b.net.drops.total).toBe(0);
  });

  it("bounds the queue of an unresolved entry, dropping the oldest (NEIGH_QUEUEFULL)", () => {
    const b = makeBench({ neighQueueMax: 3 }, { peer: false });
    for (const m of [1, 2, 3, 4, 5]) send(b.net, PEER_IP, m);
    b.run();
    expect(b.net.neigh.queue[entry(b, PEER_IP)].qlen).toBe(3);
    expect(b.net.neigh.stats.unresDiscards).toBe(2);
    expect(b.net.drops.count("NEIGH_QUEUEFULL")).toBe(2);
    expect(b.take().filter(isArp).length).toBe(1); // one request for all five
    reply(b, PEER_IP, PEER_MAC);
    expect(ipMarkers(b.take(), PEER_MAC)).toEqual([3, 4, 5]);
    expect(b.net.drops.total).toBe(2);
  });

  it("without a reply: three broadcast requests a second apart, then FAILED; the queue is dropped and its senders told", () => {
    const b = makeBench({}, { peer: false });
    const icmpSeen: [number, number, number][] = [];
    b.net.ipv4.raw.register(1, (net, skb) => {
      const at = skb.data;
      icmpSeen.push([net.pool.buf[at], net.pool.buf[at + 1], net.pool.buf[at + 8 + 19]]); // type, code, quoted daddr low byte
    });
    send(b.net, PEER_IP, 1);
    send(b.net, PEER_IP, 2);
    b.run();
    const requests: number[] = [];
    const collect = (): void => {
      for (const f of b.take()) {
        expect(isArp(f)).toBe(true);
        expect(f.subarray(0, 6)).toEqual(BCAST_MAC); // INCOMPLETE asks everyone
        expect(arpOf(f).tpa).toBe(PEER_IP);
        requests.push(b.platform.time);
      }
    };
    collect();
    advance(b.net, b.platform, 999);
    collect();
    expect(requests).toEqual([0]);
    advance(b.net, b.platform, 1);
    collect();
    advance(b.net, b.platform, 1000);
    collect();
    expect(requests).toEqual([0, 1000, 2000]);
    expect(state(b, PEER_IP)).toBe("INCOMPLETE");
    advance(b.net, b.platform, 999);
    expect(state(b, PEER_IP)).toBe("INCOMPLETE");
    expect(b.net.drops.count("NEIGH_FAILED")).toBe(0);
    advance(b.net, b.platform, 1);
    collect();
    expect(requests).toEqual([0, 1000, 2000]); // no fourth request
    expect(state(b, PEER_IP)).toBe("FAILED");
    expect(b.net.neigh.stats.resFailed).toBe(1);
    expect(b.net.drops.count("NEIGH_FAILED")).toBe(2);
    // Host unreachable for each queued datagram, to their sender: ourselves, through lo.
    expect(b.net.ipv4.icmp.stats.outDestUnreachs).toBe(2);
    expect(icmpSeen).toEqual([[3, 1, 2], [3, 1, 2]]);
    expect(b.net.ipv4.icmp.stats.inDestUnreachs).toBe(2);
    // The FAILED entry is held a while, then its slot is freed.
    advance(b.net, b.platform, 3000);
    expect(state(b, PEER_IP)).toBe("none");
    expect(b.take()).toEqual([]);
  });

  it("a send to a FAILED entry starts resolution again", () => {
    const b = makeBench({ neighFailedHoldMs: 60_000 }, { peer: false });
    send(b.net, PEER_IP, 1);
    advance(b.net, b.platform, 3000);
    expect(state(b, PEER_IP)).toBe("FAILED");
    b.take();
    send(b.net, PEER_IP, 2);
    b.run();
    expect(state(b, PEER_IP)).toBe("INCOMPLETE");
    expect(b.take().filter(isArp).length).toBe(1);
    reply(b, PEER_IP, PEER_MAC);
    expect(ipMarkers(b.take(), PEER_MAC)).toEqual([2]);
  });

  it("REACHABLE -> STALE after the reachable time -> DELAY on use -> PROBE (unicast) -> REACHABLE on reply", () => {
    const b = makeBench({}, { peer: false });
    send(b.net, PEER_IP, 1);
    b.run();
    reply(b, PEER_IP, PEER_MAC);
    b.take();
    const i = entry(b, PEER_IP);
    const reachable = b.net.neigh.reachableMs[i];
    advance(b.net, b.platform, Math.ceil(reachable) - 1, 10);
    expect(state(b, PEER_IP)).toBe("REACHABLE");
    advance(b.net, b.platform, 20, 1);
    expect(state(b, PEER_IP)).toBe("STALE");
    expect(b.take()).toEqual([]); // going stale sends nothing
    advance(b.net, b.platform, 60_000, 100);
    expect(state(b, PEER_IP)).toBe("STALE"); // and it stays so while unused

    send(b.net, PEER_IP, 2);
    b.run();
    expect(state(b, PEER_IP)).toBe("DELAY");
    expect(ipMarkers(b.take(), PEER_MAC)).toEqual([2]); // still sent at once, to the cached address
    advance(b.net, b.platform, 4999);
    expect(state(b, PEER_IP)).toBe("DELAY");
    advance(b.net, b.platform, 1);
    expect(state(b, PEER_IP)).toBe("PROBE");
    const probe = b.take();
    expect(probe.length).toBe(1);
    // PROBE asks the address it has (RFC 1122 2.3.2.1): unicast.
    expect(probe[0]).toEqual(arpFrame(PEER_MAC, ARPOP_REQUEST, HOST_MAC, HOST_IP, ZERO_MAC, PEER_IP));
    send(b.net, PEER_IP, 3); // PROBE still sends to the cached address
    b.run();
    expect(ipMarkers(b.take(), PEER_MAC)).toEqual([3]);
    reply(b, PEER_IP, PEER_MAC);
    expect(state(b, PEER_IP)).toBe("REACHABLE");
    expect(b.net.neigh.confirmed[i]).toBe(b.platform.time);
    expect(b.net.drops.total).toBe(0);
  });

  it("goes from REACHABLE to DELAY, not STALE, when used recently; a confirmation in DELAY needs no probe", () => {
    const b = makeBench({}, { peer: false });
    send(b.net, PEER_IP, 1);
    b.run();
    reply(b, PEER_IP, PEER_MAC);
    b.take();
    const reachable = b.net.neigh.reachableMs[entry(b, PEER_IP)];
    advance(b.net, b.platform, Math.ceil(reachable) - 1000, 100);
    send(b.net, PEER_IP, 2);
    advance(b.net, b.platform, 1100, 1);
    expect(state(b, PEER_IP)).toBe("DELAY");
    b.net.neigh.confirm(PEER_IP, b.dev); // an upper layer saw progress (a TCP ACK)
    advance(b.net, b.platform, 5000, 1);
    expect(state(b, PEER_IP)).toBe("REACHABLE");
    expect(b.take().filter(isArp)).toEqual([]);
  });

  it("PROBE without an answer: three unicast probes, then FAILED", () => {
    const b = makeBench({}, { peer: false });
    send(b.net, PEER_IP, 1);
    b.run();
    reply(b, PEER_IP, PEER_MAC);
    advance(b.net, b.platform, 50_000, 100);
    expect(state(b, PEER_IP)).toBe("STALE");
    b.take();
    send(b.net, PEER_IP, 2);
    advance(b.net, b.platform, 5000);
    expect(state(b, PEER_IP)).toBe("PROBE");
    advance(b.net, b.platform, 2999);
    expect(state(b, PEER_IP)).toBe("PROBE");
    const arps = b.take().filter(isArp);
    expect(arps.length).toBe(3);
    for (const f of arps) expect(f.subarray(0, 6)).toEqual(PEER_MAC);
    advance(b.net, b.platform, 1);
    expect(state(b, PEER_IP)).toBe("FAILED");
    expect(b.take()).toEqual([]);
  });

  it("entries still resolving fill at most half the table; more are dropped as NEIGH_TABLEFULL", () => {
    const b = makeBench({ neighEntriesMax: 4 }, { peer: false });
    for (let k = 0; k < 4; k++) send(b.net, ip(`10.0.0.${10 + k}`), k);
    b.run();
    for (let k = 0; k < 2; k++) expect(state(b, ip(`10.0.0.${10 + k}`))).toBe("INCOMPLETE");
    for (let k = 2; k < 4; k++) expect(state(b, ip(`10.0.0.${10 + k}`))).toBe("none");
    expect(b.net.drops.count("NEIGH_TABLEFULL")).toBe(2);
    expect(b.net.neigh.stats.tableFulls).toBe(2);
    expect(b.take().filter(isArp).map((f) => arpOf(f).tpa & 0xff)).toEqual([10, 11]);
    // The resolutions in progress keep their queues.
    for (let k = 0; k < 2; k++) expect(b.net.neigh.queue[entry(b, ip(`10.0.0.${10 + k}`))].qlen).toBe(1);
  });

  it("a new entry evicts the least recently used resolved entry idle for 5 s, never one in use or still resolving", () => {
    const b = makeBench({ neighEntriesMax: 3 }, { peer: false });
    const hw = (k: number): Uint8Array => mac(`02:00:00:00:01:${(0x10 + k).toString(16)}`);
    const addr = (k: number): number => ip(`10.0.0.${10 + k}`);
    for (let k = 0; k < 3; k++) {
      send(b.net, addr(k), k);
      b.run();
      reply(b, addr(k), hw(k));
      advance(b.net, b.platform, 100);
    }
    advance(b.net, b.platform, 50_000, 100);
    for (let k = 0; k < 3; k++) expect(state(b, addr(k))).toBe("STALE");
    expect(b.net.neigh.used[entry(b, addr(0))]).toBe(0);
    b.take();

    send(b.net, addr(3), 3); // 10.0.0.10 was used longest ago
    b.run();
    expect(state(b, addr(0))).toBe("none");
    expect(state(b, addr(1))).toBe("STALE");
    expect(state(b, addr(2))).toBe("STALE");
    expect(state(b, addr(3))).toBe("INCOMPLETE");
    expect(b.net.neigh.stats.destroys).toBe(1);
    expect(b.net.neigh.stats.allocs).toBe(4);

    // .11 and .12 are used again: within 5 s of use nothing is evicted for a new
    // destination, and the entry still resolving (.13) keeps its queue.
    advance(b.net, b.platform, 10);
    send(b.net, addr(1), 11);
    send(b.net, addr(2), 12);
    b.run();
    send(b.net, addr(4), 4);
    b.run();
    expect(state(b, addr(4))).toBe("none");
    expect(b.net.drops.count("NEIGH_TABLEFULL")).toBe(1);
    expect(state(b, addr(3))).toBe("INCOMPLETE");
    expect(b.net.neigh.queue[entry(b, addr(3))].qlen).toBe(1);
    expect(state(b, addr(1))).toBe("DELAY");
    expect(state(b, addr(2))).toBe("DELAY");
  });

  it("prefers a STALE entry over an older REACHABLE one when evicting", () => {
    const b = makeBench({ neighEntriesMax: 3 }, { peer: false });
    const hw = (k: number): Uint8Array => mac(`02:00:00:00:01:${(0x10 + k).toString(16)}`);
    const addr = (k: number): number => ip(`10.0.0.${10 + k}`);
    for (let k = 0; k < 3; k++) {
      send(b.net, addr(k), k);
      b.run();
      reply(b, addr(k), hw(k));
      advance(b.net, b.platform, 10);
    }
    // 10.0.0.11 announces a new MAC (a request for someone else): its entry turns STALE.
    b.rx(arpFrame(BCAST_MAC, ARPOP_REQUEST, hw(7), addr(1), ZERO_MAC, ip("10.0.0.99")));
    expect(state(b, addr(1))).toBe("STALE");
    expect(state(b, addr(0))).toBe("REACHABLE"); // used longest ago, but still confirmed
    // Out of the 5 s in which an entry in use is kept.
    b.platform.time += 6000;
    send(b.net, addr(3), 3);
    b.run();
    expect(state(b, addr(1))).toBe("none");
    expect(state(b, addr(0))).toBe("REACHABLE");
    expect(state(b, addr(3))).toBe("INCOMPLETE");
  });

  it("never evicts or changes a permanent entry", () => {
    const b = makeBench({ neighEntriesMax: 2 }, { peer: true }); // PEER_IP permanent
    send(b.net, ip("10.0.0.20"), 1);
    b.run();
    send(b.net, ip("10.0.0.21"), 2);
    b.run();
    expect(b.net.drops.count("NEIGH_TABLEFULL")).toBe(1);
    expect(state(b, PEER_IP)).toBe("PERMANENT");
    // A reply claiming another MAC for the permanent address changes nothing.
    reply(b, PEER_IP, mac("02:00:00:00:0e:0e"));
    const i = entry(b, PEER_IP);
    expect(b.net.neigh.ha.slice(i * 6, i * 6 + 6)).toEqual(PEER_MAC);
    b.take();
    send(b.net, PEER_IP, 3);
    b.run();
    expect(ipMarkers(b.take(), PEER_MAC)).toEqual([3]);
  });

  it("sends to broadcast and multicast addresses without an entry", () => {
    const b = makeBench({}, { peer: false });
    send(b.net, ip("10.0.0.255"), 1);
    send(b.net, 0xffffffff, 2);
    send(b.net, ip("224.0.0.251"), 3);
    b.run();
    const out = b.take();
    expect(out.map((f) => [Array.from(f.subarray(0, 6)), ipOf(f).payload[0]])).toEqual([
      [Array.from(BCAST_MAC), 1],
      [Array.from(BCAST_MAC), 2],
      [[0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb], 3],
    ]);
    expect(b.net.neigh.dump()).toEqual([]);
  });
});

describe("neighbour queue fixes", () => {
  /** An 8-byte datagram of protocol 253 from `src` (maybe not ours) to `dst`. */
  function sendFrom(net: Net, src: number, dst: number, marker: number): number {
    const skb = net.pool.alloc() as SkBuff;
    const at = skb.put(8);
    net.pool.buf.fill(0, at, at + 8);
    net.pool.buf[at] = marker;
    return ipSend(net, skb, src, dst, PROTO_TEST, 0, 64, false);
  }

  it("addPermanent on an entry still resolving sends what waited, and stops the ARP retries", () => {
    const b = makeBench({}, { peer: false });
    for (const m of [1, 2, 3]) send(b.net, PEER_IP, m);
    b.run();
    expect(b.take().filter(isArp).length).toBe(1);
    expect(state(b, PEER_IP)).toBe("INCOMPLETE");
    b.net.neigh.addPermanent(PEER_IP, b.dev, PEER_MAC);
    b.run();
    expect(state(b, PEER_IP)).toBe("PERMANENT");
    expect(b.net.neigh.queue[entry(b, PEER_IP)].qlen).toBe(0);
    expect(ipMarkers(b.take(), PEER_MAC)).toEqual([1, 2, 3]);
    advance(b.net, b.platform, 5000);
    expect(b.take()).toEqual([]); // no more requests, no FAILED
    expect(state(b, PEER_IP)).toBe("PERMANENT");
    expect(b.net.drops.total).toBe(0);
    expect(b.net.pool.inUse).toBe(0);
  });

  it("waiting packets give way, oldest first, when the pool runs low, so a reply can still be received", () => {
    // 32 slots: the reserve is max(2, 32 >> 4) = 2 free slots.
    const b = makeBench({ skbSlots: 32, skbRecords: 40, reasmSkbsMax: 8 }, { peer: false });
    const hoard: SkBuff[] = [];
    while (b.net.pool.available > 4) hoard.push(b.net.pool.alloc() as SkBuff);
    const giveBack = (): void => {
      for (const skb of hoard.splice(0)) b.net.pool.free(skb);
    };
    try {
      send(b.net, PEER_IP, 1); // its skb and the ARP request: 2 left
      expect(b.net.pool.available).toBe(2);
      expect(b.net.neigh.queue[entry(b, PEER_IP)].qlen).toBe(1);
      send(b.net, PEER_IP, 2); // 1 left: packet 1 gives way
      send(b.net, PEER_IP, 3); // and then packet 2
      expect(b.net.pool.available).toBe(2);
      expect(b.net.neigh.queue[entry(b, PEER_IP)].qlen).toBe(1);
      expect(b.net.neigh.stats.unresDiscards).toBe(2);
      expect(b.net.drops.snapshot()).toEqual({ NEIGH_QUEUEFULL: 2 });
      b.run();
      expect(b.take().filter(isArp).length).toBe(1);
      reply(b, PEER_IP, PEER_MAC);
      expect(state(b, PEER_IP)).toBe("REACHABLE");
      expect(ipMarkers(b.take(), PEER_MAC)).toEqual([3]);
    } finally {
      giveBack();
    }
    // With the pool full again, the queue is bounded by neighQueueMax only.
    for (const m of [4, 5, 6]) send(b.net, ip("10.0.0.50"), m);
    expect(b.net.neigh.queue[entry(b, ip("10.0.0.50"))].qlen).toBe(3);
    expect(b.net.neigh.stats.unresDiscards).toBe(2);
  });

  for (const holdMs of [3000, 0]) {
    it(`with one entry, the host unreachable for a packet from another host is sent when resolution fails (hold ${holdMs} ms)`, () => {
      const b = makeBench({ neighEntriesMax: 1, neighFailedHoldMs: holdMs }, { peer: false });
      const other = ip("10.0.0.7");
      const otherMac = mac("02:00:00:00:00:07");
      const gone = ip("10.0.0.99");
      // Two datagrams from 10.0.0.7 (as a router forwards them) wait for 10.0.0.99, which never answers.
      sendFrom(b.net, other, gone, 1);
      sendFrom(b.net, other, gone, 2);
      advance(b.net, b.platform, 2999);
      expect(b.take().filter(isArp).map((f) => arpOf(f).tpa)).toEqual([gone, gone, gone]);
      advance(b.net, b.platform, 1);
      // The only entry now resolves 10.0.0.7, with both errors waiting in its queue.
      expect(b.net.neigh.stats.resFailed).toBe(1);
      expect(b.net.drops.snapshot()).toEqual({ NEIGH_FAILED: 2 }); // the two originals, nothing else
      expect(b.net.ipv4.icmp.stats.outDestUnreachs).toBe(2);
      expect(state(b, other)).toBe("INCOMPLETE");
      expect(b.net.neigh.queue[entry(b, other)].qlen).toBe(2);
      const t0 = b.platform.time;
      const requests: number[] = [];
      const collect = (): void => {
        for (const f of b.take()) {
          expect(isArp(f) && arpOf(f).tpa === other).toBe(true);
          requests.push(b.platform.time - t0);
        }
      };
      collect();
      // Its own retransmit timer runs (not the FAILED hold of the entry it replaced).
      advance(b.net, b.platform, 1000);
      collect();
      expect(requests).toEqual([0, 1000]);
      reply(b, other, otherMac);
      const errors = b.take().filter(isIp).map((f) => {
        expect(f.subarray(0, 6)).toEqual(otherMac);
        const v = ipOf(f);
        const quoted = ipOf(v.payload, 8);
        return [v.src, v.dst, v.proto, v.payload[0], v.payload[1], quoted.src, quoted.dst, quoted.payload[0]];
      });
      expect(errors).toEqual([
        [HOST_IP, other, 1, 3, 1, other, gone, 1],
        [HOST_IP, other, 1, 3, 1, other, gone, 2],
      ]);
      expect(b.net.drops.snapshot()).toEqual({ NEIGH_FAILED: 2 });
    });
  }

  it("with one entry, the errors for our own queued packets are delivered to us through lo", () => {
    const b = makeBench({ neighEntriesMax: 1 }, { peer: false });
    const seen: number[] = [];
    b.net.ipv4.raw.register(1, (net, skb) => seen.push(net.pool.buf[skb.data] * 256 + net.pool.buf[skb.data + 1]));
    send(b.net, PEER_IP, 1);
    send(b.net, PEER_IP, 2);
    advance(b.net, b.platform, 3000);
    expect(state(b, PEER_IP)).toBe("FAILED");
    expect(seen).toEqual([0x0301, 0x0301]);
    expect(b.net.ipv4.icmp.stats.outDestUnreachs).toBe(2);
    expect(b.net.ipv4.icmp.stats.inDestUnreachs).toBe(2);
    expect(b.net.drops.snapshot()).toEqual({ NEIGH_FAILED: 2 });
    advance(b.net, b.platform, 3000);
    expect(state(b, PEER_IP)).toBe("none");
  });
});
