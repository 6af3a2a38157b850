// ICMP (RFC 792, RFC 1122 3.2.2; net/ipv4/icmp.c):
//   ipLocalDeliver -> icmpRcv: echo request -> the same skb turned into the reply -> ipSend
//   any layer -> icmp.send(skb, type, code, info): an error about a datagram we got,
//   with the RFC 1122 rules on when never to send one, rate-limited by a token bucket.

import { SKB_DROP } from "../core/drop";
import { consumeSkb, kfreeSkbReason } from "../core/free";
import type { Net } from "../core/net";
import { CHECKSUM_UNNECESSARY, PACKET_HOST, skbChecksum, skbCopyBits, type SkBuff } from "../core/skb";
import type { NetDevice } from "../core/netdevice";
import { copyBytes } from "../core/bytes";
import { WIRE_LEN_BEYOND, WIRE_OK } from "../wire/bytes";
import { csumFold, csumPartial, csumReduce, csumReplace16 } from "../wire/checksum";
import {
  ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_ECHOREPLY, ICMP_FRAG_NEEDED, ICMP_HLEN, ICMP_HOST_UNREACH,
  ICMP_PARAMETERPROB, ICMP_QUOTE_DATA_LEN, ICMP_REDIRECT, ICMP_SOURCE_QUENCH, ICMP_TIME_EXCEEDED, NR_ICMP_TYPES,
  icmpBuildHeader, icmpCheck, icmpCheckLen, icmpCode, icmpIsError, icmpMtu, icmpType, setIcmpCheck, setIcmpType,
} from "../wire/icmp";
import {
  INADDR_BROADCAST, IPPROTO_ICMP, IPTOS_PREC_INTERNETCONTROL, IPTOS_TOS_MASK, IPV4_HLEN, IP_OFFMASK, ipDaddr,
  ipFragField, ipIhlBytes, ipIsLoopback, ipIsMulticast, ipIsZeronet, ipProto, ipSaddr, ipTos, ipTotLen,
  ipv4CheckLen,
} from "../wire/ipv4";
import { ipAllocDatagram, ipSend } from "./output";
import { IPCB_RT_TYPE, RTN_LOCAL } from "./route";
// mcconfig type-checks each module alone: the modules that add dev.inDev, net.ipv4
import type {} from "./devinet";
import type {} from "./ipv4";

/** The ICMP group of the MIB, as Linux names it in /proc/net/snmp. */
export class IcmpStats {
  inMsgs = 0;
  inErrors = 0;
  inCsumErrors = 0;
  inDestUnreachs = 0;
  inTimeExcds = 0;
  inParmProbs = 0;
  inSrcQuenchs = 0;
  inRedirects = 0;
  inEchos = 0;
  inEchoReps = 0;
  outMsgs = 0;
  outErrors = 0;
  outRateLimited = 0;
  outDestUnreachs = 0;
  outTimeExcds = 0;
  outParmProbs = 0;
  outEchoReps = 0;
}

/** RFC 1812 4.3.2.3: an error carries as much of the datagram as fits in 576 bytes. */
const ICMP_ERROR_MAX_IP_LEN = 576;

export class Icmp {
  readonly #net: Net;
  readonly stats = new IcmpStats();
  #tokens: number;
  #refilledAt = -Infinity;

  constructor(net: Net) {
    this.#net = net;
    this.#tokens = net.config.icmpBurst;
  }

