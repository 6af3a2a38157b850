// Linux interop through the fault-injecting relay (host-sim/relay.ts): socat <-> relay <->
// device on the namespace's loopback, each direction losing, holding back (reordering) and
// duplicating frames by a seed (the decisions are the seed's; the timing is the machine's).
//   - reordering and duplication only: ping up to 65,000 bytes (45 fragments each way,
//     shuffled and doubled) comes back every time; the relay's counters balance
//   - 5 % loss, 5 % reordering (5 ms), 1 % duplication: ping gets most answers, and 2 MB
//     through curl, TCP echo, discard, chargen, UDP echo and the device's client mode all
//     arrive intact
//   - 2 % single-bit corruption each way: every corrupted frame the device took is dropped
//     by a checksum (counted), nothing corrupted is ever answered as good data
// Each ends with the device stopping cleanly, its pool full, and every frame the relay
// handed it counted on its interface.
// Needs root, /dev/net/tun and the tools below; skipped (one line) otherwise.

import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ChargenCheck, DeviceLink, Mod251Check, SCAPY_DIR, SYSTEM_PYTHON, SeededBytes, SeededCheck, counter, lastJson, linuxSkipReason, python,
  streamCommand, type DeviceReport,
} from "./netns";

const skipReason = linuxSkipReason(["socat", "ip", "ping", "curl", "nc", SYSTEM_PYTHON]);
if (skipReason !== null) console.log(`test/linux/faults.test.ts skipped: ${skipReason}`);

const LOSSY_BYTES = 2_000_000;
const LOSSY_TIMEOUT_MS = 120_000;

/** "N packets transmitted, M received" of ping's summary */
function pingCounts(out: string): { sent: number; received: number; dups: number } {
  const m = /(\d+) packets transmitted, (\d+) received(?:, \+(\d+) duplicates)?/.exec(out);
  return m ? { sent: Number(m[1]), received: Number(m[2]), dups: Number(m[3] ?? 0) } : { sent: 0, received: 0, dups: 0 };
}

/** Up before the describe's tests, down (namespace deleted) after them. */
function bringUp(link: DeviceLink): void {
  beforeAll(async () => {
    await link.up();
    await link.startDevice();
  }, 60_000);
  afterAll(async () => {
    const note = await link.down();
    if (note !== "") console.log(note);
  }, 60_000);
}

/** The relay's books balance: in - lost + duplicated == out + held (nothing held after a pause). */
function expectBalanced(dir: Record<string, number>, what: string): void {
  expect(dir.in - dir.lost + dir.duplicated, `${what}: ${JSON.stringify(dir)}`).toBe(dir.out + dir.held + dir.discarded_at_stop);
  expect(dir.send_errors, `${what}: send errors`).toBe(0);
}

/** Every datagram the relay sent the device is on its interface: received, or counted as missed. */
async function expectLinkAccounted(link: DeviceLink, toDevice: Record<string, number>, rep: DeviceReport): Promise<void> {
  const rx = counter(rep, "eth0", "rx_packets") + counter(rep, "eth0", "rx_missed_errors") + counter(rep, "eth0", "rx_length_errors");
  // Datagrams the kernel dropped at the device's socket (its receive buffer) are the only
  // other way out; they show in the namespace's UDP RcvbufErrors.
  const rcvbuf = await link.ns.snmp("Udp", "RcvbufErrors");
  expect(rx, `relay sent ${toDevice.out}, device counted ${rx}, UDP RcvbufErrors ${rcvbuf}`).toBeLessThanOrEqual(toDevice.out);
  expect(toDevice.out - rx, `relay sent ${toDevice.out}, device counted ${rx}`).toBeLessThanOrEqual(rcvbuf);
}

