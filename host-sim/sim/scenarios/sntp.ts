// The SNTP client (src/lan/sntp.ts) against the simulation's NTP server (../ntp-server.ts)
// in virtual time: the time got to the ms over a link with delay, kiss-o'-death RATE and
// DENY, timeouts and fail-over across servers, each ending with every pool full.

import { SntpClient } from "../../../src/lan/sntp";
import { parseIpv4 } from "../../../src/wire/ipv4";
import { SimNtpServer } from "../ntp-server";
import { SimWorld, type SimHost } from "../world";
import { report, type ScenarioReport } from "./report";

/** 2026-12-03T21:00:00.123Z */
export const SNTP_SIM_UNIX_MS = 1_796_331_600_123;
const LINK_DELAY_MS = 3;

/** What a scenario's client heard. */
class Heard {
  times = 0;
  errors = 0;
  timeouts = 0;
  /** the last time's server, and the client's error against that server's clock then (µs) */
  lastServer = 0;
  lastErrorUs = 0;
  firstErrorUs = 0;
  /** the largest error of every time after the first (µs) */
  laterErrorUsMax = 0;
}

function client(a: SimHost, servers: SimNtpServer[], addrs: number[], heard: Heard, pollIntervalMs: number): SntpClient {
  return new SntpClient(a.net, {
    servers: addrs,
    pollIntervalMs,
    timeoutMs: 1000,
    onTime(unixMs, _offsetMs, server) {
      const s = servers[addrs.indexOf(server)];
      const errUs = Math.round((unixMs - s.unixNow()) * 1000);
      if (heard.times === 0) heard.firstErrorUs = errUs;
      else if (Math.abs(errUs) > heard.laterErrorUsMax) heard.laterErrorUsMax = Math.abs(errUs);
      heard.times++;
      heard.lastServer = addrs.indexOf(server);
      heard.lastErrorUs = errUs;
    },
    onError(reason) {
      if (reason === "timeout") heard.timeouts++;
      else heard.errors++;
    },
  });
}

/** Client a, servers b (10.0.0.2) and c (10.0.0.3) on one LAN with a 3 ms delay each way. */
function threeHosts(seed: number): { world: SimWorld; a: SimHost; b: SimHost; c: SimHost } {
  const { world, lan, a, b } = new SimWorld(seed).twoHosts({ lanName: "sntp", faults: { delayMs: LINK_DELAY_MS } });
  const c = world.addHost("c");
  world.attach(c, lan, "10.0.0.3/24");
  return { world, a, b, c };
}

/**
 * SNTP success: the time to the ms at every poll after the first (the first waits on ARP on
 * its way out, which the offset halves), polls 64 s apart, the server's clock stepped once.
 */
export function sntpSuccess(seed: number): ScenarioReport {
  const { world, a, b } = new SimWorld(seed).twoHosts({ lanName: "sntp", faults: { delayMs: LINK_DELAY_MS } });
  const server = new SimNtpServer(b.net, SNTP_SIM_UNIX_MS);
  const heard = new Heard();
  const sntp = client(a, [server], [parseIpv4("10.0.0.2")], heard, 64_000);
  sntp.start();
  world.runFor(100_000);
  // The server's clock jumps an hour ahead: the next poll follows it.
  server.setTime(server.unixNow() + 3_600_000);
  world.runFor(100_000);
  const nowErrorUs = Math.round((sntp.now() - server.unixNow()) * 1000);
  const st = sntp.stats;
  const extra = {
    times: heard.times, firstErrorUs: heard.firstErrorUs, laterErrorUsMax: heard.laterErrorUsMax, nowErrorUs,
    delayMs: Math.round(sntp.delayMs), requests: st.requests, serverRequests: server.requests, serverMinGapMs: Math.round(server.minGapMs),
  };
  sntp.close();
  server.close();
  return report("sntp", world, [], extra);
}

/**
 * Kiss-o'-death (RFC 4330 8): b says RATE (the client's poll interval doubles, b asked again
 * only after it), then DENY (b never asked again, the client fails over to c at once).
 */
export function sntpKod(seed: number): ScenarioReport {
  const { world, a, b, c } = threeHosts(seed);
  const sb = new SimNtpServer(b.net, SNTP_SIM_UNIX_MS);
  const sc = new SimNtpServer(c.net, SNTP_SIM_UNIX_MS);
  const heard = new Heard();
  const sntp = client(a, [sb, sc], [parseIpv4("10.0.0.2"), parseIpv4("10.0.0.3")], heard, 30_000);
  sb.mode = "kod-rate";
  sntp.start();
  world.runFor(10_000);
  const pollAfterRate = sntp.pollIntervalMs;
  sb.mode = "ok";
  world.runFor(60_000); // b again at 60 s: the time
  const timesAfterRate = heard.times;
  sb.mode = "kod-deny";
  world.runFor(60_000); // b at 120 s: DENY, c at once
  const bRequestsAtDeny = sb.requests;
  const serverAfterDeny = heard.lastServer;
  world.runFor(200_000);
  const st = sntp.stats;
  const extra = {
    pollAfterRate, timesAfterRate, serverAfterDeny, bRequestsAtDeny, bRequestsAtEnd: sb.requests, cRequests: sc.requests,
    bMinGapMs: Math.round(sb.minGapMs), times: heard.times, lastServer: heard.lastServer, lastErrorUs: heard.lastErrorUs,
    kissRate: st.kissRate, kissDeny: st.kissDeny,
  };
  sntp.close();
  sb.close();
  sc.close();
  return report("sntp-kod", world, [], extra);
}

/**
 * Timeouts and fail-over: b silent, c answering with a wrong originate timestamp and then
 * unsynchronized (both counted, neither a time), every round fails and the client backs
 * off (15 s, 30 s, ...; never 15 s apart to one server); then c answers and gives the time.
 */
export function sntpFailover(seed: number): ScenarioReport {
  const { world, a, b, c } = threeHosts(seed);
  const sb = new SimNtpServer(b.net, SNTP_SIM_UNIX_MS);
  const sc = new SimNtpServer(c.net, SNTP_SIM_UNIX_MS);
  const heard = new Heard();
  const sntp = client(a, [sb, sc], [parseIpv4("10.0.0.2"), parseIpv4("10.0.0.3")], heard, 120_000);
  sb.mode = "silent";
  sc.mode = "wrong-origin";
  sntp.start();
  world.runFor(20_000);
  sc.mode = "unsynced";
  world.runFor(40_000);
  const timeoutsBefore = heard.timeouts;
  sc.mode = "ok";
  world.runFor(100_000);
  const st = sntp.stats;
  const extra = {
    timeoutsBefore, timeouts: st.timeouts, onErrorTimeouts: heard.timeouts, notOurs: st.notOurs, unsynced: st.unsynced,
    times: heard.times, lastServer: heard.lastServer, lastErrorUs: heard.lastErrorUs,
    bMinGapMs: Math.round(sb.minGapMs), cMinGapMs: Math.round(sc.minGapMs), requests: st.requests,
  };
  sntp.close();
  sb.close();
  sc.close();
  return report("sntp-failover", world, [], extra);
}
