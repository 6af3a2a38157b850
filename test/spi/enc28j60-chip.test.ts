// The ENC28J60 model on its own, driven with the datasheet's SPI sequences (DS39662) and the
// rev B7 errata (DS80349C) behaviours a driver has to work around.
import { describe, expect, it } from "vitest";
import { EventLoop } from "../../host-sim/sim/event-loop";
import { SimLan } from "../../host-sim/sim/lan";
import { SimGpio, SimSpiBus } from "../../host-sim/sim/spi-bus";
import {
  B7_REVID, ECON1, ECON1_RXEN, ECON1_RXRST, ECON1_TXRST, ECON1_TXRTS, ECON2, ECON2_AUTOINC, ECON2_PKTDEC, ECON2_PWRSV, EHT0, EIE, EIE_INTIE, EIE_LINKIE,
  EIE_PKTIE, EIE_RXERIE, EIE_TXERIE, EIE_TXIE, EIR, EIR_LINKIF, EIR_PKTIF, EIR_RXERIF, EIR_TXERIF, EIR_TXIF, ENC28J60_MAX_HZ, EPKTCNT, ERDPTL, EREVID, ERXFCON,
  ERXFCON_ANDOR, ERXFCON_BCEN, ERXFCON_CRCEN, ERXFCON_HTEN, ERXFCON_MCEN, ERXFCON_UCEN, ERXNDH, ERXNDL, ERXRDPTL, ERXSTL, ERXWRPTL, ESTAT, ESTAT_CLKRDY,
  ESTAT_LATECOL, ESTAT_TXABRT, ETXNDL, ETXSTL, EWRPTL, Enc28j60Chip, MAADR1, MAADR2, MAADR3, MAADR4, MAADR5, MAADR6, MACON1, MACON1_MARXEN, MACON3,
  MACON3_FULDPX, MACON3_PADCFG0, MACON3_TXCRCEN, MAMXFLL, MICMD, MICMD_MIIRD, MIRDH, MIRDL, MIREGADR, MISTAT, MISTAT_BUSY, MIWRH, MIWRL, OP_BFC, OP_BFS,
  OP_RBM, OP_RCR, OP_SRC, OP_WBM, OP_WCR, PHCON2, PHCON2_HDLDIS, PHID1, PHID2, PHIE, PHIE_PGEIE, PHIE_PLNKIE, PHIR, PHIR_PLNKIF, PHSTAT2,
  PHSTAT2_LSTAT, RSV_BROADCAST, RSV_CRC_ERROR, RSV_LENGTH_OUT_OF_RANGE, RSV_RECEIVED_OK, TSV2_DONE, TSV3_LATE_COLLISION, crc32, enc28j60HashBit,
  enc28j60SpiFloor,
} from "../../host-sim/sim/enc28j60-chip";

const SELECT = 5, INT = 4, RESET = 16;
const MAC = [0x02, 0x00, 0x5e, 0x00, 0x00, 0x01];
const PEER = [0x02, 0x00, 0x5e, 0x00, 0x00, 0x02];

