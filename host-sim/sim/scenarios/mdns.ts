// mDNS (src/lan/mdns.ts) in scenarios: probing and announcing, two hosts claiming one name,
// and queries answered, asked by host-sim's querier (../mdns-querier.ts).

import { MdnsResponder, type MdnsOptions } from "../../../src/lan/mdns";
import { DNS_TYPE_A, DNS_TYPE_PTR, DNS_TYPE_SRV, DNS_TYPE_TXT } from "../../../src/wire/dns";
import { MdnsQuerier } from "../mdns-querier";
import { SimWorld } from "../world";
import { report, type ScenarioReport } from "./report";

const OPTIONS: MdnsOptions = Object.freeze({ hostname: "xsnet", services: Object.freeze([Object.freeze({ type: "_http._tcp", port: 80, txt: Object.freeze(["path=/"]) as string[] })]) as MdnsOptions["services"] });

/** One responder probes and announces; a listener counts what it hears; goodbye at the end. */
export function mdnsAnnounce(seed: number): ScenarioReport {
  const { world, a, b, devA, devB } = new SimWorld(seed).twoHosts({ faults: { delayMs: 1, jitterMs: 0.5 } });
  const q = new MdnsQuerier(b.net, devB);
  const mdns = new MdnsResponder(a.net, devA, OPTIONS);
  world.runFor(4000);
  const probes = q.heard.filter((m) => (m.flags & 0x8000) === 0).length;
  const announcements = q.heard.filter((m) => (m.flags & 0x8000) !== 0).length;
  mdns.close();
  world.runFor(100);
  const goodbyes = q.heard.filter((m) => m.records.length > 0 && m.records.every((r) => r.ttl === 0)).length;
  q.close();
  return report("mdns-announce", world, [], {
    probes, announcements, goodbyes, announced: mdns.stats.announcementsSent, undecodable: q.undecodable,
  });
}

/** Two hosts claim xsnet.local at once: the tie-break, then one renames to xsnet-2 (RFC 6762 8.2, 9). */
export function mdnsConflict(seed: number): ScenarioReport {
  const { world, devA, devB, a, b } = new SimWorld(seed).twoHosts({ faults: { delayMs: 1, jitterMs: 0.5 } });
  const ra = new MdnsResponder(a.net, devA, OPTIONS);
  const rb = new MdnsResponder(b.net, devB, OPTIONS);
  world.runFor(10_000);
  const names = [ra.hostname, rb.hostname].sort().join(",");
  const instances = [ra.instanceName(0), rb.instanceName(0)].sort().join(",");
  const extra = {
    namesDistinct: names === "xsnet,xsnet-2" ? 1 : 0,
    instancesDistinct: instances === "xsnet,xsnet-2" ? 1 : 0,
    bothAnnounced: ra.state === "announced" && rb.state === "announced" ? 1 : 0,
    conflicts: ra.stats.conflicts + rb.stats.conflicts,
    tieBreaksLost: ra.stats.tieBreaksLost + rb.stats.tieBreaksLost,
    probes: ra.stats.probesSent + rb.stats.probesSent,
  };
  ra.close();
  rb.close();
  world.runFor(100);
  return report("mdns-conflict", world, [], extra);
}

/** Questions answered: A, a DNS-SD browse, service types, SRV and TXT, legacy unicast, a known answer. */
export function mdnsQueries(seed: number): ScenarioReport {
  const { world, a, b, devA, devB } = new SimWorld(seed).twoHosts({ faults: { delayMs: 1, jitterMs: 0.5 } });
  const q = new MdnsQuerier(b.net, devB);
  const legacy = new MdnsQuerier(b.net, devB, 40_000);
  const mdns = new MdnsResponder(a.net, devA, OPTIONS);
  world.runFor(4000);
  let from = q.heard.length;
  q.query([{ name: "xsnet.local", type: DNS_TYPE_A }]);
  world.runFor(1100);
  const addresses = q.records("xsnet.local", DNS_TYPE_A, from).filter((r) => r.data === "10.0.0.1").length;
  from = q.heard.length;
  q.query([{ name: "_http._tcp.local", type: DNS_TYPE_PTR }]);
  world.runFor(1100);
  const browsed = q.records("_http._tcp.local", DNS_TYPE_PTR, from).filter((r) => r.data === "xsnet._http._tcp.local").length;
  const srv = q.records("xsnet._http._tcp.local", DNS_TYPE_SRV, from).filter((r) => r.data === "80 xsnet.local").length;
  const txt = q.records("xsnet._http._tcp.local", DNS_TYPE_TXT, from).filter((r) => r.data === "path=/").length;
  from = q.heard.length;
  q.query([{ name: "_services._dns-sd._udp.local", type: DNS_TYPE_PTR }]);
  world.runFor(1100);
  const types = q.records("_services._dns-sd._udp.local", DNS_TYPE_PTR, from).length;
  legacy.query([{ name: "xsnet.local", type: DNS_TYPE_A }], { id: 0x7777 });
  world.runFor(100);
  const legacyAnswers = legacy.heard.filter((m) => m.id === 0x7777 && m.records.some((r) => r.ttl === 10 && r.data === "10.0.0.1")).length;
  from = q.heard.length;
  q.query([{ name: "_http._tcp.local", type: DNS_TYPE_PTR }], { known: [{ name: "_http._tcp.local", type: DNS_TYPE_PTR, ttl: 4500, data: "xsnet._http._tcp.local" }] });
  world.runFor(1100);
  const afterKnown = q.heard.length - from;
  mdns.close();
  world.runFor(100);
  q.close();
  legacy.close();
  return report("mdns-queries", world, [], {
    addresses, browsed, srv, txt, types, legacyAnswers, afterKnown,
    suppressed: mdns.stats.knownAnswerSuppressed, multicastAnswers: mdns.stats.multicastAnswers,
  });
}