describe.skipIf(skipReason !== null)("through the relay: reordering and duplication, no loss", () => {
  const link = new DeviceLink({ tag: "r", noIpv6: true, relay: { seed: 11, reorder: 0.2, holdMs: 3, dup: 0.05 } });

  bringUp(link);

  for (const size of [56, 1472, 4000, 65000]) {
    it(`answers ping -s ${size}, 5 of 5, fragments shuffled and doubled`, async () => {
      const r = await link.ns.run(["ping", "-n", "-c", "5", "-i", "0.1", "-W", "3", "-s", String(size), link.deviceAddr], 30_000);
      const c = pingCounts(r.stdout);
      expect(c.received, `ping -s ${size}:\n${r.stdout}${r.stderr}\n${link.device?.output.slice(-2000)}`).toBe(5);
      expect(r.stdout).not.toMatch(/wrong data byte/);
    }, 40_000);
  }

  it("reordered and duplicated frames both ways, and its books balance", async () => {
    const c = await link.relayCounters();
    for (const [name, dir] of [["linux->device", c.toDevice], ["device->linux", c.toLinux]] as const) {
      expect(dir.reordered, `${name} ${JSON.stringify(dir)}`).toBeGreaterThan(0);
      expect(dir.duplicated, `${name} ${JSON.stringify(dir)}`).toBeGreaterThan(0);
      expect(dir.lost).toBe(0);
      expectBalanced(dir, name);
    }
  }, 20_000);

  it("stops cleanly: exit 0, pool full, every frame from the relay counted", async () => {
    await new Promise((resolve) => setTimeout(resolve, 50)); // held frames out
    const c = await link.relayCounters();
    const rep = await link.stopDevice();
    expect(rep.exitCode, rep.output.slice(-3000)).toBe(0);
    expect(rep.poolFull, rep.output.slice(-3000)).toBe(true);
    // a duplicated fragment is dropped as such
    expect(counter(rep, "drops", "IP_FRAG_DUP"), rep.output.slice(-3000)).toBeGreaterThan(0);
    await expectLinkAccounted(link, c.toDevice, rep);
  }, 30_000);
});

