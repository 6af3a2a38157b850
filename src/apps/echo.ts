// The simple TCP services, as inetd and lwIP's apps serve them:
//   echo     RFC 862, TCP 7: reads only what it can write back, so the window closes when
//            the peer outruns it (as lwIP's tcpecho_raw)
//   discard  RFC 863, TCP 9
//   chargen  RFC 864, TCP 19: byte for byte as lwIP's anchor device (buffers.ts); what a
//            client sends is read and ignored
// Each closes its side after the peer's close. Usage:
//   new EchoServer(tcpSocketClasses(net)).start()

import type { TcpSocket } from "../socket/tcp";
import { CHARGEN_PERIOD, closeConn, discardBytes } from "./buffers";
import { TcpService, type ServiceOptions, type TcpClasses } from "./service";

export const PORT_ECHO = 7;
export const PORT_DISCARD = 9;
export const PORT_CHARGEN = 19;

/** Counters of one TCP stream service. */
export interface StreamStats {
  connections: number;
  bytesIn: number;
  bytesOut: number;
}

const ECHO = 0;
const DISCARD = 1;
const CHARGEN = 2;

/** One connection: its state rides on the socket's target. */
class StreamConn {
  readonly service: StreamServer;
  /** bytes the stack holds for us (onReadable reports the total; reads take from it) */
  avail = 0;
  /** chargen: position in the stream */
  pos = 0;
  closed = false;

  constructor(service: StreamServer) {
    this.service = service;
  }
}

/** Echo, discard or chargen, by kind. */
abstract class StreamServer extends TcpService {
  readonly kind: number;
  readonly stats: StreamStats = { connections: 0, bytesIn: 0, bytesOut: 0 };

  constructor(name: string, kind: number, classes: TcpClasses, options: ServiceOptions, defaultPort: number) {
    super(name, classes, options, defaultPort, { chargen: kind === CHARGEN });
    this.kind = kind;
  }

  protected adopt(from: TcpSocket): TcpSocket {
    const sock = new this.TCP({ from, onReadable: streamReadable, onWritable: streamWritable, onError: streamError, target: new StreamConn(this) });
    this.stats.connections++;
    return sock;
  }
}

/** RFC 862 over TCP. */
export class EchoServer extends StreamServer {
  constructor(classes: TcpClasses, options: ServiceOptions = {}) {
    super("tcp echo", ECHO, classes, options, PORT_ECHO);
  }
}

/** RFC 863 over TCP. */
export class DiscardServer extends StreamServer {
  constructor(classes: TcpClasses, options: ServiceOptions = {}) {
    super("tcp discard", DISCARD, classes, options, PORT_DISCARD);
  }
}

/** RFC 864 over TCP. */
export class ChargenServer extends StreamServer {
  constructor(classes: TcpClasses, options: ServiceOptions = {}) {
    super("tcp chargen", CHARGEN, classes, options, PORT_CHARGEN);
  }
}

function streamReadable(this: TcpSocket, bytes: number): void {
  const conn = this.target as StreamConn;
  if (conn.closed) return;
  conn.avail = bytes;
  const service = conn.service;
  try {
    if (service.kind === ECHO) echoPump(this, conn);
    else {
      // discard, and whatever a chargen client sends (RFC 864: ignored)
      service.stats.bytesIn += conn.avail;
      discardBytes(service.buffers, this, conn.avail);
      conn.avail = 0;
    }
  } catch (err) {
    failStream(this, conn, err);
  }
}

function streamWritable(this: TcpSocket, room: number): void {
  const conn = this.target as StreamConn;
  if (conn.closed) return;
  try {
    if (conn.service.kind === ECHO) echoPump(this, conn);
    else if (conn.service.kind === CHARGEN) chargenFill(this, conn, room);
  } catch (err) {
    failStream(this, conn, err);
  }
}

/** The peer closed (everything was read) or the connection failed: close our side too. */
function streamError(this: TcpSocket): void {
  closeConn(this, this.target as StreamConn);
}

/** Echo what fits in the send buffer; the rest stays in the receive queue, closing the window. */
function echoPump(sock: TcpSocket, conn: StreamConn): void {
  const b = conn.service.buffers;
  const stats = conn.service.stats;
  if (conn.avail === 0) return;
  let room = sock.write(b.empty);
  while (conn.avail > 0 && room > 0) {
    let n = conn.avail < room ? conn.avail : room;
    if (n > b.chunk) n = b.chunk;
    const view = b.scratchView(n);
    sock.read(view);
    conn.avail -= n;
    room = sock.write(view);
    stats.bytesIn += n;
    stats.bytesOut += n;
  }
}

/** Fill the send buffer with the chargen stream, straight from the pattern. */
function chargenFill(sock: TcpSocket, conn: StreamConn, room: number): void {
  const b = conn.service.buffers;
  while (room > 0) {
    const n = room < b.chunk ? room : b.chunk;
    const off = conn.pos % CHARGEN_PERIOD;
    room = sock.write(b.chargen.subarray(off, off + n));
    conn.pos += n;
    conn.service.stats.bytesOut += n;
  }
}

function failStream(sock: TcpSocket, conn: StreamConn, err: unknown): void {
  conn.service.error(conn.service.name, err);
  closeConn(sock, conn);
}
