// Half-close and TIME_WAIT.
//
// The ECMA-419 socket has no half-close of its own (close() is the whole close: a FIN after
// the data, and whatever arrives afterwards draws a reset, RFC 1122 4.2.2.13), so the
// half-close is taken from the protocol side: the peer (a raw endpoint on the LAN) sends its
// FIN first, the stack's application is told (onError once everything was read) and goes on
// writing in CLOSE_WAIT until it has written it all and closes (RFC 9293 3.6: "a TCP can
// continue sending after receiving a FIN").
//
// TIME_WAIT: the active closer holds the connection for config.tcpTimeWaitMs, answers a
// retransmitted FIN with an ACK and starts the timer again (RFC 9293 3.10.7.4), then frees
// the entry, after which the same FIN meets no connection and draws a reset.
import { describe, expect, it } from "vitest";
import type { SkBuff } from "../../src/core/skb";
import { NF_ACCEPT, NF_DROP, NF_INET_LOCAL_IN } from "../../src/ipv4/netfilter";
import { IPPROTO_TCP, ipProto } from "../../src/wire/ipv4";
import { tcpAckSeq, tcpFlags } from "../../src/wire/tcp";
import type { TcpSocket } from "../../src/socket/tcp";
import { seedFrom, withSeed } from "../helpers";
import { ACK, FIN, optMss, PSH, RST, tcpOf, type TcpView } from "../packets";
import { B_IP, makePair, sha256, Sink, streamBytes, tapLan, tcpTable, type Classes } from "./harness";
import { hostAndPeer } from "./rawpeer";

const RAW_IP = "10.0.0.9";
const RAW_MAC = new Uint8Array([2, 0, 0, 0, 0, 0x99]);
const PORT = 80;
const WAIT = 2000;

interface Seen extends TcpView {
  t: number;
  /** b's state for this connection just after it sent the segment */
  state: string;
}

/** Host b with a server on port 80, a raw peer as the client, and b's segments as it sent them. */
function setup(seed: number) {
  const { world, lan, b, B, peer, bMac } = hostAndPeer(seed, { tcpTimeWaitMs: WAIT }, RAW_IP, RAW_MAC);
  const fromB: Seen[] = [];
  const stateOf = (): string => tcpTable(b.net).find((x) => x.endsWith(`->${peer.sport}`))?.split(" ")[0] ?? "CLOSED";
  tapLan(lan, world, (t, port, frame) => {
    const v = tcpOf(frame);
    if (v !== null && port === 0) fromB.push({ ...v, t, state: stateOf() });
  });
  return { world, lan, b, B, peer, fromB, stateOf, bMac };
}

/** A server on PORT that reads everything into `got` and closes when the peer has closed (`onClosed` first). */
function readingServer(B: Classes, got: Sink, onClosed: () => void) {
  return new B.Listener({
    port: PORT,
    onReadable() {
      new B.TCP({
        from: this.read()!,
        onReadable(n) { got.push(new Uint8Array(this.read(n))); },
        onError() {
          onClosed();
          this.close();
        },
      });
    },
  });
}

