// Linux interop: the device's services, driven by the kernel's own TCP and standard tools,
// on a TAP in a network namespace of the test's own (see netns.ts for the set-up and its
// rules). To the services' spec:
//   TCP 7 echo, 9 discard, 19 chargen (RFC 864 as lwip-udpdev.c generates it), UDP 7 echo,
//   iperf2 server on 5001, HTTP on 80 (GET / a JSON status, GET /bytes/N: N bytes, byte i =
//   i % 251), and a client mode (--connect HOST:PORT --send N: N bytes i % 251 to an echo
//   server, the echo checked).
// curl fetches / and 20 MB of /bytes; nc moves 20 MB through echo, 20 MB into discard and
// reads 20 MB of chargen, each checked byte by byte; UDP echo up to 65,507 bytes; iperf -c
// reports a rate; 50 curl at once against a small connection table; the device stops with
// its pool full; tshark finds no malformed frame and no bad checksum from the device in the
// capture; last, the device as a client moves 20 MB each way through a python3 echo server.
// Needs root, /dev/net/tun and the tools below; skipped (one line) otherwise.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ChargenCheck, DEVICE_MAC, DeviceLink, Mod251Check, SYSTEM_PYTHON, SCAPY_DIR, SeededBytes, SeededCheck, counter, deviceHelp, lastJson,
  linuxSkipReason, python, streamCommand, tsharkCount, tsharkShow, type DeviceReport,
} from "./netns";

const TOOLS = ["socat", "ip", "ping", "curl", "nc", "iperf", "tshark", SYSTEM_PYTHON];
const skipReason = linuxSkipReason(TOOLS);
if (skipReason !== null) console.log(`test/linux/services.test.ts skipped: ${skipReason}`);

/** bytes of each bulk transfer (the 20 MB) */
const BULK = 20_000_000;
const BULK_TIMEOUT_MS = 180_000;
const ECHO_SEED = 0x5eed;
/** the connection table for the 50 clients: the device's --tcp-sockets (listeners included) */
const TABLE_SIZE = 15;
/** the whole client-mode run, connect to close */
const CLIENT_TIMEOUT_MS = 120_000;
/** the Linux side's echo server for the client mode (a port no tshark dissector claims) */
const ECHO_SERVER_PORT = 40007;

/** The device CLI's flag for the TCP table size (tcpSocketsMax), if it has one. */
async function tableFlag(): Promise<string | null> {
  const help = await deviceHelp();
  const m = /(--[a-z-]*(?:tcp-sockets|sockets-max|tcp-conn|connections|max-conn)[a-z-]*)\b/i.exec(help);
  return m ? m[1] : null;
}

