// Opening connections that do not open: a closed port (RST), a silent host (SYN
// retransmitted with exponential backoff, then a timeout), and a full connection table on
// either side.
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../src/config";
import type { SkBuff } from "../../src/core/skb";
import { NF_ACCEPT, NF_DROP, NF_INET_LOCAL_IN } from "../../src/ipv4/netfilter";
import type { TcpSocket } from "../../src/socket/tcp";
import { seedFrom, withSeed } from "../helpers";
import { ACK, ip, RST, SYN, tcpOf, type TcpView } from "../packets";
import { RawPort } from "../testbed";
import { B_IP, makePair, tapLan, tcpTable } from "./harness";

describe("TCP connect", () => {
  it("to a closed port: the peer answers RST, onError once, AttemptFails 1", () =>
    withSeed(seedFrom(21), (seed) => {
      const { world, lan, a, b, A } = makePair(seed, { delayMs: 1 });
      const wire: TcpView[] = [];
      tapLan(lan, world, (_t, _port, frame) => {
        const s = tcpOf(frame);
        if (s !== null) wire.push(s);
      });
      let errors = 0;
      let writable = 0;
      const s = new A.TCP({ address: B_IP, port: 4242, onWritable() { writable++; }, onError() { errors++; } });
      expect(s.remotePort).toBe(4242);
      world.runFor(10_000);
      expect(errors).toBe(1);
      expect(writable).toBe(0);
      // SYN, and RST|ACK acknowledging it, with sequence number 0 (RFC 9293 3.10.7.1).
      expect(wire.map((w) => w.flags)).toEqual([SYN, RST | ACK]);
      expect(wire[1].seq).toBe(0);
      expect(wire[1].ack).toBe((wire[0].seq + 1) >>> 0);
      expect([wire[1].sport, wire[1].dport]).toEqual([4242, wire[0].sport]);
      expect(wire.every((w) => w.csumOk)).toBe(true);
      const sa = a.net.tcp.stats;
      expect([sa.activeOpens, sa.attemptFails, sa.currEstab, sa.outRsts, sa.retransSegs, sa.estabResets]).toEqual([1, 1, 0, 0, 0, 0]);
      expect(b.net.tcp.stats.outRsts).toBe(1);
      expect(b.net.tcp.stats.inSegs).toBe(1);
      expect(b.net.drops.snapshot()).toEqual({ TCP_NOSOCKET: 1 });
      expect(tcpTable(a.net)).toEqual([]);
      // The socket is dead: it neither reads nor writes, and close is harmless.
      expect(() => s.write(new Uint8Array(1))).toThrow(/closed/);
      expect(() => s.read()).toThrow(/closed/);
      s.close();
      s.close();
    }));

  it("to a silent host: the SYN goes at 1, 2, 4, 8 ... s intervals, onError after config.tcpSynRetries", () =>
    withSeed(seedFrom(22), (seed) => {
      const { world, lan, a, b, A } = makePair(seed, { delayMs: 1 });
      // b drops every TCP segment on its way in (a firewall), and answers nothing.
      const buf = b.net.pool.buf;
      b.net.ipv4.netfilter.register(NF_INET_LOCAL_IN, (skb: SkBuff) => (buf[skb.networkHeader + 9] === 6 ? NF_DROP : NF_ACCEPT));
      const syns: number[] = [];
      tapLan(lan, world, (t, port, frame) => {
        const s = tcpOf(frame);
        if (s !== null) {
          expect(port).toBe(0); // b says nothing
          expect(s.flags).toBe(SYN);
          syns.push(t);
        }
      });
      world.runFor(5); // settle
      const t0 = world.now;
      let errorAt = -1;
      let errors = 0;
      new A.TCP({ address: B_IP, port: 80, onError() { errors++; errorAt = world.now; } });
      world.runFor(200_000);
      // RFC 6298 5.5: the RTO doubles on each timeout, from config.tcpRtoInitialMs (1 s),
      // capped by config.tcpRtoMaxMs (60 s). The first SYN waits for ARP (1 ms each way).
      expect(DEFAULT_CONFIG.tcpSynRetries).toBe(6);
      expect(syns.map((t) => t - t0)).toEqual([2, 1000, 3000, 7000, 15000, 31000, 63000]);
      expect(errors).toBe(1);
      expect(errorAt - t0).toBe(63000 + 60000);
      const s = a.net.tcp.stats;
      expect([s.activeOpens, s.attemptFails, s.retransSegs, s.timeouts, s.outSegs, s.currEstab]).toEqual([1, 1, 6, 6, 7, 0]);
      expect(b.net.drops.snapshot()).toEqual({ NETFILTER_DROP: 7 });
      expect(b.net.tcp.stats.inSegs).toBe(0);
      expect(tcpTable(a.net)).toEqual([]);
    }));

  it("to an address that answers ARP and nothing else, with a shorter configured backoff", () =>
    withSeed(seedFrom(23), (seed) => {
      const { world, lan, a, A } = makePair(seed, { delayMs: 1 }, { tcpRtoInitialMs: 300, tcpSynRetries: 3 });
      const hole = new RawPort(world, lan);
      hole.arpAnswers.set(ip("10.0.0.9"), new Uint8Array([2, 0, 0, 0, 0, 9]));
      world.runFor(5);
      const t0 = world.now;
      let errorAt = -1;
      new A.TCP({ address: "10.0.0.9", port: 80, onError() { errorAt = world.now; } });
      world.runFor(10_000);
      const syns = hole.frames.filter((f) => tcpOf(f.bytes)?.flags === SYN).map((f) => f.t - t0);
      expect(syns).toEqual([2 + 1, 300 + 1, 900 + 1, 2100 + 1]); // + 1 ms on the wire
      expect(errorAt - t0).toBe(2100 + 2400);
      expect(a.net.tcp.stats.attemptFails).toBe(1);
      expect(a.net.tcp.stats.retransSegs).toBe(3);
    }));
});

