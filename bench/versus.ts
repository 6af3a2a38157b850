// xsnet's device mode against lwIP 2.1.3 on the same TAP link, measured from the Linux side
// with the same tools, back to back in each round (../shared/anchors/lwip/run.sh --versus).
//
//   sudo npm run bench:versus -- [--runs 5] [--bytes 20000000] [--echo-bytes 5000000]
//                                [--lossy-bytes 3000000] [--seed 7] [--clean-only | --lossy-only]
//                                [--docs]
//
// 1. Clean link: run.sh --versus with the device mode as the other device; its table and last
//    line ("versus lwIP: discard …x, chargen …x, echo …x, ping …x") are printed.
// 2. Lossy link: both devices behind xsnet's seeded relay (host-sim/relay-cli.ts: 5 % loss,
//    5 % reordering, 1 % duplication each way), each measured by run.sh --versus (the clean
//    lwIP of those runs is the baseline of each); then a 65,000-byte ping through the relay
//    to each. The two lossy devices are compared.
// 3. --ping-floor: ping alone on the clean link, for lwIP, for the least a Node program does to
//    answer ping (bench/ping-floor-device.ts) and for the device.
// 4. xsnet on XS (with the clean link, or alone with --xs-only): the device app built for lin
//    by mcconfig (release) and run in Moddable's simulator (mcsim) on the same link, over
//    FrameSocket (examples/device-app/lin/frame-socket.ts: a datagram wakes it, as a MAC's
//    interrupt), measured by run.sh --versus beside lwIP right after the Node device mode; one
//    table puts lwIP, the Node device mode and xsnet on XS side by side. Then, in a small run of
//    its own (--sdk-udp-bytes), the same app over Moddable's own embedded:io/socket/udp, whose
//    lin class reads one datagram per 20 ms task. Skipped, with a line saying why, without a
//    built Moddable SDK or xvfb-run.
// --docs writes the tables into docs/BENCHMARKS.md (section versus; with --ping-floor, section
// ping-floor; the three devices, section versus-xs). Needs root, ip netns and /dev/net/tun
// (run.sh's own requirements). Node-only.

import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError } from "commander";
import { runNote, writeDocsSection } from "./docs";
import { buildDeviceApp, mcsimArgs, mcsimSkipReason } from "../host-sim/mcsim";

const REPO = fileURLToPath(new URL("..", import.meta.url));
// ../shared beside the repository (a worktree one level deeper, as /work/wt/NAME, finds ../../shared)
const ANCHOR = [join(REPO, "..", "shared", "anchors", "lwip"), join(REPO, "..", "..", "shared", "anchors", "lwip")].find((d) => existsSync(join(d, "run.sh"))) ??
  join(REPO, "..", "shared", "anchors", "lwip");
const RUN_SH = join(ANCHOR, "run.sh");
if (!existsSync(RUN_SH)) {
  console.error(`bench/versus.ts: no lwIP anchor at ${RUN_SH} (../shared/anchors/lwip beside the repository)`);
  process.exit(2);
}

