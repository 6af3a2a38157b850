// Test helpers: worlds and stacks that the shared afterEach hook checks, seeded scenarios
// that print their seed when they fail, a manual platform for unit tests, and a free
// loopback UDP port.
import { createSocket } from "node:dgram";
import type { NetConfig } from "../src/config";
import { type Net } from "../src/core/net";
import { init } from "../src/stack";
import type { Platform } from "../src/core/platform";
import { Prng } from "../host-sim/sim/prng";
import { SimWorld } from "../host-sim/sim/world";

const tracked: { net: Net; label: string }[] = [];

export function trackNet(net: Net, label: string): Net {
  tracked.push({ net, label });
  return net;
}

export function takeTrackedNets(): { net: Net; label: string }[] {
  return tracked.splice(0, tracked.length);
}

/** A world whose hosts are checked for a full pool after the test. */
export function makeWorld(seed: number): SimWorld {
  const world = new SimWorld(seed);
  const addHost = world.addHost.bind(world);
  world.addHost = (name: string, config?: Partial<NetConfig>) => {
    const host = addHost(name, config);
    trackNet(host.net, `host ${name} (seed=${seed})`);
    return host;
  };
  return world;
}

/** Run a seeded scenario; a failure says how to reproduce it. */
export async function withSeed(seed: number, fn: (seed: number) => void | Promise<void>): Promise<void> {
  try {
    await fn(seed);
  } catch (err) {
    if (err instanceof Error) err.message = `${err.message}\n    reproduce with seed=${seed}`;
    throw err;
  }
}

/** The seed for a scenario: XSNET_SEED from the environment, or the given default. */
export function seedFrom(defaultSeed: number): number {
  const env = process.env.XSNET_SEED;
  return env !== undefined && env !== "" ? Number(env) >>> 0 : defaultSeed;
}

/** A platform for unit tests: time moves only when the test says; runs are recorded. */
export class ManualPlatform implements Platform {
  time = 0;
  readonly requests: number[] = [];
  readonly prng: Prng;
  constructor(seed = 1) {
    this.prng = new Prng(seed);
  }
  now(): number {
    return this.time;
  }
  requestRun(delayMs: number): void {
    this.requests.push(delayMs);
  }
  random32(): number {
    return this.prng.next32();
  }
}

/** A bare stack on a manual platform (tracked for the pool check). */
export function makeNet(config: Partial<NetConfig> = {}, label = "net"): { net: Net; platform: ManualPlatform } {
  const platform = new ManualPlatform();
  const net = trackNet(init(config, platform), label);
  return { net, platform };
}

/** Drive a manual-platform stack: advance time by `ms` in steps, running the loop. */
export function advance(net: Net, platform: ManualPlatform, ms: number, stepMs = 1): void {
  const end = platform.time + ms;
  net.softnet.run();
  while (platform.time < end) {
    platform.time = Math.min(end, platform.time + stepMs);
    net.softnet.run();
  }
}

/** A UDP port on loopback that nobody holds now (the kernel picks it). */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket("udp4");
    s.on("error", reject);
    s.bind(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