describe("TCP connection table full", () => {
  it("connect throws a RangeError naming config.tcpSocketsMax; so does a Listener", () =>
    withSeed(seedFrom(24), (seed) => {
      const { world, a, b, A, B } = makePair(seed, { delayMs: 1 }, { tcpSocketsMax: 2 }, {});
      const listener = new B.Listener({ port: 80, onReadable(n) { for (let i = 0; i < n; i++) this.read(); } });
      const s1 = new A.TCP({ address: B_IP, port: 80 });
      const s2 = new A.TCP({ address: B_IP, port: 80 });
      expect(() => new A.TCP({ address: B_IP, port: 80 })).toThrow(RangeError);
      expect(() => new A.TCP({ address: B_IP, port: 80 })).toThrow(/config\.tcpSocketsMax is 2/);
      expect(() => new A.Listener({ port: 81 })).toThrow(/config\.tcpSocketsMax is 2/);
      expect(a.net.tcp.stats.tableFull).toBe(3);
      expect(a.net.tcp.stats.activeOpens).toBe(2);
      world.runFor(100);
      expect(a.net.tcp.stats.currEstab).toBe(2);
      // Nothing went on the wire for the refused calls.
      expect(b.net.tcp.stats.passiveOpens).toBe(2);
      s1.close();
      s2.close();
      listener.close();
    }));

  it("an incoming SYN beyond the table is dropped (ListenDrops); the client's retransmitted SYN gets in later", () =>
    withSeed(seedFrom(25), (seed) => {
      // b: one listener and one connection.
      const { world, a, b, A, B } = makePair(seed, { delayMs: 1 }, {}, { tcpSocketsMax: 2 });
      const accepted: TcpSocket[] = [];
      const listener = new B.Listener({
        port: 80,
        onReadable(n) {
          for (let i = 0; i < n; i++) {
            accepted.push(new B.TCP({ from: this.read()!, onError() { this.close(); } }));
          }
        },
      });
      let firstUp = -1;
      let secondUp = -1;
      const c1 = new A.TCP({ address: B_IP, port: 80, onWritable() { if (firstUp < 0) firstUp = world.now; } });
      world.runFor(50);
      const t0 = world.now;
      const c2 = new A.TCP({ address: B_IP, port: 80, onWritable() { if (secondUp < 0) secondUp = world.now; } });
      world.runFor(50);
      expect(firstUp).toBeGreaterThan(0);
      expect(secondUp).toBe(-1);
      const sb = b.net.tcp.stats;
      expect([sb.listenDrops, sb.listenOverflows, sb.tableFull, sb.passiveOpens]).toEqual([1, 0, 1, 1]);
      expect(b.net.drops.snapshot()).toEqual({ TCP_TABLE_FULL: 1 });
      // The first connection ends: b's entry is free once its FIN is acknowledged.
      c1.close();
      world.runFor(50);
      expect(tcpTable(b.net)).toEqual(["LISTEN 80->0"]);
      // The SYN retransmitted one RTO (1 s) after the first now finds room.
      world.runFor(2000);
      expect(secondUp - t0).toBeGreaterThanOrEqual(1000);
      expect(secondUp - t0).toBeLessThan(1010);
      expect(accepted).toHaveLength(2);
      expect(a.net.tcp.stats.retransSegs).toBe(1);
      expect(b.net.tcp.stats.currEstab).toBe(1);
      c2.close();
      world.runFor(50);
      listener.close();
    }));
});
