// Shared set-up of the Linux interop tests: a network namespace the test creates and
// deletes, socat's TAP <-> UDP bridge in it, optionally the fault-injecting relay
// (host-sim/relay-cli.ts) between socat and the device, and the device itself
// (host-sim/cli.ts --link). Everything runs inside the namespace: its loopback carries the
// UDP link, the TAP has 169.254.0.0/16 addresses only, and each process is ended by the pid
// we started (ip netns exec execs into the program, so that pid is the program's own).
//
// Also: stream checkers for the byte patterns the tests move (i % 251, RFC 864 chargen, a
// seeded stream) and a streaming runner that feeds a command's stdin and checks its stdout
// without holding megabytes in memory.

import { spawn, spawnSync, execFile, type ChildProcess } from "node:child_process";
import { accessSync, constants, existsSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Prng } from "../../host-sim/sim/prng";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const SCAPY_DIR = join(REPO, "test/linux/scapy");
/** Debian's python3 (python3-scapy is importable from it only) */
export const SYSTEM_PYTHON = "/usr/bin/python3";
/** host-sim/device.ts DEFAULT_DEVICE_MAC */
export const DEVICE_MAC = "02:78:73:6e:65:74";

export function inPath(cmd: string): boolean {
  if (cmd.includes("/")) {
    try {
      accessSync(cmd, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** Why these tests cannot run here (one line), or null. `scapy`: python3-scapy needed too. */
export function linuxSkipReason(tools: string[], opts: { scapy?: boolean } = {}): string | null {
  if (process.platform !== "linux") return "not Linux";
  if (process.getuid?.() !== 0) return "not root (network namespaces and TAP need it)";
  if (!existsSync("/dev/net/tun")) return "no /dev/net/tun";
  const missing = tools.filter((c) => !inPath(c));
  // OpenBSD's nc (-N: shut down the write side at end of input; -d: no stdin)
  if (tools.includes("nc") && !missing.includes("nc")) {
    const r = spawnSync("nc", ["-h"], { encoding: "utf8", timeout: 5000 });
    if (!`${r.stdout}${r.stderr}`.includes("OpenBSD")) missing.push("OpenBSD nc (netcat-openbsd)");
  }
  if (opts.scapy === true) {
    if (!inPath(SYSTEM_PYTHON)) missing.push(`${SYSTEM_PYTHON} (python3-scapy)`);
    else if (!existsSync("/usr/lib/python3/dist-packages/scapy")) missing.push("python3-scapy");
  }
  return missing.length > 0 ? `missing ${missing.join(", ")}` : null;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run a command to completion within timeoutMs (then SIGKILL to that pid); never throws. */
export function run(cmd: string, args: string[], timeoutMs: number): Promise<RunResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 64 << 20, cwd: REPO }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : null;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err !== null && code === null ? `\n${err.message}` : ""), ms: Date.now() - t0 });
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A process we started in a namespace. */
export class Started {
  readonly child: ChildProcess;
  readonly label: string;
  output = "";
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  readonly exited: Promise<void>;

  constructor(ns: string, args: string[], label = args[0]) {
    this.label = label;
    this.child = spawn("ip", ["netns", "exec", ns, ...args], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout?.on("data", (b: Buffer) => (this.output += b.toString()));
    this.child.stderr?.on("data", (b: Buffer) => (this.output += b.toString()));
    this.exited = new Promise((resolve) => {
      this.child.on("close", (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        resolve();
      });
      this.child.on("error", (err) => {
        this.output += `\nspawn error: ${err.message}`;
        resolve();
      });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined;
  }

  /** Wait for `text` (or a match) in the output, at most timeoutMs; false if it exited or time ran out. */
  async waitFor(text: string | RegExp, timeoutMs: number): Promise<boolean> {
    const has = (): boolean => (typeof text === "string" ? this.output.includes(text) : text.test(this.output));
    const end = Date.now() + timeoutMs;
    while (!has()) {
      if (!this.running || Date.now() > end) return has();
      await sleep(50);
    }
    return true;
  }

  /** Wait for exit at most timeoutMs; true when it exited. */
  async waitExit(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const done = await Promise.race([this.exited.then(() => true), timeout]);
    clearTimeout(timer);
    return done;
  }

  /** A signal to our own pid (only while it runs). */
  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  /** SIGTERM, then SIGKILL after graceMs, by our own pid only. */
  async end(graceMs = 3000): Promise<void> {
    if (!this.running) return;
    this.child.kill("SIGTERM");
    if (await this.waitExit(graceMs)) return;
    this.child.kill("SIGKILL");
    await this.waitExit(graceMs);
  }
}

/** A network namespace of our own. */
export class Netns {
  readonly name: string;
  made = false;
  readonly started: Started[] = [];

  constructor(tag: string) {
    this.name = `xsnet-${tag}${process.pid}`;
  }

  /** If the test process exits without destroy() (a crash, an uncaught error): our pids, then the namespace. */
  readonly #onExit = (): void => {
    for (const p of this.started) if (p.running) p.child.kill("SIGKILL");
    if (this.made) spawnSync("ip", ["netns", "del", this.name], { timeout: 5000 });
  };

  async create(): Promise<void> {
    const add = await run("ip", ["netns", "add", this.name], 5000);
    if (add.code !== 0) throw new Error(`ip netns add ${this.name}: ${add.stderr}`);
    this.made = true;
    process.once("exit", this.#onExit);
    const lo = await this.run(["ip", "link", "set", "lo", "up"], 5000);
    if (lo.code !== 0) throw new Error(`lo up in ${this.name}: ${lo.stderr}`);
  }

  run(args: string[], timeoutMs: number): Promise<RunResult> {
    return run("ip", ["netns", "exec", this.name, ...args], timeoutMs);
  }

  /** Start a long-running process in the namespace; ended by destroy() if still running. */
  start(args: string[], label?: string): Started {
    const p = new Started(this.name, args, label);
    this.started.push(p);
    return p;
  }

  /** The last value of a /proc/net/snmp counter in the namespace (e.g. "Udp", "RcvbufErrors"). */
  async snmp(group: string, field: string): Promise<number> {
    const r = await this.run(["cat", "/proc/net/snmp"], 5000);
    const lines = r.stdout.split("\n").filter((l) => l.startsWith(`${group}:`));
    if (lines.length < 2) return NaN;
    const names = lines[0].split(/\s+/);
    const values = lines[1].split(/\s+/);
    const i = names.indexOf(field);
    return i < 0 ? NaN : Number(values[i]);
  }

  /** End what we started (reverse order, by pid), anything else still in it, then delete it. */
  async destroy(): Promise<string> {
    let note = "";
    for (const p of this.started.slice().reverse()) await p.end();
    if (this.made) {
      // Processes still inside our namespace were started by us (a tool's child that
      // outlived it): named, then ended by pid.
      const left = (await run("ip", ["netns", "pids", this.name], 5000)).stdout.split(/\s+/).filter((s) => /^\d+$/.test(s));
      if (left.length > 0) {
        note = `processes left in ${this.name}: ${left.join(" ")}`;
        for (const pid of left) {
          try {
            process.kill(Number(pid), "SIGTERM");
          } catch {
            // gone already
          }
        }
        await sleep(500);
        for (const pid of left) {
          try {
            process.kill(Number(pid), "SIGKILL");
          } catch {
            // gone
          }
        }
      }
      await run("ip", ["netns", "del", this.name], 5000);
      this.made = false;
      process.off("exit", this.#onExit);
    }
    return note;
  }
}

/**
 * chronyd of our own in the namespace, serving its clock at `addr`: its files in `dir`, no
 * command socket elsewhere, -x (the system clock is never adjusted), -u root (no switch to
 * _chrony, who cannot read `dir`). Ended with the namespace (by pid).
 */
export function startChronyd(ns: Netns, dir: string, addr: string): Started {
  const conf = join(dir, "chrony.conf");
  writeFileSync(conf, [
    "local stratum 8", "allow 169.254.0.0/16", `bindaddress ${addr}`, "port 123", "cmdport 0",
    `bindcmdaddress ${join(dir, "chronyd.sock")}`, `pidfile ${join(dir, "chronyd.pid")}`, `driftfile ${join(dir, "chrony.drift")}`, "",
  ].join("\n"));
  return ns.start(["chronyd", "-d", "-x", "-u", "root", "-f", conf], "chronyd");
}

export interface LinkOptions {
  /** namespace tag (short: it is part of the namespace name) */
  tag: string;
  tap?: string;
  linuxAddr?: string;
  deviceAddr?: string;
  prefix?: number;
  /** put the relay between socat and the device with these settings */
  relay?: { seed: number; loss?: number; reorder?: number; holdMs?: number; dup?: number; corrupt?: number };
  /** IPv6 off on the TAP (no router solicitations or MLD in the counters) */
  noIpv6?: boolean;
}

// The namespace has its own loopback, so fixed ports cannot collide with the host's.
export const PORT_DEVICE = 47001;
export const PORT_SOCAT = 47002;
export const PORT_RELAY_SOCAT = 47003;
export const PORT_RELAY_DEVICE = 47004;

/** A namespace with socat's TAP, maybe the relay, and the device when started. */
export class DeviceLink {
  readonly ns: Netns;
  readonly tap: string;
  readonly linuxAddr: string;
  readonly deviceAddr: string;
  readonly prefix: number;
  readonly options: LinkOptions;
  socat: Started | null = null;
  relay: Started | null = null;
  device: Started | null = null;
  tapMac = "";

  constructor(options: LinkOptions) {
    this.options = options;
    this.ns = new Netns(options.tag);
    this.tap = options.tap ?? "xt0";
    this.linuxAddr = options.linuxAddr ?? "169.254.77.1";
    this.deviceAddr = options.deviceAddr ?? "169.254.77.2";
    this.prefix = options.prefix ?? 24;
  }

  /** The device's --link LOCAL:REMOTE */
  get deviceLinkSpec(): string {
    return `udp:${PORT_DEVICE}:${this.options.relay ? PORT_RELAY_DEVICE : PORT_SOCAT}`;
  }

  async up(): Promise<void> {
    await this.ns.create();
    if (this.options.noIpv6 === true) {
      await this.ns.run(["sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1"], 5000);
      await this.ns.run(["sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1"], 5000);
    }
    const target = this.options.relay ? PORT_RELAY_SOCAT : PORT_DEVICE;
    this.socat = this.ns.start([
      "socat",
      `TUN:${this.linuxAddr}/${this.prefix},tun-type=tap,tun-name=${this.tap},iff-no-pi,iff-up`,
      `UDP-DATAGRAM:127.0.0.1:${target},bind=127.0.0.1:${PORT_SOCAT}`,
    ], "socat");
    let tapUp = false;
    for (let i = 0; i < 100 && !tapUp && this.socat.running; i++) {
      tapUp = (await this.ns.run(["ip", "link", "show", this.tap], 2000)).code === 0;
      if (!tapUp) await sleep(50);
    }
    if (!tapUp) throw new Error(`socat did not make ${this.tap}: ${this.socat.output}`);
    this.tapMac = (await this.ns.run(["cat", `/sys/class/net/${this.tap}/address`], 2000)).stdout.trim();
    const r = this.options.relay;
    if (r !== undefined) {
      this.relay = this.ns.start([
        process.execPath, "--import", "tsx", join(REPO, "host-sim/relay-cli.ts"),
        "--socat", `${PORT_RELAY_SOCAT}:${PORT_SOCAT}`, "--device", `${PORT_RELAY_DEVICE}:${PORT_DEVICE}`,
        "--seed", String(r.seed), "--loss", String(r.loss ?? 0), "--reorder", String(r.reorder ?? 0),
        "--hold-ms", String(r.holdMs ?? 5), "--dup", String(r.dup ?? 0), "--corrupt", String(r.corrupt ?? 0),
      ], "relay");
      if (!(await this.relay.waitFor("xsnet relay up", 30_000))) throw new Error(`relay did not come up:\n${this.relay.output}`);
    }
  }

  /** Start the device (host-sim/cli.ts --link ...), wait for its start line; extra args appended (--ip unless they say --dhcp). */
  async startDevice(extra: string[] = [], waitUp = true): Promise<Started> {
    // `npm start -- --link ...` without npm in between, so the pid we signal is node's.
    const d = this.ns.start([
      process.execPath, "--import", "tsx", join(REPO, "host-sim/cli.ts"),
      "--link", this.deviceLinkSpec, ...(extra.includes("--dhcp") ? [] : ["--ip", `${this.deviceAddr}/${this.prefix}`]), ...extra,
    ], "device");
    this.device = d;
    if (waitUp && !(await d.waitFor("xsnet device up: eth0", 30_000))) throw new Error(`device did not come up:\n${d.output}`);
    return d;
  }

  /** SIGTERM to the device; its parsed summary (throws with its output if it did not exit). */
  async stopDevice(timeoutMs = 15_000): Promise<DeviceReport> {
    const d = this.device;
    if (d === null) throw new Error("no device started");
    d.signal("SIGTERM");
    if (!(await d.waitExit(timeoutMs))) throw new Error(`device did not exit on SIGTERM:\n${d.output}`);
    return parseDeviceReport(d.output, d.exitCode);
  }

  /** The relay's counters now (SIGUSR1), both directions. */
  async relayCounters(): Promise<{ toDevice: Record<string, number>; toLinux: Record<string, number> }> {
    const r = this.relay;
    if (r === null) throw new Error("no relay");
    const mark = r.output.length;
    r.signal("SIGUSR1");
    const end = Date.now() + 5000;
    while (Date.now() < end && !/relay socket_errors=/.test(r.output.slice(mark))) await sleep(20);
    return parseRelayReport(r.output.slice(mark));
  }

  async down(): Promise<string> {
    return this.ns.destroy();
  }
}

export function parseRelayReport(text: string): { toDevice: Record<string, number>; toLinux: Record<string, number> } {
  const grab = (name: string): Record<string, number> => {
    const lines = text.split("\n").filter((l) => l.startsWith(`relay ${name}:`));
    const out: Record<string, number> = {};
    const last = lines[lines.length - 1] ?? "";
    for (const m of last.matchAll(/([a-z_]+)=(\d+)/g)) out[m[1]] = Number(m[2]);
    return out;
  };
  return { toDevice: grab("linux->device"), toLinux: grab("device->linux") };
}

/** What the device printed at exit, by line label ("eth0", "drops", "ip", "tcp", ...). */
export interface DeviceReport {
  exitCode: number | null;
  groups: Record<string, Record<string, number>>;
  poolFull: boolean;
  output: string;
}

/** Parse "label: k=v k=v" lines after "xsnet device stopped" (every label the device prints). */
export function parseDeviceReport(output: string, exitCode: number | null): DeviceReport {
  const at = output.lastIndexOf("xsnet device stopped");
  const tail = at >= 0 ? output.slice(at) : "";
  const groups: Record<string, Record<string, number>> = {};
  for (const line of tail.split("\n")) {
    const m = /^([A-Za-z0-9_ -]+?): (.*)$/.exec(line.trim());
    if (!m) continue;
    const g = (groups[m[1]] ??= {});
    for (const kv of m[2].matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(-?\d+)/g)) g[kv[1]] = Number(kv[2]);
  }
  return { exitCode, groups, poolFull: tail.includes("pool: full again"), output };
}

/** A counter of the report: group.name, 0 when the device did not print it. */
export function counter(r: DeviceReport, group: string, name: string): number {
  return r.groups[group]?.[name] ?? 0;
}

// ------------------------------------------------------------------ byte patterns

/** Checks a stream position by position; remembers the first mismatch. */
export interface StreamCheck {
  readonly bytes: number;
  readonly mismatchAt: number;
  feed(chunk: Uint8Array): void;
}

/** byte i = i % 251 (the device's /bytes/N and its client mode) */
export class Mod251Check implements StreamCheck {
  bytes = 0;
  mismatchAt = -1;
  feed(chunk: Uint8Array): void {
    let v = this.bytes % 251;
    if (this.mismatchAt < 0) {
      for (let i = 0; i < chunk.length; i++) {
        if (chunk[i] !== v) {
          this.mismatchAt = this.bytes + i;
          break;
        }
        v = v === 250 ? 0 : v + 1;
      }
    }
    this.bytes += chunk.length;
  }
}

/** RFC 864 as lwip-udpdev.c generates it: line L is 72 characters 32 + (L + c) % 95, then CR LF. */
export function chargenByte(k: number): number {
  const line = Math.floor(k / 74) % 95;
  const col = k % 74;
  return col < 72 ? 32 + ((line + col) % 95) : col === 72 ? 13 : 10;
}

export class ChargenCheck implements StreamCheck {
  bytes = 0;
  mismatchAt = -1;
  feed(chunk: Uint8Array): void {
    if (this.mismatchAt < 0) {
      for (let i = 0; i < chunk.length; i++) {
        if (chunk[i] !== chargenByte(this.bytes + i)) {
          this.mismatchAt = this.bytes + i;
          break;
        }
      }
    }
    this.bytes += chunk.length;
  }
}

/** A seeded byte stream (xoshiro128**, 4 bytes a draw), to send and to check an echo with. */
export class SeededBytes {
  readonly #prng: Prng;
  #word = 0;
  #left = 0;
  produced = 0;
  constructor(seed: number) {
    this.#prng = new Prng(seed);
  }
  next(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (this.#left === 0) {
        this.#word = this.#prng.next32();
        this.#left = 4;
      }
      b[i] = this.#word & 0xff;
      this.#word >>>= 8;
      this.#left--;
    }
    this.produced += n;
    return b;
  }
}

export class SeededCheck implements StreamCheck {
  readonly #ref: SeededBytes;
  bytes = 0;
  mismatchAt = -1;
  constructor(seed: number) {
    this.#ref = new SeededBytes(seed);
  }
  feed(chunk: Uint8Array): void {
    const want = this.#ref.next(chunk.length);
    if (this.mismatchAt < 0) {
      for (let i = 0; i < chunk.length; i++) {
        if (chunk[i] !== want[i]) {
          this.mismatchAt = this.bytes + i;
          break;
        }
      }
    }
    this.bytes += chunk.length;
  }
}

export interface StreamResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  sent: number;
  received: number;
  mismatchAt: number;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

export interface StreamOptions {
  /** bytes to write to stdin, from `source` (then stdin is closed); 0: stdin closed at once */
  sendBytes?: number;
  source?: (n: number) => Uint8Array;
  /** what stdout must be */
  check?: StreamCheck;
  /** stop (SIGTERM to our pid) once this many bytes came out */
  readLimit?: number;
  timeoutMs: number;
}

/** Run a command in a namespace, feed its stdin, check its stdout as it streams. */
export function streamCommand(ns: string, args: string[], o: StreamOptions): Promise<StreamResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn("ip", ["netns", "exec", ns, ...args], { cwd: REPO, stdio: ["pipe", "pipe", "pipe"] });
    let sent = 0;
    let received = 0;
    let stderr = "";
    let timedOut = false;
    let limitHit = false;
    const total = o.sendBytes ?? 0;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, o.timeoutMs);
    child.stderr.on("data", (b: Buffer) => {
      if (stderr.length < 8192) stderr += b.toString();
    });
    child.stdout.on("data", (b: Buffer) => {
      if (limitHit) return;
      let chunk: Uint8Array = b;
      if (o.readLimit !== undefined && received + chunk.length >= o.readLimit) {
        chunk = chunk.subarray(0, o.readLimit - received);
        limitHit = true;
      }
      received += chunk.length;
      o.check?.feed(chunk);
      if (limitHit) child.kill("SIGTERM");
    });
    child.stdin.on("error", () => {
      // the command went away before reading everything: seen in `sent`
    });
    const pump = (): void => {
      while (sent < total) {
        const n = Math.min(65536, total - sent);
        const chunk = o.source ? o.source(n) : new Uint8Array(n);
        sent += n;
        if (!child.stdin.write(chunk)) {
          child.stdin.once("drain", pump);
          return;
        }
      }
      child.stdin.end();
    };
    pump();
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, sent, received, mismatchAt: o.check?.mismatchAt ?? -1, stderr, ms: Date.now() - t0, timedOut });
    });
  });
}

