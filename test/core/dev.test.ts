// The device layer (src/core/dev.ts): NAPI polls within the budget, receive dispatch,
// transmit through the qdisc to the driver, a driver that fails a frame.
import { describe, expect, it } from "vitest";
import { devQueueXmit, devTxError, netifStopQueue, netifWakeQueue } from "../../src/core/dev";
import { SKB_DROP } from "../../src/core/drop";
import { addTap, devAddPack, devClose, devOpen, netifCarrierOn, registerNetdev } from "../../src/core/link";
import { consumeSkb } from "../../src/core/free";
import { IFF_PROMISC, NETDEV_TX_OK, type NetDevice } from "../../src/core/netdevice";
import type { PfifoFast } from "../../src/core/pfifo-fast";
import { NET_XMIT_DROP, NET_XMIT_SUCCESS } from "../../src/core/qdisc";
import { PACKET_BROADCAST, PACKET_HOST, PACKET_MULTICAST, type SkBuff } from "../../src/core/skb";
import { makeNet } from "../helpers";
import { BCAST_MAC, mac } from "../packets";
import { addFakeDevice, FakeDriver, PEER_MAC } from "../testbed";
import { ETH_P_TEST, frame, MAC0, MAC1, markers, setup, txSkb } from "./bed";

describe("NAPI and the NET_RX softirq", () => {
  it("polls each device up to its weight within the budget, and counts a time squeeze", () => {
    const { net, platform, devs, seen } = setup({ napiWeight: 4, netdevBudget: 10, softirqRoundsMax: 1 }, 2);
    const [a, b] = devs;
    for (let i = 0; i < 12; i++) a.drv.inject(frame(MAC0, PEER_MAC, i));
    for (let i = 0; i < 12; i++) b.drv.inject(frame(MAC1, PEER_MAC, 100 + i));
    // Interrupts coalesce into one request to run soon.
    expect(platform.requests).toEqual([0]);

    net.softnet.run();
    // eth0 4, eth1 4, then eth0 gets the 2 left of the budget.
    expect(seen.map((s) => `${s.dev}:${s.marker}`)).toEqual([
      "eth0:0", "eth0:1", "eth0:2", "eth0:3", "eth1:100", "eth1:101", "eth1:102", "eth1:103", "eth0:4", "eth0:5",
    ]);
    expect(net.softnet.stats.timeSqueeze).toBe(1);
    expect(net.softnet.stats.yields).toBe(1);
    expect(platform.requests).toEqual([0, 0]); // work left: the loop asked to run again

    net.softnet.run();
    expect(seen.length).toBe(20);
    expect(net.softnet.stats.timeSqueeze).toBe(2);
    net.softnet.run();
    expect(seen.length).toBe(24);
    expect(net.softnet.stats.timeSqueeze).toBe(2);
    expect(net.softnet.stats.yields).toBe(2);
    expect(platform.requests).toEqual([0, 0, 0]); // nothing left: no new request

    expect(a.drv.polls).toEqual([{ budget: 4, work: 4 }, { budget: 2, work: 2 }, { budget: 4, work: 4 }, { budget: 4, work: 2 }]);
    expect(b.drv.polls).toEqual([{ budget: 4, work: 4 }, { budget: 4, work: 4 }, { budget: 2, work: 2 }, { budget: 4, work: 2 }]);
    expect(a.dev.napi.polls).toBe(4);
    expect(a.dev.napi.scheduled).toBe(false);
    expect(seen.filter((s) => s.dev === "eth0").map((s) => s.marker)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(a.dev.stats.rxPackets).toBe(12);
    expect(a.dev.stats.rxBytes).toBe(12 * 60);
    expect(net.drops.consumed).toBe(24);
    expect(net.drops.total).toBe(0);
  });
});

describe("NET_RX's time budget (Linux netdev_budget_usecs)", () => {
  it("yields after netdevBudgetMs of the platform's clock though frames are left in the budget", () => {
    // Frames that cost CPU time, as a driver that moves each over SPI: 1 ms each here.
    const { net, platform, devs, seen } = setup({ napiWeight: 4, netdevBudget: 300, netdevBudgetMs: 2, softirqRoundsMax: 1 });
    devAddPack(net, ETH_P_TEST, (n, skb) => {
      platform.time += 1;
      seen.push({ dev: "eth0", marker: n.pool.buf[skb.data], pktType: skb.pktType, len: skb.len });
      consumeSkb(n, skb);
    });
    for (let i = 0; i < 12; i++) devs[0].drv.inject(frame(MAC0, PEER_MAC, i));
    net.softnet.run();
    // One poll of 4 frames took 4 ms, past the 2 ms: the run yields (a time squeeze) with 296 frames of budget left.
    expect(seen.length).toBe(4);
    expect(net.softnet.stats.timeSqueeze).toBe(1);
    expect(platform.requests.at(-1)).toBe(0);
    for (let i = 0; i < 3; i++) net.softnet.run();
    expect(seen.map((s) => s.marker)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });
});

describe("receive dispatch (netif_receive_skb)", () => {
  it("hands frames to the handler of their ethertype with the packet type of their destination", () => {
    const { net, devs, seen } = setup();
    const { dev, drv } = devs[0];
    drv.inject(frame(MAC0, PEER_MAC, 1));
    drv.inject(frame(BCAST_MAC, PEER_MAC, 2));
    drv.inject(frame(mac("01:00:5e:00:00:fb"), PEER_MAC, 3));
    net.softnet.run();
    expect(seen).toEqual([
      { dev: "eth0", marker: 1, pktType: PACKET_HOST, len: 46 },
      { dev: "eth0", marker: 2, pktType: PACKET_BROADCAST, len: 46 },
      { dev: "eth0", marker: 3, pktType: PACKET_MULTICAST, len: 46 },
    ]);
    expect(dev.stats.multicast).toBe(1);
    expect(dev.stats.rxPackets).toBe(3);
    expect(net.drops.total).toBe(0);
  });

  it("drops an unknown ethertype (IPv6) as UNHANDLED_PROTO and counts rx_nohandler", () => {
    const { net, devs, seen } = setup();
    const { dev, drv } = devs[0];
    drv.inject(frame(MAC0, PEER_MAC, 1, 46, 0x86dd));
    drv.inject(frame(MAC0, PEER_MAC, 2, 46, 0x8100)); // a VLAN tag: no handler here
    drv.inject(frame(MAC0, PEER_MAC, 3, 46, 0x002e)); // an 802.3 length field
    net.softnet.run();
    expect(seen).toEqual([]);
    expect(dev.stats.rxNohandler).toBe(3);
    expect(net.drops.count("UNHANDLED_PROTO")).toBe(3);
    expect(net.drops.total).toBe(3);
    expect(dev.stats.rxPackets).toBe(3);
  });

  it("drops a frame shorter than an Ethernet header as PKT_TOO_SMALL", () => {
    const { net, devs, seen } = setup();
    const { dev, drv } = devs[0];
    drv.inject(frame(MAC0, PEER_MAC, 1).subarray(0, 13));
    net.softnet.run();
    expect(seen).toEqual([]);
    expect(net.drops.count("PKT_TOO_SMALL")).toBe(1);
    expect(net.drops.total).toBe(1);
    expect(dev.stats.rxLengthErrors).toBe(1);
    expect(dev.stats.rxErrors).toBe(1);
    expect(dev.stats.rxBytes).toBe(13);
  });

  it("drops unicast to another MAC as OTHERHOST, promiscuous or not (taps still see it)", () => {
    const { net, devs, seen } = setup();
    const { dev, drv } = devs[0];
    const other = mac("02:00:00:00:00:99");
    drv.inject(frame(other, PEER_MAC, 1));
    net.softnet.run();
    expect(seen).toEqual([]);
    expect(net.drops.count("OTHERHOST")).toBe(1);
    dev.flags |= IFF_PROMISC;
    let tapped = 0;
    addTap(net, (_d, _skb, outgoing) => {
      if (!outgoing) tapped++;
    });
    drv.inject(frame(other, PEER_MAC, 2));
    net.softnet.run();
    // As Linux: promiscuous mode is for taps; L3 never takes another host's unicast.
    expect(seen).toEqual([]);
    expect(tapped).toBe(1);
    expect(net.drops.count("OTHERHOST")).toBe(2);
  });
});

describe("transmit (dev_queue_xmit -> qdisc -> driver)", () => {
  it("passes through the qdisc to the driver; the skb is freed in NET_TX, not before", () => {
    const { net, devs } = setup();
    const { dev, drv } = devs[0];
    drv.autoComplete = false;
    const skb = txSkb(net, dev, 9);
    expect(devQueueXmit(skb)).toBe(NET_XMIT_SUCCESS);
    expect(drv.sent).toEqual([frame(PEER_MAC, MAC0, 9)]);
    expect(drv.sentIds).toEqual([skb.id]);
    const q = dev.qdisc as PfifoFast;
    expect([q.stats.packets, q.stats.bytes, q.qlen]).toEqual([1, 60, 0]);
    expect(dev.stats.txPackets).toBe(0); // counted at TX completion
    // TX-done: counted, but the skb waits on the completion queue for NET_TX.
    drv.complete(1);
    expect(dev.stats.txPackets).toBe(1);
    expect(dev.stats.txBytes).toBe(60);
    expect(net.pool.inUse).toBe(1);
    expect(net.drops.consumed).toBe(0);
    expect(net.softnet.idle).toBe(false);
    net.softnet.run();
    expect(net.pool.inUse).toBe(0);
    expect(net.drops.consumed).toBe(1);
    expect(net.softnet.idle).toBe(true);
  });

  it("a busy driver gets its skb back first; netifWakeQueue resumes and nothing is lost", () => {
    const { net, devs } = setup();
    const { dev, drv } = devs[0];
    drv.autoComplete = false;
    drv.ringSize = 2;
    for (let i = 0; i < 5; i++) expect(devQueueXmit(txSkb(net, dev, i))).toBe(NET_XMIT_SUCCESS);
    const q = dev.qdisc as PfifoFast;
    expect(markers(drv.sent)).toEqual([0, 1]);
    expect(drv.busyReturns).toBe(1);
    expect(dev.stats.txBusy).toBe(1);
    expect(dev.queueStopped).toBe(true);
    expect(q.qlen).toBe(3);
    expect(q.stats.requeues).toBe(1);

    drv.complete(2);
    netifWakeQueue(dev);
    expect(dev.queueStopped).toBe(false);
    net.softnet.run();
    expect(markers(drv.sent)).toEqual([0, 1, 2, 3]);
    expect(dev.stats.txBusy).toBe(2);
    drv.complete(2);
    netifWakeQueue(dev);
    net.softnet.run();
    drv.complete(1);
    net.softnet.run();
    expect(markers(drv.sent)).toEqual([0, 1, 2, 3, 4]);
    expect(q.qlen).toBe(0);
    expect(q.stats.packets).toBe(5);
    expect(dev.stats.txPackets).toBe(5);
    expect(net.drops.total).toBe(0);
    expect(net.drops.consumed).toBe(5);
    expect(net.pool.inUse).toBe(0);
  });

  it("a qdisc run sends at most napiWeight frames, then continues from NET_TX", () => {
    const { net, devs } = setup({ napiWeight: 4 });
    const { dev, drv } = devs[0];
    netifStopQueue(dev);
    for (let i = 0; i < 10; i++) devQueueXmit(txSkb(net, dev, i));
    expect(drv.sent).toEqual([]);
    expect(dev.qdisc?.qlen).toBe(10);
    netifWakeQueue(dev);
    const rounds = net.softnet.stats.rounds;
    net.softnet.run();
    expect(markers(drv.sent)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // 4 + 4 + 2 frames, then a last round to free the final completions.
    expect(net.softnet.stats.rounds - rounds).toBe(4);
    expect(net.pool.inUse).toBe(0);
  });

  it("a queueless device with a busy driver drops the frame as TX_ERROR", () => {
    const { net } = makeNet({}, "queueless");
    const drv = new FakeDriver();
    const dev = registerNetdev(net, "nq", drv, MAC0, { noQueue: true });
    drv.dev = dev;
    expect(dev.qdisc).toBeNull();
    devOpen(dev);
    netifCarrierOn(dev);
    drv.ringSize = 0;
    expect(devQueueXmit(txSkb(net, dev, 1))).toBe(NET_XMIT_DROP);
    expect(net.drops.count("TX_ERROR")).toBe(1);
    expect(dev.stats.txDropped).toBe(1);
    drv.ringSize = Infinity;
    expect(devQueueXmit(txSkb(net, dev, 2))).toBe(NET_XMIT_SUCCESS);
    net.softnet.run();
    expect(markers(drv.sent)).toEqual([2]);
    expect(net.pool.inUse).toBe(0);
  });
  it("a device that is down drops as DEV_DOWN; closing purges its qdisc as SHUTDOWN", () => {
    const { net, devs } = setup();
    const { dev: up, drv } = devs[0];
    const down = addFakeDevice(net, "down0", MAC1);
    expect(devQueueXmit(txSkb(net, down.dev, 1))).toBe(NET_XMIT_DROP);
    expect(net.drops.count("DEV_DOWN")).toBe(1);
    expect(down.dev.stats.txDropped).toBe(1);
    expect(down.drv.sent).toEqual([]);

    netifStopQueue(up);
    devQueueXmit(txSkb(net, up, 2));
    devQueueXmit(txSkb(net, up, 3));
    devClose(up);
    expect(net.drops.count("SHUTDOWN")).toBe(2);
    expect(up.isUp).toBe(false);
    expect(devQueueXmit(txSkb(net, up, 4))).toBe(NET_XMIT_DROP);
    expect(net.drops.count("DEV_DOWN")).toBe(2);
    expect(drv.sent).toEqual([]);
    expect(net.pool.inUse).toBe(0);
  });

  it("a full qdisc drops as QDISC_DROP and counts tx_dropped", () => {
    const { net, devs } = setup({ txQueueLen: 3 });
    const { dev, drv } = devs[0];
    netifStopQueue(dev);
    const rcs = [0, 1, 2, 3, 4].map((i) => devQueueXmit(txSkb(net, dev, i)));
    expect(rcs).toEqual([NET_XMIT_SUCCESS, NET_XMIT_SUCCESS, NET_XMIT_SUCCESS, NET_XMIT_DROP, NET_XMIT_DROP]);
    expect(net.drops.count("QDISC_DROP")).toBe(2);
    expect(dev.stats.txDropped).toBe(2);
    expect(dev.qdisc?.stats.drops).toBe(2);
    netifWakeQueue(dev);
    net.softnet.run();
    expect(markers(drv.sent)).toEqual([0, 1, 2]);
    expect(net.drops.byReason[SKB_DROP.QDISC_DROP]).toBe(2);
  });
});

describe("a driver that takes a frame and fails it (devTxError)", () => {
  /** Takes every frame and reports a hardware error on it, inside startXmit. */
  class FailingDriver extends FakeDriver {
    override startXmit(skb: SkBuff, _dev: NetDevice): number {
      devTxError(skb);
      return NETDEV_TX_OK;
    }
  }

  it("frees it in NET_TX as TX_ERROR, so the taps after the driver's OK still see a live skb", () => {
    const { net } = makeNet({}, "txerror");
    const drv = new FailingDriver();
    const dev = registerNetdev(net, "eth0", drv, MAC0);
    drv.dev = dev;
    devOpen(dev);
    netifCarrierOn(dev);
    const seen: { live: boolean; dev: NetDevice | null; bytes: Uint8Array }[] = [];
    addTap(net, (_d, skb, outgoing) => {
      if (outgoing) seen.push({ live: skb.slot >= 0, dev: skb.dev, bytes: net.pool.buf.slice(skb.data, skb.tail) });
    });
    expect(devQueueXmit(txSkb(net, dev, 5))).toBe(NET_XMIT_SUCCESS);
    expect(seen).toEqual([{ live: true, dev, bytes: frame(PEER_MAC, MAC0, 5) }]);
    expect(dev.stats.txErrors).toBe(1);
    // Counted as an error now, freed (and counted as a drop) in NET_TX.
    expect(net.drops.count("TX_ERROR")).toBe(0);
    expect(net.pool.inUse).toBe(1);
    expect(net.softnet.idle).toBe(false);
    net.softnet.run();
    expect(net.drops.snapshot()).toEqual({ TX_ERROR: 1 });
    expect(net.drops.consumed).toBe(0);
    expect(dev.stats.txPackets).toBe(0);
    expect(net.pool.inUse).toBe(0);
    expect(net.pool.recordsInUse).toBe(0);
    expect(net.softnet.idle).toBe(true);
  });

  it("a queueless device's taps see the failed frame alive too", () => {
    const { net } = makeNet({}, "txerror-nq");
    const drv = new FailingDriver();
    const dev = registerNetdev(net, "nq", drv, MAC0, { noQueue: true });
    drv.dev = dev;
    devOpen(dev);
    netifCarrierOn(dev);
    const live: boolean[] = [];
    addTap(net, (_d, skb, outgoing) => {
      if (outgoing) live.push(skb.slot >= 0 && skb.dev === dev);
    });
    expect(devQueueXmit(txSkb(net, dev, 6))).toBe(NET_XMIT_SUCCESS);
    expect(live).toEqual([true]);
    net.softnet.run();
    expect(net.drops.snapshot()).toEqual({ TX_ERROR: 1 });
    expect(net.pool.inUse).toBe(0);
  });
});
