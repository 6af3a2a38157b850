// TCP loss recovery with SACK (net/ipv4/tcp_recovery.c, tcp_input.c):
//   ACK with SACK blocks -> sackUpdate: scoreboard (RFC 6675) + RACK's newest delivery
//     -> markLost: DupThresh SACKed above a hole (RFC 6675 IsLost), or sent a quarter RTT
//        before something delivered (RACK, RFC 8985), which also finds lost resends
//     -> sackRecovery: enter recovery on the first loss, resend lost segments within cwnd
//   a segment sent just before a delivered one may be reordered, not lost: the reorder
//   timer (RACK's) looks again once the reordering window has passed.

import type { Net } from "../core/net";
import type { SkBuff } from "../core/skb";
import type { TcpOptions } from "../wire/tcp";
import { TF_RESEND, TF_RESEND_FIRST,
  CB_END, CB_FLAGS, CB_SEQ, CB_SENT, CB_XMIT, SEG_LOST, SEG_RETRANS, SEG_SACKED, TF_RECOVERY, seqGeq, seqGt, seqLeq, seqLt,
} from "./tcb";
import { tcpFragment, tcpPipe, tcpTransmitSkb } from "./output";
import { tcpArmReorder } from "./rtt";
// mcconfig type-checks each module alone: the modules that add net.tcp
import type {} from "./init";

/** RFC 6675 DupThresh: SACKed segments above a hole that make it lost */
export const DUP_THRESH = 3;
/** the reordering window grows to this many quarter RTTs (RFC 8985 6.2: up to SRTT) */
const REO_MULT_MAX = 4;
/** markLost's low bit: look again when the reordering window has passed */
const LOST_REORDER_DUE = 1;

/**
 * RACK (RFC 8985 6.2): remember the most recently sent segment known delivered. A resent
 * segment delivered sooner than half an RTT after its resend was most likely delivered
 * by its first transmission, so it says nothing about when the resend went out.
 */
export function rackUpdate(net: Net, c: number, skb: SkBuff, nowUs: number): void {
  const t = net.tcp.tcb;
  const xmit = skb.cb[CB_XMIT];
  if (skb.cb[CB_SENT] > 1 && ((nowUs - xmit) | 0) < t.srtt[c] >>> 1) {
    // The resend was needless: the path reorders more than the window allowed, so widen
    // it (RFC 8985 6.2 adapts on DSACK; this is the same evidence, by timing).
    if (t.reoMult[c] < REO_MULT_MAX) t.reoMult[c]++;
    return;
  }
  const d = (xmit - t.rackXmit[c]) | 0;
  if (d > 0 || (d === 0 && seqGt(skb.cb[CB_END], t.rackEnd[c])) || t.rackXmit[c] === 0) {
    t.rackXmit[c] = xmit;
    t.rackEnd[c] = skb.cb[CB_END];
  }
}

/** The SACK scoreboard (RFC 6675 2): mark the segments the peer holds (the blocks of `opts`), and feed RACK. */
export function sackUpdate(net: Net, c: number, opts: TcpOptions, nowUs: number): void {
  const t = net.tcp.tcb;
  const una = t.sndUna[c];
  const max = t.sndMax[c];
  for (let b = 0; b < opts.sackCount; b++) {
    const l = opts.sackBlocks[b * 2];
    const r = opts.sackBlocks[b * 2 + 1];
    // Ignore blocks outside what is in flight (RFC 2018 has no use for them; a blind attacker does).
    if (!seqGt(r, l) || seqLeq(r, una) || seqGt(r, max) || seqLt(l, una)) continue;
    net.tcp.stats.sackBlocksReceived++;
    for (let s = t.writeQueue[c].head; s !== null && s !== t.sendHead[c]; s = s.next) {
      if (seqGt(s.cb[CB_END], r)) break;
      const f = s.cb[CB_FLAGS];
      if ((f & SEG_SACKED) === 0 && seqGeq(s.cb[CB_SEQ], l)) {
        s.cb[CB_FLAGS] = (f | SEG_SACKED) & ~SEG_LOST;
        rackUpdate(net, c, s, nowUs);
      }
    }
  }
}

/**
 * Mark lost segments: a hole with DupThresh SACKed segments above it (RFC 6675 IsLost, by
 * segments), or one sent more than the reordering window (a quarter RTT) before the
 * newest delivered segment (RACK, RFC 8985 6.2), lost resends included. After the
 * reorder timer, what was sent before it and has waited an RTT and the window is lost too.
 * Returns how many were newly marked, times two, plus LOST_REORDER_DUE when a segment may
 * prove lost once the reordering window has passed (the reorder timer should look again).
 */
