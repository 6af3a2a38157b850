// A register-level model of the WIZnet W5500 as a MACRAW Ethernet controller (socket 0 only),
// written from the W5500 datasheet v1.0.9 (sections cited as "DS x.y"). It answers SPI frames
// on its chip select, keeps the 16 KB RX and TX memories, receives from and transmits onto a
// SimLan, drives INTn through the GPIO model and hears RSTn. Node-free: it runs inside XS too.
//
// What is modelled: the SPI frame (DS 2.2), the common register block (DS 3.1, 4.1), socket
// 0's register block in MACRAW mode (DS 4.2), the socket buffer blocks (DS 2.2.2, 4.2
// Sn_RXBUF_SIZE/Sn_TXBUF_SIZE), the interrupt pin (DS 4.1 IR/SIR/SIMR, 4.2 Sn_IR/Sn_IMR),
// PHYCFGR (DS 4.1) and the reset timing (DS 5.5.1). Sockets 1..7 keep their registers (the
// buffer-size rule needs them) but do nothing: the TCP/UDP engine is not modelled.
//
// Choices where the datasheet is silent or ambiguous are marked "Choice:".

import { copyBytes } from "../../src/core/bytes";
import type { EventLoop, SimEventHandler } from "./event-loop";
import type { LanEndpoint, SimLan } from "./lan";
import type { SimGpio, SimPinListener, SimSpiBus, SimSpiTarget } from "./spi-bus";

// ---------------------------------------------------------------- the SPI frame (DS 2.2)

/** Control phase (DS 2.2.2): BSB[4:0] in bits 7..3, RWB in bit 2, OM[1:0] in bits 1..0. */
export const W5500_BSB_COMMON = 0x00;
/** socket n's register, TX buffer and RX buffer blocks: BSB = n*4 + 1, + 2, + 3 */
export const W5500_BSB_S0_REG = 0x01;
export const W5500_BSB_S0_TX = 0x02;
export const W5500_BSB_S0_RX = 0x03;
export const W5500_RWB_WRITE = 0x04;
/** OM = 00: variable length data mode, the frame ends when SCSn rises (DS 2.2.2). */
export const W5500_OM_VDM = 0x00;

/** The control byte of a frame: block, read or write, variable length. */
export function w5500Control(bsb: number, write: boolean): number {
  return (bsb << 3) | (write ? W5500_RWB_WRITE : 0) | W5500_OM_VDM;
}

// ---------------------------------------------------------------- common registers (DS 4.1)

export const W5500_MR = 0x0000;
export const W5500_MR_RST = 0x80;
export const W5500_SHAR = 0x0009;
export const W5500_INTLEVEL = 0x0013;
export const W5500_IR = 0x0015;
export const W5500_IMR = 0x0016;
export const W5500_SIR = 0x0017;
export const W5500_SIMR = 0x0018;
export const W5500_PHYCFGR = 0x002e;
export const W5500_VERSIONR = 0x0039;
/** VERSIONR always reads 0x04 (DS 4.1) */
export const W5500_VERSION = 0x04;
/** PHYCFGR: RST (0 resets the PHY), OPMD, OPMDC[2:0], DPX, SPD, LNK */
export const W5500_PHYCFGR_RST = 0x80;
export const W5500_PHYCFGR_DPX = 0x04;
export const W5500_PHYCFGR_SPD = 0x02;
export const W5500_PHYCFGR_LNK = 0x01;

// ---------------------------------------------------------------- socket registers (DS 4.2)

export const W5500_Sn_MR = 0x0000;
export const W5500_Sn_CR = 0x0001;
export const W5500_Sn_IR = 0x0002;
export const W5500_Sn_SR = 0x0003;
export const W5500_Sn_RXBUF_SIZE = 0x001e;
export const W5500_Sn_TXBUF_SIZE = 0x001f;
export const W5500_Sn_TX_FSR = 0x0020;
export const W5500_Sn_TX_RD = 0x0022;
export const W5500_Sn_TX_WR = 0x0024;
export const W5500_Sn_RX_RSR = 0x0026;
export const W5500_Sn_RX_RD = 0x0028;
export const W5500_Sn_RX_WR = 0x002a;
export const W5500_Sn_IMR = 0x002c;

/** Sn_MR bits in MACRAW mode: MFEN, BCASTB, MMB, MIP6B, P[3:0] = 0100 */
export const W5500_Sn_MR_MFEN = 0x80;
export const W5500_Sn_MR_BCASTB = 0x40;
export const W5500_Sn_MR_MMB = 0x20;
export const W5500_Sn_MR_MIP6B = 0x10;
export const W5500_Sn_MR_MACRAW = 0x04;
export const W5500_Sn_MR_P_MASK = 0x0f;

export const W5500_Sn_CR_OPEN = 0x01;
export const W5500_Sn_CR_CLOSE = 0x10;
export const W5500_Sn_CR_SEND = 0x20;
export const W5500_Sn_CR_RECV = 0x40;

/** Sn_IR bits (DS 4.2): SENDOK, TIMEOUT, RECV, DISCON, CON */
export const W5500_Sn_IR_SENDOK = 0x10;
export const W5500_Sn_IR_TIMEOUT = 0x08;
export const W5500_Sn_IR_RECV = 0x04;

export const W5500_SOCK_CLOSED = 0x00;
export const W5500_SOCK_MACRAW = 0x42;

