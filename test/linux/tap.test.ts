// Linux interop: the stack as a device on a TAP in a network namespace of its own, with
// the real kernel on the other side (socat carries frames between the TAP and the
// device's UDP link). Ping at 56, 1472, 4000 and 65000 bytes (the last fragmented both
// ways and reassembled by each side), arping, a clean shutdown with the pool full again,
// and tshark finds no malformed frame and no bad IPv4 or ICMP checksum in the capture.
// Needs root, /dev/net/tun, socat, ip, ping, arping, tshark; skipped (one line) otherwise.

import { spawn, execFile, type ChildProcess } from "node:child_process";
import { accessSync, constants, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const NS = `xsnet-t${process.pid}`;
const TAP = "xt0";
const LINUX_ADDR = "169.254.77.1";
const DEVICE_ADDR = "169.254.77.2";
// The namespace has its own loopback, so fixed ports cannot collide with the host's.
const PORT_STACK = 47001;
const PORT_SOCAT = 47002;

function inPath(cmd: string): boolean {
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

function whyNot(): string | null {
  if (process.platform !== "linux") return "not Linux";
  if (process.getuid?.() !== 0) return "not root (network namespaces and TAP need it)";
  if (!existsSync("/dev/net/tun")) return "no /dev/net/tun";
  const missing = ["socat", "ip", "ping", "arping", "tshark"].filter((c) => !inPath(c));
  return missing.length > 0 ? `missing ${missing.join(", ")}` : null;
}

const skipReason = whyNot();
if (skipReason !== null) console.log(`test/linux/tap.test.ts skipped: ${skipReason}`);

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a command to completion within timeoutMs (then SIGKILL); never throws. */
function run(cmd: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 16 << 20, cwd: REPO }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : null;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err !== null && code === null ? `\n${err.message}` : "") });
    });
  });
}

function nsRun(args: string[], timeoutMs: number): Promise<RunResult> {
  return run("ip", ["netns", "exec", NS, ...args], timeoutMs);
}

/** A process we started (ip netns exec execs into it, so this pid is the program's own). */
class Started {
  readonly child: ChildProcess;
  output = "";
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  readonly exited: Promise<void>;

