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

// flags[]
export const TF_NODELAY = 1 << 0;
/** send an ACK at the end of this input */
export const TF_ACK_NOW = 1 << 1;
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

// skb.cb[CB_FLAGS] bits beside the TCP flags of the segment
/** the peer holds this segment (SACK scoreboard, RFC 6675) */
export const SEG_SACKED = 0x100;
/** retransmitted in the current recovery */
export const SEG_RETRANS = 0x200;

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

// skb.cb words while a segment is on a TCP queue
export const CB_SEQ = 0;
export const CB_END = 1;
/** TCP flags the segment carries (FIN) */
export const CB_FLAGS = 2;
/** times sent (0: not yet) */
export const CB_SENT = 3;

export class Tcb {
  readonly size: number;
  readonly state: Uint8Array;
  readonly flags: Uint16Array;
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
  readonly sndWl1: Uint32Array;
  readonly sndWl2: Uint32Array;
  readonly sndWscale: Uint8Array;
  /** bytes the application has written and not yet had acknowledged */
  readonly sndQueued: Uint32Array;
  /** sequence number of our FIN, once queued */
  readonly finSeq: Uint32Array;
  // receive sequence space
  readonly irs: Uint32Array;
  readonly rcvNxt: Uint32Array;
  /** right edge of the window we last advertised */
  readonly rcvAdv: Uint32Array;
  readonly rcvWscale: Uint8Array;
  /** bytes held for the reader (in order and out of order) */
  readonly rcvQueued: Uint32Array;
  /** segments received since our last ACK (delayed ACK) */
  readonly rcvSegs: Uint8Array;
  /** effective send MSS */
  readonly mss: Uint16Array;
  // RTT and RTO (RFC 6298), in ms
  readonly srtt: Float64Array;
  readonly rttvar: Float64Array;
  readonly rto: Float64Array;
  /** the segment being timed (Karn: only one, never a retransmitted one) */
  readonly rttSeq: Uint32Array;
  readonly rttStart: Float64Array;
  readonly rttTiming: Uint8Array;
  /** consecutive timeouts (exponential backoff) */
  readonly backoff: Uint8Array;
  // congestion control (RFC 5681, 6582)
  readonly cwnd: Uint32Array;
  readonly ssthresh: Uint32Array;
  readonly dupAcks: Uint8Array;
  readonly recover: Uint32Array;
  /** bytes acked toward the next cwnd increase in congestion avoidance */
  readonly ackedBytes: Uint32Array;
  /** highest sequence number the peer has SACKed (RFC 6675 HighACK side) */
  readonly sackHigh: Uint32Array;
  /** sequence number of the out-of-order segment received last (first SACK block, RFC 2018 4) */
  readonly oooLast: Uint32Array;
  /** listener of a connection not yet accepted; -1 otherwise */
  readonly parent: Int16Array;
  /** listener: most half-open connections (SYN queue), and most not yet accepted (accept queue) */
  readonly backlog: Uint8Array;
  /** when the connection was opened or the state last changed (diagnostics, TIME_WAIT) */
  readonly since: Float64Array;

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
  /** keepalive probes sent without an answer */
  readonly kaProbes: Uint8Array;
  /** options of the segment being processed (one per stack) */
  readonly opts = new TcpOptions();
  /** SACK blocks being sent (one per stack), and how many */
  readonly sackOut = new Uint32Array(8);
  sackCount = 0;

  constructor(net: Net, onRtx: (c: number) => void, onDelack: (c: number) => void, onWait: (c: number) => void, onKeepalive: (c: number) => void) {
    const n = (this.size = net.config.tcpSocketsMax);
    this.state = new Uint8Array(n);
    this.flags = new Uint16Array(n);
    this.localAddr = new Uint32Array(n);
    this.remoteAddr = new Uint32Array(n);
    this.localPort = new Uint16Array(n);
    this.remotePort = new Uint16Array(n);
    this.iss = new Uint32Array(n);
    this.sndUna = new Uint32Array(n);
    this.sndNxt = new Uint32Array(n);
    this.sndMax = new Uint32Array(n);
    this.sndWnd = new Uint32Array(n);
    this.sndWl1 = new Uint32Array(n);
    this.sndWl2 = new Uint32Array(n);
    this.sndWscale = new Uint8Array(n);
    this.sndQueued = new Uint32Array(n);
    this.finSeq = new Uint32Array(n);
    this.irs = new Uint32Array(n);
    this.rcvNxt = new Uint32Array(n);
    this.rcvAdv = new Uint32Array(n);
    this.rcvWscale = new Uint8Array(n);
    this.rcvQueued = new Uint32Array(n);
    this.rcvSegs = new Uint8Array(n);
    this.mss = new Uint16Array(n);
    this.srtt = new Float64Array(n);
    this.rttvar = new Float64Array(n);
    this.rto = new Float64Array(n);
    this.rttSeq = new Uint32Array(n);
    this.rttStart = new Float64Array(n);
    this.rttTiming = new Uint8Array(n);
    this.backoff = new Uint8Array(n);
    this.cwnd = new Uint32Array(n);
    this.ssthresh = new Uint32Array(n);
    this.dupAcks = new Uint8Array(n);
    this.recover = new Uint32Array(n);
    this.ackedBytes = new Uint32Array(n);
    this.sackHigh = new Uint32Array(n);
    this.oooLast = new Uint32Array(n);
    this.parent = new Int16Array(n).fill(-1);
    this.backlog = new Uint8Array(n);
    this.since = new Float64Array(n);
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
    this.kaProbes = new Uint8Array(n);
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
    for (const v of Object.values(this)) if (ArrayBuffer.isView(v) && !(v instanceof DataView)) n += (v as Uint8Array).BYTES_PER_ELEMENT;
    return n;
  }
}
