// The stack as a device on the host: one interface on the UDP link to a Linux TAP (through
// socat), an address, an optional default gateway and pcap capture, and the device app
// (examples/device-app: echo, discard, chargen, UDP echo, iperf 2, HTTP; optionally the
// echo client, or a program of the caller's such as Moddable's modules), run on Node's
// event loop until SIGINT/SIGTERM (or an abort signal, or the client's or program's end);
// then shut down and print the counters. The CLI (host-sim/cli.ts) and the
// Linux interop test run it. Node-only.

import { performance } from "node:perf_hooks";
import type { NetConfig } from "../src/config";
import { type Net } from "../src/core/net";
import { init } from "../src/stack";
import { TCP_CLOSE_WAIT, TCP_ESTABLISHED, TCP_TIME_WAIT } from "../src/tcp/tcb";
import { DEVICE_STAT_NAMES, type NetDevice } from "../src/core/netdevice";
import type { PoolStats } from "../src/core/skb";
import { formatMac } from "../src/wire/ethernet";
import { startDeviceApp, type DeviceApp } from "../examples/device-app/app";
import { DEVICE_MODE_STACK_CONFIG } from "../examples/device-app/board";
import { formatClientResult, startEchoClient, type ClientResult, type EchoClient } from "../examples/device-app/client";
import { NodePlatform } from "./node-platform";
import { PcapWriter } from "./pcap";
import { UdpLinkDriver } from "./udp-link";
import { addTap, devOpen } from "../src/core/link";
import { DHCP_STATE_NAMES, DhcpClient } from "../src/lan/dhcp-client";
import { ipAddrAdd, ipMcJoin, setDefaultGateway } from "../src/ipv4/devinet";
import { SntpClient } from "../src/lan/sntp";
import { DnsResolver, dnsErrorText } from "../src/lan/dns-resolver";
import { MdnsResponder } from "../src/lan/mdns";
import { PORT_HTTP } from "../src/apps/http-server";
import { formatIpv4, ipv4FromText, parseIpv4 } from "../src/wire/ipv4";

/** 02:78:73:6e:65:74: locally administered, "xsnet" in the last five bytes */
export const DEFAULT_DEVICE_MAC = new Uint8Array([0x02, 0x78, 0x73, 0x6e, 0x65, 0x74]);

/** RX descriptors of the UDP link */
const RX_RING_SIZE = 64;

// The stack's sizes (64 KB TCP windows as lwIP's anchor, room for a 65,000-byte ping; see
// examples/device-app/board.ts), shared with the app in Moddable's simulator (sizes=device).
// The UDP link's socket buffer (4 MB) holds a full window of frames between two turns of
// Node's loop.
export const DEVICE_CONFIG: Partial<NetConfig> = DEVICE_MODE_STACK_CONFIG;

/** The device app's echo client (client mode). */
export interface DeviceClientOptions {
  address: string;
  port: number;
  bytes: number;
}

export interface RunDeviceOptions {
  localPort: number;
  remotePort: number;
  /** our address and prefix, "169.254.77.2/24"; absent with dhcp */
  cidr?: string;
  /** lease an address with DHCP (RFC 2131) instead of cidr; the hostname goes in option 12 */
  dhcp?: boolean;
  /** default gateway on the interface's subnet */
  gateway?: string;
  /** default DEFAULT_DEVICE_MAC */
  mac?: Uint8Array;
  /** capture every frame the interface sends and receives */
  pcapPath?: string;
  /** where the start line and the counters go; default console.log */
  log?: (line: string) => void;
  /** stop when aborted (besides SIGINT and SIGTERM) */
  stopSignal?: AbortSignal;
  /** overrides of DEVICE_CONFIG */
  config?: Partial<NetConfig>;
  /** the status page's hostname (default "xsnet") */
  hostname?: string;
  /** with a hostname: answer HOSTNAME.local and advertise _http._tcp by mDNS (default true) */
  mdns?: boolean;
  /** client mode: connect, send, read the echo back, check it, then stop */
  client?: DeviceClientOptions;
  /** multicast groups the interface joins (IGMP reports them once the link is up) */
  join?: string[];
  /** DNS servers: a resolver runs on the stack (the client's address may then be a name) */
  dns?: string[];
  /**
   * Started once the link is up and the carrier on, besides the services (host-sim/
   * moddable-device.ts runs Moddable's modules this way); it calls `done` when it has
   * finished, and the device then stops as after the client.
   */
  program?: (net: Net, done: () => void) => Promise<DeviceProgram>;
  /** SNTP servers (--ntp): the client starts with the link and logs each time it gets */
  ntpServers?: number[];
}

