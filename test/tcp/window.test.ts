// Flow control: a reader that stops reading closes the window; the sender probes the zero
// window (persist timer, RFC 9293 3.8.6.1) for as long as it takes without giving up, and
// everything arrives once reading resumes. Nothing acknowledged is ever dropped.
import { describe, expect, it } from "vitest";
import type { TcpSocket } from "../../src/socket/tcp";
import { seedFrom, withSeed } from "../helpers";
import { ACK, tcpOf } from "../packets";
import { B_IP, type findConn, makePair, sha256, Sink, streamBytes, tapLan, tcpTable } from "./harness";

/** b's connection index whose local port is `port` (the server side). */
function findConnTo(net: Parameters<typeof findConn>[0], port: number): number {
  const t = net.tcp.tcb;
  for (let c = 0; c < t.size; c++) if (t.state[c] > 1 && t.localPort[c] === port) return c;
  return -1;
}

describe("TCP zero window", () => {
  it("a reader that does not read for 60 s: persist probes keep the connection; then all data arrives intact", () =>
    withSeed(seedFrom(81), (seed) => {
      const TOTAL = 200_000;
      const { world, lan, a, b, A, B } = makePair(seed, { delayMs: 1 }, { tcpTimeWaitMs: 500 });
      const data = streamBytes(TOTAL, seed);
      // Zero-payload segments from a after the window closed: the probes.
      const probes: number[] = [];
      let windowShut = false;
      tapLan(lan, world, (t, port, frame) => {
        const v = tcpOf(frame);
        if (v === null) return;
        if (port === 1 && v.window === 0) windowShut = true;
        if (port === 0 && windowShut && v.payload.length === 0 && v.flags === ACK) probes.push(t);
      });
      let reading = false;
      const got = new Sink(TOTAL);
      let serverErrors = 0;
      let server: TcpSocket | null = null;
      const drain = (s: TcpSocket): void => {
        const ab = s.read();
        if (ab !== undefined) got.push(new Uint8Array(ab as ArrayBuffer));
      };
      const listener = new B.Listener({
        port: 80,
        onReadable() {
          server = new B.TCP({
            from: this.read()!,
            onReadable() { if (reading) drain(this); },
            onError() { serverErrors++; this.close(); },
          });
        },
      });
      let sent = 0;
      let clientErrors = 0;
      const client = new A.TCP({
        address: B_IP,
        port: 80,
        onWritable(room) {
          while (sent < TOTAL && room > 0) {
            const n = Math.min(room, TOTAL - sent, 5000);
            room = this.write(data.subarray(sent, sent + n));
            sent += n;
          }
          if (sent === TOTAL) this.close();
        },
        onError() { clientErrors++; },
      });
      world.runFor(60_000);
      // The receive buffer (32 KB) and the send buffer (32 KB) are full; nothing was lost.
      expect(windowShut).toBe(true);
      expect(sent).toBe(65536);
      expect(b.net.tcp.readable(findConnTo(b.net, 80))).toBe(32768);
      expect(tcpTable(a.net)).toEqual([expect.stringMatching(/^ESTABLISHED/)]);
      expect(clientErrors).toBe(0);
      const sa = a.net.tcp.stats;
      expect(sa.persistProbes).toBe(probes.length);
      expect(sa.persistProbes).toBeGreaterThan(3);
      // Probes back off exponentially (RFC 9293 3.8.6.1 / RFC 1122 4.2.2.17), up to tcpRtoMaxMs.
      // The first comes one RTO (200 ms, the floor) after the window closed.
      const gaps = probes.slice(1).map((t, i) => Math.round(t - probes[i]));
      expect(gaps).toEqual([400, 800, 1600, 3200, 6400, 12800, 25600]);
      expect(sa.timeouts).toBe(0);
      // Every probe was answered with the (still zero) window.
      expect(b.net.drops.count("TCP_OUT_OF_WINDOW")).toBe(probes.length);

      // Reading resumes: the window opens and everything comes.
      reading = true;
      drain(server!);
      world.runFor(5_000);
      expect(got.len).toBe(TOTAL);
      expect(sha256(got.bytes())).toBe(sha256(data));
      expect(serverErrors).toBe(1);
      world.runFor(1_000);
      expect(tcpTable(a.net)).toEqual([]);
      expect(tcpTable(b.net)).toEqual(["LISTEN 80->0"]);
      void client;
      listener.close();
    }));

  // Receiver silly-window avoidance must hold while the offered window is zero too, which is
  // exactly when it matters: otherwise, after the window closed, every 200 bytes the reader
  // frees is advertised (by the persist probe's answer), the sender fills it, and the
  // transfer goes on in 200-byte segments. RFC 1122 4.2.3.3 (MUST): the right edge moves
  // only by min(MSS, buffer / 2) or more.
  it("a slow reader: the window opens by a full segment at a time, never in slivers (RFC 1122 4.2.3.3)", () =>
    withSeed(seedFrom(82), (seed) => {
      const TOTAL = 60_000;
      const MSS = 1460;
      const { world, lan, a, b, A, B } = makePair(seed, { delayMs: 1 });
      const data = streamBytes(TOTAL, seed);
      // The right edge of b's window (ACK + window) each time it moves, and a's segment sizes.
      const edges: number[] = [];
      const sizes: number[] = [];
      tapLan(lan, world, (_t, port, frame) => {
        const v = tcpOf(frame);
        if (v === null) return;
        if (port === 0 && v.payload.length > 0) sizes.push(v.payload.length);
        if (port === 1 && (v.flags & ACK) !== 0) {
          const edge = (v.ack + v.window) >>> 0;
          if (edges.length === 0 || ((edge - edges[edges.length - 1]) | 0) > 0) edges.push(edge);
        }
      });
      const got = new Sink(TOTAL);
      let server: TcpSocket | null = null;
      const listener = new B.Listener({ port: 80, onReadable() { server = new B.TCP({ from: this.read()! }); } });
      let sent = 0;
      const client = new A.TCP({
        address: B_IP,
        port: 80,
        onWritable(room) {
          while (sent < TOTAL && room > 0) {
            const n = Math.min(room, TOTAL - sent);
            room = this.write(data.subarray(sent, sent + n));
            sent += n;
          }
        },
      });
      world.runFor(50);
      // The reader takes 200 bytes every 50 ms (4 KB/s).
      const c = findConnTo(b.net, 80);
      for (let i = 0; i < 1000 && got.len < TOTAL; i++) {
        world.runFor(50);
        const n = Math.min(200, b.net.tcp.readable(c));
        if (n > 0) got.push(new Uint8Array(server!.read(n)));
      }
      expect(got.len).toBe(TOTAL);
      expect(sha256(got.bytes())).toBe(sha256(data));
      // After the first window (32 KB), every move of the right edge is a full segment or more.
      const steps = edges.slice(2).map((e, i) => (e - edges[i + 1]) >>> 0);
      expect(steps.length).toBeGreaterThan(10);
      expect(steps.filter((d) => d < MSS)).toEqual([]);
      expect(sizes.length).toBeGreaterThan(TOTAL / MSS);
      expect(a.net.tcp.stats.retransSegs).toBe(0);
      client.close();
      world.runFor(100);
      server!.close();
      listener.close();
    }));
});