  constructor(args: string[]) {
    this.child = spawn("ip", ["netns", "exec", NS, ...args], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
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

  /** Wait for `text` in the output, at most timeoutMs; false if it exited or time ran out. */
  async waitFor(text: string, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!this.output.includes(text)) {
      if (!this.running || Date.now() > end) return this.output.includes(text);
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

  /** SIGTERM, then SIGKILL after graceMs, by our own pid only. */
  async end(graceMs = 3000): Promise<void> {
    if (!this.running) return;
    this.child.kill("SIGTERM");
    if (await this.waitExit(graceMs)) return;
    this.child.kill("SIGKILL");
    await this.waitExit(graceMs);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Frames of a capture that match a display filter (IPv4 header checksums validated too). */
async function tsharkCount(file: string, filter: string | null): Promise<number> {
  const args = ["-n", "-r", file, "-o", "ip.check_checksum:TRUE", "-T", "fields", "-e", "frame.number"];
  if (filter !== null) args.push("-Y", filter);
  const r = await run("tshark", args, 20_000);
  if (r.code !== 0) throw new Error(`tshark ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout.split("\n").filter((l) => l.trim() !== "").length;
}

describe.skipIf(skipReason !== null)("Linux interop over a TAP (namespace, socat, UDP link)", () => {
  const dir = skipReason === null ? mkdtempSync(join(tmpdir(), "xsnet-tap-")) : "";
  const pcapPath = join(dir, "device.pcap");
  const started: Started[] = [];
  let nsMade = false;
  let device: Started | null = null;

  beforeAll(async () => {
    const add = await run("ip", ["netns", "add", NS], 5000);
    expect(add.code, `ip netns add ${NS}: ${add.stderr}`).toBe(0);
    nsMade = true;
    expect((await nsRun(["ip", "link", "set", "lo", "up"], 5000)).code).toBe(0);
    // IPv6 stays on: the kernel's router solicitations and MLD reports must be counted
    // as unknown ethertypes and dropped, not trip the stack.
    const socat = new Started([
      "socat",
      `TUN:${LINUX_ADDR}/24,tun-type=tap,tun-name=${TAP},iff-no-pi,iff-up`,
      `UDP-DATAGRAM:127.0.0.1:${PORT_STACK},bind=127.0.0.1:${PORT_SOCAT}`,
    ]);
    started.push(socat);
    let tapUp = false;
    for (let i = 0; i < 100 && !tapUp && socat.running; i++) {
      tapUp = (await nsRun(["ip", "link", "show", TAP], 2000)).code === 0;
      if (!tapUp) await sleep(50);
    }
    expect(tapUp, `socat did not make ${TAP}: ${socat.output}`).toBe(true);
    // `npm start -- --link ...` without npm in between, so the pid we signal is node's.
    device = new Started([
      process.execPath, "--import", "tsx", join(REPO, "host-sim/cli.ts"),
      "--link", `udp:${PORT_STACK}:${PORT_SOCAT}`, "--ip", `${DEVICE_ADDR}/24`, "--pcap", pcapPath,
    ]);
    started.push(device);
    const up = await device.waitFor("xsnet device up: eth0", 30_000);
    expect(up, `device did not come up:\n${device.output}`).toBe(true);
  }, 60_000);

  afterAll(async () => {
    // Only what we started, by pid; then the namespace (its TAP goes with socat).
    for (const p of started.reverse()) await p.end();
    if (nsMade) await run("ip", ["netns", "del", NS], 5000);
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  for (const size of [56, 1472, 4000, 65000]) {
    it(`answers ping -s ${size} from the kernel, 3 of 3`, async () => {
      const r = await nsRun(["ping", "-n", "-c", "3", "-i", "0.2", "-W", "2", "-s", String(size), DEVICE_ADDR], 15_000);
      expect(r.stdout, `ping -s ${size}:\n${r.stdout}${r.stderr}\ndevice:\n${device?.output}`).toMatch(/3 packets transmitted, 3 received/);
      expect(r.code).toBe(0);
    }, 20_000);
  }

  it("answers arping, 3 of 3", async () => {
    const r = await nsRun(["arping", "-c", "3", "-I", TAP, DEVICE_ADDR], 15_000);
    // Habets' arping ("3 packets received") or iputils' ("Received 3 response(s)")
    expect(`${r.stdout}${r.stderr}`, `arping:\n${r.stdout}${r.stderr}`).toMatch(/3 packets transmitted, 3 packets received|Received 3 response/);
  }, 20_000);

  it("stops on SIGTERM with exit code 0, the counters, and a full pool", async () => {
    const d = device as Started;
    expect(d.running, d.output).toBe(true);
    d.child.kill("SIGTERM");
    expect(await d.waitExit(10_000), `device did not exit:\n${d.output}`).toBe(true);
    expect(d.exitCode, d.output).toBe(0);
    expect(d.output).toMatch(/rx_packets=[1-9]/);
    expect(d.output).toMatch(/icmp: .*outEchoReps=12\b/);
    expect(d.output).toContain("pool: full again");
  }, 20_000);

  it("leaves a capture with no malformed frames and no bad IPv4 or ICMP checksums", async () => {
    expect(existsSync(pcapPath)).toBe(true);
    const total = await tsharkCount(pcapPath, null);
    expect(total).toBeGreaterThan(0);
    // ICMP checksums are always checked (over the reassembled datagram); IPv4's by the pref.
    const bad = await tsharkCount(pcapPath,
      '_ws.malformed || _ws.expert.severity >= error || ip.checksum.status == "Bad" || icmp.checksum.status == "Bad"');
    expect(bad, `${bad} bad frames of ${total} in ${pcapPath}`).toBe(0);
    // ...and they were checked: 12 echo requests and 12 replies.
    expect(await tsharkCount(pcapPath, 'icmp.checksum.status == "Good"')).toBeGreaterThanOrEqual(24);
    expect(await tsharkCount(pcapPath, 'ip.checksum.status == "Good"')).toBeGreaterThan(0);
  }, 60_000);
});
