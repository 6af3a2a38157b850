import { describe, expect, it } from "vitest";
import type { SkBuff } from "../../src/core/skb";
import { ipSend } from "../../src/ipv4/output";
import { RouteTable } from "../../src/ipv4/route";
import { ip, ipOf, isIp } from "../packets";
import { makeBench, twoDevices } from "../testbed";
import { ipAddrAdd, routeAdd, setDefaultGateway } from "../../src/ipv4/devinet";
import { devClose, devOpen } from "../../src/core/link";

describe("RouteTable (fib_lookup)", () => {
  it("takes the longest matching prefix", () => {
    const { a, b } = twoDevices();
    const t = new RouteTable(8);
    t.add(ip("10.0.0.0"), 8, ip("192.168.1.1"), a, 0);
    t.add(ip("10.1.0.0"), 16, ip("192.168.2.1"), b, 0);
    t.add(ip("10.1.2.0"), 24, 0, a, 0);
    t.add(ip("10.1.2.128"), 25, ip("192.168.2.9"), b, 0);
    const via = (d: string): string => {
      const i = t.lookup(ip(d));
      return i < 0 ? "none" : `${t.dev[i]?.name}/${t.prefixLen[i]}`;
    };
    expect(via("10.9.9.9")).toBe("eth0/8");
    expect(via("10.1.9.9")).toBe("eth1/16");
    expect(via("10.1.2.3")).toBe("eth0/24");
    expect(via("10.1.2.127")).toBe("eth0/24");
    expect(via("10.1.2.128")).toBe("eth1/25");
    expect(via("10.1.2.255")).toBe("eth1/25");
    expect(via("11.0.0.1")).toBe("none");
    expect(t.gateway[t.lookup(ip("10.1.2.200"))]).toBe(ip("192.168.2.9"));
  });

  it("stores the destination masked to its prefix", () => {
    const { a } = twoDevices();
    const t = new RouteTable(4);
    t.add(ip("10.1.2.3"), 16, 0, a, 0);
    expect(t.dst[0]).toBe(ip("10.1.0.0"));
    expect(t.mask[0]).toBe(ip("255.255.0.0"));
    expect(t.lookup(ip("10.1.200.1"))).toBe(0);
  });

  it("breaks a tie of prefix length by the lowest metric", () => {
    const { a, b } = twoDevices();
    const t = new RouteTable(8);
    t.add(ip("172.16.0.0"), 12, ip("10.0.0.1"), a, 20);
    t.add(ip("172.16.0.0"), 12, ip("10.0.0.2"), b, 5);
    t.add(ip("172.16.0.0"), 12, ip("10.0.0.3"), a, 10);
    expect(t.count).toBe(3);
    const i = t.lookup(ip("172.20.1.1"));
    expect([t.dev[i]?.name, t.metric[i], t.gateway[i]]).toEqual(["eth1", 5, ip("10.0.0.2")]);
    // A longer prefix wins whatever its metric.
    t.add(ip("172.20.0.0"), 16, 0, a, 1000);
    expect(t.prefixLen[t.lookup(ip("172.20.1.1"))]).toBe(16);
  });

  it("replaces the route with the same destination, prefix and metric", () => {
    const { a, b } = twoDevices();
    const t = new RouteTable(4);
    t.add(ip("10.0.0.0"), 8, ip("1.1.1.1"), a, 0);
    t.add(ip("10.0.0.0"), 8, ip("2.2.2.2"), b, 0);
    expect(t.count).toBe(1);
    expect([t.dev[0]?.name, t.gateway[0]]).toEqual(["eth1", ip("2.2.2.2")]);
  });

  it("a default route (prefix 0) catches what nothing else does", () => {
    const { a, b } = twoDevices();
    const t = new RouteTable(4);
    t.add(0, 0, ip("192.168.1.1"), a, 0);
    t.add(ip("192.168.1.0"), 24, 0, b, 0);
    expect(t.prefixLen[t.lookup(ip("8.8.8.8"))]).toBe(0);
    expect(t.prefixLen[t.lookup(ip("255.255.255.255"))]).toBe(0);
    expect(t.prefixLen[t.lookup(0)]).toBe(0);
    expect(t.dev[t.lookup(ip("192.168.1.77"))]?.name).toBe("eth1");
    expect(t.connected[t.lookup(ip("8.8.8.8"))]).toBe(0);
    expect(t.connected[t.lookup(ip("192.168.1.77"))]).toBe(1);
  });

  it("skips routes over a device that is down", () => {
    const { a, b } = twoDevices();
    const t = new RouteTable(4);
    t.add(ip("10.1.0.0"), 16, 0, b, 0);
    t.add(ip("10.0.0.0"), 8, ip("192.168.1.1"), a, 0);
    t.add(ip("10.1.0.0"), 16, 0, a, 7);
    expect(t.dev[t.lookup(ip("10.1.1.1"))]?.name).toBe("eth1");
    devClose(b);
    let i = t.lookup(ip("10.1.1.1"));
    expect([t.dev[i]?.name, t.prefixLen[i], t.metric[i]]).toEqual(["eth0", 16, 7]);
    devClose(a);
    expect(t.lookup(ip("10.1.1.1"))).toBe(-1);
    devOpen(b);
    i = t.lookup(ip("10.1.1.1"));
    expect(t.dev[i]?.name).toBe("eth1");
  });

  it("throws a RangeError when full, but a replacement still fits", () => {
    const { a, b } = twoDevices();
    const t = new RouteTable(2);
    t.add(ip("10.0.0.0"), 8, 0, a, 0);
    t.add(ip("11.0.0.0"), 8, 0, a, 0);
    expect(() => t.add(ip("12.0.0.0"), 8, 0, a, 0)).toThrow(RangeError);
    expect(() => t.add(ip("12.0.0.0"), 8, 0, a, 0)).toThrow(/routesMax is 2/);
    expect(() => t.add(ip("10.0.0.0"), 8, 0, a, 1)).toThrow(RangeError); // another metric is another route
    t.add(ip("11.0.0.0"), 8, ip("10.0.0.1"), b, 0);
    expect(t.count).toBe(2);
    expect(t.dev[1]?.name).toBe("eth1");
  });

  it("rejects a bad prefix length or metric", () => {
    const { a } = twoDevices();
    const t = new RouteTable(2);
    expect(() => t.add(0, 33, 0, a, 0)).toThrow(RangeError);
    expect(() => t.add(0, -1, 0, a, 0)).toThrow(RangeError);
    expect(() => t.add(0, 8.5, 0, a, 0)).toThrow(RangeError);
    expect(() => t.add(0, 8, 0, a, -1)).toThrow(RangeError);
    expect(t.count).toBe(0);
  });

  it("del and delConnected remove entries and keep the rest intact", () => {
    const { a, b } = twoDevices();
    const t = new RouteTable(8);
    t.add(ip("10.0.0.0"), 24, 0, a, 0); // connected
    t.add(ip("10.0.1.0"), 24, 0, b, 0); // connected
    t.add(0, 0, ip("10.0.0.1"), a, 0); // via a gateway: not connected
    t.add(ip("10.0.2.0"), 24, 0, a, 0, false); // on-link but static
    expect(t.del(ip("10.0.1.0"), 24)).toBe(true);
    expect(t.del(ip("10.0.1.0"), 24)).toBe(false);
    expect(t.count).toBe(3);
    t.delConnected(a);
    expect(t.dump()).toEqual(["default via 10.0.0.1 dev eth0 metric 0", "10.0.2.0/24 dev eth0 metric 0"]);
  });
});