function rig(options: { pktifMissEvery?: number } = {}) {
  const loop = new EventLoop(1024);
  const cpu = { busyUntil: 0 };
  const bus = new SimSpiBus(loop, cpu);
  const gpio = new SimGpio(loop);
  const lan = new SimLan(loop, { seed: 1, framesMax: 64 });
  const chip = new Enc28j60Chip(loop, lan, bus, gpio, { select: SELECT, interrupt: INT, reset: RESET }, options);
  const heard: Uint8Array[] = [];
  const peerPort = lan.attach({ onFrame: (b, o, l) => heard.push(b.slice(o, o + l)) });
  const spi = new bus.io({ clock: 18, in: 19, out: 23, select: SELECT, hz: ENC28J60_MAX_HZ });
  const frame = (...bytes: number[]): number[] => {
    const b = new Uint8Array(bytes);
    spi.transfer(b);
    spi.flush(true);
    return Array.from(b);
  };
  const bank = (flat: number): void => {
    if (flat >= 0x1b && flat <= 0x1f) return;
    frame(OP_BFC | ECON1, 0x03);
    if ((flat >> 5) !== 0) frame(OP_BFS | ECON1, flat >> 5);
  };
  const macMii = (flat: number): boolean => (flat >> 5) === 2 || ((flat >> 5) === 3 && ((flat & 0x1f) <= 5 || (flat & 0x1f) === 0x0a));
  const rcr = (flat: number): number => {
    bank(flat);
    if (macMii(flat)) return frame(OP_RCR | (flat & 0x1f), 0, 0)[2];
    return frame(OP_RCR | (flat & 0x1f), 0)[1];
  };
  const wcr = (flat: number, v: number): void => {
    bank(flat);
    frame(OP_WCR | (flat & 0x1f), v);
  };
  const wcr16 = (flatLow: number, v: number): void => {
    wcr(flatLow, v & 0xff);
    wcr(flatLow + 1, v >> 8);
  };
  const rcr16 = (flatLow: number): number => rcr(flatLow) | (rcr(flatLow + 1) << 8);
  const bfs = (flat: number, m: number): void => void frame(OP_BFS | (flat & 0x1f), m);
  const bfc = (flat: number, m: number): void => void frame(OP_BFC | (flat & 0x1f), m);
  const rbm = (n: number): number[] => frame(OP_RBM, ...new Array<number>(n).fill(0)).slice(1);
  const wbm = (bytes: number[]): void => void frame(OP_WBM, ...bytes);
  const runFor = (ms: number): void => void loop.runUntil((cpu.busyUntil > loop.now ? cpu.busyUntil : loop.now) + ms);
  const phyRead = (r: number): number => {
    wcr(MIREGADR, r);
    wcr(MICMD, MICMD_MIIRD);
    runFor(0.011);
    wcr(MICMD, 0);
    return rcr(MIRDL) | (rcr(MIRDH) << 8);
  };
  const phyWrite = (r: number, v: number): void => {
    wcr(MIREGADR, r);
    wcr(MIWRL, v & 0xff);
    wcr(MIWRH, v >> 8);
    runFor(0.011);
  };
  /** A minimal bring-up: RX ring 0..rxEnd, the MAC receiving, our address. */
  const init = (rxEnd = 0x0fff): void => {
    wcr16(ERXSTL, 0);
    wcr16(ERXNDL, rxEnd);
    wcr16(ERXRDPTL, rxEnd);
    wcr16(ERDPTL, 0);
    wcr(MACON1, MACON1_MARXEN);
    wcr(MACON3, MACON3_PADCFG0 | MACON3_TXCRCEN | MACON3_FULDPX);
    wcr16(MAMXFLL, 1518);
    const addr = [MAADR1, MAADR2, MAADR3, MAADR4, MAADR5, MAADR6];
    for (let i = 0; i < 6; i++) wcr(addr[i], MAC[i]);
    bfs(ECON1, ECON1_RXEN);
  };
  const send = (dst: number[], len: number, type = 0x0800, fill = 0): void => {
    const f = new Uint8Array(len);
    f.set(dst, 0);
    f.set(PEER, 6);
    f[12] = type >> 8;
    f[13] = type & 0xff;
    for (let i = 14; i < len; i++) f[i] = (i + fill) & 0xff;
    lan.transmit(peerPort, f, 0, len);
    runFor(0.001);
  };
  return { loop, cpu, bus, gpio, lan, chip, spi, heard, peerPort, frame, rcr, wcr, wcr16, rcr16, bfs, bfc, rbm, wbm, runFor, phyRead, phyWrite, init, send };
}

