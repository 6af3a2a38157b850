// manifest.json keeps up with the code: every device-side module is mapped and preloaded
// (mcconfig matches preload wildcards against JavaScript modules only, so each TypeScript
// module is listed by name).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const REPO = fileURLToPath(new URL("..", import.meta.url));

function tsModules(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(REPO, dir))) {
    const path = join(REPO, dir, name);
    if (statSync(path).isDirectory()) out.push(...tsModules(relative(REPO, path)));
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(relative(REPO, path).slice(0, -3));
  }
  return out;
}

describe("manifest.json", () => {
  const manifest = JSON.parse(readFileSync(join(REPO, "manifest.json"), "utf8")) as { modules: Record<string, string>; preload: string[] };
  const modules = [...tsModules("src"), ...tsModules("drivers"), ...tsModules("moddable")];

  it("maps every device-side module to its path", () => {
    for (const m of modules) {
      const folder = m.slice(0, m.lastIndexOf("/"));
      expect(manifest.modules[`xsnet/${folder}/*`], `no module mapping for xsnet/${folder}/*`).toBe(`./${folder}/*`);
    }
  });

  it("preloads every device-side module by name, and nothing that does not exist", () => {
    const names = modules.map((m) => `xsnet/${m}`).sort();
    expect([...manifest.preload].sort()).toEqual(names);
  });
});