describe("TCP half-close: the peer's FIN first", () => {
  // The peer's FIN comes with its request (a client that shuts its writing side at once, as
  // an HTTP/1.0 client may), or in the middle of the response.
  for (const finWithRequest of [true, false]) {
    it(`the peer's FIN ${finWithRequest ? "with its request" : "in the middle of the response"}: b goes on sending in CLOSE_WAIT, all of it, then closes`, () =>
      withSeed(seedFrom(finWithRequest ? 601 : 602), (seed) => {
        const TOTAL = 200_000;
        const s = setup(seed);
        const { world, b, B, peer, fromB, stateOf, bMac } = s;
        const request = streamBytes(500, seed);
        const response = streamBytes(TOTAL, seed + 1);
        const got = new Sink(500);
        const log: string[] = [];
        let written = 0;
        let server: TcpSocket | null = null;
        const pump = (sock: TcpSocket): void => {
          let room = sock.write(new Uint8Array(0));
          while (written < TOTAL && room > 0) {
            const n = Math.min(room, TOTAL - written, 4000);
            room = sock.write(response.subarray(written, written + n));
            written += n;
          }
          if (written === TOTAL && !log.includes("close")) {
            log.push("close");
            sock.close();
          }
        };
        const listener = new B.Listener({
          port: PORT,
          onReadable() {
            server = new B.TCP({
              from: this.read()!,
              onReadable(n) {
                got.push(new Uint8Array(this.read(n)));
                if (got.len === request.length && written === 0) {
                  log.push(`request in ${stateOf()}`);
                  pump(this);
                }
              },
              onWritable() {
                if (written > 0) pump(this);
              },
              onError() {
                // The peer closed and everything it sent was read: b may still write.
                log.push(`peer closed in ${stateOf()}, ${written} written`);
              },
            });
          },
        });
        peer.connect(B_IP, bMac, PORT, optMss(1460));
        world.runFor(10);
        expect(server).not.toBe(null);
        peer.send(ACK | PSH | (finWithRequest ? FIN : 0), request);
        const finSeq = finWithRequest ? (peer.sndNxt - 1) >>> 0 : -1;
        let peerFin = finSeq;
        let dataAtFin = 0;
        const done = world.runUntil(() => {
          if (!finWithRequest && peerFin < 0 && peer.data.len >= 20_000) {
            dataAtFin = peer.data.len;
            peerFin = peer.sndNxt;
            peer.send(FIN | ACK);
          }
          return peer.finReceived && tcpTable(b.net).length === 1;
        }, 60_000);
        expect(done, `stalled: ${peer.data.len} received; b ${tcpTable(b.net)}`).toBe(true);

        // Every byte, in order, then b's FIN right after the last.
        expect(peer.data.len).toBe(TOTAL);
        expect(sha256(peer.data.bytes())).toBe(sha256(response));
        expect(sha256(got.bytes())).toBe(sha256(request));
        const bFin = fromB.find((v) => (v.flags & FIN) !== 0)!;
        expect(bFin.seq).toBe((peer.synAck!.seq + 1 + TOTAL) >>> 0);
        expect(fromB.filter((v) => (v.flags & FIN) !== 0)).toHaveLength(1);

        // b acknowledged the peer's FIN at once, then sent data in CLOSE_WAIT: after the FIN,
        // most of the response was still to come.
        const finAck = fromB.find((v) => v.ack === ((peerFin + 1) >>> 0))!;
        expect(finAck.state).toBe("CLOSE_WAIT");
        const afterFin = fromB.filter((v) => v.t >= finAck.t && v.payload.length > 0);
        const sentAfter = afterFin.reduce((n, v) => n + v.payload.length, 0);
        // (Nothing is sent twice on this clean link, so before + after is the whole.)
        if (finWithRequest) expect(sentAfter).toBe(TOTAL);
        else expect(TOTAL - sentAfter).toBeLessThanOrEqual(dataAtFin + b.net.config.tcpSndBufBytes);
        expect(sentAfter).toBeGreaterThan(TOTAL / 2);
        expect(afterFin.every((v) => v.state === "CLOSE_WAIT" || v.state === "LAST_ACK")).toBe(true);
        expect(bFin.state).toBe("LAST_ACK");
        // The application heard of the peer's close once, with the response still unwritten,
        // wrote on, and closed when done.
        expect(log[0]).toBe("request in " + (finWithRequest ? "CLOSE_WAIT" : "ESTABLISHED"));
        expect(log.slice(1)).toEqual([expect.stringMatching(/^peer closed in CLOSE_WAIT, \d+ written$/), "close"]);
        expect(Number(log[1].split(", ")[1].split(" ")[0])).toBeLessThan(TOTAL);

        // LAST_ACK ends with the peer's ACK of the FIN: nothing left of the connection.
        expect(tcpTable(b.net)).toEqual([`LISTEN ${PORT}->0`]);
        listener.close();
        const st = b.net.tcp.stats;
        expect([st.passiveOpens, st.currEstab, st.estabResets, st.outRsts, st.retransSegs, st.inErrs]).toEqual([1, 0, 0, 0, 0, 0]);
        expect(st.outSegs).toBe(fromB.length);
        expect(st.inSegs).toBe(peer.sentSegments);
      }));
  }
});

