// Round-trip time and the retransmission timeout (RFC 6298), all of it: the initial RTO,
// the estimator (2.2, 2.3) on the microsecond clock, Karn's rule (3), the backoff (5.5),
// each clamped by config.tcpRtoMinMs (Linux's 200 ms, not RFC 6298's 1 s) and tcpRtoMaxMs;
// and when the retransmission timer runs next: the RTO (5.1-5.3), a tail loss probe's PTO
// or RACK's reorder window (RFC 8985). timer.ts does what happens when it fires.
// srtt and rttvar are in microseconds (0: no sample yet), rto in milliseconds.

import type { Net } from "../core/net";
import type { SkBuff } from "../core/skb";
import { CB_SENT, CB_XMIT, TCP_ESTABLISHED, TF_RECOVERY, TF_REORDER, TF_SACK, TF_TLP, TF_TLP_OUT } from "./tcb";
// mcconfig type-checks each module alone: the modules that add net.tcp
import type {} from "./init";

/** RFC 6298 2.1: no sample yet, the initial RTO, no backoff. */
export function tcpRttInit(net: Net, c: number): void {
  const t = net.tcp.tcb;
  t.srtt[c] = 0;
  t.rttvar[c] = 0;
  t.rto[c] = net.config.tcpRtoInitialMs;
  t.backoff[c] = 0;
}

/** RFC 6298 2.2-2.4: a round-trip sample of `r` µs updates SRTT, RTTVAR and the RTO. */
export function tcpRttSample(net: Net, c: number, r: number): void {
  const t = net.tcp.tcb;
  const cfg = net.config;
  if (r < 1) r = 1;
  if (t.srtt[c] === 0) {
    // 2.2: the first sample.
    t.srtt[c] = r;
    t.rttvar[c] = r >>> 1;
  } else {
    // 2.3: RTTVAR first (beta 1/4, from the old SRTT), then SRTT (alpha 1/8).
    const srtt = t.srtt[c];
    const diff = srtt > r ? srtt - r : r - srtt;
    t.rttvar[c] = t.rttvar[c] - (t.rttvar[c] >>> 2) + (diff >>> 2);
    t.srtt[c] = srtt - (srtt >>> 3) + (r >>> 3) || 1;
  }
  // RTO = SRTT + max(G, 4 RTTVAR), G the clock granularity (the timer tick).
  const g = cfg.timerTickMs * 1000;
  const v = 4 * t.rttvar[c];
  let rto = Math.ceil((t.srtt[c] + (v > g ? v : g)) / 1000);
  if (rto < cfg.tcpRtoMinMs) rto = cfg.tcpRtoMinMs;
  if (rto > cfg.tcpRtoMaxMs) rto = cfg.tcpRtoMaxMs;
  t.rto[c] = rto;
}

/**
 * Karn's rule (RFC 6298 3): the µs since a newly acknowledged segment was sent, when it
 * was sent once only (the ACK of a resent segment cannot tell which copy it answers); else -1.
 */
export function tcpRttOfSegment(skb: SkBuff, nowUs: number): number {
  return skb.cb[CB_SENT] === 1 ? (nowUs - skb.cb[CB_XMIT]) | 0 : -1;
}

/** A round trip from a timestamp echo (RFC 7323 4.1: our TSval, 1 ms ticks, came back), in µs. */
export function tcpRttOfEcho(net: Net, c: number, tsEcr: number): number {
  return ((net.tcp.tsVal(c) - tsEcr) | 0) * 1000;
}

/** RFC 6298 5.5: the retransmission timer expired; back off (double the RTO, up to the maximum). */
export function tcpRtoBackoff(net: Net, c: number): void {
  const t = net.tcp.tcb;
  t.backoff[c]++;
  t.rto[c] = Math.min(t.rto[c] * 2, net.config.tcpRtoMaxMs);
}

/** The persist timer's next interval: the RTO doubled once per probe unanswered, up to the maximum (RFC 1122 4.2.2.17). */
export function tcpPersistInterval(net: Net, c: number): number {
  const t = net.tcp.tcb;
  t.backoff[c] = t.backoff[c] < 31 ? t.backoff[c] + 1 : 31;
  return Math.min(t.rto[c] * 2 ** t.backoff[c], net.config.tcpRtoMaxMs);
}

/** RFC 8985 7.2 WCDelAckT: how long a peer may hold the ACK of a lone segment */
const TLP_DELACK_MS = 200;
/** the shortest probe timeout (Linux's floor for tail loss probes) */
const TLP_MIN_MS = 10;

/**
 * Arm the retransmission timer for what is in flight: an RTO (RFC 6298 5.3), or first a
 * tail loss probe after two smoothed RTTs (RFC 8985 7.2) when SACK can show what a probe
 * finds and no probe is out yet.
 */
export function tcpArmRtx(net: Net, c: number): void {
  const t = net.tcp.tcb;
  if ((t.flags[c] & TF_REORDER) !== 0 && t.rtxTimer[c].pending) return; // it arms this after it runs
  const rto = t.rto[c];
  const f = t.flags[c];
  t.flags[c] &= ~(TF_TLP | TF_REORDER);
  if ((f & (TF_SACK | TF_RECOVERY | TF_TLP_OUT)) === TF_SACK && t.srtt[c] > 0 && t.backoff[c] === 0 && t.state[c] >= TCP_ESTABLISHED) {
    // 2 SRTT, plus a worst-case delayed ACK when one segment is out (its ACK may wait).
    let pto = (t.srtt[c] / 500) | 0;
    if (((t.sndMax[c] - t.sndUna[c]) | 0) <= t.mss[c]) pto += TLP_DELACK_MS;
    // At least 10 ms, as Linux: on a fast link 2 SRTT is less than a peer may hold an ACK.
    if (pto < TLP_MIN_MS) pto = TLP_MIN_MS;
    // Never later than the RTO would fire (Linux does the same): the probe comes first.
    t.flags[c] |= TF_TLP;
    net.modTimer(t.rtxTimer[c], net.now() + (pto < rto ? pto : rto));
    return;
  }
  net.modTimer(t.rtxTimer[c], net.now() + rto);
}

/** RACK's reorder timer (RFC 8985 6.3): look again once a reordering window (a quarter RTT) has passed. */
export function tcpArmReorder(net: Net, c: number): void {
  const t = net.tcp.tcb;
  let ms = Math.ceil((t.srtt[c] >>> 2) / 1000);
  if (ms < net.config.timerTickMs) ms = net.config.timerTickMs;
  const at = net.now() + ms;
  const timer = t.rtxTimer[c];
  if (timer.pending && (t.flags[c] & TF_REORDER) === 0 && timer.expires <= at) return; // a probe or RTO comes first
  t.flags[c] = (t.flags[c] & ~TF_TLP) | TF_REORDER;
  net.modTimer(timer, at);
}
