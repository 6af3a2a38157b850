// The out-of-order queue of one connection (Linux's out_of_order_queue; the idea of
// smoltcp's Assembler): received segments past a hole, held as skbs in sequence order,
// at most config.tcpOooMax of them. Each skb's cb holds its range [CB_SEQ, CB_END) and
// its FIN. Segments may overlap: an exact duplicate (or one inside a held segment that
// starts at the same number) is refused, the rest is trimmed when it comes off in order.
// The queue counts its bytes (q.bytes); the receive window counts them as held.

import { SKB_DROP } from "../core/drop";
import { consumeSkb, kfreeSkbReason } from "../core/free";
import type { Net } from "../core/net";
import type { SkBuff, SkbQueue } from "../core/skb";
import { TCP_FIN } from "../wire/tcp";
import { CB_END, CB_FLAGS, CB_SEQ, SEG_LAST_IN, seqGeq, seqGt, seqLeq, seqLt } from "./tcb";
// mcconfig type-checks each module alone: the modules that add net.tcp
import type {} from "./init";

/**
 * Hold a segment (cb range and FIN set). False when it was dropped (counted TcpExt
 * OFOdrop and TCP_OFO_DROP): the queue is full, or it brings nothing a held one lacks.
 */
export function oooInsert(net: Net, q: SkbQueue, skb: SkBuff): boolean {
  const stats = net.tcp.stats;
  if (q.qlen >= net.config.tcpOooMax) {
    stats.ofoDrop++;
    kfreeSkbReason(net, skb, SKB_DROP.TCP_OFO_DROP);
    return false;
  }
  const seq = skb.cb[CB_SEQ];
  // Sorted by sequence; an exact duplicate is dropped.
  let prev: SkBuff | null = null;
  let cur = q.head;
  while (cur !== null && seqLt(cur.cb[CB_SEQ], seq)) {
    prev = cur;
    cur = cur.next;
  }
  if (cur !== null && cur.cb[CB_SEQ] === seq && seqGeq(cur.cb[CB_END], skb.cb[CB_END])) {
    kfreeSkbReason(net, skb, SKB_DROP.TCP_OFO_DROP);
    return false;
  }
  stats.ofoQueue++;
  for (let s = q.head; s !== null; s = s.next) s.cb[CB_FLAGS] &= ~SEG_LAST_IN;
  skb.cb[CB_FLAGS] |= SEG_LAST_IN;
  skb.next = cur;
  if (prev === null) q.head = skb;
  else prev.next = skb;
  if (cur === null) q.tail = skb;
  q.qlen++;
  q.bytes += skb.len;
  return true;
}

/**
 * The next segment in order once rcvNxt has moved: the head, when it starts at or below
 * rcvNxt, taken off and trimmed to begin at rcvNxt (cb too). Segments that end below
 * rcvNxt, their FIN included, bring nothing and are consumed on the way. null: a hole
 * remains (or the queue is empty).
 */
export function oooPullInOrder(net: Net, q: SkbQueue, rcvNxt: number): SkBuff | null {
  while (q.head !== null && seqLeq(q.head.cb[CB_SEQ], rcvNxt)) {
    const s = q.dequeue() as SkBuff;
    const end = s.cb[CB_END];
    // A FIN counts one beyond the data: the FIN at rcvNxt is still news.
    if (seqLt(end, rcvNxt) || (end === rcvNxt && (s.cb[CB_FLAGS] & TCP_FIN) === 0)) {
      consumeSkb(net, s);
      continue;
    }
    const dup = (rcvNxt - s.cb[CB_SEQ]) >>> 0;
    if (dup > 0) s.pull(dup);
    s.cb[CB_SEQ] = rcvNxt;
    return s;
  }
  return null;
}

/**
 * The ranges held, for SACK blocks (RFC 2018 4): overlapping and adjacent segments merged,
 * each clipped to start above rcvNxt, the one holding the segment received last first,
 * then in sequence order; at most `max` of them, as [left, right) pairs into `out`.
 * Returns how many.
 */
export function oooRanges(q: SkbQueue, rcvNxt: number, out: Uint32Array, max: number): number {
  let n = 0;
  let first = -1;
  let s = q.head;
  while (s !== null && n < max) {
    let left = s.cb[CB_SEQ];
    let right = s.cb[CB_END];
    let last = (s.cb[CB_FLAGS] & SEG_LAST_IN) !== 0;
    s = s.next;
    while (s !== null && seqLeq(s.cb[CB_SEQ], right)) {
      if (seqGt(s.cb[CB_END], right)) right = s.cb[CB_END];
      if ((s.cb[CB_FLAGS] & SEG_LAST_IN) !== 0) last = true;
      s = s.next;
    }
    if (seqLeq(left, rcvNxt)) left = rcvNxt;
    if (!seqGt(right, left)) continue;
    out[n * 2] = left;
    out[n * 2 + 1] = right;
    if (first < 0 && last) first = n;
    n++;
  }
  if (first > 0) {
    // The most recent block first.
    const l = out[first * 2];
    const r = out[first * 2 + 1];
    for (let i = first; i > 0; i--) {
      out[i * 2] = out[i * 2 - 2];
      out[i * 2 + 1] = out[i * 2 - 1];
    }
    out[0] = l;
    out[1] = r;
  }
  return n;
}

/** Drop everything held (the connection ends), each counted under `reason`. */
export function oooPurge(net: Net, q: SkbQueue, reason: number): void {
  let skb: SkBuff | null;
  while ((skb = q.dequeue()) !== null) kfreeSkbReason(net, skb, reason);
}
