// Scenarios that run the same on V8 and inside the XS engine: each builds a simulated
// network from a seed, runs it in virtual time and reports what happened, including a
// hash of every frame put on any LAN, in order. Same seed, same bytes: the determinism
// check compares these reports between the engines. Node-free (bundled for XS).

import { Pinger } from "../../src/apps/ping";
import { udpSocketClass, type UdpPacket } from "../../src/socket/udp";
import { tcpSocketClasses, type TcpSocket } from "../../src/socket/tcp";
import { copyBytes } from "../../src/core/bytes";
import { csumPartial } from "../../src/wire/checksum";
import { SimWorld } from "./world";

export interface ScenarioReport {
  name: string;
  seed: number;
  /** FNV-1a over (time, port, length, bytes) of every frame on every LAN, in order */
  frameHash: string;
  frames: number;
  pingsSent: number;
  pingsAnswered: number;
  corrupted: number;
  /** drops by reason over all hosts */
  drops: Record<string, number>;
  /** every host's pool full again after shutdown */
  poolsFull: boolean;
  virtualMs: number;
  /** scenario-specific counts (datagrams sent and echoed, ...) */
  extra: Record<string, number>;
}

function report(name: string, world: SimWorld, pings: Pinger[], extra: Record<string, number> = {}): ScenarioReport {
  const drops: Record<string, number> = {};
  for (const h of world.hosts) {
    const snap = h.net.drops.snapshot();
    for (const k of Object.keys(snap)) drops[k] = (drops[k] ?? 0) + snap[k];
  }
  const virtualMs = world.now;
  for (const p of pings) p.close();
  world.shutdown();
  let poolsFull = true;
  for (const h of world.hosts) if (h.net.pool.inUse !== 0 || h.net.pool.recordsInUse !== 0) poolsFull = false;
  let sent = 0;
  let answered = 0;
  let corrupted = 0;
  for (const p of pings) {
    sent += p.sent;
    answered += p.received;
    corrupted += p.corrupted;
  }
  return {
    name,
    seed: world.seed,
    frameHash: (world.frameHash >>> 0).toString(16).padStart(8, "0"),
    frames: world.framesOnWire,
    pingsSent: sent,
    pingsAnswered: answered,
    corrupted,
    drops,
    poolsFull,
    virtualMs,
    extra,
  };
}

/** ARP with packets waiting, then steady pings, on a clean LAN. */
function arp(seed: number): ScenarioReport {
  const world = new SimWorld(seed);
  const lan = world.addLan("lan", { delayMs: 1, jitterMs: 0.5 });
  const a = world.addHost("a", { neighQueueMax: 3 });
  const b = world.addHost("b");
  world.attach(a, lan, "10.0.0.1/24");
  world.attach(b, lan, "10.0.0.2/24");
  const ping = new Pinger(a.net, 0x1234);
  for (let i = 0; i < 5; i++) ping.send("10.0.0.2", 64 + i);
  world.runFor(100);
  for (let i = 0; i < 20; i++) {
    ping.send("10.0.0.2", 100 * i);
    world.runFor(10);
  }
  world.runFor(40_000); // entries age: REACHABLE -> STALE
  ping.send("10.0.0.2", 56); // STALE -> DELAY -> PROBE
  world.runFor(10_000);
  return report("arp", world, [ping]);
}

/** Pings of every size up to 65,000 bytes over a link with loss, reordering, duplication. */
function pingFragLossy(seed: number): ScenarioReport {
  const world = new SimWorld(seed);
  const lan = world.addLan("lossy", { lossRate: 0.05, delayMs: 2, jitterMs: 1, reorderRate: 0.02, reorderDelayMs: 3, duplicateRate: 0.01, corruptRate: 0.001 });
  const a = world.addHost("a");
  const b = world.addHost("b");
  world.attach(a, lan, "10.0.0.1/24");
  world.attach(b, lan, "10.0.0.2/24");
  const ping = new Pinger(a.net, 0x2345);
  const sizes = [56, 1472, 1473, 4000, 9000, 65000];
  for (let i = 0; i < 120; i++) {
    ping.send("10.0.0.2", sizes[i % sizes.length]);
    world.runFor(25);
  }
  world.runFor(35_000); // past the reassembly timeout: every held fragment is released
  return report("ping-frag-lossy", world, [ping]);
}

