// IGMP, the host side (src/ipv4/igmp.ts): the exact frames of reports and leaves (TTL 1,
// Router Alert), queries of each version told apart as RFC 3376 7.1 says and answered after
// a random delay in virtual time, v2 suppression, compatibility mode and its timeout,
// malformed messages counted, and a pool with no skb left.
import { describe, expect, it } from "vitest";
import { devClose, devOpen, netifCarrierOff, netifCarrierOn } from "../../src/core/link";
import { ipMcJoin, ipMcLeave } from "../../src/ipv4/devinet";
import { ETH_HLEN } from "../../src/wire/ethernet";
import { IPPROTO_IGMP } from "../../src/wire/ipv4";
import { runScenario } from "../../host-sim/sim/scenarios";
import { advance, seedFrom, withSeed } from "../helpers";
import { checksum, ip, ipFrame, ipOf, mac } from "../packets";
import { type Bench, HOST_IP, HOST_MAC, makeBench, PEER_IP, PEER_MAC } from "../testbed";

const MDNS = "224.0.0.251";
const GROUP_B = "239.1.2.3";
const ALL_HOSTS_MAC = mac("01:00:5e:00:00:01");
const ROUTER_ALERT = [148, 4, 0, 0];

/** An IGMP message with its checksum: type, code, group, then any further bytes. */
function igmpMsg(type: number, code: number, group: string, rest: number[] = []): Uint8Array {
  const g = ip(group);
  const m = new Uint8Array([type, code, 0, 0, g >>> 24, (g >>> 16) & 0xff, (g >>> 8) & 0xff, g & 0xff, ...rest]);
  const c = checksum(m);
  m[2] = c >> 8;
  m[3] = c & 0xff;
  return m;
}

/** A v3 query: S/QRV, QQIC, sources. */
function v3Query(code: number, group: string, qrv = 2, sources: number[] = []): Uint8Array {
  const rest = [qrv, 125, sources.length >> 8, sources.length & 0xff];
  for (const s of sources) rest.push(s >>> 24, (s >>> 16) & 0xff, (s >>> 8) & 0xff, s & 0xff);
  return igmpMsg(0x11, code, group, rest);
}

/** A message from the querier (the peer) to 224.0.0.1, or `dst`. */
function fromQuerier(msg: Uint8Array, dst = "224.0.0.1", src = PEER_IP): Uint8Array {
  const d = ip(dst);
  const dmac = new Uint8Array([1, 0, 0x5e, (d >>> 16) & 0x7f, (d >>> 8) & 0xff, d & 0xff]);
  return ipFrame(dmac, PEER_MAC, { src, dst: d, proto: IPPROTO_IGMP, ttl: 1, ihlWords: 6, options: ROUTER_ALERT, payload: msg });
}

/** The frame the device should send: `payload` to `dst` from `src`, TTL 1, Router Alert, the id it chose. */
function expected(frame: Uint8Array, dst: string, payload: Uint8Array, src = HOST_IP): Uint8Array {
  const d = ip(dst);
  const dmac = new Uint8Array([1, 0, 0x5e, (d >>> 16) & 0x7f, (d >>> 8) & 0xff, d & 0xff]);
  const id = ipOf(frame).id;
  return ipFrame(dmac, HOST_MAC, { src, dst: d, proto: IPPROTO_IGMP, ttl: 1, id, ihlWords: 6, options: ROUTER_ALERT, payload });
}

/** A v3 report of records [type, group]. */
function v3Report(records: [number, string][]): Uint8Array {
  const rest: number[] = [];
  for (const [t, g] of records) {
    const a = ip(g);
    rest.push(t, 0, 0, 0, a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff);
  }
  // the header's group field is reserved(2) + record count(2)
  const m = new Uint8Array([0x22, 0, 0, 0, 0, 0, records.length >> 8, records.length & 0xff, ...rest]);
  const c = checksum(m);
  m[2] = c >> 8;
  m[3] = c & 0xff;
  return m;
}

/** Run `ms` in 1 ms steps; the IGMP frames sent, each with the time it went. */
function collect(b: Bench, ms: number): { t: number; frame: Uint8Array }[] {
  const out: { t: number; frame: Uint8Array }[] = [];
  for (let i = 0; i < ms; i++) {
    advance(b.net, b.platform, 1);
    for (const frame of b.take()) if (frame[12] === 8 && frame[13] === 0 && frame[ETH_HLEN + 9] === IPPROTO_IGMP) out.push({ t: b.platform.time, frame });
  }
  return out;
}

