// Raw IP (net/ipv4/raw.c): before the L4 handler, every raw handler and raw socket
// registered for the datagram's protocol sees it; the L4 handler still runs afterwards.
//
//   ipLocalDeliver -> raw.deliver (raw_local_deliver)
//     handler(net, skb): an in-stack reader (the ping client), synchronous
//     socket: a clone of the datagram onto its queue -> owner.onDatagrams   (raw_rcv)
//   icmpUnreach -> raw.icmpError: a socket that asked learns of errors about its datagrams (raw_err)
//   socket write -> raw.sendto: payload -> ipSend builds the header, fragments if needed

import { countDrop, consumeSkb, kfreeSkbReason } from "../core/free";
import { SKB_DROP } from "../core/drop";
import type { Net } from "../core/net";
import type { NetDevice } from "../core/netdevice";
import { SkbQueue, skbCopyBits, skbStoreBits, type SkBuff } from "../core/skb";
import { copyBytes } from "../core/bytes";
import { WakeList } from "../core/wake";
import { ipDaddr, ipProto, ipSaddr } from "../wire/ipv4";
import { ENETUNREACH, ENOBUFS, ipAllocDatagram, ipSend } from "./output";
// mcconfig type-checks each module alone: the modules that add net.ipv4
import type {} from "./ipv4";

/**
 * Sees a local datagram: skb.networkHeader at the IP header, skb.data at the L4 header;
 * the bytes may continue in skb.fragNext. It must copy what it keeps and not free the skb.
 */
export type RawHandler = (net: Net, skb: SkBuff) => void;

/** A raw socket (the socket layer): told when datagrams or an ICMP error wait for it. */
export interface RawOwner {
  onDatagrams(waiting: number): void;
  onIcmpError(): void;
}

export class RawStats {
  /** datagrams queued on a socket */
  inDatagrams = 0;
  /** not queued: the socket's queue was full (config.rawRxQueueMax) */
  rcvbufErrors = 0;
  /** not queued: no skb record for the clone */
  nomemErrors = 0;
  outDatagrams = 0;
  /** sends refused: no route, no packet buffers */
  outErrors = 0;
  /** ICMP errors reported to a socket */
  icmpErrors = 0;
}

export class RawTable {
  readonly #net: Net;
  readonly #protocol: Int16Array;
  readonly #handler: (RawHandler | null)[];
  readonly owner: (RawOwner | null)[];
  readonly queue: SkbQueue[];
  /** the socket wants ICMP errors (Linux IP_RECVERR) */
  readonly recvErr: Uint8Array;
  // The last ICMP error reported to each socket, until read (one slot, as Linux sk_err).
  readonly errPending: Uint8Array;
  readonly errType: Uint8Array;
  readonly errCode: Uint8Array;
  /** where the quoted datagram was going */
  readonly errAddr: Uint32Array;
  /** who sent the ICMP error */
  readonly errFrom: Uint32Array;
  readonly stats = new RawStats();
  /** sockets whose owner hears of datagrams when the received skb is done */
  readonly wake: WakeList;
  /** the tasklet's (Softnet.schedule) */
  scheduled = false;
  delivered = 0;
  /** handlers and sockets registered now (none: input skips deliver altogether) */
  bound = 0;

  constructor(net: Net) {
    this.#net = net;
    const n = net.config.rawHandlersMax;
    this.#protocol = new Int16Array(n).fill(-1);
    this.#handler = new Array<RawHandler | null>(n).fill(null);
    this.owner = new Array<RawOwner | null>(n).fill(null);
    this.wake = new WakeList(n);
    this.queue = [];
    for (let i = 0; i < n; i++) this.queue.push(new SkbQueue());
    this.recvErr = new Uint8Array(n);
    this.errPending = new Uint8Array(n);
    this.errType = new Uint8Array(n);
    this.errCode = new Uint8Array(n);
    this.errAddr = new Uint32Array(n);
    this.errFrom = new Uint32Array(n);
  }

  #slot(protocol: number): number {
    if (!Number.isInteger(protocol) || protocol < 0 || protocol > 255) throw new RangeError(`raw: protocol ${protocol} is not in 0..255`);
    for (let i = 0; i < this.#protocol.length; i++) if (this.#protocol[i] < 0) return i;
    throw new RangeError(`raw: handler table full (config.rawHandlersMax is ${this.#protocol.length})`);
  }

  /** An in-stack handler. Returns a handle for unregister. */
  register(protocol: number, handler: RawHandler): number {
    if (typeof handler !== "function") throw new TypeError("raw: handler must be a function");
    const i = this.#slot(protocol);
    this.#protocol[i] = protocol;
    this.#handler[i] = handler;
    this.bound++;
    return i;
  }

  /** A raw socket: datagrams of `protocol` are queued for `owner`. Returns a handle for unregister. */
  bind(protocol: number, owner: RawOwner, wantsErrors: boolean): number {
    const i = this.#slot(protocol);
    this.#protocol[i] = protocol;
    this.owner[i] = owner;
    this.recvErr[i] = wantsErrors ? 1 : 0;
    this.errPending[i] = 0;
    this.bound++;
    return i;
  }

