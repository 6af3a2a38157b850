// The mDNS responder (src/lan/mdns.ts) on a simulated LAN in virtual time: host a runs it,
// host b listens and asks with host-sim's querier. Exact answers (A, DNS-SD PTR/SRV/TXT and
// their additional records), probing and announcing times, tie-breaks, conflict renames,
// legacy unicast, QU, known-answer suppression, rate limits, goodbyes, an empty pool, and a
// property: hostile bytes are counted drops, never a throw.
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { MdnsResponder, MDNS_TTL_HOST_S, MDNS_TTL_OTHER_S } from "../../src/lan/mdns";
import { ipAddrAdd, ipAddrDel } from "../../src/ipv4/devinet";
import { parseIpv4 } from "../../src/wire/ipv4";
import type { SkBuff } from "../../src/core/skb";
import { DNS_AA, DNS_QR, DNS_TYPE_A, DNS_TYPE_ANY, DNS_TYPE_PTR, DNS_TYPE_SRV, DNS_TYPE_TXT } from "../../src/wire/dns";
import { MdnsQuerier, type MdnsHeard } from "../../host-sim/sim/mdns-querier";
import { SimWorld, type TwoHosts } from "../../host-sim/sim/world";
import { SCENARIOS } from "../../host-sim/sim/scenarios";

const HTTP = { type: "_http._tcp", port: 80, txt: ["path=/"] };
const FLUSH_IN = 0x8001;

interface Setup extends TwoHosts {
  mdns: MdnsResponder;
  q: MdnsQuerier;
  t0: number;
}

let open: Setup | null = null;
afterEach(() => {
  if (open === null) return;
  open.mdns.close();
  open.q.close();
  open.world.runFor(10);
  open.world.shutdown();
  expect(open.a.net.pool.inUse).toBe(0);
  expect(open.b.net.pool.inUse).toBe(0);
  open = null;
});

function setup(seed = 1, hostname = "xsnet"): Setup {
  const hosts = new SimWorld(seed).twoHosts({ staticNeighbours: true });
  const q = new MdnsQuerier(hosts.b.net, hosts.devB);
  const t0 = hosts.world.now;
  const mdns = new MdnsResponder(hosts.a.net, hosts.devA, { hostname, services: [HTTP] });
  open = { ...hosts, mdns, q, t0 };
  return open;
}

/** Set up and run until the responder has announced twice. */
function announced(seed = 1): Setup {
  const s = setup(seed);
  s.world.runFor(3000);
  expect(s.mdns.state).toBe("announced");
  return s;
}

const isProbe = (m: MdnsHeard): boolean => (m.flags & DNS_QR) === 0 && m.records.some((r) => r.section === "ns");
const isResponse = (m: MdnsHeard): boolean => (m.flags & DNS_QR) !== 0;