/** the memory each direction has for all 8 sockets together (DS 4.2 Sn_RXBUF_SIZE) */
export const W5500_BUFFER_BYTES = 16384;
/** MACRAW's MTU: the largest frame the host should hand to SEND (DS 4.2 Sn_MSSR) */
export const W5500_MACRAW_MTU = 1514;
/**
 * Choice: the largest frame the MAC stores, without FCS: IEEE 802.3's 1518 (a VLAN-tagged
 * 1500-byte payload). The datasheet gives no receive limit; 1514 is only what SEND takes.
 */
export const W5500_RX_FRAME_MAX = 1518;
/** RSTn must stay low at least this long (DS 5.5.1, T_RC) */
export const W5500_RESET_LOW_MS = 0.5;
/** and the chip is usable this long after RSTn rises (DS 5.5.1, T_PL: the PLL locks) */
export const W5500_RESET_READY_MS = 1;
/** SPI clock the W5500 takes (DS 1, "80 MHz speed") */
export const W5500_SPI_MAX_HZ = 80_000_000;

const SOCKETS = 8;
const SOCKET_REGS = 0x30;
const COMMON_REGS = 0x40;
/** preamble, start delimiter and inter-frame gap: 20 byte times per frame on the wire */
const WIRE_OVERHEAD_BYTES = 20;
const ETH_ZLEN = 60;
const LINE_RATE_BPS = 100_000_000;

const EV_TX_START = 1;
const EV_TX_DONE = 2;
/** a command's acceptance time is up (W5500ChipOptions.commandAcceptMs) */
const EV_COMMAND = 3;
/** INTLEVEL's wait before INTn is asserted is up */
const EV_INT_ASSERT = 0;
const EV_KINDS = 4;
/** the PLL clock: 150 MHz (DS 4.1 INTLEVEL) */
const PLL_CLK_MS = 1 / 150_000;

/** What a driver's frame costs at least over SPI (the floor bench/spi.ts measures against). */
export interface W5500SpiFloor {
  rx: { frames: number; bytes: number };
  tx: { frames: number; bytes: number };
}

/**
 * The floor: the least chip-select frames and bytes one frame on its own needs to be
 * received or sent, learning that it arrived or was sent and acknowledging the interrupt
 * included; a register access the driver's bookkeeping makes unnecessary (a read of what it
 * knows, a write of what the chip already holds) is left out.
 *
 * For the W5500, from the datasheet's procedures (DS 4.2 Sn_RX_RSR, Sn_RX_RD, Sn_TX_WR,
 * Sn_TX_RD, Sn_CR, Sn_IR, Sn_IMR). A VDM frame writes consecutive addresses (DS 2.2.2), so
 * Sn_CR (0x0001) and Sn_IR (0x0002) take one write: the command, then the acknowledgement.
 * Nothing else is adjacent (Sn_RX_RD 0x0028, Sn_TX_WR 0x0024, the buffers in other blocks).
 * Receive, frameLen bytes stored behind a 2-byte length header:
 *   1. read Sn_IR (RECV: a frame arrived; INTn alone does not say which event)  1 frame, 3 + 1
 *   2. read the length header and the frame at Sn_RX_RD (RX buffer block)     1 frame, 3 + 2 + frameLen
 *   3. write Sn_RX_RD past it                                                  1 frame, 3 + 2
 *   4. write Sn_CR = RECV and Sn_IR = RECV (write 1 to clear: INTn rises)     1 frame, 3 + 2
 *   = 4 frames, frameLen + 19 bytes. (Sn_RX_RSR, 2 bytes, says as much as step 1 and more.)
 * Transmit, Sn_TX_WR known from bookkeeping (the driver wrote it):
 *   1. write the frame at Sn_TX_WR (TX buffer block)                          1 frame, 3 + frameLen
 *   2. write Sn_TX_WR past it                                                  1 frame, 3 + 2
 *   3. write Sn_CR = SEND                                                      1 frame, 3 + 1
 *   4. learn the SEND completed before the next SEND: read Sn_TX_RD (= Sn_TX_WR once
 *      sent, DS 4.2) with SENDOK masked in Sn_IMR, so nothing to acknowledge   1 frame, 3 + 2
 *      (or SENDOK unmasked: read Sn_IR, 3 + 1, and clear it in the next SEND's write, + 1)
 *   = 4 frames, frameLen + 17 bytes.
 */
export function w5500SpiFloor(frameLen: number): W5500SpiFloor {
  return {
    rx: { frames: 4, bytes: (3 + 1) + (3 + 2 + frameLen) + (3 + 2) + (3 + 2) },
    tx: { frames: 4, bytes: (3 + frameLen) + (3 + 2) + (3 + 1) + (3 + 2) },
  };
}

export class W5500ChipStats {
  /** frames stored in the RX buffer */
  rxFrames = 0;
  /** refused by the MAC filter (MFEN, BCASTB, MMB, MIP6B) */
  rxFiltered = 0;
  /** no room in the RX buffer for the length header and the frame: dropped */
  rxOverflows = 0;
  /** longer than W5500_RX_FRAME_MAX */
  rxOversize = 0;
  /** arrived with the PHY down, in reset, or with socket 0 not in MACRAW */
  rxWhileDown = 0;
  txFrames = 0;
  txBytes = 0;
  /** SEND of more than the MACRAW MTU: not sent (SENDOK still follows) */
  txOversize = 0;
  /** SEND with the link down: nothing on the wire, SENDOK still follows */
  txWhileDown = 0;
  /** SENDs lost to faults.swallowSends */
  sendsSwallowed = 0;
  /** a SEND cut off by CLOSE or a reset (no SENDOK) */
  txAborted = 0;
  /** hard resets (RSTn low long enough), soft resets (MR.RST), glitches (spontaneous) */
  hardResets = 0;
  softResets = 0;
  /** RSTn pulses shorter than T_RC: ignored */
  shortResetPulses = 0;
  /** OPEN refused: Sn_MR not MACRAW, or buffer sizes breaking the 16 KB rule */
  openRefused = 0;
  /** torn 16-bit size reads given (faults.tearSizeReads) */
  tornReads = 0;
  /** frames touching a reserved block select */
  reservedAccesses = 0;
  /** SPI frames clocked while the chip could not answer */
  deadFrames = 0;
}

