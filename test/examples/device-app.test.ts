// The device app (examples/device-app) on a simulated LAN in virtual time: each service
// driven by a client on a second host through the socket API (tcpSocketClasses,
// udpSocketClass). The device runs with the device mode's configuration (DEVICE_CONFIG).
import { describe, expect, it } from "vitest";
import { startDeviceApp, type DeviceApp } from "../../examples/device-app/app";
import { BOARD_APP_SIZES, BOARD_STACK_CONFIG } from "../../examples/device-app/board";
import { CHARGEN_PERIOD, chargenByte } from "../../examples/device-app/buffers";
import { formatClientResult, startEchoClient, type ClientResult } from "../../examples/device-app/client";
import {
  HEADER_BOUNCEBACK, HEADER_EXTEND, HEADER_LEN_BIT, HEADER_REVERSE, HEADER_VERSION1, HEADER_VERSION2, RUN_NOW, headerLength,
} from "../../examples/device-app/iperf";
import { DEVICE_CONFIG } from "../../host-sim/device";
import type { LinkFaults } from "../../host-sim/sim/lan";
import type { SimWorld } from "../../host-sim/sim/world";
import { tcpSocketClasses, type TcpSocket } from "../../src/socket/tcp";
import { udpSocketClass, type UdpPacket } from "../../src/socket/udp";
import { makeWorld, seedFrom, withSeed } from "../helpers";
import { Sink, streamBytes } from "../tcp/harness";

const DEVICE_IP = "10.0.0.2";
const PEER_IP = "10.0.0.1";

interface Bed {
  world: SimWorld;
  app: DeviceApp;
  P: ReturnType<typeof tcpSocketClasses>;
  peerNet: SimWorld["hosts"][number]["net"];
}

function bed(
  seed: number, faults: Partial<LinkFaults> = {}, appOptions: { chunkBytes?: number; httpConnsMax?: number; httpRequestMax?: number } = {},
  deviceConfig = DEVICE_CONFIG,
): Bed {
  const world = makeWorld(seed);
  const lan = world.addLan("lan", { delayMs: 0.2, ...faults });
  const device = world.addHost("device", deviceConfig);
  const peer = world.addHost("peer", DEVICE_CONFIG);
  world.attach(device, lan, `${DEVICE_IP}/24`);
  world.attach(peer, lan, `${PEER_IP}/24`);
  const app = startDeviceApp(device.net, { address: DEVICE_IP, hostname: "testdev", ...appOptions });
  return { world, app, P: tcpSocketClasses(peer.net), peerNet: peer.net };
}

/** i % 251 for i in [from, from + n) */
function mod251(n: number, from = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (from + i) % 251;
  return out;
}

/** The RFC 864 reference as lwIP's bench makes it (awk): line i is 72 characters of the 32..126 set from i % 95, CRLF. */
function chargenReference(n: number): Uint8Array {
  let set = "";
  for (let c = 32; c < 127; c++) set += String.fromCharCode(c);
  set += set;
  const out = new Uint8Array(n);
  let k = 0;
  for (let i = 0; k < n; i++) {
    const line = `${set.substr(i % 95, 72)}\r\n`;
    for (let j = 0; j < line.length && k < n; j++) out[k++] = line.charCodeAt(j);
  }
  return out;
}

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const str = (b: Uint8Array): string => String.fromCharCode(...b);

interface Peer {
  sock: TcpSocket;
  got: Sink;
  /** the device closed (or reset) the connection: onError came */
  closed: boolean;
  connected: boolean;
  /** queue bytes to send (written as the window allows) */
  send(bytes: Uint8Array): void;
  sentAll(): boolean;
}

