// The ACK of a segment in a synchronized state (net/ipv4/tcp_input.c tcp_ack): the send
// window, the SACK scoreboard, acknowledged segments off the write queue with an RTT
// sample, the congestion window (slow start, congestion avoidance, fast retransmit and
// NewReno or SACK recovery), the retransmission timer, and our FIN acknowledged.

import { SKB_DROP } from "../core/drop";
import { consumeSkb } from "../core/free";
import type { Net } from "../core/net";
import type { NetDevice } from "../core/netdevice";
import type { SkBuff } from "../core/skb";
import { TCP_FIN, type TcpOptions } from "../wire/tcp";
import { TF_RETRANS_HEAD,
  CB_ACK, CB_END, CB_FLAGS, CB_SENT, CB_SEQ, CB_WND, SEG_RETRANS, SEG_SACKED, TCP_CLOSING, TCP_FIN_WAIT1, TCP_FIN_WAIT2,
  TCP_LAST_ACK, TF_PERSIST, TF_RECOVERY, TF_REORDER, TF_SACK, TF_TLP, TF_TLP_OUT, TF_TSTAMP, seqGeq, seqLeq, seqLt, tcpClockUs,
} from "./tcb";
import { DUP_THRESH, enterRecovery, rackUpdate, sackRecovery, sackUpdate } from "./recovery";
import { tcpArmRtx, tcpRttOfEcho, tcpRttOfSegment, tcpRttSample } from "./rtt";
import { tcpFree, tcpSetState } from "./table";
import { tcpTimeWait } from "./timer";
// mcconfig type-checks each module alone: the modules that add net.ipv4 (and, through it, net.neigh), net.tcp
import type {} from "../ipv4/ipv4";
import type {} from "./init";

/**
 * The ACK field of a segment of connection c, at or above SND.UNA and not past SND.MAX
 * (RFC 9293 3.10.7.4 fifth; RFC 6298, 5681, 6582, 6675, 8985). Data it acknowledges leaves
 * the send buffer (sndQueued goes down). Each step is a function of its own and the last
 * one a tail call, so that little is held while a step resends.
 */
export function tcpAck(net: Net, c: number, seg: SkBuff, opts: TcpOptions): void {
  const windowChanged = ackUpdateWindow(net, c, seg);
  const nowUs = tcpClockUs(net.now());
  if ((net.tcp.tcb.flags[c] & TF_SACK) !== 0 && opts.sackCount > 0) sackUpdate(net, c, opts, nowUs);
  if (seg.cb[CB_ACK] === net.tcp.tcb.sndUna[c]) return dupAck(net, c, seg, opts, nowUs, windowChanged);
  return newAck(net, c, seg, opts, nowUs);
}

/**
 * tcp_ack_update_window: the send window (RFC 9293 3.10.7.4: SND.WL1 orders the updates;
 * the ACK is at least SND.UNA here). True when the segment's window differs from SND.WND.
 */
function ackUpdateWindow(net: Net, c: number, seg: SkBuff): boolean {
  const t = net.tcp.tcb;
  const seq = seg.cb[CB_SEQ];
  const scaled = seg.cb[CB_WND] << t.sndWscale[c];
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
  return windowChanged;
}

/** An ACK that acknowledges nothing new: a duplicate ACK may start recovery. */
function dupAck(net: Net, c: number, seg: SkBuff, opts: TcpOptions, nowUs: number, windowChanged: boolean): void {
  const t = net.tcp.tcb;
  const cb = seg.cb;
  const sack = (t.flags[c] & TF_SACK) !== 0;
  // A duplicate ACK (RFC 5681 2): nothing new, no data, same window, data outstanding.
  if (cb[CB_END] === cb[CB_SEQ] && (cb[CB_FLAGS] & TCP_FIN) === 0 && !windowChanged && t.sndMax[c] !== t.sndUna[c]) {
    t.dupAcks[c]++;
    if (sack) return sackRecovery(net, c, nowUs, false);
    if ((t.flags[c] & TF_RECOVERY) !== 0) {
      t.cwnd[c] += t.mss[c]; // inflate for each segment that left the network
    } else if (t.dupAcks[c] === DUP_THRESH) {
      // Fast retransmit (RFC 5681 3.2, RFC 6582 3.2 step 2).
      enterRecovery(net, c);
      net.tcp.sendAfterSkb(c, TF_RETRANS_HEAD);
      t.cwnd[c] = t.ssthresh[c] + DUP_THRESH * t.mss[c];
    }
  } else if (sack && opts.sackCount > 0) {
    return sackRecovery(net, c, nowUs, false);
  }
}

/** New data acknowledged: the write queue, the congestion window, the timer, our FIN. */
function newAck(net: Net, c: number, seg: SkBuff, opts: TcpOptions, nowUs: number): void {
  const acked = (seg.cb[CB_ACK] - net.tcp.tcb.sndUna[c]) >>> 0;
  const finAcked = cleanRtxQueue(net, c, seg, opts, nowUs);
  ackCongestion(net, c, acked, opts, nowUs);
  return ackDone(net, c, finAcked);
}

/**
 * tcp_clean_rtx_queue: SND.UNA moves to the ACK; acknowledged segments leave the write
 * queue, one in part is trimmed, and the oldest sent once times the round trip (RFC 6298
 * 3, Karn: never a resent one). True when our FIN was acknowledged.
 */
