// The W5500 scenarios on V8 (test/xs runs the same from SCENARIOS inside XS), and what a
// full-size frame costs on the SPI bus against the chip's floor.
import { describe, expect, it } from "vitest";
import { SCENARIOS } from "../../host-sim/sim/scenarios/index";
import { attachW5500, W5500_PINS, type W5500Parts } from "../../host-sim/sim/scenarios/w5500";
import { w5500SpiFloor } from "../../host-sim/sim/w5500-chip";
import { SimWorld } from "../../host-sim/sim/world";
import { udpSocketClass } from "../../src/socket/udp";

describe("W5500 scenarios", () => {
  for (const seed of [1, 7]) {
    it(`w5500-ping (seed ${seed}): every ping answered both ways, pools full`, () => {
      const r = SCENARIOS["w5500-ping"](seed);
      expect(r.pingsSent).toBe(56);
      expect(r.pingsAnswered).toBe(56);
      expect(r.poolsFull).toBe(true);
      expect(r.extra["drv.chipLost"]).toBe(0);
      expect(SCENARIOS["w5500-ping"](seed).frameHash).toBe(r.frameHash);
    });

    it(`w5500-udp-echo (seed ${seed}): every datagram echoed intact, pools full`, () => {
      const r = SCENARIOS["w5500-udp-echo"](seed);
      expect(r.extra.echoed).toBe(70);
      expect(r.extra.received).toBe(70);
      expect(r.extra.mismatches).toBe(0);
      expect(r.poolsFull).toBe(true);
    });

    it(`w5500-tcp-bulk (seed ${seed}): 64 KB each way at once, every byte checked, pools full`, () => {
      const r = SCENARIOS["w5500-tcp-bulk"](seed);
      expect(r.extra.done).toBe(1);
      expect(r.extra["client.received"]).toBe(64 * 1024);
      expect(r.extra["server.received"]).toBe(64 * 1024);
      expect(r.extra["client.mismatches"] + r.extra["server.mismatches"]).toBe(0);
      expect(r.extra["a.poolLeak"]).toBe(0);
      expect(r.poolsFull).toBe(true);
    });
  }
});

/** SPI per delivered frame in a stream of full-size (1514-byte) frames, RX and TX. */
function fullSizeCosts(gapMs: number) {
  let parts: W5500Parts | null = null;
  const attach = attachW5500({ onAttach: (p) => { parts = p; } });
  const { world, lan, host, dev } = new SimWorld(1).oneHost({ host: { attach } });
  const p = parts as unknown as W5500Parts;
  const rawPort = lan.attach({ onFrame() {} });
  world.runFor(10);
  const stats = p.bus.stats(W5500_PINS.select);
  const frame = new Uint8Array(1514);
  frame.set(dev.addr, 0);
  frame.set([0x02, 0, 0, 0, 0, 0x99], 6);
  frame[12] = 0x88;
  frame[13] = 0xb5;
  const n = 200;
  let c0 = stats.calls, f0 = stats.frames, b0 = stats.bytes;
  for (let i = 0; i < n; i++) {
    lan.transmit(rawPort, frame, 0, frame.length);
    world.runFor(gapMs);
  }
  world.runFor(300); // the idle RECV of the link timer included
  const got = dev.stats.rxPackets;
  const rx = { calls: (stats.calls - c0) / got, frames: (stats.frames - f0) / got, bytes: (stats.bytes - b0) / got, got };
  host.net.neigh.addPermanent(0x0a000063, dev, new Uint8Array([0x02, 0, 0, 0, 0, 0x99]));
  const Udp = udpSocketClass(host.net);
  const s = new Udp({ port: 4000 });
  const payload = new Uint8Array(1472);
  world.runFor(300);
  c0 = stats.calls; f0 = stats.frames; b0 = stats.bytes;
  const sent0 = dev.stats.txPackets;
  for (let i = 0; i < n; i++) {
    s.write(payload, "10.0.0.99", 9);
    world.runFor(gapMs);
  }
  world.runFor(300);
  const sent = dev.stats.txPackets - sent0;
  const tx = { calls: (stats.calls - c0) / sent, frames: (stats.frames - f0) / sent, bytes: (stats.bytes - b0) / sent, sent };
  s.close();
  world.shutdown();
  return { rx, tx };
}

describe("W5500 SPI cost per full-size frame", () => {
  it("stays within 1.1x of the floor in bytes, RX and TX, spaced and back to back", () => {
    const floor = w5500SpiFloor(1514);
    for (const gap of [1, 0.3]) {
      const { rx, tx } = fullSizeCosts(gap);
      console.log(`gap ${gap} ms: RX ${JSON.stringify(rx)} TX ${JSON.stringify(tx)} floor ${JSON.stringify(floor)}`);
      expect(rx.got).toBeGreaterThan(0);
      expect(tx.sent).toBeGreaterThan(0);
      expect(rx.bytes / floor.rx.bytes).toBeLessThan(1.1);
      expect(tx.bytes / floor.tx.bytes).toBeLessThan(1.1);
    }
  });
});