/** A client on the peer host: writes what it is given as room allows, collects everything it reads. */
function connect(b: Bed, port: number, options: { closeWhenSent?: boolean } = {}): Peer {
  const queue: Uint8Array[] = [];
  let off = 0;
  const peer: Peer = {
    sock: null as unknown as TcpSocket,
    got: new Sink(1 << 16),
    closed: false,
    connected: false,
    send(bytes) {
      queue.push(bytes);
      if (peer.connected) pump(peer.sock);
    },
    sentAll: () => queue.length === 0,
  };
  const pump = (sock: TcpSocket): void => {
    let room = sock.write(new Uint8Array(0));
    while (queue.length > 0 && room > 0) {
      const head = queue[0];
      const n = Math.min(room, head.length - off);
      room = sock.write(head.subarray(off, off + n));
      off += n;
      if (off === head.length) {
        queue.shift();
        off = 0;
      }
    }
    if (queue.length === 0 && options.closeWhenSent) {
      options.closeWhenSent = false;
      sock.close();
    }
  };
  peer.sock = new b.P.TCP({
    address: DEVICE_IP,
    port,
    onWritable() {
      peer.connected = true;
      pump(this);
    },
    onReadable(n) {
      peer.got.push(new Uint8Array(this.read(n)));
    },
    onError() {
      peer.closed = true;
    },
  });
  return peer;
}

function run(b: Bed, cond: () => boolean, limitMs = 60_000): void {
  expect(b.world.runUntil(cond, limitMs), "timed out (virtual time)").toBe(true);
}

/** Everything a test opened is closed and the device has no connection left over. */
function settle(b: Bed): void {
  b.world.runFor(2_000);
  expect(b.app.openConnections).toBe(0);
  expect(b.app.stats.errors).toBe(0);
}

// ---------------------------------------------------------------- HTTP response parsing

interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
  /** bytes of the stream this response took */
  length: number;
}

/** Parse the responses in a byte stream (Content-Length framing); HEAD responses have no body. */
function responses(stream: Uint8Array, heads: boolean[] = []): HttpResponse[] {
  const out: HttpResponse[] = [];
  let at = 0;
  while (at < stream.length) {
    let end = -1;
    for (let i = at; i + 3 < stream.length; i++) {
      if (stream[i] === 13 && stream[i + 1] === 10 && stream[i + 2] === 13 && stream[i + 3] === 10) {
        end = i;
        break;
      }
    }
    if (end < 0) break;
    const lines = str(stream.subarray(at, end)).split("\r\n");
    const m = /^HTTP\/1\.1 (\d{3}) /.exec(lines[0]);
    if (m === null) throw new Error(`bad status line: ${lines[0]}`);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const c = l.indexOf(":");
      headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
    }
    const len = heads[out.length] ? 0 : Number(headers["content-length"]);
    const bodyAt = end + 4;
    if (bodyAt + len > stream.length) break;
    out.push({ status: Number(m[1]), headers, body: stream.slice(bodyAt, bodyAt + len), length: bodyAt + len - at });
    at = bodyAt + len;
  }
  return out;
}

function get(path: string, extra = ""): Uint8Array {
  return ascii(`GET ${path} HTTP/1.1\r\nHost: device\r\n${extra}\r\n`);
}

// ---------------------------------------------------------------- tests