/** Faults a test turns on. */
export class W5500Faults {
  /**
   * The next n reads of Sn_RX_RSR or Sn_TX_FSR are torn: the high byte comes from the value
   * before the register's last change, the low byte from the current one, which is what a
   * read spanning the change gives (DS 4.2: "read all 16-bits twice or more until getting
   * the same value").
   */
  tearSizeReads = 0;
  /** the next stored frame's length header carries this value instead (-1: none) */
  corruptNextLengthHeader = -1;
  /** the chip stops answering: MISO reads 0x00, writes are lost */
  mute = false;
  /** the next n SEND commands are lost (Sn_CR clears, nothing goes out, no SENDOK) */
  swallowSends = 0;
}

/** How this chip behaves where silicon is reported to differ from the datasheet. */
export interface W5500ChipOptions {
  /**
   * Choice: the datasheet says OPEN initialises the pointers (DS 4.2 Sn_TX_RD, Sn_TX_WR,
   * Sn_RX_RD), read as 0; users report chips that keep Sn_TX_WR/Sn_TX_RD across CLOSE/OPEN.
   * With this on, OPEN empties both buffers where the pointers stand (Sn_TX_RD = Sn_TX_WR,
   * Sn_RX_RD = Sn_RX_WR, kept) instead of moving them to 0, so a driver must read them back.
   */
  keepPointersAtOpen?: boolean;
  /**
   * Choice: how long the chip takes to accept a command written to Sn_CR, ms (default 0:
   * before the next SPI frame). The datasheet says only that Sn_CR clears once the command
   * is accepted (DS 4.2 Sn_CR) and gives no time; until then the command has no effect and
   * Sn_CR reads it.
   */
  commandAcceptMs?: number;
}

export interface W5500Pins {
  select: number;
  interrupt: number;
  reset: number;
}

export class W5500Chip implements SimSpiTarget, LanEndpoint, SimPinListener, SimEventHandler {
  readonly stats = new W5500ChipStats();
  readonly faults = new W5500Faults();
  readonly port: number;
  readonly pins: W5500Pins;
  /** socket 0's memories; sockets 1..7 have none here (socket 0 sits first, DS 4.2) */
  readonly rxMemory = new Uint8Array(W5500_BUFFER_BYTES);
  readonly txMemory = new Uint8Array(W5500_BUFFER_BYTES);
  readonly #loop: EventLoop;
  readonly #lan: SimLan;
  readonly #bus: SimSpiBus;
  readonly #gpio: SimGpio;
  readonly #common = new Uint8Array(COMMON_REGS);
  /** socket n's registers at n * SOCKET_REGS (socket 0's computed ones are kept apart) */
  readonly #sockets = new Uint8Array(SOCKETS * SOCKET_REGS);
  readonly #txFrame = new Uint8Array(W5500_RX_FRAME_MAX);
  readonly #keepPointersAtOpen: boolean;
  readonly #commandAcceptMs: number;

  // SPI frame decoding
  #phase = 0;
  #addr = 0;
  #control = 0;
  #fixedLeft = 0;

  // socket 0 state
  #status = W5500_SOCK_CLOSED;
  #ir = 0;
  /** a command written but not yet taken (SEND while one is on the wire); Sn_CR reads it */
  #pendingCommand = 0;
  /** a command written and not yet accepted (commandAcceptMs), and when it will be */
  #acceptingCommand = 0;
  #acceptAt = 0;
  /** INTn's assertion waits for INTLEVEL's time (an event is set) */
  #intAssertPending = false;
  /** what OPEN latched: mode bits and buffer sizes */
  #openMode = 0;
  #rxSize = 0;
  #txSize = 0;
  #rxWr = 0;
  /** Sn_RX_RD as the chip took it at the last RECV (Sn_RX_RD reads what the host wrote) */
  #rxRdTaken = 0;
  #txRd = 0;
  #sendEnd = 0;
  #txBusy = false;
  /** the SEND's frame went onto the wire (EV_TX_START ran or was caught up) */
  #txOnWire = false;
  /** bus time at which the SEND on the wire completes */
  #txDoneAt = 0;
  /** values before the last change, for torn reads */
  #rsrBefore = 0;
  #fsrBefore = 0;

  // PHY, reset, interrupt pin
  #cable = true;
  #rstLow = false;
  #rstLowSince = 0;
  #readyAt = 0;
  #intLevel = 1;
  /** events of an earlier reset or CLOSE are stale: their generation is older */
  #gen = 0;

  constructor(loop: EventLoop, lan: SimLan, bus: SimSpiBus, gpio: SimGpio, pins: W5500Pins, options: W5500ChipOptions = {}) {
    this.#keepPointersAtOpen = options.keepPointersAtOpen ?? false;
    this.#commandAcceptMs = options.commandAcceptMs ?? 0;
    this.#loop = loop;
    this.#lan = lan;
    this.#bus = bus;
    this.#gpio = gpio;
    this.pins = pins;
    this.port = lan.attach(this);
    bus.attach(pins.select, this, W5500_SPI_MAX_HZ);
    gpio.listen(pins.reset, this);
    gpio.drive(pins.interrupt, 1);
    this.#resetRegisters();
  }

