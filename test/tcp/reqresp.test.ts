// Request/response with small writes both ways: 200 rounds of a 40-byte request from the
// client and a 100-byte reply from the server, over a LAN with a 10 ms round trip. What is
// measured is the virtual time of each round, from the client's write of the request to
// the last byte of the reply in its hands.
//
// With nodelay, or with the reply in one write, a round is one round trip: neither Nagle
// nor the delayed ACK has anything to wait for. Two writes from one callback are one write
// to the wire: TCP's tasklet pushes the write queue once the callback has returned.
//
// Without nodelay and with the reply in two writes on different turns of the loop (30
// bytes, then 70 a millisecond later), the second write is a small segment while the
// first is unacknowledged, so Nagle holds it (RFC 1122 4.2.3.4;
// Linux's Minshall variant holds it too: a small segment is in flight), and the client,
// having nothing to send, delays its ACK of the first (RFC 1122 4.2.3.2; Linux delays it
// too once the connection is interactive, "pingpong"). The round then waits out the
// delayed-ACK timer: RTT + tcpDelackMs + RTT. That is the classic stall, and Linux has it
// (measured on Linux 6.18 over loopback with the same pattern: 199 rounds of 200 at 44 ms,
// its 40 ms delayed ACK plus timer slack) in every round but the first: a new connection
// ACKs its first data segments at once (quick-ACK mode, tcp_incr_quickack in
// tcp_event_data_recv), so the first exchange on a connection, which is all a short
// request/response connection has, does not stall on Linux.
import { describe, expect, it } from "vitest";
import type { NetConfig } from "../../src/config";
import { DEFAULT_CONFIG } from "../../src/config";
import type { TcpSocket } from "../../src/socket/tcp";
import { seedFrom, withSeed } from "../helpers";
import { tcpOf } from "../packets";
import { B_IP, makePair, sha256, Sink, streamBytes, tapLan, tcpTable } from "./harness";

const ROUNDS = 200;
const REQ = 40;
const REPLY = 100;
/** the reply's first write; the rest is the second */
const FIRST = 30;
const DELAY_MS = 5;
const RTT = 2 * DELAY_MS;
const PORT = 8000;
/** virtual times are sums of fractions: compare with this much slack below */
const EPS = 1e-6;

interface Run {
  /** virtual time of each round */
  times: number[];
  pair: ReturnType<typeof makePair>;
  /** TCP segments each host put on the wire */
  wireSegs: [number, number];
}

/** How the server writes each reply: in one write, in two from the same callback, or the second 1 ms later. */
type Split = "none" | "same-turn" | "later-turn";

function requestResponse(seed: number, nodelay: boolean, split: Split, config: Partial<NetConfig> = {}): Run {
  const pair = makePair(seed, { delayMs: DELAY_MS }, { tcpTimeWaitMs: 1000, ...config });
  const { world, lan, a, b, A, B } = pair;
  const wireSegs: [number, number] = [0, 0];
  tapLan(lan, world, (_t, port, frame) => {
    if (tcpOf(frame) !== null) wireSegs[port]++;
  });
  const requests = streamBytes(REQ * ROUNDS, seed);
  const replies = streamBytes(REPLY * ROUNDS, seed + 1);
  const serverGot = new Sink(REQ * ROUNDS);
  const clientGot = new Sink(REPLY * ROUNDS);
  let serverErrors = 0;
  let server: TcpSocket | null = null;
  const listener = new B.Listener({
    port: PORT,
    onReadable() {
      server = new B.TCP({
        from: this.read()!,
        nodelay,
        onReadable(n) {
          serverGot.push(new Uint8Array(this.read(n)));
          // A reply for each whole request.
          while (serverGot.len >= REQ * (replied + 1)) {
            const r = replies.subarray(REPLY * replied, REPLY * (replied + 1));
            if (split === "same-turn") {
              this.write(r.subarray(0, FIRST));
              this.write(r.subarray(FIRST));
            } else if (split === "later-turn") {
              this.write(r.subarray(0, FIRST));
              const rest = r.subarray(FIRST);
              world.loop.after(1, { onSimEvent: () => (server as TcpSocket).write(rest) }, 0);
            } else {
              this.write(r);
            }
            replied++;
          }
        },
        onError() {
          serverErrors++;
          this.close();
        },
      });
    },
  });
  let replied = 0;
  const times: number[] = [];
  let round = 0;
  let started = 0;
  const ask = (s: TcpSocket): void => {
    started = world.now;
    s.write(requests.subarray(REQ * round, REQ * (round + 1)));
  };
  const client = new A.TCP({
    address: B_IP,
    port: PORT,
    nodelay,
    onWritable() {
      if (round === 0 && started === 0) ask(this);
    },
    onReadable(n) {
      clientGot.push(new Uint8Array(this.read(n)));
      if (clientGot.len === REPLY * (round + 1)) {
        times.push(world.now - started);
        round++;
        if (round < ROUNDS) ask(this);
      }
    },
  });
  const done = world.runUntil(() => round === ROUNDS, 600_000);
  expect(done, `stalled after ${round} rounds`).toBe(true);
  expect(sha256(serverGot.bytes())).toBe(sha256(requests));
  expect(sha256(clientGot.bytes())).toBe(sha256(replies));
  client.close();
  world.runFor(100);
  expect(serverErrors).toBe(1);
  world.runFor(1100);
  expect(tcpTable(a.net)).toEqual([]);
  expect(tcpTable(b.net)).toEqual([`LISTEN ${PORT}->0`]);
  listener.close();
  void server;
  // Nothing was lost, so nothing is sent twice, and the counters agree with the wire.
  for (const [h, port] of [[a, 0], [b, 1]] as const) {
    const st = h.net.tcp.stats;
    expect([st.retransSegs, st.timeouts, st.fastRetrans, st.currEstab, st.estabResets, st.outRsts]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(st.outSegs).toBe(wireSegs[port]);
    expect(st.inSegs).toBe(wireSegs[1 - port]);
  }
  return { times, pair, wireSegs };
}

const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(3)).join(" ");

