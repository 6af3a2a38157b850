// TCP timers (net/ipv4/tcp_timer.c), four per connection, made in init:
//   rtxTimer: retransmission (RFC 6298 5), or in its place a tail loss probe (RFC 8985 7),
//     RACK's reorder timer (RFC 8985 6.3) or the zero-window persist timer (RFC 9293 3.8.6.1),
//     as the connection's TF_TLP, TF_REORDER and TF_PERSIST flags say
//   delackTimer: the delayed ACK (RFC 1122 4.2.3.2)
//   waitTimer: TIME_WAIT's 2 MSL, else a writer's look again at an empty packet pool
//   keepaliveTimer: keepalive probes (RFC 1122 4.2.3.6)

import { SKB_DROP } from "../core/drop";
import type { Net } from "../core/net";
import type { SkBuff } from "../core/skb";
import { TCP_ACK, TCP_SYN } from "../wire/tcp";
import {
  CB_FLAGS, EPEERCLOSED, ETIMEDOUT, N_ACCEPT, N_CONNECTED, N_PEER_CLOSED, N_READABLE, N_REPORT, N_WRITABLE, SEG_LOST, SEG_RETRANS, SEG_SACKED, TCP_CLOSED, TCP_ESTABLISHED, TCP_LISTEN, TCP_SYN_RECV,
  TCP_SYN_SENT, TCP_TIME_WAIT, TF_FIN_QUEUED, TF_KEEPALIVE, TF_PEER_FIN, TF_PERSIST, TF_PINGPONG, TF_RECOVERY, TF_REORDER, TF_TLP,
  TF_TLP_OUT, tcpClockUs, type TcpOwner,
} from "./tcb";
import { sackRecovery } from "./recovery";
import { tcpSendAck, tcpSendControl, tcpTransmitSkb, tcpWriteXmit, tcpWriteXmitOne } from "./output";
import { tcpArmRtx, tcpPersistInterval, tcpRtoBackoff } from "./rtt";
import { tcpAbort, tcpChildren, tcpFree, tcpSetState } from "./table";
// mcconfig type-checks each module alone: the modules that add net.tcp
import type {} from "./init";

/**
 * Tail loss probe (RFC 8985 7.3): one new segment if the windows allow, else the last
 * one sent again, so the peer's ACK (with SACK) shows any loss at the tail without
 * waiting for the RTO. Then the RTO runs.
 */
function tailLossProbe(net: Net, c: number): void {
  const t = net.tcp.tcb;
  t.flags[c] |= TF_TLP_OUT;
  net.tcp.stats.lossProbes++;
  const before = t.sndNxt[c];
  const head = t.sendHead[c];
  if (head !== null) tcpWriteXmitOne(net, c);
  if (t.sndNxt[c] === before) {
    let last: SkBuff | null = null;
    for (let s = t.writeQueue[c].head; s !== null && s !== t.sendHead[c]; s = s.next) last = s;
    if (last !== null && (last.cb[CB_FLAGS] & SEG_SACKED) === 0) tcpTransmitSkb(net, c, last);
  }
  net.modTimer(t.rtxTimer[c], net.now() + t.rto[c]);
}

/** The zero-window persist timer (RFC 9293 3.8.6.1; RFC 1122 4.2.2.17). */
function persistTimer(net: Net, c: number): void {
  const t = net.tcp.tcb;
  if (t.sndWnd[c] > 0 && t.sndUna[c] === t.sndNxt[c]) {
    // A window too small to send into without silliness: the override (RFC 1122 4.2.3.4).
    tcpWriteXmit(net, c, true);
    if (t.sndNxt[c] !== t.sndUna[c]) return;
  }
  // Zero-window probe: an ACK one below the window's left edge draws the peer's window.
  net.tcp.stats.persistProbes++;
  tcpSendControl(net, c, (t.sndUna[c] - 1) >>> 0, TCP_ACK);
  net.modTimer(t.rtxTimer[c], net.now() + tcpPersistInterval(net, c));
}

