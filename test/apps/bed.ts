// Shared pieces of the service tests (test/apps) and the device app's (test/examples): a
// device (10.0.0.2, the device mode's configuration unless told) and a peer (10.0.0.1) on
// one simulated LAN in virtual time (tcp/harness.ts's pair), a client on the peer that
// writes as the window allows and keeps what it reads, the reference streams (i % 251,
// RFC 864 as lwIP's bench makes it) and an HTTP response parser. Test code only.
import { expect } from "vitest";
import { DEVICE_CONFIG } from "../../host-sim/device";
import type { LinkFaults } from "../../host-sim/sim/lan";
import type { SimWorld } from "../../host-sim/sim/world";
import type { NetConfig } from "../../src/config";
import type { Net } from "../../src/core/net";
import type { TcpListener, TcpSocket } from "../../src/socket/tcp";
import { A_IP, B_IP, makePair, Sink, type Classes } from "../tcp/harness";

export const DEVICE_IP = B_IP;
export const PEER_IP = A_IP;

export interface Bed {
  world: SimWorld;
  /** the device's stack and its TCP classes (what a service is given) */
  deviceNet: Net;
  D: Classes;
  /** the peer's */
  peerNet: Net;
  P: Classes;
}

export function bed(seed: number, faults: Partial<LinkFaults> = {}, deviceConfig: Partial<NetConfig> = DEVICE_CONFIG): Bed {
  const pair = makePair(seed, { delayMs: 0.2, ...faults }, DEVICE_CONFIG, deviceConfig);
  return { world: pair.world, deviceNet: pair.b.net, D: pair.B, peerNet: pair.a.net, P: pair.A };
}

export function run(b: Bed, cond: () => boolean, limitMs = 60_000): void {
  expect(b.world.runUntil(cond, limitMs), "timed out (virtual time)").toBe(true);
}

/** What settle() checks of a service (or the device app). */
export interface Settling {
  readonly openConnections: number;
  readonly errors: number;
}

/** Everything a test opened is closed: the services hold no connection and caught nothing. */
export function settle(b: Bed, ...services: Settling[]): void {
  b.world.runFor(2_000);
  for (const s of services) {
    expect(s.openConnections).toBe(0);
    expect(s.errors).toBe(0);
  }
}

/** i % 251 for i in [from, from + n) */
export function mod251(n: number, from = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (from + i) % 251;
  return out;
}

/** The RFC 864 reference as lwIP's bench makes it (awk): line i is 72 characters of the 32..126 set from i % 95, CRLF. */
export function chargenReference(n: number): Uint8Array {
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

export const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
export const str = (b: Uint8Array): string => String.fromCharCode(...b);

export interface Peer {
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
export function connect(b: Bed, port: number, options: { closeWhenSent?: boolean } = {}): Peer {
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

/** A listener on the peer that hands each connection it accepts to `serve` (which makes its socket). */
export function peerListener(b: Bed, port: number, serve: (from: TcpSocket) => void): TcpListener {
  return new b.P.Listener({
    port,
    onReadable() {
      for (let from = this.read(); from !== undefined; from = this.read()) serve(from);
    },
  });
}

// ---------------------------------------------------------------- HTTP responses

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
  /** bytes of the stream this response took */
  length: number;
}

/** Parse the responses in a byte stream (Content-Length framing); HEAD responses have no body. */
export function responses(stream: Uint8Array, heads: boolean[] = []): HttpResponse[] {
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

export function get(path: string, extra = ""): Uint8Array {
  return ascii(`GET ${path} HTTP/1.1\r\nHost: device\r\n${extra}\r\n`);
}
