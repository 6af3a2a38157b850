// Device mode end to end, with no Linux: two `npm start -- --link ...` processes wired to
// each other over loopback UDP (each one's LOCAL port is the other's REMOTE). One serves;
// the other runs the client mode against its TCP echo, and exits 0 when every byte came
// back, 1 when the connection is refused. Then the server stops on SIGTERM with exit code
// 0 and its per-service counters. Real time (Node's event loop), a few seconds.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { freeUdpPort } from "../helpers";

const REPO = fileURLToPath(new URL("../..", import.meta.url));

// Ports of this run (loopback only), from the kernel, so parallel runs and other sockets
// do not meet them.
const SERVER_PORT = await freeUdpPort();
let CLIENT_PORT = await freeUdpPort();
while (CLIENT_PORT === SERVER_PORT) CLIENT_PORT = await freeUdpPort();

function cli(args: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "host-sim/cli.ts", ...args], { cwd: REPO, timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
      resolve({ code, out: String(stdout) + String(stderr) });
    });
  });
}

describe("device mode: two devices over loopback UDP, one serving, one in client mode", () => {
  let server: ChildProcess | null = null;
  let serverOut = "";
  let serverExit: Promise<number | null> = Promise.resolve(null);

  afterAll(() => {
    if (server !== null && server.exitCode === null) server.kill("SIGKILL");
  });

  it("starts the serving device", async () => {
    server = spawn(process.execPath, ["--import", "tsx", "host-sim/cli.ts", "--link", `udp:${SERVER_PORT}:${CLIENT_PORT}`, "--ip", "10.77.0.1/24", "--hostname", "server1"],
      { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    const s = server;
    s.stdout?.on("data", (b: Buffer) => (serverOut += b.toString()));
    s.stderr?.on("data", (b: Buffer) => (serverOut += b.toString()));
    serverExit = new Promise((resolve) => s.on("close", (code) => resolve(code)));
    const end = Date.now() + 30_000;
    // The "serving" line may come in a later chunk of stdout than the "device up" one.
    while (!serverOut.includes("serving (") && Date.now() < end && s.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    expect(serverOut).toContain("xsnet device up: eth0");
    expect(serverOut).toContain("serving (server1): ICMP echo, TCP echo 7, discard 9, chargen 19, iperf 5001, HTTP 80; UDP echo 7");
  }, 40_000);

  it("client mode: 2 MB through the other device's echo, checked; exit code 0", async () => {
    const r = await cli(["--link", `udp:${CLIENT_PORT}:${SERVER_PORT}`, "--ip", "10.77.0.2/24", "--mac", "02:00:00:00:77:02",
      "--connect", "10.77.0.1:7", "--send", "2M"], 60_000);
    expect(r.out).toMatch(/client: 2000000 bytes sent to 10\.77\.0\.1:7 and echoed back intact in [\d.]+ ms \(connect [\d.]+ ms\): [\d.]+ MB\/s each way/);
    expect(r.out).toContain("xsnet device stopped (client done)");
    expect(r.out).toContain("pool: full again");
    expect(r.code, r.out).toBe(0);
  }, 70_000);

  it("client mode: a refused connection fails with exit code 1", async () => {
    const r = await cli(["--link", `udp:${CLIENT_PORT}:${SERVER_PORT}`, "--ip", "10.77.0.2/24", "--mac", "02:00:00:00:77:02",
      "--connect", "10.77.0.1:7777", "--send", "1000"], 60_000);
    expect(r.out).toMatch(/client: FAILED: connection to 10\.77\.0\.1:7777 failed/);
    expect(r.code, r.out).toBe(1);
  }, 70_000);

  it("the serving device stops on SIGTERM with exit code 0 and its counters per service", async () => {
    server?.kill("SIGTERM");
    expect(await serverExit).toBe(0);
    expect(serverOut).toContain("xsnet device stopped (SIGTERM)");
    expect(serverOut).toMatch(/^app echo: connections=1 bytesIn=2000000 bytesOut=2000000$/m);
    expect(serverOut).toMatch(/^app http: connections=0 /m);
    expect(serverOut).toMatch(/^app: errors=0 open=0$/m);
    expect(serverOut).toMatch(/^tcp: .*passiveOpens=1\b/m);
    expect(serverOut).toContain("pool: full again");
  }, 30_000);
});
