// The HTTP request-head parser (src/apps/http-parse.ts) on its own: bytes in, a request or
// an error status out. Good requests, each error, pipelining, obs-fold, the limits, and a
// head split at every position.
import { describe, expect, it } from "vitest";
import { HTTP_TOO_LARGE, KNOWN_METHODS, httpEmptyLines, httpHeadEnd, parseHttpRequest, type HttpRequest } from "../../src/apps/http-parse";

const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** The head of `s` (it must hold one), parsed. */
function parse(s: string): HttpRequest {
  const buf = bytes(s);
  const end = httpHeadEnd(buf, 0, buf.length);
  expect(end, `no end of head in ${JSON.stringify(s)}`).toBeGreaterThan(0);
  return parseHttpRequest(buf, end);
}

describe("parseHttpRequest: good requests", () => {
  it("GET in HTTP/1.1: method, target, version, Host; persistent", () => {
    expect(parse("GET /bytes/5?x=1 HTTP/1.1\r\nHost: device:80\r\nAccept: */*\r\n\r\n")).toEqual({
      status: 0, framed: true, method: "GET", target: "/bytes/5?x=1", version: "HTTP/1.1", host: "device:80", contentLength: 0,
      transferCoding: false, keepAlive: true, keepAlive10: false, close: false,
    });
  });

  it("HTTP/1.0 needs no Host and persists only when it asks (RFC 9112 9.3)", () => {
    expect(parse("GET / HTTP/1.0\r\n\r\n")).toMatchObject({ status: 0, version: "HTTP/1.0", host: "", keepAlive: false, keepAlive10: false });
    expect(parse("HEAD / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")).toMatchObject({ status: 0, method: "HEAD", keepAlive: true, keepAlive10: true });
  });

  it("reads Connection as a list of tokens, in any case, over several fields", () => {
    expect(parse("GET / HTTP/1.1\r\nHost: d\r\nConnection: Upgrade ,\tCLOSE\r\n\r\n")).toMatchObject({ status: 0, close: true, keepAlive: true });
    expect(parse("GET / HTTP/1.1\r\nHost: d\r\nConnection: keep-alive\r\nconnection: close\r\n\r\n").close).toBe(true);
    expect(parse("GET / HTTP/1.1\r\nHost: d\r\nConnection: closed, x-close\r\n\r\n").close).toBe(false);
  });

  it("takes bare LF line ends, trims a value's white space, and matches field names in any case", () => {
    expect(parse("GET / HTTP/1.1\nhOsT:\t d \t\nCONTENT-length: 0\n\n")).toMatchObject({ status: 0, host: "d", contentLength: 0 });
  });

  it("takes absolute-form, asterisk-form and authority-form targets", () => {
    expect(parse("GET http://d/bytes/1 HTTP/1.1\r\nHost: d\r\n\r\n")).toMatchObject({ status: 0, target: "http://d/bytes/1" });
    expect(parse("OPTIONS * HTTP/1.1\r\nHost: d\r\n\r\n")).toMatchObject({ status: 405, framed: true, target: "*" });
    expect(parse("CONNECT d:443 HTTP/1.1\r\nHost: d\r\n\r\n")).toMatchObject({ status: 405, framed: true, target: "d:443" });
  });

  it("gives a body's length (equal repeats allowed), so the caller can skip it", () => {
    expect(parse("GET / HTTP/1.1\r\nHost: d\r\nContent-Length: 007\r\nContent-Length: 7\r\n\r\n")).toMatchObject({ status: 0, contentLength: 7 });
  });

  it("returns a new request each time; its method table is frozen", () => {
    const a = parse("GET / HTTP/1.1\r\nHost: d\r\n\r\n");
    expect(parse("GET / HTTP/1.1\r\nHost: d\r\n\r\n")).not.toBe(a);
    expect(Object.isFrozen(KNOWN_METHODS)).toBe(true);
  });
});

