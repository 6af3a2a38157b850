// A segment to a connection in a synchronized state, or in SYN_RECV (net/ipv4/tcp_input.c
// tcp_rcv_established and tcp_rcv_state_process; RFC 9293 3.10.7.4 "SEGMENT ARRIVES"):
//   PAWS -> sequence acceptable? -> RST (RFC 5961) -> SYN (challenge ACK) -> ACK (ack.ts)
//   -> data in order to the receive queue, else the out-of-order queue (ooo.ts) -> FIN
//   -> what may be sent now -> an ACK if one is due -> the owner hears, last.

import { SKB_DROP } from "../core/drop";
import { consumeSkb, kfreeSkbReason } from "../core/free";
import type { Net } from "../core/net";
import type { SkBuff } from "../core/skb";
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type TcpOptions } from "../wire/tcp";
import { N_ACCEPT,
  CB_ACK, CB_END, CB_FLAGS, CB_SEQ, CB_WND, ECONNRESET, N_ACK_NOW, N_CONNECTED, N_OWNER_EVENTS, N_PEER_CLOSED, N_READABLE, N_WRITABLE,
  TCP_CLOSED, TCP_CLOSE_WAIT, TCP_CLOSING, TCP_ESTABLISHED, TCP_FIN_WAIT1, TCP_FIN_WAIT2, TCP_SYN_RECV, TCP_TIME_WAIT, TF_ACCEPTED,
  TF_ORPHAN, TF_PEER_FIN, TF_PINGPONG, TF_TSTAMP, seqGeq, seqGt, seqLeq, seqLt, type Tcb,
} from "./tcb";
import { tcpAck } from "./ack";
import { oooInsert, oooPullInOrder } from "./ooo";
import { tcpSendResetFor } from "./output";
import { tcpChildren, tcpFree, tcpSetState } from "./table";
import { tcpTimeWait } from "./timer";
// mcconfig type-checks each module alone: the modules that add net.tcp
import type {} from "./init";

/** RFC 7323 5.5: a TS.Recent older than 24 days no longer gates PAWS */
const PAWS_IDLE_S = 24 * 24 * 3600;
/** PAWS forgives a timestamp one tick old (Linux TCP_PAWS_WINDOW): a resend may have moved TS.Recent */
const PAWS_WINDOW = 1;

/**
 * A segment (control block filled by tcpV4Rcv) with its options, to connection c. Consumes
 * the skb. The steps are functions of their own, so that this frame, held while a step
 * sends, stays small.
 */
export function tcpRcvEstablished(net: Net, c: number, skb: SkBuff, opts: TcpOptions): void {
  // First to fourth, and the ACK bit: dropped (or answered) inside when not acceptable.
  if (!segmentAcceptable(net, c, skb, opts)) return;
  // Fifth: the ACK. What it acknowledges leaves the send buffer: room to write.
  let notify = ackAcceptable(net, c, skb);
  if (notify < 0) return;
  const queued = net.tcp.tcb.sndQueued[c];
  if (seqGeq(skb.cb[CB_ACK], net.tcp.tcb.sndUna[c])) tcpAck(net, c, skb, opts);
  if (net.tcp.tcb.sndQueued[c] < queued) notify |= N_WRITABLE;
  // Seventh and eighth: data and FIN.
  notify = segmentData(net, c, skb, notify);
  if (notify < 0) return;
  // New data goes when the tasklet runs (the window may have opened): after the batch.
  if (net.tcp.tcb.sendHead[c] !== null) net.tcp.push(c);
  if ((notify & N_ACK_NOW) !== 0) net.tcp.ackNow(c);
  return tell(net, c, notify);
}

/**
 * PAWS, the sequence number, RST, SYN and the ACK bit (RFC 9293 3.10.7.4 first to fifth).
 * False when the segment was dropped here (with an ACK or a challenge ACK where due, or
 * the connection reset); true when its ACK is next.
 */
