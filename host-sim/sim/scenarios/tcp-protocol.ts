// TCP protocol corners, small versions of what test/tcp/*.test.ts checks on V8, so the same
// corners run inside XS too: a zero window held a minute, keepalive against a dead peer,
// connects that fail. (Request/response timing and the SYN flood have files of their own.)

import { tcpSocketClasses, type TcpSocket } from "../../../src/socket/tcp";
import type { NetConfig } from "../../../src/config";
import { ETH_HLEN, ETH_P_IP, ethType } from "../../../src/wire/ethernet";
import { IPPROTO_TCP, IPV4_HLEN, IP_MF, IP_OFFMASK, ipFragField, ipIhlBytes, ipProto, ipTotLen } from "../../../src/wire/ipv4";
import { TCP_ACK, TCP_HLEN, TCP_RST, TCP_SYN, tcpDoffBytes, tcpDport, tcpFlags, tcpWindow } from "../../../src/wire/tcp";
import type { LinkFaults, SimLan } from "../lan";
import { SimWorld, type SimHost } from "../world";
import { connections, PatternStream, report, type ScenarioReport } from "./report";

interface CornerPair {
  world: SimWorld;
  lan: SimLan;
  a: SimHost;
  b: SimHost;
  SA: ReturnType<typeof tcpSocketClasses>;
  SB: ReturnType<typeof tcpSocketClasses>;
}

/** a (10.0.0.1) and b (10.0.0.2) on one LAN. */
export function cornerPair(seed: number, faults: Partial<LinkFaults>, config: Partial<NetConfig>): CornerPair {
  const hosts = new SimWorld(seed).twoHosts({ faults, config });
  return { ...hosts, SA: tcpSocketClasses(hosts.a.net), SB: tcpSocketClasses(hosts.b.net) };
}

/**
 * Calls fn for every TCP segment (not a fragment) an up port transmits, after the world's
 * frame hash: the port, the flags, the destination port, the payload length, the raw window.
 */
function tapTcp(lan: SimLan, fn: (port: number, flags: number, dport: number, payload: number, win: number) => void): void {
  const hashTap = lan.onWire;
  lan.onWire = (port, buf, off, len) => {
    if (hashTap !== null) hashTap(port, buf, off, len);
    if (len < ETH_HLEN + IPV4_HLEN + TCP_HLEN || ethType(buf, off) !== ETH_P_IP) return;
    const ip = off + ETH_HLEN;
    if (ipProto(buf, ip) !== IPPROTO_TCP || (ipFragField(buf, ip) & (IP_MF | IP_OFFMASK)) !== 0) return;
    const ihl = ipIhlBytes(buf, ip);
    const th = ip + ihl;
    fn(port, tcpFlags(buf, th), tcpDport(buf, th), ipTotLen(buf, ip) - ihl - tcpDoffBytes(buf, th), tcpWindow(buf, th));
  };
}

const F_ACK = TCP_ACK;

/**
 * A reader that does not read for 60 s: the window closes, the writer probes it (persist
 * timer, backing off) without giving up, and once reading resumes every byte arrives.
 */
