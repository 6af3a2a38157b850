// drivers/enc28j60.ts over the ENC28J60 model: bring-up, the ring, the TX side, link,
// resets, overflow, the rev B7 errata paths, corrupted headers, interrupt storms; the
// pool full after each.
import { describe, expect, it } from "vitest";
import { typedArrayBytesMadeBy } from "../../bench/ram";
import { Pinger } from "../../src/apps/ping";
import { addTap } from "../../src/core/link";
import { IFF_PROMISC, NETDEV_TX_BUSY, NETDEV_TX_OK, type NetDevice } from "../../src/core/netdevice";
import { ipMcJoin, ipMcLeave } from "../../src/ipv4/devinet";
import { udpSocketClass } from "../../src/socket/udp";
import { EIR_LINKIF, ERXSTL } from "../../host-sim/sim/enc28j60-chip";
import { ENC28J60_PINS, attachEnc28j60, tenBaseTToward, type AttachEnc28j60Options, type Enc28j60Parts } from "../../host-sim/sim/scenarios/enc28j60";
import { SimWorld } from "../../host-sim/sim/world";

const PEER = [0x02, 0x00, 0x5e, 0x99, 0x99, 0x99];

function rig(options: AttachEnc28j60Options = {}) {
  let parts: Enc28j60Parts | null = null;
  const { world, lan, host, dev } = new SimWorld(7).oneHost({
    host: { attach: attachEnc28j60({ ...options, onAttach: (p) => { parts = p; } }) },
  });
  const p = parts as unknown as Enc28j60Parts;
  const heard: Uint8Array[] = [];
  const peer = lan.attach({ onFrame: (b, o, l) => heard.push(b.slice(o, o + l)) });
  /** frames the stack saw come in, with the first payload byte */
  const seen: number[] = [];
  let badPayload = 0;
  addTap(host.net, (d, skb, out) => {
    if (out || d !== dev) return;
    const buf = host.net.pool.buf;
    const seq = buf[skb.data + 14];
    for (let i = 15; i < skb.len; i++) if (buf[skb.data + i] !== ((seq + i) & 0xff)) { badPayload++; break; }
    seen.push(seq);
  });
  const frame = new Uint8Array(1600);
  /** a frame to the host (an unknown ethertype: counted, then dropped by the stack) */
  const send = (len: number, seq: number, dst: ArrayLike<number> = dev.addr): void => {
    frame.set(dst as number[], 0);
    frame.set(PEER, 6);
    frame[12] = 0x88;
    frame[13] = 0xb5;
    frame[14] = seq & 0xff;
    for (let i = 15; i < len; i++) frame[i] = (seq + i) & 0xff;
    lan.transmit(peer, frame, 0, len);
  };
  const poolFull = (): boolean => {
    world.shutdown();
    return host.net.pool.inUse === 0 && host.net.pool.recordsInUse === 0;
  };
  /** frames of txSkb's (filled with 0xab) heard on the LAN */
  const heardTx = (): number => heard.filter((f) => f[12] === 0xab && f[13] === 0xab).length;
  return { world, lan, host, dev, p, heard, heardTx, peer, seen, send, poolFull, bad: () => badPayload };
}

/** A frame from the stack's side, straight to the driver. */
function txSkb(dev: NetDevice, len: number) {
  const pool = dev.net.pool;
  const skb = pool.alloc();
  if (skb === null) throw new Error("pool empty");
  const at = skb.put(len);
  pool.buf.fill(0xab, at, at + len);
  pool.buf.set(PEER, at);
  pool.buf.set(dev.addr, at + 6);
  skb.dev = dev;
  return skb;
}

