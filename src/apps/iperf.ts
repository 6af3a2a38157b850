// An iperf 2 server on TCP 5001 (what lwIP's lwiperf offers), for `iperf -c DEVICE` of
// iperf 2.x. The protocol, as iperf 2.1.8's Client and Listener speak it (payloads.h):
//
//   The client connects and its first write is a test header (unless -C): a 32-bit flags
//   word, big-endian, then, by the flags, the 24-byte client_hdr_v1 (flags, numThreads,
//   mPort, mBufLen, mWinBand, mAmount) and the 36-byte client_hdrext (type, length,
//   upperflags, lowerflags, version, tos, rate, ...). HEADER_LEN_BIT says the header's
//   length is in the flags ((flags & 0x1fe) >> 1). The rest of the stream is data. The
//   client ends with shutdown(SHUT_WR) and waits (at least 2 s) for the server's close.
//
// This server reads the header, then reads and drops everything, and closes after the
// client's FIN. Like iperf's own server it answers a header with HEADER_EXTEND (and no
// HEADER_VERSION2), or one asking for peer detection (-X), with a 28-byte client_hdr_ack
// (type CLIENTHDRACK, flags 0, the protocol version it follows, 2.1.8); the client reads it
// only with -X. Test modes:
//   -R, --reverse        (HEADER_VERSION2 + HEADER_REVERSE): the server sends on the same
//                        connection, for the header's amount (mAmount < 0: -mAmount x 10 ms;
//                        > 0: bytes), then closes
//   --full-duplex        both ways on the same connection; closes after the client's FIN
//                        and its own amount
//   -d, -r (the 2.0 dual test and tradeoff: HEADER_VERSION1, RUN_NOW for -d): the server
//                        connects back to the client's address, port mPort, and sends for
//                        the amount (at once for -d, after the client's test for -r),
//                        with no header, as iperf's own reverse client does
// A header asking for a permit key (HEADER_KEYCHECK) or a bounce-back test is refused:
// the connection is closed at once. Data is the i % 251 pattern. Usage:
//   new IperfServer(tcpSocketClasses(net), { now: () => net.now() }).start()

import type { TcpSocket } from "../socket/tcp";
import { closeConn as close, discardBytes, MOD } from "./buffers";
import { TcpService, type ServiceOptions, type TcpClasses } from "./service";

export const PORT_IPERF = 5001;

export const HEADER_VERSION1 = 0x80000000;
export const HEADER_EXTEND = 0x40000000;
export const HEADER_KEYCHECK = 0x10000000;
export const HEADER_VERSION2 = 0x04000000;
export const HEADER_V2PEERDETECT = 0x02000000;
export const HEADER_BOUNCEBACK = 0x00800000;
export const HEADER_LEN_BIT = 0x00010000;
export const HEADER_LEN_MASK = 0x000001fe;
export const RUN_NOW = 0x00000001;
/** client_hdrext.upperflags */
export const HEADER_REVERSE = 0x0400;
export const HEADER_FULLDUPLEX = 0x0800;
const MAX_HEADER_LEN = 256;
const CLIENT_HDR_V1_BYTES = 24;
const CLIENT_HDREXT_BYTES = 36;
const CLIENTHDRACK = 2;
const ACK_BYTES = 28;
/** the iperf version whose protocol this follows (IPERF_VERSION_MAJORHEX, MINORHEX of 2.1.8) */
const VERSION_U = 0x00020001;
const VERSION_L = 0x00080003;
/** a header with no amount: iperf's default, 10 s */
const DEFAULT_TIME_MS = 10_000;

/** Data sent by this server on one connection, for a number of bytes or a time. */
class Sender {
  readonly service: IperfServer;
  sock: TcpSocket | null = null;
  /** bytes to send; 0: send for timeMs */
  readonly bytes: number;
  readonly timeMs: number;
  endMs = -1;
  sent = 0;
  done = false;
  /** connect-back only: bytes the stack holds for us (dropped) */
  avail = 0;
  closed = false;

  constructor(service: IperfServer, amount: number) {
    this.service = service;
    this.bytes = amount > 0 ? amount : 0;
    this.timeMs = amount < 0 ? -amount * 10 : amount === 0 ? DEFAULT_TIME_MS : 0;
  }

  /** Write as much as fits; true once the amount is sent (or the time is up). */
  pump(sock: TcpSocket): boolean {
    const service = this.service;
    const b = service.buffers;
    if (this.endMs < 0) this.endMs = this.timeMs > 0 ? service.now() + this.timeMs : Infinity;
    let room = sock.write(b.empty);
    while (!this.done && room > 0) {
      if (service.now() >= this.endMs) {
        this.done = true;
        break;
      }
      let n = room < b.chunk ? room : b.chunk;
      if (this.bytes > 0 && this.bytes - this.sent < n) n = this.bytes - this.sent;
      const off = this.sent % MOD;
      room = sock.write(b.mod.subarray(off, off + n));
      this.sent += n;
      service.stats.bytesOut += n;
      if (this.bytes > 0 && this.sent >= this.bytes) this.done = true;
    }
    return this.done;
  }
}

