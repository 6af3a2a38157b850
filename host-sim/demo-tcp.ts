// The demo's TCP part, written against the socket API only (embedded:io/socket/tcp and
// listener through tcpSocketClasses): a bulk transfer from A to B with a SHA-256 of the
// bytes on both ends, and a request/response exchange of many small messages. Both run over
// the demo's routed network (lan1 lossy, lan2 MTU 576) in virtual time. Node-only
// (node:crypto for the digest).

import { createHash } from "node:crypto";
import { tcpSocketClasses, type TcpSocket } from "../src/socket/tcp";
import type { SimHost, SimWorld } from "./sim/world";

export interface Progress {
  update(value: number, payload?: object): void;
  stop(): void;
}

export interface BulkResult {
  bytes: number;
  sent: number;
  received: number;
  sha256Sent: string;
  sha256Received: string;
  /** every byte arrived, the digests match and the peer's close was seen */
  ok: boolean;
  /** virtual ms from the connect call to the last byte read */
  virtualMs: number;
  error: string | null;
}

export interface RequestResponseResult {
  rounds: number;
  completed: number;
  requestBytes: number;
  replyBytes: number;
  /** requests or replies whose contents were not what was sent */
  mismatches: number;
  /** virtual ms per round: min, average, max */
  minMs: number;
  avgMs: number;
  maxMs: number;
  /** virtual ms from the connect call to the last reply */
  virtualMs: number;
  ok: boolean;
  error: string | null;
}

/** Byte i of the bulk stream: a hash of (seed, i / 4), so a byte out of place shows. */
function fillPattern(buf: Uint8Array, n: number, streamOff: number, seed: number): void {
  for (let k = 0; k < n; k++) {
    const i = streamOff + k;
    let x = Math.imul((i >>> 2) ^ seed, 0x9e3779b1);
    x ^= x >>> 15;
    x = Math.imul(x, 0x85ebca6b);
    x ^= x >>> 13;
    buf[k] = x >>> ((i & 3) << 3);
  }
}

const BULK_PORT = 5001;
const RR_PORT = 5002;
/** virtual ms run between progress updates */
const STEP_MS = 20;

/**
 * A sends `bytes` to B on one connection, closes, and B reads until the peer's close.
 * The SHA-256 of what A wrote is compared with the SHA-256 of what B read.
 */
export async function runBulk(
  world: SimWorld, client: SimHost, server: SimHost, serverAddress: string, bytes: number, seed: number,
  progress: Progress | null, log: (line: string) => void, limitMs: number,
): Promise<BulkResult> {
  const SC = tcpSocketClasses(client.net);
  const SS = tcpSocketClasses(server.net);
  const hashSent = createHash("sha256");
  const hashReceived = createHash("sha256");
  let sent = 0;
  let received = 0;
  let peerClosed = false;
  let error: string | null = null;
  let doneAt = -1;
  let stopped = false;
  let serverSocket: TcpSocket | null = null;
  const start = world.now;

  const listener = new SS.Listener({
    port: BULK_PORT,
    onReadable() {
      const from = this.read();
      if (from === undefined) return;
      serverSocket = new SS.TCP({
        from,
        onReadable(available) {
          if (available === 0 || stopped) return;
          const data = new Uint8Array(this.read(available));
          hashReceived.update(data);
          received += data.length;
          if (received === bytes) doneAt = world.now;
        },
        onError() {
          // After everything was read this is the peer's close; earlier, a failure.
          if (received === bytes) peerClosed = true;
          else error ??= `receiver: connection failed after ${received} bytes`;
          this.close();
        },
      });
    },
  });

  const chunk = new Uint8Array(16 * 1024);
  const clientSocket = new SC.TCP({
    address: serverAddress,
    port: BULK_PORT,
    onWritable(room) {
      while (room > 0 && sent < bytes && !stopped) {
        const n = Math.min(room, bytes - sent, chunk.length);
        fillPattern(chunk, n, sent, seed);
        const view = chunk.subarray(0, n);
        hashSent.update(view);
        room = this.write(view);
        sent += n;
        if (sent === bytes) this.close(); // the FIN follows the data
      }
    },
    onError() {
      error ??= `sender: connection failed after ${sent} bytes written`;
      this.close();
    },
  });

  const quarter = Math.max(1, Math.ceil(bytes / 4));
  let nextLine = quarter;
  while (!(peerClosed || error !== null) && world.now - start < limitMs) {
    world.runFor(STEP_MS);
    if (progress) {
      progress.update(received, { mb: mb(received), vs: ((world.now - start) / 1000).toFixed(2) });
      await new Promise((resolve) => setImmediate(resolve));
    } else if (received >= nextLine) {
      log(`  ${sizeText(received)} of ${sizeText(bytes)} received, ${((world.now - start) / 1000).toFixed(2)} s (virtual)`);
      while (nextLine <= received) nextLine += quarter;
    }
  }
  if (progress) progress.stop();
  stopped = true;
  listener.close();
  if (!peerClosed && error === null) error = `not finished after ${limitMs} ms (virtual): ${received} of ${bytes} bytes`;
  if (!peerClosed) {
    // Give up: both ends close (a reset where data is unread); closing twice does nothing.
    clientSocket.close();
    (serverSocket as TcpSocket | null)?.close();
  }
  const sha256Sent = hashSent.digest("hex");
  const sha256Received = hashReceived.digest("hex");
  return {
    bytes, sent, received, sha256Sent, sha256Received,
    ok: error === null && received === bytes && sha256Sent === sha256Received,
    virtualMs: (doneAt >= 0 ? doneAt : world.now) - start,
    error,
  };
}

