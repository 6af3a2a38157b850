// The native helpers in Moddable's runtime (test/moddable-native.test.ts builds this app
// with mcconfig and runs it in mcsim): the four functions of moddable/native/bulk.c, which
// the manifest maps to xsnet/src/wire/bulk, against the JavaScript of src/wire/bulk.ts
// (mapped here as bulk-js) over seeded random buffers, views, offsets, lengths and running
// sums, odd ones included; the same RangeError for bytes outside a buffer; then the
// echo scenarios over the native helpers, whose frame hashes the test compares with V8's.
// Everything it finds goes to trace(), one line a result.

import * as js from "bulk-js";
import * as native from "xsnet/src/wire/bulk";
import { tcpEcho, udpEcho } from "xsnet/host-sim/sim/scenarios/echo";

const SEED = 0x13c0de;
const CASES = 3000;

function xorshift(state: Uint32Array): number {
  let s = state[0];
  s ^= s << 13;
  s ^= s >>> 17;
  s ^= s << 5;
  state[0] = s;
  return state[0];
}

/** An ArrayBuffer of random bytes. */
function randomBuffer(state: Uint32Array, len: number): ArrayBuffer {
  const buf = new Uint8Array(len);
  for (let i = 0; i < len; i++) buf[i] = xorshift(state) >>> 24;
  return buf.buffer;
}

/** A length: small ones (every value up to 40) a third of the time, else up to `max`. */
function randomLength(state: Uint32Array, max: number): number {
  return xorshift(state) % 3 === 0 ? xorshift(state) % 41 : xorshift(state) % (max + 1);
}

