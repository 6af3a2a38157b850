// A device flashes only what it uses: the udp bundle (bench/size/udp.ts, as a board build
// links it) holds no TCP code and is at most 65 % of the full stack's; the ping bundle
// holds neither TCP nor UDP. Checked by names only TCP or UDP defines (property names
// survive minification): TCP's per-connection `sndUna`, UDP's MIB counter `noPorts`.
import { beforeAll, describe, expect, it } from "vitest";
import { sizes } from "../bench/size";

describe("device bundles (bench/size)", () => {
  let bundles: Awaited<ReturnType<typeof sizes>> = [];
  const get = (name: string) => bundles.find((b) => b.name === name) as (typeof bundles)[number];

  beforeAll(async () => {
    bundles = await sizes();
  });

  it("builds full, ping, udp and tcp", () => {
    expect(bundles.map((b) => b.name)).toEqual(["full", "ping", "udp", "tcp"]);
    for (const b of bundles) expect(b.minified).toBeGreaterThan(10_000);
  });

  it("the markers are where they belong (so their absence below means something)", () => {
    expect(get("full").code).toContain("sndUna");
    expect(get("full").code).toContain("noPorts");
    expect(get("tcp").code).toContain("sndUna");
    expect(get("udp").code).toContain("noPorts");
  });

  it("udp: no TCP, at most 65 % of full", () => {
    expect(get("udp").code).not.toContain("sndUna");
    expect(get("udp").minified / get("full").minified).toBeLessThanOrEqual(0.65);
  });

  it("ping: neither TCP nor UDP; tcp: no UDP", () => {
    expect(get("ping").code).not.toContain("sndUna");
    expect(get("ping").code).not.toContain("noPorts");
    expect(get("tcp").code).not.toContain("noPorts");
    expect(get("ping").minified).toBeLessThan(get("udp").minified);
  });
});