function igmpOf(frame: Uint8Array): Uint8Array {
  const at = ETH_HLEN + (frame[ETH_HLEN] & 0x0f) * 4;
  return frame.slice(at, ETH_HLEN + ipOf(frame).totLen);
}

describe("IGMP reports on join and leave (RFC 2236 3, RFC 3376 5.1)", () => {
  it("joins with a v3 CHANGE_TO_EXCLUDE({}) report to 224.0.0.22 at once and once more within 1 s; leaves with TO_IN({}) twice", () => {
    const b = makeBench();
    ipMcJoin(b.dev, MDNS);
    const first = b.take();
    expect(first.length).toBe(1);
    expect([...first[0]]).toEqual([...expected(first[0], "224.0.0.22", v3Report([[4, MDNS]]))]);
    const later = collect(b, 3000);
    expect(later.length).toBe(1);
    expect(later[0].t).toBeGreaterThan(0);
    expect(later[0].t).toBeLessThanOrEqual(1000);
    expect([...igmpOf(later[0].frame)]).toEqual([...v3Report([[4, MDNS]])]);
    ipMcLeave(b.dev, MDNS);
    const leave = b.take();
    expect(leave.length).toBe(1);
    expect([...leave[0]]).toEqual([...expected(leave[0], "224.0.0.22", v3Report([[3, MDNS]]))]);
    const again = collect(b, 3000);
    expect(again.map((f) => [...igmpOf(f.frame)])).toEqual([[...v3Report([[3, MDNS]])]]);
    expect(b.net.igmp.stats.outReportsV3).toBe(4);
    expect(b.net.igmp.state.every((s) => s === 0)).toBe(true);
  });

  it("never reports 224.0.0.1 (RFC 2236 6), and a group joined twice is reported once", () => {
    const b = makeBench();
    ipMcJoin(b.dev, "224.0.0.1");
    ipMcJoin(b.dev, GROUP_B);
    ipMcJoin(b.dev, GROUP_B);
    expect(collect(b, 5000).length).toBe(2); // at once, and the repeat
    ipMcLeave(b.dev, "224.0.0.1");
    expect(b.take().length).toBe(0);
  });

  it("sends nothing while the link is down, and reports every group when it comes up", () => {
    const b = makeBench();
    netifCarrierOff(b.dev);
    ipMcJoin(b.dev, MDNS);
    expect(collect(b, 2000).length).toBe(0);
    netifCarrierOn(b.dev);
    const up = collect(b, 2000);
    expect(up.length).toBe(2);
    expect(up[0].t).toBe(2001);
    expect([...igmpOf(up[0].frame)]).toEqual([...v3Report([[4, MDNS]])]);
    devClose(b.dev);
    ipMcLeave(b.dev, MDNS);
    devOpen(b.dev);
    expect(collect(b, 2000).length).toBe(0);
  });
});

