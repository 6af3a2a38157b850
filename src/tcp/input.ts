// TCP receive (net/ipv4/tcp_ipv4.c, tcp_input.c; RFC 9293 3.10.7 "SEGMENT ARRIVES"):
//   ipLocalDeliver -> tcpV4Rcv: checksum, header, options, demux
//     -> LISTEN: a SYN makes a SYN_RECV child and a SYN-ACK
//     -> SYN_SENT: the SYN-ACK opens the connection
//     -> synchronized states: sequence check, RST and SYN (RFC 5961), ACK (RTT, cwnd,
//        fast retransmit / NewReno), data (in order to the receive queue, else the
//        out-of-order queue), FIN
//   then the owner hears about it (sk_data_ready / sk_write_space / errors), last.

import { SKB_DROP } from "../core/drop";
import { consumeSkb, kfreeSkbReason } from "../core/free";
import type { Net } from "../core/net";
import { CHECKSUM_UNNECESSARY, PACKET_HOST, skbChecksum, skbCopyBits, type SkBuff } from "../core/skb";
import { copyBytes } from "../core/bytes";
import { csumPseudoHeader, csumReduce } from "../wire/checksum";
import { IPPROTO_TCP, ipDaddr, ipIsMulticast, ipSaddr } from "../wire/ipv4";
import {
  TCP_ACK, TCP_FIN, TCP_HLEN, TCP_RST, TCP_SYN, tcpAckSeq, tcpDoffBytes, tcpDport, tcpFlags, tcpParseOptions, tcpSeq,
  tcpSport, tcpWindow,
} from "../wire/tcp";
import type { NetDevice } from "../core/netdevice";
import {
  CB_END, CB_FLAGS, CB_SENT, CB_SEQ, CB_XMIT, TCP_CLOSED, TCP_CLOSING, TCP_ESTABLISHED, TCP_FIN_WAIT1, TCP_FIN_WAIT2, TCP_CLOSE_WAIT,
  TCP_LAST_ACK, TCP_SYN_RECV, TCP_SYN_SENT, TCP_TIME_WAIT, TF_ACCEPTED, TF_ACK_NOW, TF_FIN_QUEUED, TF_ORPHAN, TF_PEER_FIN,
  TF_PERSIST, TF_PINGPONG, TF_RECOVERY, TF_REORDER, TF_SACK, TF_TLP, TF_TLP_OUT, TF_TSTAMP, TF_WSCALE, SEG_LAST_IN, SEG_RETRANS, SEG_SACKED,
  seqGeq, seqGt, seqLeq, seqLt, tcpClockUs,
} from "./tcb";
import { DUP_THRESH, enterRecovery, rackUpdate, sackRecovery, sackUpdate } from "./recovery";
import {
  tcpRetransmitHead, tcpSendAck, tcpSendControl, tcpSendResetFor, tcpSendSynAckStateless, tcpWriteXmit,
} from "./output";
import { COOKIE_MSS, ECONNREFUSED, ECONNRESET, EHOSTUNREACH, EPEERCLOSED } from "./tcp";
import { ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, ICMP_PORT_UNREACH, ICMP_PROT_UNREACH } from "../wire/icmp";

// What to tell the owner after the segment (bits).
const N_READABLE = 1;
const N_WRITABLE = 2;
const N_CONNECTED = 4;
const N_PEER_CLOSED = 8;

/** RFC 7323 5.5: a TS.Recent older than 24 days no longer gates PAWS */
const PAWS_IDLE_S = 24 * 24 * 3600;
/** PAWS forgives a timestamp one tick old (Linux TCP_PAWS_WINDOW): a resend may have moved TS.Recent */
const PAWS_WINDOW = 1;

