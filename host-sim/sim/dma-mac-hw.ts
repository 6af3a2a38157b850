// A simulated DMA Ethernet MAC: the hardware side of drivers/dma-mac.ts. It owns the
// descriptor rings, writes received frames straight into the buffers the driver gave it
// (the skb pool is its DMA memory), sends at a line rate one frame at a time, raises
// interrupts, and has a PHY link that a test can pull. Node-free: it runs inside XS too.

import { DMA_IRQ_LINK, DMA_IRQ_RX, DMA_IRQ_TX, type DmaMacHw } from "../../drivers/dma-mac";
import { copyBytes } from "../../src/core/bytes";
import { DESC_CSUM_OK, DESC_ERR, DESC_LEN_ERR, DESC_OWN, DescRing } from "../../drivers/ring";
import { csumPartial, csumPseudoHeader, csumReduce } from "../../src/wire/checksum";
import { ETH_HLEN, ETH_P_IP, ETH_ZLEN, ethType, macCopy, macEqual, macIsBroadcast, macIsMulticast } from "../../src/wire/ethernet";
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IP_MF, IP_OFFMASK, ipDaddr, ipFragField, ipIhlBytes, ipProto, ipSaddr, ipTotLen } from "../../src/wire/ipv4";
import type { EventLoop, SimEventHandler } from "./event-loop";
import type { LanEndpoint, SimLan } from "./lan";

export interface SimMacOptions {
  rxRingSize?: number;
  txRingSize?: number;
  /** bits per second; 0 sends as fast as the driver posts */
  lineRateBps?: number;
  rxChecksumOffload?: boolean;
}

export class SimMacStats {
  rxFrames = 0;
  /** not for us (the MAC address filter) */
  rxFiltered = 0;
  /** no descriptor owned by the hardware */
  rxMissed = 0;
  /** larger than the descriptor's buffer */
  rxOversize = 0;
  /** arrived while stopped or with the link down */
  rxWhileDown = 0;
  txFrames = 0;
  txBytes = 0;
  interrupts = 0;
}

const EVENT_TX_DONE = 1;
/** preamble, start delimiter and inter-frame gap: 20 byte times per frame on the wire */
const WIRE_OVERHEAD_BYTES = 20;

export class SimDmaMac implements DmaMacHw, LanEndpoint, SimEventHandler {
  readonly rxRing: DescRing;
  readonly txRing: DescRing;
  readonly rxChecksumOffload: boolean;
  readonly stats = new SimMacStats();
  readonly port: number;
  onInterrupt: (() => void) | null = null;
  readonly #loop: EventLoop;
  readonly #lan: SimLan;
  readonly #lineRateBps: number;
  readonly #mac = new Uint8Array(6);
  /** where a short frame is padded */
  readonly #txFrame = new Uint8Array(ETH_ZLEN);
  #memory: Uint8Array | null = null;
  #running = false;
  #linkUp = true;
  #promiscuous = false;
  #allMulticast = false;
  #irqMask = 0;
  #irqStatus = 0;
  #missed = 0;
  #txBusy = false;

  constructor(loop: EventLoop, lan: SimLan, options: SimMacOptions = {}) {
    this.#loop = loop;
    this.#lan = lan;
    this.rxRing = new DescRing(options.rxRingSize ?? 32);
    this.txRing = new DescRing(options.txRingSize ?? 32);
    this.#lineRateBps = options.lineRateBps ?? 100_000_000;
    this.rxChecksumOffload = options.rxChecksumOffload ?? false;
    this.port = lan.attach(this);
  }

  get linkUp(): boolean {
    return this.#linkUp;
  }