/** A host with 24 buffers receives datagrams that cannot fit, then recovers. */
function poolExhaustion(seed: number): ScenarioReport {
  const world = new SimWorld(seed);
  const lan = world.addLan("lan", { delayMs: 1 });
  const a = world.addHost("a");
  const b = world.addHost("b", { skbSlots: 24, skbRecords: 28, reasmSkbsMax: 12 });
  world.attach(a, lan, "10.0.0.1/24");
  world.attach(b, lan, "10.0.0.2/24", { rxRingSize: 8 });
  const ping = new Pinger(a.net, 0x3456);
  ping.send("10.0.0.2", 56);
  world.runFor(50);
  for (let i = 0; i < 3; i++) {
    ping.send("10.0.0.2", 65000);
    world.runFor(100);
  }
  world.runFor(35_000);
  for (let i = 0; i < 10; i++) {
    ping.send("10.0.0.2", 1000);
    world.runFor(20);
  }
  return report("pool-exhaustion", world, [ping]);
}

/** The demo's network: two LANs joined by a router, one lossy, one with MTU 576. */
function router(seed: number): ScenarioReport {
  const world = new SimWorld(seed);
  const lan1 = world.addLan("lan1", { lossRate: 0.03, delayMs: 2, jitterMs: 1, rateBps: 100_000_000 });
  const lan2 = world.addLan("lan2", { delayMs: 5, rateBps: 10_000_000, mtu: 576 });
  const config = { skbSlots: 256, skbRecords: 288, reasmSkbsMax: 128 };
  const a = world.addHost("a", config);
  const r = world.addHost("r", { ...config, ipForward: true });
  const b = world.addHost("b", config);
  world.attach(a, lan1, "10.0.1.2/24");
  world.attach(r, lan1, "10.0.1.1/24");
  world.attach(r, lan2, "10.0.2.1/24", { mtu: 576 });
  world.attach(b, lan2, "10.0.2.2/24", { mtu: 576 });
  a.net.setDefaultGateway("10.0.1.1");
  b.net.setDefaultGateway("10.0.2.1");
  const ping = new Pinger(a.net, 0x4567);
  const sizes = [56, 512, 1472, 4000, 8000];
  for (let i = 0; i < 60; i++) {
    ping.send("10.0.2.2", sizes[i % sizes.length]);
    world.runFor(50);
  }
  ping.send("10.0.2.2", 56, 1); // TTL 1: time exceeded from the router
  world.runFor(2000);
  return report("router", world, [ping]);
}

/** UDP echo through the socket API over a lossy, reordering link, datagrams up to 8,000 bytes. */
function udpEcho(seed: number): ScenarioReport {
  const world = new SimWorld(seed);
  const lan = world.addLan("lossy", { lossRate: 0.03, delayMs: 2, jitterMs: 1, reorderRate: 0.02, reorderDelayMs: 3, duplicateRate: 0.01 });
  const a = world.addHost("a");
  const b = world.addHost("b");
  world.attach(a, lan, "10.0.0.1/24");
  world.attach(b, lan, "10.0.0.2/24");
  const UdpA = udpSocketClass(a.net);
  const UdpB = udpSocketClass(b.net);
  const scratch = new Uint8Array(8000);
  const echo = new UdpB({ port: 7 });
  let echoed = 0;
  let received = 0;
  let bytesReceived = 0;
  const client = new UdpA({ port: 5555 });
  const sizes = [1, 64, 512, 1472, 1473, 3000, 8000];
  for (let i = 0; i < 140; i++) {
    const size = sizes[i % sizes.length];
    for (let k = 0; k < size; k++) scratch[k] = (k + i) & 0xff;
    client.write(new Uint8Array(scratch.buffer, 0, size), "10.0.0.2", 7);
    world.runFor(10);
    let p: UdpPacket | undefined;
    while ((p = echo.read()) !== undefined) {
      echo.write(p, p.address, p.port);
      echoed++;
    }
    while ((p = client.read()) !== undefined) {
      received++;
      bytesReceived += p.byteLength;
    }
  }
  world.runFor(35_000);
  echo.close();
  client.close();
  return report("udp-echo", world, [], { sent: 140, echoed, received, bytesReceived });
}

