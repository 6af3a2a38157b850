// Bundles the device-side code (src/ and drivers/, entry src/index.ts) into one file for
// the XS engine and for size figures: `npm run build` -> dist/xsnet.js (ES module) and
// dist/xsnet.iife.js (a script defining `xsnet`). Type errors fail the build.
import typescript from "@rollup/plugin-typescript";

export default {
  input: "src/index.ts",
  output: [
    { file: "dist/xsnet.js", format: "es" },
    { file: "dist/xsnet.iife.js", format: "iife", name: "xsnet" },
  ],
  plugins: [
    typescript({
      tsconfig: "./tsconfig.device.json",
      noEmit: false,
      noEmitOnError: true,
      outDir: "dist",
      declaration: false,
      include: ["src/**/*.ts", "drivers/**/*.ts"],
    }),
  ],
};
