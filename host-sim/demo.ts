// The main job's demo: the stack on a simulated network, no hardware needed.
//
//   A 10.0.1.2 ──lan1 (lossy)── 10.0.1.1 R 10.0.2.1 ──lan2 (MTU 576)── 10.0.2.2 B
//
// R routes between the two LANs. A pings B with sizes that fit, that fragment on lan1,
// and that R must fragment again onto lan2; B reassembles and answers the same way.
// Everything runs in virtual time from one seed, so a run replays exactly.

import { Pinger } from "../src/apps/ping";
import { DEVICE_STAT_NAMES, type NetDevice } from "../src/core/netdevice";
import { formatIpv4 } from "../src/wire/ipv4";
import { PcapWriter } from "./pcap";
import { SimWorld, type SimHost } from "./sim/world";

export interface DemoOptions {
  count: number;
  seed: number;
  lossRate: number;
  pcapPath: string;
  /** progress bar on (a TTY) or plain lines */
  progress: boolean;
  log: (line: string) => void;
}

export interface DemoResult {
  sent: number;
  received: number;
  corrupted: number;
  poolsFull: boolean;
}

const SIZES = [56, 512, 1472, 4000, 8000];
const INTERVAL_MS = 50;

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { log } = options;
  const world = new SimWorld(options.seed);
  const lan1 = world.addLan("lan1", { lossRate: options.lossRate, delayMs: 2, jitterMs: 1, rateBps: 100_000_000 });
  const lan2 = world.addLan("lan2", { delayMs: 5, rateBps: 10_000_000, mtu: 576 });
  // 8,000 bytes over MTU 576 is 15 fragments each way; 256 buffers leave room for bursts.
  const config = { skbSlots: 256, skbRecords: 288, reasmSkbsMax: 128 };
  const a = world.addHost("A", config);
  const r = world.addHost("R", { ...config, ipForward: true });
  const b = world.addHost("B", config);
  const pcap = new PcapWriter(options.pcapPath);
  a.net.addTap((_dev, skb) => pcap.write(world.now, a.net.pool.buf, skb.data, skb.len));
  world.attach(a, lan1, "10.0.1.2/24");
  world.attach(r, lan1, "10.0.1.1/24");
  world.attach(r, lan2, "10.0.2.1/24", { mtu: 576 });
  world.attach(b, lan2, "10.0.2.2/24", { mtu: 576 });
  a.net.setDefaultGateway("10.0.1.1");
  b.net.setDefaultGateway("10.0.2.1");

  log(`xsnet demo: seed ${world.seed}, ${options.count} pings A 10.0.1.2 -> B 10.0.2.2 through router R`);
  log(`  lan1: ${(options.lossRate * 100).toFixed(1)}% loss, 2 ms delay, 100 Mbit/s   lan2: MTU 576, 5 ms delay, 10 Mbit/s`);

  const ping = new Pinger(a.net);
  const bar = options.progress ? await makeBar(options.count) : null;
  const bySize = new Map<number, { sent: number; received: number; rttSum: number }>();
  for (const s of SIZES) bySize.set(s, { sent: 0, received: 0, rttSum: 0 });
  const sizeOfSeq = new Map<number, number>();
  ping.onReply = (seq, rtt) => {
    const size = sizeOfSeq.get(seq);
    if (size === undefined) return;
    const row = bySize.get(size);
    if (row) {
      row.received++;
      row.rttSum += rtt;
    }
  };
  for (let i = 0; i < options.count; i++) {
    const size = SIZES[i % SIZES.length];
    const seq = ping.send("10.0.2.2", size);
    if (seq >= 0) sizeOfSeq.set(seq, size);
    (bySize.get(size) as { sent: number }).sent++;
    world.runFor(INTERVAL_MS);
    if (bar) bar.update(i + 1, { received: ping.received });
    else if ((i + 1) % 50 === 0 || i + 1 === options.count) log(`  ${i + 1}/${options.count} sent, ${ping.received} answered`);
    if (bar && i % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  world.runFor(2_000);
  if (bar) {
    bar.update(options.count, { received: ping.received });
    bar.stop();
  }
  ping.close();

  log("");
  log(`pings: ${ping.sent} sent, ${ping.received} answered (${((100 * ping.received) / Math.max(1, ping.sent)).toFixed(1)}%), ${ping.corrupted} corrupted, ${ping.duplicates} duplicates`);
  log(`RTT: min ${ping.rttMinMs.toFixed(2)} ms, avg ${ping.rttAvgMs.toFixed(2)} ms, max ${ping.rttMaxMs.toFixed(2)} ms (virtual time)`);
  log("  size     sent  answered  avg RTT");
  for (const [size, row] of bySize) {
    const avg = row.received > 0 ? `${(row.rttSum / row.received).toFixed(2)} ms` : "-";
    log(`  ${String(size).padStart(5)} ${String(row.sent).padStart(8)} ${String(row.received).padStart(9)}  ${avg}`);
  }
  const l1 = lan1.totals();
  log(`lan1: ${l1.sent} frames, ${l1.lost} lost   lan2: ${lan2.totals().sent} frames, ${lan2.totals().lost} lost`);
  log("");
  for (const host of [a, r, b]) summarizeHost(host, log);

  world.shutdown();
  pcap.close();
  let poolsFull = true;
  for (const host of world.hosts) if (host.net.pool.inUse !== 0 || host.net.pool.recordsInUse !== 0) poolsFull = false;
  log(`skb pools after shutdown: ${poolsFull ? "all full again" : "NOT full (leak)"}`);
  log(`pcap (A's view, ${pcap.frames} frames): ${options.pcapPath}`);
  log(`replay this run: npm start -- --seed ${world.seed} --count ${options.count}`);
  return { sent: ping.sent, received: ping.received, corrupted: ping.corrupted, poolsFull };
}

function summarizeHost(host: SimHost, log: (line: string) => void): void {
  const net = host.net;
  const ip = net.ipv4.stats;
  const pool = net.pool.stats();
  log(`${host.name}:`);
  for (const dev of host.devices) log(`  ${dev.name} ${formatIpv4(dev.inDev.addr)}/${dev.inDev.prefixLen} mtu ${dev.mtu}: ${deviceLine(dev)}`);
  log(`  ip: in ${ip.inReceives}, delivered ${ip.inDelivers}, forwarded ${ip.forwDatagrams}, out ${ip.outRequests}, ` +
    `fragments created ${ip.fragCreates}, reassembled ${ip.reasmOKs} (failed ${ip.reasmFails}, timeouts ${ip.reasmTimeout})`);
  const icmp = net.ipv4.icmp.stats;
  log(`  icmp: echo in ${icmp.inEchos}, echo replies out ${icmp.outEchoReps}, errors out ${icmp.outDestUnreachs + icmp.outTimeExcds}, rate-limited ${icmp.outRateLimited}`);
  const arp = net.neigh.stats;
  log(`  arp: requests sent ${arp.arpRequestsSent}, replies sent ${arp.arpRepliesSent}, resolution failures ${arp.resFailed}`);
  const drops = net.drops.snapshot();
  const dropText = Object.keys(drops).length === 0 ? "none" : Object.entries(drops).map(([k, v]) => `${k} ${v}`).join(", ");
  log(`  drops by reason: ${dropText}`);
  log(`  skb pool: ${pool.slots} x ${pool.slotBytes} B, high-water ${pool.highWater}, allocation failures ${pool.allocFailures}`);
}

function deviceLine(dev: NetDevice): string {
  const s = dev.stats;
  const parts: string[] = [];
  for (const [key, name] of DEVICE_STAT_NAMES) {
    if (key === "rxBytes" || key === "txBytes") continue;
    const v = s[key];
    if (v !== 0 || key === "rxPackets" || key === "txPackets") parts.push(`${name} ${v}`);
  }
  return parts.join(", ");
}

async function makeBar(total: number): Promise<{ update(n: number, payload: object): void; stop(): void }> {
  const { default: cliProgress } = await import("cli-progress");
  const bar = new cliProgress.SingleBar(
    { format: "  pinging [{bar}] {value}/{total} sent, {received} answered", hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { received: 0 });
  return bar;
}
