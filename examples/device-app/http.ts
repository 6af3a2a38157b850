// HTTP/1.1 on port 80 (RFC 9110, 9112), small and strict:
//   GET /          the device's status as JSON (app.statusJson())
//   GET /bytes/N   N bytes, byte i = i % 251, streamed as the send buffer drains (never
//                  held whole: N may be far past memory, up to 2^53 - 1)
//   HEAD           the same headers, no body
// Every response has Content-Length. Persistent connections are the HTTP/1.1 default
// (`Connection: close` ends one after its response; HTTP/1.0 keeps one only when asked);
// requests may be pipelined, and are answered in order. A request's line and headers must
// fit in the connection's buffer (httpRequestMax bytes) or the answer is 431; a malformed
// request is answered 400, an unknown path 404, a known method other than GET and HEAD
// 405, an unknown method or a transfer coding 501, an HTTP version other than 1.x 505;
// after 400, 431, 501 and 505 the connection is closed. A body with Content-Length is read
// and dropped. At most httpConnsMax connections are served at once (each holds a request
// buffer from the app's arena); one more is answered 503 once its request is in, and closed.
//
// While a response is being sent the connection reads nothing more, so a client that
// pipelines faster than it reads is held back by its own window.

import type { TcpListener, TcpSocket } from "../../src/index";
import type { DeviceApp } from "./app";
import { discardBytes, MOD } from "./buffers";

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;

/** Methods this server knows but does not allow (405); any other but GET and HEAD is 501. */
const KNOWN_METHODS = ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"];

const REASONS: Record<number, string> = {
  200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 431: "Request Header Fields Too Large",
  501: "Not Implemented", 503: "Service Unavailable", 505: "HTTP Version Not Supported",
};

/** /bytes/N: N up to 2^53 - 1 (an exact JavaScript integer) */
const BYTES_MAX = Number.MAX_SAFE_INTEGER;

/** RFC 9110 5.6.2 tchar */
function isTchar(c: number): boolean {
  if (c >= 0x30 && c <= 0x39) return true; // DIGIT
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x7a) return true; // ALPHA
  return c === 0x21 || (c >= 0x23 && c <= 0x27) || c === 0x2a || c === 0x2b || c === 0x2d || c === 0x2e ||
    c === 0x5e || c === 0x5f || c === 0x60 || c === 0x7c || c === 0x7e;
}

/** One connection: its request buffer (from the app's arena) and the response under way. */
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

/** What a request asked for, as far as the response depends on it. */
interface Request {
  status: number;
  method: string;
  target: string;
  keepAlive: boolean;
  /** HTTP/1.0 asked to keep the connection (it must be told it was kept) */
  keepAlive10: boolean;
  close: boolean;
  contentLength: number;
}

export class HttpServer {
  readonly app: DeviceApp;
  readonly #free: HttpConn[] = [];
  readonly #all: HttpConn[] = [];

  constructor(app: DeviceApp) {
    this.app = app;
    for (const buf of app.buffers.http) {
      const c = new HttpConn(this, buf);
      this.#all.push(c);
      this.#free.push(c);
    }
  }

  accept(listener: TcpListener): void {
    const app = this.app;
    this.reap();
    for (;;) {
      const from = listener.read();
      if (from === undefined) return;
      app.stats.http.connections++;
      const c = this.#free.pop();
      if (c === undefined) {
        // Every request buffer is taken: 503 once the request is in, and close.
        app.stats.http.busy++;
        const sock = new app.TCP({ from, onWritable: busyWritable, onReadable: busyReadable, onError: busyError, target: new BusyConn(this) });
        app.track(sock);
        continue;
      }
      c.reset();
      c.inUse = true;
      const sock = new app.TCP({ from, onReadable: httpReadable, onWritable: httpWritable, onError: httpError, target: c });
      c.sock = sock;
      app.track(sock);
    }
  }