describe("ENC28J60 driver: bring-up", () => {
  it("resets by pin, waits 1 ms with carrier off, then sets the chip up with the ring at 0000h", () => {
    const r = rig();
    expect(r.dev.hasCarrier).toBe(false);
    expect(r.p.chip.stats.pinResets).toBe(1);
    r.world.runFor(0.5);
    expect(r.dev.hasCarrier).toBe(false);
    r.world.runFor(2);
    expect(r.dev.hasCarrier).toBe(true);
    expect(r.p.chip.reg16(ERXSTL)).toBe(0); // errata #5
    expect(r.p.chip.rxReadPointer & 1).toBe(1); // errata #14
    expect(r.p.chip.stats.lostWrites).toBe(0);
    expect(r.poolFull()).toBe(true);
  });

  it("without a RESET line resets by SRC and still waits out errata #2 (no write lost)", () => {
    const r = rig({ noResetPin: true });
    r.world.runFor(5);
    expect(r.p.chip.stats.srcCommands).toBe(1);
    expect(r.p.chip.stats.lostWrites).toBe(0);
    expect(r.dev.hasCarrier).toBe(true);
    r.send(100, 1);
    r.world.runFor(5);
    expect(r.seen).toEqual([1]);
    expect(r.poolFull()).toBe(true);
  });
});

describe("ENC28J60 driver: receive", () => {
  it("reads frames across the ring's wrap, every byte right, ERXRDPT always odd", () => {
    const r = rig();
    r.world.runFor(5);
    for (let i = 0; i < 40; i++) {
      r.send(60 + ((i * 337) % 1450), i);
      r.world.runFor(2);
      expect(r.p.chip.rxReadPointer & 1).toBe(1);
    }
    expect(r.seen.length).toBe(40);
    expect(r.seen[39]).toBe(39);
    expect(r.bad()).toBe(0);
    expect(r.p.chip.stats.rxCorrupted).toBe(0);
    expect(r.poolFull()).toBe(true);
  });

  it("skips a frame longer than the MTU and one longer than the chip takes, counted, and goes on", () => {
    const r = rig({ mtu: 1000 });
    r.lan.setAllFaults({ mtu: 1510 }); // the LAN carries frames up to 1524 bytes
    r.world.runFor(5);
    r.send(1200, 1); // > MTU + 14
    r.send(1524, 2); // > MAMXFL (1518 with the FCS): the MAC refuses it
    r.send(500, 3);
    r.world.runFor(5);
    expect(r.seen).toEqual([3]);
    expect(r.p.driver.stats.rxOversize).toBe(1);
    expect(r.dev.stats.rxLengthErrors).toBe(1);
    expect(r.p.chip.stats.rxTooLong).toBe(1);
    expect(r.poolFull()).toBe(true);
  });

  it("resyncs the ring after a corrupted header (next-packet pointer and byte count) and receives again", () => {
    const r = rig();
    r.world.runFor(5);
    r.send(200, 1);
    r.world.runFor(2);
    r.p.chip.corruptNextRx(1);
    r.send(300, 2);
    r.world.runFor(2);
    r.send(400, 3);
    r.world.runFor(2);
    expect(r.p.driver.stats.rxResyncs).toBe(1);
    expect(r.seen).toEqual([1, 3]);
    expect(r.bad()).toBe(0);
    expect(r.poolFull()).toBe(true);
  });

  it("after a resync counts EPKTCNT down to 0 (RXRST need not clear it): no frame of the old ring read again", () => {
    const r = rig();
    r.world.runFor(5);
    r.send(200, 1);
    r.world.runFor(2);
    r.p.chip.corruptNextRx(1);
    r.send(300, 2); // corrupt, with two frames behind it in the same poll
    r.send(300, 3);
    r.send(300, 4);
    r.world.runFor(5);
    expect(r.p.driver.stats.rxResyncs).toBe(1);
    expect(r.p.chip.packetCount).toBe(0);
    expect(r.dev.stats.rxDropped).toBe(3);
    r.send(400, 5);
    r.world.runFor(5);
    expect(r.seen).toEqual([1, 5]);
    expect(r.p.driver.stats.rxResyncs).toBe(1);
    expect(r.bad()).toBe(0);
    expect(r.poolFull()).toBe(true);
  });

  it("counts an RX overflow (RXERIF) from a burst the ring cannot hold, and keeps receiving", () => {
    const r = rig();
    r.world.runFor(5);
    for (let i = 0; i < 12; i++) r.send(1500, i); // all at once: no 10 Mbit/s pacing
    r.world.runFor(10);
    expect(r.p.chip.stats.rxOverflow).toBeGreaterThan(0);
    expect(r.p.driver.stats.rxOverflows).toBeGreaterThan(0);
    expect(r.dev.stats.rxMissedErrors).toBeGreaterThan(0);
    expect(r.seen.length).toBe(r.p.chip.stats.rxFrames);
    r.send(100, 99);
    r.world.runFor(2);
    expect(r.seen.at(-1)).toBe(99);
    expect(r.poolFull()).toBe(true);
  });

  it("receives everything when EIR.PKTIF never reads set (errata #6: EPKTCNT is the truth)", () => {
    const r = rig({ chip: { pktifMissEvery: 1 } });
    r.world.runFor(5);
    for (let i = 0; i < 10; i++) {
      r.send(300, i);
      r.world.runFor(1.5);
    }
    expect(r.seen.length).toBe(10);
    expect(r.poolFull()).toBe(true);
  });

  it("bounds the work of each poll in an interrupt storm, and lets the loop run between polls", () => {
    const r = rig({ napiWeight: 4 });
    r.world.runFor(5);
    const works: number[] = [];
    const driver = r.p.driver;
    const poll = driver.poll.bind(driver);
    driver.poll = (napi, budget) => {
      const w = poll(napi, budget);
      works.push(w);
      return w;
    };
    let tickAt = -1;
    const start = r.world.now;
    r.world.loop.at(start + 1, { onSimEvent: () => { tickAt = r.world.now; } }, 0);
    for (let i = 0; i < 60; i++) r.send(60, i); // 60 small frames at one instant
    r.world.runFor(20);
    expect(Math.max(...works)).toBeLessThanOrEqual(4);
    expect(tickAt).toBeGreaterThanOrEqual(start + 1);
    expect(tickAt).toBeLessThan(start + 3);
    expect(r.seen.length + r.p.chip.stats.rxOverflow).toBe(60);
    expect(r.poolFull()).toBe(true);
  });
});

