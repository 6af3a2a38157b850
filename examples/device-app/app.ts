// The device app: what a board running xsnet serves, wired from the services of src/apps
// over the public socket API only (tcpSocketClasses and udpSocketClass from src/index.ts),
// Node-free, so the same module runs on XS. The clock is the stack's (net.now(), from the
// injected platform).
//
//   ICMP echo          the stack itself
//   TCP 7   echo       RFC 862 (src/apps/echo.ts)
//   TCP 9   discard    RFC 863
//   TCP 19  chargen    RFC 864
//   UDP 7   echo       RFC 862 (src/apps/udp-echo.ts)
//   TCP 5001 iperf     an iperf 2 server (src/apps/iperf.ts)
//   TCP 80  HTTP/1.1   the status below as JSON at /, N bytes of i % 251 at /bytes/N
//                      (src/apps/http-server.ts)
//
// The services share one arena (AppBuffers), which the client mode (client.ts) uses too.
// An exception in a callback is caught, counted (errors) and logged, and ends only its own
// connection.

import {
  AppBuffers, ChargenServer, DEVICE_STAT_NAMES, DiscardServer, EchoServer, HttpServer, IperfServer, UdpEchoServer, formatIpv4, tcpSocketClasses, udpSocketClass,
  type HttpStats, type IperfStats, type Net, type StreamStats, type TcpClasses, type TcpSocket, type UdpEchoStats,
} from "../../src/index";

export type Log = (line: string) => void;

export interface DeviceAppOptions {
  /** our address, as the status page shows it; absent: the interface's, whatever it is then (DHCP) */
  address?: string;
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

/** The services' counters (each service's own stats object). */
export interface AppStats {
  echo: StreamStats;
  discard: StreamStats;
  chargen: StreamStats;
  udpEcho: UdpEchoStats;
  iperf: IperfStats;
  http: HttpStats;
}

export class DeviceApp {
  readonly net: Net;
  readonly TCP: TcpClasses["TCP"];
  readonly Listener: TcpClasses["Listener"];
  readonly buffers: AppBuffers;
  readonly hostname: string;
  readonly #address: string | null;
  readonly startedMs: number;
  readonly log: Log;
  readonly echo: EchoServer;
  readonly discard: DiscardServer;
  readonly chargen: ChargenServer;
  readonly udpEcho: UdpEchoServer;
  readonly iperf: IperfServer;
  readonly http: HttpServer;
  readonly stats: AppStats;
  /** sockets of the app's own (the client mode's) */
  readonly #open = new Set<TcpSocket>();

  /** the address the status page shows: the one given, else the first interface's now */
  get address(): string {
    if (this.#address !== null) return this.#address;
    const dev = this.net.devices.find((d) => d !== this.net.loopback && d.inDev.configured);
    return dev === undefined ? "none" : formatIpv4(dev.inDev.addr);
  }

  constructor(net: Net, options: DeviceAppOptions) {
    this.net = net;
    const classes = tcpSocketClasses(net);
    this.TCP = classes.TCP;
    this.Listener = classes.Listener;
    this.hostname = options.hostname ?? "xsnet";
    this.#address = options.address ?? null;
    this.log = options.log ?? (() => {});
    const chunkBytes = options.chunkBytes ?? 65536;
    const httpConnsMax = options.httpConnsMax ?? 4;
    const httpRequestMax = options.httpRequestMax ?? 2048;
    if (!Number.isInteger(chunkBytes) || chunkBytes < 512) throw new RangeError(`device app: chunkBytes must be an integer >= 512, got ${chunkBytes}`);
    if (!Number.isInteger(httpConnsMax) || httpConnsMax < 1) throw new RangeError(`device app: httpConnsMax must be an integer >= 1, got ${httpConnsMax}`);
    if (!Number.isInteger(httpRequestMax) || httpRequestMax < 64) throw new RangeError(`device app: httpRequestMax must be an integer >= 64, got ${httpRequestMax}`);
    const buffers = new AppBuffers({ chunkBytes, chargen: true, mod: true, requestBuffers: httpConnsMax, requestBytes: httpRequestMax });
    this.buffers = buffers;
    this.startedMs = net.now();
    const onError = (where: string, err: unknown): void => this.log(`device app: ${where}: ${err instanceof Error ? err.message : String(err)}`);
    this.echo = new EchoServer(classes, { buffers, onError });
    this.discard = new DiscardServer(classes, { buffers, onError });
    this.chargen = new ChargenServer(classes, { buffers, onError });
    this.iperf = new IperfServer(classes, { buffers, onError, now: () => net.now() });
    this.http = new HttpServer(classes, { buffers, onError, status: () => this.statusJson() });
    this.udpEcho = new UdpEchoServer(udpSocketClass(net));
    this.stats = {
      echo: this.echo.stats, discard: this.discard.stats, chargen: this.chargen.stats, udpEcho: this.udpEcho.stats,
      iperf: this.iperf.stats, http: this.http.stats,
    };
  }

  /** Open every service's socket. */
  start(): this {
    this.echo.start();
    this.discard.start();
    this.chargen.start();
    this.iperf.start();
    this.http.start();
    this.udpEcho.start();
    return this;
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
    return this.#open.size + this.echo.openConnections + this.discard.openConnections + this.chargen.openConnections +
      this.iperf.openConnections + this.http.openConnections;
  }

  /** exceptions caught in the services' callbacks (each ended its connection) */
  get errors(): number {
    return this.echo.errors + this.discard.errors + this.chargen.errors + this.iperf.errors + this.http.errors;
  }

  /** Counters per service, flat numbers. */
  counters(): Record<string, Record<string, number>> {
    const s = this.stats;
    return {
      echo: { ...s.echo }, discard: { ...s.discard }, chargen: { ...s.chargen }, udpEcho: { ...s.udpEcho },
      iperf: { ...s.iperf }, http: { ...s.http }, app: { errors: this.errors, open: this.openConnections },
    };
  }

  /** The status page: who we are, uptime, the app's and the stack's counters (the HTTP server makes it ASCII). */
  statusJson(): string {
    const net = this.net;
    const devices: Record<string, Record<string, number>> = {};
    for (const dev of net.devices) {
      const d: Record<string, number> = {};
      for (const [key, name] of DEVICE_STAT_NAMES) d[name] = dev.stats[key];
      devices[dev.name] = d;
    }
    return JSON.stringify({
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
    });
  }

  /** Close every socket of the app (before the stack shuts down). */
  close(): void {
    this.echo.close();
    this.discard.close();
    this.chargen.close();
    this.iperf.close();
    this.http.close();
    for (const s of this.#open) s.close();
    this.#open.clear();
    this.udpEcho.close();
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
