// What each LAN service (src/lan) costs a device: the RAM it fixes when it is made (its
// tables, scratch buffers, timer and socket), measured twice, as typed-array bytes in Node
// and as heap slots XS (xsnap) adds; and the flash it adds to a device bundle (esbuild,
// minified, as bench/size.ts bundles "full"). Printed, never asserted.
//
//   npx tsx bench/lan.ts [--no-xs] [--docs]
//
// --docs writes the table into docs/BENCHMARKS.md (section lan).

import { execFileSync } from "node:child_process";
import { gzipSync } from "node:zlib";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { XS_SLOT_BYTES } from "../src/config";
import { registerNetdev } from "../src/core/link";
import type { Net } from "../src/core/net";
import type { NetDevice } from "../src/core/netdevice";
import { init } from "../src/stack";
import { NULL_OPS, typedArrayBytesMadeBy } from "./ram";
import { bundle } from "./size";
import { Printed, commandLine, docsRequested, printedSection, runNote, writeDocsSection } from "./docs";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);

/** A service: its module, the names it exports that a device app uses, and how it is made. */
interface LanService {
  readonly name: string;
  readonly module: string;
  readonly exports: readonly string[];
  /** JavaScript made into `(m, net, dev) => service`, m the module's exports */
  readonly make: string;
}

export const LAN_SERVICES: readonly LanService[] = Object.freeze([
  { name: "DHCP client", module: "src/lan/dhcp-client.ts", exports: ["DhcpClient"], make: "(m, net, dev) => new m.DhcpClient(net, dev, { hostname: 'xsnet' })" },
  { name: "DNS resolver (8 cache entries, 4 queries)", module: "src/lan/dns-resolver.ts", exports: ["DnsResolver"], make: "(m, net) => new m.DnsResolver(net, { servers: [] })" },
  { name: "mDNS responder (a host name, one service)", module: "src/lan/mdns.ts", exports: ["MdnsResponder"], make: "(m, net, dev) => new m.MdnsResponder(net, dev, { hostname: 'xsnet', services: [{ type: '_http._tcp', port: 80, txt: ['path=/'] }] })" },
  { name: "SNTP client", module: "src/lan/sntp.ts", exports: ["SntpClient"], make: "(m, net) => new m.SntpClient(net, { servers: [], onTime() {} })" },
]);


/** Typed-array bytes the service's constructor allocates (bench/ram.ts's counter). */
async function typedBytes(service: LanService): Promise<number> {
  const m = (await import(pathToFileURL(`${REPO}${service.module}`).href)) as Record<string, unknown>;
  const make = (0, eval)(service.make) as (m: Record<string, unknown>, net: Net, dev: NetDevice) => unknown;
  const platform = { now: () => 0, requestRun: () => {}, random32: () => 0x12345678 };
  const net = init({}, platform);
  const dev = registerNetdev(net, "eth0", NULL_OPS, new Uint8Array([2, 0, 0, 0, 0, 1]));
  const { bytes } = typedArrayBytesMadeBy(() => make(m, net, dev));
  net.shutdown();
  return bytes;
}

/** Flash: the "full" bundle with the service's exports added, less "full" alone. */
async function flashBytes(service: LanService): Promise<{ minified: number; gzip: number }> {
  const full = await bundle("full");
  const result = await build({
    stdin: {
      contents: `export { start } from "./bench/size/full";\nexport { ${service.exports.join(", ")} } from "./${service.module.replace(/\.ts$/, "")}";\n`,
      resolveDir: REPO, loader: "ts",
    },
    bundle: true, minify: true, format: "esm", target: "es2022", platform: "neutral", write: false, logLevel: "silent",
  });
  const code = result.outputFiles[0].text;
  return {
    minified: Buffer.byteLength(code) - Buffer.byteLength(full),
    gzip: gzipSync(code, { level: 9 }).length - gzipSync(full, { level: 9 }).length,
  };
}

// ------------------------------------------------------------ XS (a child process: @endo/init locks its realm down)

