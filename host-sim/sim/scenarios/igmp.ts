// IGMP in a scenario: host a joins groups and reports them, unsolicited and when b, a small
// querier (../igmp-querier.ts), asks: first as a version 2 querier (a answers in v2, its
// leave goes to 224.0.0.2), then, once the older-querier timeout has run out, version 3.

import { Pinger } from "../../../src/apps/ping";
import { ipMcJoin, ipMcLeave } from "../../../src/ipv4/devinet";
import { SimIgmpQuerier } from "../igmp-querier";
import { SimWorld } from "../world";
import { report, type ScenarioReport } from "./report";

/** Reports on join, on v2 and v3 queries, and leaves, on a LAN with a little jitter. */
export function igmp(seed: number): ScenarioReport {
  const { world, a, b, devA, devB } = new SimWorld(seed).twoHosts({ faults: { delayMs: 1, jitterMs: 0.5 } });
  const q = new SimIgmpQuerier(b.net, devB);
  // unicast beside the multicast: pings from the querier's host, as the other scenarios check
  const ping = new Pinger(b.net, 0x1914);
  for (let i = 0; i < 20; i++) {
    ping.send("10.0.0.1", 56);
    world.runFor(10);
  }
  ipMcJoin(devA, "224.0.0.251");
  ipMcJoin(devA, "239.1.2.3");
  world.runFor(3000); // v3 CHANGE_TO_EXCLUDE, each twice (RFC 3376 5.1)
  const joinRecords = q.v3Records[4];
  q.query(2); // v2 general, 10 s
  world.runFor(11_000);
  const v2General = q.v2Reports;
  q.query(2, 0xef010203, 20); // group-specific, 2 s
  world.runFor(3000);
  const v2Specific = q.v2Reports - v2General;
  ipMcLeave(devA, "239.1.2.3"); // a sent the last report: a Leave (RFC 2236 3)
  world.runFor(1000);
  q.query(3); // answered as v2 while the v2 querier is remembered (RFC 3376 7.2.1)
  world.runFor(11_000);
  const v2AfterV3Query = q.v2Reports - v2General - v2Specific;
  world.runFor(260_000);
  q.query(3, 0, 50); // general, 5 s
  world.runFor(6000);
  const v3Current = q.v3Records[2];
  ipMcLeave(devA, "224.0.0.251");
  world.runFor(3000);
  q.close();
  return report("igmp", world, [ping], {
    joinRecords,
    v2General,
    v2Specific,
    v2Leaves: q.leaves,
    v2AfterV3Query,
    v3Current,
    v3ToInclude: q.v3Records[3],
    queries: q.queries,
    reportsSent: a.net.igmp.stats.outReportsV2 + a.net.igmp.stats.outReportsV3,
    mode: a.net.igmp.mode(devA),
  });
}
