// The ECMA-419 classes behave as Moddable's sockets do where apps can tell (the SDK's own
// socket suite runs on them in test/moddable): read() is undefined while nothing is
// buffered, format "number" reads and writes one byte, only byte buffers are taken, a closed
// socket answers nothing, Listener ports convert as Moddable's, and each refusal has
// Moddable's error class: SyntaxError for a wrong receiver, a closed socket or a bad `from`;
// Error for more than is buffered or fits, a missing port or address; TypeError for a Symbol.
import { describe, expect, it } from "vitest";
import { udpSocketClass } from "../../src/socket/udp";
import type { TcpSocket } from "../../src/socket/tcp";
import { seedFrom, withSeed } from "../helpers";
import { B_IP, makePair } from "../tcp/harness";

/** The class of what fn throws, by name ("nothing" when it returns). */
function thrownClass(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).constructor.name;
  }
  return "nothing";
}

describe("ECMA-419 sockets as Moddable's", () => {
  it("TCP: reads are undefined before data, one byte each in format number, byte buffers only; errors by class", () =>
    withSeed(seedFrom(61), (seed) => {
      const { world, A, B } = makePair(seed, { delayMs: 2 });
      const server: TcpSocket[] = [];
      const got: number[] = [];
      const listener = new B.Listener({
        port: "80",
        onReadable() {
          server.push(new B.TCP({ from: this.read()!, onReadable(n) { got.push(...new Uint8Array(this.read(n))); } }));
        },
      });
      expect(listener.port).toBe(80);
      let writable = -1;
      const s = new A.TCP({ address: B_IP, port: 80, onWritable(n) { if (writable < 0) writable = n; } });
      // Before the connection is up: nothing to read, writing is an Error.
      expect(s.read()).toBe(undefined);
      expect(s.read(new Uint8Array(1))).toBe(undefined);
      expect(thrownClass(() => s.write(Uint8Array.of(1)))).toBe("Error");
      world.runFor(100);
      expect(writable).toBeGreaterThan(0);
      // Format number: write(32) sends one byte; a non-number is a TypeError, past a byte a RangeError.
      s.format = "number";
      expect(s.write(32)).toBe(writable - 1);
      expect(thrownClass(() => s.write(Symbol.match as unknown as number))).toBe("TypeError");
      expect(thrownClass(() => s.write(256))).toBe("RangeError");
      s.format = "buffer";
      expect(thrownClass(() => s.write(32))).toBe("TypeError");
      expect(thrownClass(() => s.write(new Uint16Array(1)))).toBe("TypeError");
      s.write(Int8Array.of(-1));
      s.write(new DataView(Uint8Array.of(7, 8).buffer, 1));
      expect(thrownClass(() => s.write(new Uint8Array(writable)))).toBe("Error");
      world.runFor(100);
      expect(got).toEqual([32, 255, 8]);
      // Reads: more than is there is an Error; only byte buffers; a Symbol or a function is a TypeError.
      server[0].write(Uint8Array.of(1, 2, 3, 4, 5));
      world.runFor(100);
      expect(thrownClass(() => s.read(6))).toBe("Error");
      expect(thrownClass(() => s.read(new Uint16Array(1)))).toBe("TypeError");
      expect(thrownClass(() => s.read(Symbol.match as unknown as number))).toBe("TypeError");
      expect(thrownClass(() => s.read(Math.sin as unknown as number))).toBe("TypeError");
      const into = new Int8Array(2);
      expect(s.read(into)).toBe(2);
      expect([...into]).toEqual([1, 2]);
      const dv = new DataView(new ArrayBuffer(4), 2);
      expect(s.read(dv)).toBe(2);
      expect([dv.getUint8(0), dv.getUint8(1)]).toEqual([3, 4]);
      s.format = "number";
      expect(s.read()).toBe(5);
      expect(s.read()).toBe(undefined);
      // Wrong receivers: SyntaxError, as XS's host-data check.
      const TCPproto = Object.getPrototypeOf(s) as TcpSocket;
      for (const receiver of [{}, [], "a string", listener]) {
        expect(thrownClass(() => (TCPproto.read as () => unknown).call(receiver))).toBe("SyntaxError");
        expect(thrownClass(() => TCPproto.write.call(receiver, new ArrayBuffer(1)))).toBe("SyntaxError");
        expect(thrownClass(() => TCPproto.close.call(receiver))).toBe("SyntaxError");
        expect(thrownClass(() => Reflect.get(TCPproto, "remoteAddress", receiver))).toBe("SyntaxError");
      }
      // Closed: every use is a SyntaxError; a second close is nothing.
      s.close();
      s.close();
      for (const use of [() => s.read(), () => s.write(1), () => s.remoteAddress, () => s.remotePort, () => s.format, () => { s.format = "buffer"; }]) {
        expect(thrownClass(use)).toBe("SyntaxError");
      }
      world.runFor(100);
      server[0].close();
      listener.close();
      expect(thrownClass(() => listener.read())).toBe("SyntaxError");
      expect(thrownClass(() => listener.port)).toBe("SyntaxError");
    }));

  it("TCP constructor and from: missing address or port is an Error, a Symbol port a TypeError, a bad from a SyntaxError", () =>
    withSeed(seedFrom(62), (seed) => {
      const { world, A, B } = makePair(seed, { delayMs: 2 });
      expect(thrownClass(() => new A.TCP({ port: 80 }))).toBe("Error");
      expect(thrownClass(() => new A.TCP({ address: B_IP }))).toBe("Error");
      expect(thrownClass(() => new A.TCP({ address: B_IP, port: undefined }))).toBe("Error");
      expect(thrownClass(() => new A.TCP({ address: B_IP, port: -1 }))).toBe("RangeError");
      expect(thrownClass(() => new A.TCP({ address: B_IP, port: 65536 }))).toBe("RangeError");
      expect(thrownClass(() => new A.TCP({ address: B_IP, port: Symbol.match as unknown as number }))).toBe("TypeError");
      expect(thrownClass(() => new A.TCP({ address: B_IP, port: 80, format: "INVALID" as "buffer" }))).toBe("RangeError");
      for (const from of [{}, [], class {}, "x"]) expect(thrownClass(() => new A.TCP({ from: from as unknown as TcpSocket }))).toBe("SyntaxError");
      const listener = new B.Listener({ port: 80 });
      // A connecting socket hands its connection over: the new one is told when it is up.
      const first = new A.TCP({ address: B_IP, port: 80, format: "number", onWritable() { throw new Error("the old socket was called"); } });
      let up = 0;
      const second = new A.TCP({ from: first, onWritable() { up++; } });
      expect(second.format).toBe("buffer");
      expect(second.remotePort).toBe(80);
      expect(thrownClass(() => new A.TCP({ from: first }))).toBe("SyntaxError");
      expect(thrownClass(() => first.read())).toBe("SyntaxError");
      // Another stack's socket is not one of this stack's.
      expect(thrownClass(() => new B.TCP({ from: second }))).toBe("SyntaxError");
      world.runFor(100);
      expect(up).toBe(1);
      second.close();
      world.runFor(100);
      listener.close();
    }));

  it("Listener ports: absent is ephemeral, undefined an Error, strings convert, a Symbol is a TypeError", () =>
    withSeed(seedFrom(63), (seed) => {
      const { B } = makePair(seed);
      expect(thrownClass(() => new B.Listener({ port: undefined }))).toBe("Error");
      expect(thrownClass(() => new B.Listener({ port: -1 }))).toBe("RangeError");
      expect(thrownClass(() => new B.Listener({ port: 65536 }))).toBe("RangeError");
      expect(thrownClass(() => new B.Listener({ port: "http" }))).toBe("RangeError");
      expect(thrownClass(() => new B.Listener({ port: Symbol.match as unknown as number }))).toBe("TypeError");
      const l0 = new B.Listener({ port: "0" });
      expect(l0.port).toBeGreaterThanOrEqual(49152);
      const l80 = new B.Listener({ port: "80" });
      expect(l80.port).toBe(80);
      const le = new B.Listener({});
      expect(le.port).toBeGreaterThanOrEqual(49152);
      expect(thrownClass(() => { l0.format = "123" as "socket/tcp"; })).toBe("RangeError");
      for (const l of [l0, l80, le]) l.close();
    }));

  it("UDP: undefined while nothing waits; SyntaxError when closed or on a wrong receiver; TypeError for Symbols", () =>
    withSeed(seedFrom(64), (seed) => {
      const { world, a } = makePair(seed);
      const UDP = udpSocketClass(a.net);
      expect(thrownClass(() => new UDP({ port: Symbol() as unknown as number }))).toBe("TypeError");
      expect(thrownClass(() => new UDP({ format: "number" as "buffer" }))).toBe("RangeError");
      const u = new UDP({ port: "51515" });
      expect(u.port).toBe(51515);
      expect(u.read()).toBe(undefined);
      expect(u.read(new Uint8Array(4))).toBe(undefined);
      expect(thrownClass(() => u.write(new ArrayBuffer(1), "127.0.0.1", Symbol() as unknown as number))).toBe("TypeError");
      expect(thrownClass(() => u.write(new ArrayBuffer(1), Symbol() as unknown as string, 5))).toBe("TypeError");
      expect(thrownClass(() => u.write(Symbol() as unknown as ArrayBuffer, "127.0.0.1", 5))).toBe("TypeError");
      expect(thrownClass(() => u.write(new ArrayBuffer(1), "127.0.0.1", undefined as unknown as number))).toBe("Error");
      const proto = Object.getPrototypeOf(u) as typeof u;
      for (const receiver of [{}, [], "a string"]) {
        expect(thrownClass(() => (proto.read as () => unknown).call(receiver))).toBe("SyntaxError");
        expect(thrownClass(() => proto.write.call(receiver, new ArrayBuffer(1), "127.0.0.1", 5))).toBe("SyntaxError");
        expect(thrownClass(() => proto.close.call(receiver))).toBe("SyntaxError");
      }
      u.write(Uint8Array.of(1, 2, 3).subarray(1), "127.0.0.1", "51515");
      world.runFor(1);
      const p = u.read()!;
      expect([[...new Uint8Array(p)], p.address]).toEqual([[2, 3], "127.0.0.1"]);
      u.close();
      u.close();
      expect(thrownClass(() => u.read())).toBe("SyntaxError");
      expect(thrownClass(() => u.write(Uint8Array.of(1), "127.0.0.1", 80))).toBe("SyntaxError");
      expect(thrownClass(() => u.port)).toBe("SyntaxError");
    }));
});