describe("ENC28J60 driver: receive filters (setRxMode)", () => {
  const OTHER = [0x02, 0x00, 0x5e, 0x11, 0x22, 0x33];
  const GROUP_MAC = [0x01, 0x00, 0x5e, 0x01, 0x02, 0x03]; // 239.1.2.3 (RFC 1112 6.4)

  it("filters unicast to another MAC unless promiscuous, and back", () => {
    const r = rig();
    r.world.runFor(5);
    r.send(100, 1, OTHER);
    r.world.runFor(2);
    expect(r.seen).toEqual([]);
    const filtered = r.p.chip.stats.rxFiltered;
    expect(filtered).toBeGreaterThan(0);
    r.dev.flags |= IFF_PROMISC;
    r.dev.ops.setRxMode(r.dev);
    r.send(100, 2, OTHER);
    r.world.runFor(2);
    expect(r.seen).toEqual([2]);
    r.dev.flags &= ~IFF_PROMISC;
    r.dev.ops.setRxMode(r.dev);
    r.send(100, 3, OTHER);
    r.send(100, 4);
    r.world.runFor(2);
    expect(r.seen).toEqual([2, 4]);
    expect(r.p.chip.stats.rxFiltered).toBe(filtered + 1);
    expect(r.poolFull()).toBe(true);
  });

  it("lets multicast in while the device is in a group (ipMcJoin), filters it again after ipMcLeave", () => {
    const r = rig();
    r.world.runFor(5);
    r.send(100, 1, GROUP_MAC);
    r.world.runFor(2);
    expect(r.seen).toEqual([]);
    ipMcJoin(r.dev, "239.1.2.3");
    r.world.runFor(1);
    r.send(100, 2, GROUP_MAC);
    r.world.runFor(2);
    expect(r.seen).toEqual([2]);
    ipMcLeave(r.dev, "239.1.2.3");
    r.world.runFor(1);
    r.send(100, 3, GROUP_MAC);
    r.send(100, 4);
    r.world.runFor(2);
    expect(r.seen).toEqual([2, 4]);
    expect(r.poolFull()).toBe(true);
  });
});

