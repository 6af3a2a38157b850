// The ECMA-419 resolver class (src/lan/dns-resolver-udp.ts) as Moddable's HTTP and MQTT
// clients call it (`new options.dns.io(options.dns).resolve({host, onResolved, onError})`),
// and the TCP socket's `host` option resolving through the stack's resolver.
import { describe, expect, it } from "vitest";
import { DnsResolver } from "../../src/lan/dns-resolver";
import { dnsResolverClass } from "../../src/lan/dns-resolver-udp";
import { tcpSocketClasses } from "../../src/socket/tcp";
import { udpSocketClass } from "../../src/socket/udp";
import { parseIpv4 } from "../../src/wire/ipv4";
import { SimDnsServer } from "../../host-sim/sim/dns-server";
import { SimWorld } from "../../host-sim/sim/world";

const ZONE = { "echo.lan": { a: ["10.0.0.2"], ttl: 60 }, "alias.lan": { cname: "echo.lan" } };

function lan() {
  const { world, a, b } = new SimWorld(21).twoHosts();
  const server = new SimDnsServer(udpSocketClass(b.net), { zone: ZONE }).start();
  const service = new DnsResolver(a.net);
  const end = (): void => {
    service.close();
    server.close();
    world.shutdown();
    expect(a.net.pool.inUse).toBe(0);
    expect(b.net.pool.inUse).toBe(0);
  };
  return { world, a, b, server, service, end };
}

describe("embedded:network/dns/resolver/udp over the DnsResolver", () => {
  it("resolves as Moddable's clients call it: new options.dns.io(options.dns).resolve(...)", () => {
    const { world, a, service, end } = lan();
    const options = { dns: { io: dnsResolverClass(service), servers: ["10.0.0.2"], socket: { io: udpSocketClass(a.net) } } };
    const got: string[] = [];
    const dns = new options.dns.io(options.dns);
    dns.resolve({
      host: "alias.lan",
      onResolved: (host, address) => got.push(`${host} ${address}`),
      onError: (host) => got.push(`error ${host}`),
    });
    dns.resolve({ host: "missing.lan", onResolved: () => got.push("?"), onError: (host, e) => got.push(`error ${host} ${e.message}`) });
    dns.resolve({ host: "10.9.8.7", onResolved: (host, address) => got.push(`${host} ${address}`) });
    expect(got).toEqual([]);
    world.runFor(100);
    expect(got.sort()).toEqual(["10.9.8.7 10.9.8.7", "alias.lan 10.0.0.2", "error missing.lan missing.lan: NXDOMAIN: no such name"]);
    expect(service.servers).toEqual([parseIpv4("10.0.0.2")]);
    expect(() => dns.resolve({ host: "x.lan", rrtype: 28 })).toThrow(RangeError);
    expect(() => new options.dns.io({ servers: ["not an address"] })).toThrow(TypeError);
    dns.close();
    end();
  });

  it("close() cancels its requests: no callback after it", () => {
    const { world, service, server, end } = lan();
    service.setServers([parseIpv4("10.0.0.2")]);
    server.mode = "drop";
    const Resolver = dnsResolverClass(service);
    const dns = new Resolver({});
    let calls = 0;
    dns.resolve({ host: "echo.lan", onResolved: () => calls++, onError: () => calls++ });
    expect(service.pending).toBe(1);
    dns.close();
    expect(service.pending).toBe(0);
    world.runFor(30_000);
    expect(calls).toBe(0);
    expect(() => dns.resolve({ host: "echo.lan" })).toThrow(/closed/);
    end();
  });
});

describe("TCP's host option (ECMA-419) through net.hostResolver", () => {
  it("resolves the name, then connects; the peer's address is the one resolved", () => {
    const { world, a, b, service, end } = lan();
    service.setServers([parseIpv4("10.0.0.2")]);
    const A = tcpSocketClasses(a.net);
    const B = tcpSocketClasses(b.net);
    let accepted = 0;
    const listener = new B.Listener({
      port: 7007,
      onReadable() {
        const s = this.read();
        if (s !== undefined) {
          accepted++;
          s.close();
        }
      },
    });
    const events: string[] = [];
    const sock = new A.TCP({
      host: "alias.lan",
      port: 7007,
      onWritable() {
        events.push(`connected ${this.remoteAddress}`);
      },
      onError() {
        events.push("error");
      },
    });
    expect(sock.remoteAddress).toBeUndefined();
    expect(sock.read()).toBeUndefined();
    expect(() => sock.write(new Uint8Array(1))).toThrow(/not connected/);
    world.runFor(200);
    expect(events[0]).toBe("connected 10.0.0.2");
    expect(accepted).toBe(1);
    sock.close();
    listener.close();
    world.runFor(200);
    end();
  });

  it("a name that does not resolve reports through onError; close() while resolving cancels", () => {
    const { world, a, service, end } = lan();
    service.setServers([parseIpv4("10.0.0.2")]);
    const A = tcpSocketClasses(a.net);
    let errors = 0;
    new A.TCP({ host: "missing.lan", port: 80, onError: () => errors++ });
    const early = new A.TCP({ host: "echo.lan", port: 80, onError: () => errors++, onWritable: () => errors++ });
    early.close();
    world.runFor(200);
    expect(errors).toBe(1);
    expect(service.pending).toBe(0);
    end();
  });

  it("the resolver closed while a socket resolves its host: the socket hears onError; a later resolver's requests are not cancelled by it", () => {
    const { world, a, service, end } = lan();
    service.setServers([parseIpv4("10.0.0.9")]); // nobody answers there
    const A = tcpSocketClasses(a.net);
    let errors = 0;
    const waiting = new A.TCP({ host: "echo.lan", port: 80, onError: () => errors++ });
    service.close();
    expect(errors).toBe(1);
    const again = new DnsResolver(a.net, { servers: [parseIpv4("10.0.0.2")] });
    let resolved = 0;
    again.resolve("echo.lan", () => resolved++, () => {});
    waiting.close(); // its request was the first resolver's: nothing of the second one is cancelled
    world.runFor(200);
    expect(resolved).toBe(1);
    again.close();
    end();
  });

  it("without a resolver, a name is a TypeError naming the problem; a dotted host connects as address", () => {
    const { world, a } = new SimWorld(22).twoHosts();
    const A = tcpSocketClasses(a.net);
    expect(() => new A.TCP({ host: "echo.lan", port: 80 })).toThrow(/no resolver runs on this stack/);
    expect(() => new A.TCP({ host: 5 as unknown as string, port: 80 })).toThrow(TypeError);
    const s = new A.TCP({ host: "10.0.0.2", port: 80 });
    expect(s.remoteAddress).toBe("10.0.0.2");
    s.close();
    world.shutdown();
  });
});