describe("mDNS probing and announcing (RFC 6762 8)", () => {
  it("probes three times 250 ms apart after a 0-250 ms wait, then announces twice 1 s apart", () => {
    const { world, q, t0, mdns } = setup(7);
    world.runFor(3000);
    const probes = q.heard.filter(isProbe);
    expect(probes).toHaveLength(3);
    expect(probes[0].at - t0).toBeGreaterThanOrEqual(0);
    expect(probes[0].at - t0).toBeLessThanOrEqual(251);
    expect(Math.round(probes[1].at - probes[0].at)).toBe(250);
    expect(Math.round(probes[2].at - probes[1].at)).toBe(250);
    // the probe: ANY questions for both unique names (QU), proposed records in authority
    expect(probes[0].questions).toEqual([
      { name: "xsnet.local", type: DNS_TYPE_ANY, klass: 0x8001 },
      { name: "xsnet._http._tcp.local", type: DNS_TYPE_ANY, klass: 0x8001 },
    ]);
    expect(probes[0].records.map((r) => [r.section, r.name, r.type, r.data])).toEqual([
      ["ns", "xsnet.local", DNS_TYPE_A, "10.0.0.1"],
      ["ns", "xsnet._http._tcp.local", DNS_TYPE_SRV, "80 xsnet.local"],
      ["ns", "xsnet._http._tcp.local", DNS_TYPE_TXT, "path=/"],
    ]);
    const ann = q.heard.filter(isResponse);
    expect(ann).toHaveLength(2);
    expect(Math.round(ann[0].at - probes[2].at)).toBe(250);
    expect(Math.round(ann[1].at - ann[0].at)).toBe(1000);
    expect(ann[0].flags).toBe(DNS_QR | DNS_AA);
    expect(ann[0].records.map((r) => [r.section, r.name, r.type, r.klass, r.ttl, r.data])).toEqual([
      ["an", "xsnet.local", DNS_TYPE_A, FLUSH_IN, MDNS_TTL_HOST_S, "10.0.0.1"],
      ["an", "_services._dns-sd._udp.local", DNS_TYPE_PTR, 1, MDNS_TTL_OTHER_S, "_http._tcp.local"],
      ["an", "_http._tcp.local", DNS_TYPE_PTR, 1, MDNS_TTL_OTHER_S, "xsnet._http._tcp.local"],
      ["an", "xsnet._http._tcp.local", DNS_TYPE_SRV, FLUSH_IN, MDNS_TTL_HOST_S, "80 xsnet.local"],
      ["an", "xsnet._http._tcp.local", DNS_TYPE_TXT, FLUSH_IN, MDNS_TTL_OTHER_S, "path=/"],
    ]);
    expect(mdns.stats.probesSent).toBe(3);
    expect(mdns.stats.announcementsSent).toBe(2);
  });

  it("waits for an address, and announces again when it changes", () => {
    const { world, q, a, devA, mdns } = setup(3);
    world.runFor(3000);
    ipAddrDel(a.net, devA);
    mdns.addressChanged();
    expect(mdns.state).toBe("idle");
    world.runFor(1000);
    const before = q.heard.length;
    ipAddrAdd(a.net, devA, "10.0.0.9/24");
    mdns.addressChanged();
    world.runFor(3000);
    expect(q.records("xsnet.local", DNS_TYPE_A, before).map((r) => r.data)).toContain("10.0.0.9");
    expect(mdns.state).toBe("announced");
  });

  it("re-announces (no new probe) when the address changes while announced", () => {
    const { world, q, a, devA, mdns } = announced(4);
    const before = q.heard.length;
    ipAddrDel(a.net, devA);
    ipAddrAdd(a.net, devA, "10.0.0.7/24");
    mdns.addressChanged();
    world.runFor(2000);
    const after = q.heard.slice(before);
    expect(after.filter(isProbe)).toHaveLength(0);
    expect(after.filter(isResponse)).toHaveLength(2);
    expect(q.records("xsnet.local", DNS_TYPE_A, before).every((r) => r.data === "10.0.0.7")).toBe(true);
  });
});

