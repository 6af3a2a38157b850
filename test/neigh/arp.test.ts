import { describe, expect, it } from "vitest";
import type { Net } from "../../src/core/net";
import type { SkBuff } from "../../src/core/skb";
import { ipSend } from "../../src/ipv4/output";
import { nudStateName } from "../../src/neigh/neigh";
import { makeNet } from "../helpers";
import { arpFrame, arpPacket, BCAST_MAC, ethFrame, ip, isIp, mac, padFrame } from "../packets";
import { ARPOP_REPLY, ARPOP_REQUEST } from "../../src/wire/arp";
import { ETH_P_ARP } from "../../src/wire/ethernet";
import { addFakeDevice, type Bench, fakeStack, HOST_IP, HOST_MAC, makeBench, PEER_IP, PEER_MAC, runUntilIdle } from "../testbed";
import { ipAddrAdd } from "../../src/ipv4/devinet";
import { devOpen, netifCarrierOff, netifCarrierOn } from "../../src/core/link";

const ZERO_MAC = new Uint8Array(6);
const PEER_MAC2 = mac("02:00:00:00:00:22");
const OTHER_IP = ip("10.0.0.3");

/** An ARP frame as it comes off the wire: padded to 60 bytes with non-zero padding. */
function fromWire(dst: Uint8Array, op: number, sha: Uint8Array, spa: number, tha: Uint8Array, tpa: number): Uint8Array {
  return padFrame(arpFrame(dst, op, sha, spa, tha, tpa), 0xee);
}

function request(sha: Uint8Array, spa: number, tpa: number, dst = BCAST_MAC): Uint8Array {
  return fromWire(dst, ARPOP_REQUEST, sha, spa, ZERO_MAC, tpa);
}

function state(b: Bench, addr: number): string {
  const i = b.net.neigh.lookup(addr, b.dev);
  return i < 0 ? "none" : nudStateName(b.net.neigh.state[i]);
}

function haOf(b: Bench, addr: number): Uint8Array {
  const i = b.net.neigh.lookup(addr, b.dev);
  return b.net.neigh.ha.slice(i * 6, i * 6 + 6);
}

function send(net: Net, dst: number): void {
  const skb = net.pool.alloc() as SkBuff;
  skb.put(8);
  ipSend(net, skb, 0, dst, 253, 0, 64, false);
}

