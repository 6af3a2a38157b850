// Ping scenarios: fragments over a lossy link, a pool too small for a datagram, and the
// demo's two LANs joined by a router.

import { Pinger } from "../../../src/apps/ping";
import { SimWorld } from "../world";
import { report, type ScenarioReport } from "./report";

/** Pings of every size up to 65,000 bytes over a link with loss, reordering, duplication. */
export function pingFragLossy(seed: number): ScenarioReport {
  const { world, a } = new SimWorld(seed).twoHosts({
    lanName: "lossy",
    faults: { lossRate: 0.05, delayMs: 2, jitterMs: 1, reorderRate: 0.02, reorderDelayMs: 3, duplicateRate: 0.01, corruptRate: 0.001 },
  });
  const ping = new Pinger(a.net, 0x2345);
  const sizes = [56, 1472, 1473, 4000, 9000, 65000];
  for (let i = 0; i < 120; i++) {
    ping.send("10.0.0.2", sizes[i % sizes.length]);
    world.runFor(25);
  }
  world.runFor(35_000); // past the reassembly timeout: every held fragment is released
  return report("ping-frag-lossy", world, [ping]);
}

/** A host with 24 buffers receives datagrams that cannot fit, then recovers. */
export function poolExhaustion(seed: number): ScenarioReport {
  const { world, a } = new SimWorld(seed).twoHosts({
    faults: { delayMs: 1 },
    b: { config: { skbSlots: 24, skbRecords: 28, reasmSkbsMax: 12 }, mac: { rxRingSize: 8 } },
  });
  const ping = new Pinger(a.net, 0x3456);
  ping.send("10.0.0.2", 56);
  world.runFor(50);
  for (let i = 0; i < 3; i++) {
    ping.send("10.0.0.2", 65000);
    world.runFor(100);
  }
  world.runFor(35_000);
  for (let i = 0; i < 10; i++) {
    ping.send("10.0.0.2", 1000);
    world.runFor(20);
  }
  return report("pool-exhaustion", world, [ping]);
}

/** The demo's network: two LANs joined by a router, one lossy, one with MTU 576. */
export function router(seed: number): ScenarioReport {
  const { world, a } = new SimWorld(seed).routedHosts({
    faults1: { lossRate: 0.03, delayMs: 2, jitterMs: 1, rateBps: 100_000_000 },
    faults2: { delayMs: 5, rateBps: 10_000_000, mtu: 576 },
    config: { skbSlots: 256, skbRecords: 288, reasmSkbsMax: 128 },
    mtu2: 576,
  });
  const ping = new Pinger(a.net, 0x4567);
  const sizes = [56, 512, 1472, 4000, 8000];
  for (let i = 0; i < 60; i++) {
    ping.send("10.0.2.2", sizes[i % sizes.length]);
    world.runFor(50);
  }
  ping.send("10.0.2.2", 56, 1); // TTL 1: time exceeded from the router
  world.runFor(2000);
  return report("router", world, [ping]);
}
