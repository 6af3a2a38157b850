// Flash a device pays for: four device bundles, each from its own entry point
// (bench/size/*.ts), bundled and minified by esbuild as a board build would link them,
// printed as `bundle NAME: N bytes minified, M bytes gzip`.
//
//   npm run bench:size [-- --docs]
//
// --docs writes the table into docs/BENCHMARKS.md (section size).

import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { build, version as esbuildVersion } from "esbuild";
import { docsRequested, runNote, writeDocsSection } from "./docs";

export const SIZE_ENTRIES = Object.freeze(["full", "ping", "udp", "tcp"] as const);
export type SizeEntry = (typeof SIZE_ENTRIES)[number];

const REPO = fileURLToPath(new URL("..", import.meta.url));

/** The minified bundle of one entry (ES module, ES2022, tree-shaken). */
export async function bundle(name: SizeEntry): Promise<string> {
  const result = await build({
    entryPoints: [`${REPO}bench/size/${name}.ts`],
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2022",
    platform: "neutral",
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0].text;
}

export async function sizes(): Promise<{ name: SizeEntry; minified: number; gzip: number; code: string }[]> {
  const out = [];
  for (const name of SIZE_ENTRIES) {
    const code = await bundle(name);
    out.push({ name, minified: Buffer.byteLength(code), gzip: gzipSync(code, { level: 9 }).length, code });
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows = await sizes();
  const full = rows[0].minified;
  for (const r of rows) {
    console.log(`bundle ${r.name}: ${r.minified} bytes minified, ${r.gzip} bytes gzip (${((100 * r.minified) / full).toFixed(0)} % of full)`);
  }
  if (docsRequested()) {
    writeDocsSection("size", [
      `\`npm run bench:size\`, ${runNote()} (esbuild ${esbuildVersion}; sizes depend on the code, not the machine):`,
      "",
      "| bundle (entry in bench/size/) | minified bytes | gzip bytes | of full |",
      "|---|---|---|---|",
      ...rows.map((r) => `| ${r.name} | ${r.minified} | ${r.gzip} | ${((100 * r.minified) / full).toFixed(0)} % |`),
    ]);
  }
}
