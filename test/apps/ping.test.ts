import { describe, expect, it } from "vitest";
import { Pinger } from "../../src/apps/ping";
import { ENETUNREACH } from "../../src/ipv4/output";
import { makeWorld } from "../helpers";

describe("ping client", () => {
  it("refuses bad arguments with errors that name them", () => {
    const { host: a } = makeWorld(1).oneHost();
    const ping = new Pinger(a.net);
    expect(() => ping.send("10.0.0.256", 56)).toThrow(TypeError);
    expect(() => ping.send("10.0.0.256", 56)).toThrow(/10\.0\.0\.256/);
    expect(() => ping.send("10.0.0.2", 65508)).toThrow(RangeError);
    expect(() => ping.send("10.0.0.2", 65508)).toThrow(/65508/);
    expect(() => ping.send("10.0.0.2", -1)).toThrow(/data size/);
    expect(() => ping.send("10.0.0.2", 56, 0)).toThrow(/ttl/);
    // No route: an error code, counted, nothing leaked.
    expect(ping.send("192.168.1.1", 56)).toBe(-ENETUNREACH);
    expect(ping.sendErrors).toBe(1);
    ping.close();
  });

  it("reports -ENOBUFS when the pool cannot hold the datagram", () => {
    const { world, host: a } = makeWorld(2).oneHost({ host: { config: { skbSlots: 16, skbRecords: 20, reasmSkbsMax: 8 }, mac: { rxRingSize: 8 } } });
    world.runFor(10); // the link-up announcement is sent and freed
    const ping = new Pinger(a.net);
    expect(ping.send("10.0.0.2", 20_000)).toBe(-105);
    expect(a.net.pool.inUse).toBe(8);
    ping.close();
  });
});