describe("ENC28J60 model: SPI, banks, registers", () => {
  it("reads EREVID 06h (rev B7) in bank 3 and the common registers from every bank", () => {
    const r = rig();
    r.runFor(1);
    expect(r.rcr(EREVID)).toBe(B7_REVID);
    expect(r.chip.reg(ECON1) & 3).toBe(3);
    r.frame(OP_WCR | EIE, 0x5a); // bank 3 still selected: EIE is common
    for (let b = 0; b < 4; b++) {
      r.frame(OP_BFC | ECON1, 3);
      if (b > 0) r.frame(OP_BFS | ECON1, b);
      expect(r.frame(OP_RCR | EIE, 0)[1]).toBe(0x5a);
      expect(r.frame(OP_RCR | ECON2, 0)[1]).toBe(ECON2_AUTOINC);
    }
  });

  it("gives a dummy byte before the value of MAC and MII registers, not of ETH ones", () => {
    const r = rig();
    r.runFor(1);
    r.wcr(MACON3, 0x33);
    r.frame(OP_BFC | ECON1, 3);
    r.frame(OP_BFS | ECON1, 2);
    expect(r.frame(OP_RCR | (MACON3 & 0x1f), 0, 0)).toEqual([0, 0, 0x33]);
    // A driver that takes the first byte after the opcode gets the dummy.
    expect(r.frame(OP_RCR | (MACON3 & 0x1f), 0)[1]).toBe(0);
    r.frame(OP_BFC | ECON1, 3);
    r.frame(OP_WCR | ERXNDL, 0x44);
    expect(r.frame(OP_RCR | ERXNDL, 0)[1]).toBe(0x44);
  });

  it("takes one command per chip-select frame: bytes after a WCR are ignored until CS rises", () => {
    const r = rig();
    r.runFor(1);
    r.frame(OP_WCR | ERXNDL, 0x11, OP_WCR | ERXNDH, 0x02);
    expect(r.rcr16(ERXNDL)).toBe(0x1f11);
    expect(r.chip.stats.ignoredBytes).toBe(2);
  });

  it("BFS and BFC set and clear ETH register bits; they do nothing to MAC registers", () => {
    const r = rig();
    r.runFor(1);
    r.bfs(EIE, 0x81);
    r.bfc(EIE, 0x01);
    expect(r.rcr(EIE)).toBe(0x80);
    r.wcr(MACON1, 0);
    r.bfs(MACON1, 1);
    expect(r.rcr(MACON1)).toBe(0);
  });
});

describe("ENC28J60 model: buffer and receive ring", () => {
  it("writes and reads the buffer with auto-increment; ERDPT wraps from ERXND to ERXST", () => {
    const r = rig();
    r.runFor(1);
    r.wcr16(ERXSTL, 0);
    r.wcr16(ERXNDL, 0x00ff);
    r.wcr16(EWRPTL, 0x00fe);
    r.wbm([1, 2, 3, 4]);
    expect(r.rcr16(EWRPTL)).toBe(0x0102);
    r.wcr16(ERDPTL, 0x00fe);
    // 0xfe, 0xff (= ERXND), then ERXST = 0, 1: the ring wraps; byte 0x100 is outside it.
    r.wcr16(EWRPTL, 0);
    r.wbm([9, 8]);
    expect(r.rbm(4)).toEqual([1, 2, 9, 8]);
    expect(r.rcr16(ERDPTL)).toBe(2);
  });

  it("stores a frame behind the next-packet pointer and the receive status vector, FCS included, padded to even", () => {
    const r = rig();
    r.runFor(1);
    r.init();
    r.send(MAC, 61);
    expect(r.chip.packetCount).toBe(1);
    expect(r.rcr(EPKTCNT)).toBe(1);
    const h = r.rbm(6);
    const next = h[0] | (h[1] << 8);
    const count = h[2] | (h[3] << 8);
    const status = h[4] | (h[5] << 8);
    expect(count).toBe(65);
    expect(next).toBe(6 + 66); // 65 bytes stored, the next frame at an even address
    expect(status & RSV_RECEIVED_OK).toBeTruthy();
    expect(status & RSV_LENGTH_OUT_OF_RANGE).toBeTruthy(); // a type field (0800h) > 1500
    const body = r.rbm(65);
    expect(body.slice(0, 6)).toEqual(MAC);
    const f = new Uint8Array(body.slice(0, 61));
    const fcs = body[61] | (body[62] << 8) | (body[63] << 16) | (body[64] * 0x1000000);
    expect(fcs).toBe(crc32(f, 0, 61));
    expect(r.rcr16(ERXWRPTL)).toBe(72);
    // PKTDEC takes one off the count; PKTDEC reads back 0.
    r.bfs(ECON2, ECON2_PKTDEC);
    expect(r.rcr(EPKTCNT)).toBe(0);
    expect(r.rcr(ECON2) & ECON2_PKTDEC).toBe(0);
  });

  it("wraps frames around ERXND and refuses one that does not fit before ERXRDPT (RXERIF)", () => {
    const r = rig();
    r.runFor(1);
    r.init(0x07ff); // a 2 KB ring
    r.send(MAC, 1000);
    r.send(MAC, 900); // 6 + 904: fits in the 1,137 bytes left
    r.send(MAC, 500); // no room: dropped
    expect(r.chip.packetCount).toBe(2);
    expect(r.chip.stats.rxOverflow).toBe(1);
    expect(r.rcr(EIR) & EIR_RXERIF).toBeTruthy();
    // Read the first frame, free its space (ERXRDPT = next - 1, odd), then the third fits and wraps.
    const h = r.rbm(6);
    const next = h[0] | (h[1] << 8);
    r.wcr16(ERDPTL, next);
    r.wcr16(ERXRDPTL, next - 1);
    r.bfs(ECON2, ECON2_PKTDEC);
    const h2 = r.rbm(6);
    const next2 = h2[0] | (h2[1] << 8);
    r.send(MAC, 500, 0x0800, 7);
    expect(r.chip.packetCount).toBe(2);
    r.wcr16(ERDPTL, next2);
    const h3 = r.rbm(6);
    const next3 = h3[0] | (h3[1] << 8);
    expect(next3).toBeLessThan(next2); // wrapped
    const body = r.rbm(500);
    expect(body.slice(0, 6)).toEqual(MAC);
    expect(body[14]).toBe((14 + 7) & 0xff);
    expect(body[499]).toBe((499 + 7) & 0xff);
  });

  it("stops at 255 frames pending (EPKTCNT) with RXERIF", () => {
    const r = rig();
    r.runFor(1);
    r.init(0x1fff - 0x10);
    for (let i = 0; i < 256; i++) r.send(MAC, 14);
    expect(r.chip.packetCount).toBe(255);
    expect(r.chip.stats.rxOverflow).toBe(1);
  });
});

