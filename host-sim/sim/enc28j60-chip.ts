// A register-level model of the Microchip ENC28J60 (silicon revision B7, EREVID 06h) on
// the simulated SPI bus: what drivers/enc28j60.ts talks to in host-sim. Written from the
// datasheet (DS39662E; sections cited as "DS 4.2.1") and the rev B7 silicon errata
// (DS80349C; items cited as "errata #n"), not from any driver.
//
//   SPI (DS 4.2): RCR/RBM/WCR/WBM/BFS/BFC/SRC, one command per chip-select frame (RBM and
//     WBM run until chip select rises); MAC and MII registers answer RCR with a dummy byte
//     first (DS figure 4-4); banks by ECON1.BSEL, EIE..ECON1 (1Bh-1Fh) in every bank.
//   Buffer (DS 3.2, 7.2): 8 KB; the RX ring ERXST..ERXND written by the MAC at its internal
//     write pointer, each frame behind a next-packet pointer and a 4-byte receive status
//     vector (DS table 7-3), the pointer kept even; the MAC writes up to, not including,
//     ERXRDPT; EPKTCNT counts frames, ECON2.PKTDEC takes one off; ERDPT wraps at ERXND.
//   Transmit (DS 7.1): the control byte at ETXST, the frame to ETXND, ECON1.TXRTS, the
//     7-byte transmit status vector after ETXND (DS table 7-1), at 10 Mbit/s wire time.
//   Interrupts (DS 12): EIR & EIE with EIE.INTIE drive INT low (a level: it stays low while
//     an enabled flag is set, so a new edge only comes after every flag was cleared).
//   PHY over MII (DS 3.3): MIREGADR, MICMD.MIIRD, MIWRL/MIWRH, MISTAT.BUSY for 10.24 us;
//     PHSTAT1/2 link status, PHIE/PHIR and EIR.LINKIF (DS 12.1.5).
//   Receive filters (DS 8): ERXFCON unicast/broadcast/multicast/hash table, AND/OR, CRC.
//   Reset (DS 11): the RESET pin (oscillator start-up timer 300 us, CLKRDY then) and SRC.
//
// Errata of rev B7 a driver must work around, modelled so that a driver unaware of them
// fails here as it would on a board:
//   #2  after SRC the PHY clock stops but ESTAT.CLKRDY stays set: for 1 ms MAC/MII/PHY
//       writes are lost, reads give 0, nothing is sent or received.
//   #5  writing ERXST or ERXND sets the internal write pointer to 0000h (the errata says
//       "sometimes"; always here, so a ring not starting at 0000h fails every time).
//   #6  EIR.PKTIF as read over SPI misses pending frames: every pktifMissEvery-th read of EIR
//       with frames pending shows PKTIF clear (deterministic). The INT pin follows the true
//       state (PKTIF as an interrupt source works). EPKTCNT is the truth.
//   #12 after a transmit abort (half duplex) the transmit logic stalls: the next TXRTS never
//       completes until ECON1.TXRST is set and cleared; clearing TXRST then raises TXERIF.
//   #13 a link pulse taken for a collision after MACLCON2 bytes aborts the frame as a late
//       collision: injectTxFault() makes the next transmissions abort so (half duplex).
//   #14 an even ERXRDPT corrupts the ring: frames written while it is even get a
//       next-packet pointer and byte count that are garbage (an odd pointer past the frame).
//   #15 ESTAT.LATECOL is not set on a late collision; only the TSV's bit 29 says so.
//   #19 SRC is ignored while ECON2.PWRSV is set.
// Left out, with the reason: #1 (B1/B4 only), #3 and #8 (B1/B4 only), #4 (CLKOUT pin, not
// modelled), #7 (receive polarity, analogue), #9 and #10 (PHY loopback: no driver uses it;
// the half-duplex loopback of sent frames that PHCON2.HDLDIS turns off IS modelled, from
// DS register 3-4), #11 and #16 (LEDs), #17 (the DMA engine is not modelled: the driver copies
// through SPI and the stack computes checksums), #18 (pattern match filter not modelled).
//
// Node-free: this file also runs inside XS.

import { copyBytes } from "../../src/core/bytes";
import type { EventLoop, SimEventHandler } from "./event-loop";
import type { LanEndpoint, SimLan } from "./lan";
import type { SimGpio, SimPinListener, SimSpiBus, SimSpiTarget } from "./spi-bus";

// ------------------------------------------------------------------ registers (DS table 3-1)

/** Common registers, reachable from every bank. */
export const EIE = 0x1b;
export const EIR = 0x1c;
export const ESTAT = 0x1d;
export const ECON2 = 0x1e;
export const ECON1 = 0x1f;
// Bank 0
export const ERDPTL = 0x00, ERDPTH = 0x01, EWRPTL = 0x02, EWRPTH = 0x03, ETXSTL = 0x04, ETXSTH = 0x05, ETXNDL = 0x06, ETXNDH = 0x07;
export const ERXSTL = 0x08, ERXSTH = 0x09, ERXNDL = 0x0a, ERXNDH = 0x0b, ERXRDPTL = 0x0c, ERXRDPTH = 0x0d, ERXWRPTL = 0x0e, ERXWRPTH = 0x0f;
// Bank 1 (registers + 0x20 for bank 1, + 0x40 bank 2, + 0x60 bank 3 in this model's flat map)
export const EHT0 = 0x20, ERXFCON = 0x38, EPKTCNT = 0x39;
// Bank 2 (MAC and MII)
export const MACON1 = 0x40, MACON3 = 0x42, MACON4 = 0x43, MABBIPG = 0x44, MAIPGL = 0x46, MAIPGH = 0x47;
export const MACLCON1 = 0x48, MACLCON2 = 0x49, MAMXFLL = 0x4a, MAMXFLH = 0x4b, MICMD = 0x52, MIREGADR = 0x54;
export const MIWRL = 0x56, MIWRH = 0x57, MIRDL = 0x58, MIRDH = 0x59;
// Bank 3
export const MAADR5 = 0x60, MAADR6 = 0x61, MAADR3 = 0x62, MAADR4 = 0x63, MAADR1 = 0x64, MAADR2 = 0x65;
export const MISTAT = 0x6a, EREVID = 0x72;

