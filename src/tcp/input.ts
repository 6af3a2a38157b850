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
  CB_END, CB_FLAGS, CB_SEQ, TCP_CLOSED, TCP_CLOSING, TCP_ESTABLISHED, TCP_FIN_WAIT1, TCP_FIN_WAIT2, TCP_CLOSE_WAIT, TCP_LAST_ACK,
  TCP_SYN_RECV, TCP_SYN_SENT, TCP_TIME_WAIT, TF_ACCEPTED, TF_ACK_NOW, TF_FIN_QUEUED,
  TF_ORPHAN, TF_PEER_FIN, TF_PERSIST, TF_RECOVERY, TF_SACK, TF_WSCALE, SEG_RETRANS, SEG_SACKED, seqGeq, seqGt, seqLeq, seqLt,
} from "./tcb";
import {
  tcpRetransmitHead, tcpSendAck, tcpSendControl, tcpSendResetFor, tcpSendSynAckStateless, tcpTransmitSkb, tcpWriteXmit,
} from "./output";
import { COOKIE_MSS, ECONNREFUSED, ECONNRESET, EHOSTUNREACH, EPEERCLOSED } from "./tcp";
import { ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, ICMP_PORT_UNREACH, ICMP_PROT_UNREACH } from "../wire/icmp";

// What to tell the owner after the segment (bits).
const N_READABLE = 1;
const N_WRITABLE = 2;
const N_CONNECTED = 4;
const N_PEER_CLOSED = 8;