function segmentAcceptable(net: Net, c: number, skb: SkBuff, opts: TcpOptions): boolean {
  const tcp = net.tcp;
  const t = tcp.tcb;
  const seq = skb.cb[CB_SEQ];
  const flags = skb.cb[CB_FLAGS];
  const rcvNxt = t.rcvNxt[c];
  // PAWS (RFC 7323 5.3 R1): a timestamp older than TS.Recent marks an old duplicate from
  // a wrapped sequence space; acknowledge and drop it. Resets are exempt, and a TS.Recent
  // idle for 24 days is stale (5.5).
  const ts = (t.flags[c] & TF_TSTAMP) !== 0 && opts.hasTimestamp;
  const nowSec = (net.now() / 1000) >>> 0;
  if (ts && (flags & TCP_RST) === 0 && ((t.tsRecent[c] - opts.tsVal) | 0) > PAWS_WINDOW) {
    if (((nowSec - t.tsRecentAt[c]) >>> 0) <= PAWS_IDLE_S) {
      tcp.stats.pawsEstabRejected++;
      tcp.ackNow(c);
      kfreeSkbReason(net, skb, SKB_DROP.TCP_RFC7323_PAWS);
      return false;
    }
    t.tsRecent[c] = opts.tsVal;
    t.tsRecentAt[c] = nowSec;
  }
  if (!seqAcceptable(t, c, skb)) {
    if ((flags & TCP_RST) === 0) {
      if (t.state[c] === TCP_TIME_WAIT && (flags & TCP_FIN) !== 0) net.modTimer(t.waitTimer[c], net.now() + net.config.tcpTimeWaitMs);
      tcp.ackNow(c);
    }
    kfreeSkbReason(net, skb, SKB_DROP.TCP_OUT_OF_WINDOW);
    return false;
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
      return false;
    }
    consumeSkb(net, skb);
    resetRcv(net, c, t.state[c]);
    return false;
  }
  // Fourth: a SYN in a synchronized state (RFC 5961 4.2): challenge ACK.
  if ((flags & TCP_SYN) !== 0) {
    challengeAck(net, c);
    kfreeSkbReason(net, skb, SKB_DROP.TCP_INVALID);
    return false;
  }
  // Fifth: no ACK bit, no use.
  if ((flags & TCP_ACK) === 0) {
    kfreeSkbReason(net, skb, SKB_DROP.TCP_INVALID);
    return false;
  }
  return true;
}

/**
 * First: is the sequence number acceptable (the four cases of RFC 9293 3.10.7.4)? A zero
 * window still takes ACKs, RSTs and a segment at exactly rcvNxt (for its ACK).
 */
function seqAcceptable(t: Tcb, c: number, skb: SkBuff): boolean {
  const cb = skb.cb;
  const seq = cb[CB_SEQ];
  const flags = cb[CB_FLAGS];
  const rcvNxt = t.rcvNxt[c];
  let rcvWnd = (t.rcvAdv[c] - rcvNxt) | 0;
  if (rcvWnd < 0) rcvWnd = 0;
  const segLen = ((cb[CB_END] - seq) >>> 0) + ((flags & TCP_SYN) !== 0 ? 1 : 0) + ((flags & TCP_FIN) !== 0 ? 1 : 0);
  let ok: boolean;
  if (segLen === 0) ok = rcvWnd === 0 ? seq === rcvNxt : seqGeq(seq, rcvNxt) && seqLt(seq, (rcvNxt + rcvWnd) >>> 0);
  else ok = rcvWnd > 0 && (
    (seqGeq(seq, rcvNxt) && seqLt(seq, (rcvNxt + rcvWnd) >>> 0)) ||
    (seqGt((seq + segLen - 1) >>> 0, rcvNxt) || (seq + segLen - 1) >>> 0 === rcvNxt) && seqLt((seq + segLen - 1) >>> 0, (rcvNxt + rcvWnd) >>> 0)
  );
  return ok || (rcvWnd === 0 && seq === rcvNxt);
}

/**
 * The ACK of a SYN_RECV connection completes the handshake (N_CONNECTED); an ACK of what
 * we never sent draws a challenge. -1 when the segment was dropped here.
 */
function ackAcceptable(net: Net, c: number, skb: SkBuff): number {
  const tcp = net.tcp;
  const t = tcp.tcb;
  const cb = skb.cb;
  const ack = cb[CB_ACK];
  let notify = 0;
  if (t.state[c] === TCP_SYN_RECV) {
    if (!(seqGt(ack, t.sndUna[c]) && seqLeq(ack, t.sndMax[c]))) {
      tcpSendResetFor(net, skb);
      kfreeSkbReason(net, skb, SKB_DROP.TCP_INVALID);
      return -1;
    }
    const l = t.parent[c];
    if (l >= 0 && tcpChildren(t, l, true) >= t.backlog[l]) {
      // Accept queue full (Linux listen_overflow): stay half-open; the peer's next segment, or
      // our SYN-ACK timer, tries again once the application has read a connection.
      tcp.stats.listenOverflows++;
      kfreeSkbReason(net, skb, SKB_DROP.TCP_LISTEN_OVERFLOW);
      return -1;
    }
    tcpSetState(net, c, TCP_ESTABLISHED);
    t.sndWnd[c] = cb[CB_WND] << t.sndWscale[c];
    if (t.sndWnd[c] > t.maxSndWnd[c]) t.maxSndWnd[c] = t.sndWnd[c];
    t.sndWl1[c] = cb[CB_SEQ];
    notify |= N_CONNECTED;
  }
  if (seqGt(ack, t.sndMax[c])) {
    // It acknowledges what we never sent (RFC 5961 5.2): challenge, drop.
    challengeAck(net, c);
    kfreeSkbReason(net, skb, SKB_DROP.TCP_ACK_UNSENT);
    return -1;
  }
  return notify;
}

