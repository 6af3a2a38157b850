// Linux interop: the stack as a device on a TAP in a network namespace of its own, with
// the real kernel on the other side (socat carries frames between the TAP and the
// device's UDP link). Ping at 56, 1472, 4000 and 65000 bytes (the last fragmented both
// ways and reassembled by each side), arping, a clean shutdown with the pool full again,
// and tshark finds no malformed frame and no bad IPv4 or ICMP checksum in the capture.
// Needs root, /dev/net/tun, socat, ip, ping, arping, tshark; skipped (one line) otherwise.

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeviceLink, linuxSkipReason, tsharkCount } from "./netns";

const skipReason = linuxSkipReason(["socat", "ip", "ping", "arping", "tshark"]);
if (skipReason !== null) console.log(`test/linux/tap.test.ts skipped: ${skipReason}`);

describe.skipIf(skipReason !== null)("Linux interop over a TAP (namespace, socat, UDP link)", () => {
  const dir = skipReason === null ? mkdtempSync(join(tmpdir(), "xsnet-tap-")) : "";
  const pcapPath = join(dir, "device.pcap");
  // IPv6 stays on: the kernel's router solicitations and MLD reports must be counted
  // as unknown ethertypes and dropped, not trip the stack.
  const link = new DeviceLink({ tag: "t" });
  const DEVICE_ADDR = link.deviceAddr;
  const TAP = link.tap;

  beforeAll(async () => {
    await link.up();
    await link.startDevice(["--pcap", pcapPath]);
  }, 60_000);

  afterAll(async () => {
    // Only what we started, by pid; then the namespace (its TAP goes with socat).
    await link.down();
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  for (const size of [56, 1472, 4000, 65000]) {
    it(`answers ping -s ${size} from the kernel, 3 of 3`, async () => {
      const r = await link.ns.run(["ping", "-n", "-c", "3", "-i", "0.2", "-W", "2", "-s", String(size), DEVICE_ADDR], 15_000);
      expect(r.stdout, `ping -s ${size}:\n${r.stdout}${r.stderr}\ndevice:\n${link.device?.output}`).toMatch(/3 packets transmitted, 3 received/);
      expect(r.code).toBe(0);
    }, 20_000);
  }

  it("answers arping, 3 of 3", async () => {
    const r = await link.ns.run(["arping", "-c", "3", "-I", TAP, DEVICE_ADDR], 15_000);
    // Habets' arping ("3 packets received") or iputils' ("Received 3 response(s)")
    expect(`${r.stdout}${r.stderr}`, `arping:\n${r.stdout}${r.stderr}`).toMatch(/3 packets transmitted, 3 packets received|Received 3 response/);
  }, 20_000);

  it("stops on SIGTERM with exit code 0, the counters, and a full pool", async () => {
    const d = link.device;
    if (d === null) throw new Error("no device");
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
