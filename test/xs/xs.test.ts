// The stack inside the real XS engine (xsnap): the scenario suite, the same frames as on
// V8 for the same seed, and a steady state that allocates nothing.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { SCENARIOS, XS_BULK_BYTES, runScenario, type BulkPreset, type ScenarioReport } from "../../host-sim/sim/scenarios";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const SEEDS = [1, 7];
/** bytes each way of the SPI chips' TCP bulk scenarios (host-sim/sim/scenarios/w5500.ts, enc28j60.ts) */
const SPI_BULK_BYTES = 64 * 1024;

function xsRun(args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--import", "tsx", "host-sim/xs-run.ts", ...args], { cwd: REPO, timeout: 600_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`xs-run ${args.join(" ")} failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(String(stdout).trim().split("\n").pop() as string));
    });
  });
}

describe("inside XS", () => {
  let xsReports: (ScenarioReport & { xsCompute: number })[] = [];

  beforeAll(async () => {
    const out = await xsRun(["scenarios", ...SEEDS.map(String)]);
    xsReports = out.reports as (ScenarioReport & { xsCompute: number })[];
  });

  it("runs every scenario with every seed, and each ends with the pools full", () => {
    expect(xsReports.map((r) => `${r.name}/${r.seed}`)).toEqual(SEEDS.flatMap((s) => Object.keys(SCENARIOS).map((n) => `${n}/${s}`)));
    for (const r of xsReports) {
      expect(r.poolsFull, `${r.name} seed=${r.seed}`).toBe(true);
      expect(r.corrupted, `${r.name} seed=${r.seed}`).toBe(0);
      if (r.name === "udp-echo") expect(r.extra.received, `${r.name} seed=${r.seed}`).toBeGreaterThan(100);
      else if (r.name === "tcp-echo") expect([r.extra.received, r.extra.mismatches, r.extra.closedCleanly], `${r.name} seed=${r.seed}`).toEqual([200_000, 0, 1]);
      else if (r.name.startsWith("tcp-bulk-")) {
        // Both ways at once, every byte checked against the writer's stream and hashed
        // (the full checks of these reports run on V8 in test/tcp/scale.test.ts).
        const e = r.extra;
        const bytes = XS_BULK_BYTES[r.name.slice("tcp-bulk-".length) as BulkPreset];
        expect(
          [e.done, e["client.received"], e["server.received"], e["client.mismatches"], e["server.mismatches"], e["client.inHash"], e["server.inHash"], e["a.poolLeak"], e["b.poolLeak"]],
          `${r.name} seed=${r.seed}`,
        ).toEqual([1, bytes, bytes, 0, 0, e["server.outHash"], e["client.outHash"], 0, 0]);
      } else if (r.name === "tcp-zero-window") {
        // 60 s unread: the window shut, persist probes (each on the wire, backing off to
        // 25.6 s) held the connection without a timeout; then every byte came, intact.
        const e = r.extra;
        expect(
          [e.bytes, e.sent, e.mismatches, e.inHash, e.sentWhileShut, e.heldWhileShut, e.timeoutsWhileShut, e.wireProbes, e.probeGapMax, e.clientErrors, e.serverErrors, e.connectionsLeft],
          `${r.name} seed=${r.seed}`,
        ).toEqual([100_000, 100_000, 0, e.outHash, 65536, 1, 0, e.persistProbes, 25600, 0, 1, 0]);
        expect(e.persistProbes, `${r.name} seed=${r.seed}`).toBeGreaterThan(3);
      } else if (r.name === "tcp-keepalive") {
        // idle 10 s + 4 probes x 1 s after the last segment in (+ 1 ms on the wire): onError, a reset.
        const e = r.extra;
        expect(
          [e.clientGot, e.serverGot, e.keepaliveProbes, e.probesOnWire, e.keepaliveTimeouts, e.estabResets, e.outRsts, e.peerProbes, e.serverResets, e.connectionsLeft],
          `${r.name} seed=${r.seed}`,
        ).toEqual([2000, 3000, 4, 4, 1, 1, 1, 0, 1, 0]);
        expect(e.errorLate, `${r.name} seed=${r.seed}`).toBeGreaterThanOrEqual(0);
        expect(e.errorLate, `${r.name} seed=${r.seed}`).toBeLessThan(0.1);
        expect(e.serverErrorAt, `${r.name} seed=${r.seed}`).toBeGreaterThan(e.clientErrorAt);
      } else if (r.name === "tcp-connect-fail") {
        // Refused at once (SYN, RST: 2 ms each way... 4 ms); silent: SYNs at 0, 300, 900, 2100 ms, error at 4,500.
        const e = r.extra;
        expect(
          [e.refusedAt, e.refusedErrors, e.refusedWritable, e.refusedAttemptFails, e.rsts, e.syn0, e.syn1, e.syn2, e.syn3, e.syns, e.silentAt, e.silentErrors, e.attemptFails, e.retransSegs, e.timeouts, e.currEstab],
          `${r.name} seed=${r.seed}`,
        ).toEqual([4, 1, 0, 1, 1, 0, 300, 900, 2100, 4, 4500, 1, 2, 3, 3, 0]);
      } else if (r.name === "tcp-reqresp") {
        // 10 ms round trip: with nodelay every round is one and the millisecond between the
        // reply's writes; without, the split reply waits out the delayed ACK (RTT +
        // tcpDelackMs + RTT) from the second round on.
        const e = r.extra;
        expect(
          [e["nodelay.done"], e["nodelay.mismatches"], e["nodelay.clientGot"], e["nagle.done"], e["nagle.mismatches"], e["nagle.clientGot"], e["a.retransSegs"], e["b.retransSegs"], e.connectionsLeft],
          `${r.name} seed=${r.seed}`,
        ).toEqual([1, 0, 5000, 1, 0, 5000, 0, 0, 0]);
        expect(e["nodelay.min"]).toBeGreaterThanOrEqual(11 - 1e-6);
        expect(e["nodelay.max"]).toBeLessThan(12);
        expect(e["nagle.t0"]).toBeLessThan(30);
        expect(e["nagle.restMin"]).toBeGreaterThanOrEqual(20 + e.delackMs - 1e-6);
        expect(e["nagle.max"]).toBeLessThan(21 + e.delackMs);
      } else if (r.name === "tcp-synflood") {
        // 500 spoofed SYNs against a backlog of 2: cookies answer them; all 5 real clients get their bytes back.
        const e = r.extra;
        expect(
          [e.flood, e.clients, e.accepted, e.clientBytes, e.serverBytes, e.clientMismatches, e.halfOpen, e.connectionsLeft],
          `${r.name} seed=${r.seed}`,
        ).toEqual([500, 5, 5, 70, 70, 0, 0, 0]);
        expect(e.syncookiesSent, `${r.name} seed=${r.seed}`).toBeGreaterThan(450);
        expect(e.syncookiesRecv, `${r.name} seed=${r.seed}`).toBeGreaterThan(0);
      } else if (r.name.startsWith("sntp")) {
        // SNTP (test/lan/sntp.test.ts checks the reports on V8): a time, to the microsecond, in XS too.
        expect([r.extra.times > 0, r.extra.lastErrorUs ?? r.extra.laterErrorUsMax], `${r.name} seed=${r.seed}`).toEqual([true, 0]);
      } else if (r.name.startsWith("dns-")) {
        // The resolver's scenarios check themselves: what came out as expected, nothing left pending.
        expect([r.extra.mismatches, r.extra.pendingAfter], `${r.name} seed=${r.seed}`).toEqual([0, 0]);
      } else if (r.name.startsWith("mdns-")) {
        // probe, announce, goodbye; two hosts claim one name; questions answered (test/lan/mdns.test.ts checks the rest on V8)
        const e = r.extra;
        if (r.name === "mdns-announce") expect([e.probes, e.announcements, e.goodbyes], `${r.name} seed=${r.seed}`).toEqual([3, 2, 1]);
        else if (r.name === "mdns-conflict") expect([e.namesDistinct, e.instancesDistinct, e.bothAnnounced], `${r.name} seed=${r.seed}`).toEqual([1, 1, 1]);
        else expect([e.addresses, e.browsed, e.srv, e.txt, e.legacyAnswers, e.afterKnown], `${r.name} seed=${r.seed}`).toEqual([1, 1, 1, 1, 1, 0]);
      } else if (/^(w5500|enc28j60)-(udp-echo|tcp-bulk)$/.test(r.name)) {
        // Through an SPI Ethernet chip's model (test/spi checks the reports on V8): every datagram
        // echoed intact, every byte both ways.
        const e = r.extra;
        if (r.name.endsWith("-udp-echo")) {
          // (the ENC28J60's link loses 1 % of frames each way)
          expect(e.mismatches, `${r.name} seed=${r.seed}`).toBe(0);
          expect(e.received, `${r.name} seed=${r.seed}`).toBeGreaterThan(e.sent * 0.9);
        }
        else {
          expect([e.done, e["client.mismatches"], e["server.mismatches"], e["a.poolLeak"], e["b.poolLeak"]], `${r.name} seed=${r.seed}`).toEqual([1, 0, 0, 0, 0]);
          expect([e["client.received"], e["server.received"]], `${r.name} seed=${r.seed}`).toEqual([SPI_BULK_BYTES, SPI_BULK_BYTES]);
        }
      } else expect(r.pingsAnswered, `${r.name} seed=${r.seed}`).toBeGreaterThan(0);
      // The failed connects, the keepalive run, SNTP and the DNS exchanges say little on the wire, mDNS a few frames.
      expect(r.frames).toBeGreaterThan(r.name === "tcp-connect-fail" || r.name === "tcp-keepalive" || r.name.startsWith("sntp") || r.name.startsWith("dns-") ? 10 : r.name.startsWith("mdns-") ? 5 : 50);
    }
  });

  it("puts the same frames on the wire as V8 for the same seed (frame hash, counters)", () => {
    for (const xs of xsReports) {
      const { xsCompute: _, ...onXs } = xs;
      const onV8 = runScenario(xs.name, xs.seed);
      expect(onXs, `scenario ${xs.name}: XS and V8 differ; reproduce with seed=${xs.seed}`).toEqual(onV8);
    }
  });

  it("allocates nothing in steady state: heap count flat over 10,000 full-size pings", async () => {
    const out = await xsRun(["steady", "1000", "10000"]);
    expect(out.framesFirst).toBe(2000);
    expect(out.framesSecond).toBe(18000);
    expect(out.corrupted).toBe(0);
    // gc before each reading: the live heap after 1,000 pings equals the heap after 10,000.
    expect(out.heapAfterSecond).toBe(out.heapAfterFirst);
    // No gc: a call adds the same few slots (the command's own buffers) for 1,000 pings as for 10,000.
    const [withN1, withN2] = out.slotsAddedNoGc as [number, number];
    expect(withN2).toBe(withN1);
    expect(withN1).toBeLessThan(16);
  });
});

describe("on V8", () => {
  it("the same steady state triggers no garbage collection (--trace-gc) over 10,000 full-size pings", async () => {
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ["--expose-gc", "--trace-gc", "--import", "tsx", "host-sim/v8-steady.ts", "10000"], { cwd: REPO, timeout: 120_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`v8-steady failed: ${err.message}\n${stderr}`));
        else resolve(String(stdout));
      });
    });
    const lines = out.split("\n");
    const begin = lines.indexOf("xsnet-steady-begin");
    const end = lines.indexOf("xsnet-steady-end");
    expect(begin).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(begin);
    const collections = lines.slice(begin + 1, end).filter((l) => /Scavenge|Mark-Compact|Mark-sweep|MinorMS/i.test(l));
    expect(collections, "V8 collected garbage while pinging: something allocates per packet").toEqual([]);
    const result = JSON.parse(lines[end + 1]) as { pings: number; frames: number; corrupted: number };
    expect(result).toEqual({ pings: 10000, frames: 20000, corrupted: 0 });
  });
});
