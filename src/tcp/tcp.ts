// TCP of one stack (net/ipv4/tcp.c, af_inet): its state (the connection table, the keyed
// hashes, the receive batch's owed ACKs, the challenge ACK limit) and the calls the socket
// layer makes: connect, listen, accept, write, read, close, keepalive. Segments arrive
// through input.ts; timers run timer.ts.

import { SKB_DROP } from "../core/drop";
import { consumeSkb } from "../core/free";
import type { Net } from "../core/net";
import type { NetDevice } from "../core/netdevice";
import { skbCopyBitsView, type SkBuff, type SkbPool } from "../core/skb";
import { copyView } from "../core/bytes";
import { ipIsLoopback } from "../wire/ipv4";
import { TCP_FIN, TCP_MAX_WSCALE, TCP_SYN } from "../wire/tcp";
import {
  CB_END, CB_FLAGS, CB_SENT, CB_SEQ, ECONNRESET, TCP_CLOSED, TCP_CLOSE_WAIT, TCP_ESTABLISHED, TCP_FIN_WAIT1, TCP_LAST_ACK,
  TCP_LISTEN, TCP_SYN_RECV, TCP_SYN_SENT, TF_ACCEPTED, TF_ACK_BATCH, TF_FIN_QUEUED, TF_KEEPALIVE, TF_NODELAY, TF_ORPHAN, Tcb,
  TcpStats, type TcpListenerOwner, type TcpOwner,
} from "./tcb";
import { TcpSecrets } from "./secure";
import { rcvWindow, tcpSendAck, tcpSendControl, tcpWriteXmit } from "./output";
import {
  EPHEMERAL_COUNT, tcpAbort, tcpAlloc, tcpChildren, tcpEphemeralPort, tcpFree, tcpLookupListener, tcpSetState,
} from "./table";
import { tcpInitSend } from "./handshake";
import {
  tcpDeferNotify, tcpDelackTimer, tcpKeepaliveHeard, tcpKeepaliveTimer, tcpNotifyOwner, tcpRetransmitTimer, tcpWaitTimer,
} from "./timer";
// mcconfig type-checks each module alone: the modules that add net.ipv4
import type {} from "../ipv4/ipv4";

/** how soon a writer held back by an empty packet pool hears again */
const POOL_RETRY_MS = 50;

export class Tcp {
  readonly #net: Net;
  readonly tcb: Tcb;
  readonly stats = new TcpStats();
  /** keys and hashes for ISNs, timestamp offsets and SYN cookies */
  readonly secrets: TcpSecrets;
  /** where the search for the next ephemeral port starts (an offset from 49152) */
  ephemeralNext: number;
  /** our window scale shift: enough to offer the whole receive buffer (RFC 7323 2.3) */
  readonly rcvShift: number;
  /** connections owing an ACK at the end of the receive batch */
  readonly #ackBatch: Int16Array;
  #ackBatchCount = 0;
  /** connections whose owner hears of events when the received skb is done (notifyPending) */
  readonly #notifyList: Int16Array;
  #notifyCount = 0;
  #challengeWindowStart = -Infinity;
  #challengeCount = 0;

