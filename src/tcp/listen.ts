// The passive side (Linux's tcp_minisocks.c and syncookies.c): a segment to a listener
// (RFC 9293 3.10.7.2) makes a SYN_RECV child and a SYN-ACK, or, with the SYN queue full,
// a SYN cookie and no state (RFC 4987 3.6) until the handshake's ACK opens the connection
// at once; and a SYN that may end a connection in TIME_WAIT (RFC 6191).

import { SKB_DROP } from "../core/drop";
import { consumeSkb, kfreeSkbReason } from "../core/free";
import type { Net } from "../core/net";
import type { NetDevice } from "../core/netdevice";
import type { SkBuff } from "../core/skb";
import { IPV4_HLEN, ipDaddr, ipSaddr } from "../wire/ipv4";
import { TCP_ACK, TCP_HLEN, TCP_RST, TCP_SYN, tcpDport, tcpSport, type TcpOptions } from "../wire/tcp";
import { N_ACCEPT, CB_ACK, CB_FLAGS, CB_SEQ, CB_WND, TCP_CLOSED, TCP_ESTABLISHED, TCP_SYN_RECV, TF_TSTAMP, seqGt } from "./tcb";
import { COOKIE_MSS } from "./secure";
import { tcpSendControl, tcpSendResetFor, tcpSendSynAckStateless } from "./output";
import { tcpAcceptSynOptions, tcpInitSend } from "./handshake";
import { tcpRcvEstablished } from "./established";
import { tcpAlloc, tcpChildren, tcpSetState } from "./table";
// mcconfig type-checks each module alone: the modules that add net.ipv4, net.tcp
import type {} from "../ipv4/ipv4";
import type {} from "./init";

/**
 * May a SYN end this TIME_WAIT (RFC 6191 2)? When both incarnations use timestamps, if
 * its timestamp is newer than the last one seen, or equal with a sequence number past
 * rcvNxt; when only the new one does, yes (PAWS guards it); otherwise if its sequence
 * number is past rcvNxt (RFC 1122 4.2.2.13). No old duplicate can pass for new data.
 */
export function tcpTimeWaitReusable(net: Net, c: number, seq: number, opts: TcpOptions): boolean {
  const t = net.tcp.tcb;
  const oldTs = (t.flags[c] & TF_TSTAMP) !== 0;
  const newTs = opts.hasTimestamp && net.config.tcpTimestamps;
  if (oldTs && newTs) return seqGt(opts.tsVal, t.tsRecent[c]) || (opts.tsVal === t.tsRecent[c] && seqGt(seq, t.rcvNxt[c]));
  if (newTs && !oldTs) return true;
  return seqGt(seq, t.rcvNxt[c]);
}

/**
 * A segment (control block filled, options parsed) to listener l: only a SYN starts
 * anything (RFC 9293 3.10.7.2). `iss`: the ISS for the connection it opens, or -1 for one
 * from the ISN generator (a SYN that ended a TIME_WAIT brings its own, past the old one's).
 */
export function tcpListenRcv(net: Net, l: number, skb: SkBuff, opts: TcpOptions, iss: number): void {
  const tcp = net.tcp;
  const flags = skb.cb[CB_FLAGS];
  if ((flags & TCP_RST) !== 0) {
    kfreeSkbReason(net, skb, SKB_DROP.TCP_INVALID);
    return;
  }
  if ((flags & (TCP_ACK | TCP_SYN)) === TCP_ACK && net.config.tcpSynCookies && tcp.secrets.cookiesRecent(net.now())) {
    // Perhaps the end of a handshake whose SYN got a cookie instead of state (only looked
    // for while cookies were sent lately, as Linux: a stray ACK is not a failed cookie).
    const mss = cookieCheck(net, skb);
    if (mss > 0) return cookieOpen(net, l, skb, opts, mss);
    tcp.stats.syncookiesFailed++;
  }
  if ((flags & TCP_ACK) !== 0) {
    // An ACK to a listener acknowledges nothing it sent: reset (RFC 9293 3.10.7.2 "second").
    tcpSendResetFor(net, skb);
    kfreeSkbReason(net, skb, SKB_DROP.TCP_INVALID);
    return;
  }
  if ((flags & TCP_SYN) === 0) {
    // Neither SYN, ACK nor RST (a bare FIN, a NULL or Xmas probe, data): dropped without
    // an answer (RFC 9293 3.10.7.2 "fourth, other data or control"), as Linux and lwIP do.
    tcp.stats.listenNoSynDrops++;
    kfreeSkbReason(net, skb, SKB_DROP.TCP_INVALID);
    return;
  }
  return synRcv(net, l, skb, opts, iss);
}