export function tcpZeroWindow(seed: number): ScenarioReport {
  const TOTAL = 100_000;
  const { world, lan, a, b, SA, SB } = cornerPair(seed, { delayMs: 1 }, { tcpTimeWaitMs: 500 });
  let reading = false;
  let windowShut = false;
  let wireProbes = 0;
  let lastProbeMs = 0;
  let probeGapMax = 0;
  let firstProbeMs = -1;
  tapTcp(lan, (port, flags, _dport, payload, win) => {
    if (port === 1 && win === 0 && (flags & F_ACK) !== 0) windowShut = true;
    if (port === 0 && windowShut && !reading && payload === 0 && flags === F_ACK) {
      if (wireProbes > 0 && world.now - lastProbeMs > probeGapMax) probeGapMax = world.now - lastProbeMs;
      if (firstProbeMs < 0) firstProbeMs = world.now;
      lastProbeMs = world.now;
      wireProbes++;
    }
  });
  const out = new PatternStream(seed + 11);
  const expect = new PatternStream(seed + 11);
  const scratch = new Uint8Array(8192);
  let outHash = 0x811c9dc5;
  let inHash = 0x811c9dc5;
  let mismatches = 0;
  let sent = 0;
  let received = 0;
  let available = 0;
  let serverErrors = 0;
  let clientErrors = 0;
  let server: TcpSocket | null = null;
  const drain = (s: TcpSocket): void => {
    while (available > 0) {
      const n = available < scratch.length ? available : scratch.length;
      s.read(scratch.subarray(0, n));
      available -= n;
      inHash = expect.check(scratch, 0, n, inHash);
      mismatches += expect.mismatches;
      received += n;
    }
  };
  const listener = new SB.Listener({
    port: 80,
    onReadable() {
      const from = this.read();
      if (from === undefined) return;
      server = new SB.TCP({
        from,
        onReadable(n) {
          available = n;
          if (reading) drain(this);
        },
        onError() { serverErrors++; this.close(); },
      });
    },
  });
  const client = new SA.TCP({
    address: "10.0.0.2",
    port: 80,
    onWritable(room) {
      while (sent < TOTAL && room > 0) {
        const n = Math.min(room, TOTAL - sent, 5000);
        outHash = out.fill(scratch, 0, n, outHash);
        room = this.write(scratch.subarray(0, n));
        sent += n;
      }
      if (sent === TOTAL) this.close();
    },
    onError() { clientErrors++; },
  });
  world.runFor(60_000);
  const sentWhileShut = sent;
  const heldWhileShut = b.net.tcp.stats.currEstab === 1 && a.net.tcp.stats.currEstab === 1 ? 1 : 0;
  const timeoutsWhileShut = a.net.tcp.stats.timeouts;
  reading = true;
  if (server !== null) drain(server);
  world.runFor(6_000);
  listener.close();
  void client;
  return report("tcp-zero-window", world, [], {
    bytes: received,
    sent,
    mismatches,
    outHash,
    inHash,
    persistProbes: a.net.tcp.stats.persistProbes,
    wireProbes,
    firstProbeMs,
    probeGapMax,
    sentWhileShut,
    heldWhileShut,
    timeoutsWhileShut,
    clientErrors,
    serverErrors,
    connectionsLeft: connections(a.net) + connections(b.net),
  });
}

/**
 * Keepalive on the client's socket with short times; every frame is lost from some point
 * on: the client probes after the idle time, once each interval, and gives up (onError,
 * a reset) when the probes went unanswered. The peer writes later and is reset too.
 */
export function tcpKeepalive(seed: number): ScenarioReport {
  const IDLE = 10_000;
  const INTERVAL = 1_000;
  const PROBES = 4;
  const config = { tcpKeepaliveIdleMs: IDLE, tcpKeepaliveIntervalMs: INTERVAL, tcpKeepaliveProbes: PROBES, tcpTimeWaitMs: 1000 };
  const { world, lan, a, b, SA, SB } = cornerPair(seed, { delayMs: 1 }, config);
  let lastIntoA = -1;
  let probesOnWire = 0;
  let cutAt = -1;
  tapTcp(lan, (port, flags, _dport, payload) => {
    if (port === 1) lastIntoA = world.now;
    else if (cutAt >= 0 && flags === F_ACK && payload === 0) probesOnWire++;
  });
  let clientErrorAt = -1;
  let serverErrorAt = -1;
  let clientGot = 0;
  let serverGot = 0;
  let server: TcpSocket | null = null;
  const listener = new SB.Listener({
    port: 7000,
    onReadable() {
      const from = this.read();
      if (from === undefined) return;
      server = new SB.TCP({
        from,
        onReadable(n) { serverGot += this.read(n).byteLength; },
        onError() { if (serverErrorAt < 0) serverErrorAt = world.now; this.close(); },
      });
    },
  });
  const client = new SA.TCP({
    address: "10.0.0.2",
    port: 7000,
    keepalive: true,
    onReadable(n) { clientGot += this.read(n).byteLength; },
    onError() { if (clientErrorAt < 0) clientErrorAt = world.now; this.close(); },
  });
  world.runFor(20);
  const data = new Uint8Array(3000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + seed) & 0xff;
  client.write(data);
  if (server !== null) (server as TcpSocket).write(data.subarray(0, 2000));
  world.runFor(1200);
  cutAt = world.now;
  const lastIn = lastIntoA;
  lan.setAllFaults({ lossRate: 1 });
  world.runFor(IDLE + PROBES * INTERVAL + 5_000);
  const st = a.net.tcp.stats;
  const ka = { probes: st.keepaliveProbes, timeouts: st.keepaliveTimeouts, estabResets: st.estabResets, outRsts: st.outRsts };
  // The link comes back and the server writes: a reset answers, and it is told.
  lan.setAllFaults({ lossRate: 0 });
  if (server !== null) (server as TcpSocket).write(data.subarray(0, 3));
  world.runFor(5_000);
  listener.close();
  return report("tcp-keepalive", world, [], {
    clientGot,
    serverGot,
    keepaliveProbes: ka.probes,
    keepaliveTimeouts: ka.timeouts,
    estabResets: ka.estabResets,
    outRsts: ka.outRsts,
    probesOnWire,
    cutAt,
    lastIn,
    clientErrorAt,
    /** the error after the last segment in, less idle + probes x interval */
    errorLate: clientErrorAt - (lastIn + 1 + IDLE + PROBES * INTERVAL),
    serverErrorAt,
    serverResets: b.net.tcp.stats.estabResets,
    peerProbes: b.net.tcp.stats.keepaliveProbes,
    connectionsLeft: connections(a.net) + connections(b.net),
  });
}

