import { describe, expect, it } from "vitest";
import { Pinger } from "../../src/apps/ping";
import type { Net } from "../../src/core/net";
import type { NetConfig } from "../../src/config";
import { IFF_PROMISC, type NetDevice } from "../../src/core/netdevice";
import type { SkBuff } from "../../src/core/skb";
import { ipSend } from "../../src/ipv4/output";
import { makeWorld, seedFrom, withSeed } from "../helpers";
import { BCAST_MAC, checksum, echoRequest, ip, ipFrame, ipOf, mac, patternBytes } from "../packets";
import { RawPort } from "../testbed";
import { addTap } from "../../src/core/link";

const A_IP = ip("10.0.1.2");
const R1_IP = ip("10.0.1.1");
const B_IP = ip("10.0.2.2");

/** A - lan1 - R - lan2 - B, R forwarding (unless told not to), routes through R both ways. */
function topology(seed: number, options: { forward?: boolean; mtu2?: number } = {}) {
  return makeWorld(seed).routedHosts({ mtu2: options.mtu2, r: { config: { ipForward: options.forward ?? true } } });
}

/** IP frames a host receives (copies), through a tap. */
function rxLog(net: Net): Uint8Array[] {
  const log: Uint8Array[] = [];
  addTap(net, (_dev: NetDevice, skb: SkBuff, outgoing: boolean) => {
    if (!outgoing) log.push(net.pool.buf.slice(skb.data, skb.tail));
  });
  return log;
}

/** ICMP messages a host receives, as (type, code, source, bytes after the IP header). */
function icmpLog(net: Net): { type: number; code: number; src: number; msg: Uint8Array }[] {
  const log: { type: number; code: number; src: number; msg: Uint8Array }[] = [];
  net.ipv4.raw.register(1, (n, skb) => {
    const buf = n.pool.buf;
    const iph = skb.networkHeader;
    const src = ((buf[iph + 12] << 24) | (buf[iph + 13] << 16) | (buf[iph + 14] << 8) | buf[iph + 15]) >>> 0;
    log.push({ type: buf[skb.data], code: buf[skb.data + 1], src, msg: buf.slice(skb.data, skb.tail) });
  });
  return log;
}

const isIcmpIp = (f: Uint8Array): boolean => f.length >= 34 && f[12] === 8 && f[13] === 0 && f[23] === 1;

