// HTTP/1.1 on port 80 (RFC 9110, 9112), small and strict:
//   GET /          a status as JSON (the `status` option's text; by default the server's
//                  own counters)
//   GET /bytes/N   N bytes, byte i = i % 251, streamed as the send buffer drains (never
//                  held whole: N may be far past memory, up to 2^53 - 1)
//   HEAD           the same headers, no body
// Every response has Content-Length. Persistent connections are the HTTP/1.1 default
// (`Connection: close` ends one after its response; HTTP/1.0 keeps one only when asked);
// requests may be pipelined, and are answered in order. A request's line and headers must
// fit in the connection's buffer (requestMax bytes) or the answer is 431; what the head
// asks, and its errors (400, 405, 501, 505), are http-parse.ts's; an unknown path is 404.
// After 400, 431, 505 and a 501 for a transfer coding the connection is closed. A body
// with Content-Length is read and dropped. At most connsMax connections are served at once
// (each holds a request buffer); one more is answered 503 once its request is in, and
// closed. Usage:
//   new HttpServer(tcpSocketClasses(net), { status: () => JSON.stringify(...) }).start()
//
// While a response is being sent the connection reads nothing more, so a client that
// pipelines faster than it reads is held back by its own window.

import type { TcpListener, TcpSocket } from "../socket/tcp";
import { discardBytes, drainAndClose, MOD } from "./buffers";
import { HTTP_TOO_LARGE, httpEmptyLines, httpHeadEnd, parseHttpRequest, type HttpRequest } from "./http-parse";
import { busyConnection } from "./http-busy";
import { TcpService, type ServiceOptions, type TcpClasses } from "./service";

export const PORT_HTTP = 80;

const REASONS: Readonly<Record<number, string>> = Object.freeze({
  200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 431: "Request Header Fields Too Large",
  501: "Not Implemented", 503: "Service Unavailable", 505: "HTTP Version Not Supported",
});

/** /bytes/N: N up to 2^53 - 1 (an exact JavaScript integer) */
const BYTES_MAX = Number.MAX_SAFE_INTEGER;

/** One connection: its request buffer (from the buffers' arena) and the response under way. */
export class HttpConn {
  readonly server: HttpServer;
  readonly buf: Uint8Array;
  sock: TcpSocket | null = null;
  /** bytes in buf */
  len = 0;
  /** where the search for the end of the headers resumes */
  scan = 0;
  /** bytes the stack holds for us */
  avail = 0;
  /** bytes of a request body still to read and drop */
  skip = 0;
  /** a response is being sent: head (status line, headers, and a text body) then bodyLen bytes of i % 251 */
  active = false;
  head = "";
  headPos = 0;
  bodyLen = 0;
  bodyPos = 0;
  closeAfter = false;
  peerClosed = false;
  inUse = false;

  constructor(server: HttpServer, buf: Uint8Array) {
    this.server = server;
    this.buf = buf;
  }

  reset(): void {
    this.sock = null;
    this.len = this.scan = this.avail = this.skip = 0;
    this.active = false;
    this.head = "";
    this.headPos = this.bodyLen = this.bodyPos = 0;
    this.closeAfter = this.peerClosed = false;
  }
}

export interface HttpStats {
  connections: number;
  requests: number;
  bytesOut: number;
  /** connections turned away with 503 (every request buffer taken) */
  busy: number;
  s200: number;
  s400: number;
  s404: number;
  s405: number;
  s431: number;
  s501: number;
  s505: number;
}

export interface HttpOptions extends ServiceOptions {
  /** connections served at once (default 4), when the server makes its own buffers; with
   * shared buffers, one per request buffer they hold */
  connsMax?: number;
  /** bytes of one request's line and headers (default 2048; more: 431), when the server makes its own buffers */
  requestMax?: number;
  /** the body of GET /, JSON (characters past ASCII are escaped); default: the server's counters */
  status?: () => string;
}

export class HttpServer extends TcpService {
  readonly stats: HttpStats = { connections: 0, requests: 0, bytesOut: 0, busy: 0, s200: 0, s400: 0, s404: 0, s405: 0, s431: 0, s501: 0, s505: 0 };
  readonly #status: (() => string) | null;
  readonly #free: HttpConn[] = [];
  readonly #all: HttpConn[] = [];

  constructor(classes: TcpClasses, options: HttpOptions = {}) {
    const connsMax = options.connsMax ?? 4;
    if (!Number.isInteger(connsMax) || connsMax < 1) throw new RangeError(`http server: connsMax must be an integer >= 1, got ${connsMax}`);
    super("http", classes, options, PORT_HTTP, { mod: true, requestBuffers: options.buffers === undefined ? connsMax : 1, requestBytes: options.requestMax ?? 2048 });
    this.#status = options.status ?? null;
    for (const buf of this.buffers.requests) {
      const c = new HttpConn(this, buf);
      this.#all.push(c);
      this.#free.push(c);
    }
  }

