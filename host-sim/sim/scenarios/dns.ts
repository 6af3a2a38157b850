// The DNS resolver (src/lan/dns-resolver.ts) of host a against the DNS server of dns-server.ts
// on host b (and a second one, or a forger, on host c): names, CNAME chains, NXDOMAIN and
// NODATA cached by the SOA, TTL expiry, timeouts and fail-over, SERVFAIL, TC, and every
// hostile answer dropped and counted while the query waits for the true one. Each scenario
// reports `mismatches`: what came out differently from what it expected (0 when all held).

import { DnsResolver } from "../../../src/lan/dns-resolver";
import { udpSocketClass } from "../../../src/socket/udp";
import { formatIpv4, parseIpv4 } from "../../../src/wire/ipv4";
import { DNS_HOSTILE_KINDS, SimDnsServer, type DnsZoneRecord } from "../dns-server";
import { SimWorld, type SimHost } from "../world";
import { report, type ScenarioReport } from "./report";

const ZONE: Readonly<Record<string, DnsZoneRecord>> = Object.freeze({
  "host.lan": { a: ["10.0.0.9"], ttl: 60 },
  "www.lan": { cname: "web.lan", ttl: 120 },
  "web.lan": { cname: "host.lan", ttl: 30 },
  "text.lan": { a: [] },
  "short.lan": { a: ["10.0.0.10"], ttl: 5 },
  "loop1.lan": { cname: "loop2.lan" },
  "loop2.lan": { cname: "loop1.lan" },
});

interface Bench {
  world: SimWorld;
  server: SimDnsServer;
  resolver: DnsResolver;
  results: string[];
  ask(host: string): void;
  c: SimHost;
}

function bench(seed: number, servers: string[]): Bench {
  const { world, a, b, lan } = new SimWorld(seed).twoHosts();
  const c = world.addHost("c");
  world.attach(c, lan, "10.0.0.3/24");
  const server = new SimDnsServer(udpSocketClass(b.net), { zone: ZONE, soaTtl: 3600, soaMinimum: 10 }).start();
  const resolver = new DnsResolver(a.net, { servers: servers.map(parseIpv4), timeoutMs: 500, retries: 3 });
  const results: string[] = [];
  const ask = (host: string): void => {
    resolver.resolve(host, (addr, ttl) => results.push(`${host} ${formatIpv4(addr)} ${ttl}`), (code) => results.push(`${host} error ${code}`));
  };
  return { world, server, resolver, results, ask, c };
}

function mismatches(got: string[], want: string[]): number {
  let n = Math.abs(got.length - want.length);
  for (let i = 0; i < Math.min(got.length, want.length); i++) if (got[i] !== want[i]) n++;
  return n;
}

function stats(r: DnsResolver): Record<string, number> {
  return { ...r.stats, pendingAfter: r.pending };
}

/** Names, a CNAME chain (whole, then link by link), NXDOMAIN and NODATA cached, TTL expiry, a CNAME loop. */
export function dnsResolve(seed: number): ScenarioReport {
  const t = bench(seed, ["10.0.0.2"]);
  const { world, server, resolver, ask } = t;
  ask("host.lan");
  world.runFor(100);
  ask("WWW.lan."); // case and the trailing dot do not matter
  world.runFor(100);
  ask("nowhere.lan");
  world.runFor(100);
  ask("nowhere.lan"); // cached negative: no query
  ask("text.lan");
  world.runFor(100);
  ask("10.1.2.3"); // an address: at once
  ask("short.lan");
  world.runFor(100);
  const before = server.queries;
  ask("short.lan"); // within the TTL: the cache
  world.runFor(2000);
  const cachedQueries = server.queries - before;
  world.runFor(4000);
  ask("short.lan"); // after the TTL (5 s): the wire
  world.runFor(100);
  const expiredQueries = server.queries - before;
  // The chain link by link: the resolver asks for each target (RFC 1034 5.3.3).
  server.wholeChain = false;
  resolver.flushCache();
  ask("www.lan");
  world.runFor(100);
  ask("loop1.lan");
  world.runFor(100);
  const want = [
    "host.lan 10.0.0.9 60", "WWW.lan. 10.0.0.9 30", "nowhere.lan error 1", "nowhere.lan error 1", "text.lan error 2",
    "10.1.2.3 10.1.2.3 0", "short.lan 10.0.0.10 5", "short.lan 10.0.0.10 5", "short.lan 10.0.0.10 5", "www.lan 10.0.0.9 30", "loop1.lan error 7",
  ];
  const bad = mismatches(t.results, want) + (cachedQueries === 0 ? 0 : 1) + (expiredQueries === 1 ? 0 : 1);
  const extra = { mismatches: bad, serverQueries: server.queries, ...stats(resolver) };
  resolver.close();
  server.close();
  return report("dns-resolve", world, [], extra);
}

/** The first server silent: fail-over to the second; both silent: a timeout; SERVFAIL: the next; TC: an error. */
export function dnsFailover(seed: number): ScenarioReport {
  const t = bench(seed, ["10.0.0.3", "10.0.0.2"]);
  const { world, server, resolver, ask } = t;
  const second = new SimDnsServer(udpSocketClass(t.c.net), { zone: ZONE }).start();
  second.mode = "drop";
  ask("host.lan");
  world.runFor(2000);
  server.mode = "drop";
  ask("web.lan");
  world.runFor(20_000);
  // SERVFAIL from the first: the second answers.
  second.mode = "servfail";
  server.mode = "answer";
  ask("www.lan");
  world.runFor(2000);
  second.mode = "truncated";
  ask("short.lan");
  world.runFor(2000);
  const want = ["host.lan 10.0.0.9 60", "web.lan error 3", "www.lan 10.0.0.9 30", "short.lan error 5"];
  const extra = { mismatches: mismatches(t.results, want), firstQueries: second.queries, secondQueries: server.queries, ...stats(resolver) };
  resolver.close();
  server.close();
  second.close();
  return report("dns-failover", world, [], extra);
}

/** Each hostile answer before the true one: dropped, counted, and the name still resolves. */
export function dnsHostile(seed: number): ScenarioReport {
  const t = bench(seed, ["10.0.0.2"]);
  const { world, server, resolver, ask } = t;
  const forger = new (udpSocketClass(t.c.net))({ port: 53 });
  server.forger = forger;
  // c learns a's address first, so its forged answer is on the wire before b's true one.
  forger.write(new Uint8Array(1), "10.0.0.1", 9);
  world.runFor(50);
  for (const kind of DNS_HOSTILE_KINDS) {
    server.hostile = [kind];
    resolver.flushCache();
    ask("host.lan");
    world.runFor(200);
  }
  const want = DNS_HOSTILE_KINDS.map(() => "host.lan 10.0.0.9 60");
  const s = resolver.stats;
  // One drop of each kind: pointer loop, forward pointer, long name, long label -> badName (4).
  const counted = s.badName === 4 && s.recordBeyond === 1 && s.wrongId === 1 && s.wrongQuestion === 1 && s.shortHeader === 1 &&
    s.notResponse === 1 && s.tooBig === 1 && s.wrongSource === 1 && s.dropped === DNS_HOSTILE_KINDS.length;
  const extra = { mismatches: mismatches(t.results, want) + (counted ? 0 : 1), ...stats(resolver) };
  resolver.close();
  server.close();
  forger.close();
  return report("dns-hostile", world, [], extra);
}