/** The MSS a cookie ACK's acknowledgment number carries (secrets.checkCookie), 0 when it is no cookie of ours. */
function cookieCheck(net: Net, skb: SkBuff): number {
  const buf = net.pool.buf;
  const seq = skb.cb[CB_SEQ];
  const ack = skb.cb[CB_ACK];
  const saddr = ipSaddr(buf, skb.networkHeader);
  const daddr = ipDaddr(buf, skb.networkHeader);
  const sport = tcpSport(buf, skb.transportHeader);
  const dport = tcpDport(buf, skb.transportHeader);
  return net.tcp.secrets.checkCookie(net.now(), daddr, dport, saddr, sport, (seq - 1) >>> 0, (ack - 1) >>> 0);
}

/**
 * A SYN to listener l: a SYN_RECV child and its SYN-ACK, or, with the SYN queue full, a
 * SYN-ACK carrying a cookie and no state (RFC 4987 3.6).
 */
function synRcv(net: Net, l: number, skb: SkBuff, opts: TcpOptions, iss: number): void {
  const tcp = net.tcp;
  const t = tcp.tcb;
  if (!net.ipv4.routeOutput(ipSaddr(net.pool.buf, skb.networkHeader), ipDaddr(net.pool.buf, skb.networkHeader))) {
    kfreeSkbReason(net, skb, SKB_DROP.IP_OUTNOROUTES);
    return;
  }
  const mtu = (net.ipv4.rt.dev as NetDevice).mtu;
  if (tcpChildren(t, l, true) >= t.backlog[l]) {
    // Accept queue full: the application is not reading; the client will retry (ListenOverflows).
    tcp.stats.listenOverflows++;
    tcp.stats.listenDrops++;
    kfreeSkbReason(net, skb, SKB_DROP.TCP_LISTEN_OVERFLOW);
    return;
  }
  if (tcpChildren(t, l, false) >= t.backlog[l]) {
    // SYN queue full (a flood, or a busy server): answer with a cookie, keep nothing (RFC 4987 3.6).
    if (net.config.tcpSynCookies) return synCookieReply(net, skb, opts, mtu);
    tcp.stats.listenOverflows++;
    tcp.stats.listenDrops++;
    kfreeSkbReason(net, skb, SKB_DROP.TCP_LISTEN_OVERFLOW);
    return;
  }
  const c = synRcvChild(net, l, skb, opts, iss, mtu);
  if (c < 0) return;
  return synAckReply(net, c, skb);
}

/** The new child's SYN-ACK, its timer armed; the SYN is consumed. */
function synAckReply(net: Net, c: number, syn: SkBuff): void {
  const t = net.tcp.tcb;
  tcpSendControl(net, c, t.iss[c], TCP_SYN | TCP_ACK);
  net.modTimer(t.rtxTimer[c], net.now() + t.rto[c]);
  consumeSkb(net, syn);
}

/**
 * A SYN-ACK whose sequence number is a cookie (RFC 4987 3.6), offering the largest of
 * COOKIE_MSS's sizes within the SYN's MSS and the route's (the cookie carries its index).
 */
function synCookieReply(net: Net, syn: SkBuff, opts: TcpOptions, mtu: number): void {
  const peerMss = opts.mss > 0 ? opts.mss : 536;
  const limit = peerMss < mtu - IPV4_HLEN - TCP_HLEN ? peerMss : mtu - IPV4_HLEN - TCP_HLEN;
  let index = 0;
  while (index < 3 && COOKIE_MSS[index + 1] <= limit) index++;
  tcpSendSynAckStateless(net, syn, synCookie(net, syn, index), COOKIE_MSS[index]);
  consumeSkb(net, syn);
}

/** The cookie for SYN `syn` with MSS index `index` (secrets.cookie), counted as sent. */
function synCookie(net: Net, syn: SkBuff, index: number): number {
  const tcp = net.tcp;
  const buf = net.pool.buf;
  const saddr = ipSaddr(buf, syn.networkHeader);
  const daddr = ipDaddr(buf, syn.networkHeader);
  const cookie = tcp.secrets.cookie(net.now(), daddr, tcpDport(buf, syn.transportHeader), saddr, tcpSport(buf, syn.transportHeader), syn.cb[CB_SEQ], index);
  tcp.stats.syncookiesSent++;
  tcp.secrets.cookieSentAt = net.now();
  return cookie;
}

