// The configuration table (src/config.ts): makeConfig's defaults with overrides, each refusal
// (unknown key and wrong type a TypeError, out of bounds and each cross-check a RangeError,
// every message naming the key), the configurations the repository runs, and ramBudget
// against what init really allocates.
import { readFileSync } from "node:fs";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  CONFIG_KEYS, CONFIG_TABLE, DEFAULT_CONFIG, DROP_REASONS, makeConfig, MINIMAL_CONFIG, ramBudget, SKB_FIELDS, SKB_QUEUE_FIELDS,
  TCB_ARRAYS, TCB_BYTES_PER_CONNECTION, TIMER_FIELDS, type NetConfig,
} from "../src/config";
import { DROP_REASON_NAMES } from "../src/core/drop";
import { poolBytes } from "../src/core/net";
import { init } from "../src/stack";
import { SkBuff, SkbQueue } from "../src/core/skb";
import { Timer } from "../src/core/timer";
import { DEVICE_CONFIG } from "../host-sim/device";
import { BOARD_STACK_CONFIG } from "../examples/device-app/board";
import { typedArrayBytesAtInit } from "../bench/ram";
import { ManualPlatform } from "./helpers";

/** DEFAULT_CONFIG as it was before the table (every value, written out). */
const PREVIOUS_DEFAULTS = {
  skbSlots: 128, skbRecords: 160, skbHeadroomBytes: 96, mtuMaxBytes: 1500, skbTailroomBytes: 16, skbCbWords: 8,
  devicesMax: 4, txQueueLen: 64, napiWeight: 64, netdevBudget: 300, netdevBudgetMs: 2, softirqRoundsMax: 10, loopbackBacklog: 64, tapsMax: 4,
  timersMax: 128, timerWheelSlots: 256, timerTickMs: 1,
  neighEntriesMax: 16, neighQueueMax: 48, neighReachableMs: 30_000, neighRetransMs: 1_000, neighDelayProbeMs: 5_000,
  neighMcastProbes: 3, neighUcastProbes: 3, neighFailedHoldMs: 3_000,
  routesMax: 16, ipDefaultTtl: 64, ipForward: false, reasmSlots: 4, reasmSkbsMax: 64, reasmTimeoutMs: 30_000,
  icmpRatePerSec: 1000, icmpBurst: 50, icmpEchoIgnoreBroadcasts: true, nfHooksPerPoint: 4, rawHandlersMax: 4, rawRxQueueMax: 8,
  tcpSocketsMax: 16, tcpSndBufBytes: 32 * 1024, tcpRcvBufBytes: 32 * 1024, tcpOooMax: 32, tcpRtoInitialMs: 1000, tcpRtoMinMs: 200,
  tcpRtoMaxMs: 60_000, tcpSynRetries: 6, tcpRetries: 12, tcpDelackMs: 40, tcpTimeWaitMs: 60_000, tcpChallengeAcksPerSec: 1000,
  tcpKeepaliveIdleMs: 7_200_000, tcpKeepaliveIntervalMs: 75_000, tcpKeepaliveProbes: 9, tcpSynCookies: true, tcpSack: true,
  tcpTimestamps: true, udpSocketsMax: 8, udpRxQueueMax: 8,
} satisfies NetConfig;

/** MINIMAL_CONFIG's overrides of the defaults, as they were. */
const PREVIOUS_MINIMAL = {
  skbSlots: 8, skbRecords: 12, devicesMax: 2, txQueueLen: 4, napiWeight: 4, netdevBudget: 16, loopbackBacklog: 4, tapsMax: 1,
  timersMax: 32, timerWheelSlots: 64, neighEntriesMax: 4, neighQueueMax: 2, routesMax: 4, reasmSlots: 1, reasmSkbsMax: 4,
  nfHooksPerPoint: 1, rawHandlersMax: 1, rawRxQueueMax: 2, tcpSocketsMax: 2, tcpSndBufBytes: 2920, tcpRcvBufBytes: 2920,
  tcpOooMax: 2, udpSocketsMax: 2, udpRxQueueMax: 2,
} satisfies Partial<NetConfig>;

