// The DHCP client (src/lan/dhcp-client.ts) against the simulated server (host-sim/sim/
// dhcp-server.ts) in virtual time: every state of RFC 2131 4.4, RFC 5227's check, what a
// lease applies to the interface, and hostile replies.

import { describe, expect, it } from "vitest";
import {
  DHCP_BOUND, DHCP_DECLINED, DHCP_INIT, DHCP_REBINDING, DHCP_RENEWING, DHCP_SELECTING, DhcpClient, type DhcpLease,
} from "../../src/lan/dhcp-client";
import { SimDhcpServer } from "../../host-sim/sim/dhcp-server";
import { dhcpLan } from "../../host-sim/sim/scenarios/dhcp";
import { formatIpv4, parseIpv4 } from "../../src/wire/ipv4";
import { DHCP_CLIENT_PORT, DHCP_MAGIC } from "../../src/wire/dhcp";
import type { SimWorld } from "../../host-sim/sim/world";
import type { Net } from "../../src/core/net";
import { Pinger } from "../../src/apps/ping";
import { ETH_P_ARP } from "../../src/wire/ethernet";
import { addTap, netifCarrierOff, netifCarrierOn } from "../../src/core/link";
import { routeAdd } from "../../src/ipv4/devinet";
import { DHCP_PROBING } from "../../src/lan/dhcp-client";

function poolsFull(world: SimWorld): boolean {
  world.shutdown();
  return world.hosts.every((h) => h.net.pool.inUse === 0 && h.net.pool.recordsInUse === 0);
}