describe("ENC28J60 driver: a stuck interrupt source", () => {
  it("stops re-polling after a few polls that clear nothing, and the health check polls while INT stays low", () => {
    const r = rig();
    r.world.runFor(5);
    const d = r.p.driver;
    r.p.chip.holdInterrupt(EIR_LINKIF); // as when PHIR cannot be read (an MII timeout)
    const polls = d.stats.polls;
    r.world.runFor(1000);
    expect(d.stats.polls - polls).toBeLessThan(60); // not a spin: about 1 + 1 per 100 ms
    expect(d.stats.intStuck).toBeGreaterThan(5);
    expect(d.stats.intLowPolls).toBeGreaterThanOrEqual(9);
    // Frames still come in (no edge while INT is held low: the health check's poll reads them).
    r.send(100, 1);
    r.world.runFor(150);
    expect(r.seen).toEqual([1]);
    r.p.chip.holdInterrupt(0);
    r.world.runFor(150);
    r.send(100, 2);
    r.world.runFor(2);
    expect(r.seen).toEqual([1, 2]);
    expect(r.dev.hasCarrier).toBe(true);
    expect(r.poolFull()).toBe(true);
  });
});

describe("ENC28J60 driver: transmit", () => {
  it("writes a second frame into the other area while the first is on the wire; a third is NETDEV_TX_BUSY until TXIF", () => {
    const r = rig();
    r.world.runFor(5);
    const base = r.heardTx();
    const packets = r.dev.stats.txPackets; // the host's own announcements
    const a = txSkb(r.dev, 1000);
    const b = txSkb(r.dev, 1400);
    const c = txSkb(r.dev, 1000);
    expect(r.p.driver.startXmit(a, r.dev)).toBe(NETDEV_TX_OK);
    expect(r.dev.queueStopped).toBe(false);
    expect(r.p.chip.transmitting).toBe(true);
    expect(r.p.driver.startXmit(b, r.dev)).toBe(NETDEV_TX_OK);
    expect(r.dev.queueStopped).toBe(true);
    expect(r.p.driver.startXmit(c, r.dev)).toBe(NETDEV_TX_BUSY);
    r.dev.net.pool.free(c);
    r.world.runFor(5);
    expect(r.heardTx()).toBe(base + 2);
    expect(r.heard.slice(-2).map((f) => f.length)).toEqual([1000, 1400]);
    expect(r.dev.queueStopped).toBe(false);
    expect(r.dev.stats.txPackets).toBe(packets + 2);
    expect(r.poolFull()).toBe(true);
  });

  it("a late collision on the frame on the wire retries it, then the waiting frame goes, in order", () => {
    const r = rig();
    r.world.runFor(5);
    const base = r.heardTx();
    r.p.chip.injectTxFault(1);
    r.p.driver.startXmit(txSkb(r.dev, 300), r.dev);
    r.p.driver.startXmit(txSkb(r.dev, 700), r.dev);
    r.world.runFor(10);
    expect(r.p.driver.stats.txRetries).toBe(1);
    expect(r.heardTx()).toBe(base + 2);
    expect(r.heard.slice(-2).map((f) => f.length)).toEqual([300, 700]);
    expect(r.dev.queueStopped).toBe(false);
    expect(r.poolFull()).toBe(true);
  });

  it("retries a late collision after pulsing TXRST (errata #12, #13, #15), then gives up after its retries", () => {
    const r = rig();
    r.world.runFor(5);
    const base = r.heard.length;
    r.p.chip.injectTxFault(2);
    r.p.driver.startXmit(txSkb(r.dev, 200), r.dev);
    r.world.runFor(5);
    expect(r.p.driver.stats.txLogicResets).toBe(2);
    expect(r.p.driver.stats.txRetries).toBe(2);
    expect(r.heard.length).toBe(base + 1);
    expect(r.dev.stats.txPackets).toBe(base + 1);
    r.p.chip.injectTxFault(40);
    r.p.driver.startXmit(txSkb(r.dev, 200), r.dev);
    r.world.runFor(20);
    expect(r.p.driver.stats.txAborts).toBe(1);
    expect(r.dev.stats.txErrors).toBe(1);
    r.p.chip.injectTxFault(0);
    // The transmit logic works again (errata #12: it would stall without the TXRST pulse).
    r.p.driver.startXmit(txSkb(r.dev, 200), r.dev);
    r.world.runFor(5);
    expect(r.heard.length).toBe(base + 2);
    expect(r.p.chip.stats.txStalledStarts).toBe(0);
    expect(r.poolFull()).toBe(true);
  });
});

