// A driver for a descriptor-ring DMA Ethernet MAC (the shape of the ESP32 EMAC and most
// SoC MACs), written against the register interface below. The simulated MAC in
// host-sim implements that interface, so this is the same code a board would run with a
// thin register layer under it.
//
//   irq -> mask, napiSchedule          (nothing else in interrupt context)
//   poll: link state, reap TX ring -> devKfreeSkbIrq, RX ring -> netifReceiveSkb, refill
//   startXmit: descriptor at txHead <- skb, OWN, doorbell; stop the queue when full

import { devKfreeSkbIrq, napiComplete, napiSchedule, netifReceiveSkb, netifStopQueue, netifWakeQueue } from "../src/core/dev";
import { SKB_DROP } from "../src/core/drop";
import { countDrop, kfreeSkbReason } from "../src/core/free";
import type { Net } from "../src/core/net";
import type { DeviceOptions } from "../src/core/link";
import { IFF_PROMISC, type Napi, type NetDevice } from "../src/core/netdevice";
import { DESC_CSUM_OK, DESC_ERR, DESC_LEN_ERR, DESC_OWN, type DescRing } from "./ring";
import { CHECKSUM_UNNECESSARY, type SkBuff } from "../src/core/skb";
import { NETDEV_TX_BUSY, NETDEV_TX_OK, NETIF_F_RXCSUM, type NetDeviceOps } from "../src/core/netdevice";
import { netifCarrierOff, netifCarrierOn, registerNetdev } from "../src/core/link";

// Interrupt status / mask bits.
export const DMA_IRQ_RX = 1 << 0;
export const DMA_IRQ_TX = 1 << 1;
export const DMA_IRQ_LINK = 1 << 2;
export const DMA_IRQ_ALL = DMA_IRQ_RX | DMA_IRQ_TX | DMA_IRQ_LINK;

/** What the driver sees of the MAC: its rings, a few registers, the interrupt line. */
export interface DmaMacHw {
  readonly rxRing: DescRing;
  readonly txRing: DescRing;
  /** the MAC verifies IPv4 TCP/UDP/ICMP checksums and sets DESC_CSUM_OK */
  readonly rxChecksumOffload: boolean;
  /** PHY link status */
  readonly linkUp: boolean;
  /** DMA memory the descriptors' addresses point into */
  attachMemory(memory: Uint8Array): void;
  setMacAddress(mac: Uint8Array): void;
  /** receive filter: our address, broadcast, and multicast (all, or none) unless promiscuous */
  setRxFilter(promiscuous: boolean, allMulticast: boolean): void;
  start(): void;
  stop(): void;
  /** interrupt mask register */
  setIrqMask(mask: number): void;
  /** interrupt status register, read-to-clear */
  readIrqStatus(): number;
  /** TX doorbell: descriptors were handed to the hardware */
  txKick(): void;
  /** frames dropped for want of an RX descriptor since the last read (read-to-clear) */
  readMissedFrames(): number;
  /** the interrupt line; set by the driver */
  onInterrupt: (() => void) | null;
}

export class DmaMacDriver implements NetDeviceOps {
  readonly hw: DmaMacHw;
  #net: Net | null = null;
  #dev: NetDevice | null = null;
  /** next TX descriptor to fill, and the oldest not yet reaped */
  #txHead = 0;
  #txDirty = 0;
  #txInFlight = 0;
  /** RX descriptors left without a buffer because the pool was empty */
  rxRefillFailures = 0;
  /** descriptors the current poll has taken (its work against the budget) */
  #rxWork = 0;
  readonly #irq: () => void;

  constructor(hw: DmaMacHw) {
    this.hw = hw;
    this.#irq = () => this.#interrupt();
  }

  /** Register the interface with the stack (down until net.devOpen). */
  register(net: Net, name: string, mac: Uint8Array, options: DeviceOptions = {}): NetDevice {
    this.#net = net;
    const features = (options.features ?? 0) | (this.hw.rxChecksumOffload ? NETIF_F_RXCSUM : 0);
    const dev = registerNetdev(net, name, this, mac, { ...options, features });
    this.#dev = dev;
    return dev;
  }

  open(dev: NetDevice): void {
    const net = dev.net;
    const hw = this.hw;
    hw.attachMemory(net.pool.buf);
    hw.setMacAddress(dev.addr);
    this.setRxMode(dev);
    const rx = hw.rxRing;
    rx.cpuIndex = rx.hwIndex = 0;
    for (let i = 0; i < rx.size; i++) this.#refill(i);
    const tx = hw.txRing;
    tx.cpuIndex = tx.hwIndex = 0;
    this.#txHead = this.#txDirty = this.#txInFlight = 0;
    for (let i = 0; i < tx.size; i++) {
      tx.status[i] = 0;
      tx.skbId[i] = -1;
    }
    hw.onInterrupt = this.#irq;
    hw.start();
    hw.setIrqMask(DMA_IRQ_ALL);
    if (hw.linkUp) netifCarrierOn(dev);
  }

  stop(dev: NetDevice): void {
    const net = dev.net;
    const hw = this.hw;
    hw.setIrqMask(0);
    hw.stop();
    hw.onInterrupt = null;
    const pool = net.pool;
    const rx = hw.rxRing;
    for (let i = 0; i < rx.size; i++) {
      // Receive buffers are empty, not packets: they go back without a drop count.
      if (rx.skbId[i] >= 0) pool.free(pool.records[rx.skbId[i]]);
      rx.skbId[i] = -1;
      rx.status[i] = 0;
    }
    const tx = hw.txRing;
    for (let i = 0; i < tx.size; i++) {
      if (tx.skbId[i] >= 0) {
        const skb = pool.records[tx.skbId[i]];
        if ((tx.status[i] & DESC_OWN) === 0) devKfreeSkbIrq(skb);
        else kfreeSkbReason(net, skb, SKB_DROP.SHUTDOWN);
      }
      tx.skbId[i] = -1;
      tx.status[i] = 0;
    }
    this.#txInFlight = 0;
    netifCarrierOff(dev);
  }

