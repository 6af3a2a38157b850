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
  it("runs the demo: summary, pools full again, a pcap file", async () => {
    const pcap = join(dir, "demo.pcap");
    const r = await cli(["--count", "15", "--seed", "3", "--pcap", pcap]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/pings: 15 sent, \d+ answered/);
    expect(r.out).toMatch(/drops by reason:/);
    expect(r.out).toMatch(/high-water \d+/);
    expect(r.out).toContain("skb pools after shutdown: all full again");
    expect(r.out).toContain(`pcap (A's view, `);
    expect(existsSync(pcap)).toBe(true);
    // The same seed replays the same run.
    const again = await cli(["--count", "15", "--seed", "3", "--pcap", pcap]);
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
    [["--bogus"], /unknown option '--bogus'/],
  ])("refuses %j naming the option", async (args, message) => {
    const r = await cli(args as string[]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(message as RegExp);
  });
});
