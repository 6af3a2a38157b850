// The main job's demo: the stack on a simulated network, no hardware needed.
//
//   A 10.0.1.2 ──lan1 (lossy)── 10.0.1.1 R 10.0.2.1 ──lan2 (MTU 576)── 10.0.2.2 B
//
// R routes between the two LANs. A pings B with sizes that fit, that fragment on lan1,
// and that R must fragment again onto lan2; B reassembles and answers the same way.
// Then TCP between A and B, through the socket API (host-sim/demo-tcp.ts): a bulk transfer
// checked by SHA-256, and a request/response exchange of small messages.
// Everything runs in virtual time from one seed, so a run replays exactly.

import { Pinger } from "../src/apps/ping";
import { DEVICE_STAT_NAMES, type NetDevice } from "../src/core/netdevice";
import type { TcpStats } from "../src/tcp/tcb";
import { formatIpv4 } from "../src/wire/ipv4";
import { mb, sizeText, runBulk, runRequestResponse, type BulkResult, type Progress, type RequestResponseResult } from "./demo-tcp";
import { PcapWriter } from "./pcap";
import { SimWorld, type SimHost } from "./sim/world";
import { addTap } from "../src/core/link";

export interface DemoOptions {
  count: number;
  seed: number;
  lossRate: number;
  /** bytes of the TCP bulk transfer A -> B */
  bulkBytes: number;
  /** request/response rounds A -> B */
  rounds: number;
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
  bulk: BulkResult;
  requestResponse: RequestResponseResult;
}

const SIZES = [56, 512, 1472, 4000, 8000];
const INTERVAL_MS = 50;
const REQUEST_BYTES = 64;
const REPLY_BYTES = 256;

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { log } = options;
  const pcap = new PcapWriter(options.pcapPath);
  const { world, lan1, lan2, a, r, b } = new SimWorld(options.seed).routedHosts({
    faults1: { lossRate: options.lossRate, delayMs: 2, jitterMs: 1, rateBps: 100_000_000 },
    faults2: { delayMs: 5, rateBps: 10_000_000, mtu: 576 },
    // 8,000 bytes over MTU 576 is 15 fragments each way; 256 buffers leave room for bursts.
    config: { skbSlots: 256, skbRecords: 288, reasmSkbsMax: 128 },
    mtu2: 576,
    a: { name: "A" },
    r: { name: "R" },
    b: { name: "B" },
    // A's capture from before its interface comes up: its announcement is in the file.
    beforeAttach: ([host]) => addTap(host.net, (_dev, skb) => pcap.write(host.net.now(), host.net.pool.buf, skb.data, skb.len)),
  });

  log(`xsnet demo: seed ${world.seed}, ${options.count} pings A 10.0.1.2 -> B 10.0.2.2 through router R`);
  log(`  lan1: ${(options.lossRate * 100).toFixed(1)}% loss, 2 ms delay, 100 Mbit/s   lan2: MTU 576, 5 ms delay, 10 Mbit/s`);
  log(`  then TCP A -> B: ${sizeText(options.bulkBytes)} bulk transfer, ${options.rounds} request/response rounds`);

  const ping = new Pinger(a.net);
  const bar = options.progress
    ? await makeBar("  pinging [{bar}] {value}/{total} sent, {received} answered", options.count, { received: 0 })
    : null;
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

  // TCP: bulk transfer, then request/response, both A -> B over the lossy, routed path.
  log("");
  log(`tcp bulk: A -> B ${options.bulkBytes} bytes, through R (MSS clamped to lan2's MTU 576)`);
  const bulkBar = options.progress
    ? await makeBar("  A -> B [{bar}] {mb}/{totalMb} MB received, {vs} s (virtual)", options.bulkBytes, { mb: "0.0", totalMb: mb(options.bulkBytes), vs: "0.00" })
    : null;
  const bulk = await runBulk(world, a, b, "10.0.2.2", options.bulkBytes, world.seed, bulkBar, log, 600_000);
  const seconds = bulk.virtualMs / 1000;
  log(`  ${bulk.received} of ${bulk.bytes} bytes in ${seconds.toFixed(2)} s (virtual), ` +
    `${((bulk.received * 8) / Math.max(seconds, 1e-9) / 1e6).toFixed(2)} Mbit/s`);
  log(`  SHA-256 sent     ${bulk.sha256Sent}`);
  log(`  SHA-256 received ${bulk.sha256Received}`);
  log(`  bytes check: ${bulk.ok ? "passed (digests match, the sender's close seen)" : `FAILED${bulk.error !== null ? `: ${bulk.error}` : ""}`}`);
  const rr = runRequestResponse(world, a, b, "10.0.2.2", options.rounds, REQUEST_BYTES, REPLY_BYTES, 600_000);
  log(`tcp request/response: ${rr.completed} of ${rr.rounds} rounds, ${rr.requestBytes} B requests, ${rr.replyBytes} B replies, ` +
    `${rr.mismatches} mismatched${rr.error !== null ? `, ${rr.error}` : ""}`);
  log(`  virtual time per round: min ${rr.minMs.toFixed(2)} ms, avg ${rr.avgMs.toFixed(2)} ms, max ${rr.maxMs.toFixed(2)} ms; ` +
    `${(rr.virtualMs / 1000).toFixed(2)} s in all`);
  // Let the closes finish (FIN, ACK) before counting.
  world.runFor(2_000);
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
  log(`replay this run: npm start -- --seed ${world.seed} --count ${options.count} --loss ${options.lossRate} --bulk ${options.bulkBytes} --rounds ${options.rounds}`);
  return { sent: ping.sent, received: ping.received, corrupted: ping.corrupted, poolsFull, bulk, requestResponse: rr };
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
  log(`  tcp: ${tcpLine(net.tcp.stats)}`);
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

/** The TCP MIB counters always shown (Linux /proc/net/snmp and TcpExt names, camel-cased). */
const TCP_SHOWN = [
  "activeOpens", "passiveOpens", "attemptFails", "estabResets", "currEstab", "inSegs", "outSegs", "retransSegs",
  "timeouts", "fastRetrans", "sackRecoveries", "sackRetrans",
] as const;

/** The counters above, then every other TCP counter that is not zero. */
function tcpLine(stats: TcpStats): string {
  const parts: string[] = TCP_SHOWN.map((k) => `${k} ${stats[k]}`);
  for (const [k, v] of Object.entries(stats)) {
    if (typeof v === "number" && v !== 0 && !(TCP_SHOWN as readonly string[]).includes(k)) parts.push(`${k} ${v}`);
  }
  return parts.join(", ");
}

async function makeBar(format: string, total: number, payload: object): Promise<Progress> {
  const { default: cliProgress } = await import("cli-progress");
  const bar = new cliProgress.SingleBar({ format, hideCursor: true }, cliProgress.Presets.shades_classic);
  bar.start(total, 0, payload);
  return bar;
}