  // ---------------------------------------------------------------- test handles

  /** Plug or pull the cable: PHYCFGR.LNK follows and the LAN port goes up or down. */
  setLink(up: boolean): void {
    this.#cable = up;
    this.#updatePort();
  }

  /** The chip resets by itself (a brown-out): registers to defaults, usable at once. */
  glitchReset(): void {
    this.stats.hardResets++;
    this.#resetRegisters();
  }

  get linkUp(): boolean {
    return this.#phyUp();
  }

  get ready(): boolean {
    return !this.#rstLow && this.#bus.now >= this.#readyAt;
  }

  /** Sn_SR of socket 0 */
  get socketStatus(): number {
    return this.#status;
  }

  get rxReceivedSize(): number {
    return (this.#rxWr - this.#rxRdTaken) & 0xffff;
  }

  get interruptLevel(): number {
    return this.#intLevel;
  }

  // ---------------------------------------------------------------- reset (DS 5.5.1, 4.1 MR)

  onPinWrite(pin: number, level: number): void {
    if (pin !== this.pins.reset) return;
    const now = this.#bus.now;
    if (level === 0 && !this.#rstLow) {
      // In reset the chip is dead: the PHY drops the link, a frame on the wire is cut off.
      this.#rstLow = true;
      this.#rstLowSince = now;
      this.#abortTx();
      this.#updatePort();
      this.#setInt(1);
    } else if (level !== 0 && this.#rstLow) {
      this.#rstLow = false;
      if (now - this.#rstLowSince >= W5500_RESET_LOW_MS) {
        this.stats.hardResets++;
        this.#resetRegisters();
        this.#readyAt = now + W5500_RESET_READY_MS;
      } else {
        // Choice: a pulse shorter than T_RC does not reset (DS 5.5.1 gives only the minimum).
        this.stats.shortResetPulses++;
      }
      this.#updatePort();
      this.#updateInt();
    }
  }

  #resetRegisters(): void {
    const c = this.#common;
    c.fill(0);
    c[0x19] = 0x07; // RTR 0x07D0
    c[0x1a] = 0xd0;
    c[0x1b] = 0x08; // RCR
    c[0x1c] = 0x28; // PTIMER
    c[0x26] = 0xff; // PMRU
    c[0x27] = 0xff;
    c[W5500_PHYCFGR] = 0xb8; // RST=1, OPMD=0, OPMDC=111 (all capable, auto-negotiation)
    const s = this.#sockets;
    s.fill(0);
    for (let n = 0; n < SOCKETS; n++) {
      const b = n * SOCKET_REGS;
      s[b + 0x16] = 0x80; // Sn_TTL
      s[b + W5500_Sn_RXBUF_SIZE] = 2;
      s[b + W5500_Sn_TXBUF_SIZE] = 2;
      s[b + W5500_Sn_IMR] = 0xff;
      s[b + 0x2d] = 0x40; // Sn_FRAG 0x4000
    }
    this.#abortTx();
    this.#status = W5500_SOCK_CLOSED;
    this.#ir = 0;
    this.#pendingCommand = 0;
    this.#acceptingCommand = 0;
    this.#openMode = 0;
    this.#rxSize = this.#txSize = 0;
    this.#rxWr = this.#rxRdTaken = this.#txRd = this.#sendEnd = 0;
    this.#rsrBefore = this.#fsrBefore = 0;
    this.#phase = 0;
    this.#updatePort();
    this.#updateInt();
  }

  // ---------------------------------------------------------------- SPI (DS 2.2)

