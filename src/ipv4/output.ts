// IPv4 transmit (net/ipv4/ip_output.c):
//   L4 -> ipSend (route, header, LOCAL_OUT) -> ipOutput (POST_ROUTING) -> ipFinishOutput
//      -> ipFragment when over the MTU -> neigh.output -> devQueueXmit
// What the receive path sends (ACKs, answers, echo replies) waits in IpOutputBacklog until
// the received skb is done, and goes down from there: off the receive path's frames.
// A datagram larger than one frame is a chain of skbs (skb.fragNext), one per fragment,
// built by ipAllocDatagram; ipFragment then only writes a header in front of each
// (the fast path of ip_fragment). Anything else is copied into new fragments.

import { SKB_DROP } from "../core/drop";
import { consumeSkb, kfreeSkbReason } from "../core/free";
import type { Net } from "../core/net";
import type { NetDevice } from "../core/netdevice";
import { skbCopyBits, type SkBuff } from "../core/skb";
import { tosToPriority } from "../core/qdisc";
import { ETH_HLEN, ETH_P_IP } from "../wire/ethernet";
import {
  IPV4_HLEN, IPV4_MAX_LEN, IP_DF, IP_MF, IP_OFFMASK, ipBuildHeader, ipFragField, ipIhlBytes,
  ipSendCheck, setIpFragField, setIpTotLen, setIpVersionIhl,
} from "../wire/ipv4";
import { copyBytes } from "../core/bytes";
import { NF_INET_LOCAL_OUT, NF_INET_POST_ROUTING } from "./netfilter";
// mcconfig type-checks each module alone: the modules that add net.ipv4, net.neigh
import type {} from "./ipv4";
import type {} from "../neigh/neigh";

// Errors returned to L4 and applications (negative, as Linux's -errno).
export const EPERM = 1;
export const EMSGSIZE = 90;
export const ENETUNREACH = 101;
export const ENOBUFS = 105;

/**
 * A datagram of `payloadLen` bytes after the IP header, as a chain of skbs each holding
 * one fragment's payload for `mtu` (so ipFragment takes its fast path), data at the
 * payload start, bytes not yet written. Null when the pool has too few skbs.
 */
export function ipAllocDatagram(net: Net, payloadLen: number, mtu: number): SkBuff | null {
  if (!Number.isInteger(payloadLen) || payloadLen < 0 || payloadLen > IPV4_MAX_LEN - IPV4_HLEN) {
    throw new RangeError(`IPv4 payload of ${payloadLen} bytes: must be 0..${IPV4_MAX_LEN - IPV4_HLEN}`);
  }
  const pool = net.pool;
  const perFrag = mtu - IPV4_HLEN >= payloadLen ? payloadLen : (mtu - IPV4_HLEN) & ~7;
  let head: SkBuff | null = null;
  let last: SkBuff | null = null;
  let left = payloadLen;
  do {
    const skb = pool.alloc();
    if (skb === null) {
      if (head !== null) pool.free(head);
      return null;
    }
    skb.put(left < perFrag ? left : perFrag);
    left -= skb.len;
    if (last === null) head = skb;
    else last.fragNext = skb;
    last = skb;
  } while (left > 0);
  return head;
}

/**
 * ip_build_and_send_pkt: skb (a chain for a large datagram) has data at the L4 header,
 * complete with its checksum. Routes, pushes the IPv4 header and sends. Always consumes
 * the skb. Returns 0, a negative error (-ENETUNREACH, -EMSGSIZE, -EPERM, -ENOBUFS), or
 * NET_XMIT_DROP (positive, as Linux's ip_local_out) when the device's queue dropped it.
 */