/** tcp_v4_rcv: skb.data at the TCP header. Always consumes the skb. */
export function tcpV4Rcv(net: Net, skb: SkBuff): void {
  const tcp = net.tcp;
  const stats = tcp.stats;
  const buf = net.pool.buf;
  let th = skb.data;
  const total = skb.chainLen();
  stats.inSegs++; // errored segments too (RFC 4022 tcpInSegs)
  if (skb.len < TCP_HLEN) {
    stats.inErrs++;
    kfreeSkbReason(net, skb, SKB_DROP.TCP_INVALID);
    return;
  }
  const doff = tcpDoffBytes(buf, th);
  if (doff < TCP_HLEN || doff > skb.len) {
    stats.inErrs++;
    kfreeSkbReason(net, skb, SKB_DROP.TCP_INVALID);
    return;
  }
  const iph = skb.networkHeader;
  const saddr = ipSaddr(buf, iph);
  const daddr = ipDaddr(buf, iph);
  if (skb.ipSummed !== CHECKSUM_UNNECESSARY && csumReduce(skbChecksum(net.pool, skb, csumPseudoHeader(saddr, daddr, IPPROTO_TCP, total))) !== 0xffff) {
    stats.inCsumErrors++;
    stats.inErrs++;
    kfreeSkbReason(net, skb, SKB_DROP.TCP_CSUM);
    return;
  }
  // A segment that came in IP fragments: one skb for the TCP layer, if it fits in one.
  if (skb.fragNext !== null) {
    const whole = linearize(net, skb, total);
    if (whole === null) {
      stats.inErrs++;
      kfreeSkbReason(net, skb, SKB_DROP.TCP_INVALID);
      return;
    }
    skb = whole;
    th = skb.data;
  }
  // Never to or from a broadcast or multicast address (RFC 1122 4.2.3.10).
  if (skb.pktType !== PACKET_HOST || ipIsMulticast(daddr) || daddr === 0xffffffff || ipIsMulticast(saddr) ||
      (net.ipv4.localDev(daddr) === null && (daddr >>> 24) !== 127)) {
    kfreeSkbReason(net, skb, SKB_DROP.TCP_INVALID);
    return;
  }
  const opts = tcp.tcb.opts;
  opts.reset();
  if (doff > TCP_HLEN) tcpParseOptions(buf, th + TCP_HLEN, doff - TCP_HLEN, opts);
  const sport = tcpSport(buf, th);
  const dport = tcpDport(buf, th);
  const seq = tcpSeq(buf, th);
  const ack = tcpAckSeq(buf, th);
  const flags = tcpFlags(buf, th);
  const wnd = tcpWindow(buf, th);
  skb.pull(doff);
  const len = total - doff;
  let c = tcp.lookup(daddr, dport, saddr, sport);
  if (c >= 0 && (flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN && tcp.tcb.state[c] === TCP_TIME_WAIT && timeWaitReusable(net, c, seq)) {
    // A new incarnation of a connection in TIME_WAIT (RFC 9293 3.6.1, RFC 6191).
    tcp.stats.timeWaitReused++;
    // The new ISN lies past everything the old connection sent (RFC 9293 3.6.1; Linux
    // takes snd_nxt + 65535 + 2).
    tcp.reuseIss = (tcp.tcb.sndNxt[c] + 65537) >>> 0;
    tcp.reuseIssValid = true;
    tcp.free(c, SKB_DROP.SOCKET_CLOSE);
    c = -1;
  }
  if (c < 0) {
    const l = tcp.lookupListener(daddr, dport);
    if (l >= 0) {
      listenRcv(net, l, skb, saddr, daddr, sport, dport, seq, ack, flags, wnd, len);
      tcp.reuseIssValid = false;
      return;
    }
    tcp.reuseIssValid = false;
    // No connection (RFC 9293 3.10.7.1): a reset, unless this is one.
    if ((flags & TCP_RST) === 0) tcpSendResetFor(net, saddr, daddr, sport, dport, seq, ack, flags, len);
    kfreeSkbReason(net, skb, SKB_DROP.TCP_NOSOCKET);
    return;
  }
  const t = tcp.tcb;
  tcp.heardFrom(c);
  if (t.state[c] === TCP_SYN_SENT) {
    synSentRcv(net, c, skb, seq, ack, flags, wnd);
    return;
  }
  established(net, c, skb, seq, ack, flags, wnd, len);
}

/**
 * May a SYN end this TIME_WAIT (RFC 6191 2)? When both incarnations use timestamps, if
 * its timestamp is newer than the last one seen, or equal with a sequence number past
 * rcvNxt; when only the new one does, yes (PAWS guards it); otherwise if its sequence
 * number is past rcvNxt (RFC 1122 4.2.2.13). No old duplicate can pass for new data.
 */
function timeWaitReusable(net: Net, c: number, seq: number): boolean {
  const t = net.tcp.tcb;
  const opts = t.opts;
  const oldTs = (t.flags[c] & TF_TSTAMP) !== 0;
  const newTs = opts.hasTimestamp && net.config.tcpTimestamps;
  if (oldTs && newTs) return seqGt(opts.tsVal, t.tsRecent[c]) || (opts.tsVal === t.tsRecent[c] && seqGt(seq, t.rcvNxt[c]));
  if (newTs && !oldTs) return true;
  return seqGt(seq, t.rcvNxt[c]);
}

/** Copy a chain into one skb (header offsets kept), freeing the chain; null when it does not fit. */
function linearize(net: Net, skb: SkBuff, total: number): SkBuff | null {
  const pool = net.pool;
  const one = pool.alloc();
  if (one === null) return null;
  if (one.tailroom() < total) {
    pool.free(one);
    return null;
  }
  const at = one.put(total);
  skbCopyBits(pool, skb, 0, pool.buf, at, total);
  // Keep the IP header in front (ICMP errors and raw readers look at it).
  const ihl = skb.data - skb.networkHeader;
  if (ihl > 0 && one.headroom() >= ihl + 40) {
    copyBytes(pool.buf, one.push(ihl), pool.buf, skb.networkHeader, ihl);
    one.networkHeader = one.data;
    one.pull(ihl);
  }
  one.transportHeader = one.data;
  one.dev = skb.dev;
  one.pktType = skb.pktType;
  consumeSkb(net, skb);
  return one;
}

/** A segment to a listener: only a SYN starts anything (RFC 9293 3.10.7.2). */
function listenRcv(net: Net, l: number, skb: SkBuff, saddr: number, daddr: number, sport: number, dport: number, seq: number, ack: number, flags: number, wnd: number, len: number): void {
  const tcp = net.tcp;
  const t = tcp.tcb;
  if ((flags & TCP_RST) !== 0) {
    kfreeSkbReason(net, skb, SKB_DROP.TCP_INVALID);
    return;
  }
  if ((flags & (TCP_ACK | TCP_SYN)) === TCP_ACK && net.config.tcpSynCookies && tcp.cookiesRecent()) {
    // Perhaps the end of a handshake whose SYN got a cookie instead of state (only looked
    // for while cookies were sent lately, as Linux: a stray ACK is not a failed cookie).
    const iss = (ack - 1) >>> 0;
    const irs = (seq - 1) >>> 0;
    const mss = tcp.checkCookie(daddr, dport, saddr, sport, irs, iss);
    if (mss > 0) {
      cookieOpen(net, l, skb, saddr, daddr, sport, dport, seq, ack, flags, wnd, len, mss);
      return;
    }
    tcp.stats.syncookiesFailed++;
  }
  if ((flags & TCP_ACK) !== 0 || (flags & TCP_SYN) === 0) {
    tcpSendResetFor(net, saddr, daddr, sport, dport, seq, ack, flags, len);
    kfreeSkbReason(net, skb, SKB_DROP.TCP_INVALID);
    return;
  }
  if (!net.ipv4.routeOutput(saddr, daddr)) {
    kfreeSkbReason(net, skb, SKB_DROP.IP_OUTNOROUTES);
    return;
  }
  const mtu = (net.ipv4.rt.dev as NetDevice).mtu;
  if (tcp.children(l, true) >= t.backlog[l]) {
    // Accept queue full: the application is not reading; the client will retry (ListenOverflows).
    tcp.stats.listenOverflows++;
    tcp.stats.listenDrops++;
    kfreeSkbReason(net, skb, SKB_DROP.TCP_LISTEN_OVERFLOW);
    return;
  }
  if (tcp.children(l, false) >= t.backlog[l]) {
    // SYN queue full (a flood, or a busy server): answer with a cookie, keep nothing (RFC 4987 3.6).
    if (net.config.tcpSynCookies) {
      const peerMss = t.opts.mss > 0 ? t.opts.mss : 536;
      const limit = peerMss < mtu - 40 ? peerMss : mtu - 40;
      let index = 0;
      while (index < 3 && COOKIE_MSS[index + 1] <= limit) index++;
      const cookie = tcp.cookie(daddr, dport, saddr, sport, seq, index);
      tcp.stats.syncookiesSent++;
      tcp.cookieSentAt = net.now();
      tcpSendSynAckStateless(net, daddr, saddr, dport, sport, cookie, (seq + 1) >>> 0, COOKIE_MSS[index]);
      consumeSkb(net, skb);
      return;
    }
    tcp.stats.listenOverflows++;
    tcp.stats.listenDrops++;
    kfreeSkbReason(net, skb, SKB_DROP.TCP_LISTEN_OVERFLOW);
    return;
  }
  const c = tcp.alloc();
  if (c < 0) {
    tcp.stats.listenDrops++;
    kfreeSkbReason(net, skb, SKB_DROP.TCP_TABLE_FULL);
    return;
  }
  t.localAddr[c] = daddr;
  t.localPort[c] = dport;
  t.remoteAddr[c] = saddr;
  t.remotePort[c] = sport;
  t.parent[c] = l;
  tcp.initSend(c, tcp.reuseIssValid ? tcp.reuseIss : tcp.isn(daddr, dport, saddr, sport), mtu);
  acceptSynOptions(net, c, wnd);
  t.rcvNxt[c] = (seq + 1) >>> 0;
  t.rcvAdv[c] = t.rcvNxt[c];
  t.sndWl1[c] = seq;
  tcp.setState(c, TCP_SYN_RECV);
  tcp.stats.passiveOpens++;
  tcpSendControl(net, c, t.iss[c], TCP_SYN | TCP_ACK);
  net.modTimer(t.rtxTimer[c], net.now() + t.rto[c]);
  consumeSkb(net, skb);
}

/** The ACK that completes a cookie handshake: the connection is made now, then the segment is processed. */
function cookieOpen(net: Net, l: number, skb: SkBuff, saddr: number, daddr: number, sport: number, dport: number, seq: number, ack: number, flags: number, wnd: number, len: number, mss: number): void {
  const tcp = net.tcp;
  const t = tcp.tcb;
  if (tcp.children(l, true) >= t.backlog[l] || !net.ipv4.routeOutput(saddr, daddr)) {
    // Accept queue full: the peer will send again.
    tcp.stats.listenOverflows++;
    kfreeSkbReason(net, skb, SKB_DROP.TCP_LISTEN_OVERFLOW);
    return;
  }
  const mtu = (net.ipv4.rt.dev as NetDevice).mtu;
  const c = tcp.alloc();
  if (c < 0) {
    tcp.stats.listenDrops++;
    kfreeSkbReason(net, skb, SKB_DROP.TCP_TABLE_FULL);
    return;
  }
  tcp.stats.syncookiesRecv++;
  tcp.stats.passiveOpens++;
  t.localAddr[c] = daddr;
  t.localPort[c] = dport;
  t.remoteAddr[c] = saddr;
  t.remotePort[c] = sport;
  t.parent[c] = l;
  tcp.initSend(c, (ack - 1) >>> 0, mtu);
  t.opts.reset();
  t.opts.mss = mss;
  acceptSynOptions(net, c, wnd); // no window scale: the cookie could not remember it
  t.sndUna[c] = ack;
  t.rcvNxt[c] = seq;
  // What the cookie SYN-ACK offered.
  t.rcvAdv[c] = (seq + (net.config.tcpRcvBufBytes < 65535 ? net.config.tcpRcvBufBytes : 65535)) >>> 0;
  t.sndWl1[c] = seq;
  tcp.setState(c, TCP_ESTABLISHED);
  established(net, c, skb, seq, ack, flags, wnd, len);
  const lo = t.listenerOwner[l];
  if (lo !== null && t.state[c] !== TCP_CLOSED) lo.onConnections(tcp.children(l, true));
}

/**
 * The options of a SYN or SYN-ACK: MSS, window scale, SACK-permitted and timestamps, each
 * used only when both sides sent it (RFC 7323 2.2, 3.2; RFC 2018 2).
 */
function acceptSynOptions(net: Net, c: number, wnd: number): void {
  const tcp = net.tcp;
  const t = tcp.tcb;
  const opts = t.opts;
  if (opts.sackPermitted && net.config.tcpSack) t.flags[c] |= TF_SACK;
  if (opts.wscale >= 0) {
    t.flags[c] |= TF_WSCALE;
    t.sndWscale[c] = opts.wscale;
  }
  if (opts.hasTimestamp && net.config.tcpTimestamps) {
    t.flags[c] |= TF_TSTAMP;
    t.tsRecent[c] = opts.tsVal;
    t.tsRecentAt[c] = (net.now() / 1000) >>> 0;
  }
  tcp.settleMss(c, opts.mss);
  t.sndWnd[c] = wnd; // a SYN's window is never scaled
  t.maxSndWnd[c] = wnd;
}

/** SYN_SENT (RFC 9293 3.10.7.3). */
function synSentRcv(net: Net, c: number, skb: SkBuff, seq: number, ack: number, flags: number, wnd: number): void {
  const tcp = net.tcp;
  const t = tcp.tcb;
  if ((flags & TCP_ACK) !== 0 && (seqLeq(ack, t.iss[c]) || seqGt(ack, t.sndMax[c]))) {
    if ((flags & TCP_RST) === 0) tcpSendResetFor(net, t.remoteAddr[c], t.localAddr[c], t.remotePort[c], t.localPort[c], seq, ack, flags, 0);
    kfreeSkbReason(net, skb, SKB_DROP.TCP_INVALID);
    return;
  }
  if ((flags & TCP_RST) !== 0) {
    if ((flags & TCP_ACK) !== 0) {
      // Connection refused.
      tcp.stats.attemptFails++;
      consumeSkb(net, skb);
      tcp.abort(c, ECONNREFUSED);
      return;
    }
    kfreeSkbReason(net, skb, SKB_DROP.TCP_INVALID);
    return;
  }
  if ((flags & TCP_SYN) === 0) {
    kfreeSkbReason(net, skb, SKB_DROP.TCP_INVALID);
    return;
  }
  t.rcvNxt[c] = (seq + 1) >>> 0;
  t.rcvAdv[c] = t.rcvNxt[c];
  acceptSynOptions(net, c, wnd);
  t.sndWl1[c] = seq;
  if ((flags & TCP_ACK) !== 0) {
    t.sndUna[c] = ack;
    net.delTimer(t.rtxTimer[c]);
    // The SYN-ACK's echo times the handshake (a SYN sent again gives no sample, Karn).
    if ((t.flags[c] & TF_TSTAMP) !== 0 && t.opts.tsEcr !== 0) rttSample(net, c, ((tcp.tsVal(c) - t.opts.tsEcr) | 0) * 1000);
    t.backoff[c] = 0;
    tcp.setState(c, TCP_ESTABLISHED);
    tcpSendAck(net, c);
    consumeSkb(net, skb);
    const owner = t.owner[c];
    if (owner !== null) owner.onWritable(tcp.writable(c));
    return;
  }
  // Simultaneous open (RFC 9293 3.5, figure 8): SYN_RECV, and a SYN-ACK.
  tcp.setState(c, TCP_SYN_RECV);
  tcpSendControl(net, c, t.iss[c], TCP_SYN | TCP_ACK);
  consumeSkb(net, skb);
}

/** A challenge ACK (RFC 5961 3.2, 4.2), rate-limited. */
function challengeAck(net: Net, c: number): void {
  const tcp = net.tcp;
  if (!tcp.allowChallengeAck()) return;
  tcp.stats.challengeAcks++;
  tcpSendAck(net, c);
}

/** Synchronized states (RFC 9293 3.10.7.4). */
function established(net: Net, c: number, skb: SkBuff, seq: number, ack: number, flags: number, wnd: number, len: number): void {
  const tcp = net.tcp;
  const t = tcp.tcb;
  const state = t.state[c];
  const rcvNxt = t.rcvNxt[c];
  let rcvWnd = (t.rcvAdv[c] - rcvNxt) | 0;
  if (rcvWnd < 0) rcvWnd = 0;
  const segLen = len + ((flags & TCP_SYN) !== 0 ? 1 : 0) + ((flags & TCP_FIN) !== 0 ? 1 : 0);
  // PAWS (RFC 7323 5.3 R1): a timestamp older than TS.Recent marks an old duplicate from
  // a wrapped sequence space; acknowledge and drop it. Resets are exempt, and a TS.Recent
  // idle for 24 days is stale (5.5).
  const opts = t.opts;
  const ts = (t.flags[c] & TF_TSTAMP) !== 0 && opts.hasTimestamp;
  const nowSec = (net.now() / 1000) >>> 0;
  if (ts && (flags & TCP_RST) === 0 && ((t.tsRecent[c] - opts.tsVal) | 0) > PAWS_WINDOW) {
    if (((nowSec - t.tsRecentAt[c]) >>> 0) <= PAWS_IDLE_S) {
      tcp.stats.pawsEstabRejected++;
      tcpSendAck(net, c);
      kfreeSkbReason(net, skb, SKB_DROP.TCP_RFC7323_PAWS);
      return;
    }
    t.tsRecent[c] = opts.tsVal;
    t.tsRecentAt[c] = nowSec;
  }
  // First: is the sequence number acceptable (the four cases of RFC 9293 3.10.7.4)?
  let ok: boolean;
  if (segLen === 0) ok = rcvWnd === 0 ? seq === rcvNxt : seqGeq(seq, rcvNxt) && seqLt(seq, (rcvNxt + rcvWnd) >>> 0);
  else ok = rcvWnd > 0 && (
    (seqGeq(seq, rcvNxt) && seqLt(seq, (rcvNxt + rcvWnd) >>> 0)) ||
    (seqGt((seq + segLen - 1) >>> 0, rcvNxt) || (seq + segLen - 1) >>> 0 === rcvNxt) && seqLt((seq + segLen - 1) >>> 0, (rcvNxt + rcvWnd) >>> 0)
  );
  // A zero window still takes ACKs, RSTs and a segment at exactly rcvNxt (for its ACK).
  if (!ok && rcvWnd === 0 && seq === rcvNxt) ok = true;
  if (!ok) {
    if ((flags & TCP_RST) === 0) {
      if (state === TCP_TIME_WAIT && (flags & TCP_FIN) !== 0) net.modTimer(t.waitTimer[c], net.now() + net.config.tcpTimeWaitMs);
      tcpSendAck(net, c);
    }
    kfreeSkbReason(net, skb, SKB_DROP.TCP_OUT_OF_WINDOW);
    return;
  }
  // RFC 7323 4.3: remember the newest timestamp of a segment at or below the last ACK we
  // sent (rcvNxt when no ACK is owed), so the echo times the whole round trip.
  if (ts && seqGeq(opts.tsVal, t.tsRecent[c]) && (seqLt(seq, rcvNxt) || (seq === rcvNxt && t.rcvSegs[c] === 0))) {
    t.tsRecent[c] = opts.tsVal;
    t.tsRecentAt[c] = nowSec;
  }
  // Second: RST (RFC 5961 3.2): exactly rcvNxt resets, elsewhere in the window challenges.
  if ((flags & TCP_RST) !== 0) {
    if (seq !== rcvNxt) {
      challengeAck(net, c);
      kfreeSkbReason(net, skb, SKB_DROP.TCP_RESET_CHALLENGED);
      return;
    }
    consumeSkb(net, skb);
    if (state === TCP_SYN_RECV && (t.flags[c] & TF_ACCEPTED) === 0 && t.parent[c] >= 0) {
      tcp.stats.attemptFails++; // SYN-RCVD -> LISTEN (RFC 4022 tcpAttemptFails)
      tcp.free(c, SKB_DROP.SOCKET_CLOSE); // back to listening (RFC 9293 3.10.7.4)
      return;
    }
    if (state === TCP_ESTABLISHED || state === TCP_CLOSE_WAIT || state === TCP_FIN_WAIT1 || state === TCP_FIN_WAIT2) tcp.stats.estabResets++;
    const owner = t.owner[c];
    t.owner[c] = null;
    tcp.free(c, SKB_DROP.SOCKET_CLOSE);
    if (owner !== null) owner.onError(ECONNRESET);
    return;
  }
  // Fourth: a SYN in a synchronized state (RFC 5961 4.2): challenge ACK.
  if ((flags & TCP_SYN) !== 0) {
    challengeAck(net, c);
    kfreeSkbReason(net, skb, SKB_DROP.TCP_INVALID);
    return;
  }
  // Fifth: the ACK.
  if ((flags & TCP_ACK) === 0) {
    kfreeSkbReason(net, skb, SKB_DROP.TCP_INVALID);
    return;
  }
  let notify = 0;
  if (state === TCP_SYN_RECV) {
    if (!(seqGt(ack, t.sndUna[c]) && seqLeq(ack, t.sndMax[c]))) {
      tcpSendResetFor(net, t.remoteAddr[c], t.localAddr[c], t.remotePort[c], t.localPort[c], seq, ack, flags, len);
      kfreeSkbReason(net, skb, SKB_DROP.TCP_INVALID);
      return;
    }
    const l = t.parent[c];
    if (l >= 0 && tcp.children(l, true) >= t.backlog[l]) {
      // Accept queue full (Linux listen_overflow): stay half-open; the peer's next segment, or
      // our SYN-ACK timer, tries again once the application has read a connection.
      tcp.stats.listenOverflows++;
      kfreeSkbReason(net, skb, SKB_DROP.TCP_LISTEN_OVERFLOW);
      return;
    }
    tcp.setState(c, TCP_ESTABLISHED);
    t.sndWnd[c] = wnd << t.sndWscale[c];
    if (t.sndWnd[c] > t.maxSndWnd[c]) t.maxSndWnd[c] = t.sndWnd[c];
    t.sndWl1[c] = seq;
    notify |= N_CONNECTED;
  }
  if (seqGt(ack, t.sndMax[c])) {
    // It acknowledges what we never sent (RFC 5961 5.2): challenge, drop.
    challengeAck(net, c);
    kfreeSkbReason(net, skb, SKB_DROP.TCP_ACK_UNSENT);
    return;
  }
  if (seqGeq(ack, t.sndUna[c])) notify |= processAck(net, c, seq, ack, wnd, len, flags);
  const s = t.state[c];
  if (s === TCP_CLOSED) {
    // LAST_ACK done: freed inside processAck.
    consumeSkb(net, skb);
    return;
  }
  // Seventh: data. After the application closed, new data cannot be delivered: reset
  // (RFC 1122 4.2.2.13), so the peer knows it was lost.
  if (len > 0 && (t.flags[c] & TF_ORPHAN) !== 0 && seqGeq((seq + len) >>> 0, t.rcvNxt[c]) && (seq + len) >>> 0 !== t.rcvNxt[c]) {
    consumeSkb(net, skb);
    tcp.stats.abortOnData++;
    tcp.abort(c, ECONNRESET);
    return;
  }
  if (len > 0 || (flags & TCP_FIN) !== 0) {
    if (s === TCP_ESTABLISHED || s === TCP_FIN_WAIT1 || s === TCP_FIN_WAIT2 || (s === TCP_SYN_RECV)) {
      notify |= dataRcv(net, c, skb, seq, len, flags);
    } else {
      // CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT: the peer already sent its FIN; acknowledge again.
      if (s === TCP_TIME_WAIT) net.modTimer(t.waitTimer[c], net.now() + net.config.tcpTimeWaitMs);
      t.flags[c] |= TF_ACK_NOW;
      consumeSkb(net, skb);
    }
  } else {
    consumeSkb(net, skb);
  }
  tcpWriteXmit(net, c);
  if ((t.flags[c] & TF_ACK_NOW) !== 0) {
    t.flags[c] &= ~TF_ACK_NOW;
    tcpSendAck(net, c);
  }
  tell(net, c, notify);
}

/** The ACK field (RFC 9293 3.10.7.4 fifth; RFC 6298, 5681, 6582, 6675, 8985). Returns owner notifications. */
function processAck(net: Net, c: number, seq: number, ack: number, wnd: number, len: number, flags: number): number {
  const tcp = net.tcp;
  const t = tcp.tcb;
  let notify = 0;
  const acked = (ack - t.sndUna[c]) >>> 0;
  // Window update (RFC 9293 3.10.7.4: SND.WL1 orders the updates; the ACK is at least SND.UNA here).
  const scaled = wnd << t.sndWscale[c];
  const windowChanged = scaled !== t.sndWnd[c];
  if (seqGeq(seq, t.sndWl1[c])) {
    t.sndWnd[c] = scaled;
    if (scaled > t.maxSndWnd[c]) t.maxSndWnd[c] = scaled;
    t.sndWl1[c] = seq;
    if (scaled > 0 && (t.flags[c] & TF_PERSIST) !== 0) {
      t.flags[c] &= ~TF_PERSIST;
      net.delTimer(t.rtxTimer[c]);
      t.backoff[c] = 0;
    }
  }
  const sack = (t.flags[c] & TF_SACK) !== 0;
  const nowUs = tcpClockUs(net.now());
  if (sack && t.opts.sackCount > 0) sackUpdate(net, c, nowUs);
  const mss = t.mss[c];
  if (acked === 0) {
    // A duplicate ACK (RFC 5681 2): nothing new, no data, same window, data outstanding.
    if (len === 0 && (flags & TCP_FIN) === 0 && !windowChanged && t.sndMax[c] !== t.sndUna[c]) {
      t.dupAcks[c]++;
      if (sack) {
        recover(net, c, nowUs);
      } else if ((t.flags[c] & TF_RECOVERY) !== 0) {
        t.cwnd[c] += mss; // inflate for each segment that left the network
      } else if (t.dupAcks[c] === DUP_THRESH) {
        // Fast retransmit (RFC 5681 3.2, RFC 6582 3.2 step 2).
        enterRecovery(net, c);
        tcpRetransmitHead(net, c);
        t.cwnd[c] = t.ssthresh[c] + DUP_THRESH * mss;
      }
    } else if (sack && t.opts.sackCount > 0) {
      recover(net, c, nowUs);
    }
    return 0;
  }
  // New data acknowledged. Duplicate ACKs start counting again: in recovery a partial
  // ACK is no third duplicate (RFC 6675 marks losses from the scoreboard).
  t.dupAcks[c] = 0;
  // The path works (neigh_confirm, as Linux's dst_confirm).
  if (net.ipv4.routeOutput(t.remoteAddr[c], t.localAddr[c])) net.neigh.confirm(net.ipv4.rt.nexthop, net.ipv4.rt.dev as NetDevice);
  t.backoff[c] = 0;
  t.flags[c] &= ~TF_TLP_OUT;
  t.sndUna[c] = ack;
  if (seqLt(t.sndNxt[c], ack)) t.sndNxt[c] = ack;
  // Free what is acknowledged; trim a segment acknowledged in part. The oldest segment
  // sent once times the round trip (RFC 6298 3, Karn: never a resent one).
  const q = t.writeQueue[c];
  let freed = 0;
  let finAcked = false;
  let rtt = -1;
  while (q.head !== null && seqLeq(q.head.cb[CB_END], ack)) {
    const skb = q.dequeue() as SkBuff;
    if ((skb.cb[CB_FLAGS] & TCP_FIN) !== 0) finAcked = true;
    else freed += skb.len;
    if (t.sendHead[c] === skb) t.sendHead[c] = skb.next;
    if (skb.cb[CB_SENT] === 1 && rtt < 0) rtt = (nowUs - skb.cb[CB_XMIT]) | 0;
    if (skb.cb[CB_SENT] > 0 && (skb.cb[CB_FLAGS] & SEG_SACKED) === 0) rackUpdate(net, c, skb, nowUs);
    consumeSkb(net, skb);
  }
  const head = q.head;
  if (head !== null && seqLt(head.cb[CB_SEQ], ack)) {
    const cut = (ack - head.cb[CB_SEQ]) >>> 0;
    if (head.cb[CB_SENT] === 1 && rtt < 0) rtt = (nowUs - head.cb[CB_XMIT]) | 0;
    if (!net.pool.isCloned(head)) {
      head.pull(cut);
      head.cb[CB_SEQ] = ack;
      freed += cut;
    }
  }
  // Only resent segments acknowledged: the timestamp echo still times it (RFC 7323 4).
  if (rtt < 0 && (t.flags[c] & TF_TSTAMP) !== 0 && t.opts.hasTimestamp && t.opts.tsEcr !== 0) rtt = ((tcp.tsVal(c) - t.opts.tsEcr) | 0) * 1000;
  if (rtt >= 0) rttSample(net, c, rtt);
  if (t.sendHead[c] === null && head !== null && seqGeq(head.cb[CB_SEQ], t.sndNxt[c])) t.sendHead[c] = head;
  t.sndQueued[c] -= freed;
  // Congestion window (RFC 5681 3.1; RFC 6582 3.2 steps 3-5).
  if ((t.flags[c] & TF_RECOVERY) !== 0) {
    if (seqGeq(ack, t.recover[c])) {
      // RFC 6582 3.2 step 3 option (2): cwnd = ssthresh, not the flight, which may be
      // near nothing after a recovery that resent many segments.
      t.cwnd[c] = t.ssthresh[c];
      t.flags[c] &= ~TF_RECOVERY;
      t.dupAcks[c] = 0;
      for (let s = q.head; s !== null; s = s.next) s.cb[CB_FLAGS] &= ~SEG_RETRANS;
      if (sack) recover(net, c, nowUs); // losses past the recovery point start the next one
    } else if (sack) {
      recover(net, c, nowUs);
    } else {
      // Partial ACK: the next hole, retransmitted now; deflate by what was acked.
      tcpRetransmitHead(net, c);
      t.cwnd[c] = (t.cwnd[c] > acked ? t.cwnd[c] - acked : 0) + mss;
    }
  } else {
    t.dupAcks[c] = 0;
    // Slow start by bytes acknowledged (RFC 3465, L = 1 SMSS), then about one SMSS per
    // round trip (RFC 5681 3.1 equation 3, by bytes); no more than the send buffer can fill.
    let inc = t.cwnd[c] < t.ssthresh[c] ? (acked < mss ? acked : mss) : Math.floor((acked * mss) / t.cwnd[c]);
    if (inc < 1) inc = 1;
    const cap = net.config.tcpSndBufBytes > 4 * mss ? net.config.tcpSndBufBytes : 4 * mss;
    t.cwnd[c] = t.cwnd[c] + inc < cap ? t.cwnd[c] + inc : cap;
    if (sack && t.opts.sackCount > 0) recover(net, c, nowUs);
  }
  // RFC 6298 5.2/5.3: stop the timer when all is acknowledged, else restart it.
  if (t.sndUna[c] === t.sndMax[c]) {
    if ((t.flags[c] & TF_PERSIST) === 0) {
      t.flags[c] &= ~(TF_TLP | TF_REORDER);
      net.delTimer(t.rtxTimer[c]);
    }
  } else {
    tcp.armRtx(c);
  }
  if (freed > 0) notify |= N_WRITABLE;
  if (finAcked) {
    const s = t.state[c];
    if (s === TCP_FIN_WAIT1) tcp.setState(c, TCP_FIN_WAIT2);
    else if (s === TCP_CLOSING) enterTimeWait(net, c);
    else if (s === TCP_LAST_ACK) tcp.free(c, SKB_DROP.SOCKET_CLOSE);
  }
  return notify;
}

/** SACK recovery on this ACK; RACK's reorder timer when a segment may yet prove lost. */
function recover(net: Net, c: number, nowUs: number): void {
  if (sackRecovery(net, c, nowUs, false)) net.tcp.armReorder(c);
}

/** RFC 6298 2.2-2.4 in microseconds, with the minimum of config.tcpRtoMinMs (Linux's 200 ms, not 1 s). */
function rttSample(net: Net, c: number, r: number): void {
  const t = net.tcp.tcb;
  const cfg = net.config;
  if (r < 1) r = 1;
  if (t.srtt[c] === 0) {
    t.srtt[c] = r;
    t.rttvar[c] = r >>> 1;
  } else {
    const srtt = t.srtt[c];
    const diff = srtt > r ? srtt - r : r - srtt;
    t.rttvar[c] = t.rttvar[c] - (t.rttvar[c] >>> 2) + (diff >>> 2);
    t.srtt[c] = srtt - (srtt >>> 3) + (r >>> 3) || 1;
  }
  const g = cfg.timerTickMs * 1000;
  const v = 4 * t.rttvar[c];
  let rto = Math.ceil((t.srtt[c] + (v > g ? v : g)) / 1000);
  if (rto < cfg.tcpRtoMinMs) rto = cfg.tcpRtoMinMs;
  if (rto > cfg.tcpRtoMaxMs) rto = cfg.tcpRtoMaxMs;
  t.rto[c] = rto;
}

/** Data and FIN (RFC 9293 3.10.7.4 seventh and eighth). Consumes the skb. */
function dataRcv(net: Net, c: number, skb: SkBuff, seq: number, len: number, flags: number): number {
  const tcp = net.tcp;
  const t = tcp.tcb;
  let notify = 0;
  const rcvNxt = t.rcvNxt[c];
  // Trim what we already have from the front, and what is past the window from the back.
  if (seqLt(seq, rcvNxt)) {
    const dup = (rcvNxt - seq) >>> 0;
    if (dup >= len) {
      if ((flags & TCP_FIN) === 0 || dup > len) {
        t.flags[c] |= TF_ACK_NOW; // a retransmission of what we have: say so at once
        consumeSkb(net, skb);
        return 0;
      }
      len = 0;
    } else {
      skb.pull(dup);
      len -= dup;
    }
    seq = rcvNxt;
  }
  const winEnd = seqGt(t.rcvAdv[c], rcvNxt) ? t.rcvAdv[c] : rcvNxt;
  if (seqGt((seq + len) >>> 0, winEnd)) {
    const over = (seq + len - winEnd) >>> 0;
    if (over >= len) {
      t.flags[c] |= TF_ACK_NOW;
      tcp.stats.zeroWindowDrops++;
      kfreeSkbReason(net, skb, SKB_DROP.TCP_ZEROWINDOW);
      return 0;
    }
    skb.trim(skb.len - over);
    len -= over;
    flags &= ~TCP_FIN;
  }
  skb.cb[CB_SEQ] = seq;
  skb.cb[CB_END] = (seq + len) >>> 0;
  skb.cb[CB_FLAGS] = flags & TCP_FIN;
  if (seq !== rcvNxt) {
    // Out of order: keep it (bounded) and ACK at once, a duplicate ACK (RFC 5681 4.2).
    t.flags[c] |= TF_ACK_NOW;
    oooInsert(net, c, skb);
    return 0;
  }
  notify |= queueInOrder(net, c, skb);
  // Whatever now follows in order comes off the out-of-order queue.
  const ooo = t.oooQueue[c];
  while (ooo.head !== null && seqLeq(ooo.head.cb[CB_SEQ], t.rcvNxt[c])) {
    const s = ooo.dequeue() as SkBuff;
    t.rcvQueued[c] -= s.len;
    const end = s.cb[CB_END];
    if (seqLeq(end, t.rcvNxt[c]) && (s.cb[CB_FLAGS] & TCP_FIN) === 0) {
      consumeSkb(net, s);
      continue;
    }
    const dup = (t.rcvNxt[c] - s.cb[CB_SEQ]) >>> 0;
    if (dup > 0) s.pull(dup);
    s.cb[CB_SEQ] = t.rcvNxt[c];
    notify |= queueInOrder(net, c, s);
    t.flags[c] |= TF_ACK_NOW;
  }
  // Delayed ACK (RFC 1122 4.2.3.2; RFC 5681 4.2): every second segment at once, else soon.
  if ((t.flags[c] & TF_ACK_NOW) === 0) {
    t.rcvSegs[c]++;
    if (t.quickAcks[c] > 0 && (t.flags[c] & TF_PINGPONG) === 0) {
      // Quick ACKs at the start of a connection (Linux's quickack mode): the peer's
      // congestion window is small, and a request answered in two writes would
      // otherwise wait for our delayed ACK.
      t.quickAcks[c]--;
      t.flags[c] |= TF_ACK_NOW;
    } else if (t.rcvSegs[c] * t.mss[c] >= net.config.tcpRcvBufBytes >> 1) {
      // Half the window unacknowledged: say so now, or a long receive batch
      // would leave the sender waiting on a closed window.
      t.flags[c] |= TF_ACK_NOW;
    } else if (t.rcvSegs[c] >= 2) {
      tcp.ackAtBatchEnd(c);
    }
    if (!t.delackTimer[c].pending) net.modTimer(t.delackTimer[c], net.now() + net.config.tcpDelackMs);
  }
  return notify;
}

/** An in-order segment (seq == rcvNxt) to the reader; its FIN moves the state. */
function queueInOrder(net: Net, c: number, skb: SkBuff): number {
  const tcp = net.tcp;
  const t = tcp.tcb;
  const len = skb.len;
  const fin = (skb.cb[CB_FLAGS] & TCP_FIN) !== 0;
  t.rcvNxt[c] = (t.rcvNxt[c] + len) >>> 0;
  let notify = 0;
  if (len > 0) {
    t.recvQueue[c].enqueue(skb);
    t.rcvQueued[c] += len;
    notify |= N_READABLE;
  } else {
    consumeSkb(net, skb);
  }
  if (fin) {
    t.rcvNxt[c] = (t.rcvNxt[c] + 1) >>> 0;
    t.flags[c] |= TF_PEER_FIN | TF_ACK_NOW;
    const s = t.state[c];
    if (s === TCP_ESTABLISHED || s === TCP_SYN_RECV) tcp.setState(c, TCP_CLOSE_WAIT);
    else if (s === TCP_FIN_WAIT1) {
      // Our FIN not yet acknowledged (processAck would have left FIN_WAIT1): simultaneous close (RFC 9293 3.6).
      tcp.setState(c, TCP_CLOSING);
    } else if (s === TCP_FIN_WAIT2) enterTimeWait(net, c);
    notify |= N_PEER_CLOSED;
  }
  return notify;
}

function oooInsert(net: Net, c: number, skb: SkBuff): void {
  const tcp = net.tcp;
  const t = tcp.tcb;
  const q = t.oooQueue[c];
  if (q.qlen >= net.config.tcpOooMax) {
    tcp.stats.ofoDrop++;
    kfreeSkbReason(net, skb, SKB_DROP.TCP_OFO_DROP);
    return;
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
    return;
  }
  tcp.stats.ofoQueue++;
  for (let s = q.head; s !== null; s = s.next) s.cb[CB_FLAGS] &= ~SEG_LAST_IN;
  skb.cb[CB_FLAGS] |= SEG_LAST_IN;
  skb.next = cur;
  if (prev === null) q.head = skb;
  else prev.next = skb;
  if (cur === null) q.tail = skb;
  q.qlen++;
  q.bytes += skb.len;
  t.rcvQueued[c] += skb.len;
}

function enterTimeWait(net: Net, c: number): void {
  const tcp = net.tcp;
  const t = tcp.tcb;
  tcp.setState(c, TCP_TIME_WAIT);
  net.delTimer(t.rtxTimer[c]);
  net.modTimer(t.waitTimer[c], net.now() + net.config.tcpTimeWaitMs);
}

/** Tell the owner what happened, last: it may write or close from its callback. */
function tell(net: Net, c: number, notify: number): void {
  const t = net.tcp.tcb;
  const owner = t.owner[c];
  if ((notify & N_CONNECTED) !== 0 && t.parent[c] >= 0) {
    const l = t.parent[c];
    const lo = t.listenerOwner[l];
    if (lo !== null) lo.onConnections(net.tcp.children(l, true));
  }
  if (owner === null) {
    // Orphaned (closed by the application): nobody reads; data that arrives is discarded.
    if ((t.flags[c] & TF_ORPHAN) !== 0 && t.recvQueue[c].qlen > 0 && t.state[c] !== 0) {
      let s: SkBuff | null;
      while ((s = t.recvQueue[c].dequeue()) !== null) {
        t.rcvQueued[c] -= s.len;
        kfreeSkbReason(net, s, SKB_DROP.SOCKET_CLOSE);
      }
    }
    return;
  }
  if ((notify & N_CONNECTED) !== 0) owner.onWritable(net.tcp.writable(c));
  if ((notify & N_READABLE) !== 0 && t.owner[c] === owner) {
    net.tcp.answering = c;
    owner.onReadable(net.tcp.readable(c));
    net.tcp.answering = -1;
  }
  if ((notify & N_WRITABLE) !== 0 && t.owner[c] === owner && (t.flags[c] & TF_FIN_QUEUED) === 0) {
    const w = net.tcp.writable(c);
    if (w > 0) owner.onWritable(w);
  }
  if ((notify & N_PEER_CLOSED) !== 0 && t.owner[c] === owner && net.tcp.readable(c) === 0) owner.onError(EPEERCLOSED);
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
  const c = tcp.lookup(ipSaddr(buf, iph), tcpSport(buf, l4), ipDaddr(buf, iph), tcpDport(buf, l4));
  if (c < 0) return;
  const seq = tcpSeq(buf, l4);
  if (seqLt(seq, t.sndUna[c]) || seqGt(seq, t.sndMax[c])) return;
  if (type !== ICMP_DEST_UNREACH) return;
  if (code === ICMP_FRAG_NEEDED) {
    const mss = info - 40;
    if (info >= 68 && mss < t.mss[c]) {
      t.mss[c] = mss;
      tcpRetransmitHead(net, c);
    }
    return;
  }
  const state = t.state[c];
  if ((state === TCP_SYN_SENT || state === TCP_SYN_RECV) && code <= ICMP_PORT_UNREACH) {
    tcp.stats.attemptFails++;
    tcp.abort(c, code >= ICMP_PROT_UNREACH ? ECONNREFUSED : EHOSTUNREACH);
  }
}