  /** Give a connection's buffer back (after its socket was closed). */
  release(c: HttpConn): void {
    if (!c.inUse) return;
    if (c.sock !== null) this.app.untrack(c.sock);
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
    const empty = this.app.buffers.empty;
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

  close(): void {
    for (const c of this.#all) {
      if (!c.inUse) continue;
      c.sock?.close();
      this.release(c);
    }
  }

  get connectionsFree(): number {
    return this.#free.length;
  }
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
    this.write(c.server.app.buffers.empty); // throws once the connection is gone (a reset)
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
    c.server.app.error("http", err);
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
  const app = c.server.app;
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
      discardBytes(app.buffers, sock, n);
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
        respond(c, 431, null, true);
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

/**
 * Where the request's header section ends (just past the empty line), or -1. Empty lines
 * before a request line are dropped (RFC 9112 2.2). A bare LF ends a line as CRLF does.
 */
function headerEnd(c: HttpConn): number {
  const buf = c.buf;
  if (c.scan === 0) {
    let lead = 0;
    while (lead < c.len && (buf[lead] === CR || buf[lead] === LF)) lead++;
    if (lead > 0) {
      buf.copyWithin(0, lead, c.len);
      c.len -= lead;
    }
  }
  for (let i = c.scan; i < c.len; i++) {
    if (buf[i] !== LF || i === 0) continue;
    if (buf[i - 1] === LF || (i >= 2 && buf[i - 1] === CR && buf[i - 2] === LF)) {
      c.scan = 0;
      return i + 1;
    }
  }
  // Resume here when more bytes come (the look back covers a CR LF CR LF split across reads).
  c.scan = c.len;
  return -1;
}

/** Answer the request in buf[0, end), then keep what follows it (a pipelined request, a body). */
function answer(c: HttpConn, end: number): void {
  const app = c.server.app;
  app.stats.http.requests++;
  const req = parse(c.buf, end);
  // Drop the request and as much of its body as is here already.
  let consumed = end;
  if (req.status === 0 && req.contentLength > 0) {
    const here = c.len - end;
    const take = req.contentLength < here ? req.contentLength : here;
    consumed += take;
    c.skip = req.contentLength - take;
  }
  c.buf.copyWithin(0, consumed, c.len);
  c.len -= consumed;
  c.scan = 0;
  if (req.status !== 0) {
    respond(c, req.status, req, req.status !== 404 && req.status !== 405);
    return;
  }
  const head = req.method === "HEAD";
  if (req.method !== "GET" && !head) {
    respond(c, KNOWN_METHODS.indexOf(req.method) >= 0 ? 405 : 501, req, false);
    return;
  }
  let path = req.target;
  if (path.startsWith("http://")) {
    // absolute-form (RFC 9112 3.2.2): the path after the authority
    const slash = path.indexOf("/", 7);
    path = slash < 0 ? "/" : path.slice(slash);
  }
  const q = path.indexOf("?");
  if (q >= 0) path = path.slice(0, q);
  if (path === "/") {
    const json = app.statusJson();
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
function respond(c: HttpConn, status: number, req: Request | null, close: boolean): void {
  const body = `${status} ${REASONS[status]}\n`;
  const head = req !== null && req.method === "HEAD";
  startResponse(c, status, "text/plain", body.length, close ? null : req, head ? "" : body, 0);
}

function startResponse(c: HttpConn, status: number, type: string, length: number, req: Request | null, text: string, modBytes: number): void {
  const s = c.server.app.stats.http;
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
  const app = c.server.app;
  const b = app.buffers;
  const sock = c.sock as TcpSocket;
  const s = app.stats.http;
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
  try {
    discardBytes(c.server.app.buffers, sock, c.avail);
  } catch {
    // gone already
  }
  c.avail = 0;
  sock.close();
  c.server.release(c);
}

// ---------------------------------------------------------------- parsing

function text(buf: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i++) s += String.fromCharCode(buf[i]);
  return s;
}

/** Does buf[from, to) equal the lowercase ASCII name, ignoring case? */
function nameIs(buf: Uint8Array, from: number, to: number, name: string): boolean {
  if (to - from !== name.length) return false;
  for (let i = 0; i < name.length; i++) {
    let ch = buf[from + i];
    if (ch >= 0x41 && ch <= 0x5a) ch |= 0x20;
    if (ch !== name.charCodeAt(i)) return false;
  }
  return true;
}

/** The request line and headers in buf[0, end), checked (RFC 9112 3, 5): status 0 when good. */
function parse(buf: Uint8Array, end: number): Request {
  const req: Request = { status: 400, method: "", target: "", keepAlive: false, keepAlive10: false, close: false, contentLength: 0 };
  // request-line = method SP request-target SP HTTP-version
  let eol = 0;
  while (buf[eol] !== LF) eol++;
  const lineEnd = eol > 0 && buf[eol - 1] === CR ? eol - 1 : eol;
  let sp1 = 0;
  while (sp1 < lineEnd && buf[sp1] !== SP) {
    if (!isTchar(buf[sp1])) return req;
    sp1++;
  }
  if (sp1 === 0 || sp1 === lineEnd) return req;
  let sp2 = sp1 + 1;
  while (sp2 < lineEnd && buf[sp2] !== SP) {
    if (buf[sp2] <= SP || buf[sp2] >= 0x7f) return req;
    sp2++;
  }
  if (sp2 === sp1 + 1 || sp2 === lineEnd) return req;
  req.method = text(buf, 0, sp1);
  req.target = text(buf, sp1 + 1, sp2);
  const version = text(buf, sp2 + 1, lineEnd);
  const v = /^HTTP\/(\d)\.(\d)$/.exec(version);
  if (v === null) return req;
  if (v[1] !== "1") {
    req.status = 505;
    return req;
  }
  const http10 = v[2] === "0";
  if (req.target !== "*" && req.target.charCodeAt(0) !== 0x2f && !req.target.startsWith("http://") && req.method !== "CONNECT") return req;
  // header fields
  let hosts = 0;
  let lengthSeen = false;
  let transferCoding = false;
  let keepAliveToken = false;
  let closeToken = false;
  let at = eol + 1;
  while (at < end) {
    let le = at;
    while (buf[le] !== LF) le++;
    const stop = le > at && buf[le - 1] === CR ? le - 1 : le;
    if (stop === at) break; // the empty line
    // obs-fold (a line starting with white space) is refused (RFC 9112 5.2)
    if (buf[at] === SP || buf[at] === HTAB) return req;
    let colon = at;
    while (colon < stop && buf[colon] !== COLON) {
      if (!isTchar(buf[colon])) return req; // no white space before the colon (RFC 9112 5.1)
      colon++;
    }
    if (colon === at || colon === stop) return req;
    let vs = colon + 1;
    while (vs < stop && (buf[vs] === SP || buf[vs] === HTAB)) vs++;
    let ve = stop;
    while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HTAB)) ve--;
    for (let i = vs; i < ve; i++) {
      const ch = buf[i];
      if ((ch < SP && ch !== HTAB) || ch === 0x7f || ch === CR) return req;
    }
    if (nameIs(buf, at, colon, "host")) hosts++;
    else if (nameIs(buf, at, colon, "content-length")) {
      const value = text(buf, vs, ve);
      if (!/^\d{1,15}$/.test(value)) return req;
      const n = Number(value);
      if (lengthSeen && n !== req.contentLength) return req;
      lengthSeen = true;
      req.contentLength = n;
    } else if (nameIs(buf, at, colon, "transfer-encoding")) {
      transferCoding = true;
    } else if (nameIs(buf, at, colon, "connection")) {
      for (const token of text(buf, vs, ve).toLowerCase().split(",")) {
        const t = token.trim();
        if (t === "close") closeToken = true;
        else if (t === "keep-alive") keepAliveToken = true;
      }
    }
    at = le + 1;
  }
  // RFC 9112 3.2: a 1.1 request has exactly one Host
  if (!http10 && hosts !== 1) return req;
  if (hosts > 1) return req;
  req.close = closeToken;
  req.keepAlive = http10 ? keepAliveToken : true;
  req.keepAlive10 = http10 && keepAliveToken;
  if (transferCoding) {
    // No chunked request bodies here (RFC 9112 6.1): 501, and the framing is lost, so close.
    req.status = 501;
    return req;
  }
  req.status = 0;
  return req;
}

// ---------------------------------------------------------------- too busy: 503 and close

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
  const b = c.server.app.buffers;
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
    c.server.app.error("http busy", err);
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
  const b = c.server.app.buffers;
  try {
    if (sock.write(b.empty) < BUSY_RESPONSE.length) return; // onWritable brings us back
    b.putAscii(BUSY_RESPONSE, 0, BUSY_RESPONSE.length, 0);
    sock.write(b.scratchView(BUSY_RESPONSE.length));
  } catch (err) {
    c.server.app.error("http busy", err);
  }
  busyClose(sock, c);
}

function busyClose(sock: TcpSocket, c: BusyConn): void {
  if (c.closed) return;
  c.closed = true;
  sock.close();
  c.server.app.untrack(sock);
}
