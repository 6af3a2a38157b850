// A driver for the WIZnet W5500 as a plain Ethernet MAC: socket 0 in MACRAW mode with all
// 16 KB of RX and TX memory, over ECMA-419 SPI and Digital (drivers/spi-io.ts). Register
// names and sections ("DS x.y") are the W5500 datasheet v1.0.9's.
//
//   INTn falling edge -> napiSchedule                       (nothing else)
//   poll: Sn_IR cleared if INTn is low, the pointer window read (until it matches ours, or
//         two reads agree: then the chip's pointers are the truth, a resync), a SEND seen done as Sn_TX_RD == Sn_TX_WR (a held frame sent), then
//         frames: all Sn_RX_RSR counts in one read when it fits the staging buffer, else
//         each frame in one chip-select frame [3-byte header | frame | next length header];
//         copied into skbs; Sn_RX_RD and RECV batched (rxCommitBytes). A poll scheduled
//         only to restart the queue after a SEND, with INTn high, touches no register.
//   startXmit: [3-byte header | frame] in one write behind the SEND on the wire; then, if
//         Sn_TX_RD says that SEND is done (SENDOK masked: no interrupt to acknowledge),
//         Sn_TX_WR and SEND, the queue stopped until the poll this schedules (so the next
//         frame is taken in the softirq, completions freed first); else the frame is held
//         in the chip, the queue stops and SENDOK is unmasked until a poll sees the SEND
//         done and sends it
//   timer: the reset sequence (RSTn low 0.5 ms, 1 ms to ready) and then, every linkPollMs,
//          PHYCFGR (the W5500 has no link interrupt), VERSIONR and SIMR (a chip that reset
//          or stopped answering is re-initialised), a missed INTn edge, an idle RECV. The
//          timer only notes the link it read and schedules a poll: the poll turns the carrier
//          on or off, from a shallow frame (carrier on runs the notifiers, ARP's included,
//          and a board's XS stack is small; the timer's frames sit under the softirq's).

import { devKfreeSkbIrq, devTxError, napiComplete, napiSchedule, netifReceiveSkb, netifStopQueue, netifWakeQueue } from "../src/core/dev";
import { SKB_DROP } from "../src/core/drop";
import { countDrop, kfreeSkbReason } from "../src/core/free";
import { copyBytes } from "../src/core/bytes";
import type { Net } from "../src/core/net";
import { netifCarrierOff, netifCarrierOn, registerNetdev, type DeviceOptions } from "../src/core/link";
import { IFF_PROMISC, NETDEV_TX_BUSY, NETDEV_TX_OK, type Napi, type NetDevice, type NetDeviceOps } from "../src/core/netdevice";
import type { SkBuff } from "../src/core/skb";
import type { Timer } from "../src/core/timer";
import type { DigitalIo, SpiChipWiring, SpiIo } from "./spi-io";

// Control byte (DS 2.2.2): BSB[4:0] << 3 | RWB << 2 | OM (00: variable length, SCSn framed)
const CTRL_COMMON_R = 0x00;
const CTRL_COMMON_W = 0x04;
const CTRL_S0_REG_R = 0x08;
const CTRL_S0_REG_W = 0x0c;
const CTRL_S0_TX_W = 0x14;
const CTRL_S0_RX_R = 0x18;
/** socket n's register block, write: BSB = n*4 + 1 */
function ctrlSocketRegW(n: number): number {
  return ((n * 4 + 1) << 3) | 0x04;
}

// Common registers (DS 4.1)
const MR = 0x0000;
const MR_RST = 0x80;
const SHAR = 0x0009;
const INTLEVEL = 0x0013;
/**
 * I_AWT = (INTLEVEL + 1) * 4 PLL clocks (150 MHz) = 4 us: after Sn_IR is cleared, a new
 * interrupt asserts INTn only that long later (DS 4.1 INTLEVEL). With 0, INTn may rise and
 * fall again at once, a pulse too short for the ESP32's GPIO to see as a falling edge.
 */
const INTLEVEL_4US = 149;
const SIMR = 0x0018;
const PHYCFGR = 0x002e;
const PHYCFGR_LNK = 0x01;
const VERSIONR = 0x0039;
const VERSION = 0x04;

// Socket registers (DS 4.2)
const Sn_MR = 0x0000;
const Sn_CR = 0x0001;
const Sn_IR = 0x0002;
const Sn_SR = 0x0003;
const Sn_RXBUF_SIZE = 0x001e;
const Sn_TX_FSR = 0x0020;
const Sn_TX_RD = 0x0022;
const Sn_TX_WR = 0x0024;
const Sn_RX_RD = 0x0028;
const Sn_IMR = 0x002c;
const Sn_MR_MFEN = 0x80;
const Sn_MR_MIP6B = 0x10;
const Sn_MR_MACRAW = 0x04;
const Sn_CR_OPEN = 0x01;
const Sn_CR_CLOSE = 0x10;
const Sn_CR_SEND = 0x20;
const Sn_CR_RECV = 0x40;
const Sn_IR_SENDOK = 0x10;
const Sn_IR_RECV = 0x04;
const SOCK_MACRAW = 0x42;