  override accept(listener: TcpListener): void {
    this.reap();
    super.accept(listener);
  }

  protected adopt(from: TcpSocket): TcpSocket {
    this.stats.connections++;
    const c = this.#free.pop();
    if (c === undefined) {
      // Every request buffer is taken: 503 once the request is in, and close.
      this.stats.busy++;
      return busyConnection(this, this.TCP, from);
    }
    c.reset();
    c.inUse = true;
    const sock = new this.TCP({ from, onReadable: httpReadable, onWritable: httpWritable, onError: httpError, target: c });
    c.sock = sock;
    return sock;
  }

  /** The body of GET /: the status option's JSON, ASCII only (so its length is its byte count). */
  statusJson(): string {
    return asciiOnly(this.#status !== null ? this.#status() : JSON.stringify({ http: this.stats }));
  }

  /** Give a connection's buffer back (after its socket was closed). */
  release(c: HttpConn): void {
    if (!c.inUse) return;
    if (c.sock !== null) this.untrack(c.sock);
    c.reset();
    c.inUse = false;
    this.#free.push(c);
  }

  /**
   * Release the buffers of connections that are gone. The socket API reports one error per
   * socket: a client that half-closes and then resets while a response is under way (curl
   * interrupted mid-download after its FIN) leaves no further callback. Probed at every
   * accept: write(empty) throws once the stack has freed the connection.
   */
  reap(): void {
    const empty = this.buffers.empty;
    for (const c of this.#all) {
      if (!c.inUse || c.sock === null) continue;
      try {
        c.sock.write(empty);
      } catch {
        c.sock.close();
        this.release(c);
      }
    }
  }

  override close(): void {
    super.close();
    for (const c of this.#all) this.release(c);
  }

  get connectionsFree(): number {
    return this.#free.length;
  }
}

/** JSON with every character past ASCII escaped, so its length is its byte count. */
export function asciiOnly(json: string): string {
  return json.replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

// ---------------------------------------------------------------- socket callbacks

function httpReadable(this: TcpSocket, bytes: number): void {
  const c = this.target as HttpConn;
  if (!c.inUse) return;
  c.avail = bytes;
  run(c);
}

function httpWritable(this: TcpSocket): void {
  const c = this.target as HttpConn;
  if (!c.inUse) return;
  run(c);
}

/** The peer closed its side (all read), or the connection is gone. */
function httpError(this: TcpSocket): void {
  const c = this.target as HttpConn;
  if (!c.inUse) return;
  c.peerClosed = true;
  let alive = true;
  try {
    this.write(c.server.buffers.empty); // throws once the connection is gone (a reset)
  } catch {
    alive = false;
  }
  if (!alive) {
    this.close();
    c.server.release(c);
    return;
  }
  // Half-closed: answer what was asked, then close.
  run(c);
}

function run(c: HttpConn): void {
  try {
    serve(c);
  } catch (err) {
    c.server.error("http", err);
    finish(c);
  }
}

/**
 * Make every step that can be made now: send the response under way, drop a request body,
 * take more bytes in, answer the next complete request. Returns when a step waits for the
 * peer (room to write, or more bytes) or the connection is done. Each pass either returns
 * or consumes something (a response sent, bytes read or a request answered), so it ends.
 */
function serve(c: HttpConn): void {
  const b = c.server.buffers;
  const sock = c.sock as TcpSocket;
  for (;;) {
    if (c.active) {
      if (!pump(c)) return; // onWritable brings us back
      if (c.closeAfter) {
        finish(c);
        return;
      }
    }
    if (c.skip > 0) {
      const n = c.skip < c.avail ? c.skip : c.avail;
      discardBytes(b, sock, n);
      c.skip -= n;
      c.avail -= n;
      if (c.skip > 0) {
        if (c.peerClosed) finish(c);
        return;
      }
    }
    const end = headerEnd(c);
    if (end < 0) {
      if (c.len === c.buf.length) {
        respond(c, HTTP_TOO_LARGE, null, true);
        continue;
      }
      if (c.avail > 0) {
        const room = c.buf.length - c.len;
        const n = c.avail < room ? c.avail : room;
        sock.read(c.buf.subarray(c.len, c.len + n));
        c.len += n;
        c.avail -= n;
        continue;
      }
      if (c.peerClosed) finish(c);
      return;
    }
    answer(c, end);
  }
}

/** Where the request's head ends in the connection's buffer, or -1 (empty lines before it dropped). */
function headerEnd(c: HttpConn): number {
  const buf = c.buf;
  if (c.scan === 0) {
    const lead = httpEmptyLines(buf, c.len);
    if (lead > 0) {
      buf.copyWithin(0, lead, c.len);
      c.len -= lead;
    }
  }
  const end = httpHeadEnd(buf, c.scan, c.len);
  // Resume at len when more bytes come.
  c.scan = end < 0 ? c.len : 0;
  return end;
}

/** Answer the request in buf[0, end), then keep what follows it (a pipelined request, a body). */
function answer(c: HttpConn, end: number): void {
  const server = c.server;
  server.stats.requests++;
  const req = parseHttpRequest(c.buf, end);
  // Drop the request and as much of its body as is here already.
  let consumed = end;
  if (req.framed && req.contentLength > 0) {
    const here = c.len - end;
    const take = req.contentLength < here ? req.contentLength : here;
    consumed += take;
    c.skip = req.contentLength - take;
  }
  c.buf.copyWithin(0, consumed, c.len);
  c.len -= consumed;
  c.scan = 0;
  if (req.status !== 0) {
    respond(c, req.status, req, !req.framed);
    return;
  }
  const head = req.method === "HEAD";
  let path = req.target;
  if (path.startsWith("http://")) {
    // absolute-form (RFC 9112 3.2.2): the path after the authority
    const slash = path.indexOf("/", 7);
    path = slash < 0 ? "/" : path.slice(slash);
  }
  const q = path.indexOf("?");
  if (q >= 0) path = path.slice(0, q);
  if (path === "/") {
    const json = server.statusJson();
    startResponse(c, 200, "application/json", json.length, req, head ? "" : json, 0);
    return;
  }
  if (path.startsWith("/bytes/")) {
    const digits = path.slice(7);
    if (/^\d{1,16}$/.test(digits) && Number(digits) <= BYTES_MAX) {
      const n = Number(digits);
      startResponse(c, 200, "application/octet-stream", n, req, "", head ? 0 : n);
      return;
    }
  }
  respond(c, 404, req, false);
}

/** An error response: a one-line text body. */
function respond(c: HttpConn, status: number, req: HttpRequest | null, close: boolean): void {
  const body = `${status} ${REASONS[status]}\n`;
  const head = req !== null && req.method === "HEAD";
  startResponse(c, status, "text/plain", body.length, close ? null : req, head ? "" : body, 0);
}

function startResponse(c: HttpConn, status: number, type: string, length: number, req: HttpRequest | null, text: string, modBytes: number): void {
  const s = c.server.stats;
  switch (status) {
    case 200: s.s200++; break;
    case 400: s.s400++; break;
    case 404: s.s404++; break;
    case 405: s.s405++; break;
    case 431: s.s431++; break;
    case 501: s.s501++; break;
    case 505: s.s505++; break;
  }
  const keep = req !== null && req.keepAlive && !req.close;
  let h = `HTTP/1.1 ${status} ${REASONS[status]}\r\nServer: xsnet\r\nContent-Type: ${type}\r\nContent-Length: ${length}\r\n`;
  if (status === 405) h += "Allow: GET, HEAD\r\n";
  if (!keep) h += "Connection: close\r\n";
  else if (req !== null && req.keepAlive10) h += "Connection: keep-alive\r\n";
  c.head = h + "\r\n" + text;
  c.headPos = 0;
  c.bodyLen = modBytes;
  c.bodyPos = 0;
  c.closeAfter = !keep;
  c.active = true;
}

/**
 * Write as much of the response as the socket takes now; true when all of it is written.
 * The head (and a text body) is copied into scratch, with the first bytes of a /bytes body
 * behind it in the same write; the rest of a /bytes body goes straight from the pattern.
 */
function pump(c: HttpConn): boolean {
  const b = c.server.buffers;
  const sock = c.sock as TcpSocket;
  const s = c.server.stats;
  let room = sock.write(b.empty);
  while (room > 0) {
    const headLeft = c.head.length - c.headPos;
    if (headLeft > 0) {
      let n = headLeft < room ? headLeft : room;
      if (n > b.chunk) n = b.chunk;
      b.putAscii(c.head, c.headPos, n, 0);
      c.headPos += n;
      let m = 0;
      if (c.headPos === c.head.length && c.bodyPos < c.bodyLen) {
        const left = c.bodyLen - c.bodyPos;
        m = room - n < b.chunk - n ? room - n : b.chunk - n;
        if (left < m) m = left;
        const off = c.bodyPos % MOD;
        b.scratch.set(b.mod.subarray(off, off + m), n);
        c.bodyPos += m;
      }
      room = sock.write(b.scratchView(n + m));
      s.bytesOut += n + m;
      continue;
    }
    const left = c.bodyLen - c.bodyPos;
    if (left <= 0) break;
    let n = left < room ? left : room;
    if (n > b.chunk) n = b.chunk;
    const off = c.bodyPos % MOD;
    room = sock.write(b.mod.subarray(off, off + n));
    c.bodyPos += n;
    s.bytesOut += n;
  }
  if (c.headPos < c.head.length || c.bodyPos < c.bodyLen) return false;
  c.active = false;
  c.head = "";
  return true;
}

/** Close after reading what is left (unread bytes would turn the close into a reset). */
function finish(c: HttpConn): void {
  const sock = c.sock;
  if (sock === null) return;
  drainAndClose(c.server.buffers, sock, c.avail);
  c.avail = 0;
  c.server.release(c);
}
