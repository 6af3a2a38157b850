// The device build: src/ and drivers/ bundle into one self-contained script that runs in a
// bare JavaScript context (no Node globals, no modules): a first proof that nothing on the
// device side reaches for Node. The XS engine run is the stronger proof.
import typescript from "@rollup/plugin-typescript";
import { rollup } from "rollup";
import { createContext, runInContext } from "node:vm";
import { describe, expect, it } from "vitest";

describe("device bundle", () => {
  it("builds with no imports and pings 127.0.0.1 inside a bare context", async () => {
    const bundle = await rollup({
      input: "src/index.ts",
      plugins: [typescript({ tsconfig: "./tsconfig.device.json", noEmit: false, noEmitOnError: true, outDir: "dist", declaration: false, include: ["src/**/*.ts", "drivers/**/*.ts"] })],
      onwarn: (w) => {
        throw new Error(`rollup: ${w.message}`);
      },
    });
    const { output } = await bundle.generate({ format: "iife", name: "xsnet" });
    await bundle.close();
    const code = output[0].code;
    expect(code).not.toMatch(/\brequire\(|\bprocess\.|\bBuffer\.|\bsetTimeout\(|\bDate\.now\(|\bMath\.random\(/);
    const context = createContext({});
    runInContext(code, context);
    const result = runInContext(
      `(() => {
        let time = 0; let wanted = 0; let seed = 7;
        const platform = {
          now: () => time,
          requestRun: () => { wanted++; },
          random32: () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0),
        };
        const net = xsnet.init({ skbSlots: 16, skbRecords: 20, reasmSkbsMax: 8 }, platform);
        const ping = new xsnet.Pinger(net);
        ping.send("127.0.0.1", 3000);
        for (let i = 0; i < 20; i++) { time += 1; net.softnet.run(); }
        net.shutdown();
        return { received: ping.received, inUse: net.pool.inUse, wanted,
                 typeofProcess: typeof process, typeofRequire: typeof require };
      })()`,
      context,
    );
    expect(result).toEqual({ received: 1, inUse: 0, wanted: result.wanted, typeofProcess: "undefined", typeofRequire: "undefined" });
    expect(result.wanted).toBeGreaterThan(0);
  });
});
