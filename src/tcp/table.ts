// The connection table of one stack (Linux's inet hash tables, as a scan of a small fixed
// table): entries taken and given back, states kept in step with CurrEstab, lookups by
// 4-tuple and by listening port, ephemeral ports, a listener's children, and the abort
// that ends a connection with a reset.

import { kfreeSkbReason } from "../core/free";
import type { Net } from "../core/net";
import type { SkBuff } from "../core/skb";
import { SKB_DROP } from "../core/drop";
import { TCP_ACK, TCP_RST } from "../wire/tcp";
import {
  N_LISTED, TCP_CLOSED, TCP_CLOSE_WAIT, TCP_ESTABLISHED, TCP_LISTEN, TCP_QUICKACKS, TCP_SYN_RECV, TCP_TIME_WAIT, TF_AFTER_SKB, TF_OUTPUT_LISTED, type Tcb,
} from "./tcb";
import { oooPurge } from "./ooo";
import { tcpSendControl } from "./output";
import { tcpRttInit } from "./rtt";
// mcconfig type-checks each module alone: the modules that add net.tcp
import type {} from "./init";

const EPHEMERAL_FIRST = 49152;
/** ports from 49152 up (RFC 6335 6) */
export const EPHEMERAL_COUNT = 65536 - EPHEMERAL_FIRST;

/** A free entry, or -1 (counted TableFull). A full table gives up its oldest TIME_WAIT entry. */
export function tcpAlloc(net: Net): number {
  const tcp = net.tcp;
  const t = tcp.tcb;
  let oldest = -1;
  for (let c = 0; c < t.size; c++) {
    if (t.state[c] === TCP_CLOSED && t.owner[c] === null && t.listenerOwner[c] === null) {
      resetEntry(net, c);
      return c;
    }
    if (t.state[c] === TCP_TIME_WAIT && (oldest < 0 || t.waitTimer[c].expires < t.waitTimer[oldest].expires)) oldest = c;
  }
  if (oldest >= 0) {
    // A small device cannot hold every closed connection for 2 MSL: the oldest TIME_WAIT
    // goes rather than the new connection (lwIP does the same).
    tcp.stats.timeWaitReused++;
    tcpFree(net, oldest, SKB_DROP.SOCKET_CLOSE);
    resetEntry(net, oldest);
    return oldest;
  }
  tcp.stats.tableFull++;
  return -1;
}

/** A new connection's starting values (the rest is set as it opens). */
function resetEntry(net: Net, c: number): void {
  const t = net.tcp.tcb;
  t.flags[c] &= TF_OUTPUT_LISTED | TF_AFTER_SKB; // lists may still hold c: stay listed once
  t.sndQueued[c] = 0;
  t.rcvQueued[c] = 0;
  t.rcvSegs[c] = 0;
  t.quickAcks[c] = TCP_QUICKACKS;
  t.notifyPending[c] &= N_LISTED;
  t.errPending[c] = 0;
  tcpRttInit(net, c);
  t.dupAcks[c] = 0;
  t.parent[c] = -1;
  t.backlog[c] = 0;
  t.kaProbes[c] = 0;
  t.sendHead[c] = null;
  t.sndWscale[c] = 0;
  t.maxSndWnd[c] = 0;
  t.rackXmit[c] = 0;
  t.rackEnd[c] = 0;
  t.reoMult[c] = 1;
  t.tsRecent[c] = 0;
  t.tsRecentAt[c] = 0;
}

/** Free a connection: queues dropped with `reason`, timers stopped, entry back to CLOSED. */
export function tcpFree(net: Net, c: number, reason: number): void {
  const t = net.tcp.tcb;
  if (t.state[c] === TCP_ESTABLISHED || t.state[c] === TCP_CLOSE_WAIT) net.tcp.stats.currEstab--;
  net.delTimer(t.rtxTimer[c]);
  net.delTimer(t.delackTimer[c]);
  net.delTimer(t.waitTimer[c]);
  net.delTimer(t.keepaliveTimer[c]);
  purge(net, t.writeQueue[c].takeAll(), reason);
  purge(net, t.recvQueue[c].takeAll(), reason);
  oooPurge(net, t.oooQueue[c], reason);
  t.sendHead[c] = null;
  t.parent[c] = -1;
  t.state[c] = TCP_CLOSED;
}

