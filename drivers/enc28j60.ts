// A driver for the Microchip ENC28J60 (10BASE-T MAC + PHY behind SPI) over ECMA-419's
// embedded:io/spi and embedded:io/digital, written from the datasheet (DS39662E, "DS n.n")
// and the rev B7 silicon errata (DS80349C, "errata #n").
//
//   open:  SPI/Digital instances and every buffer and view; reset (RESET pin if wired,
//          else SRC) and a 1 ms wait through the device's timer (errata #2: CLKRDY cannot be
//          trusted after SRC), carrier off until the chip is set up.
//   INT:   onReadable only schedules NAPI.
//   poll:  EPKTCNT (errata #6: the PKTIF bit as read is not to be trusted; as an interrupt
//          source it is, so the INT pin tells whether EIR or EPKTCNT needs reading at
//          all), EIR when the pin says so (link, TX completion, RX overflow), up to `budget` frames, each read header + body in one
//          chip-select frame (RBM, CS held) straight up to the next frame, PKTDEC per frame,
//          ERXRDPT moved once per poll to an odd address (errata #14). INT is a level: a poll
//          that completes re-polls itself while the pin is still low, since no new edge comes,
//          unless IDLE_POLLS_MAX polls in a row did nothing (a stuck source): then the timer's
//          health check polls while the pin stays low.
//   TX:    two transmit areas: the frame on the wire (TXRTS) and the next, written while
//          the first is sent (EWRPT, WBM of control byte + frame in one write); TXIF frees
//          the first, points ETXST/ETXND at the next and sets TXRTS for it (TXRTS is one
//          transmission, DS 7.1), and wakes the queue; TXERIF pulses TXRST (errata #12) and
//          reads the TSV to retry a late collision (errata #13, #15).
//   timer: the reset wait; then every HEALTH_MS a check that the chip was not reset under
//          us (EIE lost) and a TX watchdog.
//
// Why two transmit areas: with one, the ~0.6 ms SPI write of a full frame at 20 MHz and its
// 1.2 ms on the wire run one after the other (simulated TCP send 5.9 Mbit/s, bench/spi.ts);
// with the next frame written while one is on the wire they overlap (8.7 Mbit/s). The price:
// the receive ring shrinks from 6.6 KB to 5 KB (4.3 to 3.3 full frames), enough while the
// host drains it at 20 MHz faster than 10 Mbit/s fills it; and 1.5 more chip-select frames
// per frame of a back-to-back stream (ETXST and ETXND move between the areas).

import { devKfreeSkbIrq, devTxError, napiComplete, napiSchedule, netifReceiveSkb, netifStopQueue, netifWakeQueue } from "../src/core/dev";
import { copyBytes } from "../src/core/bytes";
import { SKB_DROP } from "../src/core/drop";
import { countDrop, kfreeSkbReason } from "../src/core/free";
import { netifCarrierOff, netifCarrierOn, registerNetdev, type DeviceOptions } from "../src/core/link";
import type { Net } from "../src/core/net";
import { IFF_PROMISC, NETDEV_TX_BUSY, NETDEV_TX_OK, type Napi, type NetDevice, type NetDeviceOps } from "../src/core/netdevice";
import type { SkBuff } from "../src/core/skb";
import type { Timer } from "../src/core/timer";
import type { DigitalIo, SpiChipWiring, SpiIo } from "./spi-io";

// Registers as bank * 32 + address; EIE..ECON1 (1Bh-1Fh) are in every bank (DS table 3-1).
const EIE = 0x1b, EIR = 0x1c, ECON2 = 0x1e, ECON1 = 0x1f;
const ERDPTL = 0x00, EWRPTL = 0x02, ETXSTL = 0x04, ETXNDL = 0x06, ERXSTL = 0x08, ERXNDL = 0x0a, ERXRDPTL = 0x0c;
const ERXFCON = 0x38, EPKTCNT = 0x39;
const MACON1 = 0x40, MACON3 = 0x42, MACON4 = 0x43, MABBIPG = 0x44, MAIPGL = 0x46, MAIPGH = 0x47, MAMXFLL = 0x4a;
const MICMD = 0x52, MIREGADR = 0x54, MIWRL = 0x56, MIWRH = 0x57, MIRDL = 0x58, MIRDH = 0x59;
const MAADR5 = 0x60, MAADR6 = 0x61, MAADR3 = 0x62, MAADR4 = 0x63, MAADR1 = 0x64, MAADR2 = 0x65, MISTAT = 0x6a, EREVID = 0x72;

