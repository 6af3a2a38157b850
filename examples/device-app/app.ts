// The device app: what a board running xsnet serves, written against the public socket API
// only (tcpSocketClasses and udpSocketClass from src/index.ts) and Node-free, so the same
// module runs on XS. The clock is the stack's (net.now(), from the injected platform).
//
//   ICMP echo          the stack itself
//   TCP 7   echo       RFC 862: reads only what it can write back, so the window closes
//                      when the peer outruns it (as lwIP's tcpecho_raw)
//   TCP 9   discard    RFC 863
//   TCP 19  chargen    RFC 864, byte for byte as lwIP's anchor device (buffers.ts)
//   UDP 7   echo       RFC 862
//   TCP 5001 iperf     an iperf 2 server (iperf.ts)
//   TCP 80  HTTP/1.1   the status as JSON at /, N bytes of i % 251 at /bytes/N (http.ts)
//
// Every callback runs inside the stack's loop: an exception there is caught, counted
// (errors) and ends only its own connection.

import { DEVICE_STAT_NAMES, tcpSocketClasses, udpSocketClass, type Net, type TcpListener, type TcpSocket, type UdpSocket } from "../../src/index";
import { AppBuffers, CHARGEN_PERIOD, closeConn as closeStream, discardBytes } from "./buffers";
import { HttpServer } from "./http";
import { IperfServer } from "./iperf";

export type TcpClasses = ReturnType<typeof tcpSocketClasses>;
export type Log = (line: string) => void;

export interface DeviceAppOptions {
  /** our address, as the status page shows it */
  address: string;
  /** default "xsnet" */
  hostname?: string;
  /** largest read or write at once (default 65536; a small board may want 4096) */
  chunkBytes?: number;
  /** HTTP connections served at once (default 4); more are answered 503 */
  httpConnsMax?: number;
  /** bytes of one HTTP request line and headers (default 2048; more: 431) */
  httpRequestMax?: number;
  /** where the app reports events (errors); default: nowhere */
  log?: Log;
}

export const PORT_ECHO = 7;
export const PORT_DISCARD = 9;
export const PORT_CHARGEN = 19;
export const PORT_IPERF = 5001;
export const PORT_HTTP = 80;

/** Counters of one TCP stream service. */
export interface StreamStats {
  connections: number;
  bytesIn: number;
  bytesOut: number;
}

export interface AppStats {
  echo: StreamStats;
  discard: StreamStats;
  chargen: StreamStats;
  udpEcho: { datagrams: number; bytes: number; sendErrors: number };
  iperf: { connections: number; bytesIn: number; bytesOut: number; reverse: number; connectBack: number; refused: number };
  http: {
    connections: number; requests: number; bytesOut: number; busy: number;
    s200: number; s400: number; s404: number; s405: number; s431: number; s501: number; s505: number;
  };
  /** exceptions caught in callbacks (each ended its connection) */
  errors: number;
}

const ECHO = 0;
const DISCARD = 1;
const CHARGEN = 2;

/** One connection of echo, discard or chargen: its state rides on the socket's target. */
class StreamConn {
  readonly app: DeviceApp;
  readonly kind: number;
  readonly stats: StreamStats;
  sock: TcpSocket | null = null;
  /** bytes the stack holds for us (onReadable reports the total; reads take from it) */
  avail = 0;
  /** chargen: position in the stream */
  pos = 0;
  closed = false;

  constructor(app: DeviceApp, kind: number, stats: StreamStats) {
    this.app = app;
    this.kind = kind;
    this.stats = stats;
  }
}

export class DeviceApp {
  readonly net: Net;
  readonly TCP: TcpClasses["TCP"];
  readonly Listener: TcpClasses["Listener"];
  readonly buffers: AppBuffers;
  readonly hostname: string;
  readonly address: string;
  readonly startedMs: number;
  readonly log: Log;
  readonly stats: AppStats = {
    echo: { connections: 0, bytesIn: 0, bytesOut: 0 },
    discard: { connections: 0, bytesIn: 0, bytesOut: 0 },
    chargen: { connections: 0, bytesIn: 0, bytesOut: 0 },
    udpEcho: { datagrams: 0, bytes: 0, sendErrors: 0 },
    iperf: { connections: 0, bytesIn: 0, bytesOut: 0, reverse: 0, connectBack: 0, refused: 0 },
    http: { connections: 0, requests: 0, bytesOut: 0, busy: 0, s200: 0, s400: 0, s404: 0, s405: 0, s431: 0, s501: 0, s505: 0 },
    errors: 0,
  };
  readonly #listeners: TcpListener[] = [];
  readonly #open = new Set<TcpSocket>();
  #udp: UdpSocket | null = null;
  readonly http: HttpServer;
  readonly iperf: IperfServer;