// Bits
export const EIE_INTIE = 0x80, EIE_PKTIE = 0x40, EIE_DMAIE = 0x20, EIE_LINKIE = 0x10, EIE_TXIE = 0x08, EIE_TXERIE = 0x02, EIE_RXERIE = 0x01;
export const EIR_PKTIF = 0x40, EIR_DMAIF = 0x20, EIR_LINKIF = 0x10, EIR_TXIF = 0x08, EIR_TXERIF = 0x02, EIR_RXERIF = 0x01;
export const ESTAT_INT = 0x80, ESTAT_BUFER = 0x40, ESTAT_LATECOL = 0x10, ESTAT_RXBUSY = 0x04, ESTAT_TXABRT = 0x02, ESTAT_CLKRDY = 0x01;
export const ECON2_AUTOINC = 0x80, ECON2_PKTDEC = 0x40, ECON2_PWRSV = 0x20, ECON2_VRPS = 0x08;
export const ECON1_TXRST = 0x80, ECON1_RXRST = 0x40, ECON1_DMAST = 0x20, ECON1_CSUMEN = 0x10, ECON1_TXRTS = 0x08, ECON1_RXEN = 0x04;
export const ECON1_BSEL1 = 0x02, ECON1_BSEL0 = 0x01;
export const ERXFCON_UCEN = 0x80, ERXFCON_ANDOR = 0x40, ERXFCON_CRCEN = 0x20, ERXFCON_PMEN = 0x10, ERXFCON_MPEN = 0x08;
export const ERXFCON_HTEN = 0x04, ERXFCON_MCEN = 0x02, ERXFCON_BCEN = 0x01;
export const MACON1_TXPAUS = 0x08, MACON1_RXPAUS = 0x04, MACON1_PASSALL = 0x02, MACON1_MARXEN = 0x01;
export const MACON3_PADCFG0 = 0x20, MACON3_TXCRCEN = 0x10, MACON3_PHDREN = 0x08, MACON3_HFRMEN = 0x04, MACON3_FRMLNEN = 0x02, MACON3_FULDPX = 0x01;
export const MACON4_DEFER = 0x40;
export const MICMD_MIISCAN = 0x02, MICMD_MIIRD = 0x01;
export const MISTAT_NVALID = 0x04, MISTAT_SCAN = 0x02, MISTAT_BUSY = 0x01;
/** per-packet control byte (DS figure 7-1) */
export const PKT_PHUGEEN = 0x08, PKT_PPADEN = 0x04, PKT_PCRCEN = 0x02, PKT_POVERRIDE = 0x01;

// PHY registers (DS table 3-3) and bits
export const PHCON1 = 0x00, PHSTAT1 = 0x01, PHID1 = 0x02, PHID2 = 0x03, PHCON2 = 0x10, PHSTAT2 = 0x11, PHIE = 0x12, PHIR = 0x13, PHLCON = 0x14;
export const PHCON1_PRST = 0x8000, PHCON1_PLOOPBK = 0x4000, PHCON1_PPWRSV = 0x0800, PHCON1_PDPXMD = 0x0100;
export const PHSTAT1_PFDPX = 0x1000, PHSTAT1_PHDPX = 0x0800, PHSTAT1_LLSTAT = 0x0004, PHSTAT1_JBSTAT = 0x0002;
export const PHCON2_FRCLNK = 0x4000, PHCON2_TXDIS = 0x2000, PHCON2_JABBER = 0x0400, PHCON2_HDLDIS = 0x0100;
export const PHSTAT2_TXSTAT = 0x2000, PHSTAT2_RXSTAT = 0x1000, PHSTAT2_COLSTAT = 0x0800, PHSTAT2_LSTAT = 0x0400, PHSTAT2_DPXSTAT = 0x0200;
export const PHIE_PLNKIE = 0x0010, PHIE_PGEIE = 0x0002, PHIR_PLNKIF = 0x0010, PHIR_PGIF = 0x0004;

// SPI opcodes (DS table 4-1): the top three bits; the low five are the register address.
export const OP_RCR = 0x00, OP_RBM = 0x3a, OP_WCR = 0x40, OP_WBM = 0x7a, OP_BFS = 0x80, OP_BFC = 0xa0, OP_SRC = 0xff;

// Receive status vector bits above the byte count (DS table 7-3), as bits of its high 16.
export const RSV_LONG_DROP = 1 << 0, RSV_CARRIER_SEEN = 1 << 2, RSV_CRC_ERROR = 1 << 4, RSV_LENGTH_CHECK = 1 << 5;
export const RSV_LENGTH_OUT_OF_RANGE = 1 << 6, RSV_RECEIVED_OK = 1 << 7, RSV_MULTICAST = 1 << 8, RSV_BROADCAST = 1 << 9;
export const RSV_CONTROL = 1 << 11, RSV_VLAN = 1 << 14;
// Transmit status vector (DS table 7-1): bytes 2 and 3 hold bits 16..31.
export const TSV2_DONE = 0x80, TSV2_CRC_ERROR = 0x10, TSV3_LATE_COLLISION = 0x20, TSV3_EXCESSIVE_COLLISION = 0x10, TSV3_GIANT = 0x40;
export const TSV3_MULTICAST = 0x01, TSV3_BROADCAST = 0x02;

export const BUFFER_SIZE = 0x2000;
/** rev B7 (DS register EREVID; errata: "B7 = 06h") */
export const B7_REVID = 0x06;
/** the datasheet's MII operation time (DS 3.3.1: 10.24 us) in ms */
export const MII_BUSY_MS = 0.01024;
/** the oscillator start-up timer after RESET or power-on (DS 2.2: 7500 OSC1 cycles at 25 MHz) */
export const OST_MS = 0.3;
/** errata #2: after SRC the chip is not ready for this long though CLKRDY reads set */
export const SRC_NOT_READY_MS = 1;
/** the chip's fastest SPI clock (DS 16, parameter 1) */
export const ENC28J60_MAX_HZ = 20_000_000;
/** 10BASE-T */
const WIRE_BPS = 10_000_000;
/** preamble + SFD (8) and the inter-packet gap (12): byte times per frame on the wire */
const WIRE_OVERHEAD_BYTES = 20;

const EV_TX_DONE = 1;
const EV_MII_DONE = 2;
const EV_READY = 3;

// SPI command state within one chip-select frame
const S_OPCODE = 0;
const S_RCR_DUMMY = 1;
const S_RCR_DATA = 2;
const S_WCR_DATA = 3;
const S_BFS_DATA = 4;
const S_BFC_DATA = 5;
const S_RBM = 6;
const S_WBM = 7;
/** the command is done: further bytes until chip select rises are ignored (DS 4.2) */
const S_IGNORE = 8;

export interface Enc28j60Pins {
  /** chip select (the bus slot) */
  select: number;
  /** INT output, active low */
  interrupt: number;
  /** RESET input, active low */
  reset: number;
}

export interface Enc28j60ChipOptions {
  /** errata #6: every n-th read of EIR with frames pending shows PKTIF clear (0: never) */
  pktifMissEvery?: number;
}

