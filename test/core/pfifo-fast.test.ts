import { describe, expect, it } from "vitest";
import { devQueueXmit, netifStopQueue, netifWakeQueue } from "../../src/core/dev";
import { SKB_DROP } from "../../src/core/drop";
import type { Net } from "../../src/core/net";
import type { SkBuff } from "../../src/core/skb";
import { PfifoFast } from "../../src/core/pfifo-fast";
import {
  NET_XMIT_DROP, NET_XMIT_SUCCESS, TC_PRIO_BESTEFFORT, TC_PRIO_BULK, TC_PRIO_CONTROL, TC_PRIO_FILLER,
  TC_PRIO_INTERACTIVE, TC_PRIO_INTERACTIVE_BULK, tosToPriority,
} from "../../src/core/qdisc";
import { makeNet } from "../helpers";
import { ethFrame, mac } from "../packets";
import { addFakeDevice, PEER_MAC } from "../testbed";
import { devOpen, netifCarrierOn } from "../../src/core/link";

/** An skb of `len` bytes whose first byte is `marker`. */
function skbOf(net: Net, marker: number, priority: number, len = 60): SkBuff {
  const skb = net.pool.alloc() as SkBuff;
  const at = skb.put(len);
  net.pool.buf[at] = marker;
  skb.priority = priority;
  return skb;
}

/** Dequeue everything: the markers in order; the skbs go back to the pool. */
function drain(net: Net, q: PfifoFast): number[] {
  const out: number[] = [];
  let skb: SkBuff | null;
  while ((skb = q.dequeue()) !== null) {
    out.push(net.pool.buf[skb.data]);
    net.pool.free(skb);
  }
  return out;
}

