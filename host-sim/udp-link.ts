// A link driver that carries one Ethernet frame per UDP datagram on loopback: the way the
// stack sits on a Linux TAP through socat (`socat TUN:...,tun-type=tap,iff-no-pi
// UDP-DATAGRAM:127.0.0.1:LOCAL,bind=127.0.0.1:REMOTE`). Node-only.
//
// It is shaped like a DMA MAC, so the core cannot tell it from a chip:
//   socket 'message' = the MAC writing a frame into the next RX descriptor, then the
//                      interrupt (napiSchedule) and nothing else
//   poll:             link state, counters, RX ring -> netifReceiveSkb, refill
//   startXmit:        skb -> TX slot -> socket.send; the send callback is the TX-done
//                      interrupt (devKfreeSkbIrq), and wakes the queue
//
// Direct I/O (Linux, on by default): Node's datagram path allocates a 64 KB buffer, a
// Buffer and an event per frame on receive, and a send request and a callback per frame on
// send. With the socket's descriptor, once a second 'message' arrives before the poll (a
// burst), the rest of the burst is read with read(2) straight into the RX descriptors' buffers;
// frames go out with write(2) on the connected socket and complete at once (the kernel has
// copied them). When the ring is full, reading stops (the socket buffer is the MAC's FIFO)
// until the poll has freed descriptors.

import { createSocket, type Socket } from "node:dgram";
import { readSync, writeSync } from "node:fs";
import {
  devKfreeSkbIrq, devTxError, napiComplete, napiSchedule, netifReceiveSkb, netifStopQueue, netifWakeQueue,
} from "../src/core/dev";
import { SKB_DROP } from "../src/core/drop";
import { countDrop, kfreeSkbReason } from "../src/core/free";
import type { Net } from "../src/core/net";
import type { DeviceOptions } from "../src/core/link";
import type { Napi, NetDevice } from "../src/core/netdevice";
import { DESC_OWN, DescRing } from "../drivers/ring";
import type { SkBuff } from "../src/core/skb";
import { NETDEV_TX_BUSY, NETDEV_TX_OK, type NetDeviceOps } from "../src/core/netdevice";
import { netifCarrierOff, netifCarrierOn, registerNetdev } from "../src/core/link";

export interface UdpLinkOptions {
  /** our UDP port (the TAP's frames arrive here) */
  localPort: number;
  /** socat's UDP port (our frames go there) */
  remotePort: number;
  /** loopback only */
  host?: string;
  /** RX descriptors (frames held between the socket and the NAPI poll); default 64 */
  rxRingSize?: number;
  /** TX frames in flight in the socket; default 64 */
  txRingSize?: number;
  /** SO_RCVBUF; default 4 MB */
  recvBufferBytes?: number;
  /** read(2)/write(2) on the socket's descriptor where Node lets us have it; default true */
  directIo?: boolean;
}

/** The parts of Node's UDP handle that direct I/O uses. */
export interface UdpHandle {
  fd: number;
  recvStart(): number;
  recvStop(): number;
}

/**
 * The socket's handle, found without the deprecated `_handle` getter (dgram keeps it under
 * its internal state symbol); null where this Node has it elsewhere (direct I/O is then off).
 */
export function udpHandleOf(sock: Socket): UdpHandle | null {
  for (const sym of Object.getOwnPropertySymbols(sock)) {
    if (sym.description !== "state symbol") continue;
    const handle = (sock as unknown as Record<symbol, { handle?: Partial<UdpHandle> } | undefined>)[sym]?.handle;
    if (handle !== undefined && typeof handle.fd === "number" && handle.fd >= 0 &&
        typeof handle.recvStart === "function" && typeof handle.recvStop === "function") {
      return handle as UdpHandle;
    }
  }
  return null;
}

function errorCode(err: unknown): string {
  return typeof err === "object" && err !== null && typeof (err as { code?: unknown }).code === "string" ? (err as { code: string }).code : "";
}