describe("output routes of a stack (routeOutput)", () => {
  it("routeOutput picks the device, the next hop and the source address", () => {
    const { net, a, b } = twoDevices();
    ipAddrAdd(net, a, "192.168.5.10/24");
    ipAddrAdd(net, b, "10.9.0.2/16");
    setDefaultGateway(net, "192.168.5.1");
    routeAdd(net, "172.16.0.0/12", "10.9.0.1", b);
    const rt = net.ipv4.rt;
    const out = (d: string, s = 0): [string, number, number] | null =>
      net.ipv4.routeOutput(ip(d), s) ? [rt.dev?.name ?? "", rt.nexthop, rt.saddr] : null;
    expect(out("192.168.5.99")).toEqual(["eth0", ip("192.168.5.99"), ip("192.168.5.10")]); // on-link
    expect(out("8.8.8.8")).toEqual(["eth0", ip("192.168.5.1"), ip("192.168.5.10")]); // default
    expect(out("172.17.1.1")).toEqual(["eth1", ip("10.9.0.1"), ip("10.9.0.2")]);
    expect(out("172.17.1.1", ip("192.168.5.10"))).toEqual(["eth1", ip("10.9.0.1"), ip("192.168.5.10")]); // source given
    // Our own addresses and 127/8 go through lo.
    expect(out("10.9.0.2")).toEqual(["lo", ip("10.9.0.2"), ip("10.9.0.2")]);
    expect(out("127.3.4.5")).toEqual(["lo", ip("127.3.4.5"), ip("127.0.0.1")]);
    // Limited broadcast: the first configured interface that is up.
    expect(out("255.255.255.255")).toEqual(["eth0", 0xffffffff, ip("192.168.5.10")]);
    devClose(a);
    expect(out("8.8.8.8")).toBeNull(); // the default route's device is down
    expect(out("255.255.255.255")).toEqual(["eth1", 0xffffffff, ip("10.9.0.2")]);
  });
});