/**
 * Connects that fail: to a closed port (answered with a reset: refused at once), and to a
 * port whose segments the LAN drops (the SYN retransmitted with a doubling RTO from
 * tcpRtoInitialMs, tcpSynRetries times, then the error).
 */
export function tcpConnectFail(seed: number): ScenarioReport {
  const { world, lan, a, SA } = cornerPair(seed, { delayMs: 1 }, { tcpRtoInitialMs: 300, tcpSynRetries: 3 });
  const synTimes: number[] = [];
  let rsts = 0;
  let t0 = 0;
  tapTcp(lan, (port, flags, dport) => {
    if (port === 0 && dport === 81 && flags === TCP_SYN) synTimes.push(world.now - t0);
    if (port === 1 && (flags & TCP_RST) !== 0) rsts++;
  });
  // A firewall on the LAN: every frame to TCP port 81 is dropped.
  lan.dropFilter = (_from, _to, buf, off, len) => {
    const ip = off + ETH_HLEN;
    if (len < ETH_HLEN + IPV4_HLEN + TCP_HLEN || ethType(buf, off) !== ETH_P_IP || ipProto(buf, ip) !== IPPROTO_TCP) return false;
    return tcpDport(buf, ip + ipIhlBytes(buf, ip)) === 81;
  };
  world.runFor(5);
  t0 = world.now;
  let refusedAt = -1;
  let refusedErrors = 0;
  let refusedWritable = 0;
  const refused = new SA.TCP({
    address: "10.0.0.2",
    port: 4242,
    onWritable() { refusedWritable++; },
    onError() { refusedErrors++; refusedAt = world.now - t0; },
  });
  world.runFor(2_000);
  const afterRefused = { attemptFails: a.net.tcp.stats.attemptFails, retrans: a.net.tcp.stats.retransSegs };
  refused.close();
  t0 = world.now;
  let silentAt = -1;
  let silentErrors = 0;
  const silent = new SA.TCP({ address: "10.0.0.2", port: 81, onError() { silentErrors++; silentAt = world.now - t0; } });
  world.runFor(10_000);
  silent.close();
  const st = a.net.tcp.stats;
  const extra: Record<string, number> = {
    refusedAt,
    refusedErrors,
    refusedWritable,
    refusedAttemptFails: afterRefused.attemptFails,
    rsts,
    silentAt,
    silentErrors,
    syns: synTimes.length,
    attemptFails: st.attemptFails,
    retransSegs: st.retransSegs,
    timeouts: st.timeouts,
    activeOpens: st.activeOpens,
    currEstab: st.currEstab,
    connectionsLeft: connections(a.net),
  };
  for (let i = 0; i < synTimes.length; i++) extra[`syn${i}`] = synTimes[i];
  return report("tcp-connect-fail", world, [], extra);
}
