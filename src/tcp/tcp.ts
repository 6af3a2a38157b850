// TCP of one stack: the connection table, initial sequence numbers (RFC 6528), the calls
// the socket layer makes (connect, listen, accept, write, read, close) and the timers
// (retransmission with RFC 6298 backoff, zero-window persist, delayed ACK, TIME_WAIT).

import { SKB_DROP } from "../core/drop";
import { consumeSkb, kfreeSkbReason } from "../core/free";
import type { Net } from "../core/net";
import type { NetDevice } from "../core/netdevice";
import { skbCopyBitsView, type SkBuff, type SkbPool } from "../core/skb";
import { copyView } from "../core/bytes";
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from "../wire/tcp";
import {
  CB_END, CB_FLAGS, CB_SENT, CB_SEQ, TCP_CLOSED, TCP_CLOSE_WAIT, TCP_ESTABLISHED, TCP_FIN_WAIT1, TCP_LAST_ACK,
  TCP_LISTEN, TCP_SYN_RECV, TCP_SYN_SENT, TCP_TIME_WAIT, TF_ACCEPTED, TF_FIN_QUEUED, TF_NODELAY, TF_ORPHAN, TF_PEER_FIN,
  SEG_LOST, SEG_RETRANS, SEG_SACKED, TF_KEEPALIVE, TF_PERSIST, TF_RECOVERY, TF_SACK, TCP_QUICKACKS, TF_ACK_BATCH, TF_PINGPONG, TF_REORDER, TF_TLP, TF_TLP_OUT, TF_TSTAMP, Tcb, TcpStats,
  tcpClockUs,
  type TcpListenerOwner, type TcpOwner,
} from "./tcb";
import { sackRecovery } from "./recovery";
import { tcpSendAck, tcpSendControl, tcpTransmitSkb, tcpWriteXmit, tcpWriteXmitOne, rcvWindow } from "./output";

// Errors a connection reports to its owner (negative errno, as Linux).
export const ECONNREFUSED = 111;
export const ECONNRESET = 104;
export const ETIMEDOUT = 110;
export const EHOSTUNREACH = 113;
/** the peer closed and everything it sent has been read */
export const EPEERCLOSED = 0;

/** MSS values a SYN cookie can carry (RFC 4987: a small table; the largest not above the peer's is used) */
export const COOKIE_MSS = Object.freeze([536, 1220, 1440, 1460] as const);

/** RFC 8985 7.2 WCDelAckT: how long a peer may hold the ACK of a lone segment */
const TLP_DELACK_MS = 200;
/** how soon a writer held back by an empty packet pool hears again */
const POOL_RETRY_MS = 50;
/** the shortest probe timeout (Linux's floor for tail loss probes) */
const TLP_MIN_MS = 10;

const EPHEMERAL_FIRST = 49152;
const EPHEMERAL_COUNT = 65536 - EPHEMERAL_FIRST;

export class Tcp {
  readonly #net: Net;
  readonly tcb: Tcb;
  readonly stats = new TcpStats();
  /** HalfSipHash key for initial sequence numbers (RFC 6528), from the platform's random source */
  readonly #key0: number;
  readonly #key1: number;
  /** HalfSipHash state words */
  readonly #sip = new Uint32Array(4);
  readonly #cookieKey0: number;
  readonly #cookieKey1: number;
  #nextEphemeral: number;
  /** our window scale shift: enough to offer the whole receive buffer (RFC 7323 2.3) */
  readonly rcvShift: number;
  /** the ISS for the connection a SYN opens from TIME_WAIT, set just before it is made */
  reuseIss = 0;
  reuseIssValid = false;
  /** when a SYN cookie was last sent (-Infinity: never) */
  cookieSentAt = -Infinity;
  /** the connection whose reader is being told of new data: what it writes answers it */
  answering = -1;
  /** connections owing an ACK at the end of the receive batch */
  readonly #ackBatch: Int16Array;
  #ackBatchCount = 0;
  #challengeWindowStart = -Infinity;
  #challengeCount = 0;

