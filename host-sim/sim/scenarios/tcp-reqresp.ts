// Request/response timing over TCP, with and without Nagle (and the delayed ACK it meets).

import type { TcpSocket } from "../../../src/socket/tcp";
import { connections, PatternStream, report, type ScenarioReport } from "./report";
import { cornerPair } from "./tcp-protocol";

/**
 * Request/response with small writes both ways, 50 rounds of a 40-byte request and a
 * 100-byte reply written in two pieces (30, then 70 a millisecond later: two writes in one
 * callback would go as one segment), over a 10 ms round trip: once with nodelay (every
 * round one round trip and the millisecond), once without (Nagle holds the second piece
 * and the client delays its ACK: from the second round on, a round waits out tcpDelackMs).
 */
export function tcpReqResp(seed: number): ScenarioReport {
  const ROUNDS = 50;
  const REQ = 40;
  const REPLY = 100;
  const FIRST = 30;
  const { world, a, b, SA, SB } = cornerPair(seed, { delayMs: 5 }, { tcpTimeWaitMs: 1000 });
  const extra: Record<string, number> = {};
  const reqBuf = new Uint8Array(REQ);
  const repBuf = new Uint8Array(REPLY);
  /** the reply's second piece, written 1 ms after the first (one reply is out at a time) */
  const restBuf = new Uint8Array(REPLY - FIRST);
  let port = 8000;
  for (const nodelay of [true, false]) {
    const key = nodelay ? "nodelay" : "nagle";
    const reqOut = new PatternStream(seed * 4 + port);
    const reqIn = new PatternStream(seed * 4 + port);
    const repOut = new PatternStream(seed * 4 + port + 1);
    const repIn = new PatternStream(seed * 4 + port + 1);
    let serverGot = 0;
    let clientGot = 0;
    let replied = 0;
    let mismatches = 0;
    let serverErrors = 0;
    let round = 0;
    let started = 0;
    const times: number[] = [];
    const listener = new SB.Listener({
      port,
      onReadable() {
        const from = this.read();
        if (from === undefined) return;
        const server: TcpSocket = new SB.TCP({
          from,
          nodelay,
          onReadable(n) {
            const got = new Uint8Array(this.read(n));
            reqIn.check(got, 0, got.length, 0);
            mismatches += reqIn.mismatches;
            serverGot += got.length;
            while (serverGot >= REQ * (replied + 1)) {
              repOut.fill(repBuf, 0, REPLY, 0);
              this.write(repBuf.subarray(0, FIRST));
              restBuf.set(repBuf.subarray(FIRST));
              world.loop.after(1, { onSimEvent: () => server.write(restBuf) }, 0);
              replied++;
            }
          },
          onError() { serverErrors++; this.close(); },
        });
      },
    });
    const ask = (s: TcpSocket): void => {
      started = world.now;
      reqOut.fill(reqBuf, 0, REQ, 0);
      s.write(reqBuf);
    };
    let asked = false;
    const client = new SA.TCP({
      address: "10.0.0.2",
      port,
      nodelay,
      onWritable() {
        if (!asked) {
          asked = true;
          ask(this);
        }
      },
      onReadable(n) {
        const got = new Uint8Array(this.read(n));
        repIn.check(got, 0, got.length, 0);
        mismatches += repIn.mismatches;
        clientGot += got.length;
        if (clientGot === REPLY * (round + 1)) {
          times.push(world.now - started);
          round++;
          if (round < ROUNDS) ask(this);
        }
      },
    });
    const done = world.runUntil(() => round === ROUNDS, 60_000);
    client.close();
    world.runFor(1200);
    listener.close();
    extra[`${key}.done`] = done ? 1 : 0;
    extra[`${key}.rounds`] = round;
    extra[`${key}.mismatches`] = mismatches;
    extra[`${key}.clientGot`] = clientGot;
    extra[`${key}.serverGot`] = serverGot;
    extra[`${key}.serverErrors`] = serverErrors;
    let min = Infinity;
    let max = 0;
    let restMin = Infinity;
    for (let i = 0; i < times.length; i++) {
      extra[`${key}.t${i}`] = times[i];
      if (times[i] < min) min = times[i];
      if (times[i] > max) max = times[i];
      if (i > 0 && times[i] < restMin) restMin = times[i];
    }
    extra[`${key}.min`] = min;
    extra[`${key}.max`] = max;
    extra[`${key}.restMin`] = restMin;
    port++;
  }
  for (const [key, h] of [["a", a], ["b", b]] as const) {
    const st = h.net.tcp.stats;
    extra[`${key}.retransSegs`] = st.retransSegs;
    extra[`${key}.outSegs`] = st.outSegs;
    extra[`${key}.inSegs`] = st.inSegs;
    extra[`${key}.outRsts`] = st.outRsts;
  }
  extra.delackMs = a.net.config.tcpDelackMs;
  extra.connectionsLeft = connections(a.net) + connections(b.net);
  return report("tcp-reqresp", world, [], extra);
}
