// Moddable's test harness for one test file, as testmc (tools/testmc/main.js of the SDK) and
// test262's host (tools/test262/_262.c) define it on a device, here with the device being an
// xsnet stack on a simulated LAN in virtual time (lan.ts). The test runs as an ES module whose
// imports are mapped as a Moddable manifest maps them: embedded:io/socket/tcp, listener and
// udp to xsnet's classes for the device's stack (hostProvider's device.network entries),
// "timer" to Moddable's Timer on the virtual clock. Its globals are testmc's and test262's:
//   $DONE(error)   the first call ends the test: no argument (or a falsy one) passes, anything
//                  else fails with its text (_262.c _xsbug_done; later calls are ignored)
//   $DO(f)         a function that runs f, then $DONE() or $DONE(the exception) (main.js)
//   $TESTMC        timeout(ms, message) fails the test after ms; HostObject, HostObjectChunk
//                  and HostBuffer, objects that are no socket (main.js)
//   $NETWORK       connected (a promise: the LAN is up), resolve(name) (a table), invalidDomain
//   assert         test262's harness.js, loaded as it is by the engine's loader
//   trace          collected, shown when the test fails
// Every test file is flagged [async, module]: it passes only by $DONE(). It fails when its
// module body throws, when a callback throws out of the stack's loop or a timer (an uncaught
// exception on a device), when nothing is left to run and $DONE was not called, and when the
// device's or the server's packet pool is not full after both stacks shut down.
//
// The engine-specific part is the loader (LoadModule): run.ts uses node:vm's SourceTextModule
// on V8, xs-entry.ts a Compartment with a ModuleSource inside XS. Node-free: runs in XS too.

import { hostProvider } from "../../src/socket/provider";
import { closeModdableLan, HOST_NAMES, makeModdableLan } from "./lan";
import { makeTimer } from "./timer";

export interface TestFile {
  /** path below tests/modules/io/socket, e.g. "tcp/close.js" */
  name: string;
  source: string;
}

export interface TestResult {
  name: string;
  pass: boolean;
  /** why it failed ("" when it passed) */
  message: string;
  /** virtual time when it ended */
  virtualMs: number;
  /** simulation events run */
  events: number;
  /** what the test traced (kept for failures) */
  trace: string;
}

/** A module namespace: export name -> value. */
export type ModuleExports = Readonly<Record<string, unknown>>;
export type ModuleMap = Readonly<Record<string, ModuleExports>>;

/**
 * Runs a test file as an ES module (its imports from `modules`, `globals` and test262's
 * harness.js in its global scope); settles when the module body has run to its end.
 */
export type LoadModule = (file: TestFile, modules: ModuleMap, globals: ModuleExports) => Promise<unknown>;

/** Lets the engine run every promise job queued so far (one macrotask turn). */
export type Turn = () => Promise<void>;

/** Virtual time after which a test that never called $DONE fails (its own timeouts are 1 to 5 s). */
export const TEST_LIMIT_MS = 60_000;

const TRACE_MAX = 4000;

// Objects that are no socket, for calls with a wrong receiver (main.js: native host objects).
class HostObject {}
class HostObjectChunk {}
class HostBuffer {}

/** Run one test; resolves to its result (never rejects). */
export async function runTest(file: TestFile, load: LoadModule, turn: Turn, seed = 1): Promise<TestResult> {
  const lan = makeModdableLan(seed);
  const loop = lan.world.loop;
  let done = false;
  let failure: string | null = null;
  let traced = "";

  const finish = (error: unknown): void => {
    if (done) return;
    done = true;
    if (error) failure = describe(error);
  };
  const uncaught = (err: unknown): void => finish(`uncaught exception: ${describe(err)}`);

  const Timer = makeTimer(loop, uncaught);
  const $DONE = (error?: unknown): void => finish(error);
  const $DO = (f: (...args: unknown[]) => void) =>
    function (this: unknown, ...args: unknown[]): void {
      try {
        f.apply(this, args);
        $DONE();
      } catch (e) {
        $DONE(e);
      }
    };
  const $TESTMC = Object.freeze({
    timeout(ms: number, message = "timeout"): void {
      Timer.set(() => $DONE(message), ms);
    },
    HostObject,
    HostObjectChunk,
    HostBuffer,
    config: Object.freeze({}),
    wifiInvalidConnectionTimeout: 30_000,
    wifiConnectionTimeout: 20_000,
    wifiScanTimeout: 10_000,
  });
  const $NETWORK = Object.freeze({
    /** the LAN is up from the start */
    get connected(): Promise<void> {
      return Promise.resolve();
    },
    wifi(): Promise<{ ssid: string; password: string }> {
      return Promise.resolve({ ssid: "xsnet-sim", password: "" });
    },
    resolve(domain: string): Promise<string> {
      const address = HOST_NAMES[domain];
      return address !== undefined ? Promise.resolve(address) : Promise.reject(new Error(`$NETWORK.resolve: no address for ${domain}`));
    },
    invalidDomain: "fail.moddable.com",
  });
  const trace = (...args: unknown[]): void => {
    if (traced.length < TRACE_MAX) traced += args.map((a) => String(a)).join("");
  };

  // The device's classes, as its start-up would put them in device.network.
  const network = hostProvider(lan.device.net);
  const modules: ModuleMap = {
    "embedded:io/socket/tcp": Object.freeze({ default: network.tcp?.io }),
    "embedded:io/socket/listener": Object.freeze({ default: network.listener?.io }),
    "embedded:io/socket/udp": Object.freeze({ default: network.udp?.io }),
    timer: Object.freeze({ default: Timer }),
  };
  const globals = Object.freeze({ $DONE, $DO, $TESTMC, $NETWORK, trace });

  // _262.c: an exception while the module evaluates ends the test; its completion does not
  // (an async test waits for $DONE).
  let loading: Promise<unknown>;
  try {
    loading = load(file, modules, globals);
  } catch (err) {
    loading = Promise.reject(err);
  }
  loading.then(undefined, (err: unknown) => finish(err === undefined ? "the module's evaluation was rejected" : err));

  while (!done) {
    await turn();
    if (done) break;
    if (loop.pending === 0) {
      finish("nothing left to run, and no $DONE");
      break;
    }
    if (loop.nextTime > TEST_LIMIT_MS) {
      finish(`no $DONE in ${TEST_LIMIT_MS} ms of virtual time`);
      break;
    }
    try {
      loop.step();
    } catch (err) {
      uncaught(err);
    }
  }
  const virtualMs = loop.now;
  const events = loop.eventsRun;
  const poolsFull = closeModdableLan(lan);
  if (failure === null && !poolsFull) failure = "a packet pool was not full after the stacks shut down";
  return { name: file.name, pass: failure === null, message: failure ?? "", virtualMs, events, trace: failure === null ? "" : traced };
}

