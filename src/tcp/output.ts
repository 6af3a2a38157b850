// TCP transmit (net/ipv4/tcp_output.c):
//   socket write -> segments on the write queue -> tcpWriteXmit (window, cwnd, Nagle)
//     -> tcpTransmitSkb: a clone of the segment, TCP header in front -> ipSend
//   control segments (SYN, SYN-ACK, ACK, RST) are built in a fresh skb.
// The original segment stays on the write queue until acknowledged, for retransmission.

import { copyBytes } from "../core/bytes";
import type { Net } from "../core/net";
import type { NetDevice } from "../core/netdevice";
import type { SkBuff } from "../core/skb";
import { ipSend } from "../ipv4/output";
import { csumFold, csumPartial, csumPartialView, csumPseudoHeader } from "../wire/checksum";
import { IPPROTO_TCP, IPV4_HLEN, ipDaddr, ipSaddr } from "../wire/ipv4";
import {
  TCP_ACK, TCP_FIN, TCP_HLEN, TCP_PSH, TCP_RST, TCP_SYN, setTcpCheck, tcpBuildHeader, tcpDport, tcpSport, tcpWriteOptMss,
  tcpOptSackPermInTimestamp, tcpWriteOptSack, tcpWriteOptSackPerm, tcpWriteOptTimestamp, tcpWriteOptWscale,
} from "../wire/tcp";
import {
  CB_ACK, CB_END, CB_FLAGS, CB_SENT, CB_SEQ, CB_XMIT, TF_ACK_BATCH, SEG_LOST, SEG_RETRANS, SEG_SACKED, TCP_SYN_RECV, TF_NODELAY,
  TF_PERSIST, TF_RECOVERY, TF_SACK, TF_TSTAMP, TF_WSCALE, seqGt, seqLt, tcpClockUs,
} from "./tcb";
import { oooRanges } from "./ooo";
import { tcpArmRtx } from "./rtt";
// mcconfig type-checks each module alone: the modules that add net.ipv4, net.tcp
import type {} from "../ipv4/ipv4";
import type {} from "./init";

/** The window to advertise now (bytes), never shrinking what was offered (RFC 9293 3.8.6.2.2). */
export function rcvWindow(net: Net, c: number): number {
  const t = net.tcp.tcb;
  const buf = net.config.tcpRcvBufBytes;
  let free = buf - t.rcvQueued[c] - t.oooQueue[c].bytes;
  if (free < 0) free = 0;
  const offered = (t.rcvAdv[c] - t.rcvNxt[c]) | 0;
  // Receiver silly-window avoidance (RFC 1122 4.2.3.3): move the right edge only by a
  // full segment or half the buffer.
  const step = t.mss[c] < buf >> 1 ? t.mss[c] : buf >> 1;
  if (free - (offered > 0 ? offered : 0) < step) free = offered > 0 ? offered : 0;
  if (free < offered) free = offered;
  const shift = (t.flags[c] & TF_WSCALE) !== 0 ? net.tcp.rcvShift : 0;
  const max = 65535 << shift;
  if (free > max) free = max;
  return (free >> shift) << shift;
}

/** Does our SYN (or SYN-ACK) carry a window scale option? (A SYN-ACK only when the SYN did.) */
function offersWscale(net: Net, c: number): boolean {
  return net.tcp.tcb.state[c] !== TCP_SYN_RECV || (net.tcp.tcb.flags[c] & TF_WSCALE) !== 0;
}

/** Does our SYN (or SYN-ACK) carry timestamps? (A SYN-ACK only when the SYN did.) */
function offersTimestamps(net: Net, c: number): boolean {
  const t = net.tcp.tcb;
  return net.config.tcpTimestamps && (t.state[c] !== TCP_SYN_RECV || (t.flags[c] & TF_TSTAMP) !== 0);
}

/** Does our SYN (or SYN-ACK) carry SACK-permitted? (A SYN-ACK only when the SYN did.) */
function offersSack(net: Net, c: number): boolean {
  const t = net.tcp.tcb;
  return net.config.tcpSack && (t.state[c] !== TCP_SYN_RECV || (t.flags[c] & TF_SACK) !== 0);
}

/**
 * Bytes of options a segment of connection c with `flags` carries. SACK blocks (RFC 2018
 * 4: the out-of-order queue's ranges, at most 4, 3 beside timestamps) go into `sacks`,
 * for buildHeader to write; their count follows from the length.
 */