  spiSelect(): void {
    this.#phase = 0;
    // The chip runs beside the host: a SEND whose time is up by this frame's bus time is
    // done, though the host has not yet let the event loop run.
    if (this.#txBusy && this.#bus.now >= this.#txDoneAt) {
      if (!this.#txOnWire) this.#transmit();
      this.#sendDone();
    }
    if (this.#acceptingCommand !== 0 && this.#bus.now >= this.#acceptAt) this.#acceptCommand();
  }

  spiDeselect(): void {
    // VDM: SCSn rising ends the frame (DS 2.1).
    this.#phase = 0;
  }

  spiClock(buf: Uint8Array, off: number, len: number, duplex: boolean): void {
    if (!this.ready || this.faults.mute) {
      if (this.#phase !== 4) this.stats.deadFrames++;
      this.#phase = 4; // the rest of this frame is lost too
      if (duplex) buf.fill(0, off, off + len);
      return;
    }
    if (this.#phase === 4) {
      if (duplex) buf.fill(0, off, off + len);
      return;
    }
    let i = off;
    const end = off + len;
    while (i < end) {
      if (this.#phase < 3) {
        const b = buf[i];
        if (this.#phase === 0) this.#addr = b << 8;
        else if (this.#phase === 1) this.#addr |= b;
        else this.#startData(b);
        this.#phase++;
        if (duplex) buf[i] = 0;
        i++;
        continue;
      }
      let n = end - i;
      if (this.#fixedLeft > 0 && n > this.#fixedLeft) n = this.#fixedLeft;
      this.#data(buf, i, n, duplex);
      this.#addr = (this.#addr + n) & 0xffff;
      i += n;
      if (this.#fixedLeft > 0) {
        this.#fixedLeft -= n;
        // Fixed length data mode (OM = 01/10/11, DS 2.2.2): the frame ends after 1, 2 or 4
        // bytes and the next byte starts a new address phase with SCSn still low.
        if (this.#fixedLeft === 0) this.#phase = 0;
      }
    }
  }

  #startData(control: number): void {
    this.#control = control;
    const om = control & 3;
    this.#fixedLeft = om === 0 ? 0 : om === 3 ? 4 : om;
    const bsb = control >> 3;
    if (bsb !== 0 && (bsb & 3) === 0) this.stats.reservedAccesses++;
  }

  #data(buf: Uint8Array, at: number, n: number, duplex: boolean): void {
    const bsb = this.#control >> 3;
    const write = (this.#control & W5500_RWB_WRITE) !== 0;
    if (bsb === W5500_BSB_S0_TX || bsb === W5500_BSB_S0_RX) {
      this.#bufferAccess(bsb === W5500_BSB_S0_TX, buf, at, n, write, duplex);
      return;
    }
    let addr = this.#addr;
    for (let k = 0; k < n; k++) {
      if (write) {
        this.#writeReg(bsb, addr, buf[at + k]);
        if (duplex) buf[at + k] = 0;
      } else {
        const v = this.#readReg(bsb, addr);
        if (duplex) buf[at + k] = v;
      }
      addr = (addr + 1) & 0xffff;
    }
  }

  /**
   * Socket 0's buffer blocks: the 16-bit offset is taken modulo the configured size, so a
   * read or write running past the end wraps to the start (DS 4.2 Sn_RXBUF_SIZE: "accessible
   * with 16bits Offset Address ranged from 0x0000 to 0xFFFF regardless of the configured size").
   */
  #bufferAccess(tx: boolean, buf: Uint8Array, at: number, n: number, write: boolean, duplex: boolean): void {
    const sizeReg = this.#sockets[tx ? W5500_Sn_TXBUF_SIZE : W5500_Sn_RXBUF_SIZE];
    const size = bufferBytes(sizeReg);
    if (size === 0 || (!tx && write)) {
      // Choice: no memory behind a 0 KB socket; the host does not write the RX buffer.
      if (duplex) buf.fill(0, at, at + n);
      return;
    }
    const mem = tx ? this.txMemory : this.rxMemory;
    let offset = this.#addr & (size - 1);
    let done = 0;
    while (done < n) {
      let run = size - offset;
      if (run > n - done) run = n - done;
      if (write) {
        copyBytes(mem, offset, buf, at + done, run);
        if (duplex) buf.fill(0, at + done, at + done + run);
      } else if (duplex) {
        copyBytes(buf, at + done, mem, offset, run);
      }
      done += run;
      offset = (offset + run) & (size - 1);
    }
  }

  #readReg(bsb: number, addr: number): number {
    if (bsb === W5500_BSB_COMMON) return this.#readCommon(addr);
    if ((bsb & 3) !== 1) return 0;
    const n = bsb >> 2;
    if (addr >= SOCKET_REGS) return 0;
    if (n === 0) return this.#readSocket0(addr);
    return addr === W5500_Sn_CR ? 0 : this.#sockets[n * SOCKET_REGS + addr];
  }

  #writeReg(bsb: number, addr: number, v: number): void {
    if (bsb === W5500_BSB_COMMON) {
      this.#writeCommon(addr, v);
      return;
    }
    if ((bsb & 3) !== 1 || addr >= SOCKET_REGS) return;
    const n = bsb >> 2;
    if (n === 0) {
      this.#writeSocket0(addr, v);
      return;
    }
    // Sockets 1..7: registers kept, read-only ones and commands ignored.
    if (addr === W5500_Sn_CR || addr === W5500_Sn_IR || addr === W5500_Sn_SR || (addr >= 0x20 && addr <= 0x2b && addr !== 0x24 && addr !== 0x25 && addr !== 0x28 && addr !== 0x29)) return;
    this.#sockets[n * SOCKET_REGS + addr] = v;
  }

  #readCommon(addr: number): number {
    if (addr >= COMMON_REGS) return 0;
    if (addr === W5500_SIR) return this.#ir !== 0 ? 1 : 0;
    if (addr === W5500_VERSIONR) return W5500_VERSION;
    if (addr === W5500_PHYCFGR) {
      const up = this.#phyUp();
      return (this.#common[W5500_PHYCFGR] & 0xf8) | (up ? W5500_PHYCFGR_DPX | W5500_PHYCFGR_SPD | W5500_PHYCFGR_LNK : 0);
    }
    return this.#common[addr];
  }

  #writeCommon(addr: number, v: number): void {
    if (addr >= COMMON_REGS) return;
    if (addr === W5500_MR) {
      if ((v & W5500_MR_RST) !== 0) {
        // MR.RST: every register to its reset value; the bit clears itself (DS 4.1).
        // Choice: the soft reset is done before the next byte (no ready time is given).
        this.stats.softResets++;
        this.#resetRegisters();
        return;
      }
      this.#common[W5500_MR] = v & 0x3a; // WOL, PB, PPPoE, FARP
      return;
    }
    if (addr === W5500_IR) {
      this.#common[W5500_IR] &= ~v; // write 1 to clear
      this.#updateInt();
      return;
    }
    if (addr === W5500_SIR || addr === W5500_VERSIONR || (addr >= 0x28 && addr <= 0x2d)) return; // read-only
    if (addr === W5500_PHYCFGR) {
      // RST = 0 holds the PHY in reset (link down) until it is written 1 again.
      this.#common[W5500_PHYCFGR] = v & 0xf8;
      this.#updatePort();
      return;
    }
    this.#common[addr] = v;
    if (addr === W5500_IMR || addr === W5500_SIMR) this.#updateInt();
  }

  #readSocket0(addr: number): number {
    switch (addr) {
      case W5500_Sn_CR: return this.#acceptingCommand !== 0 ? this.#acceptingCommand : this.#pendingCommand;
      case W5500_Sn_IR: return this.#ir;
      case W5500_Sn_SR: return this.#status;
      case W5500_Sn_TX_FSR: return this.#tearHigh(this.#fsr(), this.#fsrBefore);
      case W5500_Sn_TX_FSR + 1: return this.#fsr() & 0xff;
      case W5500_Sn_TX_RD: return this.#txRd >> 8;
      case W5500_Sn_TX_RD + 1: return this.#txRd & 0xff;
      case W5500_Sn_RX_RSR: return this.#tearHigh(this.rxReceivedSize, this.#rsrBefore);
      case W5500_Sn_RX_RSR + 1: return this.rxReceivedSize & 0xff;
      case W5500_Sn_RX_WR: return this.#rxWr >> 8;
      case W5500_Sn_RX_WR + 1: return this.#rxWr & 0xff;
      default: return this.#sockets[addr];
    }
  }

  #tearHigh(value: number, before: number): number {
    if (this.faults.tearSizeReads > 0) {
      this.faults.tearSizeReads--;
      this.stats.tornReads++;
      return before >> 8;
    }
    return value >> 8;
  }

