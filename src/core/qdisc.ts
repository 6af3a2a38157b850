// The queueing-discipline interface (struct Qdisc_ops). dev_queue_xmit and qdisc_run in
// src/core/dev.ts call only this, so another discipline plugs in without touching them.

import type { SkBuff } from "./skb";

export const NET_XMIT_SUCCESS = 0;
/** the qdisc dropped the skb (already freed with a reason) */
export const NET_XMIT_DROP = 1;

// TC_PRIO_* (skb->priority), as Linux numbers them.
export const TC_PRIO_BESTEFFORT = 0;
export const TC_PRIO_FILLER = 1;
export const TC_PRIO_BULK = 2;
export const TC_PRIO_INTERACTIVE_BULK = 4;
export const TC_PRIO_INTERACTIVE = 6;
export const TC_PRIO_CONTROL = 7;

/**
 * rt_tos2priority: the IPv4 TOS bits (RFC 1349) to a TC_PRIO_*, as Linux's ip_tos2prio:
 * indexed by (tos & 0x1e) >> 1, so 0x10 (low delay) decides first, then 0x08 (throughput);
 * 0x04 (reliability) and 0x02 (cost) stay best effort.
 */
export function tosToPriority(tos: number): number {
  const i = (tos & 0x1e) >> 1;
  if (i >= 12) return TC_PRIO_INTERACTIVE_BULK; // low delay + throughput
  if (i >= 8) return TC_PRIO_INTERACTIVE; // low delay
  if (i >= 4) return TC_PRIO_BULK; // throughput
  return TC_PRIO_BESTEFFORT;
}

export class QdiscStats {
  packets = 0;
  bytes = 0;
  drops = 0;
  requeues = 0;
  overlimits = 0;
}

export interface Qdisc {
  readonly kind: string;
  readonly stats: QdiscStats;
  /** packets held (including a requeued one) */
  readonly qlen: number;
  /** packets it holds at most (enqueue drops beyond) */
  readonly limit: number;
  /** Take the skb or drop it (freed with QDISC_DROP); NET_XMIT_SUCCESS or NET_XMIT_DROP. */
  enqueue(skb: SkBuff): number;
  /**
   * The next skb to send, or null. A shaping qdisc may hold packets back and return null;
   * it then arranges, through its own timer, for the device's queue to be run again.
   */
  dequeue(): SkBuff | null;
  /** The driver was busy: the skb goes back to the front and is sent first next time. */
  requeue(skb: SkBuff): void;
  /** Drop everything held (device down or stopping), each counted with `reason`. */
  reset(reason: number): void;
}
