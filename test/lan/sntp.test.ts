// The SNTP client (src/lan/sntp.ts) against the simulation's NTP server (host-sim/sim/
// ntp-server.ts) in virtual time: the time and offset to the ms, the checks RFC 4330 5 asks
// of a reply (each refused one counted), kiss-o'-death (RFC 4330 8), the 15 s floor and the
// backoff (RFC 4330 10), fail-over, setServers, stop/close, the 2036 wrap, and any reply
// bytes giving a counted drop or a time, never an exception (fast-check).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SNTP_MIN_POLL_MS, SNTP_SERVERS_MAX, SntpClient, type SntpOptions } from "../../src/lan/sntp";
import { parseIpv4 } from "../../src/wire/ipv4";
import { NTP_LEN, NTP_PORT } from "../../src/wire/ntp";
import { SimNtpServer, writeNtpTime } from "../../host-sim/sim/ntp-server";
import { SNTP_SIM_UNIX_MS, sntpFailover, sntpKod, sntpSuccess } from "../../host-sim/sim/scenarios/sntp";
import { SimWorld, type SimHost } from "../../host-sim/sim/world";

const B = parseIpv4("10.0.0.2");
const C = parseIpv4("10.0.0.3");

interface Setup {
  world: SimWorld;
  a: SimHost;
  b: SimHost;
  server: SimNtpServer;
  sntp: SntpClient;
  times: { unixMs: number; offsetMs: number; server: number; delayMs: number; at: number }[];
  errors: string[];
}

function setup(seed: number, options: Partial<SntpOptions> = {}, delayMs = 2): Setup {
  const { world, a, b } = new SimWorld(seed).twoHosts({ faults: { delayMs } });
  const server = new SimNtpServer(b.net, SNTP_SIM_UNIX_MS);
  const times: Setup["times"] = [];
  const errors: string[] = [];
  const sntp = new SntpClient(a.net, {
    servers: [B],
    pollIntervalMs: 64_000,
    timeoutMs: 1000,
    onTime: (unixMs, offsetMs, srv, delay) => times.push({ unixMs, offsetMs, server: srv, delayMs: delay, at: world.now }),
    onError: (reason) => errors.push(reason),
    ...options,
  });
  return { world, a, b, server, sntp, times, errors };
}

/** Close everything; the pools must be full again. */
function finish(s: Setup, ...more: { close(): void }[]): void {
  s.sntp.close();
  s.server.close();
  for (const m of more) m.close();
  s.world.shutdown();
  for (const h of s.world.hosts) expect(h.net.pool.inUse, `${h.name}'s pool`).toBe(0);
}

/** A good reply's bytes, times from unixMs (the origin is copied in by the server's raw mode). */
function goodReply(unixMs: number, len = NTP_LEN): Uint8Array {
  const r = new Uint8Array(len);
  r[0] = 0x24; // LI 0, version 4, mode 4
  r[1] = 2;
  writeNtpTime(r, 32, unixMs);
  writeNtpTime(r, 40, unixMs);
  return r;
}