async function xsChild(): Promise<void> {
  const { spawn } = await import("node:child_process");
  const fs = await import("node:fs");
  const os = await import("node:os");
  const tmp = await import("tmp");
  const entry = [
    `import { init } from ${JSON.stringify(`${REPO}src/stack.ts`)};`,
    `import { registerNetdev } from ${JSON.stringify(`${REPO}src/core/link.ts`)};`,
    ...LAN_SERVICES.map((s, i) => `import * as m${i} from ${JSON.stringify(`${REPO}${s.module}`)};`),
    "export function stack() {",
    "  const platform = { now: () => 0, requestRun: () => {}, random32: () => 0x12345678 };",
    "  const net = init({}, platform);",
    "  const ops = { open() {}, stop() {}, startXmit: () => 0, poll: () => 0, setRxMode() {} };",
    "  return { net, dev: registerNetdev(net, 'eth0', ops, new Uint8Array([2, 0, 0, 0, 0, 1])) };",
    "}",
    `export const makers = [${LAN_SERVICES.map((s, i) => `(s) => (${s.make})(m${i}, s.net, s.dev)`).join(", ")}];`,
  ].join("\n");
  const result = await build({ stdin: { contents: entry, resolveDir: REPO, loader: "ts" }, bundle: true, format: "iife", globalName: "xsLan", target: "es2022", platform: "neutral", write: false, logLevel: "silent" });
  const code = result.outputFiles[0].text;
  await import("@endo/init");
  const { xsnap } = await import("@agoric/xsnap");
  const out: number[] = [];
  for (let i = 0; i < LAN_SERVICES.length; i++) {
    // A worker per service, so nothing of the one before is in the heap.
    const worker = await xsnap({
      os: os.type(), spawn, fs: { ...fs, ...fs.promises, tmpName: tmp.tmpName }, meteringLimit: 0, stderr: "inherit", stdout: "inherit",
      handleCommand: async () => new Uint8Array(0),
    });
    const heap = async (script: string): Promise<number> => (await worker.evaluate(script)).meterUsage.currentHeapCount ?? 0;
    await worker.evaluate(code);
    await heap("globalThis.s = xsLan.stack(); globalThis.kept = null; gc();");
    const a = await heap("globalThis.kept = 1; gc();");
    const b = await heap("globalThis.kept = 2; gc();");
    const c = await heap(`globalThis.kept = xsLan.makers[${i}](s); gc();`);
    out.push(c - b - (b - a));
    await worker.close();
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

async function report(withXs: boolean, printed: Printed): Promise<void> {
  const log = printed.log;
  let slots: number[] | null = null;
  if (withXs) {
    try {
      const out = execFileSync(process.execPath, ["--import", "tsx", THIS_FILE, "--xs-child"], { cwd: REPO, maxBuffer: 16 << 20 });
      slots = JSON.parse(String(out).trim().split("\n").pop() as string) as number[];
    } catch (e) {
      log(`XS heap slots: not measured (${(e as Error).message.split("\n")[0]})`);
    }
  }
  log("Each LAN service on the default stack: RAM fixed when it is made, flash it adds to the \"full\" bundle");
  log("");
  log("| service | typed arrays (Node) | XS heap slots | RAM on a 32-bit device | flash, minified | flash, gzip |");
  log("|---|---:|---:|---:|---:|---:|");
  for (let i = 0; i < LAN_SERVICES.length; i++) {
    const s = LAN_SERVICES[i];
    const typed = await typedBytes(s);
    const flash = await flashBytes(s);
    const xs = slots === null ? "-" : String(slots[i]);
    const ram = slots === null ? `${typed} + objects` : String(typed + slots[i] * XS_SLOT_BYTES);
    log(`| ${s.name} | ${typed} | ${xs} | ${ram} | ${flash.minified} | ${flash.gzip} |`);
  }
  log("");
  log(`(RAM: the typed-array bytes plus ${XS_SLOT_BYTES} bytes per XS heap slot; the timer each service takes comes from config.timersMax, made at its start)`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes("--xs-child")) await xsChild();
  else {
    const out = new Printed();
    await report(!process.argv.includes("--no-xs"), out);
    if (docsRequested()) {
      writeDocsSection("lan", printedSection(commandLine("npx tsx bench/lan.ts"),
        `${runNote()} (computed and counted, not timed: the same on any machine for the same code)`, out.lines));
    }
  }
}
