// The ENC28J60 scenarios on V8 (test/xs runs every SCENARIOS entry inside XS too), and the
// SPI cost per full-size frame against the chip's floor.
import { describe, expect, it } from "vitest";
import { SCENARIOS } from "../../host-sim/sim/scenarios/index";
import { attachEnc28j60, ENC28J60_PINS, tenBaseTToward, type Enc28j60Parts } from "../../host-sim/sim/scenarios/enc28j60";
import { enc28j60SpiFloor } from "../../host-sim/sim/enc28j60-chip";
import { SimWorld } from "../../host-sim/sim/world";
import { udpSocketClass } from "../../src/socket/udp";

describe("ENC28J60 scenarios", () => {
  it("enc28j60-ping: every ping of every size answered, pools full", () => {
    const r = SCENARIOS["enc28j60-ping"](1);
    expect(r.pingsSent).toBe(60);
    expect(r.pingsAnswered).toBe(60);
    expect(r.poolsFull).toBe(true);
    expect(r.extra["driver.rxResyncs"]).toBe(0);
    expect(SCENARIOS["enc28j60-ping"](1).frameHash).toBe(r.frameHash);
  });

  it("enc28j60-udp-echo: datagrams up to 8,000 bytes echoed through the socket API, bytes checked, pools full", () => {
    const r = SCENARIOS["enc28j60-udp-echo"](1);
    expect(r.extra.mismatches).toBe(0);
    expect(r.extra.received).toBeGreaterThan(55); // 1 % loss on the LAN, 8 KB datagrams are 6 frames
    expect(r.extra.received).toBeLessThanOrEqual(r.extra.echoed);
    expect(r.poolsFull).toBe(true);
  });

  it("enc28j60-tcp-bulk: 64 KB each way at once, every byte checked, pools full", () => {
    for (const seed of [1, 7]) {
      const r = SCENARIOS["enc28j60-tcp-bulk"](seed);
      expect(r.extra.done).toBe(1);
      expect(r.extra["client.received"]).toBe(65536);
      expect(r.extra["server.received"]).toBe(65536);
      expect(r.extra["client.mismatches"] + r.extra["server.mismatches"]).toBe(0);
      expect(r.extra["a.poolLeak"] + r.extra["b.poolLeak"]).toBe(0);
      expect(r.poolsFull).toBe(true);
    }
  });
});

/** SPI calls, chip-select frames and bytes per 1514-byte frame, a stream of them one way. */
function perFrame(dir: "rx" | "tx") {
  let parts: Enc28j60Parts | null = null;
  const world = new SimWorld(1);
  const t = world.twoHosts({ faults: { delayMs: 1 }, a: { attach: attachEnc28j60({ onAttach: (p) => { parts = p; } }) }, staticNeighbours: true });
  tenBaseTToward(t.lan, 0, [1]);
  world.runFor(10);
  const p = parts as unknown as Enc28j60Parts;
  const sender = udpSocketClass((dir === "tx" ? t.a : t.b).net);
  const receiver = udpSocketClass((dir === "tx" ? t.b : t.a).net);
  const rs = new receiver({ port: 9 });
  const s = new sender({ port: 1000 });
  const st = p.bus.stats(ENC28J60_PINS.select);
  const c0 = { calls: st.calls, frames: st.frames, bytes: st.bytes };
  const f0 = dir === "tx" ? p.chip.stats.txFrames : p.chip.stats.rxFrames;
  const payload = new Uint8Array(1472); // a 1514-byte frame
  for (let i = 0; i < 100; i++) {
    s.write(payload, dir === "tx" ? "10.0.0.2" : "10.0.0.1", 9);
    world.runFor(2);
    while (rs.read() !== undefined);
  }
  world.runFor(20);
  const n = (dir === "tx" ? p.chip.stats.txFrames : p.chip.stats.rxFrames) - f0;
  return { n, calls: (st.calls - c0.calls) / n, frames: (st.frames - c0.frames) / n, bytes: (st.bytes - c0.bytes) / n };
}

describe("ENC28J60 SPI cost per full-size frame", () => {
  const floor = enc28j60SpiFloor(1514);
  it("receive: 7 chip-select frames and 1,537 bytes, the floor", () => {
    const m = perFrame("rx");
    expect(m.n).toBe(100);
    expect(m.frames / floor.rx.frames).toBeLessThanOrEqual(1.01);
    expect(m.bytes / floor.rx.bytes).toBeLessThanOrEqual(1.01);
    expect(m.calls).toBeLessThanOrEqual(9.05);
  });

  it("transmit: one write per frame, at the floor in frames, bytes within 1.1x", () => {
    const m = perFrame("tx");
    expect(m.n).toBe(100);
    expect(m.frames / floor.tx.frames).toBeLessThanOrEqual(1.01);
    expect(m.bytes / floor.tx.bytes).toBeLessThanOrEqual(1.1);
    expect(m.calls).toBeLessThanOrEqual(6.1);
  });
});