const EIE_INTIE = 0x80, EIE_PKTIE = 0x40, EIE_LINKIE = 0x10, EIE_TXIE = 0x08, EIE_TXERIE = 0x02, EIE_RXERIE = 0x01;
const EIR_LINKIF = 0x10, EIR_TXIF = 0x08, EIR_TXERIF = 0x02, EIR_RXERIF = 0x01;
const ECON2_PKTDEC = 0x40;
const ECON1_TXRST = 0x80, ECON1_RXRST = 0x40, ECON1_TXRTS = 0x08, ECON1_RXEN = 0x04;
const ERXFCON_UCEN = 0x80, ERXFCON_CRCEN = 0x20, ERXFCON_MCEN = 0x02, ERXFCON_BCEN = 0x01;
const MACON1_TXPAUS = 0x08, MACON1_RXPAUS = 0x04, MACON1_MARXEN = 0x01;
const MACON3_PADCFG0 = 0x20, MACON3_TXCRCEN = 0x10, MACON3_FULDPX = 0x01;
const MACON4_DEFER = 0x40;
const MICMD_MIIRD = 0x01, MISTAT_BUSY = 0x01;
const PHCON1 = 0x00, PHCON2 = 0x10, PHSTAT2 = 0x11, PHIE = 0x12, PHIR = 0x13;
const PHCON1_PDPXMD = 0x0100, PHCON2_HDLDIS = 0x0100, PHSTAT2_LSTAT = 0x0400, PHIE_PGEIE = 0x0002, PHIE_PLNKIE = 0x0010;
const OP_RCR = 0x00, OP_RBM = 0x3a, OP_WCR = 0x40, OP_WBM = 0x7a, OP_BFS = 0x80, OP_BFC = 0xa0, OP_SRC = 0xff;
/** receive status vector bit 23 (DS table 7-3): bit 7 of the RSV's third byte */
const RSV2_RECEIVED_OK = 0x80;
/** transmit status vector bit 29 (DS table 7-1), in the TSV's fourth byte */
const TSV3_LATE_COLLISION = 0x20;

const EIE_ALL = EIE_INTIE | EIE_PKTIE | EIE_LINKIE | EIE_TXIE | EIE_TXERIE | EIE_RXERIE;
const ETH_HLEN = 14;
/** the largest frame the stack sends (no FCS: the MAC appends it) */
const TX_FRAME_MAX = 1514;
/** MAMXFL: 1518 bytes with the FCS (DS 6.5) */
const MAX_FRAMELEN = 1518;
/** byte granularity of the SPI views (reads exact through a tail view; writes round up) */
const VIEW_STEP = 32;
/**
 * Buffer layout: the receive ring from 0000h (errata #5), two transmit areas at the top,
 * each a control byte, a frame and its TSV (7), or a write rounded up to VIEW_STEP (DS 7.1).
 * 600h each: the areas' ETXST, ETXND (same length) and EWRPT differ in their high byte
 * only, so switching areas costs one WCR per pointer.
 */
const TX_AREA = 0x600;
const TXST_A = 0x2000 - 2 * TX_AREA;
const TXST_B = TXST_A + TX_AREA;
const RXND = TXST_A - 1;
const RX_RING_SIZE = RXND + 1;
/** errata #2: wait at least 1 ms after a reset before touching MAC, MII or PHY registers */
const RESET_WAIT_MS = 1;
const HEALTH_MS = 100;
/** polls in a row with INT low and nothing done before poll stops re-scheduling itself */
const IDLE_POLLS_MAX = 3;
/** a frame at 10 Mbit/s takes 1.2 ms; half duplex may defer (DS 9.1), so allow plenty */
const TX_TIMEOUT_MS = 50;
/** polls of MISTAT.BUSY (10.24 us, DS 3.3.1; about 1.2 us each at 20 MHz) before giving up */
const MII_POLLS_MAX = 64;

const STATE_DOWN = 0;
const STATE_RESET_WAIT = 1;
const STATE_UP = 2;

export interface Enc28j60Options {
  /** full duplex (both ends set by hand: the chip has no autonegotiation, DS 9.0); default half */
  fullDuplex?: boolean;
  /** retransmissions of a frame aborted by a late collision (errata #13); default 16 */
  txRetries?: number;
}

/** What the driver counted, besides dev.stats. */
export class Enc28j60Stats {
  /** resets the driver issued (open, recovery) */
  resets = 0;
  /** chip resets found by the health check (registers back at their defaults) */
  chipResetsFound = 0;
  /** EIR.RXERIF: frames the chip dropped for a full ring or EPKTCNT at 255 */
  rxOverflows = 0;
  /** the ring read again from its start after a header that did not fit it */
  rxResyncs = 0;
  /** frames longer than the MTU, skipped */
  rxOversize = 0;
  /** frames with a bad CRC or length the MAC flagged, skipped */
  rxErrors = 0;
  /** frames skipped for want of an skb */
  rxNoSkb = 0;
  /** TXRST pulses after a transmit error (errata #12) */
  txLogicResets = 0;
  /** late collisions retried (errata #13) */
  txRetries = 0;
  /** frames given up after a transmit error */
  txAborts = 0;
  /** frames still unsent after TX_TIMEOUT_MS */
  txTimeouts = 0;
  linkChanges = 0;
  /** bytes written past a frame's end to keep one SPI call per frame */
  txOverwriteBytes = 0;
  /** MII operations still busy after MII_POLLS_MAX polls */
  miiTimeouts = 0;
  /** times poll stopped re-polling: INT stayed low through IDLE_POLLS_MAX polls that did nothing */
  intStuck = 0;
  /** polls the health check started: INT low with no poll pending (a stuck source, a lost edge) */
  intLowPolls = 0;
  polls = 0;
}

