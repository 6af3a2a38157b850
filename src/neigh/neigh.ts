// The neighbour cache (net/core/neighbour.c) for IPv4 over Ethernet: fixed entries with
// NUD states and one timer each, and a bounded queue of packets per entry while ARP
// resolves. Called on the transmit path as neighOutput (Linux neigh_output/neigh_resolve_output).
//
//   NONE -> INCOMPLETE -(reply)-> REACHABLE -(reachable time)-> STALE -(used)-> DELAY
//   DELAY -(confirmed)-> REACHABLE, DELAY -(delay time)-> PROBE -(reply)-> REACHABLE
//   INCOMPLETE / PROBE -(probes spent)-> FAILED -(hold time)-> NONE

import { devQueueXmit } from "../core/dev";
import { SKB_DROP } from "../core/drop";
import { kfreeSkbReason } from "../core/free";
import { NET_XMIT_SUCCESS } from "../core/qdisc";
import type { Net } from "../core/net";
import { IFF_NOARP, type NetDevice } from "../core/netdevice";
import { SkbQueue, type SkBuff } from "../core/skb";
import type { Timer } from "../core/timer";
import { ETH_ALEN, ETH_HLEN, ETH_P_IP, OFF_ETH_DST, ipv4MulticastToMac, ethSetSourceType, macCopy, macEqual } from "../wire/ethernet";
import { INADDR_BROADCAST, ipIsMulticast } from "../wire/ipv4";
// mcconfig type-checks each module alone: the modules that add dev.inDev, net.ipv4
import type {} from "../ipv4/devinet";
import type {} from "../ipv4/ipv4";

export const NUD_NONE = 0x00;
export const NUD_INCOMPLETE = 0x01;
export const NUD_REACHABLE = 0x02;
export const NUD_STALE = 0x04;
export const NUD_DELAY = 0x08;
export const NUD_PROBE = 0x10;
export const NUD_FAILED = 0x20;
export const NUD_PERMANENT = 0x80;

const NUD_VALID = NUD_PERMANENT | NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE;
/** an entry used or confirmed this recently is never evicted for another (Linux gc: 5 s) */
const NEIGH_KEEP_MS = 5000;

export function nudStateName(state: number): string {
  switch (state) {
    case NUD_NONE: return "NONE";
    case NUD_INCOMPLETE: return "INCOMPLETE";
    case NUD_REACHABLE: return "REACHABLE";
    case NUD_STALE: return "STALE";
    case NUD_DELAY: return "DELAY";
    case NUD_PROBE: return "PROBE";
    case NUD_FAILED: return "FAILED";
    case NUD_PERMANENT: return "PERMANENT";
    default: return `0x${state.toString(16)}`;
  }
}

/** Linux's neigh statistics (/proc/net/stat/arp_cache) */
export class NeighStats {
  allocs = 0;
  destroys = 0;
  lookups = 0;
  hits = 0;
  resFailed = 0;
  /** packets dropped because an entry's queue was full */
  unresDiscards = 0;
  /** no entry could be had: all held by resolutions in progress */
  tableFulls = 0;
  /** replies to our requests and requests for us */
  arpRequestsSent = 0;
  arpRepliesSent = 0;
  arpRequestsReceived = 0;
  arpRepliesReceived = 0;
  /** someone else claims one of our addresses */
  addressConflicts = 0;
  /** ARP packets not sent for want of an skb (the timer retries) */
  arpSendNoMem = 0;
}

/**
 * Ask for a neighbour's link address (neigh_ops.solicit; ARP's arpSolicit): broadcast, or
 * unicast to the address at dstMac[dstOff] when dstMac is not null.
 */
export type NeighSolicit = (net: Net, dev: NetDevice, addr: number, dstMac: Uint8Array | null, dstOff: number) => void;

declare module "../core/net" {
  interface Net {
    /** the neighbour cache (ARP's arp_tbl), made by arpInit */
    neigh: NeighTable;
  }
}

