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
import { TF_RETRANS_HEAD, TF_RESEND, TF_RESEND_FIRST,
  CB_END, CB_FLAGS, CB_SENT, CB_SEQ, ECONNRESET, TCP_CLOSED, TCP_CLOSE_WAIT, TCP_ESTABLISHED, TCP_FIN_WAIT1, TCP_LAST_ACK,
  TCP_LISTEN, TCP_SYN_RECV, TCP_SYN_SENT, TF_ACCEPTED, TF_ACK_BATCH, TF_FIN_QUEUED, TF_OUTPUT_LISTED, TF_XMIT, TF_ACK_NOW, TF_AFTER_SKB, TF_SEND_DECIDED, N_LISTED, N_REPORT, TF_KEEPALIVE, TF_NODELAY, TF_ORPHAN, Tcb,
  TcpStats, type TcpListenerOwner, type TcpOwner,
} from "./tcb";
import { TcpSecrets } from "./secure";
import { rcvWindow, tcpRetransmitHead, tcpSendAck, tcpSendControl, tcpWriteXmit } from "./output";
import { tcpResendLost } from "./recovery";
import {
  EPHEMERAL_COUNT, tcpAbort, tcpAlloc, tcpChildren, tcpEphemeralPort, tcpFree, tcpLookupListener, tcpSetState,
} from "./table";
import { tcpInitSend } from "./handshake";
import {
  tcpDelackTimer, tcpKeepaliveHeard, tcpKeepaliveTimer, tcpNotifyOwner, tcpRetransmitTimer, tcpWaitTimer,
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
  /** the tasklet's (Softnet.schedule) */
  scheduled = false;
  /** connections with output for the tasklet (TF_OUTPUT_LISTED: TF_XMIT, TF_ACK_BATCH) */
  readonly #outputList: Int16Array;
  #outputCount = 0;
  /** connections with something to send once the received skb is done (TF_AFTER_SKB) */
  readonly #afterSkbList: Int16Array;
  #afterSkbCount = 0;
  /** connections whose owner hears of events when the tasklet runs (notifyPending) */
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
    this.#outputList = new Int16Array(this.tcb.size);
    this.#afterSkbList = new Int16Array(this.tcb.size);
    // Twice the table: a run tells at most every connection, and an owner told may be told
    // again (listed anew, each once) while the run's own entries are still in the list.
    this.#notifyList = new Int16Array(2 * this.tcb.size);
  }

  /**
   * Owe connection c an ACK when the tasklet runs: two full segments or more arrived (RFC
   * 1122 4.2.3.2) and the rest of the receive batch may add to them, as GRO coalesces them
   * in Linux; or the reader opened the window (a window update). Any segment sent before
   * then carries the ACK instead (afterAckSent).
   */
  ackLater(c: number): void {
    return this.#outputAdd(c, TF_ACK_BATCH);
  }

  /**
   * ACK connection c now (a duplicate or out-of-order segment, a FIN, a challenge; RFC 5681
   * 4.2): once the received skb is done, on the receive path (sendAfterSkb).
   */
  ackNow(c: number): void {
    this.sendAfterSkb(c, TF_ACK_NOW);
  }

  /**
   * What the receive path decided connection c sends (TF_SEND_DECIDED bits; an ICMP error's
   * verdict in errPending): once the received skb is done (rxSkbDone), at the same place on
   * the wire (IP holds back what the receive path sends until then anyway), but built from
   * the loop rather than at the bottom of the receive path's frames. Elsewhere, at once.
   */
  sendAfterSkb(c: number, what: number): void {
    const t = this.tcb;
    t.flags[c] |= what;
    if (!this.#net.softnet.inRxSkb) return this.#sendDecided(c);
    if ((t.flags[c] & TF_AFTER_SKB) !== 0 || this.#afterSkbCount === this.#afterSkbList.length) return;
    t.flags[c] |= TF_AFTER_SKB;
    this.#afterSkbList[this.#afterSkbCount++] = c;
  }

  /** The received skb is done: what it made each connection decide to send. */
  rxSkbDone(): void {
    const t = this.tcb;
    for (let i = 0; i < this.#afterSkbCount; i++) {
      const c = this.#afterSkbList[i];
      t.flags[c] &= ~TF_AFTER_SKB;
      this.#sendDecided(c);
    }
    this.#afterSkbCount = 0;
  }

  #sendDecided(c: number): void {
    const net = this.#net;
    const t = this.tcb;
    const what = t.flags[c] & TF_SEND_DECIDED;
    t.flags[c] &= ~TF_SEND_DECIDED;
    const err = t.errPending[c];
    if (err !== 0) {
      t.errPending[c] = 0;
      return tcpAbort(net, c, err);
    }
    if (t.state[c] <= TCP_LISTEN) return;
    if ((what & TF_RETRANS_HEAD) !== 0) tcpRetransmitHead(net, c);
    if ((what & TF_ACK_NOW) !== 0) tcpSendAck(net, c);
    // Last, a tail call: this frame is gone while the lost segments go down the stack.
    if ((what & TF_RESEND) !== 0) return tcpResendLost(net, c, (what & TF_RESEND_FIRST) !== 0);
  }

  /** Send what connection c's write queue holds, as the windows allow, when the tasklet runs (tcp_push). */
  push(c: number): void {
    return this.#outputAdd(c, TF_XMIT);
  }

  /** c has `what` (TF_XMIT, TF_ACK_BATCH) for the tasklet; push's and ackLater's tail call. */
  #outputAdd(c: number, what: number): void {
    const t = this.tcb;
    if ((t.flags[c] & TF_OUTPUT_LISTED) === 0) {
      t.flags[c] |= TF_OUTPUT_LISTED;
      this.#outputList[this.#outputCount++] = c;
    }
    t.flags[c] |= what;
    if (!this.scheduled) this.#net.softnet.schedule(this);
  }

  /**
   * The owner of c (a listener's, for N_ACCEPT) hears of `events` (N_*) when the tasklet
   * runs: from the loop, so that its callbacks, and what they write, do not run on top of
   * the receive path or a timer (sk_data_ready's wake-up; the reader runs later).
   */
  notify(c: number, events: number): void {
    const t = this.tcb;
    if ((t.notifyPending[c] & N_LISTED) === 0) this.#notifyList[this.#notifyCount++] = c;
    t.notifyPending[c] |= events | N_LISTED;
    this.#net.softnet.schedule(this);
  }

  /**
   * TCP's tasklet: the owners hear what happened (what they write is pushed next), then
   * each listed connection sends what its queue and windows allow and the ACK it still owes.
   * Owners told of something while theirs run hear of it on the next run.
   */
  runTasklet(): void {
    const net = this.#net;
    const t = this.tcb;
    const told = this.#notifyCount;
    for (let i = 0; i < told; i++) {
      const c = this.#notifyList[i];
      const events = t.notifyPending[c] & ~N_LISTED;
      t.notifyPending[c] = 0;
      if (events !== 0) tcpNotifyOwner(net, c, events);
    }
    this.#notifyCount -= told;
    this.#notifyList.copyWithin(0, told, told + this.#notifyCount);
    if (this.#notifyCount > 0) net.softnet.schedule(this);
    return this.#output();
  }

  /** The tasklet's second half (its tail call): each listed connection's output. */
  #output(): void {
    const net = this.#net;
    const t = this.tcb;
    for (let i = 0; i < this.#outputCount; i++) {
      const c = this.#outputList[i];
      const flags = t.flags[c];
      t.flags[c] = flags & ~(TF_OUTPUT_LISTED | TF_XMIT);
      if (t.state[c] <= TCP_LISTEN) {
        t.flags[c] &= ~TF_ACK_BATCH;
        continue;
      }
      if ((flags & TF_XMIT) !== 0) tcpWriteXmit(net, c);
      if ((t.flags[c] & TF_ACK_BATCH) !== 0) tcpSendAck(net, c); // clears it
    }
    this.#outputCount = 0;
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
    return ((this.#net.platform.now() >>> 0) + this.tcb.tsOffset[c]) >>> 0; // the platform's clock: one call less on every segment
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
    const pool = this.#net.pool;
    const t = this.tcb;
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
    this.push(c);
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
      this.ackLater(c);
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
    this.push(c);
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

  /** Report the connection's whole state to its owner when the tasklet runs (a new owner, or a reader at the peer's FIN). */
  deferNotify(c: number): void {
    this.notify(c, N_REPORT);
  }

  /** Stack shutdown: every connection goes, silently. */
  flush(): void {
    const t = this.tcb;
    for (let c = 0; c < t.size; c++) {
      if (t.state[c] !== TCP_CLOSED) tcpFree(this.#net, c, SKB_DROP.SHUTDOWN);
      t.owner[c] = null;
      t.listenerOwner[c] = null;
      t.notifyPending[c] = 0;
      t.flags[c] &= ~(TF_OUTPUT_LISTED | TF_AFTER_SKB | TF_SEND_DECIDED | TF_XMIT | TF_ACK_BATCH);
    }
    // Nothing is left for the tasklet or the end of a received skb.
    this.#notifyCount = 0;
    this.#outputCount = 0;
    this.#afterSkbCount = 0;
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