describe("mDNS answers (RFC 6762 6, RFC 6763 12)", () => {
  it("answers an A query at once, multicast, with the cache-flush bit", () => {
    const { world, q, mdns } = announced();
    world.runFor(1500);
    const before = q.heard.length;
    const t = world.now;
    q.query([{ name: "XSNET.local", type: DNS_TYPE_A }]);
    world.runFor(200);
    const got = q.heard.slice(before).filter(isResponse);
    expect(got).toHaveLength(1);
    expect(got[0].at - t).toBeLessThan(5);
    expect(got[0].from).toBe("10.0.0.1");
    expect(got[0].records.map((r) => [r.section, r.name, r.type, r.klass, r.ttl, r.data])).toEqual([
      ["an", "xsnet.local", DNS_TYPE_A, FLUSH_IN, 120, "10.0.0.1"],
    ]);
    expect(mdns.stats.multicastAnswers).toBe(1);
  });

  it("answers a DNS-SD browse (PTR) 20-120 ms later, SRV, TXT and A as additional records", () => {
    const { world, q } = announced();
    world.runFor(1500);
    const before = q.heard.length;
    const t = world.now;
    q.query([{ name: "_http._tcp.local", type: DNS_TYPE_PTR }]);
    world.runFor(300);
    const got = q.heard.slice(before).filter(isResponse);
    expect(got).toHaveLength(1);
    expect(got[0].at - t).toBeGreaterThanOrEqual(20);
    expect(got[0].at - t).toBeLessThanOrEqual(125);
    expect(got[0].records.map((r) => [r.section, r.name, r.type, r.klass, r.data])).toEqual([
      ["an", "_http._tcp.local", DNS_TYPE_PTR, 1, "xsnet._http._tcp.local"],
      ["ar", "xsnet.local", DNS_TYPE_A, FLUSH_IN, "10.0.0.1"],
      ["ar", "xsnet._http._tcp.local", DNS_TYPE_SRV, FLUSH_IN, "80 xsnet.local"],
      ["ar", "xsnet._http._tcp.local", DNS_TYPE_TXT, FLUSH_IN, "path=/"],
    ]);
  });

  it("enumerates service types, answers SRV (with A) and TXT, and ignores other names", () => {
    const { world, q } = announced();
    world.runFor(1500);
    let before = q.heard.length;
    q.query([{ name: "_services._dns-sd._udp.local", type: DNS_TYPE_PTR }]);
    world.runFor(300);
    expect(q.heard.slice(before).flatMap((m) => m.records.map((r) => [r.section, r.type, r.data]))).toEqual([["an", DNS_TYPE_PTR, "_http._tcp.local"]]);
    world.runFor(1000);
    before = q.heard.length;
    q.query([{ name: "xsnet._http._tcp.local", type: DNS_TYPE_SRV }, { name: "xsnet._http._tcp.local", type: DNS_TYPE_TXT }]);
    world.runFor(300);
    expect(q.heard.slice(before).flatMap((m) => m.records.map((r) => [r.section, r.type, r.data]))).toEqual([
      ["an", DNS_TYPE_SRV, "80 xsnet.local"], ["an", DNS_TYPE_TXT, "path=/"], ["ar", DNS_TYPE_A, "10.0.0.1"],
    ]);
    before = q.heard.length;
    q.query([{ name: "other.local", type: DNS_TYPE_A }, { name: "xsnet.local", type: DNS_TYPE_TXT }]);
    world.runFor(300);
    expect(q.heard.length).toBe(before);
  });

  it("answers a legacy unicast query (source port not 5353) by unicast: id and question echoed, TTL 10, no cache-flush", () => {
    const { world, b, devB, mdns } = announced();
    const legacy = new MdnsQuerier(b.net, devB, 40000);
    legacy.query([{ name: "xsnet.local", type: DNS_TYPE_A }], { id: 0x1234 });
    world.runFor(50);
    expect(legacy.heard).toHaveLength(1);
    const m = legacy.heard[0];
    expect([m.id, m.from, m.fromPort, m.flags]).toEqual([0x1234, "10.0.0.1", 5353, DNS_QR | DNS_AA]);
    expect(m.questions).toEqual([{ name: "xsnet.local", type: DNS_TYPE_A, klass: 1 }]);
    expect(m.records.map((r) => [r.section, r.name, r.type, r.klass, r.ttl, r.data])).toEqual([["an", "xsnet.local", DNS_TYPE_A, 1, 10, "10.0.0.1"]]);
    expect(mdns.stats.legacyAnswers).toBe(1);
    legacy.close();
  });

  it("honours QU: unicast when the record was multicast lately, multicast otherwise (RFC 6762 5.4)", () => {
    const { world, q, mdns } = announced();
    world.runFor(1500);
    q.query([{ name: "xsnet.local", type: DNS_TYPE_A, qu: true }]);
    world.runFor(50);
    expect(mdns.stats.unicastAnswers).toBe(1);
    expect(mdns.stats.multicastAnswers).toBe(0);
    world.runFor(31_000); // a quarter of 120 s since the announcement
    q.query([{ name: "xsnet.local", type: DNS_TYPE_A, qu: true }]);
    world.runFor(50);
    expect(mdns.stats.unicastAnswers).toBe(1);
    expect(mdns.stats.multicastAnswers).toBe(1);
  });

  it("leaves out what the asker already has with at least half our TTL (RFC 6762 7.1)", () => {
    const { world, q, mdns } = announced();
    world.runFor(1500);
    let before = q.heard.length;
    q.query([{ name: "_http._tcp.local", type: DNS_TYPE_PTR }], { known: [{ name: "_http._tcp.local", type: DNS_TYPE_PTR, ttl: 2250, data: "xsnet._http._tcp.local" }] });
    world.runFor(300);
    expect(q.heard.length).toBe(before);
    expect(mdns.stats.knownAnswerSuppressed).toBe(1);
    before = q.heard.length;
    q.query([{ name: "_http._tcp.local", type: DNS_TYPE_PTR }], { known: [{ name: "_http._tcp.local", type: DNS_TYPE_PTR, ttl: 2249, data: "xsnet._http._tcp.local" }] });
    world.runFor(300);
    expect(q.records("_http._tcp.local", DNS_TYPE_PTR, before)).toHaveLength(1);
    // another instance's PTR is no known answer of ours
    world.runFor(1000);
    before = q.heard.length;
    q.query([{ name: "_http._tcp.local", type: DNS_TYPE_PTR }], { known: [{ name: "_http._tcp.local", type: DNS_TYPE_PTR, ttl: 4500, data: "other._http._tcp.local" }] });
    world.runFor(300);
    expect(q.records("_http._tcp.local", DNS_TYPE_PTR, before)).toHaveLength(1);
  });

  it("multicasts a record at most once a second (RFC 6762 6)", () => {
    const { world, q, mdns } = announced();
    world.runFor(1500);
    const before = q.heard.length;
    q.query([{ name: "xsnet.local", type: DNS_TYPE_A }]);
    world.runFor(500);
    q.query([{ name: "xsnet.local", type: DNS_TYPE_A }]);
    world.runFor(600);
    q.query([{ name: "xsnet.local", type: DNS_TYPE_A }]);
    world.runFor(100);
    expect(q.records("xsnet.local", DNS_TYPE_A, before)).toHaveLength(2);
    expect(mdns.stats.rateLimited).toBe(1);
  });

  it("answers nothing while it probes", () => {
    const { world, q, mdns } = setup(5);
    world.runFor(300);
    q.query([{ name: "xsnet.local", type: DNS_TYPE_A }]);
    world.runFor(100);
    expect(q.heard.filter(isResponse)).toHaveLength(0);
    expect(mdns.state).toBe("probing");
  });
});

