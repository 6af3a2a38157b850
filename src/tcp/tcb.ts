// TCP connection state (struct tcp_sock), as a fixed table of parallel typed arrays made
// in init: one index per connection, listeners included. Everything here is numbers, so
// the per-connection state stays small and allocation-free; queues of skbs and three
// preallocated timers hang off each index.

import type { Net } from "../core/net";
import { SkbQueue, type SkBuff } from "../core/skb";
import type { Timer } from "../core/timer";
import { TcpOptions } from "../wire/tcp";

// RFC 9293 3.3.2 states.
export const TCP_CLOSED = 0;
export const TCP_LISTEN = 1;
export const TCP_SYN_SENT = 2;
export const TCP_SYN_RECV = 3;
export const TCP_ESTABLISHED = 4;
export const TCP_FIN_WAIT1 = 5;
export const TCP_FIN_WAIT2 = 6;
export const TCP_CLOSE_WAIT = 7;
export const TCP_CLOSING = 8;
export const TCP_LAST_ACK = 9;
export const TCP_TIME_WAIT = 10;

export const TCP_STATE_NAMES = Object.freeze([
  "CLOSED", "LISTEN", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
] as const);

// Errors a connection reports to its owner (errno values, as Linux).
export const ECONNREFUSED = 111;
export const ECONNRESET = 104;
export const ETIMEDOUT = 110;
export const EHOSTUNREACH = 113;
/** the peer closed and everything it sent has been read */
export const EPEERCLOSED = 0;

// flags[]
export const TF_NODELAY = 1 << 0;
/** on the TCP tasklet's output list (Tcp.push, Tcp.ackLater) */
export const TF_OUTPUT_LISTED = 1 << 1;
/** the application closed: a FIN is queued after the data */
export const TF_FIN_QUEUED = 1 << 2;
/** our FIN has been sent (it occupies sequence number finSeq) */
export const TF_FIN_SENT = 1 << 3;
/** the peer's FIN has been received (in order) */
export const TF_PEER_FIN = 1 << 4;
/** window scaling agreed (RFC 7323 2.2) */
export const TF_WSCALE = 1 << 5;
/** fast recovery (RFC 6582) in progress */
export const TF_RECOVERY = 1 << 6;
/** the socket object is gone: the connection finishes on its own */
export const TF_ORPHAN = 1 << 7;
/** an application accepted this connection from its listener */
export const TF_ACCEPTED = 1 << 8;
/** the zero-window persist timer is running (not the retransmission timer) */
export const TF_PERSIST = 1 << 9;
/** keepalive probes when idle (RFC 1122 4.2.3.6) */
export const TF_KEEPALIVE = 1 << 10;
/** SACK agreed (RFC 2018) */
export const TF_SACK = 1 << 11;
/** timestamps agreed (RFC 7323 3) */
export const TF_TSTAMP = 1 << 12;
/** the retransmission timer is a tail loss probe (RFC 8985 7), not an RTO */
export const TF_TLP = 1 << 13;
/** a tail loss probe was sent; no other until new data is acknowledged */
export const TF_TLP_OUT = 1 << 14;
/** the retransmission timer is RACK's reorder timer (RFC 8985 6.3) */
export const TF_REORDER = 1 << 15;
/** an ACK is owed when the TCP tasklet runs (the one ACK GRO would give a receive batch; a window update) */
export const TF_ACK_BATCH = 1 << 16;
/** interactive: we send data in answer to data (no quick ACKs; Linux's pingpong mode) */
export const TF_PINGPONG = 1 << 17;
/** the write queue is to be pushed when the TCP tasklet runs (Tcp.push) */
export const TF_XMIT = 1 << 18;
/** on the list of what goes once the received skb is done (Tcp.sendAfterSkb) */
export const TF_AFTER_SKB = 1 << 19;
/** an ACK is to go (Tcp.ackNow; RFC 5681 4.2) */
export const TF_ACK_NOW = 1 << 20;
/** lost segments are to be resent (RFC 6675 5, NextSeg rule 1) */
export const TF_RESEND = 1 << 21;
/** ... the first whatever the pipe (RFC 6675 5 step 4.3) */
export const TF_RESEND_FIRST = 1 << 22;
/** the first unacknowledged segment is to be resent (fast retransmit, RFC 5681 3.2; a smaller path MTU) */
export const TF_RETRANS_HEAD = 1 << 23;
/** what the receive path leaves for the end of the received skb */
export const TF_SEND_DECIDED = TF_ACK_NOW | TF_RESEND | TF_RESEND_FIRST | TF_RETRANS_HEAD;