/** Run the files one after the other. */
export async function runSuite(files: readonly TestFile[], load: LoadModule, turn: Turn): Promise<TestResult[]> {
  const results: TestResult[] = [];
  for (const file of files) results.push(await runTest(file, load, turn));
  return results;
}

/** The text of a $DONE argument or an exception (test262's Test262Error has its own toString). */
function describe(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * What XS on a device has and the engines here may lack (XS under xsnap lacks all three;
 * Node 20's V8 lacks Promise.withResolvers): Promise.withResolvers (ES2024),
 * ArrayBuffer.fromString and String.fromArrayBuffer (XS's own, UTF-8). Installed on the
 * engine's intrinsics when missing; returns the names installed.
 */
export function installDeviceBuiltins(): string[] {
  const added: string[] = [];
  const define = (target: object, name: string, value: (...args: never[]) => unknown, label: string): void => {
    if (typeof (target as Record<string, unknown>)[name] === "function") return;
    Object.defineProperty(target, name, { value, writable: true, configurable: true, enumerable: false });
    added.push(label);
  };
  define(Promise, "withResolvers", function withResolvers<T>(this: PromiseConstructor) {
    let resolve!: (value: T) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new this<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  }, "Promise.withResolvers");
  define(ArrayBuffer, "fromString", (text: string): ArrayBuffer => utf8Encode(String(text)).buffer as ArrayBuffer, "ArrayBuffer.fromString");
  define(String, "fromArrayBuffer", (buffer: ArrayBuffer): string => {
    if (!(buffer instanceof ArrayBuffer)) throw new TypeError("String.fromArrayBuffer: argument is not an ArrayBuffer");
    return utf8Decode(new Uint8Array(buffer));
  }, "String.fromArrayBuffer");
  return added;
}

/** UTF-8 of a string (a lone surrogate becomes U+FFFD). */
export function utf8Encode(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 3);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x80) out[n++] = c;
    else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 63);
    } else if (c < 0x10000) {
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 63);
      out[n++] = 0x80 | (c & 63);
    } else {
      out[n++] = 0xf0 | (c >> 18);
      out[n++] = 0x80 | ((c >> 12) & 63);
      out[n++] = 0x80 | ((c >> 6) & 63);
      out[n++] = 0x80 | (c & 63);
    }
  }
  return out.slice(0, n);
}

/** A string from UTF-8 (a malformed sequence becomes U+FFFD). */
export function utf8Decode(bytes: Uint8Array): string {
  let s = "";
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    let c = 0xfffd;
    let need = 0;
    let min = 0;
    if (b < 0x80) c = b;
    else if (b >= 0xc2 && b < 0xe0) { c = b & 0x1f; need = 1; min = 0x80; }
    else if (b >= 0xe0 && b < 0xf0) { c = b & 0x0f; need = 2; min = 0x800; }
    else if (b >= 0xf0 && b < 0xf5) { c = b & 0x07; need = 3; min = 0x10000; }
    i++;
    let ok = true;
    for (let k = 0; k < need; k++) {
      const x = bytes[i];
      if (i >= bytes.length || (x & 0xc0) !== 0x80) {
        ok = false;
        break;
      }
      c = (c << 6) | (x & 0x3f);
      i++;
    }
    if (!ok || (need > 0 && (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)))) c = 0xfffd;
    s += String.fromCodePoint(c);
  }
  return s;
}