describe("TCP: the peer's FIN joined to data already received", () => {
  // Linux joins its FIN to the last unacknowledged segment when it resends it (the ACK of
  // the data was lost): the data is old, the FIN new. Was a bug (src/tcp/input.ts, dataRcv,
  // now established.ts): the old bytes stayed in the segment, so the reader got them twice
  // and rcvNxt went past the FIN by their length.
  it("the reader gets each byte once, then the close; the FIN is acknowledged one past the data", () =>
    withSeed(seedFrom(603), (seed) => {
      const { world, B, peer, fromB, bMac, b } = setup(seed);
      const got = new Sink(64);
      let closed = 0;
      const listener = readingServer(B, got, () => closed++);
      peer.connect(B_IP, bMac, PORT);
      world.runFor(10);
      const data = streamBytes(10, seed);
      const seq = peer.sndNxt;
      peer.send(ACK | PSH, data);
      world.runFor(10);
      expect(Array.from(got.bytes())).toEqual(Array.from(data));
      // b acknowledged the data; the peer resends it, its FIN joined.
      peer.sendSegment({ flags: ACK | PSH | FIN, seq, ack: peer.rcvNxt, window: peer.window, payload: data });
      peer.sndNxt = (seq + data.length + 1) >>> 0;
      world.runFor(50);
      expect(Array.from(got.bytes())).toEqual(Array.from(data));
      expect(closed).toBe(1);
      expect(fromB.filter((v) => (v.flags & ACK) !== 0).map((v) => v.ack).at(-1)).toBe((seq + data.length + 1) >>> 0);
      expect(peer.finReceived).toBe(true);
      expect(tcpTable(b.net)).toEqual([`LISTEN ${PORT}->0`]);
      listener.close();
    }));
});