/** socket 0 takes all of each 16 KB memory; sockets 1..7 get none (the 16 KB rule, DS 4.2) */
const BUFFER_KB = 16;
const BUFFER_BYTES = BUFFER_KB * 1024;
/** the largest frame MACRAW sends (DS 4.2 Sn_MSSR) */
const TX_FRAME_MAX = 1514;
/** the largest frame the MAC may store (IEEE 802.3 with a VLAN tag, no FCS) */
const RX_FRAME_MAX = 1518;
/** a frame and the next frame's length header */
const RX_READ_MAX = RX_FRAME_MAX + 2;
/** the least frame worth a length header: an Ethernet header */
const RX_FRAME_MIN = 14;
/** RSTn low at least T_RC, then T_PL until the chip answers (DS 5.5.1) */
const RESET_LOW_MS = 0.5;
const RESET_READY_MS = 1;
/** ready checks before the reset is started over */
const READY_TRIES = 5;
/** a SEND not done after this long was not taken (or its end was lost): the socket reopens */
const TX_TIMEOUT_MS = 50;
/** reads of Sn_CR waiting for a command to be accepted (a few microseconds each) */
const COMMAND_WAIT_READS = 32;
/** reads of the pointer window before giving up on the chip (DS 4.2: read until two agree) */
const WINDOW_READS = 4;
/** the window: Sn_TX_FSR, Sn_TX_RD, Sn_TX_WR, Sn_RX_RSR, Sn_RX_RD, Sn_RX_WR */
const WINDOW_BYTES = 12;
/** the health read: SIMR .. VERSIONR */
const HEALTH_BYTES = VERSIONR - SIMR + 1;
/** length classes of the views: multiples of this, plus the exact full-size lengths */
const CLASS_STEP = 64;

const STATE_DOWN = 0;
const STATE_RESET_LOW = 1;
const STATE_WAIT_READY = 2;
const STATE_RUNNING = 3;

export interface W5500DriverOptions {
  /** how often PHYCFGR and the chip's health are read, ms (default 250) */
  linkPollMs?: number;
  /**
   * RX bytes taken before Sn_RX_RD and RECV are written (default 4096): the pointer update
   * is batched; the chip keeps at least 16 KB less this free, and the link timer writes
   * what is left when the traffic stops.
   */
  rxCommitBytes?: number;
}

/** What the driver met and did (recoveries included). */
export class W5500DriverStats {
  interrupts = 0;
  polls = 0;
  /** most frames one poll took */
  maxPollFrames = 0;
  /** Sn_IR writes (only when INTn was low) */
  irqClears = 0;
  /** extra reads of the pointer window: a torn 16-bit read or a changing register */
  windowRereads = 0;
  /** two agreeing window reads that were not our copy: the chip's pointers taken */
  windowResyncs = 0;
  /** resets started (open, recoveries, ready checks that failed) */
  resets = 0;
  /** the chip was found reset, mute or answering VERSIONR wrong: re-initialised */
  chipLost = 0;
  /** ready checks (VERSIONR) that failed */
  readyRetries = 0;
  linkUps = 0;
  linkDowns = 0;
  /** polls that found the RX buffer with less than a full frame free (the chip drops then) */
  rxBufferFull = 0;
  /** frames longer than the MTU: skipped unread */
  rxFrameTooLong = 0;
  /** corrupted length headers: the socket reopened to resynchronise */
  rxResyncs = 0;
  /** Sn_RX_RD + RECV writes */
  rxCommits = 0;
  /** INTn found low with no poll pending (an edge lost): a poll scheduled */
  missedEdges = 0;
  /** NETDEV_TX_BUSY answers */
  txBusy = 0;
  /** frames written while the SEND before was still on the wire: held until SENDOK */
  txWaits = 0;
  /** frames in the chip lost to a reopen or reset (already counted sent) */
  txAborted = 0;
  /** SENDs not done after TX_TIMEOUT_MS (Sn_TX_RD short of Sn_TX_WR): socket 0 reopened */
  txTimeouts = 0;
  /** frames too long for MACRAW's SEND */
  txTooLong = 0;
  /** CLOSE or OPEN not accepted (Sn_CR not back to 0) within COMMAND_WAIT_READS reads */
  commandTimeouts = 0;
  /** the socket reopened for a new receive filter */
  rxModeReopens = 0;
}

export class W5500Driver implements NetDeviceOps {
  readonly stats = new W5500DriverStats();
  readonly #wiring: SpiChipWiring;
  readonly #linkPollMs: number;
  readonly #rxCommitBytes: number;
  readonly #onInterrupt: () => void;
  readonly #onTimer: () => void;
  #net: Net | null = null;
  #dev: NetDevice | null = null;
  #timer: Timer | null = null;
  #state = STATE_DOWN;
  #readyTries = 0;

  // Made at open (ECMA-419 instances, buffers, views).
  #spi: SpiIo | null = null;
  #intPin: DigitalIo | null = null;
  #rstPin: DigitalIo | null = null;
  /** [3-byte header | up to RX_READ_MAX bytes] */
  #rxStage = new Uint8Array(0);
  /** views of it: from 0 (header + body) and from 3 (body, the frame continuing) */
  #rxFullViews: Uint8Array[] = [];
  #rxBodyViews: Uint8Array[] = [];
  #rxHeaderView = new Uint8Array(0);
  /** read length -> class index */
  #rxClass = new Uint8Array(0);
  #txStage = new Uint8Array(0);
  #txViews: Uint8Array[] = [];
  #txClass = new Uint8Array(0);
  /** [addr, addr, control, data...] buffers of the fixed transactions */
  #window = new Uint8Array(0);
  #windowPrev = new Uint8Array(0);
  #health = new Uint8Array(0);
  #cmd = new Uint8Array(0);
  #reg1 = new Uint8Array(0);
  #reg2 = new Uint8Array(0);
  /** Sn_TX_RD read */
  #txRdRead = new Uint8Array(0);
  #commonCfg = new Uint8Array(0);