describe("pfifo_fast", () => {
  it("serves band 0 (control, interactive) before band 1 (best effort) before band 2 (bulk)", () => {
    const { net } = makeNet();
    const q = new PfifoFast(net, 16);
    const prios: [number, number][] = [
      [1, TC_PRIO_BULK], [2, TC_PRIO_BESTEFFORT], [3, TC_PRIO_CONTROL], [4, TC_PRIO_BULK], [5, TC_PRIO_INTERACTIVE],
      [6, TC_PRIO_BESTEFFORT], [7, TC_PRIO_CONTROL], [8, TC_PRIO_FILLER], [9, TC_PRIO_INTERACTIVE_BULK],
    ];
    for (const [m, p] of prios) expect(q.enqueue(skbOf(net, m, p))).toBe(NET_XMIT_SUCCESS);
    expect([q.bandLength(0), q.bandLength(1), q.bandLength(2)]).toEqual([3, 3, 3]);
    expect(q.qlen).toBe(9);
    // FIFO inside each band: control/interactive 3,5,7; best effort 2,6,9 (interactive bulk
    // maps to band 1, as Linux's priomap); bulk and filler 1,4,8.
    expect(drain(net, q)).toEqual([3, 5, 7, 2, 6, 9, 1, 4, 8]);
    expect(q.qlen).toBe(0);
    expect(q.stats.packets).toBe(9);
    expect(q.stats.bytes).toBe(9 * 60);
  });

  it("maps every priority through Linux's priomap, using the low 4 bits", () => {
    const { net } = makeNet();
    const q = new PfifoFast(net, 64);
    const expected = [1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1];
    for (let p = 0; p < 16; p++) {
      q.enqueue(skbOf(net, p, p));
      const band = [0, 1, 2].find((b) => q.bandLength(b) === 1);
      expect(band, `priority ${p}`).toBe(expected[p]);
      drain(net, q);
    }
    q.enqueue(skbOf(net, 0, 16 + TC_PRIO_CONTROL)); // 23 & 15 = 7: band 0
    expect(q.bandLength(0)).toBe(1);
    drain(net, q);
  });

  it("drops over its limit (all bands together) as QDISC_DROP", () => {
    const { net } = makeNet();
    const q = new PfifoFast(net, 3);
    expect(q.enqueue(skbOf(net, 1, TC_PRIO_BULK))).toBe(NET_XMIT_SUCCESS);
    expect(q.enqueue(skbOf(net, 2, TC_PRIO_BESTEFFORT))).toBe(NET_XMIT_SUCCESS);
    expect(q.enqueue(skbOf(net, 3, TC_PRIO_BESTEFFORT))).toBe(NET_XMIT_SUCCESS);
    // Even control traffic is refused once the limit is reached (one limit for all bands).
    expect(q.enqueue(skbOf(net, 4, TC_PRIO_CONTROL))).toBe(NET_XMIT_DROP);
    expect(q.enqueue(skbOf(net, 5, TC_PRIO_BULK))).toBe(NET_XMIT_DROP);
    expect(q.qlen).toBe(3);
    expect(q.stats.drops).toBe(2);
    expect(net.drops.count("QDISC_DROP")).toBe(2);
    expect(net.pool.inUse).toBe(3);
    expect(drain(net, q)).toEqual([2, 3, 1]);
  });

  it("a requeued skb goes first, before band 0, and counts once in qlen", () => {
    const { net } = makeNet();
    const q = new PfifoFast(net, 4);
    q.enqueue(skbOf(net, 1, TC_PRIO_BULK, 100));
    q.enqueue(skbOf(net, 2, TC_PRIO_BESTEFFORT));
    const first = q.dequeue() as SkBuff; // best effort leaves first
    expect(net.pool.buf[first.data]).toBe(2);
    q.enqueue(skbOf(net, 3, TC_PRIO_CONTROL));
    expect([q.stats.packets, q.stats.bytes]).toEqual([1, 60]);
    q.requeue(first); // the driver was busy
    expect(q.qlen).toBe(3);
    expect(q.stats.requeues).toBe(1);
    expect([q.stats.packets, q.stats.bytes]).toEqual([0, 0]);
    expect(drain(net, q)).toEqual([2, 3, 1]);
    expect([q.stats.packets, q.stats.bytes]).toEqual([3, 220]);
  });

  it("a requeued skb does not count against the limit twice", () => {
    const { net } = makeNet();
    const q = new PfifoFast(net, 2);
    q.enqueue(skbOf(net, 1, 0));
    q.enqueue(skbOf(net, 2, 0));
    const s = q.dequeue() as SkBuff;
    q.requeue(s);
    expect(q.qlen).toBe(2);
    expect(q.enqueue(skbOf(net, 3, 0))).toBe(NET_XMIT_DROP);
    expect(drain(net, q)).toEqual([1, 2]);
  });

  it("reset drops everything held, the requeued skb included, with the given reason", () => {
    const { net } = makeNet();
    const q = new PfifoFast(net, 8);
    q.enqueue(skbOf(net, 1, TC_PRIO_BULK));
    q.enqueue(skbOf(net, 2, TC_PRIO_CONTROL));
    q.enqueue(skbOf(net, 3, TC_PRIO_BESTEFFORT));
    q.requeue(q.dequeue() as SkBuff);
    q.reset(SKB_DROP.NO_CARRIER);
    expect(q.qlen).toBe(0);
    expect(q.dequeue()).toBeNull();
    expect(net.drops.count("NO_CARRIER")).toBe(3);
    expect(q.stats.drops).toBe(3);
    expect([q.stats.packets, q.stats.bytes]).toEqual([0, 0]);
    expect(net.pool.inUse).toBe(0);
  });

  it("orders a device's frames on the wire by band once the driver has room", () => {
    const { net } = makeNet({ txQueueLen: 16 });
    const { dev, drv } = addFakeDevice(net, "eth0", mac("02:00:00:00:00:01"));
    devOpen(dev);
    netifCarrierOn(dev);
    netifStopQueue(dev);
    const send = (marker: number, priority: number): void => {
      const skb = net.pool.alloc() as SkBuff;
      const f = ethFrame(PEER_MAC, dev.addr, 0x88b5, new Uint8Array([marker, 0, 0, 0]));
      net.pool.buf.set(f, skb.put(f.length));
      skb.dev = dev;
      skb.priority = priority;
      devQueueXmit(skb);
    };
    send(1, TC_PRIO_BULK);
    send(2, TC_PRIO_BESTEFFORT);
    send(3, TC_PRIO_CONTROL);
    send(4, TC_PRIO_BULK);
    send(5, TC_PRIO_INTERACTIVE);
    netifWakeQueue(dev);
    net.softnet.run();
    expect(drv.sent.map((f) => f[14])).toEqual([3, 5, 2, 1, 4]);
  });
});

describe("tosToPriority (rt_tos2priority)", () => {
  it("maps the RFC 1349 TOS bits as Linux's ip_tos2prio", () => {
    const linux = [0, 0, 0, 0, 2, 2, 2, 2, 6, 6, 6, 6, 4, 4, 4, 4]; // ip_tos2prio[(tos & 0x1e) >> 1]
    for (let tos = 0; tos < 256; tos++) expect(tosToPriority(tos), `tos 0x${tos.toString(16)}`).toBe(linux[(tos & 0x1e) >> 1]);
    expect(tosToPriority(0x10)).toBe(TC_PRIO_INTERACTIVE); // minimize delay (ssh)
    expect(tosToPriority(0x08)).toBe(TC_PRIO_BULK); // maximize throughput (ftp-data)
    expect(tosToPriority(0x04)).toBe(TC_PRIO_BESTEFFORT); // maximize reliability
    expect(tosToPriority(0x02)).toBe(TC_PRIO_BESTEFFORT); // minimize cost
    expect(tosToPriority(0x18)).toBe(TC_PRIO_INTERACTIVE_BULK);
    expect(tosToPriority(0xc0)).toBe(TC_PRIO_BESTEFFORT); // precedence bits are ignored
    expect(tosToPriority(0xd0)).toBe(TC_PRIO_INTERACTIVE); // ICMP errors: precedence 6 | low delay
  });
});