/** tcp_v4_rcv: skb.data at the TCP header. Always consumes the skb. */
export function tcpV4Rcv(net: Net, skb: SkBuff): void {
  const tcp = net.tcp;
  const stats = tcp.stats;
  const buf = net.pool.buf;
  let th = skb.data;
  const total = skb.chainLen();
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
  stats.inSegs++;
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
  if (c < 0) {
    const l = tcp.lookupListener(daddr, dport);
    if (l >= 0) {
      listenRcv(net, l, skb, saddr, daddr, sport, dport, seq, ack, flags, wnd, len);
      return;
    }
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
  if ((flags & (TCP_ACK | TCP_SYN)) === TCP_ACK && net.config.tcpSynCookies) {
    // Perhaps the end of a handshake whose SYN got a cookie instead of state.
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
  tcp.initSend(c, tcp.isn(daddr, dport, saddr, sport), mtu);
  acceptSynOptions(net, c, wnd);
  t.irs[c] = seq;
  t.rcvNxt[c] = (seq + 1) >>> 0;
  t.rcvAdv[c] = t.rcvNxt[c];
  t.sndWl1[c] = seq;
  t.sndWl2[c] = t.iss[c];
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
  t.irs[c] = (seq - 1) >>> 0;
  t.rcvNxt[c] = seq;
  // What the cookie SYN-ACK offered.
  t.rcvAdv[c] = (seq + (net.config.tcpRcvBufBytes < 65535 ? net.config.tcpRcvBufBytes : 65535)) >>> 0;
  t.sndWl1[c] = seq;
  t.sndWl2[c] = ack;
  tcp.setState(c, TCP_ESTABLISHED);
  established(net, c, skb, seq, ack, flags, wnd, len);
  const lo = t.listenerOwner[l];
  if (lo !== null && t.state[c] !== TCP_CLOSED) lo.onConnections(tcp.children(l, true));
}

/** The options of a SYN: MSS and window scale (RFC 7323: used only when both sides send it). */
function acceptSynOptions(net: Net, c: number, wnd: number): void {
  const tcp = net.tcp;
  const t = tcp.tcb;
  const opts = t.opts;
  tcp.settleMss(c, opts.mss);
  if (opts.sackPermitted && net.config.tcpSack) t.flags[c] |= TF_SACK;
  if (opts.wscale >= 0) {
    t.flags[c] |= TF_WSCALE;
    t.sndWscale[c] = opts.wscale;
  } else {
    t.rcvWscale[c] = 0;
  }
  t.sndWnd[c] = wnd; // a SYN's window is never scaled
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
  t.irs[c] = seq;
  t.rcvNxt[c] = (seq + 1) >>> 0;
  t.rcvAdv[c] = t.rcvNxt[c];
  acceptSynOptions(net, c, wnd);
  t.sndWl1[c] = seq;
  t.sndWl2[c] = ack;
  if ((flags & TCP_ACK) !== 0) {
    t.sndUna[c] = ack;
    net.delTimer(t.rtxTimer[c]);
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
    t.sndWl1[c] = seq;
    t.sndWl2[c] = ack;
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

/** The ACK field (RFC 9293 3.10.7.4 fifth; RFC 6298, 5681, 6582). Returns owner notifications. */
function processAck(net: Net, c: number, seq: number, ack: number, wnd: number, len: number, flags: number): number {
  const tcp = net.tcp;
  const t = tcp.tcb;
  let notify = 0;
  const acked = (ack - t.sndUna[c]) >>> 0;
  // Window update (RFC 9293 3.10.7.4: SND.WL1/WL2 order the updates).
  const scaled = wnd << t.sndWscale[c];
  const windowChanged = scaled !== t.sndWnd[c];
  if (seqLt(t.sndWl1[c], seq) || (t.sndWl1[c] === seq && seqLeq(t.sndWl2[c], ack))) {
    t.sndWnd[c] = scaled;
    t.sndWl1[c] = seq;
    t.sndWl2[c] = ack;
    if (scaled > 0 && (t.flags[c] & TF_PERSIST) !== 0) {
      t.flags[c] &= ~TF_PERSIST;
      net.delTimer(t.rtxTimer[c]);
      t.backoff[c] = 0;
    }
  }
  const sack = (t.flags[c] & TF_SACK) !== 0;
  const sacked = sack && t.opts.sackCount > 0 ? sackUpdate(net, c) : 0;
  if (acked === 0) {
    // A duplicate ACK (RFC 5681 2): nothing new, no data, same window, data outstanding.
    if (len === 0 && (flags & TCP_FIN) === 0 && !windowChanged && t.sndMax[c] !== t.sndUna[c]) {
      t.dupAcks[c]++;
      const mss = t.mss[c];
      if (sack) {
        // RFC 6675: recovery starts after DupThresh duplicates, or as many SACKed segments.
        if ((t.flags[c] & TF_RECOVERY) === 0 && (t.dupAcks[c] >= 3 || sacked >= 3)) enterSackRecovery(net, c);
        if ((t.flags[c] & TF_RECOVERY) !== 0) sackRetransmit(net, c);
      } else if ((t.flags[c] & TF_RECOVERY) !== 0) {
        t.cwnd[c] += mss; // inflate for each segment that left the network
      } else if (t.dupAcks[c] === 3) {
        // Fast retransmit (RFC 5681 3.2, RFC 6582 3.2 step 2).
        const flight = (t.sndMax[c] - t.sndUna[c]) >>> 0;
        const half = flight >>> 1;
        t.ssthresh[c] = half > 2 * mss ? half : 2 * mss;
        t.recover[c] = t.sndMax[c];
        t.flags[c] |= TF_RECOVERY;
        tcp.stats.fastRetrans++;
        tcpRetransmitHead(net, c);
        t.cwnd[c] = t.ssthresh[c] + 3 * mss;
      }
    }
    return 0;
  }
  // New data acknowledged.
  const now = net.now();
  if (t.rttTiming[c] !== 0 && seqGeq(ack, t.rttSeq[c])) {
    t.rttTiming[c] = 0;
    rttSample(net, c, now - t.rttStart[c]);
  }
  t.backoff[c] = 0;
  t.sndUna[c] = ack;
  if (seqLt(t.sndNxt[c], ack)) t.sndNxt[c] = ack;
  // Free what is acknowledged; trim a segment acknowledged in part.
  const q = t.writeQueue[c];
  let freed = 0;
  let finAcked = false;
  while (q.head !== null && seqLeq(q.head.cb[CB_END], ack)) {
    const skb = q.dequeue() as SkBuff;
    if ((skb.cb[CB_FLAGS] & TCP_FIN) !== 0) finAcked = true;
    else freed += skb.len;
    if (t.sendHead[c] === skb) t.sendHead[c] = skb.next;
    consumeSkb(net, skb);
  }
  const head = q.head;
  if (head !== null && seqLt(head.cb[CB_SEQ], ack)) {
    const cut = (ack - head.cb[CB_SEQ]) >>> 0;
    if (!net.pool.isCloned(head)) {
      head.pull(cut);
      head.cb[CB_SEQ] = ack;
      freed += cut;
    }
  }
  if (t.sendHead[c] === null && head !== null && seqGeq(head.cb[CB_SEQ], t.sndNxt[c])) t.sendHead[c] = head;
  t.sndQueued[c] -= freed;
  // Congestion window (RFC 5681 3.1; RFC 6582 3.2 steps 3-5).
  const mss = t.mss[c];
  if ((t.flags[c] & TF_RECOVERY) !== 0) {
    if (seqGeq(ack, t.recover[c])) {
      const flight = (t.sndMax[c] - ack) >>> 0;
      t.cwnd[c] = t.ssthresh[c] < flight + mss ? t.ssthresh[c] : flight + mss;
      t.flags[c] &= ~TF_RECOVERY;
      t.dupAcks[c] = 0;
      for (let s = q.head; s !== null; s = s.next) s.cb[CB_FLAGS] &= ~SEG_RETRANS;
    } else if (sack) {
      sackRetransmit(net, c);
    } else {
      // Partial ACK: the next hole, retransmitted now; deflate by what was acked.
      tcpRetransmitHead(net, c);
      t.cwnd[c] = (t.cwnd[c] > acked ? t.cwnd[c] - acked : 0) + mss;
    }
  } else {
    t.dupAcks[c] = 0;
    if (t.cwnd[c] < t.ssthresh[c]) {
      t.cwnd[c] += acked < mss ? acked : mss;
    } else {
      t.ackedBytes[c] += acked;
      if (t.ackedBytes[c] >= t.cwnd[c]) {
        t.ackedBytes[c] -= t.cwnd[c];
        t.cwnd[c] += mss;
      }
    }
  }
  // RFC 6298 5.2/5.3: stop the timer when all is acknowledged, else restart it.
  if (t.sndUna[c] === t.sndMax[c]) net.delTimer(t.rtxTimer[c]);
  else net.modTimer(t.rtxTimer[c], now + t.rto[c]);
  if (freed > 0) notify |= N_WRITABLE;
  if (finAcked) {
    const s = t.state[c];
    if (s === TCP_FIN_WAIT1) tcp.setState(c, TCP_FIN_WAIT2);
    else if (s === TCP_CLOSING) enterTimeWait(net, c);
    else if (s === TCP_LAST_ACK) tcp.free(c, SKB_DROP.SOCKET_CLOSE);
  }
  return notify;
}

/**
 * The SACK scoreboard (RFC 6675 2): mark the segments the peer holds. Returns how many
 * segments above the first hole are SACKed.
 */
function sackUpdate(net: Net, c: number): number {
  const t = net.tcp.tcb;
  const opts = t.opts;
  const una = t.sndUna[c];
  const max = t.sndMax[c];
  for (let b = 0; b < opts.sackCount; b++) {
    const l = opts.sackBlocks[b * 2];
    const r = opts.sackBlocks[b * 2 + 1];
    // Ignore blocks outside what is in flight (RFC 2018 has no use for them; a blind attacker does).
    if (!seqGt(r, l) || seqLeq(r, una) || seqGt(r, max) || seqLt(l, una)) continue;
    net.tcp.stats.sackBlocksReceived++;
    if (seqGt(r, t.sackHigh[c])) t.sackHigh[c] = r;
    for (let s = t.writeQueue[c].head; s !== null && s !== t.sendHead[c]; s = s.next) {
      if (seqGeq(s.cb[CB_SEQ], l) && seqLeq(s.cb[CB_END], r)) s.cb[CB_FLAGS] |= SEG_SACKED;
    }
  }
  let n = 0;
  for (let s = t.writeQueue[c].head; s !== null && s !== t.sendHead[c]; s = s.next) if ((s.cb[CB_FLAGS] & SEG_SACKED) !== 0) n++;
  return n;
}

function enterSackRecovery(net: Net, c: number): void {
  const tcp = net.tcp;
  const t = tcp.tcb;
  const mss = t.mss[c];
  const flight = (t.sndMax[c] - t.sndUna[c]) >>> 0;
  const half = flight >>> 1;
  t.ssthresh[c] = half > 2 * mss ? half : 2 * mss;
  t.cwnd[c] = t.ssthresh[c];
  t.recover[c] = t.sndMax[c];
  t.flags[c] |= TF_RECOVERY;
  t.rttTiming[c] = 0;
  tcp.stats.sackRecoveries++;
  tcp.stats.fastRetrans++;
}

/**
 * RFC 6675 5 (NextSeg, simplified): while the pipe leaves room in cwnd, resend the holes
 * below the highest SACKed byte, each once per recovery. The pipe counts what is in
 * flight: not SACKed, and not presumed lost unless already resent.
 */
function sackRetransmit(net: Net, c: number): void {
  const tcp = net.tcp;
  const t = tcp.tcb;
  const high = t.sackHigh[c];
  let pipe = 0;
  for (let s = t.writeQueue[c].head; s !== null && s !== t.sendHead[c]; s = s.next) {
    const f = s.cb[CB_FLAGS];
    if ((f & SEG_SACKED) !== 0) continue;
    const lost = seqLt(s.cb[CB_END], high) || s.cb[CB_END] === high;
    if (!lost || (f & SEG_RETRANS) !== 0) pipe += s.len;
  }
  for (let s = t.writeQueue[c].head; s !== null && s !== t.sendHead[c]; s = s.next) {
    if (pipe + t.mss[c] > t.cwnd[c]) break;
    const f = s.cb[CB_FLAGS];
    if ((f & (SEG_SACKED | SEG_RETRANS)) !== 0 || !seqLt(s.cb[CB_SEQ], high)) continue;
    if (!tcpTransmitSkb(net, c, s)) break;
    s.cb[CB_FLAGS] |= SEG_RETRANS;
    tcp.stats.sackRetrans++;
    pipe += s.len;
  }
}

/** RFC 6298 2.2-2.4, with the minimum of config.tcpRtoMinMs (Linux's 200 ms, not 1 s). */
function rttSample(net: Net, c: number, r: number): void {
  const t = net.tcp.tcb;
  const cfg = net.config;
  if (t.srtt[c] === 0) {
    t.srtt[c] = r > 0 ? r : 0.001;
    t.rttvar[c] = r / 2;
  } else {
    const diff = t.srtt[c] > r ? t.srtt[c] - r : r - t.srtt[c];
    t.rttvar[c] = 0.75 * t.rttvar[c] + 0.25 * diff;
    t.srtt[c] = 0.875 * t.srtt[c] + 0.125 * r;
  }
  const g = cfg.timerTickMs;
  let rto = t.srtt[c] + (4 * t.rttvar[c] > g ? 4 * t.rttvar[c] : g);
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
    if (t.rcvSegs[c] >= 2) t.flags[c] |= TF_ACK_NOW;
    else if (!t.delackTimer[c].pending) net.modTimer(t.delackTimer[c], net.now() + net.config.tcpDelackMs);
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
      // Our FIN not yet acknowledged: simultaneous close (RFC 9293 3.6).
      if (seqGt(t.sndUna[c], t.finSeq[c])) enterTimeWait(net, c);
      else tcp.setState(c, TCP_CLOSING);
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
  t.oooLast[c] = seq;
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
  if ((notify & N_READABLE) !== 0 && t.owner[c] === owner) owner.onReadable(net.tcp.readable(c));
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