/**
 * After the ACK: data and FIN (RFC 9293 3.10.7.4 seventh and eighth), `notify` plus what
 * they add; -1 when the connection is gone (closed by the ACK, or reset for data after
 * the application closed).
 */
function segmentData(net: Net, c: number, skb: SkBuff, notify: number): number {
  const tcp = net.tcp;
  const t = tcp.tcb;
  const cb = skb.cb;
  const seq = cb[CB_SEQ];
  const len = (cb[CB_END] - seq) >>> 0;
  const s = t.state[c];
  if (s === TCP_CLOSED) {
    // LAST_ACK done: freed inside tcpAck.
    consumeSkb(net, skb);
    return -1;
  }
  // After the application closed, new data cannot be delivered: reset (RFC 1122
  // 4.2.2.13), so the peer knows it was lost.
  if (len > 0 && (t.flags[c] & TF_ORPHAN) !== 0 && seqGeq((seq + len) >>> 0, t.rcvNxt[c]) && (seq + len) >>> 0 !== t.rcvNxt[c]) {
    consumeSkb(net, skb);
    tcp.stats.abortOnData++;
    // Aborted (the reset sent) once the skb is done: off this frame.
    t.errPending[c] = ECONNRESET;
    tcp.sendAfterSkb(c, 0);
    return -1;
  }
  if (len > 0 || (cb[CB_FLAGS] & TCP_FIN) !== 0) {
    // A tail call: this frame is gone while the data is queued.
    if (s === TCP_ESTABLISHED || s === TCP_FIN_WAIT1 || s === TCP_FIN_WAIT2 || (s === TCP_SYN_RECV)) return dataRcv(net, c, skb, notify);
    {
      // CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT: the peer already sent its FIN; acknowledge again.
      if (s === TCP_TIME_WAIT) net.modTimer(t.waitTimer[c], net.now() + net.config.tcpTimeWaitMs);
      notify |= N_ACK_NOW;
      consumeSkb(net, skb);
    }
  } else {
    consumeSkb(net, skb);
  }
  return notify;
}

/** An acceptable RST (RFC 9293 3.10.7.4 second): the connection ends, or a child goes back to listening. */
function resetRcv(net: Net, c: number, state: number): void {
  const tcp = net.tcp;
  const t = tcp.tcb;
  if (state === TCP_SYN_RECV && (t.flags[c] & TF_ACCEPTED) === 0 && t.parent[c] >= 0) {
    tcp.stats.attemptFails++; // SYN-RCVD -> LISTEN (RFC 4022 tcpAttemptFails)
    tcpFree(net, c, SKB_DROP.SOCKET_CLOSE);
    return;
  }
  if (state === TCP_ESTABLISHED || state === TCP_CLOSE_WAIT || state === TCP_FIN_WAIT1 || state === TCP_FIN_WAIT2) tcp.stats.estabResets++;
  const owner = t.owner[c];
  t.owner[c] = null;
  tcpFree(net, c, SKB_DROP.SOCKET_CLOSE);
  if (owner !== null) owner.onError(ECONNRESET);
}

/** A challenge ACK (RFC 5961 3.2, 4.2), rate-limited. */
function challengeAck(net: Net, c: number): void {
  const tcp = net.tcp;
  if (!tcp.allowChallengeAck()) return;
  tcp.stats.challengeAcks++;
  tcp.ackNow(c);
}

/**
 * Data and FIN (RFC 9293 3.10.7.4 seventh and eighth): trimmed to what is new and fits the
 * window, then queued (dataQueue, a tail call). Consumes the skb; returns `notify` and the
 * N_* bits the data adds.
 */