  /** icmp_global_allow: a token bucket of config.icmpRatePerSec, burst config.icmpBurst. */
  #allow(): boolean {
    const cfg = this.#net.config;
    const now = this.#net.now();
    if (this.#refilledAt === -Infinity) this.#refilledAt = now;
    const add = ((now - this.#refilledAt) * cfg.icmpRatePerSec) / 1000;
    if (add >= 1) {
      // Advance the stamp by the whole tokens only, so the fraction carries over.
      const whole = Math.floor(add);
      this.#tokens = Math.min(cfg.icmpBurst, this.#tokens + whole);
      this.#refilledAt = this.#tokens === cfg.icmpBurst ? now : this.#refilledAt + (whole * 1000) / cfg.icmpRatePerSec;
    }
    if (this.#tokens < 1) return false;
    this.#tokens--;
    return true;
  }

  /**
   * icmp_send: report a problem with `skbIn` (its networkHeader at the offending IP
   * header) to its sender. Never takes or frees skbIn. RFC 1122 3.2.2: no error about an
   * ICMP error, a datagram to a broadcast or multicast address or sent as a link-layer
   * broadcast, a non-initial fragment, or one whose source is not a unicast host.
   */
  send(skbIn: SkBuff, type: number, code: number, info: number): void {
    const net = this.#net;
    const buf = net.pool.buf;
    const iph = skbIn.networkHeader;
    if (skbIn.pktType !== PACKET_HOST || iph < skbIn.head) return;
    // The quote needs a whole header; the datagram may go on in later pieces (skbIn.fragNext).
    const fault = ipv4CheckLen(buf, iph, skbIn.tail - iph);
    if (fault !== WIRE_OK && fault !== WIRE_LEN_BEYOND) return;
    const saddr = ipSaddr(buf, iph);
    const daddr = ipDaddr(buf, iph);
    if (ipIsMulticast(daddr) || daddr === INADDR_BROADCAST || this.#isSubnetBroadcast(daddr)) return;
    if (ipIsZeronet(saddr) || ipIsMulticast(saddr) || saddr === INADDR_BROADCAST || this.#isSubnetBroadcast(saddr)) return;
    if ((ipFragField(buf, iph) & IP_OFFMASK) !== 0) return;
    if (ipProto(buf, iph) === IPPROTO_ICMP) {
      // Only informational messages may be answered with an error.
      const inner = iph + ipIhlBytes(buf, iph);
      if (inner >= skbIn.tail) return;
      const innerType = icmpType(buf, inner);
      if (icmpIsError(innerType) || innerType > NR_ICMP_TYPES) return;
    }
    if (!this.#allow()) {
      this.stats.outRateLimited++;
      return;
    }
    const reply = net.pool.alloc();
    if (reply === null) {
      this.stats.outErrors++;
      return;
    }
    // Quote the offending datagram: its header and as much data as fits in 576 bytes.
    let avail = skbIn.tail - iph;
    for (let f = skbIn.fragNext; f !== null; f = f.fragNext) avail += f.tail - f.data;
    const totLen = ipTotLen(buf, iph);
    if (avail > totLen) avail = totLen;
    const room = ICMP_ERROR_MAX_IP_LEN - IPV4_HLEN - ICMP_HLEN;
    const quote = avail < room ? avail : room;
    const at = reply.put(ICMP_HLEN + quote);
    let rest = 0;
    if (type === ICMP_DEST_UNREACH && code === ICMP_FRAG_NEEDED) rest = info & 0xffff; // RFC 1191 next-hop MTU
    else if (type === ICMP_PARAMETERPROB) rest = ((info & 0xff) << 24) >>> 0;
    icmpBuildHeader(buf, at, type, code, rest);
    let copied = skbIn.tail - iph < quote ? skbIn.tail - iph : quote;
    copyBytes(buf, at + ICMP_HLEN, buf, iph, copied);
    for (let f = skbIn.fragNext; f !== null && copied < quote; f = f.fragNext) {
      const n = f.tail - f.data < quote - copied ? f.tail - f.data : quote - copied;
      copyBytes(buf, at + ICMP_HLEN + copied, buf, f.data, n);
      copied += n;
    }
    setIcmpCheck(buf, at, csumFold(csumPartial(buf, at, ICMP_HLEN + quote, 0)));
    // Answer from the address the datagram was sent to when it is ours, so the sender
    // can match it; otherwise the route chooses (a router's outgoing interface).
    const src = net.ipv4.localDev(daddr) !== null ? daddr : 0;
    const tos = (ipTos(buf, iph) & IPTOS_TOS_MASK) | IPTOS_PREC_INTERNETCONTROL;
    this.stats.outMsgs++;
    if (type === ICMP_DEST_UNREACH) this.stats.outDestUnreachs++;
    else if (type === ICMP_TIME_EXCEEDED) this.stats.outTimeExcds++;
    else if (type === ICMP_PARAMETERPROB) this.stats.outParmProbs++;
    return this.#transmit(reply, src, saddr, tos);
  }

  /** The error down to IP (send's tail call, so that its frame is gone meanwhile). */
  #transmit(reply: SkBuff, saddr: number, daddr: number, tos: number): void {
    if (ipSend(this.#net, reply, saddr, daddr, IPPROTO_ICMP, tos, this.#net.config.ipDefaultTtl, false) < 0) this.stats.outErrors++;
  }

  /** Host unreachable for a datagram whose next hop did not answer ARP (skb.data at its IP header). */
  sendHostUnreachable(skb: SkBuff): void {
    skb.networkHeader = skb.data;
    this.send(skb, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0);
  }

  #isSubnetBroadcast(addr: number): boolean {
    const devs = this.#net.devices;
    for (let i = 0; i < devs.length; i++) {
      const d = devs[i].inDev;
      if (d.configured && d.prefixLen < 31 && d.broadcast === addr) return true;
    }
    return false;
  }
}

/**
 * icmp_rcv: skb.data at the ICMP header (maybe a reassembled chain). Returns what sending
 * an echo reply returned (ipSend's), else 0: a number so that the reply's send is this
 * function's tail call (XS runs it in this frame's place).
 */
export function icmpRcv(net: Net, skb: SkBuff): number {
  const icmp = net.ipv4.icmp;
  const stats = icmp.stats;
  const buf = net.pool.buf;
  stats.inMsgs++;
  if (icmpCheckLen(buf, skb.data, skb.len) !== WIRE_OK) {
    stats.inErrors++;
    kfreeSkbReason(net, skb, SKB_DROP.ICMP_INVALID);
    return 0;
  }
  if (skb.ipSummed !== CHECKSUM_UNNECESSARY && csumReduce(skbChecksum(net.pool, skb, 0)) !== 0xffff) {
    stats.inCsumErrors++;
    stats.inErrors++;
    kfreeSkbReason(net, skb, SKB_DROP.ICMP_CSUM);
    return 0;
  }
  const at = skb.data;
  switch (icmpType(buf, at)) {
    case ICMP_ECHO:
      stats.inEchos++;
      return icmpEcho(net, skb);
    case ICMP_ECHOREPLY:
      stats.inEchoReps++; // a ping client reads it through a raw handler
      break;
    case ICMP_DEST_UNREACH:
      stats.inDestUnreachs++;
      if (!icmpUnreach(net, skb)) return 0;
      break;
    case ICMP_TIME_EXCEEDED:
      stats.inTimeExcds++;
      if (!icmpUnreach(net, skb)) return 0;
      break;
    case ICMP_PARAMETERPROB:
      stats.inParmProbs++;
      if (!icmpUnreach(net, skb)) return 0;
      break;
    case ICMP_SOURCE_QUENCH:
      stats.inSrcQuenchs++; // deprecated (RFC 6633): counted, ignored
      break;
    case ICMP_REDIRECT:
      stats.inRedirects++; // routes here are configured, not learned
      break;
    default:
      kfreeSkbReason(net, skb, SKB_DROP.ICMP_UNSUPPORTED);
      return 0;
  }
  consumeSkb(net, skb);
  return 0;
}

/**
 * icmp_unreach: an error about a datagram we sent goes to the raw sockets of its protocol
 * and to the transport that sent it (RFC 1122 3.2.2.1: MUST pass it up), found by the
 * quoted IP header's protocol. The quote must hold a whole IP header (ipv4CheckLen: IHL,
 * and a total length not below it) and 8 bytes of the transport header (ports, RFC 792),
 * and be about a datagram we could have sent: from one of our addresses, and an initial
 * fragment (no error is ever sent about a later one, RFC 1122 3.2.2). Otherwise the
 * message is dropped (ICMP_INVALID, InErrors), as Linux does with a short quote; false
 * then, and the skb is freed here.
 */
function icmpUnreach(net: Net, skb: SkBuff): boolean {
  const ip = net.ipv4;
  const buf = net.pool.buf;
  const at = skb.data;
  const inner = at + ICMP_HLEN;
  // The quote is cut short on purpose, so its total length may run past it (WIRE_LEN_BEYOND).
  const quoteLen = skb.len - ICMP_HLEN;
  const fault = ipv4CheckLen(buf, inner, quoteLen);
  let ok = fault === WIRE_OK || fault === WIRE_LEN_BEYOND;
  const ihl = ok ? ipIhlBytes(buf, inner) : 0;
  if (ok) ok = quoteLen >= ihl + ICMP_QUOTE_DATA_LEN; // the gate checked the version
  if (ok) {
    const saddr = ipSaddr(buf, inner);
    ok = (ipFragField(buf, inner) & IP_OFFMASK) === 0 && (ip.localDev(saddr) !== null || ipIsLoopback(saddr));
  }
  const from = ipSaddr(buf, skb.networkHeader);
  const type = icmpType(buf, at);
  const code = icmpCode(buf, at);
  if (ok) {
    const handler = ip.errProtos[ipProto(buf, inner)];
    if (handler !== null && handler(net, type, code, icmpMtu(buf, at), inner, inner + ihl, from) === false) ok = false;
    else ip.raw.icmpError(type, code, inner, from);
  }
  if (!ok) {
    ip.icmp.stats.inErrors++;
    kfreeSkbReason(net, skb, SKB_DROP.ICMP_INVALID);
  }
  return ok;
}

/**
 * icmp_echo: the request's skb becomes the reply; the data (even a reassembled chain) stays
 * where it is. Returns ipSend's result, or 0 when no reply is sent.
 */
function icmpEcho(net: Net, skb: SkBuff): number {
  const ip = net.ipv4;
  const buf = net.pool.buf;
  const iph = skb.networkHeader;
  const saddr = ipSaddr(buf, iph);
  const daddr = ipDaddr(buf, iph);
  const dev = skb.dev;
  // To one of our addresses, as IP's input route decided (not a broadcast or a group).
  const toUs = skb.cb[IPCB_RT_TYPE] === RTN_LOCAL;
  // Decided by the IP destination, as Linux (a unicast echo inside a link broadcast is answered).
  if (!toUs) {
    // Broadcast and multicast echo (smurf amplification) is ignored, as Linux's default.
    if (net.config.icmpEchoIgnoreBroadcasts || dev === null || !dev.inDev.configured) {
      kfreeSkbReason(net, skb, SKB_DROP.ICMP_IGNORED);
      return 0;
    }
  }
  if (ipIsZeronet(saddr)) {
    kfreeSkbReason(net, skb, SKB_DROP.ICMP_INVALID);
    return 0;
  }
  const src = toUs ? daddr : (dev as NonNullable<typeof dev>).inDev.addr;
  const tos = ipTos(buf, iph);
  const reply = unshare(net, skb, saddr);
  if (reply === null) {
    ip.icmp.stats.outErrors++;
    kfreeSkbReason(net, skb, SKB_DROP.NOMEM);
    return 0;
  }
  if (reply !== skb) consumeSkb(net, skb);
  const at = reply.data;
  const code = icmpCode(buf, at);
  setIcmpType(buf, at, ICMP_ECHOREPLY);
  // RFC 1624: only the type changed, so patch the checksum instead of summing 65 KB again.
  setIcmpCheck(buf, at, csumReplace16(icmpCheck(buf, at), (ICMP_ECHO << 8) | code, (ICMP_ECHOREPLY << 8) | code));
  reply.pktType = PACKET_HOST;
  ip.icmp.stats.outMsgs++;
  ip.icmp.stats.outEchoReps++;
  return ipSend(net, reply, src, saddr, IPPROTO_ICMP, tos, net.config.ipDefaultTtl, false);
}

/**
 * skb_unshare for the reply: when a raw socket holds a clone of the request, the reply is
 * built in a copy (as Linux's icmp_reply always does), so the socket reads the request as
 * it came. Pieces are sized for the route's MTU. Null when the pool is short.
 */
function unshare(net: Net, skb: SkBuff, daddr: number): SkBuff | null {
  const pool = net.pool;
  let shared = false;
  for (let s: SkBuff | null = skb; s !== null && !shared; s = s.fragNext) shared = pool.isCloned(s);
  if (!shared) return skb;
  const ip = net.ipv4;
  const mtu = ip.routeOutput(daddr, 0) ? (ip.rt.dev as NetDevice).mtu : net.config.mtuMaxBytes;
  const copy = ipAllocDatagram(net, skb.chainLen(), mtu);
  if (copy === null) return null;
  let off = 0;
  for (let s: SkBuff | null = copy; s !== null; s = s.fragNext) {
    skbCopyBits(pool, skb, off, pool.buf, s.data, s.len);
    off += s.len;
  }
  return copy;
}
