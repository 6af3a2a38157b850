// The entry of the XS bundle (host-sim/xs-run.ts): scenarios, the steady-state pump, and
// RAM figures, as one script that defines `xsnetSim` in the XS engine.

import { DEFAULT_CONFIG, MINIMAL_CONFIG } from "../../src/config";
import { init } from "../../src/stack";
import { DescRing } from "../../drivers/ring";
import { SCENARIOS, SteadyPing, SteadyTcp, runScenario, tcpSegmentFloor } from "./scenarios/index";

export { SteadyPing, SteadyTcp, runScenario, tcpSegmentFloor };

export function scenarioNames(): string[] {
  return Object.keys(SCENARIOS);
}

/**
 * Bytes of the fixed memory of one stack made with the default or the minimal
 * configuration: the packet pool, skb control blocks, a DMA MAC's descriptor rings, and
 * the typed arrays of the tables. (The JS objects around them are counted by the engine:
 * the XS heap slots that init adds.)
 */
export function ramFigures(which: "default" | "minimal"): Record<string, number> {
  const config = which === "minimal" ? MINIMAL_CONFIG : DEFAULT_CONFIG;
  const platform = { now: () => 0, requestRun: () => {}, random32: () => 0x12345678 };
  const net = init(config, platform);
  const ringEntries = which === "minimal" ? 4 : 32;
  const ring = new DescRing(ringEntries);
  const ringBytes = 2 * (ring.skbId.byteLength + ring.addr.byteLength + ring.bufLen.byteLength + ring.length.byteLength + ring.status.byteLength);
  const n = net.neigh;
  const neighBytes = n.key.byteLength + n.state.byteLength + n.ha.byteLength + n.probes.byteLength + n.confirmed.byteLength +
    n.used.byteLength + n.updated.byteLength + n.reachableMs.byteLength;
  const r = net.ipv4.routes;
  const routeBytes = r.dst.byteLength + r.mask.byteLength + r.prefixLen.byteLength + r.gateway.byteLength + r.metric.byteLength + r.connected.byteLength;
  const figures = {
    skbSlots: config.skbSlots,
    poolBytes: net.pool.buf.byteLength,
    skbCbBytes: config.skbRecords * config.skbCbWords * 4,
    ringBytes,
    neighTableBytes: neighBytes,
    routeTableBytes: routeBytes,
    reasmSlots: config.reasmSlots,
    tcpStateBytesPerConnection: net.tcp.tcb.stateBytesPerEntry(),
    tcpConnections: config.tcpSocketsMax,
    timers: config.timersMax,
    total: 0,
  };
  figures.total = figures.poolBytes + figures.skbCbBytes + figures.ringBytes + figures.neighTableBytes + figures.routeTableBytes;
  net.shutdown();
  return figures;
}