/** Frames the client host sends, as "ARP probe"/"ARP announce"/"DHCP n"... in order. */
function watch(net: Net): string[] {
  const seen: string[] = [];
  addTap(net, (_n, skb, outgoing) => {
    if (!outgoing) return;
    const b = net.pool.buf;
    const eth = skb.data;
    const type = (b[eth + 12] << 8) | b[eth + 13];
    if (type === ETH_P_ARP) {
      const sip = (b[eth + 28] << 24) | (b[eth + 29] << 16) | (b[eth + 30] << 8) | b[eth + 31];
      seen.push(sip === 0 ? "arp-probe" : "arp-announce");
    } else if (b[eth + 23] === 17 && ((b[eth + 34] << 8) | b[eth + 35]) === DHCP_CLIENT_PORT) {
      const addr = (at: number): string => formatIpv4(((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0);
      seen.push(`dhcp ${addr(eth + 26)}>${addr(eth + 30)}`);
    }
  });
  return seen;
}

describe("DHCP client: a lease (RFC 2131 4.4.1)", () => {
  it("DISCOVER after 1..10 s, OFFER, REQUEST, ACK, three ARP probes, then BOUND with everything applied", () => {
    const leases: DhcpLease[] = [];
    const dnsServers: number[][] = [];
    const ntpServers: number[][] = [];
    const { world, dev, server, client, clientHost } = dhcpLan(11, { mtu: 1400 }, {
      onLease: (l) => leases.push(l),
      dns: { setServers: (s) => dnsServers.push([...s]) },
      ntp: { setServers: (s) => ntpServers.push([...s]) },
    });
    const frames = watch(clientHost.net);
    client.start();
    expect(client.state).toBe(DHCP_INIT);
    world.runFor(999);
    expect(server.counts.discover).toBe(0);
    world.runFor(9_002);
    expect(server.counts.discover).toBe(1);
    expect(client.state).not.toBe(DHCP_BOUND); // still probing the address
    world.runFor(10_000);
    expect(client.state).toBe(DHCP_BOUND);
    expect(server.log.map((l) => l.split(" ")[1])).toEqual(["DISCOVER", "REQUEST"]);
    // The client speaks from 0.0.0.0 to broadcast, probes three times, then announces.
    expect(frames).toEqual(["dhcp 0.0.0.0>255.255.255.255", "dhcp 0.0.0.0>255.255.255.255", "arp-probe", "arp-probe", "arp-probe", "arp-announce", "arp-announce"]);
    expect(formatIpv4(dev.inDev.addr)).toBe("10.0.0.100");
    expect(dev.inDev.prefixLen).toBe(24);
    expect(formatIpv4(dev.inDev.broadcast)).toBe("10.0.0.255");
    expect(dev.mtu).toBe(1400);
    expect(clientHost.net.ipv4.routes.dump()).toContain("default via 10.0.0.1 dev eth0 metric 0");
    expect(leases).toHaveLength(1);
    const { bytes, ...lease } = leases[0];
    expect(lease).toEqual({ address: "10.0.0.100", prefixLength: 24, router: "10.0.0.1", dns: ["10.0.0.53", "10.0.0.54"], ntp: ["10.0.0.123"], leaseSeconds: 3600, server: "10.0.0.1" });
    expect(bytes).toHaveLength(12);
    expect(dnsServers).toEqual([[parseIpv4("10.0.0.53"), parseIpv4("10.0.0.54")]]);
    expect(ntpServers).toEqual([[parseIpv4("10.0.0.123")]]);
    // The server's lease table names the client by the hostname it sent (option 12).
    expect([...server.leases.values()].map((l) => [formatIpv4(l.address), l.hostname])).toEqual([["10.0.0.100", "xsnet"]]);
    // And the address works: the server answers pings.
    const ping = new Pinger(clientHost.net, 7);
    ping.send("10.0.0.1", 32);
    world.runFor(50);
    expect(ping.received).toBe(1);
    ping.close();
    client.close();
    expect(poolsFull(world)).toBe(true);
  });

  it("retransmits an unanswered DISCOVER with the randomised doubling backoff (4, 8, 16, 32, 64, 64 s, +-1 s)", () => {
    const { world, server, client } = dhcpLan(12);
    server.mode = "silent";
    client.start();
    world.runFor(300_000);
    const times = server.log.map((l) => Number(l.split(" ")[0]));
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    expect(gaps.length).toBeGreaterThanOrEqual(5);
    const nominal = [4_000, 8_000, 16_000, 32_000, 64_000, 64_000, 64_000];
    gaps.forEach((g, i) => expect(Math.abs(g - nominal[i]), `gap ${i}: ${g}`).toBeLessThanOrEqual(1_001));
    expect(client.state).toBe(DHCP_SELECTING);
    expect(poolsFull(world)).toBe(true);
  });

  it("takes the first OFFER of two servers and ignores the second; the second server sees it was not chosen", () => {
    const { world, lan, client, server } = dhcpLan(13, { delayMs: 0 }, { startDelayMaxMs: 1000 });
    const second = world.addHost("server2");
    world.attach(second, lan, "10.0.0.2/24");
    const slow = new SimDhcpServer(second.net, { first: "10.0.0.200", count: 5, prefixLength: 24, leaseSecs: 600, delayMs: 300 });
    client.start();
    world.runFor(15_000);
    expect(client.state).toBe(DHCP_BOUND);
    expect(formatIpv4(client.address)).toBe("10.0.0.100");
    expect(client.stats.offers).toBe(2);
    expect(client.stats.ignored).toBe(1);
    expect(slow.counts.offer).toBe(1);
    expect(slow.counts.ignored).toBe(1); // the REQUEST named the other server
    expect(slow.leases.size).toBe(0);
    expect(server.leases.size).toBe(1);
    slow.close();
    expect(poolsFull(world)).toBe(true);
  });
});

describe("DHCP client: keeping a lease (RFC 2131 4.4.5)", () => {
  it("renews at T1 by unicast to the server, and the lease times restart", () => {
    const { world, server, client } = dhcpLan(21, { leaseSecs: 100 }, { startDelayMaxMs: 1000 });
    client.start();
    world.runFor(10_000);
    expect(client.state).toBe(DHCP_BOUND);
    const boundAt = client.expiresAt - 100_000;
    world.runFor(boundAt + 50_000 - world.now - 1);
    expect(client.state).toBe(DHCP_BOUND);
    world.runFor(10);
    expect(server.log.at(-1)).toMatch(/REQUEST ciaddr=10\.0\.0\.100$/);
    expect(client.state).toBe(DHCP_BOUND);
    expect(client.stats.renewals).toBe(1);
    expect(client.expiresAt).toBeGreaterThan(boundAt + 149_000);
    expect(poolsFull(world)).toBe(true);
  });

  it("rebinds by broadcast at T2 when the server does not answer the renewal, and keeps the address", () => {
    const { world, server, client, dev } = dhcpLan(22, { leaseSecs: 2000 }, { startDelayMaxMs: 1000 });
    client.start();
    world.runFor(10_000);
    server.mode = "silent";
    const t0 = client.expiresAt - 2_000_000;
    world.runFor(t0 + 1_000_001 - world.now);
    expect(client.state).toBe(DHCP_RENEWING);
    // RENEWING: to the server, again after half the time left to T2 (375 s, then 187.5 s...).
    world.runFor(t0 + 1_750_001 - world.now);
    expect(client.state).toBe(DHCP_REBINDING);
    expect(server.log.slice(2).map((l) => l.replace(/^\d+ /, ""))).toEqual(Array(5).fill("REQUEST ciaddr=10.0.0.100"));
    // REBINDING: to everyone; the next one after half the 250 s left, which the server answers.
    server.mode = "normal";
    world.runFor(130_000);
    expect(client.state).toBe(DHCP_BOUND);
    expect(client.stats.renewals).toBe(1);
    expect(formatIpv4(dev.inDev.addr)).toBe("10.0.0.100");
    expect(poolsFull(world)).toBe(true);
  });

  it("the lease runs out with the server gone: address and routes go, onLost('expired'), and it starts over", () => {
    const lost: string[] = [];
    const { world, server, client, dev, clientHost } = dhcpLan(23, { leaseSecs: 120 }, { startDelayMaxMs: 1000, onLost: (r) => lost.push(r) });
    client.start();
    world.runFor(10_000);
    expect(dev.inDev.configured).toBe(true);
    server.mode = "silent";
    world.runFor(client.expiresAt - world.now + 1);
    expect(lost).toEqual(["expired"]);
    expect(dev.inDev.configured).toBe(false);
    expect(clientHost.net.ipv4.routes.dump().filter((r) => !r.includes(" lo "))).toEqual([]);
    expect(client.state === DHCP_INIT || client.state === DHCP_SELECTING).toBe(true);
    // The server comes back: a new lease.
    server.mode = "normal";
    world.runFor(80_000);
    expect(client.state).toBe(DHCP_BOUND);
    expect(client.stats.leases).toBe(2);
    expect(poolsFull(world)).toBe(true);
  });

  it("a NAK while renewing takes the address away and starts over (RFC 2131 3.1.5)", () => {
    const lost: string[] = [];
    const { world, server, client, dev } = dhcpLan(24, { leaseSecs: 100 }, { startDelayMaxMs: 1000, onLost: (r) => lost.push(r) });
    client.start();
    world.runFor(10_000);
    server.mode = "nak";
    world.runFor(client.t1At - world.now + 10);
    expect(lost).toEqual(["nak"]);
    expect(dev.inDev.configured).toBe(false);
    server.mode = "normal";
    world.runFor(20_000);
    expect(client.state).toBe(DHCP_BOUND);
    expect(poolsFull(world)).toBe(true);
  });

  it("NAKs in a row back off: a server that refuses every REQUEST is not asked in a tight loop", () => {
    const { world, server, client } = dhcpLan(26, {}, { startDelayMaxMs: 1000 });
    server.mode = "nak";
    client.start();
    world.runFor(120_000);
    // DISCOVER, REQUEST, NAK: at once the first time, then after about 1, 2, 4, 8, 16, 32, 64 s.
    expect(server.counts.nak).toBeGreaterThanOrEqual(6);
    expect(server.counts.nak).toBeLessThanOrEqual(8);
    expect(client.state).not.toBe(DHCP_BOUND);
    server.mode = "normal";
    world.runFor(70_000);
    expect(client.state).toBe(DHCP_BOUND);
    expect(poolsFull(world)).toBe(true);
  });

  it("options 58 and 59 set T1 and T2; classless routes (RFC 3442) stand in for the router", () => {
    const { world, client, clientHost } = dhcpLan(25, { leaseSecs: 1000, renewSecs: 100, rebindSecs: 300, routes: [["0.0.0.0/0", "10.0.0.1"], ["192.168.7.0/24", "10.0.0.9"]] }, { startDelayMaxMs: 1000 });
    client.start();
    world.runFor(10_000);
    const t0 = client.expiresAt - 1_000_000;
    expect(client.t1At - t0).toBe(100_000);
    expect(client.t2At - t0).toBe(300_000);
    expect(clientHost.net.ipv4.routes.dump().filter((r) => !r.includes(" lo ")).sort()).toEqual(["10.0.0.0/24 dev eth0 metric 0", "192.168.7.0/24 via 10.0.0.9 dev eth0 metric 0", "default via 10.0.0.1 dev eth0 metric 0"]);
    client.stop(true);
    expect(clientHost.net.ipv4.routes.dump().filter((r) => !r.includes(" lo "))).toEqual([]);
    expect(poolsFull(world)).toBe(true);
  });
});

describe("DHCP client: the address check (RFC 5227) and INIT-REBOOT", () => {
  it("declines an address another host answers for, waits 10 s, and takes the next one", () => {
    const states: [number, number][] = [];
    const { world, lan, server, client } = dhcpLan(31, {}, { startDelayMaxMs: 1000, onState: (st) => states.push([world.now, st]) });
    const squatter = world.addHost("squatter");
    world.attach(squatter, lan, "10.0.0.100/24");
    client.start();
    world.runFor(30_000);
    expect(client.state).toBe(DHCP_BOUND);
    expect(formatIpv4(client.address)).toBe("10.0.0.101");
    expect(client.stats.conflicts).toBe(1);
    expect(server.counts.decline).toBe(1);
    expect([...server.declined].map(formatIpv4)).toEqual(["10.0.0.100"]);
    const declinedAt = (states.find(([, st]) => st === DHCP_DECLINED) as [number, number])[0];
    const initAgain = (states.find(([t, st]) => st === DHCP_INIT && t > declinedAt) as [number, number])[0];
    expect(initAgain - declinedAt).toBeGreaterThanOrEqual(10_000); // RFC 2131 3.1.5
    expect(poolsFull(world)).toBe(true);
  });

  it("a remembered lease is asked for again (INIT-REBOOT: no server id, the address as option 50)", () => {
    const first = dhcpLan(32, {}, { startDelayMaxMs: 1000 });
    first.client.start();
    first.world.runFor(10_000);
    const bytes = first.client.leaseBytes() as Uint8Array;
    first.client.close();
    // A reboot: the interface lost its address, the client starts from what the app kept.
    first.world.hosts[1].net.ipv4.routes.delConnected(first.dev);
    first.dev.inDev.configured = false;
    first.dev.inDev.addr = 0;
    const again = new DhcpClient(first.clientHost.net, first.dev, { lease: bytes, arpCheck: false });
    again.start();
    first.world.runFor(100);
    expect(first.server.log.at(-1)).toMatch(/ REQUEST$/);
    expect(again.state).toBe(DHCP_BOUND);
    expect(formatIpv4(first.dev.inDev.addr)).toBe("10.0.0.100");
    expect(first.server.counts.discover).toBe(1);
    again.close();
    expect(poolsFull(first.world)).toBe(true);
  });

  it("INIT-REBOOT for an address the server does not give: NAK, then DISCOVER", () => {
    const { world, server, client, clientHost, dev } = dhcpLan(33, {}, { startDelayMaxMs: 1000 });
    client.start();
    world.runFor(10_000);
    const bytes = client.leaseBytes() as Uint8Array;
    bytes[7] = 150; // 10.0.0.150: not this client's
    client.close(true);
    world.runFor(10);
    server.leases.set("02:00:5e:00:00:02", { mac: "02:00:5e:00:00:02", address: parseIpv4("10.0.0.100"), hostname: "", expiresAt: 1e12 });
    const again = new DhcpClient(clientHost.net, dev, { lease: bytes, startDelayMaxMs: 1000 });
    again.start();
    world.runFor(30_000);
    expect(server.counts.nak).toBe(1);
    expect(again.state).toBe(DHCP_BOUND);
    expect(formatIpv4(again.address)).toBe("10.0.0.100");
    again.close();
    expect(poolsFull(world)).toBe(true);
  });

  it("rejects a remembered lease that is not one, and options that are wrong, naming them", () => {
    const { world, client, clientHost, dev } = dhcpLan(34);
    client.close();
    expect(() => new DhcpClient(clientHost.net, dev, { lease: new Uint8Array(5) })).toThrow(/lease must be/);
    expect(() => new DhcpClient(clientHost.net, dev, { hostname: "-bad" })).toThrow(TypeError);
    expect(() => new DhcpClient(clientHost.net, dev, { hostname: "a".repeat(64) })).toThrow(/hostname/);
    expect(() => new DhcpClient(clientHost.net, dev, { startDelayMaxMs: -1 })).toThrow(RangeError);
    expect(poolsFull(world)).toBe(true);
  });
});

describe("DHCP client: hostile and foreign replies are counted and dropped", () => {
  /** A reply as the server would send for the client's current transaction, then broken by `edit`. */
  function reply(xid: number, mac: Uint8Array, edit: (m: Uint8Array) => number): Uint8Array {
    const m = new Uint8Array(400);
    m[0] = 2; m[1] = 1; m[2] = 6;
    m[4] = xid >>> 24; m[5] = (xid >>> 16) & 0xff; m[6] = (xid >>> 8) & 0xff; m[7] = xid & 0xff;
    m[16] = 10; m[19] = 77; // yiaddr 10.0.0.77
    m.set(mac, 28);
    m[236] = DHCP_MAGIC >>> 24; m[237] = (DHCP_MAGIC >>> 16) & 0xff; m[238] = (DHCP_MAGIC >>> 8) & 0xff; m[239] = DHCP_MAGIC & 0xff;
    m.set([53, 1, 2, 54, 4, 10, 0, 0, 1, 255], 240);
    return m.subarray(0, edit(m));
  }

  it("bad magic, an option past the end, no end option, a bad overload, another xid or MAC, not from port 67", () => {
    const { world, serverHost, server, client, dev } = dhcpLan(41, {}, { startDelayMaxMs: 1000 });
    const udp = serverHost.net.udp;
    const from6767 = udp.bind(0, 6767, { onDatagrams() {}, onIcmpError() {} }, false);
    server.mode = "silent";
    client.start();
    world.runFor(2_000); // SELECTING, waiting for an offer
    const xid = client.xid;
    const cases: [string, (m: Uint8Array) => number][] = [
      ["magic", (m) => ((m[236] = 0), 250)],
      ["overrun", (m) => (m.set([53, 1, 2, 12, 40, 65], 240), 246)],
      ["no end", (m) => (m.set([53, 1, 2, 54, 4, 10, 0, 0, 1, 0], 240), 250)],
      ["overload", (m) => (m.set([53, 1, 2, 52, 1, 9, 255], 240), 260)],
      ["short", () => 200],
    ];
    for (const [, edit] of cases) server.sendRaw(reply(xid, dev.addr, edit));
    world.runFor(10);
    expect(client.stats.malformed).toBe(cases.length);
    const foreign = [reply(xid ^ 1, dev.addr, () => 250), reply(xid, new Uint8Array([2, 0, 0, 0, 0, 1]), () => 250)];
    for (const bytes of foreign) server.sendRaw(bytes);
    const good = reply(xid, dev.addr, () => 250);
    udp.sendto(from6767, good, 0, good.length, 0xffffffff, DHCP_CLIENT_PORT, 64);
    world.runFor(10);
    expect(client.stats.foreign).toBe(2);
    expect(client.stats.dropped).toBe(1); // not from port 67
    expect(client.stats.offers).toBe(0);
    expect(client.state).toBe(DHCP_SELECTING);
    udp.unbind(from6767);
    server.mode = "normal";
    world.runFor(20_000);
    expect(client.state).toBe(DHCP_BOUND); // the real server's offer still works
    expect(poolsFull(world)).toBe(true);
  });

  it("any bytes from port 67 give a counted outcome, never an exception", () => {
    const { world, server, client, dev } = dhcpLan(42, {}, { startDelayMaxMs: 1000 });
    server.mode = "silent";
    let seed = 42;
    const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
    client.start();
    world.runFor(2_000);
    const xid = client.xid;
    for (let i = 0; i < 300; i++) {
      const len = 240 + (rand() % 300);
      const bytes = reply(xid, dev.addr, (m) => {
        for (let k = 240; k < len; k++) m[k] = i % 3 === 0 ? rand() : rand() % 8 === 0 ? 255 : rand() % 60;
        return len;
      });
      server.sendRaw(bytes);
      world.runFor(1);
    }
    const s = client.stats;
    expect(s.malformed + s.foreign + s.offers + s.ignored + s.unusable + s.acks + s.naks).toBeGreaterThanOrEqual(300);
    expect(poolsFull(world)).toBe(true);
  });
});

describe("DHCP client: what a review found (each test failed before its fix)", () => {
  /** A reply with `xid` for `mac`, offering 10.0.0.77 from 10.0.0.9, with a router option. */
  function otherReply(xid: number, mac: Uint8Array): Uint8Array {
    const m = new Uint8Array(300);
    m[0] = 2; m[1] = 1; m[2] = 6;
    m[4] = xid >>> 24; m[5] = (xid >>> 16) & 0xff; m[6] = (xid >>> 8) & 0xff; m[7] = xid & 0xff;
    m[16] = 10; m[19] = 77;
    m.set(mac, 28);
    m.set([0x63, 0x82, 0x53, 0x63], 236);
    m.set([53, 1, 5, 54, 4, 10, 0, 0, 9, 51, 4, 0, 0, 1, 0, 3, 4, 10, 0, 0, 99, 255], 240);
    return m;
  }

  it("another client's ACK while the address is probed does not change what the lease applies", () => {
    const dns: number[][] = [];
    const { world, server, client, clientHost } = dhcpLan(51, {}, { startDelayMaxMs: 1000, dns: { setServers: (s) => dns.push([...s]) } });
    client.start();
    while (client.state !== DHCP_PROBING) world.runFor(1);
    server.sendRaw(otherReply(client.xid ^ 1, new Uint8Array([2, 0, 0, 0, 0, 9])));
    world.runFor(10_000);
    expect(client.state).toBe(DHCP_BOUND);
    expect(clientHost.net.ipv4.routes.dump()).toContain("default via 10.0.0.1 dev eth0 metric 0");
    expect(dns).toEqual([[parseIpv4("10.0.0.53"), parseIpv4("10.0.0.54")]]);
    expect(poolsFull(world)).toBe(true);
  });

  it("a link back while bound keeps the address during the check; a NAK then takes it away and tells the app", () => {
    const lost: string[] = [];
    const { world, server, client, dev } = dhcpLan(52, { mtu: 1400 }, { startDelayMaxMs: 1000, onLost: (r) => lost.push(r) });
    client.start();
    world.runFor(10_000);
    netifCarrierOff(dev);
    server.mode = "nak";
    netifCarrierOn(dev);
    expect(dev.inDev.configured).toBe(true); // in use while it is checked (RFC 2131 3.2)
    world.runFor(100);
    expect(lost).toEqual(["nak"]);
    expect(dev.inDev.configured).toBe(false);
    expect(dev.mtu).toBe(1500);
    expect(poolsFull(world)).toBe(true);
  });

  it("a link back with the server silent keeps the lease in use", () => {
    const { world, server, client, dev } = dhcpLan(53, {}, { startDelayMaxMs: 1000 });
    client.start();
    world.runFor(10_000);
    netifCarrierOff(dev);
    server.mode = "silent";
    netifCarrierOn(dev);
    world.runFor(200_000);
    expect(client.state).toBe(DHCP_BOUND);
    expect(dev.inDev.configured).toBe(true);
    expect(poolsFull(world)).toBe(true);
  });

  it("stop() without release, start() again and a NAK: the refused address goes", () => {
    const { world, server, client, dev } = dhcpLan(54, {}, { startDelayMaxMs: 1000 });
    client.start();
    world.runFor(10_000);
    client.stop();
    server.mode = "nak";
    client.start();
    world.runFor(100);
    expect(dev.inDev.configured).toBe(false);
    expect(poolsFull(world)).toBe(true);
  });

  it("clients made and closed in turn give their netdev notifier back", () => {
    const { world, client, clientHost, dev } = dhcpLan(55);
    client.close();
    for (let i = 0; i < 10; i++) new DhcpClient(clientHost.net, dev, {}).close();
    expect(poolsFull(world)).toBe(true);
  });

  it("a full routing table costs the lease's routes, counted, not an exception", () => {
    const { world, client, clientHost, dev } = dhcpLan(56, { routes: [["192.168.1.0/24", "10.0.0.9"], ["192.168.2.0/24", "10.0.0.9"]] }, { startDelayMaxMs: 1000 });
    const routes = clientHost.net.ipv4.routes;
    for (let i = 0; routes.count < routes.size - 2; i++) routeAdd(clientHost.net, `172.16.${i}.0/24`, null, dev);
    client.start();
    world.runFor(10_000);
    expect(client.state).toBe(DHCP_BOUND);
    expect(client.stats.routesRefused).toBe(1);
    expect(poolsFull(world)).toBe(true);
  });

  it("option 58 of 0 is taken as absent: no renewal storm", () => {
    const { world, server, client } = dhcpLan(57, { renewSecs: 0, leaseSecs: 600 }, { startDelayMaxMs: 1000 });
    client.start();
    world.runFor(60_000);
    expect(server.counts.request).toBe(1);
    expect(client.t1At - (client.expiresAt - 600_000)).toBe(300_000);
    expect(poolsFull(world)).toBe(true);
  });

  it("an app's default route to the same place survives the lease's end", () => {
    const { world, client, clientHost, dev } = dhcpLan(58, {}, { startDelayMaxMs: 1000 });
    client.start();
    world.runFor(10_000);
    routeAdd(clientHost.net, "0.0.0.0/0", "10.0.0.254", dev, 100);
    client.stop(true);
    expect(clientHost.net.ipv4.routes.dump()).toContain("default via 10.0.0.254 dev eth0 metric 100");
    expect(clientHost.net.ipv4.routes.dump()).not.toContain("default via 10.0.0.1 dev eth0 metric 0");
    expect(poolsFull(world)).toBe(true);
  });

  it("0.0.0.0 as a lease's NTP server is not passed on (counted)", () => {
    const ntp: number[][] = [];
    const { world, client } = dhcpLan(59, { ntp: ["0.0.0.0", "10.0.0.123"] }, { startDelayMaxMs: 1000, ntp: { setServers: (s) => ntp.push([...s]) } });
    client.start();
    world.runFor(10_000);
    expect(ntp).toEqual([[parseIpv4("10.0.0.123")]]);
    expect(client.stats.serversRefused).toBe(1);
    expect(poolsFull(world)).toBe(true);
  });

  it("leaseBytes() is null until a lease is applied, and an offer never applied is not asked for again", () => {
    const { world, client } = dhcpLan(60, {}, { startDelayMaxMs: 1000 });
    client.start();
    while (client.state !== DHCP_PROBING) world.runFor(1);
    expect(client.leaseBytes()).toBeNull();
    client.stop();
    expect(client.address).toBe(0);
    expect(poolsFull(world)).toBe(true);
  });
});
