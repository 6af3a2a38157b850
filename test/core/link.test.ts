// Interfaces (src/core/link.ts): close with a poll pending, the packet-type table, taps,
// carrier off.
import { describe, expect, it } from "vitest";
import { Pinger } from "../../src/apps/ping";
import { devQueueXmit } from "../../src/core/dev";
import { consumeSkb } from "../../src/core/free";
import { HOOKS_MAX, addTap, devAddPack, devClose, devOpen, netifCarrierOff, removeTap } from "../../src/core/link";
import { NET_XMIT_DROP } from "../../src/core/qdisc";
import type { Net } from "../../src/core/net";
import type { NetDevice } from "../../src/core/netdevice";
import type { SkBuff } from "../../src/core/skb";
import { makeWorld, seedFrom, withSeed } from "../helpers";
import { PEER_MAC } from "../testbed";
import { ETH_P_TEST, frame, MAC0, markers, setup, txSkb } from "./bed";

describe("closing a device with a poll pending", () => {
  it("does not poll it after close, and polls it again once reopened", () => {
    const { net, devs, seen } = setup();
    const { dev, drv } = devs[0];
    drv.inject(frame(MAC0, PEER_MAC, 1));
    drv.inject(frame(MAC0, PEER_MAC, 2));
    expect(dev.napi.scheduled).toBe(true);
    devClose(dev);
    expect(net.drops.count("SHUTDOWN")).toBe(2); // the driver's stop gave them back
    net.softnet.run();
    expect(drv.polls).toEqual([]);
    expect(dev.napi.scheduled).toBe(false);
    devOpen(dev);
    drv.inject(frame(MAC0, PEER_MAC, 3));
    net.softnet.run();
    expect(seen.map((s) => s.marker)).toEqual([3]);
    expect(drv.polls.length).toBe(1);
  });

  it("a DMA driver closed with an interrupt pending keeps no buffer from the pool", () =>
    withSeed(seedFrom(31), (seed) => {
      const { world, a, b, devA } = makeWorld(seed).twoHosts({ lanName: "lan0" });
      const ping = new Pinger(b.net, 1);
      ping.send("10.0.0.1", 56);
      world.runFor(100);
      expect(ping.received).toBe(1);
      ping.send("10.0.0.1", 56);
      // The frame lands at A and raises its interrupt; A closes before its loop runs.
      expect(world.runUntil(() => devA.napi.scheduled, 10)).toBe(true);
      devClose(devA);
      expect(a.net.pool.inUse).toBe(0);
      world.runFor(10);
      expect(a.net.pool.inUse).toBe(0);
      devOpen(devA);
      world.runFor(10);
      const ringSize = 32;
      expect(a.net.pool.inUse).toBe(ringSize); // the RX ring again, and nothing more
      ping.close();
    }));
});

describe("the packet-type table (dev_add_pack)", () => {
  it("a later devAddPack for the same ethertype replaces the handler", () => {
    const { net, devs, seen } = setup();
    const other: number[] = [];
    devAddPack(net, ETH_P_TEST, (n, skb) => {
      other.push(n.pool.buf[skb.data]);
      consumeSkb(n, skb);
    });
    devs[0].drv.inject(frame(MAC0, PEER_MAC, 7));
    net.softnet.run();
    expect(seen).toEqual([]);
    expect(other).toEqual([7]);
  });

  it("holds HOOKS_MAX ethertypes; one more is refused, naming the table", () => {
    const { net } = setup();
    const drop = (n: Net, skb: SkBuff): void => consumeSkb(n, skb);
    for (let type = 0x9000; net.ptypeTypes.length < HOOKS_MAX; type++) devAddPack(net, type, drop);
    expect(() => devAddPack(net, 0x9fff, drop)).toThrow(/packet-type table full \(8 ethertypes\)/);
    devAddPack(net, 0x9000, drop); // replacing one that is there still works
  });
});

describe("taps (ETH_P_ALL)", () => {
  it("taps see received and transmitted frames, truncated ones included", () => {
    const { net, devs } = setup();
    const { dev, drv } = devs[0];
    const log: [string, boolean, Uint8Array][] = [];
    const tap = (d: NetDevice, skb: SkBuff, outgoing: boolean): void => {
      log.push([d.name, outgoing, net.pool.buf.slice(skb.data, skb.tail)]);
    };
    addTap(net, tap);
    drv.inject(frame(MAC0, PEER_MAC, 1));
    drv.inject(frame(MAC0, PEER_MAC, 2).subarray(0, 10));
    net.softnet.run();
    devQueueXmit(txSkb(net, dev, 3));
    net.softnet.run();
    expect(log).toEqual([
      ["eth0", false, frame(MAC0, PEER_MAC, 1)],
      ["eth0", false, frame(MAC0, PEER_MAC, 2).subarray(0, 10)],
      ["eth0", true, frame(PEER_MAC, MAC0, 3)],
    ]);
    removeTap(net, tap);
    drv.inject(frame(MAC0, PEER_MAC, 4));
    net.softnet.run();
    expect(log.length).toBe(3);
  });

  it("refuses more taps than config.tapsMax", () => {
    const { net } = setup({ tapsMax: 1 });
    addTap(net, () => {});
    expect(() => addTap(net, () => {})).toThrow(RangeError);
  });
});

describe("carrier (netif_carrier_off)", () => {
  it("carrier off purges the qdisc (NO_CARRIER) and refuses new frames", () => {
    const { net, devs } = setup();
    const { dev, drv } = devs[0];
    drv.autoComplete = false;
    drv.ringSize = 1;
    for (let i = 0; i < 4; i++) devQueueXmit(txSkb(net, dev, i));
    expect(markers(drv.sent)).toEqual([0]);
    expect(dev.qdisc?.qlen).toBe(3);
    netifCarrierOff(dev);
    expect(dev.qdisc?.qlen).toBe(0);
    expect(dev.qdisc?.stats.drops).toBe(3);
    expect(net.drops.count("NO_CARRIER")).toBe(3);
    expect(devQueueXmit(txSkb(net, dev, 9))).toBe(NET_XMIT_DROP);
    expect(net.drops.count("NO_CARRIER")).toBe(4);
    expect(dev.stats.txCarrierErrors).toBe(1);
    expect(dev.stats.txDropped).toBe(1);
    drv.complete(1);
    net.softnet.run();
    expect(net.pool.inUse).toBe(0);
    expect(net.drops.total).toBe(4);
    expect(markers(drv.sent)).toEqual([0]);
  });
});
