// The HTTP/1.1 server (src/apps/http-server.ts) on the device of a simulated LAN, driven
// by clients on the peer in virtual time: /bytes/N, backpressure, keep-alive and
// pipelining, every error status, 431, 503, and GET / by default and with a status.
import { describe, expect, it } from "vitest";
import { DEVICE_CONFIG } from "../../host-sim/device";
import { AppBuffers } from "../../src/apps/buffers";
import { HttpServer } from "../../src/apps/http-server";
import { seedFrom, withSeed } from "../helpers";
import { ascii, bed, connect, DEVICE_IP, get, mod251, responses, run, settle, str } from "./bed";

describe("HTTP/1.1 server", () => {
  it("GET /bytes/N gives exactly N bytes of i % 251, Content-Length set", () =>
    withSeed(seedFrom(612), (seed) => {
      const b = bed(seed);
      const http = new HttpServer(b.D).start();
      for (const n of [0, 1, 250, 251, 252, 65_536, 2_500_000]) {
        const p = connect(b, 80);
        p.send(get(`/bytes/${n}`, "Connection: close\r\n"));
        run(b, () => p.closed);
        const rs = responses(p.got.bytes());
        expect(rs).toHaveLength(1);
        expect(rs[0].status).toBe(200);
        expect(rs[0].headers["content-type"]).toBe("application/octet-stream");
        expect(rs[0].headers["content-length"]).toBe(String(n));
        expect(rs[0].length).toBe(p.got.len);
        expect(Buffer.from(rs[0].body).equals(Buffer.from(mod251(n)))).toBe(true);
      }
      settle(b, http);
    }));

  it("GET /bytes/2147483648 streams with backpressure: the device never holds more than its send buffer", () =>
    withSeed(seedFrom(613), (seed) => {
      const b = bed(seed);
      const http = new HttpServer(b.D).start();
      const n = 2 ** 31;
      let read = 0;
      let head = "";
      let bodyAt = -1;
      let bad = -1;
      const sock = new b.P.TCP({
        address: DEVICE_IP,
        port: 80,
        onWritable() {
          if (head === "") {
            head = "sent";
            this.write(get(`/bytes/${n}`));
          }
        },
        onReadable(k) {
          const bytes = new Uint8Array(this.read(k));
          let i = 0;
          if (bodyAt < 0) {
            const text = str(bytes);
            const end = text.indexOf("\r\n\r\n");
            expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
            expect(text).toContain(`Content-Length: ${n}\r\n`);
            bodyAt = end + 4;
            i = bodyAt;
          }
          for (; i < bytes.length; i++, read++) if (bytes[i] !== read % 251 && bad < 0) bad = read;
        },
      });
      const device = b.world.hosts[0].net;
      let maxQueued = 0;
      const t = device.tcp.tcb;
      for (let step = 0; step < 400 && read < 8_000_000; step++) {
        b.world.runFor(5);
        for (let c = 0; c < t.size; c++) maxQueued = Math.max(maxQueued, t.sndQueued[c]);
      }
      expect(read).toBeGreaterThanOrEqual(8_000_000);
      expect(bad).toBe(-1);
      expect(maxQueued).toBeLessThanOrEqual(DEVICE_CONFIG.tcpSndBufBytes as number);
      // Mid-body: our FIN, then a reset for the data that still comes. The socket API tells
      // the device only of the first; the next accept (or reap) finds the connection gone.
      sock.close();
      b.world.runFor(1_000);
      expect(http.connectionsFree).toBe(3);
      http.reap();
      expect(http.connectionsFree).toBe(4);
      settle(b, http);
    }));

  it("keeps the connection alive: two requests one after the other, then two pipelined, then Connection: close", () =>
    withSeed(seedFrom(614), (seed) => {
      const b = bed(seed);
      const http = new HttpServer(b.D).start();
      const p = connect(b, 80);
      p.send(get("/bytes/1000"));
      run(b, () => responses(p.got.bytes()).length === 1);
      p.send(get("/bytes/10"));
      run(b, () => responses(p.got.bytes()).length === 2);
      expect(p.closed).toBe(false);
      p.send(ascii(`${str(get("/bytes/300"))}${str(get("/"))}`));
      run(b, () => responses(p.got.bytes()).length === 4);
      b.world.runFor(1_000);
      expect(p.closed).toBe(false);
      p.send(get("/bytes/5", "Connection: close\r\n"));
      run(b, () => p.closed);
      const rs = responses(p.got.bytes());
      expect(rs.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      expect(rs.map((r) => r.body.length).slice(0, 3)).toEqual([1000, 10, 300]);
      expect(rs[3].headers["content-type"]).toBe("application/json");
      expect(rs.map((r) => r.headers.connection)).toEqual([undefined, undefined, undefined, undefined, "close"]);
      expect(Buffer.from(rs[2].body).equals(Buffer.from(mod251(300)))).toBe(true);
      expect(http.stats.connections).toBe(1);
      expect(http.stats.requests).toBe(5);
      settle(b, http);
    }));

  it("HTTP/1.0 closes after the response unless it asks for keep-alive; HEAD has headers and no body", () =>
    withSeed(seedFrom(615), (seed) => {
      const b = bed(seed);
      const http = new HttpServer(b.D).start();
      const p = connect(b, 80);
      p.send(ascii("GET /bytes/3 HTTP/1.0\r\n\r\n"));
      run(b, () => p.closed);
      expect(responses(p.got.bytes())[0].headers.connection).toBe("close");
      const q = connect(b, 80);
      q.send(ascii("GET /bytes/3 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nHEAD /bytes/1000 HTTP/1.1\r\nHost: d\r\n\r\n"));
      run(b, () => responses(q.got.bytes(), [false, true]).length === 2);
      const rs = responses(q.got.bytes(), [false, true]);
      expect(rs[0].headers.connection).toBe("keep-alive");
      expect(rs[1].status).toBe(200);
      expect(rs[1].headers["content-length"]).toBe("1000");
      expect(rs[1].body.length).toBe(0);
      expect(q.got.len).toBe(rs[0].length + rs[1].length);
      expect(q.closed).toBe(false);
      q.sock.close();
      settle(b, http);
    }));

  it.each([
    ["a malformed request line", "GARBAGE\r\n\r\n", 400, true],
    ["two spaces in the request line", "GET  / HTTP/1.1\r\nHost: d\r\n\r\n", 400, true],
    ["an HTTP/1.1 request without Host", "GET / HTTP/1.1\r\n\r\n", 400, true],
    ["white space before a header's colon", "GET / HTTP/1.1\r\nHost : d\r\n\r\n", 400, true],
    ["a folded header line", "GET / HTTP/1.1\r\nHost: d\r\nX-A: 1\r\n 2\r\n\r\n", 400, true],
    ["a bad Content-Length", "GET / HTTP/1.1\r\nHost: d\r\nContent-Length: 1x\r\n\r\n", 400, true],
    ["an unknown path", "GET /nope HTTP/1.1\r\nHost: d\r\n\r\n", 404, false],
    ["/bytes/ past 2^53", "GET /bytes/9007199254740992 HTTP/1.1\r\nHost: d\r\n\r\n", 404, false],
    ["POST", "POST / HTTP/1.1\r\nHost: d\r\nContent-Length: 5\r\n\r\nhello", 405, false],
    ["DELETE", "DELETE /bytes/1 HTTP/1.1\r\nHost: d\r\n\r\n", 405, false],
    ["an unknown method", "BREW /pot HTTP/1.1\r\nHost: d\r\n\r\n", 501, false],
    ["a chunked body", "POST / HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501, true],
    ["HTTP/2.0", "GET / HTTP/2.0\r\nHost: d\r\n\r\n", 505, true],
  ])("answers %s with %i (closing: %s); a kept connection then serves a GET", (_what, request, status, closes) =>
    withSeed(seedFrom(616), (seed) => {
      const b = bed(seed);
      const http = new HttpServer(b.D).start();
      const p = connect(b, 80);
      p.send(ascii(request));
      run(b, () => responses(p.got.bytes()).length === 1);
      const [r] = responses(p.got.bytes());
      expect(r.status).toBe(status);
      expect(Number(r.headers["content-length"])).toBe(r.body.length);
      expect(str(r.body)).toMatch(new RegExp(`^${status} `));
      if (status === 405) expect(r.headers.allow).toBe("GET, HEAD");
      if (closes) {
        run(b, () => p.closed);
        expect(r.headers.connection).toBe("close");
      } else {
        p.send(get("/bytes/7", "Connection: close\r\n"));
        run(b, () => p.closed);
        const rs = responses(p.got.bytes());
        expect(rs.map((x) => x.status)).toEqual([status, 200]);
        expect(Buffer.from(rs[1].body).equals(Buffer.from(mod251(7)))).toBe(true);
      }
      settle(b, http);
    }));

  it("answers headers larger than the request buffer with 431 and closes", () =>
    withSeed(seedFrom(617), (seed) => {
      const b = bed(seed);
      const http = new HttpServer(b.D).start();
      const p = connect(b, 80);
      p.send(ascii(`GET / HTTP/1.1\r\nHost: d\r\nX-Big: ${"x".repeat(3000)}\r\n\r\n`));
      run(b, () => p.closed);
      const rs = responses(p.got.bytes());
      expect(rs.map((r) => r.status)).toEqual([431]);
      expect(rs[0].headers.connection).toBe("close");
      expect(http.stats.s431).toBe(1);
      settle(b, http);
    }));

  it("answers a request that arrives a byte at a time, and ignores empty lines before it", () =>
    withSeed(seedFrom(618), (seed) => {
      const b = bed(seed);
      const http = new HttpServer(b.D).start();
      const p = connect(b, 80);
      for (const ch of `\r\n${str(get("/bytes/4", "Connection: close\r\n"))}`.split("")) {
        p.send(ascii(ch));
        b.world.runFor(1);
      }
      run(b, () => p.closed);
      const rs = responses(p.got.bytes());
      expect(rs.map((r) => r.status)).toEqual([200]);
      expect([...rs[0].body]).toEqual([0, 1, 2, 3]);
      settle(b, http);
    }));

  it("serves connsMax connections at once and answers one more with 503", () =>
    withSeed(seedFrom(619), (seed) => {
      const b = bed(seed);
      const http = new HttpServer(b.D, { connsMax: 2 }).start();
      const held = [connect(b, 80), connect(b, 80)];
      b.world.runFor(100);
      const extra = connect(b, 80);
      extra.send(get("/"));
      run(b, () => extra.closed);
      expect(responses(extra.got.bytes()).map((r) => r.status)).toEqual([503]);
      // One that sends its request a while after connecting gets the whole 503 too (not a
      // close before its request, which the request would answer with a reset).
      const late = connect(b, 80);
      b.world.runFor(200);
      expect(late.got.len).toBe(0);
      late.send(get("/"));
      run(b, () => late.closed);
      expect(responses(late.got.bytes()).map((r) => r.status)).toEqual([503]);
      expect(http.stats.busy).toBe(2);
      // The held ones still work, and a slot comes back when one closes.
      held[0].send(get("/bytes/2", "Connection: close\r\n"));
      run(b, () => held[0].closed);
      const again = connect(b, 80);
      again.send(get("/bytes/2", "Connection: close\r\n"));
      run(b, () => again.closed);
      expect(responses(again.got.bytes()).map((r) => r.status)).toEqual([200]);
      held[1].sock.close();
      settle(b, http);
    }));

  it("GET / is the server's own counters by default, and the status it is given (ASCII only) otherwise", () =>
    withSeed(seedFrom(620), (seed) => {
      const b = bed(seed);
      const http = new HttpServer(b.D).start();
      const p = connect(b, 80);
      p.send(get("/"));
      run(b, () => responses(p.got.bytes()).length === 1);
      const [r] = responses(p.got.bytes());
      expect(r.headers["content-type"]).toBe("application/json");
      expect(JSON.parse(str(r.body))).toMatchObject({ http: { connections: 1, requests: 1, s200: 0 } });
      p.sock.close();
      const own = new HttpServer(b.D, { port: 8080, status: () => JSON.stringify({ name: "café ☕" }) }).start();
      const q = connect(b, 8080);
      q.send(get("/", "Connection: close\r\n"));
      run(b, () => q.closed);
      const [s] = responses(q.got.bytes());
      expect(str(s.body)).toBe('{"name":"caf\\u00e9 \\u2615"}');
      expect(Number(s.headers["content-length"])).toBe(s.body.length);
      expect(JSON.parse(str(s.body))).toEqual({ name: "café ☕" });
      settle(b, http, own);
    }));

  it("takes its request buffers from shared buffers, and refuses buffers without them", () => {
    const b = bed(1);
    const shared = new AppBuffers({ chunkBytes: 1024, mod: true, requestBuffers: 3, requestBytes: 256 });
    expect(new HttpServer(b.D, { buffers: shared }).connectionsFree).toBe(3);
    expect(() => new HttpServer(b.D, { buffers: new AppBuffers({ chunkBytes: 1024, mod: true }) })).toThrow(/http: its buffers have 0 request buffers, 1 needed/);
    expect(() => new HttpServer(b.D, { buffers: new AppBuffers({ chunkBytes: 1024, requestBuffers: 1 }) })).toThrow(/http: its buffers have no i % 251 pattern/);
    expect(() => new HttpServer(b.D, { connsMax: 0 })).toThrow(/connsMax must be an integer >= 1, got 0/);
    expect(new HttpServer(b.D, { connsMax: 2, requestMax: 100 }).buffers.requests.map((r) => r.length)).toEqual([100, 100]);
  });
});