function optionsLength(net: Net, c: number, flags: number, payloadLen: number, sacks: Uint32Array): number {
  const t = net.tcp.tcb;
  if ((flags & TCP_SYN) !== 0) {
    const ts = offersTimestamps(net, c);
    const sack = offersSack(net, c);
    return 4 + (offersWscale(net, c) ? 4 : 0) + (ts ? 12 : sack ? 4 : 0);
  }
  // Timestamps go on every segment but resets (RFC 7323 3.2).
  const ts = (t.flags[c] & TF_TSTAMP) !== 0 && (flags & TCP_RST) === 0 ? 12 : 0;
  // SACK blocks ride pure ACKs only: a data segment is already a full MSS.
  if (payloadLen === 0 && (flags & (TCP_SYN | TCP_FIN | TCP_RST)) === 0 && (t.flags[c] & TF_SACK) !== 0 && t.oooQueue[c].qlen > 0) {
    const n = oooRanges(t.oooQueue[c], t.rcvNxt[c], sacks, ts > 0 ? 3 : 4);
    return ts + (n > 0 ? 4 + 8 * n : 0);
  }
  return ts;
}

/**
 * Write a TCP header of `hlen` bytes (options included) at `at`, with the SACK blocks
 * optionsLength put in t.sackOut; checksum over header + `payloadLen`, from the source
 * address of the route just taken (ip.rt). The options are written by functions of their
 * own, so that this frame, under every segment sent, stays small.
 */
function buildHeader(net: Net, c: number, at: number, hlen: number, seq: number, flags: number, payloadLen: number): void {
  const t = net.tcp.tcb;
  const win = advertisedWindow(net, c, flags);
  tcpBuildHeader(net.pool.buf, at, t.localPort[c], t.remotePort[c], seq, (flags & TCP_ACK) !== 0 ? t.rcvNxt[c] : 0, hlen, flags, win);
  if ((flags & TCP_SYN) !== 0) writeSynOptions(net, c, at + TCP_HLEN, flags);
  else if (hlen > TCP_HLEN) writeOptions(net, c, at + TCP_HLEN, hlen - TCP_HLEN, flags);
  const sum = csumPseudoHeader(net.ipv4.rt.saddr, t.remoteAddr[c], IPPROTO_TCP, hlen + payloadLen);
  setTcpCheck(net.pool.buf, at, csumFold(csumPartialView(net.pool.view, at, hlen + payloadLen, sum)));
}

/** The window field of a segment with `flags` (unscaled in a SYN, RFC 7323 2.2); moves rcvAdv to what it offers. */
function advertisedWindow(net: Net, c: number, flags: number): number {
  const t = net.tcp.tcb;
  if ((flags & TCP_SYN) !== 0) {
    const win = net.config.tcpRcvBufBytes < 65535 ? net.config.tcpRcvBufBytes : 65535;
    if ((flags & TCP_ACK) !== 0) t.rcvAdv[c] = (t.rcvNxt[c] + win) >>> 0; // the SYN-ACK offers it
    return win;
  }
  const win = rcvWindow(net, c);
  t.rcvAdv[c] = (t.rcvNxt[c] + win) >>> 0;
  return (t.flags[c] & TF_WSCALE) !== 0 ? win >>> net.tcp.rcvShift : win;
}

/** A SYN's options at `o`, in Linux's layout: MSS, SACK-permitted + timestamps, NOP + window scale. */
function writeSynOptions(net: Net, c: number, o: number, flags: number): void {
  const t = net.tcp.tcb;
  const buf = net.pool.buf;
  o += tcpWriteOptMss(buf, o, (net.ipv4.rt.dev as NetDevice).mtu - IPV4_HLEN - TCP_HLEN);
  const sack = offersSack(net, c);
  if (offersTimestamps(net, c)) {
    const tsVal = net.tcp.tsVal(c);
    const tsEcr = (flags & TCP_ACK) !== 0 ? t.tsRecent[c] : 0;
    tcpWriteOptTimestamp(buf, o, tsVal, tsEcr);
    if (sack) tcpOptSackPermInTimestamp(buf, o);
    o += 12;
  } else if (sack) {
    o += tcpWriteOptSackPerm(buf, o);
  }
  if (offersWscale(net, c)) tcpWriteOptWscale(buf, o, net.tcp.rcvShift);
}