/** What a RunDeviceOptions.program started: stop() closes what it opened, before shutdown. */
export interface DeviceProgram {
  stop(): void;
}

export interface DeviceSummary {
  /** device counters under their Linux names (rx_packets, ...) */
  device: Record<string, number>;
  /** drops by reason (non-zero only), and consumed (normal ends of life) */
  drops: Record<string, number>;
  consumed: number;
  ip: Record<string, number>;
  icmp: Record<string, number>;
  neigh: Record<string, number>;
  pool: PoolStats;
  /** every slot and record back in the pool after shutdown */
  poolFull: boolean;
  pcapFrames: number;
  /** the device app's counters per service */
  services: Record<string, Record<string, number>>;
  tcp: Record<string, number>;
  udp: Record<string, number>;
  /** client mode: how it went (null without --connect) */
  client: ClientResult | null;
  /** what stopped the device */
  reason: string;
  /** the DHCP client's counters and last state (dhcp mode), else null */
  dhcp: Record<string, number | string> | null;
}

function numbers(obj: object): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(obj)) if (typeof v === "number") out[k] = v;
  return out;
}

function deviceStats(dev: NetDevice): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, name] of DEVICE_STAT_NAMES) out[name] = dev.stats[key];
  return out;
}

function line(label: string, values: Record<string, number>, skipZero: boolean): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(values)) if (!skipZero || v !== 0) parts.push(`${k}=${v}`);
  return `${label}: ${parts.length > 0 ? parts.join(" ") : "(none)"}`;
}

/**
 * Wait (at most limitMs) until no connection is still closing (FIN_WAIT1/2, CLOSING,
 * LAST_ACK), so the peer sees the close handshake finish instead of FINs sent into the
 * void after the process has gone (and a reset to them from the next run on the same link).
 */