describe("IPv4 forwarding (RFC 1812)", () => {
  it("forwards a ping both ways, decrementing TTL with a correct checksum", () =>
    withSeed(seedFrom(21), (seed) => {
      const { world, a, r, b } = topology(seed);
      const atB = rxLog(b.net);
      const ping = new Pinger(a.net, 0x51);
      ping.send("10.0.2.2", 56);
      world.runFor(100);
      expect(ping.received).toBe(1);
      expect(ping.corrupted).toBe(0);
      expect(r.net.ipv4.stats.forwDatagrams).toBe(2);
      const req = atB.filter(isIcmpIp).map((f) => ipOf(f));
      expect(req.length).toBe(1);
      expect([req[0].src, req[0].dst, req[0].ttl, req[0].csumOk]).toEqual([A_IP, B_IP, 63, true]);
      expect(r.net.drops.total).toBe(0);
      ping.close();
    }));

  it("TTL 1: R answers time exceeded (code 0) to A and drops it as IP_TTL_EXCEEDED", () =>
    withSeed(seedFrom(22), (seed) => {
      const { world, a, r, b } = topology(seed);
      const atA = icmpLog(a.net);
      const ping = new Pinger(a.net, 0x52);
      ping.send("10.0.2.2", 56); // resolve ARP on the way first
      world.runFor(100);
      atA.length = 0;
      ping.send("10.0.2.2", 56, 1);
      world.runFor(100);
      expect(ping.received).toBe(1);
      expect(atA.map((m) => [m.type, m.code, m.src])).toEqual([[11, 0, R1_IP]]);
      // The quote starts with the offending header as it arrived: TTL 1, to B.
      const quoted = ipOf(atA[0].msg, 8);
      expect([quoted.ttl, quoted.src, quoted.dst, quoted.proto]).toEqual([1, A_IP, B_IP, 1]);
      expect(checksum(atA[0].msg)).toBe(0);
      expect(r.net.drops.snapshot()).toEqual({ IP_TTL_EXCEEDED: 1 });
      expect(r.net.ipv4.icmp.stats.outTimeExcds).toBe(1);
      expect(b.net.ipv4.icmp.stats.inEchos).toBe(1);
      ping.close();
    }));

  it("DF and too big for the next link: R answers fragmentation needed carrying the MTU", () =>
    withSeed(seedFrom(23), (seed) => {
      const { world, a, r, b } = topology(seed, { mtu2: 576 });
      const atA = icmpLog(a.net);
      const sendDf = (): void => {
        const msg = echoRequest(0x53, 1, patternBytes(1000, 5));
        const skb = a.net.pool.alloc() as SkBuff;
        a.net.pool.buf.set(msg, skb.put(msg.length));
        expect(ipSend(a.net, skb, 0, B_IP, 1, 0, 64, true)).toBe(0);
      };
      sendDf();
      world.runFor(100);
      expect(atA.map((m) => [m.type, m.code, m.src])).toEqual([[3, 4, R1_IP]]);
      const msg = atA[0].msg;
      expect((msg[6] << 8) | msg[7]).toBe(576); // RFC 1191 next-hop MTU
      expect([msg[4], msg[5]]).toEqual([0, 0]);
      const quoted = ipOf(msg, 8);
      expect([quoted.totLen, quoted.df, quoted.dst]).toEqual([1028, true, B_IP]);
      expect(r.net.drops.snapshot()).toEqual({ IP_FRAG_NEEDED: 1 });
      expect(r.net.ipv4.stats.fragFails).toBe(1);
      expect(r.net.ipv4.stats.forwDatagrams).toBe(0);
      expect(b.net.ipv4.stats.inReceives).toBe(0);
    }));

  it("without DF: R fragments onto the 576-byte link, B reassembles and answers", () =>
    withSeed(seedFrom(24), (seed) => {
      const { world, a, r, b } = topology(seed, { mtu2: 576 });
      const atB = rxLog(b.net);
      const ping = new Pinger(a.net, 0x54);
      ping.send("10.0.2.2", 1000);
      world.runFor(200);
      expect(ping.received).toBe(1);
      expect(ping.corrupted).toBe(0);
      const frags = atB.filter(isIcmpIp).map((f) => ipOf(f));
      // (576 - 20) & ~7 = 552 bytes of payload, then the 456 left of the 1008.
      expect(frags.map((f) => [f.totLen, f.offset, f.mf, f.ttl, f.csumOk])).toEqual([
        [572, 0, true, 63, true],
        [476, 552, false, 63, true],
      ]);
      expect(frags[0].id).toBe(frags[1].id);
      expect(r.net.ipv4.stats.fragOKs).toBe(1);
      expect(r.net.ipv4.stats.fragCreates).toBe(2);
      expect(b.net.ipv4.stats.reasmOKs).toBe(1);
      expect(a.net.ipv4.stats.reasmOKs).toBe(1); // the reply came back in two fragments too
      expect(r.net.ipv4.stats.forwDatagrams).toBe(3);
      for (const h of [a, r, b]) expect(h.net.drops.total).toBe(0);
      ping.close();
    }));

  it("re-fragments fragments, keeping their offsets and MF", () =>
    withSeed(seedFrom(30), (seed) => {
      const { world, a, r, b } = topology(seed, { mtu2: 576 });
      const atB = rxLog(b.net);
      const ping = new Pinger(a.net, 0x5a);
      ping.send("10.0.2.2", 3000); // 3008 ICMP bytes: 1480 + 1480 + 48 on lan1
      world.runFor(200);
      expect(ping.received).toBe(1);
      expect(ping.corrupted).toBe(0);
      const frags = atB.filter(isIcmpIp).map((f) => ipOf(f));
      expect(frags.map((f) => [f.offset, f.payload.length, f.mf])).toEqual([
        [0, 552, true], [552, 552, true], [1104, 376, true],
        [1480, 552, true], [2032, 552, true], [2584, 376, true],
        [2960, 48, false],
      ]);
      expect(new Set(frags.map((f) => f.id)).size).toBe(1);
      expect(r.net.ipv4.stats.fragOKs).toBe(2);
      expect(r.net.ipv4.stats.fragCreates).toBe(6);
      expect(b.net.ipv4.stats.reasmOKs).toBe(1);
      ping.close();
    }));

  it("with forwarding off, R drops what is not for it (IP_INADDRERRORS)", () =>
    withSeed(seedFrom(25), (seed) => {
      const { world, a, r, b } = topology(seed, { forward: false });
      const ping = new Pinger(a.net, 0x55);
      ping.send("10.0.2.2", 56);
      world.runFor(200);
      expect(ping.received).toBe(0);
      expect(r.net.drops.snapshot()).toEqual({ IP_INADDRERRORS: 1 });
      expect(r.net.ipv4.stats.inAddrErrors).toBe(1);
      expect(r.net.ipv4.stats.forwDatagrams).toBe(0);
      expect(b.net.ipv4.stats.inReceives).toBe(0);
      ping.close();
    }));

  it("does not forward a datagram that came as a link-layer broadcast", () =>
    withSeed(seedFrom(26), (seed) => {
      const { world, lan1, r, b, r0 } = topology(seed);
      const port = new RawPort(world, lan1);
      const me = mac("02:00:00:00:00:77");
      port.arpAnswers.set(ip("10.0.1.50"), me);
      const seen: number[] = [];
      b.net.ipv4.raw.register(253, (n, skb) => seen.push(n.pool.buf[skb.data]));
      const datagram = (marker: number) => ({ src: ip("10.0.1.50"), dst: B_IP, proto: 253, payload: new Uint8Array([marker, 0, 0, 0]) });
      port.send(ipFrame(BCAST_MAC, me, datagram(1)));
      world.runFor(50);
      expect(seen).toEqual([]);
      expect(r.net.drops.count("IP_INADDRERRORS")).toBe(1);
      expect(r.net.ipv4.stats.forwDatagrams).toBe(0);
      // The same datagram sent to R's MAC is forwarded.
      port.send(ipFrame(r0.addr, me, datagram(2)));
      world.runFor(50);
      expect(seen).toEqual([2]);
      expect(r.net.ipv4.stats.forwDatagrams).toBeGreaterThanOrEqual(1);
    }));

  it("does not forward a directed broadcast to the other subnet (RFC 2644), nor to network 0", () =>
    withSeed(seedFrom(28), (seed) => {
      const { world, lan1, r, b, r0 } = topology(seed);
      const port = new RawPort(world, lan1);
      const me = mac("02:00:00:00:00:78");
      const atB = rxLog(b.net);
      const toR = (dst: number) =>
        ipFrame(r0.addr, me, { src: ip("10.0.1.60"), dst, proto: 1, payload: echoRequest(9, 1, new Uint8Array(8)) });
      port.send(toR(ip("10.0.2.255")));
      port.send(toR(ip("0.0.0.7")));
      world.runFor(50);
      expect(atB.filter(isIcmpIp)).toEqual([]);
      expect(r.net.ipv4.stats.forwDatagrams).toBe(0);
      // R takes the directed broadcast as a broadcast to itself: an echo it ignores.
      expect(r.net.drops.snapshot()).toEqual({ ICMP_IGNORED: 1, IP_INADDRERRORS: 1 });
    }));

  it("R answers host unreachable when the next hop never answers ARP", () =>
    withSeed(seedFrom(29), (seed) => {
      const { world, a, r } = topology(seed);
      const atA = icmpLog(a.net);
      const ping = new Pinger(a.net, 0x59);
      ping.send("10.0.2.99", 56);
      world.runFor(2900);
      expect(atA).toEqual([]);
      world.runFor(200);
      expect(atA.map((m) => [m.type, m.code, m.src])).toEqual([[3, 1, R1_IP]]);
      expect(r.net.drops.snapshot()).toEqual({ NEIGH_FAILED: 1 });
      expect(r.net.neigh.stats.arpRequestsSent).toBe(3);
      ping.close();
    }));

  it("without a route, R answers net unreachable (IP_OUTNOROUTES)", () =>
    withSeed(seedFrom(27), (seed) => {
      const { world, a, r } = topology(seed);
      const atA = icmpLog(a.net);
      const ping = new Pinger(a.net, 0x57);
      ping.send("10.0.3.5", 56);
      world.runFor(100);
      expect(ping.received).toBe(0);
      expect(atA.map((m) => [m.type, m.code, m.src])).toEqual([[3, 0, R1_IP]]);
      expect(r.net.drops.snapshot()).toEqual({ IP_OUTNOROUTES: 1 });
      expect(r.net.ipv4.stats.outNoRoutes).toBe(1);
      ping.close();
    }));
});

