// XS stack depth in Moddable's runtime (issue 13): bench/xs-stack built for lin and run in
// mcsim measures the deepest stack use of every path of host-sim/sim/stack-paths.ts, entered
// as a board's Timer callback enters xsnet (bench/xs-stack/main.ts says how). Each path must
// run to its end and stay within its ceiling below.
//
// The bound the issue sets is 75 % of XS's default 384 slots (288): not reached yet. The
// ceilings are today's figures (rounded up to 8 slots): a change that makes a path deeper
// fails here; one that makes it shallower lowers its ceiling in the same commit, until
// every path is within STACK_SLOTS_BOUND and the ceilings go.
// Needs Linux, the Moddable SDK and xvfb-run; skipped with one line otherwise.
import { describe, expect, it } from "vitest";
import { measureStack, STACK_SLOTS_BOUND, STACK_SLOTS_DEFAULT, type StackFigure } from "../bench/xs-stack";
import { moddableSkipReason } from "../host-sim/moddable-sdk";

const CEILINGS: Readonly<Record<string, number>> = Object.freeze({
  "ping-every-size": 272,
  "http-service": 448,
  arp: 272,
  "ping-frag-lossy": 296,
  "pool-exhaustion": 272,
  router: 296,
  "udp-echo": 296,
  "tcp-echo": 408,
  "tcp-bulk-clean": 416,
  "tcp-bulk-loss1": 416,
  "tcp-bulk-loss5": 416,
  "tcp-bulk-rtt100loss1": 416,
  "tcp-bulk-rtt100": 416,
  "tcp-bulk-wscale": 416,
  "tcp-bulk-sack": 416,
  "tcp-zero-window": 408,
  "tcp-keepalive": 328,
  "tcp-connect-fail": 280,
  "tcp-reqresp": 424,
  "tcp-synflood": 416,
});

const SKIP = moddableSkipReason(true);
if (SKIP !== null) console.log(`test/moddable-stack.test.ts skipped: ${SKIP}`);

describe.skipIf(SKIP !== null)("XS stack depth per path in Moddable's runtime (mcsim)", () => {
  it("every path runs to its end within its ceiling", async () => {
    const { figures, trace } = await measureStack();
    const byPath = new Map<string, StackFigure>(figures.map((f) => [f.path, f]));
    expect([...byPath.keys()].sort(), `paths measured:\n${trace.slice(-2000)}`).toEqual(Object.keys(CEILINGS).sort());
    const report = figures.map((f) => `${f.path}: ${f.slots} slots (${Math.round((100 * f.slots) / STACK_SLOTS_DEFAULT)} % of ${STACK_SLOTS_DEFAULT}; bound ${STACK_SLOTS_BOUND})`).join("\n");
    console.log(report);
    for (const f of figures) {
      expect(f.done, `${f.path} did not run to its end: ${f.counts}`).toBe(true);
      expect(f.slots, `${f.path}: ${f.slots} slots, its ceiling ${CEILINGS[f.path]}\n${f.frames}`).toBeLessThanOrEqual(CEILINGS[f.path]);
    }
  }, 1_200_000);
});
