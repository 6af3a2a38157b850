// TCP at scale, in virtual time over the simulated LAN: 10 MB each way at once on one
// connection (both ends write while they read) over a clean link, over 1 % and 5 % loss
// with reordering, duplication and corruption, and over a 100 ms round trip; a scaled
// window over 64 KB where the bandwidth-delay product needs one; SACK recovering several
// losses of one window without a timeout. Each exchange is host-sim/sim/scenarios.ts's
// tcpBulk (Node-free: the XS harness runs the same scenario smaller, test/xs), checked
// here: every byte arrived once and in order (byte by byte against the writer's stream,
// FNV-1a in the scenario and SHA-256 here), the connections closed and every skb is back
// in its pool, and the counters agree with each other and with what the wire showed.
import { createHash, type Hash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { BULK_PRESETS, SCENARIOS, XS_BULK_BYTES, runScenario, tcpBulk, type BulkPreset, type ScenarioReport } from "../../host-sim/sim/scenarios";
import { seedFrom, withSeed } from "../helpers";

const MB10 = 10 << 20;

interface Run {
  r: ScenarioReport;
  e: Record<string, number>;
  /** SHA-256 of what each side wrote and read (side 0: the client on host a) */
  written: [string, string];
  read: [string, string];
}

function bulk(preset: BulkPreset, seed: number, bytes: number): Run {
  const w: [Hash, Hash] = [createHash("sha256"), createHash("sha256")];
  const rd: [Hash, Hash] = [createHash("sha256"), createHash("sha256")];
  const r = tcpBulk(`scale-${preset}`, seed, {
    ...BULK_PRESETS[preset],
    bytes,
    onWrite: (side, b) => void w[side].update(b),
    onRead: (side, b) => void rd[side].update(b),
  });
  return { r, e: r.extra, written: [w[0].digest("hex"), w[1].digest("hex")], read: [rd[0].digest("hex"), rd[1].digest("hex")] };
}

function summary(e: Record<string, number>): string {
  const side = (h: string) =>
    `retrans ${e[`${h}.retransSegs`]} timeouts ${e[`${h}.timeouts`]} sackRecoveries ${e[`${h}.sackRecoveries`]} lossProbes ${e[`${h}.lossProbes`]} ofoDrop ${e[`${h}.ofoDrop`]}`;
  return `client sent ${e["client.sent"]} read ${e["client.received"]}, server sent ${e["server.sent"]} read ${e["server.received"]}, ` +
    `at ${e.doneMs} ms; a: ${side("a")}; b: ${side("b")}`;
}

/** What every exchange ends with, whatever the link did. */
function checkExchange(run: Pick<Run, "r" | "e"> & Partial<Run>, bytes: number, bothWays: boolean): void {
  const { r, e } = run;
  expect(e.done, `the exchange did not end within the time limit: ${summary(e)}`).toBe(1);
  // Every byte arrived once and in order.
  const back = bothWays ? bytes : 0;
  expect([e["client.sent"], e["server.received"], e["server.sent"], e["client.received"]], summary(e)).toEqual([bytes, bytes, back, back]);
  expect([e["server.mismatches"], e["server.firstMismatch"], e["client.mismatches"], e["client.firstMismatch"]], "bytes that differ from the writer's stream").toEqual([0, -1, 0, -1]);
  expect(e["server.inHash"], "FNV-1a of a -> b").toBe(e["client.outHash"]);
  expect(e["client.inHash"], "FNV-1a of b -> a").toBe(e["server.outHash"]);
  if (run.written !== undefined && run.read !== undefined) {
    expect(run.read[1], "SHA-256 of a -> b").toBe(run.written[0]);
    expect(run.read[0], "SHA-256 of b -> a").toBe(run.written[1]);
  }
  // One connection, closed by both ends with FINs, no errors on either socket.
  expect([e.accepted, e["client.errors"], e["server.errors"]]).toEqual([1, 0, 0]);
  expect([e["a.activeOpens"], e["a.passiveOpens"], e["b.activeOpens"], e["b.passiveOpens"]]).toEqual([1, 0, 0, 1]);
  // Both connections gone (TIME_WAIT over): every skb back, before the stacks shut down and after.
  expect([e["a.poolLeak"], e["b.poolLeak"], e["a.recordLeak"], e["b.recordLeak"]], "skbs and records above the idle level once both connections closed").toEqual([0, 0, 0, 0]);
  expect(r.poolsFull).toBe(true);
  for (const [h, into] of [["a", "ba"], ["b", "ab"]] as const) {
    const at = (k: string) => e[`${h}.${k}`];
    expect([at("currEstab"), at("estabResets"), at("attemptFails")], `host ${h}`).toEqual([0, 0, 0]);
    expect(at("wire.fins"), `host ${h} sent a FIN`).toBeGreaterThanOrEqual(1);
    // The host's counters against what it put on the wire.
    expect(at("outSegs"), `host ${h}: OutSegs is every TCP segment it put on the wire`).toBe(at("wire.segs"));
    expect(at("retransSegs"), `host ${h}: RetransSegs is every segment whose sequence space went out before`).toBe(at("wire.retrans"));
    expect(at("outRsts"), `host ${h}: OutRsts`).toBe(at("wire.rsts"));
    expect(at("wire.fragments"), `host ${h}: no segment larger than the MTU`).toBe(0);
    // SACK was agreed: every recovery is a SACK recovery; SACK resends are resends.
    expect(at("fastRetrans"), `host ${h}`).toBe(at("sackRecoveries"));
    expect(at("sackRetrans"), `host ${h}`).toBeLessThanOrEqual(at("retransSegs"));
    // And against what the LAN delivered to it: each segment counted once (InSegs counts
    // errored ones too, RFC 4022), errors only for frames the LAN corrupted.
    expect(at("inSegs"), `host ${h}: segments counted beyond the frames delivered`).toBeLessThanOrEqual(e[`lan.${into}.delivered`]);
    expect(at("inErrs")).toBeGreaterThanOrEqual(at("inCsumErrors"));
    expect(at("inErrs"), `host ${h}: InErrs without corruption`).toBeLessThanOrEqual(e[`lan.${into}.corrupted`]);
  }
}

/** A clean link: nothing lost, so nothing resent, timed out or dropped, and each side's InSegs is the other's OutSegs. */
function checkClean(run: Run): void {
  const { r, e } = run;
  expect(r.drops, "drops on a clean link").toEqual({});
  expect(e["a.inSegs"]).toBe(e["b.outSegs"]);
  expect(e["b.inSegs"]).toBe(e["a.outSegs"]);
  for (const h of ["a", "b"]) {
    expect([e[`${h}.retransSegs`], e[`${h}.timeouts`], e[`${h}.lossProbes`], e[`${h}.zeroWindowDrops`], e[`${h}.ofoDrop`]], `host ${h}: ${summary(e)}`).toEqual([0, 0, 0, 0, 0]);
  }
}

/** A faulty link: it did lose, reorder, duplicate and corrupt frames, and both senders recovered. */
function checkFaulty(run: Run): void {
  const { e } = run;
  for (const d of ["ab", "ba"]) {
    for (const k of ["lost", "reordered", "duplicated", "corrupted"]) expect(e[`lan.${d}.${k}`], `lan ${d} ${k}`).toBeGreaterThan(0);
  }
  for (const h of ["a", "b"]) {
    expect(e[`${h}.retransSegs`], `host ${h}`).toBeGreaterThan(0);
    expect(e[`${h}.sackRecoveries`], `host ${h}`).toBeGreaterThan(0);
    expect(e[`${h}.ofoQueue`], `host ${h} kept out-of-order segments`).toBeGreaterThan(0);
  }
  // Corrupted segments were caught by the checksum, not delivered.
  expect(e["a.inCsumErrors"] + e["b.inCsumErrors"]).toBeGreaterThan(0);
}

/**
 * The scaled window: both ends offered over 64 KB, and each had more than 64 KB in flight;
 * a long exchange ran faster than a 64 KB window allows.
 */
function checkWindow(run: Run, bytes: number, long: boolean): void {
  const { e } = run;
  for (const h of ["a", "b"]) {
    expect(e[`${h}.wire.shift`], `host ${h}: window scale in its SYN`).toBeGreaterThan(0);
    expect(e[`${h}.wire.maxWindow`], `host ${h}: largest window advertised`).toBeGreaterThan(65535);
    expect(e[`${h}.wire.maxInFlight`], `host ${h}: most bytes in flight`).toBeGreaterThan(65536);
  }
  if (!long) return;
  // Faster than a 64 KB window allows over 100 ms (a window's worth a round trip), by far.
  const unscaledMs = (bytes / 65535) * 100;
  expect(Math.max(e["client.lastByteMs"], e["server.lastByteMs"])).toBeLessThan(unscaledMs / 2);
}

/** Three data segments of one flight dropped: one SACK recovery resends exactly those, no timeout. */
function checkSack(run: Run, dropped: number): void {
  const { e } = run;
  expect(e.filterDrops).toBe(dropped);
  // The dropped segments lay within one window (the largest the peer offered).
  expect(e.dropSpan).toBeGreaterThan(0);
  expect(e.dropSpan).toBeLessThan(e["b.wire.maxWindow"]);
  expect(
    { timeouts: e["a.timeouts"], lossProbes: e["a.lossProbes"], sackRecoveries: e["a.sackRecoveries"], retransSegs: e["a.retransSegs"], sackRetrans: e["a.sackRetrans"] },
    summary(e),
  ).toEqual({ timeouts: 0, lossProbes: 0, sackRecoveries: 1, retransSegs: dropped, sackRetrans: dropped });
  expect(e["b.ofoDrop"], "the receiver kept every out-of-order segment").toBe(0);
  expect(e["b.sackBlocksSent"]).toBeGreaterThan(0);
  expect(e["b.wire.sackSegs"]).toBeGreaterThan(0);
  // The other direction lost nothing.
  expect([e["b.retransSegs"], e["b.timeouts"]]).toEqual([0, 0]);
}

describe("TCP at scale: 10 MB each way at once on one connection", () => {
  it("over a clean link", () =>
    withSeed(seedFrom(301), (seed) => {
      const run = bulk("clean", seed, MB10);
      checkExchange(run, MB10, true);
      checkClean(run);
    }));

  it("over 1 % loss with reordering, duplication and corruption", () =>
    withSeed(seedFrom(302), (seed) => {
      const run = bulk("loss1", seed, MB10);
      checkExchange(run, MB10, true);
      checkFaulty(run);
    }));

  it("over 5 % loss with reordering, duplication and corruption", () =>
    withSeed(seedFrom(303), (seed) => {
      const run = bulk("loss5", seed, MB10);
      checkExchange(run, MB10, true);
      checkFaulty(run);
    }));

  it("over a 100 ms round trip", () =>
    withSeed(seedFrom(304), (seed) => {
      const run = bulk("rtt100", seed, MB10);
      checkExchange(run, MB10, true);
      checkClean(run);
    }));

  it("over a 100 ms round trip with 1 % loss, reordering, duplication and corruption", () =>
    withSeed(seedFrom(305), (seed) => {
      const run = bulk("rtt100loss1", seed, MB10);
      checkExchange(run, MB10, true);
      checkFaulty(run);
    }));
});

describe("TCP window scaling (RFC 7323)", () => {
  it("a window over 64 KB when the bandwidth-delay product needs it: 20 Mbit/s, 100 ms round trip, 256 KB buffers, 10 MB each way", () =>
    withSeed(seedFrom(306), (seed) => {
      const run = bulk("wscale", seed, MB10);
      checkExchange(run, MB10, true);
      checkClean(run);
      checkWindow(run, MB10, true);
    }));
});

describe("TCP SACK (RFC 2018, 6675)", () => {
  const drops = BULK_PRESETS.sack.dropClientSegs.length;

  it("recovers three losses of one window in one recovery, without a timeout: each lost segment is resent once", () =>
    withSeed(seedFrom(307), (seed) => {
      const run = bulk("sack", seed, 1 << 20);
      checkExchange(run, 1 << 20, true);
      checkSack(run, drops);
    }));

  it("the same losses with only the client writing", () =>
    withSeed(seedFrom(308), (seed) => {
      const w = createHash("sha256");
      const rd = createHash("sha256");
      const r = tcpBulk("scale-sack-one-way", seed, {
        ...BULK_PRESETS.sack,
        bothWays: false,
        bytes: 1 << 20,
        onWrite: (_side, b) => void w.update(b),
        onRead: (_side, b) => void rd.update(b),
      });
      const run: Run = { r, e: r.extra, written: [w.digest("hex"), ""], read: ["", rd.digest("hex")] };
      checkExchange(run, 1 << 20, false);
      checkSack(run, drops);
    }));

  it("with an out-of-order queue (16 segments) shorter than the window (22), what the receiver drops is resent too, still without a timeout", () =>
    withSeed(seedFrom(309), (seed) => {
      const r = tcpBulk("scale-sack-ooo16", seed, { ...BULK_PRESETS.sack, config: { tcpOooMax: 16 }, bytes: 1 << 20 });
      const e = r.extra;
      checkExchange({ r, e }, 1 << 20, true);
      expect(e.filterDrops).toBe(drops);
      expect(e["b.ofoDrop"]).toBeGreaterThan(0);
      expect({ timeouts: e["a.timeouts"], sackRecoveries: e["a.sackRecoveries"], retransSegs: e["a.retransSegs"] }, summary(e)).toEqual({
        timeouts: 0,
        sackRecoveries: 1,
        retransSegs: drops + e["b.ofoDrop"],
      });
    }));
});

describe("the bulk scenarios the XS harness runs, on V8 (test/xs compares the engines)", () => {
  const names = Object.keys(SCENARIOS).filter((n) => n.startsWith("tcp-bulk-"));

  it("are the presets XS_BULK_BYTES sizes", () => {
    expect(names.map((n) => n.slice("tcp-bulk-".length)).sort()).toEqual(Object.keys(XS_BULK_BYTES).sort());
  });

  for (const name of names) {
    const preset = name.slice("tcp-bulk-".length) as BulkPreset;
    it(name, () =>
      withSeed(seedFrom(7), (seed) => {
        const r = runScenario(name, seed);
        const bytes = XS_BULK_BYTES[preset] as number;
        const run = { r, e: r.extra } as Run;
        checkExchange(run, bytes, true);
        if (preset === "loss5") expect(r.extra["a.retransSegs"] + r.extra["b.retransSegs"]).toBeGreaterThan(0);
        if (preset === "rtt100" || preset === "wscale") checkClean(run);
        if (preset === "wscale") checkWindow(run, bytes, false);
        if (preset === "sack") checkSack(run, BULK_PRESETS.sack.dropClientSegs.length);
      }));
  }
});
