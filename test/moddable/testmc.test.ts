// The Moddable test harness itself (testmc.ts), with test bodies written here as functions
// (a loader that calls them instead of loading a module): $DONE's first call decides, a
// module that throws fails, an exception out of a callback fails, a test with nothing left to
// run fails, $TESTMC.timeout fails at its virtual time; the simulated internet answers HTTP
// and SNTP; Timer, $NETWORK.resolve and the UTF-8 builtins behave as on a device.
import { describe, expect, it } from "vitest";
import { EPOCH_MS, INTERNET_IP } from "./lan";
import { NTP_UNIX_OFFSET_S } from "./sntp-server";
import { topicMatches } from "./mqtt-broker";
import { installDeviceBuiltins, TextDecoder as ModdableTextDecoder, utf8Decode, utf8Encode } from "../../host-sim/moddable/runtime";
import { runTest, type LoadModule, type ModuleExports, type ModuleMap, type TestResult } from "./testmc";
import type { ModdableTimer } from "../../host-sim/moddable/timer";
import type { TcpSocketClass } from "../../src/socket/tcp";
import type { UdpSocketClass } from "../../src/socket/udp";

interface G {
  $DONE: (error?: unknown) => void;
  $DO: (f: (...args: unknown[]) => void) => (...args: unknown[]) => void;
  $TESTMC: { timeout(ms: number, message?: string): void; HostObject: new () => object };
  $NETWORK: { connected: Promise<void>; resolve(name: string): Promise<string>; invalidDomain: string };
  trace: (...args: unknown[]) => void;
}
type Body = (modules: ModuleMap, g: G) => Promise<unknown> | void;

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function run(body: Body): Promise<TestResult> {
  const load: LoadModule = async (_file, modules, globals: ModuleExports) => body(modules, globals as unknown as G);
  return runTest({ name: "body.js", source: "" }, load, turn);
}

const classOf = <T>(modules: ModuleMap, name: string): T => modules[name].default as T;