async function lingerForCloses(net: Net, limitMs: number): Promise<void> {
  const t = net.tcp.tcb;
  const closing = (): boolean => {
    for (let c = 0; c < t.size; c++) {
      const s = t.state[c];
      if (s > TCP_ESTABLISHED && s !== TCP_CLOSE_WAIT && s !== TCP_TIME_WAIT) return true;
    }
    return false;
  };
  const end = performance.now() + limitMs;
  while (closing() && performance.now() < end) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Run the stack on a UDP link until SIGINT/SIGTERM or options.stopSignal; resolves with the counters. */
export async function runDevice(options: RunDeviceOptions): Promise<DeviceSummary> {
  const log = options.log ?? ((s: string) => console.log(s));
  const mac = options.mac ?? DEFAULT_DEVICE_MAC;
  const platform = new NodePlatform();
  const net = init({ ...DEVICE_CONFIG, ...options.config }, platform);
  platform.net = net;
  const driver = new UdpLinkDriver({ localPort: options.localPort, remotePort: options.remotePort, rxRingSize: RX_RING_SIZE });
  const dev = driver.register(net, "eth0", mac);
  if ((options.cidr === undefined) === (options.dhcp !== true)) throw new TypeError("runDevice: give cidr or dhcp, one of them");
  if (options.cidr !== undefined) ipAddrAdd(net, dev, options.cidr);
  if (options.gateway !== undefined) setDefaultGateway(net, options.gateway, dev);
  // SNTP (RFC 4330): the time against the platform clock; clock= is this host's, to compare.
  // With --dhcp the lease's NTP servers (option 42) are asked, or --ntp's until a lease names some.
  const sntp = options.ntpServers === undefined && options.dhcp !== true ? null : new SntpClient(net, {
    servers: options.ntpServers ?? [],
    pollIntervalMs: 64_000,
    onTime: (unixMs, offsetMs, server, delayMs) =>
      log(`sntp: time ${new Date(unixMs).toISOString()} (${Math.floor(unixMs)}) offset ${offsetMs.toFixed(1)} ms delay ${delayMs.toFixed(1)} ms from ${formatIpv4(server)} clock=${Date.now()}`),
    onError: (reason) => log(`sntp: ${reason}`),
  });

  // A DNS resolver with --dns, or with --dhcp (the lease's servers, option 6).
  const resolver = options.dns === undefined && options.dhcp !== true ? null : new DnsResolver(net, { servers: (options.dns ?? []).map(parseIpv4) });
  // DHCP (--dhcp): every state change and lease in the log, the lease's servers handed on.
  const dhcp = options.dhcp === true
    ? new DhcpClient(net, dev, {
      hostname: options.hostname,
      onState: (st) => log(`dhcp: ${DHCP_STATE_NAMES[st]}`),
      onLease: (l) => {
        log(`dhcp: lease ${l.address}/${l.prefixLength} router ${l.router ?? "none"} dns ${l.dns.join(",") || "none"} ntp ${l.ntp.join(",") || "none"} for ${l.leaseSeconds} s from ${l.server}`);
        // HOSTNAME.local now has an address: probe and announce it (RFC 6762 8).
        mdns?.addressChanged();
      },
      onLost: (why) => {
        log(`dhcp: lost the lease (${why})`);
        mdns?.addressChanged();
      },
      ntp: sntp ?? undefined,
      dns: resolver ?? undefined,
    })
    : null;
  for (const group of options.join ?? []) ipMcJoin(dev, group);

  let pcap: PcapWriter | null = null;
  if (options.pcapPath !== undefined) {
    const writer = new PcapWriter(options.pcapPath);
    pcap = writer;
    const buf = net.pool.buf;
    const epoch = performance.timeOrigin;
    // Wall-clock time (to the microsecond) in the capture, so it lines up with a tcpdump
    // taken on the Linux side.
    addTap(net, (d, skb) => {
      if (d === dev) writer.write(epoch + performance.now(), buf, skb.data, skb.len);
    });
  }

  // Stop on the first of SIGINT, SIGTERM, the abort signal, or a failed bind.
  let reason = "";
  let wake: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const stop = (why: string): void => {
    if (reason === "") reason = why;
    wake();
  };
  const onSigint = (): void => stop("SIGINT");
  const onSigterm = (): void => stop("SIGTERM");
  const onAbort = (): void => stop("aborted");
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigterm);
  options.stopSignal?.addEventListener("abort", onAbort);
  if (options.stopSignal?.aborted) onAbort();

  // The services listen from the start; the client connects once the link is up.
  const address = options.cidr?.slice(0, options.cidr.indexOf("/"));
  const app: DeviceApp = startDeviceApp(net, { address, hostname: options.hostname, log });
  // mDNS (src/lan/mdns.ts): HOSTNAME.local and the status page as _http._tcp
  let mdns: MdnsResponder | null = null;
  if (options.hostname !== undefined && options.mdns !== false) {
    const label = options.hostname.split(".")[0];
    try {
      mdns = new MdnsResponder(net, dev, { hostname: label, services: [{ type: "_http._tcp", port: PORT_HTTP, txt: ["path=/"] }] });
      log(`mDNS: ${label}.local, _http._tcp port ${PORT_HTTP}`);
    } catch (err) {
      log(`mDNS: not started: ${(err as Error).message}`);
    }
  }
  let client: EchoClient | null = null;
  let clientResult: ClientResult | null = null;
  let program: DeviceProgram | null = null;
  let bindError: Error | null = null;
  try {
    devOpen(dev);
    await Promise.race([driver.whenUp(), stopped]);
    if (reason === "") {
      log(`xsnet device up: eth0 ${formatMac(mac, 0)} ${options.cidr ?? "dhcp"} on udp ${driver.host}:${driver.localPort} -> ${driver.host}:${driver.remotePort}`);
      log(`serving (${app.hostname}): ICMP echo, TCP echo 7, discard 9, chargen 19, iperf 5001, HTTP 80; UDP echo 7`);
      // The link is up; the driver's next poll turns the carrier on (a SYN before that is dropped).
      if (options.client !== undefined || options.program !== undefined || dhcp !== null || sntp !== null) {
        for (let i = 0; i < 1000 && !dev.hasCarrier && reason === ""; i++) await new Promise((resolve) => setImmediate(resolve));
      }
      if (dhcp !== null) {
        dhcp.start();
        // A client or program needs the address first.
        if (options.client !== undefined || options.program !== undefined) {
          while (!dev.inDev.configured && reason === "") await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
      sntp?.start();
      if (options.client !== undefined) {
        const c = options.client;
        // A name: resolved first so a failure is reported as what it is (then the client's
        // TCP socket resolves it again, from the cache, through its host option).
        let resolved = ipv4FromText(c.address) >= 0;
        if (!resolved && resolver === null) {
          log(`client: FAILED: ${c.address} is a name and no DNS server was given (--dns)`);
          stop("client failed");
        } else if (!resolved && resolver !== null) {
          const outcome = await Promise.race([
            new Promise<string>((resolve) => {
              resolver.resolve(c.address, (addr, ttl) => {
                resolved = true;
                resolve(`dns: ${c.address} is ${formatIpv4(addr)} (ttl ${ttl} s)`);
              }, (code) => resolve(`client: FAILED: cannot resolve ${c.address}: ${dnsErrorText(code)}`));
            }),
            stopped.then(() => "dns: stopped while resolving"),
          ]);
          log(outcome);
          if (!resolved) stop("client failed");
        }
        if (resolved) {
          log(`client: connecting to ${c.address}:${c.port} to send ${c.bytes} bytes and read them back`);
          try {
            client = startEchoClient(app, {
              ...c,
              onDone: (r) => {
                clientResult = r;
                log(formatClientResult(r));
                stop("client done");
              },
            });
          } catch (err) {
            log(`client: FAILED: ${(err as Error).message}`);
            stop("client failed");
          }
        }
      }
      if (options.program !== undefined && reason === "") {
        try {
          program = await options.program(net, () => stop("program done"));
        } catch (err) {
          log(`program: FAILED: ${(err as Error).stack ?? String(err)}`);
          stop("program failed");
        }
      }
      await stopped;
    }
  } catch (err) {
    bindError = err as Error;
    reason = `link error: ${bindError.message}`;
  } finally {
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigterm);
    options.stopSignal?.removeEventListener("abort", onAbort);
  }

  if (client !== null && !client.done) client.end(`stopped (${reason}) before the echo came back`);
  // What the program opened closes first, so its connections' closes are waited for too.
  program?.stop();
  if (reason === "client done" || program !== null) await lingerForCloses(net, 2_000);
  const services = app.counters();
  if (sntp !== null) services.sntp = numbers(sntp.stats);
  sntp?.close();
  if (mdns !== null) {
    // goodbye packets (RFC 6762 10.1) leave before the stack stops
    mdns.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    log(`mDNS: ${mdns.hostname}.local; ${JSON.stringify(mdns.stats)}`);
  }
  if (resolver !== null) {
    log(line("dns", numbers(resolver.stats), true));
    resolver.close();
  }
  app.close();
  const dhcpSummary = dhcp === null ? null : { state: dhcp.stateName, ...numbers(dhcp.stats) };
  dhcp?.close();
  const tcp = numbers(net.tcp.stats);
  const udp = numbers(net.udp.stats);
  net.shutdown();
  platform.close();
  pcap?.close();

  const pool = net.pool.stats();
  const summary: DeviceSummary = {
    device: deviceStats(dev),
    drops: net.drops.snapshot(),
    consumed: net.drops.consumed,
    ip: numbers(net.ipv4.stats),
    icmp: numbers(net.ipv4.icmp.stats),
    neigh: numbers(net.neigh.stats),
    pool,
    poolFull: pool.inUse === 0 && pool.recordsInUse === 0,
    pcapFrames: pcap?.frames ?? 0,
    services,
    tcp,
    udp,
    client: clientResult,
    reason,
    dhcp: dhcpSummary,
  };
  log(`xsnet device stopped (${reason})`);
  log(line("eth0", summary.device, false));
  log(line("drops", summary.drops, true) + ` consumed=${summary.consumed}`);
  log(line("ip", summary.ip, true));
  log(line("icmp", summary.icmp, true));
  log(line("neigh", summary.neigh, true));
  log(line("tcp", summary.tcp, true));
  log(line("udp", summary.udp, true));
  if (dhcpSummary !== null) log(`dhcp: state=${dhcpSummary.state} ${line("", numbers(dhcpSummary), true).slice(2)}`);
  for (const [name, values] of Object.entries(services)) log(line(name === "app" ? "app" : `app ${name}`, values, false));
  log(`link: rx_ring=${driver.rxRing.size} tx_ring=${driver.txRing.size} rcvbuf=${driver.recvBufferBytes} refill_failures=${driver.rxRefillFailures} socket_errors=${driver.socketErrors} direct_io=${driver.directIo ? 1 : 0} rx_bursts=${driver.directRxBursts} rx_pauses=${driver.rxPauses}`);
  log(`pool: slots=${pool.slots} slot_bytes=${pool.slotBytes} high_water=${pool.highWater} alloc_failures=${pool.allocFailures} record_failures=${pool.recordFailures} in_use=${pool.inUse} records_in_use=${pool.recordsInUse}`);
  log(summary.poolFull
    ? `pool: full again (${pool.slots}/${pool.slots} slots free, all records free)`
    : `pool: NOT full: ${pool.inUse} slots and ${pool.recordsInUse} records still in use (a leak)`);
  if (pcap !== null) log(`pcap: ${pcap.frames} frames in ${pcap.path}`);
  if (bindError !== null) throw bindError;
  return summary;
}
