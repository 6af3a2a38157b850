// Linux interop: Moddable's own network modules (the SDK's examples/io, read unchanged from
// ../shared/moddable) running on xsnet as a device on the TAP link, on the real clock
// (host-sim/moddable-device.ts, which host-sim/moddable-apps.ts drives), against servers
// nobody here wrote, each started by the test inside its namespace, bound to the TAP's
// address, and ended by its pid:
//   httpclient  fetches a 4 MB file, a small one and a 404 from python3's http.server
//               (HTTP/1.1, one connection), each body's SHA-256 checked
//   httpserver  curl fetches text, 3 MB of i % 251, a 200 kB POST echoed, a 404 and eight
//               transfers at once from Moddable's server; a chunked response shows the
//               module's own bug to curl (below)
//   mqttclient  mosquitto in the middle: the device's QoS 0 and QoS 1 (16 kB) messages
//               reach mosquitto_sub, mosquitto_pub's QoS 0 and QoS 1 (100 kB) messages reach
//               the device; mosquitto's log shows the PUBACKs both ways
//   sntp        chronyd serving its clock (local stratum; -x: it never touches the clock;
//               its files in the test's directory) answers; the time is the namespace's
//               clock, to the second
// Each device run ends with exit code 0 and the device's pool full.
//
// Moddable's httpserver.js ends a chunked body with "\n\r\n" where "0\r\n\r\n" is due
// (test/moddable/examples.ts explains why); curl reads the body and then fails on the bad
// last-chunk line, which the test records.
// Needs root, /dev/net/tun, ../shared/moddable and the tools each part names; a part whose
// tool is missing is skipped (one line).

import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MQTT_Q0_TEXT, MQTT_Q1_BYTES, MQTT_TOPICS, pattern251 } from "../../host-sim/moddable-apps";
import { moddableDir } from "../moddable/run";
import { DeviceLink, Mod251Check, REPO, SYSTEM_PYTHON, counter, inPath, linuxSkipReason, parseDeviceReport, sleep, streamCommand, type DeviceReport, type Started, startChronyd } from "./netns";

const FILE = "test/linux/moddable.test.ts";
const DIR = moddableDir();
const baseSkip = DIR === null ? "../shared/moddable (the Moddable SDK files) is not on this machine" : linuxSkipReason(["socat", "ip"]);
if (baseSkip !== null) console.log(`${FILE} skipped: ${baseSkip}`);

/** Why one part cannot run (its tools missing), or null; said once, on one line. */
function partSkip(part: string, tools: string[]): string | null {
  if (baseSkip !== null) return baseSkip;
  const missing = tools.filter((t) => !inPath(t));
  if (missing.length === 0) return null;
  console.log(`${FILE} ${part} skipped: missing ${missing.join(", ")}`);
  return `missing ${missing.join(", ")}`;
}

const HTTP_PORT = 8000;
const SERVER_PORT = 8080;
const MQTT_PORT = 1883;
const BLOB_BYTES = 4_000_000;
const BIG_GET = 3_000_000;
const ECHO_BYTES = 200_000;
const MQTT_IN_BYTES = 100_000;
const RUN_TIMEOUT_MS = 60_000;

const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