describe("SNTP client (RFC 4330)", () => {
  it("gets the server's time to the ms, and its offset to the platform clock", () => {
    const s = setup(1);
    s.sntp.start();
    expect(s.sntp.now()).toBeNaN();
    s.world.runFor(70_000);
    expect(s.times.length).toBe(2);
    // The second poll, ARP resolved: both ways 2 ms, the offset exact.
    const t = s.times[1];
    expect(t.unixMs).toBeCloseTo(SNTP_SIM_UNIX_MS + t.at, 3);
    expect(t.offsetMs).toBeCloseTo(SNTP_SIM_UNIX_MS, 3);
    expect(t.delayMs).toBeCloseTo(4, 3);
    expect(t.server).toBe(B);
    expect(s.sntp.synced).toBe(true);
    expect(s.sntp.now()).toBeCloseTo(s.server.unixNow(), 3);
    expect(s.sntp.stats).toMatchObject({ requests: 2, replies: 2, timeouts: 0 });
    expect(s.server.minGapMs).toBeGreaterThanOrEqual(64_000);
    finish(s);
  });

  it("asks from a new random source port each time, with a random transmit timestamp", () => {
    const s = setup(3);
    const ports: number[] = [];
    const fracs: number[] = [];
    const udp = s.a.net.udp;
    s.sntp.start();
    for (let k = 0; k < 4; k++) {
      s.world.runFor(64_001);
      ports.push(s.server.lastFromPort);
      fracs.push(s.server.lastTxFrac);
    }
    expect(s.server.requests).toBe(4);
    expect(new Set(ports).size).toBe(4);
    expect(new Set(fracs).size).toBe(4);
    for (const p of ports) expect(p).toBeGreaterThanOrEqual(49152);
    // Between queries no socket stays bound.
    s.world.runFor(100);
    let bound = 0;
    for (let i = 0; i < udp.size; i++) bound += udp.inUse[i];
    expect(bound).toBe(0);
    finish(s);
  });

  it("follows the server across the 2036 wrap (era 1)", () => {
    const s = setup(4);
    const after2036 = 2_085_978_501_000; // 2036-02-07T06:28:21Z
    s.server.setTime(after2036);
    s.sntp.start();
    s.world.runFor(70_000);
    expect(s.times.length).toBe(2);
    expect(s.sntp.now()).toBeCloseTo(s.server.unixNow(), 3);
    finish(s);
  });

  it("counts and ignores replies that are not a time: wrong origin, unsynchronized, bad mode or version, short, long, impossible times", () => {
    const cases: [string, (srv: SimNtpServer) => void, string][] = [
      ["wrong-origin", (srv) => (srv.mode = "wrong-origin"), "notOurs"],
      ["unsynced (LI 3)", (srv) => (srv.mode = "unsynced"), "unsynced"],
      ["stratum 16", (srv) => ((srv.mode = "raw"), (srv.raw = goodReply(SNTP_SIM_UNIX_MS)), (srv.raw[1] = 16)), "unsynced"],
      ["zero transmit", (srv) => ((srv.mode = "raw"), (srv.raw = goodReply(SNTP_SIM_UNIX_MS)), srv.raw.fill(0, 40, 48)), "unsynced"],
      ["broadcast mode 5", (srv) => ((srv.mode = "raw"), (srv.raw = goodReply(SNTP_SIM_UNIX_MS)), (srv.raw[0] = 0x25)), "badMode"],
      ["version 2", (srv) => ((srv.mode = "raw"), (srv.raw = goodReply(SNTP_SIM_UNIX_MS)), (srv.raw[0] = 0x14)), "badMode"],
      ["40 bytes", (srv) => ((srv.mode = "raw"), (srv.raw = goodReply(SNTP_SIM_UNIX_MS, 40))), "badLength"],
      ["600 bytes", (srv) => ((srv.mode = "raw"), (srv.raw = goodReply(SNTP_SIM_UNIX_MS, 600))), "badLength"],
      ["transmit before receive", (srv) => {
        srv.mode = "raw";
        srv.raw = goodReply(SNTP_SIM_UNIX_MS);
        writeNtpTime(srv.raw, 40, SNTP_SIM_UNIX_MS - 5000);
      }, "badTimes"],
    ];
    for (const [what, arrange, counter] of cases) {
      const s = setup(5);
      arrange(s.server);
      s.sntp.start();
      s.world.runFor(1500);
      expect(s.times, what).toEqual([]);
      expect((s.sntp.stats as unknown as Record<string, number>)[counter], what).toBe(1);
      expect(s.sntp.stats.timeouts, `${what}: the client waits for the real reply`).toBe(1);
      expect(s.errors, what).toEqual(["timeout"]);
      finish(s);
    }
  });

  it("accepts a reply with extension fields (68 bytes, a MAC's length)", () => {
    const s = setup(5);
    s.server.mode = "raw";
    s.server.raw = goodReply(SNTP_SIM_UNIX_MS, 68);
    s.sntp.start();
    s.world.runFor(100);
    expect(s.times.length).toBe(1);
    finish(s);
  });

  it("counts a reply from another address or port (wrongSource) and takes the server's", () => {
    const s = setup(6);
    const { world, a } = s;
    const c = world.addHost("c");
    world.attach(c, world.lans[0], "10.0.0.3/24");
    // c finds the client's port (a spoofer that guessed it) and sends a good-looking reply first.
    s.server.mode = "silent";
    s.sntp.start();
    world.runFor(50);
    const udp = a.net.udp;
    let port = 0;
    for (let i = 0; i < udp.size; i++) if (udp.inUse[i] !== 0) port = udp.localPort[i];
    const spoof = new SimNtpServer(c.net, SNTP_SIM_UNIX_MS + 1e9);
    const other = c.net.udp.bind(0, 4123, { onDatagrams() {}, onIcmpError() {} }, false);
    const bytes = goodReply(SNTP_SIM_UNIX_MS + 1e9);
    c.net.udp.sendto(other, bytes, 0, NTP_LEN, parseIpv4("10.0.0.1"), port, 64); // from c:4123
    world.runFor(50);
    expect(s.sntp.stats.wrongSource).toBe(1);
    // From the server's address but another port: the server's host sends it.
    const bOther = s.b.net.udp.bind(0, 4124, { onDatagrams() {}, onIcmpError() {} }, false);
    s.b.net.udp.sendto(bOther, bytes, 0, NTP_LEN, parseIpv4("10.0.0.1"), port, 64);
    world.runFor(50);
    expect(s.sntp.stats.wrongSource).toBe(2);
    expect(s.times).toEqual([]);
    c.net.udp.unbind(other);
    s.b.net.udp.unbind(bOther);
    expect(NTP_PORT).toBe(123);
    finish(s, spoof);
  });

  it("backs off after a RATE kiss (the poll interval doubles) and drops a server that says DENY or RSTR", () => {
    const s = setup(7, { pollIntervalMs: 20_000 });
    s.server.mode = "kod-rate";
    s.sntp.start();
    s.world.runFor(100);
    expect(s.sntp.stats.kissRate).toBe(1);
    expect(s.sntp.pollIntervalMs).toBe(40_000);
    s.world.runFor(39_800);
    expect(s.server.requests).toBe(1);
    s.server.mode = "ok";
    s.world.runFor(200);
    expect(s.server.requests).toBe(2);
    expect(s.times.length).toBe(1);
    s.server.mode = "raw";
    s.server.raw = goodReply(0);
    s.server.raw.set([0x24 | 0xc0, 0, 0, 0], 0);
    s.server.raw.set([0x52, 0x53, 0x54, 0x52], 12); // RSTR
    s.world.runFor(40_000);
    expect(s.sntp.stats.kissDeny).toBe(1);
    expect(s.errors).toEqual(["no server"]);
    s.world.runFor(500_000);
    expect(s.server.requests).toBe(3);
    // The DHCP client gives a new list: the denied server stays denied, the new one is asked.
    s.sntp.setServers([B, C]);
    s.world.runFor(100);
    expect(s.server.requests).toBe(3);
    expect(s.sntp.stats.requests).toBe(4);
    finish(s);
  });

  it("never asks one server twice within 15 s, and backs off 15, 30, 60 s ... up to the poll interval when no one answers", () => {
    const s = setup(8, { pollIntervalMs: 100_000 });
    s.server.mode = "silent";
    const asked: number[] = [];
    s.sntp.start();
    for (let t = 0; t < 600_000; t += 100) {
      const before = s.server.requests;
      s.world.runFor(100);
      if (s.server.requests !== before) asked.push(s.world.now);
    }
    const gaps = asked.slice(1).map((t, i) => Math.round((t - asked[i]) / 1000));
    expect(gaps.slice(0, 4)).toEqual([16, 31, 61, 101]);
    for (const g of gaps) expect(g * 1000).toBeGreaterThanOrEqual(SNTP_MIN_POLL_MS);
    expect(s.errors.every((e) => e === "timeout")).toBe(true);
    expect(s.sntp.stats.timeouts).toBe(asked.length);
    finish(s);
  });

  it("fails over to the next server after a timeout", () => {
    const s = setup(9);
    const c = s.world.addHost("c");
    s.world.attach(c, s.world.lans[0], "10.0.0.3/24");
    const sc = new SimNtpServer(c.net, SNTP_SIM_UNIX_MS);
    s.server.mode = "silent";
    s.sntp.setServers([B, C]);
    s.sntp.start();
    s.world.runFor(1200);
    expect(s.times.map((t) => t.server)).toEqual([C]);
    expect(s.sntp.stats.timeouts).toBe(1);
    expect(s.errors).toEqual([]);
    finish(s, sc);
  });

  it("waits for servers (setServers from the DHCP client) and starts asking when given some", () => {
    const s = setup(10, { servers: [] });
    s.sntp.start();
    expect(s.errors).toEqual(["no server"]);
    s.world.runFor(5000);
    expect(s.server.requests).toBe(0);
    s.sntp.setServers([B]);
    s.world.runFor(100);
    expect(s.times.length).toBe(1);
    // More servers than kept: the first SNTP_SERVERS_MAX.
    s.sntp.setServers([B, C, 1, 2, 3, 4]);
    expect(SNTP_SERVERS_MAX).toBe(4);
    finish(s);
  });

  it("stop() and close() unbind the socket and cancel the timer; the time stays", () => {
    const s = setup(11);
    s.server.mode = "silent";
    s.sntp.start();
    s.world.runFor(10);
    const pending = s.a.net.timers.pendingCount;
    s.sntp.stop();
    expect(s.a.net.timers.pendingCount).toBe(pending - 1);
    let bound = 0;
    for (let i = 0; i < s.a.net.udp.size; i++) bound += s.a.net.udp.inUse[i];
    expect(bound).toBe(0);
    s.server.mode = "ok";
    s.sntp.start();
    s.world.runFor(20_000); // the 15 s floor since the first request
    expect(s.times.length).toBe(1);
    s.sntp.close();
    expect(() => s.sntp.start()).toThrow(/closed/);
    const t = s.sntp.now();
    s.world.runFor(1000);
    expect(s.sntp.now() - t).toBe(1000);
    finish(s);
  });

  it("refuses bad options and servers with a clear error", () => {
    const { a } = new SimWorld(12).twoHosts();
    const onTime = (): void => {};
    expect(() => new SntpClient(a.net, {} as SntpOptions)).toThrow(TypeError);
    expect(() => new SntpClient(a.net, { onTime, pollIntervalMs: 14_999 })).toThrow(/RFC 4330 10/);
    expect(() => new SntpClient(a.net, { onTime, timeoutMs: 0 })).toThrow(RangeError);
    expect(() => new SntpClient(a.net, { onTime, servers: [-1] })).toThrow(TypeError);
    expect(() => new SntpClient(a.net, { onTime, servers: [2 ** 32] })).toThrow(/uint32/);
    expect(() => new SntpClient(a.net, { onTime, servers: "10.0.0.2" as unknown as number[] })).toThrow(TypeError);
  });

  it("names config.timersMax when no timer is left", () => {
    const { a } = new SimWorld(13).twoHosts({ config: { timersMax: 48, tcpSocketsMax: 8, neighEntriesMax: 4, reasmSlots: 4 } });
    const onTime = (): void => {};
    expect(() => {
      for (let k = 0; k < 100; k++) new SntpClient(a.net, { onTime });
    }).toThrow(/config\.timersMax/);
  });

  it("any reply bytes give a counted drop or a time, never an exception (fast-check)", () => {
    const s = setup(14);
    s.sntp.start();
    s.world.runFor(100);
    const st = s.sntp.stats;
    const counted = (): number =>
      st.replies + st.wrongSource + st.badLength + st.badMode + st.notOurs + st.unsynced + st.badTimes + st.kissRate + st.kissDeny + st.kissOther;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), fc.boolean(), (bytes, copyOrigin) => {
        s.sntp.setServers([B]); // a DENY would leave no server
        s.server.mode = "raw";
        s.server.raw = bytes;
        s.server.rawCopiesOrigin = copyOrigin;
        const before = counted();
        const asked = s.server.requests;
        s.world.runFor(SNTP_MIN_POLL_MS * 10);
        expect(counted() - before).toBe(s.server.requests - asked);
        expect(Number.isNaN(s.sntp.offsetMs)).toBe(false);
      }),
      { numRuns: 150, seed: 0x5e7 },
    );
    finish(s);
  });

  it("the scenarios: success to the ms, KoD, timeout and fail-over, each with the pools full", () => {
    const ok = sntpSuccess(1);
    expect(ok.poolsFull).toBe(true);
    expect(ok.extra).toMatchObject({ times: 4, laterErrorUsMax: 0, nowErrorUs: 0, delayMs: 6 });
    expect(ok.extra.serverMinGapMs).toBeGreaterThanOrEqual(64_000);
    const kod = sntpKod(1);
    expect(kod.poolsFull).toBe(true);
    expect(kod.extra).toMatchObject({ pollAfterRate: 60_000, kissRate: 1, kissDeny: 1, serverAfterDeny: 1, lastServer: 1, lastErrorUs: 0 });
    expect(kod.extra.bRequestsAtEnd).toBe(kod.extra.bRequestsAtDeny);
    expect(kod.extra.bMinGapMs).toBeGreaterThanOrEqual(60_000);
    const fo = sntpFailover(1);
    expect(fo.poolsFull).toBe(true);
    expect(fo.extra).toMatchObject({ notOurs: 2, unsynced: 1, times: 1, lastServer: 1, lastErrorUs: 0 });
    expect(fo.extra.onErrorTimeouts).toBeGreaterThanOrEqual(3);
    expect(Math.min(fo.extra.bMinGapMs, fo.extra.cMinGapMs)).toBeGreaterThanOrEqual(SNTP_MIN_POLL_MS);
  });
});