describe.skipIf(skipReason !== null)("device services from Linux tools (namespace, socat, UDP link)", () => {
  const dir = skipReason === null ? mkdtempSync(join(tmpdir(), "xsnet-svc-")) : "";
  const pcapPath = join(dir, "device.pcap");
  const clientPcap = join(dir, "client.pcap");
  const link = new DeviceLink({ tag: "s" });
  const DEV = link.deviceAddr;
  /** the table size the 50-curl test runs against */
  let tableNote = "";
  let report: DeviceReport | null = null;

  beforeAll(async () => {
    await link.up();
    const flag = await tableFlag();
    const extra = ["--pcap", pcapPath];
    // 5 listeners (7, 9, 19, 80, 5001) + 10 connections at once: far fewer than 50 clients
    // (a SYN that finds the table full is dropped and counted, and the client tries again),
    // and more than the app's 4 HTTP request buffers (one more is answered 503 and closed).
    if (flag !== null) {
      extra.push(flag, String(TABLE_SIZE));
      tableNote = `${flag} ${TABLE_SIZE}`;
    } else {
      tableNote = "no table-size flag in the device CLI (wanted: e.g. --tcp-sockets N for config.tcpSocketsMax); the device's default table";
      console.log(`test/linux/services.test.ts: ${tableNote}`);
    }
    await link.startDevice(extra);
  }, 60_000);

  afterAll(async () => {
    const note = await link.down();
    if (note !== "") console.log(note);
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const deviceTail = (): string => (link.device?.output ?? "").slice(-3000);

  it("answers ping (the link is up)", async () => {
    const r = await link.ns.run(["ping", "-n", "-c", "3", "-i", "0.2", "-W", "2", DEV], 15_000);
    expect(r.stdout, `${r.stdout}${r.stderr}\n${deviceTail()}`).toMatch(/3 packets transmitted, 3 received/);
  }, 20_000);

  it("serves GET / over HTTP as JSON (curl)", async () => {
    const r = await link.ns.run(["curl", "-sS", "--max-time", "10", "-D", "-", `http://${DEV}/`], 15_000);
    expect(r.code, `curl exit ${r.code}: ${r.stderr}\n${deviceTail()}`).toBe(0);
    const [head, ...rest] = r.stdout.split(/\r\n\r\n/);
    expect(head).toMatch(/^HTTP\/1\.[01] 200/);
    const body = rest.join("\r\n\r\n");
    let parsed: unknown = null;
    expect(() => (parsed = JSON.parse(body)), `body is not JSON: ${body.slice(0, 500)}`).not.toThrow();
    expect(typeof parsed).toBe("object");
    expect(parsed).not.toBeNull();
  }, 20_000);

  it("serves GET /bytes/N with byte i = i % 251 (N = 0, 1, 251, 65536)", async () => {
    for (const n of [0, 1, 251, 65536]) {
      const check = new Mod251Check();
      const r = await streamCommand(link.ns.name, ["curl", "-sS", "--max-time", "20", `http://${DEV}/bytes/${n}`], { check, timeoutMs: 30_000 });
      expect(r.code, `curl /bytes/${n}: exit ${r.code} ${r.stderr}\n${deviceTail()}`).toBe(0);
      expect(r.received, `/bytes/${n}`).toBe(n);
      expect(r.mismatchAt, `/bytes/${n}: first wrong byte`).toBe(-1);
    }
  }, 90_000);

  it(`serves GET /bytes/${BULK}: ${BULK / 1e6} MB, every byte checked (curl)`, async () => {
    const check = new Mod251Check();
    const r = await streamCommand(link.ns.name, ["curl", "-sS", "--max-time", String(BULK_TIMEOUT_MS / 1000), `http://${DEV}/bytes/${BULK}`],
      { check, timeoutMs: BULK_TIMEOUT_MS + 10_000 });
    expect(r.code, `curl exit ${r.code}: ${r.stderr}\n${deviceTail()}`).toBe(0);
    expect(r.received).toBe(BULK);
    expect(r.mismatchAt, "first wrong byte").toBe(-1);
    console.log(`curl /bytes/${BULK}: ${(BULK / 1e6 / (r.ms / 1000)).toFixed(1)} MB/s`);
  }, BULK_TIMEOUT_MS + 20_000);

  it(`echoes ${BULK / 1e6} MB on TCP 7 intact (nc)`, async () => {
    const src = new SeededBytes(ECHO_SEED);
    const check = new SeededCheck(ECHO_SEED);
    const r = await streamCommand(link.ns.name, ["nc", "-N", DEV, "7"],
      { sendBytes: BULK, source: (n) => src.next(n), check, timeoutMs: BULK_TIMEOUT_MS });
    expect(r.timedOut, `timed out after ${r.received} bytes back\n${deviceTail()}`).toBe(false);
    expect(r.code, `nc exit ${r.code}: ${r.stderr}\n${deviceTail()}`).toBe(0);
    expect(r.sent).toBe(BULK);
    expect(r.received).toBe(BULK);
    expect(r.mismatchAt, "first wrong byte of the echo").toBe(-1);
    console.log(`echo ${BULK}: ${(BULK / 1e6 / (r.ms / 1000)).toFixed(1)} MB/s each way`);
  }, BULK_TIMEOUT_MS + 10_000);

  it(`takes ${BULK / 1e6} MB on TCP 9 discard and closes after our FIN (nc)`, async () => {
    const r = await streamCommand(link.ns.name, ["nc", "-N", DEV, "9"], { sendBytes: BULK, timeoutMs: BULK_TIMEOUT_MS });
    expect(r.timedOut, `timed out\n${deviceTail()}`).toBe(false);
    expect(r.code, `nc exit ${r.code}: ${r.stderr}\n${deviceTail()}`).toBe(0);
    expect(r.sent).toBe(BULK);
    expect(r.received, "discard sends nothing back").toBe(0);
    console.log(`discard ${BULK}: ${(BULK / 1e6 / (r.ms / 1000)).toFixed(1)} MB/s`);
  }, BULK_TIMEOUT_MS + 10_000);

  it(`sends ${BULK / 1e6} MB of chargen on TCP 19 in the RFC 864 pattern (nc)`, async () => {
    const check = new ChargenCheck();
    const r = await streamCommand(link.ns.name, ["nc", "-d", DEV, "19"], { readLimit: BULK, check, timeoutMs: BULK_TIMEOUT_MS });
    expect(r.timedOut, `timed out after ${r.received} bytes\n${deviceTail()}`).toBe(false);
    expect(r.received, `${r.stderr}\n${deviceTail()}`).toBe(BULK);
    expect(r.mismatchAt, "first byte off the RFC 864 pattern").toBe(-1);
    console.log(`chargen ${BULK}: ${(BULK / 1e6 / (r.ms / 1000)).toFixed(1)} MB/s`);
  }, BULK_TIMEOUT_MS + 10_000);

  it("echoes UDP datagrams on port 7, 0 to 65,507 bytes (fragmented both ways)", async () => {
    const r = await python(link.ns, "udp_echo.py", ["--dst", DEV], 60_000);
    const out = lastJson(r.stdout);
    expect(out, `udp_echo.py: ${r.stdout}${r.stderr}`).not.toBeNull();
    expect(out?.all_ok, `${JSON.stringify(out?.results)}\n${deviceTail()}`).toBe(true);
  }, 70_000);

  it("completes an iperf2 run against port 5001 and reports a rate (iperf -c)", async () => {
    const r = await link.ns.run(["iperf", "-c", DEV, "-p", "5001", "-t", "3", "-f", "m"], 30_000);
    const text = `${r.stdout}${r.stderr}`;
    expect(r.code, `iperf exit ${r.code}:\n${text}\n${deviceTail()}`).toBe(0);
    const m = /([\d.]+)\s+Mbits\/sec/.exec(text);
    expect(m, `no rate in:\n${text}`).not.toBeNull();
    expect(Number(m?.[1])).toBeGreaterThan(0);
    expect(text).not.toMatch(/connect failed|refused|error/i);
    console.log(`iperf: ${m?.[1]} Mbits/sec`);
  }, 40_000);

  it("answers 50 curl at once against a small connection table: each gets 200 or a clean refusal, and it keeps serving", async () => {
    const runs = Array.from({ length: 50 }, () =>
      link.ns.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "40", `http://${DEV}/`], 50_000));
    const results = await Promise.all(runs);
    // Clean refusals: connection refused (a RST to the SYN, curl exit 7), or an HTTP 503
    // response (the app's "too busy") on a connection closed in order.
    const isOk = (r: { code: number | null; stdout: string }): boolean => r.code === 0 && r.stdout.trim() === "200";
    const isRefused = (r: { code: number | null; stdout: string }): boolean => r.code === 7 || (r.code === 0 && r.stdout.trim() === "503");
    const ok = results.filter(isOk).length;
    const refused = results.filter(isRefused).length;
    const other = results.filter((r) => !isOk(r) && !isRefused(r));
    const summary = `${ok} ok, ${refused} refused (RST or 503), ${other.length} other (${tableNote}): ` +
      other.slice(0, 5).map((r) => `exit ${r.code} ${r.stdout.trim()} ${r.stderr.trim()}`).join("; ");
    console.log(`50 curl: ${summary}`);
    expect(other.length, `${summary}\n${deviceTail()}`).toBe(0);
    expect(ok, summary).toBeGreaterThan(0);
    // and it still serves
    const again = await link.ns.run(["curl", "-sS", "--max-time", "10", `http://${DEV}/`], 15_000);
    expect(again.code, `curl after the 50: ${again.stderr}`).toBe(0);
    expect(() => JSON.parse(again.stdout)).not.toThrow();
  }, 120_000);

  it("stops on SIGTERM with exit code 0, its counters, and a full pool", async () => {
    report = await link.stopDevice();
    expect(report.exitCode, report.output.slice(-3000)).toBe(0);
    expect(report.poolFull, report.output.slice(-3000)).toBe(true);
    expect(counter(report, "eth0", "rx_packets")).toBeGreaterThan(0);
    // nothing lost between socat and the device's ring
    expect(counter(report, "eth0", "rx_missed_errors"), report.output.slice(-3000)).toBe(0);
  }, 30_000);

  it("leaves a capture with no malformed frame and no bad checksum from the device (tshark)", async () => {
    const fromDevice = `eth.src == ${DEVICE_MAC}`;
    const total = await tsharkCount(pcapPath, null);
    expect(total).toBeGreaterThan(0);
    const badFilter = `${fromDevice} && (_ws.malformed || _ws.expert.severity >= error || ip.checksum.status == "Bad" || ` +
      `tcp.checksum.status == "Bad" || udp.checksum.status == "Bad" || icmp.checksum.status == "Bad")`;
    const bad = await tsharkCount(pcapPath, badFilter);
    expect(bad, `${bad} bad frames of ${total}:\n${await tsharkShow(pcapPath, badFilter)}`).toBe(0);
    // and the checksums were checked
    expect(await tsharkCount(pcapPath, `${fromDevice} && tcp.checksum.status == "Good"`)).toBeGreaterThan(0);
  }, 600_000);

  it(`as a client (--connect --send) moves ${BULK / 1e6} MB each way through a Linux echo server, checked`, async () => {
    const server = link.ns.start([SYSTEM_PYTHON, join(SCAPY_DIR, "echo_server.py"), "--bind", link.linuxAddr, "--port", String(ECHO_SERVER_PORT),
      "--timeout", String(CLIENT_TIMEOUT_MS / 1000)], "echo_server");
    expect(await server.waitFor(`listening ${ECHO_SERVER_PORT}`, 10_000), server.output).toBe(true);
    const d = await link.startDevice(["--connect", `${link.linuxAddr}:${ECHO_SERVER_PORT}`, "--send", String(BULK), "--pcap", clientPcap], false);
    // The server ends when the device closes its side; the device should then finish on its own.
    // A device that exits without ever connecting ends the wait (and the server) early.
    const end = Date.now() + CLIENT_TIMEOUT_MS;
    while (server.running && Date.now() < end) {
      if (!d.running && !server.output.includes("accepted")) {
        await server.end();
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (server.running) await server.end();
    const res = lastJson(server.output);
    if (!(await d.waitExit(20_000))) {
      d.signal("SIGTERM");
      await d.waitExit(15_000);
    }
    const tail = `device:\n${d.output.slice(-3000)}\nserver:\n${server.output}`;
    expect(res, tail).not.toBeNull();
    expect(res?.error ?? null, tail).toBeNull();
    expect(res?.received, tail).toBe(BULK);
    expect(res?.pattern_ok, tail).toBe(true);
    expect(res?.echoed, tail).toBe(BULK);
    expect(res?.clean_eof, tail).toBe(true);
    expect(d.exitCode, tail).toBe(0);
    expect(d.output, tail).toMatch(new RegExp(`client: ${BULK} bytes sent to [0-9.:]+ and echoed back intact`));
    expect(d.output, tail).not.toMatch(/client: FAILED/);
    expect(d.output, tail).toContain("pool: full again");
    const bad = await tsharkCount(clientPcap, `eth.src == ${DEVICE_MAC} && (_ws.malformed || ip.checksum.status == "Bad" || tcp.checksum.status == "Bad")`,
      ["-o", "tcp.desegment_tcp_streams:FALSE"]);
    expect(bad, "bad frames from the device in the client capture").toBe(0);
  }, CLIENT_TIMEOUT_MS + 90_000);
});