  constructor(net: Net) {
    this.#net = net;
    this.tcb = new Tcb(net, (c) => tcpRetransmitTimer(net, c), (c) => tcpDelackTimer(net, c), (c) => tcpWaitTimer(net, c), (c) => tcpKeepaliveTimer(net, c));
    this.secrets = new TcpSecrets(net.platform);
    this.ephemeralNext = net.platform.random32() % EPHEMERAL_COUNT;
    let shift = 0;
    while ((65535 << shift) < net.config.tcpRcvBufBytes && shift < TCP_MAX_WSCALE) shift++;
    this.rcvShift = shift;
    this.#ackBatch = new Int16Array(this.tcb.size);
    this.#notifyList = new Int16Array(this.tcb.size);
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

  /**
   * The owner of c hears of `events` (N_*) once the received skb is done (rxSkbDone), from
   * the loop: its callbacks, and what they write, do not run on the receive path's frames.
   */
  notifyAfterSkb(c: number, events: number): void {
    const t = this.tcb;
    if (t.notifyPending[c] === 0) this.#notifyList[this.#notifyCount++] = c;
    t.notifyPending[c] |= events;
  }

  /** The received skb is done: owners hear what it brought (sk_data_ready's wake-up). */
  rxSkbDone(): void {
    const t = this.tcb;
    for (let i = 0; i < this.#notifyCount; i++) {
      const c = this.#notifyList[i];
      const events = t.notifyPending[c];
      t.notifyPending[c] = 0;
      if (events !== 0) tcpNotifyOwner(this.#net, c, events);
    }
    this.#notifyCount = 0;
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

  /** Our TSval for connection c now (a 1 ms clock, RFC 7323 5.4). */
  tsVal(c: number): number {
    return ((this.#net.now() >>> 0) + this.tcb.tsOffset[c]) >>> 0;
  }

  /** Children of listener l: half-open ones (SYN_RECV), or those open and not yet accepted. */
  children(l: number, open: boolean): number {
    return tcpChildren(this.tcb, l, open);
  }

  // ------------------------------------------------------------ calls from the socket layer

  /** Active open (RFC 9293 3.10.1): a SYN to (raddr, rport). Returns the connection index. */
  connect(raddr: number, rport: number, owner: TcpOwner, nodelay: boolean): number {
    const net = this.#net;
    const ip = net.ipv4;
    if (!ip.routeOutput(raddr, 0)) throw new Error(`TCP: no route to ${raddr >>> 24}.${(raddr >>> 16) & 255}.${(raddr >>> 8) & 255}.${raddr & 255}`);
    const laddr = ip.rt.saddr;
    const mtu = (ip.rt.dev as NetDevice).mtu;
    const c = tcpAlloc(net);
    if (c < 0) throw new RangeError(`TCP: connection table full (config.tcpSocketsMax is ${this.tcb.size})`);
    const lport = tcpEphemeralPort(net);
    if (lport === 0) throw new RangeError("TCP: no ephemeral port free");
    const t = this.tcb;
    t.localAddr[c] = laddr;
    t.localPort[c] = lport;
    t.remoteAddr[c] = raddr;
    t.remotePort[c] = rport;
    t.owner[c] = owner;
    if (nodelay) t.flags[c] |= TF_NODELAY;
    tcpInitSend(net, c, this.secrets.isn(net.now(), laddr, lport, raddr, rport), mtu);
    t.rcvNxt[c] = 0;
    t.rcvAdv[c] = 0;
    tcpSetState(net, c, TCP_SYN_SENT);
    this.stats.activeOpens++;
    tcpSendControl(net, c, t.iss[c], TCP_SYN);
    net.modTimer(t.rtxTimer[c], net.now() + t.rto[c]);
    return c;
  }

  /** Passive open: a listener on (laddr, lport), port 0 for an ephemeral one. Returns its index. */
  listen(laddr: number, lport: number, backlog: number, owner: TcpListenerOwner): number {
    const net = this.#net;
    if (laddr !== 0 && net.ipv4.localDev(laddr) === null && !ipIsLoopback(laddr)) throw new TypeError("TCP: address is not one of this host's");
    const c = tcpAlloc(net);
    if (c < 0) throw new RangeError(`TCP: connection table full (config.tcpSocketsMax is ${this.tcb.size})`);
    let port = lport;
    if (port === 0) port = tcpEphemeralPort(net);
    else if (tcpLookupListener(this.tcb, laddr, port) >= 0) throw new RangeError(`TCP: port ${port} is in use`);
    const t = this.tcb;
    t.localAddr[c] = laddr;
    t.localPort[c] = port;
    t.backlog[c] = backlog;
    t.listenerOwner[c] = owner;
    tcpSetState(net, c, TCP_LISTEN);
    return c;
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
    for (let c = 0; c < t.size; c++) if (t.parent[c] === l) tcpAbort(this.#net, c, ECONNRESET);
    t.listenerOwner[l] = null;
    tcpFree(this.#net, l, SKB_DROP.SOCKET_CLOSE);
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
    tcpWriteXmit(net, c);
    return true;
  }

  /** Bytes waiting to be read. */
  readable(c: number): number {
    return this.tcb.rcvQueued[c];
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
      // A segment in the receive queue is one skb (input linearizes): copy it straight.
      if (dst !== null) {
        if (skb.fragNext === null) copyView(dst, dstOff, net.pool.view, skb.data, n);
        else skbCopyBitsView(net.pool, skb, 0, dst, dstOff, n);
      }
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
      tcpFree(net, c, SKB_DROP.SOCKET_CLOSE);
      return;
    }
    if (t.recvQueue[c].qlen > 0 || s === TCP_SYN_RECV) {
      tcpAbort(net, c, ECONNRESET);
      return;
    }
    if ((t.flags[c] & TF_FIN_QUEUED) !== 0) return;
    if (s !== TCP_ESTABLISHED && s !== TCP_CLOSE_WAIT) return;
    const fin = net.pool.alloc();
    if (fin === null) {
      tcpAbort(net, c, ECONNRESET);
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
    tcpSetState(net, c, s === TCP_ESTABLISHED ? TCP_FIN_WAIT1 : TCP_LAST_ACK);
    tcpWriteXmit(net, c);
  }

  /** Turn keepalive on or off for a connection (a socket option). */
  setKeepalive(c: number, on: boolean): void {
    const t = this.tcb;
    if (on) {
      t.flags[c] |= TF_KEEPALIVE;
      tcpKeepaliveHeard(this.#net, c);
    } else {
      t.flags[c] &= ~TF_KEEPALIVE;
      this.#net.delTimer(t.keepaliveTimer[c]);
    }
  }

  /** Report the connection's state to its owner on the next turn of the loop (see tcpDeferNotify). */
  deferNotify(c: number): void {
    tcpDeferNotify(this.#net, c);
  }

  /** Stack shutdown: every connection goes, silently. */
  flush(): void {
    const t = this.tcb;
    for (let c = 0; c < t.size; c++) {
      if (t.state[c] !== TCP_CLOSED) tcpFree(this.#net, c, SKB_DROP.SHUTDOWN);
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