/** quick ACKs at the start of a connection (Linux TCP_MAX_QUICKACKS) */
export const TCP_QUICKACKS = 16;

// skb.cb[CB_FLAGS] bits beside the TCP flags of the segment
/** the peer holds this segment (SACK scoreboard, RFC 6675) */
export const SEG_SACKED = 0x100;
/** retransmitted in the current recovery */
export const SEG_RETRANS = 0x200;
/** presumed lost (RFC 6675 IsLost, or sent before a delivered segment, RFC 8985): to resend */
export const SEG_LOST = 0x400;
/** out-of-order queue: the segment received last (the first SACK block reports it, RFC 2018 4) */
export const SEG_LAST_IN = 0x800;

// What a segment's processing returns: what to tell the owner afterwards, and whether
// an ACK is due at once (bits).
export const N_READABLE = 1;
export const N_WRITABLE = 2;
export const N_CONNECTED = 4;
export const N_PEER_CLOSED = 8;
/** not for the owner: ACK this segment now (out of order, a duplicate, a FIN; RFC 5681 4.2) */
export const N_ACK_NOW = 16;
/** for the owner: report the whole state (a new owner; a reader that drained the data after the FIN) */
export const N_REPORT = 32;
/** for a listener's owner: connections wait to be accepted */
export const N_ACCEPT = 64;
/** notifyPending: c is on the TCP tasklet's notify list */
export const N_LISTED = 128;
/** the events an owner hears of */
export const N_OWNER_EVENTS = N_READABLE | N_WRITABLE | N_CONNECTED | N_PEER_CLOSED;

/** What a connection tells its socket (sk_data_ready, sk_write_space, sk_error_report). */
export interface TcpOwner {
  /** connected (first call) or room to write */
  onWritable(bytes: number): void;
  onReadable(bytes: number): void;
  /** reset, timed out, refused, or the peer closed and everything was read */
  onError(reason: number): void;
}

/** What a listener tells its socket. */
export interface TcpListenerOwner {
  onConnections(waiting: number): void;
}

/** The TCP group of the MIB (RFC 4022), as Linux names it in /proc/net/snmp. */
export class TcpStats {
  activeOpens = 0;
  passiveOpens = 0;
  attemptFails = 0;
  estabResets = 0;
  currEstab = 0;
  inSegs = 0;
  outSegs = 0;
  retransSegs = 0;
  inErrs = 0;
  outRsts = 0;
  inCsumErrors = 0;
  // Linux TcpExt names
  listenOverflows = 0;
  listenDrops = 0;
  delayedAcks = 0;
  fastRetrans = 0;
  sackRecoveries = 0;
  sackRetrans = 0;
  sackBlocksReceived = 0;
  sackBlocksSent = 0;
  timeouts = 0;
  ofoQueue = 0;
  ofoDrop = 0;
  challengeAcks = 0;
  persistProbes = 0;
  keepaliveProbes = 0;
  keepaliveTimeouts = 0;
  /** TIME_WAIT connections ended early: by a new SYN (RFC 6191), or for a new connection when the table was full */
  timeWaitReused = 0;
  /** tail loss probes sent (Linux TCPLossProbes) */
  lossProbes = 0;
  /** segments presumed lost by RACK's time rule (RFC 8985), lost retransmissions included */
  rackLost = 0;
  /** segments with an old timestamp, dropped by PAWS (RFC 7323 5; Linux PAWSEstabRejected) */
  pawsEstabRejected = 0;
  /** segments to a listener with neither SYN nor ACK (a bare FIN, a NULL or Xmas probe), dropped unanswered (RFC 9293 3.10.7.2) */
  listenNoSynDrops = 0;
  zeroWindowDrops = 0;
  tableFull = 0;
  abortOnData = 0;
  syncookiesSent = 0;
  syncookiesRecv = 0;
  syncookiesFailed = 0;
}

