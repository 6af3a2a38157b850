// Linux interop of the mDNS responder (src/lan/mdns.ts, RFC 6762, 6763): the device runs
// with --hostname (host-sim/device.ts starts the responder, advertising _http._tcp on the
// status page's port) on a TAP in a namespace of the test's own (netns.ts); from Linux:
//   dig -p 5353 @224.0.0.251 HOSTNAME.local   legacy unicast: the device's address
//   avahi-daemon (its own dbus-daemon, both started in the namespace and ended by pid; the
//   daemon in a private mount namespace with its own /run, no chroot, no rlimits):
//   avahi-browse -rpt _http._tcp finds the service with port 80 and its TXT record,
//   avahi-resolve -n HOSTNAME.local the address
//   curl http://ADDRESS/ (the resolved address) gets the status page
// then the device stops (goodbye packets) with its pool full. Needs root and the tools below.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeviceLink, linuxSkipReason, sleep, type DeviceReport } from "./netns";

const TOOLS = ["socat", "ip", "dig", "curl", "avahi-daemon", "avahi-browse", "avahi-resolve", "dbus-daemon", "unshare"];
const skipReason = linuxSkipReason(TOOLS);
if (skipReason !== null) console.log(`test/linux/mdns.test.ts skipped: ${skipReason}`);

const HOST = "xsnet";

describe.skipIf(skipReason !== null)("mDNS and DNS-SD from Linux tools (dig, avahi)", () => {
  const dir = skipReason === null ? mkdtempSync(join(tmpdir(), "xsnet-mdns-")) : "";
  const link = new DeviceLink({ tag: "m", noIpv6: true });
  const DEV = link.deviceAddr;
  const bus = `unix:path=${join(dir, "bus")}`;
  let report: DeviceReport | null = null;

  beforeAll(async () => {
    await link.up();
    // multicast out of the TAP (the namespace has no default route)
    const route = await link.ns.run(["ip", "route", "add", "224.0.0.0/4", "dev", link.tap], 5000);
    if (route.code !== 0) throw new Error(`multicast route: ${route.stderr}`);
    const d = await link.startDevice(["--hostname", HOST]);
    if (!(await d.waitFor(`mDNS: ${HOST}.local`, 10_000))) throw new Error(`no responder:\n${d.output}`);
    // probing and announcing take under 2 s (RFC 6762 8)
    await sleep(2500);
  }, 60_000);

  afterAll(async () => {
    const note = await link.down();
    if (note !== "") console.log(note);
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const deviceTail = (): string => (link.device?.output ?? "").slice(-3000);

  it("answers dig's legacy unicast query for HOSTNAME.local with its address (RFC 6762 6.7)", async () => {
    const r = await link.ns.run(["dig", "-p", "5353", "@224.0.0.251", `${HOST}.local`, "A", "+tries=2", "+time=3", "+norecurse"], 20_000);
    expect(r.stdout, `${r.stdout}${r.stderr}\n${deviceTail()}`).toMatch(new RegExp(`^${HOST}\\.local\\.\\s+10\\s+IN\\s+A\\s+${DEV.replace(/\./g, "\\.")}$`, "m"));
    expect(r.stdout).toMatch(/status: NOERROR/);
  }, 30_000);

  it("is found by avahi: the _http._tcp service with its port and TXT record, and HOSTNAME.local's address; curl gets the status page", async () => {
    writeFileSync(join(dir, "dbus.conf"), [
      '<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">',
      "<busconfig>",
      "  <type>system</type>",
      `  <listen>${bus}</listen>`,
      "  <auth>EXTERNAL</auth>",
      '  <policy context="default">',
      '    <allow user="*"/>', '    <allow own="*"/>', '    <allow send_destination="*"/>', '    <allow receive_sender="*"/>',
      "  </policy>",
      "</busconfig>",
      "",
    ].join("\n"));
    writeFileSync(join(dir, "avahi.conf"), [
      "[server]", "host-name=xsnet-linux-peer", "use-ipv4=yes", "use-ipv6=no", `allow-interfaces=${link.tap}`, "enable-dbus=yes",
      "ratelimit-interval-usec=1000000", "ratelimit-burst=1000",
      "[wide-area]", "enable-wide-area=no",
      "[publish]", "disable-publishing=yes",
      "[reflector]", "[rlimits]", "",
    ].join("\n"));
    const dbus = link.ns.start(["dbus-daemon", `--config-file=${join(dir, "dbus.conf")}`, "--nofork", "--nopidfile", "--print-address"], "dbus-daemon");
    expect(await dbus.waitFor("unix:", 10_000), dbus.output).toBe(true);
    // its own /run (the pid file, the socket) in a private mount namespace
    const avahi = link.ns.start([
      "unshare", "-m", "--propagation", "private", "sh", "-c",
      `mount -t tmpfs tmpfs /run && exec env DBUS_SYSTEM_BUS_ADDRESS=${bus} avahi-daemon -f ${join(dir, "avahi.conf")} --no-chroot --no-drop-root --no-rlimits --no-proc-title`,
    ], "avahi-daemon");
    expect(await avahi.waitFor(/Server startup complete/, 15_000), avahi.output).toBe(true);
    const env = ["env", `DBUS_SYSTEM_BUS_ADDRESS=${bus}`];
    let browse = "";
    for (let i = 0; i < 5 && !/^=;.*;_http\._tcp;local;/m.test(browse); i++) {
      browse = (await link.ns.run([...env, "avahi-browse", "-rpt", "_http._tcp"], 20_000)).stdout;
    }
    // =;IFACE;IPv4;NAME;TYPE;DOMAIN;HOST;ADDRESS;PORT;TXT
    const line = browse.split("\n").find((l) => l.startsWith("=;") && l.includes(`;${HOST};`));
    expect(line, `${browse}\n${avahi.output}\n${deviceTail()}`).toBeDefined();
    const f = (line as string).split(";");
    expect([f[2], f[3], f[5], f[6], f[7], f[8], f[9]]).toEqual(["IPv4", HOST, "local", `${HOST}.local`, DEV, "80", '"path=/"']);
    const resolved = await link.ns.run([...env, "avahi-resolve", "-4", "-n", `${HOST}.local`], 20_000);
    expect(resolved.stdout.trim(), resolved.stderr).toBe(`${HOST}.local\t${DEV}`);
    const page = await link.ns.run(["curl", "-sS", "--max-time", "10", `http://${f[7]}/`], 20_000);
    expect(page.code, page.stderr).toBe(0);
    expect(page.stdout).toContain(HOST);
  }, 120_000);

  it("stops with goodbye packets sent and its pool full", async () => {
    report = await link.stopDevice();
    expect(report.output).toMatch(new RegExp(`mDNS: ${HOST}\\.local; .*"goodbyesSent":1`));
    expect(report.poolFull, report.output.slice(-2000)).toBe(true);
  }, 30_000);
});
