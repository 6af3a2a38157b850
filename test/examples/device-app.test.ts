// The device app (examples/device-app): the services of src/apps wired together on the
// device of a simulated LAN, in virtual time, with the device mode's configuration
// (DEVICE_CONFIG): every service on its port, the status page, the counters, the client
// mode against an echo server on the peer, and a board's sizes. Each service on its own is
// tested in test/apps.
import { describe, expect, it } from "vitest";
import { startDeviceApp, type DeviceApp } from "../../examples/device-app/app";
import { BOARD_APP_SIZES, BOARD_STACK_CONFIG } from "../../examples/device-app/board";
import { formatClientResult, startEchoClient, type ClientResult } from "../../examples/device-app/client";
import { DEVICE_CONFIG } from "../../host-sim/device";
import type { LinkFaults } from "../../host-sim/sim/lan";
import type { NetConfig } from "../../src/config";
import type { TcpSocket } from "../../src/socket/tcp";
import { udpSocketClass, type UdpPacket } from "../../src/socket/udp";
import { seedFrom, withSeed } from "../helpers";
import { streamBytes } from "../tcp/harness";
import {
  ascii, bed, chargenReference, connect, DEVICE_IP, get, mod251, PEER_IP, peerListener, responses, run, settle, str, type Bed,
} from "../apps/bed";

type AppBed = Bed & { app: DeviceApp };

function appBed(
  seed: number, faults: Partial<LinkFaults> = {}, appOptions: { chunkBytes?: number; httpConnsMax?: number; httpRequestMax?: number } = {},
  deviceConfig: Partial<NetConfig> = DEVICE_CONFIG,
): AppBed {
  const b = bed(seed, faults, deviceConfig);
  return { ...b, app: startDeviceApp(b.deviceNet, { address: DEVICE_IP, hostname: "testdev", ...appOptions }) };
}

describe("device app: the services wired", () => {
  it("serves every service on its port, shares one arena, and counts per service", () =>
    withSeed(seedFrom(610), (seed) => {
      const b = appBed(seed);
      const app = b.app;
      for (const s of [app.echo, app.discard, app.chargen, app.iperf, app.http]) expect(s.buffers).toBe(app.buffers);
      expect([app.echo.port, app.discard.port, app.chargen.port, app.iperf.port, app.http.port, app.udpEcho.port]).toEqual([7, 9, 19, 5001, 80, 7]);
      const e = connect(b, 7);
      e.send(ascii("ping"));
      const d = connect(b, 9, { closeWhenSent: true });
      d.send(ascii("dropped"));
      const c = connect(b, 19);
      const h = connect(b, 80);
      h.send(get("/bytes/10", "Connection: close\r\n"));
      const UDP = udpSocketClass(b.peerNet);
      let echoed = 0;
      const u = new UDP({ onReadable(n) { for (let i = 0; i < n; i++) if ((this.read() as UdpPacket).byteLength === 3) echoed++; } });
      u.write(new Uint8Array(3), DEVICE_IP, 7);
      run(b, () => e.got.len === 4 && c.got.len > 1000 && h.closed && echoed === 1 && app.stats.discard.bytesIn === 7);
      e.sock.close();
      c.sock.close();
      u.close();
      settle(b, app);
      const counters = app.counters();
      expect(Object.keys(counters)).toEqual(["echo", "discard", "chargen", "udpEcho", "iperf", "http", "app"]);
      expect(counters.echo).toEqual({ connections: 1, bytesIn: 4, bytesOut: 4 });
      expect(counters.discard).toEqual({ connections: 1, bytesIn: 7, bytesOut: 0 });
      expect(counters.udpEcho).toEqual({ datagrams: 1, bytes: 3, sendErrors: 0 });
      expect(counters.http).toMatchObject({ connections: 1, requests: 1, s200: 1 });
      expect(counters.app).toEqual({ errors: 0, open: 0 });
      app.close();
    }));

  it("GET / is the status as JSON: hostname, address, uptime, the stack's and the app's counters", () =>
    withSeed(seedFrom(611), (seed) => {
      const b = appBed(seed);
      b.world.runFor(1_234);
      const p = connect(b, 80);
      p.send(get("/", "Connection: close\r\n"));
      run(b, () => p.closed);
      const [r, ...rest] = responses(p.got.bytes());
      expect(rest).toEqual([]);
      expect(r.status).toBe(200);
      expect(r.headers["content-type"]).toBe("application/json");
      expect(r.headers.connection).toBe("close");
      expect(Number(r.headers["content-length"])).toBe(r.body.length);
      const status = JSON.parse(str(r.body));
      expect(status.hostname).toBe("testdev");
      expect(status.address).toBe(DEVICE_IP);
      expect(status.uptimeMs).toBeGreaterThanOrEqual(1_234);
      expect(status.tcp.passiveOpens).toBe(1);
      expect(status.tcp.currEstab).toBe(1);
      expect(status.ip.inReceives).toBeGreaterThan(0);
      expect(status.devices.eth0.rx_packets).toBeGreaterThan(0);
      expect(status.pool.slots).toBe(DEVICE_CONFIG.skbSlots);
      expect(status.services.http.requests).toBe(1);
      settle(b, b.app);
    }));
});