describe("ENC28J60 driver: transmit faults", () => {
  it("TX watchdog: a frame whose TXIF never comes is given up (txTimeouts), the queue wakes, traffic goes on", () => {
    const r = rig();
    r.world.runFor(5);
    const base = r.heardTx();
    r.p.chip.swallowTxDone(1);
    expect(r.p.driver.startXmit(txSkb(r.dev, 300), r.dev)).toBe(NETDEV_TX_OK);
    expect(r.p.driver.startXmit(txSkb(r.dev, 400), r.dev)).toBe(NETDEV_TX_OK); // waits in the other area
    r.world.runFor(30);
    expect(r.dev.queueStopped).toBe(true);
    r.world.runFor(200);
    expect(r.p.driver.stats.txTimeouts).toBe(1);
    expect(r.dev.stats.txErrors).toBe(1);
    expect(r.dev.queueStopped).toBe(false);
    expect(r.p.driver.startXmit(txSkb(r.dev, 300), r.dev)).toBe(NETDEV_TX_OK);
    r.world.runFor(5);
    expect(r.heardTx()).toBe(base + 3); // the swallowed one went out too, then the waiting one
    expect(r.dev.queueStopped).toBe(false);
    expect(r.poolFull()).toBe(true);
  });

  it("link down with a frame in flight: the frame is counted, the queue is not stuck, traffic resumes at link up", () => {
    const r = rig();
    r.world.runFor(5);
    const base = r.heardTx();
    const sent = r.dev.stats.txPackets + r.dev.stats.txErrors;
    r.p.driver.startXmit(txSkb(r.dev, 1400), r.dev);
    r.p.chip.setLink(false);
    r.world.runFor(5);
    expect(r.dev.hasCarrier).toBe(false);
    expect(r.dev.stats.txPackets + r.dev.stats.txErrors).toBe(sent + 1);
    expect(r.dev.queueStopped).toBe(false);
    expect(r.heardTx()).toBe(base); // nothing reached the wire
    r.p.chip.setLink(true);
    r.world.runFor(5);
    expect(r.dev.hasCarrier).toBe(true);
    expect(r.p.driver.startXmit(txSkb(r.dev, 200), r.dev)).toBe(NETDEV_TX_OK);
    r.world.runFor(5);
    expect(r.heardTx()).toBe(base + 1);
    r.send(100, 9);
    r.world.runFor(2);
    expect(r.seen).toEqual([9]);
    expect(r.poolFull()).toBe(true);
  });

  for (const how of ["the RESET pin", "a power cycle"] as const) {
    it(`a chip reset by ${how} with a frame on the wire and one waiting: both dropped and counted, the chip set up again, traffic resumes`, () => {
      const r = rig();
      r.world.runFor(5);
      const base = r.heardTx();
      r.p.driver.startXmit(txSkb(r.dev, 1400), r.dev);
      r.p.driver.startXmit(txSkb(r.dev, 600), r.dev);
      if (how === "the RESET pin") {
        // Something else (a supervisor) pulls RESET low for a moment.
        r.p.chip.onPinWrite(ENC28J60_PINS.reset, 0);
        r.p.chip.onPinWrite(ENC28J60_PINS.reset, 1);
      } else r.p.chip.powerCycle();
      r.world.runFor(250);
      expect(r.p.driver.stats.chipResetsFound).toBe(1);
      expect(r.dev.stats.txErrors).toBe(2);
      expect(r.dev.queueStopped).toBe(false);
      expect(r.dev.hasCarrier).toBe(true);
      expect(r.heardTx()).toBe(base);
      expect(r.p.driver.startXmit(txSkb(r.dev, 200), r.dev)).toBe(NETDEV_TX_OK);
      r.world.runFor(5);
      expect(r.heardTx()).toBe(base + 1);
      r.send(100, 3);
      r.world.runFor(2);
      expect(r.seen).toEqual([3]);
      expect(r.poolFull()).toBe(true);
    });
  }
});