describe.skipIf(skipReason !== null)("through the relay: 5 % loss, 5 % reordering, 1 % duplication", () => {
  // Seed 6: its first frames toward the device pass, so the kernel's first ARP request is
  // answered (seed 5, for one, loses frames 0, 1 and 2: the kernel then gives up resolving
  // and ping reports "Destination Host Unreachable" for a while; that is Linux's ARP under
  // loss, not the device).
  const link = new DeviceLink({ tag: "l", noIpv6: true, relay: { seed: 6, loss: 0.05, reorder: 0.05, holdMs: 5, dup: 0.01 } });
  const DEV = link.deviceAddr;
  const tail = (): string => (link.device?.output ?? "").slice(-2500);

  bringUp(link);

  it("answers most pings, small and fragmented (40 each of 56 and 1472, 20 of 4000)", async () => {
    // 2 frames a round trip at 56 and 1472 bytes (0.95^2 = 90 %), 6 at 4000 (74 %); the
    // floors are about 5 standard deviations below
    for (const [size, count, least] of [[56, 40, 26], [1472, 40, 26], [4000, 20, 7]] as const) {
      const r = await link.ns.run(["ping", "-n", "-c", String(count), "-i", "0.05", "-W", "2", "-s", String(size), DEV], 60_000);
      const c = pingCounts(r.stdout);
      expect(c.sent, r.stdout + r.stderr).toBe(count);
      expect(c.received, `ping -s ${size}: ${r.stdout.split("\n").slice(-3).join(" ")}`).toBeGreaterThanOrEqual(least);
      expect(r.stdout).not.toMatch(/wrong data byte/);
    }
  }, 120_000);

  it(`serves GET /bytes/${LOSSY_BYTES} intact (curl)`, async () => {
    const check = new Mod251Check();
    const r = await streamCommand(link.ns.name, ["curl", "-sS", "--max-time", String(LOSSY_TIMEOUT_MS / 1000), `http://${DEV}/bytes/${LOSSY_BYTES}`],
      { check, timeoutMs: LOSSY_TIMEOUT_MS + 5000 });
    expect(r.code, `curl exit ${r.code}: ${r.stderr}\n${tail()}`).toBe(0);
    expect(r.received).toBe(LOSSY_BYTES);
    expect(r.mismatchAt).toBe(-1);
    console.log(`lossy curl ${LOSSY_BYTES}: ${(LOSSY_BYTES / 1e6 / (r.ms / 1000)).toFixed(2)} MB/s`);
  }, LOSSY_TIMEOUT_MS + 10_000);

  it(`echoes ${LOSSY_BYTES} bytes on TCP 7 intact (nc)`, async () => {
    const src = new SeededBytes(77);
    const check = new SeededCheck(77);
    const r = await streamCommand(link.ns.name, ["nc", "-N", DEV, "7"], { sendBytes: LOSSY_BYTES, source: (n) => src.next(n), check, timeoutMs: LOSSY_TIMEOUT_MS });
    expect(r.timedOut, `timed out, ${r.received} back\n${tail()}`).toBe(false);
    expect(r.code, `nc exit ${r.code}: ${r.stderr}\n${tail()}`).toBe(0);
    expect(r.received).toBe(LOSSY_BYTES);
    expect(r.mismatchAt).toBe(-1);
    console.log(`lossy echo ${LOSSY_BYTES}: ${(LOSSY_BYTES / 1e6 / (r.ms / 1000)).toFixed(2)} MB/s each way`);
  }, LOSSY_TIMEOUT_MS + 10_000);

  it(`takes ${LOSSY_BYTES} bytes on TCP 9 discard (nc)`, async () => {
    const r = await streamCommand(link.ns.name, ["nc", "-N", DEV, "9"], { sendBytes: LOSSY_BYTES, timeoutMs: LOSSY_TIMEOUT_MS });
    expect(r.timedOut, tail()).toBe(false);
    expect(r.code, `nc exit ${r.code}: ${r.stderr}\n${tail()}`).toBe(0);
    expect(r.sent).toBe(LOSSY_BYTES);
  }, LOSSY_TIMEOUT_MS + 10_000);

  it(`sends ${LOSSY_BYTES} bytes of chargen in the RFC 864 pattern (nc)`, async () => {
    const check = new ChargenCheck();
    const r = await streamCommand(link.ns.name, ["nc", "-d", DEV, "19"], { readLimit: LOSSY_BYTES, check, timeoutMs: LOSSY_TIMEOUT_MS });
    expect(r.timedOut, tail()).toBe(false);
    expect(r.received, `${r.stderr}\n${tail()}`).toBe(LOSSY_BYTES);
    expect(r.mismatchAt).toBe(-1);
  }, LOSSY_TIMEOUT_MS + 10_000);

  it("echoes UDP datagrams on port 7 (up to 8,000 bytes, retried)", async () => {
    const r = await python(link.ns, "udp_echo.py", ["--dst", DEV, "--sizes", "1,100,1472,4000,8000", "--tries", "8", "--wait", "1"], 60_000);
    const out = lastJson(r.stdout);
    expect(out?.all_ok, `${r.stdout}${r.stderr}\n${tail()}`).toBe(true);
  }, 70_000);

  it("reports losses, reordering and duplicates both ways, and its books balance", async () => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const c = await link.relayCounters();
    for (const [name, dir] of [["linux->device", c.toDevice], ["device->linux", c.toLinux]] as const) {
      expect(dir.lost, `${name} ${JSON.stringify(dir)}`).toBeGreaterThan(0);
      expect(dir.reordered, name).toBeGreaterThan(0);
      expect(dir.duplicated, name).toBeGreaterThan(0);
      expectBalanced(dir, name);
    }
  }, 20_000);

  it("stops cleanly: exit 0, pool full, every frame from the relay counted", async () => {
    const c = await link.relayCounters();
    const rep = await link.stopDevice();
    expect(rep.exitCode, rep.output.slice(-3000)).toBe(0);
    expect(rep.poolFull, rep.output.slice(-3000)).toBe(true);
    await expectLinkAccounted(link, c.toDevice, rep);
  }, 30_000);

  it(`as a client moves ${LOSSY_BYTES} bytes each way through a Linux echo server, checked`, async () => {
    const port = 40007;
    const server = link.ns.start([SYSTEM_PYTHON, join(SCAPY_DIR, "echo_server.py"), "--bind", link.linuxAddr, "--port", String(port),
      "--timeout", String(LOSSY_TIMEOUT_MS / 1000)], "echo_server");
    expect(await server.waitFor(`listening ${port}`, 10_000), server.output).toBe(true);
    const d = await link.startDevice(["--connect", `${link.linuxAddr}:${port}`, "--send", String(LOSSY_BYTES)], false);
    const end = Date.now() + LOSSY_TIMEOUT_MS;
    while (server.running && Date.now() < end) {
      if (!d.running && !server.output.includes("accepted")) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (server.running) await server.end();
    if (!(await d.waitExit(20_000))) {
      d.signal("SIGTERM");
      await d.waitExit(15_000);
    }
    const res = lastJson(server.output);
    const why = `device:\n${d.output.slice(-2500)}\nserver:\n${server.output}`;
    expect(res?.received, why).toBe(LOSSY_BYTES);
    expect(res?.pattern_ok, why).toBe(true);
    expect(res?.echoed, why).toBe(LOSSY_BYTES);
    expect(d.exitCode, why).toBe(0);
    expect(d.output, why).toMatch(new RegExp(`client: ${LOSSY_BYTES} bytes sent to [0-9.:]+ and echoed back intact`));
    expect(d.output, why).toContain("pool: full again");
  }, LOSSY_TIMEOUT_MS + 60_000);
});