// SO_RCVBUF of 4 MB: Linux doubles the request (to 8 MB, if net.core.rmem_max allows 4)
// and charges each datagram its skb truesize, 2-4 KB for a full frame, so the socket holds
// 2,000+ frames: a 65 KB ping's 45 fragments or a TCP window burst never overflow it
// between two turns of Node's event loop. The figure granted is read back into
// `recvBufferBytes`.
const RECV_BUFFER_BYTES_DEFAULT = 4 * 1024 * 1024;

export class UdpLinkDriver implements NetDeviceOps {
  readonly localPort: number;
  readonly remotePort: number;
  readonly host: string;
  readonly rxRing: DescRing;
  readonly txRing: DescRing;
  readonly recvBufferBytesWanted: number;
  readonly directIoWanted: boolean;
  /** SO_RCVBUF as the kernel granted it (after open) */
  recvBufferBytes = 0;
  /** RX descriptors left without a buffer because the pool was empty */
  rxRefillFailures = 0;
  /** socket errors (ECONNREFUSED while socat is not there, ...) */
  socketErrors = 0;
  lastSocketError: Error | null = null;
  /** RX bursts read with read(2), and the times a full ring stopped reading */
  directRxBursts = 0;
  rxPauses = 0;
  /** read(2)/write(2) were in use on the last socket */
  directIo = false;

  #net: Net | null = null;
  #dev: NetDevice | null = null;
  #socket: Socket | null = null;
  /** bumped at every open and stop, so callbacks of an old socket do nothing */
  #generation = 0;
  /** the socket is bound and connected ("PHY link") */
  #linkUp = false;
  /** largest frame accepted: dev.mtu + 14 */
  #maxFrame = 0;
  // "Hardware" counters, read and cleared by poll (the interrupt path only counts).
  #missed = 0;
  #oversize = 0;
  /** next TX slot to fill; slots complete in any order, so each has its own callback */
  #txHead = 0;
  #txInFlight = 0;
  #txDone: ((err: Error | null) => void)[] = [];
  #whenUp: Promise<void> = Promise.resolve();
  /** the socket's handle once connected, when direct I/O is on; null otherwise */
  #handle: UdpHandle | null = null;
  /** direct reads fit a frame one byte too long (so it shows as oversize) in every buffer */
  #directRx = false;
  /** reading is stopped while the RX ring is full */
  #rxPaused = false;

  constructor(options: UdpLinkOptions) {
    for (const key of ["localPort", "remotePort"] as const) {
      const p = options[key];
      if (!Number.isInteger(p) || p < 1 || p > 65535) throw new RangeError(`udp link: ${key} ${String(p)} is not a port in 1..65535`);
    }
    this.localPort = options.localPort;
    this.remotePort = options.remotePort;
    this.host = options.host ?? "127.0.0.1";
    const rxSize = options.rxRingSize ?? 64;
    const txSize = options.txRingSize ?? 64;
    if (!Number.isInteger(rxSize) || rxSize < 1 || rxSize > 4096) throw new RangeError(`udp link: rxRingSize ${rxSize} is not in 1..4096`);
    if (!Number.isInteger(txSize) || txSize < 1 || txSize > 4096) throw new RangeError(`udp link: txRingSize ${txSize} is not in 1..4096`);
    this.rxRing = new DescRing(rxSize);
    this.txRing = new DescRing(txSize);
    this.recvBufferBytesWanted = options.recvBufferBytes ?? RECV_BUFFER_BYTES_DEFAULT;
    this.directIoWanted = options.directIo ?? true;
  }

  /** Register the interface with the stack (down until net.devOpen). */
  register(net: Net, name: string, mac: Uint8Array, options: DeviceOptions = {}): NetDevice {
    this.#net = net;
    const dev = registerNetdev(net, name, this, mac, options);
    this.#dev = dev;
    return dev;
  }

  /** Resolves once the socket of the last open() is bound and connected (the link is up); rejects if that failed. */
  whenUp(): Promise<void> {
    return this.#whenUp;
  }

  get linkUp(): boolean {
    return this.#linkUp;
  }

  get txInFlight(): number {
    return this.#txInFlight;
  }