/** Drop a list of skbs linked through skb.next (SkbQueue.takeAll). */
function purge(net: Net, list: SkBuff | null, reason: number): void {
  while (list !== null) {
    const next: SkBuff | null = list.next;
    list.next = null;
    kfreeSkbReason(net, list, reason);
    list = next;
  }
}

/** Set the state, keeping CurrEstab (RFC 4022: ESTABLISHED and CLOSE_WAIT). */
export function tcpSetState(net: Net, c: number, state: number): void {
  const t = net.tcp.tcb;
  const was = t.state[c] === TCP_ESTABLISHED || t.state[c] === TCP_CLOSE_WAIT;
  const now = state === TCP_ESTABLISHED || state === TCP_CLOSE_WAIT;
  if (was && !now) net.tcp.stats.currEstab--;
  if (!was && now) net.tcp.stats.currEstab++;
  t.state[c] = state;
}

/** Abort: a reset to the peer (when synchronized), the owner told, the entry freed. */
export function tcpAbort(net: Net, c: number, error: number): void {
  const t = net.tcp.tcb;
  const s = t.state[c];
  if (s >= TCP_SYN_RECV && s !== TCP_TIME_WAIT) {
    tcpSendControl(net, c, t.sndMax[c], TCP_RST | TCP_ACK);
    if (s === TCP_ESTABLISHED || s === TCP_CLOSE_WAIT) net.tcp.stats.estabResets++;
  }
  const owner = t.owner[c];
  t.owner[c] = null;
  tcpFree(net, c, SKB_DROP.SOCKET_CLOSE);
  if (owner !== null) owner.onError(error);
}

/** The connection for a 4-tuple (not a listener), or -1. */
export function tcpLookup(t: Tcb, laddr: number, lport: number, raddr: number, rport: number): number {
  for (let c = 0; c < t.size; c++) {
    const s = t.state[c];
    if (s > TCP_LISTEN && t.localPort[c] === lport && t.remotePort[c] === rport && t.remoteAddr[c] === raddr && t.localAddr[c] === laddr) return c;
  }
  return -1;
}

/** The listener for a local address and port (one bound to 0.0.0.0 takes every address), or -1. */
export function tcpLookupListener(t: Tcb, laddr: number, lport: number): number {
  for (let c = 0; c < t.size; c++) {
    if (t.state[c] === TCP_LISTEN && t.localPort[c] === lport && (t.localAddr[c] === 0 || t.localAddr[c] === laddr)) return c;
  }
  return -1;
}

/** Children of listener l: half-open ones (SYN_RECV), or those open and not yet accepted. */
export function tcpChildren(t: Tcb, l: number, open: boolean): number {
  let n = 0;
  for (let c = 0; c < t.size; c++) {
    if (t.parent[c] !== l) continue;
    if (open ? t.state[c] >= TCP_ESTABLISHED : t.state[c] === TCP_SYN_RECV) n++;
  }
  return n;
}

/** The next ephemeral port no entry uses, from the stack's rotating start; 0 when all are taken. */
export function tcpEphemeralPort(net: Net): number {
  const tcp = net.tcp;
  const t = tcp.tcb;
  for (let tries = 0; tries < EPHEMERAL_COUNT; tries++) {
    const p = EPHEMERAL_FIRST + tcp.ephemeralNext;
    tcp.ephemeralNext = (tcp.ephemeralNext + 1) % EPHEMERAL_COUNT;
    if (!portInUse(t, p)) return p;
  }
  return 0;
}

function portInUse(t: Tcb, port: number): boolean {
  for (let c = 0; c < t.size; c++) if (t.state[c] !== TCP_CLOSED && t.localPort[c] === port) return true;
  return false;
}