describe("device app: echo, discard, chargen, UDP echo", () => {
  it("TCP echo returns every byte in order, with 1% loss both ways, and closes after the client", () =>
    withSeed(seedFrom(601), (seed) => {
      const b = bed(seed, { lossRate: 0.01 });
      const data = streamBytes(1_000_000, seed);
      const p = connect(b, 7);
      p.send(data);
      run(b, () => p.got.len >= data.length);
      expect(p.got.len).toBe(data.length);
      expect(Buffer.from(p.got.bytes()).equals(Buffer.from(data))).toBe(true);
      p.sock.close();
      settle(b);
      expect(b.app.stats.echo).toEqual({ connections: 1, bytesIn: 1_000_000, bytesOut: 1_000_000 });
    }));

  it("TCP echo keeps up with a client that does not read: the window closes and nothing is lost", () =>
    withSeed(seedFrom(602), (seed) => {
      const b = bed(seed);
      const data = streamBytes(600_000, seed);
      let reading = false;
      const got = new Sink(1 << 20);
      let closed = false;
      let sent = 0;
      const sock = new b.P.TCP({
        address: DEVICE_IP,
        port: 7,
        onWritable(room) {
          while (room > 0 && sent < data.length) {
            const n = Math.min(room, data.length - sent);
            room = this.write(data.subarray(sent, sent + n));
            sent += n;
          }
        },
        onReadable(n) {
          if (reading) got.push(new Uint8Array(this.read(n)));
        },
        onError() {
          closed = true;
        },
      });
      b.world.runFor(3_000);
      // Stalled: the device holds at most its send buffer and our window, far below 600 KB.
      expect(sent).toBeLessThan(data.length);
      expect(b.app.stats.echo.bytesOut).toBeLessThan(data.length);
      reading = true;
      // Take what waits, then keep reading.
      const waiting = sock.read();
      if (waiting instanceof ArrayBuffer) got.push(new Uint8Array(waiting));
      run(b, () => got.len >= data.length);
      expect(Buffer.from(got.bytes()).equals(Buffer.from(data))).toBe(true);
      sock.close();
      settle(b);
      expect(closed).toBe(false);
    }));

  it("discard reads and counts everything, and closes when the client does", () =>
    withSeed(seedFrom(603), (seed) => {
      const b = bed(seed);
      const p = connect(b, 9, { closeWhenSent: true });
      p.send(streamBytes(700_000, seed));
      run(b, () => b.app.stats.discard.bytesIn === 700_000 && b.app.openConnections === 0);
      expect(p.got.len).toBe(0);
      settle(b);
      expect(b.app.stats.discard).toEqual({ connections: 1, bytesIn: 700_000, bytesOut: 0 });
    }));

  it("chargen sends the RFC 864 stream exactly as lwIP's device (and the bench's reference) has it", () =>
    withSeed(seedFrom(604), (seed) => {
      const b = bed(seed);
      const want = 3 * CHARGEN_PERIOD + 200_000;
      const p = connect(b, 19);
      run(b, () => p.got.len >= want);
      const ref = chargenReference(want);
      const got = p.got.bytes().subarray(0, want);
      expect(Buffer.from(got).equals(Buffer.from(ref))).toBe(true);
      for (const i of [0, 71, 72, 73, 74, 7029, 7030, 123_457]) expect(chargenByte(i)).toBe(ref[i]);
      expect(str(got.subarray(0, 74))).toBe(`${" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg"}\r\n`);
      // The client hangs up without reading the rest (a reset): the device lets go.
      p.sock.close();
      settle(b);
      expect(b.app.stats.chargen.connections).toBe(1);
      expect(b.app.stats.chargen.bytesOut).toBeGreaterThanOrEqual(want);
    }));

  it("chargen closes after the client's FIN, and ignores what the client sends", () =>
    withSeed(seedFrom(605), (seed) => {
      const b = bed(seed);
      const p = connect(b, 19);
      p.send(ascii("ignored\r\n"));
      run(b, () => p.got.len > 10_000);
      p.sock.close();
      settle(b);
      expect(b.app.stats.chargen.bytesIn).toBe(9);
    }));

  it("UDP echo returns each datagram to its sender, fragmented ones too", () =>
    withSeed(seedFrom(606), (seed) => {
      const b = bed(seed);
      const UDP = udpSocketClass(b.peerNet);
      const got: UdpPacket[] = [];
      const u = new UDP({ onReadable(n) { for (let i = 0; i < n; i++) got.push(this.read() as UdpPacket); } });
      const sizes = [0, 1, 1472, 1473, 8000, 65_507];
      for (const n of sizes) {
        u.write(streamBytes(n, n + 1), DEVICE_IP, 7);
        b.world.runFor(50);
      }
      run(b, () => got.length === sizes.length);
      got.forEach((p, i) => {
        expect(p.address).toBe(DEVICE_IP);
        expect(p.port).toBe(7);
        expect(Buffer.from(p).equals(Buffer.from(streamBytes(sizes[i], sizes[i] + 1)))).toBe(true);
      });
      expect(b.app.stats.udpEcho).toEqual({ datagrams: sizes.length, bytes: sizes.reduce((a, n) => a + n, 0), sendErrors: 0 });
      u.close();
      settle(b);
    }));
});

