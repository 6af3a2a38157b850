// Linux interop: hostile input from the Linux side of the TAP (python3-scapy through an
// AF_PACKET socket, hping3 and nmap through the kernel), then the device must still serve a
// real client, stop cleanly with its pool full, and have counted every frame it was given
// and every probe under the drop reason that fits it.
//   malformed Ethernet/ARP/IPv4/UDP/TCP headers and options (length 0 and 1, MSS 0, window
//   scale over 14, data offset past the segment), overlapping, oversize and invalid
//   fragments, SYN+FIN, NULL, XMAS and land packets, a SYN flood from 3,000 spoofed
//   169.254.x.y sources, a blind RST storm at a live connection, SACK blocks outside the
//   window, an nmap OS scan.
// The relay (no faults) sits between socat and the device only to count the frames handed
// to the device. The device has a /16 here, so the spoofed sources are all on its link
// (it ARPs for them; nobody answers). Scripts: test/linux/scapy/hostile.py.
// Needs root, /dev/net/tun, the tools below and python3-scapy; skipped (one line) otherwise.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEVICE_MAC, DeviceLink, SeededBytes, SeededCheck, counter, lastJson, linuxSkipReason, python, streamCommand, tsharkCount, tsharkShow,
  type DeviceReport,
} from "./netns";

const skipReason = linuxSkipReason(["socat", "ip", "ping", "arping", "curl", "nc", "hping3", "nmap", "tshark"], { scapy: true });
if (skipReason !== null) console.log(`test/linux/hostile.test.ts skipped: ${skipReason}`);

const OPEN_PORT = 80;
const CLOSED_PORT = 1;

/**
 * Where each probe must end up, by name prefix: a drop reason and how many drops a frame
 * of it makes (a fraction for probes of which only some frames are dropped).
 */
const PROBE_REASONS: [RegExp, string, number][] = [
  [/^eth_ipv4_(empty|3_bytes)$/, "PKT_TOO_SMALL", 1],
  [/^eth_arp_empty$/, "ARP_INVALID", 1],
  [/^eth_unknown_type$/, "UNHANDLED_PROTO", 1],
  [/^arp_(hlen0|plen0|op99|truncated)$/, "ARP_INVALID", 1],
  [/^arp_not_for_us$/, "ARP_NOT_FOR_US", 1],
  [/^ip_(version6|ihl4|ihl0|totlen_below_ihl|opt_len0|opt_len1|opt_past_header)$/, "IP_INHDR", 1],
  [/^ip_(ihl_past_frame|totlen_past_frame|truncated)$/, "PKT_TOO_SMALL", 1],
  [/^ip_bad_csum$/, "IP_CSUM", 1],
  [/^(ip_src_broadcast|ip_src_multicast|ip_land_icmp|land_\d+|hping3_land)$/, "IP_INVALID_SOURCE", 1],
  [/^ip_unknown_proto$/, "IP_NOPROTO", 1],
  [/^udp_(len_past_datagram|len_below_header|truncated)$/, "UDP_INVALID", 1],
  [/^udp_bad_csum$/, "UDP_CSUM", 1],
  [/^tcp_bad_csum_\d+$/, "TCP_CSUM", 1],
  [/^tcp_(doff4|doff0|doff_past_segment|truncated)_\d+$/, "TCP_INVALID", 1],
  [new RegExp(`^(tcp_opt_[a-z0-9_]+|flags_[a-z]+)_${CLOSED_PORT}$`), "TCP_NOSOCKET", 1],
  [/^frag_overlap$/, "IP_FRAG_OVERLAP", 1], // the fragment held, then the one that overlaps it
  [/^frag_(teardrop|len_not_8)$/, "IP_FRAG_INVALID", 1],
  [/^frag_(oversize|ping_of_death)$/, "IP_FRAG_TOO_BIG", 1],
  [/^frag_duplicate$/, "IP_FRAG_DUP", 1 / 3], // one of each three frames is the copy
];

/** Reasons nothing but these probes can cause (no normal traffic, no other probe): counted exactly. */
const EXACT_REASONS = new Set([
  "PKT_TOO_SMALL", "ARP_INVALID", "IP_INHDR", "IP_CSUM", "IP_INVALID_SOURCE", "IP_NOPROTO", "UDP_INVALID", "UDP_CSUM", "TCP_CSUM",
  "IP_FRAG_OVERLAP", "IP_FRAG_INVALID", "IP_FRAG_TOO_BIG", "IP_FRAG_DUP",
]);

