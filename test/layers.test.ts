// The house rules, checked by dependency-cruiser (.dependency-cruiser.cjs): each layer of
// src/ imports only the layers below it (type imports included), nothing in src/ or
// drivers/ imports Node or the host, and no cycle of value imports exists anywhere.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const REPO = fileURLToPath(new URL("..", import.meta.url));

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

describe("layers", () => {
  it("dependency-cruiser finds no violation in src/ and drivers/", () => {
    const out = execFileSync(process.execPath, [join(REPO, "node_modules/dependency-cruiser/bin/dependency-cruise.mjs"), "src", "drivers", "--config", ".dependency-cruiser.cjs", "--output-type", "json"], {
      cwd: REPO, maxBuffer: 64 << 20,
    });
    const result = JSON.parse(String(out)) as { summary: { violations: Violation[]; totalCruised: number } };
    expect(result.summary.totalCruised).toBeGreaterThan(40);
    expect(result.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
  });

  it("the rules catch an upward import (a core module that names TCP)", () => {
    // The same rules over a probe tree (test/fixtures/layers): src/core/probe.ts imports
    // src/tcp/probe.ts, which imports it back.
    const out = execFileSync(process.execPath, [join(REPO, "node_modules/dependency-cruiser/bin/dependency-cruise.mjs"), "src", "--config", join(REPO, ".dependency-cruiser.cjs"), "--output-type", "json"], {
      cwd: join(REPO, "test/fixtures/layers"), maxBuffer: 64 << 20,
    }).toString();
    const names = (JSON.parse(out) as { summary: { violations: Violation[] } }).summary.violations.map((v) => v.rule.name).sort();
    expect(names).toEqual(["layer-core", "no-load-cycles"]);
  });

  it("the core reads no protocol's state off Net (what `declare module` lets upper layers add)", () => {
    const dir = join(REPO, "src/core");
    for (const name of readdirSync(dir)) {
      const text = readFileSync(join(dir, name), "utf8");
      expect(text.match(/\bnet\.(neigh|ipv4|udp|tcp)\b/g), `src/core/${name}`).toBeNull();
    }
  });
});
