// IPv4 configuration of interfaces (src/ipv4/devinet.ts): an address and its connected
// route, routes and the default gateway added by hand, taken away again, and what is refused.
import { describe, expect, it } from "vitest";
import { ipAddrAdd, ipAddrDel, routeAdd, routeDel, setDefaultGateway } from "../../src/ipv4/devinet";
import { ip } from "../packets";
import { twoDevices } from "../testbed";

describe("addresses and routes of a stack (ipAddrAdd, routeAdd, setDefaultGateway)", () => {
  it("an address brings its connected route; a new address replaces it", () => {
    const { net, a } = twoDevices();
    ipAddrAdd(net, a, "192.168.5.10/24");
    expect(net.ipv4.routes.dump()).toEqual(["127.0.0.0/8 dev lo metric 0", "192.168.5.0/24 dev eth0 metric 0"]);
    ipAddrAdd(net, a, "192.168.6.10/23");
    expect(net.ipv4.routes.dump()).toEqual(["127.0.0.0/8 dev lo metric 0", "192.168.6.0/23 dev eth0 metric 0"]);
    expect(a.inDev.broadcast).toBe(ip("192.168.7.255"));
    setDefaultGateway(net, "192.168.6.1");
    routeAdd(net, "10.20.0.0/16", "192.168.7.254", a, 3);
    expect(net.ipv4.routes.dump().slice(2)).toEqual([
      "default via 192.168.6.1 dev eth0 metric 0",
      "10.20.0.0/16 via 192.168.7.254 dev eth0 metric 3",
    ]);
    expect(() => setDefaultGateway(net, "172.16.0.1")).toThrow(TypeError);
  });

  it("a static on-link route is not taken for a connected one when the address changes", () => {
    const { net, a } = twoDevices();
    ipAddrAdd(net, a, "192.168.5.10/24");
    routeAdd(net, "10.77.0.0/16", null, a); // on-link, added by hand
    ipAddrAdd(net, a, "192.168.9.10/24");
    expect(net.ipv4.routes.dump()).toEqual([
      "127.0.0.0/8 dev lo metric 0",
      "10.77.0.0/16 dev eth0 metric 0",
      "192.168.9.0/24 dev eth0 metric 0",
    ]);
  });
});

describe("addresses and routes taken away (ipAddrDel, routeDel)", () => {
  it("the address and its connected route go; routes added by hand stay until deleted; the interface stops answering", () => {
    const { net, a } = twoDevices();
    ipAddrAdd(net, a, "192.168.5.10/24");
    setDefaultGateway(net, "192.168.5.1");
    routeAdd(net, "10.20.0.0/16", "192.168.5.254", a);
    expect(ipAddrDel(net, a)).toBe(true);
    expect([a.inDev.configured, a.inDev.addr, a.inDev.broadcast]).toEqual([false, 0, 0]);
    expect(net.ipv4.localDev(ip("192.168.5.10"))).toBe(null);
    expect(net.ipv4.routes.dump().sort()).toEqual([
      "10.20.0.0/16 via 192.168.5.254 dev eth0 metric 0",
      "127.0.0.0/8 dev lo metric 0",
      "default via 192.168.5.1 dev eth0 metric 0",
    ]);
    expect(routeDel(net, "0.0.0.0/0")).toBe(true);
    expect(routeDel(net, "10.20.1.0/16")).toBe(true); // the prefix, whatever host bits follow
    expect(routeDel(net, "10.20.0.0/16")).toBe(false);
    expect(net.ipv4.routes.dump()).toEqual(["127.0.0.0/8 dev lo metric 0"]);
    expect(ipAddrDel(net, a)).toBe(false);
    // and an address can be given again
    ipAddrAdd(net, a, "192.168.6.10/24");
    expect(net.ipv4.routes.dump()).toEqual(["127.0.0.0/8 dev lo metric 0", "192.168.6.0/24 dev eth0 metric 0"]);
  });
});

describe("addresses and gateways a stack refuses (net.ipAddrAdd, net.setDefaultGateway)", () => {
  it("ipAddrAdd refuses multicast, limited broadcast, network 0 and 127/8 off loopback, naming the text", () => {
    const { net, a } = twoDevices();
    ipAddrAdd(net, a, "192.168.5.10/24");
    const before = net.ipv4.routes.dump();
    for (const cidr of ["224.0.0.1/24", "239.1.2.3/8", "255.255.255.255/32", "0.0.0.0/0", "0.1.2.3/8", "127.0.0.2/8", "127.1.1.1/16"]) {
      expect(() => ipAddrAdd(net, a, cidr), cidr).toThrow(TypeError);
      expect(() => ipAddrAdd(net, a, cidr), cidr).toThrow(cidr);
    }
    // Nothing changed: the old address and its connected route stay.
    expect(a.inDev.addr).toBe(ip("192.168.5.10"));
    expect(net.ipv4.routes.dump()).toEqual(before);
    // 127/8 is for the loopback device.
    ipAddrAdd(net, net.loopback, "127.0.0.1/8");
    expect(net.loopback.inDev.addr).toBe(ip("127.0.0.1"));
    // An ordinary host address (even the first of a /8) is fine.
    ipAddrAdd(net, a, "10.0.0.1/8");
    expect(a.inDev.addr).toBe(ip("10.0.0.1"));
  });

  it("setDefaultGateway refuses 0.0.0.0, broadcast, multicast and loopback gateways", () => {
    const { net, a } = twoDevices();
    ipAddrAdd(net, a, "192.168.5.10/24");
    for (const gw of ["0.0.0.0", "0.0.0.1", "224.0.0.1", "239.255.255.250", "255.255.255.255", "127.0.0.1"]) {
      expect(() => setDefaultGateway(net, gw, a), gw).toThrow(TypeError);
      expect(() => setDefaultGateway(net, gw), gw).toThrow(TypeError);
    }
    expect(net.ipv4.routes.lookup(ip("8.8.8.8"))).toBe(-1);
  });

  it("setDefaultGateway refuses a gateway that is not on the subnet of the device given", () => {
    const { net, a, b } = twoDevices();
    ipAddrAdd(net, a, "192.168.5.10/24");
    ipAddrAdd(net, b, "10.9.0.2/16");
    expect(() => setDefaultGateway(net, "10.9.0.1", a)).toThrow(TypeError);
    expect(() => setDefaultGateway(net, "10.9.0.1", a)).toThrow(/not on the subnet of eth0/);
    expect(() => setDefaultGateway(net, "172.16.0.1", b)).toThrow(/not on the subnet of eth1/);
    expect(net.ipv4.routes.lookup(ip("8.8.8.8"))).toBe(-1);
    // A device without an address has no subnet at all.
    const { net: net2, a: bare } = twoDevices();
    expect(() => setDefaultGateway(net2, "192.168.5.1", bare)).toThrow(TypeError);
    // On the right device it is taken.
    setDefaultGateway(net, "10.9.0.1", b);
    expect(net.ipv4.routes.dump()).toContain("default via 10.9.0.1 dev eth1 metric 0");
  });
});
