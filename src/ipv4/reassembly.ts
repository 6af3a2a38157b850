// IPv4 reassembly (net/ipv4/ip_fragment.c, RFC 815): fixed slots keyed by (source,
// destination, id, protocol), fragments kept in offset order, a timer per slot. A
// complete datagram becomes one skb chain (the first fragment, then the others through
// skb.fragNext) so nothing is copied. Overlaps kill the whole datagram (as Linux since
// the FragmentSmack fixes); a total over 65535 bytes too (ping of death).

import { SKB_DROP } from "../core/drop";
import { kfreeSkbReason } from "../core/free";
import type { Net } from "../core/net";
import type { SkBuff } from "../core/skb";
import type { Timer } from "../core/timer";
import {
  IPV4_MAX_LEN, IP_MF, IP_OFFMASK, ipDaddr, ipFragField, ipId, ipIhlBytes, ipProto, ipSaddr, ipSendCheck,
  ipTotLen, setIpFragField, setIpTotLen,
} from "../wire/ipv4";
import { ICMP_EXC_FRAGTIME, ICMP_TIME_EXCEEDED } from "../wire/icmp";
// mcconfig type-checks each module alone: the modules that add net.ipv4
import type {} from "./ipv4";

// skb.cb words while a fragment waits here
const CB_OFFSET = 0;
const CB_END = 1;

export class ReasmTable {
  readonly #net: Net;
  readonly size: number;
  readonly #inUse: Uint8Array;
  readonly #saddr: Uint32Array;
  readonly #daddr: Uint32Array;
  readonly #id: Uint16Array;
  readonly #proto: Uint8Array;
  /** payload bytes received */
  readonly #meat: Uint32Array;
  /** payload length once the last fragment (MF clear) arrived, else -1 */
  readonly #total: Int32Array;
  readonly #created: Float64Array;
  readonly #count: Uint16Array;
  /** fragments in offset order, linked through skb.next */
  readonly #frags: (SkBuff | null)[];
  readonly #timer: Timer[];
  /** skbs held by all slots */
  held = 0;
  /** free skbs below which other datagrams are given up, so receive rings can refill */
  readonly #poolReserve: number;

  constructor(net: Net) {
    this.#net = net;
    const n = (this.size = net.config.reasmSlots);
    this.#inUse = new Uint8Array(n);
    this.#saddr = new Uint32Array(n);
    this.#daddr = new Uint32Array(n);
    this.#id = new Uint16Array(n);
    this.#proto = new Uint8Array(n);
    this.#meat = new Uint32Array(n);
    this.#total = new Int32Array(n);
    this.#created = new Float64Array(n);
    this.#count = new Uint16Array(n);
    this.#frags = new Array<SkBuff | null>(n).fill(null);
    this.#poolReserve = Math.max(2, net.config.skbSlots >> 4);
    this.#timer = [];
    const onExpire = (i: number): void => this.#expire(i);
    for (let i = 0; i < n; i++) this.#timer.push(net.timers.create(onExpire, i));
  }

