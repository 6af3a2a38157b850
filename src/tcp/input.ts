// TCP over IPv4, the way in (net/ipv4/tcp_ipv4.c; RFC 9293 3.10.7 "SEGMENT ARRIVES"):
//   ipLocalDeliver -> tcpV4Rcv: length, checksum, one skb, addresses, options; the
//   segment's fields into its control block (CB_*); then demux by 4-tuple (table.ts)
//     -> SYN_SENT: handshake.ts
//     -> synchronized states and SYN_RECV: established.ts (ACK: ack.ts)
//     -> a listener (or a SYN that ends a TIME_WAIT): listen.ts
//     -> nothing: a reset (RFC 9293 3.10.7.1)
// and tcpV4Err: ICMP errors about segments we sent.

import { SKB_DROP } from "../core/drop";
import { consumeSkb, kfreeSkbReason } from "../core/free";
import type { Net } from "../core/net";
import { CHECKSUM_UNNECESSARY, PACKET_HOST, skbChecksum, skbCopyBits, type SkBuff } from "../core/skb";
import { copyBytes } from "../core/bytes";
import { csumPseudoHeader, csumReduce } from "../wire/checksum";
import { IPPROTO_TCP, IPV4_HLEN, ipDaddr, ipSaddr } from "../wire/ipv4";
import { IPCB_RT_TYPE, RTN_LOCAL } from "../ipv4/route";
import {
  TCP_ACK, TCP_HLEN, TCP_RST, TCP_SYN, tcpAckSeq, tcpCheckLen, tcpDoffBytes, tcpDport, tcpFlags, tcpParseOptions, tcpSeq, tcpSport,
  tcpWindow, type TcpOptions,
} from "../wire/tcp";
import { WIRE_OK } from "../wire/bytes";
import { ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, ICMP_PORT_UNREACH, ICMP_PROT_UNREACH } from "../wire/icmp";
import { TF_RETRANS_HEAD,
  CB_ACK, CB_END, CB_FLAGS, CB_SEQ, CB_WND, ECONNREFUSED, EHOSTUNREACH, TCP_SYN_RECV, TCP_SYN_SENT, TCP_TIME_WAIT, TF_KEEPALIVE, seqGt, seqLt,
} from "./tcb";
import { tcpSendResetFor } from "./output";
import { tcpFree, tcpLookup, tcpLookupListener } from "./table";
import { tcpKeepaliveHeard } from "./timer";
import { tcpSynSentRcv } from "./handshake";
import { tcpRcvEstablished } from "./established";
import { tcpListenRcv, tcpTimeWaitReusable } from "./listen";
// mcconfig type-checks each module alone: the modules that add net.tcp
import type {} from "./init";

/**
 * tcp_v4_rcv: skb.data at the TCP header. Always consumes the skb. The segment's checks
 * are a function of their own, and each way on a tail call, so that none of this frame is
 * held under the connection's processing.
 */