/** What the chip did and refused, for tests. */
export class Enc28j60ChipStats {
  rxFrames = 0;
  /** dropped by ERXFCON */
  rxFiltered = 0;
  /** dropped: ring full or EPKTCNT at 255 (EIR.RXERIF) */
  rxOverflow = 0;
  /** dropped: receive disabled, link down, in reset, clock not ready */
  rxWhileDisabled = 0;
  /** dropped: larger than MAMXFL without MACON3.HFRMEN */
  rxTooLong = 0;
  /** frames written while ERXRDPT was even (errata #14): their header is garbage */
  rxCorrupted = 0;
  txFrames = 0;
  txBytes = 0;
  txAborts = 0;
  /** TXRTS set while the transmit logic was stalled (errata #12): it never completes */
  txStalledStarts = 0;
  /** frames looped back into receive (half duplex without PHCON2.HDLDIS) */
  txLoopedBack = 0;
  /** bytes clocked after a one-byte command was done, before chip select rose */
  ignoredBytes = 0;
  /** MAC/MII/PHY writes lost while the clock was not ready (errata #2) */
  lostWrites = 0;
  /** PKTIF reads that missed pending frames (errata #6) */
  pktifMisses = 0;
  srcCommands = 0;
  pinResets = 0;
  miiReads = 0;
  miiWrites = 0;
}