describe("ARP receive (arp_rcv / arp_process)", () => {
  it("answers a request for our address in the request's own skb, byte for byte", () => {
    const b = makeBench({}, { peer: false });
    const skb = b.drv.inject(request(PEER_MAC, PEER_IP, HOST_IP));
    const id = skb.id;
    b.run();
    expect(b.drv.sentIds).toEqual([id]); // the request's record went back out as the reply
    const out = b.take();
    expect(out).toEqual([arpFrame(PEER_MAC, ARPOP_REPLY, HOST_MAC, HOST_IP, PEER_MAC, PEER_IP)]);
    expect(out[0].length).toBe(42); // the wire padding was trimmed
    const skb2 = b.drv.inject(request(PEER_MAC, PEER_IP, HOST_IP));
    const id2 = skb2.id;
    b.run();
    expect(b.drv.sentIds).toEqual([id2]);
    expect(b.take().length).toBe(1);
    const st = b.net.neigh.stats;
    expect([st.arpRequestsReceived, st.arpRepliesSent]).toEqual([2, 2]);
    // The asker will talk to us: it is learned, STALE (Linux neigh_event_ns).
    expect(state(b, PEER_IP)).toBe("STALE");
    expect(haOf(b, PEER_IP)).toEqual(PEER_MAC);
    expect(b.net.drops.total).toBe(0);
    expect(b.net.pool.inUse).toBe(0);
  });

  it("counts a request for another host as ARP_NOT_FOR_US, answers nothing and learns nothing", () => {
    const b = makeBench({}, { peer: false });
    b.rx(request(PEER_MAC, PEER_IP, OTHER_IP));
    expect(b.take()).toEqual([]);
    expect(b.net.drops.count("ARP_NOT_FOR_US")).toBe(1);
    expect(b.net.neigh.stats.arpRequestsReceived).toBe(1);
    expect(state(b, PEER_IP)).toBe("none");
  });

  it("a request for another host still refreshes an entry we have", () => {
    const b = makeBench({}, { peer: false });
    // A resolved, REACHABLE entry for the peer.
    send(b.net, PEER_IP);
    b.run();
    b.rx(fromWire(HOST_MAC, ARPOP_REPLY, PEER_MAC, PEER_IP, HOST_MAC, HOST_IP));
    expect(state(b, PEER_IP)).toBe("REACHABLE");
    b.take();
    // Same address asking for someone else: nothing changes.
    b.rx(request(PEER_MAC, PEER_IP, OTHER_IP));
    expect(state(b, PEER_IP)).toBe("REACHABLE");
    // A new MAC for it: taken, but only STALE (unconfirmed).
    b.rx(request(PEER_MAC2, PEER_IP, OTHER_IP));
    expect(state(b, PEER_IP)).toBe("STALE");
    expect(haOf(b, PEER_IP)).toEqual(PEER_MAC2);
    expect(b.net.drops.count("ARP_NOT_FOR_US")).toBe(2);
    expect(b.take()).toEqual([]);
    send(b.net, PEER_IP);
    b.run();
    expect(b.take()[0].subarray(0, 6)).toEqual(PEER_MAC2);
  });

  it("drops malformed ARP as ARP_INVALID without answering or learning", () => {
    const b = makeBench({}, { peer: false });
    const good = arpPacket(1, PEER_MAC, PEER_IP, ZERO_MAC, HOST_IP);
    const variants: [string, Uint8Array][] = [];
    const patched = (name: string, at: number, bytes: number[]): void => {
      const a = good.slice();
      a.set(bytes, at);
      variants.push([name, ethFrame(BCAST_MAC, PEER_MAC, ETH_P_ARP, a)]);
    };
    for (let len = 0; len < 28; len++) variants.push([`cut to ${len} bytes`, ethFrame(BCAST_MAC, PEER_MAC, ETH_P_ARP, good.subarray(0, len))]);
    patched("htype 6 (IEEE 802)", 0, [0, 6]);
    patched("ptype IPv6", 2, [0x86, 0xdd]);
    patched("hlen 5", 4, [5]);
    patched("plen 6", 5, [6]);
    patched("op 3 (RARP)", 6, [0, 3]);
    patched("multicast sender MAC", 8, [0x01, 0x00, 0x5e, 0, 0, 1]);
    patched("broadcast sender MAC", 8, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    patched("multicast sender IP", 14, [224, 0, 0, 1]);
    patched("loopback sender IP", 14, [127, 0, 0, 1]);
    patched("broadcast sender IP", 14, [255, 255, 255, 255]);
    patched("multicast target IP", 24, [239, 1, 2, 3]);
    for (const [name, frame] of variants) {
      const before = b.net.drops.count("ARP_INVALID");
      b.rx(frame);
      expect(b.net.drops.count("ARP_INVALID"), name).toBe(before + 1);
    }
    expect(b.net.drops.count("ARP_INVALID")).toBe(variants.length);
    expect(b.net.drops.total).toBe(variants.length);
    expect(b.take()).toEqual([]);
    expect(b.net.neigh.dump()).toEqual([]);
    expect(b.net.neigh.stats.arpRequestsReceived).toBe(0);
  });

  it("answers an address probe (sender 0.0.0.0) for our address without learning it", () => {
    const b = makeBench({}, { peer: false });
    b.rx(request(PEER_MAC, 0, HOST_IP));
    expect(b.take()).toEqual([arpFrame(PEER_MAC, ARPOP_REPLY, HOST_MAC, HOST_IP, PEER_MAC, 0)]);
    expect(b.net.neigh.dump()).toEqual([]);
    // A probe for another address: not answered.
    b.rx(request(PEER_MAC, 0, OTHER_IP));
    expect(b.take()).toEqual([]);
    expect(b.net.drops.count("ARP_NOT_FOR_US")).toBe(1);
    expect(b.net.neigh.dump()).toEqual([]);
  });

  it("counts someone else claiming our address as a conflict, and keeps nothing of it", () => {
    const b = makeBench({}, { peer: false });
    b.rx(request(PEER_MAC, HOST_IP, HOST_IP)); // a gratuitous ARP for our address
    b.rx(fromWire(BCAST_MAC, ARPOP_REPLY, PEER_MAC, HOST_IP, ZERO_MAC, HOST_IP));
    b.rx(request(PEER_MAC, HOST_IP, OTHER_IP)); // asking as us
    expect(b.net.neigh.stats.addressConflicts).toBe(3);
    expect(b.net.drops.count("ARP_INVALID")).toBe(3);
    expect(b.take()).toEqual([]);
    expect(b.net.neigh.dump()).toEqual([]);
  });

  it("an unsolicited reply does not create an entry", () => {
    const b = makeBench({}, { peer: false });
    b.rx(fromWire(HOST_MAC, ARPOP_REPLY, PEER_MAC, PEER_IP, HOST_MAC, HOST_IP));
    expect(state(b, PEER_IP)).toBe("none");
    expect(b.net.neigh.stats.arpRepliesReceived).toBe(1);
    expect(b.net.drops.total).toBe(0);
    expect(b.net.drops.consumed).toBeGreaterThanOrEqual(1);
    expect(b.take()).toEqual([]);
  });

  it("a reply that came as a link-layer broadcast resolves, but only to STALE", () => {
    const b = makeBench({}, { peer: false });
    send(b.net, PEER_IP);
    b.run();
    b.take();
    b.rx(fromWire(BCAST_MAC, ARPOP_REPLY, PEER_MAC, PEER_IP, HOST_MAC, HOST_IP));
    expect(state(b, PEER_IP)).toBe("STALE");
    const out = b.take();
    expect(out.length).toBe(1); // the queued datagram went
    expect(isIp(out[0])).toBe(true);
    expect(out[0].subarray(0, 6)).toEqual(PEER_MAC);
  });

  it("a gratuitous ARP from a neighbour with a new MAC updates its entry (STALE)", () => {
    const b = makeBench({}, { peer: false });
    b.rx(request(PEER_MAC, PEER_IP, HOST_IP));
    b.take();
    expect(haOf(b, PEER_IP)).toEqual(PEER_MAC);
    b.rx(request(PEER_MAC2, PEER_IP, PEER_IP)); // announcement: sip == tip
    expect(state(b, PEER_IP)).toBe("STALE");
    expect(haOf(b, PEER_IP)).toEqual(PEER_MAC2);
    expect(b.net.drops.count("ARP_NOT_FOR_US")).toBe(0); // an announcement is not "for someone else"
    expect(b.take()).toEqual([]);
  });

  it("an interface without an address answers nothing (ARP_NOT_FOR_US)", () => {
    const { net, devs } = fakeStack({}, [HOST_MAC]);
    const { drv } = devs[0];
    drv.inject(request(PEER_MAC, PEER_IP, HOST_IP));
    runUntilIdle(net);
    expect(drv.sent).toEqual([]);
    expect(net.drops.count("ARP_NOT_FOR_US")).toBe(1);
  });
});

describe("ARP announcements (gratuitous ARP)", () => {
  const announce = (addr: number): Uint8Array => arpFrame(BCAST_MAC, ARPOP_REQUEST, HOST_MAC, addr, ZERO_MAC, addr);

  it("announces on link up, on a new address, and when the carrier returns", () => {
    const { net } = makeNet();
    const { dev, drv } = addFakeDevice(net, "eth0", HOST_MAC);
    devOpen(dev);
    netifCarrierOn(dev);
    runUntilIdle(net);
    expect(drv.take()).toEqual([]); // no address yet: nothing to announce
    ipAddrAdd(net, dev, "10.0.0.1/24");
    runUntilIdle(net);
    expect(drv.take()).toEqual([announce(HOST_IP)]);
    ipAddrAdd(net, dev, "10.0.0.7/24");
    runUntilIdle(net);
    expect(drv.take()).toEqual([announce(ip("10.0.0.7"))]);
    netifCarrierOff(dev);
    netifCarrierOn(dev);
    runUntilIdle(net);
    expect(drv.take()).toEqual([announce(ip("10.0.0.7"))]);
  });

  it("announces once when the device opens with its link already up", () => {
    const { net } = makeNet();
    const { dev, drv } = addFakeDevice(net, "eth0", HOST_MAC);
    ipAddrAdd(net, dev, "10.0.0.1/24");
    netifCarrierOn(dev); // down: no announcement yet
    runUntilIdle(net);
    expect(drv.take()).toEqual([]);
    devOpen(dev);
    runUntilIdle(net);
    expect(drv.take()).toEqual([announce(HOST_IP)]);
  });

  it("an address added while the device is down is announced when it comes up, once", () => {
    const { net } = makeNet();
    const { dev, drv } = addFakeDevice(net, "eth0", HOST_MAC);
    ipAddrAdd(net, dev, "10.0.0.1/24");
    devOpen(dev);
    runUntilIdle(net);
    expect(drv.take()).toEqual([]); // no carrier
    netifCarrierOn(dev);
    runUntilIdle(net);
    expect(drv.take()).toEqual([announce(HOST_IP)]);
  });
});