function markLost(net: Net, c: number, nowUs: number, timer: boolean): number {
  const tcp = net.tcp;
  const t = tcp.tcb;
  let due = 0;
  let sacked = 0;
  for (let s = t.writeQueue[c].head; s !== null && s !== t.sendHead[c]; s = s.next) if ((s.cb[CB_FLAGS] & SEG_SACKED) !== 0) sacked++;
  if (sacked === 0) return 0;
  const reoWnd = (t.srtt[c] >>> 2) * t.reoMult[c];
  const rackXmit = t.rackXmit[c];
  let marked = 0;
  for (let s = t.writeQueue[c].head; s !== null && s !== t.sendHead[c] && sacked > 0; s = s.next) {
    const f = s.cb[CB_FLAGS];
    if ((f & SEG_SACKED) !== 0) {
      sacked--;
      continue;
    }
    if ((f & SEG_LOST) !== 0) continue;
    const before = (rackXmit - s.cb[CB_XMIT]) | 0;
    const sentBefore = rackXmit !== 0 && (before > 0 || (before === 0 && seqLt(s.cb[CB_END], t.rackEnd[c])));
    if (sentBefore && (before > reoWnd || (timer && ((nowUs - s.cb[CB_XMIT]) | 0) >= t.srtt[c] + reoWnd))) {
      // Sent well before something that arrived: lost, and its resend too if it had one.
      s.cb[CB_FLAGS] = (f | SEG_LOST) & ~SEG_RETRANS;
      tcp.stats.rackLost++;
      marked++;
    } else if (sacked >= DUP_THRESH && (f & SEG_RETRANS) === 0) {
      s.cb[CB_FLAGS] = f | SEG_LOST;
      marked++;
    } else if (sentBefore) {
      due = LOST_REORDER_DUE;
    }
  }
  return marked * 2 + due;
}

/** Fast recovery begins (RFC 5681 3.2, RFC 6675 5): halve, remember where it ends. */
export function enterRecovery(net: Net, c: number): void {
  const tcp = net.tcp;
  const t = tcp.tcb;
  const mss = t.mss[c];
  const flight = (t.sndMax[c] - t.sndUna[c]) >>> 0;
  const half = flight >>> 1;
  t.ssthresh[c] = half > 2 * mss ? half : 2 * mss;
  t.cwnd[c] = t.ssthresh[c];
  t.recover[c] = t.sndMax[c];
  t.flags[c] |= TF_RECOVERY;
  tcp.stats.fastRetrans++;
}

/**
 * SACK loss recovery: mark what is lost (starting recovery on the first loss, or on the
 * DupThresh duplicate ACK), then resend lost segments in order while the pipe leaves room
 * in cwnd (RFC 6675 5, NextSeg rule 1); new data follows in tcpWriteXmit (rule 2). Arms
 * RACK's reorder timer when a segment may yet prove lost. `timer`: called by that timer.
 */
export function sackRecovery(net: Net, c: number, nowUs: number, timer: boolean): void {
  const tcp = net.tcp;
  const t = tcp.tcb;
  const lost = markLost(net, c, nowUs, timer);
  let marked = lost >>> 1;
  const due = (lost & LOST_REORDER_DUE) !== 0;
  if (t.dupAcks[c] >= DUP_THRESH) {
    const head = t.writeQueue[c].head;
    if (head !== null && head !== t.sendHead[c] && (head.cb[CB_FLAGS] & (SEG_SACKED | SEG_LOST | SEG_RETRANS)) === 0) {
      head.cb[CB_FLAGS] |= SEG_LOST;
      marked++;
    }
  }
  // Entering recovery, the first lost segment goes whatever the pipe (RFC 6675 5 step 4.3).
  let first = false;
  if ((t.flags[c] & TF_RECOVERY) === 0) {
    if (marked === 0) {
      if (due) tcpArmReorder(net, c);
      return;
    }
    enterRecovery(net, c);
    tcp.stats.sackRecoveries++;
    first = true;
  }
  if (due) tcpArmReorder(net, c);
  // Resent once the received skb is done (at once from the reorder timer: a tail call).
  return tcp.sendAfterSkb(c, first ? TF_RESEND | TF_RESEND_FIRST : TF_RESEND);
}

/**
 * Resend lost segments in order while the pipe leaves room in cwnd (RFC 6675 5, NextSeg
 * rule 1); `first`: the first goes whatever the pipe.
 */
export function tcpResendLost(net: Net, c: number, first: boolean): void {
  const t = net.tcp.tcb;
  let pipe = tcpPipe(net, c);
  for (let s = t.writeQueue[c].head; s !== null && s !== t.sendHead[c]; s = s.next) {
    if (pipe + s.len > t.cwnd[c] && pipe > 0 && !first) break;
    if ((s.cb[CB_FLAGS] & SEG_LOST) === 0) continue;
    if (s.len > t.mss[c]) tcpFragment(net, c, s, t.mss[c]);
    if (!tcpTransmitSkb(net, c, s)) break;
    s.cb[CB_FLAGS] = (s.cb[CB_FLAGS] & ~SEG_LOST) | SEG_RETRANS;
    net.tcp.stats.sackRetrans++;
    pipe += s.len;
    first = false;
  }
}