export class NeighTable {
  readonly #net: Net;
  readonly #solicit: NeighSolicit;
  readonly size: number;
  readonly key: Uint32Array;
  readonly dev: (NetDevice | null)[];
  readonly state: Uint8Array;
  /** hardware addresses, 6 bytes per entry */
  readonly ha: Uint8Array;
  readonly probes: Uint8Array;
  readonly confirmed: Float64Array;
  readonly used: Float64Array;
  readonly updated: Float64Array;
  readonly reachableMs: Float64Array;
  readonly queue: SkbQueue[];
  readonly timer: Timer[];
  readonly stats = new NeighStats();
  /** the all-zero hardware address of an ARP request's target field */
  readonly zeroMac = new Uint8Array(ETH_ALEN);
  /** free skbs below which waiting packets give way, so receive rings can refill */
  readonly #poolReserve: number;
  /** packets all entries may hold together */
  readonly #queuedMax: number;

  #queuedTotal(): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) n += this.queue[i].qlen;
    return n;
  }

  constructor(net: Net, solicit: NeighSolicit) {
    this.#net = net;
    this.#solicit = solicit;
    const n = (this.size = net.config.neighEntriesMax);
    this.key = new Uint32Array(n);
    this.dev = new Array<NetDevice | null>(n).fill(null);
    this.state = new Uint8Array(n);
    this.ha = new Uint8Array(n * ETH_ALEN);
    this.probes = new Uint8Array(n);
    this.confirmed = new Float64Array(n);
    this.used = new Float64Array(n);
    this.updated = new Float64Array(n);
    this.reachableMs = new Float64Array(n);
    this.#poolReserve = Math.max(2, net.config.skbSlots >> 4);
    this.#queuedMax = Math.max(net.config.neighQueueMax, net.config.skbSlots >> 2);
    this.queue = [];
    this.timer = [];
    const onTimer = (i: number): void => this.#timerHandler(i);
    for (let i = 0; i < n; i++) {
      this.queue.push(new SkbQueue());
      this.timer.push(net.timers.create(onTimer, i));
    }
  }

  /** Entry index for (address, device), or -1. */
  lookup(addr: number, dev: NetDevice): number {
    this.stats.lookups++;
    for (let i = 0; i < this.size; i++) {
      if (this.state[i] !== NUD_NONE && this.key[i] === addr && this.dev[i] === dev) {
        this.stats.hits++;
        return i;
      }
    }
    return -1;
  }

  /**
   * A free entry; when none, the least recently used FAILED entry, then STALE, then any
   * other resolved one, but never one used or confirmed in the last NEIGH_KEEP_MS (Linux's
   * forced gc spares those too) nor one still resolving (it holds packets); -1 when none.
   * `resolving`: the entry is for a destination to resolve; those may fill at most half
   * the table, so a flood from spoofed sources cannot push out the peers in use.
   */
  #alloc(addr: number, dev: NetDevice, resolving: boolean): number {
    let victim = -1;
    let victimRank = 0;
    let victimUsed = Infinity;
    let incomplete = 0;
    const now = this.#net.now();
    for (let i = 0; i < this.size; i++) {
      const s = this.state[i];
      if (s === NUD_NONE) {
        if (victim < 0 || victimRank < 4) {
          victim = i;
          victimRank = 4;
        }
        continue;
      }
      if (s === NUD_INCOMPLETE) incomplete++;
      if ((s & (NUD_INCOMPLETE | NUD_PERMANENT)) !== 0) continue;
      if (s !== NUD_FAILED && (now - this.used[i] < NEIGH_KEEP_MS || now - this.confirmed[i] < NEIGH_KEEP_MS)) continue;
      const rank = s === NUD_FAILED ? 3 : s === NUD_STALE ? 2 : 1;
      if (rank > victimRank || (rank === victimRank && this.used[i] < victimUsed)) {
        victim = i;
        victimRank = rank;
        victimUsed = this.used[i];
      }
    }
    if (victim < 0 || (resolving && incomplete >= this.size >> 1 && incomplete > 0)) {
      this.stats.tableFulls++;
      return -1;
    }
    if (this.state[victim] !== NUD_NONE) this.#destroy(victim);
    this.key[victim] = addr;
    this.dev[victim] = dev;
    this.state[victim] = NUD_NONE;
    this.probes[victim] = 0;
    this.confirmed[victim] = now - this.#net.config.neighReachableMs;
    this.used[victim] = now;
    this.updated[victim] = now;
    this.stats.allocs++;
    return victim;
  }

  #destroy(i: number, reason: number = SKB_DROP.NEIGH_FAILED): void {
    this.#net.delTimer(this.timer[i]);
    this.#purgeQueue(i, reason);
    this.state[i] = NUD_NONE;
    this.dev[i] = null;
    this.stats.destroys++;
  }

  #purgeQueue(i: number, reason: number): void {
    const q = this.queue[i];
    let skb: SkBuff | null;
    while ((skb = q.dequeue()) !== null) kfreeSkbReason(this.#net, skb, reason);
  }

  #newReachableTime(i: number): void {
    // Random in [0.5, 1.5) of the base, so hosts do not probe in step (RFC 4861 6.3.2, as Linux).
    const base = this.#net.config.neighReachableMs;
    this.reachableMs[i] = base / 2 + (this.#net.platform.random32() % base);
  }

  /**
   * neigh_output: send an skb (data at the IP header) to `nexthop` on `dev`, resolving
   * the hardware address first if needed. Always consumes the skb. Returns devQueueXmit's
   * NET_XMIT_* for a frame sent, NET_XMIT_SUCCESS for one left waiting or dropped here.
   * Every way out is a tail call, so this frame is gone before the frame goes on.
   */
  output(skb: SkBuff, nexthop: number, dev: NetDevice): number {
    skb.dev = dev;
    skb.protocol = ETH_P_IP;
    if ((dev.flags & IFF_NOARP) !== 0 || nexthop === INADDR_BROADCAST || nexthop === dev.inDev.broadcast || ipIsMulticast(nexthop)) {
      return this.#xmitDirect(skb, nexthop);
    }
    const i = this.lookup(nexthop, dev);
    // A resolved entry sends now (a STALE one takes the slow path: it starts the probe delay).
    if (i >= 0 && (this.state[i] & NUD_VALID) !== 0 && this.state[i] !== NUD_STALE) {
      this.used[i] = this.#net.now();
      return this.#xmitResolved(skb, i);
    }
    return this.#resolveOutput(skb, nexthop, dev, i);
  }

  /** No resolution: our own address on a device without ARP, the broadcast address, a group's (RFC 1112 6.4). */
  #xmitDirect(skb: SkBuff, nexthop: number): number {
    const dev = skb.dev as NetDevice;
    const buf = this.#net.pool.buf;
    const eth = skb.push(ETH_HLEN);
    if ((dev.flags & IFF_NOARP) !== 0) macCopy(buf, eth + OFF_ETH_DST, dev.addr, 0);
    else if (nexthop === INADDR_BROADCAST || nexthop === dev.inDev.broadcast) macCopy(buf, eth + OFF_ETH_DST, dev.broadcastAddr, 0);
    else ipv4MulticastToMac(nexthop, buf, eth + OFF_ETH_DST);
    ethSetSourceType(buf, eth, dev.addr, 0, ETH_P_IP);
    return devQueueXmit(skb);
  }

  /**
   * neigh_resolve_output: the entry i for nexthop (-1: none yet) is not plainly resolved. A
   * STALE one sends and starts the probe delay; an unresolved one holds the skb and asks.
   */
  #resolveOutput(skb: SkBuff, nexthop: number, dev: NetDevice, i: number): number {
    const net = this.#net;
    if (i < 0) {
      i = this.#alloc(nexthop, dev, true);
      if (i < 0) {
        kfreeSkbReason(net, skb, SKB_DROP.NEIGH_TABLEFULL);
        return NET_XMIT_SUCCESS;
      }
    }
    const now = net.now();
    this.used[i] = now;
    const state = this.state[i];
    if ((state & NUD_VALID) !== 0) {
      if (state === NUD_STALE) {
        // First use of a stale entry: keep sending, confirm within the delay (RFC 4861 7.3.3).
        this.state[i] = NUD_DELAY;
        this.updated[i] = now;
        net.modTimer(this.timer[i], now + net.config.neighDelayProbeMs);
      }
      return this.#xmitResolved(skb, i);
    }
    if (state === NUD_NONE || state === NUD_FAILED) {
      this.state[i] = NUD_INCOMPLETE;
      this.probes[i] = 0;
      this.updated[i] = now;
      this.#sendProbe(i);
    }
    this.#enqueue(i, skb);
    return NET_XMIT_SUCCESS;
  }

  #enqueue(i: number, skb: SkBuff): void {
    const net = this.#net;
    const q = this.queue[i];
    // Over the bound, the oldest waiting packet goes (as Linux's arp_queue); so it does
    // when the pool runs low, or when all entries together hold a quarter of the pool (a
    // flood toward addresses that never answer must not take every buffer).
    while (q.qlen > 0 && (q.qlen >= net.config.neighQueueMax || net.pool.available < this.#poolReserve || this.#queuedTotal() >= this.#queuedMax)) {
      const old = q.dequeue() as SkBuff;
      this.stats.unresDiscards++;
      kfreeSkbReason(net, old, SKB_DROP.NEIGH_QUEUEFULL);
    }
    if (this.#queuedTotal() >= this.#queuedMax) {
      this.stats.unresDiscards++;
      kfreeSkbReason(net, skb, SKB_DROP.NEIGH_QUEUEFULL);
      return;
    }
    q.enqueue(skb);
  }

  #xmitResolved(skb: SkBuff, i: number): number {
    const buf = this.#net.pool.buf;
    const eth = skb.push(ETH_HLEN);
    macCopy(buf, eth + OFF_ETH_DST, this.ha, i * ETH_ALEN);
    ethSetSourceType(buf, eth, (skb.dev as NetDevice).addr, 0, ETH_P_IP);
    return devQueueXmit(skb);
  }

  #sendProbe(i: number): void {
    const net = this.#net;
    const dev = this.dev[i] as NetDevice;
    // INCOMPLETE asks everyone; PROBE asks the address we have (RFC 1122 2.3.2.1).
    const unicast = this.state[i] === NUD_PROBE;
    this.probes[i]++;
    this.stats.arpRequestsSent++;
    this.#solicit(net, dev, this.key[i], unicast ? this.ha : null, i * ETH_ALEN);
    net.modTimer(this.timer[i], net.now() + net.config.neighRetransMs);
  }

  #timerHandler(i: number): void {
    const net = this.#net;
    const cfg = net.config;
    const now = net.now();
    const state = this.state[i];
    switch (state) {
      case NUD_REACHABLE: {
        // One expression decides and arms, so rounding cannot re-arm the timer for now.
        const due = this.confirmed[i] + this.reachableMs[i];
        if (due > now) {
          net.modTimer(this.timer[i], due);
        } else if (now - this.used[i] < cfg.neighDelayProbeMs) {
          this.state[i] = NUD_DELAY;
          this.updated[i] = now;
          net.modTimer(this.timer[i], now + cfg.neighDelayProbeMs);
        } else {
          this.state[i] = NUD_STALE;
          this.updated[i] = now;
        }
        return;
      }
      case NUD_DELAY:
        if (now - this.confirmed[i] < cfg.neighDelayProbeMs) {
          this.state[i] = NUD_REACHABLE;
          this.updated[i] = now;
          net.modTimer(this.timer[i], this.confirmed[i] + this.reachableMs[i]);
        } else {
          this.state[i] = NUD_PROBE;
          this.updated[i] = now;
          this.probes[i] = 0;
          this.#sendProbe(i);
        }
        return;
      case NUD_INCOMPLETE:
      case NUD_PROBE: {
        const max = state === NUD_INCOMPLETE ? cfg.neighMcastProbes : cfg.neighUcastProbes;
        if (this.probes[i] >= max) {
          this.#failed(i);
        } else {
          this.#sendProbe(i);
        }
        return;
      }
      case NUD_FAILED:
        this.#destroy(i);
        return;
      default:
        return;
    }
  }

  /** neigh_invalidate: resolution failed; queued packets are dropped, and their senders told. */
  #failed(i: number): void {
    const net = this.#net;
    const key = this.key[i];
    this.state[i] = NUD_FAILED;
    this.updated[i] = net.now();
    this.stats.resFailed++;
    // Take the queue off the entry first: an ICMP error sent below goes through
    // neigh.output, which may reuse this very entry for the error's next hop.
    let skb = this.queue[i].takeAll();
    while (skb !== null) {
      const next: SkBuff | null = skb.next;
      skb.next = null;
      // RFC 1122 3.3.1.4 / RFC 1812: the sender learns the host is unreachable.
      net.ipv4.icmp.sendHostUnreachable(skb);
      kfreeSkbReason(net, skb, SKB_DROP.NEIGH_FAILED);
      skb = next;
    }
    if (this.state[i] !== NUD_FAILED || this.key[i] !== key) return;
    if (net.config.neighFailedHoldMs > 0) net.modTimer(this.timer[i], net.now() + net.config.neighFailedHoldMs);
    else this.#destroy(i);
  }

  /**
   * neigh_update: we learned `addr` is at `mac` (from ARP). `solicited` (a reply to us)
   * confirms reachability; otherwise the entry is only STALE. `create` makes an entry when
   * none exists (the sender of a request addressed to us, as Linux's neigh_event_ns).
   */
  update(addr: number, dev: NetDevice, mac: Uint8Array, macOff: number, solicited: boolean, create: boolean): void {
    const net = this.#net;
    let i = this.lookup(addr, dev);
    if (i < 0) {
      if (!create) return;
      i = this.#alloc(addr, dev, false);
      if (i < 0) return;
    }
    const state = this.state[i];
    if (state === NUD_PERMANENT) return;
    const now = net.now();
    const changed = (state & NUD_VALID) === 0 || !macEqual(this.ha, i * ETH_ALEN, mac, macOff);
    macCopy(this.ha, i * ETH_ALEN, mac, macOff);
    this.updated[i] = now;
    if (solicited) {
      this.state[i] = NUD_REACHABLE;
      this.confirmed[i] = now;
      this.#newReachableTime(i);
      net.modTimer(this.timer[i], now + this.reachableMs[i]);
    } else if (changed || state === NUD_INCOMPLETE || state === NUD_FAILED || state === NUD_NONE) {
      this.state[i] = NUD_STALE;
      net.delTimer(this.timer[i]);
    }
    // Whatever waited for this address goes now (neigh_update flushes arp_queue).
    return this.#flushQueue(i);
  }

  /** Send what waited for entry i, now resolved. */
  #flushQueue(i: number): void {
    const q = this.queue[i];
    let skb: SkBuff | null;
    while ((skb = q.dequeue()) !== null) this.#xmitResolved(skb, i);
  }

  /** neigh_confirm: an upper layer saw forward progress (a TCP ACK), so the path works. */
  confirm(addr: number, dev: NetDevice): void {
    for (let i = 0; i < this.size; i++) {
      if (this.state[i] !== NUD_NONE && this.key[i] === addr && this.dev[i] === dev) {
        this.confirmed[i] = this.#net.now();
        return;
      }
    }
  }

  /** A permanent entry (static ARP). */
  addPermanent(addr: number, dev: NetDevice, mac: Uint8Array): void {
    let i = this.lookup(addr, dev);
    if (i < 0) i = this.#alloc(addr, dev, false);
    if (i < 0) throw new RangeError(`neighbour table full: config.neighEntriesMax is ${this.size}`);
    macCopy(this.ha, i * ETH_ALEN, mac, 0);
    this.#net.delTimer(this.timer[i]);
    this.state[i] = NUD_PERMANENT;
    // Anything that waited for this address goes now.
    return this.#flushQueue(i);
  }

  /** Device going down: its entries and their queues go. */
  ifdown(dev: NetDevice): void {
    for (let i = 0; i < this.size; i++) if (this.state[i] !== NUD_NONE && this.dev[i] === dev) this.#destroy(i, SKB_DROP.SHUTDOWN);
  }

  flushAll(): void {
    for (let i = 0; i < this.size; i++) if (this.state[i] !== NUD_NONE) this.#destroy(i, SKB_DROP.SHUTDOWN);
  }

  /** Entries as plain objects (diagnostics; allocates). */
  dump(): { addr: number; dev: string; state: string; mac: string; queued: number }[] {
    const out = [];
    for (let i = 0; i < this.size; i++) {
      if (this.state[i] === NUD_NONE) continue;
      const mac = Array.from(this.ha.slice(i * 6, i * 6 + 6), (b) => b.toString(16).padStart(2, "0")).join(":");
      out.push({ addr: this.key[i], dev: (this.dev[i] as NetDevice).name, state: nudStateName(this.state[i]), mac, queued: this.queue[i].qlen });
    }
    return out;
  }
}
