// ARP in a scenario: packets waiting for resolution, then entries ageing to STALE and probed.

import { Pinger } from "../../../src/apps/ping";
import { SimWorld } from "../world";
import { report, type ScenarioReport } from "./report";

/** ARP with packets waiting, then steady pings, on a clean LAN. */
export function arp(seed: number): ScenarioReport {
  const { world, a } = new SimWorld(seed).twoHosts({ faults: { delayMs: 1, jitterMs: 0.5 }, a: { config: { neighQueueMax: 3 } } });
  const ping = new Pinger(a.net, 0x1234);
  for (let i = 0; i < 5; i++) ping.send("10.0.0.2", 64 + i);
  world.runFor(100);
  for (let i = 0; i < 20; i++) {
    ping.send("10.0.0.2", 100 * i);
    world.runFor(10);
  }
  world.runFor(40_000); // entries age: REACHABLE -> STALE
  ping.send("10.0.0.2", 56); // STALE -> DELAY -> PROBE
  world.runFor(10_000);
  return report("arp", world, [ping]);
}