  // Shadows of the chip's pointers.
  /** Sn_TX_WR as written: the end of the last SEND */
  #txWr = 0;
  #txRd = 0;
  /** a SEND is (or may still be) on the wire */
  #txBusy = false;
  /** when the SEND on the wire was given (the TX watchdog's start) */
  #txSentAt = 0;
  /** a frame's bytes in the TX buffer from #txWr to here, waiting for the SEND before */
  #txHeldEnd = -1;
  /** SENDOK unmasked in Sn_IMR (only while a frame is held) */
  #sendokArmed = false;
  /**
   * A SEND was just given: the queue stays stopped until the next poll, so the next frame
   * is taken from the softirq (completions freed first), not on the sender's call.
   */
  #txKick = false;
  /** where the next frame's length header is */
  #rxRd = 0;
  /** what the chip took at the last RECV */
  #rxRdTaken = 0;
  /** bytes received and not yet taken, from the last window read */
  #avail = 0;
  /** the next frame's length header, read with the frame before it */
  #haveLen = false;
  #nextLen = 0;
  /** the RX buffer bytes the staging buffer holds from offset 3: ring address, count */
  #stagedAt = 0;
  #stagedLen = 0;
  #mode = Sn_MR_MACRAW | Sn_MR_MFEN | Sn_MR_MIP6B;
  /** PHYCFGR.LNK as last read: the poll makes the carrier follow it */
  #phyLink = false;
  /** frames this poll took (its work against the budget) */
  #work = 0;

  constructor(wiring: SpiChipWiring, options: W5500DriverOptions = {}) {
    this.#wiring = wiring;
    this.#linkPollMs = options.linkPollMs ?? 250;
    this.#rxCommitBytes = options.rxCommitBytes ?? 4096;
    this.#onInterrupt = () => this.#interrupt();
    this.#onTimer = () => this.#timerFired();
  }

  /** Register the interface with the stack (down until net.devOpen). */
  register(net: Net, name: string, mac: Uint8Array, options: DeviceOptions = {}): NetDevice {
    this.#net = net;
    const dev = registerNetdev(net, name, this, mac, options);
    this.#dev = dev;
    this.#timer = net.timers.create(this.#onTimer, 0);
    return dev;
  }

  get state(): number {
    return this.#state;
  }

  // ---------------------------------------------------------------- open / stop

  open(dev: NetDevice): void {
    const w = this.#wiring;
    this.#spi = new w.spi.io(w.spi);
    const int = w.interrupt;
    this.#intPin = new int.io({ pin: int.pin, mode: int.io.InputPullUp, edge: int.io.Falling, onReadable: this.#onInterrupt });
    const rst = w.reset;
    if (rst !== undefined) {
      this.#rstPin = new rst.io({ pin: rst.pin, mode: rst.io.Output });
      this.#rstPin.write(1);
    }
    this.#makeBuffers();
    this.#mode = this.#modeFor(dev);
    netifCarrierOff(dev);
    this.#startReset();
  }