describe("TCP request/response with small writes", () => {
  it("nodelay, reply in two writes a millisecond apart: each of 200 rounds takes one round trip", () =>
    withSeed(seedFrom(501), (seed) => {
      const { times, pair } = requestResponse(seed, true, "later-turn");
      expect(times).toHaveLength(ROUNDS);
      // One RTT (10 ms) and the time frames take through the simulated MACs, never a
      // delayed-ACK timeout (40 ms) or a retransmission timeout (200 ms).
      const slow = times.filter((t) => t < RTT + 1 - EPS || t > RTT + 1.5);
      expect(slow, fmt(slow)).toEqual([]);
      // The client ACKs every second segment at once: the reply's two segments draw one ACK.
      expect(pair.a.net.tcp.stats.delayedAcks).toBe(0);
    }));

  it("without nodelay, reply in one write: each of 200 rounds takes one round trip", () =>
    withSeed(seedFrom(502), (seed) => {
      const { times } = requestResponse(seed, false, "none");
      // Nagle holds a small segment only while data is unacknowledged; a request or a reply
      // in one write never has anything in flight before it.
      const slow = times.filter((t) => t < RTT - EPS || t > RTT + 0.5);
      expect(slow, fmt(slow)).toEqual([]);
    }));

  it("without nodelay, reply in two writes from one callback: one segment, each of 200 rounds one round trip", () =>
    withSeed(seedFrom(505), (seed) => {
      const { times, wireSegs } = requestResponse(seed, false, "same-turn");
      const slow = times.filter((t) => t < RTT - EPS || t > RTT + 0.5);
      expect(slow, fmt(slow)).toEqual([]);
      // The server's segments: its SYN-ACK, a reply each round, and the close's; no more.
      expect(wireSegs[1]).toBeLessThanOrEqual(ROUNDS + 4);
    }));

  for (const delack of [DEFAULT_CONFIG.tcpDelackMs, 10]) {
    it(`without nodelay, reply in two writes a millisecond apart: from the second round on, each round waits for the delayed ACK (tcpDelackMs ${delack}), never longer`, () =>
      withSeed(seedFrom(503), (seed) => {
        const { times, pair } = requestResponse(seed, false, "later-turn", { tcpDelackMs: delack });
        // RTT (request out, first reply segment back) + the client's delayed ACK + RTT (the
        // ACK out, the held second segment back). Nothing ever waits for a retransmission.
        const rest = times.slice(1);
        const off = rest.filter((t) => t < 2 * RTT + delack - EPS || t > 2 * RTT + delack + 0.5);
        expect(off, fmt(off)).toEqual([]);
        // The client's ACK of the first segment went out on the delayed-ACK timer, each round.
        expect(pair.a.net.tcp.stats.delayedAcks).toBeGreaterThanOrEqual(ROUNDS - 1);
        expect(pair.a.net.tcp.stats.delayedAcks).toBeLessThanOrEqual(ROUNDS);
      }));
  }

  // Where the stack stalls and Linux does not: Linux enters quick-ACK mode on the first data
  // a connection receives (tcp_event_data_recv: icsk_ack.ato == 0 -> tcp_incr_quickack), and
  // is not yet "pingpong" (the client has not yet sent data right after receiving), so it
  // ACKs the reply's first segment at once and the second follows a round trip later.
  it("without nodelay, reply in two writes a millisecond apart: the first round of a new connection does not wait for a delayed ACK (as Linux)", () =>
    withSeed(seedFrom(504), (seed) => {
      const { times } = requestResponse(seed, false, "later-turn");
      // Two round trips: the request and the first segment, then its ACK and the second.
      expect(times[0]).toBeGreaterThanOrEqual(2 * RTT - EPS);
      expect(times[0]).toBeLessThanOrEqual(2 * RTT + 0.5);
    }));
});