describe("device app: client mode", () => {
  /** An echo server on the peer; `corruptAt` flips one byte of the stream on the way back. */
  function echoServer(b: AppBed, port: number, corruptAt = -1): { close(): void } {
    let offset = 0;
    return peerListener(b, port, (from) => {
      let avail = 0;
      const pump = (sock: TcpSocket): void => {
        for (;;) {
          const k = Math.min(avail, sock.write(new Uint8Array(0)));
          if (k === 0) return;
          const bytes = new Uint8Array(sock.read(k));
          avail -= k;
          if (corruptAt >= offset && corruptAt < offset + k) bytes[corruptAt - offset] ^= 0x40;
          offset += k;
          sock.write(bytes);
        }
      };
      new b.P.TCP({
        from,
        onReadable(n) {
          avail = n;
          pump(this);
        },
        onWritable() {
          pump(this);
        },
        onError() {
          this.close();
        },
      });
    });
  }

  function runClient(b: AppBed, port: number, bytes: number): ClientResult {
    let result: ClientResult | null = null;
    startEchoClient(b.app, { address: PEER_IP, port, bytes, onDone: (r) => (result = r) });
    run(b, () => result !== null, 120_000);
    return result as unknown as ClientResult;
  }

  it("sends N bytes, reads them back, checks them and reports the rate", () =>
    withSeed(seedFrom(641), (seed) => {
      const b = appBed(seed, { lossRate: 0.005 });
      const server = echoServer(b, 7000);
      const r = runClient(b, 7000, 3_000_000);
      expect(r).toMatchObject({ ok: true, sent: 3_000_000, received: 3_000_000, mismatchAt: -1, error: null });
      expect(r.transferMs).toBeGreaterThan(0);
      expect(formatClientResult(r)).toMatch(/^client: 3000000 bytes sent to 10\.0\.0\.1:7000 and echoed back intact in [\d.]+ ms \(connect [\d.]+ ms\): [\d.]+ MB\/s each way/);
      server.close();
      settle(b, b.app);
    }));

  it("fails on a byte that comes back changed, naming its offset", () =>
    withSeed(seedFrom(642), (seed) => {
      const b = appBed(seed);
      const server = echoServer(b, 7000, 123_456);
      const r = runClient(b, 7000, 500_000);
      expect(r).toMatchObject({ ok: false, mismatchAt: 123_456, mismatchGot: (123_456 % 251) ^ 0x40, mismatchWanted: 123_456 % 251 });
      expect(formatClientResult(r)).toMatch(/^client: FAILED: byte 123456 came back as \d+, not \d+/);
      server.close();
      settle(b, b.app);
    }));

  it("fails when the server refuses the connection", () =>
    withSeed(seedFrom(643), (seed) => {
      const b = appBed(seed);
      const r = runClient(b, 7001, 1000);
      expect(r.ok).toBe(false);
      expect(r.error).toMatch(/failed \(refused/);
      settle(b, b.app);
    }));

  it("fails when the server closes before everything came back", () =>
    withSeed(seedFrom(644), (seed) => {
      const b = appBed(seed);
      // discard on the peer: reads, never answers, closes after 100 KB
      let seen = 0;
      const listener = peerListener(b, 7002, (from) => {
        new b.P.TCP({
          from,
          onReadable(n) {
            this.read(n);
            seen += n;
            if (seen >= 100_000) this.close();
          },
        });
      });
      const r = runClient(b, 7002, 1_000_000);
      expect(r.ok).toBe(false);
      expect(r.error).toMatch(/closed or reset after/);
      listener.close();
      settle(b, b.app);
    }));
});

describe("device app: a board's sizes (main.ts)", () => {
  it("serves echo, chargen and a streamed /bytes with 64 packet buffers, 8 KB TCP buffers and 4 KB chunks", () =>
    withSeed(seedFrom(651), (seed) => {
      const b = appBed(seed, { lossRate: 0.005 }, BOARD_APP_SIZES, BOARD_STACK_CONFIG);
      const data = streamBytes(300_000, seed);
      const e = connect(b, 7);
      e.send(data);
      const c = connect(b, 19);
      const h = connect(b, 80);
      h.send(get("/bytes/400000", "Connection: close\r\n"));
      run(b, () => e.got.len === data.length && c.got.len >= 50_000 && h.closed);
      expect(Buffer.from(e.got.bytes()).equals(Buffer.from(data))).toBe(true);
      expect(Buffer.from(c.got.bytes().subarray(0, 50_000)).equals(Buffer.from(chargenReference(50_000)))).toBe(true);
      const [r] = responses(h.got.bytes());
      expect(Buffer.from(r.body).equals(Buffer.from(mod251(400_000)))).toBe(true);
      e.sock.close();
      c.sock.close();
      settle(b, b.app);
    }));
});