  /** Pull or plug the cable: the LAN port goes down or up and a link interrupt follows. */
  setLink(up: boolean): void {
    if (up === this.#linkUp) return;
    this.#linkUp = up;
    this.#lan.setPortUp(this.port, up);
    this.#raise(DMA_IRQ_LINK);
  }

  attachMemory(memory: Uint8Array): void {
    this.#memory = memory;
  }

  setMacAddress(mac: Uint8Array): void {
    macCopy(this.#mac, 0, mac, 0);
  }

  setRxFilter(promiscuous: boolean, allMulticast: boolean): void {
    this.#promiscuous = promiscuous;
    this.#allMulticast = allMulticast;
  }

  start(): void {
    this.#running = true;
    this.#irqStatus = 0;
  }

  stop(): void {
    this.#running = false;
    this.#txBusy = false;
  }

  setIrqMask(mask: number): void {
    this.#irqMask = mask;
    if ((this.#irqStatus & mask) !== 0) this.#fire();
  }

  readIrqStatus(): number {
    const s = this.#irqStatus;
    this.#irqStatus = 0;
    return s;
  }

  readMissedFrames(): number {
    const n = this.#missed;
    this.#missed = 0;
    return n;
  }

  #raise(bit: number): void {
    this.#irqStatus |= bit;
    if ((this.#irqMask & bit) !== 0) this.#fire();
  }

  #fire(): void {
    this.stats.interrupts++;
    if (this.onInterrupt !== null) this.onInterrupt();
  }

  // ---------------------------------------------------------------- receive (from the LAN)

  onFrame(buf: Uint8Array, off: number, len: number): void {
    const stats = this.stats;
    if (!this.#running || !this.#linkUp || this.#memory === null) {
      stats.rxWhileDown++;
      return;
    }
    if (!this.#promiscuous && !macEqual(buf, off, this.#mac, 0) && !macIsBroadcast(buf, off) &&
        !(this.#allMulticast && macIsMulticast(buf, off))) {
      stats.rxFiltered++;
      return;
    }
    const rx = this.rxRing;
    const i = rx.hwIndex;
    if ((rx.status[i] & DESC_OWN) === 0) {
      stats.rxMissed++;
      this.#missed++;
      return;
    }
    stats.rxFrames++;
    rx.hwIndex = rx.next(i);
    if (len > rx.bufLen[i]) {
      stats.rxOversize++;
      rx.length[i] = 0;
      rx.status[i] = DESC_ERR | DESC_LEN_ERR;
      this.#raise(DMA_IRQ_RX);
      return;
    }
    const mem = this.#memory;
    copyBytes(mem, rx.addr[i], buf, off, len);
    rx.length[i] = len;
    let status = 0;
    if (this.rxChecksumOffload && l4ChecksumGood(mem, rx.addr[i], len)) status |= DESC_CSUM_OK;
    rx.status[i] = status;
    this.#raise(DMA_IRQ_RX);
  }

  // ---------------------------------------------------------------- transmit (to the LAN)

  txKick(): void {
    if (!this.#txBusy) this.#startTx();
  }

  #startTx(): void {
    const tx = this.txRing;
    const i = tx.hwIndex;
    if (!this.#running || (tx.status[i] & DESC_OWN) === 0 || this.#memory === null) {
      this.#txBusy = false;
      return;
    }
    this.#txBusy = true;
    const len = tx.length[i];
    // DMA straight from the buffer; a short frame is padded to the Ethernet minimum
    // (IEEE 802.3 4.2.3.3) in the MAC's own buffer first.
    let wireLen = len;
    if (len < ETH_ZLEN) {
      const frame = this.#txFrame;
      copyBytes(frame, 0, this.#memory, tx.addr[i], len);
      frame.fill(0, len, ETH_ZLEN);
      wireLen = ETH_ZLEN;
      if (this.#linkUp) this.#lan.transmit(this.port, frame, 0, wireLen);
    } else if (this.#linkUp) {
      this.#lan.transmit(this.port, this.#memory, tx.addr[i], len);
    }
    this.stats.txFrames++;
    this.stats.txBytes += wireLen;
    const ms = this.#lineRateBps > 0 ? ((wireLen + WIRE_OVERHEAD_BYTES) * 8 * 1000) / this.#lineRateBps : 0;
    this.#loop.after(ms, this, EVENT_TX_DONE);
  }

  onSimEvent(arg: number): void {
    if (arg !== EVENT_TX_DONE || !this.#running) return;
    const tx = this.txRing;
    const i = tx.hwIndex;
    tx.status[i] = 0; // OWN back to the driver: done
    tx.hwIndex = tx.next(i);
    this.#raise(DMA_IRQ_TX);
    this.#startTx();
  }
}

/** What a checksum-offload engine checks: an unfragmented IPv4 TCP, UDP or ICMP datagram. */
function l4ChecksumGood(buf: Uint8Array, frame: number, len: number): boolean {
  if (len < ETH_HLEN + 20 || ethType(buf, frame) !== ETH_P_IP) return false;
  const iph = frame + ETH_HLEN;
  const ihl = ipIhlBytes(buf, iph);
  const tot = ipTotLen(buf, iph);
  if (ihl < 20 || tot < ihl || ETH_HLEN + tot > len || (ipFragField(buf, iph) & (IP_MF | IP_OFFMASK)) !== 0) return false;
  const proto = ipProto(buf, iph);
  const l4len = tot - ihl;
  let sum = 0;
  if (proto === IPPROTO_TCP || proto === IPPROTO_UDP) {
    if (proto === IPPROTO_UDP && l4len >= 8 && buf[iph + ihl + 6] === 0 && buf[iph + ihl + 7] === 0) return false;
    sum = csumPseudoHeader(ipSaddr(buf, iph), ipDaddr(buf, iph), proto, l4len);
  } else if (proto !== IPPROTO_ICMP) {
    return false;
  }
  return csumReduce(csumPartial(buf, iph + ihl, l4len, sum)) === 0xffff;
}