/** `len` bytes of options at `o` of a segment that is not a SYN: timestamps, then the SACK blocks of t.sackOut. */
function writeOptions(net: Net, c: number, o: number, len: number, flags: number): void {
  const t = net.tcp.tcb;
  const ts = (t.flags[c] & TF_TSTAMP) !== 0 && (flags & TCP_RST) === 0 ? 12 : 0;
  if (ts > 0) {
    const tsVal = net.tcp.tsVal(c); // before the call: its arguments are not yet on the stack
    o += tcpWriteOptTimestamp(net.pool.buf, o, tsVal, t.tsRecent[c]);
  }
  if (len > ts) {
    const n = (len - ts - 4) >>> 3;
    tcpWriteOptSack(net.pool.buf, o, t.sackOut, n);
    net.tcp.stats.sackBlocksSent += n;
  }
}

/** A segment with no data (SYN, SYN-ACK, ACK, FIN probe, RST) from connection c. */
export function tcpSendControl(net: Net, c: number, seq: number, flags: number): boolean {
  const skb = buildControl(net, c, seq, flags);
  if (skb === null) return false;
  // From the address of the route buildControl took (ip.rt: nothing has routed since).
  ipSend(net, skb, net.ipv4.rt.saddr, net.tcp.tcb.remoteAddr[c], IPPROTO_TCP, 0, net.config.ipDefaultTtl, false);
  return true;
}

/**
 * tcpSendControl's segment, routed and built; null when there is no route or no skb. Apart,
 * so that its locals are gone while the segment goes down the stack.
 */
function buildControl(net: Net, c: number, seq: number, flags: number): SkBuff | null {
  const t = net.tcp.tcb;
  const ip = net.ipv4;
  if (!ip.routeOutput(t.remoteAddr[c], t.localAddr[c])) return null;
  const skb = net.pool.alloc();
  if (skb === null) return null;
  const hlen = TCP_HLEN + optionsLength(net, c, flags, 0, t.sackOut);
  buildHeader(net, c, skb.put(hlen), hlen, seq, flags, 0);
  net.tcp.stats.outSegs++;
  if ((flags & TCP_RST) !== 0) net.tcp.stats.outRsts++;
  if ((flags & TCP_ACK) !== 0) afterAckSent(net, c);
  return skb;
}

/**
 * A pure ACK, numbered so the peer accepts it (Linux tcp_acceptable_seq): the highest
 * sequence sent (after a timeout sndNxt walks back to resend, and an ACK below the
 * peer's rcvNxt is refused), but never past the right edge of the peer's window (data it
 * dropped for want of room does not count, and a zero window takes only its left edge).
 */
export function tcpSendAck(net: Net, c: number): boolean {
  const t = net.tcp.tcb;
  const wndEnd = (t.sndUna[c] + t.sndWnd[c]) >>> 0;
  return tcpSendControl(net, c, seqGt(t.sndMax[c], wndEnd) ? wndEnd : t.sndMax[c], TCP_ACK);
}

/** Every segment we send carries an ACK: no delayed ACK is owed after it. */
function afterAckSent(net: Net, c: number): void {
  const t = net.tcp.tcb;
  t.rcvSegs[c] = 0;
  t.flags[c] &= ~TF_ACK_BATCH;
  const delack = t.delackTimer[c];
  if (delack.pending) net.delTimer(delack); // most segments sent owe no delayed ACK
}

/**
 * tcp_transmit_skb: send a segment of the write queue. The original stays queued; a clone
 * goes down (a copy when an earlier clone may still be in a queue below us, since its
 * headers share the headroom). False when no buffer could be had.
 */
export function tcpTransmitSkb(net: Net, c: number, skb: SkBuff): boolean {
  const out = cloneWithHeader(net, c, skb);
  if (out === null) return false;
  // From the address of the route cloneWithHeader took (ip.rt: nothing has routed since).
  ipSend(net, out, net.ipv4.rt.saddr, net.tcp.tcb.remoteAddr[c], IPPROTO_TCP, 0, net.config.ipDefaultTtl, false);
  return true;
}

/**
 * tcpTransmitSkb's clone of segment `skb`, routed, with its TCP header; null when there is
 * no route or no buffer. Apart, so that its locals are gone while the clone goes down.
 */
