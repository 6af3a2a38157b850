// `npm start`: the demo on a simulated network, or, with --link, the stack as a device on
// a UDP link (one Ethernet frame per datagram, e.g. to a Linux TAP through socat).

import { Command, InvalidArgumentError, Option } from "commander";
import { parseMac } from "../src/wire/ethernet";
import { parseCidr, parseIpv4 } from "../src/wire/ipv4";
import { runDemo } from "./demo";

function port(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError(`${what} '${text}' is not a number`);
  const n = Number(text);
  if (n < 1 || n > 65535) throw new InvalidArgumentError(`${what} ${n} is not in 1..65535`);
  return n;
}

function parseLink(text: string): { localPort: number; remotePort: number } {
  const m = /^udp:([^:]+):([^:]+)$/.exec(text);
  if (!m) throw new InvalidArgumentError(`expected udp:LOCAL_PORT:REMOTE_PORT, got '${text}'`);
  return { localPort: port(m[1], "local port"), remotePort: port(m[2], "remote port") };
}

function wrap<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw err;
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

function positiveInt(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new InvalidArgumentError(`expected a positive integer, got '${text}'`);
  return Number(text);
}

/** A byte count: 4000000, 512K, 4M (K = 1,000, M = 1,000,000; Ki and Mi also). */
function byteSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(K|Ki|M|Mi)?$/i.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`expected a size in bytes such as 4000000, 512K or 4M, got '${text}'`);
  const unit = (m[2] ?? "").toLowerCase();
  const scale = unit === "k" ? 1e3 : unit === "ki" ? 1024 : unit === "m" ? 1e6 : unit === "mi" ? 1 << 20 : 1;
  const n = Math.round(Number(m[1]) * scale);
  if (n < 1 || n > 1e9) throw new InvalidArgumentError(`expected a size from 1 byte to 1G, got '${text}'`);
  return n;
}

/** --tcp-sndbuf, --tcp-rcvbuf: a buffer size from 4K to 1M bytes. */
function tcpBufferSize(text: string): number {
  const n = byteSize(text);
  if (n < 4096 || n > 1 << 20) throw new InvalidArgumentError(`expected 4K to 1M, got ${n}`);
  return n;
}

/** --send: a byte count, 1 to 10^12: 1000000, 512K, 4M, 2G (K = 1,000; Ki = 1,024; ...). */
function sendSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(K|Ki|M|Mi|G|Gi)?$/i.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`expected a size in bytes such as 1000000, 512K or 4M, got '${text}'`);
  const unit = (m[2] ?? "").toLowerCase();
  const scale: Record<string, number> = { "": 1, k: 1e3, ki: 1024, m: 1e6, mi: 1 << 20, g: 1e9, gi: 1 << 30 };
  const n = Math.round(Number(m[1]) * scale[unit]);
  if (n < 1 || n > 1e12) throw new InvalidArgumentError(`expected a size from 1 byte to 1000G, got '${text}'`);
  return n;
}

/** --connect HOST:PORT, HOST an IPv4 address or a name (resolved by the device's DNS resolver, --dns). */
function hostPort(text: string): { address: string; port: number } {
  const m = /^([^:]+):([^:]+)$/.exec(text);
  if (!m) throw new InvalidArgumentError(`expected HOST:PORT with an IPv4 address or a host name, got '${text}'`);
  if (/^[0-9.]+$/.test(m[1])) parseIpv4(m[1]);
  else if (!/^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9_.])?$/.test(m[1])) throw new InvalidArgumentError(`expected an IPv4 address or a host name, got '${m[1]}'`);
  return { address: m[1], port: port(m[2], "port") };
}

/** --dns ADDR[,ADDR]: the device resolver's servers (at most 4). */
function dnsServers(text: string): string[] {
  const list = text.split(",").map((s) => s.trim());
  if (list.length > 4) throw new InvalidArgumentError(`expected at most 4 DNS servers, got ${list.length}`);
  for (const s of list) parseIpv4(s);
  return list;
}