export function tcpV4Rcv(net: Net, skb: SkBuff): void {
  const seg = tcpSegment(net, skb);
  if (seg === null) return;
  const tcp = net.tcp;
  const t = tcp.tcb;
  const opts = t.opts;
  const buf = net.pool.buf;
  const iph = seg.networkHeader;
  const th = seg.transportHeader;
  let c = tcpLookup(t, ipDaddr(buf, iph), tcpDport(buf, th), ipSaddr(buf, iph), tcpSport(buf, th));
  let iss = -1;
  if (c >= 0 && (seg.cb[CB_FLAGS] & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN && t.state[c] === TCP_TIME_WAIT && tcpTimeWaitReusable(net, c, seg.cb[CB_SEQ], opts)) {
    // A new incarnation of a connection in TIME_WAIT (RFC 9293 3.6.1, RFC 6191).
    tcp.stats.timeWaitReused++;
    // The new ISN lies past everything the old connection sent (RFC 9293 3.6.1; Linux
    // takes snd_nxt + 65535 + 2).
    iss = (t.sndNxt[c] + 65537) >>> 0;
    tcpFree(net, c, SKB_DROP.SOCKET_CLOSE);
    c = -1;
  }
  if (c < 0) return noSocket(net, seg, opts, iss);
  if ((t.flags[c] & TF_KEEPALIVE) !== 0) tcpKeepaliveHeard(net, c);
  if (t.state[c] === TCP_SYN_SENT) return tcpSynSentRcv(net, c, seg, opts);
  return tcpRcvEstablished(net, c, seg, opts);
}

/**
 * The checks of a segment: length, checksum, one skb, addresses; then its options into
 * tcb.opts and its fields into its control block (CB_*), data past the header. The
 * segment (a new skb when it came in IP fragments), or null when it was dropped (counted).
 */
function tcpSegment(net: Net, skb: SkBuff): SkBuff | null {
  const tcp = net.tcp;
  const stats = tcp.stats;
  const buf = net.pool.buf;
  let th = skb.data;
  const first = skb.len;
  const total = skb.fragNext === null ? first : skb.chainLen();
  stats.inSegs++; // errored segments too (RFC 4022 tcpInSegs)
  // The header and its options lie in the first piece (a fragmented segment is made one below).
  if (tcpCheckLen(buf, th, first) !== WIRE_OK) {
    stats.inErrs++;
    kfreeSkbReason(net, skb, SKB_DROP.TCP_INVALID);
    return null;
  }
  const doff = tcpDoffBytes(buf, th);
  const iph = skb.networkHeader;
  if (skb.ipSummed !== CHECKSUM_UNNECESSARY && csumReduce(skbChecksum(net.pool, skb, csumPseudoHeader(ipSaddr(buf, iph), ipDaddr(buf, iph), IPPROTO_TCP, total))) !== 0xffff) {
    stats.inCsumErrors++;
    stats.inErrs++;
    kfreeSkbReason(net, skb, SKB_DROP.TCP_CSUM);
    return null;
  }
  // A segment that came in IP fragments: one skb for the TCP layer, if it fits in one.
  if (skb.fragNext !== null) {
    const whole = linearize(net, skb, total);
    if (whole === null) {
      stats.inErrs++;
      kfreeSkbReason(net, skb, SKB_DROP.TCP_INVALID);
      return null;
    }
    skb = whole;
    th = skb.data;
  }
  // Never to or from a broadcast or multicast address (RFC 1122 4.2.3.10): only a datagram
  // IP routed to one of our own addresses (a multicast or broadcast source never gets past
  // ip_rcv's martian check).
  if (skb.pktType !== PACKET_HOST || skb.cb[IPCB_RT_TYPE] !== RTN_LOCAL) {
    kfreeSkbReason(net, skb, SKB_DROP.TCP_INVALID);
    return null;
  }
  const opts = tcp.tcb.opts;
  opts.reset();
  if (doff > TCP_HLEN) tcpParseOptions(buf, th + TCP_HLEN, doff - TCP_HLEN, opts);
  const seq = tcpSeq(buf, th);
  // TCP_SKB_CB: what the rest of input reads of the segment.
  const cb = skb.cb;
  cb[CB_SEQ] = seq;
  cb[CB_END] = (seq + total - doff) >>> 0;
  cb[CB_FLAGS] = tcpFlags(buf, th);
  cb[CB_ACK] = tcpAckSeq(buf, th);
  cb[CB_WND] = tcpWindow(buf, th);
  skb.pull(doff);
  return skb;
}

/** No connection: a listener's (the segment is its), or a reset (RFC 9293 3.10.7.1) unless this is one. */
function noSocket(net: Net, skb: SkBuff, opts: TcpOptions, iss: number): void {
  const buf = net.pool.buf;
  const l = tcpLookupListener(net.tcp.tcb, ipDaddr(buf, skb.networkHeader), tcpDport(buf, skb.transportHeader));
  if (l >= 0) return tcpListenRcv(net, l, skb, opts, iss);
  if ((skb.cb[CB_FLAGS] & TCP_RST) === 0) tcpSendResetFor(net, skb);
  kfreeSkbReason(net, skb, SKB_DROP.TCP_NOSOCKET);
}

/**
 * Copy a chain into one skb, freeing the chain; null when it does not fit. The IP header
 * goes in front, as in any other segment (resets and listeners read its addresses).
 */
function linearize(net: Net, skb: SkBuff, total: number): SkBuff | null {
  const pool = net.pool;
  const one = pool.alloc();
  if (one === null) return null;
  const ihl = skb.data - skb.networkHeader;
  if (one.headroom() < ihl) one.reserve(ihl - one.headroom());
  if (one.tailroom() < total) {
    pool.free(one);
    return null;
  }
  const at = one.put(total);
  skbCopyBits(pool, skb, 0, pool.buf, at, total);
  copyBytes(pool.buf, one.push(ihl), pool.buf, skb.networkHeader, ihl);
  one.networkHeader = one.data;
  one.pull(ihl);
  one.transportHeader = one.data;
  one.dev = skb.dev;
  one.pktType = skb.pktType;
  one.cb[IPCB_RT_TYPE] = skb.cb[IPCB_RT_TYPE];
  consumeSkb(net, skb);
  return one;
}

/**
 * tcp_v4_err: an ICMP error about a segment we sent (RFC 1122 4.2.3.9, RFC 5927). Only
 * errors quoting a sequence number we have in flight count (blind ICMP attacks). A
 * refused or unreachable SYN ends the attempt; "fragmentation needed" lowers the MSS to
 * the path MTU (RFC 1191) and resends; anything else about an open connection is soft.
 */
export function tcpV4Err(net: Net, type: number, code: number, info: number, iph: number, l4: number): void {
  const tcp = net.tcp;
  const t = tcp.tcb;
  const buf = net.pool.buf;
  const c = tcpLookup(t, ipSaddr(buf, iph), tcpSport(buf, l4), ipDaddr(buf, iph), tcpDport(buf, l4));
  if (c < 0) return;
  const seq = tcpSeq(buf, l4);
  if (seqLt(seq, t.sndUna[c]) || seqGt(seq, t.sndMax[c])) return;
  if (type !== ICMP_DEST_UNREACH) return;
  if (code === ICMP_FRAG_NEEDED) {
    const mss = info - IPV4_HLEN - TCP_HLEN;
    if (info >= 68 && mss < t.mss[c]) {
      t.mss[c] = mss;
      tcp.sendAfterSkb(c, TF_RETRANS_HEAD);
    }
    return;
  }
  const state = t.state[c];
  if ((state === TCP_SYN_SENT || state === TCP_SYN_RECV) && code <= ICMP_PORT_UNREACH) {
    // The connection is aborted once the ICMP message is done (off its frames).
    tcp.stats.attemptFails++;
    t.errPending[c] = code >= ICMP_PROT_UNREACH ? ECONNREFUSED : EHOSTUNREACH;
    tcp.sendAfterSkb(c, 0);
  }
}