/** The SYN_RECV child of listener l for SYN `skb` (-1, the SYN dropped, when the table is full). */
function synRcvChild(net: Net, l: number, skb: SkBuff, opts: TcpOptions, iss: number, mtu: number): number {
  const tcp = net.tcp;
  const t = tcp.tcb;
  const c = tcpAlloc(net);
  if (c < 0) {
    tcp.stats.listenDrops++;
    kfreeSkbReason(net, skb, SKB_DROP.TCP_TABLE_FULL);
    return -1;
  }
  const buf = net.pool.buf;
  const saddr = ipSaddr(buf, skb.networkHeader);
  const daddr = ipDaddr(buf, skb.networkHeader);
  const sport = tcpSport(buf, skb.transportHeader);
  const dport = tcpDport(buf, skb.transportHeader);
  const seq = skb.cb[CB_SEQ];
  t.localAddr[c] = daddr;
  t.localPort[c] = dport;
  t.remoteAddr[c] = saddr;
  t.remotePort[c] = sport;
  t.parent[c] = l;
  tcpInitSend(net, c, iss >= 0 ? iss : tcp.secrets.isn(net.now(), daddr, dport, saddr, sport), mtu);
  tcpAcceptSynOptions(net, c, opts, skb.cb[CB_WND]);
  t.rcvNxt[c] = (seq + 1) >>> 0;
  t.rcvAdv[c] = t.rcvNxt[c];
  t.sndWl1[c] = seq;
  tcpSetState(net, c, TCP_SYN_RECV);
  tcp.stats.passiveOpens++;
  return c;
}

/**
 * The ACK that completes a cookie handshake: the connection is made now, then the segment
 * is processed (the child apart, so that this frame is small under that processing).
 */
function cookieOpen(net: Net, l: number, skb: SkBuff, opts: TcpOptions, mss: number): void {
  const c = cookieChild(net, l, skb, opts, mss);
  if (c < 0) return;
  tcpRcvEstablished(net, c, skb, opts);
  if (net.tcp.tcb.state[c] !== TCP_CLOSED) net.tcp.notify(l, N_ACCEPT);
}

/** The ESTABLISHED child a cookie ACK makes (-1, the segment dropped, when there is no room). */
function cookieChild(net: Net, l: number, skb: SkBuff, opts: TcpOptions, mss: number): number {
  const tcp = net.tcp;
  const t = tcp.tcb;
  const buf = net.pool.buf;
  const saddr = ipSaddr(buf, skb.networkHeader);
  const daddr = ipDaddr(buf, skb.networkHeader);
  if (tcpChildren(t, l, true) >= t.backlog[l] || !net.ipv4.routeOutput(saddr, daddr)) {
    // Accept queue full: the peer will send again.
    tcp.stats.listenOverflows++;
    kfreeSkbReason(net, skb, SKB_DROP.TCP_LISTEN_OVERFLOW);
    return -1;
  }
  const mtu = (net.ipv4.rt.dev as NetDevice).mtu;
  const c = tcpAlloc(net);
  if (c < 0) {
    tcp.stats.listenDrops++;
    kfreeSkbReason(net, skb, SKB_DROP.TCP_TABLE_FULL);
    return -1;
  }
  const cb = skb.cb;
  const seq = cb[CB_SEQ];
  const ack = cb[CB_ACK];
  tcp.stats.syncookiesRecv++;
  tcp.stats.passiveOpens++;
  t.localAddr[c] = daddr;
  t.localPort[c] = tcpDport(buf, skb.transportHeader);
  t.remoteAddr[c] = saddr;
  t.remotePort[c] = tcpSport(buf, skb.transportHeader);
  t.parent[c] = l;
  tcpInitSend(net, c, (ack - 1) >>> 0, mtu);
  // Only the MSS: the cookie could not remember the other options (this segment's go unused too).
  opts.reset();
  opts.mss = mss;
  tcpAcceptSynOptions(net, c, opts, cb[CB_WND]);
  t.sndUna[c] = ack;
  t.rcvNxt[c] = seq;
  // What the cookie SYN-ACK offered.
  t.rcvAdv[c] = (seq + (net.config.tcpRcvBufBytes < 65535 ? net.config.tcpRcvBufBytes : 65535)) >>> 0;
  t.sndWl1[c] = seq;
  tcpSetState(net, c, TCP_ESTABLISHED);
  return c;
}