describe("parseHttpRequest: errors", () => {
  it.each([
    ["a malformed request line", "GARBAGE\r\n\r\n"],
    ["a method that is not a token", "G(T / HTTP/1.1\r\nHost: d\r\n\r\n"],
    ["two spaces in the request line", "GET  / HTTP/1.1\r\nHost: d\r\n\r\n"],
    ["a control character in the target", "GET /\x01 HTTP/1.1\r\nHost: d\r\n\r\n"],
    ["a target that is not a path", "GET bytes HTTP/1.1\r\nHost: d\r\n\r\n"],
    ["a version in lowercase", "GET / http/1.1\r\nHost: d\r\n\r\n"],
    ["a version with a third digit", "GET / HTTP/1.10\r\nHost: d\r\n\r\n"],
    ["an HTTP/1.1 request without Host", "GET / HTTP/1.1\r\n\r\n"],
    ["two Hosts", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"],
    ["white space before a header's colon", "GET / HTTP/1.1\r\nHost : d\r\n\r\n"],
    ["a header with no colon", "GET / HTTP/1.1\r\nHost: d\r\nNoColon\r\n\r\n"],
    ["a header with no name", "GET / HTTP/1.1\r\nHost: d\r\n: x\r\n\r\n"],
    ["a folded header line (obs-fold, RFC 9112 5.2)", "GET / HTTP/1.1\r\nHost: d\r\nX-A: 1\r\n 2\r\n\r\n"],
    ["a folded line with a tab", "GET / HTTP/1.1\r\nHost: d\r\nX-A: 1\r\n\t2\r\n\r\n"],
    ["a control character in a value", "GET / HTTP/1.1\r\nHost: d\x7f\r\n\r\n"],
    ["a bad Content-Length", "GET / HTTP/1.1\r\nHost: d\r\nContent-Length: 1x\r\n\r\n"],
    ["a negative Content-Length", "GET / HTTP/1.1\r\nHost: d\r\nContent-Length: -1\r\n\r\n"],
    ["an empty Content-Length", "GET / HTTP/1.1\r\nHost: d\r\nContent-Length:\r\n\r\n"],
    ["two Content-Lengths that differ", "GET / HTTP/1.1\r\nHost: d\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"],
  ])("400 for %s, the framing lost", (_what, request) => {
    expect(parse(request)).toMatchObject({ status: 400, framed: false });
  });

  it("405 for a method known but not allowed, 501 for one not known: the connection may go on", () => {
    for (const m of KNOWN_METHODS.filter((x) => x !== "CONNECT")) expect(parse(`${m} / HTTP/1.1\r\nHost: d\r\n\r\n`)).toMatchObject({ status: 405, framed: true, method: m });
    expect(parse("POST / HTTP/1.1\r\nHost: d\r\nContent-Length: 5\r\n\r\nhello")).toMatchObject({ status: 405, framed: true, contentLength: 5 });
    expect(parse("BREW /pot HTTP/1.1\r\nHost: d\r\n\r\n")).toMatchObject({ status: 501, framed: true, method: "BREW" });
    expect(parse("get / HTTP/1.1\r\nHost: d\r\n\r\n")).toMatchObject({ status: 501, framed: true });
  });

  it("501 for a transfer coding (no chunked bodies), the framing lost", () => {
    expect(parse("POST / HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")).toMatchObject({ status: 501, framed: false, transferCoding: true });
    expect(parse("GET / HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\n")).toMatchObject({ status: 501, framed: false });
  });

  it("505 for a version other than 1.x, before the headers are looked at", () => {
    expect(parse("GET / HTTP/2.0\r\nHost: d\r\n\r\n")).toMatchObject({ status: 505, framed: false, method: "GET", version: "HTTP/2.0" });
    expect(parse("GET / HTTP/0.9\r\n\r\n").status).toBe(505);
    expect(parse("GET / HTTP/1.9\r\nHost: d\r\n\r\n").status).toBe(0);
  });

  it("400 for bytes that are not a head: empty, no line end, a header line cut off", () => {
    expect(parseHttpRequest(new Uint8Array(0), 0).status).toBe(400);
    expect(parseHttpRequest(bytes("GET / HTTP/1.1"), 14).status).toBe(400);
    const cut = bytes("GET / HTTP/1.1\r\nHost: d");
    expect(parseHttpRequest(cut, cut.length)).toMatchObject({ status: 400, method: "GET" });
  });
});

describe("parseHttpRequest: limits", () => {
  it("Content-Length up to 15 digits (an exact integer), 400 past it", () => {
    expect(parse("GET / HTTP/1.1\r\nHost: d\r\nContent-Length: 999999999999999\r\n\r\n").contentLength).toBe(999_999_999_999_999);
    expect(parse("GET / HTTP/1.1\r\nHost: d\r\nContent-Length: 0000000000000001\r\n\r\n").status).toBe(400);
  });

  it("a head that does not fit the caller's buffer has no end there: the caller answers 431", () => {
    const head = bytes(`GET / HTTP/1.1\r\nHost: d\r\nX-Big: ${"x".repeat(100)}\r\n\r\n`);
    const buf = head.slice(0, 64);
    expect(httpHeadEnd(buf, 0, buf.length)).toBe(-1);
    expect(HTTP_TOO_LARGE).toBe(431);
    // exactly the buffer's size fits
    expect(httpHeadEnd(head, 0, head.length)).toBe(head.length);
  });
});

describe("httpHeadEnd and httpEmptyLines", () => {
  const requests = [
    "GET /bytes/5 HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n",
    "GET / HTTP/1.1\nHost: d\n\n",
    "GET / HTTP/1.1\r\nHost: d\n\r\n",
    "GET / HTTP/1.0\r\n\r\n",
  ];

  it.each(requests)("finds the end of %j however its bytes are split, resuming where it stopped", (request) => {
    const buf = bytes(`${request}GET /next HTTP/1.1\r\n`);
    const end = request.length;
    for (let k = 0; k <= buf.length; k++) {
      const first = httpHeadEnd(buf, 0, k);
      expect(first, `first ${k} bytes`).toBe(k >= end ? end : -1);
      if (first < 0) expect(httpHeadEnd(buf, k, buf.length), `split at ${k}`).toBe(end);
      // and in three pieces
      for (let j = k; j <= buf.length && first < 0; j += 7) {
        const second = httpHeadEnd(buf, k, j);
        expect(second).toBe(j >= end ? end : -1);
        if (second < 0) expect(httpHeadEnd(buf, j, buf.length)).toBe(end);
      }
    }
    expect(parseHttpRequest(buf, end).status).toBe(0);
  });

  it("splits pipelined requests, a body between them", () => {
    const stream = bytes("POST /a HTTP/1.1\r\nHost: d\r\nContent-Length: 4\r\n\r\nbodyGET /b HTTP/1.1\r\nHost: d\r\n\r\nHEAD /c HTTP/1.0\r\n\r\n");
    const seen: string[] = [];
    let at = 0;
    while (at < stream.length) {
      const rest = stream.subarray(at);
      const end = httpHeadEnd(rest, 0, rest.length);
      expect(end).toBeGreaterThan(0);
      const req = parseHttpRequest(rest, end);
      seen.push(`${req.status} ${req.method} ${req.target}`);
      at += end + (req.framed ? req.contentLength : 0);
    }
    expect(seen).toEqual(["405 POST /a", "0 GET /b", "0 HEAD /c"]);
  });

  it("counts the empty lines before a request (RFC 9112 2.2)", () => {
    expect(httpEmptyLines(bytes("\r\n\n\rGET / HTTP/1.1\r\n"), 19)).toBe(4);
    expect(httpEmptyLines(bytes("\r\n\r\n"), 3)).toBe(3);
    expect(httpEmptyLines(bytes("GET"), 3)).toBe(0);
  });

  it("a lone LF or CR LF at the start is not the end of a head", () => {
    expect(httpHeadEnd(bytes("\n"), 0, 1)).toBe(-1);
    expect(httpHeadEnd(bytes("\r\n"), 0, 2)).toBe(-1);
    expect(httpHeadEnd(bytes("\n\n"), 0, 2)).toBe(2);
  });
});