describe("ENC28J60 model: filters", () => {
  it("unicast, broadcast and CRC by default; multicast, hash table, AND, promiscuous on request", () => {
    const r = rig();
    r.runFor(1);
    r.init();
    const other = [0x02, 9, 9, 9, 9, 9];
    const bcast = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    const mcast = [0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb];
    r.send(MAC, 60);
    r.send(other, 60);
    r.send(bcast, 60);
    r.send(mcast, 60);
    expect(r.chip.packetCount).toBe(2);
    r.chip.badCrcNextRx();
    r.send(MAC, 60);
    expect(r.chip.packetCount).toBe(2); // CRCEN drops it
    r.wcr(ERXFCON, ERXFCON_UCEN | ERXFCON_BCEN | ERXFCON_MCEN);
    r.send(mcast, 60);
    expect(r.chip.packetCount).toBe(3);
    // Hash table: only the group whose bit is set.
    r.wcr(ERXFCON, ERXFCON_HTEN);
    const bit = enc28j60HashBit(new Uint8Array(mcast), 0);
    r.wcr(EHT0 + (bit >> 3), 1 << (bit & 7));
    r.send(mcast, 60);
    r.send([0x01, 0x00, 0x5e, 0x00, 0x00, 0xfc].map((b, i) => (i === 5 && enc28j60HashBit(new Uint8Array([1, 0, 0x5e, 0, 0, 0xfc]), 0) === bit ? 0xfd : b)), 60);
    expect(r.chip.packetCount).toBe(4);
    // AND: unicast and broadcast at once never match.
    r.wcr(ERXFCON, ERXFCON_ANDOR | ERXFCON_UCEN | ERXFCON_BCEN);
    r.send(MAC, 60);
    expect(r.chip.packetCount).toBe(4);
    // Promiscuous: no address filter; without CRCEN a bad CRC is kept and flagged.
    r.wcr(ERXFCON, 0);
    r.chip.badCrcNextRx();
    r.send(other, 60);
    expect(r.chip.packetCount).toBe(5);
    expect(r.chip.stats.rxFiltered).toBe(5);
    void ERXFCON_CRCEN;
    void RSV_CRC_ERROR;
    void RSV_BROADCAST;
  });
});

