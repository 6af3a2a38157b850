// XS stack depth in Moddable's runtime (issue 13): bench/xs-stack built for lin and run in
// mcsim measures the deepest stack use of every path of host-sim/sim/stack-paths.ts, entered
// as a board's Timer callback enters xsnet (bench/xs-stack/main.ts says how). Each path must
// run to its end within 75 % of XS's default 384 slots (STACK_SLOTS_BOUND, 288), the room
// the issue leaves a board app's own frames; a change that makes a path deeper than that fails.
// Needs Linux, the Moddable SDK and xvfb-run; skipped with one line otherwise.
import { describe, expect, it } from "vitest";
import { measureStack, STACK_SLOTS_BOUND, STACK_SLOTS_DEFAULT, type StackFigure } from "../bench/xs-stack";
import { moddableSkipReason } from "../host-sim/moddable-sdk";
import { stackPaths } from "../host-sim/sim/stack-paths";

const SKIP = moddableSkipReason(true);
if (SKIP !== null) console.log(`test/moddable-stack.test.ts skipped: ${SKIP}`);

describe.skipIf(SKIP !== null)("XS stack depth per path in Moddable's runtime (mcsim)", () => {
  it(`every path runs to its end within ${STACK_SLOTS_BOUND} of the default ${STACK_SLOTS_DEFAULT} slots`, async () => {
    const { figures, trace } = await measureStack();
    const byPath = new Map<string, StackFigure>(figures.map((f) => [f.path, f]));
    expect([...byPath.keys()].sort(), `paths measured:\n${trace.slice(-2000)}`).toEqual(Object.keys(stackPaths()).sort());
    const report = figures.map((f) => `${f.path}: ${f.slots} slots (${Math.round((100 * f.slots) / STACK_SLOTS_DEFAULT)} % of ${STACK_SLOTS_DEFAULT}; bound ${STACK_SLOTS_BOUND})`).join("\n");
    console.log(report);
    for (const f of figures) {
      expect(f.done, `${f.path} did not run to its end: ${f.counts}`).toBe(true);
      expect(f.slots, `${f.path}: ${f.slots} slots, over the bound of ${STACK_SLOTS_BOUND}\n${f.frames}`).toBeLessThanOrEqual(STACK_SLOTS_BOUND);
    }
  }, 1_200_000);
});
