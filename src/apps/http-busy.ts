// The HTTP server's answer when it is too busy (connsMax connections served already): the
// request is let in whole, then 503 and close. Apart from http-server.ts, which hands such
// a connection over with busyConnection.

import type { TcpSocket } from "../socket/tcp";
import { discardBytes } from "./buffers";
import type { HttpServer } from "./http-server";
import type { TcpClasses } from "./service";

const CR = 13;
const LF = 10;

const BUSY_RESPONSE = "HTTP/1.1 503 Service Unavailable\r\nServer: xsnet\r\nContent-Type: text/plain\r\nContent-Length: 24\r\nConnection: close\r\n\r\n503 Service Unavailable\n";

/**
 * A connection turned away: it has no request buffer, so it only watches the bytes go by
 * for the empty line that ends the request's headers (closing before the request is in
 * would make the client's request draw a reset, and the reset would take the 503 with it).
 */
class BusyConn {
  readonly server: HttpServer;
  /** how much of CR LF CR LF (or LF LF) the last bytes matched */
  matched = 0;
  answered = false;
  closed = false;

  constructor(server: HttpServer) {
    this.server = server;
  }
}

function busyReadable(this: TcpSocket, bytes: number): void {
  const c = this.target as BusyConn;
  if (c.closed) return;
  const b = c.server.buffers;
  try {
    let n = bytes;
    while (n > 0 && !c.answered) {
      const k = n < b.chunk ? n : b.chunk;
      const view = b.scratchView(k);
      this.read(view);
      n -= k;
      for (let i = 0; i < k; i++) {
        const ch = view[i];
        if (ch === LF) c.matched = c.matched >= 1 ? 4 : 1;
        else if (ch !== CR) c.matched = 0;
        if (c.matched === 4) {
          c.answered = true;
          break;
        }
      }
    }
    if (n > 0) discardBytes(b, this, n);
    if (c.answered) busyAnswer(this, c);
  } catch (err) {
    c.server.error("http busy", err);
    busyClose(this, c);
  }
}

function busyWritable(this: TcpSocket): void {
  const c = this.target as BusyConn;
  if (!c.closed && c.answered) busyAnswer(this, c);
}

function busyError(this: TcpSocket): void {
  busyClose(this, this.target as BusyConn);
}

function busyAnswer(sock: TcpSocket, c: BusyConn): void {
  const b = c.server.buffers;
  try {
    if (sock.write(b.empty) < BUSY_RESPONSE.length) return; // onWritable brings us back
    b.putAscii(BUSY_RESPONSE, 0, BUSY_RESPONSE.length, 0);
    sock.write(b.scratchView(BUSY_RESPONSE.length));
  } catch (err) {
    c.server.error("http busy", err);
  }
  busyClose(sock, c);
}

function busyClose(sock: TcpSocket, c: BusyConn): void {
  if (c.closed) return;
  c.closed = true;
  sock.close();
  c.server.untrack(sock);
}

/** Take an accepted connection (`from`) that will be answered 503 once its request is in. */
export function busyConnection(server: HttpServer, TCP: TcpClasses["TCP"], from: TcpSocket): TcpSocket {
  return new TCP({ from, onWritable: busyWritable, onReadable: busyReadable, onError: busyError, target: new BusyConn(server) });
}