/** One client connection: its header, then data. */
class IperfConn {
  readonly service: IperfServer;
  readonly hdr = new Uint8Array(MAX_HEADER_LEN);
  hdrLen = 0;
  /** header bytes wanted: 4 (the flags), then the length they give; 0 once read */
  need = 4;
  avail = 0;
  /** -R or --full-duplex: what this connection sends */
  tx: Sender | null = null;
  duplex = false;
  /** -r: connect back after this test, to this port, for this amount */
  backPort = 0;
  backAmount = 0;
  peerClosed = false;
  closed = false;

  constructor(service: IperfServer) {
    this.service = service;
  }
}

export interface IperfStats {
  connections: number;
  bytesIn: number;
  bytesOut: number;
  /** tests where the server sent on the client's connection (-R, --full-duplex) */
  reverse: number;
  /** connections made back to the client (-d, -r) */
  connectBack: number;
  /** headers refused (bounce-back, permit key) */
  refused: number;
}

export interface IperfOptions extends ServiceOptions {
  /** the stack's clock, ms (net.now()): -R and -d for a time */
  now: () => number;
}

export class IperfServer extends TcpService {
  readonly now: () => number;
  readonly stats: IperfStats = { connections: 0, bytesIn: 0, bytesOut: 0, reverse: 0, connectBack: 0, refused: 0 };
  readonly #backs = new Set<Sender>();

  constructor(classes: TcpClasses, options: IperfOptions) {
    super("iperf", classes, options, PORT_IPERF, { mod: true });
    if (typeof options.now !== "function") throw new TypeError("iperf: options.now must be the stack's clock (a function)");
    this.now = options.now;
  }

  protected adopt(from: TcpSocket): TcpSocket {
    const sock = new this.TCP({ from, onReadable: iperfReadable, onWritable: iperfWritable, onError: iperfError, target: new IperfConn(this) });
    this.stats.connections++;
    return sock;
  }

  /** -d, -r: connect to the client's listener and send for the amount. */
  connectBack(address: string, port: number, amount: number): void {
    const sender = new Sender(this, amount);
    try {
      const sock = new this.TCP({ address, port, onWritable: backWritable, onReadable: backReadable, onError: backError, target: sender });
      sender.sock = sock;
      this.#backs.add(sender);
      this.track(sock);
      this.stats.connectBack++;
    } catch (err) {
      this.error("iperf connect back", err);
    }
  }

  forget(sender: Sender): void {
    this.#backs.delete(sender);
  }