/** CRC-32 of IEEE 802.3, table-driven (one table for every chip). */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf: Uint8Array, off: number, len: number): number {
  let c = 0xffffffff;
  for (let i = off; i < off + len; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * The hash table bit a destination address selects (DS 8.3.3): bits 28..23 of the
 * address's CRC-32 (as the MAC computes it over the 6 bytes) name one of EHT0..EHT7's 64.
 */
export function enc28j60HashBit(buf: Uint8Array, off: number): number {
  return (crc32(buf, off, 6) >>> 23) & 0x3f;
}

function isMacMii(reg: number): boolean {
  // Bank 2's registers below 1Ah, bank 3's MAADR1..6 and MISTAT (DS table 3-1, figure 4-4).
  const bank = reg >> 5;
  const a = reg & 0x1f;
  if (a >= 0x1a) return false;
  return bank === 2 || (bank === 3 && (a <= 0x05 || a === 0x0a));
}

export class Enc28j60Chip implements SimSpiTarget, LanEndpoint, SimPinListener, SimEventHandler {
  readonly stats = new Enc28j60ChipStats();
  readonly port: number;
  /** the 8 KB buffer (DS 3.2) */
  readonly mem = new Uint8Array(BUFFER_SIZE);
  readonly #loop: EventLoop;
  readonly #lan: SimLan;
  readonly #bus: SimSpiBus;
  readonly #gpio: SimGpio;
  readonly #pins: Enc28j60Pins;
  /** control registers, flat: bank * 32 + address (common ones kept in bank 0's slots) */
  readonly #regs = new Uint8Array(128);
  readonly #phy = new Uint16Array(32);
  readonly #pktifMissEvery: number;
  /** a frame for the wire (padded, without FCS) */
  readonly #txFrame = new Uint8Array(1600);
  #pktifReads = 0;
  /** holdInterrupt's flags */
  #stuckEir = 0;
  /** swallowTxDone's count */
  #txIfSwallow = 0;

  // SPI frame state
  #state = S_OPCODE;
  #reg = 0;

  // receive
  /** the MAC's internal write pointer (ERXWRPT shows it) */
  #rxWrite = 0;
  /** ERXRDPTL is buffered until ERXRDPTH is written (DS 7.2.4) */
  #rxRdptLowPending = 0;
  #rxRdpt = 0;
  /** errata #14 test hook: the next frames written get a corrupt header */
  #corruptNext = 0;
  /** test hook: the next frames arrive with a bad CRC */
  #badCrcNext = 0;

  // transmit
  #txBusy = false;
  #txStalled = false;
  #txFaults = 0;
  #txFaultLate = true;
  #txStart = 0;
  #txEnd = 0;
  /** set when TXRST went 0 -> 1, cleared when it went back: errata #12 needs a pulse */
  #txResetSeen = false;

  // PHY, reset
  #linkUp = true;
  #miiBusyUntil = -1;
  #miiRead = false;
  #miiReg = 0;
  /** in reset (RESET low): nothing answers */
  #held = false;
  /** the clock is not ready until then (OST after the pin, errata #2 after SRC) */
  #notReadyUntil = 0;
  /** what ESTAT.CLKRDY shows while not ready: 0 after the pin (true), 1 after SRC (errata #2) */
  #clkrdyLies = false;
  /** the INT pin's level as last driven */
  #intLevel = 1;
  /** when the transmission in progress ends (a stale event for an aborted one is ignored) */
  #txDoneAt = 0;
  /** this transmission aborts (an injected fault) */
  #txFaultNow = false;
  /** the 7 transmit status vector bytes being written */
  readonly #tsv = new Uint8Array(7);

  constructor(loop: EventLoop, lan: SimLan, bus: SimSpiBus, gpio: SimGpio, pins: Enc28j60Pins, options: Enc28j60ChipOptions = {}) {
    this.#loop = loop;
    this.#lan = lan;
    this.#bus = bus;
    this.#gpio = gpio;
    this.#pins = pins;
    this.#pktifMissEvery = options.pktifMissEvery ?? 3;
    bus.attach(pins.select, this, ENC28J60_MAX_HZ);
    gpio.drive(pins.interrupt, 1);
    gpio.listen(pins.reset, this);
    this.port = lan.attach(this);
    this.#powerOn();
  }

  // ---------------------------------------------------------------- test hooks and views

  get linkUp(): boolean {
    return this.#linkUp;
  }

  /** Plug or pull the cable: the LAN port follows, the PHY reports it (PHIR, LINKIF). */
  setLink(up: boolean): void {
    if (up === this.#linkUp) return;
    this.#linkUp = up;
    this.#lan.setPortUp(this.port, up);
    const phy = this.#phy;
    if (up) phy[PHSTAT2] |= PHSTAT2_LSTAT;
    else {
      phy[PHSTAT2] &= ~PHSTAT2_LSTAT;
      phy[PHSTAT1] &= ~PHSTAT1_LLSTAT; // latching low (DS register 3-5)
    }
    phy[PHIR] |= PHIR_PLNKIF;
    if ((phy[PHIE] & PHIE_PLNKIE) !== 0) phy[PHIR] |= PHIR_PGIF;
    this.#updateInt();
  }

  /**
   * Errata #13/#12: the next `count` transmissions abort (half duplex only) with a late
   * collision (or, with late = false, excessive collisions), then stall the transmit logic.
   */
  injectTxFault(count: number, late = true): void {
    this.#txFaults = count;
    this.#txFaultLate = late;
  }

  /** Errata #14's corruption for the next `count` frames, whatever ERXRDPT holds (a test's corrupted header). */
  corruptNextRx(count = 1): void {
    this.#corruptNext = count;
  }

  /**
   * A fault: the EIR flags in mask read set and hold INT low whatever the host clears
   * (a stuck interrupt source); 0 lets them go.
   */
  holdInterrupt(mask: number): void {
    this.#stuckEir = mask & (EIR_PKTIF | EIR_DMAIF | EIR_LINKIF | EIR_TXIF | EIR_TXERIF | EIR_RXERIF);
    this.#updateInt();
  }

  /** A fault: the next `count` transmissions go out but never set TXIF. */
  swallowTxDone(count = 1): void {
    this.#txIfSwallow = count;
  }

  /** The next `count` frames arrive with a bad CRC. */
  badCrcNextRx(count = 1): void {
    this.#badCrcNext = count;
  }

  /** A power-on reset in the middle of traffic (a brown-out): every register to its default. */
  powerCycle(): void {
    this.#powerOn();
    this.#notReadyUntil = this.#bus.now + OST_MS;
    this.#clkrdyLies = false;
    this.#loop.at(this.#notReadyUntil, this, EV_READY);
    this.#updateInt();
  }

  /** A control register by its flat address (bank * 32 + address), for tests. */
  reg(flat: number): number {
    return this.#read(flat);
  }

  reg16(flatLow: number): number {
    return this.#regs[flatLow] | (this.#regs[flatLow + 1] << 8);
  }

  phyReg(r: number): number {
    return this.#phy[r & 0x1f];
  }

  get rxReadPointer(): number {
    return this.#rxRdpt;
  }

  get rxWritePointer(): number {
    return this.#rxWrite;
  }

  get packetCount(): number {
    return this.#regs[EPKTCNT];
  }

  get transmitting(): boolean {
    return this.#txBusy;
  }

  // ---------------------------------------------------------------- reset (DS 11)

  #powerOn(): void {
    const r = this.#regs;
    r.fill(0);
    this.#phy.fill(0);
    // Reset values (DS table 3-2; PHY table 3-3).
    r[ECON2] = ECON2_AUTOINC;
    r[ESTAT] = 0;
    r[ERDPTL] = 0xfa; r[ERDPTH] = 0x05;
    r[ERXSTL] = 0xfa; r[ERXSTH] = 0x05;
    r[ERXNDL] = 0xff; r[ERXNDH] = 0x1f;
    r[ERXRDPTL] = 0xfa; r[ERXRDPTH] = 0x05;
    r[ERXFCON] = ERXFCON_UCEN | ERXFCON_CRCEN | ERXFCON_BCEN;
    r[MACLCON1] = 0x0f;
    r[MACLCON2] = 0x37;
    r[MAMXFLL] = 0x00; r[MAMXFLH] = 0x06;
    r[EREVID] = B7_REVID;
    r[0x60 + 0x15] = 0x04; // ECOCON
    r[0x60 + 0x19] = 0x10; // EPAUSH
    const phy = this.#phy;
    phy[PHSTAT1] = PHSTAT1_PFDPX | PHSTAT1_PHDPX | (this.#linkUp ? PHSTAT1_LLSTAT : 0);
    phy[PHID1] = 0x0083;
    phy[PHID2] = 0x1400;
    phy[PHSTAT2] = this.#linkUp ? PHSTAT2_LSTAT : 0;
    phy[PHLCON] = 0x3422;
    this.#rxWrite = 0x05fa;
    this.#rxRdpt = 0x05fa;
    this.#rxRdptLowPending = 0xfa;
    this.#txBusy = false;
    this.#txStalled = false;
    this.#txResetSeen = false;
    this.#miiBusyUntil = -1;
    this.#state = S_OPCODE;
  }

  /** A System Reset Command (DS 4.2.7, 11.2). */
  #softReset(): void {
    if ((this.#regs[ECON2] & ECON2_PWRSV) !== 0) return; // errata #19
    this.stats.srcCommands++;
    this.#powerOn();
    // Errata #2: the PHY clock stops, CLKRDY stays set; wait 1 ms.
    this.#notReadyUntil = this.#bus.now + SRC_NOT_READY_MS;
    this.#clkrdyLies = true;
    this.#regs[ESTAT] |= ESTAT_CLKRDY;
    this.#loop.at(this.#notReadyUntil, this, EV_READY);
    this.#updateInt();
  }

  onPinWrite(pin: number, level: number): void {
    if (pin !== this.#pins.reset) return;
    if (level === 0) {
      if (this.#held) return;
      this.#held = true;
      this.stats.pinResets++;
      this.#powerOn();
      this.#updateInt();
      return;
    }
    if (!this.#held) return;
    this.#held = false;
    // The oscillator start-up timer runs; CLKRDY is clear until it expires (DS 2.2).
    this.#notReadyUntil = this.#bus.now + OST_MS;
    this.#clkrdyLies = false;
    this.#loop.at(this.#notReadyUntil, this, EV_READY);
  }

  #ready(): boolean {
    return !this.#held && this.#bus.now >= this.#notReadyUntil;
  }

  // ---------------------------------------------------------------- SPI (DS 4)

  spiSelect(): void {
    this.#state = S_OPCODE;
  }

  spiDeselect(): void {
    this.#state = S_OPCODE;
  }

  spiClock(buf: Uint8Array, off: number, len: number, duplex: boolean): void {
    if (this.#held) {
      if (duplex) buf.fill(0, off, off + len);
      return;
    }
    this.#settleMii(this.#bus.now);
    const end = off + len;
    let i = off;
    while (i < end) {
      const state = this.#state;
      if (state === S_RBM) {
        i = this.#readBuffer(buf, i, end, duplex);
        continue;
      }
      if (state === S_WBM) {
        i = this.#writeBuffer(buf, i, end);
        continue;
      }
      const b = buf[i];
      let out = 0;
      switch (state) {
        case S_OPCODE:
          this.#opcode(b);
          break;
        case S_RCR_DUMMY:
          // The dummy byte MAC and MII reads give first (DS figure 4-4): this model's is 0.
          this.#state = S_RCR_DATA;
          break;
        case S_RCR_DATA:
          out = this.#readReg(this.#reg);
          this.#state = S_IGNORE;
          break;
        case S_WCR_DATA:
          this.#writeReg(this.#reg, b);
          this.#state = S_IGNORE;
          break;
        case S_BFS_DATA:
          if (this.#isEth(this.#reg)) this.#writeReg(this.#reg, this.#regs[this.#reg] | b);
          this.#state = S_IGNORE;
          break;
        case S_BFC_DATA:
          if (this.#isEth(this.#reg)) this.#bitClear(this.#reg, b);
          this.#state = S_IGNORE;
          break;
        default:
          this.stats.ignoredBytes++;
          break;
      }
      if (duplex) buf[i] = out;
      i++;
    }
  }

  #isEth(reg: number): boolean {
    // BFS and BFC work on ETH registers only (DS 4.2.5).
    return !isMacMii(reg);
  }

  #opcode(b: number): void {
    if (b === OP_SRC) {
      this.#softReset();
      this.#state = S_IGNORE;
      return;
    }
    const op = b & 0xe0;
    const a = b & 0x1f;
    if (b === OP_RBM) {
      this.#state = S_RBM;
      return;
    }
    if (b === OP_WBM) {
      this.#state = S_WBM;
      return;
    }
    const reg = a >= 0x1b ? a : ((this.#regs[ECON1] & 3) << 5) | a;
    this.#reg = reg;
    switch (op) {
      case OP_RCR:
        this.#state = isMacMii(reg) ? S_RCR_DUMMY : S_RCR_DATA;
        break;
      case OP_WCR:
        this.#state = S_WCR_DATA;
        break;
      case OP_BFS:
        this.#state = S_BFS_DATA;
        break;
      case OP_BFC:
        this.#state = S_BFC_DATA;
        break;
      default:
        this.#state = S_IGNORE;
        break;
    }
  }

  /** RBM: bytes from ERDPT, which wraps ERXND -> ERXST (and 1FFFh -> 0) with AUTOINC (DS 3.2.3). */
  #readBuffer(buf: Uint8Array, i: number, end: number, duplex: boolean): number {
    const r = this.#regs;
    let p = r[ERDPTL] | (r[ERDPTH] << 8);
    const auto = (r[ECON2] & ECON2_AUTOINC) !== 0;
    const rxEnd = r[ERXNDL] | (r[ERXNDH] << 8);
    const rxStart = r[ERXSTL] | (r[ERXSTH] << 8);
    const mem = this.mem;
    for (; i < end; i++) {
      if (duplex) buf[i] = mem[p];
      if (auto) p = p === rxEnd ? rxStart : (p + 1) & 0x1fff;
    }
    r[ERDPTL] = p & 0xff;
    r[ERDPTH] = p >> 8;
    return end;
  }

  /** WBM: bytes to EWRPT, which wraps 1FFFh -> 0 with AUTOINC (DS 3.2.3). */
  #writeBuffer(buf: Uint8Array, i: number, end: number): number {
    const r = this.#regs;
    let p = r[EWRPTL] | (r[EWRPTH] << 8);
    const auto = (r[ECON2] & ECON2_AUTOINC) !== 0;
    const mem = this.mem;
    for (; i < end; i++) {
      mem[p] = buf[i];
      if (auto) p = (p + 1) & 0x1fff;
    }
    r[EWRPTL] = p & 0xff;
    r[EWRPTH] = p >> 8;
    return end;
  }

  /** A register as RCR reads it. */
  #readReg(reg: number): number {
    if (isMacMii(reg) && !this.#ready()) return 0; // errata #2
    return this.#read(reg);
  }

  #read(reg: number): number {
    const r = this.#regs;
    switch (reg) {
      case EIR: {
        let v = r[EIR] & ~(EIR_PKTIF | EIR_LINKIF);
        if (r[EPKTCNT] !== 0) {
          // Errata #6: the flag read over SPI misses pending frames now and then.
          const n = this.#pktifMissEvery;
          if (n > 0 && ++this.#pktifReads % n === 0) this.stats.pktifMisses++;
          else v |= EIR_PKTIF;
        }
        if (this.#linkIf()) v |= EIR_LINKIF;
        return v | this.#stuckEir;
      }
      case ESTAT: {
        let v = r[ESTAT] & ~(ESTAT_INT | ESTAT_CLKRDY | ESTAT_LATECOL);
        if (this.#intLevel === 0) v |= ESTAT_INT;
        if (this.#ready() || this.#clkrdyLies) v |= ESTAT_CLKRDY;
        return v;
      }
      case ERXRDPTL:
        return this.#rxRdpt & 0xff;
      case ERXRDPTH:
        return this.#rxRdpt >> 8;
      case ERXWRPTL:
        return this.#rxWrite & 0xff;
      case ERXWRPTH:
        return this.#rxWrite >> 8;
      case MISTAT:
        return this.#bus.now < this.#miiBusyUntil ? MISTAT_BUSY : 0;
      default:
        return r[reg];
    }
  }

  #writeReg(reg: number, v: number): void {
    const r = this.#regs;
    if (isMacMii(reg) && !this.#ready()) {
      this.stats.lostWrites++; // errata #2
      return;
    }
    switch (reg) {
      case EIR:
        // PKTIF and LINKIF are read-only; the others may be written (DS register 12-2).
        r[EIR] = v & (EIR_DMAIF | EIR_TXIF | EIR_TXERIF | EIR_RXERIF);
        this.#updateInt();
        return;
      case EIE:
        r[EIE] = v;
        this.#updateInt();
        return;
      case ESTAT:
        return; // read-only (BFC clears TXABRT, LATECOL, BUFER: #bitClear)
      case ECON2:
        if ((v & ECON2_PKTDEC) !== 0 && r[EPKTCNT] > 0) {
          r[EPKTCNT]--;
          this.#updateInt();
        }
        r[ECON2] = v & ~ECON2_PKTDEC; // PKTDEC reads 0
        return;
      case ECON1:
        this.#writeEcon1(v);
        return;
      case ERXSTL: case ERXSTH: case ERXNDL: case ERXNDH:
        r[reg] = v;
        this.#rxWrite = 0; // errata #5: the internal write pointer takes 0000h, not ERXST
        return;
      case ERXRDPTL:
        this.#rxRdptLowPending = v;
        r[reg] = v;
        return;
      case ERXRDPTH:
        r[reg] = v & 0x1f;
        this.#rxRdpt = this.#rxRdptLowPending | ((v & 0x1f) << 8);
        return;
      case ERXWRPTL: case ERXWRPTH: case EPKTCNT: case EREVID: case MISTAT:
        return; // read-only
      case MICMD:
        r[MICMD] = v;
        if ((v & MICMD_MIIRD) !== 0 && this.#miiBusyUntil < 0) this.#startMii(true);
        return;
      case MIWRH:
        r[MIWRH] = v;
        if (this.#miiBusyUntil < 0) this.#startMii(false);
        return;
      default:
        r[reg] = v;
    }
  }

  #bitClear(reg: number, mask: number): void {
    const r = this.#regs;
    if (reg === ESTAT) {
      r[ESTAT] &= ~(mask & (ESTAT_BUFER | ESTAT_LATECOL | ESTAT_TXABRT));
      return;
    }
    this.#writeReg(reg, r[reg] & ~mask);
  }

  #writeEcon1(v: number): void {
    const r = this.#regs;
    const old = r[ECON1];
    r[ECON1] = v;
    const rose = v & ~old;
    const fell = old & ~v;
    if ((rose & ECON1_TXRST) !== 0) {
      // Transmit logic held in reset (DS 11.3): a transmission in progress ends.
      this.#txResetSeen = true;
      this.#txBusy = false;
      r[ECON1] &= ~ECON1_TXRTS;
    }
    if ((fell & ECON1_TXRST) !== 0 && this.#txResetSeen) {
      this.#txResetSeen = false;
      if (this.#txStalled) {
        this.#txStalled = false;
        // Errata #12: clearing TXRST may raise a new transmit error interrupt.
        r[EIR] |= EIR_TXERIF;
        this.#updateInt();
      }
    }
    if ((rose & ECON1_RXRST) !== 0) {
      // Receive logic reset (DS 11.4): the write pointer starts over at ERXST.
      // Choice: DS 11.4 does not say that RXRST clears EPKTCNT (nor does EPKTCNT's register
      // description), so the count is kept: a driver must PKTDEC it to 0 itself.
      this.#rxWrite = r[ERXSTL] | (r[ERXSTH] << 8);
      r[ECON1] &= ~ECON1_RXEN;
      this.#updateInt();
    }
    if ((rose & ECON1_TXRTS) !== 0) this.#startTx();
    if ((fell & ECON1_TXRTS) !== 0 && this.#txBusy) this.#txBusy = false; // an abort by the host (DS 7.1)
  }

  // ---------------------------------------------------------------- interrupts (DS 12)

  #linkIf(): boolean {
    const phy = this.#phy;
    // LINKIF shadows PHIR.PGIF once PHIE.PGEIE and PLNKIE are set (DS 12.1.5).
    return (phy[PHIE] & (PHIE_PGEIE | PHIE_PLNKIE)) === (PHIE_PGEIE | PHIE_PLNKIE) && (phy[PHIR] & PHIR_PGIF) !== 0;
  }

  #updateInt(): void {
    const r = this.#regs;
    let flags = r[EIR] & (EIR_DMAIF | EIR_TXIF | EIR_TXERIF | EIR_RXERIF);
    if (r[EPKTCNT] !== 0) flags |= EIR_PKTIF;
    if (this.#linkIf()) flags |= EIR_LINKIF;
    flags |= this.#stuckEir;
    const asserted = !this.#held && (r[EIE] & EIE_INTIE) !== 0 && (flags & r[EIE]) !== 0;
    const level = asserted ? 0 : 1;
    if (level === this.#intLevel) return;
    this.#intLevel = level;
    this.#gpio.drive(this.#pins.interrupt, level);
  }

  // ---------------------------------------------------------------- PHY over MII (DS 3.3)

  #startMii(read: boolean): void {
    const r = this.#regs;
    this.#miiRead = read;
    this.#miiReg = r[MIREGADR] & 0x1f;
    this.#miiBusyUntil = this.#bus.now + MII_BUSY_MS;
    this.#loop.at(this.#miiBusyUntil, this, EV_MII_DONE);
  }

  /** Finish the MII operation once its 10.24 us have passed (by bus or loop time). */
  #settleMii(now: number): void {
    if (this.#miiBusyUntil < 0 || now < this.#miiBusyUntil) return;
    this.#miiBusyUntil = -1;
    const r = this.#regs;
    const phy = this.#phy;
    const reg = this.#miiReg;
    if (this.#miiRead) {
      this.stats.miiReads++;
      let v = phy[reg];
      if (reg === PHSTAT2 || reg === PHSTAT1) v = this.#phyStatus(reg);
      r[MIRDL] = v & 0xff;
      r[MIRDH] = v >> 8;
      if (reg === PHSTAT1 && this.#linkUp) phy[PHSTAT1] |= PHSTAT1_LLSTAT; // read re-arms the latch
      if (reg === PHIR) {
        phy[PHIR] &= ~(PHIR_PGIF | PHIR_PLNKIF); // reading PHIR clears it (DS 12.1.5)
        this.#updateInt();
      }
      return;
    }
    this.stats.miiWrites++;
    const v = r[MIWRL] | (r[MIWRH] << 8);
    switch (reg) {
      case PHCON1:
        phy[PHCON1] = v & ~PHCON1_PRST; // PRST self-clears
        if ((v & PHCON1_PDPXMD) !== 0) phy[PHSTAT2] |= PHSTAT2_DPXSTAT;
        else phy[PHSTAT2] &= ~PHSTAT2_DPXSTAT;
        return;
      case PHSTAT1: case PHID1: case PHID2: case PHSTAT2: case PHIR:
        return; // read-only
      case PHIE:
        phy[PHIE] = v & (PHIE_PGEIE | PHIE_PLNKIE);
        this.#updateInt();
        return;
      default:
        phy[reg] = v;
    }
  }

  #phyStatus(reg: number): number {
    const phy = this.#phy;
    if (reg === PHSTAT1) return phy[PHSTAT1];
    let v = phy[PHSTAT2] & ~PHSTAT2_TXSTAT;
    if (this.#txBusy) v |= PHSTAT2_TXSTAT;
    return v;
  }

  // ---------------------------------------------------------------- timed work

  onSimEvent(arg: number): void {
    if (arg === EV_TX_DONE) this.#finishTx();
    else if (arg === EV_MII_DONE) this.#settleMii(this.#loop.now);
    else if (arg === EV_READY) this.#updateInt();
  }

  // ---------------------------------------------------------------- transmit (DS 7.1)

  #startTx(): void {
    const r = this.#regs;
    if ((r[ECON1] & ECON1_TXRST) !== 0 || this.#txBusy) {
      r[ECON1] &= ~ECON1_TXRTS;
      return;
    }
    if (!this.#ready()) return; // errata #2: TXRTS stays set, nothing happens
    if (this.#txStalled) {
      // Errata #12: TXRTS remains set indefinitely.
      this.stats.txStalledStarts++;
      return;
    }
    this.#txStart = r[ETXSTL] | (r[ETXSTH] << 8);
    this.#txEnd = r[ETXNDL] | (r[ETXNDH] << 8);
    this.#txBusy = true;
    const len = this.#frameLength();
    const fault = this.#txFaults > 0 && (r[MACON3] & MACON3_FULDPX) === 0;
    if (fault) this.#txFaults--;
    this.#txFaultNow = fault;
    // A late collision aborts after the collision window (MACLCON2 + 1 bytes); a whole
    // frame takes its wire time.
    const bytes = fault ? r[MACLCON2] + 1 + 8 : (len < 60 ? 60 : len) + 4 + WIRE_OVERHEAD_BYTES;
    this.#txDoneAt = this.#bus.now + (bytes * 8 * 1000) / WIRE_BPS;
    this.#loop.at(this.#txDoneAt, this, EV_TX_DONE);
  }

  /** The frame's length from ETXST + 1 to ETXND (the control byte excluded). */
  #frameLength(): number {
    return (this.#txEnd - this.#txStart) & 0x1fff;
  }

  #finishTx(): void {
    if (!this.#txBusy || this.#loop.now < this.#txDoneAt) return;
    this.#txBusy = false;
    const r = this.#regs;
    const mem = this.mem;
    const start = this.#txStart;
    const len = this.#frameLength();
    const control = mem[start];
    const macon3 = r[MACON3];
    // The control byte overrides MACON3 when POVERRIDE is set (DS figure 7-1).
    const pad = (control & PKT_POVERRIDE) !== 0 ? (control & PKT_PPADEN) !== 0 : (macon3 & MACON3_PADCFG0) !== 0;
    const crc = pad || ((control & PKT_POVERRIDE) !== 0 ? (control & PKT_PCRCEN) !== 0 : (macon3 & MACON3_TXCRCEN) !== 0);
    const huge = (control & PKT_POVERRIDE) !== 0 ? (control & PKT_PHUGEEN) !== 0 : (macon3 & MACON3_HFRMEN) !== 0;
    const maxLen = r[MAMXFLL] | (r[MAMXFLH] << 8);
    const frame = this.#txFrame;
    const n = len > frame.length ? frame.length : len;
    for (let i = 0; i < n; i++) frame[i] = mem[(start + 1 + i) & 0x1fff];
    let wireLen = n;
    if (pad && wireLen < 60) {
      frame.fill(0, wireLen, 60);
      wireLen = 60;
    }
    let tsv2 = 0;
    let tsv3 = 0;
    let aborted = false;
    if (this.#txFaultNow) {
      aborted = true;
      tsv3 |= this.#txFaultLate ? TSV3_LATE_COLLISION : TSV3_EXCESSIVE_COLLISION;
    } else if (!huge && wireLen + 4 > maxLen) {
      aborted = true;
      tsv3 |= TSV3_GIANT;
    } else if (!crc) {
      // Without a generated CRC the frame must end in its own: this model's LAN frames
      // carry none, so such a frame goes out as a CRC error, not onto the LAN.
      tsv2 |= TSV2_CRC_ERROR;
    }
    if ((frame[0] & 1) !== 0) tsv3 |= frame[0] === 0xff && frame[1] === 0xff ? TSV3_BROADCAST : TSV3_MULTICAST;
    if (!aborted) tsv2 |= TSV2_DONE;
    // The transmit status vector, after ETXND (DS 7.1, table 7-1).
    const count = aborted ? 0 : wireLen + (crc ? 4 : 0);
    const onWire = aborted ? r[MACLCON2] + 1 : count;
    let p = (this.#txEnd + 1) & 0x1fff;
    const tsv = this.#tsv;
    tsv[0] = count & 0xff;
    tsv[1] = count >> 8;
    tsv[2] = tsv2;
    tsv[3] = tsv3;
    tsv[4] = onWire & 0xff;
    tsv[5] = onWire >> 8;
    tsv[6] = 0;
    for (let i = 0; i < 7; i++) {
      mem[p] = tsv[i];
      p = (p + 1) & 0x1fff;
    }
    r[ECON1] &= ~ECON1_TXRTS;
    if (aborted) {
      this.stats.txAborts++;
      // ESTAT.TXABRT is set; LATECOL is not (errata #15); the logic stalls (errata #12).
      r[ESTAT] |= ESTAT_TXABRT;
      r[EIR] |= EIR_TXERIF;
      if ((tsv3 & (TSV3_LATE_COLLISION | TSV3_EXCESSIVE_COLLISION)) !== 0) this.#txStalled = true;
      this.#updateInt();
      return;
    }
    if (this.#txIfSwallow > 0) this.#txIfSwallow--;
    else r[EIR] |= EIR_TXIF;
    if ((tsv2 & TSV2_CRC_ERROR) === 0) {
      this.stats.txFrames++;
      this.stats.txBytes += wireLen;
      if (this.#linkUp) this.#lan.transmit(this.port, frame, 0, wireLen);
      // Half duplex without PHCON2.HDLDIS: the PHY loops what it sends back to the MAC.
      if ((macon3 & MACON3_FULDPX) === 0 && (this.#phy[PHCON2] & PHCON2_HDLDIS) === 0) {
        this.stats.txLoopedBack++;
        this.#receive(frame, 0, wireLen);
      }
    }
    this.#updateInt();
  }

  // ---------------------------------------------------------------- receive (DS 7.2, 8)

  onFrame(buf: Uint8Array, off: number, len: number): void {
    this.#receive(buf, off, len);
  }

  #receive(buf: Uint8Array, off: number, len: number): void {
    const r = this.#regs;
    const stats = this.stats;
    if (!this.#ready() || !this.#linkUp || (r[ECON1] & ECON1_RXEN) === 0 || (r[MACON1] & MACON1_MARXEN) === 0) {
      stats.rxWhileDisabled++;
      return;
    }
    let badCrc = false;
    if (this.#badCrcNext > 0) {
      this.#badCrcNext--;
      badCrc = true;
    }
    if (!this.#accept(buf, off, badCrc)) {
      stats.rxFiltered++;
      return;
    }
    const stored = len + 4; // the FCS is kept in the buffer (DS 7.2.2)
    const maxLen = r[MAMXFLL] | (r[MAMXFLH] << 8);
    if ((r[MACON3] & MACON3_HFRMEN) === 0 && stored > maxLen) {
      stats.rxTooLong++;
      return;
    }
    const start = r[ERXSTL] | (r[ERXSTH] << 8);
    const end = r[ERXNDL] | (r[ERXNDH] << 8);
    const size = end - start + 1;
    const w = this.#rxWrite;
    const rd = this.#rxRdpt;
    // Free space: the MAC writes up to, not including, ERXRDPT (DS 7.2.4).
    const free = rd >= w ? rd - w : size - (w - rd);
    const need = 6 + stored + (stored & 1);
    if (need > free || r[EPKTCNT] === 255) {
      stats.rxOverflow++;
      r[EIR] |= EIR_RXERIF;
      this.#updateInt();
      return;
    }
    stats.rxFrames++;
    let next = w + need;
    if (next > end) next -= size;
    let status = RSV_RECEIVED_OK;
    if (badCrc) status = (status & ~RSV_RECEIVED_OK) | RSV_CRC_ERROR;
    if ((buf[off] & 1) !== 0) status |= buf[off] === 0xff && macBroadcast(buf, off) ? RSV_BROADCAST : RSV_MULTICAST;
    const type = (buf[off + 12] << 8) | buf[off + 13];
    if (type > 1500) status |= RSV_LENGTH_OUT_OF_RANGE; // DS table 7-3: set for every type field
    if (type === 0x8100) status |= RSV_VLAN;
    if (type === 0x8808) status |= RSV_CONTROL;
    let hdrNext = next;
    let hdrCount = stored;
    if ((rd & 1) === 0 || this.#corruptNext > 0) {
      // Errata #14 (or a test's corruption): the header written is garbage.
      if (this.#corruptNext > 0) this.#corruptNext--;
      stats.rxCorrupted++;
      hdrNext = (next + 0x0aab) & 0x1fff;
      hdrCount = stored ^ 0x5a5a;
    }
    const mem = this.mem;
    let p = w;
    p = this.#put(p, hdrNext & 0xff, start, end);
    p = this.#put(p, hdrNext >> 8, start, end);
    p = this.#put(p, hdrCount & 0xff, start, end);
    p = this.#put(p, hdrCount >> 8, start, end);
    p = this.#put(p, status & 0xff, start, end);
    p = this.#put(p, status >> 8, start, end);
    // The frame, then its FCS, wrapping at ERXND.
    const first = end - p + 1;
    if (len <= first) copyBytes(mem, p, buf, off, len);
    else {
      copyBytes(mem, p, buf, off, first);
      copyBytes(mem, start, buf, off + first, len - first);
    }
    p += len;
    if (p > end) p -= size;
    let fcs = crc32(buf, off, len);
    if (badCrc) fcs ^= 1;
    p = this.#put(p, fcs & 0xff, start, end);
    p = this.#put(p, (fcs >>> 8) & 0xff, start, end);
    p = this.#put(p, (fcs >>> 16) & 0xff, start, end);
    this.#put(p, fcs >>> 24, start, end);
    this.#rxWrite = next;
    r[EPKTCNT]++;
    this.#updateInt();
  }

  /** One byte into the ring at p; the next address, wrapping ERXND -> ERXST. */
  #put(p: number, b: number, start: number, end: number): number {
    this.mem[p] = b;
    return p === end ? start : p + 1;
  }

  /** The receive filters of ERXFCON (DS 8): OR of the enabled ones, or AND with ANDOR. */
  #accept(buf: Uint8Array, off: number, badCrc: boolean): boolean {
    const r = this.#regs;
    const f = r[ERXFCON];
    if (badCrc && (f & ERXFCON_CRCEN) !== 0) return false;
    const filters = f & (ERXFCON_UCEN | ERXFCON_PMEN | ERXFCON_MPEN | ERXFCON_HTEN | ERXFCON_MCEN | ERXFCON_BCEN);
    if (filters === 0) return true; // every filter off: promiscuous (DS 8.0)
    let matched = 0;
    if ((f & ERXFCON_UCEN) !== 0 && buf[off] === r[MAADR1] && buf[off + 1] === r[MAADR2] && buf[off + 2] === r[MAADR3] &&
        buf[off + 3] === r[MAADR4] && buf[off + 4] === r[MAADR5] && buf[off + 5] === r[MAADR6]) matched |= ERXFCON_UCEN;
    const bcast = macBroadcast(buf, off);
    if ((f & ERXFCON_BCEN) !== 0 && bcast) matched |= ERXFCON_BCEN;
    if ((f & ERXFCON_MCEN) !== 0 && (buf[off] & 1) !== 0 && !bcast) matched |= ERXFCON_MCEN;
    if ((f & ERXFCON_HTEN) !== 0) {
      const bit = enc28j60HashBit(buf, off);
      if ((r[EHT0 + (bit >> 3)] & (1 << (bit & 7))) !== 0) matched |= ERXFCON_HTEN;
    }
    // Pattern match and magic packet are not modelled (errata #18 left out): they never match.
    if ((f & ERXFCON_ANDOR) !== 0) return matched === filters;
    return matched !== 0;
  }
}

function macBroadcast(buf: Uint8Array, off: number): boolean {
  return (buf[off] & buf[off + 1] & buf[off + 2] & buf[off + 3] & buf[off + 4] & buf[off + 5]) === 0xff;
}

/**
 * The floor: the least chip-select frames and bytes one frame on its own needs to be
 * received or sent, learning that it arrived or was sent and acknowledging the interrupt
 * included; a register access the driver's bookkeeping makes unnecessary (a read of what it
 * knows, a write of what the chip already holds) is left out.
 * Every command but RBM/WBM is one chip-select frame of its own (DS 4.2: CS must rise after
 * each), a two-byte one (opcode, data) for ETH registers.
 *
 * Receive (DS 7.2.3, 7.2.4; errata #6, #14): the MAC stores frameLen + 4 bytes (the FCS) at
 * an even address, so s = frameLen + 4 rounded up to even bytes follow the 6-byte header.
 * EPKTCNT is in bank 1, ERXRDPT in bank 0: a frame needs both, so two bank switches.
 *   1. BFS ECON1.BSEL0 (to bank 1)                         1 frame, 2 bytes
 *   2. RCR EPKTCNT (a frame is there; PKTIF is unreliable,  1 frame, 2 bytes
 *      errata #6; ERXWRPT would be two reads that may tear)
 *   3. RBM: opcode, next pointer + RSV (6), the s bytes     1 frame, 7 + s bytes
 *      (reading the FCS and pad leaves ERDPT on the next frame: cheaper than rewriting it)
 *   4. BFS ECON2.PKTDEC (the acknowledgement: INT follows  1 frame, 2 bytes
 *      EPKTCNT)
 *   5. BFC ECON1.BSEL0 (to bank 0)                         1 frame, 2 bytes
 *   6. WCR ERXRDPTL, WCR ERXRDPTH (odd, frees the space:    2 frames, 4 bytes
 *      the completion)
 *   = 7 frames, s + 19 bytes.
 * Transmit (DS 7.1, 12.1.3), at the ETXST the chip holds; ETXND rewritten only when the
 * length changes (bookkeeping: a stream of full-size frames never writes it):
 *   1. WCR EWRPTH (back to ETXST: a write that ends on a   1 frame, 2 bytes
 *      256-byte boundary from ETXST leaves EWRPTL right;
 *      the padding, 21 bytes for a full frame, not counted)
 *   2. WBM: opcode, control byte, frameLen bytes           1 frame, 2 + frameLen bytes
 *   3. BFS ECON1.TXRTS                                     1 frame, 2 bytes
 *   4. RCR EIR (TXIF: sent, the buffer free again)         1 frame, 2 bytes
 *   5. BFC EIR.TXIF (the acknowledgement: INT stays low    1 frame, 2 bytes
 *      while it is set)
 *   = 5 frames, frameLen + 10 bytes.
 */
export function enc28j60SpiFloor(frameLen: number): { rx: { frames: number; bytes: number }; tx: { frames: number; bytes: number } } {
  const stored = frameLen + 4;
  const s = stored + (stored & 1);
  return { rx: { frames: 7, bytes: s + 19 }, tx: { frames: 5, bytes: frameLen + 10 } };
}
