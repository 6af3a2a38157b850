import { describe, expect, it } from "vitest";
import { Pinger } from "../../src/apps/ping";
import { IFF_LOOPBACK, IFF_NOARP, type NetDevice } from "../../src/core/netdevice";
import type { SkBuff } from "../../src/core/skb";
import { makeNet } from "../helpers";
import { ipOf } from "../packets";
import { addFakeDevice, HOST_MAC, runUntilIdle } from "../testbed";
import { addTap, devClose, devOpen, netifCarrierOn } from "../../src/core/link";
import { ipAddrAdd } from "../../src/ipv4/devinet";

function tapAll(net: ReturnType<typeof makeNet>["net"]) {
  const log: { dev: string; outgoing: boolean; bytes: Uint8Array }[] = [];
  addTap(net, (dev: NetDevice, skb: SkBuff, outgoing: boolean) => {
    log.push({ dev: dev.name, outgoing, bytes: net.pool.buf.slice(skb.data, skb.tail) });
  });
  return log;
}

describe("the loopback device", () => {
  it("exists from init: up, with carrier, queueless, 127.0.0.1/8", () => {
    const { net } = makeNet();
    const lo = net.loopback;
    expect(lo.name).toBe("lo");
    expect(lo.ifindex).toBe(1);
    expect(lo.isUp).toBe(true);
    expect(lo.hasCarrier).toBe(true);
    expect(lo.qdisc).toBeNull();
    expect(lo.flags & (IFF_LOOPBACK | IFF_NOARP)).toBe(IFF_LOOPBACK | IFF_NOARP);
    expect(lo.inDev.addr).toBe(0x7f000001);
    expect(lo.inDev.prefixLen).toBe(8);
  });

  it("carries a ping to 127.0.0.1 out and back through its backlog", () => {
    const { net } = makeNet();
    const log = tapAll(net);
    const ping = new Pinger(net, 0x4242);
    expect(ping.send("127.0.0.1", 56)).toBe(0);
    runUntilIdle(net);
    expect(ping.received).toBe(1);
    expect(ping.corrupted).toBe(0);
    // Request out, request in, reply out, reply in: all on lo.
    expect(log.map((l) => `${l.dev}:${l.outgoing ? "tx" : "rx"}`)).toEqual(["lo:tx", "lo:rx", "lo:tx", "lo:rx"]);
    const req = ipOf(log[0].bytes);
    const rep = ipOf(log[2].bytes);
    expect([req.src, req.dst, req.proto, req.totLen]).toEqual([0x7f000001, 0x7f000001, 1, 84]);
    expect([rep.src, rep.dst, rep.payload[0]]).toEqual([0x7f000001, 0x7f000001, 0]); // echo reply
    expect(Array.from(log[0].bytes.subarray(0, 12))).toEqual(new Array(12).fill(0)); // lo's MAC is zero
    const lo = net.loopback.stats;
    expect([lo.txPackets, lo.rxPackets, lo.txBytes, lo.rxBytes]).toEqual([2, 2, 2 * 98, 2 * 98]);
    expect(net.ipv4.icmp.stats.inEchos).toBe(1);
    expect(net.ipv4.icmp.stats.outEchoReps).toBe(1);
    expect(net.drops.total).toBe(0);
    ping.close();
  });

  it("carries traffic to our own interface address through lo, never the wire", () => {
    const { net } = makeNet();
    const { dev, drv } = addFakeDevice(net, "eth0", HOST_MAC);
    ipAddrAdd(net, dev, "192.168.7.20/24");
    devOpen(dev);
    netifCarrierOn(dev);
    runUntilIdle(net);
    expect(drv.take().length).toBe(1); // the announcement
    const txBefore = dev.stats.txPackets;
    const log = tapAll(net);
    const ping = new Pinger(net, 7);
    ping.send("192.168.7.20", 1000);
    ping.send("192.168.7.20", 3000); // fragmented and reassembled on lo
    runUntilIdle(net);
    expect(ping.received).toBe(2);
    expect(ping.corrupted).toBe(0);
    expect(drv.sent).toEqual([]);
    expect(dev.stats.txPackets).toBe(txBefore);
    expect(log.every((l) => l.dev === "lo")).toBe(true);
    const first = ipOf(log[0].bytes);
    expect([first.src, first.dst]).toEqual([0xc0a80714, 0xc0a80714]);
    // 1 + 3 frames each way.
    expect(net.loopback.stats.txPackets).toBe(8);
    expect(net.ipv4.stats.reasmOKs).toBe(2);
    ping.close();
  });

  it("drops past its backlog as LOOPBACK_BACKLOG, counted in rx_dropped", () => {
    const { net } = makeNet({ loopbackBacklog: 4 });
    const ping = new Pinger(net, 9);
    for (let i = 0; i < 6; i++) ping.send("127.0.0.1", 32);
    // Nothing has run yet: four wait in the backlog, two were dropped.
    expect(net.drops.count("LOOPBACK_BACKLOG")).toBe(2);
    expect(net.loopback.stats.rxDropped).toBe(2);
    expect(net.loopback.stats.txPackets).toBe(4);
    expect(net.pool.inUse).toBe(4);
    runUntilIdle(net);
    // The four requests in the backlog are answered (each reply finds room as the poll drains).
    expect(ping.received).toBe(4);
    expect(net.drops.count("LOOPBACK_BACKLOG")).toBe(2);
    expect(net.drops.total).toBe(2);
    expect(net.pool.inUse).toBe(0);
    ping.close();
  });

  it("delivers the backlog in order, at most napiWeight frames per poll", () => {
    const { net } = makeNet({ napiWeight: 2, netdevBudget: 100, loopbackBacklog: 16 });
    const ping = new Pinger(net, 11);
    const order: number[] = [];
    ping.onReply = (seq) => order.push(seq);
    for (let i = 0; i < 5; i++) ping.send("127.0.0.1", 8);
    runUntilIdle(net);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(net.loopback.napi.polls).toBeGreaterThanOrEqual(5);
    ping.close();
  });

  it("stopping lo frees its backlog as SHUTDOWN", () => {
    const { net } = makeNet();
    const ping = new Pinger(net, 12);
    ping.send("127.0.0.1", 8);
    ping.send("127.0.0.1", 8);
    devClose(net.loopback);
    expect(net.drops.count("SHUTDOWN")).toBe(2);
    expect(net.pool.inUse).toBe(0);
    ping.close();
  });
});