/** --hostname: letters, digits, hyphens and dots (RFC 1123), at most 63 characters. */
function hostname(text: string): string {
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,61}[A-Za-z0-9])?$/.test(text)) {
    throw new InvalidArgumentError(`expected letters, digits, '-' and '.' (RFC 1123, up to 63), got '${text}'`);
  }
  return text;
}

function fraction(text: string): number {
  const n = Number(text);
  if (text.trim() === "" || !(n >= 0 && n < 1)) throw new InvalidArgumentError(`expected a fraction in [0, 1), got '${text}'`);
  return n;
}

/** --ntp ADDR[,ADDR]: SNTP servers, IPv4 addresses. */
function ntpServers(text: string): number[] {
  const list = text.split(",").map((t) => t.trim());
  if (list.length === 0 || list.length > 4 || list.some((t) => t === "")) throw new InvalidArgumentError(`expected 1 to 4 IPv4 addresses separated by commas, got '${text}'`);
  return list.map((t) => parseIpv4(t));
}

const program = new Command()
  .name("xsnet")
  .description("xsnet: a statically allocated TCP/IP stack. Without --link: a demo on a simulated network.")
  .addOption(new Option("--link <spec>", "run as a device on a UDP link: udp:LOCAL_PORT:REMOTE_PORT (127.0.0.1)").argParser(wrap(parseLink)))
  .addOption(new Option("--ip <address/prefix>", "device address, e.g. 169.254.77.2/24").argParser(wrap((t) => (parseCidr(t), t))))
  .addOption(new Option("--gateway <address>", "device default gateway").argParser(wrap((t) => (parseIpv4(t), t))))
  .addOption(new Option("--dhcp", "device: lease an address with DHCP (RFC 2131) instead of --ip; --hostname goes in the request"))
  .addOption(new Option("--mac <mac>", "device MAC address, e.g. 02:78:73:6e:65:74").argParser(wrap(parseMac)))
  .addOption(new Option("--pcap <file>", "write a capture (demo default: xsnet-demo.pcap)"))
  .addOption(new Option("--hostname <name>", "device: the name its status page (HTTP GET /) gives").argParser(wrap(hostname)))
  .addOption(new Option("--no-mdns", "device: with --hostname, no mDNS responder (HOSTNAME.local, _http._tcp)"))
  .addOption(new Option("--tcp-sockets <n>", "device: TCP connection table size, listeners included (config.tcpSocketsMax; default 32)").argParser(wrap((t) => {
    const n = positiveInt(t);
    if (n < 6 || n > 1024) throw new InvalidArgumentError(`expected 6 (the app's 5 listeners and a connection) to 1024, got ${n}`);
    return n;
  })))
  .addOption(new Option("--tcp-sndbuf <size>", "device: send buffer of each TCP connection (config.tcpSndBufBytes; default 64Ki, 65536)").argParser(wrap(tcpBufferSize)))
  .addOption(new Option("--tcp-rcvbuf <size>", "device: receive window of each TCP connection (config.tcpRcvBufBytes; default 65535; past 64Ki the window is scaled)").argParser(wrap(tcpBufferSize)))
  .addOption(new Option("--connect <host:port>", "device client mode: connect to an echo server, e.g. 169.254.77.1:7 or echo.lan:7 (with --dns)").argParser(wrap(hostPort)))
  .addOption(new Option("--dns <addr[,addr]>", "device: DNS servers of the device's resolver (src/lan/dns-resolver.ts), for --connect NAME:PORT").argParser(wrap(dnsServers)))
  .addOption(new Option("--send <size>", "device client mode: bytes to send and read back (byte i = i % 251), e.g. 1M").argParser(wrap(sendSize)))
  .addOption(new Option("--join <groups>", "device: multicast groups to join, comma-separated (IGMP reports them), e.g. 239.1.2.3").argParser(wrap((t) => t.split(",").map((g) => (parseIpv4(g), g)))))
  .addOption(new Option("--ntp <addr[,addr]>", "device: ask these SNTP servers for the time (RFC 4330) and print it").argParser(wrap(ntpServers)))
  .addOption(new Option("--count <n>", "demo: pings to send").default(120).argParser(positiveInt))
  .addOption(new Option("--seed <n>", "demo: the seed every random choice derives from").default(1).argParser((t) => {
    if (!/^\d+$/.test(t)) throw new InvalidArgumentError(`expected a non-negative integer, got '${t}'`);
    return Number(t) >>> 0;
  }))
  .addOption(new Option("--loss <fraction>", "demo: loss rate of the lossy link").default(0.03).argParser(fraction))
  .addOption(new Option("--bulk <size>", "demo: bytes of the TCP bulk transfer A -> B (e.g. 4M, 512K)").default(4_000_000, "4M").argParser(byteSize))
  .addOption(new Option("--rounds <n>", "demo: TCP request/response rounds A -> B").default(200).argParser(positiveInt))
  .showHelpAfterError();

