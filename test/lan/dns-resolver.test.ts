// The DNS resolver (src/lan/dns-resolver.ts) on the simulated LAN against host-sim's DNS
// server: the scenarios (names, CNAMEs, NXDOMAIN/NODATA cached, TTL expiry, fail-over,
// SERVFAIL, TC, each hostile answer counted) on three seeds; names refused at the call; the
// pending table and the cache when full; and a property: any bytes as the answer give a
// counted drop or a result, never an exception.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DNS_ERR_CLOSED, DNS_ERR_NO_SERVERS, DNS_ERR_TIMEOUT, DnsResolver } from "../../src/lan/dns-resolver";
import { udpSocketClass, type UdpSocket } from "../../src/socket/udp";
import { dnsWriteName } from "../../src/wire/dns";
import { parseIpv4 } from "../../src/wire/ipv4";
import { SimDnsServer } from "../../host-sim/sim/dns-server";
import { dnsFailover, dnsHostile, dnsResolve } from "../../host-sim/sim/scenarios/dns";
import { SimWorld } from "../../host-sim/sim/world";

describe("DNS resolver scenarios", () => {
  for (const seed of [1, 7, 42]) {
    it(`resolves, caches, fails over and drops hostile answers (seed=${seed})`, () => {
      for (const run of [dnsResolve, dnsFailover, dnsHostile]) {
        const r = run(seed);
        expect(r.extra.mismatches, `${r.name}: reproduce with seed=${seed}`).toBe(0);
        expect(r.extra.pendingAfter).toBe(0);
        expect(r.poolsFull, `${r.name} seed=${seed}`).toBe(true);
      }
    });
  }

  it("counts each hostile answer under its own reason", () => {
    const e = dnsHostile(1).extra;
    expect([e.badName, e.recordBeyond, e.wrongId, e.wrongQuestion, e.shortHeader, e.notResponse, e.tooBig, e.wrongSource]).toEqual([4, 1, 1, 1, 1, 1, 1, 1]);
    expect(e.resolved).toBe(11);
    expect(e.received).toBe(e.accepted + e.dropped);
  });

  it("fails over after a timeout, backs off, and gives up with DNS_ERR_TIMEOUT", () => {
    const e = dnsFailover(7).extra;
    expect(e.timeouts).toBe(1);
    expect(e.serverFailures).toBe(1);
    expect(e.truncated).toBe(1);
  });
});

function lan(seed = 3, options: ConstructorParameters<typeof DnsResolver>[1] = {}) {
  const { world, a, b } = new SimWorld(seed).twoHosts();
  const resolver = new DnsResolver(a.net, { servers: [parseIpv4("10.0.0.2")], ...options });
  return { world, a, b, resolver };
}