describe("multicast output with a default route (routeOutput)", () => {
  it("sends to the group itself, never to the gateway", () => {
    const { net, a, b } = twoDevices();
    ipAddrAdd(net, a, "192.168.5.10/24");
    ipAddrAdd(net, b, "10.9.0.2/16");
    setDefaultGateway(net, "192.168.5.1");
    const rt = net.ipv4.rt;
    expect(net.ipv4.routeOutput(ip("239.1.2.3"), 0)).toBe(true);
    expect([rt.dev?.name, rt.nexthop, rt.saddr]).toEqual(["eth0", ip("239.1.2.3"), ip("192.168.5.10")]);
    expect(net.ipv4.routeOutput(ip("224.0.0.251"), 0)).toBe(true);
    expect(rt.nexthop).toBe(ip("224.0.0.251"));
    // A route for 224/4 through a gateway chooses the device, not the next hop.
    routeAdd(net, "224.0.0.0/4", "10.9.0.1", b);
    expect(net.ipv4.routeOutput(ip("239.1.2.3"), 0)).toBe(true);
    expect([rt.dev?.name, rt.nexthop]).toEqual(["eth1", ip("239.1.2.3")]);
    // Unicast still goes through the gateway.
    expect(net.ipv4.routeOutput(ip("8.8.8.8"), 0)).toBe(true);
    expect([rt.dev?.name, rt.nexthop]).toEqual(["eth0", ip("192.168.5.1")]);
  });

  it("a datagram to a group leaves to its multicast MAC, with no ARP for the gateway", () => {
    const b = makeBench({}, { peer: false });
    setDefaultGateway(b.net, "10.0.0.254");
    const skb = b.net.pool.alloc() as SkBuff;
    b.net.pool.buf.fill(0x33, skb.put(8), skb.tail);
    expect(ipSend(b.net, skb, 0, ip("239.1.2.3"), 253, 0, 1, false)).toBe(0);
    b.run();
    const out = b.take();
    expect(out.length).toBe(1);
    expect(Array.from(out[0].subarray(0, 6))).toEqual([0x01, 0x00, 0x5e, 0x01, 0x02, 0x03]);
    expect(isIp(out[0])).toBe(true);
    expect([ipOf(out[0]).src, ipOf(out[0]).dst]).toEqual([ip("10.0.0.1"), ip("239.1.2.3")]);
    expect(b.net.neigh.dump()).toEqual([]);
    expect(b.net.drops.total).toBe(0);
  });
});
