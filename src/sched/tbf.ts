// tbf: a token bucket filter (Linux sch_tbf), the second discipline behind the Qdisc
// interface. Packets leave at `rateBytesPerSec` with bursts of up to `burstBytes`; one
// FIFO of `limit` packets holds the rest. When the head packet must wait, dequeue returns
// null and a watchdog timer runs the device's queue again when enough tokens have come
// (qdisc_watchdog), exactly the path the reference article describes.

import { netifSchedule } from "../core/dev";
import { SKB_DROP } from "../core/drop";
import { kfreeSkbReason } from "../core/free";
import type { Net } from "../core/net";
import type { NetDevice } from "../core/netdevice";
import { SkbQueue, type SkBuff } from "../core/skb";
import type { Timer } from "../core/timer";
import { ETH_HLEN } from "../wire/ethernet";
import { NET_XMIT_DROP, NET_XMIT_SUCCESS, QdiscStats, type Qdisc } from "../core/qdisc";

export interface TbfOptions {
  rateBytesPerSec: number;
  burstBytes: number;
  /** packets held at most */
  limit: number;
}

export class Tbf implements Qdisc {
  readonly kind = "tbf";
  readonly stats = new QdiscStats();
  readonly #net: Net;
  readonly #dev: NetDevice;
  readonly #queue = new SkbQueue();
  readonly #rate: number;
  readonly #burst: number;
  readonly #limit: number;
  readonly #watchdog: Timer;
  #tokens: number;
  #stampMs: number;
  #requeued: SkBuff | null = null;

  constructor(net: Net, dev: NetDevice, options: TbfOptions) {
    const { rateBytesPerSec, burstBytes, limit } = options;
    if (!(rateBytesPerSec > 0)) throw new RangeError(`tbf: rateBytesPerSec must be > 0, got ${rateBytesPerSec}`);
    if (!Number.isInteger(burstBytes) || burstBytes < dev.mtu + ETH_HLEN) {
      throw new RangeError(`tbf: burstBytes must hold one full frame (>= ${dev.mtu + ETH_HLEN}), got ${burstBytes}`);
    }
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`tbf: limit must be a positive integer, got ${limit}`);
    this.#net = net;
    this.#dev = dev;
    this.#rate = rateBytesPerSec;
    this.#burst = burstBytes;
    this.#limit = limit;
    this.#tokens = burstBytes;
    this.#stampMs = net.now();
    this.#watchdog = net.timers.create(() => netifSchedule(this.#dev));
  }

  get limit(): number {
    return this.#limit;
  }

  get qlen(): number {
    return this.#queue.qlen + (this.#requeued !== null ? 1 : 0);
  }

  enqueue(skb: SkBuff): number {
    if (this.qlen >= this.#limit) {
      this.stats.drops++;
      kfreeSkbReason(this.#net, skb, SKB_DROP.QDISC_DROP);
      return NET_XMIT_DROP;
    }
    this.#queue.enqueue(skb);
    return NET_XMIT_SUCCESS;
  }

  dequeue(): SkBuff | null {
    const skb = this.#requeued ?? this.#queue.peek();
    if (skb === null) return null;
    const now = this.#net.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#stampMs) * this.#rate) / 1000);
    this.#stampMs = now;
    const len = skb.len;
    // Not yet: come back when the bucket holds this packet. A wait under a microsecond
    // is rounding dust and sends now, so the watchdog cannot spin on it.
    const waitMs = ((len - this.#tokens) * 1000) / this.#rate;
    if (waitMs > 0.001) {
      this.stats.overlimits++;
      this.#net.modTimer(this.#watchdog, now + waitMs);
      return null;
    }
    this.#tokens = this.#tokens > len ? this.#tokens - len : 0;
    if (this.#requeued !== null) this.#requeued = null;
    else this.#queue.dequeue();
    this.stats.packets++;
    this.stats.bytes += len;
    return skb;
  }

  requeue(skb: SkBuff): void {
    // The driver refused it: give its tokens back, it goes first next time.
    this.#tokens += skb.len;
    this.#requeued = skb;
    this.stats.requeues++;
    this.stats.packets--;
    this.stats.bytes -= skb.len;
  }

  reset(reason: number): void {
    this.#net.delTimer(this.#watchdog);
    let skb: SkBuff | null = this.#requeued;
    this.#requeued = null;
    if (skb !== null) {
      this.stats.drops++;
      kfreeSkbReason(this.#net, skb, reason);
    }
    while ((skb = this.#queue.dequeue()) !== null) {
      this.stats.drops++;
      kfreeSkbReason(this.#net, skb, reason);
    }
  }
}