/** TCP echo through the socket API, 200 KB, over a link with loss, reordering and duplication. */
function tcpEcho(seed: number): ScenarioReport {
  const world = new SimWorld(seed);
  const lan = world.addLan("lossy", { lossRate: 0.03, delayMs: 2, jitterMs: 1, reorderRate: 0.02, reorderDelayMs: 3, duplicateRate: 0.01 });
  const config = { tcpTimeWaitMs: 2000 };
  const a = world.addHost("a", config);
  const b = world.addHost("b", config);
  world.attach(a, lan, "10.0.0.1/24");
  world.attach(b, lan, "10.0.0.2/24");
  const SA = tcpSocketClasses(a.net);
  const SB = tcpSocketClasses(b.net);
  const total = 200_000;
  let echoed = 0;
  let received = 0;
  let mismatches = 0;
  let sent = 0;
  let serverClosed = 0;
  const chunk = new Uint8Array(4096);
  let available = 0; // what the server's last onReadable said, less what it read since
  const pump = (sock: TcpSocket): void => {
    // Echo what fits: read only as much as the send buffer takes.
    for (;;) {
      const room = sock.write(chunk.subarray(0, 0));
      const n = Math.min(room, available, chunk.length);
      if (n <= 0) return;
      sock.read(chunk.subarray(0, n));
      available -= n;
      sock.write(chunk.subarray(0, n));
      echoed += n;
    }
  };
  const listener = new SB.Listener({
    port: 7,
    onReadable() {
      const from = this.read();
      if (from === undefined) return;
      new SB.TCP({
        from,
        onReadable(bytes) {
          available = bytes;
          pump(this);
        },
        onWritable() { pump(this); },
        onError() { serverClosed++; this.close(); },
      });
    },
  });
  const out = new Uint8Array(8192);
  const client = new SA.TCP({
    address: "10.0.0.2",
    port: 7,
    onWritable(room) {
      const n = Math.min(room, total - sent, out.length);
      if (n <= 0) return;
      for (let k = 0; k < n; k++) out[k] = ((sent + k) * 31 + 7) & 0xff;
      this.write(out.subarray(0, n));
      sent += n;
    },
    onReadable(bytes) {
      const got = new Uint8Array(this.read(bytes));
      for (let k = 0; k < got.length; k++) if (got[k] !== (((received + k) * 31 + 7) & 0xff)) mismatches++;
      received += got.length;
      if (received === total) this.close();
    },
  });
  world.runFor(120_000);
  listener.close();
  const closedCleanly = a.net.tcp.stats.currEstab === 0 && b.net.tcp.stats.currEstab === 0 ? 1 : 0;
  void client;
  return report("tcp-echo", world, [], {
    sent, echoed, received, mismatches, serverClosed, closedCleanly,
    retransA: a.net.tcp.stats.retransSegs, retransB: b.net.tcp.stats.retransSegs,
  });
}

export const SCENARIOS: Readonly<Record<string, (seed: number) => ScenarioReport>> = {
  arp,
  "ping-frag-lossy": pingFragLossy,
  "pool-exhaustion": poolExhaustion,
  router,
  "udp-echo": udpEcho,
  "tcp-echo": tcpEcho,
};

export function runScenario(name: string, seed: number): ScenarioReport {
  const fn = SCENARIOS[name];
  if (fn === undefined) throw new TypeError(`no scenario named '${name}'`);
  return fn(seed);
}

/**
 * A long-lived pair of hosts for steady-state measurements: pump(n) sends n full-size
 * pings (1,514-byte frames both ways) one after the other and returns the frames that
 * crossed the LAN.
 */
export class SteadyPing {
  readonly world: SimWorld;
  readonly ping: Pinger;
  readonly #dst = 0x0a000002;

  constructor(seed: number) {
    this.world = new SimWorld(seed);
    const lan = this.world.addLan("steady");
    // The frame hash (a byte loop per frame) is the determinism check's, not the stack's work.
    lan.onWire = null;
    const a = this.world.addHost("a");
    const b = this.world.addHost("b");
    const devA = this.world.attach(a, lan, "10.0.0.1/24", { lineRateBps: 0 });
    const devB = this.world.attach(b, lan, "10.0.0.2/24", { lineRateBps: 0 });
    // Static neighbours: no ARP cycle (REACHABLE -> STALE -> PROBE) inside a measurement.
    a.net.neigh.addPermanent(0x0a000002, devA, devB.addr);
    b.net.neigh.addPermanent(0x0a000001, devB, devA.addr);
    // The data check is the application's work, not the stack's: checksums only here.
    this.ping = new Pinger(a.net, 0x5678, false);
    this.ping.send(this.#dst, 1472);
    this.world.runFor(5);
  }

  pump(n: number): number {
    const before = this.#framesSent();
    for (let i = 0; i < n; i++) {
      this.ping.send(this.#dst, 1472);
      this.world.runFor(0.5);
    }
    return this.#framesSent() - before;
  }

  #framesSent(): number {
    const hosts = this.world.hosts;
    let n = 0;
    for (let i = 0; i < hosts.length; i++) n += hosts[i].devices[0].stats.txPackets;
    return n;
  }

  /**
   * The floor for n pings: each of the two 1,514-byte frames copied twice (the cheapest
   * copy there is: copyWithin in one buffer) and checksummed twice.
   */
  static floor(n: number, memory: Uint8Array): number {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      for (let frame = 0; frame < 2; frame++) {
        copyBytes(memory, 1536, memory, 0, 1514);
        sum += csumPartial(memory, 1536, 1514, 0);
        copyBytes(memory, 3072, memory, 1536, 1514);
        sum += csumPartial(memory, 3072, 1514, 0);
      }
    }
    return sum;
  }
}
