// The DHCP client against a real server nobody here wrote: dnsmasq, in the test's own
// namespace, bound to the TAP's 169.254.77.1, leases the device an address (--dhcp); the
// kernel pings it and curl fetches the status page from it; dnsmasq's lease file shows the
// device's MAC, address and hostname, and dnsmasq's DNS answers for that hostname with it
// (dig). The lease's NTP server is chronyd in the same namespace, which the SNTP client then
// asks. Last, a device in client mode leases an address again and resolves a name through the
// lease's DNS server (dnsmasq) before it connects to an echo server by that name. Needs root, /dev/net/tun, socat, dnsmasq, dig, ping, curl and chronyd; skipped (one
// line) otherwise.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join as joinPath } from "node:path";
import { DEVICE_MAC, DeviceLink, SCAPY_DIR, SYSTEM_PYTHON, counter, linuxSkipReason, sleep, type Started, startChronyd } from "./netns";

const TOOLS = ["socat", "ip", "ping", "curl", "dnsmasq", "dig", "chronyd", SYSTEM_PYTHON];
const skipReason = linuxSkipReason(TOOLS);
if (skipReason !== null) console.log(`test/linux/dhcp.test.ts skipped: ${skipReason}`);

const HOSTNAME = "xsnet-dhcp";
const DOMAIN = "xsnet.test";

