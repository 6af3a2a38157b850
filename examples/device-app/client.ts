// Client mode: connect to a TCP server that echoes (RFC 862), send N bytes (byte i is
// i % 251), read N bytes back and check each one, then close. The result says whether
// every byte came back in order, how long it took on the stack's clock, and the rate.
// Success: N bytes sent and N bytes read back equal to them. Failure: a byte that differs
// (its offset, what came, what was expected), more than N bytes back, or the connection
// refused, reset or closed before N bytes came back.

import { MOD, type TcpSocket } from "../../src/index";
import type { DeviceApp } from "./app";

export interface ClientOptions {
  /** an IPv4 address, or a name (the TCP socket's host option: the stack's resolver) */
  address: string;
  port: number;
  /** bytes to send and to read back */
  bytes: number;
  /** called once, when the test ends either way */
  onDone: (result: ClientResult) => void;
}

export interface ClientResult {
  ok: boolean;
  address: string;
  port: number;
  bytes: number;
  sent: number;
  received: number;
  /** offset of the first byte that came back wrong, or -1 */
  mismatchAt: number;
  mismatchGot: number;
  mismatchWanted: number;
  /** stack clock, ms: from the connect call to connected, and from connected to the last byte back */
  connectMs: number;
  transferMs: number;
  error: string | null;
}

export class EchoClient {
  readonly app: DeviceApp;
  readonly result: ClientResult;
  readonly #onDone: (result: ClientResult) => void;
  #sock: TcpSocket | null = null;
  #startMs: number;
  #connectedMs = -1;
  #done = false;

  constructor(app: DeviceApp, options: ClientOptions) {
    if (!Number.isInteger(options.bytes) || options.bytes < 1) throw new RangeError(`client: bytes must be a positive integer, got ${options.bytes}`);
    this.app = app;
    this.#onDone = options.onDone;
    this.result = {
      ok: false, address: options.address, port: options.port, bytes: options.bytes, sent: 0, received: 0,
      mismatchAt: -1, mismatchGot: 0, mismatchWanted: 0, connectMs: 0, transferMs: 0, error: null,
    };
    this.#startMs = app.now();
    const byName = !/^[0-9.]+$/.test(options.address);
    const sock = new app.TCP({
      ...(byName ? { host: options.address } : { address: options.address }),
      port: options.port,
      onWritable: clientWritable,
      onReadable: clientReadable,
      onError: clientError,
      target: this,
    });
    this.#sock = sock;
    app.track(sock);
  }

  get done(): boolean {
    return this.#done;
  }

  /** Stop now (the test is over, or the device is stopping). */
  end(error: string | null): void {
    if (this.#done) return;
    this.#done = true;
    const r = this.result;
    const now = this.app.now();
    if (this.#connectedMs >= 0) {
      r.connectMs = this.#connectedMs - this.#startMs;
      r.transferMs = now - this.#connectedMs;
    } else {
      r.connectMs = now - this.#startMs;
    }
    r.error = error;
    r.ok = error === null && r.sent === r.bytes && r.received === r.bytes && r.mismatchAt < 0;
    const sock = this.#sock;
    if (sock !== null) {
      this.#sock = null;
      try {
        // Drop what is left unread, so the close is a FIN and not a reset.
        while (sock.read() !== undefined) { /* drop */ }
      } catch {
        // gone already
      }
      sock.close();
      this.app.untrack(sock);
    }
    this.#onDone(r);
  }

  writable(sock: TcpSocket, room: number): void {
    if (this.#connectedMs < 0) this.#connectedMs = this.app.now();
    const b = this.app.buffers;
    const r = this.result;
    while (room > 0 && r.sent < r.bytes) {
      let n = room < b.chunk ? room : b.chunk;
      if (r.bytes - r.sent < n) n = r.bytes - r.sent;
      const off = r.sent % MOD;
      room = sock.write(b.mod.subarray(off, off + n));
      r.sent += n;
    }
  }

  readable(sock: TcpSocket, bytes: number): void {
    const b = this.app.buffers;
    const r = this.result;
    let avail = bytes;
    while (avail > 0 && !this.#done) {
      const n = avail < b.chunk ? avail : b.chunk;
      const view = b.scratchView(n);
      sock.read(view);
      avail -= n;
      if (r.received + n > r.bytes) {
        r.received += n;
        this.end(`${r.received - r.bytes} bytes more than the ${r.bytes} sent came back`);
        return;
      }
      // The echo of bytes [received, received + n): mod[base + k] is (received + k) % 251.
      const base = r.received % MOD;
      const mod = b.mod;
      for (let k = 0; k < n; k++) {
        if (view[k] !== mod[base + k]) {
          r.mismatchAt = r.received + k;
          r.mismatchGot = view[k];
          r.mismatchWanted = mod[base + k];
          r.received += n;
          this.end(`byte ${r.mismatchAt} came back as ${r.mismatchGot}, not ${r.mismatchWanted}`);
          return;
        }
      }
      r.received += n;
      if (r.received === r.bytes) {
        this.end(null);
        return;
      }
    }
  }
}

export function startEchoClient(app: DeviceApp, options: ClientOptions): EchoClient {
  return new EchoClient(app, options);
}

function clientWritable(this: TcpSocket, room: number): void {
  const c = this.target as EchoClient;
  if (c.done) return;
  try {
    c.writable(this, room);
  } catch (err) {
    c.end(`write failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function clientReadable(this: TcpSocket, bytes: number): void {
  const c = this.target as EchoClient;
  if (c.done) return;
  try {
    c.readable(this, bytes);
  } catch (err) {
    c.end(`read failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function clientError(this: TcpSocket): void {
  const c = this.target as EchoClient;
  if (c.done) return;
  const r = c.result;
  c.end(r.sent === 0 && r.received === 0
    ? `connection to ${r.address}:${r.port} failed (refused, unreachable or timed out)`
    : `connection closed or reset after ${r.sent} bytes sent and ${r.received} received`);
}

/** One line for a person: the outcome, and the rate when it worked. */
export function formatClientResult(r: ClientResult): string {
  const to = `${r.address}:${r.port}`;
  if (!r.ok) return `client: FAILED: ${r.error ?? "incomplete"} (${r.sent} of ${r.bytes} bytes sent, ${r.received} received, to ${to})`;
  const ms = r.transferMs > 0 ? r.transferMs : 0.001;
  const mbps = r.bytes / ms / 1000; // 10^6 bytes per second
  return `client: ${r.bytes} bytes sent to ${to} and echoed back intact in ${ms.toFixed(1)} ms (connect ${r.connectMs.toFixed(1)} ms): ` +
    `${mbps.toFixed(2)} MB/s each way (${(mbps * 8).toFixed(2)} Mbit/s)`;
}