/** Frames of a capture that match a display filter (IPv4, TCP, UDP checksums validated). */
export async function tsharkCount(file: string, filter: string | null, extra: string[] = []): Promise<number> {
  const args = ["-n", "-r", file, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
    ...extra, "-T", "fields", "-e", "frame.number"];
  if (filter !== null) args.push("-Y", filter);
  const r = await run("tshark", args, 300_000);
  if (r.code !== 0) throw new Error(`tshark ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout.split("\n").filter((l) => l.trim() !== "").length;
}

/** Up to `max` lines of tshark's one-line summary of the frames matching a filter (for failure messages). */
export async function tsharkShow(file: string, filter: string, max = 20): Promise<string> {
  const r = await run("tshark", ["-n", "-r", file, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
    "-Y", filter, "-c", String(max)], 120_000);
  return r.stdout + r.stderr;
}

/** Run a python helper of test/linux/scapy in the namespace with Debian's python3. */
export function python(ns: Netns, script: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return ns.run([SYSTEM_PYTHON, join(SCAPY_DIR, script), ...args], timeoutMs);
}

/** The last JSON object a helper printed on its own line. */
export function lastJson(text: string): Record<string, unknown> | null {
  const lines = text.split("\n").filter((l) => l.trim().startsWith("{"));
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      return JSON.parse(lines[i]) as Record<string, unknown>;
    } catch {
      // not JSON
    }
  }
  return null;
}

/** Whether the device's CLI offers a flag (its --help mentions it). */
let helpText: string | null = null;
export async function deviceHelp(): Promise<string> {
  if (helpText === null) {
    const r = await run(process.execPath, ["--import", "tsx", join(REPO, "host-sim/cli.ts"), "--help"], 30_000);
    helpText = r.stdout + r.stderr;
  }
  return helpText;
}