/** The retransmission timer fired: RACK's reorder look, a probe, or RFC 6298 5.4-5.7. */
export function tcpRetransmitTimer(net: Net, c: number): void {
  const t = net.tcp.tcb;
  const cfg = net.config;
  const s = t.state[c];
  if (s === TCP_CLOSED || s === TCP_LISTEN || s === TCP_TIME_WAIT) return;
  if ((t.flags[c] & TF_REORDER) !== 0) {
    t.flags[c] &= ~TF_REORDER;
    return reorderTimer(net, c);
  }
  if ((t.flags[c] & TF_TLP) !== 0) {
    t.flags[c] &= ~TF_TLP;
    return tailLossProbe(net, c);
  }
  if ((t.flags[c] & TF_PERSIST) !== 0) return persistTimer(net, c);
  const retries = s === TCP_SYN_SENT || s === TCP_SYN_RECV ? cfg.tcpSynRetries : cfg.tcpRetries;
  if (t.backoff[c] >= retries) {
    if (s === TCP_SYN_SENT || s === TCP_SYN_RECV) net.tcp.stats.attemptFails++;
    return tcpAbort(net, c, ETIMEDOUT);
  }
  net.tcp.stats.timeouts++;
  tcpRtoBackoff(net, c);
  if (s === TCP_SYN_SENT) {
    net.tcp.stats.retransSegs++;
    tcpSendControl(net, c, t.iss[c], TCP_SYN);
  } else if (s === TCP_SYN_RECV) {
    net.tcp.stats.retransSegs++;
    tcpSendControl(net, c, t.iss[c], TCP_SYN | TCP_ACK);
  } else {
    return goBackN(net, c);
  }
  net.modTimer(t.rtxTimer[c], net.now() + t.rto[c]);
}

/** RACK's reorder timer: look for losses again, send what may go, and keep a timer running. */
function reorderTimer(net: Net, c: number): void {
  const t = net.tcp.tcb;
  sackRecovery(net, c, tcpClockUs(net.now()), true);
  tcpWriteXmit(net, c);
  if (!t.rtxTimer[c].pending && t.sndUna[c] !== t.sndMax[c]) tcpArmRtx(net, c);
}

/**
 * The RTO of a synchronized connection: a loss window, and back to the first unacknowledged
 * segment (RFC 5681 3.1, RFC 6298 5.4); the SACK scoreboard is forgotten (RFC 2018 8: the
 * receiver may renege). tcpRetransmitTimer's tail call: its frame is gone while this resends.
 */
function goBackN(net: Net, c: number): void {
  const t = net.tcp.tcb;
  const flight = (t.sndMax[c] - t.sndUna[c]) >>> 0;
  const half = flight >>> 1;
  t.ssthresh[c] = half > 2 * t.mss[c] ? half : 2 * t.mss[c];
  t.cwnd[c] = t.mss[c];
  t.dupAcks[c] = 0;
  t.flags[c] &= ~TF_RECOVERY;
  for (let s = t.writeQueue[c].head; s !== null; s = s.next) s.cb[CB_FLAGS] &= ~(SEG_SACKED | SEG_RETRANS | SEG_LOST);
  t.rackXmit[c] = 0;
  t.sendHead[c] = t.writeQueue[c].head;
  t.sndNxt[c] = t.sndUna[c];
  tcpWriteXmit(net, c);
  if (!t.rtxTimer[c].pending && t.writeQueue[c].head !== null) net.modTimer(t.rtxTimer[c], net.now() + t.rto[c]);
}

/** The peer spoke: the keepalive clock starts again. */
export function tcpKeepaliveHeard(net: Net, c: number): void {
  const t = net.tcp.tcb;
  if ((t.flags[c] & TF_KEEPALIVE) === 0) return;
  t.kaProbes[c] = 0;
  net.modTimer(t.keepaliveTimer[c], net.now() + net.config.tcpKeepaliveIdleMs);
}

/** RFC 1122 4.2.3.6: probe an idle connection (seq one below the window), give up after the probes. */
export function tcpKeepaliveTimer(net: Net, c: number): void {
  const t = net.tcp.tcb;
  const s = t.state[c];
  if ((t.flags[c] & TF_KEEPALIVE) === 0 || s < TCP_ESTABLISHED || s === TCP_TIME_WAIT) return;
  if (t.sndUna[c] !== t.sndMax[c] || t.sendHead[c] !== null) {
    // Data outstanding: the retransmission or persist timer watches the peer (as Linux).
    net.modTimer(t.keepaliveTimer[c], net.now() + net.config.tcpKeepaliveIdleMs);
    return;
  }
  if (t.kaProbes[c] >= net.config.tcpKeepaliveProbes) {
    net.tcp.stats.keepaliveTimeouts++;
    tcpAbort(net, c, ETIMEDOUT);
    return;
  }
  t.kaProbes[c]++;
  net.tcp.stats.keepaliveProbes++;
  tcpSendControl(net, c, (t.sndUna[c] - 1) >>> 0, TCP_ACK);
  net.modTimer(t.keepaliveTimer[c], net.now() + net.config.tcpKeepaliveIntervalMs);
}