describe.skipIf(skipReason !== null)("DHCP client against dnsmasq (namespace, socat, UDP link)", () => {
  const dir = skipReason === null ? mkdtempSync(join(tmpdir(), "xsnet-dhcp-")) : "";
  const leaseFile = join(dir, "dnsmasq.leases");
  const link = new DeviceLink({ tag: "d", noIpv6: true });
  let dnsmasq: Started | null = null;
  let chronyd: Started | null = null;
  let leased = "";

  beforeAll(async () => {
    await link.up();
    dnsmasq = link.ns.start([
      "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--user=root", "--group=root",
      `--pid-file=${join(dir, "dnsmasq.pid")}`, `--dhcp-leasefile=${leaseFile}`,
      `--interface=${link.tap}`, "--bind-interfaces", `--listen-address=${link.linuxAddr}`,
      "--no-resolv", "--no-hosts", `--domain=${DOMAIN}`, `--host-record=echo.${DOMAIN},${link.linuxAddr}`,
      "--dhcp-range=169.254.77.50,169.254.77.99,255.255.255.0,10m", "--dhcp-authoritative",
      `--dhcp-option=option:router,${link.linuxAddr}`, `--dhcp-option=option:ntp-server,${link.linuxAddr}`,
      "--log-dhcp", "--log-facility=-",
    ], "dnsmasq");
    if (!(await dnsmasq.waitFor(/DHCP, IP range/, 10_000))) throw new Error(`dnsmasq did not start:\n${dnsmasq.output}`);
    chronyd = startChronyd(link.ns, dir, link.linuxAddr);
    await link.startDevice(["--dhcp", "--hostname", HOSTNAME]);
  }, 60_000);

  afterAll(async () => {
    const note = await link.down();
    if (note !== "") console.log(note);
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const tail = (): string => `device:\n${(link.device?.output ?? "").slice(-2500)}\ndnsmasq:\n${(dnsmasq?.output ?? "").slice(-2500)}`;

  it("leases an address (DISCOVER after the random wait, ARP probes, then bound) with dnsmasq's router and NTP server", async () => {
    const d = link.device as Started;
    expect(await d.waitFor(/dhcp: lease /, 30_000), tail()).toBe(true);
    const m = /dhcp: lease (169\.254\.77\.\d+)\/24 router 169\.254\.77\.1 dns 169\.254\.77\.1 ntp 169\.254\.77\.1 for 600 s from 169\.254\.77\.1/.exec(d.output);
    expect(m, tail()).not.toBeNull();
    leased = (m as RegExpExecArray)[1];
    expect(d.output).toMatch(/dhcp: selecting\n(.*\n)*dhcp: requesting\n(.*\n)*dhcp: probing\n(.*\n)*dhcp: bound/);
    expect(dnsmasq?.output).toMatch(new RegExp(`DHCPACK\\(${link.tap}\\) ${leased.replace(/\./g, "\\.")} ${DEVICE_MAC} ${HOSTNAME}`));
  }, 40_000);

  it("the kernel pings the leased address, and curl gets the status page from it", async () => {
    expect(leased).not.toBe("");
    const ping = await link.ns.run(["ping", "-c", "3", "-i", "0.2", "-W", "2", leased], 15_000);
    expect(ping.code, ping.stdout + ping.stderr).toBe(0);
    const curl = await link.ns.run(["curl", "-s", "--max-time", "10", `http://${leased}/`], 15_000);
    expect(curl.code, curl.stderr).toBe(0);
    const status = JSON.parse(curl.stdout) as { hostname: string; address: string };
    expect(status).toMatchObject({ hostname: HOSTNAME, address: leased });
  }, 30_000);

  it("dnsmasq's lease file names the device (MAC, address, hostname), and its DNS answers for the hostname", async () => {
    expect(leased).not.toBe("");
    let leases = "";
    for (let i = 0; i < 50 && !leases.includes(HOSTNAME); i++) {
      try {
        leases = readFileSync(leaseFile, "utf8");
      } catch {
        // not written yet
      }
      if (!leases.includes(HOSTNAME)) await sleep(100);
    }
    expect(leases).toMatch(new RegExp(`^\\d+ ${DEVICE_MAC} ${leased.replace(/\./g, "\\.")} ${HOSTNAME} 01:${DEVICE_MAC}$`, "m"));
    const dig = await link.ns.run(["dig", "+short", "+time=2", "+tries=2", `@${link.linuxAddr}`, `${HOSTNAME}.${DOMAIN}`, "A"], 10_000);
    expect(dig.stdout.trim(), dig.stderr).toBe(leased);
  }, 20_000);

  it("mDNS answers HOSTNAME.local with the leased address once the lease is bound (dig -p 5353)", async () => {
    expect(leased).not.toBe("");
    let answer = "";
    for (let i = 0; i < 20 && answer !== leased; i++) {
      const dig = await link.ns.run(["dig", "+short", "+time=1", "+tries=1", "-p", "5353", `@${leased}`, `${HOSTNAME}.local`, "A"], 5000);
      answer = dig.stdout.trim();
      if (answer !== leased) await sleep(250);
    }
    expect(answer, tail()).toBe(leased);
  }, 20_000);

  it("asks the lease's NTP server (chronyd) for the time, and gets the namespace's clock within a second", async () => {
    const d = link.device as Started;
    const line = /sntp: time (\S+) \((\d+)\) offset (-?[\d.]+) ms delay ([\d.]+) ms from (\S+) clock=(\d+)/;
    expect(await d.waitFor(line, 20_000), `${tail()}\nchronyd:\n${chronyd?.output.slice(-1500)}`).toBe(true);
    const m = line.exec(d.output) as RegExpExecArray;
    expect(m[5]).toBe(link.linuxAddr);
    expect(Math.abs(Number(m[6]) - Number(m[2]))).toBeLessThan(1000);
  }, 30_000);

  it("stops on SIGTERM bound, its pool full", async () => {
    const r = await link.stopDevice();
    expect(r.exitCode, r.output.slice(-2000)).toBe(0);
    expect(r.poolFull).toBe(true);
    expect(r.output).toMatch(/dhcp: state=bound /);
    expect(counter(r, "dhcp", "leases")).toBe(1);
    expect(counter(r, "dhcp", "malformed")).toBe(0);
  }, 20_000);

  it("in client mode: a lease, then the lease's DNS server resolves the echo server's name, and the echo comes back intact", async () => {
    const port = 40007;
    const bytes = 100_000;
    const server = link.ns.start([SYSTEM_PYTHON, joinPath(SCAPY_DIR, "echo_server.py"), "--bind", link.linuxAddr, "--port", String(port), "--timeout", "60"], "echo_server");
    expect(await server.waitFor(`listening ${port}`, 10_000), server.output).toBe(true);
    const d = await link.startDevice(["--dhcp", "--hostname", HOSTNAME, "--connect", `echo.${DOMAIN}:${port}`, "--send", String(bytes)], false);
    if (!(await d.waitExit(60_000))) {
      d.signal("SIGTERM");
      await d.waitExit(15_000);
    }
    await server.end();
    const out = `device:\n${d.output.slice(-3000)}\nserver:\n${server.output}`;
    expect(d.output, out).toMatch(/dhcp: lease 169\.254\.77\.\d+\/24 router 169\.254\.77\.1 dns 169\.254\.77\.1 /);
    expect(d.output, out).toContain(`dns: echo.${DOMAIN} is ${link.linuxAddr}`);
    expect(d.output, out).toMatch(new RegExp(`client: ${bytes} bytes sent to echo\\.xsnet\\.test:${port} and echoed back intact`));
    expect(d.exitCode, out).toBe(0);
    expect(d.output, out).toContain("pool: full again");
  }, 90_000);
});