describe("TCP TIME_WAIT", () => {
  it("the active closer holds TIME_WAIT for tcpTimeWaitMs, answers a retransmitted FIN with an ACK and restarts the timer, then frees the entry", () =>
    withSeed(seedFrom(611), (seed) => {
      // b is the active closer here: it writes its data and closes; the peer then closes.
      const s = setup(seed);
      const { world, b, B, peer, fromB, bMac } = s;
      const data = streamBytes(10_000, seed);
      const listener = new B.Listener({
        port: PORT,
        onReadable() {
          const sock = new B.TCP({ from: this.read()! });
          sock.write(data);
          sock.close();
        },
      });
      peer.connect(B_IP, bMac, PORT, optMss(1460));
      world.runFor(50);
      expect(peer.finReceived).toBe(true);
      expect(sha256(peer.data.bytes())).toBe(sha256(data));
      expect(tcpTable(b.net)).toEqual([`LISTEN ${PORT}->0`, `FIN_WAIT2 ${PORT}->${peer.sport}`]);
      // The peer's FIN: b acknowledges it, in TIME_WAIT from then on.
      const peerFin = peer.sndNxt;
      peer.send(FIN | ACK);
      world.runFor(10);
      const ack1 = fromB.at(-1)!;
      expect([ack1.flags, ack1.ack, ack1.state]).toEqual([ACK, (peerFin + 1) >>> 0, "TIME_WAIT"]);
      const bFinEnd = ack1.seq;

      // Half the wait later the FIN comes again (as if that ACK were lost): answered with the
      // same ACK, and the wait starts over.
      world.runUntil(() => false, ack1.t + WAIT / 2 - world.now);
      expect(tcpTable(b.net)).toEqual([`LISTEN ${PORT}->0`, `TIME_WAIT ${PORT}->${peer.sport}`]);
      peer.sendSegment({ flags: FIN | ACK, seq: peerFin, ack: peer.rcvNxt, window: peer.window });
      world.runFor(10);
      const ack2 = fromB.at(-1)!;
      expect([ack2.flags, ack2.seq, ack2.ack, ack2.state]).toEqual([ACK, bFinEnd, (peerFin + 1) >>> 0, "TIME_WAIT"]);
      expect(fromB.filter((v) => v.t > ack1.t)).toEqual([ack2]);

      // Held until tcpTimeWaitMs after the second FIN, not the first.
      world.runUntil(() => false, ack1.t + WAIT + 10 - world.now);
      expect(tcpTable(b.net)).toEqual([`LISTEN ${PORT}->0`, `TIME_WAIT ${PORT}->${peer.sport}`]);
      world.runUntil(() => false, ack2.t + WAIT - 1 - world.now);
      expect(tcpTable(b.net)).toEqual([`LISTEN ${PORT}->0`, `TIME_WAIT ${PORT}->${peer.sport}`]);
      world.runFor(2);
      expect(tcpTable(b.net)).toEqual([`LISTEN ${PORT}->0`]);

      // The entry is gone: the same FIN now meets only the listener, and an ACK-bearing
      // segment draws <SEQ=SEG.ACK><CTL=RST> (RFC 9293 3.10.7.2).
      peer.sendSegment({ flags: FIN | ACK, seq: peerFin, ack: peer.rcvNxt, window: peer.window });
      world.runFor(10);
      const rst = fromB.at(-1)!;
      expect([rst.flags, rst.seq]).toEqual([RST, peer.rcvNxt]);
      listener.close();
      const st = b.net.tcp.stats;
      expect([st.passiveOpens, st.currEstab, st.estabResets, st.outRsts, st.retransSegs, st.inErrs]).toEqual([1, 0, 0, 1, 0, 0]);
      expect(st.outSegs).toBe(fromB.length);
      expect(st.inSegs).toBe(peer.sentSegments);
    }));

  it("between two stacks: the last ACK lost, the peer's retransmitted FIN is answered, and TIME_WAIT runs again from there", () =>
    withSeed(seedFrom(612), (seed) => {
      const { world, lan, a, b, A, B } = makePair(seed, { delayMs: 1 }, { tcpTimeWaitMs: WAIT });
      const wire: { t: number; port: number; v: TcpView }[] = [];
      // b drops the first ACK of its FIN that arrives (a's last ACK, lost).
      let bFinSeq = -1;
      tapLan(lan, world, (t, port, frame) => {
        const v = tcpOf(frame);
        if (v === null) return;
        wire.push({ t, port, v });
        if (port === 1 && (v.flags & FIN) !== 0) bFinSeq = v.seq;
      });
      let dropped = 0;
      const buf = b.net.pool.buf;
      b.net.ipv4.netfilter.register(NF_INET_LOCAL_IN, (skb: SkBuff) => {
        const th = skb.networkHeader + 20;
        if (ipProto(buf, skb.networkHeader) !== IPPROTO_TCP || bFinSeq < 0 || dropped > 0) return NF_ACCEPT;
        if (tcpFlags(buf, th) === ACK && tcpAckSeq(buf, th) === ((bFinSeq + 1) >>> 0)) {
          dropped++;
          return NF_DROP;
        }
        return NF_ACCEPT;
      });
      const data = streamBytes(10_000, seed);
      const got = new Sink(10_000);
      let serverErrors = 0;
      const listener = readingServer(B, got, () => serverErrors++);
      let closed = false;
      new A.TCP({
        address: B_IP,
        port: PORT,
        onWritable() {
          if (closed) return;
          closed = true;
          this.write(data);
          this.close();
        },
      });
      // b's FIN comes again on its retransmission timer (an RTO, or a tail loss probe):
      // within the initial RTO (1 s) at the latest.
      world.runFor(b.net.config.tcpRtoInitialMs + 500);
      expect(sha256(got.bytes())).toBe(sha256(data));
      expect(serverErrors).toBe(1);
      expect(dropped).toBe(1);
      // b's FIN twice (the second one RTO later), a's ACK of it twice.
      const bFins = wire.filter((w) => w.port === 1 && (w.v.flags & FIN) !== 0);
      const aAcks = wire.filter((w) => w.port === 0 && w.v.ack === ((bFinSeq + 1) >>> 0));
      expect(bFins.map((w) => w.v.seq)).toEqual([bFinSeq, bFinSeq]);
      expect(aAcks).toHaveLength(2);
      expect(aAcks[1].t).toBeGreaterThan(bFins[1].t);
      expect(bFins[1].t - bFins[0].t).toBeGreaterThan(0);
      expect(bFins[1].t - bFins[0].t).toBeLessThanOrEqual(b.net.config.tcpRtoInitialMs);
      expect(tcpTable(b.net)).toEqual([`LISTEN ${PORT}->0`]);
      // a entered TIME_WAIT with its first ACK and stays for WAIT from the second.
      world.runUntil(() => false, aAcks[0].t + WAIT + 10 - world.now);
      expect(tcpTable(a.net)).toEqual([expect.stringMatching(/^TIME_WAIT \d+->80$/)]);
      world.runUntil(() => false, aAcks[1].t + WAIT - 1 - world.now);
      expect(tcpTable(a.net)).toEqual([expect.stringMatching(/^TIME_WAIT \d+->80$/)]);
      world.runFor(2);
      expect(tcpTable(a.net)).toEqual([]);
      listener.close();
      // One retransmission: the RTO's, or a tail loss probe's (RFC 8985 7) before it.
      expect(b.net.tcp.stats.retransSegs).toBe(1);
      expect(b.net.tcp.stats.timeouts + b.net.tcp.stats.lossProbes).toBe(1);
      for (const [h, port] of [[a, 0], [b, 1]] as const) {
        const st = h.net.tcp.stats;
        expect([st.currEstab, st.estabResets, st.outRsts, st.inErrs]).toEqual([0, 0, 0, 0]);
        expect(st.outSegs).toBe(wire.filter((w) => w.port === port).length);
      }
      expect(a.net.tcp.stats.inSegs).toBe(wire.filter((w) => w.port === 1).length);
      expect(b.net.tcp.stats.inSegs).toBe(wire.filter((w) => w.port === 0).length - 1); // the one dropped
    }));
});