  open(dev: NetDevice): void {
    const net = dev.net;
    this.#net = net;
    this.#dev = dev;
    this.#maxFrame = dev.mtu + dev.hardHeaderLen;
    const gen = ++this.#generation;
    const rx = this.rxRing;
    rx.cpuIndex = rx.hwIndex = 0;
    for (let i = 0; i < rx.size; i++) this.#refill(i);
    const tx = this.txRing;
    tx.cpuIndex = tx.hwIndex = 0;
    this.#txHead = this.#txInFlight = 0;
    this.#txDone = [];
    for (let i = 0; i < tx.size; i++) {
      tx.skbId[i] = -1;
      tx.status[i] = 0;
      this.#txDone.push((err) => this.#txComplete(gen, i, err));
    }
    this.#missed = this.#oversize = 0;
    this.#linkUp = false;
    this.#handle = null;
    this.#rxPaused = false;
    let minBuf = Infinity;
    for (let i = 0; i < rx.size; i++) if (rx.skbId[i] >= 0 && rx.bufLen[i] < minBuf) minBuf = rx.bufLen[i];
    this.#directRx = minBuf > this.#maxFrame;

    const sock = createSocket({ type: "udp4", recvBufferSize: this.recvBufferBytesWanted });
    this.#socket = sock;
    this.#whenUp = new Promise<void>((resolve, reject) => {
      let settled = false;
      sock.on("error", (err) => {
        if (gen !== this.#generation) return;
        this.#socketError(err);
        if (!settled) {
          settled = true;
          reject(err);
        }
      });
      sock.on("message", (msg: Buffer) => {
        if (gen === this.#generation) this.#hwReceive(msg);
      });
      sock.bind(this.localPort, this.host, () => {
        if (gen !== this.#generation) return;
        try {
          this.recvBufferBytes = sock.getRecvBufferSize();
        } catch {
          this.recvBufferBytes = 0;
        }
        // Connected: frames from anyone but socat are not ours, and send needs no lookup.
        sock.connect(this.remotePort, this.host, () => {
          if (gen !== this.#generation) return;
          if (this.directIoWanted && process.platform === "linux") this.#handle = udpHandleOf(sock);
          this.directIo = this.#handle !== null;
          this.#linkUp = true;
          settled = true;
          resolve();
          napiSchedule(dev.napi); // link-change interrupt; poll turns the carrier on
        });
      });
    });
    // A failed bind is reported through whenUp(); nobody has to await it.
    this.#whenUp.catch(() => {});
  }

  stop(dev: NetDevice): void {
    const net = dev.net;
    this.#generation++; // late 'message' and send callbacks of this socket are ignored
    this.#linkUp = false;
    if (this.#handle !== null) {
      // Frames still in the socket arrived and were never taken: missed, as at a full ring.
      if (this.#rxPaused) this.#discardQueued();
      this.#handle = null;
      this.#rxPaused = false;
    }
    if (this.#socket !== null) {
      const sock = this.#socket;
      this.#socket = null;
      sock.removeAllListeners("message"); // its 'error' listener stays and ignores old generations
      try {
        sock.close();
      } catch {
        // already closed (bind failed)
      }
    }
    this.#foldCounters(dev);
    const pool = net.pool;
    const rx = this.rxRing;
    for (let i = 0; i < rx.size; i++) {
      // Receive buffers, full or empty, are not packets yet: back without a drop count.
      if (rx.skbId[i] >= 0) pool.free(pool.records[rx.skbId[i]]);
      rx.skbId[i] = -1;
      rx.status[i] = 0;
    }
    const tx = this.txRing;
    for (let i = 0; i < tx.size; i++) {
      // The socket was closed before it confirmed these: they may never have left.
      if (tx.skbId[i] >= 0) kfreeSkbReason(net, pool.records[tx.skbId[i]], SKB_DROP.SHUTDOWN);
      tx.skbId[i] = -1;
      tx.status[i] = 0;
    }
    this.#txInFlight = 0;
    this.#txHead = 0;
    netifCarrierOff(dev);
  }

  /** Give RX descriptor i a fresh buffer from the pool; false (counted) when the pool is empty. */
  #refill(i: number): boolean {
    if (this.rxRing.refill(i, (this.#net as Net).pool)) return true;
    this.rxRefillFailures++;
    return false;
  }

  /** The "MAC": copy a datagram into the next RX descriptor, then raise the interrupt. */
  #hwReceive(msg: Buffer): void {
    const napi = (this.#dev as NetDevice).napi;
    // A frame still waiting for the poll: this is a burst, and the socket likely holds more.
    // A lone frame (a ping, a request) reads no further: the read that finds the socket
    // empty throws EAGAIN, and a cold throw costs a tenth of a millisecond.
    const inBurst = napi.scheduled;
    const len = msg.length;
    const rx = this.rxRing;
    const i = rx.hwIndex;
    if (len > this.#maxFrame) {
      this.#oversize++;
    } else if (rx.skbId[i] < 0 || (rx.status[i] & DESC_OWN) === 0) {
      this.#missed++; // ring full (or a buffer the pool could not give): dropped on the wire
    } else {
      (this.#net as Net).pool.buf.set(msg, rx.addr[i]); // the DMA write
      rx.length[i] = len;
      rx.status[i] = 0;
      rx.hwIndex = rx.next(i);
    }
    if (inBurst && this.#handle !== null) this.#readBurst();
    napiSchedule(napi);
  }

  /**
   * The rest of a burst, read straight into the RX descriptors until the socket is empty
   * or the ring is full; a full ring stops Node's reading until the poll frees descriptors.
   */
  #readBurst(): number {
    const handle = this.#handle as UdpHandle;
    if (!this.#directRx) return 0;
    const rx = this.rxRing;
    const buf = (this.#net as Net).pool.buf;
    const readLen = this.#maxFrame + 1;
    this.directRxBursts++;
    let frames = 0;
    // The burst ends in EAGAIN, thrown as an Error: without a stack trace it costs a third less.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      for (;;) {
        const i = rx.hwIndex;
        if (rx.skbId[i] < 0 || (rx.status[i] & DESC_OWN) === 0) {
          if (!this.#rxPaused) {
            this.#rxPaused = true;
            this.rxPauses++;
            handle.recvStop();
          }
          return frames;
        }
        let len: number;
        try {
          len = readSync(handle.fd, buf, rx.addr[i], readLen, null);
        } catch (err) {
          if (errorCode(err) !== "EAGAIN" && errorCode(err) !== "EWOULDBLOCK") this.#socketError(err);
          return frames;
        }
        if (len > this.#maxFrame) {
          this.#oversize++; // cut at readLen by the kernel: longer than any frame we take
          continue;
        }
        rx.length[i] = len;
        rx.status[i] = 0;
        rx.hwIndex = rx.next(i);
        frames++;
      }
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
  }

  /** After the poll: read again if a full ring had stopped reading. */
  #resumeRx(napi: Napi): void {
    this.#rxPaused = false;
    const frames = this.#readBurst();
    if (!this.#rxPaused) (this.#handle as UdpHandle).recvStart();
    if (frames !== 0) napiSchedule(napi);
  }

  /** At stop: count what is still in a stopped socket as missed. */
  #discardQueued(): void {
    const handle = this.#handle as UdpHandle;
    const scratch = new Uint8Array(this.#maxFrame + 1);
    for (let n = 0; n < 1_000_000; n++) {
      try {
        readSync(handle.fd, scratch, 0, scratch.length, null);
      } catch {
        return;
      }
      this.#missed++;
    }
  }

  #socketError(err: unknown): void {
    this.socketErrors++;
    this.lastSocketError = err instanceof Error ? err : new Error(String(err));
  }

  #foldCounters(dev: NetDevice): void {
    if (this.#missed !== 0) {
      dev.stats.rxMissedErrors += this.#missed;
      this.#missed = 0;
    }
    if (this.#oversize !== 0) {
      dev.stats.rxLengthErrors += this.#oversize;
      dev.stats.rxErrors += this.#oversize;
      this.#oversize = 0;
    }
  }

  poll(napi: Napi, budget: number): number {
    const dev = napi.dev;
    const net = dev.net;
    if (this.#linkUp !== dev.hasCarrier && dev.isUp) {
      if (this.#linkUp) netifCarrierOn(dev);
      else netifCarrierOff(dev);
    }
    this.#foldCounters(dev);
    const rx = this.rxRing;
    const pool = net.pool;
    let work = 0;
    while (work < budget) {
      const i = rx.cpuIndex;
      const id = rx.skbId[i];
      if (id < 0) {
        // A descriptor left empty by an earlier failed refill: try again now. The
        // "hardware" stops at it (ring full) until then, so order is kept.
        if (!this.#refill(i)) break;
        continue;
      }
      if ((rx.status[i] & DESC_OWN) !== 0) break;
      work++;
      rx.cpuIndex = rx.next(i);
      const skb = rx.takeFrame(i, pool);
      if (skb === null) {
        // No buffer to replace it: the frame is dropped, its buffer stays in the ring.
        this.rxRefillFailures++;
        dev.stats.rxDropped++;
        countDrop(net, SKB_DROP.NOMEM);
        continue;
      }
      skb.dev = dev;
      netifReceiveSkb(skb);
    }
    if (work < budget) {
      napiComplete(napi);
      if (this.#rxPaused && this.#handle !== null) this.#resumeRx(napi);
    }
    return work;
  }

  startXmit(skb: SkBuff, dev: NetDevice): number {
    const tx = this.txRing;
    const i = this.#txHead;
    const sock = this.#socket;
    if (sock === null || !this.#linkUp) {
      // Not reached while the carrier is off (devQueueXmit drops first); counted all the same.
      // Taken and failed: freed in NET_TX (the taps still read it after we return OK).
      dev.stats.txCarrierErrors++;
      devTxError(skb);
      return NETDEV_TX_OK;
    }
    if (this.#handle !== null && this.#txInFlight === 0) {
      // write(2) copies the frame into the kernel: done at once. Only with no send in
      // flight, so frames never pass one another.
      try {
        writeSync(this.#handle.fd, (this.#net as Net).pool.buf, skb.data, skb.len);
        devKfreeSkbIrq(skb);
        return NETDEV_TX_OK;
      } catch (err) {
        const code = errorCode(err);
        if (code !== "EAGAIN" && code !== "EWOULDBLOCK" && code !== "ENOBUFS") {
          this.#socketError(err); // ECONNREFUSED while socat is not there, ...
          devTxError(skb);
          return NETDEV_TX_OK;
        }
        // socket buffer full: the asynchronous send below waits for room
      }
    }
    if (tx.skbId[i] >= 0) {
      netifStopQueue(dev);
      return NETDEV_TX_BUSY;
    }
    tx.skbId[i] = skb.id;
    tx.length[i] = skb.len;
    tx.status[i] = DESC_OWN;
    this.#txHead = tx.next(i);
    this.#txInFlight++;
    // The socket reads the bytes in place until the callback: the skb stays ours till then.
    // No padding to 60 bytes: a TAP takes short frames.
    sock.send((this.#net as Net).pool.buf, skb.data, skb.len, this.#txDone[i]);
    // Stop before the ring is full, so the qdisc holds the next packet instead of a BUSY.
    if (tx.skbId[this.#txHead] >= 0) netifStopQueue(dev);
    return NETDEV_TX_OK;
  }

  /** The TX-done "interrupt" for slot i. */
  #txComplete(gen: number, i: number, err: Error | null): void {
    if (gen !== this.#generation) return;
    const tx = this.txRing;
    const pool = (this.#net as Net).pool;
    const id = tx.skbId[i];
    if (id < 0) return;
    tx.skbId[i] = -1;
    tx.status[i] = 0;
    this.#txInFlight--;
    const skb = pool.records[id];
    if (err) {
      this.#socketError(err);
      devTxError(skb);
    } else {
      devKfreeSkbIrq(skb);
    }
    const dev = this.#dev as NetDevice;
    if (dev.queueStopped) netifWakeQueue(dev);
  }

  setRxMode(_dev: NetDevice): void {
    // A TAP hands us every frame of its segment; eth_type_trans filters by address.
  }
}
