// The device app bundles with the stack into one script that runs in a bare JavaScript
// context (no Node globals, no modules): it serves, and its client mode checks an echo of
// 200 KB through its own TCP echo over the loopback device, on a clock the script drives.
import typescript from "@rollup/plugin-typescript";
import { rollup } from "rollup";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createContext, runInContext } from "node:vm";
import { describe, expect, it } from "vitest";

const ENTRY = "\0device-app-entry";

describe("device app bundle", () => {
  it("runs in a bare context: echo over lo, checked by the client mode", async () => {
    const repo = process.cwd();
    const dir = mkdtempSync(join(tmpdir(), "xsnet-app-bundle-"));
    const tsconfigPath = join(dir, "tsconfig.json");
    writeFileSync(tsconfigPath, JSON.stringify({
      extends: join(repo, "tsconfig.device.json"),
      compilerOptions: { rootDir: repo },
      include: [join(repo, "src/**/*.ts"), join(repo, "drivers/**/*.ts"), join(repo, "examples/device-app/*.ts")],
      exclude: [join(repo, "examples/device-app/main.ts"), join(repo, "examples/device-app/link-*.ts")],
    }));
    const bundle = await rollup({
      input: ENTRY,
      plugins: [
        {
          name: "entry",
          resolveId: (id) => (id === ENTRY ? ENTRY : null),
          load: (id) => (id === ENTRY
            ? `export { init } from "${repo}/src/index.ts";
               export { startDeviceApp } from "${repo}/examples/device-app/app.ts";
               export { startEchoClient, formatClientResult } from "${repo}/examples/device-app/client.ts";`
            : null),
        },
        // tsconfig.device.json's settings (no Node types) over the stack and the app; main.ts
        // (Moddable's entry, mc/config) and the link modules it picks by platform aside.
        typescript({ tsconfig: tsconfigPath, noEmit: false, noEmitOnError: true, outDir: join(dir, "out"), declaration: false }),
      ],
      onwarn: (w) => {
        throw new Error(`rollup: ${w.message}`);
      },
    });
    const { output } = await bundle.generate({ format: "iife", name: "xsnet" });
    await bundle.close();
    rmSync(dir, { recursive: true, force: true });
    const code = output[0].code;
    expect(code).not.toMatch(/\brequire\(|\bprocess\.|\bBuffer\.|\bsetTimeout\(|\bsetImmediate\(|\bDate\.now\(|\bMath\.random\(/);
    const context = createContext({});
    runInContext(code, context);
    const result = runInContext(
      `(() => {
        let time = 0; let seed = 7;
        const platform = {
          now: () => time,
          requestRun: () => {},
          random32: () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0),
        };
        const net = xsnet.init({ skbSlots: 128, skbRecords: 160, tcpSndBufBytes: 16384, tcpRcvBufBytes: 16384 }, platform);
        const app = xsnet.startDeviceApp(net, { address: "127.0.0.1", chunkBytes: 4096 });
        let done = null;
        xsnet.startEchoClient(app, { address: "127.0.0.1", port: 7, bytes: 200000, onDone: (r) => { done = r; } });
        for (let i = 0; i < 20000 && done === null; i++) { time += 0.25; net.softnet.run(true); }
        const line = done === null ? "not done" : xsnet.formatClientResult(done);
        const echo = { ...app.stats.echo };
        for (let i = 0; i < 200; i++) { time += 1; net.softnet.run(true); }
        app.close();
        net.shutdown();
        return { line, echo, inUse: net.pool.inUse, typeofProcess: typeof process, typeofRequire: typeof require };
      })()`,
      context,
    );
    expect(result.line).toMatch(/^client: 200000 bytes sent to 127\.0\.0\.1:7 and echoed back intact/);
    expect(result.echo).toEqual({ connections: 1, bytesIn: 200000, bytesOut: 200000 });
    expect(result.inUse).toBe(0);
    expect(result.typeofProcess).toBe("undefined");
    expect(result.typeofRequire).toBe("undefined");
  });
});
