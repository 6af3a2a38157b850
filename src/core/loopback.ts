// The loopback device (drivers/net/loopback.c): transmit puts the frame on a bounded
// backlog (netif_rx) and schedules NAPI; the poll hands frames back to netifReceiveSkb,
// as Linux's process_backlog does. Traffic to 127.0.0.0/8 and to our own addresses
// goes this way.

import { NETDEV_TX_OK, type NetDeviceOps } from "./netdevice";
import { napiComplete, napiSchedule, netifReceiveSkb } from "./dev";
import { SKB_DROP } from "./drop";
import { kfreeSkbReason } from "./free";
import type { Net } from "./net";
import type { Napi, NetDevice } from "./netdevice";
import { SkbQueue, type SkBuff } from "./skb";

export class LoopbackOps implements NetDeviceOps {
  readonly #net: Net;
  readonly #backlog = new SkbQueue();
  readonly #limit: number;

  constructor(net: Net) {
    this.#net = net;
    this.#limit = net.config.loopbackBacklog;
  }

  open(_dev: NetDevice): void {}

  stop(_dev: NetDevice): void {
    let skb: SkBuff | null;
    while ((skb = this.#backlog.dequeue()) !== null) kfreeSkbReason(this.#net, skb, SKB_DROP.SHUTDOWN);
  }

  startXmit(skb: SkBuff, dev: NetDevice): number {
    if (this.#backlog.qlen >= this.#limit) {
      dev.stats.rxDropped++;
      kfreeSkbReason(this.#net, skb, SKB_DROP.LOOPBACK_BACKLOG);
      return NETDEV_TX_OK;
    }
    dev.stats.txPackets++;
    dev.stats.txBytes += skb.len;
    this.#backlog.enqueue(skb);
    napiSchedule(dev.napi);
    return NETDEV_TX_OK;
  }

  poll(napi: Napi, budget: number): number {
    let work = 0;
    while (work < budget) {
      const skb = this.#backlog.dequeue();
      if (skb === null) break;
      skb.dev = napi.dev;
      netifReceiveSkb(skb);
      work++;
    }
    if (work < budget) napiComplete(napi);
    return work;
  }

  setRxMode(_dev: NetDevice): void {}
}
