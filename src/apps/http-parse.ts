// HTTP/1.1 request heads (RFC 9112), as pure functions over bytes: no sockets, no stack.
//   httpEmptyLines(buf, len)       empty lines before a request, to drop (RFC 9112 2.2)
//   httpHeadEnd(buf, from, len)    where the head (request line and headers) ends, or -1
//   parseHttpRequest(buf, end)     what the head in buf[0, end) asks, or the error status
// Small and strict: 400 for a malformed request line or header (white space before a
// colon, obs-fold, a bad Content-Length, no Host in HTTP/1.1 or two Hosts), 505 for an HTTP
// version other than 1.x, 501 for a transfer coding (no chunked request bodies here), then
// 405 for a method this server knows but does not allow and 501 for one it does not know.
// A head larger than the caller's buffer is the caller's 431 (HTTP_TOO_LARGE).

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const NBSP = 0xa0;
const COLON = 58;

export const HTTP_BAD_REQUEST = 400;
export const HTTP_NOT_ALLOWED = 405;
export const HTTP_TOO_LARGE = 431;
export const HTTP_NOT_IMPLEMENTED = 501;
export const HTTP_VERSION_NOT_SUPPORTED = 505;

/** Methods this server knows but does not allow (405); any other but GET and HEAD is 501. */
export const KNOWN_METHODS: readonly string[] = Object.freeze(["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"]);

/** Content-Length: at most 15 digits, so it is an exact JavaScript integer */
const CONTENT_LENGTH_DIGITS_MAX = 15;

/** What a request head asked, as far as a response depends on it. */
export interface HttpRequest {
  /** 0: a GET or HEAD to answer; otherwise the status to answer with (400, 405, 501, 505) */
  status: number;
  /** the request's length is known (the body's, and so where the next request starts):
   * true for status 0, 405 and 501 for a method; after any other error the connection closes */
  framed: boolean;
  /** "" when the request line did not parse */
  method: string;
  target: string;
  /** "HTTP/1.1", "HTTP/1.0" */
  version: string;
  /** the Host field's value, "" without one */
  host: string;
  /** the body's length (0 without Content-Length); a server reads and drops it */
  contentLength: number;
  /** a Transfer-Encoding field came (501) */
  transferCoding: boolean;
  /** the connection persists unless `close`: HTTP/1.1, or HTTP/1.0 with Connection: keep-alive */
  keepAlive: boolean;
  /** HTTP/1.0 asked to keep the connection (it must be told it was kept) */
  keepAlive10: boolean;
  /** Connection: close */
  close: boolean;
}

/** RFC 9110 5.6.2 tchar */
function isTchar(c: number): boolean {
  if (c >= 0x30 && c <= 0x39) return true; // DIGIT
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x7a) return true; // ALPHA
  return c === 0x21 || (c >= 0x23 && c <= 0x27) || c === 0x2a || c === 0x2b || c === 0x2d || c === 0x2e ||
    c === 0x5e || c === 0x5f || c === 0x60 || c === 0x7c || c === 0x7e;
}

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

function isBlank(ch: number): boolean {
  return ch === SP || ch === HTAB || ch === NBSP;
}

/** How many CR and LF bytes begin buf[0, len): empty lines before a request line are dropped (RFC 9112 2.2). */
export function httpEmptyLines(buf: Uint8Array, len: number): number {
  let lead = 0;
  while (lead < len && (buf[lead] === CR || buf[lead] === LF)) lead++;
  return lead;
}

/**
 * Where the head in buf[0, len) ends (just past the empty line), or -1 while it has not
 * come. A bare LF ends a line as CR LF does. The search starts at `from`: where the last
 * one stopped (its len), as it looks back over a CR LF CR LF split between reads.
 */
export function httpHeadEnd(buf: Uint8Array, from: number, len: number): number {
  for (let i = from; i < len; i++) {
    if (buf[i] !== LF || i === 0) continue;
    if (buf[i - 1] === LF || (i >= 2 && buf[i - 1] === CR && buf[i - 2] === LF)) return i + 1;
  }
  return -1;
}

