// The README's code is real code: each block README.md marks with `<!-- readme-test: NAME -->`
// is the region between `// readme:NAME:begin` and `// readme:NAME:end` below (its imports
// are this file's, with ../ for ./), so it is type-checked by `npm run typecheck` and run
// here against the current API; a change to either side that the other lacks fails. Every
// configuration a README block gives is one makeConfig takes. The docs keep to the tree too:
// every path README.md and docs/*.md name exists, and docs/TESTS.md names every test file.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, vi } from "vitest";
import { init } from "../src/index";
import { NodePlatform } from "../host-sim/node-platform";
import { udpSocketClass } from "../src/index";
import { tcpSocketClasses } from "../src/index";
import { makeConfig } from "../src/index";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const read = (path: string): string => readFileSync(join(REPO, path), "utf8");

/** The ```ts block after each `<!-- readme-test: NAME -->` in README.md. */
function readmeBlocks(): Map<string, string> {
  const blocks = new Map<string, string>();
  const re = /<!-- readme-test: ([\w-]+) -->\n```ts\n([\s\S]*?)```/g;
  for (const m of read("README.md").matchAll(re)) blocks.set(m[1], m[2]);
  return blocks;
}

/** This file's region NAME, dedented to its marker, with its imports as the README writes them. */
function testRegion(source: string, name: string): string {
  const begin = source.indexOf(`// readme:${name}:begin\n`);
  const end = source.indexOf(`// readme:${name}:end`);
  if (begin < 0 || end < begin) throw new Error(`test/readme.test.ts has no region ${name}`);
  const indent = source.lastIndexOf("\n", begin) + 1;
  const pad = begin - indent;
  const body = source.slice(begin, end).split("\n").slice(1, -1);
  return body.map((line) => line.slice(pad)).join("\n") + "\n";
}

describe("README.md code", () => {
  const source = read("test/readme.test.ts");
  const blocks = readmeBlocks();

  it("marks the blocks this file runs, each the same as its region here", () => {
    expect([...blocks.keys()]).toEqual(["setup", "udp", "tcp", "shutdown"]);
    for (const [name, block] of blocks) {
      const imports = block.split("\n").filter((l) => l.startsWith("import "));
      for (const line of imports) expect(source, `README ${name}: ${line}`).toContain(line.replace(' from "./', ' from "../'));
      const code = block.split("\n").filter((l) => !l.startsWith("import ")).join("\n").replace(/^\n+/, "");
      expect(code, `README block ${name} differs from test/readme.test.ts`).toBe(testRegion(source, name));
    }
  });

  it("takes every configuration a README block gives (config: { ... } on one line)", () => {
    const configs = [...read("README.md").matchAll(/\bconfig: (\{[^}\n]*\})/g)].map((m) => m[1]);
    expect(configs.length).toBeGreaterThan(0);
    for (const text of configs) {
      const overrides = JSON.parse(text.replace(/(\w+):/g, '"$1":')) as Record<string, number>;
      expect(() => makeConfig(overrides), text).not.toThrow();
    }
  });

  it("runs: a UDP echo and a TCP echo over 127.0.0.1, on Node's clock", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    try {
      // readme:setup:begin
      const platform = new NodePlatform();  // Node's clock and event loop (moddable/ has a board's)
      const net = init({}, platform);       // ARP, IPv4, ICMP, UDP, TCP: every table made here, once
      platform.net = net;                   // the platform runs net.softnet.run() when the stack asks
      // readme:setup:end

      // readme:udp:begin
      const UDP = udpSocketClass(net);
      new UDP({
        port: 7,                             // an echo server
        onReadable() {
          const packet = this.read()!;       // an ArrayBuffer with .address and .port
          this.write(packet, packet.address, packet.port);
        },
      });
      const udpReply = await new Promise<string>((resolve) => {
        const client = new UDP({             // port 0: an ephemeral port
          onReadable() {
            resolve(new TextDecoder().decode(this.read()));
            this.close();
          },
        });
        client.write(new TextEncoder().encode("hello over UDP"), "127.0.0.1", 7);
      });
      console.log(udpReply);
      // readme:udp:end

      // readme:tcp:begin
      const { TCP, Listener } = tcpSocketClasses(net);
      new Listener({
        port: 7,
        onReadable() {                       // a connection is waiting
          new TCP({
            from: this.read()!,
            onReadable(bytes) { this.write(this.read(bytes)); },  // all or nothing: fine for a few bytes
            onError() { this.close(); },     // a reset, or the peer closed and all was read
          });
        },
      });
      const tcpReply = await new Promise<string>((resolve) => {
        let greeting: Uint8Array | null = new TextEncoder().encode("hello over TCP");
        new TCP({
          address: "127.0.0.1",
          port: 7,
          onWritable() {                     // the first call: connected
            if (greeting !== null) this.write(greeting);
            greeting = null;                 // later calls: room in the send buffer again
          },
          onReadable(bytes) {
            resolve(new TextDecoder().decode(this.read(bytes)));
            this.close();
          },
        });
      });
      console.log(tcpReply);
      // readme:tcp:end

      // readme:shutdown:begin
      net.shutdown();                       // every interface down, every buffer back in the pool
      platform.close();
      // readme:shutdown:end

      expect(log.mock.calls.map((c) => c[0])).toEqual(["hello over UDP", "hello over TCP"]);
      expect(net.pool.stats().inUse).toBe(0);
      expect(net.udp.stats.outDatagrams).toBe(2);
      expect(net.tcp.stats.activeOpens).toBe(1);
    } finally {
      log.mockRestore();
    }
  });
});

/** Every file under dir, as repository paths. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(REPO, dir))) {
    const path = `${dir}/${name}`;
    if (statSync(join(REPO, path)).isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out;
}

describe("docs keep to the tree", () => {
  const pages = ["README.md", ...readdirSync(join(REPO, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

  it("every path the pages name exists", () => {
    // A path in backquotes or a link, rooted at a folder of the repository (dist/ is built).
    const re = /(?<![\w./@-])((?:src|drivers|host-sim|test|bench|examples|moddable|docs)\/[\w./-]*[\w-]|manifest[\w]*\.json)/g;
    const missing: string[] = [];
    for (const page of pages) {
      for (const m of read(page).matchAll(re)) {
        const path = m[1].replace(/\/\*\*?.*$/, "");
        if (!existsSync(join(REPO, path)) && !existsSync(join(REPO, `${path}.ts`))) missing.push(`${page}: ${m[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("docs/TESTS.md names every test file, and no file that is gone", () => {
    const tests = filesUnder("test").filter((p) => p.endsWith(".test.ts"));
    const text = read("docs/TESTS.md");
    const named = new Set([...text.matchAll(/`(test\/[\w./-]+\.test\.ts)`/g)].map((m) => m[1]));
    expect(tests.filter((p) => !named.has(p))).toEqual([]);
    expect([...named].filter((p) => !tests.includes(p))).toEqual([]);
  });
});