/** makeConfig(overrides) must throw `kind` with a message naming config.`key` (and matching `also`). */
function rejects(overrides: Record<string, unknown>, key: string, kind: typeof TypeError | typeof RangeError = RangeError, also?: RegExp): void {
  const attempt = (): NetConfig => makeConfig(overrides as Partial<NetConfig>);
  expect(attempt).toThrow(kind);
  expect(attempt).toThrow(new RegExp(`config\\.${key}\\b`));
  if (also) expect(attempt).toThrow(also);
}

describe("the configuration table", () => {
  it("keeps every default as it was, and MINIMAL_CONFIG too", () => {
    expect(DEFAULT_CONFIG).toEqual(PREVIOUS_DEFAULTS);
    expect([...CONFIG_KEYS].sort()).toEqual(Object.keys(PREVIOUS_DEFAULTS).sort());
    expect(MINIMAL_CONFIG).toEqual({ ...PREVIOUS_DEFAULTS, ...PREVIOUS_MINIMAL });
  });

  it("derives NetConfig from the table: a number per integer key, a boolean per switch", () => {
    type Previous = { [K in keyof typeof PREVIOUS_DEFAULTS]: (typeof PREVIOUS_DEFAULTS)[K] extends boolean ? boolean : number };
    expectTypeOf<NetConfig>().toEqualTypeOf<Previous>();
    expectTypeOf<NetConfig["tcpSack"]>().toEqualTypeOf<boolean>();
    expectTypeOf<NetConfig["skbSlots"]>().toEqualTypeOf<number>();
    // @ts-expect-error a key the table does not have is not a NetConfig key
    const unknown: Partial<NetConfig> = { tcpSndbufBytes: 1 };
    void unknown;
    for (const key of CONFIG_KEYS) expect(typeof DEFAULT_CONFIG[key]).toBe(CONFIG_TABLE[key].type === "boolean" ? "boolean" : "number");
  });

  it("gives each key a unit, bounds holding its default, and a line of doc; everything frozen", () => {
    // Each key's line of doc is the comment right above it (no flash on a board).
    const source = readFileSync(new URL("../src/config.ts", import.meta.url), "utf8");
    for (const key of CONFIG_KEYS) {
      expect(source, key).toMatch(new RegExp(`\\n +/\\*\\* [^\\n]{10,} \\*/\\n +${key}: (int|flag)\\(`));
    }
    expect(Object.isFrozen(CONFIG_TABLE)).toBe(true);
    expect(Object.isFrozen(CONFIG_KEYS)).toBe(true);
    expect(Object.isFrozen(DEFAULT_CONFIG)).toBe(true);
    expect(Object.isFrozen(MINIMAL_CONFIG)).toBe(true);
    for (const key of CONFIG_KEYS) {
      const spec = CONFIG_TABLE[key];
      expect(Object.isFrozen(spec), key).toBe(true);
      if (spec.type === "integer") {
        expect(spec.unit.length, key).toBeGreaterThan(0);
        expect(Number.isInteger(spec.min) && Number.isInteger(spec.max) && spec.min <= spec.max, key).toBe(true);
        expect(spec.default, key).toBeGreaterThanOrEqual(spec.min);
        expect(spec.default, key).toBeLessThanOrEqual(spec.max);
      }
    }
  });
});

