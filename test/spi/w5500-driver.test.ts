// The W5500 driver over the chip model: RX ring wrap, oversize frames, a busy TX, link
// changes, resets mid-traffic, RX overflow, a corrupted length header, torn reads, an
// interrupt storm; the pool full after each, no allocation per frame.
import { describe, expect, it } from "vitest";
import { typedArrayBytesMadeBy } from "../../bench/ram";
import { NETDEV_TX_BUSY } from "../../src/core/netdevice";
import { udpSocketClass } from "../../src/socket/udp";
import type { LanEndpoint } from "../../host-sim/sim/lan";
import { attachW5500, W5500_PINS, type AttachW5500Options, type W5500Parts } from "../../host-sim/sim/scenarios/w5500";
import { SimWorld } from "../../host-sim/sim/world";
import type { NetConfig } from "../../src/config";
import { devClose, devOpen, registerNetdevNotifier } from "../../src/core/link";
import { ipMcJoin, ipMcLeave } from "../../src/ipv4/devinet";
import { IFF_PROMISC } from "../../src/core/netdevice";

class Raw implements LanEndpoint {
  /** IPv4 frames seen */
  frames = 0;
  bytes = 0;
  onFrame(buf: Uint8Array, off: number, len: number): void {
    if (buf[off + 12] !== 0x08 || buf[off + 13] !== 0x00) return;
    this.frames++;
    this.bytes += len;
  }
}

function rig(options: AttachW5500Options = {}, config: Partial<NetConfig> = {}) {
  let parts: W5500Parts | null = null;
  const attach = attachW5500({ ...options, onAttach: (p) => { parts = p; options.onAttach?.(p); } });
  const { world, lan, host, dev } = new SimWorld(3).oneHost({ host: { attach, config } });
  const p = parts as unknown as W5500Parts;
  const raw = new Raw();
  const rawPort = lan.attach(raw);
  const frame = new Uint8Array(1518);
  const rawMac = new Uint8Array([0x02, 0, 0, 0, 0, 0x99]);
  /** a frame of len bytes to the host (ethertype 0x88B5, no handler: counted and dropped) */
  const inject = (len: number, dst: Uint8Array = dev.addr): void => {
    frame.set(dst, 0);
    frame.set(rawMac, 6);
    frame[12] = 0x88;
    frame[13] = 0xb5;
    for (let i = 14; i < len; i++) frame[i] = i & 0xff;
    lan.transmit(rawPort, frame, 0, len);
  };
  world.runFor(10);
  const pool = host.net.pool;
  const poolFull = (): boolean => {
    world.shutdown();
    return pool.inUse === 0 && pool.recordsInUse === 0;
  };
  /** the raw endpoint as 10.0.0.99 in the host's neighbour table (a close flushes it) */
  const neighbour = (): void => host.net.neigh.addPermanent(0x0a000063, dev, rawMac);
  /** a UDP socket of the host's (port 4000) for datagrams to the raw endpoint, 10.0.0.99 */
  const sender = () => {
    neighbour();
    return new (udpSocketClass(host.net))({ port: 4000 });
  };
  return { world, lan, host, dev, chip: p.chip, driver: p.driver, bus: p.bus, gpio: p.gpio, raw, rawPort, inject, poolFull, neighbour, sender };
}

