// hostProvider: device.network's entries for a running stack, { io: Class } each, as
// Moddable's examples build them; only for the protocols the stack runs.
import { describe, expect, it } from "vitest";
import { hostProvider } from "../../src/index";
import { netInit } from "../../src/core/net";
import { inetInit } from "../../src/ipv4/af-inet";
import { udpInit } from "../../src/udp/udp";
import { ManualPlatform, trackNet } from "../helpers";
import { B_IP, makePair } from "../tcp/harness";

describe("hostProvider", () => {
  it("gives tcp, listener and udp as { io }, frozen; the classes work and Listener.read() returns the tcp entry's instances", () => {
    const { world, a, b } = makePair(5, { delayMs: 2 });
    const na = hostProvider(a.net);
    const nb = hostProvider(b.net);
    expect(Object.keys(na).sort()).toEqual(["listener", "tcp", "udp"]);
    expect(Object.isFrozen(na) && Object.isFrozen(na.tcp) && Object.isFrozen(na.udp) && Object.isFrozen(na.listener)).toBe(true);
    // As an app's config.js spreads them into device.network.
    const device = Object.freeze({ network: { ...nb } });
    let accepted: unknown = null;
    const listener = new device.network.listener!.io({ port: 80, onReadable() { accepted = this.read(); } });
    let up = false;
    const s = new na.tcp!.io({ address: B_IP, port: 80, onWritable() { up = true; } });
    const u = new na.udp!.io({});
    world.runFor(100);
    expect(up).toBe(true);
    expect(accepted).toBeInstanceOf(nb.tcp!.io);
    s.close();
    u.close();
    (accepted as { close(): void }).close();
    listener.close();
    world.runFor(100);
  });

  it("names only the protocols the stack runs: a UDP-only stack has udp alone", () => {
    const net = trackNet(netInit({}, new ManualPlatform()), "udp-only");
    inetInit(net);
    udpInit(net);
    expect(Object.keys(hostProvider(net))).toEqual(["udp"]);
  });
});
