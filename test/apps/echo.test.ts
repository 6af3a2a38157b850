// The simple TCP services (src/apps/echo.ts), each started alone on the device of a
// simulated LAN in virtual time and driven by a client on the peer through the socket API.
import { describe, expect, it } from "vitest";
import { AppBuffers, CHARGEN_PERIOD, chargenByte } from "../../src/apps/buffers";
import { ChargenServer, DiscardServer, EchoServer } from "../../src/apps/echo";
import { seedFrom, withSeed } from "../helpers";
import { Sink, streamBytes } from "../tcp/harness";
import { ascii, bed, chargenReference, connect, DEVICE_IP, run, settle, str } from "./bed";

describe("TCP echo (RFC 862)", () => {
  it("returns every byte in order, with 1% loss both ways, and closes after the client", () =>
    withSeed(seedFrom(601), (seed) => {
      const b = bed(seed, { lossRate: 0.01 });
      const echo = new EchoServer(b.D).start();
      const data = streamBytes(1_000_000, seed);
      const p = connect(b, 7);
      p.send(data);
      run(b, () => p.got.len >= data.length);
      expect(p.got.len).toBe(data.length);
      expect(Buffer.from(p.got.bytes()).equals(Buffer.from(data))).toBe(true);
      p.sock.close();
      settle(b, echo);
      expect(echo.stats).toEqual({ connections: 1, bytesIn: 1_000_000, bytesOut: 1_000_000 });
      echo.close();
    }));

  it("keeps up with a client that does not read: the window closes and nothing is lost", () =>
    withSeed(seedFrom(602), (seed) => {
      const b = bed(seed);
      const echo = new EchoServer(b.D).start();
      const data = streamBytes(600_000, seed);
      let reading = false;
      const got = new Sink(1 << 20);
      let closed = false;
      let sent = 0;
      const sock = new b.P.TCP({
        address: DEVICE_IP,
        port: 7,
        onWritable(room) {
          while (room > 0 && sent < data.length) {
            const n = Math.min(room, data.length - sent);
            room = this.write(data.subarray(sent, sent + n));
            sent += n;
          }
        },
        onReadable(n) {
          if (reading) got.push(new Uint8Array(this.read(n)));
        },
        onError() {
          closed = true;
        },
      });
      b.world.runFor(3_000);
      // Stalled: the device holds at most its send buffer and our window, far below 600 KB.
      expect(sent).toBeLessThan(data.length);
      expect(echo.stats.bytesOut).toBeLessThan(data.length);
      reading = true;
      // Take what waits, then keep reading.
      const waiting = sock.read();
      if (waiting instanceof ArrayBuffer) got.push(new Uint8Array(waiting));
      run(b, () => got.len >= data.length);
      expect(Buffer.from(got.bytes()).equals(Buffer.from(data))).toBe(true);
      sock.close();
      settle(b, echo);
      expect(closed).toBe(false);
      echo.close();
    }));

  it("listens on the port it is given, and close() ends its connections and its listener", () =>
    withSeed(seedFrom(607), (seed) => {
      const b = bed(seed);
      const echo = new EchoServer(b.D, { port: 7007, chunkBytes: 1024 }).start();
      expect(() => echo.start()).toThrow(/tcp echo: already started/);
      const p = connect(b, 7007);
      p.send(ascii("hello"));
      run(b, () => p.got.len === 5);
      expect(echo.openConnections).toBe(1);
      echo.close();
      run(b, () => p.closed);
      expect(echo.openConnections).toBe(0);
      const q = connect(b, 7007);
      run(b, () => q.closed);
      expect(q.connected).toBe(false);
      settle(b, echo);
    }));
});

describe("discard (RFC 863)", () => {
  it("reads and counts everything, and closes when the client does", () =>
    withSeed(seedFrom(603), (seed) => {
      const b = bed(seed);
      const discard = new DiscardServer(b.D).start();
      const p = connect(b, 9, { closeWhenSent: true });
      p.send(streamBytes(700_000, seed));
      run(b, () => discard.stats.bytesIn === 700_000 && discard.openConnections === 0);
      expect(p.got.len).toBe(0);
      settle(b, discard);
      expect(discard.stats).toEqual({ connections: 1, bytesIn: 700_000, bytesOut: 0 });
      discard.close();
    }));
});

describe("chargen (RFC 864)", () => {
  it("sends the stream exactly as lwIP's device (and the bench's reference) has it", () =>
    withSeed(seedFrom(604), (seed) => {
      const b = bed(seed);
      const chargen = new ChargenServer(b.D).start();
      const want = 3 * CHARGEN_PERIOD + 200_000;
      const p = connect(b, 19);
      run(b, () => p.got.len >= want);
      const ref = chargenReference(want);
      const got = p.got.bytes().subarray(0, want);
      expect(Buffer.from(got).equals(Buffer.from(ref))).toBe(true);
      for (const i of [0, 71, 72, 73, 74, 7029, 7030, 123_457]) expect(chargenByte(i)).toBe(ref[i]);
      expect(str(got.subarray(0, 74))).toBe(`${" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg"}\r\n`);
      // The client hangs up without reading the rest (a reset): the device lets go.
      p.sock.close();
      settle(b, chargen);
      expect(chargen.stats.connections).toBe(1);
      expect(chargen.stats.bytesOut).toBeGreaterThanOrEqual(want);
      chargen.close();
    }));

  it("closes after the client's FIN, and ignores what the client sends", () =>
    withSeed(seedFrom(605), (seed) => {
      const b = bed(seed);
      const chargen = new ChargenServer(b.D).start();
      const p = connect(b, 19);
      p.send(ascii("ignored\r\n"));
      run(b, () => p.got.len > 10_000);
      p.sock.close();
      settle(b, chargen);
      expect(chargen.stats.bytesIn).toBe(9);
      chargen.close();
    }));

  it("shares buffers that hold its pattern, and refuses buffers that do not", () => {
    const b = bed(1);
    expect(() => new ChargenServer(b.D, { buffers: new AppBuffers({ chunkBytes: 1024 }) })).toThrow(/tcp chargen: its buffers have no chargen pattern/);
    const shared = new AppBuffers({ chunkBytes: 1024, chargen: true });
    const chargen = new ChargenServer(b.D, { buffers: shared });
    const echo = new EchoServer(b.D, { buffers: shared });
    expect(chargen.buffers).toBe(echo.buffers);
    expect(shared.chargen.length).toBe(CHARGEN_PERIOD + 1024);
    expect(shared.mod.length).toBe(0);
    expect(() => new AppBuffers({ chunkBytes: 100 })).toThrow(/chunkBytes must be an integer >= 512, got 100/);
  });
});