function cleanRtxQueue(net: Net, c: number, seg: SkBuff, opts: TcpOptions, nowUs: number): boolean {
  const t = net.tcp.tcb;
  const ack = seg.cb[CB_ACK];
  // New data acknowledged. Duplicate ACKs start counting again: in recovery a partial
  // ACK is no third duplicate (RFC 6675 marks losses from the scoreboard).
  t.dupAcks[c] = 0;
  // The path works (neigh_confirm, as Linux's dst_confirm).
  if (net.ipv4.routeOutput(t.remoteAddr[c], t.localAddr[c])) net.neigh.confirm(net.ipv4.rt.nexthop, net.ipv4.rt.dev as NetDevice);
  t.backoff[c] = 0;
  t.flags[c] &= ~TF_TLP_OUT;
  t.sndUna[c] = ack;
  if (seqLt(t.sndNxt[c], ack)) t.sndNxt[c] = ack;
  const q = t.writeQueue[c];
  let freed = 0;
  let finAcked = false;
  let rtt = -1;
  while (q.head !== null && seqLeq(q.head.cb[CB_END], ack)) {
    const skb = q.dequeue() as SkBuff;
    if ((skb.cb[CB_FLAGS] & TCP_FIN) !== 0) finAcked = true;
    else freed += skb.len;
    if (t.sendHead[c] === skb) t.sendHead[c] = skb.next;
    if (rtt < 0) rtt = tcpRttOfSegment(skb, nowUs);
    if (skb.cb[CB_SENT] > 0 && (skb.cb[CB_FLAGS] & SEG_SACKED) === 0) rackUpdate(net, c, skb, nowUs);
    consumeSkb(net, skb);
  }
  const head = q.head;
  if (head !== null && seqLt(head.cb[CB_SEQ], ack)) {
    const cut = (ack - head.cb[CB_SEQ]) >>> 0;
    if (rtt < 0) rtt = tcpRttOfSegment(head, nowUs);
    if (!net.pool.isCloned(head)) {
      head.pull(cut);
      head.cb[CB_SEQ] = ack;
      freed += cut;
    }
  }
  // Only resent segments acknowledged: the timestamp echo still times it (RFC 7323 4).
  if (rtt < 0 && (t.flags[c] & TF_TSTAMP) !== 0 && opts.hasTimestamp && opts.tsEcr !== 0) rtt = tcpRttOfEcho(net, c, opts.tsEcr);
  if (rtt >= 0) tcpRttSample(net, c, rtt);
  if (t.sendHead[c] === null && head !== null && seqGeq(head.cb[CB_SEQ], t.sndNxt[c])) t.sendHead[c] = head;
  t.sndQueued[c] -= freed;
  return finAcked;
}

/**
 * The congestion window on new data acknowledged (RFC 5681 3.1; RFC 6582 3.2 steps 3-5;
 * RFC 6675); SACK recovery goes on as a tail call.
 */
function ackCongestion(net: Net, c: number, acked: number, opts: TcpOptions, nowUs: number): void {
  const t = net.tcp.tcb;
  const sack = (t.flags[c] & TF_SACK) !== 0;
  const mss = t.mss[c];
  if ((t.flags[c] & TF_RECOVERY) !== 0) {
    if (seqGeq(t.sndUna[c], t.recover[c])) {
      // RFC 6582 3.2 step 3 option (2): cwnd = ssthresh, not the flight, which may be
      // near nothing after a recovery that resent many segments.
      t.cwnd[c] = t.ssthresh[c];
      t.flags[c] &= ~TF_RECOVERY;
      t.dupAcks[c] = 0;
      for (let s = t.writeQueue[c].head; s !== null; s = s.next) s.cb[CB_FLAGS] &= ~SEG_RETRANS;
      if (sack) return sackRecovery(net, c, nowUs, false); // losses past the recovery point start the next one
    } else if (sack) {
      return sackRecovery(net, c, nowUs, false);
    } else {
      // Partial ACK: the next hole, retransmitted now (once the skb is done); deflate by what was acked.
      net.tcp.sendAfterSkb(c, TF_RETRANS_HEAD);
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
    if (sack && opts.sackCount > 0) return sackRecovery(net, c, nowUs, false);
  }
}

/** The retransmission timer, and our FIN acknowledged (`finAcked`). */
function ackDone(net: Net, c: number, finAcked: boolean): void {
  const t = net.tcp.tcb;
  // RFC 6298 5.2/5.3: stop the timer when all is acknowledged, else restart it.
  if (t.sndUna[c] === t.sndMax[c]) {
    if ((t.flags[c] & TF_PERSIST) === 0) {
      t.flags[c] &= ~(TF_TLP | TF_REORDER);
      net.delTimer(t.rtxTimer[c]);
    }
  } else {
    tcpArmRtx(net, c);
  }
  if (finAcked) {
    const s = t.state[c];
    if (s === TCP_FIN_WAIT1) tcpSetState(net, c, TCP_FIN_WAIT2);
    else if (s === TCP_CLOSING) tcpTimeWait(net, c);
    else if (s === TCP_LAST_ACK) tcpFree(net, c, SKB_DROP.SOCKET_CLOSE);
  }
}
