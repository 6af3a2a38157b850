// The Moddable packaging keeps up with the code. manifest.json includes one manifest per
// group (manifest_core.json: core and IPv4; manifest_udp.json; manifest_tcp.json;
// manifest_raw.json), so a board app includes only what it uses. Checked here: every
// device-side module is mapped and preloaded by name in exactly one group (mcconfig matches
// preload wildcards against JavaScript modules only), and a group's modules import (values,
// as linked on the device) only from their own group and the groups it includes.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const REPO = fileURLToPath(new URL("..", import.meta.url));

interface Manifest {
  include?: string[];
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
  const groups = (root.include ?? []).map((file) => ({ file: file.replace(/^\.\//, ""), manifest: read(file) }));
  const modules = [...tsModules("src"), ...tsModules("drivers"), ...tsModules("moddable")];
  const owner = new Map<string, string>();

  it("includes the four groups, and preloads the composition root itself (and the host provider, which needs both UDP and TCP)", () => {
    expect(groups.map((g) => g.file)).toEqual(["manifest_core.json", "manifest_udp.json", "manifest_tcp.json", "manifest_raw.json"]);
    expect(root.preload.sort()).toEqual(["xsnet/src/index", "xsnet/src/socket/provider", "xsnet/src/stack"]);
  });

  it("maps and preloads every device-side module in exactly one group, and nothing that does not exist", () => {
    const all = [{ file: "manifest.json", manifest: root }, ...groups];
    for (const { file, manifest } of all) {
      for (const name of manifest.preload) {
        expect(owner.has(name), `${name} preloaded by ${owner.get(name)} and ${file}`).toBe(false);
        owner.set(name, file);
        expect(manifest.modules[name], `${file}: ${name} preloaded but not mapped`).toBe(`./${name.slice("xsnet/".length)}`);
      }
      expect(Object.keys(manifest.modules).sort(), `${file}: mapped but not preloaded`).toEqual([...manifest.preload].sort());
    }
    expect([...owner.keys()].sort()).toEqual(modules.map((m) => `xsnet/${m}`).sort());
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
