// An application talking to itself over 127.0.0.1: a listener and a client on one stack,
// through the loopback device. Byte-exact both ways, both ends closed, the MIB consistent.
import { describe, expect, it } from "vitest";
import type { TcpSocket } from "../../src/socket/tcp";
import { tcpSocketClasses } from "../../src/socket/tcp";
import { seedFrom, withSeed } from "../helpers";
import { isIp } from "../packets";
import { makePair, sha256, Sink, streamBytes, tapLan, tcpTable } from "./harness";

const TOTAL = 300_000;

describe("TCP over 127.0.0.1", () => {
  it("echoes 300 KB to itself through lo, then both ends close", () =>
    withSeed(seedFrom(71), (seed) => {
      const { world, lan, a } = makePair(seed, {}, { tcpTimeWaitMs: 1000 });
      const { TCP, Listener } = tcpSocketClasses(a.net);
      const data = streamBytes(TOTAL, seed);
      const serverGot = new Sink(TOTAL);
      const clientGot = new Sink(TOTAL);
      let echoed = 0;
      let clientErrors = 0;
      const flush = (s: TcpSocket): void => {
        let room = s.write(new Uint8Array(0));
        while (echoed < serverGot.len && room > 0) {
          const n = Math.min(room, serverGot.len - echoed, 5000);
          room = s.write(serverGot.buf.subarray(echoed, echoed + n));
          echoed += n;
        }
      };
      const listener = new Listener({
        port: 7,
        address: "127.0.0.1",
        onReadable() {
          new TCP({
            from: this.read()!,
            onReadable(n) {
              serverGot.push(new Uint8Array(this.read(n)));
              flush(this);
            },
            onWritable() {
              flush(this);
            },
            onError() {
              this.close();
            },
          });
        },
      });
      let ipOnLan = 0;
      tapLan(lan, world, (_t, _port, frame) => {
        if (isIp(frame)) ipOnLan++;
      });
      let sent = 0;
      const client = new TCP({
        address: "127.0.0.1",
        port: 7,
        onWritable(room) {
          while (sent < TOTAL && room > 0) {
            const n = Math.min(room, TOTAL - sent, 7777);
            room = this.write(data.subarray(sent, sent + n));
            sent += n;
          }
        },
        onReadable(n) {
          clientGot.push(new Uint8Array(this.read(n)));
          if (clientGot.len === TOTAL) this.close();
        },
        onError() {
          clientErrors++;
        },
      });
      expect(client.remoteAddress).toBe("127.0.0.1");
      const done = world.runUntil(() => clientGot.len === TOTAL && tcpTable(a.net).length <= 2, 60_000);
      expect(done, `stalled: sent ${sent}, server got ${serverGot.len}, client got ${clientGot.len}; ${tcpTable(a.net)}`).toBe(true);
      expect(sha256(serverGot.bytes())).toBe(sha256(data));
      expect(sha256(clientGot.bytes())).toBe(sha256(data));
      world.runFor(2000); // TIME_WAIT ends
      listener.close();
      expect(tcpTable(a.net)).toEqual([]);
      const s = a.net.tcp.stats;
      expect(clientErrors).toBe(0);
      expect([s.activeOpens, s.passiveOpens, s.estabResets, s.currEstab, s.retransSegs]).toEqual([1, 1, 0, 0, 0]);
      // Nothing of it left the host.
      expect(ipOnLan).toBe(0);
    }));
});