/** A running sum: zero, 32 bits, or up to 2^52 (folded first by both). */
function randomSum(state: Uint32Array): number {
  const kind = xorshift(state) % 3;
  return kind === 0 ? 0 : kind === 1 ? xorshift(state) : xorshift(state) * 0x100000 + (xorshift(state) & 0xfffff);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What a call throws, as "RangeError: message", or "" when it returns. */
function thrown(f: () => unknown): string {
  try {
    f();
    return "";
  } catch (e) {
    return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
}

function report(name: string, cases: number, mismatches: number, first: string): void {
  trace(`check ${name}: ${cases} cases, ${mismatches} mismatches${first === "" ? "" : `; first: ${first}`}\n`);
}

function checkSums(): number {
  const state = Uint32Array.of(SEED);
  let bad = 0;
  let badView = 0;
  let first = "";
  let firstView = "";
  for (let n = 0; n < CASES; n++) {
    const buffer = randomBuffer(state, 64 + (xorshift(state) % 2000));
    const at = xorshift(state) % 8;                      // views that start at odd bytes too
    const bytes = new Uint8Array(buffer, at);
    const len = randomLength(state, bytes.length);
    const off = xorshift(state) % (bytes.length - len + 1);
    const sum = randomSum(state);
    const a = native.csumPartial(bytes, off, len, sum);
    const b = js.csumPartial(bytes, off, len, sum);
    if (a !== b && bad++ === 0) first = `csumPartial(at ${at}, off ${off}, len ${len}, sum ${sum}): ${a} != ${b}`;
    const view = new DataView(buffer, at);
    const c = native.csumPartialView(view, off, len, sum);
    if (c !== b && badView++ === 0) firstView = `csumPartialView(at ${at}, off ${off}, len ${len}, sum ${sum}): ${c} != ${b}`;
  }
  report("csumPartial", CASES, bad, first);
  report("csumPartialView", CASES, badView, firstView);
  return bad + badView;
}

function checkCopies(): number {
  const state = Uint32Array.of(SEED + 1);
  const bad = [0, 0, 0];
  const first = ["", "", ""];
  for (let n = 0; n < CASES; n++) {
    const size = 64 + (xorshift(state) % 2000);
    const src = new Uint8Array(randomBuffer(state, size));
    const len = randomLength(state, size - 8);
    const srcOff = xorshift(state) % (size - len + 1);
    const dstOff = xorshift(state) % (size - len + 1);
    const at = xorshift(state) % 8;
    // Between two arrays: a view at `at` into a buffer poisoned with 0xa5.
    const d1 = new Uint8Array(size + 8).fill(0xa5);
    const d2 = new Uint8Array(size + 8).fill(0xa5);
    native.copyBytes(new Uint8Array(d1.buffer, at, size), dstOff, src, srcOff, len);
    js.copyBytes(new Uint8Array(d2.buffer, at, size), dstOff, src, srcOff, len);
    if (!equalBytes(d1, d2) && bad[0]++ === 0) first[0] = `copyBytes(dst at ${at}, ${dstOff}, src, ${srcOff}, ${len})`;
    // Within one array, ranges overlapping either way.
    const s1 = src.slice();
    const s2 = src.slice();
    native.copyBytes(s1, dstOff, s1, srcOff, len);
    js.copyBytes(s2, dstOff, s2, srcOff, len);
    if (!equalBytes(s1, s2) && bad[1]++ === 0) first[1] = `copyBytes(same, ${dstOff}, same, ${srcOff}, ${len})`;
    // DataViews at odd starts, as an application's buffer beside the pool.
    const v1 = new Uint8Array(size + 8).fill(0xa5);
    const v2 = new Uint8Array(size + 8).fill(0xa5);
    const from = new DataView(src.buffer, 0, size);
    native.copyView(new DataView(v1.buffer, at, size), dstOff, from, srcOff, len);
    js.copyView(new DataView(v2.buffer, at, size), dstOff, from, srcOff, len);
    if (!equalBytes(v1, v2) && bad[2]++ === 0) first[2] = `copyView(dst at ${at}, ${dstOff}, src, ${srcOff}, ${len})`;
  }
  report("copyBytes", CASES, bad[0], first[0]);
  report("copyBytes within one array", CASES, bad[1], first[1]);
  report("copyView", CASES, bad[2], first[2]);
  return bad[0] + bad[1] + bad[2];
}

/** Bytes outside a buffer: the same RangeError from both; a wrong type: native's TypeError. */
function checkErrors(): number {
  const u8 = new Uint8Array(10);
  const dv = new DataView(new ArrayBuffer(16), 2);
  const same: [string, () => unknown, () => unknown][] = [
    ["csumPartial past the end", () => native.csumPartial(u8, 8, 3, 0), () => js.csumPartial(u8, 8, 3, 0)],
    ["csumPartial, odd length past the end", () => native.csumPartial(u8, 0, 11, 5), () => js.csumPartial(u8, 0, 11, 5)],
    ["csumPartialView past the end", () => native.csumPartialView(dv, 13, 2, 0), () => js.csumPartialView(dv, 13, 2, 0)],
    ["copyBytes past dst", () => native.copyBytes(u8, 6, new Uint8Array(20), 0, 5), () => js.copyBytes(u8, 6, new Uint8Array(20), 0, 5)],
    ["copyBytes past src", () => native.copyBytes(new Uint8Array(20), 0, u8, 9, 2), () => js.copyBytes(new Uint8Array(20), 0, u8, 9, 2)],
    ["copyView past src", () => native.copyView(new DataView(new ArrayBuffer(8)), 0, dv, 10, 5), () => js.copyView(new DataView(new ArrayBuffer(8)), 0, dv, 10, 5)],
  ];
  let bad = 0;
  for (const [what, n, j] of same) {
    const a = thrown(n);
    const b = thrown(j);
    const ok = a === b && a.startsWith("RangeError: ");
    if (!ok) bad++;
    trace(`check error ${what}: ${ok ? "same" : "DIFFERENT"}: ${a}${ok ? "" : ` / ${b}`}\n`);
  }
  const typed: [string, () => unknown, string][] = [
    ["negative offset", () => native.csumPartial(u8, -1, 2, 0), "RangeError: csumPartial: off is -1, below 0"],
    ["fractional length", () => native.copyView(dv, 0, dv, 0, 1.5), "RangeError: copyView: len is not an integer from 0 to 4294967295"],
    ["a sum that is not a number", () => native.csumPartial(u8, 0, 0, null as unknown as number), "TypeError: csumPartial: sum is not a number"],
    ["a buffer that is not an object", () => native.copyBytes(null as unknown as Uint8Array, 0, u8, 0, 0), "TypeError: copyBytes: dst is not a buffer"],
    ["missing arguments", () => (native.csumPartialView as unknown as (v: DataView) => number)(dv), "TypeError: csumPartialView: 4 arguments, 1 given"],
  ];
  for (const [what, f, want] of typed) {
    const got = thrown(f);
    if (got !== want) bad++;
    trace(`check native ${what}: ${got === want ? "as expected" : "UNEXPECTED"}: ${got}\n`);
  }
  return bad;
}

function run(): void {
  // The JavaScript returns null + 0 for a null sum; the native twin refuses it.
  const mapped = thrown(() => native.csumPartial(new Uint8Array(0), 0, 0, null as unknown as number)).startsWith("TypeError");
  trace(`helpers: ${mapped ? "native (moddable/native/bulk.c)" : "JavaScript (src/wire/bulk.ts)"}\n`);
  const bad = checkSums() + checkCopies() + checkErrors();
  trace(`checks done: ${bad} failed\n`);
  // The test hashes the same runs on V8 (seed 1: two echo scenarios, over a lossy link).
  for (const scenario of [udpEcho, tcpEcho]) {
    const r = scenario(1);
    trace(`scenario ${r.name}/1 ${r.frameHash} ${r.frames} poolsFull=${r.poolsFull}\n`);
  }
  trace("scenarios done\n");
}

run();