export class Enc28j60Driver implements NetDeviceOps {
  readonly wiring: SpiChipWiring;
  readonly stats = new Enc28j60Stats();
  readonly #fullDuplex: boolean;
  readonly #txRetriesMax: number;
  readonly #irq: () => void;
  #net: Net | null = null;
  #dev: NetDevice | null = null;
  #timer: Timer | null = null;
  #state = STATE_DOWN;

  // made at open
  #spi: SpiIo | null = null;
  #int: DigitalIo | null = null;
  #reset: DigitalIo | null = null;
  /** one-byte command (SRC) */
  #cmd1 = new Uint8Array(0);
  /** a two-byte command: RCR of an ETH register, WCR, BFS, BFC */
  #cmd2 = new Uint8Array(0);
  /** RCR of a MAC or MII register: opcode, dummy, value (DS figure 4-4) */
  #cmd3 = new Uint8Array(0);
  /** RBM and the next-packet pointer and RSV (6 bytes) */
  #rxHeader = new Uint8Array(0);
  /** RBM and the TSV (7 bytes) */
  #tsv = new Uint8Array(0);
  #rxStage = new Uint8Array(0);
  /** views of #rxStage, VIEW_STEP * k bytes long */
  #rxMajor: Uint8Array[] = [];
  /** views of a VIEW_STEP-byte buffer, t bytes long: the rest of a frame read exactly */
  #rxTail: Uint8Array[] = [];
  /** WBM opcode, control byte, frame */
  #txStage = new Uint8Array(0);
  /** views of #txStage, VIEW_STEP * k bytes long */
  #txViews: Uint8Array[] = [];
  /** a view of #txStage: the opcode and a whole transmit area */
  #txAreaView = new Uint8Array(0);

  // chip state the driver keeps
  /** ECON1.BSEL as last set */
  #bank = 0;
  /** the next frame in the receive ring (ERDPT stays on it between polls) */
  #nextPkt = 0;
  /** #nextPkt moved since ERXRDPT was last written */
  #rxMoved = false;
  /** frames EPKTCNT said are there and this poll has not read */
  #pending = 0;
  /** frames this poll took (its work against the budget) */
  #work = 0;
  /** EWRPT, ETXST and ETXND as the chip has them (-1: unknown) */
  #ewrpt = -1;
  #etxst = -1;
  #etxnd = -1;
  /** the frame on the wire (TXRTS set for it), in the area at #etxst */
  #txSkb: SkBuff | null = null;
  /** the frame written into the other area while #txSkb is on the wire, and where it ends */
  #txNext: SkBuff | null = null;
  #txNextSt = 0;
  #txNextNd = 0;
  #txStartedAt = 0;
  #txRetriesLeft = 0;
  /** this poll freed the frame in flight (progress, as a frame read is) */
  #txFreed = false;
  /** polls in a row that found INT still low and did nothing */
  #idlePolls = 0;
  /**
   * A link state for poll to report (1 up, 0 down, -1 nothing): the set-up (from the timer)
   * and the link interrupt only note it, so the announcements carrier on sends (gratuitous
   * ARP, IGMP) start from poll's shallow frame, not under the timer's and the set-up's.
   */
  #carrier = -1;

  constructor(wiring: SpiChipWiring, options: Enc28j60Options = {}) {
    this.wiring = wiring;
    this.#fullDuplex = options.fullDuplex ?? false;
    this.#txRetriesMax = options.txRetries ?? 16;
    this.#irq = () => this.#interrupt();
  }

  /** Register the interface with the stack (down until devOpen). */
  register(net: Net, name: string, mac: Uint8Array, options: DeviceOptions = {}): NetDevice {
    this.#net = net;
    const mtu = options.mtu ?? 1500;
    if (mtu > TX_FRAME_MAX - ETH_HLEN) throw new RangeError(`ENC28J60: mtu ${mtu} is above ${TX_FRAME_MAX - ETH_HLEN}`);
    const dev = registerNetdev(net, name, this, mac, options);
    this.#dev = dev;
    this.#timer = net.timers.create(() => this.#onTimer(), 0);
    return dev;
  }

  get state(): number {
    return this.#state;
  }

  // ---------------------------------------------------------------- open, stop

  open(dev: NetDevice): void {
    const w = this.wiring;
    this.#spi = new w.spi.io(w.spi);
    const intIo = w.interrupt.io;
    this.#int = new intIo({ pin: w.interrupt.pin, mode: intIo.InputPullUp, edge: intIo.Falling, onReadable: this.#irq });
    if (w.reset !== undefined) {
      const rio = w.reset.io;
      this.#reset = new rio({ pin: w.reset.pin, mode: rio.Output });
      this.#reset.write(1);
    }
    this.#cmd1 = new Uint8Array(1);
    this.#cmd2 = new Uint8Array(2);
    this.#cmd3 = new Uint8Array(3);
    this.#rxHeader = new Uint8Array(7);
    this.#tsv = new Uint8Array(8);
    const majors = ((MAX_FRAMELEN + 1) / VIEW_STEP) | 0;
    this.#rxStage = new Uint8Array(majors * VIEW_STEP);
    this.#rxMajor = [this.#rxStage];
    for (let k = 1; k <= majors; k++) this.#rxMajor.push(new Uint8Array(this.#rxStage.buffer, 0, k * VIEW_STEP));
    const tail = new Uint8Array(VIEW_STEP);
    this.#rxTail = [tail];
    for (let t = 1; t < VIEW_STEP; t++) this.#rxTail.push(new Uint8Array(tail.buffer, 0, t));
    const txViews = Math.ceil((2 + TX_FRAME_MAX) / VIEW_STEP);
    this.#txStage = new Uint8Array(1 + TX_AREA);
    this.#txViews = [this.#txStage];
    for (let k = 1; k <= txViews; k++) this.#txViews.push(new Uint8Array(this.#txStage.buffer, 0, k * VIEW_STEP));
    this.#txAreaView = this.#txStage;
    netifCarrierOff(dev);
    this.#startReset();
  }