describe("DNS resolver API", () => {
  it("refuses names that are not names, at the call", () => {
    const { resolver, world } = lan();
    const ok = (): void => {};
    expect(() => resolver.resolve("", ok, ok)).toThrow(TypeError);
    expect(() => resolver.resolve("a..b", ok, ok)).toThrow(/empty label/);
    expect(() => resolver.resolve(`${"x".repeat(64)}.lan`, ok, ok)).toThrow(RangeError);
    expect(() => resolver.resolve(`${"abcdefg.".repeat(32)}lan`, ok, ok)).toThrow(/over 253/);
    expect(() => resolver.resolve("a b.lan", ok, ok)).toThrow(TypeError);
    expect(() => resolver.resolve(42 as unknown as string, ok, ok)).toThrow(TypeError);
    expect(() => resolver.resolve("x.lan", null as unknown as () => void, ok)).toThrow(TypeError);
    expect(() => resolver.setServers([1, 2, 3, 4, 5])).toThrow(RangeError);
    expect(() => resolver.setServers([-1])).toThrow(TypeError);
    expect(() => new DnsResolver(world.hosts[0].net, { queriesMax: 0 })).toThrow(/queriesMax/);
    resolver.close();
    world.shutdown();
  });

  it("gives an address back later, never from inside resolve(); no servers is an error", () => {
    const { resolver, world } = lan();
    resolver.setServers([]);
    const got: string[] = [];
    resolver.resolve("192.168.1.7", (addr) => got.push(`ok ${addr.toString(16)}`), () => got.push("error"));
    resolver.resolve("localhost", (addr) => got.push(`ok ${addr.toString(16)}`), () => got.push("error"));
    resolver.resolve("name.lan", () => got.push("ok"), (code) => got.push(`error ${code}`));
    expect(got).toEqual([]);
    world.runFor(10);
    expect(got.sort()).toEqual([`error ${DNS_ERR_NO_SERVERS}`, "ok 7f000001", "ok c0a80107"]);
    resolver.close();
    world.shutdown();
  });

  it("refuses one name more than queriesMax with a RangeError; cancel() stops the callback; close() fails what waits", () => {
    const { resolver, world, a } = lan(3, { queriesMax: 2, timeoutMs: 100, retries: 1 });
    const got: string[] = [];
    const h = resolver.resolve("one.lan", () => got.push("1"), (c) => got.push(`1 error ${c}`));
    resolver.resolve("two.lan", () => got.push("2"), (c) => got.push(`2 error ${c}`));
    expect(() => resolver.resolve("three.lan", () => {}, () => {})).toThrow(/queriesMax/);
    expect(resolver.stats.pendingFull).toBe(1);
    resolver.cancel(h);
    world.runFor(1000); // nobody answers on 10.0.0.2: a timeout
    expect(got).toEqual([`2 error ${DNS_ERR_TIMEOUT}`]);
    resolver.resolve("four.lan", () => {}, (c) => got.push(`four error ${c}`));
    resolver.close(); // a request still waiting hears DNS_ERR_CLOSED, once
    world.runFor(1000);
    expect(got).toEqual([`2 error ${DNS_ERR_TIMEOUT}`, `four error ${DNS_ERR_CLOSED}`]);
    expect(a.net.udp.inUse.every((u) => u === 0)).toBe(true);
    world.shutdown();
    expect(a.net.pool.inUse).toBe(0);
  });

  it("keeps cacheEntries answers; a new one evicts the oldest", () => {
    const { resolver, world, b } = lan(5, { cacheEntries: 2 });
    const zone = { "a.lan": { a: ["1.1.1.1"] }, "b.lan": { a: ["2.2.2.2"] }, "c.lan": { a: ["3.3.3.3"] } };
    const server = new SimDnsServer(udpSocketClass(b.net), { zone }).start();
    const ask = (n: string): void => {
      resolver.resolve(n, () => {}, () => {});
      world.runFor(50);
    };
    for (const n of ["a.lan", "b.lan", "c.lan", "b.lan", "c.lan", "a.lan"]) ask(n);
    expect(server.asked).toEqual(["a.lan", "b.lan", "c.lan", "a.lan"]);
    expect(resolver.stats.cacheEvictions).toBe(2);
    resolver.close();
    server.close();
    world.shutdown();
  });

  it("a query in flight is still answered after setServers names the same server (a DHCP lease)", () => {
    const { resolver, world, b } = lan(6);
    const server = new SimDnsServer(udpSocketClass(b.net), { zone: { "a.lan": { a: ["1.1.1.1"] } } }).start();
    let got = 0;
    resolver.resolve("a.lan", (addr) => (got = addr), () => {});
    resolver.setServers([parseIpv4("10.0.0.2")]);
    world.runFor(100);
    expect(got).toBe(parseIpv4("1.1.1.1"));
    expect(resolver.stats.wrongSource).toBe(0);
    resolver.close();
    server.close();
    world.shutdown();
  });

  it("uses a random source port and ID per query (RFC 5452)", () => {
    const { resolver, world, b } = lan(9);
    const seen: string[] = [];
    const UDP = udpSocketClass(b.net);
    const sock = new UDP({
      port: 53,
      onReadable(this: UdpSocket) {
        const p = this.read();
        if (p !== undefined) seen.push(`${p.port} ${new DataView(p).getUint16(0)}`);
      },
    });
    for (let i = 0; i < 4; i++) resolver.resolve(`n${i}.lan`, () => {}, () => {});
    world.runFor(50);
    expect(new Set(seen.map((s) => s.split(" ")[0])).size).toBe(4);
    expect(new Set(seen.map((s) => s.split(" ")[1])).size).toBe(4);
    for (const s of seen) expect(Number(s.split(" ")[0])).toBeGreaterThanOrEqual(49152);
    resolver.close();
    sock.close();
    world.shutdown();
  });
});

describe("DNS resolver: any bytes as an answer", () => {
  it("give a counted drop or a result, never an exception or a stuck query", () => {
    const { resolver, world, b, a } = lan(11, { timeoutMs: 50, retries: 0 });
    const UDP = udpSocketClass(b.net);
    let reply = new Uint8Array(0);
    let patchId = false;
    let patchQuestion = false;
    const sock = new UDP({
      port: 53,
      onReadable(this: UdpSocket) {
        const p = this.read();
        if (p === undefined) return;
        const q = new Uint8Array(p);
        const out = reply.slice();
        // Half the time the header and question are right, so the bytes reach the record parser.
        if (patchId && out.length >= 2) out.set(q.subarray(0, 2), 0);
        if (patchQuestion && out.length >= q.length) {
          out.set(q.subarray(4, q.length), 4);
          out[2] |= 0x80;
        }
        this.write(out, p.address, p.port);
      },
    });
    const name = new Uint8Array(300);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), fc.boolean(), (bytes, id, question) => {
        reply = bytes;
        patchId = id;
        patchQuestion = question;
        const before = { ...resolver.stats };
        let outcome = 0;
        resolver.resolve("fuzz.lan", () => outcome++, () => outcome++);
        world.runFor(200);
        const s = resolver.stats;
        expect(s.received - before.received).toBeGreaterThanOrEqual(1);
        expect(s.received - s.accepted - s.dropped).toBe(0);
        expect(outcome).toBe(1);
        expect(resolver.pending).toBe(0);
        resolver.flushCache();
      }),
      { numRuns: 400, seed: 20261203 },
    );
    expect(dnsWriteName(name, 0, "fuzz.lan")).toBe(10);
    resolver.close();
    sock.close();
    world.shutdown();
    expect(a.net.pool.inUse).toBe(0);
  });
});