/** sequence number arithmetic (Linux before()/after()) */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}
export function seqLeq(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}
export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}
export function seqGeq(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

// skb.cb words TCP uses (Linux TCP_SKB_CB). A received segment's are written once, in
// tcpV4Rcv, from its header; a segment on a queue keeps its range and flags there.
/** the first sequence number */
export const CB_SEQ = 0;
/** CB_SEQ + payload bytes (unlike Linux's end_seq, SYN and FIN are not counted) */
export const CB_END = 1;
/** received: the header's flags (kept on the receive queues); write queue: FIN; on a queue, SEG_* bits beside */
export const CB_FLAGS = 2;
/** write queue: times sent (0: not yet) */
export const CB_SENT = 3;
/** write queue: when last sent, on the microsecond clock (tcpClockUs): RTT samples and RACK */
export const CB_XMIT = 4;
/** received: the acknowledgment number (the word of CB_SENT: a received segment is never sent) */
export const CB_ACK = 3;
/** received: the window field, unscaled (the word of CB_XMIT) */
export const CB_WND = 4;
/** skb.cb words TCP uses (config.skbCbWords is at least this) */
export const TCP_CB_WORDS = 5;


/** The microsecond clock of TCP, modulo 2^32 (differences hold for 71 minutes). */
export function tcpClockUs(now: number): number {
  return (now * 1000) >>> 0;
}

export class Tcb {
  readonly size: number;
  readonly state: Uint8Array;
  readonly flags: Uint32Array;
  readonly localAddr: Uint32Array;
  readonly remoteAddr: Uint32Array;
  readonly localPort: Uint16Array;
  readonly remotePort: Uint16Array;
  // send sequence space (RFC 9293 3.3.1)
  readonly iss: Uint32Array;
  readonly sndUna: Uint32Array;
  readonly sndNxt: Uint32Array;
  /** highest sequence sent (sndNxt goes back on a timeout, this does not) */
  readonly sndMax: Uint32Array;
  /** the peer's window, in bytes (scaled) */
  readonly sndWnd: Uint32Array;
  /** largest window the peer has offered (sender SWS avoidance, RFC 1122 4.2.3.4) */
  readonly maxSndWnd: Uint32Array;
  /** sequence number of the segment that last updated sndWnd (RFC 9293 SND.WL1) */
  readonly sndWl1: Uint32Array;
  readonly sndWscale: Uint8Array;
  /** bytes the application has written and not yet had acknowledged */
  readonly sndQueued: Uint32Array;
  // receive sequence space
  readonly rcvNxt: Uint32Array;
  /** right edge of the window we last advertised */
  readonly rcvAdv: Uint32Array;
  /** bytes held in order for the reader (the out-of-order queue counts its own, in oooQueue.bytes) */
  readonly rcvQueued: Uint32Array;
  /** segments received since our last ACK (delayed ACK); 0: our last ACK was for rcvNxt */
  readonly rcvSegs: Uint8Array;
  /** data segments still to ACK at once (quickack mode) */
  readonly quickAcks: Uint8Array;
  /** N_* events the owner hears of when the TCP tasklet runs (Tcp.notify) */
  readonly notifyPending: Uint8Array;
  /** an ICMP error's verdict, applied once the received skb is done: the error to abort with (tcpV4Err) */
  readonly errPending: Uint8Array;
  /** effective send MSS (payload bytes per segment, options apart) */
  readonly mss: Uint16Array;
  // RTT and RTO (RFC 6298): srtt and rttvar in microseconds, rto in milliseconds
  readonly srtt: Uint32Array;
  readonly rttvar: Uint32Array;
  readonly rto: Uint32Array;
  /** consecutive timeouts (exponential backoff) */
  readonly backoff: Uint8Array;
  // congestion control (RFC 5681, 6582, 6675)
  readonly cwnd: Uint32Array;
  readonly ssthresh: Uint32Array;
  readonly dupAcks: Uint8Array;
  /** sndMax when recovery began: recovery ends once it is acknowledged */
  readonly recover: Uint32Array;
  // RACK (RFC 8985): the most recently sent segment known delivered
  readonly rackXmit: Uint32Array;
  readonly rackEnd: Uint32Array;
  /** RACK's reordering window, in quarter RTTs (widened by needless resends) */
  readonly reoMult: Uint8Array;
  // timestamps (RFC 7323)
  /** TS.Recent: the peer's TSval to echo */
  readonly tsRecent: Uint32Array;
  /** our TSval = millisecond clock + this (a per-connection offset, RFC 7323 5.4) */
  readonly tsOffset: Uint32Array;
  /** when tsRecent was set, in seconds (PAWS forgets a TS.Recent idle for 24 days, RFC 7323 5.5) */
  readonly tsRecentAt: Uint32Array;
  /** listener of a connection not yet accepted; -1 otherwise */
  readonly parent: Int16Array;
  /** listener: most half-open connections (SYN queue), and most not yet accepted (accept queue) */
  readonly backlog: Uint8Array;
  /** keepalive probes sent without an answer */
  readonly kaProbes: Uint8Array;

  /** all segments not yet acknowledged, sent or not, in sequence order */
  readonly writeQueue: SkbQueue[];
  /** first segment of the write queue not yet sent (null: all sent) */
  readonly sendHead: (SkBuff | null)[];
  /** in-order data for the reader (skb.data at the unread bytes) */
  readonly recvQueue: SkbQueue[];
  /** out-of-order segments, in sequence order, bounded */
  readonly oooQueue: SkbQueue[];
  readonly owner: (TcpOwner | null)[];
  readonly listenerOwner: (TcpListenerOwner | null)[];
  readonly rtxTimer: Timer[];
  readonly delackTimer: Timer[];
  /** TIME_WAIT, and deferred reports to a new owner */
  readonly waitTimer: Timer[];
  readonly keepaliveTimer: Timer[];
  /** where tcpV4Rcv parses a segment's options (one per stack; passed on with the segment) */
  readonly opts = new TcpOptions();
  /** where a segment's SACK blocks are gathered before they are written (one per stack) */
  readonly sackOut = new Uint32Array(8);

  constructor(net: Net, onRtx: (c: number) => void, onDelack: (c: number) => void, onWait: (c: number) => void, onKeepalive: (c: number) => void) {
    const n = (this.size = net.config.tcpSocketsMax);
    this.state = new Uint8Array(n);
    this.flags = new Uint32Array(n);
    this.localAddr = new Uint32Array(n);
    this.remoteAddr = new Uint32Array(n);
    this.localPort = new Uint16Array(n);
    this.remotePort = new Uint16Array(n);
    this.iss = new Uint32Array(n);
    this.sndUna = new Uint32Array(n);
    this.sndNxt = new Uint32Array(n);
    this.sndMax = new Uint32Array(n);
    this.sndWnd = new Uint32Array(n);
    this.maxSndWnd = new Uint32Array(n);
    this.sndWl1 = new Uint32Array(n);
    this.sndWscale = new Uint8Array(n);
    this.sndQueued = new Uint32Array(n);
    this.rcvNxt = new Uint32Array(n);
    this.rcvAdv = new Uint32Array(n);
    this.rcvQueued = new Uint32Array(n);
    this.rcvSegs = new Uint8Array(n);
    this.quickAcks = new Uint8Array(n);
    this.notifyPending = new Uint8Array(n);
    this.errPending = new Uint8Array(n);
    this.mss = new Uint16Array(n);
    this.srtt = new Uint32Array(n);
    this.rttvar = new Uint32Array(n);
    this.rto = new Uint32Array(n);
    this.backoff = new Uint8Array(n);
    this.cwnd = new Uint32Array(n);
    this.ssthresh = new Uint32Array(n);
    this.dupAcks = new Uint8Array(n);
    this.recover = new Uint32Array(n);
    this.rackXmit = new Uint32Array(n);
    this.rackEnd = new Uint32Array(n);
    this.reoMult = new Uint8Array(n);
    this.tsRecent = new Uint32Array(n);
    this.tsOffset = new Uint32Array(n);
    this.tsRecentAt = new Uint32Array(n);
    this.parent = new Int16Array(n).fill(-1);
    this.backlog = new Uint8Array(n);
    this.kaProbes = new Uint8Array(n);
    this.writeQueue = [];
    this.recvQueue = [];
    this.oooQueue = [];
    this.sendHead = new Array<SkBuff | null>(n).fill(null);
    this.owner = new Array<TcpOwner | null>(n).fill(null);
    this.listenerOwner = new Array<TcpListenerOwner | null>(n).fill(null);
    this.rtxTimer = [];
    this.delackTimer = [];
    this.waitTimer = [];
    this.keepaliveTimer = [];
    for (let i = 0; i < n; i++) {
      this.writeQueue.push(new SkbQueue());
      this.recvQueue.push(new SkbQueue());
      this.oooQueue.push(new SkbQueue());
      this.rtxTimer.push(net.timers.create(onRtx, i));
      this.delackTimer.push(net.timers.create(onDelack, i));
      this.waitTimer.push(net.timers.create(onWait, i));
      this.keepaliveTimer.push(net.timers.create(onKeepalive, i));
    }
  }

  /** Bytes of connection state per entry: the typed arrays (queues and timers apart). */
  stateBytesPerEntry(): number {
    let n = 0;
    for (const v of Object.values(this)) {
      if (ArrayBuffer.isView(v) && !(v instanceof DataView) && v !== this.sackOut) n += (v as Uint8Array).BYTES_PER_ELEMENT;
    }
    return n;
  }
}