function dataRcv(net: Net, c: number, skb: SkBuff, notify: number): number {
  const tcp = net.tcp;
  const t = tcp.tcb;
  const cb = skb.cb;
  let seq = cb[CB_SEQ];
  let len = (cb[CB_END] - seq) >>> 0;
  const fin = cb[CB_FLAGS] & TCP_FIN;
  const rcvNxt = t.rcvNxt[c];
  // Trim what we already have from the front, and what is past the window from the back.
  if (seqLt(seq, rcvNxt)) {
    const dup = (rcvNxt - seq) >>> 0;
    if (dup >= len) {
      if (fin === 0 || dup > len) {
        // A retransmission of what we have: say so at once.
        consumeSkb(net, skb);
        return notify | N_ACK_NOW;
      }
      // Old data with a new FIN (resent with the FIN joined): only the FIN is news.
      skb.pull(len);
      len = 0;
    } else {
      skb.pull(dup);
      len -= dup;
    }
    seq = rcvNxt;
    cb[CB_SEQ] = seq; // the end stays: the control block keeps describing what is held
  }
  const winEnd = seqGt(t.rcvAdv[c], rcvNxt) ? t.rcvAdv[c] : rcvNxt;
  if (seqGt((seq + len) >>> 0, winEnd)) {
    const over = (seq + len - winEnd) >>> 0;
    if (over >= len) {
      tcp.stats.zeroWindowDrops++;
      kfreeSkbReason(net, skb, SKB_DROP.TCP_ZEROWINDOW);
      return notify | N_ACK_NOW;
    }
    skb.trim(skb.len - over);
    len -= over;
    cb[CB_END] = (seq + len) >>> 0;
    cb[CB_FLAGS] &= ~TCP_FIN; // the FIN lay past the window too
  }
  if (seq !== rcvNxt) {
    // Out of order: keep it (bounded) and ACK at once, a duplicate ACK (RFC 5681 4.2).
    oooInsert(net, t.oooQueue[c], skb);
    return notify | N_ACK_NOW;
  }
  return dataQueue(net, c, skb, notify);
}

/** An in-order segment, and what follows it from the out-of-order queue, to the reader; the ACK it calls for. */
function dataQueue(net: Net, c: number, skb: SkBuff, notify: number): number {
  const tcp = net.tcp;
  const t = tcp.tcb;
  notify |= queueInOrder(net, c, skb);
  // Whatever now follows in order comes off the out-of-order queue.
  const ooo = t.oooQueue[c];
  while (ooo.head !== null && seqLeq(ooo.head.cb[CB_SEQ], t.rcvNxt[c])) {
    const next = oooPullInOrder(net, ooo, t.rcvNxt[c]);
    if (next === null) break;
    notify |= queueInOrder(net, c, next) | N_ACK_NOW;
  }
  // Delayed ACK (RFC 1122 4.2.3.2; RFC 5681 4.2): every second segment at once, else soon.
  if ((notify & N_ACK_NOW) === 0) {
    t.rcvSegs[c]++;
    if (t.quickAcks[c] > 0 && (t.flags[c] & TF_PINGPONG) === 0) {
      // Quick ACKs at the start of a connection (Linux's quickack mode): the peer's
      // congestion window is small, and a request answered in two writes would
      // otherwise wait for our delayed ACK.
      t.quickAcks[c]--;
      notify |= N_ACK_NOW;
    } else if (t.rcvSegs[c] * t.mss[c] >= net.config.tcpRcvBufBytes >> 1) {
      // Half the window unacknowledged: say so now, or a long receive batch
      // would leave the sender waiting on a closed window.
      notify |= N_ACK_NOW;
    } else if (t.rcvSegs[c] >= 2) {
      tcp.ackLater(c);
    }
    if (!t.delackTimer[c].pending) net.modTimer(t.delackTimer[c], net.now() + net.config.tcpDelackMs);
  }
  return notify;
}

/** An in-order segment (CB_SEQ == rcvNxt) to the reader; its FIN moves the state. */
function queueInOrder(net: Net, c: number, skb: SkBuff): number {
  const t = net.tcp.tcb;
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
    t.flags[c] |= TF_PEER_FIN;
    const s = t.state[c];
    if (s === TCP_ESTABLISHED || s === TCP_SYN_RECV) tcpSetState(net, c, TCP_CLOSE_WAIT);
    else if (s === TCP_FIN_WAIT1) {
      // Our FIN not yet acknowledged (tcpAck would have left FIN_WAIT1): simultaneous close (RFC 9293 3.6).
      tcpSetState(net, c, TCP_CLOSING);
    } else if (s === TCP_FIN_WAIT2) tcpTimeWait(net, c);
    notify |= N_PEER_CLOSED | N_ACK_NOW;
  }
  return notify;
}

/** Tell the owner what happened, last (Tcp.notify: when TCP's tasklet runs). */
function tell(net: Net, c: number, notify: number): void {
  const t = net.tcp.tcb;
  if ((notify & N_CONNECTED) !== 0 && t.parent[c] >= 0) net.tcp.notify(t.parent[c], N_ACCEPT);
  if (t.owner[c] === null) {
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
  const events = notify & N_OWNER_EVENTS;
  if (events === 0) return;
  return net.tcp.notify(c, events);
}
