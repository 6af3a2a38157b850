// Linux interop: the device's SNTP client (src/lan/sntp.ts, `--ntp`) against chronyd, which
// nobody here wrote, serving the namespace's clock (local stratum 8; -x: it never touches the
// clock; its files in the test's directory; bound to the TAP's address; ended by its pid, as
// test/linux/moddable.test.ts runs it). The device logs the time it got with its own
// Date.now() beside it: the two within a second, and both within a second of this process's
// clock when the line arrives; then the device stops with its pool full.
// Needs root, /dev/net/tun, socat, ip, ss and chronyd; skipped (one line) otherwise.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeviceLink, counter, linuxSkipReason, sleep, startChronyd } from "./netns";

const FILE = "test/linux/sntp.test.ts";
const skipReason = linuxSkipReason(["socat", "ip", "ss", "chronyd"]);
if (skipReason !== null) console.log(`${FILE} skipped: ${skipReason}`);

describe.skipIf(skipReason !== null)("the device's SNTP client asks chronyd (namespace, socat, UDP link)", () => {
  const dir = skipReason === null ? mkdtempSync(join(tmpdir(), "xsnet-sntp-")) : "";
  const link = new DeviceLink({ tag: "ntp" });
  const LINUX = link.linuxAddr;

  beforeAll(async () => {
    await link.up();
  }, 60_000);

  afterAll(async () => {
    const note = await link.down();
    if (note !== "") console.log(note);
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  async function listeningUdp(addr: string, port: number, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const r = await link.ns.run(["ss", "-Hn", "-lu", "src", `${addr}:${port}`], 5000);
      if (r.stdout.includes(`${addr}:${port}`)) return true;
      await sleep(100);
    }
    return false;
  }

  it("gets the namespace's time from chronyd, within a second", async () => {
    const chronyd = startChronyd(link.ns, dir, LINUX);
    try {
      expect(await listeningUdp(LINUX, 123, 10_000), chronyd.output).toBe(true);
      const d = await link.startDevice(["--ntp", LINUX]);
      const line = /sntp: time (\S+) \((\d+)\) offset (-?[\d.]+) ms delay ([\d.]+) ms from (\S+) clock=(\d+)/;
      const got = await d.waitFor(line, 20_000);
      const seenAt = Date.now();
      const out = (): string => `device:\n${d.output.slice(-3000)}\nchronyd:\n${chronyd.output.slice(-2000)}`;
      expect(got, out()).toBe(true);
      const m = line.exec(d.output) as RegExpExecArray;
      const time = Number(m[2]);
      const clock = Number(m[6]);
      console.log(`SNTP from chronyd: ${m[1]}, the device's clock ${new Date(clock).toISOString()} (${clock - time} ms apart), delay ${m[4]} ms`);
      expect(new Date(time).toISOString(), out()).toBe(m[1]);
      expect(m[5]).toBe(LINUX);
      expect(Math.abs(clock - time), out()).toBeLessThan(1000);
      expect(Math.abs(seenAt - time), out()).toBeLessThan(1000 + 100);
      const rep = await link.stopDevice();
      expect(rep.exitCode, rep.output).toBe(0);
      expect(rep.poolFull, rep.output).toBe(true);
      expect(counter(rep, "app sntp", "replies"), rep.output).toBeGreaterThanOrEqual(1);
      expect(counter(rep, "app sntp", "notOurs") + counter(rep, "app sntp", "badMode") + counter(rep, "app sntp", "unsynced"), rep.output).toBe(0);
    } finally {
      await chronyd.end();
    }
  }, 90_000);
});
