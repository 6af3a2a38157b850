// Many short connections at once over a very lossy link (10 % loss, reordering,
// duplication): every handshake, exchange and close has its segments lost somewhere. Each
// echoes its own bytes; all must come back exact, every entry must end CLOSED, and virtual
// time must keep moving (a stack that re-arms a timer for "now" for ever stops it).
import { describe, expect, it } from "vitest";
import type { TcpSocket } from "../../src/socket/tcp";
import { seedFrom, withSeed } from "../helpers";
import { B_IP, makePair, streamBytes, tcpTable } from "./harness";

const LOSSY = { delayMs: 1, lossRate: 0.1, reorderRate: 0.05, reorderDelayMs: 4, duplicateRate: 0.05 };

function manyConnections(seed: number): void {
  const N = 40;
  const AT_ONCE = 6;
  // TIME_WAIT entries pile up on the client: room for them.
  const { world, a, b, A, B } = makePair(seed, LOSSY, { tcpTimeWaitMs: 300, tcpSocketsMax: 40, timersMax: 512 });
  const results: string[] = [];
  let serverErrors = 0;
  const listener = new B.Listener({
    port: 80,
    backlog: 16,
    onReadable(n) {
      for (let i = 0; i < n; i++) {
        const from = this.read();
        if (from === undefined) return;
        const pending: Uint8Array[] = [];
        // Echo what fits; the rest waits for room (no partial writes in ECMA-419).
        const flush = (sock: TcpSocket): void => {
          while (pending.length > 0) {
            try {
              sock.write(pending[0]);
            } catch (e) {
              if (e instanceof RangeError) return;
              throw e;
            }
            pending.shift();
          }
        };
        new B.TCP({
          from,
          onReadable(count) {
            pending.push(new Uint8Array(this.read(count)));
            flush(this);
          },
          onWritable() {
            flush(this);
          },
          onError() {
            serverErrors++;
            this.close();
          },
        });
      }
    },
  });
  let started = 0;
  let active = 0;
  const start = (k: number): void => {
    started++;
    active++;
    const data = streamBytes(3000 + k * 37, k + seed * 1000);
    const got: number[] = [];
    let sent = false;
    new A.TCP({
      address: B_IP,
      port: 80,
      onWritable() {
        if (!sent) this.write(data);
        sent = true;
      },
      onReadable(n) {
        got.push(...new Uint8Array(this.read(n)));
        if (got.length === data.length) {
          results.push(got.every((x, i) => x === data[i]) ? "ok" : `bytes differ on ${k}`);
          this.close();
          active--;
        }
      },
      onError() {
        results.push(`error on ${k} after ${got.length} bytes`);
        this.close();
        active--;
      },
    });
  };
  const done = world.loop.runWhile(() => {
    while (started < N && active < AT_ONCE) start(started);
    return results.length < N;
  }, 600_000, 2_000_000);
  expect(done, `stalled: ${results.length} of ${N} done; a ${tcpTable(a.net)} b ${tcpTable(b.net)}`).toBe(true);
  expect(results.filter((r) => r !== "ok")).toEqual([]);
  // The closes finish (a FIN may wait out an RTO backed off to tens of seconds) and the
  // TIME_WAITs expire; then time still moves on.
  const settled = world.loop.runWhile(() => tcpTable(a.net).length > 0 || tcpTable(b.net).length > 1, 900_000, 500_000);
  expect(settled, `not closed: a ${tcpTable(a.net)} b ${tcpTable(b.net)}`).toBe(true);
  const end = world.now + 10_000;
  world.loop.runWhile(() => true, 10_000, 100_000);
  expect(world.now, "virtual time stopped: something re-arms a timer for now").toBe(end);
  expect(tcpTable(a.net)).toEqual([]);
  expect(tcpTable(b.net)).toEqual(["LISTEN 80->0"]);
  expect(serverErrors).toBe(N);
  for (const h of [a, b]) expect([h.net.tcp.stats.currEstab, h.net.tcp.stats.estabResets]).toEqual([0, 0]);
  expect(a.net.tcp.stats.activeOpens).toBe(N);
  // The loss was met and repaired (each lost segment is resent at least once).
  expect(a.net.tcp.stats.retransSegs + b.net.tcp.stats.retransSegs).toBeGreaterThan(N / 2);
  listener.close();
}

describe("TCP stress: many short connections over a lossy link", () => {
  for (const s of [1, 2, 3]) {
    it(`40 echo connections, 6 at a time, 10 % loss (seed ${s})`, () => withSeed(seedFrom(s), manyConnections));
  }
});