describe("mDNS conflicts (RFC 6762 8.2, 9)", () => {
  /** A response from b claiming xsnet.local for another address. */
  const claim = (q: MdnsQuerier, name: string, addr: string): void => {
    const bytes = new Uint8Array(64);
    let o = 0;
    bytes.set([0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0], 0);
    o = 12;
    for (const label of name.split(".")) {
      bytes[o++] = label.length;
      for (let i = 0; i < label.length; i++) bytes[o++] = label.charCodeAt(i);
    }
    bytes[o++] = 0;
    bytes.set([0, 1, 0x80, 1, 0, 0, 0, 120, 0, 4, ...addr.split(".").map(Number)], o);
    q.send(bytes.subarray(0, o + 14));
  };

  it("renames the host to xsnet-2, then xsnet-3, when others hold the name, and probes again", () => {
    const { world, q, mdns } = setup(2);
    world.runFor(300); // probing
    claim(q, "xsnet.local", "10.0.0.99");
    world.runFor(50);
    expect(mdns.hostname).toBe("xsnet-2");
    expect(mdns.stats.conflicts).toBe(1);
    world.runFor(3000);
    expect(mdns.state).toBe("announced");
    expect(q.records("xsnet-2.local", DNS_TYPE_A).length).toBeGreaterThan(0);
    expect(q.records("xsnet._http._tcp.local", DNS_TYPE_SRV).some((r) => r.data === "80 xsnet-2.local")).toBe(true);
    // a conflict after announcing: renamed again
    claim(q, "xsnet-2.local", "10.0.0.98");
    world.runFor(3000);
    expect(mdns.hostname).toBe("xsnet-3");
    expect(mdns.state).toBe("announced");
    // a record with our own data is no conflict
    claim(q, "xsnet-3.local", "10.0.0.1");
    world.runFor(100);
    expect(mdns.hostname).toBe("xsnet-3");
  });

  it("loses a simultaneous probe tie-break to a later address: waits 1 s, probes the same name again (8.2)", () => {
    const { world, q, mdns } = setup(6);
    world.runUntil(() => q.heard.filter(isProbe).length === 1, 1000);
    const first = q.heard.filter(isProbe)[0].at;
    const probe = new Uint8Array([
      0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0,
      5, 0x78, 0x73, 0x6e, 0x65, 0x74, 5, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0, 0, 255, 0x80, 1,
      0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 120, 0, 4, 10, 0, 0, 200,
    ]);
    q.send(probe);
    world.runFor(50);
    expect(mdns.stats.tieBreaksLost).toBe(1);
    expect(mdns.state).toBe("wait");
    world.runFor(3500);
    expect(mdns.hostname).toBe("xsnet");
    expect(mdns.state).toBe("announced");
    const probes = q.heard.filter(isProbe);
    expect(probes.length).toBe(4);
    expect(probes[1].at - first).toBeGreaterThanOrEqual(1000);
  });

  it("wins a tie-break against an earlier address and goes on", () => {
    const { world, q, mdns } = setup(6);
    world.runUntil(() => q.heard.filter(isProbe).length === 1, 1000);
    q.send(new Uint8Array([
      0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0,
      5, 0x78, 0x73, 0x6e, 0x65, 0x74, 5, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0, 0, 255, 0x80, 1,
      0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 120, 0, 4, 10, 0, 0, 0,
    ]));
    world.runFor(2500);
    expect(mdns.stats.tieBreaksLost).toBe(0);
    expect(q.heard.filter(isProbe)).toHaveLength(3);
    expect(mdns.state).toBe("announced");
  });
});

