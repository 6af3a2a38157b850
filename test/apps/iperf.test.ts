// The iperf 2 server (src/apps/iperf.ts) on the device of a simulated LAN, driven by a
// client on the peer that speaks iperf 2.1.8's test header, in virtual time.
import { describe, expect, it } from "vitest";
import {
  HEADER_BOUNCEBACK, HEADER_EXTEND, HEADER_LEN_BIT, HEADER_REVERSE, HEADER_VERSION1, HEADER_VERSION2, IperfServer, RUN_NOW, headerLength,
} from "../../src/apps/iperf";
import { seedFrom, withSeed } from "../helpers";
import { Sink, streamBytes } from "../tcp/harness";
import { bed, connect, mod251, peerListener, run, settle, type Bed } from "./bed";

function startIperf(b: Bed): IperfServer {
  return new IperfServer(b.D, { now: () => b.deviceNet.now() }).start();
}

describe("iperf 2 server", () => {
  /** A test header as iperf 2.1.8's client writes it (Settings_GenerateClientHdr, TCP). */
  function iperfHeader(options: { flags?: number; port?: number; amount?: number; upper?: number } = {}): Uint8Array {
    const h = new Uint8Array(60);
    const v = new DataView(h.buffer);
    const flags = (options.flags ?? HEADER_EXTEND) | HEADER_LEN_BIT | (60 << 1);
    v.setUint32(0, flags >>> 0);
    v.setInt32(4, 1); // numThreads
    v.setInt32(8, options.port ?? 5001);
    v.setInt32(20, options.amount ?? -1000); // -t 10
    v.setUint16(32, options.upper ?? 0);
    v.setUint32(36, 0x00020001);
    v.setUint32(40, 0x00080003);
    return h;
  }

  it("reads the header and the data, answers the header with client_hdr_ack, and closes after the client's FIN", () =>
    withSeed(seedFrom(631), (seed) => {
      const b = bed(seed);
      const iperf = startIperf(b);
      expect(headerLength(HEADER_EXTEND | HEADER_LEN_BIT | (60 << 1))).toBe(60);
      expect(headerLength(HEADER_VERSION1)).toBe(24);
      expect(headerLength(0x30313233)).toBe(0); // iperf -C: data from the first byte
      const p = connect(b, 5001, { closeWhenSent: true });
      p.send(iperfHeader());
      p.send(streamBytes(2_000_000, seed));
      run(b, () => iperf.stats.bytesIn === 2_000_060 && iperf.openConnections === 0);
      const ack = new DataView(p.got.bytes().buffer);
      expect(p.got.len).toBe(28);
      expect([ack.getUint32(0), ack.getUint32(4), ack.getUint32(8), ack.getUint32(12), ack.getUint32(16)]).toEqual([2, 28, 0, 0x00020001, 0x00080003]);
      settle(b, iperf);
      expect(iperf.stats.connections).toBe(1);
      expect(iperf.stats.bytesIn).toBe(2_000_060);
    }));

  it("takes a 2.0-style header with flags 0 as data, and sends nothing back", () =>
    withSeed(seedFrom(632), (seed) => {
      const b = bed(seed);
      const iperf = startIperf(b);
      const p = connect(b, 5001, { closeWhenSent: true });
      p.send(new Uint8Array(24));
      p.send(streamBytes(100_000, seed));
      run(b, () => iperf.stats.bytesIn === 100_024 && iperf.openConnections === 0);
      expect(p.got.len).toBe(0);
      settle(b, iperf);
      expect(iperf.stats.bytesIn).toBe(100_024);
    }));

  it("-R: sends the header's amount on the same connection, then closes", () =>
    withSeed(seedFrom(633), (seed) => {
      const b = bed(seed);
      const iperf = startIperf(b);
      const p = connect(b, 5001);
      p.send(iperfHeader({ flags: HEADER_EXTEND | HEADER_VERSION2, upper: HEADER_REVERSE, amount: 750_000 }));
      run(b, () => p.closed);
      expect(p.got.len).toBe(750_000);
      expect(Buffer.from(p.got.bytes()).equals(Buffer.from(mod251(750_000)))).toBe(true);
      p.sock.close();
      settle(b, iperf);
      expect(iperf.stats.reverse).toBe(1);
    }));

  it("-R with a time: sends for that long (virtual time), then closes", () =>
    withSeed(seedFrom(634), (seed) => {
      const b = bed(seed, { rateBps: 10_000_000 });
      const iperf = startIperf(b);
      const p = connect(b, 5001);
      const t0 = b.world.now;
      p.send(iperfHeader({ flags: HEADER_EXTEND | HEADER_VERSION2, upper: HEADER_REVERSE, amount: -50 }));
      run(b, () => p.closed);
      const elapsed = b.world.now - t0;
      expect(elapsed).toBeGreaterThanOrEqual(500);
      expect(elapsed).toBeLessThan(700);
      // about 10 Mbit/s for half a second
      expect(p.got.len).toBeGreaterThan(400_000);
      expect(p.got.len).toBeLessThan(700_000);
      p.sock.close();
      settle(b, iperf);
    }));

  it("-d: connects back to the client's port and sends the amount", () =>
    withSeed(seedFrom(635), (seed) => {
      const b = bed(seed);
      const iperf = startIperf(b);
      const back = new Sink(1 << 20);
      let backClosed = false;
      const listener = peerListener(b, 5002, (from) => {
        new b.P.TCP({
          from,
          onReadable(n) {
            back.push(new Uint8Array(this.read(n)));
          },
          onError() {
            backClosed = true;
            this.close();
          },
        });
      });
      const p = connect(b, 5001);
      p.send(iperfHeader({ flags: HEADER_VERSION1 | RUN_NOW, port: 5002, amount: 300_000 }));
      p.send(streamBytes(50_000, seed));
      run(b, () => backClosed);
      expect(back.len).toBe(300_000);
      expect(Buffer.from(back.bytes()).equals(Buffer.from(mod251(300_000)))).toBe(true);
      p.sock.close();
      listener.close();
      settle(b, iperf);
      expect(iperf.stats.connectBack).toBe(1);
    }));

  it("refuses a bounce-back test (closes at once)", () =>
    withSeed(seedFrom(636), (seed) => {
      const b = bed(seed);
      const iperf = startIperf(b);
      const p = connect(b, 5001);
      const h = new Uint8Array(64);
      new DataView(h.buffer).setUint32(0, HEADER_BOUNCEBACK);
      p.send(h);
      run(b, () => p.closed);
      p.sock.close();
      settle(b, iperf);
      expect(iperf.stats.refused).toBe(1);
    }));
  it("wants the stack's clock", () => {
    const b = bed(1);
    expect(() => new IperfServer(b.D, {} as never)).toThrow(/iperf: options.now must be the stack's clock/);
  });
});
