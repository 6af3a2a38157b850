// UDP echo (src/apps/udp-echo.ts) on the device of a simulated LAN: it needs only the UDP class.
import { describe, expect, it } from "vitest";
import { UdpEchoServer } from "../../src/apps/udp-echo";
import { udpSocketClass, type UdpPacket } from "../../src/socket/udp";
import { seedFrom, withSeed } from "../helpers";
import { streamBytes } from "../tcp/harness";
import { bed, DEVICE_IP, run } from "./bed";

describe("UDP echo (RFC 862)", () => {
  it("returns each datagram to its sender, fragmented ones too", () =>
    withSeed(seedFrom(606), (seed) => {
      const b = bed(seed);
      const echo = new UdpEchoServer(udpSocketClass(b.deviceNet)).start();
      const UDP = udpSocketClass(b.peerNet);
      const got: UdpPacket[] = [];
      const u = new UDP({ onReadable(n) { for (let i = 0; i < n; i++) got.push(this.read() as UdpPacket); } });
      const sizes = [0, 1, 1472, 1473, 8000, 65_507];
      for (const n of sizes) {
        u.write(streamBytes(n, n + 1), DEVICE_IP, 7);
        b.world.runFor(50);
      }
      run(b, () => got.length === sizes.length);
      got.forEach((p, i) => {
        expect(p.address).toBe(DEVICE_IP);
        expect(p.port).toBe(7);
        expect(Buffer.from(p).equals(Buffer.from(streamBytes(sizes[i], sizes[i] + 1)))).toBe(true);
      });
      expect(echo.stats).toEqual({ datagrams: sizes.length, bytes: sizes.reduce((a, n) => a + n, 0), sendErrors: 0 });
      u.close();
      echo.close();
      b.world.runFor(2_000);
    }));

  it("is silent once closed, and may start again", () =>
    withSeed(seedFrom(608), (seed) => {
      const b = bed(seed);
      const echo = new UdpEchoServer(udpSocketClass(b.deviceNet), { port: 7777 }).start();
      expect(() => echo.start()).toThrow(/udp echo: already started/);
      const UDP = udpSocketClass(b.peerNet);
      let got = 0;
      const u = new UDP({ onReadable(n) { for (let i = 0; i < n; i++) if (this.read() !== undefined) got++; } });
      u.write(new Uint8Array(10), DEVICE_IP, 7777);
      run(b, () => got === 1);
      echo.close();
      u.write(new Uint8Array(10), DEVICE_IP, 7777);
      b.world.runFor(100);
      expect(got).toBe(1);
      echo.start();
      u.write(new Uint8Array(10), DEVICE_IP, 7777);
      run(b, () => got === 2);
      expect(echo.stats.datagrams).toBe(2);
      u.close();
      echo.close();
    }));
});
