// The CLI as a user runs it: the demo's summary, and bad options refused by name.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "xsnet-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "host-sim/cli.ts", ...args], { cwd: REPO, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, out: String(stdout), err: String(stderr) });
    });
  });
}

describe("npm start", () => {
  it("runs the demo: summary, TCP bulk and request/response, pools full again, a pcap file", async () => {
    const pcap = join(dir, "demo.pcap");
    const args = ["--count", "15", "--seed", "3", "--bulk", "500K", "--rounds", "30", "--pcap", pcap];
    const r = await cli(args);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/pings: 15 sent, \d+ answered/);
    // TCP bulk: every byte arrived and the digests of both ends match.
    expect(r.out).toContain("tcp bulk: A -> B 500000 bytes");
    expect(r.out).toMatch(/ 500000 of 500000 bytes in [\d.]+ s \(virtual\)/);
    const sent = /SHA-256 sent +([0-9a-f]{64})/.exec(r.out);
    const received = /SHA-256 received +([0-9a-f]{64})/.exec(r.out);
    expect(sent?.[1]).toBeDefined();
    expect(received?.[1]).toBe(sent?.[1]);
    expect(r.out).toContain("bytes check: passed");
    // Request/response: every round, virtual time per round.
    expect(r.out).toMatch(/tcp request\/response: 30 of 30 rounds, 64 B requests, 256 B replies, 0 mismatched/);
    expect(r.out).toMatch(/virtual time per round: min [\d.]+ ms, avg [\d.]+ ms, max [\d.]+ ms/);
    // TCP counters per host: A opened both connections, B accepted both, segments flowed.
    const tcpLines = [...r.out.matchAll(/^  tcp: (.*)$/gm)].map((m) => m[1]);
    expect(tcpLines).toHaveLength(3); // A, R, B
    for (const name of ["activeOpens", "passiveOpens", "attemptFails", "estabResets", "inSegs", "outSegs", "retransSegs", "timeouts", "fastRetrans", "sackRecoveries"]) {
      for (const line of tcpLines) expect(line).toMatch(new RegExp(`\\b${name} \\d+`));
    }
    const counter = (line: string, name: string): number => Number(new RegExp(`\\b${name} (\\d+)`).exec(line)?.[1]);
    const [tcpA, tcpR, tcpB] = tcpLines;
    expect(counter(tcpA, "activeOpens")).toBe(2);
    expect(counter(tcpB, "passiveOpens")).toBe(2);
    expect(counter(tcpA, "outSegs")).toBeGreaterThan(500000 / 1460);
    expect(counter(tcpB, "inSegs")).toBeGreaterThan(500000 / 1460);
    expect(counter(tcpA, "currEstab") + counter(tcpB, "currEstab")).toBe(0);
    expect(counter(tcpR, "inSegs")).toBe(0); // R only forwards
    expect(r.out).toMatch(/drops by reason:/);
    expect(r.out).toMatch(/high-water \d+/);
    expect(r.out).toContain("skb pools after shutdown: all full again");
    expect(r.out).toContain(`pcap (A's view, `);
    expect(existsSync(pcap)).toBe(true);
    // The same seed replays the same run.
    const again = await cli(args);
    expect(again.out).toBe(r.out);
  });

  it.each([
    [["--link", "tcp:1:2", "--ip", "10.0.0.1/24"], /--link.*expected udp:LOCAL_PORT:REMOTE_PORT/],
    [["--link", "udp:0:9200", "--ip", "10.0.0.1/24"], /--link.*local port 0 is not in 1\.\.65535/],
    [["--link", "udp:9201:9200", "--ip", "10.0.0/24"], /--ip.*invalid/],
    [["--link", "udp:9201:9200", "--ip", "10.0.0.1/40"], /--ip.*prefix/],
    [["--link", "udp:9201:9200"], /--ip.*required/],
    [["--gateway", "10.0.0.254"], /--gateway.*needs --link/],
    [["--link", "udp:9201:9200", "--ip", "10.0.0.1/24", "--mac", "02:00:00"], /--mac.*invalid MAC/],
    [["--count", "0"], /--count.*positive integer/],
    [["--loss", "1.5"], /--loss.*fraction/],
    [["--bulk", "3x"], /--bulk.*size in bytes/],
    [["--bulk", "0"], /--bulk.*from 1 byte/],
    [["--rounds", "0"], /--rounds.*positive integer/],
    [["--bogus"], /unknown option '--bogus'/],
    [["--connect", "10.0.0.2:7", "--send", "1M"], /--connect.*needs --link/],
    [["--hostname", "dev"], /--hostname.*needs --link/],
    [["--tcp-sockets", "12"], /--tcp-sockets.*needs --link/],
    [["--link", "udp:9201:9200", "--ip", "10.0.0.1/24", "--connect", "10.0.0.2:7"], /--connect.*needs --send/],
    [["--link", "udp:9201:9200", "--ip", "10.0.0.1/24", "--send", "1M"], /--send.*needs --connect/],
    [["--link", "udp:9201:9200", "--ip", "10.0.0.1/24", "--connect", "10.0.0.2", "--send", "1"], /--connect.*HOST:PORT/],
    [["--link", "udp:9201:9200", "--ip", "10.0.0.1/24", "--connect", "10.0.0:7", "--send", "1"], /--connect.*invalid/],
    [["--link", "udp:9201:9200", "--ip", "10.0.0.1/24", "--connect", "10.0.0.2:0", "--send", "1"], /--connect.*port 0 is not in 1\.\.65535/],
    [["--link", "udp:9201:9200", "--ip", "10.0.0.1/24", "--connect", "10.0.0.2:7", "--send", "0"], /--send.*from 1 byte/],
    [["--link", "udp:9201:9200", "--ip", "10.0.0.1/24", "--connect", "10.0.0.2:7", "--send", "3x"], /--send.*size in bytes/],
    [["--link", "udp:9201:9200", "--ip", "10.0.0.1/24", "--hostname", "bad_name"], /--hostname.*RFC 1123/],
    [["--link", "udp:9201:9200", "--ip", "10.0.0.1/24", "--tcp-sockets", "5"], /--tcp-sockets.*6 .* to 1024/],
    [["--tcp-sndbuf", "128Ki"], /--tcp-sndbuf.*needs --link/],
    [["--link", "udp:9201:9200", "--ip", "10.0.0.1/24", "--tcp-sndbuf", "1K"], /--tcp-sndbuf.*4K to 1M, got 1000/],
    [["--link", "udp:9201:9200", "--ip", "10.0.0.1/24", "--tcp-rcvbuf", "2M"], /--tcp-rcvbuf.*4K to 1M, got 2000000/],
    [["--ntp", "10.0.0.2"], /--ntp.*needs --link/],
    [["--link", "udp:9201:9200", "--ip", "10.0.0.1/24", "--ntp", "10.0.0.2,10.0"], /--ntp.*invalid/],
    [["--link", "udp:9201:9200", "--ip", "10.0.0.1/24", "--ntp", "1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4,5.5.5.5"], /--ntp.*1 to 4 IPv4 addresses/],
  ])("refuses %j naming the option", async (args, message) => {
    const r = await cli(args as string[]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(message as RegExp);
  });
});