  /** Give RX descriptor i a fresh buffer from the pool; false (counted) when the pool is empty. */
  #refill(i: number): boolean {
    if (this.hw.rxRing.refill(i, (this.#net as Net).pool)) return true;
    this.rxRefillFailures++;
    return false;
  }

  #interrupt(): void {
    // Mask, and leave the work to NAPI (the status register is read there).
    this.hw.setIrqMask(0);
    napiSchedule((this.#dev as NetDevice).napi);
  }

  /**
   * NAPI poll: link state, the TX ring reaped, then frames off the RX ring up the stack
   * within the budget. Lean on purpose: its frame sits under every packet's whole path.
   */
  poll(napi: Napi, budget: number): number {
    const dev = napi.dev;
    this.#pollStart(dev);
    this.#rxWork = 0;
    for (let skb = this.#rxNext(dev, budget); skb !== null; skb = this.#rxNext(dev, budget)) netifReceiveSkb(skb);
    const work = this.#rxWork;
    if (work < budget) this.#pollDone(napi);
    return work;
  }

  #pollStart(dev: NetDevice): void {
    const hw = this.hw;
    hw.readIrqStatus();
    if (hw.linkUp !== dev.hasCarrier) {
      if (hw.linkUp) netifCarrierOn(dev);
      else netifCarrierOff(dev);
    }
    this.#reapTx(dev);
    const missed = hw.readMissedFrames();
    if (missed !== 0) dev.stats.rxMissedErrors += missed;
  }

  /**
   * The next frame off the RX ring, or null when the ring is empty or this poll's budget
   * is spent (#rxWork counts the descriptors taken, errored ones too).
   */
  #rxNext(dev: NetDevice, budget: number): SkBuff | null {
    const net = dev.net;
    const rx = this.hw.rxRing;
    while (this.#rxWork < budget) {
      const i = rx.cpuIndex;
      if (rx.skbId[i] < 0) {
        // A descriptor left empty by an earlier failed refill: try again now.
        if (!this.#refill(i)) return null;
        continue;
      }
      const status = rx.status[i];
      if ((status & DESC_OWN) !== 0) return null;
      this.#rxWork++;
      rx.cpuIndex = rx.next(i);
      if ((status & DESC_ERR) !== 0) {
        dev.stats.rxErrors++;
        if ((status & DESC_LEN_ERR) !== 0) dev.stats.rxLengthErrors++;
        else dev.stats.rxCrcErrors++;
        countDrop(net, SKB_DROP.RX_HW_ERROR);
        rx.status[i] = DESC_OWN; // same buffer back to the hardware
        continue;
      }
      const skb = rx.takeFrame(i, net.pool);
      if (skb === null) {
        // No buffer to replace it: the frame is dropped, its buffer stays in the ring.
        this.rxRefillFailures++;
        dev.stats.rxDropped++;
        countDrop(net, SKB_DROP.NOMEM);
        continue;
      }
      skb.dev = dev;
      if ((status & DESC_CSUM_OK) !== 0) skb.ipSummed = CHECKSUM_UNNECESSARY;
      return skb;
    }
    return null;
  }

  /** The budget was not spent: NAPI completes and the interrupt is unmasked. */
  #pollDone(napi: Napi): void {
    const hw = this.hw;
    const rx = hw.rxRing;
    napiComplete(napi);
    hw.setIrqMask(DMA_IRQ_ALL);
    // A frame that landed after the last look but before unmasking raised no interrupt.
    if (rx.skbId[rx.cpuIndex] >= 0 && (rx.status[rx.cpuIndex] & DESC_OWN) === 0) napiSchedule(napi);
    else if (this.#txInFlight > 0 && (hw.txRing.status[this.#txDirty] & DESC_OWN) === 0) napiSchedule(napi);
  }

  #reapTx(dev: NetDevice): void {
    const tx = this.hw.txRing;
    const pool = dev.net.pool;
    let reaped = 0;
    while (this.#txInFlight > 0) {
      const i = this.#txDirty;
      if ((tx.status[i] & DESC_OWN) !== 0) break;
      const skb: SkBuff = pool.records[tx.skbId[i]];
      tx.skbId[i] = -1;
      this.#txDirty = tx.next(i);
      this.#txInFlight--;
      reaped++;
      devKfreeSkbIrq(skb);
    }
    if (reaped > 0 && dev.queueStopped) netifWakeQueue(dev);
  }

  startXmit(skb: SkBuff, dev: NetDevice): number {
    const tx = this.hw.txRing;
    if (this.#txInFlight >= tx.size) {
      netifStopQueue(dev);
      return NETDEV_TX_BUSY;
    }
    const i = this.#txHead;
    tx.skbId[i] = skb.id;
    tx.addr[i] = skb.data;
    tx.length[i] = skb.len;
    tx.status[i] = DESC_OWN;
    this.#txHead = tx.next(i);
    this.#txInFlight++;
    this.hw.txKick();
    // Stop before the ring is full, so the qdisc holds the next packet instead of a BUSY.
    if (this.#txInFlight >= tx.size) netifStopQueue(dev);
    return NETDEV_TX_OK;
  }

  setRxMode(dev: NetDevice): void {
    this.hw.setRxFilter((dev.flags & IFF_PROMISC) !== 0, dev.mcCount > 0);
  }

  /** TX descriptors in flight (diagnostics). */
  get txInFlight(): number {
    return this.#txInFlight;
  }
}