/**
 * A sends `rounds` requests of `requestBytes` to B on one connection, one at a time; B
 * answers each with `replyBytes` carrying the request's round number. Every byte of both
 * is checked.
 */
export function runRequestResponse(
  world: SimWorld, client: SimHost, server: SimHost, serverAddress: string, rounds: number, requestBytes: number, replyBytes: number,
  limitMs: number,
): RequestResponseResult {
  const SC = tcpSocketClasses(client.net);
  const SS = tcpSocketClasses(server.net);
  let mismatches = 0;
  let error: string | null = null;
  let completed = 0;
  let minMs = Infinity;
  let maxMs = 0;
  let sumMs = 0;
  let finishedAt = -1;
  let serverSocket: TcpSocket | null = null;
  const start = world.now;

  // Message i: byte k is (i * 7 + k) & 0xff, a 4-byte round number first.
  const fill = (buf: Uint8Array, round: number): void => {
    buf[0] = round >>> 24; buf[1] = round >>> 16; buf[2] = round >>> 8; buf[3] = round;
    for (let k = 4; k < buf.length; k++) buf[k] = (round * 7 + k) & 0xff;
  };
  const check = (buf: Uint8Array, round: number): boolean => {
    if (((buf[0] << 24) | (buf[1] << 16) | (buf[2] << 8) | buf[3]) >>> 0 !== round) return false;
    for (let k = 4; k < buf.length; k++) if (buf[k] !== ((round * 7 + k) & 0xff)) return false;
    return true;
  };

  const listener = new SS.Listener({
    port: RR_PORT,
    onReadable() {
      const from = this.read();
      if (from === undefined) return;
      const request = new Uint8Array(requestBytes);
      const reply = new Uint8Array(replyBytes);
      let waiting = 0;
      let served = 0;
      serverSocket = new SS.TCP({
        from,
        nodelay: true,
        onReadable(available) {
          waiting = available;
          while (waiting >= requestBytes) {
            this.read(request);
            waiting -= requestBytes;
            if (!check(request, served)) mismatches++;
            fill(reply, served++);
            this.write(reply); // one reply is in flight at a time: it always fits
          }
        },
        onError() {
          if (served !== rounds) error ??= `server: connection failed after ${served} requests`;
          this.close();
        },
      });
    },
  });

  const request = new Uint8Array(requestBytes);
  const reply = new Uint8Array(replyBytes);
  let connected = false;
  let sentAt = 0;
  let waiting = 0;
  const send = (sock: TcpSocket): void => {
    fill(request, completed);
    sentAt = world.now;
    sock.write(request);
  };
  const clientSocket = new SC.TCP({
    address: serverAddress,
    port: RR_PORT,
    nodelay: true,
    onWritable() {
      if (connected) return;
      connected = true;
      send(this);
    },
    onReadable(available) {
      waiting = available;
      while (waiting >= replyBytes && completed < rounds) {
        this.read(reply);
        waiting -= replyBytes;
        if (!check(reply, completed)) mismatches++;
        const ms = world.now - sentAt;
        if (ms < minMs) minMs = ms;
        if (ms > maxMs) maxMs = ms;
        sumMs += ms;
        completed++;
        if (completed < rounds) send(this);
        else {
          finishedAt = world.now;
          this.close();
        }
      }
    },
    onError() {
      error ??= `client: connection failed after ${completed} rounds`;
      this.close();
    },
  });

  world.runUntil(() => finishedAt >= 0 || error !== null, limitMs);
  listener.close();
  if (finishedAt < 0 && error === null) error = `not finished after ${limitMs} ms (virtual): ${completed} of ${rounds} rounds`;
  if (finishedAt < 0) {
    clientSocket.close();
    (serverSocket as TcpSocket | null)?.close();
  }
  return {
    rounds, completed, requestBytes, replyBytes, mismatches,
    minMs: completed > 0 ? minMs : 0,
    avgMs: completed > 0 ? sumMs / completed : 0,
    maxMs,
    virtualMs: (finishedAt >= 0 ? finishedAt : world.now) - start,
    ok: error === null && completed === rounds && mismatches === 0,
    error,
  };
}

export function mb(bytes: number): string {
  return (bytes / 1_000_000).toFixed(1);
}

/** 4.0 MB, 512.0 kB, 64 B */
export function sizeText(bytes: number): string {
  if (bytes >= 1_000_000) return `${mb(bytes)} MB`;
  if (bytes >= 1_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${bytes} B`;
}