describe("IPv4 forwarding: what a router must not forward, and errors it must not lose", () => {
  /** The same A - R - B topology, R with its own configuration. */
  function topologyWith(seed: number, rConfig: Partial<NetConfig>) {
    return makeWorld(seed).routedHosts({ r: { config: rConfig } });
  }

  it("a promiscuous router does not forward a frame sent to another MAC (OTHERHOST)", () =>
    withSeed(seedFrom(41), (seed) => {
      const { world, lan1, r, b, r0 } = topology(seed);
      const port = new RawPort(world, lan1);
      const me = mac("02:00:00:00:00:79");
      port.arpAnswers.set(ip("10.0.1.70"), me);
      const seen: number[] = [];
      b.net.ipv4.raw.register(253, (n, skb) => seen.push(n.pool.buf[skb.data]));
      r0.flags |= IFF_PROMISC;
      r0.ops.setRxMode(r0);
      let tapped = 0;
      addTap(r.net, (d, _skb, outgoing) => {
        if (d === r0 && !outgoing) tapped++;
      });
      const datagram = (marker: number) => ({ src: ip("10.0.1.70"), dst: B_IP, proto: 253, payload: new Uint8Array([marker, 0, 0, 0]) });
      // To a MAC nobody has: the switch floods it, R's MAC lets it in (promiscuous), the tap sees it.
      port.send(ipFrame(mac("02:00:00:00:00:99"), me, datagram(1)));
      world.runFor(50);
      expect(tapped).toBe(1);
      expect(seen).toEqual([]);
      expect(r.net.drops.snapshot()).toEqual({ OTHERHOST: 1 });
      expect(r.net.ipv4.stats.inReceives).toBe(0);
      expect(r.net.ipv4.stats.forwDatagrams).toBe(0);
      // Sent to R's own MAC, the same datagram is forwarded.
      port.send(ipFrame(r0.addr, me, datagram(2)));
      world.runFor(50);
      expect(seen).toEqual([2]);
    }));

  it("does not forward a datagram from network 0 (IP_INVALID_SOURCE, RFC 1812 5.3.7)", () =>
    withSeed(seedFrom(42), (seed) => {
      const { world, lan1, r, b, r0 } = topology(seed);
      const port = new RawPort(world, lan1);
      const me = mac("02:00:00:00:00:7a");
      const seen: number[] = [];
      b.net.ipv4.raw.register(253, (n, skb) => seen.push(n.pool.buf[skb.data]));
      const from = (src: string, marker: number) =>
        ipFrame(r0.addr, me, { src: ip(src), dst: B_IP, proto: 253, payload: new Uint8Array([marker, 0, 0, 0]) });
      port.send(from("0.0.0.0", 1));
      port.send(from("0.1.2.3", 2));
      world.runFor(50);
      expect(seen).toEqual([]);
      expect(r.net.drops.snapshot()).toEqual({ IP_INVALID_SOURCE: 2 });
      expect(r.net.ipv4.stats.inAddrErrors).toBe(2);
      expect(r.net.ipv4.stats.forwDatagrams).toBe(0);
      expect(b.net.ipv4.stats.inReceives).toBe(0);
      expect(port.take().filter((f) => isIcmpIp(f.bytes))).toEqual([]); // and nobody to tell
    }));

  it("with two neighbour entries, the host unreachables for forwarded packets reach their sender", () =>
    withSeed(seedFrom(43), (seed) => {
      // One entry for A, in use (never evicted within 5 s of use), one for the destination.
      const { world, a, r } = topologyWith(seed, { neighEntriesMax: 2 });
      const atA = icmpLog(a.net);
      const ping = new Pinger(a.net, 0x5b);
      ping.send("10.0.2.99", 56);
      ping.send("10.0.2.99", 56);
      world.runFor(2900);
      expect(atA).toEqual([]);
      // R's second entry waits for 10.0.2.99 with both pings; when it fails the errors go
      // to 10.0.1.2, and must not be purged with the pings they are about.
      world.runFor(200);
      expect(atA.map((m) => [m.type, m.code, m.src])).toEqual([[3, 1, R1_IP], [3, 1, R1_IP]]);
      expect(atA.map((m) => ipOf(m.msg, 8).dst)).toEqual([ip("10.0.2.99"), ip("10.0.2.99")]);
      expect(r.net.ipv4.icmp.stats.outDestUnreachs).toBe(2);
      expect(r.net.drops.snapshot()).toEqual({ NEIGH_FAILED: 2 });
      expect(r.net.neigh.stats.resFailed).toBe(1);
      expect(r.net.neigh.dump().map((e) => [e.addr, e.state === "FAILED" ? "FAILED" : "resolved", e.queued])).toEqual([
        [A_IP, "resolved", 0],
        [ip("10.0.2.99"), "FAILED", 0],
      ]);
      // And R still forwards for A afterwards.
      const ok = new Pinger(a.net, 0x5c);
      ok.send("10.0.2.2", 56);
      world.runFor(100);
      expect(ok.received).toBe(1);
      ok.close();
      ping.close();
    }));
});
