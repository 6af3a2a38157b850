// SYN cookies (RFC 4987): a flood of spoofed SYNs fills the listener's SYN queue; real
// clients still connect, through cookies, and the flood leaves no state behind.
import { describe, expect, it } from "vitest";
import { tcpSocketClasses } from "../../src/socket/tcp";
import { ip, mac, optMss, SYN, tcpFrame } from "../packets";
import { makeWorld, seedFrom, withSeed } from "../helpers";

/** A SYN from (src, sport) to (dst, dport), with an MSS option, as a frame to `dstMac`. */
function synFrame(srcMac: Uint8Array, dstMac: Uint8Array, src: number, dst: number, sport: number, dport: number, isn: number): Uint8Array {
  return tcpFrame(dstMac, srcMac, { src, dst, sport, dport, seq: isn, flags: SYN, options: optMss(1460) });
}

describe("SYN cookies", () => {
  it("real clients connect during a SYN flood; the flood holds no connection state", () =>
    withSeed(seedFrom(41), (seed) => {
      const { world, lan, a: server, b: client, devA: devS } = makeWorld(seed).twoHosts({
        faults: { delayMs: 1 },
        a: { name: "server", config: { tcpSocketsMax: 8, tcpTimeWaitMs: 1000 } },
        b: { name: "client" },
      });
      const attacker = lan.attach({ onFrame() {} });
      const attackerMac = mac("02:66:66:66:66:66");
      const S = tcpSocketClasses(server.net);
      const C = tcpSocketClasses(client.net);
      const accepted: string[] = [];
      const listener = new S.Listener({
        port: 80,
        backlog: 2,
        onReadable() {
          let from;
          while ((from = this.read()) !== undefined) {
            const sock = new S.TCP({
              from,
              onReadable(n) {
                accepted.push(new TextDecoder().decode(new Uint8Array(this.read(n) as ArrayBuffer)));
                this.write(new TextEncoder().encode("ok"));
                this.close();
              },
            });
            void sock;
          }
        },
      });
      // The flood: 2,000 SYNs from spoofed sources on the server's subnet (so its SYN-ACKs
      // are routed, to hosts that never answer), never completed.
      let sent = 0;
      const flood = (): void => {
        for (let i = 0; i < 20 && sent < 2000; i++, sent++) {
          const src = (ip("10.0.0.100") + (sent % 150)) >>> 0;
          const f = synFrame(attackerMac, devS.addr, src, ip("10.0.0.1"), 1024 + (sent % 50000), 80, (sent * 7919) >>> 0);
          lan.transmit(attacker, f, 0, f.length);
        }
      };
      const replies: string[] = [];
      for (let round = 0; round < 100; round++) {
        flood();
        if (round % 10 === 5) {
          const k = round;
          const sock = new C.TCP({
            address: "10.0.0.1",
            port: 80,
            onWritable() {
              this.write(new TextEncoder().encode(`hello ${k}`));
            },
            onReadable(n) {
              replies.push(new TextDecoder().decode(new Uint8Array(this.read(n) as ArrayBuffer)));
            },
            onError() {
              this.close();
            },
          });
          void sock;
        }
        world.runFor(20);
      }
      world.runFor(20_000); // a client whose SYN-ACK met a full neighbour table retries at 1, 2, 4, 8 s
      expect(sent).toBe(2000);
      expect(replies.length).toBe(10);
      expect(accepted.sort()).toEqual([5, 15, 25, 35, 45, 55, 65, 75, 85, 95].map((k) => `hello ${k}`).sort());
      const st = server.net.tcp.stats;
      expect(st.syncookiesSent).toBeGreaterThan(1900);
      expect(st.syncookiesRecv).toBeGreaterThan(0);
      expect(st.tableFull + st.listenDrops).toBeLessThan(st.syncookiesSent);
      // Half-open state is bounded by the backlog, whatever the flood.
      expect(server.net.tcp.children(0, false)).toBeLessThanOrEqual(2);
      listener.close();
    }));
});