  constructor(net: Net, options: DeviceAppOptions) {
    this.net = net;
    const { TCP, Listener } = tcpSocketClasses(net);
    this.TCP = TCP;
    this.Listener = Listener;
    this.hostname = options.hostname ?? "xsnet";
    this.address = options.address;
    this.log = options.log ?? (() => {});
    const chunkBytes = options.chunkBytes ?? 65536;
    const httpConnsMax = options.httpConnsMax ?? 4;
    const httpRequestMax = options.httpRequestMax ?? 2048;
    if (!Number.isInteger(chunkBytes) || chunkBytes < 512) throw new RangeError(`device app: chunkBytes must be an integer >= 512, got ${chunkBytes}`);
    if (!Number.isInteger(httpConnsMax) || httpConnsMax < 1) throw new RangeError(`device app: httpConnsMax must be an integer >= 1, got ${httpConnsMax}`);
    if (!Number.isInteger(httpRequestMax) || httpRequestMax < 64) throw new RangeError(`device app: httpRequestMax must be an integer >= 64, got ${httpRequestMax}`);
    this.buffers = new AppBuffers({ chunkBytes, httpConnsMax, httpRequestMax });
    this.startedMs = net.now();
    this.http = new HttpServer(this);
    this.iperf = new IperfServer(this);
  }

  /** Open every service's socket. */
  start(): this {
    this.#listen(PORT_ECHO, (l) => acceptStream(this, l, ECHO, this.stats.echo));
    this.#listen(PORT_DISCARD, (l) => acceptStream(this, l, DISCARD, this.stats.discard));
    this.#listen(PORT_CHARGEN, (l) => acceptStream(this, l, CHARGEN, this.stats.chargen));
    this.#listen(PORT_IPERF, (l) => this.iperf.accept(l));
    this.#listen(PORT_HTTP, (l) => this.http.accept(l));
    this.#udp = new (udpSocketClass(this.net))({ port: PORT_ECHO, onReadable: udpEchoReadable, target: this });
    return this;
  }

  #listen(port: number, accept: (listener: TcpListener) => void): void {
    const app = this;
    this.#listeners.push(new this.Listener({
      port,
      backlog: 8,
      onReadable() {
        try {
          accept(this);
        } catch (err) {
          app.error(`accept on port ${port}`, err);
        }
      },
    }));
  }

  now(): number {
    return this.net.now();
  }

  /** A socket the app holds open (closed by close()). */
  track(sock: TcpSocket): void {
    this.#open.add(sock);
  }

  untrack(sock: TcpSocket): void {
    this.#open.delete(sock);
  }

  get openConnections(): number {
    return this.#open.size;
  }

  /** Let go of connections that ended without telling the app (see HttpServer.reap); done at each HTTP accept. */
  reap(): void {
    this.http.reap();
  }

  error(where: string, err: unknown): void {
    this.stats.errors++;
    this.log(`device app: ${where}: ${err instanceof Error ? err.message : String(err)}`);
  }

  /** Counters per service, flat numbers. */
  counters(): Record<string, Record<string, number>> {
    const s = this.stats;
    return {
      echo: { ...s.echo }, discard: { ...s.discard }, chargen: { ...s.chargen }, udpEcho: { ...s.udpEcho },
      iperf: { ...s.iperf }, http: { ...s.http }, app: { errors: s.errors, open: this.#open.size },
    };
  }

  /** The status page: who we are, uptime, the app's and the stack's counters (ASCII JSON). */
  statusJson(): string {
    const net = this.net;
    const devices: Record<string, Record<string, number>> = {};
    for (const dev of net.devices) {
      const d: Record<string, number> = {};
      for (const [key, name] of DEVICE_STAT_NAMES) d[name] = dev.stats[key];
      devices[dev.name] = d;
    }
    const status = {
      hostname: this.hostname,
      address: this.address,
      uptimeMs: Math.floor(net.now() - this.startedMs),
      services: this.counters(),
      devices,
      ip: numbers(net.ipv4.stats),
      icmp: numbers(net.ipv4.icmp.stats),
      tcp: numbers(net.tcp.stats),
      udp: numbers(net.udp.stats),
      pool: numbers(net.pool.stats()),
    };
    return asciiOnly(JSON.stringify(status));
  }

  /** Close every socket of the app (before the stack shuts down). */
  close(): void {
    for (const l of this.#listeners) l.close();
    this.#listeners.length = 0;
    for (const s of this.#open) s.close();
    this.#open.clear();
    this.iperf.close();
    this.http.close();
    this.#udp?.close();
    this.#udp = null;
  }
}

export function startDeviceApp(net: Net, options: DeviceAppOptions): DeviceApp {
  return new DeviceApp(net, options).start();
}

function numbers(obj: object): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(obj)) if (typeof v === "number") out[k] = v;
  return out;
}