  get slotsInUse(): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) n += this.#inUse[i];
    return n;
  }

  /**
   * ip_defrag: take a fragment (skb.data at its IP header). Returns the whole datagram
   * when this fragment completes it (data at the first fragment's IP header, the rest in
   * fragNext with data at their payloads), else null (the fragment is held or dropped).
   */
  defrag(skb: SkBuff): SkBuff | null {
    const net = this.#net;
    const stats = net.ipv4.stats;
    const buf = net.pool.buf;
    const iph = skb.data;
    stats.reasmReqds++;
    const ihl = ipIhlBytes(buf, iph);
    const field = ipFragField(buf, iph);
    const offset = (field & IP_OFFMASK) * 8;
    const len = ipTotLen(buf, iph) - ihl;
    const end = offset + len;
    const more = (field & IP_MF) !== 0;
    // RFC 791: every fragment but the last carries a multiple of 8 bytes; none is empty.
    if (len <= 0 || (more && (len & 7) !== 0)) {
      stats.reasmFails++;
      kfreeSkbReason(net, skb, SKB_DROP.IP_FRAG_INVALID);
      return null;
    }
    let q = this.#find(buf, iph);
    if (end + ihl > IPV4_MAX_LEN) {
      // The datagram would exceed 65535 bytes: drop it all.
      stats.reasmFails++;
      if (q >= 0) this.#kill(q, SKB_DROP.IP_FRAG_TOO_BIG);
      kfreeSkbReason(net, skb, SKB_DROP.IP_FRAG_TOO_BIG);
      return null;
    }
    if (q < 0) {
      q = this.#create(buf, iph);
      if (q < 0) {
        stats.reasmFails++;
        kfreeSkbReason(net, skb, SKB_DROP.IP_FRAG_NOMEM);
        return null;
      }
    }
    const total = this.#total[q];
    if (!more) {
      // The last fragment fixes the length; data beyond it, or a second different end, is corrupt.
      if ((total >= 0 && total !== end) || this.#maxEnd(q) > end) {
        stats.reasmFails++;
        this.#kill(q, SKB_DROP.IP_FRAG_INVALID);
        kfreeSkbReason(net, skb, SKB_DROP.IP_FRAG_INVALID);
        return null;
      }
      this.#total[q] = end;
    } else if (total >= 0 && end > total) {
      stats.reasmFails++;
      this.#kill(q, SKB_DROP.IP_FRAG_INVALID);
      kfreeSkbReason(net, skb, SKB_DROP.IP_FRAG_INVALID);
      return null;
    }
    return this.#insert(q, skb, offset, end);
  }

  /**
   * defrag's second half (its tail call, so that its frame is gone): fragment skb of
   * [offset, end) into datagram q, in offset order; the whole datagram when it completes it.
   */
  #insert(q: number, skb: SkBuff, offset: number, end: number): SkBuff | null {
    const net = this.#net;
    const stats = net.ipv4.stats;
    // Find the place in offset order; an exact duplicate is dropped alone, any other
    // overlap drops the whole datagram.
    let prev: SkBuff | null = null;
    let cur = this.#frags[q];
    while (cur !== null && cur.cb[CB_OFFSET] < offset) {
      prev = cur;
      cur = cur.next;
    }
    const dupOf = cur !== null && cur.cb[CB_OFFSET] === offset ? cur : null;
    if (dupOf !== null && dupOf.cb[CB_END] === end) {
      kfreeSkbReason(net, skb, SKB_DROP.IP_FRAG_DUP);
      return null;
    }
    if ((prev !== null && prev.cb[CB_END] > offset) || (cur !== null && cur.cb[CB_OFFSET] < end)) {
      stats.reasmFails++;
      stats.reasmOverlaps++;
      this.#kill(q, SKB_DROP.IP_FRAG_OVERLAP);
      kfreeSkbReason(net, skb, SKB_DROP.IP_FRAG_OVERLAP);
      return null;
    }
    // Over the reassembly bound, or the pool running low for the RX ring: give up the
    // oldest other datagrams first (Linux's inet_frag_evictor); if this one alone is
    // over the bound it cannot complete, so it goes.
    while (this.held >= net.config.reasmSkbsMax || net.pool.available < this.#poolReserve) {
      const victim = this.#oldestOther(q);
      if (victim < 0) {
        stats.reasmFails++;
        this.#kill(q, SKB_DROP.IP_FRAG_NOMEM);
        kfreeSkbReason(net, skb, SKB_DROP.IP_FRAG_NOMEM);
        return null;
      }
      stats.reasmFails++;
      this.#kill(victim, SKB_DROP.IP_FRAG_NOMEM);
    }
    skb.cb[CB_OFFSET] = offset;
    skb.cb[CB_END] = end;
    skb.next = cur;
    if (prev === null) this.#frags[q] = skb;
    else prev.next = skb;
    this.#count[q]++;
    this.held++;
    this.#meat[q] += end - offset;
    if (this.#total[q] < 0 || this.#meat[q] !== this.#total[q]) return null;
    return this.#complete(q);
  }

  /** The datagram the fragment with its IP header at buf[iph] belongs to (RFC 791: source, destination, protocol, id), or -1. */
  #find(buf: Uint8Array, iph: number): number {
    const id = ipId(buf, iph);
    for (let i = 0; i < this.size; i++) {
      if (this.#inUse[i] !== 0 && this.#id[i] === id && this.#saddr[i] === ipSaddr(buf, iph) && this.#daddr[i] === ipDaddr(buf, iph) && this.#proto[i] === ipProto(buf, iph)) return i;
    }
    return -1;
  }

  /**
   * A slot for the datagram of the fragment at buf[iph]; when all are taken the oldest is
   * given up (as Linux evicts under pressure). -1 when there are no slots.
   */
  #create(buf: Uint8Array, iph: number): number {
    let q = -1;
    let oldest = -1;
    for (let i = 0; i < this.size; i++) {
      if (this.#inUse[i] === 0) {
        q = i;
        break;
      }
      if (oldest < 0 || this.#created[i] < this.#created[oldest]) oldest = i;
    }
    if (q < 0) {
      if (oldest < 0) return -1;
      this.#net.ipv4.stats.reasmFails++;
      this.#kill(oldest, SKB_DROP.IP_FRAG_NOMEM);
      q = oldest;
    }
    const net = this.#net;
    this.#inUse[q] = 1;
    this.#saddr[q] = ipSaddr(buf, iph);
    this.#daddr[q] = ipDaddr(buf, iph);
    this.#id[q] = ipId(buf, iph);
    this.#proto[q] = ipProto(buf, iph);
    this.#meat[q] = 0;
    this.#total[q] = -1;
    this.#count[q] = 0;
    this.#frags[q] = null;
    this.#created[q] = net.now();
    net.modTimer(this.#timer[q], net.now() + net.config.reasmTimeoutMs);
    return q;
  }

  #oldestOther(q: number): number {
    let oldest = -1;
    for (let i = 0; i < this.size; i++) {
      if (i !== q && this.#inUse[i] !== 0 && (oldest < 0 || this.#created[i] < this.#created[oldest])) oldest = i;
    }
    return oldest;
  }

  #maxEnd(q: number): number {
    let end = 0;
    for (let f = this.#frags[q]; f !== null; f = f.next) if (f.cb[CB_END] > end) end = f.cb[CB_END];
    return end;
  }

  /** ip_frag_reasm: link the fragments into one chain and fix the first header. */
  #complete(q: number): SkBuff {
    const net = this.#net;
    const buf = net.pool.buf;
    const head = this.#frags[q] as SkBuff;
    let f = head.next;
    head.next = null;
    let last = head;
    while (f !== null) {
      const next: SkBuff | null = f.next;
      f.next = null;
      f.pull(ipIhlBytes(buf, f.data));
      last.fragNext = f;
      last = f;
      f = next;
    }
    const iph = head.data;
    setIpTotLen(buf, iph, ipIhlBytes(buf, iph) + this.#total[q]);
    setIpFragField(buf, iph, 0);
    ipSendCheck(buf, iph);
    head.networkHeader = iph;
    this.held -= this.#count[q];
    this.#release(q);
    net.ipv4.stats.reasmOKs++;
    return head;
  }

  #release(q: number): void {
    this.#net.delTimer(this.#timer[q]);
    this.#inUse[q] = 0;
    this.#frags[q] = null;
    this.#count[q] = 0;
  }

  /** Free every fragment of a slot with `reason`. */
  #kill(q: number, reason: number): void {
    const net = this.#net;
    let f = this.#frags[q];
    while (f !== null) {
      const next: SkBuff | null = f.next;
      f.next = null;
      kfreeSkbReason(net, f, reason);
      f = next;
    }
    this.held -= this.#count[q];
    this.#release(q);
  }

  #expire(q: number): void {
    const net = this.#net;
    const stats = net.ipv4.stats;
    stats.reasmTimeout++;
    stats.reasmFails++;
    // RFC 792 / RFC 1122 3.3.2: time exceeded (reassembly) if the first fragment came.
    const first = this.#frags[q];
    if (first !== null && first.cb[CB_OFFSET] === 0) {
      first.networkHeader = first.data;
      net.ipv4.icmp.send(first, ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME, 0);
    }
    this.#kill(q, SKB_DROP.IP_FRAG_TIMEOUT);
  }

  flush(): void {
    for (let i = 0; i < this.size; i++) if (this.#inUse[i] !== 0) this.#kill(i, SKB_DROP.SHUTDOWN);
  }
}
