// embedded:io/socket/udp over the simulated LAN and over 127.0.0.1.
import { describe, expect, it } from "vitest";
import { udpSocketClass, type UdpPacket, type UdpSocket } from "../../src/socket/udp";
import { makeWorld, seedFrom, withSeed } from "../helpers";

describe("UDP sockets (ECMA-419)", () => {
  it("echo between two hosts, small and fragmented datagrams, over a lossy link", () =>
    withSeed(seedFrom(31), (seed) => {
      const { world, a, b } = makeWorld(seed).twoHosts({ faults: { delayMs: 1, lossRate: 0.02 } });
      const UdpA = udpSocketClass(a.net);
      const UdpB = udpSocketClass(b.net);
      const echo = new UdpB({
        port: 7,
        onReadable(packets: number) {
          for (let i = 0; i < packets; i++) {
            const p = this.read() as UdpPacket;
            this.write(p, p.address, p.port);
          }
        },
      });
      const replies: Uint8Array[] = [];
      const client = new UdpA({ onReadable() {
        let p: UdpPacket | undefined;
        while ((p = this.read()) !== undefined) replies.push(new Uint8Array(p));
      } });
      expect(client.port).toBeGreaterThanOrEqual(49152);
      const sent: Uint8Array[] = [];
      for (let i = 0; i < 50; i++) {
        const size = [1, 100, 1472, 1473, 8000][i % 5];
        const data = new Uint8Array(size).map((_, k) => (k * 7 + i) & 0xff);
        sent.push(data);
        client.write(data, "10.0.0.2", 7);
        world.runFor(20);
      }
      world.runFor(1000);
      // Every reply is one of the datagrams sent, byte for byte; most arrive.
      const key = (u: Uint8Array) => `${u.length}:${u.slice(0, 4).join(",")}:${u[u.length - 1]}`;
      const sentKeys = new Set(sent.map(key));
      for (const r of replies) expect(sentKeys.has(key(r))).toBe(true);
      expect(replies.length).toBeGreaterThan(35);
      expect(b.net.udp.stats.inDatagrams).toBe(b.net.udp.stats.outDatagrams);
      echo.close();
      client.close();
    }));

  it("an app talks to itself over 127.0.0.1", () => {
    const world = makeWorld(1);
    const a = world.addHost("a");
    const UDP = udpSocketClass(a.net);
    const server = new UDP({ port: 9999, address: "127.0.0.1" });
    const client = new UDP({});
    client.write(new Uint8Array([5, 6, 7]), "127.0.0.1", 9999);
    world.runFor(1);
    const p = server.read() as UdpPacket;
    expect([...new Uint8Array(p)]).toEqual([5, 6, 7]);
    expect([p.address, p.port]).toEqual(["127.0.0.1", client.port]);
    const into = new Uint8Array(2);
    client.write(new Uint8Array([1, 2, 3]), "127.0.0.1", 9999);
    world.runFor(1);
    expect(() => server.read(into)).toThrow(RangeError);
    expect(server.read(new Uint8Array(8))).toBe(3);
    server.close();
    client.close();
  });

  it("ICMP port unreachable reaches the sender's onError with the reason and the peer; the socket stays open", () =>
    withSeed(seedFrom(32), (seed) => {
      const { world, a, b } = makeWorld(seed).twoHosts({ faults: { delayMs: 1 } });
      const UdpA = udpSocketClass(a.net);
      const UdpB = udpSocketClass(b.net);
      const calls: unknown[] = [];
      const client = new UdpA({
        target: "client",
        onError(this: UdpSocket) {
          calls.push(this.target);
        },
        onReadable() {
          calls.push("readable");
        },
      });
      client.write(new Uint8Array([1]), "10.0.0.2", 9); // nothing listens on b:9
      world.runFor(50);
      expect(calls).toEqual(["client"]);
      expect(client.readError()).toEqual({ reason: "ECONNREFUSED", address: "10.0.0.2", port: 9, from: "10.0.0.2", type: 3, code: 3 });
      expect(client.readError()).toBeUndefined(); // read once, as SO_ERROR
      // Still usable: the next datagram, to a port that listens, is answered.
      const echo = new UdpB({ port: 9, onReadable() {
        const p = this.read() as UdpPacket;
        this.write(p, p.address, p.port);
      } });
      client.write(new Uint8Array([2]), "10.0.0.2", 9);
      world.runFor(50);
      expect(calls).toEqual(["client", "readable"]);
      expect([...new Uint8Array(client.read() as ArrayBuffer)]).toEqual([2]);
      // A socket without onError is not told; the error is only counted.
      const quiet = new UdpA({});
      quiet.write(new Uint8Array([3]), "10.0.0.2", 10);
      world.runFor(50);
      expect(quiet.readError()).toBeUndefined();
      expect(a.net.udp.stats).toMatchObject({ icmpErrors: 1, icmpIgnored: 1, icmpInvalid: 0 });
      expect(b.net.udp.stats.noPorts).toBe(2);
      // Over 127.0.0.1 the stack reports to itself the same way.
      client.write(new Uint8Array([4]), "127.0.0.1", 11);
      world.runFor(1);
      expect(client.readError()).toMatchObject({ reason: "ECONNREFUSED", address: "127.0.0.1", port: 11, from: "127.0.0.1" });
      expect(calls.length).toBe(3);
      // onError may close the socket; nothing is reported to a closed one.
      const closer = new UdpA({ onError() { this.close(); } });
      closer.write(new Uint8Array([5]), "10.0.0.2", 12);
      world.runFor(50);
      expect(() => closer.readError()).toThrow(/closed/);
      expect(a.net.udp.stats.icmpErrors).toBe(3);
      echo.close();
      client.close();
      quiet.close();
    }));

  it("refuses bad arguments with errors that name them", () => {
    const world = makeWorld(2);
    const a = world.addHost("a", { udpSocketsMax: 2 });
    const UDP = udpSocketClass(a.net);
    expect(() => new UDP({ port: -1 })).toThrow(RangeError);
    expect(() => new UDP({ port: 70000 })).toThrow(/port must be an integer in 0\.\.65535/);
    expect(() => new UDP({ address: "1.2.3" })).toThrow(TypeError);
    expect(() => new UDP({ address: "10.9.9.9" })).toThrow(/not one of this host's/);
    expect(() => new UDP({ format: "number" as "buffer" })).toThrow(/format/);
    expect(() => new UDP({ onError: 1 as unknown as () => void })).toThrow(/onError must be a function/);
    const s = new UDP({ port: 53 });
    expect(() => new UDP({ port: 53 })).toThrow(/port 53 is in use/);
    const t = new UDP({});
    expect(() => new UDP({})).toThrow(/socket table full/);
    expect(() => s.write("hello" as unknown as ArrayBuffer, "127.0.0.1", 5)).toThrow(TypeError);
    expect(() => s.write(new ArrayBuffer(1), "127.0.0.1", 0)).toThrow(RangeError);
    expect(() => s.write(new ArrayBuffer(1), "300.1.1.1", 5)).toThrow(/300\.1\.1\.1/);
    expect(() => s.write(new ArrayBuffer(65508), "127.0.0.1", 5)).toThrow(/65507/);
    expect(() => s.write(new ArrayBuffer(1), "192.168.7.7", 5)).toThrow(/no route/);
    s.close();
    expect(() => s.write(new ArrayBuffer(1), "127.0.0.1", 5)).toThrow(/closed/);
    t.close();
  });
});
