// Linux interop: the device's DNS resolver (src/lan/dns-resolver.ts) against dnsmasq, a DNS
// server nobody here wrote, serving names only (no DHCP, no upstream, no /etc/hosts) on the
// namespace's TAP address, port 53. The device in client mode (--dns ADDR --connect
// NAME:PORT --send N) resolves a CNAME to the TAP address, connects to a python3 echo server
// there and checks the echo; a name dnsmasq does not have is reported as NXDOMAIN and the
// device exits non-zero. dig checks dnsmasq's answers first. Needs root, /dev/net/tun and the
// tools below; skipped (one line) otherwise. dnsmasq runs only inside the test's namespace,
// bound to its 169.254.0.0/16 address, and is ended by its pid.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeviceLink, SCAPY_DIR, SYSTEM_PYTHON, lastJson, linuxSkipReason, sleep, type Started } from "./netns";

const TOOLS = ["socat", "ip", "dnsmasq", "dig", SYSTEM_PYTHON];
const skipReason = linuxSkipReason(TOOLS);
if (skipReason !== null) console.log(`test/linux/dns.test.ts skipped: ${skipReason}`);

const ECHO_PORT = 40053;
const BYTES = 200_000;

describe.skipIf(skipReason !== null)("the device's DNS resolver against dnsmasq (namespace, socat, UDP link)", () => {
  const dir = skipReason === null ? mkdtempSync(join(tmpdir(), "xsnet-dns-")) : "";
  const link = new DeviceLink({ tag: "d", noIpv6: true });
  const LINUX = link.linuxAddr;
  let dnsmasq: Started | null = null;

  beforeAll(async () => {
    await link.up();
    dnsmasq = link.ns.start([
      "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--pid-file=",
      `--listen-address=${LINUX}`, "--bind-interfaces", "--port=53", "--user=root", "--log-queries", "--log-facility=-",
      // Names only: ".lan" is answered from here (NXDOMAIN for the rest), never forwarded.
      "--local=/lan/", "--local-ttl=60", `--host-record=echo-host.lan,${LINUX}`, "--cname=alias.lan,echo-host.lan",
    ], "dnsmasq");
    let ready = false;
    for (let i = 0; i < 50 && !ready && dnsmasq.running; i++) {
      const r = await link.ns.run(["dig", `@${LINUX}`, "+short", "+time=1", "+tries=1", "echo-host.lan", "A"], 5000);
      ready = r.stdout.trim() === LINUX;
      if (!ready) await sleep(100);
    }
    if (!ready) throw new Error(`dnsmasq did not answer:\n${dnsmasq.output}`);
  }, 60_000);

  afterAll(async () => {
    const note = await link.down();
    if (note !== "") console.log(note);
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("dig sees what dnsmasq serves: the CNAME and its A, NXDOMAIN for the rest", async () => {
    const cname = await link.ns.run(["dig", `@${LINUX}`, "+noall", "+answer", "alias.lan", "A"], 5000);
    expect(cname.stdout).toMatch(/alias\.lan\.\s+\d+\s+IN\s+CNAME\s+echo-host\.lan\./);
    expect(cname.stdout).toContain(LINUX);
    const nx = await link.ns.run(["dig", `@${LINUX}`, "nowhere.lan", "A"], 5000);
    expect(nx.stdout).toContain("status: NXDOMAIN");
  });

  it(`resolves alias.lan (a CNAME) through dnsmasq, connects by name and moves ${BYTES} bytes through an echo server`, async () => {
    const server = link.ns.start([SYSTEM_PYTHON, join(SCAPY_DIR, "echo_server.py"), "--bind", LINUX, "--port", String(ECHO_PORT), "--timeout", "60"], "echo_server");
    expect(await server.waitFor(`listening ${ECHO_PORT}`, 10_000), server.output).toBe(true);
    const d = await link.startDevice(["--dns", LINUX, "--connect", `alias.lan:${ECHO_PORT}`, "--send", String(BYTES)], false);
    if (!(await d.waitExit(60_000))) {
      d.signal("SIGTERM");
      await d.waitExit(15_000);
    }
    await server.waitExit(10_000);
    await server.end();
    const tail = `device:\n${d.output.slice(-3000)}\nserver:\n${server.output}\ndnsmasq:\n${dnsmasq?.output.slice(-2000)}`;
    expect(d.output, tail).toContain(`dns: alias.lan is ${LINUX}`);
    expect(d.output, tail).toMatch(new RegExp(`client: ${BYTES} bytes sent to alias\\.lan:${ECHO_PORT} and echoed back intact`));
    expect(d.exitCode, tail).toBe(0);
    expect(d.output, tail).toContain("pool: full again");
    // The resolver's counters: one answer taken (the TCP socket's host option then found it
    // in the cache: dnsmasq's TTL is 60 s), none dropped; dnsmasq logged the device's query.
    expect(d.output, tail).toContain(`dns: alias.lan is ${LINUX} (ttl 60 s)`);
    expect(d.output, tail).toMatch(/^dns: .*accepted=1\b.*cacheHits=1\b/m);
    expect(d.output, tail).not.toMatch(/^dns: .*dropped=/m);
    expect(dnsmasq?.output ?? "", tail).toMatch(new RegExp(`query\\[A\\] alias\\.lan from ${link.deviceAddr.replace(/\./g, "\\.")}`));
    const res = lastJson(server.output);
    expect(res?.received, tail).toBe(BYTES);
    expect(res?.pattern_ok, tail).toBe(true);
  }, 120_000);

  it("reports a name dnsmasq does not have as NXDOMAIN and exits non-zero", async () => {
    const d = await link.startDevice(["--dns", LINUX, "--connect", `nowhere.lan:${ECHO_PORT}`, "--send", "1000"], false);
    if (!(await d.waitExit(30_000))) {
      d.signal("SIGTERM");
      await d.waitExit(15_000);
    }
    const tail = `device:\n${d.output.slice(-3000)}`;
    expect(d.output, tail).toContain("client: FAILED: cannot resolve nowhere.lan: NXDOMAIN: no such name");
    expect(d.exitCode, tail).toBe(1);
    expect(d.output, tail).toContain("pool: full again");
  }, 60_000);
});