describe("ENC28J60 model: transmit", () => {
  it("sends ETXST+1..ETXND at 10 Mbit/s, padded to 60, then writes the TSV after ETXND and sets TXIF", () => {
    const r = rig();
    r.runFor(1);
    r.init();
    const txst = 0x1a00;
    r.wcr16(EWRPTL, txst);
    const f = [...PEER, ...MAC, 0x08, 0x00, 1, 2, 3];
    r.wbm([0x00, ...f]);
    r.wcr16(ETXSTL, txst);
    r.wcr16(ETXNDL, txst + f.length);
    const t0 = r.bus.now;
    r.bfs(ECON1, ECON1_TXRTS);
    expect(r.chip.transmitting).toBe(true);
    r.runFor(0.01);
    expect(r.heard.length).toBe(0);
    r.runFor(0.1);
    expect(r.heard.length).toBe(1);
    expect(r.heard[0].length).toBe(60);
    expect(Array.from(r.heard[0].subarray(0, 17))).toEqual(f);
    expect(r.loop.now - t0).toBeGreaterThanOrEqual(((60 + 4 + 20) * 8) / 10_000 - 1e-9);
    expect(r.rcr(ECON1) & ECON1_TXRTS).toBe(0);
    expect(r.rcr(EIR) & EIR_TXIF).toBeTruthy();
    r.wcr16(ERDPTL, txst + f.length + 1);
    const tsv = r.rbm(7);
    expect(tsv[0] | (tsv[1] << 8)).toBe(64);
    expect(tsv[2] & TSV2_DONE).toBeTruthy();
  });
});

describe("ENC28J60 model: interrupts, PHY, link, reset", () => {
  it("drives INT low while an enabled flag is set, and high again only when all are cleared", () => {
    const r = rig();
    r.runFor(1);
    r.init();
    r.wcr(EIE, EIE_INTIE | EIE_PKTIE | EIE_TXIE);
    expect(r.gpio.level(INT)).toBe(1);
    r.send(MAC, 60);
    expect(r.gpio.level(INT)).toBe(0);
    r.send(MAC, 60);
    r.bfs(EIR, EIR_TXIF);
    r.bfs(ECON2, ECON2_PKTDEC);
    expect(r.gpio.level(INT)).toBe(0);
    r.bfs(ECON2, ECON2_PKTDEC);
    expect(r.gpio.level(INT)).toBe(0); // TXIF still set
    r.bfc(EIR, EIR_TXIF);
    expect(r.gpio.level(INT)).toBe(1);
    r.send(MAC, 60);
    r.bfc(EIE, EIE_INTIE);
    expect(r.gpio.level(INT)).toBe(1);
  });

  it("reads PHY registers over MII with MISTAT.BUSY set for 10.24 us", () => {
    const r = rig();
    r.runFor(1);
    r.wcr(MIREGADR, PHID1);
    r.wcr(MICMD, MICMD_MIIRD);
    expect(r.rcr(MISTAT) & MISTAT_BUSY).toBe(MISTAT_BUSY);
    expect(r.rcr(MIRDL)).toBe(0); // not there yet
    r.runFor(0.011);
    expect(r.rcr(MISTAT) & MISTAT_BUSY).toBe(0);
    r.wcr(MICMD, 0);
    expect(r.rcr(MIRDL) | (r.rcr(MIRDH) << 8)).toBe(0x0083);
    expect(r.phyRead(PHID2)).toBe(0x1400);
    r.phyWrite(PHCON2, PHCON2_HDLDIS);
    expect(r.chip.phyReg(PHCON2)).toBe(PHCON2_HDLDIS);
  });

  it("reports a link change in PHSTAT2, PHIR and EIR.LINKIF (INT), cleared by reading PHIR", () => {
    const r = rig();
    r.runFor(1);
    expect(r.phyRead(PHSTAT2) & PHSTAT2_LSTAT).toBeTruthy();
    r.phyWrite(PHIE, PHIE_PGEIE | PHIE_PLNKIE);
    r.wcr(EIE, EIE_INTIE | EIE_LINKIE);
    r.chip.setLink(false);
    expect(r.lan.isPortUp(r.chip.port)).toBe(false);
    expect(r.gpio.level(INT)).toBe(0);
    expect(r.rcr(EIR) & EIR_LINKIF).toBeTruthy();
    expect(r.phyRead(PHSTAT2) & PHSTAT2_LSTAT).toBe(0);
    expect(r.phyRead(PHIR) & PHIR_PLNKIF).toBeTruthy();
    expect(r.rcr(EIR) & EIR_LINKIF).toBe(0);
    expect(r.gpio.level(INT)).toBe(1);
    r.chip.setLink(true);
    expect(r.gpio.level(INT)).toBe(0);
  });

  it("RESET pin: registers to their defaults, CLKRDY clear for the 300 us start-up timer", () => {
    const r = rig();
    r.runFor(1);
    r.wcr(MACON1, MACON1_MARXEN);
    r.gpio.io; // the MCU side drives RESET through gpio
    const rst = new r.gpio.io({ pin: RESET, mode: r.gpio.io.Output });
    rst.write(0);
    rst.write(1);
    expect(r.rcr(ESTAT) & ESTAT_CLKRDY).toBe(0);
    r.runFor(0.31);
    expect(r.rcr(ESTAT) & ESTAT_CLKRDY).toBe(ESTAT_CLKRDY);
    expect(r.rcr(MACON1)).toBe(0);
    expect(r.chip.stats.pinResets).toBe(1);
  });
});