describe.skipIf(skipReason !== null)("through the relay: 2 % single-bit corruption each way", () => {
  const link = new DeviceLink({ tag: "b", noIpv6: true, relay: { seed: 3, corrupt: 0.02 } });
  let wrongReplies = 0;

  bringUp(link);

  it("answers ping, never with data it took corrupted", async () => {
    const r = await link.ns.run(["ping", "-n", "-c", "200", "-i", "0.01", "-W", "2", "-s", "1000", link.deviceAddr], 60_000);
    const c = pingCounts(r.stdout);
    expect(c.received, r.stdout.split("\n").slice(-3).join(" ")).toBeGreaterThanOrEqual(170);
    const relay = await link.relayCounters();
    expect(relay.toDevice.corrupted).toBeGreaterThan(0);
    // ping reads replies on a raw socket, before the kernel checks the ICMP checksum, so a
    // reply the relay corrupted on its way to Linux shows as "wrong data byte"; a request
    // corrupted on its way to the device must never come back (it would, with a good
    // checksum, were the device to take it), so there are no more than the relay flipped.
    wrongReplies = (r.stdout.match(/wrong data byte/g) ?? []).length;
    expect(wrongReplies, `replies with wrong data: ${wrongReplies}, relay flipped ${relay.toLinux.corrupted} toward Linux`)
      .toBeLessThanOrEqual(relay.toLinux.corrupted);
  }, 90_000);

  it("echoes 1 MB on TCP 7 intact (nc): TCP's checksum catches every flip, both ways", async () => {
    const src = new SeededBytes(99);
    const check = new SeededCheck(99);
    const r = await streamCommand(link.ns.name, ["nc", "-N", link.deviceAddr, "7"],
      { sendBytes: 1_000_000, source: (n) => src.next(n), check, timeoutMs: LOSSY_TIMEOUT_MS });
    expect(r.timedOut, (link.device?.output ?? "").slice(-2000)).toBe(false);
    expect(r.code, r.stderr).toBe(0);
    expect(r.received).toBe(1_000_000);
    expect(r.mismatchAt).toBe(-1);
  }, LOSSY_TIMEOUT_MS + 10_000);

  it("stops cleanly, having dropped every corrupted frame it took by a check (counted)", async () => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const relay = await link.relayCounters();
    const rep = await link.stopDevice();
    expect(rep.exitCode, rep.output.slice(-3000)).toBe(0);
    expect(rep.poolFull, rep.output.slice(-3000)).toBe(true);
    // A flipped bit past the Ethernet header lands in an IP header (IP_CSUM, or a field that
    // fails a check first), an ICMP or TCP message (their checksums), or an ARP body (no
    // checksum: it may pass as another valid ARP).
    const d = rep.groups.drops ?? {};
    const caught = (d.IP_CSUM ?? 0) + (d.ICMP_CSUM ?? 0) + (d.TCP_CSUM ?? 0) + (d.IP_INHDR ?? 0) + (d.PKT_TOO_SMALL ?? 0) +
      (d.IP_INADDRERRORS ?? 0) + (d.IP_NOPROTO ?? 0) + (d.IP_INVALID_SOURCE ?? 0) + (d.IP_FRAG_INVALID ?? 0) + (d.IP_FRAG_TIMEOUT ?? 0) +
      (d.IP_FRAG_NOMEM ?? 0) + (d.ARP_INVALID ?? 0) + (d.ARP_NOT_FOR_US ?? 0) + (d.UNHANDLED_PROTO ?? 0) + (d.ICMP_INVALID ?? 0) +
      (d.TCP_INVALID ?? 0) + (d.OTHERHOST ?? 0);
    const why = `drops ${JSON.stringify(d)}, relay ${JSON.stringify(relay.toDevice)}`;
    expect(d.ICMP_CSUM ?? 0, why).toBeGreaterThan(0);
    expect(d.TCP_CSUM ?? 0, why).toBeGreaterThan(0);
    expect(caught, why).toBeLessThanOrEqual(relay.toDevice.corrupted);
    // Every echo request taken intact was answered; ICMP's MIB agrees with the drop reasons.
    expect(counter(rep, "icmp", "outEchoReps"), rep.output.slice(-2000)).toBe(counter(rep, "icmp", "inEchos"));
    expect(counter(rep, "icmp", "inCsumErrors"), rep.output.slice(-2000)).toBe(d.ICMP_CSUM ?? 0);
    expect(counter(rep, "tcp", "inCsumErrors"), rep.output.slice(-2000)).toBe(d.TCP_CSUM ?? 0);
    await expectLinkAccounted(link, relay.toDevice, rep);
  }, 30_000);
});
