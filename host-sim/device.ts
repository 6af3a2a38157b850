// The stack as a device on the host: one interface on the UDP link to a Linux TAP (through
// socat), an address, an optional default gateway and pcap capture, run on Node's event
// loop until SIGINT/SIGTERM (or an abort signal); then shut down and print the counters.
// The CLI (host-sim/cli.ts) and the Linux interop test run it. Node-only.

import { performance } from "node:perf_hooks";
import type { NetConfig } from "../src/config";
import { init } from "../src/core/net";
import { DEVICE_STAT_NAMES, type NetDevice } from "../src/core/netdevice";
import type { PoolStats } from "../src/core/skb";
import { formatMac } from "../src/wire/ethernet";
import { NodePlatform } from "./node-platform";
import { PcapWriter } from "./pcap";
import { UdpLinkDriver } from "./udp-link";

/** 02:78:73:6e:65:74: locally administered, "xsnet" in the last five bytes */
export const DEFAULT_DEVICE_MAC = new Uint8Array([0x02, 0x78, 0x73, 0x6e, 0x65, 0x74]);

/** RX descriptors of the UDP link */
const RX_RING_SIZE = 64;

// A 65,000-byte ping is 45 fragments: they are reassembled into a chain of 45 skbs that
// the reply reuses in place, and fragmented again on the way out. 256 slots hold that
// chain, the 64 RX descriptors behind it, the reply's fragments waiting in the qdisc or
// the TX ring, and a second datagram in reassembly; records outnumber slots for clones.
export const DEVICE_CONFIG: Partial<NetConfig> = {
  skbSlots: 256,
  skbRecords: 320,
  reasmSkbsMax: 120,
  // the first 65 KB reply waits here (as ~45 fragments) while ARP resolves the sender
  neighQueueMax: 64,
};

export interface RunDeviceOptions {
  localPort: number;
  remotePort: number;
  /** our address and prefix, "169.254.77.2/24" */
  cidr: string;
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
  /** what stopped the device */
  reason: string;
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

/** Run the stack on a UDP link until SIGINT/SIGTERM or options.stopSignal; resolves with the counters. */
export async function runDevice(options: RunDeviceOptions): Promise<DeviceSummary> {
  const log = options.log ?? ((s: string) => console.log(s));
  const mac = options.mac ?? DEFAULT_DEVICE_MAC;
  const platform = new NodePlatform();
  const net = init({ ...DEVICE_CONFIG, ...options.config }, platform);
  platform.net = net;
  const driver = new UdpLinkDriver({ localPort: options.localPort, remotePort: options.remotePort, rxRingSize: RX_RING_SIZE });
  const dev = driver.register(net, "eth0", mac);
  net.ipAddrAdd(dev, options.cidr);
  if (options.gateway !== undefined) net.setDefaultGateway(options.gateway, dev);

  let pcap: PcapWriter | null = null;
  if (options.pcapPath !== undefined) {
    const writer = new PcapWriter(options.pcapPath);
    pcap = writer;
    const buf = net.pool.buf;
    const epoch = performance.timeOrigin;
    // Wall-clock time (to the microsecond) in the capture, so it lines up with a tcpdump
    // taken on the Linux side.
    net.addTap((d, skb) => {
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

  let bindError: Error | null = null;
  try {
    net.devOpen(dev);
    await Promise.race([driver.whenUp(), stopped]);
    if (reason === "") {
      log(`xsnet device up: eth0 ${formatMac(mac, 0)} ${options.cidr} on udp ${driver.host}:${driver.localPort} -> ${driver.host}:${driver.remotePort}`);
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
    reason,
  };
  log(`xsnet device stopped (${reason})`);
  log(line("eth0", summary.device, false));
  log(line("drops", summary.drops, true) + ` consumed=${summary.consumed}`);
  log(line("ip", summary.ip, true));
  log(line("icmp", summary.icmp, true));
  log(line("neigh", summary.neigh, true));
  log(`link: rx_ring=${driver.rxRing.size} tx_ring=${driver.txRing.size} rcvbuf=${driver.recvBufferBytes} refill_failures=${driver.rxRefillFailures} socket_errors=${driver.socketErrors}`);
  log(`pool: slots=${pool.slots} slot_bytes=${pool.slotBytes} high_water=${pool.highWater} alloc_failures=${pool.allocFailures} record_failures=${pool.recordFailures} in_use=${pool.inUse} records_in_use=${pool.recordsInUse}`);
  log(summary.poolFull
    ? `pool: full again (${pool.slots}/${pool.slots} slots free, all records free)`
    : `pool: NOT full: ${pool.inUse} slots and ${pool.recordsInUse} records still in use (a leak)`);
  if (pcap !== null) log(`pcap: ${pcap.frames} frames in ${pcap.path}`);
  if (bindError !== null) throw bindError;
  return summary;
}