describe("IGMP queries (RFC 3376 7.1, 5.2; RFC 2236 3)", () => {
  it("a v2 query puts the interface in v2 mode: each group reported to itself within Max Resp Time; the leave goes to 224.0.0.2", () => {
    const b = makeBench();
    ipMcJoin(b.dev, MDNS);
    ipMcJoin(b.dev, GROUP_B);
    collect(b, 2000);
    b.rx(fromQuerier(igmpMsg(0x11, 50, "0.0.0.0"))); // 5 s
    expect(b.take().length).toBe(0);
    expect(b.net.igmp.mode(b.dev)).toBe(2);
    const start = b.platform.time;
    const got = collect(b, 6000);
    expect(got.length).toBe(2);
    for (const { t, frame } of got) {
      expect(t - start).toBeGreaterThan(0);
      expect(t - start).toBeLessThanOrEqual(5000);
      const g = ipOf(frame).dst === ip(MDNS) ? MDNS : GROUP_B;
      expect([...frame]).toEqual([...expected(frame, g, igmpMsg(0x16, 0, g))]);
    }
    ipMcLeave(b.dev, MDNS);
    const leave = b.take();
    expect(leave.length).toBe(1);
    expect([...leave[0]]).toEqual([...expected(leave[0], "224.0.0.2", igmpMsg(0x17, 0, MDNS))]);
    expect(b.net.igmp.stats).toMatchObject({ inQueriesV2: 1, outReportsV2: 2, outLeaves: 1 });
  });

  it("a second query keeps a report already scheduled earlier, and answers a group-specific query for that group only", () => {
    const b = makeBench();
    ipMcJoin(b.dev, MDNS);
    ipMcJoin(b.dev, GROUP_B);
    collect(b, 2000);
    b.rx(fromQuerier(igmpMsg(0x11, 100, "0.0.0.0")));
    const dues = [...b.net.igmp.due.slice(8, 10)];
    b.rx(fromQuerier(igmpMsg(0x11, 100, "0.0.0.0")));
    // each timer only ever moves earlier
    const after = [...b.net.igmp.due.slice(8, 10)];
    for (let i = 0; i < 2; i++) expect(after[i]).toBeLessThanOrEqual(dues[i]);
    collect(b, 11_000);
    b.rx(fromQuerier(igmpMsg(0x11, 10, GROUP_B), GROUP_B));
    const got = collect(b, 2000);
    expect(got.length).toBe(1);
    expect(ipOf(got[0].frame).dst).toBe(ip(GROUP_B));
  });

  it("another host's v2 report for the group cancels ours, and then we send no Leave (RFC 2236 3)", () => {
    const b = makeBench();
    ipMcJoin(b.dev, MDNS);
    collect(b, 2000);
    b.rx(fromQuerier(igmpMsg(0x11, 100, "0.0.0.0")));
    const other = ip("10.0.0.9");
    b.rx(fromQuerier(igmpMsg(0x16, 0, MDNS), MDNS, other));
    expect(collect(b, 12_000).length).toBe(0);
    expect(b.net.igmp.stats.suppressed).toBe(1);
    ipMcLeave(b.dev, MDNS);
    expect(b.take().length).toBe(0);
  });

  it("a v1 query (8 bytes, code 0) gives v1 reports within 10 s and no Leave; v1 mode ends 260 s after the last v1 query", () => {
    const b = makeBench();
    ipMcJoin(b.dev, MDNS);
    collect(b, 2000);
    b.rx(fromQuerier(igmpMsg(0x11, 0, "0.0.0.0")));
    const got = collect(b, 10_001);
    expect(got.map((f) => [...igmpOf(f.frame)])).toEqual([[...igmpMsg(0x12, 0, MDNS)]]);
    ipMcLeave(b.dev, MDNS);
    expect(b.take().length).toBe(0);
    advance(b.net, b.platform, 250_000, 1000);
    expect(b.net.igmp.mode(b.dev)).toBe(3);
    ipMcJoin(b.dev, MDNS);
    expect(b.take().map((f) => f[ETH_HLEN + 24])).toEqual([0x22]);
  });

  it("a v3 general query gets one report of IS_EX({}) records for every group, within Max Resp Time", () => {
    const b = makeBench();
    ipMcJoin(b.dev, MDNS);
    ipMcJoin(b.dev, GROUP_B);
    collect(b, 2000);
    b.rx(fromQuerier(v3Query(20, "0.0.0.0", 3)));
    expect(b.net.igmp.robustness[1]).toBe(3);
    const start = b.platform.time;
    const got = collect(b, 3000);
    expect(got.length).toBe(1);
    expect(got[0].t - start).toBeLessThanOrEqual(2000);
    expect([...got[0].frame]).toEqual([...expected(got[0].frame, "224.0.0.22", v3Report([[2, MDNS], [2, GROUP_B]]))]);
    // group-specific, and group-and-source-specific (answered as group-specific: IS_EX({}))
    b.rx(fromQuerier(v3Query(10, MDNS, 3), MDNS));
    b.rx(fromQuerier(v3Query(10, GROUP_B, 3, [ip("10.0.0.7")]), GROUP_B));
    const specific = collect(b, 2000).map((f) => [...igmpOf(f.frame)]);
    expect(specific.sort()).toEqual([[...v3Report([[2, MDNS]])], [...v3Report([[2, GROUP_B]])]].sort());
    // with the querier's robustness 3, a join is reported three times (RFC 3376 5.1)
    ipMcJoin(b.dev, "239.9.9.9");
    const first = b.take().length;
    const rest = collect(b, 3000);
    expect(first + rest.length).toBe(3);
    expect(b.net.igmp.stats.inQueriesV3).toBe(3);
  });

  it("a v3 query in v2 mode is answered as a v2 query; the Max Resp Code's floating-point form is read (RFC 3376 4.1.1)", () => {
    const b = makeBench();
    ipMcJoin(b.dev, MDNS);
    collect(b, 2000);
    b.rx(fromQuerier(igmpMsg(0x11, 10, "0.0.0.0")));
    collect(b, 1100);
    b.rx(fromQuerier(v3Query(0x80, "0.0.0.0"))); // (0 | 0x10) << 3 = 128 tenths: 12.8 s
    const start = b.platform.time;
    const got = collect(b, 13_000);
    expect(got.map((f) => igmpOf(f.frame)[0])).toEqual([0x16]);
    expect(got[0].t - start).toBeLessThanOrEqual(12_800);
  });
});