describe("ENC28J60 driver: steady state", () => {
  it("allocates nothing per frame: pings and a UDP stream after warm-up", () => {
    const world = new SimWorld(5);
    let parts: Enc28j60Parts | null = null;
    const t = world.twoHosts({ staticNeighbours: true, a: { attach: attachEnc28j60({ onAttach: (p) => { parts = p; } }) } });
    tenBaseTToward(t.lan, 0, [1]);
    const p = parts as unknown as Enc28j60Parts;
    const ping = new Pinger(t.b.net, 0x4321);
    const Udp = udpSocketClass(t.b.net);
    const UdpA = udpSocketClass(t.a.net);
    let got = 0;
    const into = new Uint8Array(1500);
    const sink = new UdpA({ port: 9, onReadable() { while (this.read(into) !== undefined) got++; } });
    const src = new Udp({ port: 5555 });
    const payload = new Uint8Array(1000);
    const round = (): void => {
      ping.send("10.0.0.1", 1000);
      world.runFor(5);
      src.write(payload, "10.0.0.1", 9);
      world.runFor(5);
    };
    for (let i = 0; i < 10; i++) round();
    const rx0 = t.devA.stats.rxPackets;
    const pings0 = ping.received;
    const got0 = got;
    const tx0 = t.devA.stats.txPackets;
    const { bytes } = typedArrayBytesMadeBy(() => {
      for (let i = 0; i < 40; i++) round();
    });
    expect(bytes).toBe(0);
    expect(t.devA.stats.rxPackets - rx0).toBe(80);
    expect(t.devA.stats.txPackets - tx0).toBe(40);
    expect(ping.received - pings0).toBe(40);
    expect(got - got0).toBe(40);
    expect(p.driver.stats.rxOverflows).toBe(0);
    ping.close();
    sink.close();
    src.close();
    world.shutdown();
    expect(t.a.net.pool.inUse).toBe(0);
    expect(t.b.net.pool.inUse).toBe(0);
  });
});

describe("ENC28J60 driver: link and resets", () => {
  it("follows the link down and up through PHIR (LINKIF)", () => {
    const r = rig();
    r.world.runFor(5);
    r.p.chip.setLink(false);
    r.world.runFor(1);
    expect(r.dev.hasCarrier).toBe(false);
    r.p.chip.setLink(true);
    r.world.runFor(1);
    expect(r.dev.hasCarrier).toBe(true);
    expect(r.p.driver.stats.linkChanges).toBe(2);
    r.send(100, 5);
    r.world.runFor(2);
    expect(r.seen).toEqual([5]);
    expect(r.poolFull()).toBe(true);
  });

  it("finds a chip reset in the middle of traffic, sets the chip up again, and pings go on", () => {
    const world = new SimWorld(3);
    let parts: Enc28j60Parts | null = null;
    const t = world.twoHosts({ faults: { delayMs: 1 }, a: { attach: attachEnc28j60({ onAttach: (p) => { parts = p; } }) } });
    tenBaseTToward(t.lan, 0, [1]);
    const p = parts as unknown as Enc28j60Parts;
    const ping = new Pinger(t.b.net, 0x1234);
    for (let i = 0; i < 20; i++) {
      ping.send("10.0.0.1", 1000);
      world.runFor(25);
      if (i === 8) p.chip.powerCycle();
    }
    world.runFor(500);
    expect(p.driver.stats.chipResetsFound).toBe(1);
    expect(p.driver.stats.resets).toBe(2);
    expect(ping.received).toBeGreaterThanOrEqual(14);
    expect(t.devA.hasCarrier).toBe(true);
    ping.close();
    world.shutdown();
    expect(t.a.net.pool.inUse).toBe(0);
    expect(t.b.net.pool.inUse).toBe(0);
  });

  it("gives every skb back at stop with a frame in flight", () => {
    const r = rig();
    r.world.runFor(5);
    r.p.driver.startXmit(txSkb(r.dev, 1400), r.dev);
    expect(r.poolFull()).toBe(true);
  });
});
