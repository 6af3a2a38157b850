// The host program (host-sim/cli.ts: the demo and the device mode) as one plain ES module
// for Node, dist/cli.mjs: `npm run build:cli`. bench/versus.ts runs the device from it, as
// tsx's loader (a worker thread and source maps) adds to every packet's latency.
import typescript from "@rollup/plugin-typescript";

export default {
  input: "host-sim/cli.ts",
  output: { file: "dist/cli.mjs", format: "es", inlineDynamicImports: true },
  external: (id) => id.startsWith("node:") || !(id.startsWith(".") || id.startsWith("/")),
  plugins: [
    typescript({
      tsconfig: "./tsconfig.json",
      noEmit: false,
      noEmitOnError: true,
      outDir: "dist",
      declaration: false,
      include: ["src/**/*.ts", "drivers/**/*.ts", "host-sim/**/*.ts", "examples/**/*.ts"],
    }),
  ],
};
