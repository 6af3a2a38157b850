// Linux interop: the device's IGMP reports, seen on the TAP in a namespace of the test's own
// (netns.ts). The device joins 239.1.2.3 and 224.0.0.251 (--join); Linux, as a querier
// (test/linux/scapy/igmp_querier.py: a raw IGMP socket, standard library only), sends a
// version 3 and then a version 2 General Query and collects the device's answers from a
// packet socket: a v3 report of IS_EX({}) records to 224.0.0.22, then a v2 report to each
// group, each with TTL 1, Router Alert and a good checksum, within Max Resp Time. tshark reads
// the device's capture: the unsolicited v3 reports on join, and nothing malformed.
// Needs root, /dev/net/tun, socat, ip, tshark and python3; skipped (one line) otherwise.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEVICE_MAC, DeviceLink, SYSTEM_PYTHON, lastJson, linuxSkipReason, python, sleep, tsharkCount, tsharkShow } from "./netns";

const TOOLS = ["socat", "ip", "tshark", SYSTEM_PYTHON];
const skipReason = linuxSkipReason(TOOLS);
if (skipReason !== null) console.log(`test/linux/igmp.test.ts skipped: ${skipReason}`);

interface IgmpSeen {
  t: number;
  type: number;
  dst: string;
  dstMac: string;
  ttl: number;
  routerAlert: boolean;
  checksumOk: boolean;
  group?: string;
  records?: [number, string][];
}

describe.skipIf(skipReason !== null)("IGMP reports of the device, from Linux (namespace, socat, UDP link)", () => {
  const dir = skipReason === null ? mkdtempSync(join(tmpdir(), "xsnet-igmp-")) : "";
  const pcapPath = join(dir, "device.pcap");
  const link = new DeviceLink({ tag: "g" });
  const DEV = link.deviceAddr;

  /** One query of `version`, and what the device sent in the next `waitS` seconds. */
  async function query(version: number, waitS: number): Promise<IgmpSeen[]> {
    const r = await python(link.ns, "igmp_querier.py", [String(version), link.tap, link.linuxAddr, DEV, String(waitS), "10"], 30_000);
    const out = lastJson(r.stdout);
    expect(out, `igmp_querier.py: ${r.stdout}${r.stderr}`).not.toBeNull();
    return (out as { messages: IgmpSeen[] }).messages;
  }

  beforeAll(async () => {
    await link.up();
    await link.startDevice(["--join", "239.1.2.3,224.0.0.251", "--pcap", pcapPath]);
    await sleep(2500); // the unsolicited reports and their repeats (RFC 3376 5.1: within 1 s)
  }, 60_000);

  afterAll(async () => {
    if (link.device?.running === true) await link.stopDevice().catch(() => undefined);
    const note = await link.down();
    if (note !== "") console.log(note);
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("answers a v3 General Query with one v3 report of IS_EX({}) records to 224.0.0.22, within Max Resp Time (1 s)", async () => {
    const seen = await query(3, 2.5);
    expect(seen.length, JSON.stringify(seen)).toBe(1);
    const m = seen[0];
    expect(m).toMatchObject({ type: 0x22, dst: "224.0.0.22", dstMac: "01005e000016", ttl: 1, routerAlert: true, checksumOk: true });
    expect(m.records).toEqual([[2, "239.1.2.3"], [2, "224.0.0.251"]]);
    expect(m.t).toBeLessThan(1.5);
  }, 40_000);

  it("answers a v2 General Query with a v2 report to each group (the interface now in v2 mode)", async () => {
    const seen = await query(2, 2.5);
    expect(seen.map((m) => m.group).sort(), JSON.stringify(seen)).toEqual(["224.0.0.251", "239.1.2.3"]);
    for (const m of seen) {
      expect(m).toMatchObject({ type: 0x16, dst: m.group, ttl: 1, routerAlert: true, checksumOk: true });
      expect(m.t).toBeLessThan(1.5);
    }
  }, 40_000);

  it("stops with its pool full; the capture holds the reports on join and nothing malformed (tshark)", async () => {
    const report = await link.stopDevice();
    expect(report.exitCode, report.output.slice(-3000)).toBe(0);
    expect(report.poolFull, report.output.slice(-3000)).toBe(true);
    const fromDevice = `eth.src == ${DEVICE_MAC} && igmp`;
    // two CHANGE_TO_EXCLUDE records a group on join (Robustness Variable 2), then the answer
    expect(await tsharkCount(pcapPath, `${fromDevice} && igmp.type == 0x22 && igmp.record_type == 4`)).toBe(4);
    expect(await tsharkCount(pcapPath, `${fromDevice} && igmp.type == 0x16`)).toBe(2);
    const bad = `${fromDevice} && (_ws.malformed || _ws.expert.severity >= error || ip.checksum.status == "Bad")`;
    expect(await tsharkCount(pcapPath, bad), await tsharkShow(pcapPath, bad)).toBe(0);
  }, 60_000);
});
