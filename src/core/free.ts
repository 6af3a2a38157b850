// The two ways an skb leaves the stack (Linux kfree_skb_reason / consume_skb).

import type { Net } from "./net";
import type { SkBuff } from "./skb";

/** Drop: count the reason (SKB_DROP.*), then return the skb and its frag_list to the pool. */
export function kfreeSkbReason(net: Net, skb: SkBuff, reason: number): void {
  net.drops.byReason[reason]++;
  net.pool.free(skb);
}

/** Normal end of life (transmitted, delivered, copied out). */
export function consumeSkb(net: Net, skb: SkBuff): void {
  net.drops.consumed++;
  net.pool.free(skb);
}
