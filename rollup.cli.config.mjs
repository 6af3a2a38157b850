// The host programs as plain ES modules for Node: `npm run build:cli`.
// - dist/cli.mjs: host-sim/cli.ts (the demo and the device mode). bench/versus.ts runs the
//   device from it, as tsx's loader (a worker thread and source maps) adds to every packet's
//   latency.
// - dist/ping-floor-device.mjs: bench/ping-floor-device.ts, the least a Node program does to
//   answer ping on the link (bench/versus.ts --ping-floor).
import typescript from "@rollup/plugin-typescript";

const plugin = () =>
  typescript({
    tsconfig: "./tsconfig.json",
    noEmit: false,
    noEmitOnError: true,
    outDir: "dist",
    declaration: false,
    include: ["src/**/*.ts", "drivers/**/*.ts", "host-sim/**/*.ts", "examples/**/*.ts", "bench/**/*.ts"],
  });
const external = (id) => id.startsWith("node:") || !(id.startsWith(".") || id.startsWith("/"));

export default [
  { input: "host-sim/cli.ts", output: { file: "dist/cli.mjs", format: "es", inlineDynamicImports: true }, external, plugins: [plugin()] },
  { input: "bench/ping-floor-device.ts", output: { file: "dist/ping-floor-device.mjs", format: "es" }, external, plugins: [plugin()] },
];
