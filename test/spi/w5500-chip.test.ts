// The W5500 model on its own, driven by SPI frames as the datasheet's sequences give them.
import { describe, expect, it } from "vitest";
import { EventLoop } from "../../host-sim/sim/event-loop";
import { SimLan, type LanEndpoint } from "../../host-sim/sim/lan";
import { SimGpio, SimSpiBus } from "../../host-sim/sim/spi-bus";

/** the ESP32 VSPI pins: SCLK, MISO, MOSI */
const PINS_SPI = { clock: 18, in: 19, out: 23 };
import {
  W5500Chip, W5500_BSB_COMMON, W5500_BSB_S0_REG, W5500_BSB_S0_RX, W5500_BSB_S0_TX, W5500_IMR, W5500_INTLEVEL, W5500_MR, W5500_MR_RST, W5500_PHYCFGR,
  W5500_SHAR, W5500_SIMR, W5500_SIR, W5500_SOCK_CLOSED, W5500_SOCK_MACRAW, W5500_Sn_CR, W5500_Sn_CR_CLOSE, W5500_Sn_CR_OPEN, W5500_Sn_CR_RECV,
  W5500_Sn_CR_SEND, W5500_Sn_IMR, W5500_Sn_IR, W5500_Sn_IR_RECV, W5500_Sn_IR_SENDOK, W5500_Sn_MR, W5500_Sn_MR_MACRAW, W5500_Sn_MR_MFEN,
  W5500_Sn_RXBUF_SIZE, W5500_Sn_RX_RD, W5500_Sn_RX_RSR, W5500_Sn_RX_WR, W5500_Sn_SR, W5500_Sn_TX_FSR, W5500_Sn_TX_RD, W5500_Sn_TX_WR,
  W5500_VERSIONR, w5500Control, w5500SpiFloor,
} from "../../host-sim/sim/w5500-chip";

const PINS = { select: 5, interrupt: 4, reset: 12 };
const MAC = [0x00, 0x08, 0xdc, 0x01, 0x02, 0x03];

class Sink implements LanEndpoint {
  frames: Uint8Array[] = [];
  onFrame(buf: Uint8Array, off: number, len: number): void {
    this.frames.push(buf.slice(off, off + len));
  }
}

function rig() {
  const loop = new EventLoop(4096);
  const cpu = { busyUntil: 0 };
  const lan = new SimLan(loop, { seed: 1, framesMax: 64 });
  const bus = new SimSpiBus(loop, cpu, {});
  const gpio = new SimGpio(loop);
  const chip = new W5500Chip(loop, lan, bus, gpio, PINS);
  const peer = new Sink();
  const peerPort = lan.attach(peer);
  const spi = new bus.io({ ...PINS_SPI, select: PINS.select, hz: 40_000_000 });
  const read = (bsb: number, addr: number, n: number): number[] => {
    const b = new Uint8Array(3 + n);
    b[0] = addr >> 8; b[1] = addr & 0xff; b[2] = w5500Control(bsb, false);
    spi.transfer(b);
    spi.flush(true);
    return Array.from(b.subarray(3));
  };
  const write = (bsb: number, addr: number, bytes: number[]): void => {
    const b = new Uint8Array([addr >> 8, addr & 0xff, w5500Control(bsb, true), ...bytes]);
    spi.write(b);
    spi.flush(true);
  };
  const r16 = (addr: number): number => { const v = read(W5500_BSB_S0_REG, addr, 2); return (v[0] << 8) | v[1]; };
  const openMacraw = (mode = W5500_Sn_MR_MACRAW): void => {
    for (let n = 1; n < 8; n++) write(n * 4 + 1, W5500_Sn_RXBUF_SIZE, [0, 0]);
    write(W5500_BSB_S0_REG, W5500_Sn_RXBUF_SIZE, [16, 16]);
    write(W5500_BSB_COMMON, W5500_SHAR, MAC);
    write(W5500_BSB_S0_REG, W5500_Sn_MR, [mode, W5500_Sn_CR_OPEN]);
  };
  const frameTo = (dst: number[], len: number, fill = 0): Uint8Array => {
    const f = new Uint8Array(len);
    f.set(dst, 0);
    f.set([0x02, 0, 0, 0, 0, 9], 6);
    f[12] = 0x08; f[13] = 0x00;
    for (let i = 14; i < len; i++) f[i] = (i + fill) & 0xff;
    return f;
  };
  const deliver = (f: Uint8Array): void => {
    lan.transmit(peerPort, f, 0, f.length);
    loop.runUntil(loop.now + 1);
  };
  return { loop, cpu, lan, bus, gpio, chip, peer, peerPort, spi, read, write, r16, openMacraw, frameTo, deliver };
}

