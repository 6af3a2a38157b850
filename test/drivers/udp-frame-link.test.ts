// drivers/udp-frame-link.ts over a fake ECMA-419 UDP class: two stacks whose links are
// datagrams on a simulated loopback (in virtual time), as the app in Moddable's simulator
// and socat carry frames. The fake reads as Moddable's lin class does (read() makes an
// ArrayBuffer with address and port; arguments ignored) or, with readInto, fills the buffer
// it is given and returns the length (the extension xsnet's own UDP class has).
import { describe, expect, it } from "vitest";
import { Pinger } from "../../src/apps/ping";
import { tcpSocketClasses } from "../../src/index";
import { devClose, devOpen } from "../../src/core/link";
import type { Net } from "../../src/core/net";
import type { NetDevice } from "../../src/core/netdevice";
import { ipAddrAdd } from "../../src/ipv4/devinet";
import {
  parseUdpLinkSpec, UdpFrameLink, type FrameDatagram, type FrameSocket, type FrameSocketClass, type FrameSocketOptions,
} from "../../drivers/udp-frame-link";
import type { EventLoop, SimEventHandler } from "../../host-sim/sim/event-loop";
import type { SimWorld } from "../../host-sim/sim/world";
import { makeWorld, seedFrom, withSeed } from "../helpers";
import { mac } from "../packets";

interface HubOptions {
  /** read(buffer) fills the buffer and returns the length */
  readInto?: boolean;
  /** ms of virtual time a datagram takes to its receiver */
  delayMs?: number;
  /** datagrams a socket holds; more prune the oldest (Moddable's lin class holds 100) */
  queueMax?: number;
}

/** UDP on a simulated loopback: sockets by port, datagrams delivered through the world's event loop. */
class FakeHub implements SimEventHandler {
  readonly loop: EventLoop;
  readonly options: HubOptions;
  readonly sockets = new Map<number, FakeSocket>();
  readonly byIndex: FakeSocket[] = [];
  sent = 0;
  /** datagrams to a port nobody had bound (a's announcement before b's link was open) */
  lost = 0;
  pruned = 0;
  /** write() throws while set (a full socket buffer) */
  failWrites = false;
  constructor(loop: EventLoop, options: HubOptions = {}) {
    this.loop = loop;
    this.options = options;
  }

