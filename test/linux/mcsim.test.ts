// Linux interop with the device app running in Moddable's own runtime: examples/device-app
// built for lin by mcconfig (TypeScript 7 as tsc), run headless in Moddable's simulator
// (mcsim under xvfb-run), its interface the UDP frame link (drivers/udp-frame-link.ts), on
// socat's TAP in a namespace of the test's own (see netns.ts for the set-up and its rules).
// Twice: over Moddable's own embedded:io/socket/udp (socket=moddable), then over FrameSocket
// (socket=frames, examples/device-app/lin/frame-socket.ts and .c). Each time the kernel
// pings it at every size from 0 to 1,600 bytes and at the fragment boundaries up to 65,507
// (the largest an IPv4 datagram carries; the app runs the Node device mode's sizes, with
// room to reassemble 45 fragments), every byte of every reply checked; curl reads the status
// page and 100 KB of /bytes; nc moves data through TCP echo and into discard and reads
// chargen, every byte checked; UDP echo up to 65,507 bytes; then the status page shows no
// receive error and the trace no XS abort. Moddable's lin UDP class reads one datagram per
// 20 ms (its task interval), so the app receives at most 50 frames a second through it: its
// transfers are 200 KB, FrameSocket's 2 MB. The second build reuses the first's XS objects,
// and runs while the first app is tested.
// Needs root, /dev/net/tun, the tools below, a built Moddable SDK and xvfb-run; skipped
// (one line) otherwise.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDeviceApp, mcsimArgs, mcsimSkipReason, MCSIM_UP, type McsimBuild } from "../../host-sim/mcsim";
import {
  ChargenCheck, DeviceLink, Mod251Check, PORT_DEVICE, PORT_SOCAT, SYSTEM_PYTHON, SeededBytes, SeededCheck, lastJson, linuxSkipReason, python,
  streamCommand, type Started,
} from "./netns";

const TOOLS = ["socat", "ip", "ping", "curl", "nc", SYSTEM_PYTHON];
const skipReason = linuxSkipReason(TOOLS) ?? mcsimSkipReason();
if (skipReason !== null) console.log(`test/linux/mcsim.test.ts skipped: ${skipReason}`);

const ECHO_SEED = 0x5eed;
/** every size to the first fragment boundary and past it; then around each further boundary (1472 + 1480k) and the largest */
const PING_SIZES = "0-1600,2951-2953,4431-4433,8871-8873,16000,32000,63631-63633,65000,65507";