describe("W5500Driver", () => {
  it("comes up: RSTn pulse, ready wait, socket 0 in MACRAW with MFEN, carrier on", () => {
    const t = rig();
    expect(t.chip.stats.hardResets).toBe(1);
    expect(t.chip.socketStatus).toBe(0x42);
    expect(t.dev.hasCarrier).toBe(true);
    expect(t.driver.stats.resets).toBe(1);
    expect(t.poolFull()).toBe(true);
  });

  it("comes up without a reset pin through MR.RST", () => {
    const t = rig({ resetPin: false });
    expect(t.chip.stats.softResets).toBe(1);
    expect(t.dev.hasCarrier).toBe(true);
    expect(t.poolFull()).toBe(true);
  });

  it("receives across the RX ring's wrap many times, without allocating per frame", () => {
    const t = rig();
    for (let i = 0; i < 60; i++) {
      t.inject(600 + ((i * 37) % 900));
      t.world.runFor(0.5);
    }
    const { bytes } = typedArrayBytesMadeBy(() => {
      for (let i = 0; i < 60; i++) {
        t.inject(60 + ((i * 101) % 1454));
        t.world.runFor(0.5);
      }
    });
    t.world.runFor(300);
    expect(bytes).toBe(0);
    expect(t.dev.stats.rxPackets).toBe(120);
    expect(t.chip.stats.rxOverflows).toBe(0);
    expect(t.driver.stats.rxCommits).toBeGreaterThan(10); // the pointer wrapped the 16 KB ring several times
    expect(t.poolFull()).toBe(true);
  });

  it("skips and counts a frame longer than the MTU, then goes on", () => {
    const t = rig();
    t.lan.setAllFaults({ mtu: 1504 });
    t.inject(1518);
    t.inject(1000);
    t.world.runFor(5);
    expect(t.driver.stats.rxFrameTooLong).toBe(1);
    expect(t.dev.stats.rxLengthErrors).toBe(1);
    expect(t.dev.stats.rxPackets).toBe(1);
    expect(t.poolFull()).toBe(true);
  });

  it("answers BUSY and stops the queue between a SEND and the poll after it; the poll wakes it; every datagram goes out", () => {
    const t = rig();
    const s = t.sender();
    const payload = new Uint8Array(1400);
    for (let i = 0; i < 20; i++) s.write(payload, "10.0.0.99", 9);
    t.world.runFor(0.01);
    expect(t.dev.queueStopped).toBe(true);
    const skb = t.host.net.pool.alloc();
    expect(skb).not.toBeNull();
    skb!.put(100);
    skb!.dev = t.dev;
    expect(t.driver.startXmit(skb!, t.dev)).toBe(NETDEV_TX_BUSY);
    t.host.net.pool.free(skb!);
    t.world.runFor(50);
    expect(t.raw.frames).toBe(20);
    expect(t.dev.queueStopped).toBe(false);
    expect(t.driver.stats.txBusy).toBe(1);
    s.close();
    expect(t.poolFull()).toBe(true);
  });

  it("writes a frame while the SEND before is on the wire, holds it until SENDOK (unmasked only then), and sends it", () => {
    const t = rig();
    const s = t.sender();
    const big = new Uint8Array(1472);
    const small = new Uint8Array(18);
    for (let round = 0; round < 5; round++) {
      // A small frame's bytes go in faster than the big frame before it leaves the wire.
      s.write(big, "10.0.0.99", 9);
      for (let i = 0; i < 3; i++) s.write(small, "10.0.0.99", 9);
      t.world.runFor(5);
    }
    expect(t.raw.frames).toBe(20);
    expect(t.driver.stats.txWaits).toBeGreaterThanOrEqual(5);
    expect(t.driver.stats.txBusy).toBe(0);
    expect(t.driver.stats.txAborted).toBe(0);
    expect(t.dev.queueStopped).toBe(false);
    // SENDOK masked again, INTn released.
    expect(t.chip.interruptLevel).toBe(1);
    s.close();
    expect(t.poolFull()).toBe(true);
  });

  it("reopens socket 0 when a SEND never completes (the chip did not take it): the queue runs again", () => {
    const t = rig({ linkPollMs: 20 });
    const s = t.sender();
    const payload = new Uint8Array(1000);
    t.chip.faults.swallowSends = 1;
    for (let i = 0; i < 3; i++) s.write(payload, "10.0.0.99", 9);
    t.world.runFor(5);
    expect(t.chip.stats.sendsSwallowed).toBe(1);
    expect(t.dev.queueStopped).toBe(true); // the second frame held behind a SEND that never ends
    t.world.runFor(100);
    expect(t.driver.stats.txTimeouts).toBe(1);
    expect(t.dev.stats.txErrors).toBe(1);
    expect(t.driver.stats.txAborted).toBe(2); // the swallowed frame and the one held behind it
    expect(t.dev.queueStopped).toBe(false);
    expect(t.raw.frames).toBe(1); // the third, sent after the reopen
    for (let i = 0; i < 5; i++) s.write(payload, "10.0.0.99", 9);
    t.world.runFor(20);
    expect(t.raw.frames).toBe(6);
    expect(t.driver.stats.chipLost).toBe(0);
    s.close();
    expect(t.poolFull()).toBe(true);
  });

  it("waits for Sn_CR to clear after CLOSE and OPEN (a chip slow to accept commands), and sets INTLEVEL", () => {
    const t = rig({ chip: { commandAcceptMs: 0.02 } });
    expect(t.chip.socketStatus).toBe(0x42);
    expect(t.dev.hasCarrier).toBe(true);
    expect(t.driver.stats.resets).toBe(1);
    expect(t.driver.stats.readyRetries).toBe(0);
    expect(t.driver.stats.commandTimeouts).toBe(0);
    t.inject(400);
    t.world.runFor(2);
    expect(t.dev.stats.rxPackets).toBe(1);
    t.dev.flags ^= 0x100; // IFF_PROMISC: a reopen
    t.driver.setRxMode(t.dev);
    t.inject(400);
    t.world.runFor(2);
    expect(t.dev.stats.rxPackets).toBe(2);
    expect(t.driver.stats.chipLost).toBe(0);
    // INTLEVEL (0x0013): 149, I_AWT = 150 * 4 / 150 MHz = 4 us.
    const spi = new t.bus.io({ clock: W5500_PINS.clock, in: W5500_PINS.in, out: W5500_PINS.out, select: W5500_PINS.select, hz: 20_000_000 });
    const b = new Uint8Array([0x00, 0x13, 0x00, 0, 0]);
    spi.transfer(b);
    spi.flush(true);
    spi.close();
    expect((b[3] << 8) | b[4]).toBe(149);
    expect(t.poolFull()).toBe(true);
  });

  it("a TX watchdog whose reopen fails resets the chip on the reset's own timing", () => {
    const t = rig({ linkPollMs: 250 });
    const s = t.sender();
    t.chip.faults.swallowSends = 1;
    s.write(new Uint8Array(100), "10.0.0.99", 9);
    t.world.runFor(1);
    // Sockets 1..7 given memory behind the driver's back: OPEN is refused, the reopen fails.
    const spi = new t.bus.io({ clock: W5500_PINS.clock, in: W5500_PINS.in, out: W5500_PINS.out, select: W5500_PINS.select, hz: 20_000_000 });
    spi.write(new Uint8Array([0x00, 0x1e, 0x2c, 16, 16])); // socket 1's Sn_RXBUF_SIZE, Sn_TXBUF_SIZE
    spi.flush(true);
    spi.close();
    t.world.runFor(260); // the health check: the SEND timed out, the reopen refused
    expect(t.driver.stats.txTimeouts).toBe(1);
    expect(t.driver.stats.resets).toBe(2);
    t.world.runFor(5); // RSTn 0.5 ms, ready 1 ms: up again well before another linkPollMs
    expect(t.dev.hasCarrier).toBe(true);
    expect(t.chip.socketStatus).toBe(0x42);
    s.close();
    expect(t.poolFull()).toBe(true);
  });

  it("follows the link down and up through PHYCFGR on its timer", () => {
    const t = rig({ linkPollMs: 50 });
    t.chip.setLink(false);
    t.world.runFor(60);
    expect(t.dev.hasCarrier).toBe(false);
    expect(t.driver.stats.linkDowns).toBe(1);
    t.inject(100); // the port is down: lost on the LAN
    t.chip.setLink(true);
    t.world.runFor(60);
    expect(t.dev.hasCarrier).toBe(true);
    t.inject(100);
    t.world.runFor(2);
    expect(t.dev.stats.rxPackets).toBe(1);
    expect(t.driver.stats.linkUps).toBe(1);
    expect(t.poolFull()).toBe(true);
  });

  it("turns the carrier on from the poll, not from the link timer (the notifiers run deep: XS stack)", () => {
    /** for each NETDEV event: was a NAPI poll running (napi.scheduled until napiComplete)? */
    const inPoll: boolean[] = [];
    const t = rig({ linkPollMs: 50, onAttach: (p) => registerNetdevNotifier(p.host.net, (_net, _ev, dev) => { inPoll.push(dev.napi.scheduled); }) });
    expect(t.dev.hasCarrier).toBe(true);
    t.chip.setLink(false);
    t.world.runFor(60);
    expect(t.dev.hasCarrier).toBe(false);
    t.chip.setLink(true);
    t.world.runFor(60);
    expect(t.dev.hasCarrier).toBe(true);
    expect(t.driver.stats.linkUps).toBe(1);
    expect(t.driver.stats.linkDowns).toBe(1);
    expect(inPoll.length).toBeGreaterThanOrEqual(2);
    expect(inPoll.every((x) => x)).toBe(true);
    expect(t.poolFull()).toBe(true);
  });

  it("re-initialises a chip that reset itself in the middle of traffic, and one that stopped answering", () => {
    const t = rig({ linkPollMs: 20 });
    for (let i = 0; i < 20; i++) {
      t.inject(1000);
      t.world.runFor(0.3);
      if (i === 8) t.chip.glitchReset();
    }
    t.world.runFor(50);
    expect(t.driver.stats.chipLost).toBeGreaterThanOrEqual(1);
    expect(t.chip.socketStatus).toBe(0x42);
    expect(t.dev.hasCarrier).toBe(true);
    const before = t.dev.stats.rxPackets;
    t.chip.faults.mute = true;
    t.world.runFor(100);
    expect(t.dev.hasCarrier).toBe(false);
    expect(t.driver.stats.readyRetries).toBeGreaterThan(0);
    t.chip.faults.mute = false;
    t.world.runFor(100);
    expect(t.dev.hasCarrier).toBe(true);
    t.inject(500);
    t.world.runFor(2);
    expect(t.dev.stats.rxPackets).toBe(before + 1);
    expect(t.poolFull()).toBe(true);
  });

  it("survives an RX overflow: the chip drops what does not fit, the driver counts a full buffer and drains it", () => {
    const t = rig();
    for (let i = 0; i < 30; i++) t.inject(1500);
    t.world.runFor(20);
    expect(t.chip.stats.rxOverflows).toBe(20);
    expect(t.driver.stats.rxBufferFull).toBeGreaterThanOrEqual(1);
    expect(t.dev.stats.rxPackets).toBe(10);
    t.inject(800);
    t.world.runFor(2);
    expect(t.dev.stats.rxPackets).toBe(11);
    expect(t.poolFull()).toBe(true);
  });

  it("resynchronises on a corrupted length header by reopening socket 0", () => {
    const t = rig();
    t.inject(300);
    t.world.runFor(2);
    t.chip.faults.corruptNextLengthHeader = 0x7fff;
    t.inject(300);
    t.world.runFor(2);
    expect(t.driver.stats.rxResyncs).toBe(1);
    expect(t.dev.stats.rxLengthErrors).toBe(1);
    t.inject(300);
    t.world.runFor(2);
    expect(t.dev.stats.rxPackets).toBe(2);
    expect(t.poolFull()).toBe(true);
  });

  it("reads the 16-bit sizes again when a read tears", () => {
    const t = rig();
    t.chip.faults.tearSizeReads = 1;
    t.inject(500); // RSR 0 -> 0x01F6: the torn read gives 0x00F6
    t.world.runFor(2);
    expect(t.chip.stats.tornReads).toBe(1);
    expect(t.driver.stats.windowRereads).toBe(1);
    expect(t.driver.stats.chipLost).toBe(0);
    expect(t.dev.stats.rxPackets).toBe(1);
    expect(t.poolFull()).toBe(true);
  });

  it("takes the chip's pointers when two window reads agree but are not its copy: no reset (socket 0 reopened behind it)", () => {
    const t = rig();
    for (let i = 0; i < 5; i++) {
      t.inject(700);
      t.world.runFor(1);
    }
    // Another master reopens socket 0: the pointers go back to 0 while the driver's are not.
    const spi = new t.bus.io({ clock: W5500_PINS.clock, in: W5500_PINS.in, out: W5500_PINS.out, select: W5500_PINS.select, hz: 20_000_000 });
    const w = (addr: number, v: number) => { spi.write(new Uint8Array([0, addr, 0x0c, v])); spi.flush(true); };
    w(0x01, 0x10); // Sn_CR = CLOSE
    w(0x01, 0x01); // Sn_CR = OPEN (Sn_MR still MACRAW)
    spi.close();
    for (let i = 0; i < 5; i++) {
      t.inject(700);
      t.world.runFor(1);
    }
    expect(t.driver.stats.windowResyncs).toBeGreaterThanOrEqual(1);
    expect(t.driver.stats.chipLost).toBe(0);
    expect(t.driver.stats.resets).toBe(1);
    expect(t.dev.stats.rxPackets).toBe(10);
    expect(t.poolFull()).toBe(true);
  });

  it("reads the pointers back after OPEN: a chip that keeps them across CLOSE/OPEN is not reset at each reopen", () => {
    const t = rig({ chip: { keepPointersAtOpen: true } });
    const s = t.sender();
    const payload = new Uint8Array(300);
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 3; i++) {
        t.inject(500);
        s.write(payload, "10.0.0.99", 9);
        t.world.runFor(1);
      }
      // A new receive filter reopens socket 0; the pointers stay where they were.
      t.dev.flags ^= 0x100; // IFF_PROMISC
      t.driver.setRxMode(t.dev);
      t.world.runFor(1);
    }
    expect(t.driver.stats.rxModeReopens).toBe(4);
    expect(t.driver.stats.resets).toBe(1);
    expect(t.driver.stats.chipLost).toBe(0);
    expect(t.driver.stats.windowResyncs).toBe(0);
    expect(t.dev.stats.rxPackets).toBe(12);
    expect(t.raw.frames).toBe(12);
    s.close();
    expect(t.poolFull()).toBe(true);
  });

  it("bounds the work of each poll in an interrupt storm; timers still run", () => {
    const t = rig({}, { napiWeight: 8, netdevBudget: 32 });
    const net = t.host.net;
    const fired: number[] = [];
    const timer = net.timers.create(() => fired.push(net.now()));
    net.modTimer(timer, net.now() + 5);
    for (let i = 0; i < 3000; i++) {
      t.inject(60);
      if (i % 10 === 9) t.world.runFor(0.02);
    }
    t.world.runFor(50);
    expect(fired.length).toBe(1);
    expect(fired[0]).toBeLessThan(10 + 8);
    expect(t.driver.stats.maxPollFrames).toBe(8);
    expect(t.dev.stats.rxPackets + t.chip.stats.rxOverflows).toBe(3000);
    expect(t.poolFull()).toBe(true);
  });

  it("stops with a SEND on the wire (INTn given back, the pool full), opens again and traffic resumes", () => {
    const t = rig();
    const s = t.sender();
    const payload = new Uint8Array(1400);
    for (let i = 0; i < 6; i++) s.write(payload, "10.0.0.99", 9);
    t.world.runFor(0.05); // a SEND on the wire, a frame held behind it, the rest queued
    expect(t.raw.frames).toBeLessThan(6);
    devClose(t.dev);
    expect(t.chip.stats.txAborted).toBe(1); // CLOSE cut the SEND off
    expect(t.gpio.level(W5500_PINS.interrupt)).toBe(1);
    t.world.runFor(5);
    expect(t.host.net.pool.inUse).toBe(0); // the last sent skb freed by NET_TX: nothing held
    devOpen(t.dev);
    t.world.runFor(10);
    expect(t.dev.hasCarrier).toBe(true);
    const before = t.raw.frames;
    t.neighbour(); // flushed at close
    for (let i = 0; i < 6; i++) s.write(payload, "10.0.0.99", 9);
    t.world.runFor(10);
    expect(t.raw.frames).toBe(before + 6);
    t.inject(300);
    t.world.runFor(2);
    expect(t.dev.stats.rxPackets).toBe(1);
    expect(t.dev.queueStopped).toBe(false);
    s.close();
    expect(t.poolFull()).toBe(true);
  });

  it("setRxMode: MFEN by default, off for a joined multicast group (ipMcJoin) and for promiscuous; restored after", () => {
    const t = rig();
    const other = new Uint8Array([0x02, 0, 0, 0, 0, 0x42]);
    const group = new Uint8Array([0x01, 0x00, 0x5e, 0x01, 0x02, 0x03]); // 239.1.2.3
    let rx = 0;
    const expectIn = (dst: Uint8Array, passes: boolean) => {
      t.inject(200, dst);
      t.world.runFor(2);
      if (passes) rx++;
      expect(t.dev.stats.rxPackets).toBe(rx);
    };
    expectIn(other, false); // MFEN: another MAC's unicast held back by the chip
    expectIn(group, false); // and multicast too (DS 4.2 Sn_MR MFEN)
    ipMcJoin(t.dev, "239.1.2.3");
    expect(t.driver.stats.rxModeReopens).toBe(1);
    expectIn(group, true);
    ipMcLeave(t.dev, "239.1.2.3");
    expect(t.driver.stats.rxModeReopens).toBe(2);
    expectIn(group, false);
    expectIn(other, false);
    t.dev.flags |= IFF_PROMISC;
    t.driver.setRxMode(t.dev);
    expect(t.driver.stats.rxModeReopens).toBe(3);
    expectIn(other, true);
    expectIn(group, true);
    t.driver.setRxMode(t.dev); // no change: no reopen
    expect(t.driver.stats.rxModeReopens).toBe(3);
    t.dev.flags &= ~IFF_PROMISC;
    t.driver.setRxMode(t.dev);
    expect(t.driver.stats.rxModeReopens).toBe(4);
    expectIn(other, false);
    expectIn(t.dev.addr, true);
    expect(t.chip.stats.rxFiltered).toBe(5);
    expect(t.driver.stats.chipLost).toBe(0);
    expect(t.poolFull()).toBe(true);
  });

  it("link down with a TX in flight: the queue is not left stopped, and traffic resumes at link up", () => {
    const t = rig({ linkPollMs: 20 });
    const s = t.sender();
    const payload = new Uint8Array(1400);
    for (let i = 0; i < 10; i++) s.write(payload, "10.0.0.99", 9);
    t.world.runFor(0.05);
    t.chip.setLink(false);
    t.world.runFor(50);
    expect(t.dev.hasCarrier).toBe(false);
    // The chip keeps sending onto the dead wire until the timer sees the link down; what is
    // left then is dropped at carrier off: every datagram is counted somewhere.
    expect(t.chip.stats.txWhileDown).toBeGreaterThanOrEqual(1);
    const sentWhileUp = t.raw.frames;
    expect(sentWhileUp + t.chip.stats.txWhileDown + t.dev.stats.txDropped).toBe(10);
    expect(t.dev.queueStopped).toBe(false);
    expect(sentWhileUp).toBeLessThan(10);
    t.chip.setLink(true);
    t.world.runFor(50);
    expect(t.dev.hasCarrier).toBe(true);
    for (let i = 0; i < 5; i++) s.write(payload, "10.0.0.99", 9);
    t.world.runFor(10);
    expect(t.raw.frames).toBe(sentWhileUp + 5);
    expect(t.driver.stats.txTimeouts).toBe(0);
    s.close();
    expect(t.poolFull()).toBe(true);
  });

  for (const how of ["pin", "self"] as const) {
    it(`a reset (${how === "pin" ? "the driver's RSTn after a mute chip" : "the chip resetting itself"}) with a TX in flight: counted, traffic resumes, the pool full`, () => {
      const t = rig({ linkPollMs: 20 });
      const s = t.sender();
      const payload = new Uint8Array(1400);
      for (let i = 0; i < 10; i++) s.write(payload, "10.0.0.99", 9);
      t.world.runFor(0.05);
      if (how === "pin") {
        t.chip.faults.mute = true;
        t.world.runFor(30); // the health check finds it dead: RSTn, ready checks that fail
        t.chip.faults.mute = false;
      } else {
        t.chip.glitchReset();
      }
      t.world.runFor(50);
      expect(t.driver.stats.chipLost).toBeGreaterThanOrEqual(1);
      expect(t.driver.stats.resets).toBeGreaterThanOrEqual(2);
      expect(t.driver.stats.txAborted).toBeGreaterThanOrEqual(1);
      // RSTn pulses (the first at open), and the glitch
      expect(t.chip.stats.hardResets).toBeGreaterThanOrEqual(how === "pin" ? 2 : 3);
      expect(t.dev.hasCarrier).toBe(true);
      expect(t.dev.queueStopped).toBe(false);
      const before = t.raw.frames;
      for (let i = 0; i < 5; i++) s.write(payload, "10.0.0.99", 9);
      t.inject(300);
      t.world.runFor(10);
      expect(t.raw.frames).toBe(before + 5);
      expect(t.dev.stats.rxPackets).toBeGreaterThanOrEqual(1);
      s.close();
      expect(t.poolFull()).toBe(true);
    });
  }
});
