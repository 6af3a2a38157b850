// A link driver that carries one Ethernet frame per UDP datagram over an ECMA-419 UDP
// socket class the caller gives (`embedded:io/socket/udp`; Moddable's Linux simulator
// implements it over host sockets), so a board app built for `lin` joins the same socat TAP
// link as the Node device mode (host-sim/udp-link.ts):
//
//   socat TUN:...,tun-type=tap,iff-no-pi UDP-DATAGRAM:127.0.0.1:LOCAL,bind=127.0.0.1:REMOTE
//
// Shaped as a MAC whose RX FIFO is the socket's queue:
//   onReadable(count) = the RX interrupt: napiSchedule and nothing else
//   poll:               read() a datagram per frame, up to the budget, into a fresh skb
//                       -> netifReceiveSkb; napiComplete when the socket is empty
//   startXmit:          write() the frame as one datagram; the socket copies it at once,
//                       so the TX-done "interrupt" (devKfreeSkbIrq) follows in the same call
//
// What the API costs per frame (the host's, not the stack's; a board's MAC driver has none
// of it): Moddable's read() makes an ArrayBuffer (with `address` and `port`) per datagram,
// which the driver copies into the skb through one Uint8Array view made for it (counted
// rxCopied). A socket class whose read(buffer) fills a buffer and returns the length (an
// extension; xsnet's own UDP class and FrameSocket have it) reads straight into the skb's
// slot, through a view of the slot made in open() (counted rxInPlace). write() takes a whole
// buffer, so each slot keeps the views its last two kinds of frame were sent from (a data
// segment and an ACK take turns in a slot) and makes a new one only when the frame's offset
// or length match neither (counted txViews; the one it replaces is garbage, so the live
// heap stays as open() left it: three views per slot). A datagram from another
// sender or longer than a frame is dropped as a MAC drops a bad frame (rx_errors,
// RX_HW_ERROR); one with no skb to take it is read and dropped (rx_dropped, NOMEM).

import { devKfreeSkbIrq, devTxError, napiComplete, napiSchedule, netifReceiveSkb } from "../src/core/dev";
import { SKB_DROP } from "../src/core/drop";
import { countDrop } from "../src/core/free";
import type { DeviceOptions } from "../src/core/link";
import { netifCarrierOff, netifCarrierOn, registerNetdev } from "../src/core/link";
import type { Net } from "../src/core/net";
import { NETDEV_TX_OK, type Napi, type NetDevice, type NetDeviceOps } from "../src/core/netdevice";
import type { SkBuff } from "../src/core/skb";
import { ETH_HLEN } from "../src/wire/ethernet";

/** A datagram as ECMA-419's read() returns it. */
export type FrameDatagram = ArrayBuffer & { readonly address: string; readonly port: number };

/** What the driver uses of an ECMA-419 UDP socket. */
export interface FrameSocket {
  /** the next datagram, or undefined while none waits; given a buffer, a class may fill it and return the length */
  read(buffer?: Uint8Array): FrameDatagram | number | undefined;
  write(buffer: Uint8Array, address: string, port: number): void;
  close(): void;
}

export interface FrameSocketOptions {
  port: number;
  address?: string;
  onReadable: (count: number) => void;
}

/** `embedded:io/socket/udp`'s constructor, or one of the same shape. */
export type FrameSocketClass = new (options: FrameSocketOptions) => FrameSocket;

export interface UdpFrameLinkOptions {
  /** our UDP port (the TAP's frames arrive here) */
  localPort: number;
  /** socat's UDP port (our frames go there) */
  remotePort: number;
  /** socat's address (default 127.0.0.1) */
  remoteAddress?: string;
  /** the address to bind (default: the class's default) */
  localAddress?: string;
}

/** "udp:LOCAL:REMOTE" (the Node device's --link) as ports; an error naming the problem otherwise. */
export function parseUdpLinkSpec(spec: string): { localPort: number; remotePort: number } {
  const m = /^udp:(\d{1,5}):(\d{1,5})$/.exec(spec);
  const localPort = m === null ? NaN : Number(m[1]);
  const remotePort = m === null ? NaN : Number(m[2]);
  if (!(localPort >= 1 && localPort <= 65535 && remotePort >= 1 && remotePort <= 65535)) {
    throw new RangeError(`link: expected udp:LOCAL_PORT:REMOTE_PORT with ports 1..65535, got '${spec}'`);
  }
  return { localPort, remotePort };
}