  #makeBuffers(): void {
    const rx = new Uint8Array(3 + RX_READ_MAX);
    this.#rxStage = rx;
    const rxLens = classLengths(RX_READ_MAX, [TX_FRAME_MAX, TX_FRAME_MAX + 2, RX_READ_MAX]);
    this.#rxFullViews = [];
    this.#rxBodyViews = [];
    for (const n of rxLens) {
      this.#rxFullViews.push(new Uint8Array(rx.buffer, 0, 3 + n));
      this.#rxBodyViews.push(new Uint8Array(rx.buffer, 3, n));
    }
    this.#rxClass = classTable(rxLens);
    this.#rxHeaderView = new Uint8Array(rx.buffer, 0, 5);
    const tx = new Uint8Array(3 + TX_FRAME_MAX);
    this.#txStage = tx;
    const txLens = classLengths(TX_FRAME_MAX, [TX_FRAME_MAX]);
    this.#txViews = [];
    for (const n of txLens) this.#txViews.push(new Uint8Array(tx.buffer, 0, 3 + n));
    this.#txClass = classTable(txLens);
    this.#window = header(new Uint8Array(3 + WINDOW_BYTES), Sn_TX_FSR, CTRL_S0_REG_R);
    this.#windowPrev = new Uint8Array(3 + WINDOW_BYTES);
    this.#health = header(new Uint8Array(3 + HEALTH_BYTES), SIMR, CTRL_COMMON_R);
    this.#cmd = header(new Uint8Array(4), Sn_CR, CTRL_S0_REG_W);
    this.#reg1 = new Uint8Array(4);
    this.#reg2 = new Uint8Array(5);
    this.#txRdRead = header(new Uint8Array(5), Sn_TX_RD, CTRL_S0_REG_R);
    // SHAR, SIPR, INTLEVEL, IR (1s clear it), IMR, SIR (read-only), SIMR: one write.
    this.#commonCfg = header(new Uint8Array(3 + SIMR - SHAR + 1), SHAR, CTRL_COMMON_W);
  }

  stop(dev: NetDevice): void {
    const spi = this.#spi;
    if (spi !== null && this.#state === STATE_RUNNING) {
      this.#command(Sn_CR_CLOSE);
      this.#commandAccepted();
      this.#writeReg1(CTRL_COMMON_W, SIMR, 0); // INTn released
    }
    if (this.#timer !== null) (this.#net as Net).delTimer(this.#timer);
    this.#state = STATE_DOWN;
    if (spi !== null) spi.close();
    if (this.#intPin !== null) this.#intPin.close();
    if (this.#rstPin !== null) this.#rstPin.close();
    this.#spi = this.#intPin = this.#rstPin = null;
    this.#txBusy = this.#txKick = false;
    this.#txHeldEnd = -1;
    // The frames in the chip were handed back at write time: no skb is held here.
    this.#phyLink = false;
    netifCarrierOff(dev);
  }

  // ---------------------------------------------------------------- reset and configuration

  /** RSTn low (or MR.RST without the pin), then ready checks through the timer. */
  #startReset(): void {
    const dev = this.#dev as NetDevice;
    const net = this.#net as Net;
    this.stats.resets++;
    // Off at once (no notifiers: the qdisc emptied), so nothing waits for a chip in reset.
    this.#phyLink = false;
    netifCarrierOff(dev);
    this.#txDropInFlight();
    this.#sendokArmed = this.#txKick = false;
    this.#haveLen = false;
    this.#stagedLen = 0;
    this.#avail = 0;
    this.#readyTries = 0;
    const now = net.now();
    if (this.#rstPin !== null) {
      this.#rstPin.write(0);
      this.#state = STATE_RESET_LOW;
      net.modTimer(this.#timer as Timer, now + RESET_LOW_MS);
    } else {
      this.#writeReg1(CTRL_COMMON_W, MR, MR_RST);
      this.#state = STATE_WAIT_READY;
      net.modTimer(this.#timer as Timer, now + RESET_READY_MS);
    }
  }

  #timerFired(): void {
    const net = this.#net as Net;
    const state = this.#state;
    if (state === STATE_RESET_LOW) {
      (this.#rstPin as DigitalIo).write(1);
      this.#state = STATE_WAIT_READY;
      net.modTimer(this.#timer as Timer, net.now() + RESET_READY_MS);
    } else if (state === STATE_WAIT_READY) {
      if (this.#configure()) {
        net.modTimer(this.#timer as Timer, net.now() + this.#linkPollMs);
      } else if (++this.#readyTries >= READY_TRIES) {
        this.#startReset();
      } else {
        this.stats.readyRetries++;
        net.modTimer(this.#timer as Timer, net.now() + RESET_READY_MS);
      }
    } else if (state === STATE_RUNNING) {
      this.#healthCheck();
    }
  }

  /** VERSIONR checked, SHAR and the interrupt masks set, socket 0 opened in MACRAW. */
  #configure(): boolean {
    if (this.#readReg(CTRL_COMMON_R, VERSIONR) !== VERSION) return false;
    const dev = this.#dev as NetDevice;
    const cfg = this.#commonCfg;
    cfg.fill(0, 3);
    cfg.set(dev.addr, 3);
    cfg[3 + INTLEVEL - SHAR] = INTLEVEL_4US >> 8;
    cfg[4 + INTLEVEL - SHAR] = INTLEVEL_4US & 0xff;
    cfg[3 + 0x15 - SHAR] = 0xff; // IR: clear everything
    cfg[3 + SIMR - SHAR] = 0x01; // socket 0's interrupt only
    this.#write(cfg);
    // All 16 KB to socket 0, none to sockets 1..7 (the sizes must add up to 16 KB, DS 4.2).
    for (let n = 1; n < 8; n++) this.#writeReg2(ctrlSocketRegW(n), Sn_RXBUF_SIZE, 0, 0);
    this.#writeReg2(CTRL_S0_REG_W, Sn_RXBUF_SIZE, BUFFER_KB, BUFFER_KB);
    // SENDOK masked: a SEND's end is read lazily (Sn_TX_RD) at the next startXmit.
    this.#writeReg1(CTRL_S0_REG_W, Sn_IMR, Sn_IR_RECV);
    this.#sendokArmed = false;
    if (!this.#openSocket()) return false;
    this.#state = STATE_RUNNING;
    this.#phyLink = (this.#readReg(CTRL_COMMON_R, PHYCFGR) & PHYCFGR_LNK) !== 0;
    if (dev.queueStopped) netifWakeQueue(dev);
    // Whatever was pending before INTn was watched, and the carrier: one poll looks.
    napiSchedule(dev.napi);
    return true;
  }

  /**
   * Sn_MR and OPEN in one write (Sn_MR at 0x0000, Sn_CR at 0x0001), Sn_SR checked, then the
   * pointers read back: OPEN initialises them (DS 4.2 Sn_TX_RD, Sn_TX_WR, Sn_RX_RD), to 0 by
   * the datasheet, but chips are reported to keep Sn_TX_WR/Sn_TX_RD across CLOSE/OPEN.
   */
  #openSocket(): boolean {
    this.#command(Sn_CR_CLOSE);
    this.#commandAccepted();
    this.#writeReg2(CTRL_S0_REG_W, Sn_MR, this.#mode, Sn_CR_OPEN);
    this.#commandAccepted();
    this.#txDropInFlight();
    this.#avail = 0;
    this.#haveLen = false;
    this.#stagedLen = 0;
    if (this.#readReg(CTRL_S0_REG_R, Sn_SR) !== SOCK_MACRAW) return false;
    // Nothing moves Sn_TX_RD, Sn_TX_WR or Sn_RX_RD before the host does: one read will do.
    const w = header(this.#window, Sn_TX_FSR, CTRL_S0_REG_R).fill(0, 3);
    this.#transfer(w);
    this.#txRd = (w[5] << 8) | w[6];
    this.#txWr = (w[7] << 8) | w[8];
    this.#rxRd = this.#rxRdTaken = (w[11] << 8) | w[12];
    this.#txBusy = this.#txRd !== this.#txWr;
    this.#txSentAt = (this.#net as Net).now();
    return true;
  }

  /** SIMR .. VERSIONR in one read: false for a chip that reset (SIMR 0) or does not answer. */
  #chipAnswers(): boolean {
    const h = header(this.#health, SIMR, CTRL_COMMON_R);
    h.fill(0, 3);
    this.#transfer(h);
    return h[3 + VERSIONR - SIMR] === VERSION && h[3] === 0x01;
  }

  /** Every linkPollMs: link, a reset or mute chip, a lost INTn edge, an idle RECV. */
  #healthCheck(): void {
    const dev = this.#dev as NetDevice;
    const net = this.#net as Net;
    if (!this.#chipAnswers()) {
      // Registers back at their reset values (SIMR 0) or no answer at all: start over.
      this.stats.chipLost++;
      this.#startReset();
      return;
    }
    if (this.#txBusy && net.now() - this.#txSentAt > TX_TIMEOUT_MS) {
      this.#txWatchdog(dev);
      if (this.#state !== STATE_RUNNING) return; // the reopen failed: a reset owns the timer now
    }
    const link = (this.#health[3 + PHYCFGR - SIMR] & PHYCFGR_LNK) !== 0;
    if (link !== this.#phyLink) {
      this.#phyLink = link;
      if (link) this.stats.linkUps++;
      else this.stats.linkDowns++;
    }
    const napi = dev.napi;
    if (link !== dev.hasCarrier) {
      napiSchedule(napi); // the poll turns the carrier on or off
    } else if (!napi.scheduled) {
      if ((this.#intPin as DigitalIo).read() === 0) {
        this.stats.missedEdges++;
        napiSchedule(napi);
      } else if (this.#txHeldEnd >= 0) {
        napiSchedule(napi); // a frame held this long: a poll looks at Sn_TX_RD
      } else if (this.#rxRd !== this.#rxRdTaken) {
        this.#commit();
      }
    }
    net.modTimer(this.#timer as Timer, net.now() + this.#linkPollMs);
  }

  // ---------------------------------------------------------------- interrupt and poll

  #interrupt(): void {
    this.stats.interrupts++;
    const dev = this.#dev;
    if (dev !== null && this.#state === STATE_RUNNING) napiSchedule(dev.napi);
  }

  /**
   * NAPI poll. INTn is an edge: it stays low while anything is pending, so Sn_IR is cleared
   * first (only when INTn is low) and what arrives after that makes a new edge.
   */
  poll(napi: Napi, budget: number): number {
    const dev = napi.dev;
    if (this.#state !== STATE_RUNNING) {
      napiComplete(napi);
      return 0;
    }
    this.stats.polls++;
    if (this.#phyLink !== dev.hasCarrier) {
      // Here, not in the timer: carrier on runs the notifiers (ARP), a deep chain.
      if (this.#phyLink) netifCarrierOn(dev);
      else netifCarrierOff(dev);
    }
    const intLow = (this.#intPin as DigitalIo).read() === 0;
    if (this.#txKick && !intLow && this.#avail < 2 && this.#txHeldEnd < 0) {
      // Only the kick after a SEND: INTn high says nothing arrived since Sn_IR was last
      // cleared, and nothing read is left over: no SPI, the queue runs again.
      this.#txKick = false;
      if (dev.queueStopped) netifWakeQueue(dev);
      napiComplete(napi);
      return 0;
    }
    this.#txKick = false;
    if (intLow) {
      this.stats.irqClears++;
      this.#writeReg1(CTRL_S0_REG_W, Sn_IR, 0xff);
    }
    if (!this.#readWindow()) {
      this.stats.chipLost++;
      napiComplete(napi);
      this.#startReset();
      return 0;
    }
    if (this.#txBusy && this.#txRd === this.#txWr) this.#txDone();
    if (this.#txHeldEnd < 0 && dev.queueStopped) netifWakeQueue(dev);
    this.#work = 0;
    for (let skb = this.#rxNext(dev, budget); skb !== null; skb = this.#rxNext(dev, budget)) netifReceiveSkb(skb);
    const work = this.#work;
    if (work > this.stats.maxPollFrames) this.stats.maxPollFrames = work;
    if (this.#state === STATE_RUNNING && ((this.#rxRd - this.#rxRdTaken) & 0xffff) >= this.#rxCommitBytes) this.#commit();
    if (work < budget) napiComplete(napi);
    return work;
  }

  /**
   * Sn_TX_FSR .. Sn_RX_WR in one read. The 16-bit sizes may tear while the chip changes
   * them, so a read is taken when it agrees with itself (FSR and RSR match the pointers
   * and ours) or with the read before it (DS 4.2 Sn_RX_RSR: "read ... twice or more until
   * getting the same value"). Two agreeing reads that are not ours are the chip's truth
   * (#adoptWindow); false only for a chip that does not answer or has reset.
   */
  #readWindow(): boolean {
    const w = this.#window;
    const prev = this.#windowPrev;
    for (let i = 0; i < WINDOW_READS; i++) {
      if (i > 0) {
        this.stats.windowRereads++;
        prev.set(w);
      }
      header(w, Sn_TX_FSR, CTRL_S0_REG_R).fill(0, 3);
      this.#transfer(w);
      const fsr = (w[3] << 8) | w[4];
      const txRd = (w[5] << 8) | w[6];
      const txWr = (w[7] << 8) | w[8];
      const rsr = (w[9] << 8) | w[10];
      const rxRd = (w[11] << 8) | w[12];
      const rxWr = (w[13] << 8) | w[14];
      const used = (this.#txWr - txRd) & 0xffff;
      const taken = (this.#rxRd - this.#rxRdTaken) & 0xffff;
      if (txWr === this.#txWr && rxRd === this.#rxRdTaken && used <= BUFFER_BYTES && fsr === BUFFER_BYTES - used &&
          rsr === ((rxWr - rxRd) & 0xffff) && rsr <= BUFFER_BYTES && rsr >= taken) {
        this.#txRd = txRd;
        this.#avail = rsr - taken;
        if (BUFFER_BYTES - rsr < RX_READ_MAX) this.stats.rxBufferFull++;
        return true;
      }
      if (i > 0 && sameBytes(w, prev)) return this.#adoptWindow();
    }
    return false;
  }

  /**
   * The window, read twice alike, is not our copy: silicon that keeps pointers across OPEN,
   * or sizes that do not follow the pointers exactly. The chip's pointers are taken as the
   * truth (a held frame, written at our Sn_TX_WR, is lost; RX bytes not yet taken are
   * started over from the chip's Sn_RX_RD). Only a window no chip gives (sizes past 16 KB,
   * or all zeros: MISO low, no answer) or a failed health read makes it a lost chip.
   */
  #adoptWindow(): boolean {
    const w = this.#window;
    const fsr = (w[3] << 8) | w[4];
    const txRd = (w[5] << 8) | w[6];
    const txWr = (w[7] << 8) | w[8];
    const rsr = (w[9] << 8) | w[10];
    const rxRd = (w[11] << 8) | w[12];
    if (fsr > BUFFER_BYTES || rsr > BUFFER_BYTES || (fsr === 0 && txRd === txWr) || !this.#chipAnswers()) return false;
    this.stats.windowResyncs++;
    if (txWr !== this.#txWr) {
      this.#txDropInFlight();
      this.#txWr = txWr;
      this.#txBusy = txRd !== txWr;
      this.#txSentAt = (this.#net as Net).now();
    }
    this.#txRd = txRd;
    if (rxRd !== this.#rxRdTaken || rsr < ((this.#rxRd - this.#rxRdTaken) & 0xffff)) {
      this.#rxRd = this.#rxRdTaken = rxRd;
      this.#haveLen = false;
      this.#stagedLen = 0;
    }
    const taken = (this.#rxRd - this.#rxRdTaken) & 0xffff;
    this.#avail = rsr > taken ? rsr - taken : 0;
    if (BUFFER_BYTES - rsr < RX_READ_MAX) this.stats.rxBufferFull++;
    return true;
  }

  /**
   * The next frame into an skb, or null when nothing is left or the budget is spent.
   * One chip-select frame per frame at most: when all Sn_RX_RSR counts fits the staging
   * buffer, one read takes it all (headers and frames) and the frames behind the first are
   * copied from there; else the length header and the frame (and the next frame's header)
   * in one chip-select frame, two calls.
   */
  #rxNext(dev: NetDevice, budget: number): SkBuff | null {
    const spi = this.#spi as SpiIo;
    const stage = this.#rxStage;
    while (this.#work < budget && this.#avail >= 2) {
      let len: number;
      let open = false;
      const at = this.#rxRd;
      /** where the bytes from `at` sit in the staging buffer (a huge value: not there) */
      let from = (at - this.#stagedAt) & 0xffff;
      if (from + 2 <= this.#stagedLen) {
        len = (stage[3 + from] << 8) | stage[4 + from];
      } else if (this.#haveLen) {
        len = this.#nextLen;
      } else if (this.#avail <= RX_READ_MAX) {
        // All that is there, in one call (the class's slack reads on inside the ring).
        const cls = this.#rxClass[this.#avail];
        stage[0] = at >> 8;
        stage[1] = at & 0xff;
        stage[2] = CTRL_S0_RX_R;
        spi.transfer(this.#rxFullViews[cls]);
        spi.flush(true);
        this.#stagedAt = at;
        this.#stagedLen = this.#avail;
        from = 0;
        len = (stage[3] << 8) | stage[4];
      } else {
        // The length header alone; the chip select stays down for the frame behind it.
        stage[0] = at >> 8;
        stage[1] = at & 0xff;
        stage[2] = CTRL_S0_RX_R;
        stage[3] = stage[4] = 0;
        spi.transfer(this.#rxHeaderView);
        len = (stage[3] << 8) | stage[4];
        open = true;
      }
      this.#haveLen = false;
      const frameLen = len - 2;
      if (frameLen < RX_FRAME_MIN || frameLen > RX_FRAME_MAX || len > this.#avail) {
        if (open) spi.flush(true);
        this.#resync(dev);
        return null;
      }
      this.#work++;
      this.#avail -= len;
      this.#rxRd = (at + len) & 0xffff;
      if (frameLen > dev.mtu + 14) {
        // Longer than the MTU: skipped without reading it, counted.
        if (open) spi.flush(true);
        this.stats.rxFrameTooLong++;
        dev.stats.rxErrors++;
        dev.stats.rxLengthErrors++;
        countDrop(dev.net, SKB_DROP.RX_HW_ERROR);
        continue;
      }
      /** the frame's first byte in the staging buffer */
      let frameAt = 3;
      if (from + len <= this.#stagedLen) {
        frameAt = 5 + from;
      } else {
        const more = this.#work < budget && this.#avail >= 2;
        const cls = this.#rxClass[more ? frameLen + 2 : frameLen];
        if (open) {
          spi.read(this.#rxBodyViews[cls]);
        } else {
          const body = (at + 2) & 0xffff;
          stage[0] = body >> 8;
          stage[1] = body & 0xff;
          stage[2] = CTRL_S0_RX_R;
          spi.transfer(this.#rxFullViews[cls]);
        }
        spi.flush(true);
        this.#stagedLen = 0;
        if (more) {
          this.#nextLen = (stage[3 + frameLen] << 8) | stage[4 + frameLen];
          this.#haveLen = true;
        }
      }
      const net = dev.net;
      const skb = net.pool.alloc();
      if (skb === null) {
        dev.stats.rxDropped++;
        countDrop(net, SKB_DROP.NOMEM);
        continue;
      }
      copyBytes(net.pool.buf, skb.put(frameLen), stage, frameAt, frameLen);
      skb.dev = dev;
      return skb;
    }
    return null;
  }

  /** A length header that cannot be: the ring cannot be trusted, so socket 0 starts over. */
  #resync(dev: NetDevice): void {
    this.stats.rxResyncs++;
    dev.stats.rxErrors++;
    dev.stats.rxLengthErrors++;
    countDrop(dev.net, SKB_DROP.RX_HW_ERROR);
    this.#reopen(dev);
  }

  #reopen(dev: NetDevice): void {
    if (!this.#openSocket()) {
      this.stats.chipLost++;
      this.#startReset();
      return;
    }
    if (this.#sendokArmed) this.#armSendok(false);
    if (dev.queueStopped) netifWakeQueue(dev);
  }

  /** Sn_RX_RD, then RECV: the chip may reuse what was taken (DS 4.2 Sn_RX_RD). */
  #commit(): void {
    this.stats.rxCommits++;
    const at = this.#rxRd;
    this.#writeReg2(CTRL_S0_REG_W, Sn_RX_RD, at >> 8, at & 0xff);
    this.#command(Sn_CR_RECV);
    this.#rxRdTaken = at;
  }

  // ---------------------------------------------------------------- transmit

  startXmit(skb: SkBuff, dev: NetDevice): number {
    if (this.#state !== STATE_RUNNING) {
      // Between a reset and ready: the frame is dropped, as with no carrier.
      dev.stats.txDropped++;
      dev.stats.txCarrierErrors++;
      kfreeSkbReason(dev.net, skb, SKB_DROP.NO_CARRIER);
      return NETDEV_TX_OK;
    }
    const len = skb.len;
    if (len > TX_FRAME_MAX) {
      this.stats.txTooLong++;
      devTxError(skb);
      return NETDEV_TX_OK;
    }
    const cls = this.#txClass[len];
    const view = this.#txViews[cls];
    // One frame on the wire and one held behind it, none between a SEND and the poll after
    // it; the frame (with its class's slack) must fit in the free space Sn_TX_RD last showed.
    if (this.#txHeldEnd >= 0 || this.#txKick || BUFFER_BYTES - ((this.#txWr - this.#txRd) & 0xffff) < view.length - 3) {
      this.stats.txBusy++;
      netifStopQueue(dev);
      return NETDEV_TX_BUSY;
    }
    // The bytes go in behind the SEND on the wire (DS 4.2 Sn_TX_WR: the host writes from
    // Sn_TX_WR on; only the SEND must wait for the one before to complete).
    const stage = this.#txStage;
    const at = this.#txWr;
    stage[0] = at >> 8;
    stage[1] = at & 0xff;
    stage[2] = CTRL_S0_TX_W;
    copyBytes(stage, 3, dev.net.pool.buf, skb.data, len);
    // Bytes past the frame (the class's slack) land in free TX memory: harmless.
    this.#write(view);
    // The bytes are in the chip: the skb is done with.
    devKfreeSkbIrq(skb);
    const end = (at + len) & 0xffff;
    if (this.#txBusy && !this.#sendDone()) {
      // Still on the wire: held; SENDOK unmasked, and Sn_TX_RD read once more, since a
      // SEND that ended before the unmasking set no Sn_IR bit (DS 4.2 Sn_IMR).
      this.stats.txWaits++;
      this.#armSendok(true);
      if (!this.#sendDone()) {
        this.#txHeldEnd = end;
        netifStopQueue(dev);
        return NETDEV_TX_OK;
      }
    }
    this.#send(end);
    // The queue waits for the poll this schedules (see #txKick).
    this.#txKick = true;
    netifStopQueue(dev);
    napiSchedule(dev.napi);
    return NETDEV_TX_OK;
  }

  /** Sn_TX_RD read: has it reached Sn_TX_WR, the SEND on the wire done (DS 4.2 Sn_TX_RD)? */
  #sendDone(): boolean {
    const b = header(this.#txRdRead, Sn_TX_RD, CTRL_S0_REG_R);
    b[3] = b[4] = 0;
    this.#transfer(b);
    // A torn read (the high byte before the change, the low after) is not the new value
    // unless the high byte did not change: then it is the new value.
    const rd = (b[3] << 8) | b[4];
    if (rd !== this.#txWr) return false;
    this.#txRd = rd;
    this.#txBusy = false;
    return true;
  }

  /** Sn_TX_WR to end, then SEND. */
  #send(end: number): void {
    this.#writeReg2(CTRL_S0_REG_W, Sn_TX_WR, end >> 8, end & 0xff);
    this.#command(Sn_CR_SEND);
    this.#txWr = end;
    this.#txBusy = true;
    this.#txSentAt = (this.#net as Net).now();
  }

  /** The SEND on the wire is done (a poll saw Sn_TX_RD reach Sn_TX_WR): a held frame goes. */
  #txDone(): void {
    this.#txBusy = false;
    // Masked again first, so the held frame's SEND sets no SENDOK.
    if (this.#sendokArmed) this.#armSendok(false);
    const held = this.#txHeldEnd;
    if (held >= 0) {
      this.#txHeldEnd = -1;
      this.#send(held);
    }
  }

  /**
   * A SEND given more than TX_TIMEOUT_MS ago and not seen done. Done after all (a SENDOK
   * edge lost): the held frame goes, as a poll would send it. Not done: the chip did not
   * take the SEND (or is stuck on it), so the socket reopens and the queue runs again.
   */
  #txWatchdog(dev: NetDevice): void {
    if (this.#sendDone()) {
      if (this.#txHeldEnd >= 0 || this.#sendokArmed) {
        this.#txDone();
        napiSchedule(dev.napi);
      }
      return;
    }
    this.stats.txTimeouts++;
    dev.stats.txErrors++;
    this.#reopen(dev);
  }

  #armSendok(on: boolean): void {
    this.#sendokArmed = on;
    this.#writeReg1(CTRL_S0_REG_W, Sn_IMR, on ? Sn_IR_RECV | Sn_IR_SENDOK : Sn_IR_RECV);
  }

  /** A reopen or reset: the SEND on the wire and a held frame are lost (already counted sent). */
  #txDropInFlight(): void {
    if (this.#txBusy) this.stats.txAborted++;
    if (this.#txHeldEnd >= 0) this.stats.txAborted++;
    this.#txBusy = false;
    this.#txHeldEnd = -1;
  }

  // ---------------------------------------------------------------- receive filter

  /** MFEN unless promiscuous or a multicast group is joined (MFEN passes no multicast). */
  #modeFor(dev: NetDevice): number {
    if ((dev.flags & IFF_PROMISC) !== 0) return Sn_MR_MACRAW;
    // IPv6 is not handled by the stack: MIP6B keeps it off the bus.
    if (dev.mcCount > 0) return Sn_MR_MACRAW | Sn_MR_MIP6B;
    return Sn_MR_MACRAW | Sn_MR_MFEN | Sn_MR_MIP6B;
  }

  setRxMode(dev: NetDevice): void {
    const mode = this.#modeFor(dev);
    if (mode === this.#mode) return;
    this.#mode = mode;
    // Sn_MR is taken at OPEN: the socket reopens (what the RX buffer held is lost).
    if (this.#state === STATE_RUNNING) {
      this.stats.rxModeReopens++;
      this.#reopen(dev);
    }
  }

  // ---------------------------------------------------------------- SPI transactions

  #write(buf: Uint8Array): void {
    const spi = this.#spi as SpiIo;
    spi.write(buf);
    spi.flush(true);
  }

  #transfer(buf: Uint8Array): void {
    const spi = this.#spi as SpiIo;
    spi.transfer(buf);
    spi.flush(true);
  }

  #command(cmd: number): void {
    this.#cmd[3] = cmd;
    this.#write(this.#cmd);
  }

  /**
   * Sn_CR read until it clears: the chip has accepted the command (DS 4.2 Sn_CR). Only on
   * the rare paths (CLOSE, OPEN); SEND and RECV are not waited for (Sn_TX_RD and the
   * pointer window show their effect). Bounded: a chip that does not clear it is counted.
   */
  #commandAccepted(): boolean {
    for (let i = 0; i < COMMAND_WAIT_READS; i++) if (this.#readReg(CTRL_S0_REG_R, Sn_CR) === 0) return true;
    this.stats.commandTimeouts++;
    return false;
  }

  #writeReg1(control: number, addr: number, v: number): void {
    const b = this.#reg1;
    b[0] = addr >> 8;
    b[1] = addr & 0xff;
    b[2] = control;
    b[3] = v;
    this.#write(b);
  }

  #writeReg2(control: number, addr: number, v0: number, v1: number): void {
    const b = this.#reg2;
    b[0] = addr >> 8;
    b[1] = addr & 0xff;
    b[2] = control;
    b[3] = v0;
    b[4] = v1;
    this.#write(b);
  }

  #readReg(control: number, addr: number): number {
    const b = this.#reg1;
    b[0] = addr >> 8;
    b[1] = addr & 0xff;
    b[2] = control;
    b[3] = 0;
    this.#transfer(b);
    return b[3];
  }
}

function header<T extends Uint8Array>(b: T, addr: number, control: number): T {
  b[0] = addr >> 8;
  b[1] = addr & 0xff;
  b[2] = control;
  return b;
}

/** Class lengths: multiples of CLASS_STEP below max, the exact lengths given, and max. */
function classLengths(max: number, exact: number[]): number[] {
  const lens: number[] = [];
  for (let n = CLASS_STEP; n < max; n += CLASS_STEP) lens.push(n);
  for (const n of exact) if (lens.indexOf(n) < 0) lens.push(n);
  if (lens.indexOf(max) < 0) lens.push(max);
  lens.sort((a, b) => a - b);
  return lens;
}

/** length -> index of the least class that holds it */
function classTable(lens: number[]): Uint8Array<ArrayBuffer> {
  const max = lens[lens.length - 1];
  const t = new Uint8Array(max + 1);
  let c = 0;
  for (let n = 0; n <= max; n++) {
    while (lens[c] < n) c++;
    t[n] = c;
  }
  return t;
}

/** the data bytes of two reads (after the 3-byte header) */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 3; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
