// makeConfig: defaults with overrides, every bad value a RangeError that names the field.
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, makeConfig, MINIMAL_CONFIG, type NetConfig } from "../src/config";
import { init } from "../src/stack";
import { ManualPlatform } from "./helpers";

/** makeConfig(overrides) must throw a RangeError whose message names `field`. */
function rejects(overrides: Partial<NetConfig>, field: string): void {
  expect(() => makeConfig(overrides)).toThrow(RangeError);
  expect(() => makeConfig(overrides)).toThrow(new RegExp(`config\\.${field}\\b`));
}

describe("makeConfig", () => {
  it("returns the defaults, or the base given, with the overrides on top (a copy)", () => {
    const c = makeConfig();
    expect(c).toEqual(DEFAULT_CONFIG);
    expect(c).not.toBe(DEFAULT_CONFIG);
    expect(makeConfig({ neighQueueMax: 5 }).neighQueueMax).toBe(5);
    expect(makeConfig({}, MINIMAL_CONFIG)).toEqual(MINIMAL_CONFIG);
    expect(makeConfig({ skbSlots: 10 }, MINIMAL_CONFIG)).toMatchObject({ skbSlots: 10, skbRecords: 12, reasmSkbsMax: 4 });
  });

  it("rejects a headroom too small for an Ethernet and an IPv4 header (< 34 bytes)", () => {
    rejects({ skbHeadroomBytes: 33 }, "skbHeadroomBytes");
    rejects({ skbHeadroomBytes: 0 }, "skbHeadroomBytes");
    expect(makeConfig({ skbHeadroomBytes: 34 }).skbHeadroomBytes).toBe(34);
  });

  it("rejects a control block of fewer than 5 words (TCP keeps five per segment)", () => {
    rejects({ skbCbWords: 4 }, "skbCbWords");
    rejects({ skbCbWords: 0 }, "skbCbWords");
    expect(makeConfig({ skbCbWords: 5 }).skbCbWords).toBe(5);
  });

  it("rejects more than 32767 skb records (record ids are Int16), whatever the slots", () => {
    rejects({ skbRecords: 32768 }, "skbRecords");
    rejects({ skbSlots: 40_000, skbRecords: 40_000 }, "skbRecords");
    expect(makeConfig({ skbRecords: 32767 }).skbRecords).toBe(32767);
    rejects({ skbSlots: 64, skbRecords: 63 }, "skbRecords"); // fewer records than slots
  });

  it("rejects a reassembly bound that would leave no buffer for the receive rings", () => {
    rejects({ skbSlots: 32, skbRecords: 40, reasmSkbsMax: 32 }, "reasmSkbsMax");
    rejects({ skbSlots: 32, skbRecords: 40, reasmSkbsMax: 33 }, "reasmSkbsMax");
    expect(makeConfig({ skbSlots: 32, skbRecords: 40, reasmSkbsMax: 31 }).reasmSkbsMax).toBe(31);
  });

  it("rejects a timer wheel whose slot count is not a power of two", () => {
    rejects({ timerWheelSlots: 100 }, "timerWheelSlots");
    rejects({ timerWheelSlots: 3 }, "timerWheelSlots");
    expect(makeConfig({ timerWheelSlots: 1 }).timerWheelSlots).toBe(1);
    expect(makeConfig({ timerWheelSlots: 1024 }).timerWheelSlots).toBe(1024);
  });

  it("rejects an MTU outside 68..9000", () => {
    rejects({ mtuMaxBytes: 67 }, "mtuMaxBytes");
    rejects({ mtuMaxBytes: 9001 }, "mtuMaxBytes");
    expect(makeConfig({ mtuMaxBytes: 68 }).mtuMaxBytes).toBe(68);
    expect(makeConfig({ mtuMaxBytes: 9000 }).mtuMaxBytes).toBe(9000);
  });

  it("rejects non-integers, zero and negatives where a count is expected", () => {
    rejects({ neighQueueMax: 2.5 }, "neighQueueMax");
    rejects({ neighEntriesMax: 0 }, "neighEntriesMax");
    rejects({ txQueueLen: -1 }, "txQueueLen");
    rejects({ napiWeight: Number.NaN }, "napiWeight");
    rejects({ skbTailroomBytes: 1.5 }, "skbTailroomBytes");
    rejects({ neighFailedHoldMs: -1 }, "neighFailedHoldMs");
    rejects({ ipDefaultTtl: 256 }, "ipDefaultTtl");
    // Zero is fine where it means "none".
    expect(makeConfig({ tapsMax: 0, neighFailedHoldMs: 0, skbTailroomBytes: 0 })).toMatchObject({ tapsMax: 0, neighFailedHoldMs: 0 });
  });

  it("init checks its configuration the same way before allocating anything", () => {
    expect(() => init({ skbHeadroomBytes: 20 }, new ManualPlatform())).toThrow(/config\.skbHeadroomBytes/);
    expect(() => init({ skbCbWords: 1 }, new ManualPlatform())).toThrow(/config\.skbCbWords/);
  });
});
