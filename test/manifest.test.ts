// The Moddable packaging keeps up with the code. manifest.json includes one manifest per
// group (manifest_core.json: core and IPv4; manifest_udp.json; manifest_tcp.json;
// manifest_raw.json; manifest_lan.json), so a board app includes only what it uses; a chip's
// driver is a group of its own that an app includes beside them (manifest_w5500.json,
// manifest_enc28j60.json), so it carries only its own chip's. Checked here: every
// device-side module is mapped and preloaded by name in exactly one group (mcconfig matches
// preload wildcards against JavaScript modules only), and a group's modules import (values,
// as linked on the device) only from their own group and the groups it includes. A module
// with a native twin (moddable/native/NAME.ts over NAME.c) is mapped through a build
// variable whose default is the twin ("XSNET_BULK ?=": "./moddable/native/bulk"; the shell
// may point it back at the JavaScript), and the twin exports what the JavaScript exports.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const REPO = fileURLToPath(new URL("..", import.meta.url));

interface Manifest {
  include?: string[];
  build?: Record<string, string>;
  modules: Record<string, string>;
  preload: string[];
}

function tsModules(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(REPO, dir))) {
    const path = join(REPO, dir, name);
    if (statSync(path).isDirectory()) out.push(...tsModules(relative(REPO, path)));
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(relative(REPO, path).slice(0, -3));
  }
  return out;
}

/** The module's source as a manifest maps it: the path, or the default of its build variable. */
function mapped(manifest: Manifest, name: string): string | undefined {
  const to = manifest.modules[name];
  const variable = /^\$\((\w+)\)$/.exec(to ?? "");
  return variable === null ? to : manifest.build?.[`${variable[1]} ?=`];
}

const exportedFunctions = (file: string): string[] =>
  [...readFileSync(join(REPO, file), "utf8").matchAll(/^export function (\w+)/gm)].map((m) => m[1]).sort();

const read = (file: string): Manifest => JSON.parse(readFileSync(join(REPO, file), "utf8")) as Manifest;

/** Modules a module imports at run time (type-only imports are erased by tsc). */
function valueImports(module: string): string[] {
  const text = readFileSync(join(REPO, `${module}.ts`), "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^;]*?\sfrom\s+)?"(\.[^"]+)";/gms)) {
    if (m[1] !== undefined) continue;
    const names = /\{([^}]*)\}/.exec(m[0]);
    // `import { type A, type B }` is erased too.
    if (names && names[1].split(",").every((n) => n.trim() === "" || n.trim().startsWith("type "))) continue;
    out.push(normalize(join(dirname(module), m[2])));
  }
  return out;
}

describe("manifest.json and its groups", () => {
  const root = read("manifest.json");
  const driverGroups = ["manifest_w5500.json", "manifest_enc28j60.json"];
  const groups = [...(root.include ?? []), ...driverGroups].map((file) => ({ file: file.replace(/^\.\//, ""), manifest: read(file) }));
  // moddable/native holds twins, mapped under their JavaScript module's name
  const modules = [...tsModules("src"), ...tsModules("drivers"), ...tsModules("moddable").filter((m) => !m.startsWith("moddable/native/"))];
  const owner = new Map<string, string>();

  it("includes the five groups, and preloads the composition root itself (and the host provider, which needs both UDP and TCP)", () => {
    expect(root.include).toEqual(["./manifest_core.json", "./manifest_udp.json", "./manifest_tcp.json", "./manifest_raw.json", "./manifest_lan.json"]);
    expect(root.preload.sort()).toEqual(["xsnet/src/index", "xsnet/src/socket/provider", "xsnet/src/stack"]);
  });

  it("maps and preloads every device-side module in exactly one group, and nothing that does not exist", () => {
    const all = [{ file: "manifest.json", manifest: root }, ...groups];
    for (const { file, manifest } of all) {
      for (const name of manifest.preload) {
        expect(owner.has(name), `${name} preloaded by ${owner.get(name)} and ${file}`).toBe(false);
        owner.set(name, file);
        const to = mapped(manifest, name);
        const own = `./${name.slice("xsnet/".length)}`;
        if (to !== own) expect(to, `${file}: ${name} preloaded but mapped to neither itself nor a native twin`).toBe(`./moddable/native/${name.slice(name.lastIndexOf("/") + 1)}`);
      }
      expect(Object.keys(manifest.modules).sort(), `${file}: mapped but not preloaded`).toEqual([...manifest.preload].sort());
    }
    expect([...owner.keys()].sort()).toEqual(modules.map((m) => `xsnet/${m}`).sort());
  });

  it("maps each module with a native twin to it by default, and the twin exports the same functions, each bound to a host function of its C file", () => {
    const twins = tsModules("moddable/native");
    const seen: string[] = [];
    for (const { manifest } of groups) {
      for (const name of manifest.preload) {
        const to = mapped(manifest, name);
        if (to === undefined || !to.startsWith("./moddable/native/")) continue;
        const twin = to.slice(2);
        seen.push(twin);
        const js = `${name.slice("xsnet/".length)}.ts`;
        expect(exportedFunctions(`${twin}.ts`), `${twin}.ts exports what ${js} exports`).toEqual(exportedFunctions(js));
        const ts = readFileSync(join(REPO, `${twin}.ts`), "utf8");
        const c = readFileSync(join(REPO, `${twin}.c`), "utf8");
        const hosts = [...ts.matchAll(/native\("(xs_\w+)"\)/g)].map((m) => m[1]);
        expect(hosts.length, `${twin}.ts binds each function`).toBe(exportedFunctions(`${twin}.ts`).length);
        for (const host of hosts) expect(c, `${twin}.c defines ${host}`).toMatch(new RegExp(`^void ${host}\\(xsMachine \\*the\\)$`, "m"));
      }
    }
    expect(seen.sort()).toEqual(twins.sort());
  });

  it("links: a group's modules import only from their group and the groups it includes", () => {
    const reach = (file: string): Set<string> => {
      const seen = new Set([file]);
      for (const inc of read(file).include ?? []) for (const f of reach(inc.replace(/^\.\//, ""))) seen.add(f);
      return seen;
    };
    for (const { file, manifest } of [{ file: "manifest.json", manifest: root }, ...groups]) {
      const allowed = reach(file);
      for (const name of manifest.preload) {
        for (const dep of valueImports(name.slice("xsnet/".length))) {
          const depOwner = owner.get(`xsnet/${dep}`);
          expect(depOwner !== undefined && allowed.has(depOwner), `${name} (${file}) imports ${dep} from ${depOwner ?? "no group"}`).toBe(true);
        }
      }
    }
  });
});