describe("mDNS goodbye, pool and hostile input", () => {
  it("says goodbye (TTL 0) on close and leaves no socket or timer behind", () => {
    const s = announced();
    const before = s.q.heard.length;
    s.mdns.close();
    s.world.runFor(100);
    const bye = s.q.heard.slice(before);
    expect(bye).toHaveLength(1);
    expect(bye[0].records.map((r) => [r.type, r.ttl])).toEqual([[DNS_TYPE_A, 0], [DNS_TYPE_PTR, 0], [DNS_TYPE_PTR, 0], [DNS_TYPE_SRV, 0], [DNS_TYPE_TXT, 0]]);
    expect(s.mdns.stats.goodbyesSent).toBe(1);
    expect(s.mdns.state).toBe("closed");
    // IGMP repeats its leave of 224.0.0.251 (RFC 3376 5.1: Robustness Variable times, within 1 s)
    s.world.runFor(2_000);
    expect(s.a.net.timers.pendingCount).toBe(0);
    // the port is free again
    const again = new MdnsResponder(s.a.net, s.devA, { hostname: "xsnet" });
    again.close();
  });

  it("counts what it cannot send when the pool is empty, and carries on", () => {
    const { world, a, q, mdns } = setup(8);
    const held: SkBuff[] = [];
    // hold every skb, again each millisecond (the MAC gives back its receive buffers)
    for (let t = 0; t < 3000; t++) {
      for (let skb = a.net.pool.alloc(); skb !== null; skb = a.net.pool.alloc()) held.push(skb);
      world.runFor(1);
    }
    expect(mdns.stats.sendErrors).toBe(5);
    expect(mdns.state).toBe("announced");
    expect(q.heard).toHaveLength(0);
    for (const skb of held) a.net.pool.free(skb);
    world.runFor(1500);
    const before = q.heard.length;
    q.query([{ name: "xsnet.local", type: DNS_TYPE_A }]);
    world.runFor(50);
    expect(q.records("xsnet.local", DNS_TYPE_A, before)).toHaveLength(1);
  });

  it("refuses bad options with errors that name them", () => {
    const { a, devA } = setup(9);
    expect(() => new MdnsResponder(a.net, devA, { hostname: "bad name" })).toThrow(TypeError);
    expect(() => new MdnsResponder(a.net, devA, { hostname: "x", services: [{ type: "http", port: 80 }] })).toThrow(/service type/);
    expect(() => new MdnsResponder(a.net, devA, { hostname: "x", services: [{ type: "_http._tcp", port: 0 }] })).toThrow(RangeError);
    // port 5353 is taken by the first responder
    expect(() => new MdnsResponder(a.net, devA, { hostname: "x" })).toThrow(/5353/);
  });

  it("names config.timersMax when too few timers are left", () => {
    const w = new SimWorld(1).oneHost({ host: { config: { timersMax: 38, neighEntriesMax: 4, reasmSlots: 1, tcpSocketsMax: 7 } } });
    expect(() => new MdnsResponder(w.host.net, w.dev, { hostname: "x" })).toThrow(/timersMax/);
    w.world.shutdown();
  });

  it("drops hostile messages with a count, never a throw, and still answers (property)", () => {
    const { world, q, mdns } = announced(11);
    const name = [5, 0x78, 0x73, 0x6e, 0x65, 0x74, 5, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0];
    const message = fc.oneof(
      fc.uint8Array({ maxLength: 80 }),
      // a header whose counts the body may not hold, then our name, pointers and junk
      fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }), fc.uint8Array({ maxLength: 40 }), fc.boolean())
        .map(([flags, counts, tail, withName]) => new Uint8Array([0, 0, flags >> 8, flags & 0xff, 0, counts[0], 0, counts[1], 0, counts[2], 0, counts[3], ...(withName ? name : []), ...tail])),
    );
    fc.assert(fc.property(fc.array(message, { maxLength: 8 }), (msgs) => {
      for (const m of msgs) q.send(m);
      world.runFor(5);
    }), { seed: 11, numRuns: 150 });
    world.runFor(5000);
    const s = mdns.stats;
    expect(s.received).toBeGreaterThan(0);
    expect(s.malformed + s.ignored).toBeGreaterThan(0);
    // still itself
    const before = q.heard.length;
    const nameNow = mdns.hostname;
    world.runFor(1500);
    q.query([{ name: `${nameNow}.local`, type: DNS_TYPE_A }]);
    world.runFor(200);
    expect(q.records(`${nameNow}.local`, DNS_TYPE_A, before).length).toBeGreaterThan(0);
  });
});