export class UdpFrameLink implements NetDeviceOps {
  readonly localPort: number;
  readonly remotePort: number;
  readonly remoteAddress: string;
  readonly localAddress: string | undefined;
  readonly #Socket: FrameSocketClass;
  readonly #onReadable: (count: number) => void;
  #socket: FrameSocket | null = null;
  #dev: NetDevice | null = null;
  /** per pool slot, made in open(): the view a frame is read into, and the views its last two kinds of frame were sent from */
  #rxViews: Uint8Array[] = [];
  #txViews: Uint8Array[] = [];
  #txViewsOlder: Uint8Array[] = [];

  /** frames copied from a datagram the socket made (read() returned an ArrayBuffer) */
  rxCopied = 0;
  /** frames the socket read straight into an skb's slot (read(buffer)) */
  rxInPlace = 0;
  /** datagrams from another address or port than the link's peer (dropped) */
  rxForeign = 0;
  /** views made for sending (two per slot, again when a frame's offset or length match neither) */
  txViews = 0;
  /** read() or write() threw (the frame is dropped, counted in the device's stats) */
  socketErrors = 0;
  lastSocketError: string | null = null;

  constructor(Socket: FrameSocketClass, options: UdpFrameLinkOptions) {
    for (const [key, port] of [["localPort", options.localPort], ["remotePort", options.remotePort]] as const) {
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`UdpFrameLink: ${key} must be an integer 1..65535, got ${port}`);
    }
    this.#Socket = Socket;
    this.localPort = options.localPort;
    this.remotePort = options.remotePort;
    this.remoteAddress = options.remoteAddress ?? "127.0.0.1";
    this.localAddress = options.localAddress;
    // Made once: the socket's RX interrupt.
    this.#onReadable = () => {
      const dev = this.#dev;
      if (dev !== null && this.#socket !== null) napiSchedule(dev.napi);
    };
  }

  /** Register the interface with the stack (down until devOpen). */
  register(net: Net, name: string, mac: Uint8Array, options: DeviceOptions = {}): NetDevice {
    const dev = registerNetdev(net, name, this, mac, options);
    this.#dev = dev;
    return dev;
  }

  open(dev: NetDevice): void {
    // Three views per slot, made now so that the heap stays as open() left it: a fresh skb's
    // data..end (where a frame is read), and two first send views that frames' own replace.
    const pool = dev.net.pool;
    const buf = pool.buf;
    const rx: Uint8Array[] = [];
    const tx: Uint8Array[] = [];
    const txOlder: Uint8Array[] = [];
    for (let slot = 0; slot < pool.slotCount; slot++) {
      const data = buf.byteOffset + pool.base + slot * pool.slotBytes + pool.headroom;
      rx.push(new Uint8Array(buf.buffer, data, pool.slotBytes - pool.headroom));
      tx.push(new Uint8Array(buf.buffer, data, pool.slotBytes - pool.headroom));
      txOlder.push(new Uint8Array(buf.buffer, data, pool.slotBytes - pool.headroom));
    }
    this.#rxViews = rx;
    this.#txViews = tx;
    this.#txViewsOlder = txOlder;
    const options: FrameSocketOptions = { port: this.localPort, onReadable: this.#onReadable };
    if (this.localAddress !== undefined) options.address = this.localAddress;
    this.#socket = new this.#Socket(options);
    // No link state to ask: the socket is the cable.
    netifCarrierOn(dev);
  }

  stop(dev: NetDevice): void {
    const sock = this.#socket;
    this.#socket = null;
    if (sock !== null) {
      try {
        sock.close();
      } catch (err) {
        this.#socketError(err);
      }
    }
    this.#rxViews = [];
    this.#txViews = [];
    netifCarrierOff(dev);
  }

  // One loop, no helper per datagram: the frame's way up the stack starts here, and XS's
  // stack is small on a board.
  poll(napi: Napi, budget: number): number {
    const dev = napi.dev;
    const sock = this.#socket;
    const net = dev.net;
    const pool = net.pool;
    const maxFrame = dev.mtu + ETH_HLEN;
    let work = 0;
    let empty = sock === null;
    while (!empty && work < budget) {
      const skb = pool.alloc();
      if (skb === null) {
        // No buffer: the datagram is read and dropped, or it would block the queue.
        const dropped = this.#readOrNull(sock as FrameSocket, null);
        if (dropped === undefined) {
          empty = true;
          continue;
        }
        work++;
        if (dropped !== null) {
          dev.stats.rxDropped++;
          countDrop(net, SKB_DROP.NOMEM);
        }
        continue;
      }
      // A fresh skb's data..end, made in open() (skb.data is the same for every fresh skb of a slot)
      const view = this.#rxViews[skb.slot];
      const r = this.#readOrNull(sock as FrameSocket, view);
      if (r === undefined || r === null) {
        pool.free(skb); // an empty buffer, not a packet: back without a drop count
        if (r === undefined) empty = true;
        else work++; // a datagram the class refused (counted in #readOrNull)
        continue;
      }
      work++;
      let len: number;
      if (typeof r === "number") {
        len = r;
        this.rxInPlace++;
      } else {
        len = r.byteLength;
        if (r.port !== this.remotePort || r.address !== this.remoteAddress) {
          // not from the other end of this wire
          this.rxForeign++;
          dev.stats.rxErrors++;
          countDrop(net, SKB_DROP.RX_HW_ERROR);
          pool.free(skb);
          continue;
        }
        if (len <= view.length) view.set(new Uint8Array(r));
        this.rxCopied++;
      }
      if (len > maxFrame || len > view.length) {
        // longer than a frame of this MTU: a MAC's length error
        dev.stats.rxLengthErrors++;
        dev.stats.rxErrors++;
        countDrop(net, SKB_DROP.RX_HW_ERROR);
        pool.free(skb);
        continue;
      }
      skb.tail = skb.data + len;
      skb.dev = dev;
      netifReceiveSkb(skb);
    }
    if (work < budget) napiComplete(napi);
    return work;
  }

  /**
   * sock.read(view): a datagram, its length (read into view), or undefined when none waits;
   * null when it threw. A class that reads into the buffer may refuse a datagram larger than
   * it: that one is taken out whole (so it does not block the queue) and counted.
   */
  #readOrNull(sock: FrameSocket, view: Uint8Array | null): FrameDatagram | number | undefined | null {
    try {
      return view === null ? sock.read() : sock.read(view);
    } catch (err) {
      this.#socketError(err);
    }
    try {
      if (sock.read() === undefined) return undefined;
    } catch {
      return undefined; // the socket is broken: stop polling it until it is readable again
    }
    const dev = this.#dev as NetDevice;
    dev.stats.rxLengthErrors++;
    dev.stats.rxErrors++;
    countDrop(dev.net, SKB_DROP.RX_HW_ERROR);
    return null;
  }

  startXmit(skb: SkBuff, dev: NetDevice): number {
    const sock = this.#socket;
    if (sock === null) {
      // Not reached while the carrier is off (devQueueXmit drops first); counted all the same.
      dev.stats.txCarrierErrors++;
      devTxError(skb);
      return NETDEV_TX_OK;
    }
    const pool = dev.net.pool;
    const slot = skb.slot;
    const offset = pool.buf.byteOffset + skb.data;
    let view = this.#txViews[slot];
    if (view.byteOffset !== offset || view.length !== skb.len) {
      // The older view, or a new one; either way the last becomes the older.
      const older = this.#txViewsOlder[slot];
      this.#txViewsOlder[slot] = view;
      if (older.byteOffset === offset && older.length === skb.len) {
        view = older;
      } else {
        view = new Uint8Array(pool.buf.buffer, offset, skb.len);
        this.txViews++;
      }
      this.#txViews[slot] = view;
    }
    try {
      // The socket copies the datagram into the host's kernel before it returns: sent.
      sock.write(view, this.remoteAddress, this.remotePort);
    } catch (err) {
      // The host's socket buffer full, or no peer: dropped on the wire, counted.
      this.#socketError(err);
      devTxError(skb);
      return NETDEV_TX_OK;
    }
    devKfreeSkbIrq(skb);
    return NETDEV_TX_OK;
  }

  setRxMode(_dev: NetDevice): void {
    // A TAP hands us every frame of its segment; eth_type_trans filters by address.
  }

  #socketError(err: unknown): void {
    this.socketErrors++;
    this.lastSocketError = err instanceof Error ? err.message : String(err);
  }
}