function cloneWithHeader(net: Net, c: number, skb: SkBuff): SkBuff | null {
  const t = net.tcp.tcb;
  const pool = net.pool;
  const ip = net.ipv4;
  if (!ip.routeOutput(t.remoteAddr[c], t.localAddr[c])) return null;
  const len = skb.len;
  let out: SkBuff | null;
  if (pool.isCloned(skb)) {
    out = pool.alloc();
    if (out !== null) copyBytes(pool.buf, out.put(len), pool.buf, skb.data, len);
  } else {
    out = pool.clone(skb);
  }
  if (out === null) return null;
  let flags = TCP_ACK;
  if ((skb.cb[CB_FLAGS] & TCP_FIN) !== 0) flags |= TCP_FIN;
  if (len > 0 && skb.next === null) flags |= TCP_PSH;
  const hlen = TCP_HLEN + optionsLength(net, c, flags, len, t.sackOut);
  buildHeader(net, c, out.push(hlen), hlen, skb.cb[CB_SEQ], flags, len);
  if (skb.cb[CB_SENT] > 0) net.tcp.stats.retransSegs++;
  skb.cb[CB_SENT]++;
  skb.cb[CB_XMIT] = tcpClockUs(net.now());
  net.tcp.stats.outSegs++;
  afterAckSent(net, c);
  return out;
}

/**
 * The pipe (RFC 6675 2): bytes sent and still in the network, that is neither SACKed
 * nor presumed lost (a lost segment that was resent counts again, through its resend).
 */
export function tcpPipe(net: Net, c: number): number {
  const t = net.tcp.tcb;
  let pipe = 0;
  for (let s = t.writeQueue[c].head; s !== null && s !== t.sendHead[c]; s = s.next) {
    if ((s.cb[CB_FLAGS] & (SEG_SACKED | SEG_LOST)) === 0) pipe += s.len;
  }
  return pipe;
}

/**
 * tcp_write_xmit: send what the peer's window, the congestion window and Nagle allow.
 * In SACK recovery the congestion window bounds the pipe rather than the span from
 * sndUna (RFC 6675 5, NextSeg rule 2). Arms the retransmission timer for what is in
 * flight, or the persist timer when the window stops everything. `force`: the persist
 * timer overrides sender silly-window avoidance (RFC 1122 4.2.3.4).
 */
export function tcpWriteXmit(net: Net, c: number, force = false): void {
  const t = net.tcp.tcb;
  if (t.sendHead[c] === null) return;
  let room = sackRoom(net, c);
  let sent = false;
  for (let skb = t.sendHead[c]; skb !== null; skb = t.sendHead[c]) {
    const go = mayTransmit(net, c, skb, room, force);
    if (go < 0) continue;
    if (go === 0 || !tcpTransmitSkb(net, c, skb)) break;
    room -= skb.len;
    sent = true;
    newDataSent(net, c, skb);
  }
  if (sent && ((t.flags[c] & TF_PERSIST) !== 0 || !t.rtxTimer[c].pending)) {
    t.flags[c] &= ~TF_PERSIST;
    tcpArmRtx(net, c);
  }
}

/** In SACK recovery, what cwnd leaves of the pipe (RFC 6675 5); 0 otherwise (unused then). */
function sackRoom(net: Net, c: number): number {
  const t = net.tcp.tcb;
  return (t.flags[c] & (TF_RECOVERY | TF_SACK)) === (TF_RECOVERY | TF_SACK) ? t.cwnd[c] - tcpPipe(net, c) : 0;
}

/**
 * May segment `skb` (at sendHead) go now? 1: yes; 0: it waits (the window, Nagle; the
 * persist timer armed when nothing is in flight); -1: it was split to what may go, so
 * look again. `room`: sackRoom less what this round sent.
 */
