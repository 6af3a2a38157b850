// The three-way handshake's common parts (RFC 9293 3.5): the send side's start (ISS, MSS,
// initial window), the options a SYN or SYN-ACK brings; and the active side's arrival in
// SYN_SENT (RFC 9293 3.10.7.3). The passive side is in listen.ts.

import { SKB_DROP } from "../core/drop";
import { consumeSkb, kfreeSkbReason } from "../core/free";
import type { Net } from "../core/net";
import type { SkBuff } from "../core/skb";
import { IPV4_HLEN } from "../wire/ipv4";
import { TCP_ACK, TCP_HLEN, TCP_RST, TCP_SYN, type TcpOptions } from "../wire/tcp";
import {
  CB_ACK, CB_FLAGS, CB_SEQ, CB_WND, ECONNREFUSED, N_CONNECTED, TCP_ESTABLISHED, TCP_SYN_RECV, TF_SACK, TF_TSTAMP, TF_WSCALE, seqGt, seqLeq,
} from "./tcb";
import { tcpSendControl, tcpSendResetFor } from "./output";
import { tcpRttOfEcho, tcpRttSample } from "./rtt";
import { tcpAbort, tcpSetState } from "./table";
// mcconfig type-checks each module alone: the modules that add net.tcp
import type {} from "./init";

/** Send-side start: ISS, the SYN occupying it, MSS from the route MTU, initial cwnd (RFC 5681 3.1). */
export function tcpInitSend(net: Net, c: number, iss: number, mtu: number): void {
  const t = net.tcp.tcb;
  t.iss[c] = iss;
  t.sndUna[c] = iss;
  t.sndNxt[c] = (iss + 1) >>> 0;
  t.sndMax[c] = t.sndNxt[c];
  t.mss[c] = mtu - IPV4_HLEN - TCP_HLEN;
  t.tsOffset[c] = net.tcp.secrets.tsOffset(t.localAddr[c], t.localPort[c], t.remoteAddr[c], t.remotePort[c]);
  t.sndWnd[c] = 0;
  t.cwnd[c] = 0; // set when the MSS is known
  t.ssthresh[c] = 0x7fffffff;
}

/** The MSS is settled (from the peer's option): set the initial window. */
function settleMss(net: Net, c: number, peerMss: number): void {
  const t = net.tcp.tcb;
  // RFC 9293 3.7.1: without the option the peer takes 536.
  const mss = peerMss > 0 ? peerMss : 536;
  if (mss < t.mss[c]) t.mss[c] = mss < 64 ? 64 : mss;
  // The MSS counts data only; timestamps take 12 bytes of each segment (RFC 9293 3.7.1).
  if ((t.flags[c] & TF_TSTAMP) !== 0) t.mss[c] -= 12;
  const m = t.mss[c];
  t.cwnd[c] = m > 2190 ? 2 * m : m > 1095 ? 3 * m : 4 * m;
}

/**
 * The options of a SYN or SYN-ACK: MSS, window scale, SACK-permitted and timestamps, each
 * used only when both sides sent it (RFC 7323 2.2, 3.2; RFC 2018 2). `wnd`: the
 * segment's window, never scaled in a SYN.
 */
export function tcpAcceptSynOptions(net: Net, c: number, opts: TcpOptions, wnd: number): void {
  const t = net.tcp.tcb;
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
  settleMss(net, c, opts.mss);
  t.sndWnd[c] = wnd;
  t.maxSndWnd[c] = wnd;
}

/**
 * A segment to a connection in SYN_SENT (RFC 9293 3.10.7.3), with its options. The checks
 * and the SYN's state are functions of their own, so that this frame, held while the ACK
 * or SYN-ACK goes out, stays small.
 */
export function tcpSynSentRcv(net: Net, c: number, skb: SkBuff, opts: TcpOptions): void {
  if (!synSentAcceptable(net, c, skb)) return;
  synSentTakeSyn(net, c, skb, opts);
  if ((skb.cb[CB_FLAGS] & TCP_ACK) !== 0) {
    net.tcp.ackNow(c);
    consumeSkb(net, skb);
    if (net.tcp.tcb.owner[c] !== null) net.tcp.notify(c, N_CONNECTED);
    return;
  }
  // Simultaneous open (RFC 9293 3.5, figure 8): SYN_RECV, and a SYN-ACK.
  tcpSendControl(net, c, net.tcp.tcb.iss[c], TCP_SYN | TCP_ACK);
  consumeSkb(net, skb);
}

/**
 * An ACK of something we did not send draws a reset; a RST with an acceptable ACK refuses
 * the connection; anything but a SYN goes. False when the segment was dealt with here.
 */
function synSentAcceptable(net: Net, c: number, skb: SkBuff): boolean {
  const t = net.tcp.tcb;
  const ack = skb.cb[CB_ACK];
  const flags = skb.cb[CB_FLAGS];
  if ((flags & TCP_ACK) !== 0 && (seqLeq(ack, t.iss[c]) || seqGt(ack, t.sndMax[c]))) {
    if ((flags & TCP_RST) === 0) tcpSendResetFor(net, skb);
    kfreeSkbReason(net, skb, SKB_DROP.TCP_INVALID);
    return false;
  }
  if ((flags & TCP_RST) !== 0) {
    if ((flags & TCP_ACK) !== 0) {
      // Connection refused.
      net.tcp.stats.attemptFails++;
      consumeSkb(net, skb);
      tcpAbort(net, c, ECONNREFUSED);
      return false;
    }
    kfreeSkbReason(net, skb, SKB_DROP.TCP_INVALID);
    return false;
  }
  if ((flags & TCP_SYN) === 0) {
    kfreeSkbReason(net, skb, SKB_DROP.TCP_INVALID);
    return false;
  }
  return true;
}

/** The peer's SYN: its sequence number and options; with an ACK of ours, ESTABLISHED, else SYN_RECV. */
function synSentTakeSyn(net: Net, c: number, skb: SkBuff, opts: TcpOptions): void {
  const t = net.tcp.tcb;
  const seq = skb.cb[CB_SEQ];
  t.rcvNxt[c] = (seq + 1) >>> 0;
  t.rcvAdv[c] = t.rcvNxt[c];
  tcpAcceptSynOptions(net, c, opts, skb.cb[CB_WND]);
  t.sndWl1[c] = seq;
  if ((skb.cb[CB_FLAGS] & TCP_ACK) === 0) {
    tcpSetState(net, c, TCP_SYN_RECV);
    return;
  }
  t.sndUna[c] = skb.cb[CB_ACK];
  net.delTimer(t.rtxTimer[c]);
  // The SYN-ACK's echo times the handshake (a SYN sent again gives no sample, Karn).
  if ((t.flags[c] & TF_TSTAMP) !== 0 && opts.tsEcr !== 0) tcpRttSample(net, c, tcpRttOfEcho(net, c, opts.tsEcr));
  t.backoff[c] = 0;
  tcpSetState(net, c, TCP_ESTABLISHED);
}