/** Are the comma-separated tokens of buf[from, to) one equal to the lowercase name (ignoring case and blanks)? */
function hasToken(buf: Uint8Array, from: number, to: number, name: string): boolean {
  let at = from;
  while (at <= to) {
    let comma = at;
    while (comma < to && buf[comma] !== 0x2c) comma++;
    let s = at;
    let e = comma;
    while (s < e && isBlank(buf[s])) s++;
    while (e > s && isBlank(buf[e - 1])) e--;
    if (nameIs(buf, s, e, name)) return true;
    at = comma + 1;
  }
  return false;
}

/** The request line and headers in buf[0, end) (RFC 9112 3, 5), checked; one object per request. */
export function parseHttpRequest(buf: Uint8Array, end: number): HttpRequest {
  const req: HttpRequest = {
    status: HTTP_BAD_REQUEST, framed: false, method: "", target: "", version: "", host: "", contentLength: 0,
    transferCoding: false, keepAlive: false, keepAlive10: false, close: false,
  };
  // request-line = method SP request-target SP HTTP-version
  let eol = 0;
  while (eol < end && buf[eol] !== LF) eol++;
  if (eol === end) return req;
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
  // HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 2.3)
  const v = sp2 + 1;
  if (lineEnd - v !== 8 || !isHttpSlash(buf, v) || !isDigit(buf[v + 5]) || buf[v + 6] !== 0x2e || !isDigit(buf[v + 7])) return req;
  req.version = text(buf, v, lineEnd);
  if (buf[v + 5] !== 0x31) {
    req.status = HTTP_VERSION_NOT_SUPPORTED;
    return req;
  }
  const http10 = buf[v + 7] === 0x30;
  if (req.target !== "*" && req.target.charCodeAt(0) !== 0x2f && !req.target.startsWith("http://") && req.method !== "CONNECT") return req;
  // header fields
  let hosts = 0;
  let lengthSeen = false;
  let closeToken = false;
  let keepAliveToken = false;
  let at = eol + 1;
  while (at < end) {
    let le = at;
    while (le < end && buf[le] !== LF) le++;
    if (le === end) return req; // a line with no end
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
      if ((ch < SP && ch !== HTAB) || ch === 0x7f) return req;
    }
    if (nameIs(buf, at, colon, "host")) {
      if (hosts++ === 0) req.host = text(buf, vs, ve);
    } else if (nameIs(buf, at, colon, "content-length")) {
      // RFC 9112 6.3: 1*DIGIT; repeated, the same value each time
      if (ve - vs < 1 || ve - vs > CONTENT_LENGTH_DIGITS_MAX) return req;
      let n = 0;
      for (let i = vs; i < ve; i++) {
        if (!isDigit(buf[i])) return req;
        n = n * 10 + (buf[i] - 0x30);
      }
      if (lengthSeen && n !== req.contentLength) return req;
      lengthSeen = true;
      req.contentLength = n;
    } else if (nameIs(buf, at, colon, "transfer-encoding")) {
      req.transferCoding = true;
    } else if (nameIs(buf, at, colon, "connection")) {
      if (hasToken(buf, vs, ve, "close")) closeToken = true;
      if (hasToken(buf, vs, ve, "keep-alive")) keepAliveToken = true;
    }
    at = le + 1;
  }
  // RFC 9112 3.2: a 1.1 request has exactly one Host
  if (!http10 && hosts !== 1) return req;
  if (hosts > 1) return req;
  req.close = closeToken;
  req.keepAlive = http10 ? keepAliveToken : true;
  req.keepAlive10 = http10 && keepAliveToken;
  if (req.transferCoding) {
    // No chunked request bodies here (RFC 9112 6.1): 501, and the framing is lost.
    req.status = HTTP_NOT_IMPLEMENTED;
    return req;
  }
  req.framed = true;
  if (req.method === "GET" || req.method === "HEAD") req.status = 0;
  else req.status = KNOWN_METHODS.indexOf(req.method) >= 0 ? HTTP_NOT_ALLOWED : HTTP_NOT_IMPLEMENTED;
  return req;
}

function isDigit(ch: number): boolean {
  return ch >= 0x30 && ch <= 0x39;
}

/** "HTTP/" at buf[at], case-sensitive (RFC 9112 2.3) */
function isHttpSlash(buf: Uint8Array, at: number): boolean {
  return buf[at] === 0x48 && buf[at + 1] === 0x54 && buf[at + 2] === 0x54 && buf[at + 3] === 0x50 && buf[at + 4] === 0x2f;
}
