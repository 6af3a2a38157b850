// Scenarios that run the same on V8 and inside the XS engine: each builds a simulated
// network from a seed, runs it in virtual time and reports what happened, including a
// hash of every frame put on any LAN, in order. Same seed, same bytes: the determinism
// check compares these reports between the engines. Node-free (bundled for XS).

import { arp } from "./arp";
import { dhcpLease } from "./dhcp";
import { mdnsAnnounce, mdnsConflict, mdnsQueries } from "./mdns";
import { tcpEcho, udpEcho } from "./echo";
import { pingFragLossy, poolExhaustion, router } from "./ping";
import type { ScenarioReport } from "./report";
import { bulkScenario } from "./tcp-bulk";
import { tcpConnectFail, tcpKeepalive, tcpZeroWindow } from "./tcp-protocol";
import { tcpReqResp } from "./tcp-reqresp";
import { tcpSynflood } from "./tcp-synflood";
import { igmp } from "./igmp";
import { sntpFailover, sntpKod, sntpSuccess } from "./sntp";
import { dnsFailover, dnsHostile, dnsResolve } from "./dns";
import { w5500Ping, w5500TcpBulk, w5500UdpEcho } from "./w5500";
import { enc28j60Ping, enc28j60TcpBulk, enc28j60UdpEcho } from "./enc28j60";

export { PatternStream, type ScenarioReport } from "./report";
export { BULK_PRESETS, XS_BULK_BYTES, tcpBulk, type BulkPreset, type TcpBulkOptions } from "./tcp-bulk";
export { SteadyPing, SteadyTcp, tcpSegmentFloor } from "./steady";
export { attachW5500, W5500_PINS, type AttachW5500Options, type W5500Parts } from "./w5500";

export const SCENARIOS: Readonly<Record<string, (seed: number) => ScenarioReport>> = {
  arp,
  "ping-frag-lossy": pingFragLossy,
  "pool-exhaustion": poolExhaustion,
  router,
  "udp-echo": udpEcho,
  "tcp-echo": tcpEcho,
  "tcp-bulk-clean": bulkScenario("clean"),
  "tcp-bulk-loss1": bulkScenario("loss1"),
  "tcp-bulk-loss5": bulkScenario("loss5"),
  "tcp-bulk-rtt100loss1": bulkScenario("rtt100loss1"),
  "tcp-bulk-rtt100": bulkScenario("rtt100"),
  "tcp-bulk-wscale": bulkScenario("wscale"),
  "tcp-bulk-sack": bulkScenario("sack"),
  "tcp-zero-window": tcpZeroWindow,
  "tcp-keepalive": tcpKeepalive,
  "tcp-connect-fail": tcpConnectFail,
  "tcp-reqresp": tcpReqResp,
  "tcp-synflood": tcpSynflood,
  "dhcp-lease": dhcpLease,
  igmp,
  sntp: sntpSuccess,
  "sntp-kod": sntpKod,
  "sntp-failover": sntpFailover,
  "dns-resolve": dnsResolve,
  "dns-failover": dnsFailover,
  "dns-hostile": dnsHostile,
  "mdns-announce": mdnsAnnounce,
  "mdns-conflict": mdnsConflict,
  "mdns-queries": mdnsQueries,
  "w5500-ping": w5500Ping,
  "w5500-udp-echo": w5500UdpEcho,
  "w5500-tcp-bulk": w5500TcpBulk,
  "enc28j60-ping": enc28j60Ping,
  "enc28j60-udp-echo": enc28j60UdpEcho,
  "enc28j60-tcp-bulk": enc28j60TcpBulk,
};

export function runScenario(name: string, seed: number): ScenarioReport {
  const fn = SCENARIOS[name];
  if (fn === undefined) throw new TypeError(`no scenario named '${name}'`);
  return fn(seed);
}