describe.skipIf(baseSkip !== null)("Moddable's modules on xsnet against Linux servers (namespace, socat, UDP link)", () => {
  const dir = baseSkip === null ? mkdtempSync(join(tmpdir(), "xsnet-moddable-")) : "";
  const link = new DeviceLink({ tag: "m" });
  const LINUX = link.linuxAddr;

  beforeAll(async () => {
    await link.up();
  }, 60_000);

  afterAll(async () => {
    const note = await link.down();
    if (note !== "") console.log(note);
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** Start the device running one of Moddable's modules; resolves once its link is up. */
  async function startModdable(program: string, args: string[]): Promise<Started> {
    const d = link.ns.start([
      process.execPath, "--experimental-vm-modules", "--no-warnings", "--import", "tsx", join(REPO, "host-sim/moddable-device.ts"), program,
      "--link", link.deviceLinkSpec, "--ip", `${link.deviceAddr}/${link.prefix}`, "--moddable", DIR as string, ...args,
    ], `moddable ${program}`);
    link.device = d;
    if (!(await d.waitFor("xsnet device up: eth0", 30_000))) throw new Error(`device did not come up:\n${d.output}`);
    return d;
  }

  /** A client program's end: wait for its own exit (SIGTERM after timeoutMs), then its report. */
  async function finished(d: Started, timeoutMs: number): Promise<DeviceReport> {
    if (!(await d.waitExit(timeoutMs))) {
      d.signal("SIGTERM");
      await d.waitExit(15_000);
    }
    return parseDeviceReport(d.output, d.exitCode);
  }

  function expectClean(rep: DeviceReport): void {
    const tail = rep.output.slice(-4000);
    expect(rep.output, tail).not.toMatch(/moddable: FAILED|program: FAILED|trace: /);
    expect(rep.exitCode, tail).toBe(0);
    expect(rep.poolFull, tail).toBe(true);
    expect(counter(rep, "eth0", "rx_missed_errors"), tail).toBe(0);
  }

  /** Wait until something in the namespace listens on addr:port (tcp or udp), at most timeoutMs. */
  async function listening(proto: "tcp" | "udp", addr: string, port: number, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const r = await link.ns.run(["ss", "-Hn", proto === "tcp" ? "-lt" : "-lu", "src", `${addr}:${port}`], 5000);
      if (r.stdout.includes(`${addr}:${port}`)) return true;
      await sleep(100);
    }
    return false;
  }

  const httpSkip = partSkip("httpclient", [SYSTEM_PYTHON, "ss"]);
  describe.skipIf(httpSkip !== null)("Moddable's HTTP client fetches from python3's http.server", () => {
    it(`GETs ${BLOB_BYTES / 1e6} MB, a small file and a 404 on one keep-alive connection, each body's SHA-256 as served`, async () => {
      const www = join(dir, "www");
      const blob = new Uint8Array(randomBytes(BLOB_BYTES));
      const small = new TextEncoder().encode("a small file, served by python3's http.server\n");
      mkdirSync(www, { recursive: true });
      writeFileSync(join(www, "blob.bin"), blob);
      writeFileSync(join(www, "small.txt"), small);
      const server = link.ns.start([SYSTEM_PYTHON, "-u", "-m", "http.server", "--bind", LINUX, "--directory", www, "--protocol", "HTTP/1.1", String(HTTP_PORT)], "http.server");
      try {
        expect(await listening("tcp", LINUX, HTTP_PORT, 10_000), server.output).toBe(true);
        const d = await startModdable("httpclient", ["--server", LINUX, "--port", String(HTTP_PORT), "--get", "/blob.bin", "--get", "/small.txt", "--get", "/missing"]);
        const rep = await finished(d, RUN_TIMEOUT_MS);
        const out = `device:\n${rep.output.slice(-4000)}\nserver:\n${server.output.slice(-2000)}`;
        const got = (path: string) => new RegExp(`httpclient: GET ${path} status=(\\d+) content-length=(\\S+) bytes=(\\d+) sha256=([0-9a-f]{64}) ms=(\\d+)`).exec(rep.output);
        const b = got("/blob\\.bin");
        expect(b, out).not.toBeNull();
        expect(b?.slice(1, 5), out).toEqual(["200", String(BLOB_BYTES), String(BLOB_BYTES), sha256(blob)]);
        console.log(`Moddable's HTTP client: ${BLOB_BYTES} bytes from python3's http.server in ${b?.[5]} ms`);
        expect(got("/small\\.txt")?.slice(1, 5), out).toEqual(["200", String(small.length), String(small.length), sha256(small)]);
        const missing = got("/missing");
        expect(missing?.[1], out).toBe("404");
        expect(rep.output, out).toContain("moddable: done");
        expectClean(rep);
        // One connection for the three requests (keep-alive), and the server saw each.
        expect(counter(rep, "tcp", "activeOpens"), out).toBe(1);
        for (const line of ['"GET /blob.bin HTTP/1.1" 200', '"GET /small.txt HTTP/1.1" 200', '"GET /missing HTTP/1.1" 404']) expect(server.output, out).toContain(line);
      } finally {
        await server.end();
      }
    }, RUN_TIMEOUT_MS + 60_000);
  });

  const serverSkip = partSkip("httpserver", ["curl"]);
  describe.skipIf(serverSkip !== null)("curl fetches from Moddable's HTTP server", () => {
    let d: Started | null = null;
    const base = `http://${link.deviceAddr}:${SERVER_PORT}`;
    const curl = (args: string[], timeoutMs = 30_000) => link.ns.run(["curl", "-sS", "--max-time", String(timeoutMs / 1000 - 5), ...args], timeoutMs);

    beforeAll(async () => {
      d = await startModdable("httpserver", ["--port", String(SERVER_PORT)]);
      if (!(await d.waitFor(`httpserver: listening on ${SERVER_PORT}`, 30_000))) throw new Error(`Moddable's server did not listen:\n${d.output}`);
    }, 60_000);

    const deviceTail = (): string => (d?.output ?? "").slice(-3000);

    it("GET /hello: the text, with its Content-Length", async () => {
      const r = await curl(["-D", "-", `${base}/hello`]);
      expect(r.code, `${r.stderr}\n${deviceTail()}`).toBe(0);
      const [head, body] = r.stdout.split("\r\n\r\n");
      expect(head, deviceTail()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(head.toLowerCase()).toContain("content-length: 43");
      expect(body).toBe("hello from Moddable's HTTP server on xsnet\n");
    });

    it(`GET /bytes/${BIG_GET}: ${BIG_GET / 1e6} MB of i % 251, every byte checked`, async () => {
      const check = new Mod251Check();
      const r = await streamCommand(link.ns.name, ["curl", "-sS", "--max-time", "60", `${base}/bytes/${BIG_GET}`], { check, timeoutMs: 70_000 });
      expect(r.code, `${r.stderr}\n${deviceTail()}`).toBe(0);
      expect(r.received).toBe(BIG_GET);
      expect(r.mismatchAt, "first wrong byte").toBe(-1);
      console.log(`curl from Moddable's HTTP server: ${BIG_GET} bytes in ${r.ms} ms`);
    }, 80_000);

    it(`POST /echo: ${ECHO_BYTES / 1e3} kB back as sent`, async () => {
      const body = new Uint8Array(randomBytes(ECHO_BYTES));
      const sent = join(dir, "post.bin");
      const back = join(dir, "echo.bin");
      writeFileSync(sent, body);
      // No "Expect: 100-continue" (the module does not answer it; curl would wait a second).
      const r = await curl(["-H", "Expect:", "--data-binary", `@${sent}`, "-o", back, "-w", "%{http_code}", `${base}/echo`]);
      expect(r.code, `${r.stderr}\n${deviceTail()}`).toBe(0);
      expect(r.stdout).toBe("200");
      const echoed = new Uint8Array(readFileSync(back));
      expect(echoed.length).toBe(ECHO_BYTES);
      expect(sha256(echoed)).toBe(sha256(body));
    });

    it("GET /nowhere: 404", async () => {
      const r = await curl(["-w", "\n%{http_code}", `${base}/nowhere`]);
      expect(r.code, `${r.stderr}\n${deviceTail()}`).toBe(0);
      expect(r.stdout).toBe("not found\n\n404");
    });

    it("eight transfers at once, each whole", async () => {
      const n = 200_000;
      const runs = await Promise.all(Array.from({ length: 8 }, () => {
        const check = new Mod251Check();
        return streamCommand(link.ns.name, ["curl", "-sS", "--max-time", "40", `${base}/bytes/${n}`], { check, timeoutMs: 50_000 }).then((r) => ({ r, check }));
      }));
      for (const { r } of runs) {
        expect(r.code, `${r.stderr}\n${deviceTail()}`).toBe(0);
        expect(r.received).toBe(n);
        expect(r.mismatchAt).toBe(-1);
      }
    }, 60_000);

    it("GET /chunked: the chunks arrive, then curl fails on the module's last-chunk line (\\n\\r\\n for 0\\r\\n\\r\\n)", async () => {
      const raw = await curl(["--raw", "-o", join(dir, "chunked.raw"), "-w", "%{http_code}", `${base}/chunked`]);
      const decoded = await curl(["-w", "\n%{http_code}", `${base}/chunked`]);
      const rawBytes = readFileSync(join(dir, "chunked.raw"), "latin1");
      console.log(`curl /chunked: exit ${decoded.code} (${decoded.stderr.trim()}); raw exit ${raw.code}, ends ${JSON.stringify(rawBytes.slice(-12))}`);
      // The body's chunks are all there ...
      const text = "chunks from Moddable's server on xsnet\n";
      expect(decoded.stdout.startsWith(text), `${decoded.stdout}\n${decoded.stderr}`).toBe(true);
      // ... and the last chunk is not: its "0\r" is missing.
      expect(rawBytes.endsWith("\r\n\n\r\n"), JSON.stringify(rawBytes)).toBe(true);
      expect(rawBytes).not.toContain("0\r\n\r\n");
      // curl: (56) Illegal or missing hexadecimal sequence in chunked-encoding
      expect(decoded.code, "curl took the malformed last chunk").toBe(56);
    });

    it("stops on SIGTERM with exit code 0 and a full pool, having served every request", async () => {
      const rep = await link.stopDevice();
      expectClean(rep);
      expect(rep.output).toMatch(/httpserver: GET \/bytes\/3000000 body=0 -> 200 3000000 bytes/);
      expect(rep.output).toMatch(/httpserver: POST \/echo body=200000 -> 200 200000 bytes/);
      expect(rep.output.match(/httpserver: GET \/bytes\/200000 /g)?.length).toBe(8);
    }, 30_000);
  });

  const mqttSkip = partSkip("mqttclient", ["mosquitto", "mosquitto_sub", "mosquitto_pub", "ss"]);
  describe.skipIf(mqttSkip !== null)("Moddable's MQTT client through mosquitto", () => {
    it("publishes QoS 0 and 1 to mosquitto_sub and receives mosquitto_pub's QoS 0 and 1, PUBACKs both ways", async () => {
      const conf = join(dir, "mosquitto.conf");
      writeFileSync(conf, [`listener ${MQTT_PORT} ${LINUX}`, "allow_anonymous true", "persistence false", "log_dest stderr", "log_type all", "connection_messages true", ""].join("\n"));
      const broker = link.ns.start(["mosquitto", "-c", conf], "mosquitto");
      let sub: Started | null = null;
      try {
        expect(await listening("tcp", LINUX, MQTT_PORT, 10_000), broker.output).toBe(true);
        // The Linux side's subscriber first (each message as "msg topic qos length hex"),
        // subscribed once the broker says so.
        sub = link.ns.start(["mosquitto_sub", "-h", LINUX, "-p", String(MQTT_PORT), "-i", "linux-sub", "-q", "1", "-t", "xsnet/device/#", "-C", "2", "-W", "60",
          "-F", "msg %t %q %l %x"], "mosquitto_sub");
        expect(await broker.waitFor("Sending SUBACK to linux-sub", 10_000), `${broker.output}\n${sub.output}`).toBe(true);
        const d = await startModdable("mqttclient", ["--server", LINUX, "--port", String(MQTT_PORT), "--expect", "2"]);
        expect(await d.waitFor("mqtt: subscribed", 20_000), d.output).toBe(true);
        const q1 = new Uint8Array(randomBytes(MQTT_IN_BYTES));
        const q1File = join(dir, "mqtt-q1.bin");
        writeFileSync(q1File, q1);
        const q0Text = "hello from mosquitto_pub, QoS 0";
        const p0 = await link.ns.run(["mosquitto_pub", "-h", LINUX, "-p", String(MQTT_PORT), "-i", "linux-pub0", "-q", "0", "-t", "xsnet/linux/q0", "-m", q0Text], 20_000);
        const p1 = await link.ns.run(["mosquitto_pub", "-h", LINUX, "-p", String(MQTT_PORT), "-i", "linux-pub1", "-q", "1", "-t", "xsnet/linux/q1", "-f", q1File], 20_000);
        expect([p0.code, p1.code], `${p0.stderr}${p1.stderr}`).toEqual([0, 0]);
        const rep = await finished(d, RUN_TIMEOUT_MS);
        await sub.waitExit(10_000);
        const out = `device:\n${rep.output.slice(-4000)}\nmosquitto_sub (exit ${sub.exitCode}):\n${sub.output.slice(0, 500)}\nmosquitto:\n${broker.output.slice(-3000)}`;
        // The device's side: both messages whole, at their QoS; its QoS 1 message acknowledged.
        const q0Bytes = new TextEncoder().encode(q0Text);
        expect(rep.output, out).toContain(`mqtt: received xsnet/linux/q0 qos=0 byteLength=${q0Bytes.length} bytes=${q0Bytes.length} sha256=${sha256(q0Bytes)}`);
        expect(rep.output, out).toContain(`mqtt: received xsnet/linux/q1 qos=1 byteLength=${MQTT_IN_BYTES} bytes=${MQTT_IN_BYTES} sha256=${sha256(q1)}`);
        expect(rep.output, out).toContain("mqtt: PUBACK 77");
        expect(rep.output, out).toContain("moddable: done");
        expectClean(rep);
        // The Linux subscriber's side: the device's two messages, byte for byte.
        const messages = sub.output.split("\n").filter((l) => l.startsWith("msg ")).map((l) => {
          const [, topic, qos, length, hex] = l.split(" ");
          return `${topic} qos=${qos} length=${length} sha256=${sha256(Buffer.from(hex ?? "", "hex"))}`;
        });
        expect(messages, out).toEqual([
          `${MQTT_TOPICS.q0} qos=0 length=${MQTT_Q0_TEXT.length} sha256=${sha256(new TextEncoder().encode(MQTT_Q0_TEXT))}`,
          `${MQTT_TOPICS.q1} qos=1 length=${MQTT_Q1_BYTES} sha256=${sha256(pattern251(0, MQTT_Q1_BYTES))}`,
        ]);
        expect(sub.exitCode, out).toBe(0);
        // mosquitto's log: the QoS 1 handshakes both ways, and a clean DISCONNECT.
        const log = broker.output;
        expect(log, out).toMatch(new RegExp(`Received PUBLISH from xsnet-device \\(d0, q1, r0, m77, '${MQTT_TOPICS.q1}', \\.\\.\\. \\(${MQTT_Q1_BYTES} bytes\\)\\)`));
        expect(log, out).toMatch(/Sending PUBACK to xsnet-device \(m77, rc0\)/);
        const toDevice = new RegExp(`Sending PUBLISH to xsnet-device \\(d0, q1, r0, m(\\d+), 'xsnet/linux/q1', \\.\\.\\. \\(${MQTT_IN_BYTES} bytes\\)\\)`).exec(log);
        expect(toDevice, out).not.toBeNull();
        expect(log, out).toMatch(new RegExp(`Received PUBACK from xsnet-device \\(Mid: ${toDevice?.[1]}, RC:0\\)`));
        expect(log, out).toMatch(/Received DISCONNECT from xsnet-device/);
      } finally {
        await sub?.end();
        await broker.end();
      }
    }, RUN_TIMEOUT_MS + 90_000);
  });

  const sntpSkip = partSkip("sntp", ["chronyd", "ss"]);
  describe.skipIf(sntpSkip !== null)("Moddable's SNTP client asks chronyd", () => {
    it("gets the namespace's time from chronyd, to the second", async () => {
      const chronyd = startChronyd(link.ns, dir, LINUX);
      try {
        expect(await listening("udp", LINUX, 123, 10_000), chronyd.output).toBe(true);
        const d = await startModdable("sntp", ["--server", LINUX]);
        const rep = await finished(d, RUN_TIMEOUT_MS);
        const out = `device:\n${rep.output.slice(-3000)}\nchronyd:\n${chronyd.output.slice(-2000)}`;
        const m = /sntp: time=(\d+) \(\S+\) clock=(\d+)/.exec(rep.output);
        expect(m, out).not.toBeNull();
        const time = Number(m?.[1]);
        const clock = Number(m?.[2]);
        // NTP's seconds, truncated by the module: the clock's second when chronyd answered,
        // read by the device a few ms later (100 ms allowed for the link and its loop).
        console.log(`SNTP from chronyd: ${new Date(time).toISOString()}, the namespace's clock ${new Date(clock).toISOString()} (${clock - time} ms later)`);
        expect(time % 1000, out).toBe(0);
        expect(clock - time, out).toBeGreaterThanOrEqual(0);
        expect(clock - time, out).toBeLessThan(1000 + 100);
        expect(Math.abs(Date.now() - clock), "the device's clock is this machine's").toBeLessThan(RUN_TIMEOUT_MS);
        expect(counter(rep, "udp", "inDatagrams"), out).toBeGreaterThanOrEqual(1);
        expectClean(rep);
      } finally {
        await chronyd.end();
      }
    }, RUN_TIMEOUT_MS + 60_000);
  });
});
