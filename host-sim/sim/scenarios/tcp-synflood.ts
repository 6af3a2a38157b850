// A SYN flood from spoofed sources against a listener with a short SYN queue: real clients
// still connect, through SYN cookies (RFC 4987).

import { tcpSocketClasses } from "../../../src/socket/tcp";
import { csumFold, csumPartial, csumPseudoHeader } from "../../../src/wire/checksum";
import { ETH_HLEN, ETH_P_IP, ethBuildHeader } from "../../../src/wire/ethernet";
import { IPPROTO_TCP, IPV4_HLEN, ipBuildHeader } from "../../../src/wire/ipv4";
import { TCP_HLEN, TCP_SYN, setTcpCheck, tcpBuildHeader, tcpWriteOptMss } from "../../../src/wire/tcp";
import { SimWorld } from "../world";
import { connections, report, type ScenarioReport } from "./report";

/** A SYN from (src, sport) to (dst, dport) with an MSS option, built into frame; returns its length (58). */
function craftSyn(frame: Uint8Array, dstMac: Uint8Array, srcMac: Uint8Array, src: number, dst: number, sport: number, dport: number, isn: number, ipId: number): number {
  const ip = ETH_HLEN;
  const th = ip + IPV4_HLEN;
  const tcpLen = TCP_HLEN + 4;
  ethBuildHeader(frame, 0, dstMac, 0, srcMac, 0, ETH_P_IP);
  ipBuildHeader(frame, ip, 0, IPV4_HLEN + tcpLen, ipId, 0, 64, IPPROTO_TCP, src, dst);
  tcpBuildHeader(frame, th, sport, dport, isn, 0, tcpLen, TCP_SYN, 0xffff);
  tcpWriteOptMss(frame, th + TCP_HLEN, 1460);
  setTcpCheck(frame, th, csumFold(csumPartial(frame, th, tcpLen, csumPseudoHeader(src, dst, IPPROTO_TCP, tcpLen))));
  return th + tcpLen;
}

/**
 * A flood of SYNs from spoofed sources, raw frames on the LAN, fills a listener's SYN
 * queue (backlog 2); real clients connect all the same, through SYN cookies (RFC 4987),
 * send a greeting and get it back.
 */
export function tcpSynflood(seed: number): ScenarioReport {
  const FLOOD = 500;
  const { world, lan, a: server, b: client, devA: devS } = new SimWorld(seed).twoHosts({
    faults: { delayMs: 1 },
    config: { tcpTimeWaitMs: 1000 },
    a: { name: "server", config: { tcpSocketsMax: 8 } },
    b: { name: "client" },
  });
  const attacker = lan.attach({ onFrame() {} });
  const attackerMac = new Uint8Array([0x02, 0x66, 0x66, 0x66, 0x66, 0x66]);
  const S = tcpSocketClasses(server.net);
  const C = tcpSocketClasses(client.net);
  let accepted = 0;
  let serverBytes = 0;
  const listener = new S.Listener({
    port: 80,
    backlog: 2,
    onReadable() {
      let from;
      while ((from = this.read()) !== undefined) {
        accepted++;
        new S.TCP({
          from,
          onReadable(n) {
            const got = new Uint8Array(this.read(n));
            serverBytes += got.length;
            this.write(got);
            this.close();
          },
          onError() { this.close(); },
        });
      }
    },
  });
  const frame = new Uint8Array(128);
  let sent = 0;
  const flood = (): void => {
    for (let i = 0; i < 10 && sent < FLOOD; i++, sent++) {
      const src = (0x0a000064 + (sent % 150)) >>> 0; // 10.0.0.100 ...
      const len = craftSyn(frame, devS.addr, attackerMac, src, 0x0a000001, 1024 + (sent % 50000), 80, Math.imul(sent, 7919) >>> 0, sent);
      lan.transmit(attacker, frame, 0, len);
    }
  };
  let clientBytes = 0;
  let clientMismatches = 0;
  let clientErrors = 0;
  let clients = 0;
  for (let round = 0; round < 50; round++) {
    flood();
    if (round % 10 === 5) {
      const k = clients++;
      const hello = new Uint8Array(12 + k);
      for (let i = 0; i < hello.length; i++) hello[i] = (i * 13 + k) & 0xff;
      let got = 0;
      new C.TCP({
        address: "10.0.0.1",
        port: 80,
        onWritable() {
          if (got === 0) this.write(hello);
        },
        onReadable(n) {
          const back = new Uint8Array(this.read(n));
          for (let i = 0; i < back.length; i++) if (back[i] !== hello[got + i]) clientMismatches++;
          got += back.length;
          clientBytes += back.length;
        },
        onError() { clientErrors++; this.close(); },
      });
    }
    world.runFor(20);
  }
  world.runFor(20_000);
  const st = server.net.tcp.stats;
  const extra: Record<string, number> = {
    flood: sent,
    clients,
    accepted,
    serverBytes,
    clientBytes,
    clientMismatches,
    clientErrors,
    syncookiesSent: st.syncookiesSent,
    syncookiesRecv: st.syncookiesRecv,
    syncookiesFailed: st.syncookiesFailed,
    tableFull: st.tableFull,
    listenDrops: st.listenDrops,
    halfOpen: server.net.tcp.children(0, false),
  };
  listener.close();
  extra.connectionsLeft = connections(server.net) + connections(client.net);
  return report("tcp-synflood", world, [], extra);
}