  /** Remove a handler or socket; datagrams a socket never read are dropped, counted SOCKET_CLOSE. */
  unregister(handle: number): void {
    if (handle >= 0 && handle < this.#protocol.length) {
      if (this.#protocol[handle] >= 0) this.bound--;
      this.#protocol[handle] = -1;
      this.#handler[handle] = null;
      this.owner[handle] = null;
      this.recvErr[handle] = 0;
      this.errPending[handle] = 0;
      this.#purge(handle, SKB_DROP.SOCKET_CLOSE);
    }
  }

  /** Stack shutdown: drop what waits on every socket (the sockets stay open). */
  flush(): void {
    for (let i = 0; i < this.queue.length; i++) this.#purge(i, SKB_DROP.SHUTDOWN);
  }

  #purge(i: number, reason: number): void {
    const q = this.queue[i];
    let skb: SkBuff | null;
    while ((skb = q.dequeue()) !== null) kfreeSkbReason(this.#net, skb, reason);
  }

  /** True when at least one raw handler or socket took the datagram. */
  deliver(net: Net, skb: SkBuff, protocol: number): boolean {
    let any = false;
    for (let i = 0; i < this.#protocol.length; i++) {
      if (this.#protocol[i] !== protocol) continue;
      const handler = this.#handler[i];
      if (handler !== null) handler(net, skb);
      else this.#queue(i, skb);
      any = true;
      this.delivered++;
    }
    return any;
  }

  /**
   * raw_rcv: the socket keeps a clone (skb_clone, no copy). The L4 handler may still
   * rewrite the shared bytes only after unsharing them (icmpEcho does).
   */
  #queue(i: number, skb: SkBuff): void {
    const net = this.#net;
    const q = this.queue[i];
    if (q.qlen >= net.config.rawRxQueueMax) {
      this.stats.rcvbufErrors++;
      countDrop(net, SKB_DROP.SOCKET_RCVBUFF);
      return;
    }
    const pool = net.pool;
    let head: SkBuff | null = null;
    let last: SkBuff | null = null;
    for (let s: SkBuff | null = skb; s !== null; s = s.fragNext) {
      const c = pool.clone(s);
      if (c === null) {
        this.stats.nomemErrors++;
        if (head !== null) kfreeSkbReason(net, head, SKB_DROP.NOMEM);
        else countDrop(net, SKB_DROP.NOMEM);
        return;
      }
      if (last === null) head = c;
      else last.fragNext = c;
      last = c;
    }
    q.enqueue(head as SkBuff);
    this.stats.inDatagrams++;
    this.wake.add(i);
    net.softnet.schedule(this);
  }

  /** The raw sockets' tasklet: owners hear of the datagrams queued for them. */
  runTasklet(): void {
    const wake = this.wake;
    for (let k = 0; k < wake.count; k++) {
      const i = wake.take(k);
      const owner = this.owner[i];
      if (owner !== null && this.queue[i].qlen > 0) owner.onDatagrams(this.queue[i].qlen);
    }
    wake.clear();
  }

  /** Bytes of the next datagram on socket i, IP header included, or -1. */
  peekLength(i: number): number {
    const skb = this.queue[i].peek();
    return skb === null ? -1 : skb.data - skb.networkHeader + skb.chainLen();
  }

  /**
   * The next datagram for socket i, IP header and payload, copied into `dst`; returns its
   * length, or -1 when none waits. Its source address goes to from[0].
   */
  recv(i: number, dst: Uint8Array | null, dstOff: number, from: Uint32Array): number {
    const skb = this.queue[i].dequeue();
    if (skb === null) return -1;
    const net = this.#net;
    const buf = net.pool.buf;
    const iph = skb.networkHeader;
    const ihl = skb.data - iph;
    const len = ihl + skb.chainLen();
    from[0] = ipSaddr(buf, iph);
    if (dst !== null) {
      copyBytes(dst, dstOff, buf, iph, ihl);
      skbCopyBits(net.pool, skb, 0, dst, dstOff + ihl, len - ihl);
    }
    consumeSkb(net, skb);
    return len;
  }

  /**
   * raw_sendmsg (no IP_HDRINCL): `len` bytes of `src` as the payload of one datagram of
   * `protocol` to daddr; IP builds the header and fragments. Returns as ipSend: 0, a
   * negative error, or NET_XMIT_DROP (positive) when the device's queue dropped it.
   */
  sendto(protocol: number, src: Uint8Array, srcOff: number, len: number, daddr: number, ttl: number): number {
    const net = this.#net;
    const ip = net.ipv4;
    if (!ip.routeOutput(daddr, 0)) {
      this.stats.outErrors++;
      return -ENETUNREACH;
    }
    const skb = ipAllocDatagram(net, len, (ip.rt.dev as NetDevice).mtu);
    if (skb === null) {
      this.stats.outErrors++;
      return -ENOBUFS;
    }
    skbStoreBits(net.pool, skb, 0, src, srcOff, len);
    this.stats.outDatagrams++;
    return this.#transmit(skb, daddr, protocol, ttl);
  }

  /** The datagram down to IP: ipSend's result (sendto's tail call, so its frame is gone). */
  #transmit(skb: SkBuff, daddr: number, protocol: number, ttl: number): number {
    const rc = ipSend(this.#net, skb, 0, daddr, protocol, 0, ttl, false);
    if (rc < 0) this.stats.outErrors++;
    return rc;
  }

  /**
   * raw_icmp_error: an ICMP error quoting a datagram of one of our sockets' protocols
   * (`iph` the quoted header, `from` the error's sender). Only sockets that asked hear of it.
   */
  icmpError(type: number, code: number, iph: number, from: number): void {
    const buf = this.#net.pool.buf;
    const protocol = ipProto(buf, iph);
    for (let i = 0; i < this.#protocol.length; i++) {
      if (this.#protocol[i] !== protocol || this.recvErr[i] === 0) continue;
      this.errPending[i] = 1;
      this.errType[i] = type;
      this.errCode[i] = code;
      this.errAddr[i] = ipDaddr(buf, iph);
      this.errFrom[i] = from;
      this.stats.icmpErrors++;
      (this.owner[i] as RawOwner).onIcmpError();
    }
  }
}