describe("device app: HTTP", () => {
  it("GET / is the status as JSON: hostname, address, uptime, the stack's and the app's counters", () =>
    withSeed(seedFrom(611), (seed) => {
      const b = bed(seed);
      b.world.runFor(1_234);
      const p = connect(b, 80);
      p.send(get("/", "Connection: close\r\n"));
      run(b, () => p.closed);
      const [r, ...rest] = responses(p.got.bytes());
      expect(rest).toEqual([]);
      expect(r.status).toBe(200);
      expect(r.headers["content-type"]).toBe("application/json");
      expect(r.headers.connection).toBe("close");
      expect(Number(r.headers["content-length"])).toBe(r.body.length);
      const status = JSON.parse(str(r.body));
      expect(status.hostname).toBe("testdev");
      expect(status.address).toBe(DEVICE_IP);
      expect(status.uptimeMs).toBeGreaterThanOrEqual(1_234);
      expect(status.tcp.passiveOpens).toBe(1);
      expect(status.tcp.currEstab).toBe(1);
      expect(status.ip.inReceives).toBeGreaterThan(0);
      expect(status.devices.eth0.rx_packets).toBeGreaterThan(0);
      expect(status.pool.slots).toBe(DEVICE_CONFIG.skbSlots);
      expect(status.services.http.requests).toBe(1);
      settle(b);
    }));

  it("GET /bytes/N gives exactly N bytes of i % 251, Content-Length set", () =>
    withSeed(seedFrom(612), (seed) => {
      const b = bed(seed);
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
      settle(b);
    }));

  it("GET /bytes/2147483648 streams with backpressure: the device never holds more than its send buffer", () =>
    withSeed(seedFrom(613), (seed) => {
      const b = bed(seed);
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
      expect(b.app.http.connectionsFree).toBe(3);
      b.app.reap();
      expect(b.app.http.connectionsFree).toBe(4);
      settle(b);
    }));

  it("keeps the connection alive: two requests one after the other, then two pipelined, then Connection: close", () =>
    withSeed(seedFrom(614), (seed) => {
      const b = bed(seed);
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
      expect(b.app.stats.http.connections).toBe(1);
      expect(b.app.stats.http.requests).toBe(5);
      settle(b);
    }));

  it("HTTP/1.0 closes after the response unless it asks for keep-alive; HEAD has headers and no body", () =>
    withSeed(seedFrom(615), (seed) => {
      const b = bed(seed);
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
      settle(b);
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
      settle(b);
    }));

  it("answers headers larger than the request buffer with 431 and closes", () =>
    withSeed(seedFrom(617), (seed) => {
      const b = bed(seed);
      const p = connect(b, 80);
      p.send(ascii(`GET / HTTP/1.1\r\nHost: d\r\nX-Big: ${"x".repeat(3000)}\r\n\r\n`));
      run(b, () => p.closed);
      const rs = responses(p.got.bytes());
      expect(rs.map((r) => r.status)).toEqual([431]);
      expect(rs[0].headers.connection).toBe("close");
      expect(b.app.stats.http.s431).toBe(1);
      settle(b);
    }));

  it("answers a request that arrives a byte at a time, and ignores empty lines before it", () =>
    withSeed(seedFrom(618), (seed) => {
      const b = bed(seed);
      const p = connect(b, 80);
      for (const ch of `\r\n${str(get("/bytes/4", "Connection: close\r\n"))}`.split("")) {
        p.send(ascii(ch));
        b.world.runFor(1);
      }
      run(b, () => p.closed);
      const rs = responses(p.got.bytes());
      expect(rs.map((r) => r.status)).toEqual([200]);
      expect([...rs[0].body]).toEqual([0, 1, 2, 3]);
      settle(b);
    }));

  it("serves httpConnsMax connections at once and answers one more with 503", () =>
    withSeed(seedFrom(619), (seed) => {
      const b = bed(seed, {}, { httpConnsMax: 2 });
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
      expect(b.app.stats.http.busy).toBe(2);
      // The held ones still work, and a slot comes back when one closes.
      held[0].send(get("/bytes/2", "Connection: close\r\n"));
      run(b, () => held[0].closed);
      const again = connect(b, 80);
      again.send(get("/bytes/2", "Connection: close\r\n"));
      run(b, () => again.closed);
      expect(responses(again.got.bytes()).map((r) => r.status)).toEqual([200]);
      held[1].sock.close();
      settle(b);
    }));

});

