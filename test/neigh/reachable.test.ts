// Regression tests of the neighbour REACHABLE timer.
import { describe, expect, it } from "vitest";
import { udpSocketClass } from "../../src/socket/udp";
import { ARPOP_REPLY } from "../../src/wire/arp";
import { arpFrame, isArp } from "../packets";
import { HOST_IP, HOST_MAC, makeBench, PEER_IP, PEER_MAC, runUntilIdle } from "../testbed";

describe("neighbour REACHABLE timer", () => {
  // Was a bug (src/neigh/neigh.ts, #timerHandler, NUD_REACHABLE), found by the TCP stress
  // scenario (test/tcp/stress.test.ts; seeds 25 and 38 of it hang before the fix):
  // `now - confirmed < reachableMs` can hold in floating point while `confirmed + reachableMs`
  // rounds to exactly `now`, so the timer is re-armed for now and fires again at once, for
  // ever: the stack spins at one instant and virtual time stops. On the simulated LAN
  // confirmations come at fractional times (frames arrive with the simulated MACs' delays).
  it("the neighbour REACHABLE timer is not re-armed for now when confirmed + reachable rounds to now", () => {
    const bench = makeBench({ neighReachableMs: 1 }, { peer: false }); // reachable time 0.5 ms
    const UDP = udpSocketClass(bench.net);
    const u = new UDP({});
    bench.platform.time = 1000;
    u.write(new Uint8Array(4), "10.0.0.2", 9);
    bench.run();
    const out = bench.take();
    expect(out.length === 1 && isArp(out[0])).toBe(true);
    // The reply, at a time t where (t + 0.5) - t < 0.5 in doubles.
    const t = 1023.5042;
    expect(t + 0.5 - t).toBeLessThan(0.5);
    bench.platform.time = t;
    bench.rx(arpFrame(HOST_MAC, ARPOP_REPLY, PEER_MAC, PEER_IP, HOST_MAC, HOST_IP));
    expect(bench.take()).toHaveLength(1); // the datagram that waited
    bench.platform.time = t + 0.5;
    expect(() => runUntilIdle(bench.net)).not.toThrow();
    u.close();
  });
});