describe("mDNS scenarios (host-sim/sim/scenarios/mdns.ts)", () => {
  for (const seed of [1, 42]) {
    it(`seed ${seed}: announce, conflict rename, queries answered, pools full`, () => {
      const at = `reproduce with seed=${seed}`;
      const announce = SCENARIOS["mdns-announce"](seed);
      expect(announce.extra, at).toEqual({ probes: 3, announcements: 2, goodbyes: 1, announced: 2, undecodable: 0 });
      const conflict = SCENARIOS["mdns-conflict"](seed);
      expect(conflict.extra, at).toMatchObject({ namesDistinct: 1, instancesDistinct: 1, bothAnnounced: 1, conflicts: 2, tieBreaksLost: 1 });
      const queries = SCENARIOS["mdns-queries"](seed);
      expect(queries.extra, at).toEqual({ addresses: 1, browsed: 1, srv: 1, txt: 1, types: 1, legacyAnswers: 1, afterKnown: 0, suppressed: 1, multicastAnswers: 3 });
      for (const r of [announce, conflict, queries]) {
        expect(r.poolsFull, at).toBe(true);
        // IGMPv3 reports go to 224.0.0.22, for routers; the other host's simulated MAC takes
        // every group once it has joined one, and its IP drops them as not its own.
        const { IP_INADDRERRORS: _igmpForRouters, ...drops } = r.drops;
        expect(drops, at).toEqual({});
      }
    });
  }
});

describe("mDNS: only the local link is heard (RFC 6762 11)", () => {
  it("a response from a routed host claiming our name is dropped (counted), and the name stays", () => {
    const { world, a, b, devA } = new SimWorld(3).routedHosts();
    const mdns = new MdnsResponder(a.net, devA, { hostname: "xsnet" });
    world.runFor(5_000);
    // xsnet.local A 10.0.2.2, cache-flush, TTL 120: a conflicting answer, from 10.0.2.2 off-link
    const name = [5, 0x78, 0x73, 0x6e, 0x65, 0x74, 5, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0];
    const msg = new Uint8Array([0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, ...name, 0, 1, 0x80, 1, 0, 0, 0, 120, 0, 4, 10, 0, 2, 2]);
    const sock = b.net.udp.bind(0, 5353, { onDatagrams() {}, onIcmpError() {} }, false);
    b.net.udp.sendto(sock, msg, 0, msg.length, parseIpv4("10.0.1.2"), 5353, 64);
    world.runFor(2_000);
    expect(mdns.stats.offLink).toBe(1);
    expect(mdns.hostname).toBe("xsnet");
    expect(mdns.stats.conflicts).toBe(0);
    b.net.udp.unbind(sock);
    mdns.close();
    world.runFor(2_000);
    world.shutdown();
    expect(world.hosts.every((h) => h.net.pool.inUse === 0)).toBe(true);
  });
});