function positive(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got '${text}'`);
  return n;
}

const opts = new Command()
  .name("bench/versus.ts")
  .option("--runs <n>", "rounds of run.sh --versus on the clean link", positive, 5)
  .option("--bytes <n>", "bytes per discard/chargen run on the clean link", positive, 20_000_000)
  .option("--echo-bytes <n>", "bytes echoed on the clean link", positive, 5_000_000)
  .option("--lossy-runs <n>", "rounds on the lossy link", positive, 2)
  .option("--lossy-bytes <n>", "bytes per discard/chargen run on the lossy link", positive, 3_000_000)
  .option("--lossy-echo-bytes <n>", "bytes echoed on the lossy link", positive, 300_000)
  .option("--seed <n>", "the relay's seed", positive, 7)
  .option("--clean-only", "only the clean link")
  .option("--lossy-only", "only the lossy link")
  .option("--big-ping-only", "only the 65,000-byte pings through the lossy relay")
  .option("--ping-floor", "only ping on the clean link (20 x -i 0.05 as run.sh, --runs rounds): lwIP, the least a Node program does to answer (bench/ping-floor-device.ts), and the device")
  .option("--xs-only", "only the clean link's three devices: lwIP, the Node device mode and xsnet on XS (the device app in Moddable's simulator)")
  .option("--no-xs", "leave xsnet on XS out of the clean link")
  .option("--sdk-udp-bytes <n>", "bytes per discard/chargen run of the app over Moddable's own UDP class (echo: a third of it); 0: not run", (t) => (t === "0" ? 0 : positive(t)), 300_000)
  .option("--docs", "write the tables into docs/BENCHMARKS.md")
  .parse()
  .opts<{ runs: number; bytes: number; echoBytes: number; lossyRuns: number; lossyBytes: number; lossyEchoBytes: number; seed: number; cleanOnly?: boolean; lossyOnly?: boolean; bigPingOnly?: boolean; pingFloor?: boolean; xsOnly?: boolean; xs: boolean; sdkUdpBytes: number; docs?: boolean }>();

const NODE = process.execPath;
// The device runs from dist/cli.mjs (the same code, bundled): under tsx every packet's
// latency grows by about a tenth of a millisecond.
if (process.env.XSNET_DEVICE === undefined) execFileSync("npx", ["rollup", "-c", "rollup.cli.config.mjs", "--silent"], { cwd: REPO, stdio: "inherit" });
const DEVICE = process.env.XSNET_DEVICE ?? `${NODE} dist/cli.mjs`;
/** the relay sits on the device's ports; the device moves to these */
const DEV_LOCAL = 9301;
const RELAY_DEV = 9311;
const RELAY = `${NODE} --import tsx host-sim/relay-cli.ts --socat {LOCAL}:{REMOTE} --device ${RELAY_DEV}:${DEV_LOCAL} --seed ${opts.seed} ` +
  "--loss 0.05 --reorder 0.05 --hold-ms 5 --dup 0.01";

interface Versus {
  /** the summary table as printed */
  table: string[];
  /** "versus lwIP: …" */
  last: string;
  /** figure -> [lwIP, other] medians */
  figures: Map<string, [string, string]>;
  ok: boolean;
}

/** run.sh --versus CMD, streamed to the console, its summary parsed. */
function runVersus(cmd: string, runs: number, bytes: number, echoBytes: number): Promise<Versus> {
  return new Promise((resolve, reject) => {
    const args = [RUN_SH, "--versus", cmd, "--versus-dir", REPO, "--runs", String(runs), "--bytes", String(bytes), "--echo-bytes", String(echoBytes)];
    console.log(`$ bash ${args.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(" ")}`);
    const child = spawn("bash", args, { cwd: REPO, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      process.stdout.write(d);
      out += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const lines = out.split("\n");
      const start = lines.findIndex((l) => l.startsWith("==== versus summary"));
      const last = lines.find((l) => l.startsWith("versus lwIP:")) ?? "";
      const table = start >= 0 ? lines.slice(start, lines.indexOf(last) + 1).filter((l) => l.length > 0) : [];
      const figures = new Map<string, [string, string]>();
      for (const l of table) {
        const m = /^(\S.*?\))\s{2,}(\S+ \[[^\]]*\])\s+(\S+ \[[^\]]*\])/.exec(l);
        if (m) figures.set(m[1], [m[2], m[3]]);
      }
      resolve({ table, last, figures, ok: code === 0 && last !== "" });
    });
  });
}

interface PingResult {
  sent: number;
  received: number;
  /** round-trip times in ms (NaN without replies) */
  avg: number;
  min: number;
  note: string;
}

/**
 * Pings to a device on a fresh namespace and socat link, through the lossy relay or
 * straight: replies out of `count`, and their times.
 */
function pingDevice(deviceCmd: string, o: { relay: boolean; size: number; count: number; interval: number }): PingResult {
  const ns = `xsv${process.pid % 10000}`;
  const work = mkdtempSync(join(tmpdir(), "xsnet-versus-"));
  const pids: number[] = [];
  const sh = (cmd: string): string => execFileSync("sh", ["-c", cmd], { encoding: "utf8" });
  try {
    sh(`ip netns add ${ns} && ip netns exec ${ns} ip link set lo up && ip netns exec ${ns} sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1`);
    const start = (cmd: string, log: string): void => {
      const p = spawn("ip", ["netns", "exec", ns, "sh", "-c", `cd '${REPO}' && exec ${cmd}`], { stdio: ["ignore", "ignore", "ignore"], detached: true });
      pids.push(p.pid as number);
      writeFileSync(join(work, log), cmd);
    };
    start("socat TUN:169.254.77.1/24,tun-type=tap,tun-name=xt0,iff-no-pi,iff-up UDP-DATAGRAM:127.0.0.1:9201,bind=127.0.0.1:9200", "socat.cmd");
    if (o.relay) start(RELAY.replace("{LOCAL}", "9201").replace("{REMOTE}", "9200"), "relay.cmd");
    start(deviceCmd, "device.cmd");
    let up = false;
    for (let i = 0; i < 150 && !up; i++) {
      up = spawnSync("ip", ["netns", "exec", ns, "ping", "-c", "1", "-W", "1", "169.254.77.2"]).status === 0;
    }
    if (!up) return { sent: o.count, received: 0, avg: NaN, min: NaN, note: "device did not answer a small ping" };
    const r = spawnSync("ip", ["netns", "exec", ns, "ping", "-q", "-s", String(o.size), "-c", String(o.count), "-i", String(o.interval), "-W", "5", "169.254.77.2"], { encoding: "utf8" });
    const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
    const t = /= ([\d.]+)\/([\d.]+)\//.exec(r.stdout);
    const [min, avg] = t ? [Number(t[1]), Number(t[2])] : [NaN, NaN];
    return m ? { sent: Number(m[1]), received: Number(m[2]), avg, min, note: "" } : { sent: o.count, received: 0, avg, min, note: r.stdout.trim().split("\n").pop() ?? "" };
  } finally {
    for (const pid of pids.reverse()) {
      try {
        process.kill(-pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
    spawnSync("sleep", ["1"]);
    for (const pid of pids) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    spawnSync("ip", ["netns", "del", ns]);
    rmSync(work, { recursive: true, force: true });
  }
}

/** A 65,000-byte ping through the lossy relay to a device: replies out of `count`. */
function bigPing(deviceCmd: string, count: number): PingResult {
  // 45 fragments each way: at 5 % loss a request and its reply both arrive whole about one
  // time in a hundred, hence hundreds of tries.
  return pingDevice(deviceCmd, { relay: true, size: 65000, count, interval: 0.2 });
}

/** lwip-udpdev built the way run.sh builds it (run.sh has installed liblwip-dev by then). */
function buildLwip(): string {
  const out = join(mkdtempSync(join(tmpdir(), "xsnet-lwip-")), "lwip-udpdev");
  execFileSync("gcc", ["-O2", "-I/usr/include/lwip", "-o", out, join(ANCHOR, "lwip-udpdev.c"), "-llwip", "-lpthread"]);
  return out;
}

function num(s: string | undefined): number {
  return s === undefined ? NaN : Number(s.split(" ")[0]);
}

const sections: string[] = [];
/** the three devices' section (versus-xs) */
const xsSections: string[] = [];

/** The figures of run.sh's table that the three-device table shows. */
const XS_FIGURES = [
  "ping avg (ms)", "ping min (ms)", "discard (MB/s)", "chargen (MB/s)", "echo (MB/s each way)",
  "device CPU in discard (ms/MB)", "device CPU in chargen (ms/MB)",
];

function ratioOf(a: string | undefined, b: string | undefined): string {
  const x = num(a);
  const y = num(b);
  return Number.isFinite(x) && Number.isFinite(y) && x > 0 ? `${(y / x).toFixed(2)}x` : "-";
}

/**
 * xsnet on XS beside lwIP and the Node device mode: the device app built for lin (release)
 * and run in mcsim over FrameSocket, measured by run.sh --versus right after the Node device's
 * run `node`; then the app over Moddable's own UDP class in a small run of its own.
 */
async function versusXs(node: Versus): Promise<void> {
  const skip = mcsimSkipReason();
  if (skip !== null) {
    console.log(`xsnet on XS (Moddable's simulator): skipped: ${skip}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "xsnet-versus-mcsim-"));
  try {
    // run.sh's link: the device binds {LOCAL} 9201 and sends to socat's {REMOTE} 9200, at {IP}
    // 169.254.77.2/24 (examples/device-app/manifest.json's lin defaults, given here all the same).
    const config = { link: "udp:9201:9200", ip: "169.254.77.2/24" };
    console.log("building the device app for lin (mcconfig -m -p lin, release; FrameSocket, then Moddable's UDP class)...");
    const frames = await buildDeviceApp({ outDir: dir, name: "xsnet-frames", config: { ...config, socket: "frames" } });
    const sdk = opts.sdkUdpBytes > 0 ? await buildDeviceApp({ outDir: dir, name: "xsnet-moddable", config: { ...config, socket: "moddable" } }) : null;
    const xs = await runVersus(mcsimArgs(frames.mcSo).join(" "), opts.runs, opts.bytes, opts.echoBytes);
    const sdkBytes = opts.sdkUdpBytes;
    const sdkEcho = Math.max(1000, Math.round(sdkBytes / 3));
    const slow = sdk !== null ? await runVersus(mcsimArgs(sdk.mcSo).join(" "), 1, sdkBytes, sdkEcho) : null;
    const rows: string[] = [];
    for (const name of XS_FIGURES) {
      const lwNode = node.figures.get(name)?.[0];
      const nodeDev = node.figures.get(name)?.[1];
      const lwXs = xs.figures.get(name)?.[0];
      const xsDev = xs.figures.get(name)?.[1];
      const sdkDev = slow?.figures.get(name)?.[1];
      rows.push(`| ${name} | ${lwNode ?? "-"} | ${nodeDev ?? "-"} | ${ratioOf(lwNode, nodeDev)} | ${lwXs ?? "-"} | ${xsDev ?? "-"} | ${ratioOf(lwXs, xsDev)} |` +
        ` ${sdkDev ?? "-"} |`);
    }
    if (node.figures.size === 0 || xs.figures.size === 0) {
      console.log("xsnet on XS: run.sh printed no summary for one of the runs (see its output above); no table");
      return;
    }
    /** run.sh's integrity row of a run: [lwIP's, the device's] ("chargen / echo ok") */
    const integrity = (v: Versus | null): [string, string] => {
      const cells = (v?.table.find((l) => l.startsWith("integrity:")) ?? "").split(/\s{2,}/);
      return [cells[1] ?? "-", cells[2] ?? "-"];
    };
    const [lwN, nodeI] = integrity(node);
    const [lwX, xsI] = integrity(xs);
    const head = [
      `Clean link, three devices, ${opts.runs} round${opts.runs === 1 ? "" : "s"} of ${opts.bytes / 1e6} MB (echo ${opts.echoBytes / 1e6} MB) each, ` +
        `median [min-max], \`sudo npm run bench:versus -- --xs-only --runs ${opts.runs} --bytes ${opts.bytes} --echo-bytes ${opts.echoBytes} --sdk-udp-bytes ${sdkBytes}\`: ` +
        "run.sh --versus with the Node device mode (`dist/cli.mjs`), then again with xsnet on XS (the device app built for lin by mcconfig, release, " +
        "in Moddable's simulator over FrameSocket), each beside its own lwIP rounds; ratios are device/lwIP (ping and CPU: lower is better). " +
        `Last column: the app over Moddable's own \`embedded:io/socket/udp\` (one datagram per 20 ms task), one round of ${sdkBytes / 1e6} MB ` +
        `(echo ${sdkEcho / 1e6} MB). Device CPU counts every process of the device's group (mcsim with xvfb-run and its idle Xvfb). ${runNote()}, ` +
        `load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} at the end.`,
      "",
      "| figure | lwIP | Node device mode | Node/lwIP | lwIP | xsnet on XS (mcsim) | XS/lwIP | XS over Moddable's UDP |",
      "|---|---|---|---|---|---|---|---|",
    ];
    const tail = [`| integrity: chargen / echo ok | ${lwN} | ${nodeI} | | ${lwX} | ${xsI} | | ${integrity(slow)[1]} |`];
    console.log("");
    for (const line of [...head, ...rows, ...tail]) console.log(line);
    xsSections.push(...head, ...rows, ...tail);
    if (!node.ok || !xs.ok || (slow !== null && !slow.ok)) xsSections.push("", "(run.sh reported a failure in one of the runs: see its FAIL lines)");
    xsSections.push("", "run.sh's own tables, the Node device mode's run, then xsnet on XS:", "", "```", ...node.table, "", ...xs.table);
    if (slow !== null) xsSections.push("", ...slow.table);
    xsSections.push("```");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  return v.length % 2 === 1 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

if (opts.pingFloor) {
  const lwip = buildLwip();
  const devices: [string, string][] = [
    ["lwIP", `${lwip} --local 9201 --remote 9200 --ip 169.254.77.2/24`],
    ["Node, answering ping only", `${NODE} dist/ping-floor-device.mjs 9201 9200 169.254.77.2`],
    ["xsnet device", `${DEVICE} --link udp:9201:9200 --ip 169.254.77.2/24`],
  ];
  const avg = devices.map(() => [] as number[]);
  const min = devices.map(() => [] as number[]);
  for (let round = 1; round <= opts.runs; round++) {
    devices.forEach(([name, cmd], k) => {
      const p = pingDevice(cmd, { relay: false, size: 56, count: 20, interval: 0.05 });
      console.log(`round ${round} ${name}: ${p.received} of ${p.sent} answered, avg ${p.avg} ms, min ${p.min} ms ${p.note}`);
      avg[k].push(p.avg);
      min[k].push(p.min);
    });
  }
  const lwAvg = median(avg[0]);
  const rows = devices.map(([name], k) =>
    `| ${name} | ${median(avg[k]).toFixed(3)} | ${median(min[k]).toFixed(3)} | ${(median(avg[k]) / lwAvg).toFixed(2)}x |`);
  const head = [
    `Ping alone, ${opts.runs} rounds of 20 pings at 0.05 s as run.sh sends them, medians, ` +
      `\`sudo npm run bench:versus -- --ping-floor --runs ${opts.runs}\`: lwIP, a Node program that does nothing but ` +
      "answer ping on the same link (`bench/ping-floor-device.ts`: ARP and ICMP echo rewritten in place, sent with " +
      "write(2)), and the device:",
    "",
    "| device | ping avg (ms) | ping min (ms) | avg / lwIP |",
    "|---|---|---|---|",
  ];
  console.log("");
  for (const line of [...head, ...rows]) console.log(line);
  sections.push(...head, ...rows);
} else if (!opts.lossyOnly && !opts.bigPingOnly) {
  const v = await runVersus(`${DEVICE} --link udp:{LOCAL}:{REMOTE} --ip {IP}/{PREFIX}`, opts.runs, opts.bytes, opts.echoBytes);
  if (!opts.xsOnly) {
    sections.push(
      `Clean link, ${opts.runs} rounds of ${opts.bytes / 1e6} MB (echo ${opts.echoBytes / 1e6} MB), ` +
        `\`sudo npm run bench:versus -- --runs ${opts.runs} --bytes ${opts.bytes} --echo-bytes ${opts.echoBytes} --clean-only\`:`,
      "",
      "```",
      ...v.table,
      "```",
    );
    if (!v.ok) sections.push("", "(run.sh reported a failure: see the FAIL lines above)");
  }
  if (opts.xs || opts.xsOnly) await versusXs(v);
}

if (opts.bigPingOnly) {
  const lwip = existsSync("/usr/include/lwip/lwipopts.h") ? buildLwip() : "";
  for (const [name, cmd] of [["lwIP", `${lwip} --local ${DEV_LOCAL} --remote ${RELAY_DEV} --ip 169.254.77.2/24`], ["xsnet", `${DEVICE} --link udp:${DEV_LOCAL}:${RELAY_DEV} --ip 169.254.77.2/24`]]) {
    if (name === "lwIP" && lwip === "") continue;
    const p = bigPing(cmd, 300);
    console.log(`65,000-byte ping through the lossy relay (seed ${opts.seed}), ${name}: ${p.received} of ${p.sent} answered ${p.note}`);
  }
} else if (!opts.cleanOnly && !opts.pingFloor && !opts.xsOnly) {
  const lw = await runVersus(`sh -c '${RELAY} & exec {LWIP_BIN} --local ${DEV_LOCAL} --remote ${RELAY_DEV} --ip {IP}/{PREFIX}'`, opts.lossyRuns, opts.lossyBytes, opts.lossyEchoBytes);
  const xs = await runVersus(`sh -c '${RELAY} & exec ${DEVICE} --link udp:${DEV_LOCAL}:${RELAY_DEV} --ip {IP}/{PREFIX}'`, opts.lossyRuns, opts.lossyBytes, opts.lossyEchoBytes);
  const lwip = existsSync("/usr/include/lwip/lwipopts.h") ? buildLwip() : "";
  const pingLw = lwip !== "" ? bigPing(`${lwip} --local ${DEV_LOCAL} --remote ${RELAY_DEV} --ip 169.254.77.2/24`, 300) : { sent: 0, received: 0, avg: NaN, min: NaN, note: "no lwIP build" };
  const pingXs = bigPing(`${DEVICE} --link udp:${DEV_LOCAL}:${RELAY_DEV} --ip 169.254.77.2/24`, 300);
  const rows: string[] = [];
  for (const name of ["discard (MB/s)", "chargen (MB/s)", "echo (MB/s each way)", "ping avg (ms)"]) {
    const a = lw.figures.get(name)?.[1];
    const b = xs.figures.get(name)?.[1];
    const ratio = name.startsWith("ping") ? num(a) / num(b) : num(b) / num(a);
    rows.push(`| ${name} | ${a ?? "-"} | ${b ?? "-"} | ${Number.isFinite(ratio) ? `${ratio.toFixed(1)}x` : "-"} |`);
  }
  rows.push(`| 65,000-byte ping answered | ${pingLw.received} of ${pingLw.sent}${pingLw.note ? ` (${pingLw.note})` : ""} | ${pingXs.received} of ${pingXs.sent}${pingXs.note ? ` (${pingXs.note})` : ""} | |`);
  console.log("");
  console.log(`lossy link (relay seed ${opts.seed}: 5 % loss, 5 % reordering held 5 ms, 1 % duplication, each way), ` +
    `${opts.lossyRuns} rounds of ${opts.lossyBytes / 1e6} MB, median [min-max]:`);
  console.log("| figure | lwIP | xsnet | xsnet/lwIP (ping: lwIP/xsnet) |");
  console.log("|---|---|---|---|");
  for (const r of rows) console.log(r);
  sections.push(
    "",
    `Lossy link: both devices behind the seeded relay (seed ${opts.seed}: 5 % loss, 5 % reordering held 5 ms, 1 % duplication, ` +
      `each way), ${opts.lossyRuns} rounds of ${opts.lossyBytes / 1e6} MB (echo ${opts.lossyEchoBytes / 1e6} MB), median [min-max], ` +
      `\`sudo npm run bench:versus -- --lossy-only --lossy-runs ${opts.lossyRuns} --lossy-bytes ${opts.lossyBytes} --lossy-echo-bytes ${opts.lossyEchoBytes}\`:`,
    "",
    "| figure | lwIP | xsnet | xsnet/lwIP (ping: lwIP/xsnet) |",
    "|---|---|---|---|",
    ...rows,
  );
}

if (opts.docs && sections.length > 0) writeDocsSection(opts.pingFloor ? "ping-floor" : "versus", sections);
if (opts.docs && xsSections.length > 0) writeDocsSection("versus-xs", xsSections);
