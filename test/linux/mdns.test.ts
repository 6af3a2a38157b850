// Linux interop of the mDNS responder (src/lan/mdns.ts, RFC 6762, 6763): the device runs
// with --hostname (host-sim/device.ts starts the responder, advertising _http._tcp on the
// status page's port) on a TAP in a namespace of the test's own (netns.ts); from Linux:
//   dig -p 5353 @DEVICE HOSTNAME.local, and a legacy unicast query to 224.0.0.251 from an
//   unconnected socket (python3): the device's address, TTL 10, id and question echoed
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

const TOOLS = ["socat", "ip", "dig", "/usr/bin/python3", "curl", "avahi-daemon", "avahi-browse", "avahi-resolve", "dbus-daemon", "unshare"];
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

  // dig 9.18 connects its socket to the server it asks: a query to 224.0.0.251 gets its
  // answer from the responder's own address (RFC 6762 6.7), which the kernel then refuses
  // (ICMP port unreachable). So dig asks the device's address on port 5353, and an
  // unconnected socket (as nss-mdns uses) asks the group.
  it("answers dig's unicast query on port 5353 for HOSTNAME.local with its address, TTL 10 (RFC 6762 6.7)", async () => {
    const r = await link.ns.run(["dig", "-p", "5353", `@${DEV}`, `${HOST}.local`, "A", "+tries=2", "+time=3", "+norecurse"], 20_000);
    expect(r.stdout, `${r.stdout}${r.stderr}\n${deviceTail()}`).toMatch(new RegExp(`^${HOST}\\.local\\.\\s+10\\s+IN\\s+A\\s+${DEV.replace(/\./g, "\\.")}$`, "m"));
    expect(r.stdout).toMatch(/status: NOERROR/);
  }, 30_000);

  it("answers a legacy unicast query sent to 224.0.0.251 from another port: id and question echoed, the address", async () => {
    const script = [
      "import socket, struct, sys",
      "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
      "s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)",
      "s.settimeout(3)",
      "name = b''.join(bytes([len(l)]) + l for l in sys.argv[1].encode().split(b'.')) + b'\\0'",
      "q = struct.pack('!HHHHHH', 0x4242, 0, 1, 0, 0, 0) + name + struct.pack('!HH', 1, 1)",
      "for attempt in range(3):",
      "    s.sendto(q, ('224.0.0.251', 5353))",
      "    try:",
      "        data, peer = s.recvfrom(1500)",
      "        break",
      "    except socket.timeout:",
      "        continue",
      "else:",
      "    sys.exit('no answer')",
      "i, flags, qd, an = struct.unpack('!HHHH', data[:8])",
      "end = 12 + len(name) + 4",
      "assert data[12:end] == q[12:], 'question not echoed'",
      "ttl, rdlen = struct.unpack('!IH', data[end + len(name) + 4:end + len(name) + 10])",
      "addr = socket.inet_ntoa(data[end + len(name) + 10:end + len(name) + 14])",
      "print(f'id={i:#x} flags={flags:#x} qd={qd} an={an} from={peer[0]}:{peer[1]} ttl={ttl} addr={addr}')",
    ].join("\n");
    const r = await link.ns.run(["/usr/bin/python3", "-c", script, `${HOST}.local`], 20_000);
    expect(r.stdout.trim(), `${r.stderr}\n${deviceTail()}`).toBe(`id=0x4242 flags=0x8400 qd=1 an=1 from=${DEV}:5353 ttl=10 addr=${DEV}`);
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