export function ipSend(net: Net, skb: SkBuff, saddr: number, daddr: number, proto: number, tos: number, ttl: number, df: boolean): number {
  const ip = net.ipv4;
  ip.stats.outRequests++;
  if (!ip.routeOutput(daddr, saddr)) {
    ip.stats.outNoRoutes++;
    kfreeSkbReason(net, skb, SKB_DROP.IP_OUTNOROUTES);
    return -ENETUNREACH;
  }
  const rt = ip.rt;
  const dev = rt.dev as NetDevice;
  const nexthop = rt.nexthop;
  const total = skb.chainLen() + IPV4_HLEN;
  if (total > IPV4_MAX_LEN) {
    ip.stats.outDiscards++;
    kfreeSkbReason(net, skb, SKB_DROP.IP_FRAG_TOO_BIG);
    return -EMSGSIZE;
  }
  const iph = skb.push(IPV4_HLEN);
  ipBuildHeader(net.pool.buf, iph, tos, total, ip.nextId(), df ? IP_DF : 0, ttl, proto, rt.saddr, daddr);
  skb.networkHeader = iph;
  skb.protocol = ETH_P_IP;
  skb.priority = tosToPriority(tos);
  skb.dev = dev;
  if (ip.netfilter.registered !== 0 && !ip.netfilter.run(NF_INET_LOCAL_OUT, skb, null, dev)) return -EPERM;
  return ipOutput(net, skb, nexthop, dev);
}

/** RFC 2113 Router Alert: the option's four bytes (type 148, length 4, value 0). */
const IPOPT_RA_LEN = 4;

/**
 * A datagram to a broadcast or multicast address straight out of `dev`, no route asked
 * (a socket bound to the device: a DHCP client before it has an address, RFC 2131 4.1;
 * IGMP reports, which go out of the interface that joined). With `routerAlert` the header
 * carries the Router Alert option (RFC 2113; RFC 2236 2, RFC 3376 4: every IGMP message).
 * Returns as ipSend.
 */
export function ipSendDev(net: Net, skb: SkBuff, saddr: number, daddr: number, proto: number, ttl: number, dev: NetDevice, routerAlert = false): number {
  const ip = net.ipv4;
  ip.stats.outRequests++;
  const hlen = routerAlert ? IPV4_HLEN + IPOPT_RA_LEN : IPV4_HLEN;
  const total = skb.chainLen() + hlen;
  if (total > IPV4_MAX_LEN) {
    ip.stats.outDiscards++;
    kfreeSkbReason(net, skb, SKB_DROP.IP_FRAG_TOO_BIG);
    return -EMSGSIZE;
  }
  const iph = skb.push(hlen);
  const buf = net.pool.buf;
  ipBuildHeader(buf, iph, 0, total, ip.nextId(), 0, ttl, proto, saddr, daddr);
  if (routerAlert) {
    buf[iph] = 0x46;
    buf[iph + IPV4_HLEN] = 148;
    buf[iph + IPV4_HLEN + 1] = IPOPT_RA_LEN;
    buf[iph + IPV4_HLEN + 2] = 0;
    buf[iph + IPV4_HLEN + 3] = 0;
    ipSendCheck(buf, iph);
  }
  skb.networkHeader = iph;
  skb.protocol = ETH_P_IP;
  skb.priority = tosToPriority(0);
  skb.dev = dev;
  if (ip.netfilter.registered !== 0 && !ip.netfilter.run(NF_INET_LOCAL_OUT, skb, null, dev)) return -EPERM;
  return ipOutput(net, skb, daddr, dev);
}

/**
 * ip_output: skb.data at the IP header, routed to (nexthop, dev). Consumes the skb. Sent
 * while a received skb is processed, it waits for that skb's end (IpOutputBacklog).
 * Returns as ipSend; each layer's last call is its return (XS then runs it as a tail
 * call, in this frame's place).
 */
export function ipOutput(net: Net, skb: SkBuff, nexthop: number, dev: NetDevice): number {
  const nf = net.ipv4.netfilter;
  if (nf.registered !== 0 && !nf.run(NF_INET_POST_ROUTING, skb, null, dev)) return -EPERM;
  if (net.softnet.inRxSkb) {
    net.ipv4.outputBacklog.add(skb, nexthop, dev);
    return 0;
  }
  return ipFinishOutput(net, skb, nexthop, dev);
}