describe("device app: iperf 2 server", () => {
  /** A test header as iperf 2.1.8's client writes it (Settings_GenerateClientHdr, TCP). */
  function iperfHeader(options: { flags?: number; port?: number; amount?: number; upper?: number } = {}): Uint8Array {
    const h = new Uint8Array(60);
    const v = new DataView(h.buffer);
    const flags = (options.flags ?? HEADER_EXTEND) | HEADER_LEN_BIT | (60 << 1);
    v.setUint32(0, flags >>> 0);
    v.setInt32(4, 1); // numThreads
    v.setInt32(8, options.port ?? 5001);
    v.setInt32(20, options.amount ?? -1000); // -t 10
    v.setUint16(32, options.upper ?? 0);
    v.setUint32(36, 0x00020001);
    v.setUint32(40, 0x00080003);
    return h;
  }

  it("reads the header and the data, answers the header with client_hdr_ack, and closes after the client's FIN", () =>
    withSeed(seedFrom(631), (seed) => {
      const b = bed(seed);
      expect(headerLength(HEADER_EXTEND | HEADER_LEN_BIT | (60 << 1))).toBe(60);
      expect(headerLength(HEADER_VERSION1)).toBe(24);
      expect(headerLength(0x30313233)).toBe(0); // iperf -C: data from the first byte
      const p = connect(b, 5001, { closeWhenSent: true });
      p.send(iperfHeader());
      p.send(streamBytes(2_000_000, seed));
      run(b, () => b.app.stats.iperf.bytesIn === 2_000_060 && b.app.openConnections === 0);
      const ack = new DataView(p.got.bytes().buffer);
      expect(p.got.len).toBe(28);
      expect([ack.getUint32(0), ack.getUint32(4), ack.getUint32(8), ack.getUint32(12), ack.getUint32(16)]).toEqual([2, 28, 0, 0x00020001, 0x00080003]);
      settle(b);
      expect(b.app.stats.iperf.connections).toBe(1);
      expect(b.app.stats.iperf.bytesIn).toBe(2_000_060);
    }));

  it("takes a 2.0-style header with flags 0 as data, and sends nothing back", () =>
    withSeed(seedFrom(632), (seed) => {
      const b = bed(seed);
      const p = connect(b, 5001, { closeWhenSent: true });
      p.send(new Uint8Array(24));
      p.send(streamBytes(100_000, seed));
      run(b, () => b.app.stats.iperf.bytesIn === 100_024 && b.app.openConnections === 0);
      expect(p.got.len).toBe(0);
      settle(b);
      expect(b.app.stats.iperf.bytesIn).toBe(100_024);
    }));

  it("-R: sends the header's amount on the same connection, then closes", () =>
    withSeed(seedFrom(633), (seed) => {
      const b = bed(seed);
      const p = connect(b, 5001);
      p.send(iperfHeader({ flags: HEADER_EXTEND | HEADER_VERSION2, upper: HEADER_REVERSE, amount: 750_000 }));
      run(b, () => p.closed);
      expect(p.got.len).toBe(750_000);
      expect(Buffer.from(p.got.bytes()).equals(Buffer.from(mod251(750_000)))).toBe(true);
      p.sock.close();
      settle(b);
      expect(b.app.stats.iperf.reverse).toBe(1);
    }));

  it("-R with a time: sends for that long (virtual time), then closes", () =>
    withSeed(seedFrom(634), (seed) => {
      const b = bed(seed, { rateBps: 10_000_000 });
      const p = connect(b, 5001);
      const t0 = b.world.now;
      p.send(iperfHeader({ flags: HEADER_EXTEND | HEADER_VERSION2, upper: HEADER_REVERSE, amount: -50 }));
      run(b, () => p.closed);
      const elapsed = b.world.now - t0;
      expect(elapsed).toBeGreaterThanOrEqual(500);
      expect(elapsed).toBeLessThan(700);
      // about 10 Mbit/s for half a second
      expect(p.got.len).toBeGreaterThan(400_000);
      expect(p.got.len).toBeLessThan(700_000);
      p.sock.close();
      settle(b);
    }));

  it("-d: connects back to the client's port and sends the amount", () =>
    withSeed(seedFrom(635), (seed) => {
      const b = bed(seed);
      const back = new Sink(1 << 20);
      let backClosed = false;
      const listener = new b.P.Listener({
        port: 5002,
        onReadable() {
          const from = this.read();
          if (from === undefined) return;
          const s = new b.P.TCP({
            from,
            onReadable(n) {
              back.push(new Uint8Array(this.read(n)));
            },
            onError() {
              backClosed = true;
              this.close();
            },
          });
          void s;
        },
      });
      const p = connect(b, 5001);
      p.send(iperfHeader({ flags: HEADER_VERSION1 | RUN_NOW, port: 5002, amount: 300_000 }));
      p.send(streamBytes(50_000, seed));
      run(b, () => backClosed);
      expect(back.len).toBe(300_000);
      expect(Buffer.from(back.bytes()).equals(Buffer.from(mod251(300_000)))).toBe(true);
      p.sock.close();
      listener.close();
      settle(b);
      expect(b.app.stats.iperf.connectBack).toBe(1);
    }));

  it("refuses a bounce-back test (closes at once)", () =>
    withSeed(seedFrom(636), (seed) => {
      const b = bed(seed);
      const p = connect(b, 5001);
      const h = new Uint8Array(64);
      new DataView(h.buffer).setUint32(0, HEADER_BOUNCEBACK);
      p.send(h);
      run(b, () => p.closed);
      p.sock.close();
      settle(b);
      expect(b.app.stats.iperf.refused).toBe(1);
    }));
});

