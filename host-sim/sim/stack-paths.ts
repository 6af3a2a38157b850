// The paths whose XS stack use bench/xs-stack measures in Moddable's runtime (issue 13): each
// builds a simulated LAN from a seed, drives one path of the stack to its end and reports
// what happened, so that a path that silently did nothing cannot pass for a shallow one.
// The scenarios of ./scenarios are paths too (bulk with SACK recovery and RACK/TLP, lossy
// echo, retransmission timeouts, SYN floods, zero windows, keepalives). Node-free.

import { Pinger, PING_DATA_MAX } from "../../src/apps/ping";
import { tcpSocketClasses } from "../../src/socket/tcp";
import { startDeviceApp } from "../../examples/device-app/app";
import { SimWorld } from "./world";
import { SCENARIOS, type ScenarioReport } from "./scenarios/index";

/** What a path did: done is true when it ran to its end with every reply it expected. */
export interface PathReport {
  done: boolean;
  /** counts that say what it did (replies, bytes, retransmissions) */
  counts: Record<string, number>;
}

/** Sizes past one frame: two fragments, a few, many, and the largest datagram. */
const FRAGMENTED_SIZES: readonly number[] = Object.freeze([1473, 2952, 4000, 9000, 16000, 32000, 65000, PING_DATA_MAX]);

/** Echo requests of every size that fits a frame (0 to 1,472 bytes), then fragmented ones. */
export function pingEverySize(seed: number): PathReport {
  const { world, a } = new SimWorld(seed).twoHosts({ faults: { delayMs: 0.2 }, b: { config: { reasmSkbsMax: 64 } } });
  const ping = new Pinger(a.net, 0x5151);
  let sent = 0;
  for (let size = 0; size <= 1472; size++, sent++) {
    ping.send("10.0.0.2", size);
    world.runFor(1);
  }
  for (const size of FRAGMENTED_SIZES) {
    ping.send("10.0.0.2", size);
    sent++;
    world.runFor(20);
  }
  const counts = { sent, received: ping.received, corrupted: ping.corrupted };
  ping.close();
  world.shutdown();
  return { done: counts.received === sent && counts.corrupted === 0, counts };
}

function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** The device app's HTTP service: GET / (the status page) and GET /bytes/100000, one connection each. */
export function httpService(seed: number): PathReport {
  const { world, a, b } = new SimWorld(seed).twoHosts({ faults: { delayMs: 0.2 } });
  const app = startDeviceApp(b.net, { address: "10.0.0.2" });
  const { TCP } = tcpSocketClasses(a.net);
  let responses = 0;
  let bytes = 0;
  let closed = 0;
  for (const path of ["/", "/bytes/100000"]) {
    const request = ascii(`GET ${path} HTTP/1.1\r\nHost: 10.0.0.2\r\nConnection: close\r\n\r\n`);
    let asked = false;
    let seen = false;
    new TCP({
      address: "10.0.0.2",
      port: 80,
      onWritable() {
        if (asked) return;
        asked = true;
        this.write(request);
      },
      onReadable(count) {
        const got = new Uint8Array(this.read(count) as ArrayBuffer);
        if (!seen && got.length >= 12 && got[9] === 0x32 && got[10] === 0x30 && got[11] === 0x30) responses++; // "200"
        seen = true;
        bytes += got.length;
      },
      onError() {
        closed++;
        this.close();
      },
    });
    world.runFor(2_000);
  }
  world.runFor(2_000);
  const counts = { responses, bytes, closed, openConnections: app.openConnections };
  app.close();
  world.shutdown();
  return { done: responses === 2 && bytes > 100_000 && closed === 2, counts };
}

function fromScenario(fn: (seed: number) => ScenarioReport): (seed: number) => PathReport {
  return (seed) => {
    const r = fn(seed);
    return { done: r.poolsFull && r.frames > 0, counts: { frames: r.frames, pingsAnswered: r.pingsAnswered, ...r.extra } };
  };
}

function scenarioPaths(): Record<string, (seed: number) => PathReport> {
  const out: Record<string, (seed: number) => PathReport> = {};
  for (const name of Object.keys(SCENARIOS)) out[name] = fromScenario(SCENARIOS[name]);
  return out;
}

/** Every path, by name: its own and the scenarios'. */
export function stackPaths(): Record<string, (seed: number) => PathReport> {
  return { "ping-every-size": pingEverySize, "http-service": httpService, ...scenarioPaths() };
}
