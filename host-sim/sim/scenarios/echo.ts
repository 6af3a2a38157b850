// Echo through the socket APIs, UDP and TCP, over a link with loss, reordering and duplication.

import { tcpSocketClasses, type TcpSocket } from "../../../src/socket/tcp";
import { udpSocketClass, type UdpPacket } from "../../../src/socket/udp";
import type { LinkFaults } from "../lan";
import { SimWorld } from "../world";
import { report, type ScenarioReport } from "./report";

/** 3 % loss with reordering and duplication (the echo scenarios' link) */
const LOSSY_REORDERING: Partial<LinkFaults> = Object.freeze({ lossRate: 0.03, delayMs: 2, jitterMs: 1, reorderRate: 0.02, reorderDelayMs: 3, duplicateRate: 0.01 });

/** UDP echo through the socket API over a lossy, reordering link, datagrams up to 8,000 bytes. */
export function udpEcho(seed: number): ScenarioReport {
  const { world, a, b } = new SimWorld(seed).twoHosts({ lanName: "lossy", faults: LOSSY_REORDERING });
  const UdpA = udpSocketClass(a.net);
  const UdpB = udpSocketClass(b.net);
  const scratch = new Uint8Array(8000);
  const echo = new UdpB({ port: 7 });
  let echoed = 0;
  let received = 0;
  let bytesReceived = 0;
  const client = new UdpA({ port: 5555 });
  const sizes = [1, 64, 512, 1472, 1473, 3000, 8000];
  for (let i = 0; i < 140; i++) {
    const size = sizes[i % sizes.length];
    for (let k = 0; k < size; k++) scratch[k] = (k + i) & 0xff;
    client.write(new Uint8Array(scratch.buffer, 0, size), "10.0.0.2", 7);
    world.runFor(10);
    let p: UdpPacket | undefined;
    while ((p = echo.read()) !== undefined) {
      echo.write(p, p.address, p.port);
      echoed++;
    }
    while ((p = client.read()) !== undefined) {
      received++;
      bytesReceived += p.byteLength;
    }
  }
  world.runFor(35_000);
  echo.close();
  client.close();
  return report("udp-echo", world, [], { sent: 140, echoed, received, bytesReceived });
}

/** TCP echo through the socket API, 200 KB, over a link with loss, reordering and duplication. */
export function tcpEcho(seed: number): ScenarioReport {
  const { world, a, b } = new SimWorld(seed).twoHosts({ lanName: "lossy", faults: LOSSY_REORDERING, config: { tcpTimeWaitMs: 2000 } });
  const SA = tcpSocketClasses(a.net);
  const SB = tcpSocketClasses(b.net);
  const total = 200_000;
  let echoed = 0;
  let received = 0;
  let mismatches = 0;
  let sent = 0;
  let serverClosed = 0;
  const chunk = new Uint8Array(4096);
  let available = 0; // what the server's last onReadable said, less what it read since
  const pump = (sock: TcpSocket): void => {
    // Echo what fits: read only as much as the send buffer takes.
    for (;;) {
      const room = sock.write(chunk.subarray(0, 0));
      const n = Math.min(room, available, chunk.length);
      if (n <= 0) return;
      sock.read(chunk.subarray(0, n));
      available -= n;
      sock.write(chunk.subarray(0, n));
      echoed += n;
    }
  };
  const listener = new SB.Listener({
    port: 7,
    onReadable() {
      const from = this.read();
      if (from === undefined) return;
      new SB.TCP({
        from,
        onReadable(bytes) {
          available = bytes;
          pump(this);
        },
        onWritable() { pump(this); },
        onError() { serverClosed++; this.close(); },
      });
    },
  });
  const out = new Uint8Array(8192);
  const client = new SA.TCP({
    address: "10.0.0.2",
    port: 7,
    onWritable(room) {
      const n = Math.min(room, total - sent, out.length);
      if (n <= 0) return;
      for (let k = 0; k < n; k++) out[k] = ((sent + k) * 31 + 7) & 0xff;
      this.write(out.subarray(0, n));
      sent += n;
    },
    onReadable(bytes) {
      const got = new Uint8Array(this.read(bytes));
      for (let k = 0; k < got.length; k++) if (got[k] !== (((received + k) * 31 + 7) & 0xff)) mismatches++;
      received += got.length;
      if (received === total) this.close();
    },
  });
  world.runFor(120_000);
  listener.close();
  const closedCleanly = a.net.tcp.stats.currEstab === 0 && b.net.tcp.stats.currEstab === 0 ? 1 : 0;
  void client;
  return report("tcp-echo", world, [], {
    sent, echoed, received, mismatches, serverClosed, closedCleanly,
    retransA: a.net.tcp.stats.retransSegs, retransB: b.net.tcp.stats.retransSegs,
  });
}
