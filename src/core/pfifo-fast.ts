// pfifo_fast: three FIFO bands, band 0 served first; the band comes from skb.priority
// through Linux's priomap. One limit (the device's txqueuelen) covers all bands.

import { kfreeSkbReason } from "./free";
import type { Net } from "./net";
import { SkbQueue, type SkBuff } from "./skb";
import { SKB_DROP } from "./drop";
import { NET_XMIT_DROP, NET_XMIT_SUCCESS, QdiscStats, type Qdisc } from "./qdisc";

const BANDS = 3;
/** Linux sch_generic.c prio2band: TC_PRIO_* -> band */
const PRIO2BAND = Object.freeze([1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1] as const);

export class PfifoFast implements Qdisc {
  readonly kind = "pfifo_fast";
  readonly stats = new QdiscStats();
  readonly #net: Net;
  readonly #limit: number;
  readonly #bands: SkbQueue[];
  /** the skb the driver refused (Linux q->gso_skb), sent before any band */
  #requeued: SkBuff | null = null;
  #qlen = 0;

  constructor(net: Net, limit: number) {
    this.#net = net;
    this.#limit = limit;
    this.#bands = [];
    for (let i = 0; i < BANDS; i++) this.#bands.push(new SkbQueue());
  }

  get limit(): number {
    return this.#limit;
  }

  get qlen(): number {
    return this.#qlen;
  }

  bandLength(band: number): number {
    return this.#bands[band].qlen;
  }

  enqueue(skb: SkBuff): number {
    if (this.#qlen >= this.#limit) {
      this.stats.drops++;
      kfreeSkbReason(this.#net, skb, SKB_DROP.QDISC_DROP);
      return NET_XMIT_DROP;
    }
    this.#bands[PRIO2BAND[skb.priority & 15]].enqueue(skb);
    this.#qlen++;
    return NET_XMIT_SUCCESS;
  }

  dequeue(): SkBuff | null {
    let skb = this.#requeued;
    if (skb !== null) {
      this.#requeued = null;
    } else {
      for (let band = 0; band < BANDS && skb === null; band++) skb = this.#bands[band].dequeue();
      if (skb === null) return null;
    }
    this.#qlen--;
    this.stats.packets++;
    this.stats.bytes += skb.len;
    return skb;
  }

  requeue(skb: SkBuff): void {
    this.#requeued = skb;
    this.#qlen++;
    this.stats.requeues++;
    this.stats.packets--;
    this.stats.bytes -= skb.len;
  }

  reset(reason: number): void {
    let skb: SkBuff | null;
    while ((skb = this.dequeue()) !== null) {
      this.stats.packets--;
      this.stats.bytes -= skb.len;
      this.stats.drops++;
      kfreeSkbReason(this.#net, skb, reason);
    }
  }
}