function mayTransmit(net: Net, c: number, skb: SkBuff, room: number, force: boolean): number {
  const t = net.tcp.tcb;
  const seq = skb.cb[CB_SEQ];
  const end = skb.cb[CB_END];
  const wndLimit = (t.sndUna[c] + t.sndWnd[c]) >>> 0;
  let limit: number;
  if ((t.flags[c] & (TF_RECOVERY | TF_SACK)) === (TF_RECOVERY | TF_SACK)) {
    const byPipe = (seq + (room > 0 ? room : 0)) >>> 0;
    limit = seqLt(byPipe, wndLimit) ? byPipe : wndLimit;
  } else {
    const wnd = t.sndWnd[c] < t.cwnd[c] ? t.sndWnd[c] : t.cwnd[c];
    limit = (t.sndUna[c] + wnd) >>> 0;
  }
  if (seqGt(end, limit)) {
    // A window narrower than this segment. Sender silly-window avoidance (RFC 1122
    // 4.2.3.4): send the part that fits only if it is a full segment or half the
    // largest window the peer has offered; else wait for the window to open, with the
    // persist timer as the override when nothing is in flight.
    const usable = (limit - seq) | 0;
    const idle = t.sndUna[c] === t.sndNxt[c];
    if (usable > 0 && (skb.cb[CB_FLAGS] & TCP_FIN) === 0 && (usable >= t.mss[c] || usable >= t.maxSndWnd[c] >> 1 || (force && idle)) &&
        tcpFragment(net, c, skb, usable)) {
      return -1;
    }
    if (idle && seqLt(limit, end) && !t.rtxTimer[c].pending) {
      // Zero window (RFC 9293 3.8.6.1), or a small one: probe it, or send into it later.
      t.flags[c] |= TF_PERSIST;
      net.modTimer(t.rtxTimer[c], net.now() + t.rto[c]);
    }
    return 0;
  }
  // The MSS went down (path MTU): split the segment first.
  if (skb.len > t.mss[c] && tcpFragment(net, c, skb, t.mss[c])) return -1;
  // Nagle (RFC 1122 4.2.3.4): a small segment waits while data is unacknowledged,
  // unless it is the FIN, nodelay is set, or more data will join it.
  const payload = (skb.cb[CB_FLAGS] & TCP_FIN) !== 0 ? end - seq - 1 : end - seq;
  if (payload < t.mss[c] && payload > 0 && skb.next === null && (t.flags[c] & TF_NODELAY) === 0 && t.sndUna[c] !== t.sndNxt[c]) return 0;
  return 1;
}

/** tcp_event_new_data_sent: segment `skb` went; sendHead and sndNxt move past it. */
function newDataSent(net: Net, c: number, skb: SkBuff): void {
  const t = net.tcp.tcb;
  const end = skb.cb[CB_END];
  t.sendHead[c] = skb.next;
  t.sndNxt[c] = end;
  if (seqGt(end, t.sndMax[c])) t.sndMax[c] = end;
}

/**
 * Send the segment at sendHead alone, as the peer's window allows whatever cwnd says: a
 * tail loss probe's new data (RFC 8985 7.3).
 */
export function tcpWriteXmitOne(net: Net, c: number): void {
  const t = net.tcp.tcb;
  const skb = t.sendHead[c];
  if (skb === null) return;
  if (skb.len > t.mss[c]) tcpFragment(net, c, skb, t.mss[c]);
  const end = skb.cb[CB_END];
  if (seqGt(end, (t.sndUna[c] + t.sndWnd[c]) >>> 0) || !tcpTransmitSkb(net, c, skb)) return;
  t.sendHead[c] = skb.next;
  t.sndNxt[c] = end;
  if (seqGt(end, t.sndMax[c])) t.sndMax[c] = end;
}

/**
 * tcp_fragment: split a queued segment after `len` bytes (the rest becomes a new segment
 * right behind it). False when the segment is shared with a clone below us or no skb is free.
 */
export function tcpFragment(net: Net, c: number, skb: SkBuff, len: number): boolean {
  const pool = net.pool;
  if (pool.isCloned(skb) || len <= 0 || len >= skb.len) return false;
  const rest = pool.alloc();
  if (rest === null) return false;
  const n = skb.len - len;
  copyBytes(pool.buf, rest.put(n), pool.buf, skb.data + len, n);
  skb.trim(len);
  rest.cb[CB_SEQ] = (skb.cb[CB_SEQ] + len) >>> 0;
  rest.cb[CB_END] = skb.cb[CB_END];
  rest.cb[CB_FLAGS] = skb.cb[CB_FLAGS];
  rest.cb[CB_SENT] = skb.cb[CB_SENT];
  rest.cb[CB_XMIT] = skb.cb[CB_XMIT];
  skb.cb[CB_END] = rest.cb[CB_SEQ];
  skb.cb[CB_FLAGS] &= ~TCP_FIN; // the FIN goes with the last byte
  const q = net.tcp.tcb.writeQueue[c];
  rest.next = skb.next;
  skb.next = rest;
  if (q.tail === skb) q.tail = rest;
  q.qlen++;
  return true;
}

/** Retransmit the first unacknowledged segment (fast retransmit, or after a timeout). */
export function tcpRetransmitHead(net: Net, c: number): boolean {
  const t = net.tcp.tcb;
  const head = t.writeQueue[c].head;
  if (head === null || head === t.sendHead[c]) return false;
  if (head.len > t.mss[c]) tcpFragment(net, c, head, t.mss[c]);
  head.cb[CB_FLAGS] &= ~SEG_LOST;
  head.cb[CB_FLAGS] |= SEG_RETRANS;
  return tcpTransmitSkb(net, c, head);
}

