// Simultaneous open (RFC 9293 3.5, figure 8) and simultaneous close (3.6, figure 13)
// between two stacks.
//
// The socket API has no option for a local port, so each side's next ephemeral port is
// learned first: a throwaway connect to 127.0.0.1 shows the port the stack just used, and
// the next connect takes the one after it (ports are handed out in turn).
import { describe, expect, it } from "vitest";
import type { TcpSocket } from "../../src/socket/tcp";
import { seedFrom, withSeed } from "../helpers";
import { ACK, FIN, SYN, tcpOf, type TcpView } from "../packets";
import { A_IP, B_IP, type Classes, localPortTo, makePair, tapLan, tcpTable } from "./harness";
import type { Net } from "../../src/core/net";

/** The ephemeral port the next connect of this stack will take. */
function nextEphemeral(net: Net, C: Classes): number {
  const probe = new C.TCP({ address: "127.0.0.1", port: 9 });
  const used = localPortTo(net, 9);
  probe.close();
  return used === 65535 ? 49152 : used + 1;
}

describe("TCP simultaneous open and close", () => {
  it("both ends send a SYN at once, both go SYN_RECEIVED then ESTABLISHED; then both close at once", () =>
    withSeed(seedFrom(61), (seed) => {
      const WAIT = 700;
      const { world, lan, a, b, A, B } = makePair(seed, { delayMs: 5 }, { tcpTimeWaitMs: WAIT });
      const pa = nextEphemeral(a.net, A);
      const pb = nextEphemeral(b.net, B);
      world.runFor(10); // the probes' SYN and RST over loopback
      const before = [a, b].map((h) => ({ ...h.net.tcp.stats }));
      const wire: [number, TcpView][] = [];
      tapLan(lan, world, (_t, port, frame) => {
        const v = tcpOf(frame);
        if (v !== null) wire.push([port, v]);
      });
      const log: string[] = [];
      const got = { a: [] as number[], b: [] as number[] };
      const make = (C: Classes, name: "a" | "b", address: string, port: number): TcpSocket =>
        new C.TCP({
          address,
          port,
          onWritable(n) { if (!log.includes(`${name} up`)) log.push(`${name} up`); void n; },
          onReadable(n) { got[name].push(...new Uint8Array(this.read(n))); },
          onError() { log.push(`${name} error`); },
        });
      const sa = make(A, "a", B_IP, pb);
      const sb = make(B, "b", A_IP, pa);
      expect(tcpTable(a.net)).toEqual([`SYN_SENT ${pa}->${pb}`]);
      expect(tcpTable(b.net)).toEqual([`SYN_SENT ${pb}->${pa}`]);
      world.runFor(100);
      expect(log.sort()).toEqual(["a up", "b up"]);
      expect(tcpTable(a.net)).toEqual([`ESTABLISHED ${pa}->${pb}`]);
      expect(tcpTable(b.net)).toEqual([`ESTABLISHED ${pb}->${pa}`]);
      // Each side: a SYN, then a SYN-ACK (of the same ISN) answering the other's SYN.
      for (const port of [0, 1]) {
        const mine = wire.filter(([p]) => p === port).map(([, v]) => v);
        expect(mine[0].flags).toBe(SYN);
        expect(mine[1].flags).toBe(SYN | ACK);
        expect(mine[1].seq).toBe(mine[0].seq);
        const theirs = wire.find(([p]) => p !== port)![1];
        expect(mine[1].ack).toBe((theirs.seq + 1) >>> 0);
      }
      [a, b].forEach((h, i) => {
        const s = h.net.tcp.stats;
        const o = before[i];
        expect([s.activeOpens - o.activeOpens, s.passiveOpens, s.currEstab, s.attemptFails, s.outRsts - o.outRsts]).toEqual([1, 0, 1, 0, 0]);
      });
      // Data both ways.
      sa.write(new Uint8Array([1, 2, 3]));
      sb.write(new Uint8Array([4, 5]));
      world.runFor(2000);
      expect(got).toEqual({ a: [4, 5], b: [1, 2, 3] });

      // Simultaneous close: FINs cross; FIN_WAIT1 -> CLOSING -> TIME_WAIT on both sides.
      wire.length = 0;
      sa.close();
      sb.close();
      expect(tcpTable(a.net)).toEqual([`FIN_WAIT1 ${pa}->${pb}`]);
      world.runFor(7);
      expect(tcpTable(a.net)).toEqual([`CLOSING ${pa}->${pb}`]);
      expect(tcpTable(b.net)).toEqual([`CLOSING ${pb}->${pa}`]);
      world.runFor(10);
      expect(tcpTable(a.net)).toEqual([`TIME_WAIT ${pa}->${pb}`]);
      expect(tcpTable(b.net)).toEqual([`TIME_WAIT ${pb}->${pa}`]);
      // Each side sent its FIN and one ACK of the other's.
      for (const port of [0, 1]) expect(wire.filter(([p]) => p === port).map(([, v]) => v.flags)).toEqual([FIN | ACK, ACK]);
      world.runFor(WAIT);
      expect(tcpTable(a.net)).toEqual([]);
      expect(tcpTable(b.net)).toEqual([]);
      expect(log.sort()).toEqual(["a up", "b up"]);
      [a, b].forEach((h, i) => {
        const s = h.net.tcp.stats;
        expect([s.currEstab, s.estabResets, s.outRsts - before[i].outRsts]).toEqual([0, 0, 0]);
      });
    }));
});