/** JSON with every character past ASCII escaped, so its length is its byte count. */
export function asciiOnly(json: string): string {
  return json.replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

// ---------------------------------------------------------------- echo, discard, chargen

function acceptStream(app: DeviceApp, listener: TcpListener, kind: number, stats: StreamStats): void {
  for (;;) {
    const from = listener.read();
    if (from === undefined) return;
    const conn = new StreamConn(app, kind, stats);
    const sock = new app.TCP({ from, onReadable: streamReadable, onWritable: streamWritable, onError: streamError, target: conn });
    conn.sock = sock;
    app.track(sock);
    stats.connections++;
  }
}

function streamReadable(this: TcpSocket, bytes: number): void {
  const conn = this.target as StreamConn;
  if (conn.closed) return;
  conn.avail = bytes;
  try {
    if (conn.kind === ECHO) echoPump(this, conn);
    else {
      // discard, and whatever a chargen client sends (RFC 864: ignored)
      conn.stats.bytesIn += conn.avail;
      discardBytes(conn.app.buffers, this, conn.avail);
      conn.avail = 0;
    }
  } catch (err) {
    failStream(this, conn, err);
  }
}

function streamWritable(this: TcpSocket, room: number): void {
  const conn = this.target as StreamConn;
  if (conn.closed) return;
  try {
    if (conn.kind === ECHO) echoPump(this, conn);
    else if (conn.kind === CHARGEN) chargenFill(this, conn, room);
  } catch (err) {
    failStream(this, conn, err);
  }
}

/** The peer closed (everything was read) or the connection failed: close our side too. */
function streamError(this: TcpSocket): void {
  const conn = this.target as StreamConn;
  closeStream(this, conn);
}

/** Echo what fits in the send buffer; the rest stays in the receive queue, closing the window. */
function echoPump(sock: TcpSocket, conn: StreamConn): void {
  const b = conn.app.buffers;
  if (conn.avail === 0) return;
  let room = sock.write(b.empty);
  while (conn.avail > 0 && room > 0) {
    let n = conn.avail < room ? conn.avail : room;
    if (n > b.chunk) n = b.chunk;
    const view = b.scratchView(n);
    sock.read(view);
    conn.avail -= n;
    room = sock.write(view);
    conn.stats.bytesIn += n;
    conn.stats.bytesOut += n;
  }
}

/** Fill the send buffer with the chargen stream, straight from the pattern. */
function chargenFill(sock: TcpSocket, conn: StreamConn, room: number): void {
  const b = conn.app.buffers;
  while (room > 0) {
    const n = room < b.chunk ? room : b.chunk;
    const off = conn.pos % CHARGEN_PERIOD;
    room = sock.write(b.chargen.subarray(off, off + n));
    conn.pos += n;
    conn.stats.bytesOut += n;
  }
}

function failStream(sock: TcpSocket, conn: StreamConn, err: unknown): void {
  conn.app.error("tcp " + (conn.kind === ECHO ? "echo" : conn.kind === DISCARD ? "discard" : "chargen"), err);
  closeStream(sock, conn);
}

// ---------------------------------------------------------------- UDP echo

function udpEchoReadable(this: UdpSocket, packets: number): void {
  const app = this.target as DeviceApp;
  const s = app.stats.udpEcho;
  for (let i = 0; i < packets; i++) {
    const packet = this.read();
    if (packet === undefined) return;
    s.datagrams++;
    s.bytes += packet.byteLength;
    try {
      this.write(packet, packet.address, packet.port);
    } catch {
      s.sendErrors++; // no packet buffers or no route: the datagram is lost, as on a wire
    }
  }
}