/**
 * A SYN-ACK that keeps no state, in answer to SYN `syn`: `cookie` as its sequence number,
 * an MSS option only.
 */
export function tcpSendSynAckStateless(net: Net, syn: SkBuff, cookie: number, mss: number): void {
  const skb = buildSynAckStateless(net, syn, cookie, mss);
  if (skb === null) return;
  // From the address of the route the builder took (ip.rt: nothing has routed since).
  ipSend(net, skb, net.ipv4.rt.saddr, ipSaddr(net.pool.buf, syn.networkHeader), IPPROTO_TCP, 0, net.config.ipDefaultTtl, false);
}

/** tcpSendSynAckStateless's segment, routed and built; null when there is no route or no skb. */
function buildSynAckStateless(net: Net, syn: SkBuff, cookie: number, mss: number): SkBuff | null {
  const buf = net.pool.buf;
  // The SYN's addresses and ports, swapped.
  const saddr = ipDaddr(buf, syn.networkHeader);
  const daddr = ipSaddr(buf, syn.networkHeader);
  if (!net.ipv4.routeOutput(daddr, saddr)) return null;
  const skb = net.pool.alloc();
  if (skb === null) return null;
  const at = skb.put(TCP_HLEN + 4);
  const win = net.config.tcpRcvBufBytes < 65535 ? net.config.tcpRcvBufBytes : 65535;
  const ack = (syn.cb[CB_SEQ] + 1) >>> 0;
  tcpBuildHeader(buf, at, tcpDport(buf, syn.transportHeader), tcpSport(buf, syn.transportHeader), cookie, ack, TCP_HLEN + 4, TCP_SYN | TCP_ACK, win);
  tcpWriteOptMss(buf, at + TCP_HLEN, mss);
  setTcpCheck(buf, at, csumFold(csumPartial(buf, at, TCP_HLEN + 4, csumPseudoHeader(saddr, daddr, IPPROTO_TCP, TCP_HLEN + 4))));
  net.tcp.stats.outSegs++;
  return skb;
}

/**
 * A reset in answer to a received segment that has no connection (RFC 9293 3.10.7.1): its
 * ACK as our sequence number, or an ACK of everything it occupied. The addresses and ports
 * are the segment's own, swapped; the rest comes from its control block.
 */
export function tcpSendResetFor(net: Net, seg: SkBuff): void {
  const skb = buildResetFor(net, seg);
  if (skb === null) return;
  // From the address of the route the builder took (ip.rt: nothing has routed since).
  ipSend(net, skb, net.ipv4.rt.saddr, ipSaddr(net.pool.buf, seg.networkHeader), IPPROTO_TCP, 0, net.config.ipDefaultTtl, false);
}

/** tcpSendResetFor's segment, routed and built; null when there is no route or no skb. */
function buildResetFor(net: Net, seg: SkBuff): SkBuff | null {
  const ip = net.ipv4;
  const buf = net.pool.buf;
  const saddr = ipSaddr(buf, seg.networkHeader);
  const daddr = ipDaddr(buf, seg.networkHeader);
  if (!ip.routeOutput(saddr, daddr)) return null;
  const skb = net.pool.alloc();
  if (skb === null) return null;
  const segFlags = seg.cb[CB_FLAGS];
  const at = skb.put(TCP_HLEN);
  let seq = 0;
  let ack = 0;
  let flags = TCP_RST;
  if ((segFlags & TCP_ACK) !== 0) {
    seq = seg.cb[CB_ACK];
  } else {
    ack = (seg.cb[CB_END] + ((segFlags & TCP_SYN) !== 0 ? 1 : 0) + ((segFlags & TCP_FIN) !== 0 ? 1 : 0)) >>> 0;
    flags |= TCP_ACK;
  }
  tcpBuildHeader(buf, at, tcpDport(buf, seg.transportHeader), tcpSport(buf, seg.transportHeader), seq, ack, TCP_HLEN, flags, 0);
  setTcpCheck(buf, at, csumFold(csumPartial(buf, at, TCP_HLEN, csumPseudoHeader(daddr, saddr, IPPROTO_TCP, TCP_HLEN))));
  net.tcp.stats.outSegs++;
  net.tcp.stats.outRsts++;
  return skb;
}