describe("W5500Chip: SPI frame and common registers", () => {
  it("asserts INTn only I_AWT = (INTLEVEL + 1) * 4 PLL clocks after an interrupt when INTLEVEL > 0", () => {
    const t = rig();
    t.openMacraw();
    t.write(W5500_BSB_COMMON, W5500_INTLEVEL, [0, 149]); // 4 us
    t.write(W5500_BSB_COMMON, W5500_SIMR, [1]);
    t.write(W5500_BSB_S0_REG, W5500_Sn_IMR, [W5500_Sn_IR_RECV]);
    t.loop.runUntil(t.cpu.busyUntil + 0.001); // the CPU idle: bus time is loop time
    t.lan.transmit(t.peerPort, t.frameTo(MAC, 100), 0, 100);
    while (t.chip.stats.rxFrames === 0) t.loop.runUntil(t.loop.now + 0.0001);
    const at = t.loop.now;
    expect(t.chip.interruptLevel).toBe(1);
    t.loop.runUntil(at + 0.0038);
    expect(t.chip.interruptLevel).toBe(1);
    t.loop.runUntil(at + 0.0045);
    expect(t.chip.interruptLevel).toBe(0);
    // A clear, then a new interrupt: INTn stays high I_AWT before it falls again.
    t.write(W5500_BSB_S0_REG, W5500_Sn_IR, [0xff]);
    expect(t.chip.interruptLevel).toBe(1);
    t.deliver(t.frameTo(MAC, 100));
    expect(t.chip.interruptLevel).toBe(0);
  });

  it("holds a command until its acceptance time: Sn_CR reads it, then 0 (commandAcceptMs)", () => {
    const t = rig();
    const slow = new W5500Chip(t.loop, t.lan, t.bus, t.gpio, { select: 6, interrupt: 7, reset: 8 }, { commandAcceptMs: 0.01 });
    const spi = new t.bus.io({ ...PINS_SPI, select: 6, hz: 40_000_000 });
    const wr = (addr: number, bytes: number[]) => { spi.write(new Uint8Array([0, addr, w5500Control(W5500_BSB_S0_REG, true), ...bytes])); spi.flush(true); };
    const rd = (addr: number) => { const b = new Uint8Array([0, addr, w5500Control(W5500_BSB_S0_REG, false), 0]); spi.transfer(b); spi.flush(true); return b[3]; };
    for (let n = 1; n < 8; n++) { spi.write(new Uint8Array([0, W5500_Sn_RXBUF_SIZE, w5500Control(n * 4 + 1, true), 0, 0])); spi.flush(true); }
    wr(W5500_Sn_RXBUF_SIZE, [16, 16]);
    wr(W5500_Sn_MR, [W5500_Sn_MR_MACRAW, W5500_Sn_CR_OPEN]);
    expect(rd(W5500_Sn_CR)).toBe(W5500_Sn_CR_OPEN);
    expect(slow.socketStatus).toBe(W5500_SOCK_CLOSED);
    t.loop.runUntil(t.loop.now + 0.02);
    expect(rd(W5500_Sn_CR)).toBe(0);
    expect(slow.socketStatus).toBe(W5500_SOCK_MACRAW);
  });

  it("reads VERSIONR 0x04 and the reset values; writes SHAR and reads it back with auto-increment", () => {
    const t = rig();
    expect(t.read(W5500_BSB_COMMON, W5500_VERSIONR, 1)).toEqual([0x04]);
    expect(t.read(W5500_BSB_COMMON, 0x19, 3)).toEqual([0x07, 0xd0, 0x08]); // RTR, RCR
    expect(t.read(W5500_BSB_COMMON, W5500_PHYCFGR, 1)[0]).toBe(0xbf); // RST, OPMDC=111, DPX SPD LNK
    t.write(W5500_BSB_COMMON, W5500_SHAR, MAC);
    expect(t.read(W5500_BSB_COMMON, W5500_SHAR, 6)).toEqual(MAC);
    expect(t.read(W5500_BSB_S0_REG, W5500_Sn_IMR, 1)).toEqual([0xff]);
    expect(t.read(W5500_BSB_S0_REG, W5500_Sn_RXBUF_SIZE, 2)).toEqual([2, 2]);
    expect(t.r16(W5500_Sn_TX_FSR)).toBe(2048);
  });

  it("keeps chip select framing: a frame ends at deselect; fixed length mode restarts after N bytes", () => {
    const t = rig();
    // Two FDM 1-byte reads (OM=01) in one chip-select period: VERSIONR then RCR.
    const b = new Uint8Array([0x00, 0x39, 0x01, 0, 0x00, 0x1b, 0x01, 0]);
    t.spi.transfer(b);
    t.spi.flush(true);
    expect([b[3], b[7]]).toEqual([0x04, 0x08]);
  });

  it("MR.RST puts every register back and clears itself", () => {
    const t = rig();
    t.write(W5500_BSB_COMMON, W5500_SHAR, MAC);
    t.write(W5500_BSB_COMMON, W5500_MR, [W5500_MR_RST]);
    expect(t.read(W5500_BSB_COMMON, W5500_MR, 1)).toEqual([0]);
    expect(t.read(W5500_BSB_COMMON, W5500_SHAR, 6)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(t.chip.stats.softResets).toBe(1);
  });
});

describe("W5500Chip: socket 0 in MACRAW", () => {
  it("refuses OPEN while the buffer sizes add up to more than 16 KB, opens MACRAW once they fit", () => {
    const t = rig();
    t.write(W5500_BSB_S0_REG, W5500_Sn_RXBUF_SIZE, [16, 16]); // + 7 sockets x 2 KB
    t.write(W5500_BSB_S0_REG, W5500_Sn_MR, [W5500_Sn_MR_MACRAW, W5500_Sn_CR_OPEN]);
    expect(t.read(W5500_BSB_S0_REG, W5500_Sn_SR, 1)).toEqual([W5500_SOCK_CLOSED]);
    expect(t.chip.stats.openRefused).toBe(1);
    t.openMacraw();
    expect(t.read(W5500_BSB_S0_REG, W5500_Sn_CR, 2)).toEqual([0, 0]); // command taken
    expect(t.read(W5500_BSB_S0_REG, W5500_Sn_SR, 1)).toEqual([W5500_SOCK_MACRAW]);
    expect(t.r16(W5500_Sn_TX_FSR)).toBe(16384);
    t.write(W5500_BSB_S0_REG, W5500_Sn_CR, [W5500_Sn_CR_CLOSE]);
    expect(t.read(W5500_BSB_S0_REG, W5500_Sn_SR, 1)).toEqual([W5500_SOCK_CLOSED]);
  });

  it("stores a frame as a 2-byte length (frame + 2) and the frame; RECV frees it; INTn follows Sn_IR and SIMR", () => {
    const t = rig();
    t.openMacraw();
    t.write(W5500_BSB_COMMON, W5500_SIMR, [1]);
    expect(t.gpio.level(PINS.interrupt)).toBe(1);
    const f = t.frameTo(MAC, 100);
    t.deliver(f);
    expect(t.r16(W5500_Sn_RX_RSR)).toBe(102);
    expect(t.r16(W5500_Sn_RX_WR)).toBe(102);
    expect(t.read(W5500_BSB_S0_REG, W5500_Sn_IR, 1)).toEqual([W5500_Sn_IR_RECV]);
    expect(t.read(W5500_BSB_COMMON, W5500_SIR, 1)).toEqual([1]);
    expect(t.gpio.level(PINS.interrupt)).toBe(0);
    const data = t.read(W5500_BSB_S0_RX, 0, 102);
    expect((data[0] << 8) | data[1]).toBe(102);
    expect(data.slice(2)).toEqual(Array.from(f));
    t.write(W5500_BSB_S0_REG, W5500_Sn_RX_RD, [0, 102]);
    expect(t.r16(W5500_Sn_RX_RSR)).toBe(102); // not until RECV
    t.write(W5500_BSB_S0_REG, W5500_Sn_CR, [W5500_Sn_CR_RECV]);
    expect(t.r16(W5500_Sn_RX_RSR)).toBe(0);
    t.write(W5500_BSB_S0_REG, W5500_Sn_IR, [W5500_Sn_IR_RECV]); // write 1 to clear
    expect(t.gpio.level(PINS.interrupt)).toBe(1);
    // Sn_IMR without RECV: no Sn_IR bit, no INTn.
    t.write(W5500_BSB_S0_REG, W5500_Sn_IMR, [W5500_Sn_IR_SENDOK]);
    t.deliver(f);
    expect(t.read(W5500_BSB_S0_REG, W5500_Sn_IR, 1)).toEqual([0]);
    expect(t.gpio.level(PINS.interrupt)).toBe(1);
  });

  it("wraps frames around the end of the 16 KB RX buffer, and reads with offsets past it wrap too", () => {
    const t = rig();
    t.openMacraw();
    let rd = 0;
    for (let i = 0; i < 40; i++) {
      const f = t.frameTo(MAC, 1000, i);
      t.deliver(f);
      const hdr = t.read(W5500_BSB_S0_RX, rd, 2);
      const len = (hdr[0] << 8) | hdr[1];
      expect(len).toBe(1002);
      const body = t.read(W5500_BSB_S0_RX, (rd + 2) & 0xffff, 1000); // offsets run past 0x3FFF and 0xFFFF
      expect(body).toEqual(Array.from(f));
      rd = (rd + len) & 0xffff;
      t.write(W5500_BSB_S0_REG, W5500_Sn_RX_RD, [rd >> 8, rd & 0xff]);
      t.write(W5500_BSB_S0_REG, W5500_Sn_CR, [W5500_Sn_CR_RECV]);
    }
    expect(rd).toBe(40080 & 0xffff);
    expect(t.chip.stats.rxOverflows).toBe(0);
  });

  it("drops (and counts) a frame the RX buffer has no room for", () => {
    const t = rig();
    t.openMacraw();
    for (let i = 0; i < 12; i++) t.deliver(t.frameTo(MAC, 1500));
    // 10 x 1502 = 15020 fit in 16384; the 11th needs 1502 more.
    expect(t.chip.stats.rxFrames).toBe(10);
    expect(t.chip.stats.rxOverflows).toBe(2);
    expect(t.r16(W5500_Sn_RX_RSR)).toBe(15020);
  });

  it("filters with MFEN: our address and broadcast pass, another host's and multicast do not", () => {
    const t = rig();
    t.openMacraw(W5500_Sn_MR_MACRAW | W5500_Sn_MR_MFEN);
    t.deliver(t.frameTo(MAC, 60));
    t.deliver(t.frameTo([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 60));
    t.deliver(t.frameTo([0x02, 9, 9, 9, 9, 9], 60));
    t.deliver(t.frameTo([0x01, 0x00, 0x5e, 0, 0, 0xfb], 60));
    expect(t.chip.stats.rxFrames).toBe(2);
    expect(t.chip.stats.rxFiltered).toBe(2);
  });

  it("SEND puts TX_RD..TX_WR on the wire as one frame (padded to 60), then SENDOK; TX_RD reaches TX_WR", () => {
    const t = rig();
    t.openMacraw();
    t.write(W5500_BSB_COMMON, W5500_SIMR, [1]);
    const f = t.frameTo([0x02, 0, 0, 0, 0, 9], 42);
    f.set(MAC, 6);
    t.write(W5500_BSB_S0_TX, 16380, Array.from(f)); // wraps at 16 KB
    t.write(W5500_BSB_S0_REG, W5500_Sn_TX_WR, [0x40, 0x26]); // 16380 + 42
    // TX_RD is 0, so the first SEND sends 16422 bytes: past the MTU, not sent.
    t.write(W5500_BSB_S0_REG, W5500_Sn_CR, [W5500_Sn_CR_SEND]);
    t.loop.runUntil(t.loop.now + 1);
    expect(t.chip.stats.txOversize).toBe(1);
    expect(t.r16(W5500_Sn_TX_RD)).toBe(16422);
    t.write(W5500_BSB_S0_REG, W5500_Sn_IR, [0xff]);
    // Now the frame proper, from TX_RD = 16422 (offset 38 in the ring).
    t.write(W5500_BSB_S0_TX, 16422, Array.from(f));
    t.write(W5500_BSB_S0_REG, W5500_Sn_TX_WR, [0x40, 0x50]);
    expect(t.r16(W5500_Sn_TX_FSR)).toBe(16384 - 42);
    t.write(W5500_BSB_S0_REG, W5500_Sn_CR, [W5500_Sn_CR_SEND]);
    t.write(W5500_BSB_S0_REG, W5500_Sn_CR, [W5500_Sn_CR_SEND]); // a second SEND waits in Sn_CR
    expect(t.read(W5500_BSB_S0_REG, W5500_Sn_CR, 1)).toEqual([W5500_Sn_CR_SEND]);
    t.loop.runUntil(t.bus.now + 0.001);
    expect(t.peer.frames.length).toBe(1);
    expect(t.peer.frames[0].length).toBe(60);
    expect(Array.from(t.peer.frames[0].subarray(0, 42))).toEqual(Array.from(f));
    t.loop.runUntil(t.loop.now + 1);
    expect(t.read(W5500_BSB_S0_REG, W5500_Sn_IR, 1)[0] & W5500_Sn_IR_SENDOK).toBe(W5500_Sn_IR_SENDOK);
    expect(t.gpio.level(PINS.interrupt)).toBe(0);
    expect(t.r16(W5500_Sn_TX_RD)).toBe(16464);
    expect(t.r16(W5500_Sn_TX_FSR)).toBe(16384);
    expect(t.read(W5500_BSB_S0_REG, W5500_Sn_CR, 1)).toEqual([0]); // the second (empty) SEND was taken
  });

  it("finishes a SEND whose wire time is up by an SPI frame's bus time, before the event loop runs", () => {
    const t = rig();
    t.openMacraw();
    const f = t.frameTo([0x02, 0, 0, 0, 0, 9], 1514);
    f.set(MAC, 6);
    t.write(W5500_BSB_S0_TX, 0, Array.from(f));
    t.write(W5500_BSB_S0_REG, W5500_Sn_TX_WR, [1514 >> 8, 1514 & 0xff]);
    t.write(W5500_BSB_S0_REG, W5500_Sn_CR, [W5500_Sn_CR_SEND]);
    const sentAt = t.bus.now;
    expect(t.r16(W5500_Sn_TX_RD)).toBe(0); // on the wire: 1534 byte times at 100 Mbit/s
    // The host stays busy on the bus (the loop does not run) past the frame's wire time.
    while (t.bus.now < sentAt + 0.13) t.read(W5500_BSB_COMMON, W5500_VERSIONR, 8);
    expect(t.r16(W5500_Sn_TX_RD)).toBe(1514);
    expect(t.peer.frames.length).toBe(0); // the LAN delivers from its loop
    t.loop.runUntil(t.bus.now + 1);
    expect(t.peer.frames.length).toBe(1);
    expect(t.chip.stats.txFrames).toBe(1);
  });

  it("can tear a 16-bit size read, as a read spanning a change would be", () => {
    const t = rig();
    t.openMacraw();
    for (let i = 0; i < 2; i++) t.deliver(t.frameTo(MAC, 200)); // RSR 202 -> 404 (0x00CA -> 0x0194)
    t.chip.faults.tearSizeReads = 1;
    expect(t.r16(W5500_Sn_RX_RSR)).toBe(0x0094); // old high byte, new low byte
    expect(t.r16(W5500_Sn_RX_RSR)).toBe(0x0194);
    expect(t.chip.stats.tornReads).toBe(1);
  });
});

describe("W5500Chip: reset and link", () => {
  it("resets on RSTn held 500 us, answers nothing until ready 1 ms later, ignores a short pulse", () => {
    const t = rig();
    const rst = new t.gpio.io({ pin: PINS.reset, mode: t.gpio.io.Output });
    t.openMacraw();
    rst.write(0);
    t.cpu.busyUntil = t.loop.now + 0.1;
    rst.write(1);
    expect(t.chip.stats.shortResetPulses).toBe(1);
    expect(t.read(W5500_BSB_S0_REG, W5500_Sn_SR, 1)).toEqual([W5500_SOCK_MACRAW]);
    rst.write(0);
    t.cpu.busyUntil += 0.5;
    t.deliver(t.frameTo(MAC, 100)); // the PHY is down in reset
    expect(t.lan.stats(t.peerPort, t.chip.port).downDropped).toBe(1);
    rst.write(1);
    expect(t.chip.stats.hardResets).toBe(1);
    expect(t.read(W5500_BSB_COMMON, W5500_VERSIONR, 1)).toEqual([0]); // not ready
    t.cpu.busyUntil = t.bus.now + 1;
    expect(t.read(W5500_BSB_COMMON, W5500_VERSIONR, 1)).toEqual([4]);
    expect(t.read(W5500_BSB_S0_REG, W5500_Sn_SR, 1)).toEqual([W5500_SOCK_CLOSED]);
  });

  it("PHYCFGR.LNK follows the cable, and the LAN port with it; PHYCFGR.RST = 0 holds the PHY down", () => {
    const t = rig();
    t.chip.setLink(false);
    expect(t.read(W5500_BSB_COMMON, W5500_PHYCFGR, 1)[0] & 1).toBe(0);
    expect(t.lan.isPortUp(t.chip.port)).toBe(false);
    t.chip.setLink(true);
    expect(t.read(W5500_BSB_COMMON, W5500_PHYCFGR, 1)[0] & 7).toBe(7);
    t.write(W5500_BSB_COMMON, W5500_PHYCFGR, [0x38]);
    expect(t.read(W5500_BSB_COMMON, W5500_PHYCFGR, 1)[0] & 1).toBe(0);
    t.write(W5500_BSB_COMMON, W5500_PHYCFGR, [0xb8]);
    expect(t.lan.isPortUp(t.chip.port)).toBe(true);
    // IMR of the common block gates IR, not the socket interrupts
    expect(t.read(W5500_BSB_COMMON, W5500_IMR, 1)).toEqual([0]);
  });
});

describe("w5500SpiFloor", () => {
  it("is four frames each way: learning of the frame (Sn_IR, Sn_TX_RD), the data, the pointer, the command (with the acknowledgement)", () => {
    expect(w5500SpiFloor(1514)).toEqual({ rx: { frames: 4, bytes: 1514 + 19 }, tx: { frames: 4, bytes: 1514 + 17 } });
    expect(w5500SpiFloor(60).rx.bytes).toBe(60 + 19);
  });
});