  stop(dev: NetDevice): void {
    const net = dev.net;
    if (this.#timer !== null) net.delTimer(this.#timer);
    if (this.#state === STATE_UP) {
      this.#bfc(EIE, EIE_INTIE);
      this.#bfc(ECON1, ECON1_RXEN);
    }
    this.#state = STATE_DOWN;
    if (this.#txSkb !== null) kfreeSkbReason(net, this.#txSkb, SKB_DROP.SHUTDOWN);
    if (this.#txNext !== null) kfreeSkbReason(net, this.#txNext, SKB_DROP.SHUTDOWN);
    this.#txSkb = this.#txNext = null;
    if (this.#spi !== null) this.#spi.close();
    if (this.#int !== null) this.#int.close();
    if (this.#reset !== null) this.#reset.close();
    this.#spi = this.#int = this.#reset = null;
    netifCarrierOff(dev);
  }

  // ---------------------------------------------------------------- reset and set-up

  /** Reset the chip (pin, else SRC) and set it up after the errata's wait. */
  #startReset(): void {
    const dev = this.#dev as NetDevice;
    this.stats.resets++;
    this.#state = STATE_RESET_WAIT;
    this.#carrier = -1;
    netifCarrierOff(dev);
    if (this.#txSkb !== null) devTxError(this.#txSkb);
    if (this.#txNext !== null) devTxError(this.#txNext);
    this.#txSkb = this.#txNext = null;
    netifStopQueue(dev);
    const pin = this.#reset;
    if (pin !== null) {
      // RESET low for at least 400 ns (DS 11.1): two writes are longer than that.
      pin.write(0);
      pin.write(1);
    } else {
      const c = this.#cmd1;
      c[0] = OP_SRC;
      const spi = this.#spi as SpiIo;
      spi.transfer(c);
      spi.flush(true);
    }
    this.#bank = 0;
    const net = this.#net as Net;
    // Errata #2: after SRC CLKRDY is set at once though the chip is not ready; wait 1 ms
    // (after the pin, the oscillator start-up timer's 300 us fit in it too).
    net.modTimer(this.#timer as Timer, net.now() + RESET_WAIT_MS);
  }

  /**
   * The chip after its reset wait: buffers, MAC, PHY, interrupts, then up. In parts, each a
   * small frame: this runs from the timer, and XS counts every slot of a frame under the
   * register helpers' chain.
   */
  #setUp(): void {
    if (this.#rcr(EREVID) === 0) {
      // Nothing answers (or the clock is not running): try again from a reset.
      this.#startReset();
      return;
    }
    this.#setUpBuffers();
    this.#setUpMac();
    this.#setUpPhy();
    this.#bfc(EIR, 0xff);
    this.#wcr(EIE, EIE_ALL);
    this.#bfs(ECON1, ECON1_RXEN);
    this.#state = STATE_UP;
    this.#goUp();
  }

  /** The receive ring at 0000h (errata #5), ERXRDPT odd (errata #14), ERDPT on the first frame; the first TX area. */
  #setUpBuffers(): void {
    this.#wcr16(ERXSTL, 0);
    this.#wcr16(ERXNDL, RXND);
    this.#wcr16(ERXRDPTL, RXND);
    this.#wcr16(ERDPTL, 0);
    this.#wcr16(ETXSTL, TXST_A);
    this.#etxst = TXST_A;
    this.#ewrpt = this.#etxnd = -1;
    this.#nextPkt = 0;
    this.#rxMoved = false;
    this.#pending = 0;
    this.#idlePolls = 0;
  }

  /** MAC set-up (DS 6.5): the filter, receive on, CRC and padding to 60 bytes by the MAC, duplex, our address. */
  #setUpMac(): void {
    const dev = this.#dev as NetDevice;
    this.#wcr(ERXFCON, this.#rxFilter(dev));
    const full = this.#fullDuplex;
    this.#wcr(MACON1, MACON1_MARXEN | (full ? MACON1_TXPAUS | MACON1_RXPAUS : 0));
    this.#wcr(MACON3, MACON3_PADCFG0 | MACON3_TXCRCEN | (full ? MACON3_FULDPX : 0));
    this.#wcr(MACON4, full ? 0 : MACON4_DEFER);
    this.#wcr16(MAMXFLL, MAX_FRAMELEN);
    this.#wcr(MABBIPG, full ? 0x15 : 0x12);
    this.#wcr(MAIPGL, 0x12);
    this.#wcr(MAIPGH, full ? 0 : 0x0c);
    const a = dev.addr;
    this.#wcr(MAADR1, a[0]);
    this.#wcr(MAADR2, a[1]);
    this.#wcr(MAADR3, a[2]);
    this.#wcr(MAADR4, a[3]);
    this.#wcr(MAADR5, a[4]);
    this.#wcr(MAADR6, a[5]);
  }

  /** PHY (DS 6.6): the duplex to match MACON3; half-duplex loopback off (PHCON2.HDLDIS); link change interrupts (DS 12.1.5). */
  #setUpPhy(): void {
    this.#phyWrite(PHCON1, this.#fullDuplex ? PHCON1_PDPXMD : 0);
    this.#phyWrite(PHCON2, PHCON2_HDLDIS);
    this.#phyWrite(PHIE, PHIE_PGEIE | PHIE_PLNKIE);
    this.#phyRead(PHIR);
  }

  /** Up: the link for poll to report, the health timer, the queue, a poll if anything waits. */
  #goUp(): void {
    const dev = this.#dev as NetDevice;
    const link = this.#phyRead(PHSTAT2);
    if (link >= 0 && (link & PHSTAT2_LSTAT) !== 0) this.#carrier = 1;
    const net = this.#net as Net;
    net.modTimer(this.#timer as Timer, net.now() + HEALTH_MS);
    if (this.#txSkb === null) netifWakeQueue(dev);
    if (this.#carrier >= 0 || (this.#int as DigitalIo).read() === 0) napiSchedule(dev.napi);
  }

  #onTimer(): void {
    const state = this.#state;
    if (state === STATE_RESET_WAIT) {
      this.#setUp();
      return;
    }
    if (state !== STATE_UP) return;
    const net = this.#net as Net;
    // A chip reset under us (a brown-out, the RESET line) leaves EIE at 0: set it up again.
    if (this.#rcr(EIE) !== EIE_ALL) {
      this.stats.chipResetsFound++;
      this.#startReset();
      return;
    }
    if (this.#txSkb !== null && net.now() - this.#txStartedAt > TX_TIMEOUT_MS) {
      // The transmit logic is stuck (errata #12 when an abort went unseen): reset it, drop the frame.
      this.stats.txTimeouts++;
      this.#txLogicReset();
      this.#txGiveUp(this.#dev as NetDevice);
    }
    const napi = (this.#dev as NetDevice).napi;
    if (!napi.scheduled && (this.#int as DigitalIo).read() === 0) {
      this.stats.intLowPolls++;
      napiSchedule(napi);
    }
    net.modTimer(this.#timer as Timer, net.now() + HEALTH_MS);
  }

  #rxFilter(dev: NetDevice): number {
    // No address filter at all is promiscuous (DS 8.0); CRC checked either way.
    if ((dev.flags & IFF_PROMISC) !== 0) return ERXFCON_CRCEN;
    return ERXFCON_UCEN | ERXFCON_CRCEN | ERXFCON_BCEN | (dev.mcCount > 0 ? ERXFCON_MCEN : 0);
  }

  setRxMode(dev: NetDevice): void {
    if (this.#state === STATE_UP) this.#wcr(ERXFCON, this.#rxFilter(dev));
  }

  // ---------------------------------------------------------------- interrupt, poll

  #interrupt(): void {
    if (this.#state === STATE_UP) napiSchedule((this.#dev as NetDevice).napi);
  }

  poll(napi: Napi, budget: number): number {
    const dev = napi.dev;
    this.stats.polls++;
    this.#work = 0;
    if (this.#state !== STATE_UP) {
      napiComplete(napi);
      return 0;
    }
    // The INT pin (a free read) says whether anything but the frames is worth an SPI read:
    // with a frame in flight EIR first (TXIF), EPKTCNT only if the pin stays low; else
    // EPKTCNT first, EIR only if the pin stays low once the frames are read.
    const pin = this.#int as DigitalIo;
    let eirRead = false;
    this.#pending = 0;
    this.#txFreed = false;
    if (this.#txSkb !== null) {
      this.#events(dev);
      eirRead = true;
      if (this.#state === STATE_UP && pin.read() === 0) this.#pending = this.#rcr(EPKTCNT);
    } else {
      this.#pending = this.#rcr(EPKTCNT);
    }
    for (let skb = this.#rxNext(dev, budget); skb !== null; skb = this.#rxNext(dev, budget)) netifReceiveSkb(skb);
    this.#rxFreeSpace();
    if (!eirRead && this.#state === STATE_UP && pin.read() === 0) this.#events(dev);
    const carrier = this.#carrier;
    if (carrier >= 0) {
      this.#carrier = -1;
      if (carrier === 1) netifCarrierOn(dev);
      else netifCarrierOff(dev);
    }
    const work = this.#work;
    if (work < budget) {
      napiComplete(napi);
      // INT is a level: while anything enabled is still pending it stays low and no new
      // falling edge will come, so poll again; but not for ever when polls clear nothing
      // (a stuck source): after IDLE_POLLS_MAX the health check looks, every HEALTH_MS.
      if (this.#state === STATE_UP && pin.read() === 0) {
        if (work > 0 || this.#txFreed) this.#idlePolls = 0;
        else this.#idlePolls++;
        if (this.#idlePolls < IDLE_POLLS_MAX) napiSchedule(napi);
        else this.stats.intStuck++;
      } else this.#idlePolls = 0;
    }
    return work;
  }

  /** Link, transmit completion and overflow from one read of EIR. */
  #events(dev: NetDevice): void {
    const eir = this.#rcr(EIR);
    if ((eir & EIR_LINKIF) !== 0) this.#linkChange(dev);
    if ((eir & (EIR_TXIF | EIR_TXERIF)) !== 0) this.#txDone(dev, eir);
    if ((eir & EIR_RXERIF) !== 0) {
      // The chip dropped frames (ring full or 255 pending); it does not say how many.
      this.#bfc(EIR, EIR_RXERIF);
      this.stats.rxOverflows++;
      dev.stats.rxMissedErrors++;
      dev.stats.rxErrors++;
    }
  }

  /** The next frame from the ring into an skb, or null when none is left or the budget is spent. */
  #rxNext(dev: NetDevice, budget: number): SkBuff | null {
    const spi = this.#spi as SpiIo;
    while (this.#pending > 0 && this.#work < budget) {
      this.#pending--;
      this.#work++;
      const cur = this.#nextPkt;
      // RBM from ERDPT (on this frame): next-packet pointer, RSV (DS 7.2.2), chip select held.
      const h = this.#rxHeader;
      h[0] = OP_RBM;
      spi.transfer(h);
      const next = h[1] | (h[2] << 8);
      const count = h[3] | (h[4] << 8);
      let end = cur + 6 + count;
      end += end & 1;
      if (end > RXND) end -= RX_RING_SIZE;
      if (next !== end || count > MAX_FRAMELEN || count < 4) {
        // A header that does not fit the ring (corrupted, errata #14): start the ring over.
        spi.flush(true);
        this.#rxResync(dev);
        return null;
      }
      const len = count - 4;
      let drop = false;
      if ((h[5] & RSV2_RECEIVED_OK) === 0 || len < ETH_HLEN) {
        this.stats.rxErrors++;
        dev.stats.rxErrors++;
        dev.stats.rxCrcErrors++;
        countDrop(dev.net, SKB_DROP.RX_HW_ERROR);
        drop = true;
      } else if (len > dev.mtu + ETH_HLEN) {
        this.stats.rxOversize++;
        dev.stats.rxLengthErrors++;
        dev.stats.rxErrors++;
        countDrop(dev.net, SKB_DROP.RX_HW_ERROR);
        drop = true;
      }
      const skb = drop ? null : dev.net.pool.alloc();
      if (skb === null) {
        if (!drop) {
          this.stats.rxNoSkb++;
          dev.stats.rxDropped++;
          countDrop(dev.net, SKB_DROP.NOMEM);
        }
        // Skip the body: ERDPT to the next frame.
        spi.flush(true);
        this.#wcr16(ERDPTL, next);
        this.#rxConsumed(next);
        continue;
      }
      // The body, FCS and pad exactly, so ERDPT ends on the next frame: whole VIEW_STEP
      // blocks, then the rest through a tail view, in the same chip-select frame.
      const body = (next - cur - 6 + RX_RING_SIZE) % RX_RING_SIZE;
      const major = body - (body % VIEW_STEP);
      const rest = body - major;
      if (major > 0) spi.read(this.#rxMajor[major / VIEW_STEP]);
      if (rest > 0) spi.read(this.#rxTail[rest]);
      spi.flush(true);
      const pool = dev.net.pool;
      if (len <= major) copyBytes(pool.buf, skb.data, this.#rxStage, 0, len);
      else {
        copyBytes(pool.buf, skb.data, this.#rxStage, 0, major);
        copyBytes(pool.buf, skb.data + major, this.#rxTail[0], 0, len - major);
      }
      skb.tail = skb.data + len;
      skb.dev = dev;
      this.#rxConsumed(next);
      return skb;
    }
    return null;
  }

  /** A frame read: PKTDEC (DS 7.2.4); ERXRDPT follows once per poll. */
  #rxConsumed(next: number): void {
    this.#bfs(ECON2, ECON2_PKTDEC);
    this.#nextPkt = next;
    this.#rxMoved = true;
  }

  /** Give the space read back to the MAC: ERXRDPT = next - 1, odd (errata #14). */
  #rxFreeSpace(): void {
    if (!this.#rxMoved || this.#state !== STATE_UP) return;
    this.#rxMoved = false;
    const n = this.#nextPkt;
    this.#wcr16(ERXRDPTL, n === 0 ? RXND : n - 1);
  }

  /** Start the receive ring over (DS 11.4, RXRST): what it held is lost, counted. */
  #rxResync(dev: NetDevice): void {
    this.stats.rxResyncs++;
    dev.stats.rxErrors++;
    dev.stats.rxDropped++;
    countDrop(dev.net, SKB_DROP.RX_HW_ERROR);
    this.#pending = 0;
    this.#bfc(ECON1, ECON1_RXEN);
    this.#bfs(ECON1, ECON1_RXRST);
    this.#bfc(ECON1, ECON1_RXRST);
    // DS 11.4 does not say RXRST clears EPKTCNT: count it down (at most 255, DS 7.2.4) so
    // that no frame of the old ring is read from the new one, and PKTIF lets INT go.
    let left = 0;
    while (left < 255 && this.#rcr(EPKTCNT) !== 0) {
      this.#bfs(ECON2, ECON2_PKTDEC);
      left++;
    }
    dev.stats.rxDropped += left > 1 ? left - 1 : 0;
    this.#wcr16(ERXSTL, 0);
    this.#wcr16(ERXNDL, RXND);
    this.#wcr16(ERXRDPTL, RXND);
    this.#wcr16(ERDPTL, 0);
    this.#nextPkt = 0;
    this.#rxMoved = false;
    this.#bfs(ECON1, ECON1_RXEN);
  }

  #linkChange(dev: NetDevice): void {
    this.stats.linkChanges++;
    this.#phyRead(PHIR); // clears PGIF, PLNKIF and so LINKIF (DS 12.1.5)
    const st = this.#phyRead(PHSTAT2);
    this.#carrier = st >= 0 && (st & PHSTAT2_LSTAT) !== 0 ? 1 : 0;
  }

  // ---------------------------------------------------------------- transmit

  startXmit(skb: SkBuff, dev: NetDevice): number {
    if (this.#state !== STATE_UP || this.#txNext !== null) {
      netifStopQueue(dev);
      return NETDEV_TX_BUSY;
    }
    const len = skb.len;
    if (len > TX_FRAME_MAX || len < ETH_HLEN) {
      devTxError(skb);
      return NETDEV_TX_OK;
    }
    if (this.#txSkb === null) {
      // Nothing on the wire: the area ETXST is on already, sent at once.
      const st = this.#etxst;
      this.#txWrite(skb, st, dev);
      this.#txSkb = skb;
      this.#txStart(st, st + len, dev);
      return NETDEV_TX_OK;
    }
    // A frame on the wire: this one into the other area (the buffer is dual port, DS 3.2;
    // ETXST, ETXND and TXRTS wait for TXIF), and the queue waits for a free area.
    const st = this.#etxst === TXST_A ? TXST_B : TXST_A;
    this.#txWrite(skb, st, dev);
    this.#txNext = skb;
    this.#txNextSt = st;
    this.#txNextNd = st + len;
    netifStopQueue(dev);
    return NETDEV_TX_OK;
  }

  /** EWRPT to the area, then one write of opcode, control byte and frame (DS 7.1). */
  #txWrite(skb: SkBuff, st: number, dev: NetDevice): void {
    if (this.#ewrpt !== st) this.#wcr16Changed(EWRPTL, st, this.#ewrpt);
    const len = skb.len;
    const stage = this.#txStage;
    stage[0] = OP_WBM;
    stage[1] = 0; // per-packet control byte: MACON3's padding and CRC (DS figure 7-1)
    copyBytes(stage, 2, dev.net.pool.buf, skb.data, len);
    // One write, rounded up: the extra bytes land in the area past ETXND (the TSV goes over
    // them). A write that would fill most of the area fills all of it, so that EWRPT ends on
    // the next area (or wraps 1FFFh -> 0000h, DS 3.2.3) and needs at most its high byte.
    const k = Math.ceil((2 + len) / VIEW_STEP);
    const view = k * VIEW_STEP >= TX_AREA ? this.#txAreaView : this.#txViews[k];
    this.stats.txOverwriteBytes += view.length - 2 - len;
    const spi = this.#spi as SpiIo;
    spi.write(view);
    spi.flush(true);
    this.#ewrpt = (st + view.length - 1) & 0x1fff;
  }

  /** ETXST and ETXND to the area (the bytes that changed), then TXRTS. */
  #txStart(st: number, nd: number, dev: NetDevice): void {
    if (this.#etxst !== st) this.#wcr16Changed(ETXSTL, st, this.#etxst);
    this.#etxst = st;
    if (this.#etxnd !== nd) this.#wcr16Changed(ETXNDL, nd, this.#etxnd);
    this.#etxnd = nd;
    this.#bfs(ECON1, ECON1_TXRTS);
    this.#txStartedAt = dev.net.now();
    this.#txRetriesLeft = this.#txRetriesMax;
  }

  /** The frame on the wire is done with: the one waiting in the other area goes next. */
  #txNextUp(dev: NetDevice): void {
    const skb = this.#txNext;
    if (skb !== null) {
      this.#txNext = null;
      this.#txSkb = skb;
      this.#txStart(this.#txNextSt, this.#txNextNd, dev);
    }
    netifWakeQueue(dev);
  }

  #txDone(dev: NetDevice, eir: number): void {
    if ((eir & EIR_TXERIF) !== 0) {
      this.#txLogicReset();
      if (this.#txSkb === null) return;
      // Errata #13, #15: a late collision shows only in the TSV (ESTAT.LATECOL is unreliable).
      if (this.#tsvLateCollision() && this.#txRetriesLeft > 0) {
        this.#txRetriesLeft--;
        this.stats.txRetries++;
        this.#bfs(ECON1, ECON1_TXRTS);
        this.#txStartedAt = dev.net.now();
        return;
      }
      this.#txGiveUp(dev);
      return;
    }
    this.#bfc(EIR, EIR_TXIF);
    const skb = this.#txSkb;
    if (skb === null) return;
    this.#txSkb = null;
    this.#txFreed = true;
    devKfreeSkbIrq(skb);
    this.#txNextUp(dev);
  }

  /** Errata #12: set and clear TXRST, then clear TXERIF (clearing TXRST may set it again). */
  #txLogicReset(): void {
    this.stats.txLogicResets++;
    this.#bfs(ECON1, ECON1_TXRST);
    this.#bfc(ECON1, ECON1_TXRST);
    this.#bfc(EIR, EIR_TXERIF | EIR_TXIF);
  }

  #txGiveUp(dev: NetDevice): void {
    this.stats.txAborts++;
    const skb = this.#txSkb;
    this.#txSkb = null;
    this.#txFreed = true;
    if (skb !== null) devTxError(skb);
    this.#txNextUp(dev);
  }

  /** The TSV after ETXND (DS 7.1): its late collision bit. ERDPT goes back to the ring after. */
  #tsvLateCollision(): boolean {
    this.#wcr16(ERDPTL, (this.#etxnd + 1) & 0x1fff);
    const t = this.#tsv;
    t[0] = OP_RBM;
    const spi = this.#spi as SpiIo;
    spi.transfer(t);
    spi.flush(true);
    this.#wcr16(ERDPTL, this.#nextPkt);
    return (t[1 + 3] & TSV3_LATE_COLLISION) !== 0;
  }

  // ---------------------------------------------------------------- SPI commands (DS 4.2)

  #select(reg: number): void {
    if (reg >= EIE && reg <= ECON1) return;
    const b = reg >> 5;
    const cur = this.#bank;
    if (b === cur) return;
    // BFS/BFC on ECON1 leave TXRTS and RXEN alone, which a WCR would overwrite.
    const set = b & ~cur;
    const clear = cur & ~b;
    if (clear !== 0) this.#cmd(OP_BFC | ECON1, clear);
    if (set !== 0) this.#cmd(OP_BFS | ECON1, set);
    this.#bank = b;
  }

  /** One two-byte command in its own chip-select frame; the byte the chip answered second. */
  #cmd(op: number, v: number): number {
    const c = this.#cmd2;
    c[0] = op;
    c[1] = v;
    const spi = this.#spi as SpiIo;
    spi.transfer(c);
    spi.flush(true);
    return c[1];
  }

  #rcr(reg: number): number {
    this.#select(reg);
    const b = reg >> 5;
    const a = reg & 0x1f;
    if (a < 0x1a && (b === 2 || (b === 3 && (a <= 0x05 || a === 0x0a)))) {
      // MAC and MII registers: a dummy byte first (DS 4.2.1).
      const c = this.#cmd3;
      c[0] = OP_RCR | a;
      c[1] = c[2] = 0;
      const spi = this.#spi as SpiIo;
      spi.transfer(c);
      spi.flush(true);
      return c[2];
    }
    return this.#cmd(OP_RCR | a, 0);
  }

  #wcr(reg: number, v: number): void {
    this.#select(reg);
    this.#cmd(OP_WCR | (reg & 0x1f), v);
  }

  /** A 16-bit pointer, low byte first (DS 7.2.4 asks it of ERXRDPT). */
  #wcr16(regLow: number, v: number): void {
    this.#wcr(regLow, v & 0xff);
    this.#wcr(regLow + 1, v >> 8);
  }

  /** Only the bytes that differ from what the chip holds (old < 0: unknown). */
  #wcr16Changed(regLow: number, v: number, old: number): void {
    if (old < 0 || (old & 0xff) !== (v & 0xff)) this.#wcr(regLow, v & 0xff);
    if (old < 0 || old >> 8 !== v >> 8) this.#wcr(regLow + 1, v >> 8);
  }

  /** BFS/BFC: ETH registers only (DS 4.2.5). */
  #bfs(reg: number, mask: number): void {
    this.#select(reg);
    this.#cmd(OP_BFS | (reg & 0x1f), mask);
  }

  #bfc(reg: number, mask: number): void {
    this.#select(reg);
    this.#cmd(OP_BFC | (reg & 0x1f), mask);
  }

  // ---------------------------------------------------------------- PHY over MII (DS 3.3)

  /** Wait out MISTAT.BUSY (10.24 us): a bounded poll, no longer than the chip takes. */
  #miiWait(): boolean {
    for (let i = 0; i < MII_POLLS_MAX; i++) if ((this.#rcr(MISTAT) & MISTAT_BUSY) === 0) return true;
    this.stats.miiTimeouts++;
    return false;
  }

  /** A PHY register, or -1 when the MII did not finish. */
  #phyRead(r: number): number {
    this.#wcr(MIREGADR, r);
    this.#wcr(MICMD, MICMD_MIIRD);
    const done = this.#miiWait();
    this.#wcr(MICMD, 0);
    if (!done) return -1;
    return this.#rcr(MIRDL) | (this.#rcr(MIRDH) << 8);
  }

  #phyWrite(r: number, v: number): void {
    this.#wcr(MIREGADR, r);
    this.#wcr(MIWRL, v & 0xff);
    this.#wcr(MIWRH, v >> 8);
    this.#miiWait();
  }
}