describe("IGMP input checks", () => {
  it("counts and drops truncated, corrupt, versionless and unsourced queries, and sends nothing for them", () => {
    const b = makeBench();
    ipMcJoin(b.dev, MDNS);
    collect(b, 2000);
    const st = b.net.igmp.stats;
    b.rx(fromQuerier(igmpMsg(0x11, 100, "0.0.0.0").slice(0, 7)));
    const bad = igmpMsg(0x11, 100, "0.0.0.0");
    bad[3] ^= 1;
    b.rx(fromQuerier(bad));
    b.rx(fromQuerier(igmpMsg(0x11, 100, "0.0.0.0", [2, 125]))); // 10 bytes: no version
    b.rx(fromQuerier(igmpMsg(0x11, 100, "0.0.0.0", [2, 125, 0, 3]))); // 3 sources, none there
    b.rx(fromQuerier(igmpMsg(0x11, 100, "10.0.0.5")));
    b.rx(fromQuerier(igmpMsg(0x11, 100, "0.0.0.0"), "224.0.0.1", 0));
    b.rx(fromQuerier(igmpMsg(0x13, 0, "0.0.0.0"))); // DVMRP: not ours, ignored
    expect(st).toMatchObject({ inTruncated: 1, inCsumErrors: 1, inBadQueries: 3, inBadSource: 1, inUnknown: 1, inQueriesV2: 0 });
    expect(b.net.drops.count("IGMP_INVALID")).toBe(6);
    expect(b.net.igmp.mode(b.dev)).toBe(3);
    expect(collect(b, 12_000).length).toBe(0);
    // without Router Alert, a query is still taken (RFC 3376 9.1)
    const plain = ipFrame(ALL_HOSTS_MAC, PEER_MAC, { src: PEER_IP, dst: ip("224.0.0.1"), proto: IPPROTO_IGMP, ttl: 1, payload: v3Query(10, "0.0.0.0") });
    b.rx(plain);
    expect(collect(b, 1100).length).toBe(1);
  });

  it("with the pool empty a report is counted as not sent, and nothing leaks", () => {
    const b = makeBench();
    const held = [];
    for (let s = b.net.pool.alloc(); s !== null; s = b.net.pool.alloc()) held.push(s);
    ipMcJoin(b.dev, MDNS);
    expect(b.net.igmp.stats.outErrors).toBe(1);
    for (const s of held) b.net.pool.free(s);
    const got = collect(b, 2000);
    expect(got.length).toBe(1); // the repeat goes
    ipMcLeave(b.dev, MDNS);
    collect(b, 2000);
    expect(b.net.pool.inUse).toBe(0);
  });

  it("the group table holds as many groups as the device's list; a left group's slot is taken by the next join", () => {
    const b = makeBench();
    for (let i = 1; i <= 8; i++) ipMcJoin(b.dev, `239.0.0.${i}`);
    expect(() => ipMcJoin(b.dev, "239.0.0.9")).toThrow(/multicast list full \(8 groups\)/);
    ipMcLeave(b.dev, "239.0.0.1"); // its TO_IN records still to repeat
    ipMcJoin(b.dev, "239.0.0.9");
    expect(Array.from(b.net.igmp.group.slice(8, 16)).sort()).toEqual([2, 3, 4, 5, 6, 7, 8, 9].map((i) => ip(`239.0.0.${i}`)).sort());
    collect(b, 3000);
  });
});

describe("IGMP on a simulated LAN with a querier (host-sim/sim/scenarios/igmp.ts)", () => {
  it("reports on join, answers a v2 querier in v2 (leave included), then a v3 querier in v3; pools full", () =>
    withSeed(seedFrom(14), (seed) => {
      const r = runScenario("igmp", seed);
      expect(r.poolsFull).toBe(true);
      expect(r.extra).toEqual({
        joinRecords: 4, v2General: 2, v2Specific: 1, v2Leaves: 1, v2AfterV3Query: 1, v3Current: 1, v3ToInclude: 2, queries: 4, reportsSent: 11, mode: 3,
      });
    }));
});