describe("makeConfig", () => {
  it("returns the defaults, or the base given, with the overrides on top (a copy)", () => {
    const c = makeConfig();
    expect(c).toEqual(DEFAULT_CONFIG);
    expect(c).not.toBe(DEFAULT_CONFIG);
    expect(makeConfig({ neighQueueMax: 5 }).neighQueueMax).toBe(5);
    expect(makeConfig({}, MINIMAL_CONFIG)).toEqual(MINIMAL_CONFIG);
    expect(makeConfig({ skbSlots: 10 }, MINIMAL_CONFIG)).toMatchObject({ skbSlots: 10, skbRecords: 12, reasmSkbsMax: 4 });
    expect(makeConfig(makeConfig({ ipForward: true }))).toMatchObject({ ipForward: true });
  });

  it("takes every configuration the repository runs: default, minimal, device, board, examples, the CLI's largest", () => {
    for (const config of [DEFAULT_CONFIG, MINIMAL_CONFIG, DEVICE_CONFIG, BOARD_STACK_CONFIG]) expect(() => makeConfig(config)).not.toThrow();
    // examples/ping/main.ts
    expect(() => makeConfig({ ...MINIMAL_CONFIG, skbSlots: 24, skbRecords: 32, neighQueueMax: 8 })).not.toThrow();
    // host-sim/cli.ts with --tcp-sockets 1024 --tcp-sndbuf 1Mi --tcp-rcvbuf 1Mi, the largest it takes
    const mi = 1 << 20;
    expect(() => makeConfig({
      ...DEVICE_CONFIG, tcpSocketsMax: 1024, timersMax: Math.max(256, 4 * 1024 + 64), tcpSndBufBytes: mi, tcpRcvBufBytes: mi,
      tcpOooMax: Math.max(48, Math.ceil(mi / 1448) + 4),
    })).not.toThrow();
  });

  it("refuses an unknown key with a TypeError, suggesting the nearest key", () => {
    rejects({ tcpSndbufBytes: 65536 }, "tcpSndbufBytes", TypeError, /is not a configuration key \(did you mean config\.tcpSndBufBytes\?\)/);
    rejects({ skbslot: 8 }, "skbslot", TypeError, /did you mean config\.skbSlots\?/);
    rejects({ wholly: 1 }, "wholly", TypeError, /^config\.wholly is not a configuration key$/);
    // in the base as well
    expect(() => makeConfig({}, { ...DEFAULT_CONFIG, timerMax: 3 } as NetConfig)).toThrow(/config\.timerMax is not a configuration key/);
  });

  it("refuses a value of the wrong type for a number key with a TypeError: booleans, strings, NaN, fractions, undefined", () => {
    rejects({ skbSlots: true }, "skbSlots", TypeError, /must be an integer \(slots\), got true/);
    rejects({ skbSlots: "128" }, "skbSlots", TypeError, /got "128"/);
    rejects({ napiWeight: Number.NaN }, "napiWeight", TypeError, /got NaN/);
    rejects({ neighQueueMax: 2.5 }, "neighQueueMax", TypeError);
    rejects({ skbTailroomBytes: 1.5 }, "skbTailroomBytes", TypeError);
    rejects({ tcpRtoMaxMs: Number.POSITIVE_INFINITY }, "tcpRtoMaxMs", TypeError);
    rejects({ txQueueLen: undefined }, "txQueueLen", TypeError, /got undefined/);
  });

  it("refuses a value of the wrong type for a boolean key with a TypeError", () => {
    rejects({ tcpSack: 1 }, "tcpSack", TypeError, /must be true or false, got 1/);
    rejects({ ipForward: "yes" }, "ipForward", TypeError);
    rejects({ tcpTimestamps: undefined }, "tcpTimestamps", TypeError);
  });

  it("refuses a value below its bounds with a RangeError naming key, value and bounds", () => {
    rejects({ neighEntriesMax: 0 }, "neighEntriesMax", RangeError, /must be in 1\.\.4096 entries, got 0/);
    rejects({ txQueueLen: -1 }, "txQueueLen", RangeError, /got -1/);
    rejects({ neighFailedHoldMs: -1 }, "neighFailedHoldMs", RangeError, /0\.\.2147483647 ms/);
    // Zero is fine where it means "none".
    expect(makeConfig({ tapsMax: 0, neighFailedHoldMs: 0, skbTailroomBytes: 0 })).toMatchObject({ tapsMax: 0, neighFailedHoldMs: 0 });
  });

  it("refuses a value above its bounds with a RangeError naming key, value and bounds", () => {
    rejects({ ipDefaultTtl: 256 }, "ipDefaultTtl", RangeError, /must be in 1\.\.255 hops, got 256 \(an 8-bit field\)/);
    rejects({ tcpDelackMs: 500 }, "tcpDelackMs", RangeError, /RFC 1122 4\.2\.3\.2/);
    rejects({ tcpRcvBufBytes: 65535 * 2 ** 14 + 1 }, "tcpRcvBufBytes", RangeError, /RFC 7323 2\.3/);
    expect(makeConfig({ ipDefaultTtl: 255, tcpDelackMs: 499 })).toMatchObject({ ipDefaultTtl: 255, tcpDelackMs: 499 });
  });

  it("rejects a headroom too small for the headers TCP pushes in front of its data", () => {
    // Ethernet + IPv4 (34) is not enough: a data segment pushes its TCP header there too (54) ...
    rejects({ skbHeadroomBytes: 33 }, "skbHeadroomBytes");
    rejects({ skbHeadroomBytes: 0 }, "skbHeadroomBytes");
    rejects({ skbHeadroomBytes: 53, tcpTimestamps: false }, "skbHeadroomBytes", RangeError, /54\.\.512 bytes, got 53/);
    expect(makeConfig({ skbHeadroomBytes: 54, tcpTimestamps: false }).skbHeadroomBytes).toBe(54);
    // ... and its timestamps option (12) with config.tcpTimestamps.
    rejects({ skbHeadroomBytes: 65 }, "skbHeadroomBytes", RangeError, /must be >= 66 with config\.tcpTimestamps/);
    expect(makeConfig({ skbHeadroomBytes: 66 }).skbHeadroomBytes).toBe(66);
  });

  it("rejects a control block of fewer than 5 words (TCP keeps five per segment)", () => {
    rejects({ skbCbWords: 4 }, "skbCbWords", RangeError, /TCP keeps five words per segment/);
    rejects({ skbCbWords: 0 }, "skbCbWords");
    expect(makeConfig({ skbCbWords: 5 }).skbCbWords).toBe(5);
  });

  it("rejects more than 32767 skb records (record ids are Int16), whatever the slots", () => {
    rejects({ skbRecords: 32768 }, "skbRecords");
    rejects({ skbSlots: 40_000, skbRecords: 40_000 }, "skbRecords");
    expect(makeConfig({ skbRecords: 32767 }).skbRecords).toBe(32767);
  });

  it("rejects fewer skb records than slots", () => {
    rejects({ skbSlots: 64, skbRecords: 63, reasmSkbsMax: 32 }, "skbRecords", RangeError, /config\.skbRecords must be >= config\.skbSlots \(63 < 64\)/);
    expect(makeConfig({ skbSlots: 64, skbRecords: 64, reasmSkbsMax: 32 }).skbRecords).toBe(64);
  });

  it("rejects a reassembly bound that would leave no buffer for the receive rings", () => {
    rejects({ skbSlots: 32, skbRecords: 40, reasmSkbsMax: 32 }, "reasmSkbsMax", RangeError, /must be below config\.skbSlots/);
    rejects({ skbSlots: 32, skbRecords: 40, reasmSkbsMax: 33 }, "reasmSkbsMax");
    expect(makeConfig({ skbSlots: 32, skbRecords: 40, reasmSkbsMax: 31 }).reasmSkbsMax).toBe(31);
  });

  it("rejects a timer wheel whose slot count is not a power of two", () => {
    rejects({ timerWheelSlots: 100 }, "timerWheelSlots", RangeError, /power of two, got 100/);
    rejects({ timerWheelSlots: 3 }, "timerWheelSlots");
    expect(makeConfig({ timerWheelSlots: 1 }).timerWheelSlots).toBe(1);
    expect(makeConfig({ timerWheelSlots: 1024 }).timerWheelSlots).toBe(1024);
  });

  it("rejects a timer table smaller than what init takes: a timer per neighbour entry, reassembly slot and device (IGMP), four per TCP connection", () => {
    // 16 + 4 + 4 + 4 x 16 = 88 by default
    rejects({ timersMax: 87 }, "timersMax", RangeError, /config\.timersMax is 87, init makes 88 timers/);
    expect(makeConfig({ timersMax: 88 }).timersMax).toBe(88);
    rejects({ tcpSocketsMax: 27 }, "timersMax", RangeError, /init makes 132 timers/);
    // and init agrees: the exact count is enough
    const net = init({ timersMax: 88 }, new ManualPlatform());
    net.shutdown();
  });

  it("rejects an RTO floor not below its ceiling, and a first RTO outside them (RFC 6298 2.4, 2.5)", () => {
    rejects({ tcpRtoMinMs: 60_000 }, "tcpRtoMinMs", RangeError, /must be below config\.tcpRtoMaxMs \(60000\)/);
    rejects({ tcpRtoMinMs: 2000 }, "tcpRtoInitialMs", RangeError, /must be within config\.tcpRtoMinMs\.\.config\.tcpRtoMaxMs \(2000\.\.60000\)/);
    rejects({ tcpRtoMaxMs: 999 }, "tcpRtoInitialMs");
    expect(makeConfig({ tcpRtoMinMs: 1000, tcpRtoMaxMs: 1001 })).toMatchObject({ tcpRtoInitialMs: 1000 });
  });

  it("rejects a window smaller than a full-size segment, a send buffer smaller than two (lwIP's TCP_WND, TCP_SND_BUF checks)", () => {
    rejects({ tcpRcvBufBytes: 1459 }, "tcpRcvBufBytes", RangeError, /must hold a full-size segment \(1460 bytes with config\.mtuMaxBytes 1500\)/);
    expect(makeConfig({ tcpRcvBufBytes: 1460 }).tcpRcvBufBytes).toBe(1460);
    rejects({ tcpSndBufBytes: 2919 }, "tcpSndBufBytes", RangeError, /two full-size segments \(2 x 1460/);
    expect(makeConfig({ tcpSndBufBytes: 2920 }).tcpSndBufBytes).toBe(2920);
    // The segment is the largest MTU's: jumbo frames need larger buffers.
    rejects({ ...MINIMAL_CONFIG, mtuMaxBytes: 9000 }, "tcpRcvBufBytes");
    expect(makeConfig({ mtuMaxBytes: 576, tcpRcvBufBytes: 536, tcpSndBufBytes: 1072 })).toMatchObject({ tcpRcvBufBytes: 536 });
  });

  it("rejects a pool that cannot hold, beside the receive rings' reserve, a segment of a window and two of a send buffer", () => {
    // 4 slots keep 2 for the rings and leave 2; 5 leave 3.
    rejects({ skbSlots: 4, skbRecords: 8, reasmSkbsMax: 2 }, "skbSlots", RangeError, /keeps 2 for the receive rings and leaves 2/);
    expect(makeConfig({ skbSlots: 5, skbRecords: 8, reasmSkbsMax: 2 }).skbSlots).toBe(5);
  });

  it("rejects an MTU outside 68..9000", () => {
    rejects({ mtuMaxBytes: 67 }, "mtuMaxBytes");
    rejects({ mtuMaxBytes: 9001 }, "mtuMaxBytes");
    expect(makeConfig({ mtuMaxBytes: 68, tcpRcvBufBytes: 28, tcpSndBufBytes: 56 }).mtuMaxBytes).toBe(68);
    expect(makeConfig({ mtuMaxBytes: 9000 }).mtuMaxBytes).toBe(9000);
  });

  it("refuses overrides that are not an object", () => {
    expect(() => makeConfig(null as unknown as Partial<NetConfig>)).toThrow(TypeError);
    expect(() => makeConfig(5 as unknown as Partial<NetConfig>)).toThrow(/overrides must be an object/);
  });

  it("init checks its configuration the same way before allocating anything", () => {
    expect(() => init({ skbHeadroomBytes: 20 }, new ManualPlatform())).toThrow(/config\.skbHeadroomBytes/);
    expect(() => init({ skbCbWords: 1 }, new ManualPlatform())).toThrow(/config\.skbCbWords/);
    expect(() => init({ tcpSndbufBytes: 1 } as Partial<NetConfig>, new ManualPlatform())).toThrow(TypeError);
  });
});

describe("ramBudget", () => {
  const configs: Record<string, Partial<NetConfig>> = { default: DEFAULT_CONFIG, minimal: MINIMAL_CONFIG, device: DEVICE_CONFIG, board: BOARD_STACK_CONFIG };

  it("lists frozen rows that sum to the total; its pool row is poolBytes()", () => {
    for (const [name, config] of Object.entries(configs)) {
      const budget = ramBudget(config);
      expect(Object.isFrozen(budget) && Object.isFrozen(budget.rows), name).toBe(true);
      let sum = 0;
      for (const row of budget.rows) {
        expect(Object.isFrozen(row), `${name}: ${row.name}`).toBe(true);
        expect(Number.isInteger(row.bytes) && row.bytes > 0, `${name}: ${row.name}`).toBe(true);
        expect(row.note.length, `${name}: ${row.name}`).toBeGreaterThan(0);
        sum += row.bytes;
      }
      expect(sum, name).toBe(budget.total);
      const pool = budget.rows.find((r) => r.name === "packet pool");
      expect(pool?.bytes, name).toBe(poolBytes(config));
      expect(budget.typedArrayBytes, name).toBeLessThan(budget.total);
    }
  });

  it("counts exactly the typed-array bytes init (and the devices up to devicesMax) allocate", () => {
    // + 6: the loopback's all-zero MAC argument, made and dropped by init
    for (const [name, config] of Object.entries(configs)) expect(typedArrayBytesAtInit(config), name).toBe(ramBudget(config).typedArrayBytes + 6);
  });

  it("grows with skbSlots and with tcpSocketsMax, and with nothing else held still", () => {
    let last = 0;
    for (const skbSlots of [8, 16, 32, 64, 128, 256, 1024]) {
      const total = ramBudget({ skbSlots, skbRecords: skbSlots + (skbSlots >> 2), reasmSkbsMax: skbSlots >> 1 }).total;
      expect(total, `skbSlots ${skbSlots}`).toBeGreaterThan(last);
      last = total;
    }
    last = 0;
    for (const tcpSocketsMax of [1, 2, 4, 16, 64, 256]) {
      const total = ramBudget({ tcpSocketsMax, timersMax: 64 + 4 * tcpSocketsMax }).total;
      expect(total, `tcpSocketsMax ${tcpSocketsMax}`).toBeGreaterThan(last);
      last = total;
    }
    expect(ramBudget({ timersMax: 4096 }).total).toBe(ramBudget({}).total); // timers are counted as made, not as allowed
  });

  it("refuses a configuration makeConfig refuses", () => {
    expect(() => ramBudget({ skbSlots: 0 })).toThrow(/config\.skbSlots/);
  });

  it("sizes its records from the classes as they are (field counts, TCP state bytes, drop reasons)", () => {
    expect(Object.keys(new SkBuff(0, 8)).length).toBe(SKB_FIELDS);
    expect(Object.keys(new Timer(() => {}, 0)).length).toBe(TIMER_FIELDS);
    expect(Object.keys(new SkbQueue()).length).toBe(SKB_QUEUE_FIELDS);
    expect(DROP_REASON_NAMES.length).toBe(DROP_REASONS);
    const net = init({}, new ManualPlatform());
    const tcb = net.tcp.tcb;
    expect(tcb.stateBytesPerEntry()).toBe(TCB_BYTES_PER_CONNECTION);
    expect(Object.values(tcb).filter((v) => ArrayBuffer.isView(v) && (v as Uint8Array).length === tcb.size).length).toBe(TCB_ARRAYS);
    net.shutdown();
  });
});