  constructor(net: Net) {
    this.#net = net;
    this.tcb = new Tcb(net, (c) => this.#onRtx(c), (c) => this.#onDelack(c), (c) => this.#onWait(c), (c) => this.#onKeepalive(c));
    this.#key0 = net.platform.random32();
    this.#key1 = net.platform.random32();
    this.#cookieKey0 = net.platform.random32();
    this.#cookieKey1 = net.platform.random32();
    this.#nextEphemeral = net.platform.random32() % EPHEMERAL_COUNT;
    let shift = 0;
    while ((65535 << shift) < net.config.tcpRcvBufBytes && shift < 14) shift++;
    this.rcvShift = shift;
    this.#ackBatch = new Int16Array(this.tcb.size);
  }

  /**
   * Owe connection c an ACK at the end of this receive batch: two full segments or more
   * arrived (RFC 1122 4.2.3.2), and the rest of the batch may add to them, as GRO
   * coalesces them in Linux. Any segment sent before then carries the ACK instead.
   */
  ackAtBatchEnd(c: number): void {
    const t = this.tcb;
    if ((t.flags[c] & TF_ACK_BATCH) !== 0) return;
    t.flags[c] |= TF_ACK_BATCH;
    this.#ackBatch[this.#ackBatchCount++] = c;
  }

  /** The receive batch is done (net_rx_action's end): send the ACKs owed. */
  rxBatchEnd(): void {
    const t = this.tcb;
    for (let i = 0; i < this.#ackBatchCount; i++) {
      const c = this.#ackBatch[i];
      if ((t.flags[c] & TF_ACK_BATCH) === 0) continue;
      t.flags[c] &= ~TF_ACK_BATCH;
      if (t.state[c] > TCP_LISTEN) tcpSendAck(this.#net, c);
    }
    this.#ackBatchCount = 0;
  }

  // ------------------------------------------------------------ table

  /** A free entry, or -1 (counted). */
  alloc(): number {
    const t = this.tcb;
    let oldest = -1;
    for (let c = 0; c < t.size; c++) {
      if (t.state[c] === TCP_CLOSED && t.owner[c] === null && t.listenerOwner[c] === null) {
        this.#reset(c);
        return c;
      }
      if (t.state[c] === TCP_TIME_WAIT && (oldest < 0 || t.waitTimer[c].expires < t.waitTimer[oldest].expires)) oldest = c;
    }
    if (oldest >= 0) {
      // A full table gives up its oldest TIME_WAIT entry rather than refuse (lwIP does the
      // same): a small device cannot hold every closed connection for 2 MSL.
      this.stats.timeWaitReused++;
      this.free(oldest, SKB_DROP.SOCKET_CLOSE);
      this.#reset(oldest);
      return oldest;
    }
    this.stats.tableFull++;
    return -1;
  }

  #reset(c: number): void {
    const t = this.tcb;
    const cfg = this.#net.config;
    t.flags[c] = 0;
    t.sndQueued[c] = 0;
    t.rcvQueued[c] = 0;
    t.rcvSegs[c] = 0;
    t.quickAcks[c] = TCP_QUICKACKS;
    t.srtt[c] = 0;
    t.rttvar[c] = 0;
    t.rto[c] = cfg.tcpRtoInitialMs;
    t.backoff[c] = 0;
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
  free(c: number, reason: number): void {
    const net = this.#net;
    const t = this.tcb;
    if (t.state[c] === TCP_ESTABLISHED || t.state[c] === TCP_CLOSE_WAIT) this.stats.currEstab--;
    net.delTimer(t.rtxTimer[c]);
    net.delTimer(t.delackTimer[c]);
    net.delTimer(t.waitTimer[c]);
    net.delTimer(t.keepaliveTimer[c]);
    purge(net, t.writeQueue[c], reason);
    purge(net, t.recvQueue[c], reason);
    purge(net, t.oooQueue[c], reason);
    t.sendHead[c] = null;
    t.parent[c] = -1;
    t.state[c] = TCP_CLOSED;
  }

  /** Set the state, keeping CurrEstab. */
  setState(c: number, state: number): void {
    const t = this.tcb;
    const was = t.state[c] === TCP_ESTABLISHED || t.state[c] === TCP_CLOSE_WAIT;
    const now = state === TCP_ESTABLISHED || state === TCP_CLOSE_WAIT;
    if (was && !now) this.stats.currEstab--;
    if (!was && now) this.stats.currEstab++;
    t.state[c] = state;
  }

  /** RFC 5961 7: at most config.tcpChallengeAcksPerSec challenge ACKs a second, all connections together. */
  allowChallengeAck(): boolean {
    const now = this.#net.now();
    if (now - this.#challengeWindowStart >= 1000) {
      this.#challengeWindowStart = now;
      this.#challengeCount = 0;
    }
    if (this.#challengeCount >= this.#net.config.tcpChallengeAcksPerSec) return false;
    this.#challengeCount++;
    return true;
  }

  /** RFC 6528: ISN = M + F(4-tuple, secret), M a 4 µs clock, F a keyed hash (HalfSipHash-2-4). */
  isn(laddr: number, lport: number, raddr: number, rport: number): number {
    const f = halfSipHash(this.#sip, this.#key0, this.#key1, laddr, raddr, ((lport << 16) | rport) >>> 0);
    return (f + Math.floor(this.#net.now() * 250)) >>> 0;
  }

  /** RFC 7323 5.4: a timestamp offset per connection, from a keyed hash (the peer cannot learn our uptime). */
  tsOffsetFor(laddr: number, lport: number, raddr: number, rport: number): number {
    return halfSipHash(this.#sip, this.#key1, this.#key0, raddr, laddr, ((rport << 16) | lport) >>> 0);
  }

  /** Our TSval for connection c now (a 1 ms clock, RFC 7323 5.4). */
  tsVal(c: number): number {
    return ((this.#net.now() >>> 0) + this.tcb.tsOffset[c]) >>> 0;
  }

  /** The connection for a 4-tuple (not a listener), or -1. */
  lookup(laddr: number, lport: number, raddr: number, rport: number): number {
    const t = this.tcb;
    for (let c = 0; c < t.size; c++) {
      const s = t.state[c];
      if (s > TCP_LISTEN && t.localPort[c] === lport && t.remotePort[c] === rport && t.remoteAddr[c] === raddr && t.localAddr[c] === laddr) return c;
    }
    return -1;
  }

  lookupListener(laddr: number, lport: number): number {
    const t = this.tcb;
    for (let c = 0; c < t.size; c++) {
      if (t.state[c] === TCP_LISTEN && t.localPort[c] === lport && (t.localAddr[c] === 0 || t.localAddr[c] === laddr)) return c;
    }
    return -1;
  }

  #portInUse(port: number): boolean {
    const t = this.tcb;
    for (let c = 0; c < t.size; c++) if (t.state[c] !== TCP_CLOSED && t.localPort[c] === port) return true;
    return false;
  }

  // ------------------------------------------------------------ calls from the socket layer

  /** Active open (RFC 9293 3.10.1): a SYN to (raddr, rport). Returns the connection index. */
  connect(raddr: number, rport: number, owner: TcpOwner, nodelay: boolean): number {
    const net = this.#net;
    const ip = net.ipv4;
    if (!ip.routeOutput(raddr, 0)) throw new Error(`TCP: no route to ${raddr >>> 24}.${(raddr >>> 16) & 255}.${(raddr >>> 8) & 255}.${raddr & 255}`);
    const laddr = ip.rt.saddr;
    const mtu = (ip.rt.dev as NetDevice).mtu;
    const c = this.alloc();
    if (c < 0) throw new RangeError(`TCP: connection table full (config.tcpSocketsMax is ${this.tcb.size})`);
    let lport = 0;
    for (let tries = 0; tries < EPHEMERAL_COUNT; tries++) {
      const p = EPHEMERAL_FIRST + this.#nextEphemeral;
      this.#nextEphemeral = (this.#nextEphemeral + 1) % EPHEMERAL_COUNT;
      if (!this.#portInUse(p)) {
        lport = p;
        break;
      }
    }
    if (lport === 0) throw new RangeError("TCP: no ephemeral port free");
    const t = this.tcb;
    t.localAddr[c] = laddr;
    t.localPort[c] = lport;
    t.remoteAddr[c] = raddr;
    t.remotePort[c] = rport;
    t.owner[c] = owner;
    if (nodelay) t.flags[c] |= TF_NODELAY;
    this.initSend(c, this.isn(laddr, lport, raddr, rport), mtu);
    t.rcvNxt[c] = 0;
    t.rcvAdv[c] = 0;
    this.setState(c, TCP_SYN_SENT);
    this.stats.activeOpens++;
    tcpSendControl(net, c, t.iss[c], TCP_SYN);
    net.modTimer(t.rtxTimer[c], net.now() + t.rto[c]);
    return c;
  }

  /** Send-side start: ISS, the SYN occupying it, MSS from the route MTU, initial cwnd (RFC 5681 3.1). */
  initSend(c: number, iss: number, mtu: number): void {
    const t = this.tcb;
    t.iss[c] = iss;
    t.sndUna[c] = iss;
    t.sndNxt[c] = (iss + 1) >>> 0;
    t.sndMax[c] = t.sndNxt[c];
    t.mss[c] = mtu - 40;
    t.tsOffset[c] = this.tsOffsetFor(t.localAddr[c], t.localPort[c], t.remoteAddr[c], t.remotePort[c]);
    t.sndWnd[c] = 0;
    t.cwnd[c] = 0; // set when the MSS is known
    t.ssthresh[c] = 0x7fffffff;
  }

  /** The MSS is settled (from the peer's option): set the initial window. */
  settleMss(c: number, peerMss: number): void {
    const t = this.tcb;
    // RFC 9293 3.7.1: without the option the peer takes 536.
    const mss = peerMss > 0 ? peerMss : 536;
    if (mss < t.mss[c]) t.mss[c] = mss < 64 ? 64 : mss;
    // The MSS counts data only; timestamps take 12 bytes of each segment (RFC 9293 3.7.1).
    if ((t.flags[c] & TF_TSTAMP) !== 0) t.mss[c] -= 12;
    const m = t.mss[c];
    t.cwnd[c] = m > 2190 ? 2 * m : m > 1095 ? 3 * m : 4 * m;
  }

  listen(laddr: number, lport: number, backlog: number, owner: TcpListenerOwner): number {
    if (laddr !== 0 && this.#net.ipv4.localDev(laddr) === null && (laddr >>> 24) !== 127) throw new TypeError("TCP: address is not one of this host's");
    const c = this.alloc();
    if (c < 0) throw new RangeError(`TCP: connection table full (config.tcpSocketsMax is ${this.tcb.size})`);
    let port = lport;
    if (port === 0) {
      for (let tries = 0; tries < EPHEMERAL_COUNT && port === 0; tries++) {
        const p = EPHEMERAL_FIRST + this.#nextEphemeral;
        this.#nextEphemeral = (this.#nextEphemeral + 1) % EPHEMERAL_COUNT;
        if (!this.#portInUse(p)) port = p;
      }
    } else if (this.lookupListener(laddr, port) >= 0) {
      throw new RangeError(`TCP: port ${port} is in use`);
    }
    const t = this.tcb;
    t.localAddr[c] = laddr;
    t.localPort[c] = port;
    t.backlog[c] = backlog;
    t.listenerOwner[c] = owner;
    this.setState(c, TCP_LISTEN);
    return c;
  }

  /** Children of listener l: half-open ones (SYN_RECV), or those open and not yet accepted. */
  children(l: number, open: boolean): number {
    const t = this.tcb;
    let n = 0;
    for (let c = 0; c < t.size; c++) {
      if (t.parent[c] !== l) continue;
      if (open ? t.state[c] >= TCP_ESTABLISHED : t.state[c] === TCP_SYN_RECV) n++;
    }
    return n;
  }

  /**
   * A SYN cookie (RFC 4987 3.6): our ISN carries a keyed hash of the 4-tuple, the peer's
   * ISN and a 64-second clock, with the MSS as an index in the low two bits, so a listener
   * whose SYN queue is full keeps no state until the handshake's ACK comes back.
   */
  cookie(laddr: number, lport: number, raddr: number, rport: number, peerIsn: number, mssIndex: number, age = 0): number {
    const clock = Math.floor(this.#net.now() / 64_000) - age;
    const h = halfSipHash(this.#sip, this.#cookieKey0, this.#cookieKey1, (laddr ^ peerIsn) >>> 0, (raddr ^ clock) >>> 0, ((lport << 16) | rport) >>> 0);
    return ((h & ~3) | mssIndex) >>> 0;
  }

  /** Were cookies sent within the two periods a cookie stays valid? */
  cookiesRecent(): boolean {
    return this.#net.now() - this.cookieSentAt < 128_000;
  }

  /** The MSS of a valid cookie (this or the last 64-second period), or 0. */
  checkCookie(laddr: number, lport: number, raddr: number, rport: number, peerIsn: number, cookie: number): number {
    const index = cookie & 3;
    for (let age = 0; age < 2; age++) {
      if (this.cookie(laddr, lport, raddr, rport, peerIsn, index, age) === cookie) return COOKIE_MSS[index];
    }
    return 0;
  }

  /** A connection of listener l that completed the handshake and is not yet taken, or -1. */
  accept(l: number): number {
    const t = this.tcb;
    for (let c = 0; c < t.size; c++) {
      if (t.parent[c] === l && (t.flags[c] & TF_ACCEPTED) === 0 && t.state[c] >= TCP_ESTABLISHED) {
        t.flags[c] |= TF_ACCEPTED;
        t.parent[c] = -1;
        return c;
      }
    }
    return -1;
  }

  /** Close a listener: connections it holds that nobody accepted are reset. */
  closeListener(l: number): void {
    const t = this.tcb;
    for (let c = 0; c < t.size; c++) if (t.parent[c] === l) this.abort(c, ECONNRESET);
    t.listenerOwner[l] = null;
    this.free(l, SKB_DROP.SOCKET_CLOSE);
  }

  /** Bytes that fit in the send buffer now. */
  writable(c: number): number {
    const t = this.tcb;
    const s = t.state[c];
    if ((s !== TCP_ESTABLISHED && s !== TCP_CLOSE_WAIT) || (t.flags[c] & TF_FIN_QUEUED) !== 0) return 0;
    const room = this.#net.config.tcpSndBufBytes - t.sndQueued[c];
    // Each segment needs a packet buffer; keep some for receiving (the reserve the
    // neighbour queues and reassembly leave too).
    const segs = this.#net.pool.available - (this.#net.config.skbSlots >> 4 > 2 ? this.#net.config.skbSlots >> 4 : 2);
    const bySkbs = segs > 0 ? segs * t.mss[c] : 0;
    if (bySkbs < t.mss[c] && room > 0 && t.sndUna[c] === t.sndMax[c] && !t.waitTimer[c].pending) {
      // The pool, not the send buffer, leaves no room, and no ACK will come to say when
      // that changes: look again shortly (the wait timer reports writable space).
      this.#net.modTimer(t.waitTimer[c], this.#net.now() + POOL_RETRY_MS);
    }
    return room < bySkbs ? room : bySkbs;
  }

  /**
   * tcp_sendmsg: queue `len` bytes as MSS-sized segments, then send what may go. The
   * caller checked writable(); returns false only when the pool ran out midway (nothing queued).
   */
  write(c: number, src: DataView, srcOff: number, len: number, whole: Uint8Array | null = null): boolean {
    const net = this.#net;
    const t = this.tcb;
    const pool = net.pool;
    const q = t.writeQueue[c];
    let seq = q.tail !== null ? q.tail.cb[CB_END] : t.sndNxt[c];
    const mss = t.mss[c];
    let off = 0;
    // Fill the last unsent segment first (it is still ours to grow).
    const last = q.tail;
    if (last !== null && last.cb[CB_SENT] === 0 && (last.cb[CB_FLAGS] & TCP_FIN) === 0 && last.len < mss && !pool.isCloned(last)) {
      const n = mss - last.len < len ? mss - last.len : len;
      copyIn(pool, last.put(n), src, srcOff, n, whole);
      last.cb[CB_END] = (last.cb[CB_END] + n) >>> 0;
      seq = last.cb[CB_END];
      off = n;
    }
    const first = q.tail;
    while (off < len) {
      const skb = pool.alloc();
      if (skb === null) {
        // Undo: take back what this call queued.
        while (q.tail !== first) {
          const s = q.tail as SkBuff;
          unlinkTail(q);
          pool.free(s);
        }
        return false;
      }
      const n = len - off < mss ? len - off : mss;
      copyIn(pool, skb.put(n), src, srcOff + off, n, whole);
      skb.cb[CB_SEQ] = seq;
      skb.cb[CB_END] = (seq + n) >>> 0;
      skb.cb[CB_FLAGS] = 0;
      skb.cb[CB_SENT] = 0;
      seq = skb.cb[CB_END];
      q.enqueue(skb);
      if (t.sendHead[c] === null) t.sendHead[c] = skb;
      off += n;
    }
    t.sndQueued[c] += len;
    // Data written in answer to data: an interactive connection (Linux's pingpong mode)
    // has its ACKs ride on the answers, so it makes no quick ACKs.
    if (this.answering === c) t.flags[c] |= TF_PINGPONG;
    tcpWriteXmit(net, c);
    return true;
  }

  /** Bytes waiting to be read. */
  readable(c: number): number {
    return this.tcb.rcvQueued[c] - this.#oooBytes(c);
  }

  #oooBytes(c: number): number {
    let n = 0;
    for (let s = this.tcb.oooQueue[c].head; s !== null; s = s.next) n += s.len;
    return n;
  }

  /** tcp_recvmsg: copy `len` bytes (<= readable) to dst; opens the window when it grew enough. */
  read(c: number, dst: DataView | null, dstOff: number, len: number): void {
    const net = this.#net;
    const t = this.tcb;
    const q = t.recvQueue[c];
    const before = rcvWindow(net, c);
    while (len > 0) {
      const skb = q.peek() as SkBuff;
      const n = skb.len < len ? skb.len : len;
      if (dst !== null) skbCopyBitsView(net.pool, skb, 0, dst, dstOff, n);
      dstOff += n;
      len -= n;
      t.rcvQueued[c] -= n;
      if (n === skb.len) consumeSkb(net, q.dequeue() as SkBuff);
      else skb.pull(n);
    }
    // Window update (RFC 1122 4.2.3.3): tell the peer once the window opened by a segment or more.
    const s = t.state[c];
    if ((s === TCP_ESTABLISHED || s === TCP_FIN_WAIT1) && rcvWindow(net, c) - before >= t.mss[c] && ((t.rcvAdv[c] - t.rcvNxt[c]) | 0) < 2 * t.mss[c]) {
      tcpSendAck(net, c);
    }
  }

  /**
   * read() for a new ArrayBuffer of `len` bytes (<= readable): when they lie in the first
   * segment, ArrayBuffer.prototype.slice copies them natively into the buffer that is the
   * result anyway; else word copies into a new one.
   */
  readBuffer(c: number, len: number): ArrayBuffer {
    const pool = this.#net.pool;
    const skb = this.tcb.recvQueue[c].peek() as SkBuff;
    const mem = pool.buf.buffer;
    if (skb.len >= len && skb.fragNext === null && mem instanceof ArrayBuffer) {
      const at = pool.buf.byteOffset + skb.data;
      const out = mem.slice(at, at + len);
      this.read(c, null, 0, len);
      return out;
    }
    const out = new ArrayBuffer(len);
    this.read(c, new DataView(out), 0, len);
    return out;
  }

  /** Read one byte (format "number"). */
  readByte(c: number, one: DataView): number {
    this.read(c, one, 0, 1);
    return one.getUint8(0);
  }

  /**
   * close (RFC 9293 3.10.4): queue a FIN after the data. Unread data, or a connection not
   * yet open, ends with a reset instead (as Linux does). The entry lives on, orphaned,
   * until the close completes.
   */
  close(c: number): void {
    const net = this.#net;
    const t = this.tcb;
    t.owner[c] = null;
    t.flags[c] |= TF_ORPHAN;
    const s = t.state[c];
    if (s === TCP_SYN_SENT || s === TCP_CLOSED) {
      this.free(c, SKB_DROP.SOCKET_CLOSE);
      return;
    }
    if (t.recvQueue[c].qlen > 0 || s === TCP_SYN_RECV) {
      this.abort(c, ECONNRESET);
      return;
    }
    if ((t.flags[c] & TF_FIN_QUEUED) !== 0) return;
    if (s !== TCP_ESTABLISHED && s !== TCP_CLOSE_WAIT) return;
    const fin = net.pool.alloc();
    if (fin === null) {
      this.abort(c, ECONNRESET);
      return;
    }
    const q = t.writeQueue[c];
    const seq = q.tail !== null ? q.tail.cb[CB_END] : t.sndNxt[c];
    fin.cb[CB_SEQ] = seq;
    fin.cb[CB_END] = (seq + 1) >>> 0;
    fin.cb[CB_FLAGS] = TCP_FIN;
    fin.cb[CB_SENT] = 0;
    q.enqueue(fin);
    if (t.sendHead[c] === null) t.sendHead[c] = fin;
    t.flags[c] |= TF_FIN_QUEUED;
    this.setState(c, s === TCP_ESTABLISHED ? TCP_FIN_WAIT1 : TCP_LAST_ACK);
    tcpWriteXmit(net, c);
  }

  /** Abort: a reset to the peer (when synchronized), the owner told, the entry freed. */
  abort(c: number, error: number): void {
    const net = this.#net;
    const t = this.tcb;
    const s = t.state[c];
    if (s >= TCP_SYN_RECV && s !== TCP_TIME_WAIT) {
      tcpSendControl(net, c, t.sndMax[c], TCP_RST | TCP_ACK);
      if (s === TCP_ESTABLISHED || s === TCP_CLOSE_WAIT) this.stats.estabResets++;
    }
    const owner = t.owner[c];
    t.owner[c] = null;
    this.free(c, SKB_DROP.SOCKET_CLOSE);
    if (owner !== null) owner.onError(error);
  }

  // ------------------------------------------------------------ timers

  /**
   * Arm the retransmission timer for what is in flight: an RTO (RFC 6298 5.3), or first a
   * tail loss probe after two smoothed RTTs (RFC 8985 7.2) when SACK can show what a probe
   * finds and no probe is out yet.
   */
  armRtx(c: number): void {
    const net = this.#net;
    const t = this.tcb;
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
  armReorder(c: number): void {
    const net = this.#net;
    const t = this.tcb;
    let ms = Math.ceil((t.srtt[c] >>> 2) / 1000);
    if (ms < net.config.timerTickMs) ms = net.config.timerTickMs;
    const at = net.now() + ms;
    const timer = t.rtxTimer[c];
    if (timer.pending && (t.flags[c] & TF_REORDER) === 0 && timer.expires <= at) return; // a probe or RTO comes first
    t.flags[c] = (t.flags[c] & ~TF_TLP) | TF_REORDER;
    net.modTimer(timer, at);
  }

  /**
   * Tail loss probe (RFC 8985 7.3): one new segment if the windows allow, else the last
   * one sent again, so the peer's ACK (with SACK) shows any loss at the tail without
   * waiting for the RTO. Then the RTO runs.
   */
  #onTlp(c: number): void {
    const net = this.#net;
    const t = this.tcb;
    t.flags[c] |= TF_TLP_OUT;
    this.stats.lossProbes++;
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

  /** RFC 6298 5.4-5.7: retransmit the earliest segment, back off, shrink cwnd (RFC 5681 3.1). */
  #onRtx(c: number): void {
    const net = this.#net;
    const t = this.tcb;
    const cfg = net.config;
    const s = t.state[c];
    if (s === TCP_CLOSED || s === TCP_LISTEN || s === TCP_TIME_WAIT) return;
    if ((t.flags[c] & TF_REORDER) !== 0) {
      t.flags[c] &= ~TF_REORDER;
      if (sackRecovery(net, c, tcpClockUs(net.now()), true)) this.armReorder(c);
      tcpWriteXmit(net, c);
      if (!t.rtxTimer[c].pending && t.sndUna[c] !== t.sndMax[c]) this.armRtx(c);
      return;
    }
    if ((t.flags[c] & TF_TLP) !== 0) {
      t.flags[c] &= ~TF_TLP;
      this.#onTlp(c);
      return;
    }
    if ((t.flags[c] & TF_PERSIST) !== 0) {
      if (t.sndWnd[c] > 0 && t.sndUna[c] === t.sndNxt[c]) {
        // A window too small to send into without silliness: the override (RFC 1122 4.2.3.4).
        tcpWriteXmit(net, c, true);
        if (t.sndNxt[c] !== t.sndUna[c]) return;
      }
      // Zero-window probe: an ACK one below the window's left edge draws the peer's window.
      this.stats.persistProbes++;
      tcpSendControl(net, c, (t.sndUna[c] - 1) >>> 0, TCP_ACK);
      t.backoff[c] = t.backoff[c] < 31 ? t.backoff[c] + 1 : 31;
      net.modTimer(t.rtxTimer[c], net.now() + Math.min(t.rto[c] * 2 ** t.backoff[c], cfg.tcpRtoMaxMs));
      return;
    }
    const retries = s === TCP_SYN_SENT || s === TCP_SYN_RECV ? cfg.tcpSynRetries : cfg.tcpRetries;
    if (t.backoff[c] >= retries) {
      if (s === TCP_SYN_SENT || s === TCP_SYN_RECV) this.stats.attemptFails++;
      this.abort(c, ETIMEDOUT);
      return;
    }
    this.stats.timeouts++;
    t.backoff[c]++;
    t.rto[c] = Math.min(t.rto[c] * 2, cfg.tcpRtoMaxMs);
    if (s === TCP_SYN_SENT) {
      this.stats.retransSegs++;
      tcpSendControl(net, c, t.iss[c], TCP_SYN);
    } else if (s === TCP_SYN_RECV) {
      this.stats.retransSegs++;
      tcpSendControl(net, c, t.iss[c], TCP_SYN | TCP_ACK);
    } else {
      const flight = (t.sndMax[c] - t.sndUna[c]) >>> 0;
      const half = flight >>> 1;
      t.ssthresh[c] = half > 2 * t.mss[c] ? half : 2 * t.mss[c];
      t.cwnd[c] = t.mss[c];
      t.dupAcks[c] = 0;
      t.flags[c] &= ~TF_RECOVERY;
      // Go back to the first unacknowledged segment (RFC 5681 3.1, RFC 6298 5.4); the
      // SACK scoreboard is forgotten (RFC 2018 8: the receiver may renege).
      for (let s = t.writeQueue[c].head; s !== null; s = s.next) s.cb[CB_FLAGS] &= ~(SEG_SACKED | SEG_RETRANS | SEG_LOST);
      t.rackXmit[c] = 0;
      t.sendHead[c] = t.writeQueue[c].head;
      t.sndNxt[c] = t.sndUna[c];
      tcpWriteXmit(net, c);
      if (!t.rtxTimer[c].pending && t.writeQueue[c].head !== null) net.modTimer(t.rtxTimer[c], net.now() + t.rto[c]);
      return;
    }
    net.modTimer(t.rtxTimer[c], net.now() + t.rto[c]);
  }

  /** Turn keepalive on or off for a connection (a socket option). */
  setKeepalive(c: number, on: boolean): void {
    const t = this.tcb;
    if (on) {
      t.flags[c] |= TF_KEEPALIVE;
      this.heardFrom(c);
    } else {
      t.flags[c] &= ~TF_KEEPALIVE;
      this.#net.delTimer(t.keepaliveTimer[c]);
    }
  }

  /** The peer spoke: the keepalive clock starts again. */
  heardFrom(c: number): void {
    const t = this.tcb;
    if ((t.flags[c] & TF_KEEPALIVE) === 0) return;
    t.kaProbes[c] = 0;
    const net = this.#net;
    net.modTimer(t.keepaliveTimer[c], net.now() + net.config.tcpKeepaliveIdleMs);
  }

  /** RFC 1122 4.2.3.6: probe an idle connection (seq one below the window), give up after the probes. */
  #onKeepalive(c: number): void {
    const net = this.#net;
    const t = this.tcb;
    const s = t.state[c];
    if ((t.flags[c] & TF_KEEPALIVE) === 0 || s < TCP_ESTABLISHED || s === TCP_TIME_WAIT) return;
    if (t.sndUna[c] !== t.sndMax[c] || t.sendHead[c] !== null) {
      // Data outstanding: the retransmission or persist timer watches the peer (as Linux).
      net.modTimer(t.keepaliveTimer[c], net.now() + net.config.tcpKeepaliveIdleMs);
      return;
    }
    if (t.kaProbes[c] >= net.config.tcpKeepaliveProbes) {
      this.stats.keepaliveTimeouts++;
      this.abort(c, ETIMEDOUT);
      return;
    }
    t.kaProbes[c]++;
    this.stats.keepaliveProbes++;
    tcpSendControl(net, c, (t.sndUna[c] - 1) >>> 0, TCP_ACK);
    net.modTimer(t.keepaliveTimer[c], net.now() + net.config.tcpKeepaliveIntervalMs);
  }

  #onDelack(c: number): void {
    const t = this.tcb;
    if (t.state[c] <= TCP_LISTEN || t.rcvSegs[c] === 0) return;
    this.stats.delayedAcks++;
    tcpSendAck(this.#net, c);
  }

  #onWait(c: number): void {
    const t = this.tcb;
    if (t.state[c] === TCP_TIME_WAIT) {
      this.free(c, SKB_DROP.SOCKET_CLOSE);
      return;
    }
    // A deferred report to a new owner (see deferNotify).
    const owner = t.owner[c];
    if (owner === null || t.state[c] < TCP_ESTABLISHED) return;
    const w = this.writable(c);
    if (w > 0 || t.state[c] === TCP_ESTABLISHED) owner.onWritable(w);
    if (t.owner[c] !== owner) return;
    const r = this.readable(c);
    if (r > 0) owner.onReadable(r);
    else if ((t.flags[c] & TF_PEER_FIN) !== 0) owner.onError(EPEERCLOSED);
  }

  /**
   * Report the connection's state to its owner on the next turn of the loop (a socket made
   * with `from`, or a reader that just drained the data after the peer's FIN). The
   * connection's wait timer does it: it only serves TIME_WAIT otherwise.
   */
  deferNotify(c: number): void {
    const t = this.tcb;
    if (t.state[c] === TCP_TIME_WAIT) return;
    this.#net.modTimer(t.waitTimer[c], this.#net.now());
  }

  /** Stack shutdown: every connection goes, silently. */
  flush(): void {
    const t = this.tcb;
    for (let c = 0; c < t.size; c++) {
      if (t.state[c] !== TCP_CLOSED) this.free(c, SKB_DROP.SHUTDOWN);
      t.owner[c] = null;
      t.listenerOwner[c] = null;
    }
  }
}

/**
 * Application bytes into the pool: a native copy when they are all of `whole` (a write
 * that fits one segment), else word copies through the DataView (no view is made per
 * segment: that would allocate).
 */
function copyIn(pool: SkbPool, at: number, src: DataView, srcOff: number, n: number, whole: Uint8Array | null): void {
  if (whole !== null && n === whole.length) pool.buf.set(whole, at);
  else copyView(pool.view, at, src, srcOff, n);
}

function unlinkTail(q: { head: SkBuff | null; tail: SkBuff | null; qlen: number; bytes: number }): void {
  const last = q.tail as SkBuff;
  if (q.head === last) {
    q.head = q.tail = null;
  } else {
    let p = q.head as SkBuff;
    while (p.next !== last) p = p.next as SkBuff;
    p.next = null;
    q.tail = p;
  }
  q.qlen--;
  q.bytes -= last.len;
}

function purge(net: Net, q: { dequeue(): SkBuff | null }, reason: number): void {
  let skb: SkBuff | null;
  while ((skb = q.dequeue()) !== null) kfreeSkbReason(net, skb, reason);
}

function rotl(x: number, b: number): number {
  return ((x << b) | (x >>> (32 - b))) >>> 0;
}

function sipRound(v: Uint32Array): void {
  v[0] += v[1]; v[1] = rotl(v[1], 5); v[1] ^= v[0]; v[0] = rotl(v[0], 16);
  v[2] += v[3]; v[3] = rotl(v[3], 8); v[3] ^= v[2];
  v[0] += v[3]; v[3] = rotl(v[3], 7); v[3] ^= v[0];
  v[2] += v[1]; v[1] = rotl(v[1], 13); v[1] ^= v[2]; v[2] = rotl(v[2], 16);
}

function sipWord(v: Uint32Array, m: number): void {
  v[3] ^= m;
  sipRound(v);
  sipRound(v);
  v[0] ^= m;
}

/** HalfSipHash-2-4 (32-bit words) of three words under a 64-bit key: the RFC 6528 F(). */
function halfSipHash(v: Uint32Array, k0: number, k1: number, m0: number, m1: number, m2: number): number {
  v[0] = k0;
  v[1] = k1;
  v[2] = 0x6c796765 ^ k0;
  v[3] = 0x74656462 ^ k1;
  sipWord(v, m0);
  sipWord(v, m1);
  sipWord(v, m2);
  const b = (12 << 24) >>> 0; // message length in the top byte
  v[3] ^= b;
  sipRound(v);
  sipRound(v);
  v[0] ^= b;
  v[2] ^= 0xff;
  sipRound(v);
  sipRound(v);
  sipRound(v);
  sipRound(v);
  return (v[1] ^ v[3]) >>> 0;
}