  override close(): void {
    super.close();
    for (const s of this.#backs) s.sock?.close();
    this.#backs.clear();
  }
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

function readI32(b: Uint8Array, at: number): number {
  return readU32(b, at) | 0;
}

function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

/** The test header's length by its flags (iperf's Settings_ClientTestHdrLen); 0: no header. */
export function headerLength(flags: number): number {
  if ((flags & (HEADER_VERSION1 | HEADER_VERSION2 | HEADER_EXTEND)) === 0) return 0;
  if ((flags & HEADER_LEN_BIT) !== 0) {
    const len = (flags & HEADER_LEN_MASK) >> 1;
    return len > MAX_HEADER_LEN ? 0 : len;
  }
  let len = 0;
  if ((flags & (HEADER_VERSION1 | HEADER_EXTEND)) !== 0) len = CLIENT_HDR_V1_BYTES;
  if ((flags & (HEADER_VERSION2 | HEADER_EXTEND)) !== 0) len += CLIENT_HDREXT_BYTES;
  return len;
}

function iperfReadable(this: TcpSocket, bytes: number): void {
  const conn = this.target as IperfConn;
  if (conn.closed) return;
  conn.avail = bytes;
  try {
    receive(this, conn);
  } catch (err) {
    fail(this, conn, err);
  }
}

function iperfWritable(this: TcpSocket): void {
  const conn = this.target as IperfConn;
  if (conn.closed || conn.tx === null) return;
  try {
    if (conn.tx.pump(this)) txDone(this, conn);
  } catch (err) {
    fail(this, conn, err);
  }
}

function iperfError(this: TcpSocket): void {
  const conn = this.target as IperfConn;
  if (conn.closed) return;
  conn.peerClosed = true;
  // The client's FIN ends its test. -r: now the server's turn, on a new connection.
  if (conn.backPort !== 0) {
    const address = this.remoteAddress;
    if (address !== undefined) conn.service.connectBack(address, conn.backPort, conn.backAmount);
    conn.backPort = 0;
  }
  close(this, conn);
}

function receive(sock: TcpSocket, conn: IperfConn): void {
  const service = conn.service;
  const b = service.buffers;
  while (conn.need > 0 && conn.avail > 0) {
    let n = conn.need - conn.hdrLen;
    if (conn.avail < n) n = conn.avail;
    const view = b.scratchView(n);
    sock.read(view);
    conn.hdr.set(view, conn.hdrLen);
    conn.hdrLen += n;
    conn.avail -= n;
    service.stats.bytesIn += n;
    if (conn.hdrLen === conn.need && !header(sock, conn)) return;
  }
  if (conn.avail > 0) {
    service.stats.bytesIn += conn.avail;
    discardBytes(b, sock, conn.avail);
    conn.avail = 0;
  }
}

/** The header is in (its first `need` bytes): act on it. False when the connection was refused. */
function header(sock: TcpSocket, conn: IperfConn): boolean {
  const h = conn.hdr;
  const flags = readU32(h, 0);
  if (conn.need === 4) {
    if ((flags & HEADER_BOUNCEBACK) !== 0) return refuse(sock, conn);
    const len = headerLength(flags);
    if (len > 0 && (flags & HEADER_KEYCHECK) !== 0) return refuse(sock, conn);
    if (len > 4) {
      conn.need = len;
      return true;
    }
    conn.need = 0; // no header (iperf -C, or 2.0.5's flags of 0): all of it is data
    return true;
  }
  const len = conn.need;
  conn.need = 0;
  const amount = len >= CLIENT_HDR_V1_BYTES ? readI32(h, 20) : 0;
  if ((flags & HEADER_VERSION1) !== 0 && (flags & HEADER_VERSION2) === 0 && len >= CLIENT_HDR_V1_BYTES) {
    const port = readI32(h, 8);
    if (port > 0 && port <= 65535) {
      if ((flags & RUN_NOW) !== 0) {
        const address = sock.remoteAddress;
        if (address !== undefined) conn.service.connectBack(address, port, amount);
      } else {
        conn.backPort = port;
        conn.backAmount = amount;
      }
    }
  }
  if ((flags & HEADER_EXTEND) !== 0 && (flags & HEADER_VERSION2) !== 0 && len >= CLIENT_HDR_V1_BYTES + CLIENT_HDREXT_BYTES) {
    const upper = (h[32] << 8) | h[33];
    if ((upper & (HEADER_REVERSE | HEADER_FULLDUPLEX)) !== 0) {
      conn.duplex = (upper & HEADER_FULLDUPLEX) !== 0;
      conn.tx = new Sender(conn.service, amount);
      conn.service.stats.reverse++;
    }
  }
  if (((flags & HEADER_VERSION2) === 0 && (flags & HEADER_EXTEND) !== 0) || (flags & HEADER_V2PEERDETECT) !== 0) sendAck(sock, conn);
  if (conn.tx !== null && conn.tx.pump(sock)) txDone(sock, conn);
  return !conn.closed;
}

/** client_hdr_ack: type, length, flags, version_u, version_l, two reserved words. */
function sendAck(sock: TcpSocket, conn: IperfConn): void {
  const b = conn.service.buffers;
  if (sock.write(b.empty) < ACK_BYTES) return;
  const ack = b.scratchView(ACK_BYTES);
  ack.fill(0);
  putU32(ack, 0, CLIENTHDRACK);
  putU32(ack, 4, ACK_BYTES);
  putU32(ack, 12, VERSION_U);
  putU32(ack, 16, VERSION_L);
  sock.write(ack);
  conn.service.stats.bytesOut += ACK_BYTES;
}

/** -R is over once its amount is sent; --full-duplex once the client's side is over too. */
function txDone(sock: TcpSocket, conn: IperfConn): void {
  if (!conn.duplex || conn.peerClosed) close(sock, conn);
}

function refuse(sock: TcpSocket, conn: IperfConn): boolean {
  conn.service.stats.refused++;
  close(sock, conn);
  return false;
}

function fail(sock: TcpSocket, conn: IperfConn, err: unknown): void {
  conn.service.error("iperf", err);
  close(sock, conn);
}

// ---------------------------------------------------------------- connect back (-d, -r)

function backWritable(this: TcpSocket): void {
  const s = this.target as Sender;
  if (s.closed) return;
  try {
    if (s.pump(this)) backClose(this, s);
  } catch (err) {
    s.service.error("iperf connect back", err);
    backClose(this, s);
  }
}

function backReadable(this: TcpSocket, bytes: number): void {
  const s = this.target as Sender;
  if (s.closed) return;
  s.avail = bytes;
  try {
    discardBytes(s.service.buffers, this, bytes);
    s.avail = 0;
  } catch (err) {
    s.service.error("iperf connect back", err);
    backClose(this, s);
  }
}

function backError(this: TcpSocket): void {
  backClose(this, this.target as Sender);
}

function backClose(sock: TcpSocket, s: Sender): void {
  if (s.closed) return;
  close(sock, s);
  s.service.forget(s);
}