/** The delayed ACK is due (RFC 1122 4.2.3.2: within 500 ms; config.tcpDelackMs). */
export function tcpDelackTimer(net: Net, c: number): void {
  const t = net.tcp.tcb;
  if (t.state[c] <= TCP_LISTEN || t.rcvSegs[c] === 0) return;
  net.tcp.stats.delayedAcks++;
  tcpSendAck(net, c);
}

/**
 * TIME_WAIT is over: the entry goes. Otherwise the packet pool held a writer back with
 * nothing in flight (Tcp.writable): its owner hears the whole state again, writable room
 * included, since no ACK will come to say the pool has room.
 */
export function tcpWaitTimer(net: Net, c: number): void {
  const t = net.tcp.tcb;
  if (t.state[c] === TCP_TIME_WAIT) tcpFree(net, c, SKB_DROP.SOCKET_CLOSE);
  else if (t.owner[c] !== null && t.state[c] >= TCP_ESTABLISHED) net.tcp.notify(c, N_REPORT);
}

/**
 * The owner hears of `events` (N_*): connected, readable (the bytes there now), writable,
 * the peer closed with everything read; or its whole state (N_REPORT); a listener's owner,
 * that connections wait (N_ACCEPT). It may write, read or close from each callback.
 */
export function tcpNotifyOwner(net: Net, c: number, events: number): void {
  const tcp = net.tcp;
  const t = tcp.tcb;
  if ((events & N_ACCEPT) !== 0) return listenerReady(net, c);
  const owner = t.owner[c];
  if (owner === null) return;
  if ((events & N_REPORT) !== 0) return tcpReportOwner(net, c);
  if ((events & N_CONNECTED) !== 0) owner.onWritable(tcp.writable(c));
  if ((events & N_READABLE) !== 0 && t.owner[c] === owner && tcp.readable(c) > 0) {
    const queued = t.sndQueued[c];
    owner.onReadable(tcp.readable(c));
    // The reader wrote in answer: an interactive connection (Linux's pingpong mode) has
    // its ACKs ride on the answers, so it makes no quick ACKs.
    if (t.sndQueued[c] > queued) t.flags[c] |= TF_PINGPONG;
  }
  if ((events & N_WRITABLE) !== 0 && t.owner[c] === owner && (t.flags[c] & TF_FIN_QUEUED) === 0) {
    const w = tcp.writable(c);
    if (w > 0) owner.onWritable(w);
  }
  if ((events & N_PEER_CLOSED) !== 0 && t.owner[c] === owner && tcp.readable(c) === 0) owner.onError(EPEERCLOSED);
}

/** Listener l's owner: connections wait to be accepted. */
function listenerReady(net: Net, l: number): void {
  const t = net.tcp.tcb;
  const lo = t.listenerOwner[l];
  if (lo === null || t.state[l] !== TCP_LISTEN) return;
  // The connection may have been reset since it was told of: none waits then.
  const waiting = tcpChildren(t, l, true);
  if (waiting > 0) lo.onConnections(waiting);
}

/** The whole state, as a new owner (a socket made with `from`) or a reader at the peer's FIN needs it. */
function tcpReportOwner(net: Net, c: number): void {
  const tcp = net.tcp;
  const t = tcp.tcb;
  if (t.state[c] < TCP_ESTABLISHED || t.state[c] === TCP_TIME_WAIT) return;
  const owner = t.owner[c] as TcpOwner;
  const w = tcp.writable(c);
  if (w > 0 || t.state[c] === TCP_ESTABLISHED) owner.onWritable(w);
  if (t.owner[c] !== owner) return;
  const r = tcp.readable(c);
  if (r > 0) owner.onReadable(r);
  else if ((t.flags[c] & TF_PEER_FIN) !== 0) owner.onError(EPEERCLOSED);
}

/** Enter TIME_WAIT (RFC 9293 3.10.7.4): no more retransmissions; the entry stays 2 MSL (config.tcpTimeWaitMs). */
export function tcpTimeWait(net: Net, c: number): void {
  const t = net.tcp.tcb;
  tcpSetState(net, c, TCP_TIME_WAIT);
  net.delTimer(t.rtxTimer[c]);
  net.modTimer(t.waitTimer[c], net.now() + net.config.tcpTimeWaitMs);
}
