// The two ways an skb leaves the stack (Linux kfree_skb_reason / consume_skb).

import type { Net } from "./net";
import type { SkBuff } from "./skb";

/** Drop: count the reason (SKB_DROP.*), then return the skb and its frag_list to the pool. */
export function kfreeSkbReason(net: Net, skb: SkBuff, reason: number): void {
  net.drops.byReason[reason]++;
  net.pool.free(skb);
}

/**
 * A frame dropped whose buffer is kept: a driver that has no fresh buffer to refill its
 * receive ring drops the frame and gives the same buffer back to the hardware.
 */
export function countDrop(net: Net, reason: number): void {
  net.drops.byReason[reason]++;
}

/** Normal end of life (transmitted, delivered, copied out). */
export function consumeSkb(net: Net, skb: SkBuff): void {
  net.drops.consumed++;
  net.pool.free(skb);
}