/** ip_finish_output: to the neighbour layer, in fragments when over the MTU. */
function ipFinishOutput(net: Net, skb: SkBuff, nexthop: number, dev: NetDevice): number {
  if (skb.fragNext === null && skb.len <= dev.mtu) return net.neigh.output(skb, nexthop, dev);
  return ipFragment(net, skb, nexthop, dev);
}

/** On output the IP layer owns the control block: the next hop of a datagram waiting in IpOutputBacklog. */
const IPCB_NEXTHOP = 0;

/**
 * Datagrams sent while a received skb is processed, in order, linked through skb.next: they
 * go down to the neighbour layer and the device when that skb is done (an RxSkbDoneHook,
 * before the sockets' owners hear of it, so the order on the wire is the same as if each
 * had gone at once). Each holds a pool record, so the list needs no bound of its own.
 */
export class IpOutputBacklog {
  readonly #net: Net;
  #head: SkBuff | null = null;
  #tail: SkBuff | null = null;

  constructor(net: Net) {
    this.#net = net;
  }

  add(skb: SkBuff, nexthop: number, dev: NetDevice): void {
    skb.cb[IPCB_NEXTHOP] = nexthop | 0;
    skb.dev = dev;
    skb.next = null;
    if (this.#tail === null) this.#head = skb;
    else this.#tail.next = skb;
    this.#tail = skb;
  }

  rxSkbDone(): void {
    const net = this.#net;
    let skb = this.#head;
    this.#head = null;
    this.#tail = null;
    while (skb !== null) {
      const next: SkBuff | null = skb.next;
      skb.next = null;
      ipFinishOutput(net, skb, skb.cb[IPCB_NEXTHOP] >>> 0, skb.dev as NetDevice);
      skb = next;
    }
  }
}

/**
 * ip_fragment (RFC 791 3.2, RFC 1122 3.3.3): split the datagram at skb.data into
 * fragments that fit dev.mtu. A forwarded fragment keeps its offset and MF. Options are
 * not carried into fragments (this stack sends none; forwarded ones lose them). The
 * fragments go out from small frames of their own (tail calls), not from this one.
 */
export function ipFragment(net: Net, skb: SkBuff, nexthop: number, dev: NetDevice): number {
  const ip = net.ipv4;
  const buf = net.pool.buf;
  const iph = skb.data;
  if ((ipFragField(buf, iph) & IP_DF) !== 0) {
    ip.stats.fragFails++;
    kfreeSkbReason(net, skb, SKB_DROP.IP_FRAG_NEEDED);
    return -EMSGSIZE;
  }
  // The header every fragment starts from, kept aside: the first fragment may be on its
  // way before the others are built.
  const hdr = ip.fragHeader;
  copyBytes(hdr, 0, buf, iph, IPV4_HLEN);
  setIpVersionIhl(hdr, 0, IPV4_HLEN); // options are not carried into fragments
  if (!fastPathFits(skb, ipIhlBytes(buf, iph), dev.mtu)) return fragmentCopies(net, skb, nexthop, dev);
  fragmentHeaders(net, skb);
  return sendFragments(net, skb, nexthop, dev);
}

/**
 * The fast path: each skb of the chain is a fragment already; a header in front of each,
 * the first's own made a fragment's (the others from ip.fragHeader).
 */
function fragmentHeaders(net: Net, skb: SkBuff): void {
  const ip = net.ipv4;
  const buf = net.pool.buf;
  const hdr = ip.fragHeader;
  const iph = skb.data;
  const ihl = ipIhlBytes(buf, iph);
  const field = ipFragField(buf, iph);
  const moreAfter = (field & IP_MF) !== 0;
  let offset = (field & IP_OFFMASK) * 8;
  for (let frag: SkBuff | null = skb; frag !== null; frag = frag.fragNext) {
    let at: number;
    if (frag === skb) {
      at = iph;
    } else {
      at = frag.push(IPV4_HLEN);
      copyBytes(buf, at, hdr, 0, IPV4_HLEN);
      frag.networkHeader = at;
      frag.protocol = ETH_P_IP;
      frag.priority = skb.priority;
      frag.mark = skb.mark;
      ip.stats.fragCreates++;
    }
    const payload = frag.len - (frag === skb ? ihl : IPV4_HLEN);
    setIpTotLen(buf, at, frag.len);
    setIpFragField(buf, at, (offset >> 3) | (frag.fragNext !== null || moreAfter ? IP_MF : 0));
    ipSendCheck(buf, at);
    offset += payload;
  }
}

/** The fragments of a chain, each with its header, to the neighbour one by one. */
function sendFragments(net: Net, skb: SkBuff, nexthop: number, dev: NetDevice): number {
  let frag: SkBuff | null = skb;
  while (frag !== null) {
    const next: SkBuff | null = frag.fragNext;
    frag.fragNext = null;
    net.neigh.output(frag, nexthop, dev);
    frag = next;
  }
  net.ipv4.stats.fragOKs++;
  return 0;
}

/** The slow path: the payload copied into new skbs, one per fragment, each sent once built. */
function fragmentCopies(net: Net, skb: SkBuff, nexthop: number, dev: NetDevice): number {
  const ip = net.ipv4;
  const payloadTotal = skb.chainLen() - ipIhlBytes(net.pool.buf, skb.data);
  const maxPayload = (dev.mtu - IPV4_HLEN) & ~7;
  for (let off = 0; off < payloadTotal; ) {
    const n = payloadTotal - off < maxPayload ? payloadTotal - off : maxPayload;
    const frag = copyFragment(net, skb, off, n, off + n < payloadTotal);
    if (frag === null) {
      ip.stats.fragFails++;
      kfreeSkbReason(net, skb, SKB_DROP.NOMEM);
      return -ENOBUFS;
    }
    off += n;
    net.neigh.output(frag, nexthop, dev);
  }
  ip.stats.fragOKs++;
  consumeSkb(net, skb);
  return 0;
}

/**
 * A fragment of `n` payload bytes from offset `off` of the datagram at skb.data, in a new
 * skb with ip.fragHeader's header; `more`: fragments follow it. Null when the pool is empty.
 */
function copyFragment(net: Net, skb: SkBuff, off: number, n: number, more: boolean): SkBuff | null {
  const ip = net.ipv4;
  const pool = net.pool;
  const buf = pool.buf;
  const hdr = ip.fragHeader;
  const field = ipFragField(hdr, 0);
  const frag = pool.alloc();
  if (frag === null) return null;
  const at = frag.put(IPV4_HLEN + n);
  copyBytes(buf, at, hdr, 0, IPV4_HLEN);
  skbCopyBits(pool, skb, ipIhlBytes(buf, skb.data) + off, buf, at + IPV4_HLEN, n);
  setIpTotLen(buf, at, IPV4_HLEN + n);
  setIpFragField(buf, at, (((field & IP_OFFMASK) * 8 + off) >> 3) | (more || (field & IP_MF) !== 0 ? IP_MF : 0));
  ipSendCheck(buf, at);
  frag.networkHeader = at;
  frag.protocol = ETH_P_IP;
  frag.priority = skb.priority;
  frag.mark = skb.mark;
  ip.stats.fragCreates++;
  return frag;
}

/** Can the chain be sent as it is: every piece fits, all but the last a multiple of 8. */
function fastPathFits(skb: SkBuff, ihl: number, mtu: number): boolean {
  if (skb.fragNext === null || skb.len > mtu || ((skb.len - ihl) & 7) !== 0) return false;
  for (let f: SkBuff | null = skb.fragNext; f !== null; f = f.fragNext) {
    if (f.len + IPV4_HLEN > mtu || f.headroom() < IPV4_HLEN + ETH_HLEN) return false;
    if (f.fragNext !== null && (f.len & 7) !== 0) return false;
  }
  return true;
}
