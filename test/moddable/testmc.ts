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
import type { EventLoop } from "../../host-sim/sim/event-loop";
import { closeModdableLan, HOST_NAMES, makeModdableLan } from "./lan";
import { makeTimer } from "../../host-sim/moddable/timer";

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

  await drive(loop, () => done, finish, uncaught, turn, TEST_LIMIT_MS, "$DONE");
  const virtualMs = loop.now;
  const events = loop.eventsRun;
  const poolsFull = closeModdableLan(lan);
  if (failure === null && !poolsFull) failure = "a packet pool was not full after the stacks shut down";
  return { name: file.name, pass: failure === null, message: failure ?? "", virtualMs, events, trace: failure === null ? "" : traced };
}

/**
 * Run the simulation one event at a time, letting the engine run its promise jobs between
 * events (so code awaiting a socket's promise goes on at the virtual time it resolved),
 * until done() holds; finish(reason) when nothing is left to run or limitMs pass first,
 * uncaught(exception) when an event throws (a callback of the code under test).
 */
export async function drive(loop: EventLoop, done: () => boolean, finish: (reason: string) => void, uncaught: (err: unknown) => void, turn: Turn, limitMs: number, what: string): Promise<void> {
  while (!done()) {
    await turn();
    if (done()) return;
    if (loop.pending === 0) return finish(`nothing left to run, and no ${what}`);
    if (loop.nextTime > limitMs) return finish(`no ${what} in ${limitMs} ms of virtual time`);
    try {
      loop.step();
    } catch (err) {
      uncaught(err);
    }
  }
}

/** Run the files one after the other. */
export async function runSuite(files: readonly TestFile[], load: LoadModule, turn: Turn): Promise<TestResult[]> {
  const results: TestResult[] = [];
  for (const file of files) results.push(await runTest(file, load, turn));
  return results;
}

/** The text of a $DONE argument or an exception (test262's Test262Error has its own toString). */
export function describe(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