describe.skipIf(skipReason !== null)("hostile input from the Linux side (scapy, hping3, nmap)", () => {
  const dir = skipReason === null ? mkdtempSync(join(tmpdir(), "xsnet-hostile-")) : "";
  const pcapPath = join(dir, "device.pcap");
  const link = new DeviceLink({ tag: "h", prefix: 16, noIpv6: true, relay: { seed: 1 } });
  const DEV = link.deviceAddr;
  /** frames of each probe that reached the wire */
  const sent: Record<string, number> = {};
  /** incomplete fragment trains (freed by timeout, eviction or shutdown) */
  let incomplete = 0;
  let report: DeviceReport | null = null;
  let relayToDevice: Record<string, number> = {};
  /** frames that may have been lost before the stack saw them (ring full, socket buffers): 0 in a quiet run */
  let linkLoss = 0;
  const tail = (): string => (link.device?.output ?? "").slice(-2500);

  async function hostile(args: string[], timeoutMs = 60_000): Promise<Record<string, unknown>> {
    const r = await python(link.ns, "hostile.py", ["--iface", link.tap, "--dst", DEV, "--dst-mac", DEVICE_MAC, "--src", link.linuxAddr, ...args], timeoutMs);
    const out = lastJson(r.stdout);
    if (r.code !== 0 || out === null) throw new Error(`hostile.py ${args.join(" ")}: exit ${r.code}\n${r.stdout}${r.stderr}`);
    const probes = out.probes as Record<string, number>;
    for (const [k, v] of Object.entries(probes)) {
      if (k === "frag_incomplete") incomplete += v;
      sent[k] = (sent[k] ?? 0) + v;
    }
    return out;
  }

  async function expectPing(size = 56, count = 3): Promise<void> {
    const r = await link.ns.run(["ping", "-n", "-c", String(count), "-i", "0.2", "-W", "2", "-s", String(size), DEV], 20_000);
    expect(r.stdout, `ping -s ${size}:\n${r.stdout}${r.stderr}\n${tail()}`).toMatch(new RegExp(`${count} packets transmitted, ${count} received`));
  }

  beforeAll(async () => {
    await link.up();
    await link.startDevice(["--pcap", pcapPath]);
  }, 60_000);

  afterAll(async () => {
    const note = await link.down();
    if (note !== "") console.log(note);
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("drops malformed Ethernet, ARP, IPv4 and UDP headers (and IP options of length 0 and 1), and still answers ping", async () => {
    for (const cat of ["eth", "arp", "ip", "udp"]) await hostile([cat]);
    await expectPing();
  }, 60_000);

  it("drops malformed TCP headers, and takes SYNs with bad options (length 0 and 1, MSS 0, window scale over 14, past the data offset), open and closed port", async () => {
    await hostile(["tcp", "--ports", `${OPEN_PORT},${CLOSED_PORT}`]);
    await expectPing();
  }, 60_000);

  it("drops overlapping, oversize and invalid fragments, and still reassembles (ping -s 4000 and 65000)", async () => {
    await hostile(["frag"]);
    await expectPing(4000);
    await expectPing(65000);
  }, 60_000);

  it("drops SYN+FIN, NULL, XMAS and land packets (scapy and hping3)", async () => {
    await hostile(["flags", "--ports", `${OPEN_PORT},${CLOSED_PORT}`]);
    const runs: [string, string[]][] = [
      ["hping3_synfin", ["-S", "-F"]],
      ["hping3_null", []],
      ["hping3_xmas", ["-F", "-P", "-U"]],
      ["hping3_land", ["-S", "-a", DEV, "-s", String(OPEN_PORT), "-k"]],
    ];
    for (const [name, flags] of runs) {
      const r = await link.ns.run(["hping3", "-c", "20", "-i", "u2000", ...flags, "-p", String(OPEN_PORT), DEV], 30_000);
      const text = `${r.stdout}${r.stderr}`;
      expect(text, `hping3 ${flags.join(" ")}:\n${text}`).toMatch(/20 packets transmitted/);
      sent[name] = (sent[name] ?? 0) + 20;
    }
    await expectPing();
  }, 90_000);

  it("survives a SYN flood from 3,000 spoofed 169.254.x.y sources, and answers the known peer's first ping after it", async () => {
    const out = await hostile(["synflood", "--count", "3000", "--port", String(OPEN_PORT), "--seed", "7"], 120_000);
    expect(out.total).toBe(3000);
    // The SYN-ACKs to the spoofed sources wait for ARP: unresolved entries may fill only half
    // the 16-entry neighbour table, and an entry used in the last 5 s is never evicted for
    // one, so the known peer keeps its entry and is answered at once.
    const r = await link.ns.run(["ping", "-n", "-c", "1", "-W", "1", DEV], 15_000);
    expect(r.stdout, `the first ping after the flood went unanswered:\n${r.stdout}${r.stderr}\n${tail()}`).toMatch(/1 received/);
    await expectPing();
  }, 150_000);

  it("keeps a live TCP echo connection through a blind RST storm (3,000 RSTs, random sequence numbers)", async () => {
    const out = await hostile(["rststorm", "--count", "3000", "--port", "7", "--seed", "9"], 120_000);
    expect(out.before, JSON.stringify(out)).toBe(true);
    expect(out.after, `echo after the storm: ${JSON.stringify(out)}\n${tail()}`).toBe(true);
    expect(out.clean_close, JSON.stringify(out)).toBe(true);
  }, 150_000);

  it("keeps a chargen stream in the RFC 864 pattern through ACKs with SACK blocks outside the window", async () => {
    const out = await hostile(["sack", "--port", "19", "--bytes", "2000000"], 120_000);
    expect(out.learned, `did not see the connection's sequence numbers: ${JSON.stringify(out)}`).toBe(true);
    expect(out.pattern_ok, `${JSON.stringify(out)}\n${tail()}`).toBe(true);
    expect(Number(out.read)).toBeGreaterThanOrEqual(2_100_000);
    expect(out.clean_close, `chargen did not close after our FIN: ${JSON.stringify(out)}`).toBe(true);
  }, 150_000);

  it("answers an nmap OS scan (nmap -O)", async () => {
    const r = await link.ns.run(["nmap", "-O", "-Pn", "-n", "--max-os-tries", "1", "-p", `${CLOSED_PORT},7,9,19,${OPEN_PORT},5001`, "-e", link.tap, DEV], 120_000);
    const text = `${r.stdout}${r.stderr}`;
    expect(r.code, text).toBe(0);
    expect(text).toMatch(/1 IP address \(1 host up\)/);
    expect(text).toMatch(new RegExp(`${OPEN_PORT}/tcp\\s+open`));
    console.log(`nmap -O: ${(/(Running|OS details|Aggressive OS guesses|No exact OS matches)[^\n]*/.exec(text) ?? ["?"])[0]}`);
  }, 150_000);

  it("after all that, still serves a real client: ping, arping, curl / (JSON), 1 MB through TCP echo", async () => {
    await expectPing();
    const a = await link.ns.run(["arping", "-c", "2", "-I", link.tap, DEV], 15_000);
    expect(`${a.stdout}${a.stderr}`).toMatch(/2 packets transmitted, 2 packets received|Received 2 response/);
    const c = await link.ns.run(["curl", "-sS", "--max-time", "10", `http://${DEV}/`], 15_000);
    expect(c.code, `curl: ${c.stderr}\n${tail()}`).toBe(0);
    expect(() => JSON.parse(c.stdout), c.stdout.slice(0, 500)).not.toThrow();
    const src = new SeededBytes(3);
    const check = new SeededCheck(3);
    const e = await streamCommand(link.ns.name, ["nc", "-N", DEV, "7"], { sendBytes: 1_000_000, source: (n) => src.next(n), check, timeoutMs: 60_000 });
    expect(e.code, `nc: ${e.stderr}\n${tail()}`).toBe(0);
    expect(e.received).toBe(1_000_000);
    expect(e.mismatchAt).toBe(-1);
  }, 90_000);

  it("stops cleanly: exit 0, pool full, every frame counted on its interface", async () => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    relayToDevice = (await link.relayCounters()).toDevice;
    report = await link.stopDevice();
    expect(report.exitCode, report.output.slice(-3000)).toBe(0);
    expect(report.poolFull, report.output.slice(-3000)).toBe(true);
    expect(relayToDevice.in).toBe(relayToDevice.out);
    const rx = counter(report, "eth0", "rx_packets") + counter(report, "eth0", "rx_missed_errors") + counter(report, "eth0", "rx_length_errors");
    const rcvbuf = await link.ns.snmp("Udp", "RcvbufErrors");
    linkLoss = counter(report, "eth0", "rx_missed_errors") + counter(report, "eth0", "rx_length_errors") + (Number.isNaN(rcvbuf) ? 0 : rcvbuf);
    expect(rx, `relay handed the device ${relayToDevice.out} frames; it counted ${rx}; UDP RcvbufErrors ${rcvbuf}`).toBeLessThanOrEqual(relayToDevice.out);
    expect(relayToDevice.out - rx, `relay handed the device ${relayToDevice.out} frames; it counted ${rx}`).toBeLessThanOrEqual(rcvbuf);
    // no established connection was reset: not by the storm, nor by anything else here
    // (every client closes in order)
    expect(counter(report, "tcp", "estabResets"), report.output.slice(-3000)).toBe(0);
  }, 30_000);

  it("counted every probe under its drop reason (exactly, where nothing else can cause it)", () => {
    const r = report;
    if (r === null) throw new Error("no report (the device did not stop)");
    const drops = r.groups.drops ?? {};
    const expected: Record<string, number> = {};
    for (const [probe, n] of Object.entries(sent)) {
      const rule = PROBE_REASONS.find(([re]) => re.test(probe));
      if (rule) expected[rule[1]] = (expected[rule[1]] ?? 0) + Math.round(n * rule[2]);
    }
    const lines: string[] = [];
    const wrong: string[] = [];
    for (const [reason, want] of Object.entries(expected).sort()) {
      const got = drops[reason] ?? 0;
      const exact = EXACT_REASONS.has(reason);
      lines.push(`${reason}: ${got} (${exact ? "exactly" : "at least"} ${want}${linkLoss > 0 ? `, less up to ${linkLoss} lost on the link` : ""})`);
      if (got < want - linkLoss || (exact && got > want)) wrong.push(reason);
    }
    // incomplete fragment trains: freed by timeout, eviction or shutdown, each counted
    const fragFreed = (drops.IP_FRAG_TIMEOUT ?? 0) + (drops.IP_FRAG_NOMEM ?? 0) + (drops.SHUTDOWN ?? 0);
    lines.push(`IP_FRAG_TIMEOUT + IP_FRAG_NOMEM + SHUTDOWN: ${fragFreed} (at least ${incomplete})`);
    if (fragFreed < incomplete - linkLoss) wrong.push("incomplete fragments");
    // the MIB agrees with the drop reasons
    const mib: [string, string, string][] = [
      ["ip", "inHdrErrors", "IP_INHDR"], ["ip", "inCsumErrors", "IP_CSUM"], ["ip", "inUnknownProtos", "IP_NOPROTO"],
      ["tcp", "inCsumErrors", "TCP_CSUM"],
    ];
    for (const [g, k, reason] of mib) {
      const v = counter(r, g, k);
      lines.push(`${g}.${k}: ${v} (= ${reason} ${drops[reason] ?? 0})`);
      if (v !== (drops[reason] ?? 0)) wrong.push(`${g}.${k}`);
    }
    console.log(`hostile probes sent: ${Object.values(sent).reduce((a, b) => a + b, 0)} frames\n  ${lines.join("\n  ")}`);
    expect(wrong, `${lines.join("\n")}\nsent: ${JSON.stringify(sent)}\ndrops: ${JSON.stringify(drops)}`).toEqual([]);
  });

  it("leaves a capture with no malformed frame and no bad checksum from the device (tshark)", async () => {
    const fromDevice = `eth.src == ${DEVICE_MAC}`;
    const total = await tsharkCount(pcapPath, fromDevice, ["-o", "tcp.desegment_tcp_streams:FALSE"]);
    expect(total).toBeGreaterThan(0);
    const badFilter = `${fromDevice} && (_ws.malformed || _ws.expert.severity >= error || ip.checksum.status == "Bad" || ` +
      `tcp.checksum.status == "Bad" || udp.checksum.status == "Bad" || icmp.checksum.status == "Bad")`;
    const bad = await tsharkCount(pcapPath, badFilter, ["-o", "tcp.desegment_tcp_streams:FALSE"]);
    expect(bad, `${bad} bad frames of ${total} from the device:\n${await tsharkShow(pcapPath, badFilter)}`).toBe(0);
  }, 300_000);
});