describe("ENC28J60 model: rev B7 errata", () => {
  it("#2: after SRC, CLKRDY reads set at once but MAC writes are lost for 1 ms", () => {
    const r = rig();
    r.runFor(1);
    r.frame(OP_SRC);
    expect(r.rcr(ESTAT) & ESTAT_CLKRDY).toBe(ESTAT_CLKRDY);
    r.wcr(MACON1, MACON1_MARXEN);
    expect(r.chip.stats.lostWrites).toBe(1);
    r.runFor(1);
    r.wcr(MACON1, MACON1_MARXEN);
    expect(r.rcr(MACON1)).toBe(MACON1_MARXEN);
  });

  it("#19: SRC is ignored in power save", () => {
    const r = rig();
    r.runFor(1);
    r.bfs(ECON2, ECON2_PWRSV);
    r.frame(OP_SRC);
    expect(r.chip.stats.srcCommands).toBe(0);
  });

  it("#5: writing ERXST points the MAC's write pointer at 0000h, so a ring elsewhere is written outside itself", () => {
    const r = rig();
    r.runFor(1);
    r.init();
    r.wcr16(ERXSTL, 0x1000);
    r.wcr16(ERXNDL, 0x1fff);
    r.wcr16(ERXRDPTL, 0x1fff);
    expect(r.rcr16(ERXWRPTL)).toBe(0);
    r.send(MAC, 60);
    expect(r.chip.mem[6]).toBe(MAC[0]); // at 0000h, outside ERXST..ERXND
  });

  it("#6: a read of EIR misses PKTIF now and then while EPKTCNT says frames are pending", () => {
    const r = rig({ pktifMissEvery: 3 });
    r.runFor(1);
    r.init();
    r.send(MAC, 60);
    const reads = [0, 1, 2, 3, 4, 5].map(() => r.rcr(EIR) & EIR_PKTIF);
    expect(reads).toEqual([EIR_PKTIF, EIR_PKTIF, 0, EIR_PKTIF, EIR_PKTIF, 0]);
    expect(r.rcr(EPKTCNT)).toBe(1);
  });

  it("#12, #13, #15: a late collision aborts (TSV bit 29, LATECOL clear), stalls TX until TXRST is pulsed, which raises TXERIF", () => {
    const r = rig();
    r.runFor(1);
    r.init();
    r.wcr(MACON3, MACON3_PADCFG0 | MACON3_TXCRCEN); // half duplex
    const txst = 0x1a00;
    r.wcr16(EWRPTL, txst);
    r.wbm([0, ...PEER, ...MAC, 0x08, 0x00, ...new Array<number>(50).fill(7)]);
    r.wcr16(ETXSTL, txst);
    r.wcr16(ETXNDL, txst + 64);
    r.chip.injectTxFault(1);
    r.bfs(ECON1, ECON1_TXRTS);
    r.runFor(1);
    expect(r.rcr(EIR) & EIR_TXERIF).toBeTruthy();
    expect(r.rcr(ESTAT) & ESTAT_TXABRT).toBeTruthy();
    expect(r.rcr(ESTAT) & ESTAT_LATECOL).toBe(0);
    r.wcr16(ERDPTL, txst + 65);
    const tsv = r.rbm(7);
    expect(tsv[3] & TSV3_LATE_COLLISION).toBeTruthy();
    expect(tsv[2] & TSV2_DONE).toBe(0);
    expect(r.heard.length).toBe(0);
    // Unaware: retry at once: TXRTS stays set forever.
    r.bfc(EIR, EIR_TXERIF);
    r.bfs(ECON1, ECON1_TXRTS);
    r.runFor(5);
    expect(r.rcr(ECON1) & ECON1_TXRTS).toBeTruthy();
    expect(r.chip.stats.txStalledStarts).toBe(1);
    // Aware: pulse TXRST, clear TXERIF after it, then retry.
    r.bfs(ECON1, ECON1_TXRST);
    r.bfc(ECON1, ECON1_TXRST);
    expect(r.rcr(EIR) & EIR_TXERIF).toBeTruthy();
    r.bfc(EIR, EIR_TXERIF | EIR_TXIF);
    r.bfs(ECON1, ECON1_TXRTS);
    r.runFor(1);
    expect(r.heard.length).toBe(1);
    expect(r.rcr(EIR) & EIR_TXIF).toBeTruthy();
  });

  it("#14: an even ERXRDPT corrupts the headers of the frames written meanwhile", () => {
    const r = rig();
    r.runFor(1);
    r.init();
    r.wcr16(ERXRDPTL, 0x0ffe);
    r.send(MAC, 100);
    expect(r.chip.stats.rxCorrupted).toBe(1);
    const h = r.rbm(6);
    const next = h[0] | (h[1] << 8);
    expect(next & 1).toBe(1); // an odd next-packet pointer: garbage
    expect(h[2] | (h[3] << 8)).not.toBe(104);
  });

  it("PHCON2.HDLDIS: in half duplex the PHY loops sent frames back unless it is set", () => {
    const r = rig();
    r.runFor(1);
    r.init();
    r.wcr(MACON3, MACON3_PADCFG0 | MACON3_TXCRCEN); // half duplex
    const send = (): void => {
      r.wcr16(EWRPTL, 0x1a00);
      r.wbm([0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...MAC, 0x08, 0x06, ...new Array<number>(46).fill(1)]);
      r.wcr16(ETXSTL, 0x1a00);
      r.wcr16(ETXNDL, 0x1a00 + 60);
      r.bfs(ECON1, ECON1_TXRTS);
      r.runFor(1);
    };
    send();
    expect(r.chip.packetCount).toBe(1);
    r.phyWrite(PHCON2, PHCON2_HDLDIS);
    send();
    expect(r.chip.packetCount).toBe(1);
    expect(r.heard.length).toBe(2);
  });

  it("RXRST starts the write pointer over and keeps EPKTCNT (a choice: DS 11.4 is silent): PKTDEC takes it to 0", () => {
    const r = rig();
    r.runFor(1);
    r.init();
    r.send(MAC, 60);
    r.bfs(ECON1, ECON1_RXRST);
    r.bfc(ECON1, ECON1_RXRST);
    expect(r.chip.packetCount).toBe(1);
    expect(r.rcr(ECON1) & ECON1_RXEN).toBe(0);
    expect(r.chip.rxWritePointer).toBe(0);
    r.bfs(ECON2, ECON2_PKTDEC);
    expect(r.chip.packetCount).toBe(0);
  });

  it("holdInterrupt (a fault) keeps a flag set and INT low whatever the host clears", () => {
    const r = rig();
    r.runFor(1);
    r.init();
    r.wcr(EIE, EIE_INTIE | EIE_LINKIE);
    r.chip.holdInterrupt(EIR_LINKIF);
    expect(r.gpio.level(INT)).toBe(0);
    expect(r.rcr(EIR) & EIR_LINKIF).toBe(EIR_LINKIF);
    r.bfc(EIR, 0xff);
    expect(r.rcr(EIR) & EIR_LINKIF).toBe(EIR_LINKIF);
    expect(r.gpio.level(INT)).toBe(0);
    r.chip.holdInterrupt(0);
    expect(r.rcr(EIR) & EIR_LINKIF).toBe(0);
    expect(r.gpio.level(INT)).toBe(1);
  });
});

describe("enc28j60SpiFloor", () => {
  it("counts the least chip-select frames and bytes per frame", () => {
    expect(enc28j60SpiFloor(1514)).toEqual({ rx: { frames: 7, bytes: 1518 + 19 }, tx: { frames: 5, bytes: 1514 + 10 } });
    expect(enc28j60SpiFloor(61).rx.bytes).toBe(66 + 19);
    void [OP_RCR, OP_WCR, EIE_RXERIE, EIE_TXERIE, ERXFCON_BCEN, ERXRDPTL, PHSTAT2, EIR_PKTIF, MAMXFLL, MIWRH, MIWRL, PHIE, PHIR];
  });
});
