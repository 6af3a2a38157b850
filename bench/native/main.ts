// Wall time in Moddable's runtime (mcsim, release build), built twice by bench/native.ts:
// with manifest_core.json's default (xsnet/src/wire/bulk is moddable/native/bulk.c) and
// with XSNET_BULK pointing at the JavaScript (src/wire/bulk.ts). Times a 1,460-byte
// checksum and copy of each kind the stack makes, and a full TCP data segment (1,448
// bytes, steady bulk through the socket API) one stack to itself over lo and between two
// stacks over the simulated MACs and LAN, beside its floor (tcpSegmentFloor: the payload
// copied in and out, checksummed twice). Each figure is the best of three runs of at least
// 300 ms of Time.ticks (milliseconds). One trace line a figure: `bench KEY NS`.

import Time from "time";
import { copyBytes, copyView, csumPartial, csumPartialView } from "xsnet/src/wire/bulk";
import { SteadyTcp, tcpSegmentFloor } from "xsnet/host-sim/sim/scenarios/steady";

const BYTES = 1460;
const RUN_MS = 300;
const RUNS = 3;
const TCP_BYTES = 2_000_000;

/** Nanoseconds per op: op(n) does n of them; n grows until a run lasts RUN_MS; best of RUNS. */
function nsPerOp(op: (n: number) => void): number {
  let n = 1;
  for (;;) {
    const t0 = Time.ticks;
    op(n);
    const ms = Time.ticks - t0;
    if (ms >= RUN_MS) break;
    n *= ms < RUN_MS / 16 ? 16 : 2;
  }
  let best = Infinity;
  for (let r = 0; r < RUNS; r++) {
    const t0 = Time.ticks;
    op(n);
    const ns = ((Time.ticks - t0) * 1e6) / n;
    if (ns < best) best = ns;
  }
  return best;
}

function report(key: string, ns: number): void {
  trace(`bench ${key} ${ns.toFixed(0)}\n`);
}

function helpers(): void {
  const a = new Uint8Array(4096);
  for (let i = 0; i < a.length; i++) a[i] = (i * 7 + 3) & 0xff;
  const b = new Uint8Array(4096);
  const va = new DataView(a.buffer);
  const vb = new DataView(b.buffer);
  let sink = 0;
  report("csum-view", nsPerOp((n) => { for (let i = 0; i < n; i++) sink += csumPartialView(va, 0, BYTES, 0); }));
  report("csum-bytes", nsPerOp((n) => { for (let i = 0; i < n; i++) sink += csumPartial(a, 0, BYTES, 0); }));
  report("copy-view", nsPerOp((n) => { for (let i = 0; i < n; i++) copyView(vb, 0, va, 0, BYTES); }));
  report("copy-bytes", nsPerOp((n) => { for (let i = 0; i < n; i++) copyBytes(b, 0, a, 0, BYTES); }));
  report("copy-within", nsPerOp((n) => { for (let i = 0; i < n; i++) copyBytes(a, 2048, a, 0, BYTES); }));
  if (sink < 0) trace("unreachable\n");
}

/** Wall ns per data segment of steady bulk; the first 500 KB warm the connection up. */
function segments(key: string, steady: SteadyTcp): void {
  steady.pump(500_000);
  let best = Infinity;
  for (let r = 0; r < RUNS; r++) {
    const t0 = Time.ticks;
    const n = steady.pump(TCP_BYTES);
    const ns = ((Time.ticks - t0) * 1e6) / n;
    if (ns < best) best = ns;
  }
  report(key, best);
}

function run(): void {
  // The JavaScript returns null + 0 for a null sum; the native twin throws a TypeError.
  let mapped = false;
  try {
    csumPartial(new Uint8Array(0), 0, 0, null as unknown as number);
  } catch {
    mapped = true;
  }
  trace(`helpers: ${mapped ? "native" : "javascript"}\n`);
  helpers();
  const memory = new Uint8Array(4608);
  report("floor", nsPerOp((n) => { tcpSegmentFloor(n, memory); }));
  segments("segment-lo", new SteadyTcp(9, true, false));
  segments("segment-lan", new SteadyTcp(9, false, false));
  trace("bench done\n");
}

run();