  #writeSocket0(addr: number, v: number): void {
    switch (addr) {
      case W5500_Sn_CR: this.#command(v); return;
      case W5500_Sn_IR:
        this.#ir &= ~v; // write 1 to clear (DS 4.2)
        this.#updateInt();
        return;
      case W5500_Sn_SR: case W5500_Sn_TX_FSR: case W5500_Sn_TX_FSR + 1: case W5500_Sn_TX_RD: case W5500_Sn_TX_RD + 1:
      case W5500_Sn_RX_RSR: case W5500_Sn_RX_RSR + 1: case W5500_Sn_RX_WR: case W5500_Sn_RX_WR + 1:
        return; // read-only
      case W5500_Sn_TX_WR: case W5500_Sn_TX_WR + 1:
        this.#fsrBefore = this.#fsr();
        this.#sockets[addr] = v;
        return;
      default:
        this.#sockets[addr] = v;
    }
  }

  #txWr(): number {
    return (this.#sockets[W5500_Sn_TX_WR] << 8) | this.#sockets[W5500_Sn_TX_WR + 1];
  }

  #fsr(): number {
    const size = this.#status === W5500_SOCK_MACRAW ? this.#txSize : bufferBytes(this.#sockets[W5500_Sn_TXBUF_SIZE]);
    const used = (this.#txWr() - this.#txRd) & 0xffff;
    return used >= size ? 0 : size - used;
  }

  // ---------------------------------------------------------------- commands (DS 4.2 Sn_CR)

  #command(cmd: number): void {
    if (this.#commandAcceptMs > 0) {
      // Not yet accepted (W5500ChipOptions.commandAcceptMs); one written before is taken first.
      if (this.#acceptingCommand !== 0) this.#acceptCommand();
      this.#acceptingCommand = cmd;
      this.#acceptAt = this.#bus.now + this.#commandAcceptMs;
      this.#loop.at(this.#acceptAt, this, EV_COMMAND);
      return;
    }
    this.#runCommand(cmd);
  }

  #acceptCommand(): void {
    const cmd = this.#acceptingCommand;
    this.#acceptingCommand = 0;
    this.#runCommand(cmd);
  }

  #runCommand(cmd: number): void {
    // Sn_CR reads 0 once the chip has taken the command; only a SEND waiting for the one
    // on the wire is held (Choice: the datasheet says only that Sn_CR clears on acceptance).
    if (cmd === W5500_Sn_CR_OPEN) this.#open();
    else if (cmd === W5500_Sn_CR_CLOSE) {
      this.#abortTx();
      this.#status = W5500_SOCK_CLOSED;
    } else if (cmd === W5500_Sn_CR_SEND) {
      if (this.#status !== W5500_SOCK_MACRAW) return;
      if (this.faults.swallowSends > 0) {
        this.faults.swallowSends--;
        this.stats.sendsSwallowed++;
        return;
      }
      if (this.#txBusy) this.#pendingCommand = W5500_Sn_CR_SEND;
      else this.#startSend();
    } else if (cmd === W5500_Sn_CR_RECV) {
      if (this.#status !== W5500_SOCK_MACRAW) return;
      // RECV tells the chip the host's new Sn_RX_RD: the space up to it is free again.
      // Choice: taken as written (the chip trusts the host; a wild pointer is the host's bug).
      this.#rsrBefore = this.rxReceivedSize;
      this.#rxRdTaken = (this.#sockets[W5500_Sn_RX_RD] << 8) | this.#sockets[W5500_Sn_RX_RD + 1];
    }
  }

  #open(): void {
    const s = this.#sockets;
    this.#abortTx();
    this.#status = W5500_SOCK_CLOSED;
    let rxSum = 0;
    let txSum = 0;
    let valid = true;
    for (let n = 0; n < SOCKETS; n++) {
      const r = s[n * SOCKET_REGS + W5500_Sn_RXBUF_SIZE];
      const t = s[n * SOCKET_REGS + W5500_Sn_TXBUF_SIZE];
      if (!validSize(r) || !validSize(t)) valid = false;
      rxSum += r;
      txSum += t;
    }
    // The sizes of the 8 sockets must add up to 16 KB at most, each 0/1/2/4/8/16 (DS 4.2
    // Sn_RXBUF_SIZE, Sn_TXBUF_SIZE). Choice: the datasheet only warns of errors otherwise;
    // the model refuses OPEN, so a driver that forgets the other sockets finds out at once.
    if (!valid || rxSum > 16 || txSum > 16 || (s[W5500_Sn_MR] & W5500_Sn_MR_P_MASK) !== W5500_Sn_MR_MACRAW) {
      // Choice: TCP, UDP and the rest are not modelled, so only MACRAW opens.
      this.stats.openRefused++;
      return;
    }
    // OPEN initializes the pointers (DS 4.2 Sn_TX_RD, Sn_TX_WR, Sn_RX_RD) and latches the
    // mode bits and sizes (Choice: Sn_MR is documented as set before OPEN).
    this.#openMode = s[W5500_Sn_MR];
    this.#rxSize = bufferBytes(s[W5500_Sn_RXBUF_SIZE]);
    this.#txSize = bufferBytes(s[W5500_Sn_TXBUF_SIZE]);
    if (this.#keepPointersAtOpen) {
      // Both buffers emptied where the pointers stand (W5500ChipOptions.keepPointersAtOpen).
      this.#txRd = this.#sendEnd = this.#txWr();
      this.#rxRdTaken = this.#rxWr;
      s[W5500_Sn_RX_RD] = this.#rxWr >> 8;
      s[W5500_Sn_RX_RD + 1] = this.#rxWr & 0xff;
    } else {
      this.#rxWr = this.#rxRdTaken = this.#txRd = this.#sendEnd = 0;
      s[W5500_Sn_TX_WR] = s[W5500_Sn_TX_WR + 1] = s[W5500_Sn_RX_RD] = s[W5500_Sn_RX_RD + 1] = 0;
    }
    this.#rsrBefore = 0;
    this.#fsrBefore = this.#txSize;
    this.#status = W5500_SOCK_MACRAW;
  }

  #abortTx(): void {
    if (this.#txBusy) this.stats.txAborted++;
    this.#txBusy = false;
    this.#pendingCommand = 0;
    this.#gen++;
  }

  // ---------------------------------------------------------------- transmit

  #startSend(): void {
    // SEND sends Sn_TX_RD..Sn_TX_WR as one frame; Sn_TX_RD reaches Sn_TX_WR when it is done
    // (DS 4.2 Sn_TX_RD). Choice: the end is latched at the command, so a Sn_TX_WR written
    // while the frame is on the wire waits for the next SEND.
    this.#txBusy = true;
    this.#txOnWire = false;
    this.#sendEnd = this.#txWr();
    const len = (this.#sendEnd - this.#txRd) & 0xffff;
    const wireLen = len > W5500_MACRAW_MTU || len > this.#txSize ? 0 : len < ETH_ZLEN ? ETH_ZLEN : len;
    const now = this.#bus.now;
    this.#txDoneAt = now + ((wireLen + WIRE_OVERHEAD_BYTES) * 8 * 1000) / LINE_RATE_BPS;
    this.#gen++; // this SEND's events; an earlier SEND's are stale
    this.#loop.at(now, this, EV_TX_START + EV_KINDS * this.#gen);
  }

  onSimEvent(arg: number): void {
    const kind = arg % EV_KINDS;
    if (kind === EV_COMMAND) {
      if (this.#acceptingCommand !== 0 && this.#bus.now >= this.#acceptAt) this.#acceptCommand();
      return;
    }
    if (kind === EV_INT_ASSERT) {
      this.#intAssertPending = false;
      this.#updateInt(true);
      return;
    }
    if ((arg - kind) / EV_KINDS !== this.#gen || !this.#txBusy) return; // cut off by CLOSE or a reset, or caught up
    if (kind === EV_TX_START) {
      if (!this.#txOnWire) this.#transmit();
    } else if (kind === EV_TX_DONE) this.#sendDone();
  }

  #transmit(): void {
    this.#txOnWire = true;
    const len = (this.#sendEnd - this.#txRd) & 0xffff;
    let wireLen = len < ETH_ZLEN ? ETH_ZLEN : len;
    if (len > W5500_MACRAW_MTU || len > this.#txSize) {
      // Choice: more than the MACRAW MTU (DS 4.2 Sn_MSSR) does not go out; SENDOK follows.
      this.stats.txOversize++;
      wireLen = 0;
    } else {
      const frame = this.#txFrame;
      const size = this.#txSize;
      let offset = this.#txRd & (size - 1);
      let done = 0;
      while (done < len) {
        let run = size - offset;
        if (run > len - done) run = len - done;
        copyBytes(frame, done, this.txMemory, offset, run);
        done += run;
        offset = 0;
      }
      // The MAC pads a short frame to the Ethernet minimum (IEEE 802.3 4.2.3.3).
      if (len < ETH_ZLEN) frame.fill(0, len, ETH_ZLEN);
      if (this.#phyUp()) {
        this.#lan.transmit(this.port, frame, 0, wireLen);
        this.stats.txFrames++;
        this.stats.txBytes += wireLen;
      } else {
        this.stats.txWhileDown++;
      }
    }
    const at = this.#loop.now > this.#txDoneAt ? this.#loop.now : this.#txDoneAt;
    this.#loop.at(at, this, EV_TX_DONE + EV_KINDS * this.#gen);
  }

  #sendDone(): void {
    this.#fsrBefore = this.#fsr();
    this.#txRd = this.#sendEnd;
    this.#txBusy = false;
    this.#raise(W5500_Sn_IR_SENDOK);
    if (this.#pendingCommand === W5500_Sn_CR_SEND) {
      this.#pendingCommand = 0;
      this.#startSend();
    }
  }

  // ---------------------------------------------------------------- receive

  onFrame(buf: Uint8Array, off: number, len: number): void {
    const stats = this.stats;
    if (!this.#phyUp() || this.#status !== W5500_SOCK_MACRAW) {
      stats.rxWhileDown++;
      return;
    }
    if (!this.#passes(buf, off, len)) {
      stats.rxFiltered++;
      return;
    }
    if (len > W5500_RX_FRAME_MAX) {
      stats.rxOversize++;
      return;
    }
    // Each frame is stored as a 2-byte big-endian length header and the frame without FCS.
    // Choice: the header counts itself too (frame + 2), so Sn_RX_RD advances by exactly the
    // header's value to the next one; the datasheet describes MACRAW only through the
    // W5200's "PACKET-INFO", which it calls the length of the data packet.
    const need = len + 2;
    const size = this.#rxSize;
    if (need > size - this.rxReceivedSize) {
      stats.rxOverflows++; // no room: the frame is dropped, nothing else changes
      return;
    }
    let header = need;
    if (this.faults.corruptNextLengthHeader >= 0) {
      header = this.faults.corruptNextLengthHeader & 0xffff;
      this.faults.corruptNextLengthHeader = -1;
    }
    const mem = this.rxMemory;
    const mask = size - 1;
    let at = this.#rxWr & mask;
    mem[at] = header >> 8;
    at = (at + 1) & mask;
    mem[at] = header & 0xff;
    at = (at + 1) & mask;
    let done = 0;
    while (done < len) {
      let run = size - at;
      if (run > len - done) run = len - done;
      copyBytes(mem, at, buf, off + done, run);
      done += run;
      at = 0;
    }
    this.#rsrBefore = this.rxReceivedSize;
    this.#rxWr = (this.#rxWr + need) & 0xffff;
    stats.rxFrames++;
    this.#raise(W5500_Sn_IR_RECV);
  }

  /**
   * The MACRAW receive filter (DS 4.2 Sn_MR): MFEN passes only frames to SHAR and broadcasts
   * ("can only receive broadcasting packet or packet sent to itself", so multicast too is
   * held back: Choice, taken literally); BCASTB blocks broadcasts, MMB multicasts (with MFEN
   * off), MIP6B IPv6 frames.
   */
  #passes(buf: Uint8Array, off: number, len: number): boolean {
    const mode = this.#openMode;
    const multicast = (buf[off] & 1) !== 0;
    let broadcast = multicast;
    for (let i = 0; i < 6 && broadcast; i++) if (buf[off + i] !== 0xff) broadcast = false;
    if (broadcast && (mode & W5500_Sn_MR_BCASTB) !== 0) return false;
    if (len >= 14 && (mode & W5500_Sn_MR_MIP6B) !== 0 && buf[off + 12] === 0x86 && buf[off + 13] === 0xdd) return false;
    if ((mode & W5500_Sn_MR_MFEN) !== 0) {
      if (broadcast) return true;
      const c = this.#common;
      for (let i = 0; i < 6; i++) if (buf[off + i] !== c[W5500_SHAR + i]) return false;
      return true;
    }
    return !(multicast && !broadcast && (mode & W5500_Sn_MR_MMB) !== 0);
  }

  // ---------------------------------------------------------------- interrupts and the PHY

  #raise(bit: number): void {
    // A socket event sets its Sn_IR bit only where Sn_IMR has it (DS 4.2 Sn_IMR).
    if ((this.#sockets[W5500_Sn_IMR] & bit) === 0) return;
    this.#ir |= bit;
    this.#updateInt();
  }

  /** INTn is low while an unmasked interrupt is pending (DS 4.1 IMR, SIR, SIMR). */
  #updateInt(waited = false): void {
    const c = this.#common;
    const pending = (c[W5500_IR] & c[W5500_IMR]) !== 0 || (this.#ir !== 0 && (c[W5500_SIMR] & 1) !== 0);
    if (!pending || this.#rstLow) {
      this.#setInt(1);
      return;
    }
    if (this.#intLevel === 0 || this.#intAssertPending) return;
    // INTn goes low I_AWT = (INTLEVEL + 1) * 4 PLL clocks after the interrupt when INTLEVEL > 0
    // (DS 4.1 INTLEVEL), so a clear and a new interrupt leave INTn high that long at least.
    // Choice: every assertion waits, the first too (the datasheet draws it after a clear).
    const intlevel = (c[W5500_INTLEVEL] << 8) | c[W5500_INTLEVEL + 1];
    if (intlevel === 0 || waited) {
      this.#setInt(0);
      return;
    }
    this.#intAssertPending = true;
    this.#loop.at(this.#bus.now + (intlevel + 1) * 4 * PLL_CLK_MS, this, EV_INT_ASSERT);
  }

  #setInt(level: number): void {
    this.#intLevel = level;
    this.#gpio.drive(this.pins.interrupt, level);
  }

  #phyUp(): boolean {
    return this.#cable && !this.#rstLow && (this.#common[W5500_PHYCFGR] & W5500_PHYCFGR_RST) !== 0;
  }

  #updatePort(): void {
    const up = this.#phyUp();
    if (this.#lan.isPortUp(this.port) !== up) this.#lan.setPortUp(this.port, up);
  }
}

/** Sn_RXBUF_SIZE/Sn_TXBUF_SIZE in KB -> bytes (0 for a value the datasheet does not list). */
function bufferBytes(kb: number): number {
  return validSize(kb) ? kb * 1024 : 0;
}

function validSize(kb: number): boolean {
  return kb === 0 || kb === 1 || kb === 2 || kb === 4 || kb === 8 || kb === 16;
}