program.parse();
const opts = program.opts<{
  link?: { localPort: number; remotePort: number };
  ip?: string;
  gateway?: string;
  dhcp?: boolean;
  mac?: Uint8Array;
  pcap?: string;
  hostname?: string;
  mdns: boolean;
  tcpSockets?: number;
  tcpSndbuf?: number;
  tcpRcvbuf?: number;
  connect?: { address: string; port: number };
  dns?: string[];
  send?: number;
  join?: string[];
  ntp?: number[];
  count: number;
  seed: number;
  loss: number;
  bulk: number;
  rounds: number;
}>();

async function main(): Promise<number> {
  if (opts.link) {
    if (!opts.ip && !opts.dhcp) program.error("error: option '--ip <address/prefix>' or '--dhcp' is required with --link");
    if (opts.ip && opts.dhcp) program.error("error: options '--ip' and '--dhcp' cannot be used together");
    if (opts.gateway && opts.dhcp) program.error("error: option '--gateway' comes from the lease with '--dhcp'");
    if ((opts.connect === undefined) !== (opts.send === undefined)) {
      program.error(opts.connect === undefined ? "error: option '--send <size>' needs --connect" : "error: option '--connect <host:port>' needs --send");
    }
    const { runDevice } = await import("./device");
    const summary = await runDevice({
      localPort: opts.link.localPort,
      remotePort: opts.link.remotePort,
      cidr: opts.ip,
      dhcp: opts.dhcp,
      gateway: opts.gateway,
      mac: opts.mac,
      pcapPath: opts.pcap,
      hostname: opts.hostname,
      join: opts.join,
      mdns: opts.mdns,
      // 4 timers a connection (retransmit, delayed ACK, TIME_WAIT, keepalive), and the rest
      config: {
        ...(opts.tcpSockets === undefined ? {} : { tcpSocketsMax: opts.tcpSockets, timersMax: Math.max(256, 4 * opts.tcpSockets + 64) }),
        ...(opts.tcpSndbuf === undefined ? {} : { tcpSndBufBytes: opts.tcpSndbuf }),
        // room out of order for a whole window of full-sized segments behind one lost segment
        ...(opts.tcpRcvbuf === undefined ? {} : { tcpRcvBufBytes: opts.tcpRcvbuf, tcpOooMax: Math.max(48, Math.ceil(opts.tcpRcvbuf / 1448) + 4) }),
      },
      client: opts.connect !== undefined && opts.send !== undefined ? { ...opts.connect, bytes: opts.send } : undefined,
      ntpServers: opts.ntp,
      dns: opts.dns,
    });
    // Client mode: 0 only when every byte came back as sent.
    if (opts.connect !== undefined) return summary.client?.ok === true ? 0 : 1;
    return 0;
  }
  for (const name of ["ip", "gateway", "dhcp", "mac", "hostname", "connect", "send", "tcpSockets", "tcpSndbuf", "tcpRcvbuf", "join", "ntp", "dns"] as const) {
    if (opts[name] !== undefined) program.error(`error: option '--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}' needs --link (device mode)`);
  }
  const result = await runDemo({
    count: opts.count,
    seed: opts.seed,
    lossRate: opts.loss,
    bulkBytes: opts.bulk,
    rounds: opts.rounds,
    pcapPath: opts.pcap ?? "xsnet-demo.pcap",
    progress: process.stdout.isTTY === true,
    log: (line) => console.log(line),
  });
  return result.poolsFull && result.corrupted === 0 && result.bulk.ok && result.requestResponse.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`xsnet: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
