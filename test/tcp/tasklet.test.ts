// TCP's tasklet (src/tcp/tcp.ts: Tcp.notify, runTasklet): owners told from the loop. The
// lists are fixed at init, so what an owner does from its own callback must not lose a
// connection from them: told again, it hears of it on the next run, and so does every later
// owner of its slot. Also: the wait timer's look again at an empty pool, and a listener told
// of a connection that is gone before the tasklet runs. Entries are driven directly here (the
// states a segment would set), so each case is exact.
import { describe, expect, it } from "vitest";
import { N_ACCEPT, N_READABLE, N_REPORT, TCP_ESTABLISHED, TCP_LISTEN, type TcpListenerOwner, type TcpOwner } from "../../src/tcp/tcb";
import { makeNet } from "../helpers";

function owner(log: string[], name: string, onReadable?: () => void): TcpOwner {
  return {
    onReadable(n: number) {
      log.push(`${name} readable ${n}`);
      onReadable?.();
    },
    onWritable(_n: number) {
      log.push(`${name} writable`);
    },
    onError(e: number) {
      log.push(`${name} error ${e}`);
    },
  } as TcpOwner;
}

describe("TCP's tasklet", () => {
  it("an owner told again from its own callback hears it on the next run, with a table of 2 (the list never drops a connection)", () => {
    const { net } = makeNet({ tcpSocketsMax: 2 });
    const tcp = net.tcp;
    const t = tcp.tcb;
    const log: string[] = [];
    for (const c of [0, 1]) {
      t.state[c] = TCP_ESTABLISHED;
      t.rcvQueued[c] = 10;
    }
    t.owner[0] = owner(log, "c0");
    // c1's reader asks for the whole state again from its callback (as a socket does that
    // drains the data after the peer's FIN: deferNotify)
    let again = 1;
    t.owner[1] = owner(log, "c1", () => {
      if (again-- > 0) tcp.notify(1, N_REPORT);
    });
    tcp.notify(0, N_READABLE);
    tcp.notify(1, N_READABLE);
    for (let i = 0; i < 3; i++) net.softnet.run();
    // the report: writable, then readable (the data is still there)
    expect(log).toEqual(["c0 readable 10", "c1 readable 10", "c1 writable", "c1 readable 10"]);
    // and later events for both still arrive
    log.length = 0;
    tcp.notify(1, N_READABLE);
    tcp.notify(0, N_READABLE);
    net.softnet.run();
    expect(log).toEqual(["c1 readable 10", "c0 readable 10"]);
    for (const c of [0, 1]) {
      t.owner[c] = null;
      t.rcvQueued[c] = 0;
    }
  });

  it("the wait timer outside TIME_WAIT tells the owner the whole state (the pool had no room and no ACK will come)", () => {
    const { net } = makeNet({});
    const t = net.tcp.tcb;
    const log: string[] = [];
    t.state[3] = TCP_ESTABLISHED;
    t.owner[3] = owner(log, "c3");
    net.modTimer(t.waitTimer[3], net.now());
    net.softnet.run();
    expect(log).toEqual(["c3 writable"]);
    t.owner[3] = null;
  });

  it("a listener told of a connection that is gone by the time the tasklet runs hears nothing", () => {
    const { net } = makeNet({});
    const t = net.tcp.tcb;
    const heard: number[] = [];
    t.state[2] = TCP_LISTEN;
    t.listenerOwner[2] = { onConnections: (n: number) => heard.push(n) } as TcpListenerOwner;
    net.tcp.notify(2, N_ACCEPT);
    net.softnet.run();
    expect(heard).toEqual([]);
    t.listenerOwner[2] = null;
  });
});