  get Class(): FrameSocketClass {
    const hub = this;
    return class implements FrameSocket {
      readonly #s: FakeSocket;
      constructor(options: FrameSocketOptions) {
        this.#s = hub.open(options);
      }
      read(buffer?: Uint8Array): FrameDatagram | number | undefined {
        return hub.read(this.#s, buffer);
      }
      write(buffer: Uint8Array, address: string, port: number): void {
        hub.write(this.#s, buffer, address, port);
      }
      close(): void {
        hub.close(this.#s);
      }
    };
  }

  open(options: FrameSocketOptions): FakeSocket {
    if (this.sockets.has(options.port)) throw new Error(`bind failed: port ${options.port} in use`);
    const s: FakeSocket = { index: this.byIndex.length, port: options.port, queue: [], onReadable: options.onReadable, open: true };
    this.byIndex.push(s);
    this.sockets.set(options.port, s);
    return s;
  }

  close(s: FakeSocket): void {
    s.open = false;
    s.queue.length = 0;
    this.sockets.delete(s.port);
  }

  read(s: FakeSocket, buffer?: Uint8Array): FrameDatagram | number | undefined {
    if (!s.open) throw new SyntaxError("read on a closed socket");
    const d = s.queue.shift();
    if (d === undefined) return undefined;
    if (this.options.readInto === true && buffer !== undefined) {
      if (d.byteLength > buffer.length) {
        s.queue.unshift(d);
        throw new RangeError(`buffer of ${buffer.length} bytes is smaller than the ${d.byteLength}-byte datagram`);
      }
      buffer.set(new Uint8Array(d));
      return d.byteLength;
    }
    return d;
  }

  write(s: FakeSocket, buffer: Uint8Array, address: string, port: number): void {
    if (!s.open) throw new SyntaxError("write on a closed socket");
    if (this.failWrites) throw new Error("sendto failed");
    this.inject(port, buffer, address === "127.0.0.1" ? "127.0.0.1" : "10.9.9.9", s.port);
  }

  /** A datagram to `port` as if sent from address:fromPort. */
  inject(port: number, bytes: Uint8Array, address: string, fromPort: number): void {
    this.sent++;
    const to = this.sockets.get(port);
    if (to === undefined) {
      this.lost++; // nobody listens: lost, as on loopback
      return;
    }
    const d = bytes.slice().buffer as FrameDatagram;
    Object.defineProperties(d, { address: { value: address }, port: { value: fromPort } });
    to.queue.push(d);
    const max = this.options.queueMax ?? Infinity;
    while (to.queue.length > max) {
      to.queue.shift();
      this.pruned++;
    }
    this.loop.after(this.options.delayMs ?? 0.05, this, to.index);
  }

  onSimEvent(index: number): void {
    const s = this.byIndex[index];
    if (s.open && s.queue.length > 0) s.onReadable(s.queue.length);
  }
}

interface FakeSocket {
  index: number;
  port: number;
  queue: FrameDatagram[];
  onReadable: (count: number) => void;
  open: boolean;
}

const PORT_A = 9201;
const PORT_B = 9200;

/** Hosts a (10.0.0.1) and b (10.0.0.2), each on a UdpFrameLink, the two links each other's peer. */
function linked(world: SimWorld, hub: FakeHub, config = {}): { a: Net; b: Net; linkA: UdpFrameLink; linkB: UdpFrameLink; devA: NetDevice; devB: NetDevice } {
  const a = world.addHost("a", config).net;
  const b = world.addHost("b", config).net;
  const linkA = new UdpFrameLink(hub.Class, { localPort: PORT_A, remotePort: PORT_B });
  const linkB = new UdpFrameLink(hub.Class, { localPort: PORT_B, remotePort: PORT_A });
  const devA = linkA.register(a, "eth0", mac("02:00:00:00:00:0a"));
  const devB = linkB.register(b, "eth0", mac("02:00:00:00:00:0b"));
  ipAddrAdd(a, devA, "10.0.0.1/24");
  ipAddrAdd(b, devB, "10.0.0.2/24");
  devOpen(devA);
  devOpen(devB);
  return { a, b, linkA, linkB, devA, devB };
}

function pingAll(world: SimWorld, net: Net, sizes: number[]): number {
  const ping = new Pinger(net);
  for (const size of sizes) {
    ping.send("10.0.0.2", size);
    world.runFor(20);
  }
  const got = ping.received;
  ping.close();
  return got;
}

describe("UdpFrameLink: Ethernet frames as datagrams over an ECMA-419 UDP class", () => {
  for (const readInto of [false, true]) {
    it(`carries pings of every kind of size, fragmented too (${readInto ? "read(buffer) in place" : "read() copied, as Moddable's lin class"})`, () =>
      withSeed(seedFrom(31), (seed) => {
        const world = makeWorld(seed);
        const hub = new FakeHub(world.loop, { readInto });
        const { a, b, linkA, linkB, devA, devB } = linked(world, hub);
        const sizes = [0, 1, 56, 1472, 1473, 4000, 8972, 20000];
        expect(pingAll(world, a, sizes)).toBe(sizes.length);
        const frames = devB.stats.rxPackets;
        expect(frames).toBeGreaterThan(sizes.length * 2);
        if (readInto) {
          expect(linkB.rxInPlace).toBe(frames);
          expect(linkB.rxCopied).toBe(0);
        } else {
          expect(linkB.rxCopied).toBe(frames);
          expect(linkB.rxInPlace).toBe(0);
        }
        // a's gratuitous ARP went out before b's link was open
        expect(hub.lost).toBe(1);
        expect(devA.stats.txPackets).toBe(devB.stats.rxPackets + 1);
        expect(devB.stats.txPackets).toBe(devA.stats.rxPackets);
        expect(devA.stats.rxErrors + devB.stats.rxErrors + devA.stats.txErrors + devB.stats.txErrors).toBe(0);
        expect(linkA.socketErrors + linkB.socketErrors).toBe(0);
        expect(a.drops.total + b.drops.total).toBe(0);
        world.shutdown();
      }));
  }

  it("moves 200 KB over TCP each way intact, and the steady state makes no new send views", () =>
    withSeed(seedFrom(32), (seed) => {
      const world = makeWorld(seed);
      const hub = new FakeHub(world.loop);
      const { a, b, linkA, linkB } = linked(world, hub, { tcpSndBufBytes: 16 * 1024, tcpRcvBufBytes: 16 * 1024 });
      const total = 200_000;
      const pattern = (i: number): number => (i * 7 + 3) & 0xff;
      const { TCP: TcpB, Listener } = tcpSocketClasses(b);
      new Listener({
        port: 7,
        onReadable() {
          new TcpB({
            from: this.read()!,
            onReadable(n) {
              this.write(this.read(n));
            },
            onError() {
              this.close();
            },
          });
        },
      });
      const { TCP } = tcpSocketClasses(a);
      let sent = 0;
      let received = 0;
      let bad = -1;
      let halfViews = -1;
      let halfFrames = -1;
      const client = new TCP({
        address: "10.0.0.2",
        port: 7,
        onWritable(room) {
          while (room > 0 && sent < total) {
            const n = Math.min(room, 1460, total - sent);
            const chunk = new Uint8Array(n);
            for (let k = 0; k < n; k++) chunk[k] = pattern(sent + k);
            room = this.write(chunk);
            sent += n;
          }
        },
        onReadable(n) {
          const got = new Uint8Array(this.read(n));
          for (let k = 0; k < got.length; k++) if (bad < 0 && got[k] !== pattern(received + k)) bad = received + k;
          received += got.length;
          if (halfViews < 0 && received >= total / 2) {
            halfViews = linkA.txViews + linkB.txViews;
            halfFrames = linkA.rxCopied + linkB.rxCopied;
          }
        },
      });
      expect(world.runUntil(() => received === total, 60_000)).toBe(true);
      expect(bad).toBe(-1);
      // Once the slots have sent full segments and ACKs, a view is reused, not made: the
      // second half of the transfer makes few (here 4 for about 135 frames).
      const views = linkA.txViews + linkB.txViews - halfViews;
      const frames = linkA.rxCopied + linkB.rxCopied - halfFrames;
      expect(frames).toBeGreaterThan(100);
      expect(views).toBeLessThan(frames / 10);
      client.close();
      world.runFor(1000);
      world.shutdown();
      expect(a.pool.inUse + b.pool.inUse).toBe(0);
    }));

  it("drops and counts what is not a frame for it: another sender, an oversized datagram, no buffer, a failed send", () =>
    withSeed(seedFrom(33), (seed) => {
      const world = makeWorld(seed);
      const hub = new FakeHub(world.loop);
      const { a, b, linkA, linkB, devA, devB } = linked(world, hub);
      expect(pingAll(world, a, [56])).toBe(1);
      // from another port, and from another address
      hub.inject(PORT_B, new Uint8Array(60), "127.0.0.1", 4444);
      hub.inject(PORT_B, new Uint8Array(60), "10.9.9.9", PORT_A);
      world.runFor(5);
      expect(linkB.rxForeign).toBe(2);
      expect(devB.stats.rxErrors).toBe(2);
      // longer than the MTU's frame
      hub.inject(PORT_B, new Uint8Array(1515), "127.0.0.1", PORT_A);
      world.runFor(5);
      expect(devB.stats.rxLengthErrors).toBe(1);
      expect(b.drops.count("RX_HW_ERROR")).toBe(3);
      // the host's socket refuses a send: dropped on the wire, counted
      hub.failWrites = true;
      const ping = new Pinger(a);
      ping.send("10.0.0.2", 56);
      world.runFor(20);
      expect(ping.received).toBe(0);
      expect(devA.stats.txErrors).toBe(1);
      expect(linkA.socketErrors).toBe(1);
      expect(linkA.lastSocketError).toBe("sendto failed");
      expect(a.drops.count("TX_ERROR")).toBe(1);
      hub.failWrites = false;
      ping.close();
      world.shutdown();
    }));

  it("with the pool empty, a datagram is read and dropped (NOMEM), not left to block the queue", () =>
    withSeed(seedFrom(34), (seed) => {
      const world = makeWorld(seed);
      const hub = new FakeHub(world.loop);
      const { a, b, devB } = linked(world, hub);
      expect(pingAll(world, a, [56])).toBe(1);
      const held = [];
      for (let s = b.pool.alloc(); s !== null; s = b.pool.alloc()) held.push(s);
      hub.inject(PORT_B, new Uint8Array(60), "127.0.0.1", PORT_A);
      hub.inject(PORT_B, new Uint8Array(60), "127.0.0.1", PORT_A);
      world.runFor(5);
      expect(devB.stats.rxDropped).toBe(2);
      expect(b.drops.count("NOMEM")).toBe(2);
      for (const s of held) b.pool.free(s);
      expect(pingAll(world, a, [56])).toBe(1);
      world.shutdown();
    }));

  it("a class that refuses a datagram larger than the buffer: the datagram is taken out and counted", () =>
    withSeed(seedFrom(35), (seed) => {
      const world = makeWorld(seed);
      const hub = new FakeHub(world.loop, { readInto: true });
      const { a, b, linkB, devB } = linked(world, hub);
      hub.inject(PORT_B, new Uint8Array(9000), "127.0.0.1", PORT_A);
      world.runFor(5);
      expect(linkB.socketErrors).toBe(1);
      expect(devB.stats.rxLengthErrors).toBe(1);
      expect(b.drops.count("RX_HW_ERROR")).toBe(1);
      expect(pingAll(world, a, [56, 1472])).toBe(2);
      world.shutdown();
    }));

  it("polls at most its weight of frames a turn and stays scheduled for the rest", () =>
    withSeed(seedFrom(36), (seed) => {
      const world = makeWorld(seed);
      const hub = new FakeHub(world.loop);
      const { b, devB } = linked(world, hub, { napiWeight: 4 });
      const polls = devB.napi.polls;
      // 10 frames for nobody (another MAC): each one read, counted, dropped
      const frame = new Uint8Array(60);
      frame.set(mac("02:00:00:00:00:99"), 0);
      frame[12] = 0x08;
      for (let i = 0; i < 10; i++) hub.inject(PORT_B, frame, "127.0.0.1", PORT_A);
      world.runFor(5);
      expect(devB.stats.rxPackets).toBe(10);
      expect(b.drops.count("OTHERHOST")).toBe(10);
      expect(devB.napi.polls - polls).toBeGreaterThanOrEqual(3);
      world.shutdown();
    }));

  it("stop closes the socket and drops the carrier; open binds again", () =>
    withSeed(seedFrom(37), (seed) => {
      const world = makeWorld(seed);
      const hub = new FakeHub(world.loop);
      const { a, devA, devB } = linked(world, hub);
      expect(hub.sockets.size).toBe(2);
      devClose(devB);
      expect(hub.sockets.size).toBe(1);
      expect(devB.hasCarrier).toBe(false);
      expect(pingAll(world, a, [56])).toBe(0);
      devOpen(devB);
      expect(devB.hasCarrier).toBe(true);
      world.runFor(3000); // a's ARP entry for b failed; it tries again
      expect(pingAll(world, a, [56])).toBe(1);
      expect(devA.stats.txErrors).toBe(0);
      world.shutdown();
    }));

  it("refuses bad ports, and parses a link spec udp:LOCAL:REMOTE", () => {
    const hub = new FakeHub(makeWorld(1).loop);
    expect(() => new UdpFrameLink(hub.Class, { localPort: 0, remotePort: 9200 })).toThrow(/localPort must be an integer 1\.\.65535, got 0/);
    expect(() => new UdpFrameLink(hub.Class, { localPort: 9201, remotePort: 70000 })).toThrow(/remotePort/);
    expect(parseUdpLinkSpec("udp:9201:9200")).toEqual({ localPort: 9201, remotePort: 9200 });
    for (const bad of ["udp:9201", "tcp:1:2", "udp:0:9200", "udp:9201:65536", "udp:a:b", ""]) {
      expect(() => parseUdpLinkSpec(bad), bad).toThrow(/expected udp:LOCAL_PORT:REMOTE_PORT/);
    }
  });
});
