// Long-lived pairs of hosts for the steady-state benches (bench/, host-sim/v8-steady.ts and
// the XS harness): full-size pings, one TCP connection, and the floors they are measured
// against.

import { Pinger } from "../../../src/apps/ping";
import { copyBytes } from "../../../src/core/bytes";
import type { Net } from "../../../src/core/net";
import { tcpSocketClasses, type TcpSocket } from "../../../src/socket/tcp";
import { csumPartialView } from "../../../src/wire/checksum";
import { SimWorld } from "../world";

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
    // No frame hash (a byte loop per frame: the determinism check's work, not the stack's);
    // static neighbours: no ARP cycle (REACHABLE -> STALE -> PROBE) inside a measurement.
    const { world, a } = new SimWorld(seed).twoHosts({ lanName: "steady", frameHash: false, staticNeighbours: true, mac: { lineRateBps: 0 } });
    this.world = world;
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
    const view = new DataView(memory.buffer, memory.byteOffset, memory.byteLength);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      for (let frame = 0; frame < 2; frame++) {
        copyBytes(memory, 1536, memory, 0, 1514);
        sum += csumPartialView(view, 1536, 1514, 0);
        copyBytes(memory, 3072, memory, 1536, 1514);
        sum += csumPartialView(view, 3072, 1514, 0);
      }
    }
    return sum;
  }
}

/**
 * Steady TCP: one connection from a to b on a clean, fast LAN, or (`loopback`) from a to
 * itself through 127.0.0.1, where no simulated hardware runs and the meter sees the stack
 * alone, both ends. The application writes full segments from one buffer and reads them
 * into one view, so the socket calls allocate nothing (or, `readBuffers`, as new
 * ArrayBuffers: read(n) allocates its result). pump(bytes) moves that many more
 * bytes and returns the data segments a sent.
 */
export class SteadyTcp {
  readonly world: SimWorld;
  readonly #a: Net;
  #client: TcpSocket | null = null;
  #target = 0;
  #sent = 0;
  received = 0;
  readonly #chunk: Uint8Array;
  readonly #sink: Uint8Array;
  readonly #empty = new Uint8Array(0);

  /** `readBuffers`: the reader takes each segment as a new ArrayBuffer (read(n)), not into its view */
  constructor(seed: number, loopback = false, readBuffers = false, mss = 1448) {
    const { world, a, b } = new SimWorld(seed).twoHosts({
      lanName: "steady-tcp",
      faults: { delayMs: 0.05 },
      frameHash: false,
      staticNeighbours: true,
      config: { skbSlots: 256, skbRecords: 320, tcpSndBufBytes: 65536, tcpRcvBufBytes: 65536 },
      mac: { lineRateBps: 0, rxRingSize: 64 },
    });
    this.world = world;
    this.#a = a.net;
    const pattern = new Uint8Array(mss);
    for (let i = 0; i < mss; i++) pattern[i] = i & 0xff;
    this.#chunk = pattern;
    this.#sink = new Uint8Array(mss);
    const sink = this.#sink;
    const SA = tcpSocketClasses(a.net);
    const SB = loopback ? SA : tcpSocketClasses(b.net);
    const self = this;
    new SB.Listener({
      port: 9,
      onReadable() {
        const from = this.read();
        if (from === undefined) return;
        new SB.TCP({
          from,
          onReadable(available) {
            while (available >= sink.length) {
              if (readBuffers) this.read(sink.length);
              else this.read(sink);
              self.received += sink.length;
              available -= sink.length;
            }
          },
        });
      },
    });
    this.#client = new SA.TCP({
      address: loopback ? "127.0.0.1" : "10.0.0.2",
      port: 9,
      onWritable() {
        self.#fill();
      },
    });
    this.world.runFor(10);
  }

  #fill(): void {
    const c = this.#client as TcpSocket;
    const chunk = this.#chunk;
    let room = c.write(this.#empty);
    while (this.#sent < this.#target && room >= chunk.length) {
      room = c.write(chunk);
      this.#sent += chunk.length;
    }
  }

  pump(bytes: number): number {
    const before = this.#a.tcp.stats.outSegs;
    this.#target += bytes - (bytes % this.#chunk.length);
    this.#fill();
    while (this.received < this.#target) this.world.runFor(1);
    return this.#a.tcp.stats.outSegs - before;
  }
}

/**
 * The floor of a TCP data segment between two stacks, n times: its payload copied in at
 * the sender and out at the receiver (native copies), and checksummed by each (the
 * stack's fastest checksum). `memory` holds at least 4,608 bytes.
 */
export function tcpSegmentFloor(n: number, memory: Uint8Array, payload = 1448): number {
  const view = new DataView(memory.buffer, memory.byteOffset, memory.byteLength);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    copyBytes(memory, 1536, memory, 0, payload);
    sum += csumPartialView(view, 1536, payload, 0);
    sum += csumPartialView(view, 1536, payload, 0);
    copyBytes(memory, 3072, memory, 1536, payload);
  }
  return sum;
}