const dir = skipReason === null ? mkdtempSync(join(tmpdir(), "xsnet-mcsim-")) : "";
afterAll(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

/** One build after the other (they share XS's objects); each starts when the one before it is done. */
const builds = new Map<string, Promise<McsimBuild>>();
function build(socket: string, config: Record<string, string>): Promise<McsimBuild> {
  const before = [...builds.values()].pop() ?? Promise.resolve(null);
  const next = before.catch(() => null).then(() => buildDeviceApp({ outDir: dir, name: `xsnet-${socket}`, config: { ...config, socket } }));
  builds.set(socket, next);
  return next;
}

/** socket: the UDP class under the link; bulk: bytes through each TCP service */
const VARIANTS = [
  { socket: "moddable", what: "Moddable's embedded:io/socket/udp", bulk: 200_000 },
  { socket: "frames", what: "FrameSocket", bulk: 2_000_000 },
] as const;

for (const { socket, what, bulk: BULK } of VARIANTS) describe.skipIf(skipReason !== null)(`the device app in Moddable's simulator (mcsim) on a TAP link, over ${what}`, () => {
  const link = new DeviceLink({ tag: socket[0] });
  const DEV = link.deviceAddr;
  let app: Started | null = null;
  const trace = (): string => (app?.output ?? "").slice(-3000);

  beforeAll(async () => {
    // About a minute: mcconfig, tsc per module, xsc, xsl, the C compiler. The next variant's
    // build is started as soon as this one is done.
    const config = { link: `udp:${PORT_DEVICE}:${PORT_SOCAT}`, ip: `${DEV}/${link.prefix}` };
    const made = await (builds.get(socket) ?? build(socket, config));
    const next = VARIANTS[VARIANTS.findIndex((v) => v.socket === socket) + 1];
    if (next !== undefined && !builds.has(next.socket)) void build(next.socket, config).catch(() => {});
    await link.up();
    app = link.ns.start(mcsimArgs(made.mcSo, 900), "mcsim");
    if (!(await app.waitFor(MCSIM_UP, 60_000))) throw new Error(`the app did not come up in mcsim:\n${app.output}`);
    expect(app.output).toContain(socket === "frames" ? "(FrameSocket)" : "(embedded:io/socket/udp)");
  }, 300_000);

  afterAll(async () => {
    const note = await link.down();
    if (note !== "") console.log(note);
  }, 60_000);

  it(`answers ping at every size in ${PING_SIZES}, every byte of every reply checked`, async () => {
    const r = await python(link.ns, "ping_sweep.py", ["--dst", DEV, "--sizes", PING_SIZES, "--wait", "3"], 240_000);
    const out = lastJson(r.stdout);
    expect(out, `ping_sweep.py: ${r.stdout}${r.stderr}\n${trace()}`).not.toBeNull();
    expect(out?.failed, `ping_sweep.py: ${r.stdout}\n${trace()}`).toEqual([]);
    expect(out?.answered).toBe(out?.sizes);
    expect(out?.sizes).toBe(1601 + 3 * 4 + 4);
    console.log(`mcsim (${socket}): ${out?.sizes} ping sizes answered in ${out?.ms} ms`);
  }, 250_000);

  it("serves GET / as JSON, naming its address", async () => {
    const r = await link.ns.run(["curl", "-sS", "--max-time", "20", "-D", "-", `http://${DEV}/`], 30_000);
    expect(r.code, `curl exit ${r.code}: ${r.stderr}\n${trace()}`).toBe(0);
    const [head, ...rest] = r.stdout.split(/\r\n\r\n/);
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    const status = JSON.parse(rest.join("\r\n\r\n")) as { hostname: string; address: string; devices: Record<string, Record<string, number>> };
    expect(status.hostname).toBe("xsnet");
    expect(status.address).toBe(DEV);
    expect(status.devices.eth0.rx_packets).toBeGreaterThan(0);
  }, 40_000);

  it("serves GET /bytes/100000 with byte i = i % 251 (curl)", async () => {
    const check = new Mod251Check();
    const r = await streamCommand(link.ns.name, ["curl", "-sS", "--max-time", "60", `http://${DEV}/bytes/100000`], { check, timeoutMs: 70_000 });
    expect(r.code, `curl: exit ${r.code} ${r.stderr}\n${trace()}`).toBe(0);
    expect(r.received).toBe(100_000);
    expect(r.mismatchAt, "first wrong byte").toBe(-1);
  }, 80_000);

  it(`echoes ${BULK / 1000} KB on TCP 7 intact (nc)`, async () => {
    const src = new SeededBytes(ECHO_SEED);
    const check = new SeededCheck(ECHO_SEED);
    const r = await streamCommand(link.ns.name, ["nc", "-N", "-w", "30", DEV, "7"], { sendBytes: BULK, source: (n) => src.next(n), check, timeoutMs: 120_000 });
    expect(r.timedOut, `nc timed out: ${r.received} of ${BULK} back\n${trace()}`).toBe(false);
    expect(r.received, `${r.stderr}\n${trace()}`).toBe(BULK);
    expect(r.mismatchAt, "first wrong byte").toBe(-1);
    console.log(`mcsim (${socket}): echo ${BULK} bytes in ${r.ms} ms`);
  }, 130_000);

  it(`takes ${BULK / 1000} KB into discard (nc), and its counter says so`, async () => {
    const r = await streamCommand(link.ns.name, ["nc", "-N", "-w", "30", DEV, "9"], { sendBytes: BULK, source: (n) => new Uint8Array(n).fill(0x5a), timeoutMs: 120_000 });
    expect(r.code, `nc: exit ${r.code} ${r.stderr}\n${trace()}`).toBe(0);
    const s = await link.ns.run(["curl", "-sS", "--max-time", "20", `http://${DEV}/`], 30_000);
    const status = JSON.parse(s.stdout) as { services: { discard: { bytesIn: number } } };
    expect(status.services.discard.bytesIn).toBe(BULK);
    console.log(`mcsim (${socket}): discard ${BULK} bytes in ${r.ms} ms`);
  }, 130_000);

  it(`sends ${BULK / 1000} KB of chargen, every byte as RFC 864 (nc)`, async () => {
    const check = new ChargenCheck();
    const r = await streamCommand(link.ns.name, ["nc", "-d", DEV, "19"], { check, readLimit: BULK, timeoutMs: 120_000 });
    expect(r.timedOut, `nc timed out after ${r.received} bytes\n${trace()}`).toBe(false);
    expect(r.received).toBe(BULK);
    expect(r.mismatchAt, "first wrong byte").toBe(-1);
    console.log(`mcsim (${socket}): chargen ${BULK} bytes in ${r.ms} ms`);
  }, 130_000);

  it("echoes UDP datagrams up to 65,507 bytes on port 7", async () => {
    const r = await python(link.ns, "udp_echo.py", ["--dst", DEV, "--wait", "4"], 120_000);
    const out = lastJson(r.stdout);
    expect(out, `udp_echo.py: ${r.stdout}${r.stderr}\n${trace()}`).not.toBeNull();
    expect(out?.all_ok, `udp_echo.py: ${r.stdout}`).toBe(true);
  }, 130_000);

  it("after all of it: no frame the link refused, no XS abort, and the app still answers", async () => {
    const s = await link.ns.run(["curl", "-sS", "--max-time", "20", `http://${DEV}/`], 30_000);
    expect(s.code, `curl: ${s.stderr}\n${trace()}`).toBe(0);
    const status = JSON.parse(s.stdout) as { devices: Record<string, Record<string, number>>; services: { app: { errors: number } } };
    const eth0 = status.devices.eth0;
    expect(eth0.rx_errors).toBe(0);
    expect(eth0.rx_dropped).toBe(0);
    expect(eth0.tx_errors).toBe(0);
    expect(status.services.app.errors).toBe(0);
    expect(app?.output).not.toMatch(/XS abort|stack overflow/);
    expect(app?.running).toBe(true);
  }, 40_000);
});