describe("device app: client mode", () => {
  /** An echo server on the peer; `corruptAt` flips one byte of the stream on the way back. */
  function echoServer(b: Bed, port: number, corruptAt = -1): { close(): void } {
    let offset = 0;
    return new b.P.Listener({
      port,
      onReadable() {
        const from = this.read();
        if (from === undefined) return;
        let avail = 0;
        const pump = (sock: TcpSocket): void => {
          for (;;) {
            const k = Math.min(avail, sock.write(new Uint8Array(0)));
            if (k === 0) return;
            const bytes = new Uint8Array(sock.read(k));
            avail -= k;
            if (corruptAt >= offset && corruptAt < offset + k) bytes[corruptAt - offset] ^= 0x40;
            offset += k;
            sock.write(bytes);
          }
        };
        const s = new b.P.TCP({
          from,
          onReadable(n) {
            avail = n;
            pump(this);
          },
          onWritable() {
            pump(this);
          },
          onError() {
            this.close();
          },
        });
        void s;
      },
    });
  }

  function runClient(b: Bed, port: number, bytes: number): ClientResult {
    let result: ClientResult | null = null;
    startEchoClient(b.app, { address: PEER_IP, port, bytes, onDone: (r) => (result = r) });
    run(b, () => result !== null, 120_000);
    return result as unknown as ClientResult;
  }

  it("sends N bytes, reads them back, checks them and reports the rate", () =>
    withSeed(seedFrom(641), (seed) => {
      const b = bed(seed, { lossRate: 0.005 });
      const server = echoServer(b, 7000);
      const r = runClient(b, 7000, 3_000_000);
      expect(r).toMatchObject({ ok: true, sent: 3_000_000, received: 3_000_000, mismatchAt: -1, error: null });
      expect(r.transferMs).toBeGreaterThan(0);
      expect(formatClientResult(r)).toMatch(/^client: 3000000 bytes sent to 10\.0\.0\.1:7000 and echoed back intact in [\d.]+ ms \(connect [\d.]+ ms\): [\d.]+ MB\/s each way/);
      server.close();
      settle(b);
    }));

  it("fails on a byte that comes back changed, naming its offset", () =>
    withSeed(seedFrom(642), (seed) => {
      const b = bed(seed);
      const server = echoServer(b, 7000, 123_456);
      const r = runClient(b, 7000, 500_000);
      expect(r).toMatchObject({ ok: false, mismatchAt: 123_456, mismatchGot: (123_456 % 251) ^ 0x40, mismatchWanted: 123_456 % 251 });
      expect(formatClientResult(r)).toMatch(/^client: FAILED: byte 123456 came back as \d+, not \d+/);
      server.close();
      settle(b);
    }));

  it("fails when the server refuses the connection", () =>
    withSeed(seedFrom(643), (seed) => {
      const b = bed(seed);
      const r = runClient(b, 7001, 1000);
      expect(r.ok).toBe(false);
      expect(r.error).toMatch(/failed \(refused/);
      settle(b);
    }));

  it("fails when the server closes before everything came back", () =>
    withSeed(seedFrom(644), (seed) => {
      const b = bed(seed);
      // discard on the peer: reads, never answers, closes after 100 KB
      let seen = 0;
      const listener = new b.P.Listener({
        port: 7002,
        onReadable() {
          const from = this.read();
          if (from === undefined) return;
          const s = new b.P.TCP({
            from,
            onReadable(n) {
              this.read(n);
              seen += n;
              if (seen >= 100_000) this.close();
            },
          });
          void s;
        },
      });
      const r = runClient(b, 7002, 1_000_000);
      expect(r.ok).toBe(false);
      expect(r.error).toMatch(/closed or reset after/);
      listener.close();
      settle(b);
    }));
});

describe("device app: a board's sizes (main.ts)", () => {
  it("serves echo, chargen and a streamed /bytes with 64 packet buffers, 8 KB TCP buffers and 4 KB chunks", () =>
    withSeed(seedFrom(651), (seed) => {
      const b = bed(seed, { lossRate: 0.005 }, BOARD_APP_SIZES, BOARD_STACK_CONFIG);
      const data = streamBytes(300_000, seed);
      const e = connect(b, 7);
      e.send(data);
      const c = connect(b, 19);
      const h = connect(b, 80);
      h.send(get("/bytes/400000", "Connection: close\r\n"));
      run(b, () => e.got.len === data.length && c.got.len >= 50_000 && h.closed);
      expect(Buffer.from(e.got.bytes()).equals(Buffer.from(data))).toBe(true);
      expect(Buffer.from(c.got.bytes().subarray(0, 50_000)).equals(Buffer.from(chargenReference(50_000)))).toBe(true);
      const [r] = responses(h.got.bytes());
      expect(Buffer.from(r.body).equals(Buffer.from(mod251(400_000)))).toBe(true);
      e.sock.close();
      c.sock.close();
      settle(b);
    }));
});