describe("testmc harness", () => {
  it("$DONE(): pass; $DONE(reason): fail with its text; the first call decides", async () => {
    expect((await run((_m, g) => g.$DONE())).pass).toBe(true);
    const failed = await run((_m, g) => {
      g.$DONE("the reason");
      g.$DONE();
    });
    expect([failed.pass, failed.message]).toEqual([false, "the reason"]);
    const first = await run((_m, g) => {
      g.$DONE();
      g.$DONE("too late");
    });
    expect(first.pass).toBe(true);
  });

  it("a module that throws fails; a test with nothing left to run fails; timeout fails at its time", async () => {
    const threw = await run(() => {
      throw new TypeError("in the body");
    });
    expect([threw.pass, threw.message]).toEqual([false, "TypeError: in the body"]);
    const idle = await run(() => {});
    expect([idle.pass, idle.message]).toEqual([false, "nothing left to run, and no $DONE"]);
    const timedOut = await run((_m, g) => g.$TESTMC.timeout(250));
    expect([timedOut.pass, timedOut.message, timedOut.virtualMs]).toEqual([false, "timeout", 250]);
  });

  it("$DO passes when its function returns and fails with what it throws; a callback's exception fails the test", async () => {
    expect((await run((_m, g) => g.$DO(() => {})())).pass).toBe(true);
    const failed = await run((_m, g) => g.$DO(() => { throw new Error("inside"); })());
    expect(failed.message).toBe("Error: inside");
    const uncaught = await run((m) => {
      const Timer = classOf<ModdableTimer>(m, "timer");
      Timer.set(() => { throw new RangeError("from a timer"); }, 10);
    });
    expect([uncaught.pass, uncaught.message, uncaught.virtualMs]).toEqual([false, "uncaught exception: RangeError: from a timer", 10]);
    const fromSocket = await run(async (m, g) => {
      const TCP = classOf<TcpSocketClass>(m, "embedded:io/socket/tcp");
      new TCP({ address: await g.$NETWORK.resolve("www.example.com"), port: 80, onWritable() { throw new Error("from onWritable"); } });
    });
    expect(fromSocket.message).toBe("uncaught exception: Error: from onWritable");
  });

  it("Timer: set, repeat, schedule and clear on the virtual clock", async () => {
    const fired: string[] = [];
    const r = await run((m, g) => {
      const Timer = classOf<ModdableTimer>(m, "timer");
      let n = 0;
      const at = (what: string) => fired.push(`${what}`);
      Timer.set(() => at("set 5"), 5);
      const rep = Timer.repeat((id) => {
        at(`repeat ${++n}`);
        if (n === 3) Timer.clear(id);
      }, 10);
      const later = Timer.set(() => at("rescheduled"), 1);
      Timer.schedule(later, 100);
      const never = Timer.set(() => at("cleared"), 2);
      Timer.clear(never);
      Timer.set(() => g.$DONE(), 200);
      expect(rep).toBeDefined();
    });
    expect(r.pass).toBe(true);
    expect(fired).toEqual(["set 5", "repeat 1", "repeat 2", "repeat 3", "rescheduled"]);
  });

  it("$NETWORK resolves the simulated internet's names, and www.example.com answers HTTP/1.1", async () => {
    let head = "";
    const r = await run(async (m, g) => {
      await g.$NETWORK.connected;
      expect(await g.$NETWORK.resolve("www.example.com")).toBe(INTERNET_IP);
      await expect(g.$NETWORK.resolve(g.$NETWORK.invalidDomain)).rejects.toThrow(/no address/);
      const TCP = classOf<TcpSocketClass>(m, "embedded:io/socket/tcp");
      new TCP({
        address: INTERNET_IP,
        port: 80,
        onWritable() {
          if (head === "") this.write(utf8Encode("GET / HTTP/1.1\r\nHost: www.example.com\r\nConnection: close\r\n\r\n"));
          head = " ";
        },
        onReadable(n) {
          head = utf8Decode(new Uint8Array(this.read(n)));
        },
        onError() {
          g.$DONE();
        },
      });
    });
    expect(r.pass).toBe(true);
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n\{"host":"www\.example\.com"\}$/);
  });

  it("pool.ntp.org answers SNTP: mode 4, stratum 1, the request's transmit time as originate, the clock as transmit", async () => {
    let reply: Uint8Array | null = null;
    let at = 0;
    const r = await run(async (m, g) => {
      const UDP = classOf<UdpSocketClass>(m, "embedded:io/socket/udp");
      const request = new Uint8Array(48);
      request[0] = (4 << 3) | 3;
      request.set([1, 2, 3, 4, 5, 6, 7, 8], 40);
      const u = new UDP({
        onReadable() {
          reply = new Uint8Array(this.read()!);
          g.$DONE();
        },
      });
      u.write(request, await g.$NETWORK.resolve("pool.ntp.org"), 123);
    });
    expect(r.pass).toBe(true);
    at = r.virtualMs;
    const p = reply as unknown as Uint8Array;
    const v = new DataView(p.buffer);
    expect([p.length, p[0], p[1]]).toEqual([48, (4 << 3) | 4, 1]);
    expect([...p.subarray(24, 32)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const seconds = v.getUint32(40) - NTP_UNIX_OFFSET_S;
    expect(Math.abs(seconds * 1000 + (v.getUint32(44) / 2 ** 32) * 1000 - (EPOCH_MS + at))).toBeLessThan(10);
  });

  it("the device builtins: UTF-8 both ways as TextEncoder and TextDecoder do", () => {
    installDeviceBuiltins();
    const text = "a é € 𝄞 \u0000 z";
    expect([...utf8Encode(text)]).toEqual([...new TextEncoder().encode(text)]);
    expect(utf8Decode(new TextEncoder().encode(text))).toBe(text);
    expect(utf8Decode(Uint8Array.of(0x61, 0xff, 0xc3))).toBe("a\ufffd\ufffd");
    const A = ArrayBuffer as unknown as { fromString(s: string): ArrayBuffer };
    const S = String as unknown as { fromArrayBuffer(b: ArrayBuffer): string };
    expect(S.fromArrayBuffer(A.fromString(text))).toBe(text);
    expect(() => S.fromArrayBuffer(new Uint8Array(2) as unknown as ArrayBuffer)).toThrow(TypeError);
    const { promise, resolve } = (Promise as unknown as { withResolvers<T>(): { promise: Promise<T>; resolve(v: T): void } }).withResolvers<number>();
    resolve(7);
    return expect(promise).resolves.toBe(7);
  });

  it("text/decoder keeps a sequence cut at a buffer's end for the next (stream: true)", () => {
    const bytes = new TextEncoder().encode("€uro 𝄞");
    const d = new ModdableTextDecoder();
    let out = "";
    for (let i = 0; i < bytes.length; i++) out += d.decode(bytes.subarray(i, i + 1), { stream: true });
    expect(out + d.decode()).toBe("€uro 𝄞");
  });

  it("the broker's MQTT topic filters (MQTT 3.1.1 4.7)", () => {
    expect(topicMatches("xsnet/+", "xsnet/a")).toBe(true);
    expect(topicMatches("xsnet/+", "xsnet/a/b")).toBe(false);
    expect(topicMatches("xsnet/#", "xsnet/a/b")).toBe(true);
    expect(topicMatches("xsnet/#", "xsnet")).toBe(true);
    expect(topicMatches("#", "$SYS/x")).toBe(false);
    expect(topicMatches("a/+/c", "a/b/c")).toBe(true);
    expect(topicMatches("a/b", "a/b/c")).toBe(false);
  });
});
