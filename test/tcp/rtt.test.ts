// RTT and RTO (src/tcp/rtt.ts, RFC 6298) on a bare stack's connection entry: the first
// sample (2.2), the smoothed ones (2.3, alpha 1/8 and beta 1/4), RTO = SRTT + max(G, 4
// RTTVAR) clamped to config.tcpRtoMinMs and tcpRtoMaxMs (2.4, 2.5), Karn's rule (3), the
// backoff (5.5) and the persist interval; srtt and rttvar in µs, rto in ms.
import { describe, expect, it } from "vitest";
import type { SkBuff } from "../../src/core/skb";
import { CB_SENT, CB_XMIT } from "../../src/tcp/tcb";
import { tcpAlloc } from "../../src/tcp/table";
import {
  tcpPersistInterval, tcpRtoBackoff, tcpRttInit, tcpRttOfEcho, tcpRttOfSegment, tcpRttSample,
} from "../../src/tcp/rtt";
import type { NetConfig } from "../../src/config";
import { makeNet } from "../helpers";

function entry(config: Partial<NetConfig> = {}) {
  const { net, platform } = makeNet(config);
  const c = tcpAlloc(net);
  const t = net.tcp.tcb;
  const state = () => ({ srtt: t.srtt[c], rttvar: t.rttvar[c], rto: t.rto[c], backoff: t.backoff[c] });
  return { net, platform, c, t, state };
}

describe("RTT and RTO (RFC 6298)", () => {
  it("starts with no sample and the initial RTO (2.1)", () => {
    const { state } = entry({ tcpRtoInitialMs: 1000 });
    expect(state()).toEqual({ srtt: 0, rttvar: 0, rto: 1000, backoff: 0 });
  });

  it("takes the first sample whole: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR (2.2)", () => {
    const { net, c, state } = entry();
    tcpRttSample(net, c, 100_000);
    expect(state()).toEqual({ srtt: 100_000, rttvar: 50_000, rto: 300, backoff: 0 });
  });

  it("smooths later samples: RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R| first, then SRTT = 7/8 SRTT + 1/8 R (2.3)", () => {
    const { net, c, state } = entry();
    tcpRttSample(net, c, 100_000);
    tcpRttSample(net, c, 60_000);
    expect(state()).toEqual({ srtt: 95_000, rttvar: 47_500, rto: 285, backoff: 0 });
    // The same as the formulas in floating point, over a run of samples (integer shifts round down).
    let srtt = 95_000;
    let rttvar = 47_500;
    for (const r of [80_000, 120_000, 90_000, 200_000, 70_000, 75_000, 72_000]) {
      tcpRttSample(net, c, r);
      rttvar = 0.75 * rttvar + 0.25 * Math.abs(srtt - r);
      srtt = 0.875 * srtt + 0.125 * r;
      expect(Math.abs(state().srtt - srtt)).toBeLessThan(8);
      expect(Math.abs(state().rttvar - rttvar)).toBeLessThan(8);
      expect(state().rto).toBe(Math.ceil((state().srtt + 4 * state().rttvar) / 1000));
    }
  });

  it("takes the clock granularity G (the timer tick) when 4 RTTVAR is less (2.3)", () => {
    const { net, c, state } = entry({ tcpRtoMinMs: 1, timerTickMs: 10 });
    for (let i = 0; i < 60; i++) tcpRttSample(net, c, 20_000);
    expect(state().srtt).toBe(20_000);
    expect(state().rttvar).toBeLessThan(2_500);
    expect(state().rto).toBe(30); // 20 ms + G of 10 ms
  });

  it("clamps the RTO to config.tcpRtoMinMs and tcpRtoMaxMs (2.4, 2.5)", () => {
    const low = entry({ tcpRtoMinMs: 200 });
    tcpRttSample(low.net, low.c, 1_000);
    expect(low.state().rto).toBe(200);
    tcpRttSample(low.net, low.c, 0); // a sample under a µs counts as one
    expect(low.state().srtt).toBeGreaterThan(0);
    const high = entry({ tcpRtoMaxMs: 60_000 });
    tcpRttSample(high.net, high.c, 50_000_000);
    expect(high.state().rto).toBe(60_000);
  });

  it("times only segments sent once (Karn's rule, 3), across the clock's wrap", () => {
    const { net } = entry();
    const skb = net.pool.alloc() as SkBuff;
    skb.cb[CB_SENT] = 1;
    skb.cb[CB_XMIT] = 5_000;
    expect(tcpRttOfSegment(skb, 45_000)).toBe(40_000);
    skb.cb[CB_XMIT] = 0xffff_fff0;
    expect(tcpRttOfSegment(skb, 0x10)).toBe(0x20);
    skb.cb[CB_SENT] = 2;
    expect(tcpRttOfSegment(skb, 45_000)).toBe(-1);
    skb.cb[CB_SENT] = 0;
    expect(tcpRttOfSegment(skb, 45_000)).toBe(-1);
    net.pool.free(skb);
  });

  it("times a round trip from a timestamp echo (RFC 7323 4), in µs", () => {
    const { net, platform, c } = entry();
    platform.time = 5_000;
    const sent = net.tcp.tsVal(c);
    platform.time = 5_037;
    expect(tcpRttOfEcho(net, c, sent)).toBe(37_000);
  });

  it("doubles the RTO on each timeout up to the maximum (5.5); a new sample sets it again (5.7); a new entry starts over", () => {
    const { net, c, state } = entry({ tcpRtoMaxMs: 10_000 });
    tcpRttSample(net, c, 100_000);
    const rtos = [];
    for (let i = 0; i < 7; i++) {
      tcpRtoBackoff(net, c);
      rtos.push(state().rto);
    }
    expect(rtos).toEqual([600, 1200, 2400, 4800, 9600, 10_000, 10_000]);
    expect(state().backoff).toBe(7);
    tcpRttSample(net, c, 100_000);
    expect(state().rto).toBe(Math.ceil((state().srtt + 4 * state().rttvar) / 1000));
    tcpRttInit(net, c);
    expect(state()).toEqual({ srtt: 0, rttvar: 0, rto: 1000, backoff: 0 });
  });

  it("spaces persist probes by the RTO doubled per probe, up to the maximum", () => {
    const { net, c, state } = entry({ tcpRtoMaxMs: 60_000 });
    const gaps = [];
    for (let i = 0; i < 8; i++) gaps.push(tcpPersistInterval(net, c));
    expect(gaps).toEqual([2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    expect(state().rto).toBe(1000); // the RTO itself stays
  });
});
